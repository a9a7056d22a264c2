"""`ftdata annotate ...`: export tasks to an annotation tool, and read figures off an export.

Thin typer wrappers: the work is in labelstudio.py / doccano.py / agreement.py.
Importing annotations into the dataset is not a command: exports are raw
sources (data/raw/annotations/) read by the `annotate` stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ftdata.errors import FtdataError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Annotation round trips and agreement."
)


def export_items(records_path: Path, ids: set[str] | None, limit: int | None) -> list[dict]:
    from ftdata.annotate.classification import classification_text
    from ftdata.io import read_records

    records = read_records(records_path)
    items = []
    for rec in records.sort_values("id").to_dict("records"):
        if ids is not None and rec["id"] not in ids:
            continue
        text = classification_text(rec["messages"], rec.get("text"))
        if text:
            items.append(
                {
                    "id": rec["id"],
                    "text": text,
                    "label": rec.get("label"),
                    "source": rec.get("source"),
                }
            )
    return items[:limit] if limit else items


def _read_ids(path: Path) -> set[str]:
    """Ids from a text file (one per line) or a JSONL file with an `id` field (e.g. the review queue)."""
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            ids.add(json.loads(line)["id"] if line.startswith("{") else line)
    return ids


def write_export(
    tool: str,
    out: Path,
    root: Path,
    records_path: Path,
    ids: set[str] | None,
    limit: int | None,
    predictions: bool,
) -> dict:
    from ftdata.annotate import doccano, labelstudio
    from ftdata.annotate.guideline import load as load_guideline
    from ftdata.annotate.taxonomy import from_params
    from ftdata.errors import ConfigError
    from ftdata.io import write_json, write_jsonl, write_text
    from ftdata.params import validated_section

    tax = from_params(validated_section(root, "taxonomy"))
    version = load_guideline(root / validated_section(root, "annotate")["guideline"]).version
    items = export_items(records_path, ids, limit)
    if tool == "label-studio":
        write_json(out / "tasks.json", labelstudio.tasks(items, version, tax, predictions))
        write_text(out / "label_config.xml", labelstudio.label_config(tax))
        files = ["tasks.json", "label_config.xml"]
    elif tool == "doccano":
        write_jsonl(
            out / "doccano_import.jsonl", doccano.import_rows(items, version, tax, predictions)
        )
        write_json(out / "doccano_labels.json", doccano.label_types(tax))
        files = ["doccano_import.jsonl", "doccano_labels.json"]
    else:
        raise ConfigError(f"--tool {tool!r}: expected label-studio or doccano")
    return {
        "tool": tool,
        "tasks": len(items),
        "guideline_version": version,
        "files": [str(out / f) for f in files],
    }


@app.command("export")
def export_cmd(
    tool: Annotated[str, typer.Option("--tool", help="label-studio or doccano")] = "label-studio",
    out: Annotated[Path, typer.Option(help="Directory for the task and config files.")] = Path(
        "annotation_tasks"
    ),
    records: Annotated[
        Path, typer.Option(help="Records to export (default: the annotate stage's output).")
    ] = Path("data/interim/annotate.parquet"),
    ids: Annotated[
        Path | None, typer.Option(help="Only these ids (text, or JSONL such as the review queue).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many tasks.")] = None,
    predictions: Annotated[
        bool, typer.Option(help="Pre-annotate with the record's current label.")
    ] = True,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Write annotation tasks (and the labeling config / label set) for Label Studio or doccano."""
    try:
        result = write_export(
            tool, out, root, root / records, _read_ids(ids) if ids else None, limit, predictions
        )
    except FtdataError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    typer.echo(json.dumps(result, ensure_ascii=False))


@app.command("report")
def report_cmd(
    files: Annotated[list[Path], typer.Argument(help="Annotation exports (one batch each).")],
    tool: Annotated[
        str, typer.Option("--tool", help="label-studio, doccano or csv")
    ] = "label-studio",
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Agreement figures of annotation exports, before they go into a build (no gates, no ids check)."""
    from ftdata.annotate import agreement as ag
    from ftdata.annotate.importers import InputSpec, read_input

    rows, rejects = [], []
    try:
        for path in files:
            if not path.exists():
                typer.echo(f"error: {path}: no such file or folder", err=True)
                raise typer.Exit(3)
            # An export fresh from the tool (~/Downloads/...) need not be in the project yet.
            full = path.resolve()
            inside = full.is_relative_to(root.resolve())
            spec_path = str(full.relative_to(root.resolve())) if inside else str(full)
            result = read_input(InputSpec(path=spec_path, tool=tool), root)
            rows += result.rows
            rejects += result.rejects
    except FtdataError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    import pandas as pd

    votes = pd.DataFrame(
        [
            {"item": r.task_id, "batch": r.batch, "annotator": r.annotator, "label": r.label}
            for r in rows
        ],
        columns=["item", "batch", "annotator", "label"],
    )
    figures = ag.agreement_figures(votes) if len(votes) else {}
    figures["rejected_annotations"] = len(rejects)
    typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
