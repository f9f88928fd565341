"""Terminal-safe text: what is left of backend text once nothing in it can drive a terminal.

Anything a backend hands us (step output, step and site names, meta) may carry escape
sequences that would reach the operator's terminal: clipboard writes (OSC 52), title changes,
screen clears, resets, cursor moves, 8-bit C1 controls. :func:`sanitize_text` removes every one
of them and keeps only colour (SGR, ``ESC [ params m``), which the screen then parses with
``rich.text.Text.from_ansi``. :func:`sanitize_line` is for single-line fields.

Rules, in order:

- ``\\r\\n`` becomes ``\\n``.
- Escape sequences are removed whole: CSI (``ESC [`` and 8-bit ``\\x9b``) except SGR,
  OSC / DCS / SOS / PM / APC strings up to their terminator (BEL, ``ESC \\``, ``\\x9c``) or the
  end of the line, whichever comes first (so a hostile string cannot swallow the rest of the
  output), and every other ``ESC`` sequence (``ESC c``, ``ESC 7``, ``ESC ( B``, ...).
- Remaining C0 controls other than tab and newline, DEL and C1 controls (U+0080..U+009F)
  are removed.
- A lone ``\\r`` moves to the start of the line as a terminal would: later text overwrites
  earlier text cell by cell (``"abc\\rX"`` shows ``"Xbc"``); colours of overwritten cells go
  with them. Columns are counted in characters, not terminal cells.

The number of newlines never changes, so line ``n`` of the input is line ``n`` of the output.
This module is pure Python (no Textual, no Rich).
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_SGR_STATE",
    "SGR_BYTES",
    "advance_sgr_state",
    "has_controls",
    "sanitize_line",
    "sanitize_text",
    "strip_sgr",
]

# Anything that needs work: C0 except tab/newline (CR included), DEL, C1.
_DIRTY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# One pass over the text. The pattern starts with a character class (the introducer: ESC,
# another C0 control, DEL or a C1 control) so the regex engine skips clean text quickly; what
# follows the introducer is decided by look-behind.
_SEQUENCE = re.compile(
    r"""
    [\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]                # introducer (not \t \n \r)
    (?:
        (?<=\x1b)(?:
            \[[0-?]*[\x20-/]*[@-~]?                           # CSI, final byte optional if cut
          | [\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?   # OSC DCS SOS PM APC strings
          | [\x20-/]*[\x30-~]?                                # ESC c, ESC 7, ESC ( B, lone ESC
        )
      | (?<=\x9b)[0-?]*[\x20-/]*[@-~]?                        # 8-bit CSI
      | (?<=[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?  # 8-bit strings
    )?
    """,
    re.VERBOSE,
)
# Strings end at BEL, ST (ESC \ or 0x9c) or the end of the line, whichever comes first, so
# a hostile unterminated string cannot swallow the rest of the output.

# SGR as Rich parses it: digits and semicolons only (colon sub-parameters are dropped).
_SGR_PATTERN = r"\x1b\[[0-9;]*m"
_SGR = re.compile(_SGR_PATTERN)
SGR_BYTES = re.compile(_SGR_PATTERN.encode("ascii"))
"""An SGR (colour) sequence, in UTF-8 bytes."""
_SGR_RESETS = frozenset({"\x1b[m", "\x1b[0m"})
_CRLF = re.compile(r"\r+\n")
_LINE_WITH_CR = re.compile(r"[^\n]*\r[^\n]*")
_SGR_OR_CHAR = re.compile(r"\x1b\[[0-9;]*m|.", re.DOTALL)
MAX_SGR_STATE = 256
"""The longest colour state kept: a line rewritten thousands of times can pile up colour
codes, so past this only the latest whole codes of the running state are kept."""


def has_controls(s: str) -> bool:
    """True when ``s`` holds anything :func:`sanitize_text` would act on (quick test)."""
    return _DIRTY.search(s) is not None


def advance_sgr_state(state: str, code: str) -> str:
    """The colour state after one more SGR sequence, as a terminal tracks it.

    Args:
        state: The SGR sequences in effect (``""``: default colours).
        code: One SGR sequence (``ESC [ params m``).

    Returns:
        ``""`` after a reset, else ``state + code`` cut to at most :data:`MAX_SGR_STATE`
        characters at a sequence boundary (only whole, latest sequences are kept; a single
        sequence longer than the bound leaves no state rather than half a sequence).
    """
    if code in _SGR_RESETS:
        return ""
    state += code
    if len(state) > MAX_SGR_STATE:
        cut = state.find("\x1b", len(state) - MAX_SGR_STATE)
        state = state[cut:] if cut >= 0 else ""
    return state


def _keep_sgr(match: re.Match[str]) -> str:
    text = match.group()
    return text if text[-1] == "m" and _SGR.fullmatch(text) else ""


def _overwrite(line: str, keep_sgr: bool) -> str:
    """Resolve the carriage returns of one line the way a terminal shows them."""
    cells: list[tuple[str, str]] = []  # (colour state, character) per column
    state = ""
    column = 0
    for token in _SGR_OR_CHAR.findall(line):
        if token == "\r":
            column = 0
        elif len(token) > 1:  # an SGR sequence
            state = advance_sgr_state(state, token)
        elif column < len(cells):
            cells[column] = (state, token)
            column += 1
        else:
            cells.append((state, token))
            column += 1
    if not keep_sgr:
        return "".join(char for _, char in cells)
    out: list[str] = []
    current = ""
    for cell_state, char in cells:
        if cell_state != current:
            out.append("\x1b[0m" + cell_state if current else cell_state)
            current = cell_state
        out.append(char)
    if state != current:
        # Colour set after the last character carries on to the next line, as in a terminal.
        out.append("\x1b[0m" + state if current else state)
    return "".join(out)


def sanitize_text(s: str, *, keep_sgr: bool = True) -> str:
    """Remove every escape and control sequence a terminal would act on.

    Args:
        s: Untrusted text, possibly several lines.
        keep_sgr: Keep colour sequences (``ESC [ ... m``); when false, remove them too and
            return plain text.

    Returns:
        Text containing no ``ESC`` other than SGR sequences (none when ``keep_sgr`` is
        false), no C0 controls other than tab and newline, no DEL and no C1 controls,
        with the same number of lines as ``s``.
    """
    if not _DIRTY.search(s):
        return s
    if "\r" in s:
        s = _CRLF.sub("\n", s)
    s = _SEQUENCE.sub(_keep_sgr if keep_sgr else "", s)
    if "\r" in s:
        s = _LINE_WITH_CR.sub(lambda m: _overwrite(m.group(), keep_sgr), s)
    return s


def strip_sgr(s: str) -> str:
    """Plain text: :func:`sanitize_text` without colours."""
    return sanitize_text(s, keep_sgr=False)


def sanitize_line(s: str, *, keep_sgr: bool = False) -> str:
    """Sanitize a single-line field (a name, a domain): also turns newlines and tabs into spaces.

    Args:
        s: Untrusted text.
        keep_sgr: Keep colour sequences (off by default: names are shown plain).
    """
    s = sanitize_text(s, keep_sgr=keep_sgr)
    if "\n" in s or "\t" in s:
        s = s.replace("\n", " ").replace("\t", " ")
    return s
