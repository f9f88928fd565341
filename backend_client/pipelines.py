"""The bundled pipeline catalogue: every pipeline type the in-memory engine can run.

Each pipeline is an ordered list of named steps whose jobs read their inputs from the
deployment's ``meta`` and print what real tools print while doing the work: Forge API calls,
rsync with carriage-return progress, wp-cli with SGR colours, mysqldump ``--verbose``, pv,
``aws s3 cp`` and curl health checks. The output generators are shared helpers at the top of
the module; the pipelines below are compositions of them.

All randomness comes from ``ctx.rng`` (seeded per deployment by the engine) or from the site's
domain (so one site keeps the same size across steps and runs): the same seed prints the same
output.

Meta each pipeline reads (required keys fail their step with a message naming the key;
every pipeline also reads an optional ``server``, the site's server name):

============================  ==============================================================
create_site                   optional: ``php_version``, ``wp_version``, ``title``,
                              ``admin_email``, ``plugins``, ``server``
clone_site                    ``source_site_id``, ``source_domain``, ``source_server``
create_staging                ``staging_id``; optional ``staging_domain``
push_staging                  ``staging_id``; ``include_files``, ``include_database`` (bool)
refresh_staging               ``staging_id``; optional ``staging_domain``
backup_site                   optional ``backup_id``, ``scope`` (``full`` | ``database``),
                              ``kind`` (e.g. ``scheduled``)
restore_backup                ``backup_id``; ``scope`` (``full`` | ``database``); optional
                              ``backup_created_at`` (ISO time, shown in the name)
create_snapshot               optional ``snapshot_id``, ``label``
restore_snapshot              ``snapshot_id``
create_time_capsule           ``capsule_id``; ``mode`` (``full`` | ``incremental``),
                              ``base_capsule_id`` when incremental
restore_time_capsule          ``capsule_id``; optional ``chain`` (oldest first),
                              ``source_site_id``, ``source_domain``, ``target_site_id``
                              (URLs are rewritten only when the capsule is another site's)
delete_site                   optional ``staging_ids``
============================  ==============================================================
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .models import Site
from .pipeline import Job, JobContext, PipelineRegistry, PipelineSpec, StepSpec

__all__ = ["default_registry"]

GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"

FORGE_API = "https://forge.laravel.com/api/v1"
DO_API = "https://api.digitalocean.com/v2"
BUCKET = "s3://deploytop-backups"
MIB = 1024 * 1024
GIB = 1024 * MIB

# --------------------------------------------------------------------------- formatting


def _short_id(rng: random.Random, prefix: str) -> str:
    """An id like ``stg_4k7q2m9x``: a prefix and 8 characters of Crockford base32."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return prefix + "_" + "".join(rng.choice(alphabet) for _ in range(8))


def _stable(text: str) -> int:
    """A number derived from ``text`` that is the same in every process (unlike ``hash``)."""
    return zlib.crc32(text.encode())


def _size(n: float) -> str:
    """Bytes as pv and ``du -h`` print them: ``512MiB``, ``1.21GiB``."""
    if n >= GIB:
        return f"{n / GIB:.2f}GiB"
    if n >= MIB:
        return f"{n / MIB:.0f}MiB" if n >= 100 * MIB else f"{n / MIB:.1f}MiB"
    return f"{n / 1024:.0f}KiB"


def _aws_size(n: float) -> str:
    """Bytes as the AWS CLI prints them: ``48.2 MiB``."""
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    return f"{n / 1024:.1f} KiB"


def _rsync_rate(bytes_per_second: float) -> str:
    return f"{bytes_per_second / 1_000_000:.2f}MB/s"


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _block(ctx: JobContext, lines: Sequence[str]) -> None:
    """Write several lines in one append (one output event instead of many)."""
    if lines:
        ctx.log("".join(line + "\n" for line in lines))


def _success(message: str) -> str:
    return f"{GREEN}Success:{RESET} {message}"


def _warning(message: str) -> str:
    return f"{YELLOW}Warning:{RESET} {message}"


# --------------------------------------------------------------------------- where things are


@dataclass(frozen=True)
class _Place:
    """A WordPress install on a Forge server: where its files and database live."""

    domain: str
    server: str

    @property
    def server_id(self) -> int:
        return 100_000 + _stable(self.server) % 900_000

    @property
    def forge_site_id(self) -> int:
        return 2_000_000 + _stable(self.domain) % 900_000

    @property
    def home(self) -> str:
        return f"/home/forge/{self.domain}"

    @property
    def db(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.domain.lower())[:48]

    @property
    def db_user(self) -> str:
        return "u_" + self.db[:14]

    @property
    def files(self) -> int:
        """How many files the site has (stable per domain)."""
        return 4_000 + _stable(self.domain + ":files") % 26_000

    @property
    def file_bytes(self) -> int:
        return 180 * MIB + _stable(self.domain + ":bytes") % (2800 * MIB)

    @property
    def db_bytes(self) -> int:
        return 18 * MIB + _stable(self.domain + ":db") % (600 * MIB)

    @property
    def dump_bytes(self) -> int:
        """Size of a gzip dump of the database (SQL text compresses well)."""
        return self.db_bytes * 22 // 100

    @property
    def archive_bytes(self) -> int:
        """Size of a gzip tarball of the files (media barely compresses)."""
        return self.file_bytes * 85 // 100


def _site(ctx: JobContext) -> _Place:
    """The deployment's own site."""
    d = ctx.deployment
    return _Place(d.site_domain or d.site_id, str(ctx.meta.get("server") or "forge-web-1"))


def _staging(ctx: JobContext) -> tuple[str, _Place]:
    """The staging id (required) and where that staging copy lives."""
    staging_id = str(ctx.require("staging_id"))
    site = _site(ctx)
    domain = str(ctx.meta.get("staging_domain") or f"staging.{site.domain}")
    return staging_id, _Place(domain, site.server)


def _source(ctx: JobContext) -> _Place:
    """The site a clone copies from (required meta)."""
    ctx.require("source_site_id")
    return _Place(str(ctx.require("source_domain")), str(ctx.require("source_server")))


def _scope(ctx: JobContext) -> str:
    scope = str(ctx.meta.get("scope") or "full")
    if scope not in ("full", "database"):
        ctx.fail(f"Error: unknown backup scope '{scope}' in meta (expected 'full' or 'database').")
    return scope


def _tables(rng: random.Random) -> list[str]:
    core = [
        "wp_commentmeta",
        "wp_comments",
        "wp_links",
        "wp_options",
        "wp_postmeta",
        "wp_posts",
        "wp_term_relationships",
        "wp_term_taxonomy",
        "wp_termmeta",
        "wp_terms",
        "wp_usermeta",
        "wp_users",
    ]
    plugins = [
        "wp_actionscheduler_actions",
        "wp_actionscheduler_logs",
        "wp_wc_orders",
        "wp_wc_order_addresses",
        "wp_wc_product_meta_lookup",
        "wp_woocommerce_sessions",
        "wp_yoast_indexable",
        "wp_redirection_items",
        "wp_gf_entry",
        "wp_gf_entry_meta",
        "wp_wfconfig",
        "wp_litespeed_url",
    ]
    return sorted(core + rng.sample(plugins, rng.randint(2, len(plugins))))


_WORDS = (
    "hero",
    "banner",
    "summer-sale",
    "team",
    "product",
    "gallery",
    "logo",
    "about-us",
    "checkout",
    "blog-header",
    "portrait",
    "workshop",
    "catalogue",
    "launch",
    "office",
)
_PLUGINS = (
    "woocommerce",
    "wordpress-seo",
    "redis-cache",
    "gravityforms",
    "wordfence",
    "advanced-custom-fields",
    "redirection",
    "wp-mail-smtp",
)
_THEMES = ("astra", "generatepress", "storefront", "twentytwentyfour")


def _wp_paths(rng: random.Random, count: int) -> list[str]:
    """File paths as a WordPress tree has them, for rsync and tar listings."""
    paths: list[str] = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:
            w, h = rng.choice(((150, 150), (300, 200), (768, 512), (1024, 683), (2048, 1365)))
            paths.append(
                f"wp-content/uploads/{rng.randint(2019, 2026)}/{rng.randint(1, 12):02d}/"
                f"{rng.choice(_WORDS)}-{rng.randint(1, 99)}-{w}x{h}.{rng.choice(('jpg', 'webp'))}"
            )
        elif kind < 0.85:
            plugin = rng.choice(_PLUGINS)
            leaf = rng.choice(
                (
                    "includes/class-loader.php",
                    "assets/js/admin.min.js",
                    "languages/de_DE.mo",
                    "readme.txt",
                    f"{plugin}.php",
                )
            )
            paths.append(f"wp-content/plugins/{plugin}/{leaf}")
        else:
            theme = rng.choice(_THEMES)
            leaf = rng.choice(
                ("style.css", "functions.php", "assets/css/main.css", "template-parts/header.php")
            )
            paths.append(f"wp-content/themes/{theme}/{leaf}")
    return paths


# --------------------------------------------------------------------------- tool output


