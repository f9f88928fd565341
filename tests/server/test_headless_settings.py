"""Headless commands read the dashboard's settings: flags > environment > config file.

Run through ``deploytop``'s own click group (``tui.cli.main``), against a real server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tui.cli import main

from .test_headless import Threaded, threaded

__all__ = ["threaded"]  # the fixture, shared with test_headless


def deploytop(*args: str, **env: str | None) -> Result:
    """``deploytop ARGS`` with ``env`` on top of the (isolated) environment."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def write_config(path: Path, threaded: Threaded, **extra: str) -> Path:
    lines = [f'backend = "{threaded.url}"', f'token = "{threaded.world.op_token}"']
    lines += [f"{key} = {value}" for key, value in extra.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ls_and_show_use_the_file_named_by_deploytop_config(
    threaded: Threaded, tmp_path: Path
) -> None:
    d = threaded.trigger()
    threaded.settle()
    config = write_config(tmp_path / "x.toml", threaded)
    listed = deploytop("ls", DEPLOYTOP_CONFIG=str(config))
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[1].startswith(d.id)
    shown = deploytop("show", d.id, DEPLOYTOP_CONFIG=str(config))
    assert shown.exit_code == 0, shown.output
    assert f"id        {d.id}" in shown.stdout


def test_the_xdg_config_file_is_read(threaded: Threaded, tmp_path: Path) -> None:
    d = threaded.trigger()
    threaded.settle()
    write_config(tmp_path / "home" / "deploytop" / "config.toml", threaded)
    result = deploytop("show", d.id, XDG_CONFIG_HOME=str(tmp_path / "home"))
    assert result.exit_code == 0, result.output
    assert f"id        {d.id}" in result.stdout


def test_flags_beat_the_environment_which_beats_the_file(
    threaded: Threaded, tmp_path: Path
) -> None:
    d = threaded.trigger()
    threaded.settle()
    config = tmp_path / "x.toml"
    config.write_text('backend = "http://127.0.0.1:9"\ntoken = "wrong"\n')
    good, bad = threaded.world.op_token, "wrong"
    # The environment's backend and token over the file's.
    env_over_file = deploytop(
        "show",
        d.id,
        DEPLOYTOP_CONFIG=str(config),
        DEPLOYTOP_BACKEND=threaded.url,
        DEPLOYTOP_TOKEN=good,
    )
    assert env_over_file.exit_code == 0, env_over_file.output
    # A flag over the environment, given after the command or before it (to the group).
    for args in (["show", d.id, "--token", good], ["--token", good, "show", d.id]):
        flag_over_env = deploytop(
            *args,
            DEPLOYTOP_CONFIG=str(config),
            DEPLOYTOP_BACKEND=threaded.url,
            DEPLOYTOP_TOKEN=bad,
        )
        assert flag_over_env.exit_code == 0, (args, flag_over_env.output)
    refused = deploytop("show", d.id, DEPLOYTOP_CONFIG=str(config), DEPLOYTOP_BACKEND=threaded.url)
    assert refused.exit_code == 3 and "refused the token" in refused.stderr


def test_the_team_comes_from_the_file(threaded: Threaded, tmp_path: Path) -> None:
    config = write_config(tmp_path / "x.toml", threaded, team='"Team Z"')
    result = deploytop("ls", DEPLOYTOP_CONFIG=str(config))
    assert result.exit_code == 3
    assert result.stderr.startswith("deploytop: no team 'Team Z' of yours")


def test_a_bad_file_is_the_dashboards_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "x.toml"
    for text in ("backend = \n", "colour = 'red'\n", "page_size = 0\n"):
        config.write_text(text)
        dashboard = deploytop(DEPLOYTOP_CONFIG=str(config))  # fails before it starts
        assert dashboard.exit_code == 2
        assert dashboard.output.startswith("deploytop: error: ")
        assert dashboard.output.count("\n") == 1
        for args in (["ls"], ["show", "x"], ["logs", "x"], ["cancel", "x"], ["watch", "x"]):
            result = deploytop(*args, DEPLOYTOP_CONFIG=str(config))
            assert (result.exit_code, result.output) == (2, dashboard.output), (text, args)
    missing = deploytop("ls", DEPLOYTOP_CONFIG=str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2
    assert missing.output == (
        f"deploytop: error: config file {tmp_path / 'nope.toml'} (from DEPLOYTOP_CONFIG)"
        " is not a readable file\n"
    )


def test_no_backend_anywhere_is_a_usage_error_naming_every_source(tmp_path: Path) -> None:
    result = deploytop("ls")
    assert result.exit_code == 2
    assert result.output == (
        "deploytop: error: no backend: pass --backend URL or set DEPLOYTOP_BACKEND"
        f" (or backend in {tmp_path / 'xdg' / 'deploytop' / 'config.toml'})\n"
    )


@pytest.mark.parametrize(
    ("how", "source"),
    [
        ("file", "the config file {config}"),
        ("env", "DEPLOYTOP_READ_ONLY"),
        ("flag", "--read-only"),
    ],
)
def test_read_only_refuses_cancel_with_exit_2(
    threaded: Threaded, tmp_path: Path, how: str, source: str
) -> None:
    d = threaded.trigger(meta={"simulate": {"hold": True}})
    config = write_config(
        tmp_path / "x.toml", threaded, read_only="true" if how == "file" else "false"
    )
    env = {"DEPLOYTOP_CONFIG": str(config)}
    args = ["cancel", d.id, "--reason", "no"]
    if how == "env":
        env["DEPLOYTOP_READ_ONLY"] = "1"
    if how == "flag":
        args.insert(0, "--read-only")
    result = deploytop(*args, **env)
    assert result.exit_code == 2
    assert result.output == (
        "deploytop: error: read-only: cancel is refused (read_only is set by "
        + source.format(config=config)
        + ")\n"
    )
    shown = deploytop("show", d.id, **env)
    assert shown.exit_code == 0 and "status    running" in shown.stdout  # not cancelled
    # Reading is still allowed while read-only.
    assert deploytop(*args[: args.index("cancel")], "ls", **env).exit_code == 0
    threaded.world.store.release(d.id)


def test_the_environment_can_turn_the_files_read_only_off(
    threaded: Threaded, tmp_path: Path
) -> None:
    d = threaded.trigger(meta={"simulate": {"hold": True}})
    config = write_config(tmp_path / "x.toml", threaded, read_only="true")
    result = deploytop("cancel", d.id, DEPLOYTOP_CONFIG=str(config), DEPLOYTOP_READ_ONLY="false")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"cancelled {d.id}")
