"""Loading, layering, hashing and dumping configurations.

A configuration is built in layers, each a partial mapping deep-merged over the previous one
(mappings merge key by key, lists and scalars are replaced):

1. the shipped defaults, ``myopic_config.yaml`` (equal to the models' defaults, the spec's values);
2. a named preset from the shipped ``parameters.json`` (``preset=...``);
3. a user file, YAML (``.yaml``/``.yml``, read with ``yaml.safe_load``) or JSON (``.json``);
4. ``overrides``: a mapping, or strings ``"section.key=value"`` whose value is parsed with
   ``yaml.safe_load`` (``"strategy.r=[0.002, 0.001]"``, ``"venues.0.fee=0.0025"``).

Each layer's keys are checked before merging, so a misspelt key is reported with its full path,
the layer it came from and the closest valid key. Values are checked once, on the merged result;
an error names the key, the value, the constraint and the layer that set the key.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import ValidationError

from myopic_sor._typing import PathLike
from myopic_sor.config._models import (
    LIST_SECTION_MODELS,
    SECTION_MODELS,
    MyopicSorConfig,
    suggest_key,
    unknown_key_message,
)
from myopic_sor.exceptions import ConfigError, DataNotFoundError

__all__ = [
    "DEFAULTS_PATH",
    "PRESETS_PATH",
    "config_hash",
    "config_to_dict",
    "default_config",
    "describe_presets",
    "dump_config",
    "list_presets",
    "load_config",
]

logger = logging.getLogger(__name__)

#: The shipped defaults (documented YAML, every key commented with its unit).
DEFAULTS_PATH: Final = Path(__file__).with_name("myopic_config.yaml")
#: The shipped named presets (JSON: ``{name: {"description": ..., section: {...}}}``).
PRESETS_PATH: Final = Path(__file__).with_name("parameters.json")

#: Length of :func:`config_hash` (hex characters of the sha256 digest).
HASH_LENGTH: Final = 12

_DESCRIPTION_KEY: Final = "description"
#: Mutually exclusive inputs of the ``myopic`` section: the later layer's one wins.
_EXCLUSIVE_KEYS: Final[dict[tuple[str | int, str], str]] = {
    ("myopic", "beta"): "half_life_hours",
    ("myopic", "half_life_hours"): "beta",
}
_TIME_TEXT_RE: Final = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?\s*$")

_Path = tuple[str | int, ...]
_Provenance = dict[_Path, str]


class _ConfigDumper(yaml.SafeDumper):
    """Safe dumper writing lists of scalars inline and quoting ``HH:MM`` strings."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "'" if _TIME_TEXT_RE.match(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_ConfigDumper.add_representer(list, _represent_list)
_ConfigDumper.add_representer(str, _represent_str)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise DataNotFoundError(f"{what} {path} does not exist; check the path")
    if not path.is_file():
        raise ConfigError(f"{what} {path} is not a file")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    data: Any
    if suffix in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError(f"{path}: invalid YAML{where}: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
    else:
        raise ConfigError(
            f"{path}: unknown configuration format {suffix or '(no extension)'!r}; "
            "use .yaml, .yml or .json"
        )
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of sections (strategy:, myopic:, ...), "
            f"got {type(data).__name__}"
        )
    return data


@functools.cache
def _shipped_defaults() -> dict[str, Any]:
    return _read_mapping(DEFAULTS_PATH, "shipped defaults file")


@functools.cache
def _shipped_presets() -> dict[str, dict[str, Any]]:
    raw = _read_mapping(PRESETS_PATH, "shipped presets file")
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{PRESETS_PATH}: preset {name!r} must be a mapping")
    return raw


# --------------------------------------------------------------------------------------------
# key checks and merging
# --------------------------------------------------------------------------------------------


def _dotted(path: _Path) -> str:
    return ".".join(str(p) for p in path)


