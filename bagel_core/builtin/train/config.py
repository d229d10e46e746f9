"""Training config files: ``bagel train NAME --config FILE`` (TOML, or YAML for axolotl
habits) holding the same options as the flags, so a run is one reviewed file.

Keys are the flags' names (``learning_rate`` or ``learning-rate``); the ``[args]`` table passes
any other field of trl's config through, as ``--arg KEY=VALUE`` does. A relative path in
``deepspeed`` is read from the config file's folder. Flags given on the command line win over
the file.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

from bagel_core.config import ConfigError

#: The table of pass-through trl config fields.
ARGS_TABLE = "args"


class TrainConfigError(ConfigError):
    """A config file that cannot be used (a one-line error naming the file and the key)."""


def read_config(path: Path) -> dict[str, Any]:
    """The file's mapping, TOML by default, YAML for ``.yaml``/``.yml``."""
    text = path.read_text()
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # tomllib and yaml raise their own types; both say where
        raise TrainConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path}: expected a mapping of options at the top level")
    return data


def config_values(path: Path, options_cls: type) -> dict[str, Any]:
    """The options of ``options_cls`` the file sets (``arg`` holds the ``[args]`` table as
    ``KEY=VALUE`` texts); an unknown key is an error naming it."""
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    values: dict[str, Any] = {}
    for key, value in read_config(path).items():
        name = key.replace("-", "_")
        if name == ARGS_TABLE:
            if not isinstance(value, dict):
                raise TrainConfigError(f"{path}: [{ARGS_TABLE}] must be a table of trl config fields")
            values["arg"] = tuple(f"{k}={json.dumps(v)}" for k, v in value.items())
            continue
        if name not in fields or name == "arg":
            raise TrainConfigError(
                f"{path}: unknown option {key!r} (see bagel train NAME --help; other trl fields go in [{ARGS_TABLE}])"
            )
        if name == "deepspeed" and isinstance(value, str) and value.endswith(".json") and not Path(value).is_absolute():
            value = str(path.parent / value)
        if isinstance(value, list):
            value = tuple(str(v) for v in value)
        values[name] = value
    return values


def merge(path: Any, options_cls: type, flags: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """The options of a run: the file's, then the flags in ``given`` (typed on the command
    line) over them; ``--arg`` items add to the file's ``[args]`` (a flag's key wins)."""
    values = dict(flags)
    if path is None:
        return values
    from_file = config_values(Path(path), options_cls)
    for name, value in from_file.items():
        if name == "arg":
            typed = {a.partition("=")[0] for a in flags.get("arg", ())} if "arg" in given else set()
            values["arg"] = tuple(a for a in value if a.partition("=")[0] not in typed) + tuple(
                flags.get("arg", ()) if "arg" in given else ()
            )
        elif name not in given:
            values[name] = value
    return values
