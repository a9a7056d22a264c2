"""The `ftdata` command line: thin typer wrappers over functions that return data.

Exit codes: 0 ok; 1 check failed (e.g. params.yaml stale) or release refused
or record not found; 2 config error, bad argument or unknown revision;
3 source error (missing raw file); 4 gate failed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ftdata.errors import FtdataError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Dataset-as-code for LLM fine-tuning data.",
)
err_console = Console(stderr=True)


def _add_annotate_commands() -> None:
    """`ftdata annotate export|report` (ftdata/annotate/cli.py)."""
    from ftdata.cli.annotate import app as annotate_app

    app.add_typer(annotate_app, name="annotate")


_add_annotate_commands()


def _fail(err: FtdataError) -> None:
    # escape: a message naming `meta[1]` or `[internal]` is text, not rich markup
    err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
    raise typer.Exit(err.exit_code)


@app.command()
def compose(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="Hydra overrides, e.g. quality.min_chars=12")
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 if params.yaml or stages/code.yaml is stale."),
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Resolve conf/ with Hydra into params.yaml, and the stages' code into stages/code.yaml."""
    from ftdata import codedeps
    from ftdata.compose import params_stale, write_params

    try:
        if check:
            reasons = [r for r in (params_stale(root, overrides), codedeps.stale(root)) if r]
            for reason in reasons:
                err_console.print(reason, highlight=False, soft_wrap=True)
            if reasons:
                raise typer.Exit(1)
            typer.echo(f"params.yaml and {codedeps.CODE_FILE} are up to date")
            return
        path = write_params(root, overrides)
        changed = codedeps.write(root)
    except FtdataError as err:
        _fail(err)
    typer.echo(f"wrote {path}")
    if changed:
        typer.echo(f"wrote {root / codedeps.CODE_FILE} (changed: {', '.join(changed)})")


