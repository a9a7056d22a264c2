"""The executor interface shared by the pandas and dask executors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


class Executor:
    """Runs a pure function over a stream of items; results come back in input order.

    ``share`` makes a large read-only value (a cache table) available to every
    task once, instead of shipping it with each chunk.
    """

    kind = "base"
    workers = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def share(self, value: Any) -> Any:
        return value

    def map_ordered(
        self, fn: Callable[..., Any], items: Iterable[Any], *args: Any
    ) -> Iterator[Any]:
        raise NotImplementedError

    def map_all(self, fn: Callable[..., Any], items: Iterable[Any], *args: Any) -> list[Any]:
        """``map_ordered`` collected into a list (for small per-partition results)."""
        return list(self.map_ordered(fn, items, *args))
