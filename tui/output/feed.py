"""The client-side copy of step output: bytes, a line index, and rendered lines on demand.

One :class:`OutputHub` per app holds an :class:`OutputFeed` per step somebody looks at. The
app feeds every ``StepOutput`` / ``StepUpdated`` event to :meth:`OutputHub.dispatch`; a feed
applies an appended chunk only when its offset is exactly the feed's size (duplicates are
dropped, gaps are re-read from the backend by range). Widgets subscribe to a feed and render
only the lines they show.

Memory: a feed keeps the raw bytes (one ``bytearray``) and the start offset of every line
(``array('Q')``, 8 bytes a line): about 1.1x the output's size. Lines are decoded, sanitized
and parsed into ``rich.text.Text`` only when drawn, through an LRU cache.
"""

from __future__ import annotations

import asyncio
import re
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from rich.text import Text
from textual.cache import LRUCache

from backend_client.contract import Backend
from backend_client.errors import BackendError
from backend_client.events import (
    DeploymentCreated,
    DeploymentUpdated,
    StepOutput,
    StepUpdated,
    StreamItem,
)
from backend_client.models import Deployment, DeploymentStep
from backend_client.sanitize import (
    SGR_BYTES,
    advance_sgr_state,
    has_controls,
    sanitize_text,
    strip_sgr,
)

if TYPE_CHECKING:
    from .search import SearchQuery

__all__ = ["MAX_RENDER_BYTES", "OutputFeed", "OutputHub"]

READ_CHUNK = 4 * 1024 * 1024
"""Bytes asked per ``read_output`` call (the contract allows up to 16 MiB)."""
MAX_RENDER_BYTES = 16 * 1024
"""Lines longer than this are drawn clipped (search still sees the whole line)."""
SEARCH_BLOCK = 4 * 1024 * 1024

# Controls in UTF-8 bytes (what sanitize.has_controls finds in text): C1 controls are
# encoded as \xc2\x80..\xc2\x9f, so a \xc2 hit is checked by hand (a plain character
# class scans much faster than an alternation).
_DIRTY_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f\xc2]")


def _dirty_bytes(data: bytes) -> bool:
    search = _DIRTY_BYTES.search
    match = search(data)
    while match is not None:
        index = match.start()
        if data[index] != 0xC2:
            return True
        if index + 1 < len(data) and 0x80 <= data[index + 1] <= 0x9F:
            return True
        match = search(data, index + 1)
    return False


Listener = Callable[["OutputFeed"], None]
DeploymentListener = Callable[[Deployment | DeploymentStep], None]
"""Told a deployment's new snapshot, or one of its steps' (see :meth:`OutputHub.watch`)."""


