"""How a pipeline is declared: an ordered list of named steps, each with a job.

A job is an async function that receives a :class:`JobContext`: the whole deployment, its
``meta`` (where the job reads its inputs), a seeded random generator, and ways to write
output, take time, fail or skip. Jobs never touch the store directly; the engine turns what
they do into step status changes and output events.

The same job runs live (``work`` sleeps on the engine's clock, compressed by its speed) and
when seeding history (``work`` only advances a virtual clock), so seeded and live
deployments print the same kind of output.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .errors import InvalidRequest
from .models import Deployment, Site

__all__ = [
    "Job",
    "JobContext",
    "PipelineRegistry",
    "PipelineSpec",
    "StepFailed",
    "StepSkipped",
    "StepSpec",
]


class StepFailed(Exception):
    """Raised by a job (through :meth:`JobContext.fail`) to fail its step."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StepSkipped(Exception):
    """Raised by a job (through :meth:`JobContext.skip`) to end its step as Skipped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobContext(ABC):
    """What a step's job may use."""

    deployment: Deployment
    """The deployment as it was when the step started."""
    step_name: str
    rng: random.Random
    """Seeded per deployment: the same seed gives the same output."""

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.deployment.meta

    @abstractmethod
    def log(self, text: str) -> None:
        """Append ``text`` to the step's output as is (add the newline yourself).

        May contain SGR colours and carriage returns, as real tools print.
        """

    def line(self, text: str = "") -> None:
        """Append one line."""
        self.log(text + "\n")

    @abstractmethod
    async def work(self, seconds: float) -> None:
        """Take ``seconds`` of pipeline time (compressed by the engine's speed)."""

    def fail(self, message: str) -> NoReturn:
        """Write ``message`` to the output and fail the step."""
        raise StepFailed(message)

    def skip(self, reason: str) -> NoReturn:
        """End the step as Skipped, writing ``reason`` to the output."""
        raise StepSkipped(reason)

    def require(self, key: str) -> Any:
        """``meta[key]``, or fail the step saying the deployment lacks it."""
        value = self.meta.get(key)
        if value is None or value == "":
            self.fail(
                f"Error: this {self.deployment.type} deployment has no '{key}' in its meta; "
                f"step '{self.step_name}' cannot run without it."
            )
        return value


Job = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class StepSpec:
    """One step of a pipeline."""

    name: str
    job: Job
    failure: str = "Error: the step failed."
    """The realistic error output this step prints when it fails (by chance, or when a test
    forces it with ``meta["simulate"]["fail_step"]``)."""
    applies: Callable[[Mapping[str, Any]], bool] | None = None
    """Conditional steps: when this returns False for the deployment's meta, the step ends
    Skipped without running. ``None`` means it always runs."""
    skip_reason: str = "Not selected for this deployment."


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline type: its steps, how its runs are named, and demo inputs."""

    type: str
    title: str
    """Human name of the pipeline, e.g. "Clone site"."""
    steps: tuple[StepSpec, ...]
    operation_name: Callable[[Mapping[str, Any], Site], str]
    """Names one run, e.g. "Clone shop.example.com → shop-copy.example.com"."""
    demo_meta: Callable[[random.Random, Site, list[Site]], dict[str, Any]] = field(
        default=lambda rng, site, sites: {}
    )
    """Realistic meta for demo traffic and seeded history on ``site``."""
    weight: float = 1.0
    """How often demo traffic picks this pipeline, relative to others."""


class PipelineRegistry:
    """Pipelines by type."""

    def __init__(self, pipelines: list[PipelineSpec] | None = None) -> None:
        self._pipelines: dict[str, PipelineSpec] = {}
        for spec in pipelines or []:
            self.register(spec)

    def register(self, spec: PipelineSpec) -> None:
        if spec.type in self._pipelines:
            raise ValueError(f"pipeline {spec.type!r} is already registered")
        if not spec.steps:
            raise ValueError(f"pipeline {spec.type!r} has no steps")
        self._pipelines[spec.type] = spec

    def get(self, type: str) -> PipelineSpec:
        try:
            return self._pipelines[type]
        except KeyError:
            known = ", ".join(sorted(self._pipelines))
            raise InvalidRequest(f"unknown pipeline type {type!r} (known: {known})") from None

    def __contains__(self, type: object) -> bool:
        return type in self._pipelines

    @property
    def types(self) -> list[str]:
        return list(self._pipelines)

    def specs(self) -> list[PipelineSpec]:
        return list(self._pipelines.values())
