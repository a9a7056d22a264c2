"""Class balance: label distribution per taxonomy level, imbalance detection, and strategies.

Only records bound for TRAIN are counted and changed: val and test must keep
the real distribution, or every evaluation would measure the rebalanced one.
A record's split is computed with the split stage's own functions (same
params), so what balance calls train is what split will call train.

Labels are taxonomy paths (``产品问题>积分规则>兑换流程``); level k is the
first k parts. ``balance.level`` picks the level the strategy acts on;
distributions and imbalance findings are reported for every level.

Strategies (deterministic; a record's fate depends on a hash of its id and
the seed, never on input order):
- ``oversample``: classes below ``ceil(max / target_ratio)`` are raised to it.
  The augment stage already gave them more augmentation ("augmentation
  first"); what is still missing is filled by *resampling*: copies of the
  class's train records (augmented ones included), each a new record with
  source kind ``augment``, op ``resample`` and the copied record as parent.
  Copies are exact duplicates on purpose (that is what oversampling is).
- ``undersample``: classes above ``floor(min * target_ratio)`` are lowered to
  it; augmented records go first, then originals, in hash order.
- ``cap``: only the per-class ``caps``.
- ``none``: report only.
``caps`` (label at ``level`` -> max train records) apply under every strategy.
"""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd

from ftdata.augment.records import make_child, op_params_hash
from ftdata.ops.split import unit_hash
from ftdata.reasons import Reason
from ftdata.record import AUGMENT_KIND

UNLABELLED = "(unlabelled)"
STRATEGIES = ("oversample", "undersample", "cap", "none")


def level_label(label, level: int) -> str | None:
    """The first ``level`` parts of a taxonomy path (the whole path if it is shorter)."""
    if not isinstance(label, str) or not label:
        return None
    return ">".join(label.split(">")[:level])


def depth(labels) -> int:
    return max((len(lb.split(">")) for lb in labels if isinstance(lb, str) and lb), default=0)


def distribution(labels: list, max_level: int | None = None) -> dict[str, dict[str, int]]:
    """``{"level_1": {label: n}, ...}`` for levels 1..max depth; unlabelled rows listed apart."""
    top = max_level or depth(labels)
    out: dict[str, dict[str, int]] = {}
    for level in range(1, top + 1):
        counts = Counter(level_label(lb, level) or UNLABELLED for lb in labels)
        out[f"level_{level}"] = dict(sorted(counts.items()))
    return out


def imbalance(counts: dict[str, int], max_share: float, max_ratio: float) -> dict:
    """Findings for one level: the largest class's share and the max/min ratio vs the thresholds."""
    counts = {k: v for k, v in counts.items() if k != UNLABELLED and v > 0}
    if not counts:
        return {"imbalanced": False, "reasons": ""}
    total = sum(counts.values())
    big = max(sorted(counts), key=lambda k: counts[k])
    small = min(sorted(counts), key=lambda k: counts[k])
    share = counts[big] / total
    ratio = counts[big] / counts[small]
    reasons = []
    if len(counts) > 1 and share > max_share:
        reasons.append(f"{big} holds {share:.0%} of the level (> {max_share:.0%})")
    if ratio > max_ratio:
        reasons.append(f"{big}/{small} = {ratio:.1f} (> {max_ratio:g})")
    return {
        "imbalanced": bool(reasons),
        "largest": big,
        "smallest": small,
        "largest_share": round(share, 4),
        "max_min_ratio": round(ratio, 4),
        "reasons": "; ".join(reasons),
    }


