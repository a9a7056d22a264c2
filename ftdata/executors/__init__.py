"""Executors: where the per-chunk work of a stage runs, chosen by ``executor.kind``.

``pandas`` runs chunks one after another in this process (today's streaming
loop: memory bounded by ``chunk_size``). ``dask`` submits the same chunk
function to a ``distributed`` cluster (a LocalCluster on 127.0.0.1, or the
scheduler at ``executor.address``). Results always come back in input order and
are written by this process, so the two give byte-identical outputs; the
executor only decides where the pure per-chunk work happens.
"""

from __future__ import annotations

from ftdata.errors import ConfigError
from ftdata.executors.base import Executor
from ftdata.executors.pandas_executor import PandasExecutor

KINDS = ("pandas", "dask")


def make_executor(section: dict | None) -> Executor:
    """An executor for the ``executor`` params section (None = in-process pandas)."""
    section = dict(section or {})
    kind = section.get("kind", "pandas")
    if kind == "pandas":
        return PandasExecutor(section)
    if kind == "dask":
        from ftdata.executors.dask_executor import DaskExecutor

        return DaskExecutor(section)
    raise ConfigError(
        f"params.yaml: executor.kind: unknown executor {kind!r} (known: {', '.join(KINDS)})"
    )


__all__ = ["Executor", "KINDS", "PandasExecutor", "make_executor"]
