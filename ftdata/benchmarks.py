"""The benchmark files of ``decontaminate.benchmarks``, read like sources into one index.

A benchmark is read by the ingest readers (any field mapping a source can have:
Q/A columns, chat turns, a classification text), so its texts are what the
training records' texts would be had it been a source. Every benchmark file must
sit under ``data/raw/benchmarks/``: that directory is the split stage's DVC
dependency, so editing a benchmark reruns the split and what follows it, and a
file elsewhere would be invisible to DVC. A benchmark line that cannot be read
stops the build (exit 3, naming file and line): a check that silently skipped
part of a benchmark would let its records through.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from ftdata.errors import ConfigError, SourceError
from ftdata.funnel import CONTAMINATION_TESTS as METHODS
from ftdata.ingest import read_source
from ftdata.ops.decontaminate import BenchmarkIndex, BenchmarkText, MinHashTest, record_units

BENCHMARK_DIR = "data/raw/benchmarks"


def _checked_path(name: str, path: str) -> str:
    where = f"decontaminate.benchmarks.{name}.path"
    parts = PurePosixPath(path).parts
    if (
        PurePosixPath(path).is_absolute()
        or ".." in parts
        or parts[:3] != tuple(BENCHMARK_DIR.split("/"))
    ):
        raise ConfigError(
            f"{where}: {path!r} must be under {BENCHMARK_DIR}/ (the split stage's DVC "
            "dependency; a benchmark elsewhere would not rerun the build when it changes)"
        )
    return path


def _as_source(cfg: dict) -> dict:
    """A benchmark's params as the source section the ingest readers take."""
    keep = ("path", "format", "license", "encoding", "glob", "fields", "roles", "csv_delimiter")
    return {**{k: cfg[k] for k in keep if k in cfg}, "kind": "public"}


def read_benchmark(root: Path, name: str, cfg: dict) -> list[BenchmarkText]:
    """Benchmark ``name``'s texts, each with the reference a reject names."""
    path = _checked_path(name, cfg["path"])
    if not (root / path).exists():
        raise SourceError(f"decontaminate.benchmarks.{name}.path: {path} does not exist")
    result = read_source(name, _as_source(cfg), root)
    if result.rejects:
        first = result.rejects[0]
        raise SourceError(
            f"decontaminate.benchmarks.{name}: {first.get('detail')} "
            f"({len(result.rejects)} unreadable benchmark record(s); fix the file or its fields)"
        )
    texts = []
    for rec in result.records:
        units, text = record_units(rec.get("messages"), rec.get("text"))
        if not text:
            continue
        meta = rec.get("meta") or {}
        natural = (json.loads(meta) if isinstance(meta, str) else meta).get("raw_id")
        ref = f"{name}:{rec['locator']}" + (f" (id {natural})" if natural else "")
        texts.append(BenchmarkText(benchmark=name, ref=ref, text=text, turns=tuple(units[1:])))
    return texts


def named_benchmarks(section: dict) -> list[tuple[str, dict]]:
    """(name, params) of each benchmark, by name; a name used twice is a ConfigError."""
    named: dict[str, dict] = {}
    for cfg in section.get("benchmarks") or []:
        if cfg["name"] in named:
            raise ConfigError(f"decontaminate.benchmarks: the name {cfg['name']!r} is used twice")
        named[cfg["name"]] = cfg
    return sorted(named.items())


def benchmark_index(root: Path, section: dict) -> BenchmarkIndex:
    """Every benchmark of the ``decontaminate`` section in one index."""
    texts: list[BenchmarkText] = []
    for name, cfg in named_benchmarks(section):
        texts.extend(read_benchmark(Path(root), name, cfg))
    minhash = section.get("minhash")
    return BenchmarkIndex(
        texts=texts,
        exact=bool(section.get("exact", True)),
        ngram=section.get("ngram"),
        minhash=MinHashTest(**minhash) if minhash else None,
        min_tokens=section.get("min_tokens", 6),
    )


def contamination_report(section: dict, index: BenchmarkIndex) -> dict:
    """Per benchmark: its texts, and the records rejected by each test (JSON-ready)."""
    sizes: dict[str, int] = {}
    for t in index.texts:
        sizes[t.benchmark] = sizes.get(t.benchmark, 0) + 1
    benchmarks = {}
    for name, cfg in named_benchmarks(section):
        by_method = {m: index.hits.get((name, m), 0) for m in METHODS}
        benchmarks[name] = {
            "path": cfg["path"],
            "license": cfg.get("license", "unknown"),
            "texts": sizes.get(name, 0),
            "contaminated": sum(by_method.values()),
            "by_method": by_method,
        }
    return {
        "splits": list(section.get("splits") or []),
        "contaminated": sum(b["contaminated"] for b in benchmarks.values()),
        "benchmarks": benchmarks,
    }
