"""The data report: data/processed/report/index.html, one self-contained page people can read.

Charts are inline SVG generated here (no script, no font or style sheet from the
network, no external URL at all), so the page opens offline, in a mail
attachment or a CI artifact, and renders the same everywhere. Every figure
comes from the build's metrics files and records.parquet; figures from stages
that are not in this build (annotation, balance, evaluation, a release
manifest) say "not available" instead of disappearing.

Every chart's bars carry ``data-label`` / ``data-value`` attributes, so a test
(or a person with the inspector) can check what was drawn.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ftdata.baselines import trend_annotator_rows, trend_label_rows
from ftdata.funnel import (
    BENCHMARK_HEADER,
    PREFERENCE_HEADER,
    TOKEN_HEADER,
    benchmark_rows,
    label_counts,
    length_histogram,
    origin_counts,
    preference_rows,
    token_histogram,
    token_rows,
)
from ftdata.label_issues import LEVEL_HEADER, level_rows
from ftdata.record import SCORE_PREFIX, SPLITS

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
SPLIT_COLORS = {"train": "#4e79a7", "val": "#f28e2b", "test": "#59a14f"}
FONT = 12
NOT_AVAILABLE = "not available"


# ---------------------------------------------------------------- SVG primitives
def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def text_width(text: str, size: float = FONT) -> float:
    """Rendered width estimate: CJK and full-width characters are one em, others ~0.6 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in str(text))


def clip(text: str, max_width: float, size: float = FONT) -> str:
    text = str(text)
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{int(value):,}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" aria-label="{esc(title)}">'
        f"<title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )


def _legend(series: list[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for name, color in series:
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14:.1f}" y="{y:.1f}" class="legend">{esc(name)}</text>')
        x += 24 + text_width(name)
    return out


def hbar_chart(
    rows: list[tuple[str, dict[str, float]]],
    series: list[tuple[str, str]],
    title: str,
    *,
    stacked: bool = False,
    bar_width: float = 420,
    label_max: float = 300,
) -> str:
    """Horizontal bars: one row per category, one bar (or stacked segment) per series.

    ``rows`` is ``[(category, {series_name: value})]``; ``series`` is
    ``[(series_name, colour)]`` in drawing order.
    """
    if not rows:
        return '<p class="na">no data</p>'
    names = [s for s, _ in series]
    label_w = min(label_max, max(text_width(c) for c, _ in rows)) + 12
    if stacked:
        vmax = max(sum(v.get(n, 0) for n in names) for _, v in rows)
    else:
        vmax = max(max((v.get(n, 0) for n in names), default=0) for _, v in rows)
    vmax = vmax or 1
    bar_h = 14 if (stacked or len(series) == 1) else 9
    row_h = (bar_h + 6) if (stacked or len(series) == 1) else bar_h * len(series) + 8
    top = 26 if len(series) > 1 else 6
    width = label_w + bar_width + 70
    height = top + row_h * len(rows) + 6
    body = _legend(series, label_w, 14) if len(series) > 1 else []
    for i, (category, values) in enumerate(rows):
        y0 = top + i * row_h
        body.append(
            f'<text x="{label_w - 6:.1f}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end" class="axis">'
            f"<title>{esc(category)}</title>{esc(clip(category, label_max))}</text>"
        )
        x = label_w
        for j, (name, color) in enumerate(series):
            value = float(values.get(name, 0) or 0)
            w = bar_width * value / vmax
            y = y0 + 3 if stacked or len(series) == 1 else y0 + 4 + j * bar_h
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{bar_h - 1}" '
                f'fill="{color}" data-label="{esc(category)}" data-series="{esc(name)}" data-value="{fmt(value)}">'
                f"<title>{esc(category)} · {esc(name)}: {fmt(value)}</title></rect>"
            )
            if stacked:
                x += w
            elif value or len(series) == 1:
                body.append(
                    f'<text x="{x + w + 4:.1f}" y="{y + bar_h - 3:.1f}" class="value">{fmt(value)}</text>'
                )
        if stacked:
            total = sum(float(values.get(n, 0) or 0) for n in names)
            body.append(
                f'<text x="{x + 4:.1f}" y="{y0 + 3 + bar_h - 3:.1f}" class="value">{fmt(total)}</text>'
            )
    return _svg(width, height, body, title)


