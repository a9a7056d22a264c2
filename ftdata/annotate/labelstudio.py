"""Label Studio round trip: labeling config and tasks out, JSON export with many annotators in.

Out: a labeling config whose ``<Taxonomy>`` control is generated from the
taxonomy (leaves only, one choice per task, descriptions as hints), and tasks
whose ``data`` carries the text, our record id and the guideline version;
optionally the record's current label as a prediction (pre-annotation).

In: Label Studio's JSON export (``Export > JSON``): a list of tasks, each with
``annotations[]`` (``completed_by``, ``result[].value.taxonomy``,
``was_cancelled``). Every annotation becomes a row or an annotation reject.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ftdata.annotate.rows import (
    GUIDELINE_FIELD,
    TASK_ID_FIELD,
    AnnotationRow,
    ReadResult,
    clean_str,
)
from ftdata.annotate.taxonomy import SEP, Taxonomy
from ftdata.reasons import Reason

TOOL = "label-studio"
FROM_NAME = "intent"
TO_NAME = "text"


def label_config(tax: Taxonomy, from_name: str = FROM_NAME, to_name: str = TO_NAME) -> str:
    """The labeling config XML: the text, our id, and a Taxonomy control built from ``tax``."""

    def choices(path: str, indent: str) -> list[str]:
        node = tax.nodes[path]
        attrs = f"value={quoteattr(node.name)} hint={quoteattr(node.description)}"
        if not node.children:
            return [f"{indent}<Choice {attrs}/>"]
        inner = [line for child in node.children for line in choices(child, indent + "  ")]
        return [f"{indent}<Choice {attrs}>", *inner, f"{indent}</Choice>"]

    body = [line for root in tax.roots for line in choices(root, "      ")]
    return "\n".join(
        [
            "<View>",
            f"  <Header value={quoteattr(f'{tax.description} (taxonomy {tax.name} {tax.version})')}/>",
            f'  <Text name="{to_name}" value="$text"/>',
            f'  <Taxonomy name="{from_name}" toName="{to_name}" leafsOnly="true" maxUsages="1" '
            f'required="true" showFullPath="true" pathSeparator="{SEP}">',
            *body,
            "  </Taxonomy>",
            "</View>",
            "",
        ]
    )


def prediction(label: str, model_version: str = "source_label") -> dict:
    """A pre-annotation that selects ``label`` in the Taxonomy control."""
    return {
        "model_version": model_version,
        "result": [
            {
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "taxonomy",
                "value": {"taxonomy": [label.split(SEP)]},
            }
        ],
    }


def tasks(
    items: list[dict], guideline_version: str, tax: Taxonomy, with_predictions: bool = True
) -> list[dict]:
    """Label Studio import JSON from ``{id, text, label, source}`` items.

    A prediction is added only for labels that are leaves of ``tax`` (a stale
    label would otherwise be shown to annotators as if it were valid).
    """
    out = []
    for item in items:
        task: dict = {
            "data": {
                TO_NAME: item["text"],
                TASK_ID_FIELD: item["id"],
                "source": item.get("source"),
                GUIDELINE_FIELD: guideline_version,
            }
        }
        if with_predictions and tax.is_label(item.get("label")):
            task["predictions"] = [prediction(item["label"])]
        out.append(task)
    return out


def annotator_name(completed_by: object, aliases: dict[str, str]) -> str | None:
    """``completed_by`` is a user id (JSON export) or a user object (some SDK exports)."""
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            value = clean_str(completed_by.get(key))
            if value is not None:
                if value in aliases:
                    return aliases[value]
                if key != "id":
                    return value
                raw = value
                break
        else:
            return None
    else:
        raw = clean_str(completed_by)
        if raw is None:
            return None
    return aliases.get(raw, f"ls_user_{raw}")


def labels_of(result: list) -> list[str]:
    """Every label an annotation's result selects (Taxonomy paths, or Choices strings)."""
    labels = []
    for region in result or []:
        value = region.get("value") if isinstance(region, dict) else None
        if not isinstance(value, dict):
            continue
        for path in value.get("taxonomy") or []:
            if isinstance(path, list) and path:
                labels.append(SEP.join(str(p) for p in path))
        for choice in value.get("choices") or []:
            labels.append(str(choice))
    return labels


def read_export(
    path: Path,
    rel: str,
    batch: str,
    default_version: str | None,
    aliases: dict[str, str],
) -> ReadResult:
    """Parse a Label Studio JSON export file into annotation rows and rejects."""
    out = ReadResult()
    try:
        tasks_ = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        out.read += 1
        out.reject(
            Reason.MALFORMED_ANNOTATION,
            f"not a JSON export: {err}",
            locator=rel,
            batch=batch,
            tool=TOOL,
            raw="",
        )
        return out
    if not isinstance(tasks_, list):
        out.read += 1
        out.reject(
            Reason.MALFORMED_ANNOTATION,
            "expected a JSON list of tasks (Export > JSON)",
            locator=rel,
            batch=batch,
            tool=TOOL,
            raw="",
        )
        return out
    for i, task in enumerate(tasks_):
        data = task.get("data") if isinstance(task, dict) else None
        annotations = task.get("annotations") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(annotations, list):
            out.read += 1
            out.reject(
                Reason.MALFORMED_ANNOTATION,
                "task without `data` or `annotations`",
                locator=f"{rel}#/{i}",
                batch=batch,
                tool=TOOL,
                raw=task,
            )
            continue
        task_id = clean_str(data.get(TASK_ID_FIELD))
        version = clean_str(data.get(GUIDELINE_FIELD)) or default_version
        for j, ann in enumerate(annotations):
            out.read += 1
            locator = f"{rel}#/{i}/annotations/{j}"
            who = (
                annotator_name(ann.get("completed_by"), aliases) if isinstance(ann, dict) else None
            )
            common = {
                "locator": locator,
                "batch": batch,
                "tool": TOOL,
                "raw": ann,
                "task_id": task_id,
            }
            if not isinstance(ann, dict):
                out.reject(Reason.MALFORMED_ANNOTATION, "annotation is not an object", **common)
                continue
            if ann.get("was_cancelled"):
                out.reject(
                    Reason.ANNOTATION_CANCELLED,
                    f"skipped by {who} (was_cancelled)",
                    annotator=who,
                    **common,
                )
                continue
            if task_id is None:
                out.reject(
                    Reason.MALFORMED_ANNOTATION,
                    f"task has no data.{TASK_ID_FIELD}",
                    annotator=who,
                    **common,
                )
                continue
            if who is None:
                out.reject(Reason.MALFORMED_ANNOTATION, "annotation has no completed_by", **common)
                continue
            labels = labels_of(ann.get("result"))
            if len(labels) != 1:
                what = "no label" if not labels else f"{len(labels)} labels ({', '.join(labels)})"
                out.reject(
                    Reason.MALFORMED_ANNOTATION,
                    f"{who} gave {what}; exactly one is expected",
                    annotator=who,
                    label=labels[0] if labels else None,
                    **common,
                )
                continue
            out.rows.append(AnnotationRow(task_id, who, labels[0], version, batch, TOOL, locator))
    return out
