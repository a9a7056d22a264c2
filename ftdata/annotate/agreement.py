"""Agreement, consensus and annotator quality over a long table of votes.

A *vote* is one annotator's label for one item (columns ``item``, ``batch``,
``annotator``, ``label``, ``guideline_version``). Everything here is a pure
function of such a table, so the annotate stage, the CLI and the tests compute
the same figures:

- percent agreement (the share of items with at least two votes on which every
  annotator agrees: the guideline's 标注一致性) and mean pairwise agreement;
- Cohen's kappa for each annotator pair on the items both labelled (scikit-learn);
- Krippendorff's alpha, nominal, across all annotators (the ``krippendorff`` package);
- the same per taxonomy level, by truncating labels to that level;
- consensus labels: a strict majority of at least ``min_share`` of at least
  ``min_annotators`` votes; anything else has no consensus;
- per-annotator quality: gold accuracy, agreement with consensus, and cleanlab's
  CROWDLAB annotator quality, with out-of-fold predicted probabilities from a
  character n-gram logistic regression on the item texts (so no model download);
- a Wilson score interval for the spot-check accuracy estimate.

Figures are rounded to 4 decimals so that metrics files are byte-stable.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from ftdata.annotate.taxonomy import at_level

ROUND = 4


def _r(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), ROUND)


# ---------------------------------------------------------------- consensus
@dataclass(frozen=True)
class Consensus:
    label: str | None  # None: no consensus
    top: str | None  # the most voted label (ties: the first in sorted order)
    share: float  # votes for ``top`` / all votes
    votes: int
    tie: bool


def consensus_of(labels: list[str], min_annotators: int, min_share: float) -> Consensus:
    counts = Counter(labels)
    n = sum(counts.values())
    if not n:
        return Consensus(None, None, 0.0, 0, False)
    best = max(counts.values())
    leaders = sorted(label for label, c in counts.items() if c == best)
    share = best / n
    tie = len(leaders) > 1
    ok = n >= min_annotators and not tie and share >= min_share - 1e-12
    return Consensus(leaders[0] if ok else None, leaders[0], share, n, tie)


def consensus_table(votes: pd.DataFrame, min_annotators: int, min_share: float) -> pd.DataFrame:
    """One row per item: ``consensus`` (or None), ``top``, ``share``, ``votes``, ``tie``."""
    rows = []
    for item, group in votes.groupby("item", sort=True):
        c = consensus_of(list(group["label"]), min_annotators, min_share)
        rows.append(
            {
                "item": item,
                "consensus": c.label,
                "top": c.top,
                "share": c.share,
                "votes": c.votes,
                "tie": c.tie,
            }
        )
    return pd.DataFrame(rows, columns=["item", "consensus", "top", "share", "votes", "tie"])


# ---------------------------------------------------------------- agreement
def wide(votes: pd.DataFrame) -> pd.DataFrame:
    """items x annotators table of labels (None where an annotator did not label the item)."""
    if not len(votes):
        return pd.DataFrame()
    table = votes.pivot_table(index="item", columns="annotator", values="label", aggfunc="first")
    return table.sort_index().reindex(sorted(table.columns), axis=1)


def percent_agreement(votes: pd.DataFrame) -> tuple[float | None, int]:
    """Share of items with >= 2 votes on which all votes agree, and how many such items."""
    per_item = votes.groupby("item")["label"].agg(["nunique", "size"])
    multi = per_item[per_item["size"] >= 2]
    if not len(multi):
        return None, 0
    return float((multi["nunique"] == 1).mean()), int(len(multi))


def pairwise_agreement(votes: pd.DataFrame) -> float | None:
    """Mean over all pairs of votes on the same item of [labels equal]."""
    agree = total = 0
    for _, labels in votes.groupby("item")["label"]:
        for a, b in itertools.combinations(list(labels), 2):
            total += 1
            agree += a == b
    return agree / total if total else None


def cohen_kappas(votes: pd.DataFrame, min_items: int = 2) -> dict[str, dict]:
    """Cohen's kappa for every annotator pair, on the items both of them labelled."""
    from sklearn.metrics import cohen_kappa_score

    table = wide(votes)
    out = {}
    for a, b in itertools.combinations(list(table.columns), 2):
        both = table[[a, b]].dropna()
        if len(both) < min_items:
            continue
        y1, y2 = list(both[a]), list(both[b])
        if len(set(y1) | set(y2)) < 2:
            kappa = None  # one label only: kappa is undefined (0/0)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kappa = cohen_kappa_score(y1, y2)
        out[f"{a}|{b}"] = {
            "items": int(len(both)),
            "kappa": _r(kappa),
            "agreement": _r(float(np.mean([x == y for x, y in zip(y1, y2, strict=True)]))),
        }
    return out