def _check_keys(layer: Mapping[Any, Any], source: str) -> None:
    root_keys = MyopicSorConfig.accepted_keys()
    for key, value in layer.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: key {key!r} is not a string; keys are section names")
        if key not in root_keys:
            raise ConfigError(f"{source}: {unknown_key_message(key, key, root_keys)}")
        if key in SECTION_MODELS and isinstance(value, Mapping):
            _check_section_keys(value, SECTION_MODELS[key].accepted_keys(), (key,), source)
        elif key in LIST_SECTION_MODELS and isinstance(value, list):
            valid = LIST_SECTION_MODELS[key].accepted_keys()
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    _check_section_keys(item, valid, (key, i), source)


def _check_section_keys(
    section: Mapping[Any, Any], valid: frozenset[str], prefix: _Path, source: str
) -> None:
    for key in section:
        if not isinstance(key, str) or key not in valid:
            path = _dotted((*prefix, str(key)))
            raise ConfigError(f"{source}: {unknown_key_message(str(key), path, valid)}")


def _record(provenance: _Provenance, path: _Path, source: str) -> None:
    provenance.pop(path, None)  # re-insert so the latest setter is last
    provenance[path] = source


def _merge(
    base: dict[str, Any],
    layer: Mapping[str, Any],
    provenance: _Provenance,
    source: str,
    prefix: _Path = (),
) -> None:
    for key, value in layer.items():
        path = (*prefix, key)
        other = _EXCLUSIVE_KEYS.get((prefix[0], key)) if len(prefix) == 1 else None
        if other is not None and other not in layer:
            base.pop(other, None)
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, provenance, source, path)
        else:
            base[key] = copy.deepcopy(value)
            _record(provenance, path, source)


def _apply_path(
    merged: dict[str, Any], path: Sequence[str], value: Any, provenance: _Provenance, source: str
) -> None:
    """Set ``merged[path] = value`` after checking the path against the models."""
    text = ".".join(path)
    if not path or any(not part for part in path):
        raise ConfigError(f"{source}: empty key in {text!r}; write 'section.key=value'")
    root_keys = MyopicSorConfig.accepted_keys()
    section = path[0]
    if section not in root_keys:
        raise ConfigError(f"{source}: {unknown_key_message(section, section, root_keys)}")
    if len(path) == 1:
        _check_keys({section: value}, source)
        _merge(merged, {section: value}, provenance, source)
        return
    if section in SECTION_MODELS:
        valid = SECTION_MODELS[section].accepted_keys()
        key = path[1]
        if key not in valid:
            raise ConfigError(f"{source}: {unknown_key_message(key, text, valid)}")
        if len(path) > 2:
            raise ConfigError(
                f"{source}: '{_dotted(tuple(path[:2]))}' is a value, not a section; "
                f"cannot set {text!r}"
            )
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(
                f"{source}: section '{section}' is not a mapping; cannot set {text!r}"
            )
        _merge(target, {key: value}, provenance, source, (section,))
        return
    if section in LIST_SECTION_MODELS:
        items = merged.get(section)
        index_text = path[1]
        if not index_text.isdigit() or not isinstance(items, list):
            raise ConfigError(
                f"{source}: index a list section by position, e.g. '{section}.0.fee=0.002'; "
                f"got {text!r}"
            )
        index = int(index_text)
        if index >= len(items):
            raise ConfigError(
                f"{source}: '{section}' has {len(items)} entries, no index {index} in {text!r}"
            )
        valid = LIST_SECTION_MODELS[section].accepted_keys()
        if len(path) == 2:
            if isinstance(value, Mapping):
                _check_section_keys(value, valid, (section, index), source)
            items[index] = copy.deepcopy(value)
            _record(provenance, (section, index), source)
            return
        key = path[2]
        if key not in valid:
            raise ConfigError(f"{source}: {unknown_key_message(key, text, valid)}")
        if len(path) > 3 or not isinstance(items[index], dict):
            raise ConfigError(
                f"{source}: cannot set {text!r}; '{section}.{index}.{key}' is a value"
            )
        items[index][key] = copy.deepcopy(value)
        _record(provenance, (section, index, key), source)
        return
    raise ConfigError(f"{source}: '{section}' is a value, not a section; cannot set {text!r}")


