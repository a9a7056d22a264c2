"""The dataset card: data/processed/README.md next to the exports, as dataset hubs show it.

Hand-written parts (summary, intended use, out-of-scope use, known limits,
contact) come from ``report.card`` in conf/; everything countable (sources and
licences, funnel, splits, labels, evaluation, annotation) from this build's
metrics, so the card cannot drift from the data. Limits that the metrics show
(thin labels, strata missing a split, feedback waiting for review, restrictive
licences) are added to the configured ones.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import yaml

from ftdata.baselines import trend_annotator_rows, trend_label_rows
from ftdata.funnel import (
    BENCHMARK_HEADER,
    PREFERENCE_HEADER,
    TOKEN_HEADER,
    benchmark_rows,
    label_counts,
    origin_counts,
    preference_rows,
    token_rows,
)
from ftdata.label_issues import LEVEL_HEADER, level_rows
from ftdata.ops.feedback import CANDIDATES_FILE
from ftdata.record import SPLITS

if TYPE_CHECKING:
    from ftdata.report_html import ReportData


# Licence ids the Hugging Face Hub knows (https://hf.co/docs/hub/repositories-licenses), the
# ones a fine-tuning dataset is likely to carry. Any other licence is `license: other` with
# its name in `license_name`, the hub's keys for a custom licence.
HUB_LICENSES = frozenset(
    """apache-2.0 mit bsd-2-clause bsd-3-clause cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0
    cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
    cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 odc-by odbl pddl gpl-3.0
    lgpl-3.0 agpl-3.0 mpl-2.0 unlicense openrail other unknown""".split()
)


def hub_license_fields(licences: list[str], dataset_name: str) -> dict:
    """``license`` (a hub id, or a list of them) and, for licences the hub does not know,
    ``license: other`` with ``license_name`` (one id: the licence's, or the dataset's when
    several custom licences are mixed; the card's licence table names each)."""
    known = sorted({lic.strip().lower() for lic in licences if lic.strip().lower() in HUB_LICENSES})
    custom = sorted({lic for lic in licences if lic.strip().lower() not in HUB_LICENSES})
    ids = [k for k in known if k != "other"] + (["other"] if custom or "other" in known else [])
    out: dict = {"license": (ids[0] if len(ids) == 1 else ids) if ids else "unknown"}
    if custom:
        out["license_name"] = (
            _slug(custom[0]) if len(custom) == 1 else f"{_slug(dataset_name)}-source-licences"
        )
    return out


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split()) or "custom"


def language_shares(records) -> list[tuple[str, int, float]]:
    """``[(lang, records, share)]`` of the exported records, most common first (the quality
    stage's detected ``lang``: zh / en / mixed / other)."""
    if not len(records) or "lang" not in records.columns:
        return []
    counts = Counter(str(v) for v in records["lang"] if isinstance(v, str) and v)
    total = sum(counts.values())
    return [(lg, n, n / total) for lg, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return name
    return "n>1M"


def _md_table(header: list[str], rows: list[list]) -> str:
    def cell(v) -> str:
        if isinstance(v, float):
            v = f"{v:.4g}"
        return str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def strata_missing_splits(
    split_metrics: dict | None, strata_rows: list | None
) -> dict[str, list[str]]:
    """Stratum -> the splits it has no record in, from the split stage's metrics or its strata plot."""
    listed = ((split_metrics or {}).get("splits") or {}).get("strata_missing_splits")
    if isinstance(listed, dict):
        return listed
    missing: dict[str, list[str]] = {}
    for row in strata_rows or []:
        if isinstance(row, dict) and row.get("count") == 0:
            missing.setdefault(str(row.get("stratum")), []).append(str(row.get("split")))
    return missing


def derived_limits(data: ReportData, section: dict) -> list[str]:
    """Known limits the metrics show, in a stable order."""
    limits = []
    counts = label_counts(data.records)
    if counts:
        leaf_level = max(counts)
        thin = sorted(
            (sum(v.values()), lbl)
            for lbl, v in counts[leaf_level].items()
            if sum(v.values()) < section["thin_label_min"]
        )
        if thin:
            listed = ", ".join(f"{lbl} ({n})" for n, lbl in thin)
            limits.append(
                f"Thin labels (fewer than {section['thin_label_min']} exported records): {listed}."
            )
    missing = strata_missing_splits(data.optional.get("split"), data.optional.get("split_strata"))
    if missing:
        listed = "; ".join(f"{k}: no {', '.join(v)}" for k, v in sorted(missing.items()))
        limits.append(f"Strata missing a split (figures on them are unreliable): {listed}.")
    held = sum(f["rejected"].get("awaiting_review", 0) for f in data.funnel)
    if held:
        limits.append(
            f"{held} production feedback records are not in the exports: they wait for an adjudicated label in {CANDIDATES_FILE}."
        )
    if len(data.records) and "label" in data.records.columns:
        unlabelled = int(sum(not isinstance(v, str) or not v for v in data.records["label"]))
        if unlabelled:
            limits.append(f"{unlabelled} exported records have no intent label (chat SFT only).")
    if len(data.records) and "lang" in data.records.columns:
        langs = Counter(data.records["lang"])
        total = sum(langs.values())
        mix = ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in langs.most_common())
        limits.append(f"Language mix: {mix}.")
    if len(data.records) and "pii_redacted" in data.records.columns:
        redacted = int(sum(bool(v) for v in data.records["pii_redacted"]))
        if redacted:
            limits.append(
                f"{redacted} records had personal data replaced by typed placeholders (<PHONE>, <ID_CARD> ...); "
                "a model trained on them learns the placeholders."
            )
    restricted = sorted(
        {
            s.get("license", "")
            for s in data.sources.values()
            if "internal" in str(s.get("license", "")).lower()
        }
    )
    if restricted:
        limits.append(
            f"Contains data under {', '.join(restricted)}: not for publication outside the organisation."
        )
    return limits


