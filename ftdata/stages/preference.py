"""Preference: DPO / KTO files from the exported, adjudicated production feedback.

A side branch after export (ftdata/preference.py says what becomes a pair): it reads
data/processed/records.parquet, so only feedback the export let through (adjudicated,
redacted, split) is used, and writes data/processed/preference/: LLaMA-Factory's
sharegpt and alpaca preference files (``ranking: true``) and KTO files with their
``dataset_info.json``, OpenAI preference JSONL, and ``lineage.jsonl`` tying every
preference to its record and feedback log line. Every row is redacted once more and
validated against its schema in schemas/.
"""

from __future__ import annotations

import json

from ftdata.io import atomic_dir, read_columns, remove_stale_temps, table_to_records, to_jsonable
from ftdata.metrics import StageCounts
from ftdata.params import pii_types, validated_section
from ftdata.preference import (
    dataset_info,
    preference_of,
    to_alpaca_ranking,
    to_kto,
    to_openai_preference,
    to_sharegpt_ranking,
)
from ftdata.privacy.fields import FieldRedactor
from ftdata.record import SPLITS
from ftdata.schemas import errors_of
from ftdata.stage import PROCESSED, log, metrics_path, project_root, stage_main

OUT = PROCESSED / "preference"
COLUMNS = ["id", "source", "source_kind", "locator", "split", "messages", "meta"]
# file stem -> the schema its rows meet (a JSON array file unless it is JSON lines)
FILES = {
    "dpo_sharegpt": "preference_sharegpt.schema.json",
    "dpo_alpaca": "preference_alpaca.schema.json",
    "kto": "kto.schema.json",
    "openai": "openai_preference.schema.json",
}


@stage_main("preference")
def main() -> None:
    root = project_root()
    section = validated_section(root, "preference")
    export = validated_section(root, "export")
    name, system = export["dataset_name"], export["system_prompt"]
    remove_stale_temps(OUT, metrics_path("preference"))
    records = table_to_records(read_columns(PROCESSED / "records.parquet", COLUMNS))
    feedback = records[records["source_kind"].isin(section["kinds"])].sort_values("id")
    redactor = FieldRedactor(pii_types(root))
    rows: dict[tuple[str, str], list[dict]] = {(f, s): [] for f in FILES for s in SPLITS}
    lineage, no_pair, residual = [], {}, 0
    counts = StageCounts("preference", n_in=len(feedback))

    for rec in feedback.to_dict("records"):
        pref, why = preference_of(rec, section, system)
        made = {}
        if not why:
            made["dpo_sharegpt"] = [to_sharegpt_ranking(pref)]
            made["dpo_alpaca"] = [to_alpaca_ranking(pref)]
            made["openai"] = [to_openai_preference(pref)]
        else:
            no_pair[why] = no_pair.get(why, 0) + 1
        made["kto"] = [to_kto(pref, reply, good) for reply, good in pref.kto]
        if not any(made.values()):
            counts.reject([why])  # counted, with the reason it gave nothing
            continue
        counts.out += 1
        for fmt, converted in made.items():
            for row in converted:
                private, kinds = redactor.record(row)
                residual += bool(kinds)
                rows[fmt, pref.split].append(private)
        lineage.append(
            {
                "id": pref.id,
                "locator": pref.locator,
                "split": pref.split,
                "pair": not why,
                "kto": len(made["kto"]),
            }
        )

    for (fmt, split), found in rows.items():
        if fmt == "openai":  # JSON lines: each row is a document
            errors = [e for row in found for e in errors_of(to_jsonable(row), FILES[fmt])]
        else:
            errors = errors_of(to_jsonable(found), FILES[fmt])
        if errors:  # a converter bug, not bad input: the rows come from validated records
            raise AssertionError(f"preference: {fmt} {split} rows break {FILES[fmt]}: {errors[:3]}")

    written = [(fmt, split) for (fmt, split), found in rows.items() if found]
    with atomic_dir(OUT) as out:
        for fmt, split in written:
            found = rows[fmt, split]
            if fmt == "openai":
                text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in found)
                (out / f"openai_{split}.jsonl").write_text(text, encoding="utf-8")
            else:
                (out / f"{name}_{fmt}_{split}.json").write_text(
                    json.dumps(found, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
                )
        info = dataset_info(name, written)
        (out / "dataset_info.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (out / "lineage.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lineage), encoding="utf-8"
        )

    counts.extra = {
        "pairs": {s: len(rows["dpo_sharegpt", s]) for s in SPLITS},
        "kto": {
            s: {
                "desirable": sum(r["label"] for r in rows["kto", s]),
                "undesirable": sum(not r["label"] for r in rows["kto", s]),
            }
            for s in SPLITS
        },
        "no_pair": dict(sorted(no_pair.items())),
        "residual_pii": {"records": residual},
    }
    counts.write(metrics_path("preference"))
    log.info(
        "%d feedback records: %d preference pairs, %d KTO rows",
        len(feedback),
        sum(counts.extra["pairs"].values()),
        sum(len(rows["kto", s]) for s in SPLITS),
    )
