"""The Dask executor: chunks run on a ``distributed`` cluster, results return in order.

With no ``executor.address`` it starts a ``LocalCluster`` bound to 127.0.0.1
(``workers`` processes x ``threads_per_worker``; processes because the ops are
pure Python and hold the GIL), its HTTP endpoints on a free loopback port, and stops it when the stage
ends. With ``address`` (``tcp://host:port``) it connects to an existing
scheduler; its workers need ftdata (same version) installed and must be able to
import the ops this project uses.

At most ``workers * tasks_per_worker`` chunks are in flight: the driver reads
ahead only that far and writes results as they come back in order, so its
memory stays bounded like the pandas executor's.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ftdata.errors import ConfigError
from ftdata.executors.base import Executor

log = logging.getLogger("ftdata")


class DaskExecutor(Executor):
    kind = "dask"

    def __init__(self, section: dict):
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - dask is a dependency
            raise ConfigError(
                f"params.yaml: executor.kind: dask needs `dask[distributed]` ({err})"
            ) from None
        self.section = dict(section)
        self.address = section.get("address")
        self.cluster = None
        self.workers = int(section.get("workers", 2))
        threads = int(section.get("threads_per_worker", 1))
        if self.workers < 1 or threads < 1:
            raise ConfigError(
                "params.yaml: executor.workers and executor.threads_per_worker must be >= 1"
            )
        if self.address:
            try:
                self.client = Client(self.address)  # timeout: distributed.comm.timeouts.connect
            except OSError as err:
                raise ConfigError(
                    f"params.yaml: executor.address: cannot reach {self.address}: {err}"
                ) from None
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=threads,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # loopback, any free port (None still binds :8787)
                memory_limit=section.get("memory_limit", "auto"),
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        self.window = max(1, self.workers * threads * int(section.get("tasks_per_worker", 2)))
        log.info(
            "dask executor: %s, %d workers", self.address or "LocalCluster 127.0.0.1", self.workers
        )

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def share(self, value: Any) -> Any:
        # One copy per worker, sent once; tasks receive the value itself.
        return self.client.scatter(value, broadcast=True, hash=False)

    def map_ordered(
        self, fn: Callable[..., Any], items: Iterable[Any], *args: Any
    ) -> Iterator[Any]:
        pending: deque = deque()
        for item in items:
            pending.append(self.client.submit(fn, item, *args, pure=False))
            while len(pending) >= self.window:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _result(future) -> Any:
    try:
        return future.result()
    finally:
        future.release()
