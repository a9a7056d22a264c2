"""Dedup quality of each tool's shared-work output against a corpus's planted truth.

``python bench/peers/near_dup_quality.py CORPUS_DIR OUT_DIR [--tool NAME ...]``

CORPUS_DIR holds ``truth.jsonl`` (bench/gen.py or bench/peers/gen_faker.py);
OUT_DIR is the shared-work directory (``docs_in/docs.jsonl`` and each tool's
output). Document ids are ``"sessions_a.jsonl:LINE"``, the truth's
``file:line``. Tools read (each only if its output is there):

- ``baseline``: ``baseline/kept.jsonl`` and ``baseline/rejects.jsonl`` (reason,
  duplicate_of), from pandas_baseline.py;
- ``ftdata-pandas`` / ``ftdata-dask``: ``ftdata-*/filtered.parquet`` (the dedup
  input), ``dedup.parquet`` (kept) and ``dedup_rej.parquet`` (reason,
  duplicate_of), from ftdata_shared.py; a record's ``locator`` is its doc id;
- ``datatrove``: ``datatrove/filtered`` (dedup input) and ``datatrove/final``
  (kept) JSONL, from run_peers.py;
- ``data_juicer``: ``data_juicer/out.jsonl`` (kept). Data-Juicer leaves no
  dedup input, so it is taken as every document minus the planted junk: a
  non-junk document its filters dropped then counts as a removed duplicate.

Definitions. A *family* is a planted original and every copy of it (its
``exact_dup`` and ``near_dup`` lines; copies are always made of an original).
D is the set of documents that reached dedup (survived the filters), K the
kept ones, R = D - K the removed-as-duplicate ones.

- Near-dup recall: over the planted ``near_dup`` pairs (copy, original) with
  true Jaccard >= 0.8 and both in D, the share that is *caught*: at most one of
  the two is kept and the family keeps at least one member. That is "exactly
  one of the two is kept", except that both may go when another family member
  (say an exact copy earlier in input order) is the one kept; a family left
  with nothing kept is over-removal, not a catch. Also given per Jaccard band,
  since LSH's chance of proposing a pair rises steeply from 0.8 to 0.9.
- Exact-dup recall: the same over planted ``exact_dup`` pairs.
- Precision: the share of R removed rightly. ``precision_planted`` counts only
  planted duplicates of something kept (the document is in a family and
  another member of that family is in K). ``precision`` also counts
  duplicates nobody planted but that are real (two identical junk lines, two
  sessions that happen to match): a removed document whose raw text, after
  ftdata's dedup normalisation, equals a kept document's, or, when the tool
  names a ``duplicate_of``, whose character 5-gram Jaccard to it is >= 0.8.
  ``near_precision`` is the same over the documents the tool itself rejected
  as near duplicates (when it gives reasons), and ``duplicate_of_in_family``
  the share of rejections naming a ``duplicate_of`` of their own family.

Prints one JSON object per tool and writes them all to
``OUT_DIR/near_dup_quality.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ftdata.ops.dedup import jaccard, normalise_for_dedup, shingles  # noqa: E402

BANDS = ((0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01))
TOOLS = ("baseline", "ftdata-pandas", "ftdata-dask", "datatrove", "data_juicer")


def _jsonl(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _ids_in(folder: Path) -> set[str]:
    """Doc ids in every JSONL (or .jsonl.gz) file under ``folder``."""
    ids: set[str] = set()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and (p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz")):
            ids.update(str(d["id"]) for d in _jsonl(p))
    return ids


def load_truth(corpus: Path) -> list[dict]:
    return list(_jsonl(corpus / "truth.jsonl"))


def read_tool(tool: str, out: Path, truth: list[dict]) -> dict | None:
    """``{"dedup_input", "kept", "reasons", "duplicate_of"}`` of one tool, or None if absent."""
    if tool == "baseline":
        d = out / "baseline"
        if not (d / "kept.jsonl").is_file():
            return None
        kept = {r["id"] for r in _jsonl(d / "kept.jsonl")}
        rejects = [r for r in _jsonl(d / "rejects.jsonl") if r["reason"].endswith("_duplicate")]
        return {
            "dedup_input": kept | {r["id"] for r in rejects},
            "kept": kept,
            "reasons": {r["id"]: r["reason"] for r in rejects},
            "duplicate_of": {r["id"]: r["duplicate_of"] for r in rejects},
        }
    if tool.startswith("ftdata-"):
        import pyarrow.parquet as pq

        d = out / tool
        if not (d / "dedup.parquet").is_file():
            return None
        filtered = pq.read_table(d / "filtered.parquet", columns=["id", "locator"]).to_pydict()
        locator = dict(zip(filtered["id"], filtered["locator"], strict=True))
        kept = set(pq.read_table(d / "dedup.parquet", columns=["locator"])["locator"].to_pylist())
        rej = pq.read_table(d / "dedup_rej.parquet").to_pydict()
        return {
            "dedup_input": set(locator.values()),
            "kept": kept,
            "reasons": {locator[i]: r for i, r in zip(rej["id"], rej["reason"], strict=True)},
            "duplicate_of": {
                locator[i]: locator.get(o)
                for i, o in zip(rej["id"], rej["duplicate_of"], strict=True)
            },
        }
    if tool == "datatrove":
        d = out / "datatrove"
        if not (d / "final").is_dir():
            return None
        return {"dedup_input": _ids_in(d / "filtered"), "kept": _ids_in(d / "final")}
    if tool == "data_juicer":
        path = out / "data_juicer" / "out.jsonl"
        if not path.is_file():
            return None
        junk = {f"{t['file']}:{t['line']}" for t in truth if t["kind"] in ("junk", "malformed")}
        docs = {d["id"] for d in _jsonl(out / "docs_in" / "docs.jsonl")}
        return {"dedup_input": docs - junk, "kept": {str(d["id"]) for d in _jsonl(path)}}
    raise ValueError(f"unknown tool {tool}")


def quality(
    truth: list[dict],
    dedup_input: set[str],
    kept: set[str],
    reasons: dict[str, str] | None = None,
    duplicate_of: dict[str, str | None] | None = None,
    texts: dict[str, str] | None = None,
) -> dict:
    """Recall and precision as the module docstring defines them."""
    family: dict[str, str] = {}  # doc -> the family's original
    pairs = []  # (kind, copy, original, jaccard)
    for t in truth:
        if t["kind"] in ("exact_dup", "near_dup"):
            copy = f"{t['file']}:{t['line']}"
            family[copy] = family[t["of"]] = t["of"]
            pairs.append((t["kind"], copy, t["of"], t.get("jaccard", 1.0)))
    kept_in = defaultdict(int)  # family -> kept members
    for doc in kept:
        if doc in family:
            kept_in[family[doc]] += 1

    def caught(copy: str, original: str) -> bool:
        return not (copy in kept and original in kept) and kept_in[family[original]] > 0

    out: dict = {}
    for kind in ("near_dup", "exact_dup"):
        planted = [p for p in pairs if p[0] == kind]
        eligible = [
            p for p in planted if p[3] >= 0.8 and p[1] in dedup_input and p[2] in dedup_input
        ]
        hits = [p for p in eligible if caught(p[1], p[2])]
        name = kind.split("_")[0]
        out[f"{name}_planted"] = len(planted)
        out[f"{name}_eligible"] = len(eligible)
        out[f"{name}_caught"] = len(hits)
        out[f"{name}_recall"] = round(len(hits) / len(eligible), 4) if eligible else None
        if kind == "near_dup":
            out["near_planted_below_0.8"] = sum(1 for p in planted if p[3] < 0.8)
            by_band = {}
            for lo, hi in BANDS:
                band = [p for p in eligible if lo <= p[3] < hi]
                got = sum(1 for p in band if caught(p[1], p[2]))
                by_band[f"{lo:.2f}-{min(hi, 1.0):.2f}"] = {
                    "pairs": len(band),
                    "recall": round(got / len(band), 4) if band else None,
                }
            out["near_recall_by_jaccard"] = by_band
    removed = dedup_input - kept
    correct = {doc for doc in removed if doc in family and kept_in[family[doc]] > 0}
    out["removed_as_duplicate"] = len(removed)
    out["removed_planted_dup_of_kept"] = len(correct)
    out["precision_planted"] = round(len(correct) / len(removed), 4) if removed else None
    if texts is not None:
        # Duplicates nobody planted (two junk lines alike, two sessions that happen to match):
        # right to remove when equal to a kept document, or within Jaccard 0.8 of the one the
        # tool names, as ftdata's dedup normalisation and character 5-grams judge it.
        def key(doc: str) -> str:  # punctuation-only text keys on itself, as in ftdata
            return normalise_for_dedup(texts.get(doc, "")) or texts.get(doc, "")

        kept_keys = {key(doc) for doc in kept}
        unplanted_exact = unplanted_near = 0
        for doc in removed - correct:
            if key(doc) in kept_keys:
                unplanted_exact += 1
                correct.add(doc)
            elif (duplicate_of or {}).get(doc) in texts:
                a, b = shingles(key(doc), 5), shingles(key(duplicate_of[doc]), 5)
                if jaccard(a, b) >= 0.8:
                    unplanted_near += 1
                    correct.add(doc)
        out["removed_unplanted_exact"] = unplanted_exact
        out["removed_unplanted_near"] = unplanted_near
        out["precision"] = round(len(correct) / len(removed), 4) if removed else None
    members = defaultdict(list)
    for doc, root in family.items():
        members[root].append(doc)
    # families that reached dedup and lost every member there (over-removal)
    out["families_all_removed"] = sum(
        1
        for root, docs in members.items()
        if kept_in[root] == 0 and any(doc in dedup_input for doc in docs)
    )
    if reasons:
        near = [doc for doc, r in reasons.items() if r == "near_duplicate"]
        out["near_rejected"] = len(near)
        out["near_precision"] = (
            round(sum(1 for doc in near if doc in correct) / len(near), 4) if near else None
        )
    if duplicate_of:
        named = [(d, o) for d, o in duplicate_of.items() if o is not None]
        same = sum(1 for d, o in named if d in family and family.get(o) == family[d])
        out["duplicate_of_in_family"] = round(same / len(named), 4) if named else None
    out["false_removals_sample"] = sorted(removed - correct)[:5]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="corpus directory with truth.jsonl")
    parser.add_argument("out", type=Path, help="shared-work directory (docs_in/, tool outputs)")
    parser.add_argument("--tool", action="append", choices=TOOLS, help="default: every one present")
    args = parser.parse_args()
    truth = load_truth(args.corpus)
    texts = {d["id"]: d["text"] for d in _jsonl(args.out / "docs_in" / "docs.jsonl")}
    results = {}
    for tool in args.tool or TOOLS:
        got = read_tool(tool, args.out, truth)
        if got is None:
            continue
        results[tool] = quality(truth, **got, texts=texts)
        print(json.dumps({"tool": tool, **results[tool]}))
    path = args.out / "near_dup_quality.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