def targets(
    counts: dict[str, int], strategy: str, target_ratio: float, caps: dict[str, int]
) -> dict[str, int]:
    """Wanted train records per class (only classes whose count changes are listed)."""
    counts = {k: v for k, v in counts.items() if k != UNLABELLED and v > 0}
    wanted: dict[str, int] = {}
    if counts and strategy == "oversample":
        floor_ = math.ceil(max(counts.values()) / target_ratio)
        wanted = {k: floor_ for k, v in counts.items() if v < floor_}
    elif counts and strategy == "undersample":
        ceiling = math.floor(min(counts.values()) * target_ratio)
        wanted = {k: ceiling for k, v in counts.items() if v > ceiling}
    for label, cap in caps.items():
        if label in counts and min(wanted.get(label, counts[label]), cap) < counts[label]:
            wanted[label] = cap
        elif label in wanted:
            wanted[label] = min(wanted[label], cap)
    return dict(sorted(wanted.items()))


def _rank(seed: int, purpose: str, record_id: str) -> float:
    return unit_hash(seed, f"{purpose}:{record_id}")


def rebalance(
    df: pd.DataFrame,
    train_mask: list[bool],
    *,
    level: int,
    strategy: str,
    target_ratio: float,
    caps: dict[str, int],
    seed: int,
    unsafe: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Apply the strategy to the train rows of ``df``.

    Returns ``(kept, copies, rejected, targets)``: ``kept`` is ``df`` minus
    the rows dropped (``rejected`` carries them with reason and detail),
    ``copies`` the resampled records to append. Ids in ``unsafe`` (train
    records that nearly duplicate a val/test record: a dedup miss) are never
    copied, so resampling cannot multiply a leak.
    """
    labels = [level_label(lb, level) for lb in df["label"]]
    counts = Counter(lb for lb, tr in zip(labels, train_mask, strict=True) if tr and lb)
    wanted = targets(dict(counts), strategy, target_ratio, caps)
    params = {
        "level": level,
        "strategy": strategy,
        "target_ratio": target_ratio,
        "caps": caps,
        "seed": seed,
    }
    phash = op_params_hash("resample", params)
    records = df.to_dict("records")
    drop: dict[int, tuple[str, str]] = {}
    copies: list[dict] = []
    for label, target in wanted.items():
        members = [
            i
            for i, (lb, tr) in enumerate(zip(labels, train_mask, strict=True))
            if tr and lb == label
        ]
        have = len(members)
        if target < have:
            capped = label in caps and caps[label] == target
            reason = Reason.CLASS_CAP if capped else Reason.UNDERSAMPLED
            # augmented first, then originals; within each, highest hash first
            order = sorted(
                members,
                key=lambda i: (
                    records[i].get("source_kind") != AUGMENT_KIND,
                    -_rank(seed, "keep", records[i]["id"]),
                ),
            )
            for i in order[: have - target]:
                why = "cap" if capped else f"strategy {strategy}"
                drop[i] = (
                    str(reason),
                    f"{label}: {have} train records, {why} keeps {target} (balance.level={level})",
                )
        elif target > have and have:
            order = sorted(members, key=lambda i: _rank(seed, "resample", records[i]["id"]))
            order = [i for i in order if str(records[i]["id"]) not in (unsafe or set())]
            for n in range(target - have if order else 0):
                source = records[order[n % len(order)]]
                copies.append(
                    make_child(
                        source,
                        op="resample",
                        phash=phash,
                        variant=n // len(order),
                        messages=[dict(m) for m in (source.get("messages") or [])],
                        text=source.get("text"),
                        stage="balance",
                        meta={"label_level": label},
                    )
                )
    mask = [i in drop for i in range(len(df))]
    # .loc: on an empty frame `df[[]]` would select no *columns* (and lose `id`, `label` ...)
    kept = df.loc[[not m for m in mask]].reset_index(drop=True)
    rejected = df.loc[mask].copy()
    rejected["reason"] = pd.Series(
        [drop[i][0] for i in sorted(drop)], index=rejected.index, dtype=object
    )
    rejected["detail"] = pd.Series(
        [drop[i][1] for i in sorted(drop)], index=rejected.index, dtype=object
    )
    copies_df = pd.DataFrame(copies).astype(object) if copies else df.iloc[0:0].copy()
    return kept, copies_df, rejected.reset_index(drop=True), wanted
