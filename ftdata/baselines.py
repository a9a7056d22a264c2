"""What a release committed, read from its tag: the drift bounds' baseline (ftdata/contracts.py).

Read with git, not the DVC cache: the figures (summary.json, plots/labels.json) and the
guidelines are git-tracked, so a baseline never needs its data pulled. Kept apart from
ftdata/release.py, whose closure holds the op registry: the report stage imports this,
and an edit to an op must not rerun the report.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from ftdata.annotate.guideline import parse
from ftdata.errors import ConfigError
from ftdata.revisions import RevisionError, git


def release_figures(root: Path, tag: str) -> dict:
    """The labels and per-source counts release ``tag`` committed (git, not the DVC cache)."""
    try:
        summary = json.loads(git(root, "show", f"{tag}:data/metrics/summary.json"))
        labels = json.loads(git(root, "show", f"{tag}:data/metrics/plots/labels.json"))
    except (RevisionError, ValueError) as err:
        raise ConfigError(
            f"contracts.drift.baseline: cannot read release {tag!r} "
            f"({str(err).splitlines()[0]}); name an existing data_vX.Y tag or set it to null"
        ) from None
    return {
        "labels": labels,
        "sources": summary.get("sources") or {},
        "guidelines": guideline_states(root, tag),
    }


def guideline_states(root: Path, rev: str | None = None) -> dict[str, dict]:
    """``guideline_state`` of every guidelines/**.md: on disk, or at git revision ``rev``."""
    if rev is None:
        paths = [
            p.relative_to(root).as_posix() for p in sorted((root / "guidelines").rglob("*.md"))
        ]
    else:
        listed = git(root, "ls-tree", "-r", "--name-only", rev, "--", "guidelines").split()
        paths = [p for p in listed if p.endswith(".md")]
    return {path: guideline_state(_text(root, rev, path), path) for path in paths}


def _text(root: Path, rev: str | None, path: str) -> str:
    """A file's text, exactly (``git`` strips the final newline: its hash would differ)."""
    if rev is None:
        return (root / path).read_text(encoding="utf-8")
    proc = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True)
    return proc.stdout.decode("utf-8")


def guideline_state(text: str, path: str) -> dict:
    """What the drift bounds compare of one guideline: version, text hash, noted versions."""
    g = parse(text, path)
    return {
        "version": g.version,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "changes": sorted(g.changes),
    }