def column_chart(
    bins: list[tuple[str, float]],
    title: str,
    color: str = PALETTE[0],
    height: float = 180,
    max_width: float = 620,
) -> str:
    """Vertical bars (a histogram): bin labels under the axis, counts above the bars."""
    if not bins:
        return '<p class="na">no data</p>'
    col_w = max(26.0, min(60.0, (max_width - 50) / len(bins)))
    left, top, bottom = 36, 16, 58
    width = left + col_w * len(bins) + 10
    vmax = max(v for _, v in bins) or 1
    plot_h = height
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6:.1f}" y2="{top + plot_h}" class="gridline"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="axis">{fmt(vmax)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    for i, (label, value) in enumerate(bins):
        h = plot_h * float(value) / vmax
        x = left + i * col_w + 3
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{col_w - 6:.1f}" height="{h:.1f}" '
            f'fill="{color}" data-label="{esc(label)}" data-value="{fmt(value)}"><title>{esc(label)}: {fmt(value)}</title></rect>'
        )
        if value:
            body.append(
                f'<text x="{x + (col_w - 6) / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle" class="value">{fmt(value)}</text>'
            )
        lx, ly = x + (col_w - 6) / 2, top + plot_h + 12
        body.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" transform="rotate(-35 {lx:.1f} {ly:.1f})" class="axis">{esc(clip(label, 70))}</text>'
        )
    return _svg(width, top + plot_h + bottom, body, title)


def short_labels(labels: list[str]) -> list[str]:
    """The leaf name of each path, or its last two levels where leaf names repeat."""
    leaf = [lbl.rsplit(">", 1)[-1] for lbl in labels]
    counts = Counter(leaf)
    return [
        lf if counts[lf] == 1 else ">".join(lbl.split(">")[-2:])
        for lf, lbl in zip(leaf, labels, strict=True)
    ]


def heatmap(labels: list[str], matrix: list[list[int]], title: str) -> str:
    """A confusion matrix: rows are gold labels, columns predictions; errors in orange."""
    if not labels:
        return '<p class="na">no data</p>'
    names = short_labels(labels)
    cell = 34
    label_w = max(text_width(n) for n in names) + 12
    top = max(text_width(n) for n in names) * 0.75 + 30
    width = label_w + cell * len(labels) + 20
    height = top + cell * len(labels) + 24
    vmax = max((v for row in matrix for v in row), default=0) or 1
    body = [f'<text x="{label_w:.1f}" y="12" class="legend">predicted →  (rows: gold)</text>']
    for j, name in enumerate(names):
        x, y = label_w + j * cell + cell / 2, top - 6
        body.append(
            f'<text x="{x:.1f}" y="{y:.1f}" transform="rotate(-45 {x:.1f} {y:.1f})" class="axis">'
            f"<title>{esc(labels[j])}</title>{esc(name)}</text>"
        )
    for i, name in enumerate(names):
        y = top + i * cell
        body.append(
            f'<text x="{label_w - 6:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" class="axis">'
            f"<title>{esc(labels[i])}</title>{esc(name)}</text>"
        )
        for j, value in enumerate(matrix[i]):
            share = value / vmax
            if value == 0:
                fill = "#f4f4f4"
            elif i == j:
                fill = f"rgba(78,121,167,{0.25 + 0.75 * share:.3f})"
            else:
                fill = f"rgba(242,142,43,{0.35 + 0.65 * share:.3f})"
            x = label_w + j * cell
            body.append(
                f'<rect class="cell" x="{x:.1f}" y="{y:.1f}" width="{cell - 2}" height="{cell - 2}" fill="{fill}" '
                f'data-label="{esc(labels[i])} → {esc(labels[j])}" data-value="{value}">'
                f"<title>gold {esc(labels[i])} → predicted {esc(labels[j])}: {value}</title></rect>"
            )
            if value:
                body.append(
                    f'<text x="{x + cell / 2 - 1:.1f}" y="{y + cell / 2 + 3:.1f}" text-anchor="middle" class="value">{value}</text>'
                )
    return _svg(width, height, body, title)


# ---------------------------------------------------------------- figures
def score_histograms(records: pd.DataFrame, bins: int = 10) -> list[dict]:
    """Equal-width histogram per ``score_*`` column over its observed range (the DVC plot data too)."""
    rows = []
    for col in sorted(c for c in records.columns if c.startswith(SCORE_PREFIX)):
        values = [
            float(v)
            for v in records[col]
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        if not values:
            continue
        name = col[len(SCORE_PREFIX) :]
        lo, hi = min(values), max(values)
        n = bins if hi > lo else 1
        step = (hi - lo) / n if hi > lo else 1.0
        counts = Counter(min(int((v - lo) / step), n - 1) if hi > lo else 0 for v in values)
        for i in range(n):
            a, b = lo + i * step, lo + (i + 1) * step
            rows.append(
                {
                    "score": name,
                    "bin": f"{name} {_num(a)}–{_num(b)}" if hi > lo else f"{name} {_num(lo)}",
                    "lower": round(a, 6),
                    "upper": round(b, 6),
                    "count": counts.get(i, 0),
                }
            )
    return rows


def _num(x: float) -> str:
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.2g}" if abs(x) < 1 else f"{x:.1f}"


