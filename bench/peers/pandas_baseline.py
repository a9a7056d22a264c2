"""The plain baseline: the benchmark's shared work as one pandas + ftfy + datasketch script.

``python bench/peers/pandas_baseline.py OUT_DIR [--corpus CORPUS_DIR]``

What a data engineer would write without a framework: straightforward,
idiomatic, one process, no tricks. It reads ``OUT_DIR/docs_in/docs.jsonl``
(one document per session, ``{"id", "text"}``, as ``run_peers.py`` writes it;
with ``--corpus`` it is written first with run_peers's own ``flatten``) and
runs, in this order:

1. cleaning: ``ftfy.fix_text``, NFKC, horizontal whitespace collapsed (line
   breaks between turns kept), then masking: e-mail addresses -> ``<EMAIL>``,
   phone numbers -> ``<PHONE>`` (Chinese mobiles ``1[3-9]`` + 9 digits with an
   optional +86 / 0086, international ``+CC ...`` numbers, North American
   ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567`` / ``001-...`` with
   an optional ``x123`` extension);
2. min-length filter: at least 8 characters of cleaned text (``MIN_CHARS``);
3. repetition filter: the share of the text's character 5-grams (lower-cased,
   every position) that repeat a 5-gram seen earlier in the same text;
   ``MAX_DUP_5GRAM`` (0.5) or more is rejected. "哈哈哈哈哈哈哈哈" scores 0.75
   and one sentence said six times ~0.8, while dialogue scores ~0.1 (99th
   percentile 0.33 on the Faker corpus, 0.39 on gen.py's). It is the
   character form of the duplicate-n-gram fraction of Gopher's repetition
   filter (datatrove's ``GopherRepetitionFilter``) and close to Data-Juicer's
   ``character_repetition_filter`` that run_peers.py uses, without their
   tables of per-n thresholds;
4. exact dedup: ``drop_duplicates`` on a key = cleaned text, case-folded, with
   every whitespace and punctuation character removed (``[\\W_]``), so copies
   differing in spacing, full-width forms (NFKC already folded them), case or a
   trailing full stop are one text; a text with no letter, digit or CJK
   character keys on its cleaned text instead (symbol runs are not all merged);
5. near dedup: datasketch ``MinHash`` (117 permutations, seed 1, signed with
   ``MinHash.generator``) over the set of character 5-grams of the key (a key of 5 characters or fewer is one shingle),
   ``MinHashLSH`` at threshold 0.8 with 9 bands x 13 rows (run_peers.py's
   setting; datasketch picks the same for 0.8 / 117 itself). Documents are
   visited in input order: query the index, if it returns a candidate (only
   kept documents are ever inserted) drop the document as a near duplicate of
   the earliest candidate, else insert it. Like the peers' MinHash steps,
   candidates are not verified with an exact Jaccard.

Writes ``OUT_DIR/baseline/kept.jsonl`` (``{"id", "text"}``, the cleaned text),
``OUT_DIR/baseline/rejects.jsonl`` (``{"id", "reason", "duplicate_of"}``,
reason one of too_short / repetitive / exact_duplicate / near_duplicate) and
``OUT_DIR/baseline.json``, and prints that same JSON line: seconds (read to
write, all of it), docs/s, kept, the per-step seconds and the peak RSS of this
process (psutil sampled every 50 ms in a thread, and ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import threading
import time
import unicodedata
from pathlib import Path

import ftfy
import pandas as pd
import psutil
from datasketch import MinHash, MinHashLSH

NGRAM, BANDS, ROWS, THRESHOLD, MIN_CHARS = 5, 9, 13, 0.8, 8
NUM_PERM = BANDS * ROWS
MAX_DUP_5GRAM = 0.5

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EXT = r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"
PHONE = re.compile(
    "|".join(
        [
            r"(?<!\d)(?:(?:\+|00)86[\s-]?)?1[3-9]\d{9}(?!\d)",  # Chinese mobile
            r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"
            + EXT,  # international
            r"(?<![\w(])(?:(?:\+?1|001)[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"
            + EXT
            + r"(?!\d)",  # North American
        ]
    )
)
HSPACE = re.compile(r"[^\S\n]+")
NOT_CONTENT = re.compile(r"[\W_]+")


def clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", ftfy.fix_text(text))
    text = "\n".join(line.strip() for line in HSPACE.sub(" ", text).split("\n") if line.strip())
    text = EMAIL.sub("<EMAIL>", text)
    return PHONE.sub("<PHONE>", text)


def dup_5gram_share(text: str) -> float:
    """Share of the character 5-grams (every position) that repeat an earlier one."""
    t = text.lower()
    grams = [t[i : i + NGRAM] for i in range(len(t) - NGRAM + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def shingles(key: str) -> set[str]:
    if len(key) <= NGRAM:
        return {key}
    return {key[i : i + NGRAM] for i in range(len(key) - NGRAM + 1)}


class PeakRSS:
    """Peak resident memory of this process: psutil every 50 ms, and ru_maxrss at the end."""

    def __enter__(self) -> PeakRSS:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            self._stop.wait(0.05)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def near_dedup(keys: pd.Series, ids: pd.Series) -> list[str | None]:
    """For each document in order, the kept document it near-duplicates, or None (kept)."""
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(BANDS, ROWS))
    # MinHash.generator: datasketch's own way to sign many sets with one set of permutations
    # (a MinHash() per document would redraw them every time), one signature at a time.
    signatures = MinHash.generator(
        ([s.encode("utf-8") for s in shingles(key)] for key in keys), num_perm=NUM_PERM, seed=1
    )
    order = {}
    verdict = []
    for doc_id, m in zip(ids, signatures, strict=True):
        hits = lsh.query(m)
        if hits:
            verdict.append(min(hits, key=order.__getitem__))
        else:
            lsh.insert(doc_id, m)
            order[doc_id] = len(order)
            verdict.append(None)
    return verdict


def _rss_mib() -> float:
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def run(docs_path: Path, rss_after: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The shared work on docs.jsonl: (kept, rejects, seconds per step); RSS per step into rss_after."""
    steps = {}
    t = time.perf_counter()
    df = pd.read_json(docs_path, lines=True, dtype={"id": str, "text": str})
    df["text"] = df["text"].fillna("")
    steps["read"] = time.perf_counter() - t
    rss_after["read"] = _rss_mib()

    t = time.perf_counter()
    df["text"] = df["text"].map(clean)
    steps["clean+mask"] = time.perf_counter() - t
    rss_after["clean+mask"] = _rss_mib()

    t = time.perf_counter()
    df["reason"] = None
    df["duplicate_of"] = None
    df.loc[df["text"].str.len() < MIN_CHARS, "reason"] = "too_short"
    rep = df["text"].map(dup_5gram_share)
    df.loc[df["reason"].isna() & (rep >= MAX_DUP_5GRAM), "reason"] = "repetitive"
    steps["filters"] = time.perf_counter() - t
    rss_after["filters"] = _rss_mib()

    t = time.perf_counter()
    key = df["text"].str.casefold().str.replace(NOT_CONTENT, "", regex=True)
    df["key"] = key.where(key != "", df["text"])
    live = df[df["reason"].isna()]
    dup = live.duplicated("key", keep="first")  # what drop_duplicates("key") drops
    first_id = live.groupby("key", sort=False)["id"].transform("first")
    df.loc[dup[dup].index, "reason"] = "exact_duplicate"
    df.loc[dup[dup].index, "duplicate_of"] = first_id[dup]
    steps["exact_dedup"] = time.perf_counter() - t
    rss_after["exact_dedup"] = _rss_mib()

    t = time.perf_counter()
    live = df[df["reason"].isna()]
    near_of = pd.Series(near_dedup(live["key"], live["id"]), index=live.index).dropna()
    df.loc[near_of.index, "reason"] = "near_duplicate"
    df.loc[near_of.index, "duplicate_of"] = near_of
    steps["near_dedup"] = time.perf_counter() - t
    rss_after["near_dedup"] = _rss_mib()

    kept = df.loc[df["reason"].isna(), ["id", "text"]]
    rejects = df.loc[df["reason"].notna(), ["id", "reason", "duplicate_of"]]
    return kept, rejects, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="OUT_DIR with docs_in/docs.jsonl")
    parser.add_argument(
        "--corpus", type=Path, help="write OUT_DIR/docs_in/docs.jsonl from this corpus first"
    )
    args = parser.parse_args()
    docs = args.out / "docs_in" / "docs.jsonl"
    if args.corpus:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from run_peers import flatten

        flatten(args.corpus, docs.parent)
    work = args.out / "baseline"
    work.mkdir(parents=True, exist_ok=True)
    with PeakRSS() as rss:
        start = time.perf_counter()
        rss_after: dict[str, float] = {}
        kept, rejects, steps = run(docs, rss_after)
        t = time.perf_counter()
        kept.to_json(work / "kept.jsonl", orient="records", lines=True, force_ascii=False)
        rejects.to_json(work / "rejects.jsonl", orient="records", lines=True, force_ascii=False)
        steps["write"] = time.perf_counter() - t
        rss_after["write"] = _rss_mib()
        seconds = time.perf_counter() - start
    n = len(kept) + len(rejects)
    summary = json.dumps(
        {
            "tool": "pandas-baseline",
            "documents": n,
            "kept": len(kept),
            "removed": rejects["reason"].value_counts().to_dict(),
            "seconds": round(seconds, 2),
            "docs_per_s": round(n / seconds, 1),
            "records_per_s": round(n / seconds, 1),
            "steps_s": {k: round(v, 2) for k, v in steps.items()},
            "peak_rss_mib": round(rss.peak / 2**20, 1),
            "peak_proc_rss_mib": round(rss.peak / 2**20, 1),
            "rss_after_step_mib": rss_after,
            "shared_work": {
                "ngram": NGRAM,
                "bands": BANDS,
                "rows": ROWS,
                "num_perm": NUM_PERM,
                "threshold": THRESHOLD,
                "min_chars": MIN_CHARS,
                "max_dup_5gram": MAX_DUP_5GRAM,
            },
        }
    )
    (args.out / "baseline.json").write_text(summary + "\n", encoding="utf-8")
    print(summary)


if __name__ == "__main__":
    main()
