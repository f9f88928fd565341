"""Help: every key binding of the dashboard, as currently mapped (keymap applied)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

__all__ = ["HelpRow", "HelpScreen", "binding_rows"]

HelpRow = tuple[str, str, str, str]
"""(section, keys, what it does, binding id for the keymap setting)."""

_EXTRA: list[HelpRow] = [
    ("Mouse", "click / wheel", "Select a row (click again: expand) / scroll", ""),
]


def binding_rows(screen: Screen[Any]) -> list[HelpRow]:
    """Every binding of the screen, its focused widgets and the app, keymap applied."""
    sections: list[tuple[str, DOMNode]] = [("Deployments list", node) for node in _lists(screen)]
    sections += [("Dashboard", screen), ("App", screen.app)]
    return section_rows(screen.app, sections) + _EXTRA


def section_rows(app: App[Any], sections: list[tuple[str, DOMNode]]) -> list[HelpRow]:
    """One row per binding (by id) of each node, keymap applied; a binding listed in an
    earlier section is not repeated."""
    keymap = app._keymap  # the keymap the app applies to every BINDINGS
    rows: list[HelpRow] = []
    seen: set[str] = set()
    for section, node in sections:
        bindings = node._bindings.copy()
        if keymap:
            bindings.apply_keymap(keymap)
        by_id: dict[str, tuple[list[str], Binding]] = {}
        for key, key_bindings in bindings.key_to_bindings.items():
            for binding in key_bindings:
                if binding.system or binding.action in ("help_quit", "cancel_refused"):
                    continue
                ident = binding.id or binding.action
                keys, _ = by_id.setdefault(ident, ([], binding))
                display = app.get_key_display(Binding(key, binding.action))
                if display not in keys:
                    keys.append(display)
        for ident, (keys, binding) in by_id.items():
            if ident in seen:
                continue
            seen.add(ident)
            what = binding.tooltip or binding.description or binding.action
            rows.append((section, " ".join(keys), what, binding.id or ""))
    return rows


def _lists(screen: Screen[Any]) -> list[DOMNode]:
    from tui.widgets.deployment_list import DeploymentList

    return list(screen.query(DeploymentList))


class HelpScreen(ModalScreen[None]):
    """Keys, by section. Escape, q or ? closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84;
        max-width: 98%;
        height: auto;
        max-height: 95%;
        border: thick $primary 70%;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, padding=(0, 1), show_header=False)
        table.add_column("keys", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("id", style="dim", no_wrap=True)
        section = None
        for row_section, keys, what, ident in self.rows:
            if row_section != section:
                if section is not None:
                    table.add_row("", "", "")
                section = row_section
                table.add_row(Text(row_section, style="bold underline"), "", "")
            table.add_row(Text(keys), Text(what), Text(ident))
        with VerticalScroll():
            yield Static(Text("deploytop — keys (Esc closes; the last column names the keymap id)"))
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