def krippendorff_alpha(votes: pd.DataFrame) -> float | None:
    """Nominal Krippendorff's alpha across all annotators (None when undefined)."""
    import krippendorff

    table = wide(votes)
    if table.empty or table.shape[1] < 2:
        return None
    values = sorted({v for v in votes["label"]})
    if len(values) < 2:
        return None
    code = {v: float(i) for i, v in enumerate(values)}
    data = np.array(
        [[code[v] if isinstance(v, str) else np.nan for v in table[col]] for col in table.columns],
        dtype=float,
    )
    # alpha needs at least one item with two or more values
    if not (np.sum(~np.isnan(data), axis=0) >= 2).any():
        return None
    try:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):
        return None


def agreement_figures(votes: pd.DataFrame) -> dict:
    """The agreement block reported for one slice of votes (a batch, a level, everything)."""
    pa_value, multi = percent_agreement(votes)
    kappas = cohen_kappas(votes)
    kappa_values = [k["kappa"] for k in kappas.values() if k["kappa"] is not None]
    return {
        "items": int(votes["item"].nunique()),
        "items_multi": multi,
        "annotations": int(len(votes)),
        "annotators": int(votes["annotator"].nunique()),
        "percent_agreement": _r(pa_value),
        "disagreement": _r(1 - pa_value) if pa_value is not None else None,
        "pairwise_agreement": _r(pairwise_agreement(votes)),
        "krippendorff_alpha": _r(krippendorff_alpha(votes)),
        "cohen_kappa_mean": _r(float(np.mean(kappa_values))) if kappa_values else None,
        "cohen_kappa": kappas,
    }


def by_level(votes: pd.DataFrame, depth: int) -> dict[str, dict]:
    """Agreement with labels truncated to each taxonomy level (1 = top level)."""
    out = {}
    for level in range(1, depth + 1):
        truncated = votes.assign(label=[at_level(v, level) for v in votes["label"]])
        figures = agreement_figures(truncated)
        figures.pop("cohen_kappa")
        out[str(level)] = figures
    return out


# ---------------------------------------------------------------- annotators
def agreement_with_consensus(votes: pd.DataFrame, consensus: pd.DataFrame) -> pd.Series:
    """Per annotator: share of their votes equal to the item's consensus (items with one)."""
    merged = votes.merge(consensus[["item", "consensus"]], on="item")
    merged = merged[merged["consensus"].notna()]
    if not len(merged):
        return pd.Series(dtype=float)
    return (merged["label"] == merged["consensus"]).groupby(merged["annotator"]).mean()


def gold_accuracy(votes: pd.DataFrame, gold: dict[str, str]) -> pd.DataFrame:
    """Per annotator (and batch): gold items seen, correct, accuracy."""
    on_gold = votes[votes["item"].isin(gold)]
    if not len(on_gold):
        return pd.DataFrame(
            columns=["batch", "annotator", "gold_items", "gold_correct", "gold_accuracy"]
        )
    correct = [
        label == gold[item] for item, label in zip(on_gold["item"], on_gold["label"], strict=True)
    ]
    on_gold = on_gold.assign(correct=correct)
    table = on_gold.groupby(["batch", "annotator"])["correct"].agg(["size", "sum"]).reset_index()
    table.columns = ["batch", "annotator", "gold_items", "gold_correct"]
    table["gold_accuracy"] = table["gold_correct"] / table["gold_items"]
    return table


