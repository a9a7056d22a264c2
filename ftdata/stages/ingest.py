"""Ingest one raw source (`python -m stages.ingest NAME`) into canonical records.

The records stream: ``stream_source`` yields them in batches as it parses, and each
batch is size-checked, has its ids, labels and meta redacted and goes to a
``RowGroupWriter``, so memory does not grow with the source (600k sessions held as
dicts took 4.9 GiB). Only the rejects, few, are kept to the end. The output is
written atomically and the reject-ratio gate is checked before it is named, so a
failing gate leaves the last good output as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from ftdata.errors import ConfigError, GateError
from ftdata.ingest import FileLimits, stream_source
from ftdata.ingest.spec import check_source
from ftdata.ingest.summary import ingest_notes, warnings
from ftdata.limits import split_oversize
from ftdata.metrics import StageCounts
from ftdata.params import load_params, pii_types, validated_section
from ftdata.privacy.fields import redact_new_records, scrub_reject
from ftdata.stage import ingest_path, log, project_root, stage_main
from ftdata.stage_run import StageRun
from ftdata.stream import RowGroupWriter

# What redact_new_records adds to a record whose ids, labels or meta held PII: the
# first row group may have no such record and a later one some.
REDACTION_COLUMNS = ("pii_redacted", "pii_types")


@dataclass
class _Written:
    """What writing the batches left over: rejects too large, records with PII redacted."""

    too_large: list[dict] = field(default_factory=list)
    pii_fields: int = 0


@stage_main("ingest")
def main(name: str) -> None:
    root = project_root()
    sources = load_params(root).get("source") or {}
    if name not in sources:
        raise ConfigError(
            f"params.yaml: no source `{name}` under `source` (known: {', '.join(sorted(sources))})"
        )
    cfg = check_source(name, sources[name], "params.yaml", root)
    settings = validated_section(root, "ingest")
    with StageRun("ingest", ingest_path(name), source=name) as run:
        result, batches = stream_source(name, cfg, root, FileLimits.from_settings(settings))
        with RowGroupWriter(ingest_path(name), late_columns=REDACTION_COLUMNS) as out:
            written = _write(batches, out, settings["max_record_chars"], pii_types(root))
            # after the read rejects, as when the whole source was split at once
            result.rejects += written.too_large
            run.counts.n_in, run.counts.out = result.n_read, out.rows
            run.reject(pd.DataFrame(result.rejects), keep_raw=settings["keep_raw_rejects"])
            _check_reject_ratio(name, cfg, settings, run.counts, result.rejects)
        counts = run.counts
        counts.extra = {
            "source": name,
            "kind": cfg["kind"],
            "license": cfg["license"],
            "pii_fields_redacted": written.pii_fields,
            **ingest_notes(result, cfg),
        }
    for line in warnings(name, result, counts.n_in, cfg):
        log.warning("%s", line)


def _write(
    batches: Iterator[list[dict]], out: RowGroupWriter, max_chars: int, types: Iterable[str]
) -> _Written:
    """Each batch: oversize records out, ids, labels and meta made private where they are
    born (contents: clean's redact_pii), the rest written."""
    written = _Written()
    types = tuple(types)
    for batch in batches:
        kept, too_large = split_oversize(batch, max_chars)
        written.too_large += too_large
        written.pii_fields += redact_new_records(kept, types)
        if kept:
            out.write(pd.DataFrame(kept))
    return written


def _check_reject_ratio(
    name: str, cfg: dict, settings: dict, counts: StageCounts, rejects: list[dict]
) -> None:
    """``ingest.max_reject_ratio``: a source mostly rejected fails the build (inside the
    writer, so the output is not replaced)."""
    ratio = counts.rejected_total / counts.n_in if counts.n_in else 0.0
    if ratio > settings["max_reject_ratio"]:
        raise GateError(
            f"source `{name}` ({cfg['path']}): {counts.rejected_total} of {counts.n_in} raw "
            f"records rejected ({ratio:.1%}) > ingest.max_reject_ratio "
            f"{settings['max_reject_ratio']:.0%}; "
            f"first: {scrub_reject(None, None, rejects[0]['detail'], False)[2]}"
        )
