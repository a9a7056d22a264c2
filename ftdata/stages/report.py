"""Report: data/metrics/summary.json (the funnel), the plot data DVC renders, the HTML report and the dataset card."""

from __future__ import annotations

import json

from ftdata.baselines import (
    guideline_states,
    release_figures,
    release_manifest,
    release_trend,
    trend_entry,
)
from ftdata.contracts import as_metrics as contract_metrics
from ftdata.contracts import broken, check_contracts, drift_checks
from ftdata.contracts import markdown as contracts_markdown
from ftdata.dataset_card import render_card
from ftdata.errors import GateError
from ftdata.funnel import (
    label_distribution,
    length_histogram,
    origin_counts,
    source_distribution,
    stage_metrics,
    token_histogram,
    token_summary,
)
from ftdata.io import read_records, write_json, write_text
from ftdata.metrics import headline_path, summary_headline
from ftdata.params import load_params, validated_section
from ftdata.record import SPLITS
from ftdata.report_html import score_histograms, write_report
from ftdata.stage import METRICS, PROCESSED, STAGES, log, project_root, stage_main

PLOTS = METRICS / "plots"


@stage_main("report")
def main() -> None:
    root = project_root()
    section = validated_section(root, "report")
    funnel = stage_metrics(METRICS, STAGES)
    records = read_records(PROCESSED / "records.parquet")
    if "split" not in records.columns:  # an empty dataset: no record ever reached the split op
        records = records.assign(split=None)
    splits = records["split"].value_counts().to_dict() if len(records) else {}
    origins = origin_counts(records, funnel)
    budget = validated_section(root, "validate").get("token_budget") or {}
    summary = {
        "funnel": funnel,
        "raw_records": funnel[0]["in"],
        "exported_records": len(records),
        # kept originals / raw: augmented and resampled records are counted apart
        "kept_originals": origins["kept_originals"],
        "derived_records": origins["derived_records"],
        "kept_ratio": origins["kept_ratio"],
        "sources": origins["by_source"],
        "splits": {s: int(splits.get(s, 0)) for s in SPLITS},
        "tokens": token_summary(records, budget.get("tokenizer")),
    }
    write_json(METRICS / "summary.json", summary)
    write_json(headline_path(METRICS / "summary.json"), summary_headline(summary))
    # `step` orders the funnel by stage in `dvc plots` (a nominal axis sorts by name).
    write_json(
        PLOTS / "funnel.json",
        [
            {"step": f"{i:02d} {f['stage']}", "stage": f["stage"], "records": f["out"]}
            for i, f in enumerate(funnel, start=1)
        ],
    )
    write_json(
        PLOTS / "rejects.json",
        [
            {"stage": f["stage"], "reason": r, "count": n}
            for f in funnel
            for r, n in f["rejected"].items()
        ],
    )
    write_json(PLOTS / "labels.json", label_distribution(records))
    write_json(PLOTS / "sources.json", source_distribution(records))
    write_json(
        PLOTS / "lengths.json",
        [
            {**row, "step": f"{i:02d} {row['bin']}"}
            for i, row in enumerate(length_histogram(records, section["length_bins"]), start=1)
        ],
    )
    write_json(PLOTS / "tokens.json", token_histogram(records, section["token_bins"]))
    write_json(PLOTS / "scores.json", score_histograms(records, section["score_bins"]))
    # The contracts are checked on the figures above, written, and shown in the card.
    stage_figures = {
        name: json.loads((METRICS / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("export", "dedup")
    }
    contracts = validated_section(root, "contracts")
    checks = check_contracts(contracts, summary, stage_figures, records)
    drift = contracts["drift"]
    compared = None  # the baseline release's manifest and the trend up to this build
    if drift["baseline"]:
        labels = label_distribution(records)
        current = {
            "labels": labels,
            "sources": summary["sources"],
            "guidelines": guideline_states(root),
        }
        baseline = release_figures(root, drift["baseline"])
        checks += drift_checks(drift, current, baseline, contracts["mode"])
        annotate = METRICS / "annotate.json"  # the annotate stage is optional
        now = trend_entry(
            "this build",
            labels,
            json.loads(annotate.read_text(encoding="utf-8")) if annotate.is_file() else None,
        )
        compared = {
            "manifest": release_manifest(root, drift["baseline"]),
            "trend": [*release_trend(root, drift["baseline"]), now],
        }
    write_json(METRICS / "contracts.json", contract_metrics(checks))
    # the headline is the one figure a reviewer needs (`dvc metrics show` stays < 200 wide)
    write_json(headline_path(METRICS / "contracts.json"), {"broken": len(broken(checks))})
    # The HTML report and the dataset card (data/processed/report/index.html, data/processed/README.md).
    params = load_params(root)
    data = write_report(root, section, params, funnel, records, compared)
    card = "\n".join(
        [render_card(data, section, params).rstrip("\n"), "", *contracts_markdown(checks)]
    )
    write_text(root / "data/processed/README.md", card)
    failed = broken(checks)
    if failed and contracts["mode"] == "fail":  # after every figure is written: they stay
        raise GateError(
            f"{len(failed)} contract(s) broken: "
            + "; ".join(c.line() for c in failed)
            + " (data/metrics/contracts.json)"
        )
    for check in failed:
        log.warning("contract below bound (contracts.mode: warn): %s", check.line())
