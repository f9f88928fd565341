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
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input

__all__ = ["TypeAheadInput", "TypeAheadScreen", "fresh_copy"]

_R = TypeVar("_R")


_EDITING_ACTIONS = frozenset(b.action for b in Input.BINDINGS if isinstance(b, Binding))
"""What Input itself binds (backspace, ctrl+u, Enter...): the keys whose order matters. Keys
it only inherits (``down`` scrolls a widget, or else goes on to the screen) take the usual
path."""


def fresh_copy(event: events.Key | events.Paste) -> events.Key | events.Paste:
    """A new copy of a key or paste that was already handled (stopped) once."""
    if isinstance(event, events.Paste):
        return events.Paste(event.text)
    return events.Key(event.key, event.character)


class TypeAheadInput(Input):
    """An :class:`~textual.widgets.Input` whose own keys apply in the order they were typed.

    Keys typed after the Enter (or Escape) that is meant to close it are not typed into it:
    they are held, then handed on to whatever has the keys once it is gone (its screen
    closed, or the focus moved on), or given back to it if it stays (nothing was picked).
    """

    _after: list[events.Key | events.Paste] | None = None
    """Keys (and pastes) typed after Enter / Escape, held (``None``: not closing)."""

    async def on_key(self, event: events.Key) -> None:
        # Runs before Input's own key handler (subclass first); printable keys go on to it.
        if self._after is not None:
            event.stop()
            event.prevent_default()
            self._after.append(event)
            return
        if event.key == "escape":
            self._after = []  # Escape closes it (a binding of its screen, run after this)
            return
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
            if active.binding.action == "submit":
                self._after = []
            await self.run_action(active.binding.action)

    async def on_paste(self, event: events.Paste) -> None:
        if self._after is not None:
            event.stop()
            event.prevent_default()
            self._after.append(event)

    def hand_on(self) -> None:
        """It is closing (or lost the focus): the held keys go to whatever has the keys now."""
        after, self._after = self._after, None
        for event in after or []:
            self.app.post_message(fresh_copy(event))

    def take_back(self) -> None:
        """It stays (Enter picked nothing): the held keys are typed into it after all."""
        after, self._after = self._after, None
        for event in after or []:
            self.post_message(fresh_copy(event))

    def on_blur(self) -> None:
        if self._after is not None:
            self.hand_on()


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
        self._dismissing = False

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

    def dismiss(self, result: _R | None = None) -> AwaitComplete:
        self._dismissing = True
        return super().dismiss(result)

    def keeps_closing(self) -> bool:
        """Whether an Enter that did not dismiss will still close it (a picker waiting for
        its list picks when the list arrives): keys typed after it wait."""
        return False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Runs after a subclass's handler (same message, base class). Still up after Enter
        # (nothing picked): the keys typed after it are its own again.
        if not self._dismissing and not self.keeps_closing():
            self.release_type_ahead()

    def release_type_ahead(self) -> None:
        """Give keys held after an Enter that did not close the screen back to its input."""
        for field in self.query(TypeAheadInput):
            field.take_back()

    def on_unmount(self) -> None:
        # Closed: the keys typed after Enter / Escape are for the screen below, in order.
        for field in self.query(TypeAheadInput):
            field.hand_on()