def annotation_lines(annotate: dict | None) -> list[str]:
    """Agreement figures for the card: overall and per level, and the spot-check estimate."""
    if not annotate:
        return ["Not available (no annotate stage metrics in this build)."]
    overall = annotate.get("overall")
    if isinstance(overall, dict) and not overall:
        return ["Not available (no annotations in this build)."]
    if not isinstance(overall, dict):
        return ["See data/metrics/annotate.json."]
    keys = [
        ("percent_agreement", "percent agreement"),
        ("krippendorff_alpha", "Krippendorff's alpha"),
        ("cohen_kappa_mean", "mean Cohen's kappa"),
    ]
    rows = [["all levels (leaf)", overall.get("items"), *(overall.get(k) for k, _ in keys)]]
    rows += [
        [f"level {lv}", m.get("items"), *(m.get(k) for k, _ in keys)]
        for lv, m in sorted((annotate.get("by_level") or {}).items())
    ]
    lines = [
        f"{overall.get('items')} items, {overall.get('annotations')} annotations by {overall.get('annotators')} annotators.",
        "",
        _md_table(["scope", "items", *(label for _, label in keys)], rows),
    ]
    spot = annotate.get("spot_check") or {}
    if spot.get("judged"):
        lines += [
            "",
            f"Spot check: {spot.get('correct')} of {spot.get('judged')} sampled labels judged correct, "
            f"estimated label accuracy {spot.get('accuracy')} ({int(100 * spot.get('confidence', 0.95))} % Wilson interval "
            f"{spot.get('wilson_low')}–{spot.get('wilson_high')}).",
        ]
    return lines


def decontamination_lines(found: dict | None) -> list[str]:
    """The card's word on benchmark overlap: which files were checked and what each removed."""
    if not found or not found.get("benchmarks"):
        return [
            "No benchmark files named (`decontaminate.benchmarks`): overlap with evaluation sets unchecked."
        ]
    splits = ", ".join(found.get("splits") or []) or "no split"
    lines = [
        f"{found.get('contaminated', 0)} records of {splits} overlapped a benchmark and were "
        "rejected (`contaminated`; `data/interim/rejects/split.parquet` names each benchmark record).",
        "",
    ]
    return lines + [_md_table(BENCHMARK_HEADER, benchmark_rows(found))]


def label_issue_lines(found: dict | None) -> list[str]:
    """The card's word on suspected label errors: how many, where, per level."""
    if not found or not found.get("levels"):
        return ["No labelled records: label errors unchecked."]
    return [
        f"{found['flagged']} labelled records have a label an out-of-fold classifier contradicts "
        "(cleanlab); they are queued for review in `data/processed/review/label_issues.jsonl`, "
        "not removed.",
        "",
        _md_table(LEVEL_HEADER, level_rows(found)),
    ]


def token_lines(tokens: dict | None) -> list[str]:
    """What a fine-tuning run will read, in the tokenizer's units, per split and source."""
    if not tokens:
        return ["Tokens not counted (`validate.token_budget.tokenizer` is null)."]
    splits = [s for s in SPLITS if s in tokens["splits"]]
    sources = [
        [name, *(by_split.get(s, 0) for s in splits), sum(by_split.values())]
        for name, by_split in tokens["sources"].items()
    ]
    return [
        f"{tokens['total']:,} tokens in all (`{tokens['tokenizer']}`; turn contents, without a chat "
        "template's few tokens per turn).",
        "",
        _md_table(TOKEN_HEADER, token_rows(tokens)),
        "",
        _md_table(["source", *splits, "total"], sources),
    ]


