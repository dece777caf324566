"""Read a freqtrade config file the way freqtrade does, for the CLI commands.

JSON with comments (freqtrade's parser), then ``FREQTRADE__SECTION__KEY`` environment
variables on top, so ``FREQTRADE__RUSSELL_REGIME__SOURCE=file`` means the same to
``python -m russell_regime ...`` as to ``freqtrade ...``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

SECTION = "russell_regime"


def read_config(path: Path | None) -> dict[str, Any]:
    """The config at ``path`` (``{}`` when None) with env-var overrides; ConfigError if bad."""
    from freqtrade.configuration.environment_vars import environment_vars_to_dict
    from freqtrade.configuration.load_config import load_config_file
    from freqtrade.exceptions import OperationalException
    from freqtrade.misc import deep_merge_dicts

    config: Any = {}
    if path is not None:
        try:
            config = load_config_file(str(path))
        except OperationalException as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(config, dict):
            raise ConfigError(f"config {path} must hold a JSON object")
    try:
        return deep_merge_dicts(environment_vars_to_dict(), config)
    except (TypeError, AttributeError) as exc:  # an env override below a non-object value
        raise ConfigError(
            f"config {path}: FREQTRADE__* environment overrides do not fit it ({exc})"
        ) from exc


def with_section_overrides(
    config: Any, overrides: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    """``config`` with ``overrides`` on top of its ``russell_regime`` section (pure; the input
    is not changed). ConfigError naming ``path`` when the config or the section is not an
    object; a missing or null section counts as empty."""
    if not isinstance(config, dict):
        raise ConfigError(f"config {path} must hold a JSON object")
    section = config.get(SECTION)
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise ConfigError(
            f"config {path}: '{SECTION}' must be an object, got "
            f"{type(section).__name__}: {section!r}"
        )
    return {**config, SECTION: {**section, **overrides}}


CALLER_DIR_ENV = "R2K_CALLER_DIR"


def caller_path(path: Path) -> Path:
    """``path`` made absolute against the caller's directory: ``$R2K_CALLER_DIR`` (run.sh sets
    it to where the user stood before it changes into the repo), else the working directory."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        path = Path(os.environ.get(CALLER_DIR_ENV) or os.getcwd()) / path
    return path.resolve()


CONFIG_NAME = "config.json"


def default_config_path() -> Path:
    """The config a command uses without ``--config``: ``config.json`` in the caller's
    directory (freqtrade's default), else the example config the package ships
    (:func:`russell_regime.shipped.example_config`)."""
    from .shipped import example_config

    here = caller_path(Path(CONFIG_NAME))
    return here if here.is_file() else example_config()


def default_userdir(config_path: Path | None) -> Path:
    """The user data folder without ``--userdir``, as freqtrade picks it: the config's
    ``user_data_dir``, else ``user_data`` in the caller's directory. An unreadable config
    counts as having none (the command reports it when it reads the config)."""
    configured = None
    if config_path is not None:
        try:
            configured = read_config(config_path).get("user_data_dir")
        except ConfigError:
            configured = None
    return caller_path(Path(configured if isinstance(configured, str) and configured
                            else "user_data"))


def command_config(
    given: Path | None, userdir: Path | None = None
) -> tuple[Path | None, dict[str, Any]]:
    """The config file a command reads and its content, freqtrade's way: ``--config`` when
    given, else ``config.json`` in the caller's folder when there is one, else none (``{}``
    plus env overrides); ``--userdir`` replaces its ``user_data_dir``."""
    path = caller_path(given) if given is not None else caller_path(Path(CONFIG_NAME))
    if given is None and not path.is_file():
        path = None
    config = read_config(path)
    if userdir is not None:
        config = {**config, "user_data_dir": str(caller_path(userdir))}
    return path, config
