"""Annotate: annotation exports -> labels by consensus / adjudication, agreement figures, gates.

Record outputs follow the usual contract (in = out + rejected). Annotations are
not records: accepted ones go to data/interim/annotate/annotations.parquet,
rejected ones (unknown task id, label outside the taxonomy, cancelled,
malformed) to data/interim/annotate/annotation_rejects.parquet, counted under
``annotations`` in data/metrics/annotate.json.

Records stream in chunks of ``executor.chunk_size``: only ids, votes and the
texts of annotated items are held whole (ftdata/annotate/build.py), so memory
does not grow with the records' text.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.annotate.build import VOTE_COLUMNS, Labeller, finish, item_texts, plan_labels
from ftdata.annotate.gates import enforce
from ftdata.annotate.rows import REJECT_FIELDS
from ftdata.errors import GateError
from ftdata.io import (
    PARQUET_OPTS,
    atomic_path,
    read_columns,
    to_jsonable,
    write_json,
)
from ftdata.params import chunk_size, pii_types, validated_section
from ftdata.privacy.fields import write_review
from ftdata.stage import (
    INTERIM,
    METRICS,
    REVIEW,
    log,
    out_path,
    project_root,
    stage_main,
)
from ftdata.stage_run import StageRun
from ftdata.stream import RowGroupWriter, iter_chunks

ANNOTATIONS = INTERIM / "annotate" / "annotations.parquet"
ANNOTATION_REJECTS = INTERIM / "annotate" / "annotation_rejects.parquet"
CONFLICTS = REVIEW / "annotation_conflicts.jsonl"
REANNOTATE = REVIEW / "reannotate.jsonl"
PLOTS = METRICS / "plots"


def write_string_table(path, rows: list[dict], columns: list[str]) -> None:
    """A flat parquet of string columns (annotations and their rejects are not records)."""
    arrays = [
        pa.array(
            [None if r.get(c) is None else str(to_jsonable(r.get(c))) for r in rows], pa.string()
        )
        for c in columns
    ]
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_arrays(arrays, names=columns), tmp, **PARQUET_OPTS)


@stage_main("annotate")
def main() -> None:
    root = project_root()
    section = validated_section(root, "annotate")
    taxonomy = validated_section(root, "taxonomy")
    out, source = out_path("annotate"), out_path("quality")
    size = chunk_size(root)

    def texts_of(items: set[str]):
        texts, labels = {}, {}
        for chunk in iter_chunks(source, size, ["id", "messages", "text", "label"]):
            t, lab = item_texts(chunk, items)
            texts.update(t)
            labels.update(lab)
        return texts, labels

    with StageRun("annotate", out, ANNOTATIONS, ANNOTATION_REJECTS, CONFLICTS, REANNOTATE) as run:
        ids = read_columns(source, ["id"]).column("id").to_pylist()
        plan = plan_labels(ids, section, taxonomy, root, texts_of)
        run.counts.n_in = len(ids)
        del ids  # the plan keeps the set it needs
        labeller = Labeller(plan)
        # Labels are row-local once the plan is made: records stream through in chunks.
        with RowGroupWriter(out) as writer:
            for chunk in iter_chunks(source, size):
                kept, rej_part = labeller.label(chunk)
                writer.write(kept)
                run.counts.out += len(kept)
                run.reject(rej_part)
        result = finish(plan, labeller, None, None)
        run.counts.extra = result.report
        write_string_table(ANNOTATIONS, result.votes.to_dict("records"), VOTE_COLUMNS)
        write_string_table(ANNOTATION_REJECTS, result.annotation_rejects, REJECT_FIELDS)
        # Review files are under data/processed: every string field redacted (annotator names too).
        types = pii_types(root)
        write_review(CONFLICTS, result.review, types)
        write_review(REANNOTATE, result.reannotate, types)
        for name, rows in result.plots.items():
            write_json(PLOTS / f"{name}.json", rows)

    # The gates read the figures just written: the build stops with them in place.
    annotations = result.report["annotations"]
    ratio = annotations["rejected_total"] / annotations["read"] if annotations["read"] else 0.0
    limit = section["gates"]["max_reject_ratio"]
    if ratio > limit:
        first = result.annotation_rejects[0]["detail"]
        raise GateError(
            f"annotate: {annotations['rejected_total']} of {annotations['read']} annotations rejected "
            f"({ratio:.1%}) > annotate.gates.max_reject_ratio {limit:.0%}; first: {first}; see {ANNOTATION_REJECTS}"
        )
    for warned in enforce(result.gates, str(run.metrics_file)):
        log.warning("gate `%s` (warn) below threshold for %s", warned.gate, warned.detail)
    log.info(
        "%d records, %d annotated; %d annotations accepted, %d rejected; %d items to review, %d to re-annotate",
        run.counts.n_in,
        result.report["items"]["annotated"],
        annotations["accepted"],
        annotations["rejected_total"],
        len(result.review),
        result.report["reannotate"]["records"],
    )
