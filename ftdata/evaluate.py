"""Score a model's predictions on the test split: accuracy, macro-F1, per-label figures, confusion.

A predictions file is JSON lines, one prediction per test record, in any of
three shapes (the first that is present wins):

- ``{"id": ..., "prediction": "产品问题>积分规则>兑换流程"}`` (a label path);
- ``{"id": ..., "response": ...}``: a chat model's reply, a string or an
  OpenAI chat-completion object (``choices[0].message.content``);
- ``{"id": ..., "messages": [...]}``: the conversation with the model's reply
  as its last assistant turn.

A reply becomes a label when, after trimming quotes and punctuation, it is a
label, or names exactly one label (its full path, else its leaf name). A line
that cannot be scored is rejected with a reason and a ``file:line`` detail,
like every raw record in ftdata; every line read is scored or rejected.

Everything here is a pure function of (records, prediction lines, label set),
so the stage and the tests compute the same figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from ftdata.funnel import label_levels
from ftdata.metrics import StageCounts
from ftdata.reasons import Reason

SEP = ">"
DIGITS = 4
# Characters a model wraps a label in: quotes, brackets, code marks, final punctuation.
_TRIM = " \t\r\n\"'`“”‘’「」『』【】[]()（）。.,，:：;；!！"


# ---------------------------------------------------------------- label set
@dataclass
class LabelSet:
    """The labels a prediction may name: the taxonomy's leaves, else the labels of the records."""

    labels: list[str]
    origin: str  # where the set came from, for messages and the report

    def __post_init__(self) -> None:
        self._set = set(self.labels)
        by_leaf: dict[str, list[str]] = {}
        for path in self.labels:
            by_leaf.setdefault(path.rsplit(SEP, 1)[-1], []).append(path)
        self._by_leaf = by_leaf

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and label in self._set

    @property
    def depth(self) -> int:
        return max((lbl.count(SEP) + 1 for lbl in self.labels), default=0)

    def from_text(self, text: str) -> str | None:
        """The one label a free-text reply names, or None (no label, or several)."""
        cleaned = normalise_label(text)
        if cleaned in self._set:
            return cleaned
        named = {lbl for lbl in self.labels if lbl in text or lbl in cleaned}
        # a longer path that contains a shorter named one wins (`a>b>c` over `a>b`)
        named = {
            lbl for lbl in named if not any(o != lbl and o.startswith(lbl + SEP) for o in named)
        }
        if len(named) == 1:
            return named.pop()
        if named:
            return None
        leaves = {p for leaf, paths in self._by_leaf.items() if leaf in text for p in paths}
        return leaves.pop() if len(leaves) == 1 else None

    def hint(self, label: str) -> str:
        import difflib

        leaf = label.rsplit(SEP, 1)[-1]
        if leaf in self._by_leaf:
            return f"; did you mean {self._by_leaf[leaf][0]!r}?"
        close = difflib.get_close_matches(label, self.labels, n=1, cutoff=0.5)
        return f"; did you mean {close[0]!r}?" if close else ""


def normalise_label(text: str) -> str:
    """``" 账户问题 > 账单 > 账单查询。"`` -> ``账户问题>账单>账单查询``."""
    text = text.strip(_TRIM)
    return re.sub(r"\s*>\s*", SEP, text)


def label_set(params: dict, records: pd.DataFrame) -> LabelSet:
    """The taxonomy's leaf labels when params has a ``taxonomy`` section, else the records' labels."""
    taxonomy = params.get("taxonomy")
    if isinstance(taxonomy, dict) and taxonomy.get("nodes"):
        from ftdata.annotate.taxonomy import from_params

        tax = from_params(taxonomy)
        return LabelSet(list(tax.leaves), f"taxonomy {tax.name} {tax.version}".strip())
    labels = sorted({lbl for lbl in records["label"] if isinstance(lbl, str) and lbl})
    return LabelSet(labels, "labels of data/processed/records.parquet")


# ---------------------------------------------------------------- reading
@dataclass
class PredictionLine:
    locator: str  # file:line
    raw: str
    id: str | None = None
    label: str | None = None
    reason: Reason | None = None
    detail: str = ""


