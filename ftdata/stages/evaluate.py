"""Evaluate: score a predictions file (data/raw/eval/) on the test split; misclassified -> review.

With no predictions file the stage still writes its outputs (empty metrics,
empty plots, an empty hard-examples file) so the DAG stays valid.
"""

from __future__ import annotations

from ftdata.errors import ConfigError
from ftdata.evaluate import empty_metrics, evaluate, label_set, read_lines, reject_frame
from ftdata.io import read_records, remove_stale_temps, write_json, write_jsonl
from ftdata.metrics import StageCounts
from ftdata.params import load_params, pii_types, validated_section
from ftdata.privacy.fields import write_review
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.stage import (
    METRICS,
    PROCESSED,
    REVIEW,
    log,
    metrics_path,
    project_root,
    rejects_path,
    stage_main,
)

PLOTS = METRICS / "plots"
OUTPUTS = {
    "metrics": metrics_path("evaluate"),
    "rejects": rejects_path("evaluate"),
    "hard": REVIEW / "hard_examples.jsonl",
    "confusion": PLOTS / "confusion.json",  # leaf level
    "confusion_top": PLOTS / "confusion_level1.json",  # first taxonomy level
}


@stage_main("evaluate")
def main() -> None:
    root = project_root()
    section = validated_section(root, "evaluate")
    remove_stale_temps(*OUTPUTS.values())
    rel = section["predictions"]
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise ConfigError(f"params.yaml: `evaluate.predictions` {rel!r} points outside the project")
    if not path.is_file():
        log.info("no predictions file at %s: writing empty evaluation outputs", rel)
        counts = StageCounts("evaluate")
        counts.extra = empty_metrics(section["split"], f"no predictions file at {rel}")
        counts.write(OUTPUTS["metrics"])
        write_rejects(OUTPUTS["rejects"], [rejects_frame("evaluate", reject_frame([], None))])
        write_jsonl(OUTPUTS["hard"], [])
        write_json(OUTPUTS["confusion"], [])
        write_json(OUTPUTS["confusion_top"], [])
        return

    records = read_records(PROCESSED / "records.parquet")
    labels = label_set(load_params(root), records)
    result = evaluate(
        records,
        read_lines(path, rel),
        labels,
        split=section["split"],
        predictions_file=rel,
        hard_level=section["hard_examples_level"],
    )
    deepest = max(result.confusion_rows, default=0)
    result.counts.write(OUTPUTS["metrics"])
    write_rejects(OUTPUTS["rejects"], [rejects_frame("evaluate", result.rejects)])
    write_review(OUTPUTS["hard"], result.hard_examples, pii_types(root))
    write_json(OUTPUTS["confusion"], result.confusion_rows.get(deepest, []))
    write_json(OUTPUTS["confusion_top"], result.confusion_rows.get(1, []))
    m = result.metrics
    log.info(
        "%d predictions scored (coverage %.0f%%), accuracy %s, macro-F1 %s, %d rejected, %d hard examples",
        m["scored"],
        100 * m["coverage"],
        m["accuracy"],
        m["macro_f1"],
        result.counts.rejected_total,
        m["hard_examples"],
    )