async def _forge(
    ctx: JobContext,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    status: int = 200,
    seconds: float = 1.5,
) -> None:
    """One Forge API call, printed as ``POST https://forge.laravel.com/api/v1/… → 200``."""
    await ctx.work(seconds * ctx.rng.uniform(0.6, 1.4))
    lines = [f"{method} {FORGE_API}{path} → {status}"]
    if body is not None:
        lines.append("  " + json.dumps(body))
    _block(ctx, lines)


async def _forge_poll(ctx: JobContext, path: str, states: Sequence[str], seconds: float) -> None:
    """Poll a Forge resource until it reaches the last of ``states``."""
    for state in states:
        await ctx.work(seconds / len(states))
        ctx.line(f"GET {FORGE_API}{path} → 200 (status: {state})")


async def _rsync(
    ctx: JobContext,
    src: str,
    dst: str,
    *,
    total_bytes: int,
    files: int,
    seconds: float,
    excludes: Sequence[str] = (),
    delete: bool = False,
    listed: int = 0,
) -> None:
    """``rsync -az --info=progress2``: the command, optionally file names, progress, summary."""
    rng = ctx.rng
    flags = "-az" + (" --delete" if delete else "")
    flags += "".join(f" --exclude='{e}'" for e in excludes)
    _block(ctx, [f"$ rsync {flags} --info=progress2 {src} {dst}", "sending incremental file list"])
    if listed:
        names = sorted(set(_wp_paths(rng, listed)))
        for start in range(0, len(names), 50):
            _block(ctx, names[start : start + 50])
    updates = max(3, min(12, int(seconds / 2)))
    # rsync transfers only what changed; a fresh copy sends everything
    changed = 1.0 if not delete else rng.uniform(0.05, 0.4)
    sent_bytes = int(total_bytes * changed)
    speed = sent_bytes / seconds
    fraction = 0.0
    for n in range(1, updates + 1):
        await ctx.work(seconds / updates)
        last = n == updates
        jittered = n / updates * rng.uniform(0.85, 1.1)
        fraction = 1.0 if last else max(fraction, min(0.99, jittered))
        done = int(sent_bytes * fraction)
        xfr = max(1, int(files * changed * fraction))
        rate = speed * rng.uniform(0.8, 1.2)
        eta = (sent_bytes - done) / rate
        check = f"to-chk=0/{files}" if last else f"ir-chk={files - xfr}/{files}"
        ctx.log(
            f"{done:>15,} {int(fraction * 100):>3}% {_rsync_rate(rate):>11} {_clock(eta):>10}"
            f" (xfr#{xfr}, {check})" + ("\n" if last else "\r")
        )
    speedup = total_bytes / max(1, sent_bytes)
    _block(
        ctx,
        [
            "",
            f"sent {sent_bytes + files * 40:,} bytes  received {files * 12 + 1024:,} bytes  "
            f"{speed:,.2f} bytes/sec",
            f"total size is {total_bytes:,}  speedup is {speedup:.2f}",
        ],
    )


async def _pv(ctx: JobContext, total_bytes: int, seconds: float) -> None:
    """pv's progress bar, redrawn with carriage returns."""
    updates = max(3, min(10, int(seconds / 2)))
    width = 30
    for n in range(1, updates + 1):
        await ctx.work(seconds / updates)
        last = n == updates
        fraction = n / updates
        elapsed = seconds * fraction
        rate = total_bytes / seconds * ctx.rng.uniform(0.85, 1.15)
        filled = int(width * fraction)
        bar = "=" * filled if last else "=" * max(0, filled - 1) + ">" + " " * (width - filled)
        tail = f"{' ' * 9}" if last else f"ETA {_clock(seconds - elapsed)}"
        ctx.log(
            f"{_size(total_bytes * fraction):>8} {_clock(elapsed)} [{_size(rate)}/s] "
            f"[{bar}] {int(fraction * 100):>3}% {tail}" + ("\n" if last else "\r")
        )


async def _mysqldump(
    ctx: JobContext, place: _Place, out: str, *, seconds: float, remote: bool = False
) -> int:
    """``mysqldump --verbose`` of ``place``'s database to a gzip file; returns its size."""
    command = f"mysqldump --single-transaction --quick --routines --triggers --verbose {place.db}"
    if remote:
        command = f'ssh forge@{place.server} "{command}"'
    _block(ctx, [f"$ {command} | gzip > {out}", "-- Connecting to localhost..."])
    tables = _tables(ctx.rng)
    per_batch = 4
    for start in range(0, len(tables), per_batch):
        await ctx.work(seconds * per_batch / len(tables))
        lines: list[str] = []
        for table in tables[start : start + per_batch]:
            lines += [
                f"-- Retrieving table structure for table {table}...",
                "-- Sending SELECT query...",
                "-- Retrieving rows...",
            ]
        _block(ctx, lines)
    size = place.dump_bytes
    _block(ctx, ["-- Disconnecting from localhost...", f"$ du -h {out}", f"{_size(size)}\t{out}"])
    return size


async def _mysql_import(
    ctx: JobContext, place: _Place, dump: str, *, seconds: float, size: int | None = None
) -> None:
    """Load a gzip dump (of ``size`` bytes of SQL) into ``place``'s database through pv."""
    size = size or place.db_bytes
    ctx.line(f"$ gunzip -c {dump} | pv -s {size} | mysql {place.db}")
    await _pv(ctx, size, seconds)
    await ctx.work(0.5)
    tables = ("wp_postmeta", "wp_options", "wp_posts", "wp_usermeta", "wp_comments")
    rule = "+------------------+------------+"
    counts = sorted((ctx.rng.randint(400, 900_000) for _ in tables), reverse=True)
    rows = [f"| {t:<16} | {c:>10} |" for t, c in zip(tables, counts, strict=True)]
    _block(
        ctx,
        [
            f'$ mysql -e "SELECT table_name, table_rows FROM information_schema.tables '
            f"WHERE table_schema='{place.db}' ORDER BY table_rows DESC LIMIT 5\"",
            rule,
            "| table_name       | table_rows |",
            rule,
            *rows,
            rule,
        ],
    )


async def _s3_copy(ctx: JobContext, src: str, dst: str, *, size: int, seconds: float) -> None:
    """``aws s3 cp`` with its ``Completed …`` progress; upload or download by direction."""
    ctx.line(f"$ aws s3 cp {src} {dst}")
    updates = max(3, min(10, int(seconds / 1.5)))
    for n in range(1, updates):
        await ctx.work(seconds / updates)
        rate = size / seconds * ctx.rng.uniform(0.8, 1.2)
        ctx.log(
            f"Completed {_aws_size(size * n / updates)}/{_aws_size(size)} "
            f"({_aws_size(rate)}/s) with 1 file(s) remaining\r"
        )
    await ctx.work(seconds / updates)
    verb = "download" if src.startswith("s3://") else "upload"
    ctx.line(f"{verb}: {src} to {dst}")


def _wp_command(place: _Place, args: str) -> str:
    return f"$ wp {args} --path={place.home}"


async def _wp(
    ctx: JobContext, place: _Place, args: str, *result: str, seconds: float = 1.5
) -> None:
    """One wp-cli command and what it printed."""
    ctx.line(_wp_command(place, args))
    await ctx.work(seconds * ctx.rng.uniform(0.7, 1.3))
    _block(ctx, result)


async def _search_replace(
    ctx: JobContext, place: _Place, old: str, new: str, *, seconds: float
) -> None:
    """``wp search-replace`` with its table of changed columns."""
    rng = ctx.rng
    ctx.line(
        _wp_command(
            place, f"search-replace '{old}' '{new}' --all-tables --precise --report-changed-only"
        )
    )
    await ctx.work(seconds * 0.7)
    columns = {
        "wp_options": "option_value",
        "wp_posts": "post_content",
        "wp_postmeta": "meta_value",
        "wp_usermeta": "meta_value",
        "wp_comments": "comment_content",
        "wp_yoast_indexable": "permalink",
        "wp_termmeta": "meta_value",
    }
    rule = "+--------------------+-----------------+--------------+------+"
    rows = [rule, "| Table              | Column          | Replacements | Type |", rule]
    total = 0
    for table, column in columns.items():
        count = rng.randint(1, 2400)
        total += count
        kind = "PHP" if table in ("wp_options", "wp_postmeta", "wp_usermeta") else "SQL"
        rows.append(f"| {table:<18} | {column:<15} | {count:<12} | {kind:<4} |")
    rows += [rule, _success(f"Made {total} replacements.")]
    await ctx.work(seconds * 0.3)
    _block(ctx, rows)


async def _flush_caches(ctx: JobContext, place: _Place) -> None:
    await _wp(ctx, place, "cache flush", _success("The cache was flushed."), seconds=1)
    await _wp(ctx, place, "rewrite flush --hard", _success("Rewrite rules flushed."), seconds=1)
    _block(ctx, ["$ redis-cli -n 0 FLUSHDB", "OK", "$ sudo service php8.3-fpm reload"])
    await ctx.work(1.0)
    ctx.line(f"$ sudo rm -rf /var/run/nginx-cache/{place.domain}/*")