def _reply_text(row: dict) -> tuple[str | None, str]:
    """(text, which field) of a chat-shaped prediction; text None when there is none."""
    response = row.get("response")
    if isinstance(response, str):
        return response, "response"
    if isinstance(response, dict):
        choices = response.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message") or {}
            content = message.get("content") if isinstance(message, dict) else None
            return (
                content if isinstance(content, str) else None
            ), "response.choices[0].message.content"
        content = response.get("content")
        return (content if isinstance(content, str) else None), "response.content"
    messages = row.get("messages")
    if isinstance(messages, list):
        replies = [
            m.get("content")
            for m in messages
            if isinstance(m, dict) and m.get("role") == "assistant"
        ]
        return (
            replies[-1] if replies and isinstance(replies[-1], str) else None
        ), "messages[-1] (assistant)"
    return None, ""


def parse_line(locator: str, raw: str, labels: LabelSet) -> PredictionLine:
    """One predictions line -> its id and label, or a reason it cannot be scored."""
    line = PredictionLine(locator=locator, raw=raw)
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as err:
        line.reason, line.detail = Reason.MALFORMED_JSON, f"{locator}: {err}"
        return line
    if not isinstance(row, dict):
        line.reason, line.detail = Reason.WRONG_TYPE, f"{locator}: expected a JSON object"
        return line
    rid = row.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid:
        line.reason, line.detail = (
            Reason.MISSING_FIELD,
            f"{locator}: field 'id' is missing or not a string",
        )
        return line
    line.id = rid
    if "prediction" in row:
        value = row["prediction"]
        if not isinstance(value, str):
            line.reason, line.detail = (
                Reason.WRONG_TYPE,
                f"{locator}: field 'prediction' is not a string",
            )
            return line
        label = normalise_label(value)
        if label not in labels:
            line.reason = Reason.UNKNOWN_LABEL
            line.detail = f"{locator}: field 'prediction' {value!r} is not a label of {labels.origin}{labels.hint(label)}"
            return line
        line.label = label
        return line
    text, where = _reply_text(row)
    if text is None:
        line.reason = Reason.MISSING_FIELD
        line.detail = f"{locator}: no 'prediction', 'response' or assistant turn in 'messages'"
        return line
    label = labels.from_text(text)
    if label is None:
        line.reason = Reason.UNKNOWN_LABEL
        line.detail = f"{locator}: {where} names no single label of {labels.origin}: {text[:80]!r}"
        return line
    line.label = label
    return line