class OutputFeed:
    """One step's output as the client knows it, growing as events arrive.

    Lines are split on ``\\n``; a last line without a newline yet (a progress bar being
    redrawn with ``\\r``) counts as a line and is redrawn as it grows.
    """

    def __init__(
        self,
        backend: Backend,
        deployment_id: str,
        step_id: str,
        *,
        read_chunk: int = READ_CHUNK,
        render_cache: int = 2048,
    ) -> None:
        self.backend = backend
        self.deployment_id = deployment_id
        self.step_id = step_id
        self._read_chunk = read_chunk
        self._buf = bytearray()
        self._starts = array("Q", [0])
        self._max_line_bytes = 0
        self._known_size = 0
        self._fill_task: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []
        self._texts: LRUCache[int, Text] = LRUCache(render_cache)
        self.finished = False
        """True once the step ended: the output will not grow."""
        self.truncated = False
        """True when the backend stopped storing this output (it grew past its limit)."""
        self.loaded = False
        """True once the output that existed when :meth:`load` ran has been read."""
        self.error: str | None = None
        """The last read failure, in one line (cleared by a successful read)."""
        self.version = 0
        """Bumped on every change; views compare it to know whether to redraw."""
        # Colour carried over line ends, as a terminal does: the SGR state at the start of a
        # line, stored only where it changes (line numbers, and ids into ``_states``).
        self._state_lines = array("q")
        self._state_ids = array("l")
        self._states: list[str] = [""]
        self._state_index: dict[str, int] = {"": 0}
        self._state = ""
        self._state_pos = 0  # bytes before this (whole lines) are scanned for colour
        self.live_lines = 0
        """Lines that arrived after the initial read (what "new lines" markers count)."""
        self.step: DeploymentStep | None = None
        """The latest step snapshot seen in events (status for headers), if any."""

    # -- state ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Bytes held, contiguous from offset 0."""
        return len(self._buf)

    @property
    def line_count(self) -> int:
        """Lines held; a trailing partial line counts, an empty one after ``\\n`` does not."""
        starts = self._starts
        return len(starts) if starts[-1] < len(self._buf) else len(starts) - 1

    @property
    def max_line_bytes(self) -> int:
        """Length of the longest line seen, in bytes (an upper bound on its width)."""
        return self._max_line_bytes

    @property
    def loading(self) -> bool:
        """True while bytes are being read from the backend."""
        return self._fill_task is not None and not self._fill_task.done()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(feed)`` after every change; returns a function that unsubscribes.

        Listeners run synchronously on the event loop: keep them cheap (mark dirty, batch).
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def watched(self) -> bool:
        return bool(self._listeners)

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener(self)

    # -- reading from the backend --------------------------------------------------------

    async def load(self) -> None:
        """Read the output that exists now (by ranges), then return. Safe to call again."""
        if self._fill_task is None or self._fill_task.done():
            if self.loaded and self._known_size <= self.size:
                return
            self._fill_task = asyncio.get_running_loop().create_task(self._fill())
        await asyncio.shield(self._fill_task)

    def _request_fill(self) -> None:
        """Make sure a read is running up to :attr:`_known_size` (no-op if one is)."""
        if self._fill_task is None or self._fill_task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # pragma: no cover - always called from the loop
                return
            self._fill_task = loop.create_task(self._fill())

    async def _fill(self) -> None:
        try:
            while True:
                offset = self.size
                chunk = await self.backend.read_output(
                    self.deployment_id, self.step_id, offset=offset, limit=self._read_chunk
                )
                self.error = None
                self._known_size = max(self._known_size, chunk.total_size)
                self.truncated = self.truncated or chunk.truncated
                self.finished = self.finished or chunk.complete
                if chunk.data:
                    self._append(chunk.offset, bytes(chunk.data))
                if not chunk.data or chunk.end >= self._known_size:
                    break
                self._changed()
                # Let the screen draw the first lines while the rest is read.
                await asyncio.sleep(0)
        except BackendError as error:
            self.error = f"could not read output: {error}"
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a broken transport must not take the screen down
            self.error = f"could not read output: {type(error).__name__}: {error}"
        finally:
            self.loaded = True
            self._changed()

    def stop(self) -> None:
        """Stop reading (the feed was evicted or the app is closing)."""
        if self._fill_task is not None and not self._fill_task.done():
            self._fill_task.cancel()

    # -- events --------------------------------------------------------------------------

    def apply_output(self, offset: int, data: bytes) -> None:
        """Apply bytes appended at ``offset``: dedupe what we have, re-read a gap."""
        end = offset + len(data)
        self._known_size = max(self._known_size, end)
        if end <= self.size:
            return  # already have it
        if offset > self.size:
            # A gap: read the missing range (a read in flight will reach it).
            self._request_fill()
            return
        self._append(offset, data)
        self._changed()

    def apply_step(self, step: DeploymentStep) -> None:
        """Apply a step's new status / size / truncation flag."""
        changed = self.step is None or self.step.status != step.status
        self.step = step
        if step.status.is_finished and not self.finished:
            self.finished = True
            changed = True
        if step.output_truncated and not self.truncated:
            self.truncated = True
            changed = True
        if step.output_size > self._known_size:
            self._known_size = step.output_size
        if self._known_size > self.size:
            self._request_fill()
        if changed:
            self._changed()

    def _append(self, offset: int, data: bytes) -> None:
        if offset < self.size:
            data = data[self.size - offset :]
        if not data:
            return
        lines_before = self.line_count
        base = len(self._buf)
        last_start = self._starts[-1]
        partial = self.line_count - 1 if last_start < base else -1
        self._buf += data
        parts = data.split(b"\n")
        # The first part continues the line that was open before.
        longest = base - last_start + len(parts[0])
        if len(parts) > 1:
            self._starts.extend(base + n for n in accumulate(len(part) + 1 for part in parts[:-1]))
            longest = max(longest, max(map(len, parts[1:])))
        self._max_line_bytes = max(self._max_line_bytes, longest)
        if self.loaded:
            self.live_lines += self.line_count - lines_before
        if partial >= 0:
            self._texts.discard(partial)
        if len(parts) > 1:
            self._scan_colours()

    def _scan_colours(self) -> None:
        """Track the colour state across the lines completed since the last scan."""
        end = self._starts[-1]  # start of the open line: everything before is whole lines
        start = self._state_pos
        if end <= start:
            return
        self._state_pos = end
        region = bytes(self._buf[start:end])
        if b"\x1b[" not in region:
            return
        state = self._state
        line_end_state: dict[int, str] = {}
        starts = self._starts
        for match in SGR_BYTES.finditer(region):
            state = advance_sgr_state(state, match.group().decode("ascii"))
            line = bisect_right(starts, start + match.start()) - 1
            line_end_state[line] = state
        self._state = state
        ids = self._state_ids
        for line, line_state in line_end_state.items():  # in line order
            current = self._states[ids[-1]] if ids else ""
            if line_state != current:
                self._state_lines.append(line + 1)
                ids.append(self._state_id(line_state))

    def _state_id(self, state: str) -> int:
        index = self._state_index.get(state)
        if index is None:
            index = self._state_index[state] = len(self._states)
            self._states.append(state)
        return index

    def colour_at(self, index: int) -> str:
        """The SGR sequences in effect at the start of line ``index`` (empty: none)."""
        position = bisect_right(self._state_lines, index) - 1
        return self._states[self._state_ids[position]] if position >= 0 else ""

    # -- lines ---------------------------------------------------------------------------

    def line_span(self, index: int) -> tuple[int, int]:
        """Byte range ``[start, end)`` of line ``index`` (without its newline)."""
        starts = self._starts
        start = starts[index]
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(self._buf)
        return start, end

    def line_bytes(self, index: int) -> bytes:
        """The raw bytes of line ``index``, as the backend sent them."""
        start, end = self.line_span(index)
        return bytes(self._buf[start:end])

    def line_of_offset(self, offset: int) -> int:
        """The line holding byte ``offset``."""
        return max(0, bisect_right(self._starts, offset) - 1)

    def line_text(self, index: int) -> Text:
        """Line ``index`` sanitized and parsed: colours kept, nothing else (cached)."""
        text = self._texts.get(index)
        if text is None:
            start, end = self.line_span(index)
            clipped = end - start > MAX_RENDER_BYTES
            raw = self._buf[start : min(end, start + MAX_RENDER_BYTES)].decode("utf-8", "replace")
            text = Text.from_ansi(self.colour_at(index) + sanitize_text(raw), end="", no_wrap=True)
            if "\t" in raw:
                text.expand_tabs(8)
            if clipped:
                text.append(" …", style="dim")
            self._texts[index] = text
        return text

    def plain_line(self, index: int) -> str:
        """Line ``index`` as plain text (what search and copy see)."""
        start, end = self.line_span(index)
        raw = self._buf[start:end].decode("utf-8", "replace")
        return strip_sgr(raw) if has_controls(raw) else raw

    def plain_blocks(
        self, start_line: int = 0, end_line: int | None = None, block: int = SEARCH_BLOCK
    ) -> Iterator[tuple[int, str]]:
        """Plain text of lines ``[start_line, end_line)`` in blocks of whole lines.

        Yields ``(first line, text)``; the lines of a block are joined by ``\\n`` (the number
        of newlines in a block is its line count minus one). Safe to run in a thread while
        the loop appends: it copies each block.
        """
        # Via the bytes path: colour is stripped faster from bytes than from text.
        for line, data in self.plain_byte_blocks(start_line, end_line, block):
            yield line, data.decode("utf-8", "replace")

    def plain_byte_blocks(
        self, start_line: int = 0, end_line: int | None = None, block: int = SEARCH_BLOCK
    ) -> Iterator[tuple[int, bytes]]:
        """Like :meth:`plain_blocks`, as UTF-8 bytes: faster for ASCII searches.

        A block with nothing but colour sequences is stripped with a bytes pattern; a block
        with anything else is decoded and sanitized (same result as :meth:`plain_blocks`).
        """
        for line, start, end in self._block_spans(start_line, end_line, block):
            # A slice, not a memoryview: an exported buffer would make appends fail while a
            # search thread holds it.
            raw = bytes(self._buf[start:end])
            if _dirty_bytes(raw):
                raw = SGR_BYTES.sub(b"", raw)
                if _dirty_bytes(raw):
                    raw = strip_sgr(raw.decode("utf-8", "replace")).encode("utf-8")
            yield line, raw

    def plain_text(self, start_line: int = 0, end_line: int | None = None) -> str:
        """Plain text of a range of lines, joined by newlines."""
        return "\n".join(text for _, text in self.plain_blocks(start_line, end_line))

    def sgr_blocks(self, block: int = SEARCH_BLOCK) -> Iterator[str]:
        """The whole output sanitized with colours kept, in blocks of whole lines, each
        ending with a newline (for ``$PAGER``). Safe to run in a thread."""
        for _, text in self._line_blocks(0, None, block, colours=True):
            yield text + "\n"

    def _line_blocks(
        self, start_line: int, end_line: int | None, block: int, *, colours: bool
    ) -> Iterator[tuple[int, str]]:
        for line, start, end in self._block_spans(start_line, end_line, block):
            raw = self._buf[start:end].decode("utf-8", "replace")
            if has_controls(raw):
                raw = sanitize_text(raw) if colours else strip_sgr(raw)
            yield line, raw

    def _block_spans(
        self, start_line: int, end_line: int | None, block: int
    ) -> Iterator[tuple[int, int, int]]:
        """``(first line, start byte, end byte)`` of blocks of about ``block`` bytes of whole
        lines (at least one line each) covering lines ``[start_line, end_line)``."""
        last = self.line_count if end_line is None else min(end_line, self.line_count)
        line = start_line
        starts = self._starts
        while line < last:
            start = starts[line]
            stop = max(line + 1, min(last, bisect_right(starts, start + block, lo=line) - 1))
            _, end = self.line_span(stop - 1)
            yield line, start, end
            line = stop


