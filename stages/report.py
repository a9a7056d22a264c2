"""Report: data/metrics/summary.json (the funnel), the plot data DVC renders, the HTML report and the dataset card."""

from __future__ import annotations

from ftdata.compose import load_params, validated_section
from ftdata.funnel import label_distribution, length_histogram, source_distribution, stage_metrics
from ftdata.io import read_records, write_json
from ftdata.report_html import score_histograms, write_report
from ftdata.stage import METRICS, PROCESSED, STAGES, project_root, stage_main

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
    write_json(
        METRICS / "summary.json",
        {
            "funnel": funnel,
            "raw_records": funnel[0]["in"],
            "exported_records": len(records),
            "kept_ratio": round(len(records) / funnel[0]["in"], 4) if funnel[0]["in"] else 0.0,
            "splits": {s: int(splits.get(s, 0)) for s in ("train", "val", "test")},
        },
    )
    write_json(PLOTS / "funnel.json", [{"stage": f["stage"], "records": f["out"]} for f in funnel])
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
    write_json(PLOTS / "lengths.json", length_histogram(records, section["length_bins"]))
    write_json(PLOTS / "scores.json", score_histograms(records, section["score_bins"]))
    # The HTML report and the dataset card (data/processed/report/index.html, data/processed/README.md).
    write_report(root, section, load_params(root), funnel, records)


if __name__ == "__main__":
    main()
