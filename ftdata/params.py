"""Reading params.yaml at a stage's start: the stage's section, checked against its schema.

Apart from :mod:`ftdata.compose` (Hydra, the op catalog, cross-field rules) on purpose:
every stage reads its params, so whatever this module imports is in every stage's code
identity (stages/code.yaml), and an edit to one op must not rerun the stages that run none.
DVC's own Hydra composition (``dvc exp run -S key=value``) writes params.yaml without
ftdata's checks, so each stage checks its section again here.
"""

from __future__ import annotations

import difflib
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import (
    ConfigKeyError,
    MissingMandatoryValue,
    OmegaConfBaseException,
    ValidationError,
)

from ftdata.conf_guard import scan_conf, scan_file
from ftdata.config_schema import OP_SECTIONS, SECTION_SCHEMAS
from ftdata.errors import ConfigError
from ftdata.privacy.detect import PII_TYPES, check_types
from ftdata.stage import project_root

PARAMS_FILE = "params.yaml"


def schema_at(schema: Any, path: list[str]) -> Any:
    for part in path:
        if not is_dataclass(schema):
            return None
        hints = get_type_hints(schema)
        if part not in hints:
            return None
        schema = hints[part]
    return schema


def _suggest(schema: Any, key_path: list[str]) -> str:
    parent = schema_at(schema, key_path[:-1])
    if parent is None or not is_dataclass(parent):
        return ""
    names = [f.name for f in fields(parent)]
    close = difflib.get_close_matches(key_path[-1], names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (valid keys: {', '.join(names)})"


def check_section(name: str, value: Any, schema: Any, origin: str) -> dict:
    """Merge ``value`` into the structured schema; raise ConfigError naming key, file, fix.

    In a section that runs ops (:func:`hosts_ops`), a key the schema does not declare
    is an op's own params, carried as it is: the op's schema (its signature) checks it
    where the op is known (:func:`op_params`, at compose time and when the op runs).
    """
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: `{name}` must be a mapping, got {type(value).__name__}")
    _forbid_targets(name, value, origin)
    declared = shared_keys(schema)
    own = {k: v for k, v in value.items() if k not in declared} if hosts_ops(name) else {}
    try:
        merged = OmegaConf.merge(
            OmegaConf.structured(schema), {k: v for k, v in value.items() if k not in own}
        )
        return {**OmegaConf.to_container(merged, resolve=True, throw_on_missing=True), **own}
    except MissingMandatoryValue as err:
        key = f"{name}.{err.full_key}" if err.full_key else name
        raise ConfigError(f"{origin}: required key `{key}` is missing") from None
    except (ConfigKeyError, ValidationError, OmegaConfBaseException) as err:
        sub = str(err.full_key or "")
        key = f"{name}.{sub}" if sub else name
        if isinstance(err, ConfigKeyError) or "not in" in str(err).lower():
            hint = _suggest(schema, sub.split(".")) if sub else ""
            raise ConfigError(f"{origin}: unknown key `{key}`{hint}") from None
        msg = str(err).splitlines()[0]
        raise ConfigError(f"{origin}: bad value for `{key}`: {msg}") from None


def shared_keys(schema: Any) -> set[str]:
    """The keys a section's schema declares (in a section of ops: shared by its ops)."""
    return {f.name for f in fields(schema)} if is_dataclass(schema) else set()


def hosts_ops(section_name: str) -> bool:
    """A section whose ``ops`` list runs registered ops, each with its own params."""
    return section_name in OP_SECTIONS


def op_params(section_name: str, section: dict, op: Any, origin: str = PARAMS_FILE) -> dict:
    """The one rule for where an op's params are, checked against the op's own schema.

    An op's params are its own mapping ``<section>.<op>`` (``clean.redact_pii.types``),
    plus the keys its section declares for all its ops that the op's signature names
    (``quality.min_chars``, ``augment.seed``). ``op`` is a registry Op: ``op.params``
    is its signature as a schema (None: the op takes ``**params`` and checks them).
    """
    shared = shared_keys(SECTION_SCHEMAS.get(section_name))
    own = {} if op.name in shared else section.get(op.name)
    if own is None:
        own = {}
    where = f"{section_name}.{op.name}"
    if not isinstance(own, dict):
        raise ConfigError(f"{origin}: `{where}` must be a mapping of the op's params")
    if op.params is None:
        return dict(own)
    names = [f.name for f in fields(op.params)]
    value = {**{k: section[k] for k in names if k in shared and k in section}, **own}
    return check_section(where, value, op.params, origin)


def check_op_keys(section_name: str, section: dict, ops: dict, origin: str = PARAMS_FILE) -> None:
    """Every key a section of ops does not declare names one of its ops (``ops``: the
    registry's ``all_ops()``), so a misspelt op's params fail instead of going unread."""
    if not hosts_ops(section_name):
        return
    declared = shared_keys(SECTION_SCHEMAS[section_name])
    mine = sorted(n for n, op in ops.items() if op.stage == section_name)
    for key in section:
        if key in declared or key in mine:
            continue
        close = difflib.get_close_matches(key, [*mine, *declared], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{origin}: unknown key `{section_name}.{key}`{hint} (neither a key of "
            f"`{section_name}` nor one of its ops: {', '.join(mine)})"
        )


def _forbid_targets(name: str, value: Any, origin: str) -> None:
    """A config names ops from the registry only; it never names a Python callable."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("_target_", "_call_", "_partial_"):
                raise ConfigError(
                    f"{origin}: `{name}.{k}` is not allowed: a config cannot name a Python "
                    "callable; use an op name from the registry (`ftdata ops`)"
                )
            _forbid_targets(f"{name}.{k}", v, origin)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _forbid_targets(f"{name}[{i}]", v, origin)


def load_params(root: Path) -> dict:
    """params.yaml, checked as conf/ is: `dvc exp run -S` composes conf/ with DVC's own Hydra.

    So a stage re-reads conf/ through :mod:`ftdata.conf_guard` (an `${oc.env:...}`
    there was resolved by DVC into params.yaml), checks params.yaml itself the same
    way, and refuses a value shaped like a credential.
    """
    path = root / PARAMS_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: missing; run `ftdata compose` (or `make repro`)")
    scan_conf(root)
    scan_file(path, PARAMS_FILE)
    params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    from ftdata.secrets_scan import inline_secrets

    leaked = inline_secrets(params)
    if leaked:
        raise ConfigError(
            f"params.yaml: `{leaked[0]}` holds a literal secret (an API key or token); "
            "name the environment variable in conf instead (`api_key_env`)"
        )
    return params


def validated_section(root: Path, name: str) -> dict:
    """A stage's params section, checked against its schema (params.yaml may come from DVC)."""
    params = load_params(root)
    if name not in params:
        raise ConfigError(f"params.yaml: section `{name}` is missing; run `ftdata compose`")
    return check_section(name, params[name], SECTION_SCHEMAS[name], "params.yaml")


def pii_types(root: Path) -> tuple[str, ...]:
    """``clean.redact_pii.types`` of the project's params.yaml (all types without one)."""
    path = Path(root) / "params.yaml"
    if not path.is_file():
        return check_types(PII_TYPES)
    section = (load_params(Path(root)).get("clean") or {}).get("redact_pii") or {}
    return check_types(list(section.get("types", PII_TYPES)))


def chunk_size(root: Path) -> int:
    """``executor.chunk_size``: records per chunk, as the row stages (clean, quality) read it."""
    return validated_section(root, "executor")["chunk_size"]


def at_key(root: Path, origin: str, key: str) -> str:
    """``origin:line:column`` of ``key`` inside the conf file ``origin`` (just ``origin`` if unknown)."""
    path = root / origin
    if not origin.startswith("conf/") or not path.is_file():
        return origin
    try:
        mark = scan_file(path, origin).marks.get(key)
    except ConfigError:
        mark = None
    return f"{origin}:{mark[0]}:{mark[1]}" if mark else origin


def _project_section(name: str) -> dict | None:
    root = project_root()
    if not (root / "params.yaml").is_file():
        return None
    try:
        return validated_section(root, name)
    except ConfigError:
        if name in (load_params(root) or {}):
            raise  # present but invalid: the user must fix it
        return None


def executor_settings() -> dict:
    return _project_section("executor") or {"kind": "pandas"}


def cache_settings() -> dict | None:
    return _project_section("cache")