def balance_counts(balance: dict | None) -> list[tuple[str, dict[str, int], dict[str, int]]]:
    """``[(scope, before, after)]`` label counts from the balance stage's metrics, if it has them.

    Reads ``labels_before`` / ``labels_after`` keyed by level (``level_1`` ...,
    what stages/balance.py writes), or ``before`` / ``after`` mappings of label ->
    count at the top level or under ``labels`` / ``counts``. Empty when absent.
    """
    if not isinstance(balance, dict):
        return []
    if isinstance(balance.get("labels_before"), dict) and isinstance(
        balance.get("labels_after"), dict
    ):
        before, after = balance["labels_before"], balance["labels_after"]
        out = []
        for level in sorted(set(before) | set(after), key=str):
            b, a = _flat_counts(before.get(level) or {}), _flat_counts(after.get(level) or {})
            if b is not None and a is not None:
                out.append((str(level).replace("_", " "), b, a))
        return out
    for holder in (
        balance,
        balance.get("labels"),
        balance.get("counts"),
        balance.get("label_counts"),
    ):
        if (
            isinstance(holder, dict)
            and isinstance(holder.get("before"), dict)
            and isinstance(holder.get("after"), dict)
        ):
            before, after = _flat_counts(holder["before"]), _flat_counts(holder["after"])
            if before is not None and after is not None:
                return [("all levels", before, after)]
    return []


def _flat_counts(value: dict) -> dict[str, int] | None:
    if not value:
        return {}
    if value and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
    ):
        return {str(k): int(v) for k, v in value.items()}
    nested = [v for v in value.values() if isinstance(v, dict)]
    if nested and len(nested) == len(value):
        # keyed by level: take every level's counts (paths are distinct across levels)
        merged: dict[str, int] = {}
        for part in nested:
            flat = _flat_counts(part)
            if flat is None:
                return None
            merged.update(flat)
        return merged
    return None


