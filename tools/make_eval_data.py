"""Generate the example predictions file data/raw/eval/predictions.jsonl from a build's test split.

``python tools/make_eval_data.py [--records data/processed/records.parquet]`` writes the same
bytes for the same records: whether a prediction is wrong, and which wrong label it names, is a
function of the record id only (sha256), never of a random state or the wall clock.

The fictional model ("bank-card-intent-v1.0") makes the mistakes intent models make: it
confuses intents that share words (points redemption vs. points expiry, card loss vs. card
freeze, bill enquiry vs. bill instalments, overdue vs. how to repay), rarely confuses unrelated
ones, and answers in three shapes (a bare label, an OpenAI chat-completion object, a chat
transcript). A few planted defects exercise the evaluate stage's rejects: an unknown id, a
train-split id, a label outside the taxonomy, a reply that names no label, a duplicate and a
malformed line; three test records get no prediction (coverage below 100 %).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
MODEL = "bank-card-intent-v1.0"
# gold leaf -> the labels the model mistakes it for (first = most likely)
CONFUSABLE = {
    "产品问题>积分规则>兑换流程": ["产品问题>积分规则>有效期管理"],
    "产品问题>积分规则>有效期管理": ["产品问题>积分规则>兑换流程"],
    "账户问题>卡片>挂失补卡": ["账户问题>卡片>冻结解冻"],
    "账户问题>卡片>冻结解冻": ["账户问题>卡片>挂失补卡"],
    "账户问题>账单>账单查询": ["产品问题>分期>分期办理", "账户问题>还款>逾期处理"],
    "产品问题>分期>分期办理": ["账户问题>账单>账单查询"],
    "账户问题>还款>逾期处理": ["账户问题>账单>账单查询"],
    "账户问题>额度>额度调整": ["账户问题>账单>账单查询"],
    "产品问题>年费>年费政策": ["账户问题>账单>账单查询"],
}
CONFUSION_RATE = 0.14  # share of records of a confusable intent the model gets wrong
OTHER_ERROR_RATE = 0.03  # share wrong for any other reason (an unrelated label)


def unit(key: str) -> float:
    """sha256 of ``key`` as a number in [0, 1): the tool's only source of chance."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:12], 16) / 16**12


def predicted_label(rid: str, gold: str, labels: list[str]) -> str:
    u = unit(f"error:{rid}")
    partners = CONFUSABLE.get(gold, [])
    if partners and u < CONFUSION_RATE:
        return partners[0] if unit(f"which:{rid}") < 0.75 or len(partners) == 1 else partners[1]
    if u > 1 - OTHER_ERROR_RATE:
        others = [lbl for lbl in labels if lbl != gold]
        return others[int(unit(f"other:{rid}") * len(others))]
    return gold


def shaped(rid: str, label: str, text: str) -> dict:
    """The prediction in one of the three shapes an inference job writes."""
    u = unit(f"shape:{rid}")
    if u < 0.7:
        return {"id": rid, "model": MODEL, "prediction": label}
    if u < 0.9:
        reply = label if unit(f"wrap:{rid}") < 0.5 else f"意图：{label}"
        return {
            "id": rid,
            "response": {
                "object": "chat.completion",
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
            },
        }
    return {
        "id": rid,
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "判断用户问题的意图，只输出意图标签的完整路径。"},
            {"role": "user", "content": text},
            {"role": "assistant", "content": f"「{label}」"},
        ],
    }


def first_user_text(messages: list[dict] | None, text: str | None) -> str:
    for m in messages or []:
        if m.get("role") == "user" and m.get("content"):
            return m["content"]
    return text or ""


def make_predictions(records_path: Path) -> list[str]:
    table = pq.read_table(records_path, columns=["id", "split", "label", "messages", "text"])
    rows = sorted(table.to_pylist(), key=lambda r: r["id"])
    test = [r for r in rows if r["split"] == "test"]
    labelled = [r for r in test if r["label"]]
    labels = sorted({r["label"] for r in rows if r["label"]})
    skipped = {r["id"] for r in labelled if unit(f"skip:{r['id']}") < 0.015}  # inference timeouts
    lines = []
    for r in labelled:
        if r["id"] in skipped:
            continue
        label = predicted_label(r["id"], r["label"], labels)
        lines.append(
            json.dumps(
                shaped(r["id"], label, first_user_text(r["messages"], r["text"])),
                ensure_ascii=False,
            )
        )
    # planted defects, each rejected by the evaluate stage with its own reason
    train_id = next(r["id"] for r in rows if r["split"] == "train")
    first = labelled[0]["id"]
    lines += [
        json.dumps(
            {"id": "0000000000000000", "model": MODEL, "prediction": labels[0]}, ensure_ascii=False
        ),
        json.dumps({"id": train_id, "model": MODEL, "prediction": labels[0]}, ensure_ascii=False),
        json.dumps(
            {"id": labelled[1]["id"], "model": MODEL, "prediction": "产品问题>积分规则>积分转赠"},
            ensure_ascii=False,
        ),
        json.dumps(
            {"id": labelled[2]["id"], "response": "抱歉，我无法判断这个问题的意图。"},
            ensure_ascii=False,
        ),
        json.dumps(
            {"id": first, "model": MODEL, "prediction": labelled[0]["label"]}, ensure_ascii=False
        ),
        '{"id": "' + labelled[3]["id"] + '", "prediction": "账户问题>账单>账单查询"',
    ]
    unlabelled = [r for r in test if not r["label"]]
    if unlabelled:
        lines.append(
            json.dumps(
                {"id": unlabelled[0]["id"], "model": MODEL, "prediction": labels[0]},
                ensure_ascii=False,
            )
        )
    return lines


def main(records: Path, out: Path) -> int:
    lines = make_predictions(records)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=ROOT / "data/processed/records.parquet")
    parser.add_argument("--out", type=Path, default=ROOT / "data/raw/eval/predictions.jsonl")
    args = parser.parse_args()
    print(f"wrote {main(args.records, args.out)} lines to {args.out}")
