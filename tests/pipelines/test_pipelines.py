"""The bundled pipeline catalogue, its jobs driven without the engine.

A recording :class:`JobContext` runs each job to completion: ``work`` only adds to a virtual
clock, ``log`` collects the output, so every pipeline runs in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from backend_client.models import PIPELINE_TYPES, Deployment, DeploymentStatus, Site
from backend_client.pipeline import JobContext, PipelineSpec, StepFailed, StepSkipped, StepSpec
from backend_client.pipelines import default_registry

REGISTRY = default_registry()

EXPECTED_STEPS: dict[str, list[str]] = {
    "create_site": [
        "Create site on Forge", "Create database & user", "Install WordPress",
        "Issue SSL & finalize",
    ],
    "clone_site": [
        "Create target site", "Create database & user", "Export source database", "Copy files",
        "Import database", "Configure wp-config", "Search-replace URLs",
        "Flush caches & health check",
    ],
    "create_staging": [
        "Create staging database & user", "Copy site files", "Configure WordPress",
        "Clone database", "Apply protections", "Enable basic auth & finalize",
    ],
    "push_staging": [
        "Backup production", "Sync files", "Sync database", "Rewrite URLs & flush caches",
        "Clean up",
    ],
    "restore_backup": [
        "Pre-restore backup", "Restore database", "Download file backup", "Apply files",
        "Clean up",
    ],
    "create_time_capsule": [
        "Database export", "Manifest collection", "File archive", "Finalize",
    ],
    "restore_time_capsule": [
        "Pre-restore backup", "Download capsule chain", "Restore database", "Restore files",
        "Rewrite URLs", "Clean up",
    ],
    "delete_site": [
        "Final safety backup", "Remove staging environments", "Delete database & user",
        "Delete site on Forge", "Clean up records",
    ],
}  # fmt: skip
STEP_COUNTS = {"refresh_staging": 5, "backup_site": 4, "create_snapshot": 1,
               "restore_snapshot": 1}  # fmt: skip

SITE = Site(id="site_shop", team_id="team_1", domain="shop.example.com", server="forge-eu-1")
OTHER = Site(id="site_blog", team_id="team_1", domain="blog.example.org", server="forge-us-2")
SITES = [SITE, OTHER]


class RecordingContext(JobContext):
    """Runs a job without the engine: output collected, time only counted."""

    def __init__(self, deployment: Deployment, step_name: str, seed: int) -> None:
        self.deployment = deployment
        self.step_name = step_name
        self.rng = random.Random(seed)
        self.output: list[str] = []
        self.seconds = 0.0

    def log(self, text: str) -> None:
        self.output.append(text)

    async def work(self, seconds: float) -> None:
        assert seconds >= 0
        self.seconds += seconds

    @property
    def text(self) -> str:
        return "".join(self.output)


def make_deployment(type: str, meta: dict[str, Any], site: Site = SITE) -> Deployment:
    spec = REGISTRY.get(type)
    return Deployment(
        id="01JDQ5X0000000000000000ABC",
        team_id=site.team_id,
        user_id="user_1",
        site_id=site.id,
        type=type,
        status=DeploymentStatus.RUNNING,
        operation_name=spec.operation_name(meta, site),
        meta=meta,
        created_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        site_domain=site.domain,
    )


class Run:
    """Outcome of running one step's job."""

    def __init__(self, ctx: RecordingContext, outcome: str, message: str = "") -> None:
        self.ctx = ctx
        self.outcome = outcome  # "completed", "failed", "skipped"
        self.message = message

    @property
    def text(self) -> str:
        return self.ctx.text


def run_step(step: StepSpec, deployment: Deployment, seed: int = 1) -> Run:
    ctx = RecordingContext(deployment, step.name, seed)

    async def drive() -> None:
        await step.job(ctx)

    try:
        asyncio.run(drive())
    except StepFailed as exc:
        return Run(ctx, "failed", exc.message)
    except StepSkipped as exc:
        return Run(ctx, "skipped", exc.reason)
    return Run(ctx, "completed")


def run_pipeline(type: str, meta: dict[str, Any], seed: int = 1) -> dict[str, Run]:
    """Run every applicable step like the engine would (stop at the first failure)."""
    spec = REGISTRY.get(type)
    deployment = make_deployment(type, meta)
    runs: dict[str, Run] = {}
    for step in spec.steps:
        if step.applies is not None and not step.applies(meta):
            continue
        run = run_step(step, deployment, seed)
        runs[step.name] = run
        if run.outcome == "failed":
            break
    return runs


def demo_meta(type: str, seed: int = 3) -> dict[str, Any]:
    return REGISTRY.get(type).demo_meta(random.Random(seed), SITE, SITES)


# --------------------------------------------------------------------------- catalogue


