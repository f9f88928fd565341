"""Type-ahead: keys typed in one burst after the key that opens a prompt land in the prompt.

Over SSH an operator types ``/retry`` Enter (or ``:1200`` Enter in the pager) in one go; the
terminal delivers it as one read. Two things in Textual lose or reorder such a burst:

- keys that arrive before the prompt's input has focus go to the prompt screen itself;
  :class:`TypeAheadScreen` holds them and hands them to its input the moment it focuses it;
- an :class:`~textual.widgets.Input` types printable keys as it receives them but runs its
  bindings (backspace, ctrl+u, Enter) only after the key has bubbled up to the app, so
  ``12⌫3`` ends as ``12`` with the ``3`` deleted (Textual issue #6605);
  :class:`TypeAheadInput` runs its own bindings inline, in typing order.

The binding that opens the prompt must be a priority binding: the app then runs it before
it routes the next keys of the burst.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input

__all__ = ["TypeAheadInput", "TypeAheadScreen"]

_R = TypeVar("_R")


_EDITING_ACTIONS = frozenset(b.action for b in Input.BINDINGS if isinstance(b, Binding))
"""What Input itself binds (backspace, ctrl+u, Enter...): the keys whose order matters. Keys
it only inherits (``down`` scrolls a widget, or else goes on to the screen) take the usual
path."""


class TypeAheadInput(Input):
    """An :class:`~textual.widgets.Input` whose own keys apply in the order they were typed."""

    async def on_key(self, event: events.Key) -> None:
        # Runs before Input's own key handler (subclass first); printable keys go on to it.
        if event.is_printable:
            return
        active = self.screen.active_bindings.get(event.key)
        if (
            active is not None
            and active.node is self
            and active.binding.action in _EDITING_ACTIONS
            and active.enabled
            and not active.binding.priority  # those already ran, before the input
        ):
            event.stop()
            event.prevent_default()  # no bubbling to the app: the binding is not run twice
            await self.run_action(active.binding.action)


class TypeAheadScreen(ModalScreen[_R]):
    """A modal with one input that receives, in order, every key typed before it was up.

    Subclasses compose a :class:`TypeAheadInput` and call :meth:`take_type_ahead` with it
    from ``on_mount`` (instead of focusing it).
    """

    AUTO_FOCUS = ""
    """No auto-focus: :meth:`take_type_ahead` focuses the input and hands it the held keys."""

    def __init__(self) -> None:
        super().__init__()
        self._held_keys: list[events.Key | events.Paste] | None = []
        """Keys (and pastes) that came before the input had focus (``None`` once it has)."""

    def post_message(self, message: Message) -> bool:
        # Until the input has focus, the app forwards every key (and paste) to this screen,
        # synchronously, in the order typed: hold them for the input.
        if (
            self._held_keys is not None
            and isinstance(message, (events.Key, events.Paste))
            and message.is_forwarded
        ):
            self._held_keys.append(message)
            return True
        return super().post_message(message)

    def take_type_ahead(self, target: Input) -> None:
        """Focus ``target`` and give it the keys held so far, with no await in between:
        every later key goes straight to it, behind them."""
        held, self._held_keys = self._held_keys or [], None
        self.set_focus(target)
        for key in held:
            target.post_message(key)