async def _health_check(ctx: JobContext, place: _Place, *, expect: int = 200) -> None:
    """curl the front page, the login page and the REST API."""
    paths = ("/", "/wp-login.php", "/wp-json/")
    for path in paths:
        await ctx.work(ctx.rng.uniform(0.3, 1.2))
        _block(
            ctx,
            [
                f"$ curl -sS -o /dev/null -w '%{{http_code}} %{{time_total}}s' "
                f"https://{place.domain}{path}",
                f"{expect} {ctx.rng.uniform(0.05, 0.9):.3f}s",
            ],
        )
    ctx.line(
        f"{GREEN}✔{RESET} https://{place.domain} answered {expect} "
        f"({len(paths)}/{len(paths)} checks passed)"
    )


async def _tar(
    ctx: JobContext,
    place: _Place,
    archive: str,
    *,
    size: int,
    seconds: float,
    files_from: str | None = None,
) -> None:
    """Archive a site's files through pv into gzip."""
    what = f"--files-from={files_from}" if files_from else "."
    ctx.line(
        f"$ tar -C {place.home} --exclude=wp-content/cache --exclude=wp-content/upgrade "
        f"-cf - {what} | pv -s {size} | gzip -6 > {archive}"
    )
    await _pv(ctx, size, seconds)
    await ctx.work(1)
    packed = size * 85 // 100  # media barely compresses
    entries = place.files if files_from is None else max(1, size // (400 * 1024))
    _block(
        ctx,
        [
            f"$ du -h {archive}",
            f"{_size(packed)}\t{archive}",
            f"$ tar -tzf {archive} | wc -l",
            str(entries),
        ],
    )


async def _safety_backup(ctx: JobContext, place: _Place, label: str) -> None:
    """Database dump of ``place`` uploaded to S3 before something destructive."""
    backup_id = _short_id(ctx.rng, "bkp")
    dump = f"/tmp/{backup_id}.sql.gz"
    ctx.line(f"Creating {label} {backup_id} of {place.domain}")
    size = await _mysqldump(ctx, place, dump, seconds=ctx.rng.uniform(5, 12))
    await _s3_copy(
        ctx,
        dump,
        f"{BUCKET}/{place.domain}/{backup_id}/database.sql.gz",
        size=size,
        seconds=ctx.rng.uniform(2, 6),
    )
    _block(ctx, [f"$ rm -f {dump}", f"{GREEN}✔{RESET} {label} {backup_id} stored"])


async def _create_database(ctx: JobContext, place: _Place) -> None:
    """Database and user through the Forge API, then check the grant."""
    await _forge(
        ctx,
        "POST",
        f"/servers/{place.server_id}/databases",
        {"name": place.db, "user": place.db_user, "password": "********"},
    )
    database_id = 900_000 + _stable(place.db) % 90_000
    await _forge_poll(
        ctx,
        f"/servers/{place.server_id}/databases/{database_id}",
        ("installing", "installed"),
        seconds=4,
    )
    await ctx.work(1.0)
    _block(
        ctx,
        [
            f"$ mysql -e \"SHOW GRANTS FOR '{place.db_user}'@'%'\"",
            f"GRANT USAGE ON *.* TO `{place.db_user}`@`%`",
            f"GRANT ALL PRIVILEGES ON `{place.db}`.* TO `{place.db_user}`@`%`",
        ],
    )


async def _configure_wp(ctx: JobContext, place: _Place, *, environment: str) -> None:
    """Point wp-config.php at ``place``'s database and URL."""
    updated = "Updated the constant '{}' in the 'wp-config.php' file with the value '{}'."
    for name, value in (
        ("DB_NAME", place.db),
        ("DB_USER", place.db_user),
        ("DB_PASSWORD", "********"),
        ("WP_HOME", f"https://{place.domain}"),
        ("WP_SITEURL", f"https://{place.domain}"),
        ("WP_ENVIRONMENT_TYPE", environment),
    ):
        await _wp(
            ctx,
            place,
            f"config set {name} '{value}'",
            _success(updated.format(name, value)),
            seconds=0.8,
        )
    await _wp(ctx, place, "config shuffle-salts", _success("Shuffled the salt keys."))


async def _forge_create_site(ctx: JobContext, place: _Place, *, php: str) -> None:
    body = {
        "domain": place.domain,
        "project_type": "php",
        "directory": "/",
        "isolated": True,
        "php_version": php,
    }
    await _forge(ctx, "POST", f"/servers/{place.server_id}/sites", body)
    ctx.line(f"  site #{place.forge_site_id} created on {place.server}")
    await _forge_poll(
        ctx,
        f"/servers/{place.server_id}/sites/{place.forge_site_id}",
        ("installing", "installing", "installed"),
        seconds=9,
    )
    ctx.line(f"{GREEN}✔{RESET} {place.domain} → {place.home} ({php})")


# --------------------------------------------------------------------------- create_site


async def _create_site_on_forge(ctx: JobContext) -> None:
    await _forge_create_site(ctx, _site(ctx), php=str(ctx.meta.get("php_version") or "php83"))


async def _create_site_database(ctx: JobContext) -> None:
    await _create_database(ctx, _site(ctx))


async def _install_wordpress(ctx: JobContext) -> None:
    site = _site(ctx)
    version = str(ctx.meta.get("wp_version") or "6.7.1")
    title = str(ctx.meta.get("title") or site.domain)
    email = str(ctx.meta.get("admin_email") or f"admin@{site.domain}")
    checksum = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))
    await _wp(
        ctx,
        site,
        f"core download --version={version} --locale=en_US",
        f"Downloading WordPress {version} (en_US)...",
        f"md5 hash verified: {checksum}",
        _success("WordPress downloaded."),
        seconds=6,
    )
    await _wp(
        ctx,
        site,
        f"config create --dbname={site.db} --dbuser={site.db_user} "
        "--dbhost=127.0.0.1 --prompt=dbpass",
        _success("Generated 'wp-config.php' file."),
    )
    await _wp(
        ctx,
        site,
        f"core install --url=https://{site.domain} --title='{title}' "
        f"--admin_user=forge --admin_email={email} --skip-email",
        _success("WordPress installed successfully."),
        seconds=4,
    )
    plugins = [str(p) for p in ctx.meta.get("plugins") or ["redis-cache"]]
    for slug in plugins:
        version = f"{ctx.rng.randint(1, 9)}.{ctx.rng.randint(0, 12)}.{ctx.rng.randint(0, 9)}"
        await _wp(
            ctx,
            site,
            f"plugin install {slug} --activate",
            f"Installing {slug} ({version})",
            f"Downloading installation package from "
            f"https://downloads.wordpress.org/plugin/{slug}.{version}.zip...",
            "Unpacking the package...",
            "Installing the plugin...",
            "Plugin installed successfully.",
            f"Activating '{slug}'...",
            f"Plugin '{slug}' activated.",
            _success("Installed 1 of 1 plugins."),
            seconds=3,
        )


async def _issue_ssl(ctx: JobContext) -> None:
    site = _site(ctx)
    path = f"/servers/{site.server_id}/sites/{site.forge_site_id}/certificates"
    domains = [site.domain, f"www.{site.domain}"]
    await _forge(ctx, "POST", f"{path}/letsencrypt", {"domains": domains})
    cert_id = ctx.rng.randint(1_500_000, 1_999_999)
    _block(
        ctx,
        [
            f"Requesting a certificate for {domains[0]} and {domains[1]}",
            "",
            "Successfully received certificate.",
            f"Certificate is saved at: /etc/nginx/ssl/{site.domain}/{cert_id}/server.crt",
            f"Key is saved at:         /etc/nginx/ssl/{site.domain}/{cert_id}/server.key",
        ],
    )
    await _forge_poll(ctx, f"{path}/{cert_id}", ("installing", "installed"), seconds=6)
    await _forge(ctx, "POST", f"{path}/{cert_id}/activate")
    _block(
        ctx,
        [
            "$ sudo nginx -t",
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok",
            "nginx: configuration file /etc/nginx/nginx.conf test is successful",
            "$ sudo service nginx reload",
        ],
    )
    await _health_check(ctx, site)


# --------------------------------------------------------------------------- clone_site


async def _clone_create_target(ctx: JobContext) -> None:
    source = _source(ctx)
    target = _site(ctx)
    ctx.line(
        f"Cloning {source.domain} (site {ctx.meta['source_site_id']}, {source.server}) "
        f"→ {target.domain}"
    )
    await _forge_create_site(ctx, target, php=str(ctx.meta.get("php_version") or "php83"))


def _clone_dump(ctx: JobContext) -> str:
    return f"/tmp/clone-{_source(ctx).db}.sql.gz"


async def _clone_export(ctx: JobContext) -> None:
    source = _source(ctx)
    dump = _clone_dump(ctx)
    await _mysqldump(ctx, source, dump, seconds=ctx.rng.uniform(8, 25), remote=True)


async def _clone_copy_files(ctx: JobContext) -> None:
    source = _source(ctx)
    target = _site(ctx)
    await _rsync(
        ctx,
        f"forge@{source.server}:{source.home}/",
        f"{target.home}/",
        total_bytes=source.file_bytes,
        files=source.files,
        seconds=ctx.rng.uniform(15, 38),
        excludes=("wp-config.php", ".env"),
        listed=ctx.rng.randint(60, 200),
    )