def test_every_pipeline_type_is_registered_in_order() -> None:
    assert REGISTRY.types == list(PIPELINE_TYPES)


@pytest.mark.parametrize("type", sorted(EXPECTED_STEPS))
def test_step_names_match_the_issue(type: str) -> None:
    assert [s.name for s in REGISTRY.get(type).steps] == EXPECTED_STEPS[type]


@pytest.mark.parametrize("type", sorted(STEP_COUNTS))
def test_step_counts(type: str) -> None:
    assert len(REGISTRY.get(type).steps) == STEP_COUNTS[type]


def test_refresh_staging_goes_production_to_staging() -> None:
    names = [s.name for s in REGISTRY.get("refresh_staging").steps]
    assert "Sync files from production" in names
    assert "Clone production database" in names


def test_every_step_has_a_realistic_multiline_failure() -> None:
    for spec in REGISTRY.specs():
        for step in spec.steps:
            assert step.failure.strip(), (spec.type, step.name)
            assert step.failure != "Error: the step failed.", (spec.type, step.name)
            assert "\n" in step.failure.strip(), (spec.type, step.name)


def test_failure_texts_quote_real_tools() -> None:
    failures = "\n".join(s.failure for spec in REGISTRY.specs() for s in spec.steps)
    for needle in (
        "rsync error: some files/attrs were not transferred (see previous errors) (code 23)",
        "ERROR 2006 (HY000) at line 1734: MySQL server has gone away",
        "Forge API 422: The name has already been taken.",
        "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        "Error: Error establishing a database connection.",
        "too many certificates (5) already issued",
    ):
        assert needle in failures


def test_demo_traffic_is_mostly_backups_and_pushes() -> None:
    weights = {spec.type: spec.weight for spec in REGISTRY.specs()}
    total = sum(weights.values())
    assert (weights["backup_site"] + weights["push_staging"]) / total > 0.45
    assert weights["delete_site"] == min(weights.values())
    assert weights["delete_site"] / total < 0.01


def test_registry_is_fresh_each_call() -> None:
    assert default_registry() is not REGISTRY
    assert default_registry().types == REGISTRY.types


# --------------------------------------------------------------------------- names and meta


def test_operation_names() -> None:
    clone = demo_meta("clone_site")
    assert REGISTRY.get("clone_site").operation_name(clone, SITE) == (
        "Clone blog.example.org → shop.example.com"
    )
    assert REGISTRY.get("create_staging").operation_name({}, SITE) == (
        "Create staging for shop.example.com"
    )
    restore = {"backup_id": "bkp_1", "backup_created_at": "2026-11-20T03:00:00Z"}
    assert REGISTRY.get("restore_backup").operation_name(restore, SITE) == (
        "Restore backup 2026-11-20 03:00 to shop.example.com"
    )
    push = {"staging_id": "stg_1", "include_files": True, "include_database": True}
    assert REGISTRY.get("push_staging").operation_name(push, SITE) == (
        "Push staging stg_1 to shop.example.com (files + database)"
    )


def test_operation_names_of_restores() -> None:
    capsule = {"capsule_id": "cap_1", "source_site_id": OTHER.id, "source_domain": OTHER.domain}
    assert REGISTRY.get("restore_time_capsule").operation_name(capsule, SITE) == (
        "Restore time capsule cap_1 from blog.example.org to shop.example.com"
    )
    same = {"capsule_id": "cap_1", "source_domain": SITE.domain}
    assert REGISTRY.get("restore_time_capsule").operation_name(same, SITE) == (
        "Restore time capsule cap_1 to shop.example.com"
    )
    database = {"backup_id": "bkp_1", "scope": "database"}
    assert REGISTRY.get("restore_backup").operation_name(database, SITE) == (
        "Restore backup bkp_1 to shop.example.com (database only)"
    )
    # a clone triggered with only the source's id still gets a readable name
    assert REGISTRY.get("clone_site").operation_name({"source_site_id": "site_9"}, SITE) == (
        "Clone site_9 → shop.example.com"
    )


@pytest.mark.parametrize("type", PIPELINE_TYPES)
def test_operation_name_survives_empty_meta(type: str) -> None:
    name = REGISTRY.get(type).operation_name({}, SITE)
    assert SITE.domain in name


def test_demo_meta_ids_and_sources() -> None:
    assert demo_meta("create_staging")["staging_id"].startswith("stg_")
    assert demo_meta("push_staging")["staging_id"].startswith("stg_")
    assert demo_meta("restore_backup")["backup_id"].startswith("bkp_")
    assert demo_meta("create_time_capsule")["capsule_id"].startswith("cap_")
    assert demo_meta("restore_time_capsule")["capsule_id"].startswith("cap_")
    assert demo_meta("restore_snapshot")["snapshot_id"].startswith("snap_")
    clone = demo_meta("clone_site")
    assert clone["source_site_id"] == OTHER.id
    assert clone["source_domain"] == OTHER.domain
    assert clone["source_server"] == OTHER.server
    for seed in range(30):
        assert demo_meta("restore_backup", seed)["scope"] in ("full", "database")
        assert demo_meta("create_time_capsule", seed)["mode"] in ("full", "incremental")