def preference_lines(found: dict | None) -> list[str]:
    """The card's word on the DPO / KTO files built from production feedback."""
    if not found or not found.get("in"):
        return ["No feedback records reached the export: no preference data."]
    skipped = ", ".join(f"{k} {v}" for k, v in found.get("no_pair", {}).items()) or "none"
    return [
        f"{sum(found['pairs'].values())} preference pairs from {found['in']} adjudicated feedback "
        "records (the agent's reply chosen, the deployed model's rejected), in "
        "`data/processed/preference/` (LLaMA-Factory `ranking` and KTO files, OpenAI preference "
        f"JSONL; `lineage.jsonl` names each feedback log line). Records without a pair: {skipped}.",
        "",
        _md_table(PREFERENCE_HEADER, preference_rows(found)),
    ]


def render_card(data: ReportData, section: dict, params: dict) -> str:
    """The card as markdown with YAML front matter (deterministic)."""
    card = section.get("card") or {}
    export = params.get("export") or {}
    records = data.records
    n = len(records)
    licences = sorted({str(s.get("license", "")) for s in data.sources.values()})
    shares = language_shares(records)
    # The hub wants ISO 639 codes: the detector's `mixed` / `other` are not languages.
    iso = sorted(lg for lg, _, _ in shares if re.fullmatch(r"[a-z]{2,3}", lg))
    has_labels = bool(n) and any(isinstance(v, str) and v for v in records["label"])
    front = {
        "pretty_name": data.title,
        "language": iso or ["zh"],
        "multilinguality": "multilingual" if len(iso) > 1 else "monolingual",
        **hub_license_fields(licences, export.get("dataset_name") or data.title),
        "size_categories": [_size_category(n)],
        "task_categories": ["text-generation"] + (["text-classification"] if has_labels else []),
        "configs": [
            {
                "config_name": "openai_chat",
                "data_files": [{"split": s, "path": f"openai/{s}.jsonl"} for s in SPLITS],
            }
        ],
    }
    front = {k: v for k, v in front.items() if v is not None}
    out = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).rstrip(), "---", ""]
    out.append(f"# {data.title}")
    out.append("")
    out.append(card.get("summary") or "A fine-tuning dataset built with ftdata.")
    out.append("")
    out.append(
        "This card is generated by the report stage from the build's metrics and params "
        "(`data/metrics/`, `params.yaml`); edit `report.card` in conf/ for the hand-written parts. "
        "The figures in it are also drawn in `data/processed/report/index.html`."
    )

    splits = data.summary.get("splits", {})
    out += ["", "## Dataset structure", ""]
    out.append(
        _md_table(
            ["split", "records"],
            [[s, splits.get(s, 0)] for s in SPLITS]
            + [["total", data.summary.get("exported_records", n)]],
        )
    )
    origins = origin_counts(records, data.funnel)
    derived = origins["derived_records"]
    out += [
        "",
        f"{origins['raw_records']} raw records -> {origins['kept_originals']} kept "
        f"({100 * origins['kept_ratio']:.1f} %); derived from kept train records: "
        f"{derived['augmented']} augmented and {derived['resampled']} resampled "
        "(they keep their parent's source and label).",
    ]
    out += [
        "",
        "Files (all splits): `openai/{train,val,test}.jsonl` (OpenAI chat), "
        f"`llamafactory/{export.get('dataset_name', 'dataset')}_{{alpaca,sharegpt}}_{{split}}.json` with `dataset_info.json` "
        "(LLaMA-Factory), `records.parquet` (every column: id, source, raw locator, label, split, lineage `ops`, quality scores).",
    ]
    if shares:
        out += [
            "",
            "Languages of the exported records (detected by the quality stage, column `lang`): "
            + ", ".join(f"{lg} {count} ({share:.1%})" for lg, count, share in shares)
            + ".",
        ]
    if export.get("system_prompt"):
        out += ["", f"System prompt added to every chat sample: {export['system_prompt']}"]

    out += ["", "## Sources and licences", ""]
    by_source = origins["by_source"]
    zero = {"raw": 0, "kept": 0, "augmented": 0, "resampled": 0}
    out.append(
        _md_table(
            [
                "source",
                "kind",
                "licence",
                "owner",
                "collected",
                "raw records",
                "kept",
                "augmented",
                "resampled",
            ],
            [
                [
                    name,
                    cfg.get("kind"),
                    cfg.get("license"),
                    cfg.get("owner"),
                    cfg.get("collected_at"),
                    *(by_source.get(name, zero)[k] for k in zero),
                ]
                for name, cfg in sorted(data.sources.items())
            ],
        )
    )

    out += ["", "## Counts: the build funnel", ""]
    out.append(
        _md_table(
            ["stage", "in", "out", "rejected", "top reasons"],
            [
                [
                    f["stage"],
                    f["in"],
                    f["out"],
                    sum(f["rejected"].values()),
                    ", ".join(
                        f"{r} {c}"
                        for r, c in sorted(f["rejected"].items(), key=lambda kv: -kv[1])[:3]
                    ),
                ]
                for f in data.funnel
            ],
        )
    )

    out += ["", "## Tokens", ""]
    out += token_lines(data.summary.get("tokens"))

    out += ["", "## Preference data", ""]
    out += preference_lines(data.optional.get("preference"))

    out += ["", "## Label issues", ""]
    out += label_issue_lines(data.optional.get("label_issues"))

    out += ["", "## Decontamination", ""]
    out += decontamination_lines((data.optional.get("split") or {}).get("decontaminate"))

    out += ["", "## Label distribution", ""]
    counts = label_counts(records)
    if not counts:
        out.append("No records.")
    for level in sorted(counts):
        out += [f"Level {level}:", ""]
        rows = sorted(counts[level].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        out.append(
            _md_table(
                ["label", *SPLITS, "total"],
                [[lbl, *(v.get(s, 0) for s in SPLITS), sum(v.values())] for lbl, v in rows],
            )
        )
        out.append("")

    out += ["## Intended use", ""]
    out += [
        f"- {u}"
        for u in card.get("intended_use")
        or ["Fine-tuning and evaluating assistants for the domain of the sources."]
    ]
    if card.get("out_of_scope"):
        out += ["", "Out of scope:", ""] + [f"- {u}" for u in card["out_of_scope"]]

    out += ["", "## Known limits", ""]
    limits = list(card.get("known_limits") or []) + derived_limits(data, section)
    out += [f"- {x}" for x in limits] or ["- None recorded."]

    ev = data.optional.get("evaluate")
    out += ["", "## Evaluation", ""]
    if ev and ev.get("scored"):
        out.append(
            f"{ev['scored']} predictions of `{ev.get('predictions_file')}` scored on the {ev.get('split')} split "
            f"(coverage {ev.get('coverage')}): accuracy {ev.get('accuracy')}, macro-F1 {ev.get('macro_f1')} at the leaf level; "
            f"{ev.get('hard_examples')} misclassified records are in `data/processed/review/hard_examples.jsonl`."
        )
        levels = ev.get("levels", {})
        out += [
            "",
            _md_table(
                ["level", "accuracy", "macro-F1"],
                [[lv, m.get("accuracy"), m.get("macro_f1")] for lv, m in sorted(levels.items())],
            ),
        ]
    else:
        out.append("Not available (no predictions file in data/raw/eval/).")

    annotate = data.optional.get("annotate")
    out += ["", "## Annotation", ""]
    out += annotation_lines(annotate)
    out.append("")

    trend = data.optional.get("trend")
    if trend:
        tags = [point["tag"] for point in trend]
        out += [
            "## Across releases",
            "",
            "Releases up to `contracts.drift.baseline`, then this build.",
            "",
            "Share of records per level-1 label (%):",
            "",
            _md_table(["label", *tags], trend_label_rows(trend)),
            "",
            _md_table(["annotator", "figure", *tags], trend_annotator_rows(trend)),
            "",
        ]

    manifest = data.optional.get("manifest")
    out += ["## Baseline release", ""]
    if manifest:
        fields = [
            (k, v)
            for k, v in manifest.items()
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)
        ]
        # The card is built before `ftdata release` writes the manifest of the release
        # that ships it: what it can show is a release before, the one the build is held to.
        out += [
            f"The release this build is compared with (`contracts.drift.baseline`): "
            f"{manifest.get('tag', '?')}. A card never shows its own release, which is cut "
            "after it; that manifest is in its tag "
            "(`git show data_vX.Y:data/release/manifest.json`).",
            "",
        ]
        out.append(_md_table(["field", "value"], fields))
    else:
        out.append(
            "None named (set `contracts.drift.baseline` to a `data_vX.Y` tag to compare "
            "this build with it; `ftdata release X.Y` cuts one)."
        )

    out += [
        "",
        "## Provenance",
        "",
        "Every record carries its raw `locator` (file and line) and the ops that changed it; rejected records are kept "
        "with a reason in `data/interim/rejects/`. Rebuild with `dvc repro` from the raw sources.",
    ]
    if card.get("contact"):
        out += ["", f"Contact: {card['contact']}"]
    return "\n".join(out) + "\n"
