"""The sanitizer: nothing but colour reaches the terminal."""

from __future__ import annotations

import random
import re

import pytest
from rich.text import Text

from backend_client.sanitize import sanitize_line, sanitize_text, strip_sgr
from tui.output.text import safe_label, safe_text

ESC = "\x1b"
SGR = re.compile(r"\x1b\[[0-9;]*m")
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_terminal_safe(out: str, *, keep_sgr: bool = True) -> None:
    rest = SGR.sub("", out) if keep_sgr else out
    assert ESC not in rest, repr(out)
    assert not FORBIDDEN.search(rest), repr(out)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # OSC 52 clipboard write, BEL- and ST-terminated: no payload left behind.
        ("a\x1b]52;c;bWFsaWNpb3Vz\x07b", "ab"),
        ("a\x1b]52;c;bWFsaWNpb3Vz\x1b\\b", "ab"),
        # OSC 0 title change.
        ("\x1b]0;pwned title\x07ok", "ok"),
        ("\x1b]2;pwned\x1b\\ok", "ok"),
        # 8-bit OSC terminated by 8-bit ST.
        ("\x9d0;pwned\x9cok", "ok"),
        # Screen clear, cursor moves, alternate screen off.
        ("x\x1b[2Jy", "xy"),
        ("x\x1b[10;20Hy\x1b[3Az\x1b[K", "xyz"),
        ("x\x1b[?1049ly\x1b[?25l", "xy"),
        # Reset and save/restore cursor.
        ("\x1bcx\x1b7y\x1b8z", "xyz"),
        # Charset designation, keypad mode.
        ("\x1b(0q\x1b(B\x1b=", "q"),
        # 8-bit CSI.
        ("a\x9b2Jb\x9b31mc", "abc"),
        # DCS, APC, PM, SOS strings.
        ("\x1bPq#0;2;0;0;0#0~~\x1b\\ok", "ok"),
        ("\x1b_Gf=100;AAAA\x1b\\ok", "ok"),
        ("\x1b^privacy\x1b\\ok\x1bXsos\x1b\\", "ok"),
        # Controls: BEL, backspace, form feed, DEL, C1 NEL/IND.
        ("a\x07b\x08c\x0cd\x7fe\x85f\x84g", "abcdefg"),
        # Unterminated string ends at the end of the line, not of the output.
        ("\x1b]52;c;AAAA\nnext line", "\nnext line"),
        # Cut CSI at the end.
        ("tail\x1b[31", "tail"),
        ("lone\x1b", "lone"),
        # Tabs and newlines stay.
        ("a\tb\nc", "a\tb\nc"),
    ],
)
def test_sequences_are_removed(raw: str, shown: str) -> None:
    out = sanitize_text(raw)
    assert SGR.sub("", out) == shown
    assert_terminal_safe(out)
    assert_terminal_safe(strip_sgr(raw), keep_sgr=False)


def test_sgr_is_kept_and_parsed() -> None:
    raw = "\x1b[1;31merror\x1b[0m: \x1b[38;5;208mdisk\x1b[m \x1b[38;2;10;20;30mrgb\x1b[0m"
    assert sanitize_text(raw) == raw
    text = safe_text(raw)
    assert text.plain == "error: disk rgb"
    styles = {str(span.style) for span in text.spans}
    assert any("red" in s or "color(1)" in s for s in styles), styles
    assert strip_sgr(raw) == "error: disk rgb"


def test_non_sgr_csi_ending_in_m_is_dropped() -> None:
    # Private-marker "m" sequences (xterm modifyOtherKeys) are not colour.
    assert sanitize_text("a\x1b[>4;1mb") == "ab"
    # Colon sub-parameters are not understood by Rich: dropped, text kept.
    assert sanitize_text("\x1b[38:2::1:2:3mx") == "x"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("abc\rX", "Xbc"),
        ("line\r\nnext\r\n", "line\nnext\n"),
        ("crlf twice\r\r\n", "crlf twice\n"),
        ("10%\r20%\r100%", "100%"),
        ("downloading...\r", "downloading..."),
        ("\rstart", "start"),
        ("long progress line\rshort", "shortprogress line"),
        ("a\rb\nc\rd", "b\nd"),
    ],
)
def test_carriage_return_shows_what_a_terminal_shows(raw: str, shown: str) -> None:
    assert strip_sgr(raw) == shown
    assert SGR.sub("", sanitize_text(raw)) == shown