def test_clone_demo_with_a_single_site_still_has_a_source() -> None:
    meta = REGISTRY.get("clone_site").demo_meta(random.Random(1), SITE, [SITE])
    assert meta["source_domain"] == SITE.domain


# --------------------------------------------------------------------------- jobs


@pytest.mark.parametrize("type", PIPELINE_TYPES)
def test_every_job_completes_with_demo_meta(type: str) -> None:
    spec: PipelineSpec = REGISTRY.get(type)
    for seed in (1, 2):
        meta = demo_meta(type, seed)
        runs = run_pipeline(type, meta, seed)
        total = 0.0
        for name, run in runs.items():
            assert run.outcome in ("completed", "skipped"), (name, run.message)
            if run.outcome == "completed":
                lines = run.text.count("\n")
                assert 3 <= lines <= 400, (name, lines)
                assert 1.5 <= run.ctx.seconds <= 150, (name, run.ctx.seconds)
            total += run.ctx.seconds
        assert 10 <= total <= 400, (type, total)
        assert set(runs) <= {s.name for s in spec.steps}


@pytest.mark.parametrize(
    ("type", "key"),
    [
        ("clone_site", "source_site_id"),
        ("clone_site", "source_domain"),
        ("clone_site", "source_server"),
        ("create_staging", "staging_id"),
        ("push_staging", "staging_id"),
        ("refresh_staging", "staging_id"),
        ("restore_backup", "backup_id"),
        ("restore_snapshot", "snapshot_id"),
        ("create_time_capsule", "capsule_id"),
        ("restore_time_capsule", "capsule_id"),
    ],
)
def test_missing_required_meta_fails_naming_the_key(type: str, key: str) -> None:
    meta = demo_meta(type)
    del meta[key]
    runs = run_pipeline(type, meta)
    failed = [r for r in runs.values() if r.outcome == "failed"]
    assert failed, f"{type} ran without {key}"
    assert f"'{key}'" in failed[0].message
    assert type in failed[0].message


def test_incremental_capsule_needs_its_base() -> None:
    meta = {"capsule_id": "cap_1", "mode": "incremental"}
    runs = run_pipeline("create_time_capsule", meta)
    assert runs["Manifest collection"].outcome == "failed"
    assert "'base_capsule_id'" in runs["Manifest collection"].message


@pytest.mark.parametrize(
    ("type", "meta", "key"),
    [
        ("restore_backup", {"backup_id": "bkp_1", "scope": "everything"}, "scope"),
        ("create_time_capsule", {"capsule_id": "cap_1", "mode": "weekly"}, "mode"),
    ],
)
def test_bad_choice_fails_clearly(type: str, meta: dict[str, Any], key: str) -> None:
    runs = run_pipeline(type, meta)
    (failed,) = [r for r in runs.values() if r.outcome == "failed"]
    assert repr(meta[key]) in failed.message
    assert "expected" in failed.message


def _applies(type: str, step: str, meta: dict[str, Any]) -> bool:
    spec = next(s for s in REGISTRY.get(type).steps if s.name == step)
    return spec.applies is None or spec.applies(meta)


def test_push_staging_conditional_steps() -> None:
    base = {"staging_id": "stg_1"}
    assert not _applies("push_staging", "Sync files", base)
    assert not _applies("push_staging", "Sync database", base)
    assert _applies("push_staging", "Sync files", base | {"include_files": True})
    assert not _applies("push_staging", "Sync files", base | {"include_database": True})
    assert _applies("push_staging", "Sync database", base | {"include_database": True})
    assert not _applies("push_staging", "Sync database", base | {"include_files": True})
    for name in ("Backup production", "Rewrite URLs & flush caches", "Clean up"):
        assert _applies("push_staging", name, base)
    skip = next(s for s in REGISTRY.get("push_staging").steps if s.name == "Sync files")
    assert "not selected" in skip.skip_reason


def test_restore_backup_database_only_skips_files() -> None:
    for step in ("Download file backup", "Apply files"):
        assert not _applies("restore_backup", step, {"backup_id": "b", "scope": "database"})
        assert _applies("restore_backup", step, {"backup_id": "b", "scope": "full"})
        assert _applies("restore_backup", step, {"backup_id": "b"})
    runs = run_pipeline("restore_backup", {"backup_id": "bkp_1", "scope": "database"})
    assert list(runs) == ["Pre-restore backup", "Restore database", "Clean up"]
    assert all(r.outcome == "completed" for r in runs.values())


