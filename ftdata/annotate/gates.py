"""Annotation quality gates: gold accuracy per batch x annotator, agreement per batch.

Thresholds and modes come from ``annotate.gates`` (the guideline's 标注准确率 >= 95 %
and 标注一致性 >= 90 % by default). A gate in ``fail`` mode stops the build with
one message naming the batch, the annotator and the figure; ``warn`` only
reports. Slices with fewer than ``min_items`` gold / multi-annotated items are
reported as not evaluated: a figure from three items would decide by chance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ftdata.errors import GateError


@dataclass(frozen=True)
class GateResult:
    gate: str  # accuracy | agreement
    batch: str
    annotator: str | None
    figure: float
    threshold: float
    items: int
    mode: str
    passed: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(report: dict, gates: dict, batch_paths: dict[str, str]) -> list[GateResult]:
    """Check every batch (and every annotator in it) of ``report['by_batch']``."""
    results = []
    acc, agr = gates["accuracy"], gates["agreement"]
    for batch, figures in sorted(report["by_batch"].items()):
        where = f"batch `{batch}` ({batch_paths.get(batch, '?')})"
        for annotator, stats in sorted(figures["annotators"].items()):
            n, accuracy = stats["gold_items"], stats["gold_accuracy"]
            if accuracy is None or n < acc["min_items"]:
                continue
            results.append(
                GateResult(
                    "accuracy",
                    batch,
                    annotator,
                    accuracy,
                    acc["min"],
                    n,
                    acc["mode"],
                    accuracy >= acc["min"],
                    f"{where}: annotator `{annotator}` gold accuracy {accuracy:.3f} "
                    f"({stats['gold_correct']} of {n} gold items) < {acc['min']} (annotate.gates.accuracy.min)",
                )
            )
        value, n = figures["percent_agreement"], figures["items_multi"]
        if value is None or n < agr["min_items"]:
            continue
        worst = min(
            (
                (a, s["agreement_with_consensus"])
                for a, s in figures["annotators"].items()
                if s["agreement_with_consensus"] is not None
            ),
            key=lambda x: (x[1], x[0]),
            default=(None, None),
        )
        lowest = (
            f"; lowest annotator `{worst[0]}` agrees with consensus on {worst[1]:.3f}"
            if worst[0]
            else ""
        )
        results.append(
            GateResult(
                "agreement",
                batch,
                worst[0],
                value,
                agr["min"],
                n,
                agr["mode"],
                value >= agr["min"],
                f"{where}: percent agreement {value:.3f} over {n} items < {agr['min']} "
                f"(annotate.gates.agreement.min){lowest}",
            )
        )
    return results


def enforce(results: list[GateResult], metrics_file: str) -> list[GateResult]:
    """Raise GateError listing every failed ``fail``-mode gate; return the ``warn`` ones that failed."""
    failed = [r for r in results if not r.passed and r.mode == "fail"]
    if failed:
        lines = "; ".join(f"gate `{r.gate}` failed for {r.detail}" for r in failed)
        raise GateError(f"annotate: {lines}; all figures in {metrics_file}")
    return [r for r in results if not r.passed]