def test_carriage_return_keeps_colours_of_cells() -> None:
    out = sanitize_text("\x1b[31mred red\x1b[0m\r\x1b[32mgo\x1b[0m")
    text = Text.from_ansi(out)
    assert text.plain == "god red"
    colours = [(span.start, span.end, str(span.style)) for span in text.spans]
    assert colours == [(0, 2, "color(2)"), (2, 7, "color(1)")]


def test_carriage_return_with_many_colour_rewrites_stays_bounded() -> None:
    raw = "".join(f"\x1b[3{i % 8}m{i:5d}%" + "\r" for i in range(5000)) + "done"
    out = sanitize_text(raw)
    assert SGR.sub("", out) == "done9%"
    assert len(out) < 600


def test_sanitize_line() -> None:
    assert sanitize_line("shop\n.example\t.com\x1b]0;x\x07") == "shop .example .com"
    assert sanitize_line("\x1b[31mred\x1b[0m") == "red"
    assert sanitize_line("\x1b[31mred\x1b[0m", keep_sgr=True) == "\x1b[31mred\x1b[0m"
    label = safe_label("build [prod] [/]")
    assert label.plain == "build [prod] [/]"


def test_markup_is_never_interpreted() -> None:
    assert safe_text("[bold]not bold[/] [/]").plain == "[bold]not bold[/] [/]"
    assert safe_text("[bold]x").spans == []


def test_clean_text_is_returned_unchanged() -> None:
    clean = "plain ascii and ünïcödé 漢字 \t tabs\nand lines\n"
    assert sanitize_text(clean) is clean


_ALPHABET = (
    ["\x1b", "\x1b[", "\x1b]", "\x9b", "\x9d", "\x9c", "\x1b\\", "\x07", "\r", "\n", "\t", "m"]
    + ["[", "]", ";", "0", "1", "2", "3", "8", "?", ">", "P", "_", "^", "X", "c", "7", "H"]
    + [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + list("abc xyz")
    + ["é", "漢", "\u202e"]
)


def test_fuzz_never_leaks_a_sequence() -> None:
    rng = random.Random(20261126)
    for _ in range(4000):
        raw = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))
        out = sanitize_text(raw)
        assert_terminal_safe(out)
        assert out.count("\n") == raw.replace("\r\n", "\n").count("\n")
        assert sanitize_text(out) == out, repr(raw)
        plain = strip_sgr(raw)
        assert_terminal_safe(plain, keep_sgr=False)
        # What Rich shows is exactly the plain text: the SGR we keep parse cleanly.
        assert Text.from_ansi(out).plain == plain, repr(raw)
        line = sanitize_line(raw)
        assert "\n" not in line and "\t" not in line
        assert_terminal_safe(line, keep_sgr=False)


def test_advance_sgr_state_stays_bounded_and_whole() -> None:
    from backend_client.sanitize import MAX_SGR_STATE, advance_sgr_state

    state = ""
    for n in range(200):
        state = advance_sgr_state(state, f"\x1b[{30 + n % 8}m")
        assert len(state) <= MAX_SGR_STATE and state.startswith("\x1b[")
    assert state.endswith("\x1b[37m")
    assert advance_sgr_state(state, "\x1b[0m") == "" and advance_sgr_state(state, "\x1b[m") == ""
    huge = "\x1b[" + "1;" * 300 + "31m"
    assert advance_sgr_state(state, huge) == ""  # never half a sequence
    assert advance_sgr_state("", "\x1b[1m") == "\x1b[1m"
    # Carriage-return lines use the same rule.
    shown = sanitize_text("x" + huge + "\rab\n")
    assert not shown.startswith("m") and "ab" in shown
