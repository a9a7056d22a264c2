"""The benchmark's shared work run by datatrove and Data-Juicer (run with bench/.venv-peers).

``bench/.venv-peers/bin/python bench/peers/run_peers.py CORPUS_DIR OUT_DIR [--only NAME]``

Shared work, on the same generated sessions flattened to one document per
session (the turns' text joined by newlines, as ftdata's dedup reads it):
text normalisation (ftfy + NFKC), min-length (8 characters) and repetition
filters, exact dedup, MinHash near dedup on character 5-grams at Jaccard ~0.8
(9 bands x 13 rows, 117 permutations). Each peer runs in its own process; the
parent samples the process tree with psutil for wall time and peak RSS and
writes OUT_DIR/peers.json.

Where a peer has no switch for the exact setting, the closest stock component
is used and the difference is stated in ``notes``: datatrove's MinHash shingles
words, so a three-line subclass shingles characters instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import psutil

NGRAM, BANDS, ROWS, THRESHOLD, MIN_CHARS = 5, 9, 13, 0.8, 8


def flatten(corpus: Path, out: Path) -> int:
    """One JSONL document per well-formed session: {"id", "text"}."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out / "docs.jsonl", "w", encoding="utf-8") as sink:
        for name in ("sessions_a.jsonl", "sessions_b.jsonl"):
            for line_no, line in enumerate(open(corpus / name, encoding="utf-8"), 1):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                text = "\n".join(t.get("text") or "" for t in rec.get("turns", []) if t.get("text"))
                sink.write(
                    json.dumps({"id": f"{name}:{line_no}", "text": text}, ensure_ascii=False) + "\n"
                )
                n += 1
    return n


# ------------------------------------------------------------------ datatrove
def run_datatrove(work: Path) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.exact_dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
    from datatrove.pipeline.filters import GopherRepetitionFilter, LambdaFilter
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    class CharMinhashSignature(MinhashDedupSignature):
        """Character 5-grams (the stock step shingles words, which Chinese has no spaces for)."""

        def get_shingles(self, text):
            import numpy as np

            t = text.lower()
            grams = [t[i : i + NGRAM] for i in range(max(1, len(t) - NGRAM + 1))]
            return np.fromiter((self._hash_func(g) for g in grams), dtype=np.uint64).reshape(
                (-1, 1)
            )

    def nfkc(doc):
        doc.text = unicodedata.normalize("NFKC", doc.text)
        return True

    d = work / "datatrove"
    tasks = 2
    docs = str(work / "docs_in")
    common = {"tasks": tasks, "workers": 2, "skip_completed": False}
    steps = [
        (
            "normalise+filters",
            LocalPipelineExecutor(
                pipeline=[
                    JsonlReader(docs),
                    FTFYFormatter(),
                    LambdaFilter(nfkc),
                    LambdaFilter(lambda doc: len(doc.text.strip()) >= MIN_CHARS),
                    GopherRepetitionFilter(),
                    JsonlWriter(str(d / "filtered")),
                ],
                logging_dir=str(d / "logs/s1"),
                **common,
            ),
        ),
    ]
    exact_cfg = ExactDedupConfig(content_getter=lambda doc: doc.text.lower())
    steps += [
        (
            "exact sig",
            LocalPipelineExecutor(
                pipeline=[
                    JsonlReader(str(d / "filtered")),
                    ExactDedupSignature(str(d / "esig"), exact_cfg),
                ],
                logging_dir=str(d / "logs/s2"),
                **common,
            ),
        ),
        (
            "exact find",
            LocalPipelineExecutor(
                pipeline=[ExactFindDedups(str(d / "esig"), str(d / "edup"), exact_cfg)],
                logging_dir=str(d / "logs/s3"),
                tasks=1,
                workers=1,
                skip_completed=False,
            ),
        ),
        (
            "exact filter",
            LocalPipelineExecutor(
                pipeline=[
                    JsonlReader(str(d / "filtered")),
                    ExactDedupFilter(str(d / "edup"), exact_cfg),
                    JsonlWriter(str(d / "exact")),
                ],
                logging_dir=str(d / "logs/s4"),
                **common,
            ),
        ),
    ]
    mh_cfg = MinhashConfig(n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS)
    steps += [
        (
            "minhash sig",
            LocalPipelineExecutor(
                pipeline=[
                    JsonlReader(str(d / "exact")),
                    CharMinhashSignature(str(d / "msig"), config=mh_cfg),
                ],
                logging_dir=str(d / "logs/s5"),
                **common,
            ),
        ),
        (
            "minhash buckets",
            LocalPipelineExecutor(
                pipeline=[MinhashDedupBuckets(str(d / "msig"), str(d / "mbuckets"), config=mh_cfg)],
                logging_dir=str(d / "logs/s6"),
                tasks=BANDS,
                workers=2,
                skip_completed=False,
            ),
        ),
        (
            "minhash cluster",
            LocalPipelineExecutor(
                pipeline=[
                    MinhashDedupCluster(str(d / "mbuckets"), str(d / "mremove"), config=mh_cfg)
                ],
                logging_dir=str(d / "logs/s7"),
                tasks=1,
                workers=1,
                skip_completed=False,
            ),
        ),
        (
            "minhash filter",
            LocalPipelineExecutor(
                pipeline=[
                    JsonlReader(str(d / "exact")),
                    MinhashDedupFilter(str(d / "mremove")),
                    JsonlWriter(str(d / "final")),
                ],
                logging_dir=str(d / "logs/s8"),
                **common,
            ),
        ),
    ]
    timings = {}
    for name, executor in steps:
        t = time.perf_counter()
        executor.run()
        timings[name] = round(time.perf_counter() - t, 2)
    kept = sum(sum(1 for _ in open(p, "rb")) for p in _jsonl_files(d / "final"))
    return {"steps_s": timings, "kept": kept}