async def _clone_import(ctx: JobContext) -> None:
    await _mysql_import(
        ctx,
        _site(ctx),
        _clone_dump(ctx),
        seconds=ctx.rng.uniform(8, 25),
        size=_source(ctx).db_bytes,
    )


async def _clone_configure(ctx: JobContext) -> None:
    _source(ctx)
    await _configure_wp(ctx, _site(ctx), environment="production")


async def _clone_search_replace(ctx: JobContext) -> None:
    source = _source(ctx)
    target = _site(ctx)
    await _search_replace(
        ctx,
        target,
        f"https://{source.domain}",
        f"https://{target.domain}",
        seconds=ctx.rng.uniform(4, 12),
    )
    await _search_replace(ctx, target, source.domain, target.domain, seconds=ctx.rng.uniform(3, 8))


async def _clone_finish(ctx: JobContext) -> None:
    target = _site(ctx)
    await _flush_caches(ctx, target)
    ctx.line(f"$ rm -f {_clone_dump(ctx)}")
    await _health_check(ctx, target)


# --------------------------------------------------------------------------- staging


async def _staging_database(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    ctx.line(f"Staging {staging_id}: {staging.domain}")
    await _create_database(ctx, staging)


async def _staging_copy_files(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    site = _site(ctx)
    await _forge_create_site(ctx, staging, php=str(ctx.meta.get("php_version") or "php83"))
    await _rsync(
        ctx,
        f"{site.home}/",
        f"{staging.home}/",
        total_bytes=site.file_bytes,
        files=site.files,
        seconds=ctx.rng.uniform(10, 30),
        excludes=("wp-config.php", "wp-content/cache"),
    )


async def _staging_configure(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    await _configure_wp(ctx, staging, environment="staging")


async def _copy_database(ctx: JobContext, source: _Place, target: _Place, *, dump: str) -> None:
    """Dump ``source`` and load it into ``target`` (same server)."""
    await _mysqldump(ctx, source, dump, seconds=ctx.rng.uniform(5, 15))
    await _mysql_import(ctx, target, dump, seconds=ctx.rng.uniform(5, 15), size=source.db_bytes)
    ctx.line(f"$ rm -f {dump}")


async def _staging_clone_database(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    site = _site(ctx)
    await _copy_database(ctx, site, staging, dump=f"/tmp/{staging_id}.sql.gz")
    await _search_replace(ctx, staging, site.domain, staging.domain, seconds=ctx.rng.uniform(3, 8))


async def _apply_protections(ctx: JobContext, staging: _Place) -> None:
    """Keep a staging copy out of search engines and away from real customers."""
    await _wp(
        ctx, staging, "option update blog_public 0", _success("Updated 'blog_public' option.")
    )
    await _wp(
        ctx,
        staging,
        "plugin install disable-emails --activate",
        "Installing Disable Emails (1.8.2)",
        "Plugin installed successfully.",
        "Plugin 'disable-emails' activated.",
        _success("Installed 1 of 1 plugins."),
        seconds=3,
    )
    await _wp(
        ctx,
        staging,
        "plugin deactivate woocommerce-payments wp-mail-smtp",
        _warning("Plugin 'woocommerce-payments' isn't active."),
        "Plugin 'wp-mail-smtp' deactivated.",
        _success("Deactivated 1 of 2 plugins (1 skipped)."),
    )
    await _wp(
        ctx,
        staging,
        "cron event delete --all --due-now",
        _success(f"Deleted a total of {ctx.rng.randint(3, 40)} cron events."),
    )


async def _staging_protect(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    await _apply_protections(ctx, staging)


async def _staging_basic_auth(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    htpasswd = f"/etc/nginx/forge-conf/{staging.domain}/server/.htpasswd"
    await ctx.work(1.5)
    _block(
        ctx,
        [
            f"$ sudo htpasswd -bc {htpasswd} staging ********",
            "Adding password for user staging",
            "$ sudo nginx -t",
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok",
            "nginx: configuration file /etc/nginx/nginx.conf test is successful",
            "$ sudo service nginx reload",
        ],
    )
    await _health_check(ctx, staging, expect=401)
    ctx.line(f"{BOLD}Staging {staging_id} ready:{RESET} https://{staging.domain} (user: staging)")


async def _push_backup(ctx: JobContext) -> None:
    staging_id, _ = _staging(ctx)
    ctx.line(f"Pushing staging {staging_id} to production")
    await _safety_backup(ctx, _site(ctx), "safety backup")


async def _push_files(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    site = _site(ctx)
    await _rsync(
        ctx,
        f"{staging.home}/",
        f"{site.home}/",
        total_bytes=site.file_bytes,
        files=site.files,
        seconds=ctx.rng.uniform(8, 30),
        delete=True,
        excludes=("wp-config.php", "wp-content/cache", ".user.ini"),
        listed=ctx.rng.randint(20, 120),
    )


async def _push_database(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    await _copy_database(ctx, staging, _site(ctx), dump=f"/tmp/push-{staging_id}.sql.gz")


async def _push_rewrite(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    site = _site(ctx)
    if ctx.meta.get("include_database"):
        await _search_replace(ctx, site, staging.domain, site.domain, seconds=ctx.rng.uniform(3, 8))
        await _wp(
            ctx, site, "option update blog_public 1", _success("Updated 'blog_public' option.")
        )
    else:
        ctx.line("Database not pushed: URLs unchanged.")
    await _flush_caches(ctx, site)


async def _clean_up_temp(ctx: JobContext, pattern: str) -> None:
    """Remove temporary files a pipeline left on the server."""
    suffixes = ctx.rng.sample((".sql.gz", ".tar.gz", ".manifest", ".log"), ctx.rng.randint(1, 4))
    await ctx.work(ctx.rng.uniform(2, 4))
    used = ctx.rng.randint(12, 60)
    _block(
        ctx,
        [
            f"$ find /tmp -maxdepth 1 -name '{pattern}*' -print -delete",
            *(f"/tmp/{pattern}{suffix}" for suffix in suffixes),
            f"Removed {len(suffixes)} temporary file(s)",
            "$ df -h /tmp | tail -1",
            f"/dev/vda1        78G   {used}G   {78 - used}G  {used * 100 // 78}% /",
        ],
    )


async def _push_clean_up(ctx: JobContext) -> None:
    staging_id, _ = _staging(ctx)
    await _clean_up_temp(ctx, f"push-{staging_id}")
    ctx.line(f"{GREEN}✔{RESET} staging {staging_id} pushed to {_site(ctx).domain}")


async def _refresh_backup(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    ctx.line(f"Refreshing staging {staging_id} from {_site(ctx).domain}")
    await _safety_backup(ctx, staging, "staging backup")


async def _refresh_files(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    site = _site(ctx)
    await _rsync(
        ctx,
        f"{site.home}/",
        f"{staging.home}/",
        total_bytes=site.file_bytes,
        files=site.files,
        seconds=ctx.rng.uniform(8, 28),
        delete=True,
        excludes=("wp-config.php", "wp-content/cache"),
        listed=ctx.rng.randint(10, 80),
    )


async def _refresh_database(ctx: JobContext) -> None:
    staging_id, staging = _staging(ctx)
    await _copy_database(ctx, _site(ctx), staging, dump=f"/tmp/refresh-{staging_id}.sql.gz")


async def _refresh_rewrite(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    await _search_replace(
        ctx, staging, _site(ctx).domain, staging.domain, seconds=ctx.rng.uniform(3, 8)
    )
    await _apply_protections(ctx, staging)


async def _refresh_verify(ctx: JobContext) -> None:
    _, staging = _staging(ctx)
    await _flush_caches(ctx, staging)
    await _health_check(ctx, staging, expect=401)


# --------------------------------------------------------------------------- backups


def _backup_id(ctx: JobContext) -> str:
    """The backup being made: from meta, else named after the deployment."""
    return str(ctx.meta.get("backup_id") or f"bkp_{ctx.deployment.id[-8:].lower()}")


def _backup_key(place: _Place, backup_id: str) -> str:
    return f"{BUCKET}/{place.domain}/{backup_id}"


async def _backup_export(ctx: JobContext) -> None:
    site = _site(ctx)
    backup_id = _backup_id(ctx)
    ctx.line(f"Backup {backup_id} of {site.domain} ({_scope(ctx)})")
    await _mysqldump(ctx, site, f"/tmp/{backup_id}.sql.gz", seconds=ctx.rng.uniform(6, 25))


async def _backup_archive(ctx: JobContext) -> None:
    site = _site(ctx)
    await _tar(
        ctx,
        site,
        f"/tmp/{_backup_id(ctx)}.tar.gz",
        size=site.file_bytes,
        seconds=ctx.rng.uniform(10, 35),
    )


async def _backup_upload(ctx: JobContext) -> None:
    site = _site(ctx)
    backup_id = _backup_id(ctx)
    key = _backup_key(site, backup_id)
    await _s3_copy(
        ctx,
        f"/tmp/{backup_id}.sql.gz",
        f"{key}/database.sql.gz",
        size=site.dump_bytes,
        seconds=ctx.rng.uniform(3, 10),
    )
    if _scope(ctx) == "full":
        await _s3_copy(
            ctx,
            f"/tmp/{backup_id}.tar.gz",
            f"{key}/files.tar.gz",
            size=site.archive_bytes,
            seconds=ctx.rng.uniform(8, 30),
        )
    await ctx.work(1)
    # stamped from the deployment's own creation time: output never reads a wall clock
    when = (ctx.deployment.created_at + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    listing = [f"{when} {site.dump_bytes:>12} database.sql.gz"]
    if _scope(ctx) == "full":
        listing.append(f"{when} {site.archive_bytes:>12} files.tar.gz")
    _block(ctx, [f"$ aws s3 ls {key}/", *listing])


async def _backup_verify(ctx: JobContext) -> None:
    site = _site(ctx)
    backup_id = _backup_id(ctx)
    digest = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(64))
    await ctx.work(ctx.rng.uniform(2, 5))
    _block(
        ctx,
        [
            f"$ aws s3api head-object --bucket deploytop-backups "
            f"--key {site.domain}/{backup_id}/database.sql.gz --query ContentLength",
            str(site.dump_bytes),
            f"$ sha256sum /tmp/{backup_id}.sql.gz",
            f"{digest}  /tmp/{backup_id}.sql.gz",
        ],
    )
    expired = [_short_id(ctx.rng, "bkp") for _ in range(ctx.rng.randint(0, 3))]
    for old in expired:
        await ctx.work(0.5)
        ctx.line(f"delete: {_backup_key(site, old)}/database.sql.gz")
    ctx.line(f"$ rm -f /tmp/{backup_id}.*")
    ctx.line(
        f"{GREEN}✔{RESET} backup {backup_id} recorded; {len(expired)} expired backup(s) "
        "pruned (retention 30 days)"
    )


def _restore_backup_id(ctx: JobContext) -> str:
    return str(ctx.require("backup_id"))


async def _restore_pre_backup(ctx: JobContext) -> None:
    backup_id = _restore_backup_id(ctx)
    ctx.line(f"Restoring backup {backup_id} ({_scope(ctx)}) to {_site(ctx).domain}")
    await _safety_backup(ctx, _site(ctx), "pre-restore backup")


async def _restore_database(ctx: JobContext) -> None:
    site = _site(ctx)
    backup_id = _restore_backup_id(ctx)
    dump = f"/tmp/restore-{backup_id}.sql.gz"
    await _s3_copy(
        ctx,
        f"{_backup_key(site, backup_id)}/database.sql.gz",
        dump,
        size=site.dump_bytes,
        seconds=ctx.rng.uniform(3, 8),
    )
    await _mysql_import(ctx, site, dump, seconds=ctx.rng.uniform(6, 25))


async def _restore_download_files(ctx: JobContext) -> None:
    site = _site(ctx)
    backup_id = _restore_backup_id(ctx)
    archive = f"/tmp/restore-{backup_id}.tar.gz"
    await _s3_copy(
        ctx,
        f"{_backup_key(site, backup_id)}/files.tar.gz",
        archive,
        size=site.archive_bytes,
        seconds=ctx.rng.uniform(8, 30),
    )
    await _verify_checksum(ctx, archive)


async def _verify_checksum(ctx: JobContext, path: str) -> None:
    """Check a downloaded file against the checksum stored next to it."""
    digest = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(64))
    ctx.line(f"$ echo '{digest}  {path}' | sha256sum -c -")
    await ctx.work(ctx.rng.uniform(1, 3))
    ctx.line(f"{path}: OK")


async def _extract_and_apply(ctx: JobContext, site: _Place, archives: Sequence[str]) -> None:
    """Unpack archives in order (a full one, then any incremental layers) into a scratch
    folder, then rsync it over the site."""
    scratch = f"/tmp/restore-{site.db}"
    ctx.line(f"$ mkdir -p {scratch}")
    for n, archive in enumerate(archives):
        ctx.line(f"$ pv {archive} | tar -xzf - -C {scratch}")
        if n == 0:
            await _pv(ctx, site.archive_bytes, ctx.rng.uniform(4, 12))
        else:
            await _pv(ctx, int(site.archive_bytes * ctx.rng.uniform(0.01, 0.08)), 2)
    await _rsync(
        ctx,
        f"{scratch}/",
        f"{site.home}/",
        total_bytes=site.file_bytes,
        files=site.files,
        seconds=ctx.rng.uniform(6, 18),
        delete=True,
        excludes=("wp-config.php",),
    )
    ctx.line(f"$ rm -rf {scratch}")


async def _restore_apply_files(ctx: JobContext) -> None:
    site = _site(ctx)
    await _extract_and_apply(ctx, site, [f"/tmp/restore-{_restore_backup_id(ctx)}.tar.gz"])


async def _restore_clean_up(ctx: JobContext) -> None:
    backup_id = _restore_backup_id(ctx)
    await _clean_up_temp(ctx, f"restore-{backup_id}")
    await _flush_caches(ctx, _site(ctx))
    ctx.line(f"{GREEN}✔{RESET} backup {backup_id} restored")


def _includes_files(meta: Mapping[str, Any]) -> bool:
    return bool(meta.get("scope", "full") != "database")


# --------------------------------------------------------------------------- snapshots


async def _create_snapshot(ctx: JobContext) -> None:
    site = _site(ctx)
    snapshot_id = str(ctx.meta.get("snapshot_id") or _short_id(ctx.rng, "snap"))
    label = str(ctx.meta.get("label") or f"{site.domain} {snapshot_id}")
    droplet = 300_000_000 + site.server_id
    action = ctx.rng.randint(2_000_000_000, 2_100_000_000)
    ctx.line(f"Snapshot {snapshot_id} of server {site.server} (droplet {droplet})")
    await ctx.work(2)
    _block(
        ctx,
        [
            f"POST {DO_API}/droplets/{droplet}/actions → 201",
            "  " + json.dumps({"type": "snapshot", "name": label}),
        ],
    )
    polls = ctx.rng.randint(4, 8)
    for _ in range(polls):
        await ctx.work(ctx.rng.uniform(4, 7))
        ctx.line(f"GET {DO_API}/actions/{action} → 200 (status: in-progress)")
    await ctx.work(4)
    image = ctx.rng.randint(150_000_000, 190_000_000)
    _block(
        ctx,
        [
            f"GET {DO_API}/actions/{action} → 200 (status: completed)",
            f"GET {DO_API}/snapshots/{image} → 200",
            "  "
            + json.dumps(
                {
                    "id": image,
                    "name": label,
                    "regions": ["fra1"],
                    "size_gigabytes": round(ctx.rng.uniform(8, 60), 2),
                }
            ),
            f"{GREEN}✔{RESET} snapshot {snapshot_id} saved as image {image}",
        ],
    )


async def _restore_snapshot(ctx: JobContext) -> None:
    snapshot_id = str(ctx.require("snapshot_id"))
    site = _site(ctx)
    droplet = 300_000_000 + site.server_id
    image = 150_000_000 + _stable(snapshot_id) % 40_000_000
    action = ctx.rng.randint(2_000_000_000, 2_100_000_000)
    ctx.line(f"Restoring snapshot {snapshot_id} (image {image}) onto {site.server}")
    await ctx.work(2)
    _block(
        ctx,
        [
            f"POST {DO_API}/droplets/{droplet}/actions → 201",
            "  " + json.dumps({"type": "restore", "image": image}),
        ],
    )
    for status in ["in-progress"] * ctx.rng.randint(3, 6) + ["completed"]:
        await ctx.work(ctx.rng.uniform(4, 7))
        ctx.line(f"GET {DO_API}/actions/{action} → 200 (status: {status})")
    await _forge(ctx, "POST", f"/servers/{site.server_id}/reboot")
    for state in ("rebooting", "rebooting", "running"):
        await ctx.work(ctx.rng.uniform(2, 4))
        ctx.line(f"GET {FORGE_API}/servers/{site.server_id} → 200 (status: {state})")
    await _health_check(ctx, site)


# --------------------------------------------------------------------------- time capsules


def _capsule(ctx: JobContext) -> tuple[str, str]:
    """The capsule id (required) and its mode, ``full`` or ``incremental``."""
    capsule_id = str(ctx.require("capsule_id"))
    mode = str(ctx.meta.get("mode") or "full")
    if mode not in ("full", "incremental"):
        ctx.fail(f"Error: unknown time capsule mode '{mode}' (expected 'full' or 'incremental').")
    return capsule_id, mode


def _capsule_key(place: _Place, capsule_id: str) -> str:
    return f"{BUCKET}/{place.domain}/capsules/{capsule_id}"


async def _capsule_database(ctx: JobContext) -> None:
    capsule_id, mode = _capsule(ctx)
    site = _site(ctx)
    ctx.line(f"Time capsule {capsule_id} of {site.domain} ({mode})")
    await _mysqldump(ctx, site, f"/tmp/{capsule_id}.sql.gz", seconds=ctx.rng.uniform(6, 25))


async def _capsule_manifest(ctx: JobContext) -> None:
    capsule_id, mode = _capsule(ctx)
    site = _site(ctx)
    manifest = f"/tmp/{capsule_id}.manifest"
    ctx.line(f"$ find {site.home} -type f -printf '%P\\t%s\\t%T@\\n' | sort > {manifest}")
    await ctx.work(ctx.rng.uniform(3, 10))
    _block(
        ctx,
        [
            f"Scanned {site.files:,} files ({_size(site.file_bytes)})",
            f"$ du -sh {site.home}/wp-content/* {site.home}/wp-admin {site.home}/wp-includes",
        ],
    )
    share = {"uploads": 0.78, "plugins": 0.14, "themes": 0.03, "languages": 0.01}
    sizes = [f"{_size(site.file_bytes * f)}\t{site.home}/wp-content/{d}" for d, f in share.items()]
    sizes += [
        f"{_size(52 * MIB)}\t{site.home}/wp-admin",
        f"{_size(58 * MIB)}\t{site.home}/wp-includes",
    ]
    _block(ctx, sizes)
    if mode == "incremental":
        base = str(ctx.require("base_capsule_id"))
        base_manifest = f"/tmp/{base}.manifest"
        await _s3_copy(
            ctx,
            f"{_capsule_key(site, base)}/manifest.tsv",
            base_manifest,
            size=site.files * 90,
            seconds=ctx.rng.uniform(1, 3),
        )
        changed = _wp_paths(ctx.rng, ctx.rng.randint(5, 120))
        ctx.line(f"$ comm -13 {base_manifest} {manifest} | cut -f1 > {manifest}.changed")
        await ctx.work(1)
        _block(ctx, changed)
        ctx.line(f"{len(changed)} file(s) changed since {base}, {ctx.rng.randint(0, 6)} deleted")


async def _capsule_archive(ctx: JobContext) -> None:
    capsule_id, mode = _capsule(ctx)
    site = _site(ctx)
    archive = f"/tmp/{capsule_id}.tar.gz"
    if mode == "full":
        size = site.file_bytes
        await _tar(ctx, site, archive, size=size, seconds=ctx.rng.uniform(10, 35))
    else:
        size = int(site.file_bytes * ctx.rng.uniform(0.01, 0.08))
        await _tar(
            ctx,
            site,
            archive,
            size=size,
            seconds=ctx.rng.uniform(2, 8),
            files_from=f"/tmp/{capsule_id}.manifest.changed",
        )
    packed = size * 85 // 100
    await _s3_copy(
        ctx,
        archive,
        f"{_capsule_key(site, capsule_id)}/files.tar.gz",
        size=packed,
        seconds=max(2.0, packed / (40 * MIB)),
    )


async def _capsule_finalize(ctx: JobContext) -> None:
    capsule_id, mode = _capsule(ctx)
    site = _site(ctx)
    key = _capsule_key(site, capsule_id)
    await _s3_copy(
        ctx,
        f"/tmp/{capsule_id}.sql.gz",
        f"{key}/database.sql.gz",
        size=site.dump_bytes,
        seconds=ctx.rng.uniform(3, 8),
    )
    await _s3_copy(
        ctx, f"/tmp/{capsule_id}.manifest", f"{key}/manifest.tsv", size=site.files * 90, seconds=1.5
    )
    parent = str(ctx.meta.get("base_capsule_id")) if mode == "incremental" else None
    record = {"id": capsule_id, "mode": mode, "parent": parent, "site": site.domain}
    _block(
        ctx,
        [
            f"$ echo '{json.dumps(record)}' | aws s3 cp - {key}/capsule.json",
            f"$ rm -f /tmp/{capsule_id}.*",
        ],
    )
    await ctx.work(1)
    chain = f"{parent} ← {capsule_id}" if parent else f"{capsule_id} (full)"
    ctx.line(f"{GREEN}✔{RESET} time capsule sealed: {chain}")


def _capsule_chain(ctx: JobContext) -> list[str]:
    """Capsules to apply, oldest (the full one) first, ending with the one asked for."""
    capsule_id = str(ctx.require("capsule_id"))
    chain = [str(c) for c in ctx.meta.get("chain") or []]
    if not chain or chain[-1] != capsule_id:
        chain.append(capsule_id)
    return chain


def _capsule_origin(ctx: JobContext) -> _Place:
    """Where the capsule was taken: another site (meta ``source_domain``) or this one."""
    site = _site(ctx)
    return _Place(str(ctx.meta.get("source_domain") or site.domain), site.server)


async def _tc_pre_backup(ctx: JobContext) -> None:
    chain = _capsule_chain(ctx)
    origin = _capsule_origin(ctx)
    site = _site(ctx)
    source = f" of {origin.domain}" if origin.domain != site.domain else ""
    ctx.line(f"Restoring time capsule {chain[-1]}{source} onto {site.domain}")
    await _safety_backup(ctx, site, "pre-restore backup")


async def _tc_download(ctx: JobContext) -> None:
    chain = _capsule_chain(ctx)
    origin = _capsule_origin(ctx)
    ctx.line(f"Chain of {len(chain)} capsule(s): {' ← '.join(chain)}")
    for n, capsule_id in enumerate(chain):
        full = origin.archive_bytes
        size = full if n == 0 else int(full * ctx.rng.uniform(0.01, 0.08))
        await _s3_copy(
            ctx,
            f"{_capsule_key(origin, capsule_id)}/files.tar.gz",
            f"/tmp/{capsule_id}.tar.gz",
            size=size,
            seconds=max(1.5, size / (60 * MIB)),
        )
    await _s3_copy(
        ctx,
        f"{_capsule_key(origin, chain[-1])}/database.sql.gz",
        f"/tmp/{chain[-1]}.sql.gz",
        size=origin.dump_bytes,
        seconds=ctx.rng.uniform(2, 6),
    )


async def _tc_database(ctx: JobContext) -> None:
    chain = _capsule_chain(ctx)
    await _mysql_import(
        ctx,
        _site(ctx),
        f"/tmp/{chain[-1]}.sql.gz",
        seconds=ctx.rng.uniform(6, 25),
        size=_capsule_origin(ctx).db_bytes,
    )


async def _tc_files(ctx: JobContext) -> None:
    chain = _capsule_chain(ctx)
    await _extract_and_apply(ctx, _site(ctx), [f"/tmp/{c}.tar.gz" for c in chain])


async def _tc_rewrite(ctx: JobContext) -> None:
    source_site_id = ctx.meta.get("source_site_id")
    if not source_site_id or source_site_id == ctx.deployment.site_id:
        ctx.skip("Restoring onto the site the capsule was taken from: URLs are unchanged.")
    origin = str(ctx.require("source_domain"))
    site = _site(ctx)
    await _search_replace(
        ctx, site, f"https://{origin}", f"https://{site.domain}", seconds=ctx.rng.uniform(4, 12)
    )


def _other_site_capsule(meta: Mapping[str, Any]) -> bool:
    # ``applies`` sees only meta; the job itself skips when the source is this very site.
    source = meta.get("source_site_id")
    return bool(source) and source != meta.get("target_site_id")


async def _tc_clean_up(ctx: JobContext) -> None:
    chain = _capsule_chain(ctx)
    await _clean_up_temp(ctx, chain[-1])
    await _flush_caches(ctx, _site(ctx))
    ctx.line(f"{GREEN}✔{RESET} time capsule {chain[-1]} restored")


# --------------------------------------------------------------------------- delete_site


async def _delete_backup(ctx: JobContext) -> None:
    site = _site(ctx)
    ctx.line(f"{BOLD}Deleting {site.domain}{RESET}: taking a final backup first")
    await _safety_backup(ctx, site, "final safety backup (kept 30 days)")
    await _tar(
        ctx,
        site,
        f"/tmp/final-{site.db}.tar.gz",
        size=site.file_bytes,
        seconds=ctx.rng.uniform(8, 25),
    )
    await _s3_copy(
        ctx,
        f"/tmp/final-{site.db}.tar.gz",
        f"{BUCKET}/{site.domain}/final/files.tar.gz",
        size=site.archive_bytes,
        seconds=ctx.rng.uniform(6, 20),
    )


async def _delete_stagings(ctx: JobContext) -> None:
    site = _site(ctx)
    staging_ids = [str(s) for s in ctx.meta.get("staging_ids") or []]
    await _forge(ctx, "GET", f"/servers/{site.server_id}/sites")
    ctx.line(f"  {len(staging_ids)} staging environment(s) of {site.domain} on {site.server}")
    if not staging_ids:
        await ctx.work(1)
        ctx.line(f"Nothing to remove: {site.domain} has no staging environments.")
        return
    for n, staging_id in enumerate(staging_ids, start=1):
        staging = _Place(f"staging{'' if n == 1 else n}.{site.domain}", site.server)
        ctx.line(f"Removing staging {staging_id} ({staging.domain})")
        await _forge(ctx, "DELETE", f"/servers/{site.server_id}/sites/{staging.forge_site_id}")
        await _forge(
            ctx,
            "DELETE",
            f"/servers/{site.server_id}/databases/{900_000 + _stable(staging.db) % 90_000}",
        )
    ctx.line(f"{GREEN}✔{RESET} {len(staging_ids)} staging environment(s) removed")


async def _delete_database(ctx: JobContext) -> None:
    site = _site(ctx)
    database_id = 900_000 + _stable(site.db) % 90_000
    _block(
        ctx,
        [
            f'$ mysql -e "SELECT COUNT(*) FROM information_schema.processlist '
            f"WHERE db='{site.db}'\"",
            "0",
            f"Dropping {site.db} and {site.db_user}",
        ],
    )
    await _forge(ctx, "DELETE", f"/servers/{site.server_id}/databases/{database_id}")
    await _forge(ctx, "DELETE", f"/servers/{site.server_id}/database-users/{database_id + 7}")
    await ctx.work(1)
    _block(ctx, [f"$ mysql -e \"SHOW DATABASES LIKE '{site.db}'\"", "(no rows)"])


async def _delete_forge_site(ctx: JobContext) -> None:
    site = _site(ctx)
    path = f"/servers/{site.server_id}/sites/{site.forge_site_id}"
    await _forge(ctx, "DELETE", path)
    await _forge_poll(ctx, path, ("removing", "removing"), seconds=6)
    await ctx.work(2)
    _block(
        ctx,
        [
            f"GET {FORGE_API}{path} → 404",
            f"{GREEN}✔{RESET} site #{site.forge_site_id} removed from {site.server}",
        ],
    )


async def _delete_records(ctx: JobContext) -> None:
    site = _site(ctx)
    zone = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))
    record = "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))
    await ctx.work(1.5)
    _block(
        ctx,
        [
            f"DELETE https://api.cloudflare.com/client/v4/zones/{zone}/dns_records/{record} → 200",
            f"Removed DNS record {site.domain} A",
            f"Removed {ctx.rng.randint(1, 4)} scheduled backup(s) and 1 uptime monitor",
        ],
    )
    await ctx.work(1)
    ctx.line(
        f"{GREEN}✔{RESET} {site.domain} deleted (final backup kept in "
        f"{BUCKET}/{site.domain}/final/)"
    )


# --------------------------------------------------------------------------- failures

_F_FORGE_NAME = """\
POST https://forge.laravel.com/api/v1/servers/412733/sites → 422
Forge API 422: The name has already been taken.
  {"message":"The given data was invalid.",\
"errors":{"domain":["The name has already been taken."]}}"""
_F_FORGE_DB = """\
POST https://forge.laravel.com/api/v1/servers/412733/databases → 422
Forge API 422: The given data was invalid.
  {"errors":{"name":["The name has already been taken."],\
"user":["The user has already been taken."]}}"""
_F_DB_CONNECT = """\
$ wp core install --admin_user=forge --skip-email
Error: Error establishing a database connection. This either means that the username and \
password information in your `wp-config.php` file is incorrect or that contact with the \
database server at `127.0.0.1` could not be established. This could mean your host's \
database server is down."""
_F_CERTBOT = """\
An unexpected error occurred:
Error creating new order :: too many certificates (5) already issued for this exact set of \
domains in the last 168 hours: retry after 2026-11-28T09:14:21Z: see \
https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames
Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile \
/var/log/letsencrypt/letsencrypt.log or re-run Certbot with -v for more details.
Forge API 500: Let's Encrypt certificate request failed."""
_F_MYSQLDUMP = """\
mysqldump: Error 2013: Lost connection to MySQL server during query when dumping table \
`wp_postmeta` at row: 184213
gzip: stdout: No space left on device"""
_F_RSYNC = """\
rsync: [sender] send_files failed to open "/home/forge/wp-content/uploads/2024/03/.htaccess": \
Permission denied (13)
rsync: [receiver] mkstemp "/home/forge/wp-content/cache/.index.html.Xk3f9a" failed: \
No space left on device (28)
rsync error: some files/attrs were not transferred (see previous errors) (code 23) at \
main.c(1338) [sender=3.2.7]"""
_F_MYSQL_GONE = """\
ERROR 2006 (HY000) at line 1734: MySQL server has gone away
  1.21GiB 0:00:41 [30.2MiB/s] [===============>              ] 52%
gunzip: stdout: Broken pipe"""
_F_WP_CONFIG = """\
Error: The constant or variable 'DB_NAME' is not defined in the 'wp-config.php' file.
Error: Strange wp-config.php file: wp-settings.php is not loaded directly."""
_F_SEARCH_REPLACE = """\
PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate \
20480 bytes) in /home/forge/.wp-cli/php/WP_CLI/SearchReplacer.php on line 92
Error: There has been a critical error on this website."""
_F_HEALTH = """\
$ curl -sS -o /dev/null -w '%{http_code} %{time_total}s' https://localhost/
502 0.014s
Health check failed: 502 Bad Gateway (php8.3-fpm: upstream prematurely closed connection)"""
_F_S3_PUT = """\
upload failed: /tmp/backup.tar.gz to s3://deploytop-backups/backup.tar.gz
An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"""
_F_S3_GET = """\
$ aws s3api head-object --bucket deploytop-backups --key …/database.sql.gz
fatal error: An error occurred (404) when calling the HeadObject operation: Key \
"database.sql.gz" does not exist"""
_F_NGINX = """\
nginx: [emerg] open() "/etc/nginx/forge-conf/staging/server/.htpasswd" failed \
(2: No such file or directory) in /etc/nginx/sites-enabled/staging:14
nginx: configuration file /etc/nginx/nginx.conf test failed"""
_F_WP_PLUGIN = """\
Warning: disable-emails: An unexpected error occurred. Something may be wrong with \
WordPress.org or this server's configuration.
Error: No plugins installed."""
_F_TAR = """\
tar: wp-content/uploads/2025/10: file changed as we read it
tar: Exiting with failure status due to previous errors
gzip: stdout: No space left on device"""
_F_DO = """\
POST https://api.digitalocean.com/v2/droplets/300412733/actions → 422
DigitalOcean API 422: Droplet already has a pending event."""
_F_DO_RESTORE = """\
GET https://api.digitalocean.com/v2/actions/2031554120 → 200 (status: errored)
DigitalOcean API: restore action errored; the droplet was left powered off."""
_F_FORGE_DELETE = """\
DELETE https://forge.laravel.com/api/v1/servers/412733/sites/2318890 → 500
Forge API 500: Server Error (the server did not respond over SSH)."""
_F_CLOUDFLARE = """\
DELETE https://api.cloudflare.com/client/v4/zones/…/dns_records/… → 403
Cloudflare API 403: Authentication error (code 10000)"""
_F_CLEAN_UP = """\
find: '/tmp/restore-…': Permission denied
Error: could not remove temporary files (run as forge?)."""


# --------------------------------------------------------------------------- pipelines


def _step(
    name: str,
    job: Job,
    failure: str,
    applies: Callable[[Mapping[str, Any]], bool] | None = None,
    skip_reason: str = "Not selected for this deployment.",
) -> StepSpec:
    return StepSpec(name, job, failure, applies, skip_reason)


def _meta_flag(key: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda meta: bool(meta.get(key))


def _other_sites(site: Site, sites: list[Site]) -> list[Site]:
    return [s for s in sites if s.id != site.id] or [site]


def _staging_meta(rng: random.Random, site: Site) -> dict[str, Any]:
    prefix = rng.choice(("staging", "staging", "stage", "dev"))
    return {"staging_id": _short_id(rng, "stg"), "staging_domain": f"{prefix}.{site.domain}"}


def _server_meta(site: Site) -> dict[str, Any]:
    return {"server": site.server} if site.server else {}


def _clone_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    source = rng.choice(_other_sites(site, sites))
    return {
        **_server_meta(site),
        "source_site_id": source.id,
        "source_domain": source.domain,
        "source_server": source.server or "forge-web-1",
    }


def _push_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    choice = rng.random()
    return {
        **_server_meta(site),
        **_staging_meta(rng, site),
        "include_files": choice < 0.75,
        "include_database": choice > 0.35,
    }


def _backup_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    return {
        **_server_meta(site),
        "backup_id": _short_id(rng, "bkp"),
        "scope": "database" if rng.random() < 0.3 else "full",
        "kind": rng.choice(("manual", "scheduled", "scheduled", "pre-update")),
    }


def _capsule_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    meta: dict[str, Any] = {**_server_meta(site), "capsule_id": _short_id(rng, "cap")}
    if rng.random() < 0.7:
        meta |= {"mode": "incremental", "base_capsule_id": _short_id(rng, "cap")}
    else:
        meta["mode"] = "full"
    return meta


def _restore_capsule_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    chain = [_short_id(rng, "cap") for _ in range(rng.randint(1, 4))]
    source = rng.choice(_other_sites(site, sites)) if rng.random() < 0.25 else site
    return {
        **_server_meta(site),
        "capsule_id": chain[-1],
        "chain": chain,
        "source_site_id": source.id,
        "source_domain": source.domain,
        "target_site_id": site.id,
    }


def _delete_demo(rng: random.Random, site: Site, sites: list[Site]) -> dict[str, Any]:
    count = rng.choice((0, 0, 1, 2))
    return {**_server_meta(site), "staging_ids": [_short_id(rng, "stg") for _ in range(count)]}


def _name(meta: Mapping[str, Any], key: str, fallback: str = "?") -> str:
    value = meta.get(key)
    return str(value) if value else fallback


def _backup_name(meta: Mapping[str, Any], site: Site) -> str:
    when = meta.get("backup_created_at")
    label = str(when)[:16].replace("T", " ") if when else _name(meta, "backup_id")
    scope = " (database only)" if meta.get("scope") == "database" else ""
    return f"Restore backup {label} to {site.domain}{scope}"


def _push_name(meta: Mapping[str, Any], site: Site) -> str:
    parts = [
        p for p, k in (("files", "include_files"), ("database", "include_database")) if meta.get(k)
    ]
    what = " + ".join(parts) or "nothing selected"
    return f"Push staging {_name(meta, 'staging_id')} to {site.domain} ({what})"


def _restore_capsule_name(meta: Mapping[str, Any], site: Site) -> str:
    capsule = _name(meta, "capsule_id")
    source = meta.get("source_domain")
    origin = f" from {source}" if source and source != site.domain else ""
    return f"Restore time capsule {capsule}{origin} to {site.domain}"


def _pipelines() -> list[PipelineSpec]:
    database_only = "Database-only backup: files are left as they are."
    return [
        PipelineSpec(
            "create_site",
            "Create site",
            (
                _step("Create site on Forge", _create_site_on_forge, _F_FORGE_NAME),
                _step("Create database & user", _create_site_database, _F_FORGE_DB),
                _step("Install WordPress", _install_wordpress, _F_DB_CONNECT),
                _step("Issue SSL & finalize", _issue_ssl, _F_CERTBOT),
            ),
            lambda meta, site: f"Create site {site.domain}",
            lambda rng, site, sites: {
                **_server_meta(site),
                "php_version": rng.choice(("php82", "php83", "php84")),
                "wp_version": rng.choice(("6.6.2", "6.7.1")),
                "plugins": rng.sample(["redis-cache", "wordfence", "wordpress-seo"], 2),
            },
            weight=2,
        ),
        PipelineSpec(
            "clone_site",
            "Clone site",
            (
                _step("Create target site", _clone_create_target, _F_FORGE_NAME),
                _step("Create database & user", _create_site_database, _F_FORGE_DB),
                _step("Export source database", _clone_export, _F_MYSQLDUMP),
                _step("Copy files", _clone_copy_files, _F_RSYNC),
                _step("Import database", _clone_import, _F_MYSQL_GONE),
                _step("Configure wp-config", _clone_configure, _F_WP_CONFIG),
                _step("Search-replace URLs", _clone_search_replace, _F_SEARCH_REPLACE),
                _step("Flush caches & health check", _clone_finish, _F_HEALTH),
            ),
            lambda meta, site: (
                f"Clone {_name(meta, 'source_domain', _name(meta, 'source_site_id'))}"
                f" → {site.domain}"
            ),
            _clone_demo,
            weight=3,
        ),
        PipelineSpec(
            "create_staging",
            "Create staging",
            (
                _step("Create staging database & user", _staging_database, _F_FORGE_DB),
                _step("Copy site files", _staging_copy_files, _F_RSYNC),
                _step("Configure WordPress", _staging_configure, _F_WP_CONFIG),
                _step("Clone database", _staging_clone_database, _F_MYSQL_GONE),
                _step("Apply protections", _staging_protect, _F_WP_PLUGIN),
                _step("Enable basic auth & finalize", _staging_basic_auth, _F_NGINX),
            ),
            lambda meta, site: f"Create staging for {site.domain}",
            lambda rng, site, sites: {**_server_meta(site), **_staging_meta(rng, site)},
            weight=5,
        ),
        PipelineSpec(
            "push_staging",
            "Push staging to production",
            (
                _step("Backup production", _push_backup, _F_S3_PUT),
                _step(
                    "Sync files",
                    _push_files,
                    _F_RSYNC,
                    _meta_flag("include_files"),
                    "Files not selected for this push.",
                ),
                _step(
                    "Sync database",
                    _push_database,
                    _F_MYSQL_GONE,
                    _meta_flag("include_database"),
                    "Database not selected for this push.",
                ),
                _step("Rewrite URLs & flush caches", _push_rewrite, _F_SEARCH_REPLACE),
                _step("Clean up", _push_clean_up, _F_CLEAN_UP),
            ),
            _push_name,
            _push_demo,
            weight=20,
        ),
        PipelineSpec(
            "refresh_staging",
            "Refresh staging from production",
            (
                _step("Back up staging", _refresh_backup, _F_S3_PUT),
                _step("Sync files from production", _refresh_files, _F_RSYNC),
                _step("Clone production database", _refresh_database, _F_MYSQL_GONE),
                _step("Rewrite URLs & reapply protections", _refresh_rewrite, _F_SEARCH_REPLACE),
                _step("Flush caches & verify", _refresh_verify, _F_HEALTH),
            ),
            lambda meta, site: (
                f"Refresh staging {_name(meta, 'staging_id')} of {site.domain} from production"
            ),
            lambda rng, site, sites: {**_server_meta(site), **_staging_meta(rng, site)},
            weight=8,
        ),
        PipelineSpec(
            "backup_site",
            "Back up site",
            (
                _step("Export database", _backup_export, _F_MYSQLDUMP),
                _step("Archive files", _backup_archive, _F_TAR, _includes_files, database_only),
                _step("Upload to S3", _backup_upload, _F_S3_PUT),
                _step("Verify & record backup", _backup_verify, _F_S3_GET),
            ),
            lambda meta, site: (
                f"Back up {site.domain} ({_name(meta, 'scope', 'full')}"
                f"{', ' + str(meta['kind']) if meta.get('kind') else ''})"
            ),
            _backup_demo,
            weight=30,
        ),
        PipelineSpec(
            "restore_backup",
            "Restore backup",
            (
                _step("Pre-restore backup", _restore_pre_backup, _F_S3_PUT),
                _step("Restore database", _restore_database, _F_MYSQL_GONE),
                _step(
                    "Download file backup",
                    _restore_download_files,
                    _F_S3_GET,
                    _includes_files,
                    database_only,
                ),
                _step(
                    "Apply files", _restore_apply_files, _F_RSYNC, _includes_files, database_only
                ),
                _step("Clean up", _restore_clean_up, _F_CLEAN_UP),
            ),
            _backup_name,
            _backup_demo,
            weight=3,
        ),
        PipelineSpec(
            "create_snapshot",
            "Create server snapshot",
            (_step("Create snapshot", _create_snapshot, _F_DO),),
            lambda meta, site: f"Snapshot {site.server or 'server'} ({site.domain})",
            lambda rng, site, sites: {**_server_meta(site), "snapshot_id": _short_id(rng, "snap")},
            weight=6,
        ),
        PipelineSpec(
            "restore_snapshot",
            "Restore server snapshot",
            (_step("Restore snapshot", _restore_snapshot, _F_DO_RESTORE),),
            lambda meta, site: f"Restore snapshot {_name(meta, 'snapshot_id')} to {site.domain}",
            lambda rng, site, sites: {**_server_meta(site), "snapshot_id": _short_id(rng, "snap")},
            weight=1,
        ),
        PipelineSpec(
            "create_time_capsule",
            "Create time capsule",
            (
                _step("Database export", _capsule_database, _F_MYSQLDUMP),
                _step("Manifest collection", _capsule_manifest, _F_S3_GET),
                _step("File archive", _capsule_archive, _F_TAR),
                _step("Finalize", _capsule_finalize, _F_S3_PUT),
            ),
            lambda meta, site: (
                f"Time capsule {_name(meta, 'capsule_id')} of {site.domain} "
                f"({_name(meta, 'mode', 'full')})"
            ),
            _capsule_demo,
            weight=10,
        ),
        PipelineSpec(
            "restore_time_capsule",
            "Restore time capsule",
            (
                _step("Pre-restore backup", _tc_pre_backup, _F_S3_PUT),
                _step("Download capsule chain", _tc_download, _F_S3_GET),
                _step("Restore database", _tc_database, _F_MYSQL_GONE),
                _step("Restore files", _tc_files, _F_RSYNC),
                _step(
                    "Rewrite URLs",
                    _tc_rewrite,
                    _F_SEARCH_REPLACE,
                    _other_site_capsule,
                    "Same site as the capsule's: URLs are unchanged.",
                ),
                _step("Clean up", _tc_clean_up, _F_CLEAN_UP),
            ),
            _restore_capsule_name,
            _restore_capsule_demo,
            weight=2,
        ),
        PipelineSpec(
            "delete_site",
            "Delete site",
            (
                _step("Final safety backup", _delete_backup, _F_S3_PUT),
                _step("Remove staging environments", _delete_stagings, _F_FORGE_DELETE),
                _step("Delete database & user", _delete_database, _F_FORGE_DELETE),
                _step("Delete site on Forge", _delete_forge_site, _F_FORGE_DELETE),
                _step("Clean up records", _delete_records, _F_CLOUDFLARE),
            ),
            lambda meta, site: f"Delete site {site.domain}",
            _delete_demo,
            weight=0.3,
        ),
    ]


def default_registry() -> PipelineRegistry:
    """Every pipeline type of :data:`~backend_client.models.PIPELINE_TYPES`, ready to run.

    Returns:
        A fresh registry (callers may register more pipelines without affecting others).
    """
    return PipelineRegistry(_pipelines())
