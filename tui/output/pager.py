"""The pager: a step's or a whole deployment's output, full screen, searchable.

Opened from a step (that step) or a deployment (every step under a header, like
``gh run view --log``; one key narrows to the failed step). A failed deployment opens at
its failed step, scrolled to the first error line. Search highlights every match and counts
them; one key shows only the matching lines. The output can be saved, copied (OSC 52) or
handed to ``$PAGER``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import tempfile
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from backend_client.models import Deployment, DeploymentStep
from backend_client.sanitize import sanitize_line
from tui.format import status_glyph
from tui.themes import status_defaults
from tui.typeahead import TypeAheadInput, TypeAheadScreen
from tui.widgets.footer import DashboardFooter

from .feed import OutputFeed, OutputHub
from .search import (
    SearchError,
    SearchQuery,
    filter_sections,
    find_error_rows,
    scan_matches,
)
from .source import SEPARATOR, STATUS_COLOURS, FilteredSource, StepsSource
from .text import safe_label
from .view import OutputView

__all__ = [
    "PagerCommandError",
    "PagerRunner",
    "PagerScreen",
    "PromptScreen",
    "TypeAheadInput",
    "pager_command",
    "run_external_pager",
]

PagerRunner = Callable[[App[Any], Path], Awaitable[None]]
"""Shows a file in an external pager and returns when the operator quits it."""

BIG_OUTPUT = 2 * 1024 * 1024
"""Above this many bytes, searches run in a thread worker."""
COPY_LIMIT = 2 * 1024 * 1024
"""The most characters copied to the clipboard at once (OSC 52 travels through the terminal)."""
RESEARCH_INTERVAL = 0.5
"""Seconds between re-running a search while output grows (at least; a search taking
``t`` seconds waits ``2t``, so a live search over a huge output uses at most a third of a
core)."""

_T = TypeVar("_T")

FOOTER_PRIORITY: tuple[str, ...] = (
    "pager.help",
    "pager.close",
    "pager.search",
    "pager.next_match",
    "output-view.follow",
    "pager.failed_only",
    "pager.next_error",
    "pager.filter",
    "pager.previous_match",
    "pager.save",
    "pager.wrap",
    "pager.copy",
    "pager.external",
)
"""The pager's footer keys, most important first: on a narrow terminal the last go first
(they still work, and ``?`` lists them). Help and Close always stay."""
FOOTER_SHORT: dict[str, str] = {
    "pager.filter": "Only",
    "pager.failed_only": "Failed",
    "pager.next_error": "Error",
}
"""Shorter footer descriptions (by binding id) used when the full footer does not fit."""


class PagerCommandError(OSError):
    """``$PAGER`` cannot be started (empty, unparsable, or not found on ``PATH``)."""


def pager_command(value: str | None = None) -> list[str]:
    """The ``$PAGER`` command line, resolved to an executable (default ``less -R``).

    Resolved *before* the terminal is handed over: a pager that cannot start must never
    leave the app suspended.

    Args:
        value: The command line (``None``: ``$PAGER`` from the environment).

    Raises:
        PagerCommandError: the command cannot be parsed or its program is not found.
    """
    text = os.environ.get("PAGER") if value is None else value
    text = (text or "").strip() or "less -R"
    try:
        command = shlex.split(text)
    except ValueError as error:
        raise PagerCommandError(f"cannot start pager {text!r}: {error}") from None
    if not command:
        command = ["less", "-R"]
    program = shutil.which(command[0])
    if program is None:
        raise PagerCommandError(f"cannot start pager {command[0]!r}: not found")
    return [program, *command[1:]]


async def run_external_pager(app: App[Any], path: Path) -> None:
    """Run ``$PAGER`` (default ``less -R``) on ``path`` with the terminal handed over.

    The app is suspended inside ``batch_update()``: while the pager runs, nothing is painted
    (a suspended driver would otherwise fill its queue and block the loop), but the event
    loop keeps running, so events keep arriving and feeds keep growing.

    Raises:
        SuspendNotSupported: the app cannot hand the terminal over (headless, web).
        PagerCommandError: ``$PAGER`` cannot be started (checked before suspending).
        OSError: the pager command cannot be started.
    """
    command = pager_command()
    failure: BaseException | None = None
    with app.batch_update(), app.suspend():
        # Textual's suspend() resumes only when its block exits normally: every failure
        # (even a cancellation) is held until the terminal is back, then raised.
        try:
            process = await asyncio.create_subprocess_exec(*command, str(path))
            await process.wait()
        except BaseException as error:  # re-raised below, once resumed
            failure = error
    if failure is not None:
        raise failure


class PromptScreen(TypeAheadScreen[str | None]):
    """Asks one line of text; Enter answers, Escape cancels (``None``).

    Type-ahead: keys typed right after the key that opened the prompt (``:1200`` Enter in
    one burst over SSH) reach the app before the prompt's input exists. The app hands them
    to the screen, which holds them, in order, and gives them to the input the moment it
    is focused; nothing typed is lost or taken as another key.
    """

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 70; height: auto; padding: 1 2;
        border: thick $primary; background: $panel;
    }
    PromptScreen Label { width: 100%; margin-bottom: 1; }
    PromptScreen .prompt-hint { color: $text-muted; margin: 1 0 0 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(self, title: str, value: str = "", *, placeholder: str = "") -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title))
            yield TypeAheadInput(
                value=self._value, placeholder=self._placeholder, id="prompt-input"
            )
            yield Label(Text("Enter to confirm · Escape to cancel"), classes="prompt-hint")

    def on_mount(self) -> None:
        self.take_type_ahead(self.query_one("#prompt-input", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", sanitize_line(name)).strip("-").lower() or "step"


def _free_path(path: Path) -> Path:
    """``out.log`` → the first of ``out-1.log``, ``out-2.log``, ... that does not exist."""
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    return path.with_name(f"{path.stem}-{time.time_ns()}{path.suffix}")


_PAGER_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Search output…", "search", "Highlight and count matches (/)"),
    ("Next match", "next_match", "After a search (n)"),
    ("Only matching lines", "toggle_filter", "Toggle showing only the matches (&)"),
    ("Next error line", "next_error", "Jump to the next line that looks like an error (e)"),
    ("Previous error line", "previous_error", "(E)"),
    ("Failed step only", "toggle_failed_only", "Only the failed step ↔ every step (o)"),
    ("Wrap long lines", "toggle_wrap", "Toggle wrapping (w)"),
    ("Line numbers", "toggle_line_numbers", "Toggle the line number gutter (l)"),
    ("Go to line…", "go_to_line", "Line N of the step at the top (:)"),
    ("Save output…", "save", "Plain text to a file; never overwrites (s)"),
    ("Copy output", "copy", "The selection, else the whole output, via OSC 52 (c)"),
    ("Open in $PAGER", "external_pager", "Hand the output to $PAGER, default less -R (p)"),
    ("Pager keys (help)", "help", "Every pager key binding (?)"),
    ("Close the pager", "close", "Back to the dashboard (q, Escape)"),
)


def pager_binding_rows(screen: PagerScreen) -> list[tuple[str, str, str, str]]:
    """``(section, keys, what it does, binding id)`` for every pager key, keymap applied.

    The rows :class:`tui.screens.help.HelpScreen` shows (same shape as its
    ``binding_rows``, with the pager's own sections).
    """
    from tui.screens.help import section_rows  # lazily: the help screen is rarely opened

    app = screen.app
    sections: list[tuple[str, Any]] = [
        ("Pager", screen),
        ("Output (scrolling)", screen.view),
        ("App", app),
    ]
    rows = section_rows(app, sections)
    rows.append(("Mouse", "drag / wheel", "Select text (c copies it) / scroll", ""))
    return rows


class PagerCommands(Provider):
    """The pager's actions by name, in the command palette (ctrl+p) opened on the pager."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen
        if not isinstance(screen, PagerScreen):
            return []
        return [
            (name, partial(self.app.call_later, screen.run_action, action), help_text)
            for name, action, help_text in _PAGER_COMMANDS
            # What means nothing now (as in the footer): "Failed step only" with no failure.
            if screen.check_action(action, ()) is not False
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class PagerScreen(Screen[None]):
    """Full-screen output of a step or of a whole deployment.

    Args:
        hub: Where the step feeds come from.
        deployment: The deployment whose output is shown.
        step_id: Show only this step (``None``: every step).
        failed_only: Show only the failed step (the ``o`` key toggles it).
        pager_runner: Runs the external pager (``$PAGER``); injectable for tests, where
            the headless driver cannot suspend.
    """

    DEFAULT_CSS = """
    PagerScreen { layout: vertical; }
    PagerScreen #pager-title {
        height: 1; width: 100%; background: $panel; color: $text; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    PagerScreen #pager-view { height: 1fr; }
    PagerScreen #pager-search {
        height: auto; display: none; background: $panel;
    }
    PagerScreen #pager-search.-open { display: block; }
    PagerScreen #pager-search Input { width: 1fr; border: none; height: 1; padding: 0 1; }
    PagerScreen #pager-search-mode { width: auto; padding: 0 1; color: $text-muted; }
    PagerScreen #pager-status {
        height: 1; width: 100%; background: $boost; color: $text-muted; padding: 0 1;
    }
    PagerScreen #pager-status.-warning { color: $warning; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q",
            "close",
            "Close",
            tooltip="Close the search line, else the pager",
            id="pager.close",
        ),
        # Priority: the app runs it before forwarding the next keys, so keys typed right
        # after "/" (or pasted by tmux) land in the search line, not on pager bindings.
        # ":" and "s" too: their prompt holds keys typed before it is up (PromptScreen).
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Search the output (Enter runs, empty Enter clears)",
            id="pager.search",
            priority=True,
        ),
        Binding("n", "next_match", "Next", tooltip="Next search match", id="pager.next_match"),
        Binding(
            "N",
            "previous_match",
            "Prev",
            tooltip="Previous search match",
            id="pager.previous_match",
        ),
        Binding(
            "ampersand",
            "toggle_filter",
            "Only matches",
            tooltip="Only the matching lines ↔ every line",
            id="pager.filter",
        ),
        Binding(
            "plus",
            "context(1)",
            "More context",
            show=False,
            tooltip="More context lines around matches (only-matches mode)",
            id="pager.context_more",
        ),
        Binding(
            "minus",
            "context(-1)",
            "Less context",
            show=False,
            tooltip="Fewer context lines around matches",
            id="pager.context_less",
        ),
        Binding(
            "ctrl+r",
            "toggle_regex",
            "Regex",
            show=False,
            tooltip="Regex search on/off",
            id="pager.regex",
        ),
        Binding(
            "ctrl+t",
            "toggle_case",
            "Case",
            show=False,
            tooltip="Case-sensitive search on/off",
            id="pager.case",
        ),
        Binding(
            "e",
            "next_error",
            "Next error",
            tooltip="Next line that looks like an error (marked)",
            id="pager.next_error",
        ),
        Binding(
            "E",
            "previous_error",
            "Prev error",
            show=False,
            tooltip="Previous error line (marked)",
            id="pager.previous_error",
        ),
        Binding(
            "o",
            "toggle_failed_only",
            "Failed step only",
            tooltip="Only the failed step ↔ every step",
            id="pager.failed_only",
        ),
        Binding("w", "toggle_wrap", "Wrap", tooltip="Wrap long lines on/off", id="pager.wrap"),
        Binding(
            "l",
            "toggle_line_numbers",
            "Line numbers",
            show=False,
            tooltip="Line numbers on/off",
            id="pager.line_numbers",
        ),
        Binding(
            "colon",
            "go_to_line",
            "Go to line",
            show=False,
            tooltip="Go to line N of the step at the top (marked)",
            id="pager.go_to_line",
            priority=True,  # as for "/": the prompt opens before the next keys are routed
        ),
        Binding("g", "top", "Top", show=False, tooltip="Top", id="pager.top"),
        Binding(
            "G",
            "bottom",
            "Bottom",
            show=False,
            tooltip="Bottom (follows new output)",
            id="pager.bottom",
        ),
        Binding("space", "page_down", "Page down", show=False, id="pager.page_down"),
        Binding("b", "page_up", "Page up", show=False, id="pager.page_up"),
        Binding(
            "s",
            "save",
            "Save",
            tooltip="Save the output to a file (never overwrites)",
            id="pager.save",
            priority=True,  # as for "/": the prompt opens before the next keys are routed
        ),
        Binding(
            "c",
            "copy",
            "Copy",
            tooltip="Copy the selection, else the whole output (OSC 52)",
            id="pager.copy",
        ),
        Binding(
            "p",
            "external_pager",
            "$PAGER",
            tooltip="Open the output in $PAGER (default less -R)",
            id="pager.external",
        ),
        Binding(
            "question_mark", "help", "Help", tooltip="Every pager key (this list)", id="pager.help"
        ),
    ]

    COMMANDS = {PagerCommands}
    """The palette on the pager lists the pager's actions."""

    def __init__(
        self,
        hub: OutputHub,
        deployment: Deployment,
        step_id: str | None = None,
        *,
        failed_only: bool = False,
        pager_runner: PagerRunner | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.hub = hub
        self.deployment = deployment
        self.step_id = step_id
        self.failed_only = failed_only
        self.pager_runner: PagerRunner = pager_runner or run_external_pager
        self.query_: SearchQuery | None = None
        self._pattern: re.Pattern[str] | None = None
        self._matches: array[int] = array("q")
        self._match_index: int | None = None
        self._search_version = -1
        self._searching = False
        self._search_generation = 0
        self._filtering = False
        self._context_lines = 0
        self._filtered: FilteredSource | None = None
        self._errors: tuple[int, array[int]] | None = None
        self._base: StepsSource = StepsSource([])
        self._unsubscribe: Callable[[], None] | None = None
        self._live_timer_pending = False
        self._last_scan_seconds = 0.0
        self._regex = False
        self._case = False
        self._current_error_row: int | None = None
        # The line a jump went to, as (part, line in it): base rows shift while steps grow.
        self._marked_line: tuple[int, int] | None = None
        self._unwatch: Callable[[], None] | None = None
        self._news = 0  # bumped by every deployment or step snapshot from the stream
        self._colours: Mapping[str, str] = STATUS_COLOURS
        self.ready = asyncio.Event()
        """Set once the shown output is read and the pager positioned (for tests, tools)."""

    # -- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="pager-title")
        yield OutputView(id="pager-view")
        with Horizontal(id="pager-search"):
            yield TypeAheadInput(placeholder="Search output…", id="pager-search-input")
            yield Label(id="pager-search-mode")
        yield Static(id="pager-status")
        yield DashboardFooter(
            priority=FOOTER_PRIORITY, keep=("pager.help", "pager.close"), short=FOOTER_SHORT
        )

    @property
    def view(self) -> OutputView:
        return self.query_one("#pager-view", OutputView)

    def _shown_steps(self) -> list[DeploymentStep]:
        steps = sorted(self.deployment.steps, key=lambda step: step.sort_order)
        if self.step_id is not None:
            return [step for step in steps if step.id == self.step_id]
        if self.failed_only:
            failed = self.deployment.failed_step
            return [failed] if failed is not None else steps
        return steps

    def _feeds(self) -> list[tuple[DeploymentStep, OutputFeed]]:
        return [(step, self.hub.feed(self.deployment.id, step.id)) for step in self._shown_steps()]

    def on_mount(self) -> None:
        last = self.hub.last_search
        if last is not None:
            self._regex, self._case = last.regex, last.case_sensitive
            self.query_one("#pager-search-input", Input).value = last.text
        self._colours = self._status_colours()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._unwatch = self.hub.watch(self.deployment.id, self._deployment_news)
        self._build(initial=True)
        self.view.focus()
        self.watch(self.view, "scroll_y", self._scrolled, init=False)

    def _status_colours(self) -> dict[str, str]:
        """A colour per status value: the theme's ``status-*`` variables, as the dashboard."""
        variables = self.app.theme_variables
        defaults = status_defaults(self.app.current_theme.dark)
        return {
            name: variables.get(f"status-{name}") or defaults.get(f"status-{name}") or fallback
            for name, fallback in STATUS_COLOURS.items()
        }

    def _theme_changed(self, _theme: object) -> None:
        self._colours = self._base.colours = self._status_colours()
        self._update_title()
        self._refresh_highlight()  # redraws the rows (headers carry status colours)

    # -- the deployment, live ------------------------------------------------------------

    def _deployment_news(self, snapshot: Deployment | DeploymentStep) -> None:
        """A snapshot of the deployment, or of one of its steps, from the event stream."""
        self._news += 1
        if isinstance(snapshot, Deployment):
            self._set_deployment(snapshot)
            return
        dep = self.deployment
        steps = [snapshot if step.id == snapshot.id else step for step in dep.steps]
        if dep.step(snapshot.id) is None:
            steps.append(snapshot)
        # The deployment's own status comes with its snapshot (DeploymentUpdated), which
        # the app's stream hands on too: no need to ask the backend.
        self._set_deployment(dep.model_copy(update={"steps": steps}))

    def _set_deployment(self, deployment: Deployment) -> None:
        """Show a newer snapshot of the deployment: title, headers, status, keys."""
        before = self.deployment
        self.deployment = deployment
        if deployment.is_finished != before.is_finished:
            # Steps that never ran now read "not run"; nothing can be followed.
            self._base.settle(deployment.is_finished)
        self._update_title()
        self._update_status()
        self.refresh_bindings()  # "o" exists once a step failed

    def _scrolled(self) -> None:
        self._update_status()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    def _build(self, *, initial: bool = False) -> None:
        """(Re)build what is shown: the steps, then search and position."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        parts = self._feeds()
        # Headers keep each step's real place in the pipeline ("5/5"), even when only
        # some steps are shown.
        everything = sorted(self.deployment.steps, key=lambda step: step.sort_order)
        place = {step.id: index for index, step in enumerate(everything, 1)}
        positions = [(place.get(step.id, 1), len(everything)) for step, _ in parts]
        self._base = StepsSource(parts, settled=self.deployment.is_finished, positions=positions)
        self._base.colours = self._colours
        self._unsubscribe = self._base.subscribe(self._base_changed)
        self._errors = None
        self._filtered = None
        self._matches = array("q")
        self._match_index = None
        self._marked_line = None
        active = any(not feed.finished and not step.status.is_finished for step, feed in parts)
        follow = active and self.deployment.failed_step is None
        self.view.set_source(self._base, follow=follow)
        self._update_title()
        self._update_status()
        self.run_worker(
            self._position(parts, initial), group="pager-open", exclusive=True, exit_on_error=False
        )

    async def _position(
        self, parts: list[tuple[DeploymentStep, OutputFeed]], initial: bool
    ) -> None:
        """Once the shown output is read: search again, open a failed one at its error."""
        await asyncio.gather(*(feed.load() for _, feed in parts))
        self.view.flush()
        failed = self.deployment.failed_step
        if failed is not None and (self.step_id is None or self.step_id == failed.id):
            index = next((i for i, (s, _) in enumerate(parts) if s.id == failed.id), None)
            if index is not None:
                feed = parts[index][1]
                header = self._base.header_row(index)
                lines = await self._compute(
                    feed.size, lambda: find_error_rows(feed.plain_byte_blocks())
                )
                if lines:
                    self._current_error_row = header + 1 + lines[0]
                    self._mark(self._current_error_row)
                self.view.scroll_to_row(header + 1 + lines[0] if lines else header)
        if self.query_ is not None or (initial and self.hub.last_search is not None):
            query = self.query_ or self.hub.last_search
            assert query is not None
            self._start_search(query, jump=False)
        self._update_status()
        self.ready.set()

    # -- helpers -------------------------------------------------------------------------

    def _total_bytes(self) -> int:
        return sum(feed.size for _, feed in self._base.parts)

    async def _compute(self, size: int, function: Callable[[], _T]) -> _T:
        """Run a scan inline for small outputs, in a thread for big ones."""
        if size < BIG_OUTPUT:
            return function()
        return await asyncio.to_thread(function)

    def _base_row_at_top(self) -> int:
        top = self.view.top_row
        filtered = self._filtered
        if filtered is not None:
            base = filtered.base_row(top)
            if base == SEPARATOR:  # a "--" row sits between two real rows
                base = filtered.base_row(top + 1)
            return max(base, 0)
        return top

    def _view_row(self, base_row: int) -> int:
        return self._filtered.row_of_base(base_row) if self._filtered is not None else base_row

    def _update_title(self) -> None:
        """``Output ◐ running · Push staging … to staging.shop.example.com · 01J…``.

        The status comes first: it changes, and a long operation name must not push it
        off a narrow terminal.
        """
        dep = self.deployment
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("Output ", style="bold")
        status = dep.status.value
        text.append(f"{status_glyph(dep.status)} {status}", style=self._colours.get(status, ""))
        text.append(" · ")
        text.append_text(safe_label(dep.operation_name))
        if dep.site_domain and dep.site_domain not in dep.operation_name:
            # "Push staging … to staging.shop.example.com" names its site already.
            text.append(" · ")
            text.append_text(safe_label(dep.site_domain))
        # The id comes from the backend too: sanitized (appended as plain text, not markup).
        text.append(f" · {sanitize_line(dep.id)}", style="dim")
        if self.step_id is not None:
            text.append(" · one step", style="dim")
        elif self.failed_only:
            text.append(" · failed step only", style="dim")
        self.query_one("#pager-title", Static).update(text)

    def _update_status(self) -> None:
        parts: list[str] = []
        if self.query_ is not None:
            if self._searching:
                parts.append(f"/{self.query_.text}  searching…")
            elif not self._matches:
                parts.append(f"/{self.query_.text}  no matches")
            else:
                index = self._match_index
                position = f"{index + 1:,} of " if index is not None else ""
                parts.append(f"/{self.query_.text}  {position}{len(self._matches):,}")
            flags = [
                flag
                for flag, on in (("regex", self.query_.regex), ("Aa", self.query_.case_sensitive))
                if on
            ]
            if flags:
                parts.append(" ".join(flags))
        if self._filtering:
            parts.append(f"only matching lines (context {self._context_lines})")
        view = self.view
        if view.wrap:
            parts.append("wrap")
        if any(feed.loading or not feed.loaded for _, feed in self._base.parts):
            loaded = sum(feed.size for _, feed in self._base.parts)
            parts.append(f"loading… {loaded:,} bytes")
        where = self._where()
        if where:
            parts.append(where)
        if self._can_grow():
            # Following only means something while output can still arrive.
            parts.append("following" if view.following else "paused · End follows")
        truncated = any(feed.truncated for _, feed in self._base.parts)
        status = self.query_one("#pager-status", Static)
        if truncated:
            parts.insert(0, "⚠ output cut short by the backend")
        status.set_class(truncated, "-warning")
        status.update(Text("  │  ".join(parts), no_wrap=True, overflow="ellipsis", end=""))

    def _can_grow(self) -> bool:
        """Whether any shown output can still grow (a step that may still print)."""
        return self._base.can_grow

    def _where(self) -> str:
        """``Copy files · line 37 of 120``: the step and line at the top of the screen.

        Lines count from 1, as the line numbers do (a header at the top: its first line).
        """
        base = self._base
        if not base.parts:
            return ""
        part, inner = base.part_of_row(self._base_row_at_top())
        part = max(part, 0)
        step, feed = base.parts[part]
        name = sanitize_line(step.name)
        if len(name) > 24:
            name = name[:23] + "…"
        count = feed.line_count
        if count == 0:
            return f"{name} · no lines"
        line = min(max(inner + 1, 1), count)
        return f"{name} · line {line:,} of {count:,}"

    def _base_changed(self) -> None:
        if not self._live_timer_pending:
            self._live_timer_pending = True
            delay = max(RESEARCH_INTERVAL, 2 * self._last_scan_seconds)
            self.set_timer(delay, self._live_update)

    def _live_update(self) -> None:
        self._live_timer_pending = False
        self._errors = None
        if self._marked_line is not None:
            self._refresh_mark()  # earlier steps grew: the marked line moved down
        if self.query_ is not None and self._base.version != self._search_version:
            self._start_search(self.query_, jump=False, keep_position=True)
        self._update_status()

    def on_output_view_follow_changed(self, event: OutputView.FollowChanged) -> None:
        self._update_status()

    # -- search --------------------------------------------------------------------------

    def action_search(self) -> None:
        """Open the search line."""
        search_input = self.query_one("#pager-search-input", Input)
        bar = self.query_one("#pager-search")
        bar.add_class("-open")
        self._update_search_mode()
        # Focus now, not after the queued keys: a fast typist's next keys go to the input.
        self.set_focus(search_input)
        search_input.action_select_all()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a query, "/" is a character, not the (priority) search binding.
        # ":" and "s" need no check (Textual drops bindings on keys a focused input types),
        # and "Save output…" from the palette must still work with the search line open.
        if action == "search":
            return not isinstance(self.focused, Input)
        if action == "toggle_failed_only":
            # Hidden (footer, palette) when it means nothing: one step shown, or no failure.
            return self.step_id is None and self.deployment.failed_step is not None
        return True

    def _update_search_mode(self) -> None:
        mode = ("regex" if self._regex else "text") + (" · Aa" if self._case else " · aA")
        label = self.query_one("#pager-search-mode", Label)
        label.update(Text(f"{mode}  (ctrl+r regex, ctrl+t case)", end=""))

    def _close_search_bar(self) -> None:
        self.query_one("#pager-search").remove_class("-open")
        self.view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "pager-search-input":
            return
        event.stop()
        text = event.value
        if not text:
            self._close_search_bar()
            self._clear_search()
            return
        query = SearchQuery(text, regex=self._regex, case_sensitive=self._case)
        try:
            query.compile()
        except SearchError as error:
            self.notify(str(error), severity="error", title="Search", markup=False)
            if isinstance(event.input, TypeAheadInput):
                event.input.take_back()  # the line stays open: keys typed after are for it
            return
        self._close_search_bar()
        self._start_search(query, jump=True)

    def _clear_search(self) -> None:
        self.query_ = None
        self._pattern = None
        self._matches = array("q")
        self._match_index = None
        if self._filtering:
            self._set_filtering(False)
        self.view.set_highlight(None)
        self._update_status()

    def _start_search(self, query: SearchQuery, *, jump: bool, keep_position: bool = False) -> None:
        try:
            pattern = query.compile()
        except SearchError as error:
            self.notify(str(error), severity="error", title="Search", markup=False)
            return
        previous_row = (
            self._matches[self._match_index]
            if keep_position and self._match_index is not None and self._matches
            else None
        )
        self.query_ = query
        self.hub.last_search = query
        self._pattern = pattern
        self._searching = True
        self._search_generation += 1
        generation = self._search_generation
        version = self._base.version
        self._update_status()
        self._search_worker(query, pattern, generation, version, jump, previous_row)

    @work(group="pager-search", exclusive=True, exit_on_error=False)
    async def _search_worker(
        self,
        query: SearchQuery,
        pattern: re.Pattern[str],
        generation: int,
        version: int,
        jump: bool,
        previous_row: int | None,
    ) -> None:
        base = self._base
        top = self._base_row_at_top()
        big = self._total_bytes() >= BIG_OUTPUT

        def cancelled() -> bool:
            return generation != self._search_generation

        def on_first(row: int) -> None:
            # Jump as soon as the first match below the screen's top is found; the count
            # ("3 of 41") follows when the whole output is scanned.
            if big:
                self.app.call_from_thread(self._early_jump, generation, row)
            else:
                self._early_jump(generation, row)

        def scan() -> array[int]:
            return scan_matches(
                base,
                query,
                start=top if jump else 0,
                on_first=on_first if jump and not self._filtering else None,
                cancelled=cancelled,
            )

        started = time.monotonic()
        matches = await asyncio.to_thread(scan) if big else scan()
        self._last_scan_seconds = time.monotonic() - started
        if cancelled() or base is not self._base:
            return
        self._searching = False
        self._matches = matches
        self._search_version = version
        if previous_row is not None and matches:
            self._match_index = min(bisect_left(matches, previous_row), len(matches) - 1)
        elif matches:
            index = bisect_left(matches, top)
            self._match_index = index if index < len(matches) else 0
        else:
            self._match_index = None
        if self._filtering:
            self._apply_filter()
        if jump and self._match_index is not None:
            self._show_match(self._match_index)
        else:
            self._refresh_highlight()
        if jump and not matches:
            self.notify(
                f"No matches for {self.query_.text if self.query_ else ''!r}.", markup=False
            )
        self._update_status()

    def _early_jump(self, generation: int, row: int) -> None:
        if generation != self._search_generation or self._filtering:
            return
        self.view.scroll_to_row(row)
        self.view.set_highlight(self._pattern, (row, 0))

    def _current_in_view(self) -> tuple[int, int] | None:
        index = self._match_index
        if index is None or not self._matches:
            return None
        row = self._matches[index]
        nth = index - bisect_left(self._matches, row)
        return self._view_row(row), nth

    def _refresh_highlight(self) -> None:
        self.view.set_highlight(self._pattern, self._current_in_view())
        self._refresh_mark()

    def _mark(self, base_row: int | None) -> None:
        """Mark the line a jump (``e``, ``:``) went to, so the eye finds it."""
        if base_row is None:
            self._marked_line = None
        else:
            part, inner = self._base.part_of_row(base_row)
            self._marked_line = (part, inner) if part >= 0 and inner >= 0 else None
        self._refresh_mark()

    def _refresh_mark(self) -> None:
        marked = self._marked_line
        row = self._base.header_row(marked[0]) + 1 + marked[1] if marked is not None else None
        filtered = self._filtered
        if row is not None and filtered is not None:
            shown = filtered.row_of_base(row)
            row = shown if filtered.base_row(shown) == row else None  # hidden by the filter
        self.view.mark_row(row)

    def _show_match(self, index: int) -> None:
        self._match_index = index
        self._marked_line = None  # the current match is the mark now
        current = self._current_in_view()
        if current is not None:
            self.view.scroll_to_row(current[0])
        self._refresh_highlight()
        self._update_status()

    def _step_match(self, forward: bool) -> None:
        if self.query_ is None:
            self.notify("No search yet: press / to search.")
            return
        if self._searching:
            self.notify("Still searching…")
            return
        if not self._matches:
            self.notify(f"No matches for {self.query_.text!r}.", markup=False)
            return
        index = self._match_index
        top = self._base_row_at_top()
        current = self._current_in_view()
        visible = current is not None and self._is_visible(current[0])
        if index is None or not visible:
            # Continue from what is on screen rather than from a match scrolled away from.
            if forward:
                index = bisect_left(self._matches, top)
                index = index if index < len(self._matches) else 0
            else:
                index = bisect_left(self._matches, top) - 1
                index = index if index >= 0 else len(self._matches) - 1
        else:
            index = (index + (1 if forward else -1)) % len(self._matches)
        self._show_match(index)

    def _is_visible(self, view_row: int) -> bool:
        top = self.view.top_row
        return top <= view_row < top + self.view.size.height

    def action_next_match(self) -> None:
        """Go to the next match."""
        self._step_match(True)

    def action_previous_match(self) -> None:
        """Go to the previous match."""
        self._step_match(False)

    def action_toggle_regex(self) -> None:
        self._regex = not self._regex
        self._update_search_mode()
        self._rerun_with_flags()

    def action_toggle_case(self) -> None:
        self._case = not self._case
        self._update_search_mode()
        self._rerun_with_flags()

    def _rerun_with_flags(self) -> None:
        if self.query_ is None or self.query_.text == "":
            return
        if self.query_one("#pager-search").has_class("-open"):
            return  # applied on Enter
        self._start_search(
            SearchQuery(self.query_.text, regex=self._regex, case_sensitive=self._case),
            jump=False,
        )

    # -- filter --------------------------------------------------------------------------

    def action_toggle_filter(self) -> None:
        """Toggle between highlighting matches and showing only the matching lines."""
        if self.query_ is None:
            self.notify("Search first (/), then & shows only the matching lines.")
            return
        self._set_filtering(not self._filtering)

    def action_context(self, delta: int) -> None:
        """More or fewer lines of context around matches in "only matching lines" mode."""
        self._context_lines = max(0, min(self._context_lines + delta, 10))
        if self._filtering:
            self._apply_filter()
        self._update_status()

    def _set_filtering(self, on: bool) -> None:
        keep = self._base_row_at_top()
        self._filtering = on
        if on:
            self._apply_filter()
        else:
            self._filtered = None
            self.view.set_source(self._base, follow=False)
            self.view.scroll_to_row(keep, context=0)
            self._refresh_highlight()
        self._update_status()

    def _apply_filter(self) -> None:
        base = self._base
        count = len(base.parts)
        headers = [base.header_row(i) for i in range(count)]
        # Each step with matches, under its header; context stays inside the step.
        sections = list(zip(headers, [*headers[1:], base.row_count], strict=True))
        rows = filter_sections(self._matches, sections, self._context_lines)
        keep = self._base_row_at_top()
        following = self.view.following
        self._filtered = FilteredSource(base, rows)
        self.view.set_source(self._filtered, follow=following)
        current = self._current_in_view()
        if not following:
            target = current[0] if current is not None else self._filtered.row_of_base(keep)
            self.view.scroll_to_row(target)
        self._refresh_highlight()

    # -- errors --------------------------------------------------------------------------

    async def _error_rows(self) -> array[int]:
        version = self._base.version
        if self._errors is not None and self._errors[0] == version:
            return self._errors[1]
        base = self._base
        rows = await self._compute(
            self._total_bytes(), lambda: find_error_rows(base.plain_byte_blocks())
        )
        self._errors = (version, rows)
        return rows

    @work(group="pager-errors", exclusive=True, exit_on_error=False)
    async def _jump_error(self, forward: bool) -> None:
        rows = await self._error_rows()
        if not rows:
            self.notify("No error lines.")
            return
        top = self._base_row_at_top()
        current = self._current_error_row
        anchor = (
            current if current is not None and self._is_visible(self._view_row(current)) else None
        )
        if forward:
            index = bisect_right(rows, anchor) if anchor is not None else bisect_left(rows, top)
            if index >= len(rows):
                self.notify("No more error lines below.")
                return
        else:
            index = (
                bisect_left(rows, anchor) if anchor is not None else bisect_left(rows, top)
            ) - 1
            if index < 0:
                self.notify("No more error lines above.")
                return
        row = rows[index]
        self._current_error_row = row
        filtered = self._filtered
        if filtered is not None and filtered.base_row(filtered.row_of_base(row)) != row:
            # The error line is hidden by the filter: show everything again.
            self._set_filtering(False)
        self.view.scroll_to_row(self._view_row(row))
        self._mark(row)
        self.notify(f"Error line {index + 1:,} of {len(rows):,}", timeout=2)

    def action_next_error(self) -> None:
        """Jump to the next line that looks like an error."""
        self._jump_error(True)

    def action_previous_error(self) -> None:
        """Jump to the previous line that looks like an error."""
        self._jump_error(False)

    # -- view toggles and movement -------------------------------------------------------

    def action_toggle_wrap(self) -> None:
        """Wrap long lines (or scroll sideways)."""
        self.view.wrap = not self.view.wrap
        self._update_status()

    def action_toggle_line_numbers(self) -> None:
        """Show or hide line numbers."""
        self.view.line_numbers = not self.view.line_numbers

    def action_toggle_failed_only(self) -> None:
        """Show only the failed step's output, or every step's again."""
        if self.step_id is not None:
            self.notify("The pager shows one step; open it on the deployment to see all steps.")
            return
        if self.deployment.failed_step is None:
            self.notify("No step failed in this deployment.")
            return
        self.failed_only = not self.failed_only
        self._build()

    def action_top(self) -> None:
        self.view.action_top()

    def action_bottom(self) -> None:
        self.view.action_follow()

    def action_page_down(self) -> None:
        self.view.action_page_down()

    def action_page_up(self) -> None:
        self.view.action_page_up()

    def action_go_to_line(self) -> None:
        """Ask a line number and go there (in the step at the top of the screen)."""
        self.app.push_screen(
            PromptScreen("Go to line", placeholder="line number"), self._go_to_line
        )

    def _go_to_line(self, answer: str | None) -> None:
        if answer is None or not answer.strip():
            return
        try:
            number = int(answer.strip().replace(",", "").replace("_", ""))
        except ValueError:
            self.notify(f"Not a line number: {answer.strip()!r}", severity="error", markup=False)
            return
        if self._filtering:
            self._set_filtering(False)
        base = self._base
        if not base.parts:
            return
        part, _ = base.part_of_row(self._base_row_at_top())
        part = max(part, 0)
        feed = base.parts[part][1]
        line = max(1, min(number, max(feed.line_count, 1)))
        if number > feed.line_count:
            self.notify(f"The output has {feed.line_count:,} lines: showing the last.")
        row = base.header_row(part) + line
        self.view.scroll_to_row(row, context=0)
        self._mark(row)  # marked even when the line was already on screen

    def action_help(self) -> None:
        """Every pager key binding: keys, what they do, the binding id (for the keymap)."""
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(pager_binding_rows(self)))

    def action_close(self) -> None:
        """Close the pager (or the search line if it is open)."""
        bar = self.query_one("#pager-search")
        if bar.has_class("-open"):
            self._close_search_bar()
            return
        self.dismiss()

    # -- save, copy, $PAGER --------------------------------------------------------------

    def _text_chunks(self, *, colours: bool = False) -> Iterator[str]:
        """The shown output as text: each step's header then its lines."""
        with_headers = len(self._base.parts) > 1 or self.step_id is None
        for index, (_, feed) in enumerate(self._base.parts):
            if with_headers:
                yield self._base.row_plain(self._base.header_row(index)) + "\n"
            if colours:
                yield from feed.sgr_blocks()
            else:
                for _, block in feed.plain_blocks():
                    yield block + "\n"

    def _default_path(self) -> str:
        steps = self._shown_steps()
        what = _slug(steps[0].name) if len(steps) == 1 else "all"
        return f"./deploytop-{self.deployment.id}-{what}.log"

    def action_save(self) -> None:
        """Save the shown output (plain text) to a file; the path is asked.

        An existing file is never overwritten: the prompt comes back with a free name.
        """
        self.app.push_screen(PromptScreen("Save output to", self._default_path()), self._save_to)

    def _save_to(self, answer: str | None) -> None:
        if answer is None or not answer.strip():
            return
        path = Path(answer.strip()).expanduser()
        if path.exists():
            self.app.push_screen(
                PromptScreen(
                    f"{path} already exists (not overwritten): save to another file",
                    str(_free_path(path)),
                ),
                self._save_to,
            )
            return
        self._write_file(path)

    @work(thread=True, group="pager-save", exit_on_error=False)
    def _write_file(self, path: Path) -> None:
        # The text is produced in this thread, block by block: a 100 MB output is never
        # held twice.
        chunks = self._text_chunks()
        lines = 0  # what the file holds, step headers included
        try:
            # "x": a file created since the prompt was answered is not overwritten either.
            with path.open("x", encoding="utf-8") as file:
                for chunk in chunks:
                    file.write(chunk)
                    lines += chunk.count("\n")
        except FileExistsError:
            message = f"{path} already exists: not overwritten. Save again with another name."
            self.app.call_from_thread(
                self.notify, message, severity="warning", title="Save", markup=False
            )
            return
        except OSError as error:
            message = f"Could not save to {path}: {error.strerror or error}"
            self.app.call_from_thread(
                self.notify, message, severity="error", title="Save", markup=False
            )
            return
        self.app.call_from_thread(
            self.notify, f"Saved {lines:,} lines to {path}", title="Save", markup=False
        )

    def action_copy(self) -> None:
        """Copy the selection, or the whole shown output, to the clipboard (OSC 52)."""
        selected = self.get_selected_text()
        if selected:
            text, what = selected, "selection"
        else:
            size = self._total_bytes()
            if size > COPY_LIMIT:
                self.notify(
                    f"The output is {size / 1048576:.1f} MB, too big for the clipboard: "
                    "select lines with the mouse, or save it with s.",
                    severity="warning",
                )
                return
            text, what = "".join(self._text_chunks()), "output"
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the {what} ({len(text):,} characters) to the clipboard.")

    def action_external_pager(self) -> None:
        """Hand the output (sanitized, colours kept) to $PAGER and come back."""
        self._run_external_pager()

    @work(group="pager-external", exclusive=True, exit_on_error=False)
    async def _run_external_pager(self) -> None:
        chunks = self._text_chunks(colours=True)
        handle, name = tempfile.mkstemp(prefix="deploytop-", suffix=".log")
        path = Path(name)
        try:  # whatever happens (a failed write, a failed pager), the file goes

            def write() -> None:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    for chunk in chunks:
                        file.write(chunk)

            try:
                await asyncio.to_thread(write)
            except OSError as error:
                self.notify(
                    f"Could not write the output for $PAGER: {error}",
                    severity="error",
                    markup=False,
                )
                return
            try:
                await self.pager_runner(self.app, path)
            except SuspendNotSupported:
                self.notify("This terminal cannot be handed to $PAGER here.", severity="error")
            except PagerCommandError as error:
                self.notify(str(error), severity="error", title="$PAGER", markup=False)
            except OSError as error:
                pager = os.environ.get("PAGER") or "less -R"
                self.notify(f"Could not run {pager!r}: {error}", severity="error", markup=False)
        finally:
            path.unlink(missing_ok=True)
        self.view.refresh()

    _WORKER_TASKS: ClassVar[dict[str, str]] = {
        "pager-open": "Reading the output",
        "pager-search": "The search",
        "pager-errors": "Finding error lines",
        "pager-save": "Saving",
        "pager-external": "Showing the output in $PAGER",
    }

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any pager worker that fails unexpectedly: a notice, never the app's end."""
        worker = event.worker
        task = self._WORKER_TASKS.get(worker.group)
        if event.state is not WorkerState.ERROR or task is None:
            return
        event.stop()
        if worker.group == "pager-search":
            self._searching = False
            self._update_status()
        error = worker.error
        detail = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        self.notify(
            f"{task} failed: {sanitize_line(detail)}", severity="error", title="Pager", markup=False
        )
