"""The `ftdata` command line: thin typer wrappers over functions that return data.

Exit codes: 0 ok; 1 check failed (e.g. params.yaml stale); 2 config error;
3 source error (missing raw file); 4 gate failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ftdata.errors import FtdataError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Dataset-as-code for LLM fine-tuning data.",
)
err_console = Console(stderr=True)


def _fail(err: FtdataError) -> None:
    err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(err.exit_code)


@app.command()
def compose(
    overrides: Annotated[list[str] | None, typer.Argument(help="Hydra overrides, e.g. quality.min_chars=12")] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if params.yaml is stale; write nothing.")] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Resolve conf/ with Hydra, validate it, and write params.yaml."""
    from ftdata.compose import params_stale, write_params

    try:
        if check:
            reason = params_stale(root, overrides)
            if reason:
                err_console.print(reason, highlight=False, soft_wrap=True)
                raise typer.Exit(1)
            typer.echo("params.yaml is up to date")
            return
        path = write_params(root, overrides)
    except FtdataError as err:
        _fail(err)
    typer.echo(f"wrote {path}")


@app.command()
def ops() -> None:
    """List the ops a config may name, by stage."""
    from ftdata.registry import all_ops

    table = Table("stage", "op", "what it does")
    for op in sorted(all_ops().values(), key=lambda o: (o.stage, o.name)):
        table.add_row(op.stage, op.name, op.doc.splitlines()[0] if op.doc else "")
    Console().print(table)


@app.command()
def funnel(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Show records in, out and rejected (by reason) for every stage of the last build."""
    path = root / "data/metrics/summary.json"
    if not path.is_file():
        err_console.print(f"{path}: not found; run `dvc repro` first")
        raise typer.Exit(1)
    summary = json.loads(path.read_text(encoding="utf-8"))
    if as_json:
        json.dump(summary["funnel"], sys.stdout, ensure_ascii=False, indent=2)
        typer.echo()
        return
    table = Table("stage", "in", "added", "out", "rejected")
    for row in summary["funnel"]:
        rejected = ", ".join(f"{k} {v}" for k, v in row["rejected"].items()) or "-"
        table.add_row(row["stage"], str(row["in"]), str(row["added"]), str(row["out"]), rejected)
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