def out_of_fold_probs(
    texts: list[str], targets: list[int], n_classes: int, folds: int, seed: int
) -> np.ndarray:
    """Predicted class probabilities for each item from a model that never saw it.

    A TF-IDF over character 1-3 grams (works for Chinese without a tokenizer)
    feeding a logistic regression, fitted ``folds`` times. Classes missing from
    a training fold get a small floor so every row stays a distribution.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on a busy 2-core box more threads made the fit 20x slower, and a
    # single thread keeps the floating-point summation order (and so the figures) fixed.
    with threadpool_limits(limits=1):
        return _out_of_fold(texts, targets, n_classes, folds, seed)


def _out_of_fold(
    texts: list[str], targets: list[int], n_classes: int, folds: int, seed: int
) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    n = len(texts)
    probs = np.full((n, n_classes), 1.0 / n_classes)
    y = np.asarray(targets)
    if n < 4 or len(set(targets)) < 2:
        return probs
    splitter = KFold(n_splits=min(folds, n), shuffle=True, random_state=seed)
    for train, test in splitter.split(np.arange(n)):
        if len(set(y[train])) < 2:
            continue
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True
        )
        x_train = vectorizer.fit_transform([texts[i] for i in train])
        model = LogisticRegression(max_iter=2000, C=5.0)
        model.fit(x_train, y[train])
        fold = model.predict_proba(vectorizer.transform([texts[i] for i in test]))
        full = np.full((len(test), n_classes), 1e-3)
        full[:, model.classes_] = fold
        probs[test] = full / full.sum(axis=1, keepdims=True)
    return probs


@dataclass
class CrowdQuality:
    method: str
    annotator_quality: dict[str, float]
    suggested: dict[str, str]  # item -> CROWDLAB consensus label (majority vote, ties by model)
    consensus_quality: dict[str, float]
    note: str = ""


def crowd_quality(
    votes: pd.DataFrame, texts: dict[str, str], folds: int = 5, seed: int = 0
) -> CrowdQuality:
    """cleanlab's CROWDLAB over the votes; skipped (with a note) when it cannot apply."""
    table = wide(votes)
    classes = sorted(set(votes["label"]))
    if table.shape[1] < 2 or len(classes) < 2 or len(table) < 4:
        return CrowdQuality("skipped", {}, {}, {}, "needs >= 2 annotators, >= 2 labels, >= 4 items")
    from cleanlab.multiannotator import get_label_quality_multiannotator, get_majority_vote_label

    index = {c: i for i, c in enumerate(classes)}
    coded = table.apply(
        lambda col: col.map(lambda v: index[v] if isinstance(v, str) else np.nan)
    ).astype(float)
    items = list(coded.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        majority = get_majority_vote_label(coded, verbose=False)
        probs = out_of_fold_probs(
            [texts.get(i) or "" for i in items], list(majority), len(classes), folds, seed
        )
        result = get_label_quality_multiannotator(
            coded,
            probs,
            consensus_method="majority_vote",
            verbose=False,
            return_detailed_quality=False,
        )
    quality = result["label_quality"]
    stats = result["annotator_stats"]
    return CrowdQuality(
        method="cleanlab-crowdlab",
        annotator_quality={str(a): _r(q) for a, q in stats["annotator_quality"].items()},
        suggested={
            item: classes[int(c)] for item, c in zip(items, quality["consensus_label"], strict=True)
        },
        consensus_quality={
            item: _r(q) for item, q in zip(items, quality["consensus_quality_score"], strict=True)
        },
    )


# ---------------------------------------------------------------- estimates
def wilson_interval(
    successes: int, n: int, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Wilson score interval for a binomial proportion (good for small n and p near 1)."""
    if n <= 0:
        return None, None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return _r(max(0.0, centre - half)), _r(min(1.0, centre + half))


def label_distribution(labels: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(labels).items()))
