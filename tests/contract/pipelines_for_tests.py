"""Small pipelines with known timings, so contract tests can move a fake clock precisely."""

from __future__ import annotations

from backend_client.pipeline import JobContext, PipelineRegistry, PipelineSpec, StepSpec

STEP_SECONDS = 10.0
"""Every test step does two units of work of half this each."""


def _job(label: str):  # type: ignore[no-untyped-def]
    async def job(ctx: JobContext) -> None:
        ctx.line(f"{label}: starting for {ctx.deployment.site_domain}")
        await ctx.work(STEP_SECONDS / 2)
        ctx.line(f"{label}: half way")
        await ctx.work(STEP_SECONDS / 2)
        ctx.line(f"{label}: done")

    return job


async def _needs_source(ctx: JobContext) -> None:
    source = ctx.require("source_site_id")
    ctx.line(f"copying from {source}")
    await ctx.work(STEP_SECONDS)


BIG_CHUNK = ("x" * 1023 + "\n") * 1024  # 1 MiB of 1 KiB lines


def big_output_pipeline(megabytes: int) -> PipelineSpec:
    async def write_big(ctx: JobContext) -> None:
        for _ in range(megabytes):
            ctx.log(BIG_CHUNK)
        await ctx.work(1)

    return PipelineSpec(
        type="big_output",
        title="Big output",
        steps=(StepSpec("Write a lot", write_big),),
        operation_name=lambda meta, site: f"Write {megabytes} MB on {site.domain}",
    )


def registry() -> PipelineRegistry:
    return PipelineRegistry(
        [
            PipelineSpec(
                type="three_steps",
                title="Three steps",
                steps=(
                    StepSpec("Prepare", _job("prepare"), failure="prepare blew up"),
                    StepSpec("Copy files", _job("copy"), failure="rsync error: (code 23)"),
                    StepSpec("Finish", _job("finish"), failure="finish failed"),
                ),
                operation_name=lambda meta, site: f"Three steps on {site.domain}",
            ),
            PipelineSpec(
                type="conditional",
                title="Conditional",
                steps=(
                    StepSpec("Always", _job("always")),
                    StepSpec(
                        "Only with files",
                        _job("files"),
                        applies=lambda meta: bool(meta.get("include_files")),
                        skip_reason="files were not selected",
                    ),
                    StepSpec("Also always", _job("also")),
                ),
                operation_name=lambda meta, site: f"Conditional on {site.domain}",
            ),
            PipelineSpec(
                type="needs_meta",
                title="Needs meta",
                steps=(StepSpec("Copy from source", _needs_source),),
                operation_name=lambda meta, site: f"Needs meta on {site.domain}",
            ),
            big_output_pipeline(100),
        ]
    )
