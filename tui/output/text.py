"""Rich text from untrusted output, safe for the terminal."""

from __future__ import annotations

from rich.text import Text

from backend_client.sanitize import sanitize_line, sanitize_text

__all__ = ["safe_label", "safe_text"]


def safe_text(s: str) -> Text:
    """Colourful, terminal-safe text: sanitized, then SGR parsed (never markup-parsed).

    Args:
        s: Untrusted text from a backend (step output, possibly several lines).

    Returns:
        A :class:`rich.text.Text` keeping the colours of ``s`` and nothing else a terminal
        could act on.
    """
    return Text.from_ansi(sanitize_text(s), end="")


def safe_label(s: str) -> Text:
    """A single-line, plain, terminal-safe label (names, domains) as a Text, never markup."""
    return Text(sanitize_line(s), end="")
