"""How times, durations and statuses read on screen. Plain Python; the clock is passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend_client.models import DeploymentStatus, StepStatus

__all__ = [
    "GLYPHS",
    "NOT_RUN",
    "absolute_time",
    "duration_text",
    "relative_time",
    "status_glyph",
    "step_display_status",
]

GLYPHS: dict[str, str] = {
    "queued": "○",
    "running": "◐",
    "completed": "✔",
    "failed": "✘",
    "cancelled": "⊘",
    "skipped": "↷",
    "not run": "\u2013",  # an en dash: "did not happen"
}
"""A glyph per status value (deployment and step statuses share names)."""


def status_glyph(status: DeploymentStatus | StepStatus) -> str:
    """The glyph shown before a status word."""
    return GLYPHS.get(status.value, "?")


NOT_RUN = "not run"
"""What a step that never ran reads as (see :func:`step_display_status`)."""


def step_display_status(deployment_status: DeploymentStatus, step_status: StepStatus) -> str:
    """The status word shown for a step.

    A step of a finished deployment that is still ``queued`` never ran (an earlier step failed,
    or the deployment was cancelled) — the record keeps it Queued by spec, but "queued" would
    read as "about to run", so it shows as ``"not run"``. Otherwise the step's own status value.
    """
    if step_status is StepStatus.QUEUED and deployment_status.is_finished:
        return NOT_RUN
    return step_status.value


def duration_text(delta: timedelta | None) -> str:
    """``"7s"``, ``"1m05s"``, ``"2h03m"``; ``"—"`` when unknown."""
    if delta is None:
        return "—"
    total = int(delta.total_seconds())
    if total < 60:
        return f"{total}s"
    minutes, seconds = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def relative_time(when: datetime | None, now: datetime) -> str:
    """``"just now"``, ``"42s ago"``, ``"5m ago"``, ``"3h ago"``, ``"2d ago"``, then a date."""
    if when is None:
        return "—"
    seconds = int((now - when).total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    if seconds < 14 * 86400:
        return f"{seconds // 86400}d ago"
    return when.strftime("%b %d")


def absolute_time(when: datetime | None) -> str:
    """``"2026-11-26 12:00:05 UTC"`` or ``"—"``."""
    if when is None:
        return "—"
    if when.tzinfo is not None:
        when = when.astimezone(UTC)  # a backend may answer in another zone
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