@app.command()
def deps(
    stage: Annotated[
        str | None, typer.Argument(help="A stage entry point (stages/NAME.py); all if omitted.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 unless dvc.yaml and stages/code.yaml are in step."),
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """The modules each stage runs (its import closure), whose hash is its line in
    stages/code.yaml (ftdata/codedeps.py)."""
    from ftdata import codedeps

    try:
        if check:
            text = (root / "dvc.yaml").read_text(encoding="utf-8")
            lines = [f"dvc.yaml: {line}" for line in codedeps.wiring_problems(text)]
            lines += [r for r in [codedeps.stale(root)] if r]
            for line in lines:
                err_console.print(line, highlight=False, soft_wrap=True)
            if lines:
                raise typer.Exit(1)
            typer.echo(f"dvc.yaml and {codedeps.CODE_FILE} match the code")
            return
        for entry, files in codedeps.closure_files(root, stage).items():
            typer.echo(f"{entry}:")
            for rel in files:
                typer.echo(f"  {rel}")
    except FtdataError as err:
        _fail(err)


# RST inline markup in op docstrings: ``literal`` and :role:`target` (docstrings are
# written for Sphinx-style readers; the terminal gets the words, literals in a style).
_RST_INLINE = re.compile(r"``(?P<literal>.+?)``|:[\w:.-]+:`(?P<role>[^`]+)`")


def rst_line_to_text(line: str) -> Text:
    """One docstring line as rich Text: RST literals styled, the markup itself dropped."""
    text = Text()
    pos = 0
    for match in _RST_INLINE.finditer(line):
        text.append(line[pos : match.start()])
        if match.group("literal") is not None:
            text.append(match.group("literal"), style="bold cyan")
        else:
            text.append(match.group("role").lstrip("~"))
        pos = match.end()
    text.append(line[pos:])
    return text


@app.command()
def ops() -> None:
    """List the ops a config may name, by stage."""
    from ftdata.catalog import all_ops

    table = Table("stage", "op", "params (default)", "what it does")
    for op in sorted(all_ops().values(), key=lambda o: (o.stage, o.name)):
        doc = rst_line_to_text(op.doc.splitlines()[0] if op.doc else "")
        table.add_row(op.stage, op.name, params_line(op.params), doc)
    Console().print(table)


def params_line(schema) -> str:
    """``max_run=3, level`` (required params bare); ``any`` for an op taking ``**params``."""
    import dataclasses

    from omegaconf import MISSING

    if schema is None:
        return "any"
    shown = []
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown.append(f.name if default == MISSING else f"{f.name}={_short(default)}")
    return ", ".join(shown)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


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


# ---------------------------------------------------------------- releases and audits
# Thin wrappers over ftdata.release / diff / lineage / review, which return data:
# markdown by default, the same result as JSON with --json.
def _print_json(data: dict) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    typer.echo()


def _emit(compute, to_markdown, as_json: bool) -> None:
    """Run a command's computation and print its result as JSON or markdown.

    One place for what every reporting command does: user errors exit with
    their code and one line; the data is printed by one of two printers.
    """
    try:
        result = compute()
    except FtdataError as err:
        _fail(err)
    if as_json:
        _print_json(result.as_dict())
    else:
        typer.echo(to_markdown(result), nl=False)


@app.command()
def release(
    version: Annotated[str, typer.Argument(help="MAJOR.MINOR, e.g. 1.1 (tag data_v1.1).")],
    message: Annotated[str, typer.Option("-m", "--message", help="What changed in this release.")],
    gto: Annotated[
        bool,
        typer.Option("--gto", help="Also tag <artifact>@vMAJOR.MINOR.0 for `dvc artifacts get`."),
    ] = False,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="`dvc push` to the default remote.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of markdown.")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Cut release data_vMAJOR.MINOR: manifest, CHANGELOG.md, annotated tag, dvc push.

    Refuses unless git is clean, params.yaml matches conf/, `dvc status` is
    clean, every stage wrote its metrics and no gate failed.
    Exit codes: 0 released; 1 refused (the message lists every reason) or push
    failed; 2 bad version or config error.
    """
    from ftdata.release import release as cut_release
    from ftdata.release import release_markdown

    _emit(
        lambda: cut_release(root, version, message, gto=gto, push=push), release_markdown, as_json
    )


@app.command()
def diff(
    base: Annotated[
        str, typer.Argument(help="Git revision (tag, branch, commit) or `workspace`.")
    ] = "HEAD",
    head: Annotated[
        str, typer.Argument(help="Git revision or `workspace` (the files on disk).")
    ] = "workspace",
    limit: Annotated[int, typer.Option(help="Example records per group (0: all).")] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of markdown.")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Record-level diff: added, removed, changed records, split moves, label changes, new rejects.

    Reads both revisions' records and rejects through DVC (cache or remote).
    Exit codes: 0 diff printed (whether or not records differ); 2 unknown
    revision or its data is in neither the cache nor the remote.
    """
    from ftdata.diff import diff_revisions, to_markdown

    _emit(lambda: diff_revisions(root, base, head, limit=limit), to_markdown, as_json)


@app.command()
def lineage(
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Record id (16 hex characters).")],
    rev: Annotated[str, typer.Option(help="Git revision or `workspace`.")] = "workspace",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of markdown.")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """One record from raw file and line, through every op, to its export line and first release.

    Exit codes: 0 found; 1 no record with that id in the revision (records or
    rejects); 2 unknown revision or data not fetchable.
    """
    from ftdata.lineage import lineage as trace
    from ftdata.lineage import to_markdown

    _emit(lambda: trace(root, record_id, rev), to_markdown, as_json)


@app.command()
def review(
    base: Annotated[
        str, typer.Argument(help="Git revision the change is based on (e.g. origin/main).")
    ],
    head: Annotated[str, typer.Argument(help="Git revision or `workspace`.")] = "workspace",
    sample: Annotated[int, typer.Option(help="Example records per group.")] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of markdown.")
    ] = False,
    root: Annotated[Path, typer.Option(help="Project root.")] = Path("."),
) -> None:
    """Pull-request review markdown: params, taxonomy, guidelines, dvc diff, metrics diff, records.

    Exit codes: 0 printed; 2 unknown revision or data not fetchable.
    """
    from ftdata.review import review as make_review
    from ftdata.review import to_markdown

    _emit(lambda: make_review(root, base, head, sample=sample), to_markdown, as_json)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="The new project's folder (absent or empty).")],
    template: Annotated[
        str,
        typer.Option(
            help="blank (one tiny example source) or bank-card (this repository's example)."
        ),
    ] = "blank",
    remote: Annotated[
        Path | None,
        typer.Option(help="Folder for the default DVC remote (default: ../.ftdata-remote/NAME)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Create a dataset project: git + dvc, conf/, schemas/, guidelines/, dvc.yaml, Makefile, README."""
    from ftdata.init import init_project

    try:
        result = init_project(directory, template=template, remote=remote)
    except FtdataError as err:
        _fail(err)
    if as_json:
        _print_json(result.as_dict())
        return
    typer.echo(f"created {result.path} (template {result.template}, {len(result.files)} files)")
    typer.echo(f"DVC remote `{result.remote['name']}`: {result.remote['url']}")
    if not result.committed:
        typer.echo(
            "not committed: set git's user.name and user.email, then `git add -A && git commit`"
        )
    typer.echo(f"next: cd {directory} && make repro   (then open data/processed/report/index.html)")


def main() -> None:
    app()
