"""The dashboard's footer: Textual's Footer that never loses Help and Quit on a narrow terminal.

Textual's Footer lays the keys out left to right and cuts what does not fit, and Help and
Quit come last (the screen's and the app's bindings follow the focused widget's). Here the
keys are measured first: on a narrow terminal descriptions get shorter, then the least
important keys are left out (they still work, and `?` lists them) until the rest fits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["SHORT_DESCRIPTIONS", "DashboardFooter", "fit_bindings"]

SHORT_DESCRIPTIONS: dict[str, str] = {
    "list.toggle": "Expand",
    "failures": "Failed",
    "filter.status": "Status",
    "filter.text": "Search",
}
"""Shorter descriptions (by binding id) used when the full footer does not fit."""

_PRIORITY: tuple[str, ...] = (
    "help",
    "quit",
    "cancel",
    "cancel.read_only",
    "list.toggle",
    "failures",
    "active",
    "filter.text",
    "filter.status",
    "output",
    "team",
)
"""Binding ids, most important first: the last ones are left out first when space runs out."""

_PALETTE_WIDTH = 14  # "▏^p palette " docked on the right (border, paddings)


def _rank(binding: Binding, priority: Sequence[str] = _PRIORITY) -> int:
    try:
        return priority.index(binding.id or "")
    except ValueError:
        return len(priority)


def _key_width(key_display: str, description: str) -> int:
    # FooterKey: key padded by one on each side, description followed by one space.
    return len(key_display) + 2 + (len(description) + 1 if description else 0)


def fit_bindings(
    entries: list[tuple[Binding, str, str]],
    width: int,
    *,
    priority: Sequence[str] = _PRIORITY,
    keep: Collection[str] = ("help", "quit"),
    short: Mapping[str, str] = SHORT_DESCRIPTIONS,
) -> list[tuple[Binding, str, str]]:
    """The (binding, key display, description) entries that fit in ``width`` cells.

    Order is kept. First every description that has a short form is shortened; then the
    least important entries are dropped until the rest fit. Help and quit stay whatever
    the width.

    Args:
        entries: What the footer would show, in order.
        width: The cells available.
        priority: Binding ids, most important first (default: the dashboard's).
        keep: Binding ids never dropped (default: help and quit).
        short: Shorter descriptions by binding id (default: the dashboard's).
    """

    def total(items: Iterable[tuple[Binding, str, str]]) -> int:
        return sum(_key_width(key, desc) for _, key, desc in items)

    if total(entries) <= width:
        return entries
    entries = [(binding, key, short.get(binding.id or "", desc)) for binding, key, desc in entries]
    kept = list(entries)
    for victim in sorted(entries, key=lambda e: _rank(e[0], priority), reverse=True):
        if total(kept) <= width:
            break
        if victim[0].id not in keep:
            kept.remove(victim)
    return kept


class DashboardFooter(Footer):
    """Key bindings of the screen; Help and Quit always visible.

    ``priority``, ``keep`` and ``short`` are passed to :func:`fit_bindings` (another screen,
    e.g. the output pager, gives its own).
    """

    def __init__(
        self,
        *,
        id: str | None = None,
        priority: Sequence[str] = _PRIORITY,
        keep: Collection[str] = ("help", "quit"),
        short: Mapping[str, str] = SHORT_DESCRIPTIONS,
    ) -> None:
        super().__init__(id=id)
        self._fitted_width = -1
        self._priority = priority
        self._keep = keep
        self._short = short

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        entries: list[tuple[Binding, str, str]] = []
        disabled: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            if not enabled:
                disabled.add(binding.action)
            entries.append((binding, self.app.get_key_display(binding), binding.description))
        width = self.size.width or self.app.size.width
        self._fitted_width = width
        palette = self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
        room = width - (_PALETTE_WIDTH if palette else 0)
        fitted = fit_bindings(
            entries, room, priority=self._priority, keep=self._keep, short=self._short
        )
        self.styles.grid_size_columns = len(fitted)
        for binding, key_display, description in fitted:
            yield FooterKey(
                binding.key,
                key_display,
                description,
                binding.action,
                disabled=binding.action in disabled,
            ).data_bind(compact=Footer.compact)
        if palette:
            try:
                _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                return
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
