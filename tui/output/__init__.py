"""Step output: the client-side output buffer, the live output widget and the pager.

The app creates one :class:`OutputHub`, feeds it every ``StepOutput`` / ``StepUpdated`` event
(:meth:`OutputHub.dispatch`), shows a step in an :class:`OutputView` with
``view.set_feed(hub.feed(deployment_id, step_id))`` and opens the pager with
``PagerScreen(hub, deployment, step_id=..., failed_only=...)``.
"""

from .feed import OutputFeed, OutputHub
from .pager import PagerScreen
from .text import safe_label, safe_text
from .view import OutputView

__all__ = ["OutputFeed", "OutputHub", "OutputView", "PagerScreen", "safe_label", "safe_text"]
