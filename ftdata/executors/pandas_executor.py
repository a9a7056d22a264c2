"""The in-process executor: chunks run one after another, lazily (bounded memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ftdata.executors.base import Executor


class PandasExecutor(Executor):
    kind = "pandas"

    def __init__(self, section: dict | None = None):
        self.section = dict(section or {})

    def map_ordered(
        self, fn: Callable[..., Any], items: Iterable[Any], *args: Any
    ) -> Iterator[Any]:
        # A generator, not a list: the next chunk is read only when the caller
        # has written the previous one, so peak memory is about one chunk.
        for item in items:
            yield fn(item, *args)