def numeric_leaves(data: Any, prefix: str = "", limit: int = 60) -> list[tuple[str, float]]:
    """``(dotted.key, number)`` for the numbers in a metrics file (annotation agreement and the like)."""
    out: list[tuple[str, float]] = []

    def walk(value: Any, key: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            out.append((key, value))
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                walk(value[k], f"{key}.{k}" if key else str(k))

    walk(data, prefix)
    return out


# ---------------------------------------------------------------- collecting
@dataclass
class ReportData:
    title: str
    summary: dict
    funnel: list[dict]
    records: pd.DataFrame
    sources: dict  # params `source`
    length_bins: list[int]
    score_bins: int
    examples_per_label: int
    optional: dict[str, Any] = field(default_factory=dict)  # name -> parsed file or None
    token_bins: list[int] = field(default_factory=list)  # report.token_bins


OPTIONAL_FILES = {
    "annotate": "data/metrics/annotate.json",
    "augment": "data/metrics/augment.json",
    "balance": "data/metrics/balance.json",
    "evaluate": "data/metrics/evaluate.json",
    "label_issues": "data/metrics/label_issues.json",
    "preference": "data/metrics/preference.json",
    "confusion": "data/metrics/plots/confusion.json",
    "confusion_level1": "data/metrics/plots/confusion_level1.json",
    "split": "data/metrics/split.json",
    "split_strata": "data/metrics/plots/split_strata.json",
}


def read_optional(root: Path) -> dict[str, Any]:
    """The figures of stages that may not be in this build: parsed JSON, or None."""
    out = {}
    for name, rel in OPTIONAL_FILES.items():
        path = root / rel
        try:
            out[name] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except ValueError:
            out[name] = None
    return out


# ---------------------------------------------------------------- HTML
CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei","PingFang SC",system-ui,sans-serif;
margin:0;color:#222;background:#fafafa;font-size:14px;line-height:1.45}
header{background:#24364b;color:#fff;padding:18px 32px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#d5dde6}main{padding:8px 32px 40px;max-width:1200px}
nav{margin:14px 0;font-size:13px}nav a{margin-right:12px;color:#24364b}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:14px 20px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.kpi{background:#fff;border:1px solid #e3e3e3;
border-radius:6px;padding:8px 14px;min-width:120px}.kpi b{display:block;font-size:20px}.kpi span{color:#666;font-size:12px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border-bottom:1px solid #eee;padding:3px 10px 3px 0;
text-align:left;vertical-align:top}td.n,th.n{text-align:right}.na{color:#888;font-style:italic}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.muted{color:#666;font-size:12px}
svg.chart{display:block;margin:6px 0;overflow:visible}svg text{font-family:inherit;font-size:12px;fill:#333}
svg text.value{fill:#555;font-size:11px}svg text.legend{font-size:12px}svg .gridline{stroke:#999;stroke-width:1}
.example{font-size:12px}.example td{max-width:420px}
.example td:last-child{max-width:300px;overflow-wrap:anywhere}code{font-size:12px;background:#f2f2f2;padding:0 3px}
"""


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(
        f"<th{' class=n' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if i in numeric else ''}>{esc(fmt(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _na(what: str) -> str:
    return f'<p class="na">{esc(what)}: {NOT_AVAILABLE}.</p>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def section_funnel(data: ReportData) -> str:
    rows = [
        (f["stage"], {"kept": f["out"], "rejected": sum(f["rejected"].values())})
        for f in data.funnel
    ]
    chart = hbar_chart(
        rows,
        [("kept", PALETTE[0]), ("rejected", PALETTE[3])],
        "Records kept and rejected per stage",
        stacked=True,
    )
    rejects = Counter()
    for f in data.funnel:
        for reason, n in f["rejected"].items():
            rejects[(f["stage"], reason)] += n
    reject_rows = [
        (f"{stage}: {reason}", {"records": n})
        for (stage, reason), n in sorted(rejects.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    table = _table(
        ["stage", "in", "added", "out", "rejected"],
        [
            [f["stage"], f["in"], f.get("added", 0), f["out"], sum(f["rejected"].values())]
            for f in data.funnel
        ],
        {1, 2, 3, 4},
    )
    return _section(
        "funnel",
        "Funnel: records per stage",
        '<p class="muted">Every stage accounts for every record it reads: in + added = out + rejected. '
        "Rejected records are kept whole in data/interim/rejects/ with their reason.</p>"
        f'<div class="grid"><div>{chart}</div><div>{table}</div></div>'
        f"<h3>Rejects by reason</h3>{hbar_chart(reject_rows, [('records', PALETTE[3])], 'Rejected records by stage and reason')}",
    )


def section_labels(data: ReportData) -> str:
    counts = label_counts(data.records)
    parts = []
    for level in sorted(counts):
        labels = sorted(counts[level].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        rows = [(lbl, by_split) for lbl, by_split in labels]
        series = [(s, SPLIT_COLORS.get(s, PALETTE[5])) for s in SPLITS]
        parts.append(
            f"<h3>Level {level}</h3>"
            + hbar_chart(
                rows, series, f"Exported records per label, level {level}, by split", stacked=True
            )
        )
    balance = balance_counts(data.optional.get("balance"))
    parts.append("<h3>Before and after balance (train split)</h3>")
    if not balance:
        parts.append(_na("label counts before and after balance (data/metrics/balance.json)"))
    for scope, before, after in balance:
        cats = sorted(set(before) | set(after), key=lambda c: (-before.get(c, 0), c))
        rows = [
            (c, {"before balance": before.get(c, 0), "after balance": after.get(c, 0)})
            for c in cats
        ]
        series = [("before balance", PALETTE[7]), ("after balance", PALETTE[0])]
        parts.append(
            f"<h4>{esc(scope)}</h4>"
            + hbar_chart(rows, series, f"Train records per label before and after balance, {scope}")
        )
    return _section(
        "labels",
        "Label distribution per taxonomy level",
        "".join(parts) if counts else _na("labels"),
    )


def section_lengths(data: ReportData) -> str:
    if not len(data.records):
        return _section("lengths", "Lengths", _na("records"))
    hist = length_histogram(data.records, data.length_bins)
    chars = column_chart(
        [(h["bin"], h["count"]) for h in hist], "Characters of trainable text per record"
    )
    turns = Counter(len(m) if m is not None else 0 for m in data.records["messages"])
    turn_bins = [(f"{k} turns", turns[k]) for k in sorted(turns)]
    return _section(
        "lengths",
        "Lengths",
        f'<div class="grid"><div><h3>Characters per record</h3>{chars}</div>'
        f"<div><h3>Turns per record</h3>{column_chart(turn_bins, 'Messages per record', PALETTE[4])}</div></div>",
    )


def section_tokens(data: ReportData) -> str:
    tokens = data.summary.get("tokens")
    if not tokens:
        return _section("tokens", "Tokens", _na("token counts (validate.token_budget.tokenizer)"))
    rows = token_histogram(data.records, data.token_bins or [0])
    charts = "".join(
        f"<div><h3>{esc(split)}</h3>"
        + column_chart(
            [(r["bin"], r["count"]) for r in rows if r["split"] == split],
            f"Tokens per {split} record",
        )
        + "</div>"
        for split in SPLITS
        if split in tokens["splits"]
    )
    table = _table(TOKEN_HEADER, token_rows(tokens), {1, 2, 3, 4, 5})
    return _section(
        "tokens",
        "Tokens",
        f'<p class="muted">{tokens["total"]:,} tokens with <code>{esc(tokens["tokenizer"])}</code> '
        "(turn contents): what a fine-tuning run reads.</p>"
        + table
        + f'<div class="grid">{charts}</div>',
    )


def section_sources(data: ReportData) -> str:
    origins = origin_counts(data.records, data.funnel)["by_source"]
    names = sorted(set(data.sources) | set(origins))
    zero = {"raw": 0, "kept": 0, "augmented": 0, "resampled": 0}
    rows = [
        (
            n,
            {
                "raw records": origins.get(n, zero)["raw"],
                "kept originals": origins.get(n, zero)["kept"],
                "derived": origins.get(n, zero)["augmented"] + origins.get(n, zero)["resampled"],
            },
        )
        for n in names
    ]
    chart = hbar_chart(
        rows,
        [("raw records", PALETTE[7]), ("kept originals", PALETTE[0]), ("derived", PALETTE[1])],
        "Raw records, kept originals and derived records per source",
    )
    table = _table(
        [
            "source",
            "kind",
            "licence",
            "owner",
            "collected",
            "raw",
            "kept",
            "augmented",
            "resampled",
            "exported",
        ],
        [
            [
                n,
                data.sources.get(n, {}).get("kind", ""),
                data.sources.get(n, {}).get("license", ""),
                data.sources.get(n, {}).get("owner", ""),
                data.sources.get(n, {}).get("collected_at", ""),
                origins.get(n, zero)["raw"],
                origins.get(n, zero)["kept"],
                origins.get(n, zero)["augmented"],
                origins.get(n, zero)["resampled"],
                sum(origins.get(n, zero)[k] for k in ("kept", "augmented", "resampled")),
            ]
            for n in names
        ],
        {5, 6, 7, 8, 9},
    )
    note = (
        '<p class="muted">kept = raw records of the source that reached the exports; '
        "augmented and resampled records are derived from kept train records and keep their "
        "parent's source, so exported = kept + augmented + resampled can exceed raw.</p>"
    )
    langs = (
        Counter(data.records["lang"])
        if "lang" in data.records.columns and len(data.records)
        else Counter()
    )
    lang_chart = hbar_chart(
        [(str(k), {"records": v}) for k, v in langs.most_common()],
        [("records", PALETTE[2])],
        "Exported records per language",
    )
    return _section(
        "sources",
        "Source mix",
        f'{note}<div class="grid"><div>{chart}</div><div>{table}</div></div>'
        f"{ingest_gaps(data.funnel)}<h3>Languages</h3>{lang_chart}",
    )


def ingest_gaps(funnel: list[dict]) -> str:
    """Raw labels no ``label_map`` knows and files that gave no record, per source.

    Both leave records unlabelled or missing without failing the build, so the report
    is where a user must see them (``source.<name>.unmapped_label``, the ingest warning).
    """
    by_source = next((f for f in funnel if f["stage"] == "ingest"), {}).get("by_source", {})
    labels = [
        [
            name,
            m["unmapped_labels"]["records"],
            m["unmapped_labels"]["action"],
            ", ".join(f"{k} ({v})" for k, v in m["unmapped_labels"]["top"].items()),
        ]
        for name, m in sorted(by_source.items())
        if m.get("unmapped_labels", {}).get("records")
    ]
    files = [
        [name, path, reason]
        for name, m in sorted(by_source.items())
        for path, reason in sorted((m.get("file_notes") or {}).items())
    ]
    parts = ["<h3>Raw labels outside label_map</h3>"]
    parts.append(
        _table(["source", "records", "action", "top raw labels"], labels, {1})
        if labels
        else '<p class="muted">Every raw label of every source is in its label_map.</p>'
    )
    if files:
        parts.append("<h3>Files that gave no record</h3>")
        parts.append(_table(["source", "file", "reason"], files))
    return "".join(parts)


def section_scores(data: ReportData) -> str:
    hist = score_histograms(data.records, data.score_bins)
    if not hist:
        return _section(
            "scores", "Quality scores", _na("quality scores (score_* columns of records.parquet)")
        )
    charts = []
    for i, name in enumerate(sorted({h["score"] for h in hist})):
        bins = [(h["bin"][len(name) + 1 :], h["count"]) for h in hist if h["score"] == name]
        charts.append(
            f"<div><h3>{esc(name)}</h3>{column_chart(bins, f'Distribution of score_{name}', PALETTE[i % len(PALETTE)], 100, 420)}</div>"
        )
    return _section(
        "scores",
        "Quality-score distributions (exported records)",
        '<p class="muted">Scores the quality stage computed (score_* columns of records.parquet); records '
        "outside the configured thresholds were rejected before export.</p>"
        + f'<div class="grid">{"".join(charts)}</div>',
    )


AGREEMENT = (
    ("percent_agreement", "percent agreement"),
    ("krippendorff_alpha", "Krippendorff's α"),
    ("cohen_kappa_mean", "mean Cohen's κ"),
)


def section_annotation(data: ReportData) -> str:
    """Agreement overall, per taxonomy level, per batch and per annotator (data/metrics/annotate.json)."""
    annotate = data.optional.get("annotate")
    if not annotate:
        return _section(
            "annotation",
            "Annotation agreement",
            _na("annotation agreement (data/metrics/annotate.json)"),
        )
    overall = annotate.get("overall") if isinstance(annotate.get("overall"), dict) else None
    if "overall" in annotate and not overall:  # the stage ran, but no annotation export was read
        return _section(
            "annotation",
            "Annotation agreement",
            _na("annotation agreement (no annotations in this build)"),
        )
    if not overall:  # another shape: show whatever agreement-like numbers it has
        figures = [
            (k, v)
            for k, v in numeric_leaves(annotate)
            if any(w in k.lower() for w in ("agree", "kappa", "alpha", "accuracy", "wilson"))
        ] or numeric_leaves(annotate)
        return _section(
            "annotation",
            "Annotation agreement",
            _table(
                ["figure (data/metrics/annotate.json)", "value"], [[k, v] for k, v in figures], {1}
            ),
        )
    spot = annotate.get("spot_check") or {}
    kpi_values = [(label, overall.get(key)) for key, label in AGREEMENT]
    kpi_values += [
        ("items annotated", overall.get("items")),
        ("annotators", overall.get("annotators")),
    ]
    if spot.get("judged"):
        kpi_values.append(
            (
                f"spot-check label accuracy ({spot.get('judged')} judged, {int(100 * spot.get('confidence', 0.95))} % Wilson CI)",
                f"{spot.get('accuracy')} [{spot.get('wilson_low')}, {spot.get('wilson_high')}]",
            )
        )
    kpis = "".join(
        f'<div class="kpi"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
        for k, v in kpi_values
        if v is not None
    )
    series = [(label, PALETTE[i]) for i, (_, label) in enumerate(AGREEMENT)]
    by_level = annotate.get("by_level") or {}
    level_rows = [
        (f"level {lv}", {label: m.get(key, 0) or 0 for key, label in AGREEMENT})
        for lv, m in sorted(by_level.items())
    ]
    by_batch = annotate.get("by_batch") or {}
    batch_rows = [
        (str(b), {label: m.get(key, 0) or 0 for key, label in AGREEMENT})
        for b, m in sorted(by_batch.items())
    ]
    people = annotate.get("by_annotator") or {}
    person_series = [("gold accuracy", PALETTE[2]), ("agreement with consensus", PALETTE[0])]
    person_rows = [
        (
            str(a),
            {
                "gold accuracy": m.get("gold_accuracy") or 0,
                "agreement with consensus": m.get("agreement_with_consensus") or 0,
            },
        )
        for a, m in sorted(people.items())
    ]
    gates = annotate.get("gates") or {}
    failed = sorted(
        k for k, g in gates.items() if isinstance(g, dict) and not g.get("passed", True)
    )
    gate_note = (
        f'<p class="muted">Gates: {len(gates) - len(failed)} of {len(gates)} passed'
        + (f"; failed: {esc(', '.join(failed))}" if failed else "")
        + ".</p>"
        if gates
        else ""
    )
    return _section(
        "annotation",
        "Annotation agreement",
        f'<div class="kpis">{kpis}</div>{gate_note}<div class="grid">'
        f"<div><h3>Per taxonomy level</h3>{hbar_chart(level_rows, series, 'Agreement per taxonomy level', bar_width=260)}</div>"
        f"<div><h3>Per batch</h3>{hbar_chart(batch_rows, series, 'Agreement per batch', bar_width=260)}</div>"
        f"<div><h3>Per annotator</h3>{hbar_chart(person_rows, person_series, 'Annotator quality', bar_width=260)}</div></div>",
    )


def section_decontamination(data: ReportData) -> str:
    found = (data.optional.get("split") or {}).get("decontaminate")
    if not found or not found.get("benchmarks"):
        return _section(
            "decontamination",
            "Decontamination",
            _na("benchmark overlap (no benchmark files named)"),
        )
    table = _table(BENCHMARK_HEADER, benchmark_rows(found), {3, 4, 5, 6, 7})
    splits = ", ".join(found.get("splits") or [])
    return _section(
        "decontamination",
        "Decontamination",
        f'<p class="muted">Records of {esc(splits)} that overlap an evaluation or benchmark file '
        "(same normalised text, a shared 13-token span, or MinHash Jaccard above the threshold) "
        "are rejected as <code>contaminated</code>; each reject names the benchmark record.</p>"
        + table,
    )


def section_label_issues(data: ReportData) -> str:
    found = data.optional.get("label_issues")
    if not found or not found.get("levels"):
        return _section("label-issues", "Label issues", _na("label-error detection (no labels)"))
    return _section(
        "label-issues",
        "Label issues",
        f'<p class="muted">{found["flagged"]} labelled records whose label an out-of-fold '
        "classifier contradicts (cleanlab's confident learning), most suspect first in "
        "<code>data/processed/review/label_issues.jsonl</code>; send them back to annotators "
        "with <code>ftdata annotate export --ids data/processed/review/label_issues.jsonl</code>.</p>"
        + _table(LEVEL_HEADER, level_rows(found), {1, 2, 3, 4, 5}),
    )


def section_preference(data: ReportData) -> str:
    found = data.optional.get("preference")
    if not found or not found.get("in"):
        return _section("preference", "Preference data", _na("feedback-derived preference pairs"))
    return _section(
        "preference",
        "Preference data",
        f'<p class="muted">{sum(found["pairs"].values())} DPO pairs from {found["in"]} '
        "adjudicated feedback records: the agent's reply chosen, the deployed model's "
        "rejected (<code>data/processed/preference/</code>).</p>"
        + _table(PREFERENCE_HEADER, preference_rows(found), {1, 2, 3}),
    )


def section_evaluation(data: ReportData) -> str:
    ev = data.optional.get("evaluate")
    if not ev or not ev.get("scored"):
        why = (ev or {}).get("status") or "no evaluate stage output"
        return _section("evaluation", "Evaluation", _na(f"evaluation figures ({why})"))
    kpis = "".join(
        f'<div class="kpi"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
        for k, v in (
            ("accuracy (leaf)", ev.get("accuracy")),
            ("macro-F1 (leaf)", ev.get("macro_f1")),
            ("predictions scored", ev.get("scored")),
            ("coverage of labelled test records", ev.get("coverage")),
            ("rejected prediction lines", ev.get("rejected_total", 0)),
            ("hard examples", ev.get("hard_examples")),
        )
    )
    levels = ev.get("levels", {})
    level_table = _table(
        ["level", "n", "accuracy", "macro-F1"],
        [
            [lv, m.get("n"), m.get("accuracy"), m.get("macro_f1")]
            for lv, m in sorted(levels.items())
        ],
        {1, 2, 3},
    )
    deepest = max(levels, key=int) if levels else None
    per_label = levels.get(deepest, {}).get("labels", {}) if deepest else {}
    f1_rows = [
        (lbl, {"precision": m["precision"], "recall": m["recall"], "f1": m["f1"]})
        for lbl, m in sorted(per_label.items())
    ]
    f1_chart = hbar_chart(
        f1_rows,
        [("precision", PALETTE[0]), ("recall", PALETTE[1]), ("f1", PALETTE[2])],
        "Per-label precision, recall and F1 (leaf)",
        bar_width=300,
    )
    label_table = _table(
        ["label", "precision", "recall", "F1", "support"],
        [
            [lbl, m["precision"], m["recall"], m["f1"], m["support"]]
            for lbl, m in sorted(per_label.items())
        ],
        {1, 2, 3, 4},
    )
    mats = []
    for key, title in (
        ("confusion", "Confusion matrix, leaf labels"),
        ("confusion_level1", "Confusion matrix, level 1"),
    ):
        rows = data.optional.get(key) or []
        labels = sorted({r["actual"] for r in rows} | {r["predicted"] for r in rows})
        index = {lbl: i for i, lbl in enumerate(labels)}
        matrix = [[0] * len(labels) for _ in labels]
        for r in rows:
            matrix[index[r["actual"]]][index[r["predicted"]]] += 1
        mats.append(f"<div><h3>{esc(title)}</h3>{heatmap(labels, matrix, title)}</div>")
    rejected = ev.get("rejected", {})
    rej = _table(["reason", "lines"], sorted(rejected.items()), {1}) if rejected else ""
    return _section(
        "evaluation",
        "Evaluation on the test split",
        f'<p class="muted">{esc(ev.get("predictions_file"))} scored against {esc(ev.get("label_set"))}; misclassified records '
        "are in data/processed/review/hard_examples.jsonl.</p>"
        f'<div class="kpis">{kpis}</div><div class="grid"><div>{level_table}{rej}</div><div>{f1_chart}</div></div>'
        f'<div class="grid">{"".join(mats)}</div><h3>Per label (leaf)</h3>{label_table}',
    )


def _first(messages: list[dict] | None, role: str) -> str:
    for m in messages or []:
        if m.get("role") == role and m.get("content"):
            return m["content"]
    return ""


def section_examples(data: ReportData) -> str:
    if not len(data.records):
        return _section("examples", "Example records per label", _na("records"))
    recs = data.records.sort_values("id")
    rows = []
    for label in sorted({lbl for lbl in recs["label"] if isinstance(lbl, str)}):
        for rec in recs[recs["label"] == label].head(data.examples_per_label).to_dict("records"):
            user = _first(rec["messages"], "user") or (rec.get("text") or "")
            reply = _first(rec["messages"], "assistant")
            rows.append(
                [
                    label,
                    rec.get("split"),
                    rec.get("source"),
                    _cut(user, 120),
                    _cut(reply, 160),
                    rec.get("locator"),
                ]
            )
    return _section(
        "examples",
        "Example records per label",
        f'<p class="muted">The first {data.examples_per_label} exported records of each label by id (text after cleaning and PII redaction).</p>'
        f'<div class="example">{_table(["label", "split", "source", "user", "assistant", "raw locator"], rows)}</div>',
    )


def _cut(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


BASELINE_HINT = "set contracts.drift.baseline to a data_vX.Y tag to compare this build with it"


def section_release(data: ReportData) -> str:
    manifest = data.optional.get("manifest")
    if not manifest:
        return _section("release", "Baseline release", _na(f"baseline release ({BASELINE_HINT})"))
    keys = [
        (k, v)
        for k, v in manifest.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    ]
    # The baseline is a param, not "the latest tag": a tag never changes, so the param is
    # all DVC needs to know when this section is stale.
    note = (
        f'<p class="muted">The release this build is compared with '
        f"(contracts.drift.baseline): {esc(manifest.get('tag', '?'))}. A build never shows "
        "its own release, which is cut after it; that manifest is in its tag "
        "(<code>git show data_vX.Y:data/release/manifest.json</code>).</p>"
    )
    return _section("release", "Baseline release", note + _table(["field", "value"], keys))


def section_trend(data: ReportData) -> str:
    trend = data.optional.get("trend")
    if not trend:
        return _section("trend", "Across releases", _na(f"trend ({BASELINE_HINT})"))
    tags = [point["tag"] for point in trend]
    columns = set(range(2, len(tags) + 2))
    return _section(
        "trend",
        "Across releases",
        '<p class="muted">Releases up to contracts.drift.baseline, then this build. Label '
        "drift (标注漂移) shows first as a moving share or a falling annotator row.</p>"
        "<h3>Share of records per level-1 label (%)</h3>"
        + _table(["label", *tags], trend_label_rows(trend), set(range(1, len(tags) + 1)))
        + "<h3>Annotators</h3>"
        + _table(["annotator", "figure", *tags], trend_annotator_rows(trend), columns),
    )


def render(data: ReportData) -> str:
    """The whole page as a string (deterministic: no clock, sorted everywhere)."""
    s = data.summary
    splits = s.get("splits", {})
    origins = origin_counts(data.records, data.funnel)
    derived = origins["derived_records"]
    kpis = "".join(
        f'<div class="kpi"><b>{esc(fmt(v) if isinstance(v, (int, float)) else v)}</b><span>{esc(k)}</span></div>'
        for k, v in (
            ("raw records", s.get("raw_records", 0)),
            (
                "raw records kept",
                f"{origins['kept_originals']} ({100 * origins['kept_ratio']:.1f} %)",
            ),
            (
                "derived: augmented / resampled",
                f"{derived['augmented']} / {derived['resampled']}",
            ),
            ("exported records", s.get("exported_records", 0)),
            (
                "train / val / test",
                f"{splits.get('train', 0)} / {splits.get('val', 0)} / {splits.get('test', 0)}",
            ),
            ("sources", len(data.sources)),
        )
    )
    sections = [
        ("funnel", "Funnel", section_funnel),
        ("labels", "Labels", section_labels),
        ("lengths", "Lengths", section_lengths),
        ("tokens", "Tokens", section_tokens),
        ("sources", "Sources", section_sources),
        ("decontamination", "Decontamination", section_decontamination),
        ("scores", "Quality scores", section_scores),
        ("annotation", "Annotation", section_annotation),
        ("label-issues", "Label issues", section_label_issues),
        ("preference", "Preference data", section_preference),
        ("evaluation", "Evaluation", section_evaluation),
        ("examples", "Examples", section_examples),
        ("trend", "Across releases", section_trend),
        ("release", "Baseline release", section_release),
    ]
    nav = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t, _ in sections)
    body = "".join(fn(data) for _, _, fn in sections)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(data.title)} — data report</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(data.title)} — data report</h1><p>Generated by the ftdata report stage from this build's "
        "metrics and data/processed/records.parquet. Self-contained: no script, no network.</p></header>"
        f'<main><div class="kpis">{kpis}</div><nav>{nav}</nav>{body}</main></body></html>\n'
    )


def write_report(
    root: Path,
    section: dict,
    params: dict,
    funnel: list[dict],
    records: pd.DataFrame,
    baseline: dict | None = None,
) -> ReportData:
    """Write data/processed/report/index.html; the figures it read come back for the card.

    Reads data/metrics/summary.json (write it first) and the optional figures of
    :data:`OPTIONAL_FILES`; ``baseline`` holds the compared release's ``manifest`` and
    the ``trend`` up to this build, read from git by the report stage.
    """
    from ftdata.io import write_text

    export = params.get("export") or {}
    data = ReportData(
        title=(section.get("card") or {}).get("title") or export.get("dataset_name") or "dataset",
        summary=json.loads((root / "data/metrics/summary.json").read_text(encoding="utf-8")),
        funnel=funnel,
        records=records,
        sources=params.get("source") or {},
        length_bins=section["length_bins"],
        score_bins=section["score_bins"],
        examples_per_label=section["examples_per_label"],
        optional={**read_optional(root), **(baseline or {})},
        token_bins=section["token_bins"],
    )
    write_text(root / "data/processed/report/index.html", render(data))
    return data
