"""Small modal pickers: choose one of a list (status, site, pipeline type, team) or type text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from backend_client.errors import BackendError
from backend_client.sanitize import sanitize_line
from tui.typeahead import TypeAheadInput, TypeAheadScreen

__all__ = ["Choice", "PickerScreen", "TextPromptScreen"]

Choice = tuple[str, str]
"""(value, label). Labels may come from a backend: they are shown literally."""


class PickerScreen(TypeAheadScreen[str | None]):
    """Pick one value; typing narrows the list. Dismisses with the value or None.

    Keys typed right after the key that opened it (``s`` then ``fail`` Enter, in one burst)
    narrow the list and pick, in order (see :mod:`tui.typeahead`).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="picker.close"),
        Binding("down", "focus_list", "List", show=False, id="picker.down"),
    ]

    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical {
        width: 60;
        max-width: 95%;
        height: auto;
        max-height: 80%;
        border: thick $primary 70%;
        background: $surface;
        padding: 0 1;
    }
    PickerScreen .picker-title { text-style: bold; padding: 0 0 1 0; }
    PickerScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(
        self,
        title: str,
        choices: list[Choice],
        current: str | None = None,
        *,
        load: Callable[[], Awaitable[list[Choice]]] | None = None,
    ) -> None:
        """``load`` fetches more choices (from a backend) while the picker is already up, so
        keys typed meanwhile narrow the list; Enter typed before they arrive picks after."""
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current
        self._load = load
        self._loading = load is not None
        self._submit_when_loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            title = self.title_text + (" (loading…)" if self._loading else "")
            yield Static(Text(title), classes="picker-title", id="picker-title")
            yield TypeAheadInput(placeholder="type to narrow; Enter picks", id="picker-filter")
            yield OptionList(*self._options(""), id="picker-options")

    def _options(self, needle: str) -> list[Option]:
        """The choices whose label contains ``needle``: an exact match first, then labels
        that start with it, then the rest, each group in the list's order (so ``runn`` Enter
        picks "running", not "active (queued + running)")."""
        needle = needle.casefold()

        def rank(label: str) -> int:
            folded = label.casefold()
            return 0 if folded == needle else 1 if folded.startswith(needle) else 2

        matching = [(value, label) for value, label in self.choices if needle in label.casefold()]
        if needle:
            matching.sort(key=lambda choice: rank(choice[1]))  # stable: list order within
        return [
            Option(Text(("● " if value == self.current else "  ") + sanitize_line(label)), id=value)
            for value, label in matching
        ]

    def on_mount(self) -> None:
        self._highlight_current()
        self.take_type_ahead(self.query_one("#picker-filter", Input))
        if self._load is not None:
            self._load_more(self._load)

    def _highlight_current(self) -> None:
        options = self.query_one(OptionList)
        for index, (value, _) in enumerate(self.choices):
            if value == self.current:
                options.highlighted = index

    @work(exit_on_error=False)
    async def _load_more(self, load: Callable[[], Awaitable[list[Choice]]]) -> None:
        title = self.query_one("#picker-title", Static)
        try:
            more = await load()
        except Exception as exc:  # a backend error, or one nobody expected: say it, stay up
            message = sanitize_line(
                str(exc) if isinstance(exc, BackendError) else f"{type(exc).__name__}: {exc}"
            )
            title.update(Text(f"{self.title_text} (cannot load the list: {message})"))
            self._loading = self._submit_when_loaded = False
            self.release_type_ahead()  # nothing will be picked: keys typed meanwhile are back
            if not isinstance(exc, BackendError):
                self.notify(message, title="Unexpected error", severity="error", markup=False)
            return
        self._loading = False
        title.update(Text(self.title_text))
        self.choices = self.choices + more
        needle = self.query_one("#picker-filter", Input).value
        self._narrow(needle)
        if not needle:
            self._highlight_current()
        if self._submit_when_loaded:
            self._pick_highlighted()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._narrow(event.value)

    def _narrow(self, needle: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        found = self._options(needle)
        if found:
            options.add_options(found)
            options.highlighted = 0
        else:  # said, not an empty box (and Enter picks nothing)
            options.add_option(Option(Text("  no match", style="dim"), disabled=True))

    def keeps_closing(self) -> bool:
        return self._submit_when_loaded

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._loading:
            self._submit_when_loaded = True  # typed ahead of the list: pick once it is here
            return
        self._pick_highlighted()

    def _pick_highlighted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if not option.disabled:
                self.dismiss(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if not event.option.disabled:
            self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        options = self.query_one(OptionList)
        if options.has_focus:
            options.action_cursor_down()
            return
        options.focus()
        options.action_cursor_down()

    def action_close(self) -> None:
        self.dismiss(None)


class TextPromptScreen(TypeAheadScreen[str | None]):
    """Ask for one line of text (free-text filter). Enter applies; Escape closes.

    Keys typed right after the key that opened it land in it, in order (:mod:`tui.typeahead`).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="prompt.close"),
    ]

    DEFAULT_CSS = """
    TextPromptScreen { align: center middle; }
    TextPromptScreen > Vertical {
        width: 60;
        max-width: 95%;
        height: auto;
        border: thick $primary 70%;
        background: $surface;
        padding: 0 1;
    }
    TextPromptScreen .picker-title { text-style: bold; padding: 0 0 1 0; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="picker-title")
            yield TypeAheadInput(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.take_type_ahead(self.query_one("#prompt-input", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)
