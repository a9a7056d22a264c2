"""Peak RSS of the clean chain cache's part of a cold stage: N new entries arrive in chunks
and are written as the cache's shard; then a warm load of that shard.

``python bench/cache_rss.py N`` (run from the repo root, any ftdata checkout on
PYTHONPATH): synthetic entries of clean's shape (~1 KB of rewritten Chinese turns as
JSON), 2,000 per chunk as ``cached_chain`` hands them over. The code before the spill
held every chunk to the end (``write_new``); with ``ChainCache.spill`` they go to disk
past ``SPILL_BYTES``. Prints peak RSS in MiB after the cold write and after a warm load.
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import sys
import tempfile
from pathlib import Path

import pandas as pd

from ftdata.cache import ENTRY_COLUMNS, KEY, ChainCache
from ftdata.params import load_params
from ftdata.runner import op_calls
from ftdata.stage import project_root

CHUNK = 2_000
WORDS = "账单还款信用卡积分兑换额度提升分期手续费年费挂失补办密码重置"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunk(i: int, rng: random.Random, pool: list[str]) -> pd.DataFrame:
    rows = []
    for j in range(i * CHUNK, (i + 1) * CHUNK):
        key = hashlib.sha256(str(j).encode()).hexdigest()[:16]
        turns = [
            {"role": r, "content": f"{rng.choice(pool)}{j}"} for r in ("user", "assistant") * 2
        ]
        messages = json.dumps(turns, ensure_ascii=False, separators=(",", ":"))
        rows.append((key, -1, [0, 3], messages, None, '{"pii_types":[]}'))
    return pd.DataFrame(rows, columns=[KEY, *ENTRY_COLUMNS], dtype=object)


def main() -> None:
    n = int(sys.argv[1])
    calls = op_calls(load_params(project_root())["clean"], "clean")
    rng = random.Random(0)
    pool = ["".join(rng.choice(WORDS) for _ in range(120)) for _ in range(500)]
    with tempfile.TemporaryDirectory() as tmp:
        cache = ChainCache.load(Path(tmp), "cache", "clean", calls)
        base = peak_mib()
        if hasattr(cache, "spill"):
            with cache.spill() as spill:
                for i in range(n // CHUNK):
                    spill.add(chunk(i, rng, pool))
                spill.finish()
        else:  # the code before: every chunk held, one write at the end
            frames = [chunk(i, rng, pool) for i in range(n // CHUNK)]
            cache.write_new(frames)
            del frames
        cold = peak_mib()
        warm = ChainCache.load(Path(tmp), "cache", "clean", calls)
        print(
            json.dumps(
                {
                    "n": n,
                    "start_mib": round(base),
                    "cold_peak_mib": round(cold),
                    "warm_peak_mib": round(peak_mib()),
                    "entries": len(warm),
                    "warm_table_mib": round(warm.nbytes / 2**20),
                }
            )
        )


if __name__ == "__main__":
    main()
