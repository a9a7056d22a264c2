"""Balance: label distribution per taxonomy level, imbalance findings, and the strategy (train only)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from ftdata.augment.balance import distribution, imbalance, rebalance
from ftdata.augment.checks import check_balance
from ftdata.augment.engine import leak_guard, near_held_out, record_texts, splits_of
from ftdata.augment.records import write_metrics
from ftdata.errors import ConfigError
from ftdata.io import read_records, write_records
from ftdata.ops.feedback import awaiting_review
from ftdata.params import validated_section
from ftdata.stage import out_path, project_root, stage_main
from ftdata.stage_run import StageRun


def _train_labels(df: pd.DataFrame, splits: list[str]) -> list:
    return [lb for lb, s in zip(df["label"], splits, strict=True) if s == "train"]


@stage_main("balance")
def main() -> None:
    root = project_root()
    section = validated_section(root, "balance")
    try:
        check_balance(section)
    except ConfigError as err:
        raise ConfigError(f"params.yaml: {err}") from None
    split_params = validated_section(root, "split")
    dedup = validated_section(root, "dedup")
    out = out_path("balance")
    with StageRun("balance", out, write_metrics=write_metrics) as run:
        _balance(run, section, split_params, dedup)


def _balance(run: StageRun, section: dict, split_params: dict, dedup: dict) -> None:
    out = run.outputs[0]
    records = read_records(out_path("augment"))

    splits = splits_of(records, split_params)
    before = distribution(_train_labels(records, splits))
    # train records that nearly duplicate a val/test record (a dedup miss) are never copied
    # .loc: on an empty dataset `records[[]]` would select no *columns* (and lose `id`)
    train_rows = records.loc[[s == "train" for s in splits]]
    hits = near_held_out(
        record_texts(train_rows.to_dict("records")),
        records.loc[[s != "train" for s in splits]],
        dedup,
    )
    unsafe = {str(rid) for rid, hit in zip(train_rows["id"], hits, strict=True) if hit is not None}
    # feedback awaiting review is held from export: copying it would smuggle it into train
    unsafe |= {
        str(rid) for rid, h in zip(records["id"], awaiting_review(records), strict=True) if h
    }
    kept, copies, dropped, wanted = rebalance(
        records,
        [s == "train" for s in splits],
        level=section["level"],
        strategy=section["strategy"],
        target_ratio=section["target_ratio"],
        caps=section["caps"],
        seed=section["seed"],
        unsafe=unsafe,
    )
    kept_splits = splits_of(kept, split_params)
    copies_ok, leaked = leak_guard(kept, copies.to_dict("records"), split_params, kept_splits)
    result = (
        pd.concat([kept, pd.DataFrame(copies_ok).astype(object)], ignore_index=True)
        if copies_ok
        else kept
    )
    # Undersampling removes records; a group whose key record went may hash elsewhere: keep every
    # generated record in train (the split stage reads exactly this file with the same params).
    final_splits = splits_of(result, split_params)
    stray = [
        i
        for i, (kind, s) in enumerate(zip(result["source_kind"], final_splits, strict=True))
        if kind == "augment" and s != "train"
    ]
    if stray:
        moved = result.iloc[stray].copy()
        moved["reason"] = "split_leak"
        moved["detail"] = [
            f"would land in {final_splits[i]} after balancing, not train" for i in stray
        ]
        result = result.drop(index=result.index[stray]).reset_index(drop=True)
        leaked += moved.to_dict("records")
        final_splits = splits_of(result, split_params)
    after = distribution(_train_labels(result, final_splits))
    level_key = f"level_{section['level']}"
    counts = run.counts
    counts.n_in, counts.added, counts.out = len(records), len(copies), len(result)
    run.reject(dropped)
    run.reject(pd.DataFrame(leaked) if leaked else None)
    counts.extra = {
        "strategy": section["strategy"],
        "level": section["level"],
        "targets": wanted,
        "resampled": len(copies_ok),
        "labels_before": before,
        "labels_after": after,
        "imbalance_before": {
            k: imbalance(v, section["max_share"], section["max_ratio"]) for k, v in before.items()
        },
        "imbalance_after": {
            k: imbalance(v, section["max_share"], section["max_ratio"]) for k, v in after.items()
        },
        "train_records": {
            "before": sum(Counter(splits)[s] for s in ("train",)),
            "after": final_splits.count("train"),
        },
        "balanced_level": level_key,
        "not_resampled_near_val_test": len(unsafe),
    }
    write_records(out, result)
