"""deploytop's themes and the status colours every theme gets (as theme variables)."""

from __future__ import annotations

from textual.theme import Theme

__all__ = [
    "DARK",
    "LIGHT",
    "STATUS_DEFAULTS",
    "STATUS_DEFAULTS_LIGHT",
    "THEMES",
    "status_defaults",
]

STATUS_DEFAULTS: dict[str, str] = {
    "status-queued": "#a7b0c2",
    "status-running": "#62b6f7",
    "status-completed": "#62c866",
    "status-failed": "#ff7a75",
    "status-cancelled": "#d8ac4c",
    "status-skipped": "#a7b0c2",
}
"""Used by dark themes that do not set them (textual-dark, nord, ...): readable on dark."""

STATUS_DEFAULTS_LIGHT: dict[str, str] = {
    "status-queued": "#4b5361",
    "status-running": "#0a52a0",
    "status-completed": "#1a6b28",
    "status-failed": "#b01d18",
    "status-cancelled": "#7a4f00",
    "status-skipped": "#555d6b",
}
"""Used by light themes that do not set them (textual-light, ...): the dark defaults would
be pale on a light background (about 1.5:1); these keep about 4.5:1 or better."""


def status_defaults(dark: bool) -> dict[str, str]:
    """The status colours for a theme that does not define them, by its ``dark`` flag."""
    return dict(STATUS_DEFAULTS if dark else STATUS_DEFAULTS_LIGHT)


DARK = Theme(
    name="deploytop-dark",
    primary="#4ea8f0",
    secondary="#7c8cff",
    accent="#f0a04e",
    warning="#e5b94a",
    error="#f0544f",
    success="#4caf50",
    foreground="#d8dee9",
    background="#161a22",
    surface="#1c212b",
    panel="#262c38",
    dark=True,
    variables={
        "status-queued": "#9aa3b5",
        "status-running": "#58b4ff",
        "status-completed": "#5fc96a",
        "status-failed": "#ff6b66",
        "status-cancelled": "#e0b050",
        "status-skipped": "#7d8596",
        "block-cursor-blurred-background": "#2c3445",
    },
)

LIGHT = Theme(
    name="deploytop-light",
    primary="#1d63b8",
    secondary="#5a4fcf",
    accent="#b85d00",
    warning="#9a6a00",
    error="#c4211b",
    success="#1f7a2e",
    foreground="#1e2430",
    background="#f6f7f9",
    surface="#ffffff",
    panel="#e3e7ee",
    dark=False,
    variables={
        "status-queued": "#5b6472",
        "status-running": "#0b5cad",
        "status-completed": "#1f7a2e",
        "status-failed": "#c4211b",
        "status-cancelled": "#8a5a00",
        "status-skipped": "#6b7280",
        "block-cursor-blurred-background": "#dde3ec",
    },
)

THEMES = (DARK, LIGHT)