def _parse_override(text: str) -> tuple[list[str], Any]:
    key, sep, raw = text.partition("=")
    if not sep:
        raise ConfigError(
            f"overrides: {text!r} is not 'section.key=value' (e.g. 'strategy.S=500' or "
            "'execution.start_time=09:45')"
        )
    if _TIME_TEXT_RE.match(raw):
        # YAML 1.1 would read an unquoted 16:00 as the base-60 integer 960.
        value: Any = raw.strip()
    else:
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"overrides: cannot parse the value of {text!r}: {exc}") from exc
    return [part.strip() for part in key.strip().split(".")], value


# --------------------------------------------------------------------------------------------
# validation with readable errors
# --------------------------------------------------------------------------------------------


def _source_of(loc: _Path, provenance: _Provenance) -> str | None:
    found: str | None = None
    for path, source in provenance.items():
        n = min(len(path), len(loc))
        if path[:n] == loc[:n]:
            found = source  # later entries were set later
    return found


def _format_error(error: Mapping[str, Any], provenance: _Provenance) -> str:
    loc: _Path = tuple(error.get("loc", ()))
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    where = _dotted(loc) or "config"
    text = f"'{where}': {message}"
    value = error.get("input")
    if error.get("type") not in {"value_error", "missing"} and not isinstance(value, Mapping):
        text += f" (got {value!r})"
    source = _source_of(loc, provenance) if loc else None
    if source is not None:
        text += f" [set in {source}]"
    return text


def _validate(merged: Mapping[str, Any], provenance: _Provenance) -> MyopicSorConfig:
    try:
        return MyopicSorConfig.model_validate(merged)
    except ValidationError as exc:
        lines = [_format_error(err, provenance) for err in exc.errors(include_url=False)]
        head = "invalid configuration" + (f" ({len(lines)} errors)" if len(lines) > 1 else "")
        raise ConfigError(head + ": " + "; ".join(lines)) from exc


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def list_presets() -> list[str]:
    """Names of the shipped presets (``parameters.json``), sorted.

    Returns
    -------
    list of str
        E.g. ``['aggressive', 'conservative', 'default', 'high_frequency', 'spec']``.
    """
    return sorted(_shipped_presets())


def describe_presets() -> dict[str, str]:
    """Description of each shipped preset, by name (sorted by name).

    Returns
    -------
    dict of str to str
        The ``description`` field of each preset in ``parameters.json``.
    """
    presets = _shipped_presets()
    return {name: str(presets[name].get(_DESCRIPTION_KEY, "")) for name in sorted(presets)}


