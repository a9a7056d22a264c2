"""The pull-request review of a data change: params, taxonomy, guidelines, files, metrics, records.

One markdown page so that a reviewer judges data, config and guideline edits
together. Each section is computed from the two revisions as committed (or the
workspace); data is read through DVC, never rebuilt.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ftdata.diff import RecordDiff, diff_snapshots, examples_markdown, summary_markdown
from ftdata.io import to_jsonable
from ftdata.release import GUIDELINES, TAXONOMY
from ftdata.revisions import Revision, git

# Rows per table in the markdown (a PR comment holds 65,536 characters); --json has all.
MAX_ROWS = 60


@dataclass
class Review:
    base: str
    head: str
    params: list[dict]
    taxonomy: str | None  # unified diff text; None when neither revision has a taxonomy
    guidelines: str | None
    files: dict
    metrics: list[dict]
    metrics_errors: list[str]
    records: RecordDiff
    sample: int

    def as_dict(self) -> dict:
        return to_jsonable(
            {
                "base": self.base,
                "head": self.head,
                "params": self.params,
                "taxonomy": self.taxonomy,
                "guidelines": self.guidelines,
                "files": self.files,
                "metrics": self.metrics,
                "metrics_errors": self.metrics_errors,
                "records": self.records.as_dict(),
            }
        )


# ------------------------------------------------------------------ params
def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists stay values (a list is one param)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def params_diff(base: Revision, head: Revision) -> list[dict]:
    def load(rev: Revision) -> dict:
        text = rev.read_text("params.yaml", default=None)
        return flatten(yaml.safe_load(text) or {}) if text else {}

    a, b = load(base), load(head)
    return [
        {
            "key": key,
            "base": a.get(key),
            "head": b.get(key),
            "change": "added" if key not in a else "removed" if key not in b else "modified",
        }
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key) or (key in a) != (key in b)
    ]


# ------------------------------------------------------------------ git text diffs
def text_diff(root: Path, base: Revision, head: Revision, folder: Path) -> str | None:
    """``git diff`` of a folder between the revisions (untracked workspace files included)."""
    exists = base.exists(folder) or head.exists(folder)
    if not exists:
        return None
    spec = [base.commit] + ([head.commit] if head.commit else [])
    text = git(root, "diff", "--no-color", "--no-ext-diff", *spec, "--", folder.as_posix())
    if head.is_workspace:
        untracked = git(
            root, "ls-files", "--others", "--exclude-standard", "--", folder.as_posix()
        ).splitlines()
        for path in untracked:
            proc = subprocess.run(
                ["git", "diff", "--no-color", "--no-index", "--", "/dev/null", path],
                cwd=root,
                capture_output=True,
                text=True,
            )
            text += ("\n" if text else "") + proc.stdout.rstrip("\n")
    return text


# ------------------------------------------------------------------ dvc
def dvc_files_diff(root: Path, base: Revision, head: Revision) -> dict:
    """``dvc diff BASE HEAD``: added / deleted / modified / renamed outputs with their hashes."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        result = repo.diff(base.commit, head.commit)
    return {k: sorted(v, key=lambda e: str(e.get("path"))) for k, v in (result or {}).items() if v}


def dvc_metrics_diff(root: Path, base: Revision, head: Revision) -> tuple[list[dict], list[str]]:
    """``dvc metrics diff BASE HEAD`` as rows ``{file, metric, base, head, change}``."""
    from dvc.repo import Repo

    a_rev = base.commit
    b_rev = head.commit or "workspace"
    with Repo(str(root)) as repo:
        result = repo.metrics.diff(a_rev=a_rev, b_rev=b_rev)
    rows = []
    for path, metrics in sorted((result.get("diff") or {}).items()):
        for key, change in sorted(metrics.items()):
            rows.append(
                {
                    "file": path,
                    "metric": key,
                    "base": change.get("old"),
                    "head": change.get("new"),
                    "change": change.get("diff"),
                }
            )
    errors = [f"{rev}: {err}" for rev, err in (result.get("errors") or {}).items()]
    return rows, errors


