"""ftdata doing exactly the peers' shared work, in process (run with the project's .venv).

``python bench/peers/ftdata_shared.py OUT_DIR [--executor pandas|dask]`` reads
``OUT_DIR/docs_in/docs.jsonl`` (written by run_peers.py, one document per
session) and runs, through ftdata's own runner and ops: text normalisation
(``fix_mojibake`` = ftfy where needed, ``nfkc``, ``collapse_whitespace``),
``redact_pii`` (phone and e-mail masking, validated),
``min_chars`` (8) and ``repetition`` filters (each computes the one score it
reads), then
``dedup`` (exact + MinHash LSH on character
5-grams, Jaccard 0.8, verified). Prints one JSON line: seconds, records/s,
peak RSS of this process, kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ftdata.executors import make_executor  # noqa: E402
from ftdata.io import write_records  # noqa: E402
from ftdata.ops.dedup import dedup_parquet  # noqa: E402
from ftdata.record import new_record  # noqa: E402
from ftdata.runner import op_calls, run_row_stage  # noqa: E402
from ftdata.stage_run import StageRun  # noqa: E402


def load(docs: Path) -> pd.DataFrame:
    rows = []
    for line in open(docs, encoding="utf-8"):
        doc = json.loads(line)
        rows.append(
            new_record(
                source="bench",
                source_kind="logs",
                license="internal",
                locator=doc["id"],
                raw=doc["text"],
                messages=[{"role": "user", "content": doc["text"]}],
            )
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--executor", default="pandas", choices=["pandas", "dask"])
    args = parser.parse_args()
    work = args.out / f"ftdata-{args.executor}"
    work.mkdir(parents=True, exist_ok=True)
    src = work / "in.parquet"
    write_records(src, load(args.out / "docs_in" / "docs.jsonl"))
    settings = {"kind": args.executor, "workers": 2, "threads_per_worker": 1, "chunk_size": 2000}
    peak = 0
    start = time.perf_counter()
    calls = op_calls(
        {
            "ops": ["fix_mojibake", "nfkc", "collapse_whitespace", "redact_pii"],
            "nfkc": {},
            "collapse_whitespace": {},
            "redact_pii": {"types": ["phone", "email"]},
        },
        "clean",
    ) + op_calls(
        # each filter computes the one score it reads (``score`` would add all eight)
        {
            "ops": ["min_chars", "repetition"],
            "min_chars": 8,
            "max_char_repetition": 0.35,
        },
        "quality",
    )
    counts = run_row_stage(
        "shared",
        [src],
        work / "filtered.parquet",
        work / "rej.parquet",
        work / "m.json",
        calls,
        2000,
        executor=settings,
        cache={},
    )
    peak = max(peak, psutil.Process().memory_info().rss)
    shell = StageRun(
        "dedup",
        work / "dedup.parquet",
        rejects=work / "dedup_rej.parquet",
        metrics=work / "dedup.json",
    )
    with make_executor(settings) as executor, shell as run:
        dedup_parquet(
            work / "filtered.parquet",
            work / "dedup.parquet",
            run,
            {"ngram": 5, "threshold": 0.8, "num_perm": 128, "seed": 1},
            executor,
            2000,
        )
    deduped = run.counts
    peak = max(peak, psutil.Process().memory_info().rss)
    seconds = time.perf_counter() - start
    summary = json.dumps(
        {
            "executor": args.executor,
            "documents": counts.n_in,
            "kept": deduped.out,
            "seconds": round(seconds, 2),
            "records_per_s": round(counts.n_in / seconds, 1),
            "peak_proc_rss_mib": round(peak / 2**20, 1),
        }
    )
    (args.out / f"ftdata-{args.executor}.json").write_text(summary + "\n", encoding="utf-8")
    print(summary)


if __name__ == "__main__":
    main()
