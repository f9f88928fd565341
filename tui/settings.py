"""Settings: CLI flags over environment (``DEPLOYTOP_*``) over the TOML config file.

The file is ``$XDG_CONFIG_HOME/deploytop/config.toml`` (``~/.config/deploytop/config.toml``
when the variable is unset); ``DEPLOYTOP_CONFIG`` points elsewhere. Nested settings use
``__`` in environment names (``DEPLOYTOP_DEMO__SPEED=30``). Example file::

    theme = "deploytop-light"
    bell = false

    [keymap]
    "cancel" = "x"
    "failures" = "F"

    [demo]
    speed = 30
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

__all__ = ["DemoSettings", "Settings", "SettingsError", "config_path", "load_settings"]


class SettingsError(Exception):
    """The settings cannot be used; the message is one line for the operator."""


def config_path() -> Path:
    """Where the config file is read from (it need not exist)."""
    explicit = os.environ.get("DEPLOYTOP_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "deploytop" / "config.toml"


class DemoSettings(BaseModel):
    """The embedded demo backend (used when no ``backend`` URL is given)."""

    model_config = ConfigDict(extra="forbid")

    speed: float = Field(default=15.0, gt=0)
    """Pipeline seconds per real second (15: a pipeline takes a few seconds)."""
    rate_per_minute: float = Field(default=12.0, gt=0)
    """New demo deployments per minute, across all teams."""
    seed: int = 7
    """Seeds the demo world, its history and its traffic."""
    history: int = Field(default=300, ge=0)
    """Finished deployments seeded as history."""
    failure_rate: float = Field(default=0.04, ge=0, le=1)
    """Chance that a demo step fails by itself."""
    workers: int = Field(default=8, ge=1)
    """Deployments the demo engine runs at once."""


class Settings(BaseModel):
    """Everything the dashboard can be told.

    Constructing one validates the values given, nothing else: :func:`load_settings` reads
    the environment and the config file.
    """

    model_config = ConfigDict(extra="forbid")

    backend: str | None = None
    """URL of a deploytop server; unset: the embedded demo backend."""
    token: SecretStr | None = None
    """API token for ``backend``."""
    team: str | None = None
    """Team to open, by id or name (default: the first team)."""
    read_only: bool = False
    """Hide and refuse every action that changes anything (cancel)."""
    theme: str = "deploytop-dark"
    """Theme name: deploytop-dark, deploytop-light, or any Textual theme (textual-dark, ...)."""
    bell: bool = True
    """Ring the terminal bell when a deployment of the current team fails."""
    notify_failures: bool = True
    """Show a notification when a deployment of the current team fails."""
    stale_after: float = Field(default=30.0, gt=0)
    """Seconds without events before the header says the view is stale."""
    page_size: int = Field(default=100, ge=1, le=500)
    """Deployments fetched per page of history."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Key remapping: binding id -> keys (comma separated), e.g. ``{"cancel": "x"}``."""
    demo: DemoSettings = Field(default_factory=DemoSettings)
    """The embedded demo backend."""


_ENV_PREFIX = "DEPLOYTOP_"


def _environment_has_settings() -> bool:
    """Whether any ``DEPLOYTOP_*`` variable could be a setting (``DEPLOYTOP_CONFIG`` is not)."""
    for name in os.environ:
        upper = name.upper()
        if upper.startswith(_ENV_PREFIX) and upper != "DEPLOYTOP_CONFIG":
            return True
    return False


def _from_sources(given: dict[str, Any], path: Path) -> Settings:
    """Settings from the flags, the environment and the file, by pydantic-settings."""
    # Imported here: it costs ~50 ms, which a start with no file and no variables skips.
    from pydantic_settings import (
        BaseSettings,
        PydanticBaseSettingsSource,
        SettingsConfigDict,
        TomlConfigSettingsSource,
    )

    class SourcedSettings(Settings, BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=_ENV_PREFIX,
            env_nested_delimiter="__",
            extra="forbid",
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Highest priority first: CLI flags (init), environment, then the TOML file.
            return (
                init_settings,
                env_settings,
                TomlConfigSettingsSource(settings_cls, toml_file=path),
            )

    sourced = SourcedSettings(**given)
    # Validated already: hand back a plain Settings with the same values.
    values = {name: getattr(sourced, name) for name in Settings.model_fields}
    return Settings.model_construct(sourced.model_fields_set, **values)


def load_settings(**overrides: Any) -> Settings:
    """Settings from all sources, ``overrides`` (CLI flags; None = not given) on top.

    Raises:
        SettingsError: unreadable file or invalid value, explained in one line.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    path = config_path()
    if os.environ.get("DEPLOYTOP_CONFIG") and not path.is_file():
        # Asked for explicitly: a wrong path is a mistake to report, not a file to skip.
        raise SettingsError(f"config file {path} (from DEPLOYTOP_CONFIG) is not a readable file")
    try:
        if not path.is_file() and not _environment_has_settings():
            return Settings(**given)  # nothing to read: the flags over the defaults
        return _from_sources(given, path)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        source = f" (config: {path})" if path.is_file() else ""
        raise SettingsError(f"setting {where!r}: {first['msg']}{source}") from None
    except OSError as exc:
        raise SettingsError(f"config file {path}: {exc.strerror or exc}") from None