def read_lines(path: Path, rel: str) -> list[tuple[str, str]]:
    """(``file:line``, text) of every non-blank line; undecodable bytes are replaced, not fatal."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return [
        (f"{rel}:{n}", line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]


# ---------------------------------------------------------------- scoring
def _round(x: float) -> float:
    return round(float(x), DIGITS)


def level_scores(gold: list[str], pred: list[str]) -> dict:
    """Accuracy, macro-F1 and per-label precision / recall / F1 / support (scikit-learn).

    Labels are those that occur as gold or prediction: a label absent from
    both would add a 0 (or undefined) F1 that says nothing about the model.
    """
    labels = sorted(set(gold) | set(pred))
    if not gold:
        return {"n": 0, "accuracy": None, "macro_f1": None, "labels": {}}
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=labels, zero_division=0
    )
    return {
        "n": len(gold),
        "accuracy": _round(accuracy_score(gold, pred)),
        "macro_f1": _round(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        "labels": {
            lbl: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
            for lbl, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
    }


def at_level(label: str, level: int) -> str:
    return SEP.join(label.split(SEP)[:level])


def confusion(gold: list[str], pred: list[str]) -> dict:
    """The confusion matrix as ``{labels, matrix}`` (rows gold, columns predicted)."""
    labels = sorted(set(gold) | set(pred))
    matrix = confusion_matrix(gold, pred, labels=labels).tolist() if gold else []
    return {"labels": labels, "matrix": matrix}


@dataclass
class EvalResult:
    metrics: dict
    confusion_rows: dict[
        int, list[dict]
    ]  # level -> [{actual, predicted}] (DVC confusion plot data)
    confusions: dict[int, dict]  # level -> {labels, matrix} (the HTML report)
    hard_examples: list[dict]
    rejects: pd.DataFrame
    counts: StageCounts = field(default_factory=lambda: StageCounts("evaluate"))


def empty_metrics(split: str, reason: str) -> dict:
    return {"predictions_file": None, "status": reason, "split": split, "scored": 0}


def evaluate(
    records: pd.DataFrame,
    lines: Iterable[tuple[str, str]],
    labels: LabelSet,
    *,
    split: str = "test",
    predictions_file: str | None = None,
    hard_level: int = 0,
) -> EvalResult:
    """Score ``lines`` (``(file:line, text)``) against the ``split`` records of ``records``."""
    by_id = {rec["id"]: rec for rec in records.to_dict("records")}
    counts = StageCounts("evaluate")
    seen: dict[str, str] = {}
    scored: list[tuple[PredictionLine, dict]] = []
    rejected: list[PredictionLine] = []
    for locator, raw in lines:
        counts.n_in += 1
        line = parse_line(locator, raw, labels)
        if line.reason is None:
            rec = by_id.get(line.id)
            if rec is None:
                line.reason = Reason.UNKNOWN_ID
                line.detail = f"{locator}: id {line.id!r} is not in data/processed/records.parquet"
            elif rec.get("split") != split:
                line.reason = Reason.NOT_IN_TEST_SPLIT
                line.detail = f"{locator}: id {line.id!r} is in split {rec.get('split')!r}; predictions are scored on {split!r}"
            elif not isinstance(rec.get("label"), str) or not rec["label"]:
                line.reason = Reason.NO_REFERENCE_LABEL
                line.detail = f"{locator}: record {line.id!r} ({rec.get('locator')}) has no label to compare with"
            elif line.id in seen:
                line.reason = Reason.DUPLICATE_ID
                line.detail = f"{locator}: id {line.id!r} was already predicted at {seen[line.id]}"
        if line.reason is not None:
            rejected.append(line)
            continue
        seen[line.id] = locator
        scored.append((line, by_id[line.id]))
    counts.out = len(scored)
    counts.reject(str(r.reason) for r in rejected)

    scored.sort(key=lambda pair: pair[0].id)
    gold = [rec["label"] for _, rec in scored]
    pred = [line.label for line, _ in scored]
    depth = max([labels.depth] + [g.count(SEP) + 1 for g in gold])
    levels, confusion_rows, confusions = {}, {}, {}
    for level in range(1, depth + 1):
        g = [at_level(x, level) for x in gold]
        p = [at_level(x, level) for x in pred]
        levels[str(level)] = level_scores(g, p)
        confusion_rows[level] = [{"actual": a, "predicted": b} for a, b in zip(g, p, strict=True)]
        confusions[level] = confusion(g, p)

    target = records[records["split"] == split]
    labelled = (
        int(sum(isinstance(x, str) and bool(x) for x in target["label"])) if len(target) else 0
    )
    leaf = levels.get(str(depth), {}) if depth else {}
    hard_at = hard_level if 0 < hard_level <= depth else depth
    hard = [
        _hard_example(line, rec, first_wrong_level(rec["label"], line.label))
        for line, rec in scored
        if at_level(rec["label"], hard_at) != at_level(line.label, hard_at)
    ]
    metrics = {
        "predictions_file": predictions_file,
        "status": "scored" if scored else "no scorable predictions",
        "label_set": labels.origin,
        "split": split,
        "split_records": len(target),
        "labelled_split_records": labelled,
        "scored": len(scored),
        "coverage": _round(len(scored) / labelled) if labelled else 0.0,
        "accuracy": leaf.get("accuracy"),
        "macro_f1": leaf.get("macro_f1"),
        "levels": levels,
        "hard_examples": len(hard),
    }
    counts.extra = metrics
    return EvalResult(
        metrics, confusion_rows, confusions, hard, reject_frame(rejected, predictions_file), counts
    )


def first_wrong_level(gold: str, pred: str) -> int | None:
    """The first taxonomy level at which ``pred`` leaves ``gold`` (None when they agree)."""
    g, p = label_levels(gold), label_levels(pred)
    for i in range(max(len(g), len(p))):
        if i >= len(g) or i >= len(p) or g[i] != p[i]:
            return i + 1
    return None


def _hard_example(line: PredictionLine, rec: dict, wrong_level: int | None) -> dict:
    """A misclassified record with what the model said, traced to its raw line and the prediction line."""
    return {
        "id": rec["id"],
        "source": rec.get("source"),
        "locator": rec.get("locator"),
        "split": rec.get("split"),
        "label": rec["label"],
        "prediction": line.label,
        "wrong_from_level": wrong_level,
        "prediction_locator": line.locator,
        "messages": rec.get("messages"),
        "text": rec.get("text"),
        "reason": "misclassified",
        "verdict": None,  # for the reviewer: is the gold label right, or the model?
    }


def reject_frame(rejected: list[PredictionLine], predictions_file: str | None) -> pd.DataFrame:
    """Rejected prediction lines in the shape ``privacy.rejects.rejects_frame`` takes (raw line kept whole)."""
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "source": predictions_file,
                "locator": r.locator,
                "reason": str(r.reason),
                "detail": r.detail,
                "raw": r.raw,
            }
            for r in rejected
        ],
        columns=["id", "source", "locator", "reason", "detail", "raw"],
    )
