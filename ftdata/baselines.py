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
from ftdata.contracts import label_shares
from ftdata.errors import ConfigError
from ftdata.revisions import RevisionError, git

MANIFEST = "data/release/manifest.json"
# What the trend keeps of each annotator (annotate.json by_annotator): agreement is the
# drift signal, annotations say how much of it there was.
ANNOTATOR_FIGURES = ("annotations", "agreement_with_consensus", "gold_accuracy")


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


def release_manifest(root: Path, tag: str) -> dict | None:
    """The manifest ``ftdata release`` committed in ``tag``; None for a tag made by hand."""
    proc = subprocess.run(["git", "show", f"{tag}:{MANIFEST}"], cwd=root, capture_output=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def trend_entry(tag: str, label_rows: list[dict], annotate: dict | None) -> dict:
    """One release's point on the drift trend: each label's share per level and each
    annotator's agreement. The reference article's 标注漂移 shows in these two first."""
    levels = sorted({int(r["level"]) for r in label_rows})
    return {
        "tag": tag,
        "labels": {
            str(lv): {label: round(v, 4) for label, v in label_shares(label_rows, lv).items()}
            for lv in levels
        },
        "annotators": {
            name: {k: a.get(k) for k in ANNOTATOR_FIGURES}
            for name, a in sorted(((annotate or {}).get("by_annotator") or {}).items())
        },
    }


def release_trend(root: Path, tag: str) -> list[dict]:
    """The trend up to and including release ``tag``, oldest first.

    A manifest carries the trend of every release before it, so this reads one tag and
    the ``tag`` param is the report's whole dependency; a tag without one (made by hand,
    or before manifests held a trend) gives its own point from its committed metrics.
    """
    manifest = release_manifest(root, tag) or {}
    if manifest.get("trend"):
        return manifest["trend"]
    try:
        rows = json.loads(git(root, "show", f"{tag}:data/metrics/plots/labels.json"))
    except (RevisionError, ValueError):
        return []
    try:
        annotate = json.loads(git(root, "show", f"{tag}:data/metrics/annotate.json"))
    except (RevisionError, ValueError):
        annotate = None
    return [trend_entry(tag, rows, annotate)]


def trend_label_rows(trend: list[dict], level: str = "1") -> list[list]:
    """Each label's share (%) at ``level`` per release, oldest first; a label a release
    did not have is blank there, so an appearing or vanishing label stands out."""
    labels = sorted({label for point in trend for label in point["labels"].get(level, {})})
    return [
        [
            label,
            *(
                ""
                if label not in point["labels"].get(level, {})
                else round(100 * point["labels"][level][label], 1)
                for point in trend
            ),
        ]
        for label in labels
    ]


TREND_ANNOTATOR_FIGURES = (
    ("agreement_with_consensus", "agreement"),
    ("gold_accuracy", "gold accuracy"),
)


def _blank(values) -> list:
    return ["" if v is None else v for v in values]


def trend_annotator_rows(trend: list[dict]) -> list[list]:
    """Each annotator's agreement with consensus and gold accuracy per release: one who
    drifts from the guideline shows as a falling row (标注漂移)."""
    names = sorted({name for point in trend for name in point["annotators"]})
    return [
        [name, title, *_blank((point["annotators"].get(name) or {}).get(key) for point in trend)]
        for name in names
        for key, title in TREND_ANNOTATOR_FIGURES
    ]