# ------------------------------------------------------------------ review
def review(root: str | Path, base: str, head: str, sample: int = 5) -> Review:
    """Everything a reviewer of ``base..head`` should see, as data."""
    root = Path(root).resolve()
    a, b = Revision(root, base), Revision(root, head)
    if a.is_workspace:
        from ftdata.revisions import RevisionError

        raise RevisionError("the review base must be a git revision (the head may be `workspace`)")
    records = diff_snapshots(
        a.records(), b.records(), a.rejects(), b.rejects(), base=a.name, head=b.name, limit=sample
    )
    metrics, metrics_errors = dvc_metrics_diff(root, a, b)
    return Review(
        base=a.name,
        head=b.name,
        params=params_diff(a, b),
        taxonomy=text_diff(root, a, b, TAXONOMY),
        guidelines=text_diff(root, a, b, GUIDELINES),
        files=dvc_files_diff(root, a, b),
        metrics=metrics,
        metrics_errors=metrics_errors,
        records=records,
        sample=sample,
    )


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    text = (
        "—"
        if v is None
        else json.dumps(to_jsonable(v), ensure_ascii=False)
        if isinstance(v, (list, dict))
        else str(v)
    )
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 120 else text[:119] + "…"


def _fenced(text: str, limit: int = 400) -> list[str]:
    lines = text.splitlines()
    cut = lines[:limit]
    out = ["```diff", *cut, "```"]
    if len(lines) > limit:
        out.append(f"_({len(lines) - limit} more lines; run `git diff` locally)_")
    return out


def to_markdown(rv: Review) -> str:
    lines = [f"# Data review: {rv.base} → {rv.head}", ""]

    lines += ["## Params", ""]
    if rv.params:
        lines += ["| param | base | head |", "|---|---|---|"]
        lines += [
            f"| `{p['key']}` | {_value(p['base'])} | {_value(p['head'])} |" for p in rv.params
        ]
    else:
        lines.append("No params changed.")
    lines.append("")

    lines += ["## Taxonomy", ""]
    if rv.taxonomy is None:
        lines.append(f"No taxonomy (`{TAXONOMY}/`) in either revision.")
    elif rv.taxonomy.strip():
        lines += _fenced(rv.taxonomy)
    else:
        lines.append("No taxonomy changes.")
    lines.append("")

    lines += ["## Guidelines", ""]
    if rv.guidelines is None:
        lines.append(f"No guidelines (`{GUIDELINES}/`) in either revision.")
    elif rv.guidelines.strip():
        lines += _fenced(rv.guidelines)
    else:
        lines.append("No guideline changes.")
    lines.append("")

    lines += ["## Files (`dvc diff`)", ""]
    if rv.files:
        lines += ["| change | path | hash |", "|---|---|---|"]
        rows = [(kind, e) for kind, entries in rv.files.items() for e in entries]
        for kind, e in rows[:MAX_ROWS]:
            path = e.get("path") if isinstance(e.get("path"), str) else json.dumps(e.get("path"))
            h = e.get("hash")
            h = (
                f"{h.get('old', '')[:8]} → {h.get('new', '')[:8]}"
                if isinstance(h, dict)
                else str(h or "")[:8]
            )
            lines.append(f"| {kind} | `{path}` | {h} |")
        if len(rows) > MAX_ROWS:
            lines.append(f"\n_{len(rows) - MAX_ROWS} more; run `dvc diff {rv.base} {rv.head}`._")
    else:
        lines.append("No DVC-tracked files changed.")
    lines.append("")

    lines += ["## Metrics (`dvc metrics diff`)", ""]
    if rv.metrics:
        lines += ["| file | metric | base | head | change |", "|---|---|---|---|---|"]
        lines += [
            f"| `{m['file']}` | {m['metric']} | {_value(m['base'])} | {_value(m['head'])} | {_value(m['change'])} |"
            for m in rv.metrics[:MAX_ROWS]
        ]
        if len(rv.metrics) > MAX_ROWS:
            lines.append(
                f"\n_{len(rv.metrics) - MAX_ROWS} more; run `dvc metrics diff {rv.base} {rv.head}`._"
            )
    else:
        lines.append("No metrics changed.")
    for err in rv.metrics_errors:
        lines.append(f"> metrics error: {err}")
    lines.append("")

    lines += summary_markdown(rv.records, heading="##", title="Records")
    sample = examples_markdown(rv.records, heading="##", per_group=rv.sample)
    if sample:
        lines += [f"## Sample of changed records (up to {rv.sample} per group)", "", *sample]
    return "\n".join(lines).rstrip() + "\n"