def load_config(
    path: PathLike | None = None,
    *,
    preset: str | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
) -> MyopicSorConfig:
    """Build a validated configuration from defaults, a preset, a file and overrides.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A YAML (``.yaml``/``.yml``) or JSON (``.json``) file holding any subset of the sections
        (``strategy``, ``myopic``, ``execution``, ``lambda_estimation``, ``risk``,
        ``data_filters``, ``venues``, ``market_hours``, ``data``, ``seed``).
    preset : str, optional
        Name of a shipped preset (see :func:`list_presets`), applied before the file.
    overrides : mapping or sequence of str, optional
        Applied last. A mapping is deep-merged like a file (keys may also be dotted paths,
        ``{"strategy.S": 500}``); strings are ``"section.key=value"`` with the value parsed by
        ``yaml.safe_load`` (``"strategy.r=[0.002, 0.001]"``, ``"venues.1.rebate=0.0029"``,
        ``"myopic.half_life_hours=2"``; ``HH:MM`` values are kept as text).

    Returns
    -------
    MyopicSorConfig
        The frozen, validated configuration.

    Raises
    ------
    DataNotFoundError
        If ``path`` does not exist.
    ConfigError
        On an unknown preset, unreadable file, misspelt key (the message names the key path,
        the source and the closest valid key) or invalid value (key, value, constraint and the
        source that set it).

    Notes
    -----
    Layer order: shipped defaults → preset → file → overrides; mappings merge key by key,
    lists (``venues``, ``strategy.r``, ``agg_periods``) are replaced whole. Giving
    ``myopic.half_life_hours`` in a layer replaces an earlier ``myopic.beta`` and vice versa.

    Examples
    --------
    >>> cfg = load_config(preset="conservative", overrides=["strategy.S=200"])
    >>> cfg.strategy.S
    200
    """
    provenance: _Provenance = {}
    merged: dict[str, Any] = {}
    defaults_source = f"shipped defaults ({DEFAULTS_PATH.name})"
    defaults = _shipped_defaults()
    _check_keys(defaults, defaults_source)
    _merge(merged, defaults, provenance, defaults_source)

    if preset is not None:
        presets = _shipped_presets()
        if preset not in presets:
            suggestion = suggest_key(preset, presets)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            raise ConfigError(
                f"unknown preset {preset!r}{hint}; available presets: {', '.join(sorted(presets))}"
            )
        body = {k: v for k, v in presets[preset].items() if k != _DESCRIPTION_KEY}
        source = f"preset '{preset}' ({PRESETS_PATH.name})"
        _check_keys(body, source)
        _merge(merged, body, provenance, source)

    if path is not None:
        file_path = Path(path)
        layer = _read_mapping(file_path, "configuration file")
        _check_keys(layer, str(file_path))
        _merge(merged, layer, provenance, str(file_path))

    if overrides is not None:
        source = "overrides"
        if isinstance(overrides, Mapping):
            plain = {k: v for k, v in overrides.items() if not (isinstance(k, str) and "." in k)}
            _check_keys(plain, source)
            _merge(merged, plain, provenance, source)
            for key, value in overrides.items():
                if isinstance(key, str) and "." in key:
                    _apply_path(merged, key.split("."), value, provenance, source)
        else:
            items = [overrides] if isinstance(overrides, str) else list(overrides)
            for item in items:
                if not isinstance(item, str):
                    raise ConfigError(
                        f"overrides: {item!r} is not a string 'section.key=value'; pass a "
                        "mapping for structured overrides"
                    )
                keys, value = _parse_override(item)
                _apply_path(merged, keys, value, provenance, f"overrides ({item!r})")

    logger.debug(
        "configuration layers: defaults%s%s%s",
        f", preset {preset}" if preset else "",
        f", file {path}" if path is not None else "",
        ", overrides" if overrides else "",
    )
    return _validate(merged, provenance)


def default_config() -> MyopicSorConfig:
    """The shipped default configuration (the spec's documented values).

    Returns
    -------
    MyopicSorConfig
        ``load_config()`` with no preset, file or overrides.
    """
    return load_config()


def config_to_dict(cfg: MyopicSorConfig) -> dict[str, Any]:
    """JSON-safe nested dictionary of a configuration.

    Parameters
    ----------
    cfg : MyopicSorConfig
        The configuration.

    Returns
    -------
    dict
        Sections in declaration order; times as ``"HH:MM"`` (``"HH:MM:SS"`` when seconds are
        set), dates as ISO strings, paths as strings, tuples as lists. Loading it back with
        :func:`load_config` (via a file or ``overrides``) gives an equal configuration.
    """
    return cfg.model_dump(mode="json")


def config_hash(cfg: MyopicSorConfig) -> str:
    """Stable short hash of a configuration, used to name output folders.

    Parameters
    ----------
    cfg : MyopicSorConfig
        The configuration.

    Returns
    -------
    str
        The first 12 hex characters of the sha256 of the canonical JSON of
        :func:`config_to_dict` (sorted keys, no whitespace, UTF-8). Equal configurations have
        equal hashes whatever the key order of their source files.
    """
    canonical = json.dumps(
        config_to_dict(cfg), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def dump_config(cfg: MyopicSorConfig, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Serialise a configuration to YAML or JSON text.

    Parameters
    ----------
    cfg : MyopicSorConfig
        The configuration.
    fmt : {"yaml", "json"}
        Output format. YAML starts with a comment naming :func:`config_hash`.

    Returns
    -------
    str
        Text that :func:`load_config` reads back to an equal configuration.
    """
    data = config_to_dict(cfg)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        header = f"# myopic-sor configuration, config_hash {config_hash(cfg)}\n"
        body = yaml.dump(
            data,
            Dumper=_ConfigDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
        )
        return header + body
    raise ConfigError(f"unknown dump format {fmt!r}; use 'yaml' or 'json'")
