"""Ingest one raw source (`python -m stages.ingest NAME`) into canonical records."""

from __future__ import annotations

import pandas as pd

from ftdata.errors import ConfigError, GateError
from ftdata.ingest import FileLimits, read_source
from ftdata.ingest.spec import check_source
from ftdata.ingest.summary import ingest_notes, warnings
from ftdata.io import remove_stale_temps, write_records
from ftdata.limits import split_oversize
from ftdata.metrics import StageCounts
from ftdata.params import load_params, pii_types, validated_section
from ftdata.privacy.fields import redact_new_records, scrub_reject
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.stage import ingest_path, log, metrics_path, project_root, rejects_path, stage_main


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
    out, rej, met = ingest_path(name), rejects_path("ingest", name), metrics_path("ingest", name)
    remove_stale_temps(out, rej, met)

    result = read_source(name, cfg, root, FileLimits.from_settings(settings))
    result.records, too_large = split_oversize(result.records, settings["max_record_chars"])
    result.rejects += too_large
    counts = StageCounts(f"ingest@{name}", n_in=result.n_read, out=len(result.records))
    counts.reject(r["reason"] for r in result.rejects)
    ratio = counts.rejected_total / counts.n_in if counts.n_in else 0.0
    if ratio > settings["max_reject_ratio"]:
        raise GateError(
            f"source `{name}` ({cfg['path']}): {counts.rejected_total} of {counts.n_in} raw records "
            f"rejected ({ratio:.1%}) > ingest.max_reject_ratio {settings['max_reject_ratio']:.0%}; "
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
    write_records(out, pd.DataFrame(result.records) if result.records else pd.DataFrame())
    keep_raw = settings["keep_raw_rejects"]
    write_rejects(rej, [rejects_frame("ingest", pd.DataFrame(result.rejects), keep_raw)])
    counts.write(met)
    for line in warnings(name, result, counts.n_in, cfg):
        log.warning("%s", line)
