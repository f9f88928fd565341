"""Settings precedence (flags > env > file), and the CLI's one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tui.cli import main
from tui.settings import SettingsError, config_path, load_settings


def test_defaults_without_file() -> None:
    settings = load_settings()
    assert settings.backend is None
    assert settings.theme == "deploytop-dark"
    assert settings.bell is True
    assert settings.demo.seed == 7


def test_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'theme = "deploytop-light"\nbell = false\npage_size = 40\n'
        '[keymap]\ncancel = "x"\n[demo]\nspeed = 30\n'
    )
    monkeypatch.setenv("DEPLOYTOP_CONFIG", str(config))
    settings = load_settings()
    assert settings.theme == "deploytop-light"
    assert settings.bell is False
    assert settings.keymap == {"cancel": "x"}
    assert settings.demo.speed == 30
    monkeypatch.setenv("DEPLOYTOP_PAGE_SIZE", "60")
    monkeypatch.setenv("DEPLOYTOP_DEMO__SEED", "11")
    settings = load_settings()
    assert settings.page_size == 60
    assert settings.demo.seed == 11
    assert settings.demo.speed == 30
    settings = load_settings(theme="textual-dark", page_size=None)
    assert settings.theme == "textual-dark"
    assert settings.page_size == 60


def test_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "deploytop" / "config.toml"
    (tmp_path / "deploytop").mkdir()
    config_path().write_text("read_only = true\n")
    assert load_settings().read_only is True


def test_bad_file_and_bad_values_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("DEPLOYTOP_CONFIG", str(config))
    config.write_text("theme = \n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "config file" in str(info.value) and "\n" not in str(info.value)
    config.write_text("colour = 'red'\n")
    with pytest.raises(SettingsError, match="colour"):
        load_settings()
    config.write_text("")
    monkeypatch.setenv("DEPLOYTOP_PAGE_SIZE", "0")
    with pytest.raises(SettingsError, match="page_size"):
        load_settings()


def test_cli_errors_are_one_line_without_traceback() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--theme", "no-such-theme"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "deploytop: error: unknown theme 'no-such-theme' (try deploytop-dark, deploytop-light)"
    )
    result = runner.invoke(main, ["--backend", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "needs --token" in result.output
    result = runner.invoke(main, ["--bogus"])
    assert result.exit_code == 2
    assert result.output == "deploytop: error: no such option: --bogus\n"


def test_usage_errors_are_the_documented_one_line() -> None:
    runner = CliRunner()
    cases = {
        ("--nope",): "deploytop: error: no such option: --nope\n",
        ("--no-bel",): "deploytop: error: no such option: --no-bel (did you mean --no-bell?)\n",
        ("--theme",): "deploytop: error: option '--theme' requires an argument\n",
        ("nosuchcmd",): "deploytop: error: no such command: nosuchcmd\n",
        ("ls", "--nope"): "deploytop: error: no such option: --nope\n",
    }
    for args, expected in cases.items():
        result = runner.invoke(main, list(args), env={"DEPLOYTOP_BACKEND": None})
        assert (result.exit_code, result.output) == (2, expected), args
    helped = runner.invoke(main, ["--help"])
    assert helped.exit_code == 0 and helped.output.startswith("Usage: main [OPTIONS]")
    assert runner.invoke(main, ["ls", "--help"]).output.startswith("Usage: main ls")


def test_version_and_subcommands_registered() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("deploytop, version ")
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output


def test_unreachable_backend_is_one_line() -> None:
    # A real process: the app starts, cannot reach the backend, and exits with one line.
    exe = Path(sys.executable).parent / "deploytop"
    if not exe.exists():
        pytest.skip("deploytop console script not installed")
    if shutil.which("script") is None:
        pytest.skip("util-linux script(1) is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPLOYTOP_")}
    env["XDG_CONFIG_HOME"] = "/nonexistent"
    env["TERM"] = "xterm-256color"
    proc = subprocess.run(
        ["script", "-qec", f"{exe} --backend http://127.0.0.1:9 --token t", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 1
    assert "deploytop: error: cannot load deployments: cannot reach http://127.0.0.1:9" in (
        proc.stdout
    )
    assert "Traceback" not in proc.stdout


def test_a_wrong_deploytop_config_path_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYTOP_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match=r"nope\.toml.*DEPLOYTOP_CONFIG"):
        load_settings()
    monkeypatch.setenv("DEPLOYTOP_CONFIG", str(tmp_path))  # a directory
    with pytest.raises(SettingsError, match="not a readable file"):
        load_settings()


def test_a_bad_variable_does_not_blame_a_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYTOP_PAGE_SIZE", "abc")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "page_size" in str(info.value) and "config" not in str(info.value)


# --- key names in the keymap setting ------------------------------------------------------------


def test_bad_key_names_are_found_with_a_suggestion() -> None:
    from tui.keys import bad_key_names

    def problems(spec: str) -> list[tuple[str, str | None]]:
        return [(b.reason, b.suggestion) for b in bad_key_names({"cancel": spec})]

    assert problems("ctrl+shift+super+nonsense") == [("'nonsense' is not a key name", None)]
    assert problems("ctrl+pgup") == [("'pgup' is not a key name", "ctrl+pageup")]
    assert problems("Enter") == [("'Enter' is not a key name", "enter")]
    assert problems("ctrl+?") == [("'?' is not a key name", "ctrl+question_mark")]
    assert problems("control+x")[0][1] == "ctrl+x"
    assert "not a modifier" in problems("control+x")[0][0]
    assert problems("shift+ctrl+left") == [
        (
            "Textual puts modifiers in the order alt+ctrl+hyper+meta+shift+super",
            "ctrl+shift+left",
        )
    ]
    assert problems("ctrl+") == [("no key after the last '+'", None)]
    assert problems("ctrl + x") == [("spaces inside a key name", "ctrl+x")]
    assert problems("ctrl+ctrl+x") == [("a modifier given twice", "ctrl+x")]
    # Names Textual reports: characters, named keys, kitty keys, modifiers in its order.
    good = (
        "x, F, ?, 5, é, question_mark, slash, space, tab, enter, escape, pageup, f5, f30,"
        " ctrl+c, ctrl+@, alt+shift+f, ctrl+shift+left, hyper+super+a, meta+x, kp_begin"
    )
    assert bad_key_names({"cancel": good}) == []
    assert bad_key_names({"cancel": "x,,"}) == []  # an empty entry binds nothing


def test_bad_keys_notice_says_which_binding_lost_every_key() -> None:
    from tui.keys import bad_keys_notice

    assert bad_keys_notice({"cancel": "x"}) is None
    assert bad_keys_notice({}) is None
    assert bad_keys_notice({"cancel": "ctrl+shift+super+nonsense", "failures": "F,ctrl+nope"}) == (
        "keymap: cancel = 'ctrl+shift+super+nonsense': 'nonsense' is not a key name;"
        " failures = 'ctrl+nope': 'nope' is not a key name — default keys kept for 'cancel'"
    )


async def test_a_bad_key_name_is_reported_at_startup() -> None:
    from .helpers import World, make_app, ready

    app = make_app(World(), keymap={"cancel": "ctrl+shift+super+nonsense", "failures": "ctrl+f"})
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        notices = [n for n in app._notifications if n.title == "Settings"]
        assert [n.message for n in notices] == [
            "keymap: cancel = 'ctrl+shift+super+nonsense': 'nonsense' is not a key name"
            " — default keys kept for 'cancel'"
        ]
        assert notices[0].severity == "warning"
        # The bad key is not used (nor shown in the footer): cancel keeps its default key.
        active = app.screen.active_bindings
        assert active["c"].binding.id == "cancel"
        assert active["ctrl+f"].binding.id == "failures"
        assert not any("nonsense" in key for key in active)


def test_usable_keymap_leaves_out_bad_keys() -> None:
    from tui.keys import usable_keymap

    assert usable_keymap({"cancel": "ctrl+nonsense", "failures": "F, pgup"}) == {"failures": "F"}
    assert usable_keymap({"cancel": "x"}) == {"cancel": "x"}
