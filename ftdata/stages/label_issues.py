"""Label issues: suspected label errors among the labelled records -> a review queue.

A side branch like evaluate: it reads the annotate stage's output (every label the
build settled on, before augmentation copies them) and changes no record; what it
finds goes to reviewers (data/processed/review/label_issues.jsonl, which
``ftdata annotate export --ids`` sends back to Label Studio or doccano), and the
``max_share`` gate stops the build when too many labels look wrong to train on.
"""

from __future__ import annotations

from ftdata.annotate.taxonomy import levels as label_levels
from ftdata.errors import GateError
from ftdata.io import read_columns, remove_stale_temps, table_to_records
from ftdata.label_issues import Classifier, check_level, labelled
from ftdata.metrics import StageCounts
from ftdata.params import pii_types, validated_section
from ftdata.privacy.fields import write_review
from ftdata.stage import REVIEW, log, metrics_path, out_path, project_root, stage_main

COLUMNS = ["id", "source", "locator", "messages", "text", "label"]
OUTPUTS = {"metrics": metrics_path("label_issues"), "queue": REVIEW / "label_issues.jsonl"}


def _gates(levels: dict[str, dict], max_share: float | None) -> list[dict]:
    if max_share is None:
        return []
    return [
        {
            "name": f"label_issues.max_share level {level}",
            "passed": m["share"] <= max_share,
            "figure": m["share"],
            "threshold": max_share,
            "detail": f"level {level}: {m['flagged']} of {m['checked']} labels flagged "
            f"({m['share']:.1%}), bound <= {max_share:.1%} (label_issues.max_share)",
        }
        for level, m in levels.items()
    ]


@stage_main("label_issues")
def main() -> None:
    root = project_root()
    section = validated_section(root, "label_issues")
    remove_stale_temps(*OUTPUTS.values())
    records = labelled(table_to_records(read_columns(out_path("annotate"), COLUMNS)))
    depth = max((len(label_levels(label)) for label in records["label"]), default=0)
    levels = list(section["levels"] or range(1, depth + 1))
    classifier = Classifier(**section["classifier"])
    results = [check_level(records, level, classifier) for level in levels]

    issues = [row for r in results for row in r.issues]
    by_level = {str(r.level): r.as_metrics() for r in results}
    gates = _gates(by_level, section["max_share"])
    counts = StageCounts("label_issues", n_in=len(records), out=len(records))
    counts.extra = {
        "flagged": len({row["id"] for row in issues}),
        "levels": by_level,
        "gates": gates,
    }
    counts.write(OUTPUTS["metrics"])
    write_review(OUTPUTS["queue"], issues, pii_types(root))
    log.info(
        "%d labelled records checked at levels %s: %d flagged (%s)",
        len(records),
        levels,
        counts.extra["flagged"],
        ", ".join(f"level {k}: {m['flagged']}" for k, m in by_level.items()),
    )
    # The gate reads the figures just written: the build stops with them in place.
    broken = [g["detail"] for g in gates if not g["passed"]]
    if broken:
        raise GateError(f"{'; '.join(broken)}; see {OUTPUTS['queue']}")