def _jsonl_files(folder: Path) -> list[Path]:
    import gzip

    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix == ".gz":
            plain = p.with_suffix("")
            plain.write_bytes(gzip.decompress(p.read_bytes()))
            out.append(plain)
        elif p.is_file() and p.suffix == ".jsonl":
            out.append(p)
    return out


# ------------------------------------------------------------------ Data-Juicer
DJ_CONFIG = """project_name: ftdata-bench
dataset_path: {docs}
export_path: {out}
np: 2
text_keys: text
open_tracer: false
use_cache: false
process:
  - fix_unicode_mapper:
      normalization: NFKC
  - whitespace_normalization_mapper:
  - text_length_filter:
      min_len: {min_chars}
  - character_repetition_filter:
      rep_len: 10
      max_ratio: 0.5
  - document_deduplicator:
      lowercase: true
      ignore_non_character: true
  - document_minhash_deduplicator:
      tokenization: character
      window_size: {ngram}
      num_permutations: {perms}
      jaccard_threshold: {threshold}
      num_bands: {bands}
      num_rows_per_band: {rows}
"""


def run_data_juicer(work: Path) -> dict:
    d = work / "data_juicer"
    d.mkdir(parents=True, exist_ok=True)
    cfg = d / "config.yaml"
    out = d / "out.jsonl"
    cfg.write_text(
        DJ_CONFIG.format(
            docs=work / "docs_in" / "docs.jsonl",
            out=out,
            min_chars=MIN_CHARS,
            ngram=NGRAM,
            perms=BANDS * ROWS,
            threshold=THRESHOLD,
            bands=BANDS,
            rows=ROWS,
        ),
        encoding="utf-8",
    )
    dj = Path(sys.executable).parent / "dj-process"
    proc = subprocess.run([str(dj), "--config", str(cfg)], capture_output=True, text=True, cwd=d)
    if proc.returncode != 0:
        raise SystemExit(f"dj-process failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    kept = sum(1 for _ in open(out, "rb")) if out.exists() else None
    return {"kept": kept}


# ------------------------------------------------------------------ harness
def measure(cmd: list[str], cwd: Path) -> dict:
    start = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = peak_proc = 0
    done = threading.Event()
    out = {}

    def drain():
        out["stdout"], out["stderr"] = proc.communicate()
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    while not done.is_set():
        try:
            rss = [p.memory_info().rss for p in [proc, *proc.children(recursive=True)]]
        except psutil.NoSuchProcess:
            rss = [0]
        except psutil.AccessDenied:
            rss = [0]
        peak_tree, peak_proc = max(peak_tree, sum(rss)), max(peak_proc, max(rss))
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{out['stdout'][-2000:]}\n{out['stderr'][-3000:]}")
    result = json.loads(out["stdout"].strip().splitlines()[-1])
    return {
        **result,
        "seconds": round(seconds, 2),
        "peak_tree_rss_mib": round(peak_tree / 2**20, 1),
        "peak_proc_rss_mib": round(peak_proc / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", choices=["datatrove", "data_juicer"])
    parser.add_argument("--child", choices=["datatrove", "data_juicer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.corpus, args.out = args.corpus.resolve(), args.out.resolve()  # children run in OUT
    if args.child:
        fn = run_datatrove if args.child == "datatrove" else run_data_juicer
        print(json.dumps(fn(args.out)))
        return
    n = flatten(args.corpus, args.out / "docs_in")
    results = {
        "documents": n,
        "shared_work": {
            "ngram": NGRAM,
            "bands": BANDS,
            "rows": ROWS,
            "threshold": THRESHOLD,
            "min_chars": MIN_CHARS,
        },
    }
    results["notes"] = {
        "datatrove": "FTFYFormatter + NFKC lambda, length LambdaFilter, GopherRepetitionFilter (defaults), ExactDedup (lower-cased text), MinHash with a char-5-gram get_shingles subclass; 2 tasks / 2 workers",
        "data_juicer": "fix_unicode_mapper(NFKC), whitespace_normalization_mapper, text_length_filter, character_repetition_filter(rep_len 10, max 0.5), document_deduplicator, document_minhash_deduplicator(character 5-grams); np 2; default executor",
    }
    for name in ("datatrove", "data_juicer"):
        if args.only and name != args.only:
            continue
        # A fresh work dir: datatrove skips tasks its logs mark completed, and both
        # tools would count a previous run's output files as kept documents.
        shutil.rmtree(args.out / name, ignore_errors=True)
        results[name] = measure(
            [sys.executable, __file__, str(args.corpus), str(args.out), "--child", name], args.out
        )
        results[name]["records_per_s"] = round(n / results[name]["seconds"], 1)
        print(name, json.dumps(results[name]), flush=True)
    (args.out / "peers.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
