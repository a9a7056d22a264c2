"""Benchmark `ftdata diff` on two synthetic revisions of 1M records each (target: < 60 s).

Generates revision A (records.parquet + rejects) and revision B derived from it
the way a real release changes a dataset: 2 % of records newly rejected by a
stricter threshold, 3 % added by a new source, 1 % with edited messages, 0.5 %
moved between splits, 0.5 % relabelled, and every record of one source
re-scored. Then times, separately:

1. ``diff_snapshots`` on the two revisions' tables already in memory;
2. reading the parquet files plus the diff (what ``ftdata diff`` does on the workspace);
3. ``diff_revisions`` through DVC: both revisions committed and tagged in a temporary
   git + DVC repository, records and rejects read from the DVC cache by tag.

Usage: ``python bench/bench_diff.py [--records 1000000] [--out bench/out/diff] [--no-dvc]``
Prints a markdown table for bench/RESULTS.md. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ftdata.diff import diff_revisions, diff_snapshots  # noqa: E402
from ftdata.io import PARQUET_OPTS, REJECT_COLUMNS  # noqa: E402
from ftdata.record import MESSAGE, OP_ENTRY  # noqa: E402

SOURCES = np.array(
    ["chat_logs", "legacy_tickets", "bank_faq_html", "crowd_qa", "bank_manual_md"], dtype=object
)
LABELS = np.array(
    [
        f"{a}>{b}>{c}"
        for a in ("账户问题", "产品问题")
        for b in ("账单", "还款", "额度", "积分", "分期")
        for c in ("查询", "办理")
    ],
    dtype=object,
)
SPLITS = np.array(["train", "val", "test"], dtype=object)
USER = [
    "我的信用卡账单怎么查询",
    "积分什么时候过期",
    "How do I raise my credit limit",
    "分期手续费是多少",
    "卡丢了怎么挂失",
]
AGENT = [
    "您可以登录手机银行查看本期账单和明细",
    "积分有效期为三年，到期前会短信提醒",
    "You can apply in the app after six months",
    "手续费按期收取，费率以页面为准",
    "请立即致电客服挂失并申请补卡",
]


def _strings(prefix: list[str], ids: np.ndarray, salt: str = "") -> np.ndarray:
    """Distinct texts: a template plus the record number (so no two records share content)."""
    templates = np.array(prefix, dtype=object)[ids % len(prefix)]
    return np.array(
        [f"{t}（工单{i}{salt}）" for t, i in zip(templates, ids, strict=True)], dtype=object
    )


def make_records(
    n: int, start: int, rng: np.random.Generator, source: str | None = None
) -> pa.Table:
    ids = np.arange(start, start + n)
    turns = rng.integers(1, 3, size=n) * 2  # 2 or 4 messages
    offsets = np.concatenate([[0], np.cumsum(turns)]).astype(np.int32)
    total = int(offsets[-1])
    owner = np.repeat(ids, turns)
    is_user = (np.arange(total) - np.repeat(offsets[:-1], turns)) % 2 == 0
    roles = np.where(is_user, "user", "assistant").astype(object)
    content = np.where(is_user, _strings(USER, owner), _strings(AGENT, owner))
    messages = pa.ListArray.from_arrays(
        pa.array(offsets),
        pa.StructArray.from_arrays(
            [pa.array(roles, pa.string()), pa.array(content, pa.string())], fields=list(MESSAGE)
        ),
    )
    src = np.full(n, source, dtype=object) if source else SOURCES[ids % len(SOURCES)]
    ops_offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    ops = pa.ListArray.from_arrays(
        ops_offsets,
        pa.StructArray.from_arrays(
            [pa.array(["quality"] * n), pa.array(["score"] * n), pa.array(["c7c3ff3ec805"] * n)],
            fields=list(OP_ENTRY),
        ),
    )
    empty = pa.array(np.zeros(n + 1, dtype=np.int32))
    columns = {
        "id": pa.array([f"{i:016x}" for i in ids], pa.string()),
        "source": pa.array(src, pa.string()),
        "source_kind": pa.array(np.full(n, "logs", dtype=object), pa.string()),
        "license": pa.array(np.full(n, "internal-use-only", dtype=object), pa.string()),
        "locator": pa.array(
            [f"data/raw/{s}.jsonl:{i}" for s, i in zip(src, ids, strict=True)], pa.string()
        ),
        "conversation_id": pa.array([f"c{i // 3}" for i in ids], pa.string()),
        "messages": messages,
        "text": pa.nulls(n, pa.string()),
        "label": pa.array(LABELS[rng.integers(0, len(LABELS), size=n)], pa.string()),
        "annotations": pa.ListArray.from_arrays(
            empty,
            pa.array(
                [],
                pa.struct(
                    [
                        ("annotator", pa.string()),
                        ("label", pa.string()),
                        ("guideline_version", pa.string()),
                    ]
                ),
            ),
        ),
        "parents": pa.ListArray.from_arrays(empty, pa.array([], pa.string())),
        "ops": ops,
        "meta": pa.nulls(n, pa.string()),
        "lang": pa.array(np.where(ids % 5 == 2, "en", "zh").astype(object), pa.string()),
        "split": pa.array(SPLITS[rng.choice(3, size=n, p=[0.8, 0.1, 0.1])], pa.string()),
    }
    for name in (
        "chars",
        "char_repetition",
        "special_ratio",
        "readability",
        "glossary",
        "grade_zh",
    ):
        columns[f"score_{name}"] = pa.array(rng.random(n) * 100, pa.float64())
    return pa.table(columns)


def make_rejects(records: pa.Table, stage: str, reason: str) -> pa.Table:
    n = records.num_rows
    ids = records.column("id").to_pylist()
    locators = records.column("locator").to_pylist()
    sources = records.column("source").to_pylist()
    bodies = [
        json.dumps({"id": i, "source": s, "locator": loc, "messages": []}, ensure_ascii=False)
        for i, s, loc in zip(ids, sources, locators, strict=True)
    ]
    cols = {
        "stage": [stage] * n,
        "reason": [reason] * n,
        "detail": [f"score_chars below quality.min_chars ({loc})" for loc in locators],
        "id": ids,
        "source": sources,
        "locator": locators,
        "duplicate_of": [None] * n,
        "record": bodies,
    }
    return pa.table({c: pa.array(cols[c], pa.string()) for c in REJECT_COLUMNS})


def derive_head(
    base: pa.Table, base_rejects: pa.Table, rng: np.random.Generator
) -> tuple[pa.Table, pa.Table]:
    n = base.num_rows
    order = rng.permutation(n)
    removed = np.sort(order[: n // 50])
    edited = np.sort(order[n // 50 : n // 50 + n // 100])
    moved = np.sort(order[n // 50 + n // 100 : n // 50 + n // 100 + n // 200])
    relabelled = np.sort(order[n // 50 + n // 100 + n // 200 : n // 50 + n // 100 + n // 100])

    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    head = base
    # edited messages: rebuild the messages column with a changed assistant answer for `edited`
    msgs = base.column("messages").combine_chunks()
    offsets = msgs.offsets.to_numpy()
    flat = msgs.flatten()
    content = flat.field("content").to_numpy(zero_copy_only=False).copy()
    last = offsets[edited + 1] - 1
    content[last] = np.array([c + "（已更新）" for c in content[last]], dtype=object)
    new_msgs = pa.ListArray.from_arrays(
        msgs.offsets,
        pa.StructArray.from_arrays(
            [flat.field("role"), pa.array(content, pa.string())], fields=list(MESSAGE)
        ),
    )
    head = head.set_column(head.schema.get_field_index("messages"), "messages", new_msgs)
    split = base.column("split").to_numpy(zero_copy_only=False).copy()
    split[moved] = np.where(split[moved] == "train", "val", "train")
    head = head.set_column(
        head.schema.get_field_index("split"), "split", pa.array(split, pa.string())
    )
    label = base.column("label").to_numpy(zero_copy_only=False).copy()
    label[relabelled] = LABELS[
        (np.searchsorted(np.sort(LABELS), label[relabelled]) + 1) % len(LABELS)
    ]
    head = head.set_column(
        head.schema.get_field_index("label"), "label", pa.array(label, pa.string())
    )
    rescored = base.column("source").to_numpy(zero_copy_only=False) == "crowd_qa"
    glossary = base.column("score_glossary").to_numpy().copy()
    glossary[rescored] += 1.0
    head = head.set_column(
        head.schema.get_field_index("score_glossary"), "score_glossary", pa.array(glossary)
    )

    newly_rejected = make_rejects(base.take(pa.array(removed)), "quality", "too_short")
    head = head.filter(pa.array(keep))
    added = make_records(n * 3 // 100, 10_000_000, rng, source="complaints")
    head = pa.concat_tables([head, added])
    return head, pa.concat_tables([base_rejects, newly_rejected])


def write(folder: Path, records: pa.Table, rejects: pa.Table) -> None:
    (folder / "data/processed").mkdir(parents=True, exist_ok=True)
    (folder / "data/interim/rejects").mkdir(parents=True, exist_ok=True)
    pq.write_table(records, folder / "data/processed/records.parquet", **PARQUET_OPTS)
    pq.write_table(rejects, folder / "data/interim/rejects/quality.parquet", **PARQUET_OPTS)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sh(cwd: Path, *cmd: str) -> None:
    subprocess.run(
        cmd,
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--rejects", type=int, default=None, help="base rejects (default: 20 %% of records)"
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    parser.add_argument("--no-dvc", action="store_true", help="skip the git + DVC measurement")
    args = parser.parse_args()
    rng = np.random.default_rng(20240315)
    n = args.records
    rows = []

    t = time.perf_counter()
    base = make_records(n, 0, rng)
    base_rejects = make_rejects(
        make_records(args.rejects or n // 5, 20_000_000, rng), "dedup", "near_duplicate"
    )
    head, head_rejects = derive_head(base, base_rejects, rng)
    gen = time.perf_counter() - t
    print(
        f"generated {base.num_rows} -> {head.num_rows} records, {head_rejects.num_rows} rejects in {gen:.1f} s",
        file=sys.stderr,
    )

    t = time.perf_counter()
    diff = diff_snapshots(base, head, base_rejects, head_rejects, base="A", head="B")
    rows.append(("diff_snapshots (tables in memory)", time.perf_counter() - t))
    counts = diff.counts

    work = args.out or Path(tempfile.mkdtemp(prefix="ftdata-bench-diff-"))
    try:
        write(work / "A", base, base_rejects)
        write(work / "B", head, head_rejects)
        size_mb = (work / "A/data/processed/records.parquet").stat().st_size / 1e6
        del base, head, base_rejects, head_rejects
        t = time.perf_counter()
        a = (
            pq.read_table(work / "A/data/processed/records.parquet"),
            pq.read_table(work / "A/data/interim/rejects/quality.parquet"),
        )
        b = (
            pq.read_table(work / "B/data/processed/records.parquet"),
            pq.read_table(work / "B/data/interim/rejects/quality.parquet"),
        )
        read = time.perf_counter() - t
        t = time.perf_counter()
        again = diff_snapshots(a[0], b[0], a[1], b[1], base="A", head="B")
        rows.append(("read parquet + diff_snapshots", read + time.perf_counter() - t))
        assert again.counts == counts
        del a, b, again

        if not args.no_dvc:
            repo = work / "repo"
            repo.mkdir()
            sh(repo, "git", "init", "-q")
            sh(repo, "git", "config", "user.email", "bench@ftdata.invalid")
            sh(repo, "git", "config", "user.name", "bench")
            sh(repo, "dvc", "init", "-q")
            for tag, src in (("A", work / "A"), ("B", work / "B")):
                shutil.copytree(src / "data", repo / "data", dirs_exist_ok=True)
                sh(
                    repo,
                    "dvc",
                    "add",
                    "-q",
                    "data/processed/records.parquet",
                    "data/interim/rejects",
                )
                sh(repo, "git", "add", "-A")
                sh(repo, "git", "commit", "-q", "-m", tag)
                sh(repo, "git", "tag", tag)
            t = time.perf_counter()
            via_dvc = diff_revisions(repo, "A", "B")
            rows.append(
                (
                    "`diff_revisions(root, 'A', 'B')` through DVC (git tags, DVC cache)",
                    time.perf_counter() - t,
                )
            )
            assert via_dvc.counts == counts
    finally:
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{n:,} records per revision (records.parquet {size_mb:.0f} MB, zstd); {os.cpu_count()} cores\n"
    )
    print("| measurement | seconds |")
    print("|---|---:|")
    for what, secs in rows:
        print(f"| {what} | {secs:.1f} |")
    print(f"\npeak RSS {peak_rss_mb():,.0f} MB\n")
    print("counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print("fields: " + ", ".join(f"{k} {v:,}" for k, v in diff.fields.items()))


if __name__ == "__main__":
    main()
