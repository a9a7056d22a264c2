"""The op registry: config names ops, the registry maps names to functions.

A config can only name ops registered here (built-ins, or plugins exposed under
the ``ftdata.ops`` entry-point group); it can never name an arbitrary callable.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pandas as pd
from omegaconf import MISSING

from ftdata.errors import ConfigError


@dataclass
class OpResult:
    """What an op returns: rows kept (possibly changed) and rows rejected.

    ``rejected`` carries the record columns plus ``reason`` and ``detail``
    (and ``duplicate_of`` for dedup). Together, kept + rejected must account
    for every input row; the runner checks it.
    """

    kept: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)


BatchOp = Callable[..., OpResult]


def rejected_rows(batch: pd.DataFrame, mask, reason: str, details) -> pd.DataFrame:
    """Rows of ``batch`` where ``mask`` holds, with a reason and per-row details."""
    rej = batch[mask].copy()
    rej["reason"] = reason
    if isinstance(details, str):
        rej["detail"] = details
    else:
        rej["detail"] = list(pd.Series(list(details), index=batch.index)[mask])
    return rej


def split_by(batch: pd.DataFrame, reject_mask, reason: str, details) -> OpResult:
    """Common case of a filter op: reject where ``reject_mask``, keep the rest."""
    mask = pd.Series(list(reject_mask), index=batch.index, dtype=bool)
    return OpResult(
        kept=batch[~mask].reset_index(drop=True),
        rejected=rejected_rows(batch, mask, reason, details).reset_index(drop=True),
    )


@dataclass(frozen=True)
class Op:
    name: str
    fn: BatchOp
    stage: str
    doc: str
    # False for ops that only add fields (scores, flags) and never rewrite a record's
    # messages or text: their lineage entry says "scored / flagged", not "changed".
    changes_content: bool = True
    # The columns a costly annotating op writes, declared with the op: non-empty makes
    # it cacheable per record (``cache.ops``, ftdata/cache.py reads it from here).
    cached_columns: tuple[str, ...] = ()
    # Its params as a structured schema (OmegaConf checks params.yaml against it), read
    # from the signature at registration: the signature is the one place an op's params
    # and their defaults are written. None for an op taking ``**params``: it checks its own.
    params: type | None = None


_OPS: dict[str, Op] = {}
_loaded_plugins = False


def register(
    name: str,
    stage: str,
    *,
    changes_content: bool = True,
    cached_columns: tuple[str, ...] = (),
) -> Callable[[BatchOp], BatchOp]:
    """Register ``fn(batch, **params) -> OpResult`` under ``name`` for ``stage``.

    ``cached_columns``: the columns of an annotating op (rejects nothing, rewrites
    no text) that ``cache.ops`` may cache per record; a plugin op leaves it empty.
    """

    def deco(fn: BatchOp) -> BatchOp:
        if name in _OPS and _OPS[name].fn is not fn:
            raise ValueError(f"op {name!r} registered twice")
        _OPS[name] = Op(
            name=name,
            fn=fn,
            stage=stage,
            doc=(fn.__doc__ or "").strip(),
            changes_content=changes_content,
            cached_columns=tuple(cached_columns),
            params=params_schema(name, fn),
        )
        return fn

    return deco


def params_schema(name: str, fn: Callable) -> type | None:
    """A dataclass of ``fn``'s params after the first (the batch, or a text op's text).

    A param without a default is required (OmegaConf's MISSING); a tuple default becomes
    a list (YAML has no tuples); a type OmegaConf cannot check (a union of list and tuple,
    a Mapping) becomes the nearest one it can, or Any.
    """
    fn = inspect.unwrap(fn)
    params = list(inspect.signature(fn).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    hints = typing.get_type_hints(fn)
    fields = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            continue
        kind = _conf_type(hints.get(p.name, Any))
        default = MISSING if p.default is p.empty else p.default
        if isinstance(default, (list, tuple, dict, set)):
            value = field(default_factory=lambda d=default: _plain(d))
        else:
            value = field(default=default)
        fields.append((p.name, kind, value))
    title = "".join(part.title() for part in name.split("_")) + "Params"
    return dataclasses.make_dataclass(title, fields)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def _conf_type(hint: Any) -> Any:
    """The nearest type OmegaConf's structured configs check."""
    if hint in (bool, int, float, str, Any):
        return hint
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [_conf_type(a) for a in args if a is not type(None)]
        if len(set(map(repr, inner))) != 1 and all(typing.get_origin(i) is list for i in inner):
            inner = inner[:1]  # list[str] | tuple[str, ...]: a list in YAML
        if len(set(map(repr, inner))) != 1:
            return Any
        return inner[0] | None if type(None) in args and inner[0] is not Any else inner[0]
    if origin in (list, tuple, set, Sequence) or hint in (list, tuple, set):
        elems = [a for a in args if a is not Ellipsis]
        return list[_conf_type(elems[0])] if len(set(elems)) == 1 else list[Any]
    if origin in (dict, Mapping) or hint is dict:
        return dict[str, _conf_type(args[1])] if len(args) == 2 else dict[str, Any]
    return Any


def text_op(name: str, stage: str = "clean") -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register a ``str -> str`` transform; it runs over every message and ``text``."""

    def deco(fn: Callable[..., str]) -> Callable[..., str]:
        def batch_fn(batch: pd.DataFrame, **params) -> OpResult:
            return OpResult(kept=map_text(batch, lambda s: fn(s, **params)))

        batch_fn.__doc__ = fn.__doc__
        batch_fn.__wrapped__ = fn  # its params are the text function's (params_schema)
        register(name, stage)(batch_fn)
        return fn

    return deco


def map_text(batch: pd.DataFrame, fn: Callable[[str], str]) -> pd.DataFrame:
    """Apply ``fn`` to every message content and to ``text``; returns a new frame."""
    out = batch.copy()
    out["messages"] = [
        [{**m, "content": fn(m["content"]) if m.get("content") else m.get("content")} for m in msgs]
        for msgs in batch["messages"]
    ]
    if "text" in batch.columns:
        out["text"] = [fn(t) if isinstance(t, str) and t else t for t in batch["text"]]
    return out


def _load_plugins() -> None:
    """Ops of other distributions (the ``ftdata.ops`` entry-point group), loaded once.

    Built-in ops are registered by importing the catalog, ftdata.catalog, which is where
    callers get ``get_op`` from: the registry itself imports no op, so every op
    module can import it without a cycle.
    """
    global _loaded_plugins
    if _loaded_plugins:
        return
    _loaded_plugins = True
    for ep in entry_points(group="ftdata.ops"):
        ep.load()


def get_op(name: str, *, where: str = "ops") -> Op:
    _load_plugins()
    if name not in _OPS:
        close = difflib.get_close_matches(name, list(_OPS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{where}: unknown op {name!r}{hint} (known: {', '.join(sorted(_OPS))})")
    return _OPS[name]


def all_ops() -> dict[str, Op]:
    _load_plugins()
    return dict(_OPS)
