"""Label-error detection: labels a classifier trained on the other labels disagrees with.

Confident learning (cleanlab's ``find_label_issues``) on out-of-fold class
probabilities: a small classifier (TF-IDF character n-grams + logistic regression,
scikit-learn) is trained k times, each time on the records outside one fold, and
predicts that fold; cleanlab flags the records whose given label is unlikely given
how the classifier confuses classes overall, and ranks them by self-confidence
(the probability of the given label, the score written with each flag: low = suspect).

Character n-grams need no segmenter, so Chinese and English are read alike. Each
taxonomy level is checked on its own (a record can be right at 账户问题 and wrong
below it). A class with fewer records than folds cannot be held out fairly: its
records sit out that level, counted as ``too_few``. Seeds come from params and the
records are sorted by id first, so the flags are the same on every build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ftdata.annotate.classification import classification_text
from ftdata.annotate.taxonomy import at_level

SCORE_DIGITS = 6


@dataclass(frozen=True)
class Classifier:
    """The out-of-fold classifier's settings (``label_issues`` in conf/)."""

    folds: int = 5
    seed: int = 42
    ngram_min: int = 1
    ngram_max: int = 3
    max_features: int = 50000
    c: float = 4.0  # inverse regularisation of the logistic regression


@dataclass
class LevelResult:
    level: int
    checked: int
    classes: int
    too_few: int  # records of classes smaller than ``folds``, not checked
    issues: list[dict] = field(default_factory=list)

    def as_metrics(self) -> dict:
        return {
            "checked": self.checked,
            "classes": self.classes,
            "too_few": self.too_few,
            "flagged": len(self.issues),
            "share": round(len(self.issues) / self.checked, 4) if self.checked else 0.0,
        }


LEVEL_HEADER = ["level", "checked", "classes", "too few", "flagged", "share"]


def level_rows(metrics: dict) -> list[list]:
    """The stage's per-level figures as table rows (the card's and the report's)."""
    return [
        [f"level {lv}", m["checked"], m["classes"], m["too_few"], m["flagged"], m["share"]]
        for lv, m in sorted((metrics.get("levels") or {}).items(), key=lambda kv: int(kv[0]))
    ]


def labelled(records: pd.DataFrame) -> pd.DataFrame:
    """Records with a label and a text to classify, sorted by id, with a ``features`` column."""
    if records.empty or "label" not in records.columns:
        return pd.DataFrame(columns=["id", "source", "locator", "label", "features"])
    texts = [
        classification_text(m, t)
        for m, t in zip(
            records["messages"], records.get("text", [None] * len(records)), strict=True
        )
    ]
    out = records.assign(features=texts)
    keep = out["label"].map(lambda v: isinstance(v, str) and bool(v)) & out["features"].astype(bool)
    return out[keep].sort_values("id").reset_index(drop=True)


def out_of_fold_probabilities(texts: list[str], labels: np.ndarray, clf: Classifier) -> np.ndarray:
    """Each record's class probabilities from a model that never saw it."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(clf.ngram_min, clf.ngram_max),
            max_features=clf.max_features,
            sublinear_tf=True,
        ),
        LogisticRegression(C=clf.c, max_iter=2000, random_state=clf.seed),
    )
    folds = StratifiedKFold(n_splits=clf.folds, shuffle=True, random_state=clf.seed)
    return cross_val_predict(model, texts, labels, cv=folds, method="predict_proba", n_jobs=1)


def check_level(records: pd.DataFrame, level: int, clf: Classifier) -> LevelResult:
    """Suspected label errors among ``records`` (from ``labelled``) at one taxonomy level."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    given = records["label"].map(lambda label: at_level(label, level))
    sizes = given.value_counts()
    usable = given.map(sizes) >= clf.folds
    subset, given = records[usable].reset_index(drop=True), given[usable].reset_index(drop=True)
    classes = sorted(given.unique())
    if len(classes) < 2:  # nothing to tell apart: the level is not checked
        return LevelResult(level, 0, len(classes), len(records))
    result = LevelResult(level, len(subset), len(classes), int((~usable).sum()))
    index = {c: i for i, c in enumerate(classes)}
    labels = given.map(index).to_numpy()
    probs = out_of_fold_probabilities(subset["features"].tolist(), labels, clf)
    flagged = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
    scores = get_label_quality_scores(labels, probs, method="self_confidence")
    rows = []
    for i in flagged.tolist():
        rec = subset.iloc[i]
        rows.append(
            {
                "id": rec["id"],
                "source": rec["source"],
                "locator": rec["locator"],
                "level": level,
                "label": rec["label"],
                "given": classes[labels[i]],
                "suggested": classes[int(np.argmax(probs[i]))],
                "score": round(float(scores[i]), SCORE_DIGITS),
                "text": rec["features"],
            }
        )
    # Most suspect first; ties by id, so the queue's order is the same on every build.
    result.issues = sorted(rows, key=lambda r: (r["score"], r["id"]))
    return result