def test_restore_time_capsule_rewrites_urls_only_for_another_site() -> None:
    step = next(s for s in REGISTRY.get("restore_time_capsule").steps if s.name == "Rewrite URLs")
    assert step.applies is not None
    assert not step.applies({"capsule_id": "cap_1"})
    assert not step.applies({"capsule_id": "cap_1", "source_site_id": SITE.id,
                             "target_site_id": SITE.id})  # fmt: skip
    assert step.applies({"capsule_id": "cap_1", "source_site_id": OTHER.id})
    # applies sees only meta; the job skips itself when the source is the deployment's site
    same = {"capsule_id": "cap_1", "source_site_id": SITE.id}
    assert step.applies(same)
    run = run_step(step, make_deployment("restore_time_capsule", same))
    assert run.outcome == "skipped"
    other = {"capsule_id": "cap_1", "source_site_id": OTHER.id, "source_domain": OTHER.domain}
    run = run_step(step, make_deployment("restore_time_capsule", other))
    assert run.outcome == "completed"
    assert "search-replace 'https://blog.example.org' 'https://shop.example.com'" in run.text


def test_backup_site_database_scope_skips_archive() -> None:
    runs = run_pipeline("backup_site", {"backup_id": "bkp_1", "scope": "database"})
    assert "Archive files" not in runs
    assert "files.tar.gz" not in runs["Upload to S3"].text
    runs = run_pipeline("backup_site", {"backup_id": "bkp_1", "scope": "full"})
    assert "s3://deploytop-backups/shop.example.com/bkp_1/files.tar.gz" in runs["Upload to S3"].text


def test_same_seed_same_output_other_seed_other_output() -> None:
    for type in PIPELINE_TYPES:
        meta = demo_meta(type)
        a = {n: r.text for n, r in run_pipeline(type, meta, seed=5).items()}
        b = {n: r.text for n, r in run_pipeline(type, meta, seed=5).items()}
        c = {n: r.text for n, r in run_pipeline(type, meta, seed=6).items()}
        assert a == b, type
        assert a != c, type


def test_jobs_mention_their_inputs() -> None:
    meta = demo_meta("clone_site")
    runs = run_pipeline("clone_site", meta)
    assert OTHER.domain in runs["Create target site"].text
    assert f"forge@{OTHER.server}:/home/forge/{OTHER.domain}/" in runs["Copy files"].text
    staging = demo_meta("create_staging")
    runs = run_pipeline("create_staging", staging)
    assert staging["staging_id"] in runs["Create staging database & user"].text
    assert staging["staging_domain"] in runs["Enable basic auth & finalize"].text
    capsule = {"capsule_id": "cap_9", "mode": "incremental", "base_capsule_id": "cap_8"}
    runs = run_pipeline("create_time_capsule", capsule)
    assert "changed since cap_8" in runs["Manifest collection"].text
    assert "--files-from=" in runs["File archive"].text
    assert "cap_8 ← cap_9" in runs["Finalize"].text


# --------------------------------------------------------------------------- realistic output


def _all_output(seed: int = 1) -> str:
    return "".join(
        run.text
        for type in PIPELINE_TYPES
        for run in run_pipeline(type, demo_meta(type, seed), seed).values()
    )


def test_outputs_contain_real_tool_lines() -> None:
    text = _all_output()
    for needle in (
        "sending incremental file list",
        "\x1b[32mSuccess:\x1b[0m ",
        "-- Retrieving table structure for table wp_posts...",
        "POST https://forge.laravel.com/api/v1/servers/",
        " → 200",
        "upload: /tmp/",
        " to s3://deploytop-backups/",
        "download: s3://deploytop-backups/",
        "$ curl -sS",
        "Successfully received certificate.",
        "speedup is",
        "Made ",
    ):
        assert needle in text, needle


def test_rsync_progress_uses_carriage_returns() -> None:
    runs = run_pipeline("clone_site", demo_meta("clone_site"))
    text = runs["Copy files"].text
    assert "\r" in text
    progress = [chunk for chunk in text.split("\n") if "xfr#" in chunk]
    assert progress
    last = progress[-1].split("\r")[-1]
    assert " 100% " in last and "MB/s" in last and "to-chk=0/" in last
    # a long file list, as rsync -v prints it
    assert text.count("wp-content/") >= 60


def test_output_lines_are_modest() -> None:
    for type in PIPELINE_TYPES:
        for name, run in run_pipeline(type, demo_meta(type)).items():
            for line in run.text.split("\n"):
                for part in line.split("\r"):
                    assert len(part) <= 200, (type, name, part)
