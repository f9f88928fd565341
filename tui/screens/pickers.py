"""Small modal pickers: choose one of a list (status, site, pipeline type, team) or type text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from backend_client.sanitize import sanitize_line

__all__ = ["Choice", "PickerScreen", "TextPromptScreen"]

Choice = tuple[str, str]
"""(value, label). Labels may come from a backend: they are shown literally."""


class PickerScreen(ModalScreen[str | None]):
    """Pick one value; typing narrows the list. Dismisses with the value or None."""

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

    def __init__(self, title: str, choices: list[Choice], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="picker-title")
            yield Input(placeholder="type to narrow; Enter picks", id="picker-filter")
            yield OptionList(*self._options(""), id="picker-options")

    def _options(self, needle: str) -> list[Option]:
        needle = needle.casefold()
        return [
            Option(Text(("● " if value == self.current else "  ") + sanitize_line(label)), id=value)
            for value, label in self.choices
            if needle in label.casefold()
        ]

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        for index, (value, _) in enumerate(self.choices):
            if value == self.current:
                options.highlighted = index
        self.query_one("#picker-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
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


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (free-text filter). Enter applies; Escape closes."""

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
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)
