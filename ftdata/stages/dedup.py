"""Dedup: exact and MinHash near duplicates across the whole dataset, streamed."""

from __future__ import annotations

from ftdata.executors import make_executor
from ftdata.ops.dedup import dedup_parquet, load_key_cache, load_pair_scores
from ftdata.params import cache_settings, executor_settings, validated_section
from ftdata.stage import out_path, project_root, stage_main
from ftdata.stage_run import StageRun


@stage_main("dedup")
def main() -> None:
    root = project_root()
    section = validated_section(root, "dedup")
    out = out_path("dedup")
    settings = executor_settings()
    cache = cache_settings()
    # Per-record exact and band keys (cache.stages: [dedup]): only new content is signed.
    # and the Jaccard of candidate pairs verified before: only new pairs are verified.
    key_cache = load_key_cache(root, cache, section)
    pair_scores = load_pair_scores(root, cache, section)
    with StageRun("dedup", out) as run, make_executor(settings) as executor:
        # Signatures and verification run on the executor; this process decides
        # and writes, so pandas and dask give the same bytes.
        dedup_parquet(
            out_path("clean"),
            out,
            run,
            section,
            executor,
            settings.get("chunk_size", 2000),
            key_cache=key_cache,
            pair_scores=pair_scores,
        )
        if cache:  # a DVC out (persist: true) even when the dedup key cache is off
            (root / cache["dir"] / "dedup").mkdir(parents=True, exist_ok=True)
