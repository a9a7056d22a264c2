"""Render the measured tables of bench/RESULTS.md from bench/out/*.json.

``python bench/report.py 100000`` prints markdown for results-N.json (bench/run.py)
and, when present, peers-N/peers.json + peers-N/ftdata-*.json (make bench-peers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def stage_rows(stages: dict) -> list[str]:
    rows = [
        "| stage | seconds | records in | records/s | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in stages.items():
        rows.append(
            f"| {name} | {s['seconds']} | {s['records_in'] if s['records_in'] is not None else '-'} | "
            f"{s['records_per_s'] if s['records_per_s'] is not None else '-'} | {s['peak_rss_mib']} |"
        )
    return rows


def main(n: int) -> None:
    r = json.loads((OUT / f"results-{n}.json").read_text())
    lines = [f"### ftdata build, N = {n:,} raw sessions", ""]
    lines += [
        f"- full `dvc repro`: **{r['full_build_s']} s**, peak RSS of one process "
        f"{r['full_build_peak_proc_rss_mib']} MiB, whole process tree {r['full_build_peak_tree_rss_mib']} MiB",
    ]
    if "full_build_failed_stage" in r:
        lines.append(
            f"- the full build stopped at `{r['full_build_failed_stage']}` (not a bench stage); "
        )
    lines.append(
        f"- no-op `dvc repro`: **{r['noop_repro_s']} s** (stages run: {r['noop_ran'] or 'none'})"
    )
    if "rebuild_1pct_s" in r:
        lines.append(
            f"- rebuild after +1 % sessions in `bench_b`: **{r['rebuild_1pct_s']} s** = "
            f"**{r['rebuild_1pct_ratio']:.1%}** of the full build"
        )
    nd = r["near_dup"]
    lines.append(
        f"- near duplicates: recall **{nd['recall']}** ({nd['found']}/{nd['eligible']} planted pairs with "
        f"Jaccard >= 0.8), precision **{nd['precision']}** ({nd['near_flagged_in_planted_family']}/"
        f"{nd['near_flagged']} near-dup rejects inside a planted family); exact-dup rejects {nd['exact_flagged']}"
    )
    lines += ["", *stage_rows(r["stages"]), ""]
    if "rebuild_stages" in r:
        lines += ["Rebuild after +1 %:", "", *stage_rows(r["rebuild_stages"]), ""]
    if "pandas" in r:
        lines += [
            "CPU-bound stages back to back, forced, score cache off (seconds; speed-up = "
            "dask records/s over pandas records/s):",
            "",
            "| stage | pandas s | dask, LocalCluster per stage s | speed-up | "
            "dask, long-lived loopback cluster s | speed-up |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for stage, s in r["pandas"]["stages"].items():
            own, shared = r["dask"]["stages"].get(stage), r["dask_cluster"]["stages"].get(stage)
            lines.append(
                f"| {stage} | {s['seconds']} | {own['seconds'] if own else '-'} | "
                f"{r['dask']['speedup_vs_pandas'].get(stage, '-')}x | "
                f"{shared['seconds'] if shared else '-'} | "
                f"{r['dask_cluster']['speedup_vs_pandas'].get(stage, '-')}x |"
            )
        lines.append("")
    peers = OUT / f"peers-{n}" / "peers.json"
    if peers.is_file():
        p = json.loads(peers.read_text())
        lines += [
            "### Shared work side by side",
            "",
            "| tool | seconds | docs/s | kept | peak RSS tree (MiB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in ("datatrove", "data_juicer"):
            if name in p:
                x = p[name]
                lines.append(
                    f"| {name} | {x['seconds']} | {x['records_per_s']} | {x['kept']} | {x['peak_tree_rss_mib']} |"
                )
        for kind in ("pandas", "dask"):
            f = OUT / f"peers-{n}" / f"ftdata-{kind}.json"
            if f.is_file():
                x = json.loads(f.read_text())
                lines.append(
                    f"| ftdata ({kind}) | {x['seconds']} | {x['records_per_s']} | {x['kept']} | {x['peak_proc_rss_mib']} (driver) |"
                )
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100000)
