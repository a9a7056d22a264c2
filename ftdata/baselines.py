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
        "guidelines": {
            path: guideline_state(_file_at(root, tag, path), path)
            for path in git(root, "ls-tree", "-r", "--name-only", tag, "--", "guidelines").split()
            if path.endswith(".md")
        },
    }


def _file_at(root: Path, rev: str, path: str) -> str:
    """A file's text at ``rev`` exactly (``git`` strips the final newline: its hash would differ)."""
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
