"""The annotate step: annotation exports + records in, labelled records + figures out.

Pure of file writes (the stage writes), so the Label Studio round-trip test
and the CLI can run exactly what the build runs. Order of decisions for a
record's label:

1. an adjudication (reviewer's file) wins;
2. else the consensus of the annotators' votes (see ``agreement.consensus_of``);
3. annotated but without consensus: ``annotate.unresolved`` (drop the label,
   keep the source label, or reject the record) and the item goes to review;
4. never annotated: the source label.

A label that is not a leaf of the taxonomy is then dropped or rejected
(``annotate.label_not_in_taxonomy``). Annotations are not records: a bad
annotation is an annotation-level reject and never changes the record count.

Nothing above needs more than one record at a time once the votes are counted,
so the step is three parts: ``plan_labels`` (annotation files, record ids, and
the texts of annotated items only), ``Labeller.label`` on any number of record
chunks, then ``finish``. The stage streams a million records through that in
bounded memory; ``run`` does the same on a frame.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ftdata.annotate import agreement as ag
from ftdata.annotate.classification import classification_text
from ftdata.annotate.gates import GateResult, evaluate
from ftdata.annotate.guideline import load as load_guideline
from ftdata.annotate.importers import (
    InputSpec,
    read_adjudications,
    read_gold,
    read_input,
    read_verdicts,
)
from ftdata.annotate.migrate import Migrations, version_key
from ftdata.annotate.rows import AnnotationRow, ReadResult, annotation_reject, row_reject
from ftdata.annotate.taxonomy import Taxonomy, from_params
from ftdata.reasons import Reason
from ftdata.record import params_hash

VOTE_COLUMNS = [
    "item",
    "batch",
    "annotator",
    "label",
    "guideline_version",
    "original_label",
    "tool",
    "locator",
]


@dataclass
class AnnotateResult:
    kept: pd.DataFrame | None  # None when the stage streamed the records to disk
    rejected: pd.DataFrame | None  # records, with reason and detail
    votes: pd.DataFrame  # accepted annotations (one per item x annotator), labels migrated
    annotation_rejects: list[dict]
    report: dict  # the figures (metrics extra)
    review: list[dict]
    reannotate: list[dict]
    gates: list[GateResult]
    plots: dict[str, list[dict]] = field(default_factory=dict)


def input_specs(section: dict) -> list[InputSpec]:
    return [
        InputSpec(
            path=s["path"],
            tool=s["tool"],
            batch=s.get("batch"),
            guideline_version=s.get("guideline_version"),
            glob=s.get("glob") or "*",
            annotators={str(k): str(v) for k, v in (s.get("annotators") or {}).items()},
        )
        for s in section["inputs"]
    ]


def read_all(specs: list[InputSpec], root: Path) -> tuple[ReadResult, list[int], dict[str, str]]:
    """Every input, in config order; also each row's input index and each batch's path."""
    combined, order, paths = ReadResult(), [], {}
    for i, spec in enumerate(specs):
        result = read_input(spec, root)
        combined.extend(result)
        order += [i] * len(result.rows)
        for row in result.rows:
            paths.setdefault(row.batch, spec.path)
        for rej in result.rejects:
            paths.setdefault(rej["batch"], spec.path)
    return combined, order, paths


def run(
    records: pd.DataFrame, section: dict, taxonomy: dict, root: Path, stage: str = "annotate"
) -> AnnotateResult:
    """The whole step on a frame in memory (the CLI, the tests); the stage streams the
    same three steps: ``plan``, ``Labeller.label`` per chunk, ``finish``."""
    ids = list(records["id"])
    plan = plan_labels(
        ids, section, taxonomy, root, lambda items: item_texts(records, items), stage
    )
    labeller = Labeller(plan)
    kept, rejected = labeller.label(records)
    return finish(plan, labeller, kept, rejected)


TextsOf = Callable[[set[str]], tuple[dict[str, str], dict[str, str | None]]]


def item_texts(
    records: pd.DataFrame, items: set[str]
) -> tuple[dict[str, str], dict[str, str | None]]:
    """Annotator text and source label of those ``records`` that are among ``items``."""
    texts, labels = {}, {}
    messages = records["messages"] if "messages" in records.columns else [None] * len(records)
    text = records["text"] if "text" in records.columns else [None] * len(records)
    label = records["label"] if "label" in records.columns else [None] * len(records)
    for rid, m, t, lab in zip(records["id"], messages, text, label, strict=True):
        if rid in items:
            texts[rid] = classification_text(m, t)
            labels[rid] = lab
    return texts, labels


@dataclass
class Plan:
    """Everything decided from the annotation files and the record ids alone.

    Only ids, votes and the texts of annotated items: at a million records the
    records themselves never need to be in memory at once.
    """

    section: dict
    stage: str
    tax: Taxonomy
    guideline_version: str
    known: set[str]
    read: ReadResult
    batch_paths: dict[str, str]
    rejects: list[dict]
    votes: pd.DataFrame
    superseded: int
    migrated: int
    ambiguous: list[AnnotationRow]
    reannotate: list[dict]
    gold: dict[str, str]
    adjudicated: dict[str, str]
    verdicts: list
    consensus: pd.DataFrame
    consensus_of: dict[str, str | None]
    crowd: ag.CrowdQuality
    texts: dict[str, str]  # annotated items only
    source_labels: dict[str, str | None]  # annotated items only


def plan_labels(
    ids: list[str],
    section: dict,
    taxonomy: dict,
    root: Path,
    texts_of: TextsOf,
    stage: str = "annotate",
) -> Plan:
    """Votes, consensus and crowd quality from the annotation files, ``ids`` (every record
    reaching the stage) and ``texts_of`` (text and source label of the annotated items)."""
    tax = from_params(taxonomy)
    migrations = Migrations.from_params(section)
    guideline = load_guideline(root / section["guideline"])
    read, order, batch_paths = read_all(input_specs(section), root)
    known = set(ids)
    rejects: list[dict] = list(read.rejects)

    # ---- annotations -> votes (migrated, validated), ambiguous ones, stale ones
    vote_rows, ambiguous, reannotate = [], [], []
    migrated = 0
    for position, (row, input_index) in enumerate(zip(read.rows, order, strict=True)):
        if row.task_id not in known:
            rejects.append(
                row_reject(
                    row,
                    Reason.UNKNOWN_TASK_ID,
                    f"record id {row.task_id!r} is not among the {len(known)} records reaching {stage} "
                    "(unknown, or dropped by an earlier stage)",
                )
            )
            continue
        remap = migrations.remap(row.label) if not tax.is_label(row.label) else None
        if remap is not None and remap.ambiguous:
            ambiguous.append(row)
            reannotate.append(
                _reannotate_entry(
                    row, None, f"split: {row.label} -> {' | '.join(remap.candidates)}"
                )
            )
            continue
        label = remap.label if remap is not None else row.label
        if not tax.is_label(label):
            rejects.append(
                row_reject(
                    row,
                    Reason.LABEL_NOT_IN_TAXONOMY,
                    f"{row.annotator} gave {row.label!r}, not a leaf of taxonomy {tax.name} {tax.version}"
                    f"{tax.suggest(label)}",
                )
            )
            continue
        if remap is not None and remap.original:
            migrated += 1
        change = migrations.needs_reannotation(label, row.guideline_version)
        if change is not None:
            reannotate.append(
                _reannotate_entry(
                    row, label, f"guideline {row.guideline_version} < {change.since}: {change.note}"
                )
            )
        vote_rows.append(
            {
                "item": row.task_id,
                "batch": row.batch,
                "annotator": row.annotator,
                "label": label,
                "guideline_version": row.guideline_version,
                "original_label": remap.original if remap is not None else None,
                "tool": row.tool,
                "locator": row.locator,
                "_rank": (version_key(row.guideline_version), input_index, position),
            }
        )
    # One vote per item x annotator: the newest guideline, then the later input, then the later line.
    vote_rows.sort(key=lambda r: (r["item"], r["annotator"], r["_rank"]))
    all_votes = pd.DataFrame(vote_rows, columns=[*VOTE_COLUMNS, "_rank"])
    votes = all_votes.drop_duplicates(["item", "annotator"], keep="last").drop(columns="_rank")
    votes = votes.sort_values(["item", "annotator"], kind="stable").reset_index(drop=True)
    superseded = len(all_votes) - len(votes)

    # ---- gold, adjudications, verdicts
    gold, gold_rejects = _keyed(read_gold(section["gold"], root), tax, known, "gold")
    adjudicated, adj_rejects = _keyed(
        read_adjudications(section["adjudication"], root), tax, known, "adjudication"
    )
    verdicts, verdict_rejects = read_verdicts(section["spot_check_verdicts"], root)
    rejects += gold_rejects + adj_rejects + verdict_rejects

    # ---- consensus and quality
    cons = section["consensus"]
    consensus = ag.consensus_table(votes, cons["min_annotators"], cons["min_share"])
    consensus_of = {
        item: c if isinstance(c, str) else None  # pandas may hold a missing consensus as NaN
        for item, c in zip(consensus["item"], consensus["consensus"], strict=True)
    }
    # Crowd quality and the review queue read texts and source labels of voted items only.
    texts, source_labels = texts_of(set(votes["item"]))
    crowd = ag.crowd_quality(votes, texts, section["quality_folds"], section["quality_seed"])
    return Plan(
        section=section,
        stage=stage,
        tax=tax,
        guideline_version=guideline.version,
        known=known,
        read=read,
        batch_paths=batch_paths,
        rejects=rejects,
        votes=votes,
        superseded=superseded,
        migrated=migrated,
        ambiguous=ambiguous,
        reannotate=reannotate,
        gold=gold,
        adjudicated=adjudicated,
        verdicts=verdicts,
        consensus=consensus,
        consensus_of=consensus_of,
        crowd=crowd,
        texts=texts,
        source_labels=source_labels,
    )


class Labeller:
    """Labels records chunk by chunk (each record's label depends only on its own
    annotations) and tallies what ``finish`` reports: origins and changed labels."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.by_item: dict[str, list[dict]] = defaultdict(list)
        for v in plan.votes.to_dict("records"):
            self.by_item[v["item"]].append(
                {
                    "annotator": v["annotator"],
                    "label": v["label"],
                    "guideline_version": v["guideline_version"],
                    "batch": v["batch"],
                    "original_label": v["original_label"],
                }
            )
        for row in plan.ambiguous:
            self.by_item[row.task_id].append(
                {
                    "annotator": row.annotator,
                    "label": None,
                    "guideline_version": row.guideline_version,
                    "batch": row.batch,
                    "original_label": row.label,
                }
            )
        self.origins: Counter = Counter()
        self.changed = 0

    def label(self, records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Kept and rejected records of ``records``, in input order."""
        p = self.plan
        kept, rejected, origins, changed = _decide(
            records, self.by_item, p.consensus_of, p.adjudicated, p.section, p.tax, p.stage
        )
        self.origins.update(origins)
        self.changed += changed
        return kept, rejected


def finish(
    plan: Plan, labeller: Labeller, kept: pd.DataFrame | None, rejected: pd.DataFrame | None
) -> AnnotateResult:
    """The figures, review queue and gates, once every record went through ``labeller``."""
    section, tax, votes, consensus, crowd = (
        plan.section,
        plan.tax,
        plan.votes,
        plan.consensus,
        plan.crowd,
    )
    rejects, adjudicated = plan.rejects, plan.adjudicated
    report = _report(votes, consensus, crowd, plan.gold, tax, plan.guideline_version, section)
    report["annotations"] = {
        "read": plan.read.read,
        "accepted": int(len(votes)),
        "superseded": int(plan.superseded),
        "migrated": plan.migrated,
        "ambiguous_migration": len(plan.ambiguous),
        "skipped": dict(sorted(plan.read.skipped.items())),
        "rejected": dict(sorted(Counter(r["reason"] for r in rejects).items())),
        "rejected_total": len(rejects),
        "by_tool": dict(sorted(Counter(votes["tool"]).items())),
    }
    report["items"] = {
        "annotated": int(votes["item"].nunique()),
        "with_consensus": int(consensus["consensus"].notna().sum()),
        "without_consensus": int(consensus["consensus"].isna().sum()),
        "adjudicated": len(adjudicated),
        "label_changed": labeller.changed,
        "label_origin": dict(sorted(labeller.origins.items())),
    }
    report["spot_check"] = _spot_check(
        plan.verdicts, plan.known, section["spot_check_confidence"], rejects
    )
    report["guideline"] = {
        "path": section["guideline"],
        "version": plan.guideline_version,
        "taxonomy_version": tax.version,
    }
    review = _review_queue(
        votes, consensus, adjudicated, crowd, report, plan.texts, plan.source_labels, section
    )
    report["review"] = {
        "queued": len(review),
        "batches_over_disagreement": sum(
            1
            for b in report["by_batch"].values()
            if (b["disagreement"] or 0) > section["review_max_batch_disagreement"]
        ),
    }
    reannotate = plan.reannotate
    report["reannotate"] = {
        "records": len({e["id"] for e in reannotate}),
        "annotations": len(reannotate),
    }
    gates = evaluate(report, section["gates"], plan.batch_paths)
    report["gates"] = {
        g.gate
        + ":"
        + g.batch
        + (":" + g.annotator if g.gate == "accuracy" and g.annotator else ""): {
            "figure": g.figure,
            "threshold": g.threshold,
            "items": g.items,
            "passed": g.passed,
            "mode": g.mode,
        }
        for g in gates
    }
    return AnnotateResult(
        kept=kept,
        rejected=rejected,
        votes=votes,
        annotation_rejects=rejects,
        report=report,
        review=review,
        reannotate=sorted(reannotate, key=lambda e: (e["id"], e["annotator"], e["batch"])),
        gates=gates,
        plots=_plots(report, votes),
    )


def _reannotate_entry(row: AnnotationRow, label: str | None, why: str) -> dict:
    return {
        "id": row.task_id,
        "annotator": row.annotator,
        "batch": row.batch,
        "guideline_version": row.guideline_version,
        "label": label,
        "original_label": row.label,
        "why": why,
        "locator": row.locator,
    }


def _keyed(read: tuple, tax: Taxonomy, known: set[str], what: str) -> tuple[dict, list[dict]]:
    """Gold or adjudication decisions, checked: label must be a leaf, id must be known."""
    decisions, rejects = read
    out = {}
    for d in decisions:
        common = {
            "locator": d.locator,
            "batch": what,
            "tool": what,
            "raw": d.__dict__,
            "task_id": d.task_id,
            "label": d.label,
        }
        if d.task_id not in known:
            rejects.append(
                annotation_reject(
                    Reason.UNKNOWN_TASK_ID, f"{what} for unknown record id {d.task_id!r}", **common
                )
            )
        elif not tax.is_label(d.label):
            rejects.append(
                annotation_reject(
                    Reason.LABEL_NOT_IN_TAXONOMY,
                    f"{what} label {d.label!r} is not a taxonomy leaf{tax.suggest(d.label)}",
                    **common,
                )
            )
        else:
            out[d.task_id] = d.label
    return out, rejects


def _decide(records, by_item, consensus_of, adjudicated, section, tax, stage):
    entry_hash = params_hash(
        {k: section[k] for k in ("consensus", "unresolved", "label_not_in_taxonomy")}
    )
    kept_rows, rejected_rows = [], []
    origins: Counter = Counter()
    changed = 0
    for rec in records.to_dict("records"):
        rid, source_label = rec["id"], rec.get("label")
        annotations = sorted(by_item.get(rid, []), key=lambda a: (a["annotator"], a["batch"] or ""))
        label, origin, reject = source_label, ("source" if source_label else None), None
        voted = any(a["label"] for a in annotations)
        if rid in adjudicated:
            label, origin = adjudicated[rid], "adjudicated"
        elif voted and consensus_of.get(rid):
            label, origin = consensus_of[rid], "consensus"
        elif voted:
            policy = section["unresolved"]
            if policy == "reject":
                reject = (
                    Reason.ANNOTATION_CONFLICT,
                    "annotators reach no consensus and no adjudication",
                )
            elif policy == "drop_label":
                label, origin = None, "no_consensus"
        if reject is None and label is not None and not tax.is_label(label):
            if section["label_not_in_taxonomy"] == "reject":
                reject = (
                    Reason.LABEL_NOT_IN_TAXONOMY,
                    f"label {label!r} is not a leaf of taxonomy {tax.version}",
                )
            else:
                label, origin = None, "not_in_taxonomy"
        rec = {**rec, "annotations": annotations, "label": label, "label_origin": origin}
        if reject is not None:
            rejected_rows.append(
                {**rec, "reason": str(reject[0]), "detail": f"{rec['locator']}: {reject[1]}"}
            )
            origins["rejected"] += 1
            continue
        if label != source_label:
            changed += 1
            rec["ops"] = list(rec.get("ops") or []) + [
                {"stage": stage, "op": f"label_{origin}", "params_hash": entry_hash}
            ]
        origins[origin or "unlabelled"] += 1
        kept_rows.append(rec)
    columns = list(records.columns) + (
        ["label_origin"] if "label_origin" not in records.columns else []
    )
    kept = pd.DataFrame(kept_rows, columns=columns)
    rejected = pd.DataFrame(rejected_rows, columns=[*columns, "reason", "detail"])
    return kept, rejected, origins, changed


def _report(votes, consensus, crowd, gold, tax, guideline_version, section) -> dict:
    report: dict = {"overall": ag.agreement_figures(votes) if len(votes) else {}}
    report["by_level"] = ag.by_level(votes, tax.depth) if len(votes) else {}
    report["quality_method"] = crowd.method
    if crowd.note:
        report["quality_note"] = crowd.note
    gold_table = ag.gold_accuracy(votes, gold)
    gold_by = {(r["batch"], r["annotator"]): r for r in gold_table.to_dict("records")}
    report["by_batch"] = {}
    for batch, batch_votes in votes.groupby("batch", sort=True):
        figures = ag.agreement_figures(batch_votes)
        agree = ag.agreement_with_consensus(batch_votes, consensus)
        annotators = {}
        for annotator, own in batch_votes.groupby("annotator", sort=True):
            g = gold_by.get((batch, annotator))
            annotators[annotator] = {
                "annotations": int(len(own)),
                "gold_items": int(g["gold_items"]) if g else 0,
                "gold_correct": int(g["gold_correct"]) if g else 0,
                "gold_accuracy": ag._r(g["gold_accuracy"]) if g else None,
                "agreement_with_consensus": ag._r(agree.get(annotator)),
            }
        figures["annotators"] = annotators
        figures["guideline_versions"] = dict(
            sorted(Counter(batch_votes["guideline_version"].fillna("?")).items())
        )
        report["by_batch"][batch] = figures
    agree_all = ag.agreement_with_consensus(votes, consensus)
    report["by_annotator"] = {}
    for annotator, own in votes.groupby("annotator", sort=True):
        g = gold_table[gold_table["annotator"] == annotator]
        n, k = int(g["gold_items"].sum()), int(g["gold_correct"].sum())
        report["by_annotator"][annotator] = {
            "annotations": int(len(own)),
            "batches": int(own["batch"].nunique()),
            "gold_items": n,
            "gold_correct": k,
            "gold_accuracy": ag._r(k / n) if n else None,
            "agreement_with_consensus": ag._r(agree_all.get(annotator)),
            "crowdlab_quality": crowd.annotator_quality.get(annotator),
            "guideline_versions": dict(
                sorted(Counter(own["guideline_version"].fillna("?")).items())
            ),
        }
    # drift: per guideline version, agreement with the final consensus and the label mix
    report["by_guideline_version"] = {}
    merged = votes.merge(consensus[["item", "consensus"]], on="item")
    for version, own in merged.groupby(merged["guideline_version"].fillna("?"), sort=True):
        with_cons = own[own["consensus"].notna()]
        report["by_guideline_version"][version] = {
            "annotations": int(len(own)),
            "annotators": int(own["annotator"].nunique()),
            "current": version == guideline_version,
            "agreement_with_consensus": ag._r((with_cons["label"] == with_cons["consensus"]).mean())
            if len(with_cons)
            else None,
            "labels": ag.label_distribution(list(own["label"])),
        }
    report["gold"] = {
        "items": len(gold),
        "annotated": int(votes["item"].isin(gold).groupby(votes["item"]).first().sum()),
    }
    return report


def _spot_check(verdicts, known, confidence, rejects) -> dict:
    judged = {}
    for v in verdicts:
        if v.task_id not in known:
            rejects.append(
                annotation_reject(
                    Reason.UNKNOWN_TASK_ID,
                    f"verdict for unknown record id {v.task_id!r}",
                    locator=v.locator,
                    batch="spot_check",
                    tool="spot_check",
                    raw=v.__dict__,
                    task_id=v.task_id,
                )
            )
            continue
        judged[v.task_id] = v.correct  # a later verdict on the same id overrides
    n, k = len(judged), sum(judged.values())
    low, high = ag.wilson_interval(k, n, confidence)
    return {
        "judged": n,
        "correct": k,
        "accuracy": ag._r(k / n) if n else None,
        "wilson_low": low,
        "wilson_high": high,
        "confidence": confidence,
    }


def _review_queue(
    votes, consensus, adjudicated, crowd, report, texts, source_label, section
) -> list[dict]:
    """Items a reviewer must look at: no consensus, or disagreement in a batch above the limit."""
    limit = section["review_max_batch_disagreement"]
    hot = {b for b, f in report["by_batch"].items() if (f["disagreement"] or 0) > limit}
    why: dict[str, list[str]] = defaultdict(list)
    for row in consensus.to_dict("records"):
        if not isinstance(row["consensus"], str) and row["item"] not in adjudicated:
            why[row["item"]].append("no_consensus")
    for (item, batch), labels in votes.groupby(["item", "batch"])["label"]:
        if batch in hot and labels.nunique() > 1 and item not in adjudicated:
            why[item].append(f"batch_disagreement:{batch}")
    cons = consensus.set_index("item")
    queue = []
    for item in sorted(why):
        own = votes[votes["item"] == item]
        queue.append(
            {
                "id": item,
                "why": sorted(set(why[item])),
                "text": texts.get(item),
                "source_label": source_label.get(item),
                "votes": [
                    {"annotator": a, "label": lab, "batch": b, "guideline_version": g}
                    for a, lab, b, g in zip(
                        own["annotator"],
                        own["label"],
                        own["batch"],
                        own["guideline_version"],
                        strict=True,
                    )
                ],
                "top_share": ag._r(cons.loc[item, "share"]),
                "suggested_label": crowd.suggested.get(item),
                "consensus_quality": crowd.consensus_quality.get(item),
                "adjudication": None,
            }
        )
    return queue


def _plots(report: dict, votes: pd.DataFrame) -> dict[str, list[dict]]:
    agreement = [
        {
            "batch": b,
            "percent_agreement": f["percent_agreement"],
            "krippendorff_alpha": f["krippendorff_alpha"],
        }
        for b, f in sorted(report["by_batch"].items())
    ]
    annotators = [
        {
            "annotator": a,
            "gold_accuracy": f["gold_accuracy"],
            "agreement_with_consensus": f["agreement_with_consensus"],
        }
        for a, f in sorted(report["by_annotator"].items())
    ]
    drift = []
    for version, f in sorted(
        report["by_guideline_version"].items(), key=lambda kv: version_key(kv[0])
    ):
        total = sum(f["labels"].values())
        for label, n in f["labels"].items():
            drift.append(
                {
                    "guideline_version": version,
                    "label": label,
                    "version_label": f"v{version} {label}",
                    "count": n,
                    "share": round(n / total, 4),
                }
            )
    return {
        "annotate_agreement": agreement,
        "annotate_annotators": annotators,
        "annotate_drift": drift,
    }