class OutputHub:
    """Every output feed of the app, fed from the app's single event stream.

    Args:
        backend: Where output is read from by range.
        max_feeds: How many feeds to keep; the least recently used unwatched one goes first.
        max_bytes: Total bytes to keep across unwatched feeds.
    """

    def __init__(
        self, backend: Backend, *, max_feeds: int = 16, max_bytes: int = 512 * 1024 * 1024
    ) -> None:
        self.backend = backend
        self.max_feeds = max_feeds
        self.max_bytes = max_bytes
        self._feeds: OrderedDict[tuple[str, str], OutputFeed] = OrderedDict()
        self._watchers: dict[str, list[DeploymentListener]] = {}
        self.last_search: SearchQuery | None = None
        """The pager's last search, remembered for the next pager opened in this session."""

    def feed(self, deployment_id: str, step_id: str) -> OutputFeed:
        """The feed of one step (created on first use; starts reading in the background)."""
        key = (deployment_id, step_id)
        feed = self._feeds.get(key)
        if feed is None:
            feed = OutputFeed(self.backend, deployment_id, step_id)
            self._feeds[key] = feed
            self._evict()
            feed._request_fill()
        else:
            self._feeds.move_to_end(key)
        return feed

    def get(self, deployment_id: str, step_id: str) -> OutputFeed | None:
        """The feed of a step if the hub holds one (does not create it)."""
        return self._feeds.get((deployment_id, step_id))

    def __len__(self) -> int:
        return len(self._feeds)

    def watch(self, deployment_id: str, listener: DeploymentListener) -> Callable[[], None]:
        """Call ``listener`` with every snapshot of a deployment, or of any of its steps,
        the stream brings (whether or not a feed holds that step's output).

        Returns:
            A function that stops the calls.
        """
        listeners = self._watchers.setdefault(deployment_id, [])
        listeners.append(listener)

        def unwatch() -> None:
            if listener in listeners:
                listeners.remove(listener)
            if not listeners and self._watchers.get(deployment_id) is listeners:
                del self._watchers[deployment_id]

        return unwatch

    def _tell(self, deployment_id: str, snapshot: Deployment | DeploymentStep) -> None:
        for listener in list(self._watchers.get(deployment_id, ())):
            listener(snapshot)

    def dispatch(self, event: StreamItem) -> None:
        """Apply one item of the app's event stream: output to feeds, step and deployment
        snapshots to watchers (anything else is ignored)."""
        if isinstance(event, StepOutput):
            feed = self._feeds.get((event.deployment_id, event.step_id))
            if feed is not None:
                feed.apply_output(event.offset, event.data.encode("utf-8"))
        elif isinstance(event, StepUpdated):
            feed = self._feeds.get((event.deployment_id, event.step.id))
            if feed is not None:
                feed.apply_step(event.step)
            self._tell(event.deployment_id, event.step)
        elif isinstance(event, DeploymentCreated | DeploymentUpdated):
            self._tell(event.deployment.id, event.deployment)

    def _evict(self) -> None:
        total = sum(feed.size for feed in self._feeds.values())
        for key in list(self._feeds):
            if len(self._feeds) <= self.max_feeds and total <= self.max_bytes:
                break
            feed = self._feeds[key]
            if feed.watched:
                continue
            total -= feed.size
            feed.stop()
            del self._feeds[key]

    def close(self) -> None:
        """Stop every read in flight and forget every feed."""
        for feed in self._feeds.values():
            feed.stop()
        self._feeds.clear()
