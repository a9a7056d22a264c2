"""Write the example annotation exports under data/raw/annotations/ (deterministic).

The annotations refer to real record ids of the example build (ids are stable:
source + locator + raw hash), so the generator needs the records that reach
the annotate stage. By default it builds the example up to `quality` in a
temporary copy of the project; `--records` / `--spot-check` reuse an existing
build instead:

    python tools/make_annotation_data.py
    python tools/make_annotation_data.py --records data/interim/quality.parquet \
        --spot-check data/processed/review/spot_check.jsonl --dedup-rejects data/interim/rejects/dedup.parquet

What it plants (see data/raw/annotations/README.md):
- three batches in three tools: Label Studio JSON export, doccano per-user JSONL, plain CSV;
- three annotators: li_na and wang_qiang are careful, zhao_lei is noticeably worse;
- wang_qiang labels batch_03 under guideline 1.0, with the 1.0 taxonomy (renamed, merged
  and split labels) and 1.0's boundary (积分过期 counted as 兑换);
- gold items in every batch, hard items on which all annotators split, cancelled
  annotations, ids of records that dedup removed, labels outside the taxonomy,
  unlabelled doccano lines, an adjudication file and spot-check verdicts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ftdata.annotate.classification import classification_text  # noqa: E402
from ftdata.io import read_records  # noqa: E402

OUT = Path("data/raw/annotations")
SEED = 20240801
SOURCES = ("chat_logs", "legacy_tickets", "crowd_qa", "bank_faq_html")
ANNOTATORS = {"li_na": 1, "wang_qiang": 2, "zhao_lei": 3}  # Label Studio user ids
# Error rates on ordinary items; gold errors are planted exactly (see GOLD_ERRORS).
ERROR_RATE = {"li_na": 0.008, "wang_qiang": 0.012, "zhao_lei": 0.05}
GOLD_ERRORS = {
    "batch_01": {"zhao_lei": 1},
    "batch_02": {"zhao_lei": 1, "wang_qiang": 1},
    "batch_03": {"zhao_lei": 1},
}
BATCH_SIZES = {"batch_01": 240, "batch_02": 220, "batch_03": 200}
GOLD_PER_BATCH = 40
HARD_PER_BATCH = 3  # every annotator picks a different label
BASE_TIME = datetime(2024, 8, 5, 9, 0, 0)

# Guideline 1.0 paths used by wang_qiang in batch_03 (2.0 path -> 1.0 path).
V1_PATHS = {
    "产品问题>积分规则>兑换流程": "产品问题>积分>兑换",
    "产品问题>积分规则>有效期管理": "产品问题>积分>有效期",
    "账户问题>还款>逾期处理": "账户问题>还款>逾期",
    "账户问题>卡片>挂失补卡": "账户问题>卡片>挂失冻结",
    "账户问题>卡片>冻结解冻": "账户问题>卡片>挂失冻结",
}
OUTSIDE_TAXONOMY = ["账户问题>账单查询", "产品问题>分期>分期", "Billing", "积分兑换"]
# A wrong label an annotator would plausibly pick for an item of each label (confusions).
CONFUSION = {
    "账户问题>账单>账单查询": [
        "账户问题>账单>余额查询",
        "产品问题>分期>分期办理",
        "账户问题>还款>还款方式",
    ],
    "账户问题>还款>逾期处理": ["账户问题>还款>还款方式", "账户问题>卡片>冻结解冻"],
    "账户问题>额度>额度调整": ["账户问题>账单>余额查询", "产品问题>分期>分期办理"],
    "账户问题>卡片>挂失补卡": ["账户问题>卡片>冻结解冻", "账户问题>卡片>激活开卡"],
    "账户问题>卡片>冻结解冻": ["账户问题>卡片>挂失补卡", "账户问题>还款>逾期处理"],
    "产品问题>积分规则>兑换流程": ["产品问题>积分规则>有效期管理", "产品问题>积分规则>积分累积"],
    "产品问题>积分规则>有效期管理": ["产品问题>积分规则>兑换流程", "账户问题>账单>账单查询"],
    "产品问题>分期>分期办理": ["账户问题>账单>账单查询", "账户问题>额度>额度调整"],
    "产品问题>年费>年费政策": ["账户问题>账单>账单查询", "产品问题>积分规则>兑换流程"],
}


def stable_order(ids, salt: str) -> list[str]:
    return sorted(ids, key=lambda i: hashlib.sha256(f"{salt}:{i}".encode()).hexdigest())


def build_example(tmp: Path) -> Path:
    """Copy the project and run the pipeline up to `quality` with the current venv's tools."""
    project = tmp / "project"
    ignore = shutil.ignore_patterns(
        ".venv*",
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "*.egg-info",
        "interim",
        "processed",
        "metrics",
        "tests",
        "bench",
        "tmp",
        "dvc.lock",
    )
    shutil.copytree(ROOT, project, ignore=ignore)
    bindir = Path(sys.executable).parent
    for cmd in (
        ["git", "init", "-q"],
        [str(bindir / "ftdata"), "compose"],
        [str(bindir / "dvc"), "repro", "quality"],
    ):
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("FTDATA_ROOT", None)
        proc = subprocess.run(cmd, cwd=project, capture_output=True, text=True, env=env)
        if proc.returncode:
            raise SystemExit(
                f"{' '.join(cmd)} failed in {project}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            )
    return project


def load_inputs(args) -> tuple:
    if args.records:
        records = read_records(args.records)
        spot = [
            json.loads(x)
            for x in Path(args.spot_check).read_text(encoding="utf-8").splitlines()
            if x.strip()
        ]
        dedup_ids = sorted(read_records_ids(args.dedup_rejects)) if args.dedup_rejects else []
        return records, spot, dedup_ids
    with tempfile.TemporaryDirectory() as tmp:
        project = build_example(Path(tmp))
        records = read_records(project / "data/interim/quality.parquet")
        spot_path = project / "data/processed/review/spot_check.jsonl"
        spot = [
            json.loads(x) for x in spot_path.read_text(encoding="utf-8").splitlines() if x.strip()
        ]
        dedup_ids = sorted(read_records_ids(project / "data/interim/rejects/dedup.parquet"))
    return records, spot, dedup_ids


def read_records_ids(path) -> list[str]:
    import pyarrow.parquet as pq

    return [i for i in pq.read_table(path, columns=["id"]).column("id").to_pylist() if i]


def pick_wrong(rng: random.Random, label: str, avoid: set[str]) -> str:
    options = [c for c in CONFUSION.get(label, []) if c not in avoid] or [
        c for c in CONFUSION["账户问题>账单>账单查询"] if c not in avoid
    ]
    return rng.choice(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / OUT)
    parser.add_argument("--records", type=Path, help="quality.parquet of an existing build")
    parser.add_argument("--spot-check", type=Path, help="spot_check.jsonl of the same build")
    parser.add_argument(
        "--dedup-rejects", type=Path, help="rejects/dedup.parquet of the same build"
    )
    args = parser.parse_args()
    records, spot, dedup_ids = load_inputs(args)
    rng = random.Random(SEED)

    texts = {
        r["id"]: classification_text(r["messages"], r.get("text"))
        for r in records.to_dict("records")
    }
    source_label = dict(zip(records["id"], records["label"], strict=True))
    candidates = [
        r["id"]
        for r in records.to_dict("records")
        if r["source"] in SOURCES and r["label"] and texts[r["id"]].strip()
    ]
    chosen = stable_order(candidates, "choose")[: sum(BATCH_SIZES.values())]
    batches, start = {}, 0
    for batch, size in BATCH_SIZES.items():
        batches[batch] = sorted(
            chosen[start : start + size], key=lambda i: stable_order([i], batch)
        )
        start += size
    truth = {i: source_label[i] for i in chosen}

    # votes[batch][item][annotator] = label (2.0 path; batch_03/wang_qiang gets 1.0 paths later)
    votes: dict = {}
    gold: dict[str, str] = {}
    hard: set[str] = set()
    for batch, items in batches.items():
        order = stable_order(items, f"{batch}:roles")
        boundary = {i for i in items if truth[i] == "产品问题>积分规则>有效期管理"}
        gold_items = [i for i in order if i not in boundary][:GOLD_PER_BATCH]
        hard_items = [i for i in order if i not in boundary and i not in gold_items][
            :HARD_PER_BATCH
        ]
        gold.update({i: truth[i] for i in gold_items})
        hard.update(hard_items)
        annotators = list(ANNOTATORS)
        votes[batch] = {}
        gold_errors = dict(GOLD_ERRORS.get(batch, {}))
        for item in items:
            if batch == "batch_03" and _half(item):
                who = ["li_na", "wang_qiang"]  # zhao_lei did only half of batch_03
            else:
                who = annotators
            labels = {}
            for annotator in who:
                label = truth[item]
                if item in gold_items:
                    if gold_errors.get(annotator):
                        gold_errors[annotator] -= 1
                        label = pick_wrong(rng, truth[item], {truth[item]})
                elif item in hard_items:
                    label = None
                elif rng.random() < ERROR_RATE[annotator]:
                    label = pick_wrong(rng, truth[item], {truth[item]})
                labels[annotator] = label
            if item in hard_items:
                options = [
                    truth[item],
                    *CONFUSION[truth[item]],
                    *CONFUSION["账户问题>账单>账单查询"],
                ]
                distinct = list(dict.fromkeys(options))
                for k, annotator in enumerate(who):
                    labels[annotator] = distinct[k % len(distinct)]
            votes[batch][item] = labels

    # wang_qiang on guideline 1.0 in batch_03: 1.0 paths, and 1.0's boundary (expiry counted as 兑换)
    for item, labels in votes["batch_03"].items():
        if "wang_qiang" in labels:
            label = labels["wang_qiang"]
            if (
                label == "产品问题>积分规则>有效期管理"
                and truth[item] == label
                and "过期" in texts[item]
            ):
                label = "产品问题>积分规则>兑换流程"
            if label == "账户问题>还款>逾期处理" and "催收" in texts[item]:
                labels["wang_qiang"] = "账户问题>还款>催收"
            else:
                labels["wang_qiang"] = V1_PATHS.get(label, label)

    out = args.out
    for generated in ("label_studio", "doccano", "csv", "adjudication", "spot_check", "gold.csv"):
        target = out / generated  # README.md is hand-written and stays
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (out / "label_studio").mkdir(parents=True)
    (out / "doccano" / "batch_02").mkdir(parents=True)
    (out / "csv").mkdir(parents=True)
    (out / "adjudication").mkdir(parents=True)
    (out / "spot_check").mkdir(parents=True)

    # ---------------- batch_01: Label Studio JSON export
    cancelled = set(stable_order(batches["batch_01"], "cancel")[:4])
    unknown_01 = dedup_ids[:2]
    tasks, ann_id = [], 0
    for n, item in enumerate([*batches["batch_01"], *unknown_01], start=1):
        # two tasks are records that dedup later removed: their ids are unknown to the build
        labels = votes["batch_01"].get(item) or {
            "li_na": "账户问题>账单>账单查询",
            "wang_qiang": "账户问题>账单>账单查询",
        }
        anns = []
        for annotator, label in labels.items():
            ann_id += 1
            when = BASE_TIME + timedelta(minutes=3 * ann_id)
            was_cancelled = item in cancelled and annotator == "zhao_lei"
            anns.append(
                {
                    "id": ann_id,
                    "completed_by": ANNOTATORS[annotator],
                    "result": []
                    if was_cancelled or label is None
                    else [
                        {
                            "id": f"r{ann_id}",
                            "from_name": "intent",
                            "to_name": "text",
                            "type": "taxonomy",
                            "origin": "manual",
                            "value": {"taxonomy": [label.split(">")]},
                        }
                    ],
                    "was_cancelled": was_cancelled or label is None,
                    "ground_truth": False,
                    "created_at": when.isoformat() + "Z",
                    "updated_at": when.isoformat() + "Z",
                    "lead_time": round(8 + rng.random() * 40, 3),
                    "prediction": {},
                    "result_count": 0 if was_cancelled or label is None else 1,
                    "task": n,
                    "project": 7,
                    "updated_by": ANNOTATORS[annotator],
                    "parent_prediction": None,
                    "parent_annotation": None,
                    "last_created_by": None,
                }
            )
        tasks.append(
            {
                "id": n,
                "annotations": anns,
                "drafts": [],
                "predictions": [],
                "data": {
                    "text": texts.get(item, "（已删除的记录）"),
                    "record_id": item,
                    "source": "example",
                    "guideline_version": "2.0",
                },
                "meta": {},
                "created_at": BASE_TIME.isoformat() + "Z",
                "updated_at": BASE_TIME.isoformat() + "Z",
                "inner_id": n,
                "total_annotations": len(anns),
                "cancelled_annotations": sum(a["was_cancelled"] for a in anns),
                "total_predictions": 0,
                "comment_count": 0,
                "unresolved_comment_count": 0,
                "last_comment_updated_at": None,
                "project": 7,
                "updated_by": None,
                "file_upload": "ftdata_tasks_batch_01.json",
                "comment_authors": [],
            }
        )
    (out / "label_studio" / "batch_01.json").write_text(
        json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    # ---------------- batch_02: doccano, one JSONL per user
    unlabelled = set(stable_order(batches["batch_02"], "unlabelled")[:3])
    for annotator in ANNOTATORS:
        lines = []
        for n, item in enumerate(batches["batch_02"], start=1):
            label = votes["batch_02"][item].get(annotator)
            row = {
                "id": 3000 + n,
                "text": texts[item],
                "label": [] if (item in unlabelled and annotator == "wang_qiang") else [label],
                "record_id": item,
                "guideline_version": "2.0",
                "Comments": [],
            }
            lines.append(json.dumps(row, ensure_ascii=False))
        (out / "doccano" / "batch_02" / f"{annotator}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )

    # ---------------- batch_03: plain CSV
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "annotator", "label", "guideline_version"])
    outside = iter(OUTSIDE_TAXONOMY)
    with_zhao = [
        i for i in batches["batch_03"] if "zhao_lei" in votes["batch_03"][i] and i not in gold
    ]
    bad_label_items = set(stable_order(with_zhao, "outside")[: len(OUTSIDE_TAXONOMY)])
    for item in batches["batch_03"]:
        for annotator, label in votes["batch_03"][item].items():
            version = "1.0" if annotator == "wang_qiang" else "2.0"
            if annotator == "zhao_lei" and item in bad_label_items:
                label = next(outside)
            writer.writerow([item, annotator, label, version])
    for item in dedup_ids[2:4]:
        writer.writerow([item, "li_na", "产品问题>分期>分期办理", "2.0"])
    (out / "csv" / "batch_03.csv").write_text(buf.getvalue(), encoding="utf-8")

    # ---------------- gold
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "label", "note"])
    for item in sorted(gold):
        writer.writerow([item, gold[item], "expert label (2.0)"])
    (out / "gold.csv").write_text(buf.getvalue(), encoding="utf-8")

    # ---------------- adjudication: most items without consensus, as the build would list them
    import yaml

    from ftdata.annotate.agreement import consensus_of
    from ftdata.annotate.migrate import Migrations

    conf = yaml.safe_load((ROOT / "conf/annotate/default.yaml").read_text(encoding="utf-8"))
    migrations = Migrations.from_params(conf)
    unresolved = []
    for batch in BATCH_SIZES:
        for item, labels in votes[batch].items():
            valid = []
            for annotator, label in labels.items():
                if label is None or (
                    batch == "batch_01" and item in cancelled and annotator == "zhao_lei"
                ):
                    continue
                if batch == "batch_03" and annotator == "zhao_lei" and item in bad_label_items:
                    continue
                remap = migrations.remap(label)
                if remap.label:
                    valid.append(remap.label)
            if consensus_of(valid, 2, 0.6).label is None:
                unresolved.append(item)
    adjudicate = stable_order(unresolved, "adjudicate")[: int(len(unresolved) * 0.7)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "label", "reviewer", "note"])
    for item in sorted(adjudicate):
        writer.writerow([item, truth[item], "chen_jie", "按指南 2.0 仲裁"])
    (out / "adjudication" / "2024-08-20_chen_jie.csv").write_text(buf.getvalue(), encoding="utf-8")

    # ---------------- spot-check verdicts on the quality stage's sample
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "verdict", "reviewer", "note"])
    judged = stable_order([s["id"] for s in spot], "verdicts")[:150]
    for item in sorted(judged):
        wrong = rng.random() < 0.04
        writer.writerow(
            [item, "incorrect" if wrong else "correct", "zhou_min", "标签不符" if wrong else ""]
        )
    (out / "spot_check" / "verdicts.csv").write_text(buf.getvalue(), encoding="utf-8")
    print(
        f"wrote {out}: {len(chosen)} items in {len(BATCH_SIZES)} batches, {len(gold)} gold, "
        f"{len(hard)} hard, {len(unresolved)} without consensus ({len(adjudicate)} adjudicated), "
        f"{len(judged)} spot-check verdicts"
    )


def _half(item: str) -> bool:
    return int(hashlib.sha256(f"half:{item}".encode()).hexdigest(), 16) % 2 == 0


if __name__ == "__main__":
    main()
