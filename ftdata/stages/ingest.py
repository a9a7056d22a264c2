"""Ingest one raw source (`python -m stages.ingest NAME`) into canonical records."""

from __future__ import annotations

import pandas as pd

from ftdata.errors import ConfigError, GateError
from ftdata.ingest import FileLimits, read_source
from ftdata.ingest.spec import check_source
from ftdata.ingest.summary import ingest_notes, warnings
from ftdata.io import write_records
from ftdata.limits import split_oversize
from ftdata.params import load_params, pii_types, validated_section
from ftdata.privacy.fields import redact_new_records, scrub_reject
from ftdata.stage import ingest_path, log, project_root, stage_main
from ftdata.stage_run import StageRun


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
        result = read_source(name, cfg, root, FileLimits.from_settings(settings))
        result.records, too_large = split_oversize(result.records, settings["max_record_chars"])
        result.rejects += too_large
        run.counts.n_in, run.counts.out = result.n_read, len(result.records)
        run.reject(pd.DataFrame(result.rejects), keep_raw=settings["keep_raw_rejects"])
        counts = run.counts
        ratio = counts.rejected_total / counts.n_in if counts.n_in else 0.0
        if ratio > settings["max_reject_ratio"]:
            raise GateError(
                f"source `{name}` ({cfg['path']}): {counts.rejected_total} of {counts.n_in} raw "
                f"records rejected ({ratio:.1%}) > ingest.max_reject_ratio "
                f"{settings['max_reject_ratio']:.0%}; "
                f"first: {scrub_reject(None, None, result.rejects[0]['detail'], False)[2]}"
            )
        # Ids, labels and meta are made private where they are born (contents: clean's redact_pii).
        pii_fields = redact_new_records(result.records, pii_types(root))
        counts.extra = {
            "source": name,
            "kind": cfg["kind"],
            "license": cfg["license"],
            "pii_fields_redacted": pii_fields,
            **ingest_notes(result, cfg),
        }
        records = pd.DataFrame(result.records) if result.records else pd.DataFrame()
        write_records(ingest_path(name), records)
    for line in warnings(name, result, counts.n_in, cfg):
        log.warning("%s", line)
