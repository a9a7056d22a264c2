"""Cut a data release: checks, manifest, changelog, annotated tag ``data_vX.Y``, ``dvc push``.

A release names a build that anyone can get back byte for byte: the tag
points at a commit whose ``dvc status`` is clean, whose params.yaml matches
conf/ and whose outputs are in the default remote. The manifest
(data/release/manifest.json, schema schemas/manifest.schema.json) records
where every record came from and under which terms, so an auditor needs
neither the pipeline nor its author.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ftdata.baselines import release_trend, trend_entry
from ftdata.errors import ConfigError, FtdataError
from ftdata.io import write_json, write_text
from ftdata.record import params_hash
from ftdata.revisions import RELEASE_TAG, WORKSPACE, git, release_tags
from ftdata.stage import METRICS, STAGES

MANIFEST = Path("data/release/manifest.json")
MANIFEST_SCHEMA = "manifest.schema.json"
CHANGELOG = Path("CHANGELOG.md")
GUIDELINES = Path("guidelines")
TAXONOMY = Path("conf/taxonomy")
VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# The default remote: a directory beside the project, `../.ftdata-remote/<project>`
# (.dvc/config stores it relative to .dvc/ as ../../.ftdata-remote/<project>), so it
# works the same in a fresh clone, in CI and in temporary test repositories.
DEFAULT_REMOTE_NAME = "local"
DEFAULT_REMOTE_DIR = "../.ftdata-remote/{project}"
CHANGELOG_HEADER = (
    "# Changelog\n\n"
    "Data releases of this dataset, newest first. Each entry is written by `ftdata release`;\n"
    "the tag `data_vX.Y` holds the full manifest (`git show data_vX.Y:data/release/manifest.json`).\n"
)
_VERSION_LINE = re.compile(
    r"(?im)^[\s>*#<!\-]*version\s*[:：]\s*\**\s*[\"']?v?([0-9][0-9A-Za-z.\-]*)"
)


class ReleaseRefused(FtdataError):
    """A precondition of a release does not hold; nothing was written, tagged or pushed."""

    exit_code = 1


@dataclass
class ReleaseResult:
    version: str
    tag: str
    commit: str
    manifest_path: str
    manifest: dict
    remote: dict
    pushed: int
    gto_tags: list[str] = field(default_factory=list)
    previous: str | None = None
    changes: dict | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ------------------------------------------------------------------ remote
def default_remote(root: str | Path) -> dict | None:
    """The default DVC remote as ``{name, url}`` (url as configured), or None when there is none."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        name = repo.config["core"].get("remote")
        if not name:
            return None
        remote = repo.config["remote"].get(name)
        if remote is None:
            raise ConfigError(
                f".dvc/config: core.remote names {name!r}, which is not a configured remote"
            )
        return {"name": name, "url": str(remote.get("url"))}


def ensure_default_remote(root: str | Path, project: str | None = None) -> dict:
    """Configure a local-directory default remote unless one exists; return ``{name, url, created}``.

    The remote is written to .dvc/config (committed), so every clone gets it;
    ``dvc remote add -d NAME s3://...`` replaces it with shared storage.
    """
    from dvc.repo import Repo

    existing = default_remote(root)
    if existing:
        return {**existing, "created": False}
    project = project or _project_name(Path(root))
    # DVC stores an absolute path as it is, and rewrites a relative one (taken as
    # relative to the cwd) to be relative to .dvc/: we want the latter, from any cwd.
    target = (Path(root).resolve() / DEFAULT_REMOTE_DIR.format(project=project)).resolve()
    url = os.path.relpath(target, Path.cwd())
    with Repo(str(root)) as repo, repo.config.edit("repo") as conf:
        conf.setdefault("remote", {})[DEFAULT_REMOTE_NAME] = {"url": url}
        conf.setdefault("core", {})["remote"] = DEFAULT_REMOTE_NAME
    return {"name": DEFAULT_REMOTE_NAME, "url": str(target), "created": True}


def _project_name(root: Path) -> str:
    params = _load_yaml(root / "params.yaml") or {}
    return str((params.get("project") or {}).get("name") or root.resolve().name)


# ------------------------------------------------------------------ checks
def _load_yaml(path: Path) -> Any:
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_version(version: str) -> str:
    if not VERSION.match(version):
        raise ConfigError(
            f"release version {version!r}: expected MAJOR.MINOR, e.g. 1.0 or 2.13 (the tag is data_vMAJOR.MINOR)"
        )
    return f"data_v{version}"


def failed_gates(metrics: dict) -> list[str]:
    """Names of failed gates in one metrics file's ``gates`` key.

    Accepted shapes: a list of ``{name|gate, passed|ok|status, mode}`` (the
    annotation gates write ``{gate, batch, annotator, passed, mode, detail}``)
    or a mapping of name to such a dict or to a bare bool. A gate fails when
    ``passed`` or ``ok`` is false or ``status`` is fail/failed, unless its
    ``mode`` is ``warn`` (its stage reports a warning; it does not block).
    """
    gates = metrics.get("gates") if isinstance(metrics, dict) else None
    if not gates:
        return []
    if isinstance(gates, dict):
        items = list(gates.items())
    else:
        items = [(_gate_name(g, i), g) for i, g in enumerate(gates)]
    failed = []
    for name, gate in items:
        if isinstance(gate, bool):
            ok = gate
        elif isinstance(gate, dict):
            status = str(gate.get("status", "")).lower()
            ok = gate.get("passed", gate.get("ok", True)) is not False and status not in (
                "fail",
                "failed",
            )
            ok = ok or str(gate.get("mode", "")).lower() == "warn"
        else:
            ok = True
        if not ok:
            detail = gate.get("detail") or gate.get("message") if isinstance(gate, dict) else None
            failed.append(f"{name}" + (f" ({detail})" if detail else ""))
    return failed


def _gate_name(gate: object, index: int) -> str:
    if not isinstance(gate, dict):
        return f"#{index}"
    if gate.get("name"):
        return str(gate["name"])
    parts = [str(gate[k]) for k in ("gate", "batch", "annotator") if gate.get(k)]
    return " ".join(parts) or f"#{index}"


def expected_metrics(root: Path, params: dict) -> list[Path]:
    """Metrics files a complete build writes: every stage (ingest per source) and the summary."""
    paths = []
    for stage in STAGES:
        if stage == "ingest":
            paths += [
                METRICS / "ingest" / f"{src}.json" for src in sorted(params.get("source", {}))
            ]
        else:
            paths.append(METRICS / f"{stage}.json")
    return [*paths, METRICS / "summary.json"]


def preflight(root: Path, version: str, push: bool = True, gto: bool = False) -> list[str]:
    """Every reason not to release now (empty when the release may go ahead)."""
    from dvc.repo import Repo

    from ftdata import codedeps
    from ftdata.compose import params_stale

    tag = check_version(version)
    problems: list[str] = []
    if gto and not gto_tag_names(root, version):
        problems.append("--gto: dvc.yaml declares no `artifacts:` to tag")
    for name in [tag, *(gto_tag_names(root, version) if gto else [])]:
        if git(root, "tag", "--list", name):
            problems.append(f"tag {name} already exists (`git show {name}`); choose a new version")
    dirty = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:8]) + (
            f" and {len(dirty) - 8} more" if len(dirty) > 8 else ""
        )
        problems.append(
            f"git working tree is not clean ({shown}); commit or stash the changes first"
        )
    problems += [r for r in (params_stale(root), codedeps.stale(root)) if r]
    with Repo(str(root)) as repo:
        status = repo.status()
    if status:
        stages = ", ".join(sorted(status)[:8])
        problems.append(
            f"`dvc status` is not clean ({stages}); run `dvc repro` and commit dvc.lock"
        )
    params = _load_yaml(root / "params.yaml") or {}
    missing = [str(p) for p in expected_metrics(root, params) if not (root / p).is_file()]
    if missing:
        problems.append(
            f"stage metrics missing ({', '.join(missing[:5])}); the build is incomplete: run `dvc repro`"
        )
    for path in sorted((root / METRICS).rglob("*.json")) if (root / METRICS).is_dir() else []:
        try:
            failed = failed_gates(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as err:
            problems.append(f"{path.relative_to(root)}: not valid JSON ({err})")
            continue
        if failed:
            problems.append(f"{path.relative_to(root)}: gate failed: {', '.join(failed)}")
    if push and default_remote(root) is None:
        problems.append(
            "no default DVC remote to push to; `make remote` sets up a local one, "
            "or `dvc remote add -d NAME s3://bucket/path` (then commit .dvc/config)"
        )
    return problems


# ------------------------------------------------------------------ manifest
def _md5_path(path: Path) -> dict:
    """md5 of a file, or of a directory's sorted ``relpath md5`` lines (when dvc.lock lacks it)."""
    if path.is_file():
        data = path.read_bytes()
        return {"md5": hashlib.md5(data).hexdigest(), "size": len(data)}
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = "".join(
        f"{p.relative_to(path).as_posix()} {hashlib.md5(p.read_bytes()).hexdigest()}\n"
        for p in files
    )
    return {
        "md5": hashlib.md5(listing.encode()).hexdigest() + ".dir",
        "size": sum(p.stat().st_size for p in files),
        "nfiles": len(files),
    }


def _hash_entry(entry: dict) -> dict:
    return {k: entry[k] for k in ("md5", "size", "nfiles") if k in entry}


def _lock_entries(lock: dict, key: str) -> dict[str, dict]:
    """``{path: {md5, size[, nfiles]}}`` of every stage's deps or outs in dvc.lock."""
    found: dict[str, dict] = {}
    for stage in (lock or {}).get("stages", {}).values():
        for entry in stage.get(key, []) or []:
            found.setdefault(entry["path"], _hash_entry(entry))
    return found


def guideline_versions(root: Path) -> dict[str, dict]:
    """``{path: {version, sha256}}`` for guidelines/**.md (version: see :func:`guideline_version`)."""
    out = {}
    folder = root / GUIDELINES
    for path in sorted(folder.rglob("*.md")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        out[path.relative_to(root).as_posix()] = {
            "version": guideline_version(text),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
    return out


def guideline_version(text: str) -> str | None:
    """``version`` of the YAML front matter (the annotation guideline format), else a ``version:`` line."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            try:
                header = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError:
                header = {}
            if isinstance(header, dict) and header.get("version") is not None:
                return str(header["version"])
    match = _VERSION_LINE.search("\n".join(lines[:30]))
    return match.group(1) if match else None


def taxonomy_version(root: Path, params: dict) -> dict | None:
    """The taxonomy's version and hash, from params.yaml's ``taxonomy`` section or conf/taxonomy/ files."""
    section = params.get("taxonomy")
    files = (
        sorted(p for p in (root / TAXONOMY).rglob("*") if p.is_file())
        if (root / TAXONOMY).is_dir()
        else []
    )
    if section is None and not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(
            path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    version = section.get("version") if isinstance(section, dict) else None
    return {
        "version": None if version is None else str(version),
        "params_hash": params_hash(section) if section is not None else None,
        "files_sha256": digest.hexdigest() if files else None,
    }


def build_manifest(root: Path, version: str, message: str, remote: dict | None = None) -> dict:
    """The manifest of the build at HEAD (call after :func:`preflight` passed)."""
    root = Path(root)
    params = _load_yaml(root / "params.yaml") or {}
    lock = _load_yaml(root / "dvc.lock") or {}
    dvcyaml = _load_yaml(root / "dvc.yaml") or {}
    summary = json.loads((root / METRICS / "summary.json").read_text(encoding="utf-8"))
    deps = _lock_entries(lock, "deps")
    outs = _lock_entries(lock, "outs")

    sources = {}
    for name, src in sorted(params.get("source", {}).items()):
        path = src["path"].rstrip("/")
        raw = deps.get(path) or _md5_path(root / path)
        sources[name] = {
            "path": path,
            "format": src.get("format"),
            "kind": src.get("kind"),
            "license": src.get("license"),
            "owner": src.get("owner"),
            "collected_at": None
            if src.get("collected_at") is None
            else str(src.get("collected_at")),
            "raw": raw,
        }

    rejected: dict[str, int] = {}
    for stage in summary.get("funnel", []):
        for reason, n in stage.get("rejected", {}).items():
            rejected[reason] = rejected.get(reason, 0) + int(n)
    gates = {}
    for path in sorted((root / METRICS).rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("gates"):
            gates[path.relative_to(root).as_posix()] = data["gates"]

    manifest = {
        "manifest_version": 1,
        "dataset": _project_name(root),
        "version": version,
        "tag": f"data_v{version}",
        "message": message,
        "git_commit": git(root, "rev-parse", "HEAD"),
        "git_commit_date": git(root, "log", "-1", "--format=%cI", "HEAD"),
        "params_hash": params_hash(params),
        "sources": sources,
        "guidelines": guideline_versions(root),
        "taxonomy": taxonomy_version(root, params),
        "counts": {
            "raw_records": int(summary.get("raw_records", 0)),
            "exported_records": int(summary.get("exported_records", 0)),
            "splits": {k: int(v) for k, v in summary.get("splits", {}).items()},
            "stages": [
                {
                    "stage": s["stage"],
                    "in": int(s["in"]),
                    "added": int(s.get("added", 0)),
                    "out": int(s["out"]),
                    "rejected": {k: int(v) for k, v in s.get("rejected", {}).items()},
                }
                for s in summary.get("funnel", [])
            ],
        },
        # What a fine-tuning run on this release reads (None: tokens not counted).
        "tokens": summary.get("tokens"),
        "label_issues": label_issue_counts(_stage_metrics(root, "label_issues")),
        "preference": preference_counts(_stage_metrics(root, "preference")),
        # Label shares and annotator agreement of every release up to this one: the
        # report's drift trend reads it from the one tag contracts.drift.baseline names.
        "trend": release_trend_with(root, f"data_v{version}"),
        "metrics": {
            "kept_ratio": float(summary.get("kept_ratio", 0.0)),
            "rejected_total": sum(rejected.values()),
            "rejected_by_reason": dict(sorted(rejected.items())),
            "gates": gates,
        },
        "outputs": {p: h for p, h in sorted(outs.items()) if p.startswith("data/processed/")},
        "artifacts": {
            name: {"path": a.get("path"), "type": a.get("type")}
            for name, a in sorted((dvcyaml.get("artifacts") or {}).items())
        },
        "remote": remote,
    }
    return manifest


def release_trend_with(root: Path, tag: str) -> list[dict]:
    """The trend of the releases before ``tag``, then this build's point as ``tag``."""
    previous = previous_release(root, tag)
    before = release_trend(root, previous) if previous else []
    rows = json.loads((root / METRICS / "plots" / "labels.json").read_text(encoding="utf-8"))
    return [*before, trend_entry(tag, rows, _stage_metrics(root, "annotate"))]


def _stage_metrics(root: Path, stage: str) -> dict | None:
    path = root / METRICS / f"{stage}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def label_issue_counts(metrics: dict | None) -> dict | None:
    """How many labels the release shipped that reviewers have not yet re-checked: a
    consumer deciding whether to train on a release reads this, not the queue."""
    if metrics is None:
        return None
    return {
        "checked": int(metrics["in"]),
        "flagged": int(metrics["flagged"]),
        "levels": {
            level: {k: int(m[k]) for k in ("checked", "classes", "flagged")}
            for level, m in sorted(metrics.get("levels", {}).items())
        },
    }


def preference_counts(metrics: dict | None) -> dict | None:
    """DPO pairs and KTO examples per split: the preference set ships with the release."""
    if metrics is None:
        return None
    return {
        "pairs": {split: int(n) for split, n in sorted(metrics.get("pairs", {}).items())},
        "kto": {
            split: {k: int(v) for k, v in sorted(tags.items())}
            for split, tags in sorted(metrics.get("kto", {}).items())
        },
    }


def manifest_errors(root: Path, manifest: dict) -> list[str]:
    from ftdata.schemas import validator

    schema_dir = Path(root) / "schemas"
    if not (schema_dir / MANIFEST_SCHEMA).is_file():
        schema_dir = Path(__file__).resolve().parents[1] / "schemas"
    errs = validator(MANIFEST_SCHEMA, str(schema_dir)).iter_errors(manifest)
    return [
        f"{e.json_path}: {e.message}"
        for e in sorted(errs, key=lambda e: list(map(str, e.absolute_path)))
    ]


# ------------------------------------------------------------------ texts
def _splits_text(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts["splits"].items())


def tag_message(manifest: dict, changes: dict | None = None, previous: str | None = None) -> str:
    """The annotated tag's message: the manifest in a few lines a `git show` reader can scan."""
    c = manifest["counts"]
    lines = [
        f"{manifest['tag']}: {manifest['message']}",
        "",
        f"dataset {manifest['dataset']}, built at commit {manifest['git_commit'][:12]}, params {manifest['params_hash']}",
        f"records: {c['raw_records']} raw -> {c['exported_records']} exported ({_splits_text(c)})",
    ]
    rejected = manifest["metrics"]["rejected_by_reason"]
    if rejected:
        lines.append(
            "rejected: "
            + ", ".join(f"{r} {n}" for r, n in sorted(rejected.items(), key=lambda kv: -kv[1]))
        )
    lines.append("sources:")
    for name, src in manifest["sources"].items():
        lines.append(
            f"  {name}: {src['path']} md5 {src['raw']['md5'][:12]} license {src['license']} owner {src['owner']}"
        )
    if manifest.get("guidelines"):
        lines.append(
            "guidelines: "
            + ", ".join(f"{p} v{g['version'] or '?'}" for p, g in manifest["guidelines"].items())
        )
    if manifest.get("taxonomy"):
        lines.append(f"taxonomy: v{manifest['taxonomy']['version'] or '?'}")
    if manifest.get("tokens"):
        lines.append(f"tokens: {manifest['tokens']['total']} ({manifest['tokens']['tokenizer']})")
    if manifest.get("label_issues"):
        issues = manifest["label_issues"]
        lines.append(
            f"label issues: {issues['flagged']} of {issues['checked']} labels flagged for review"
        )
    if manifest.get("preference"):
        lines.append(f"preference pairs: {sum(manifest['preference']['pairs'].values())}")
    if changes and previous:
        lines.append(f"since {previous}: {_changes_text(changes)}")
    lines.append(f"manifest: {MANIFEST.as_posix()}")
    return "\n".join(lines) + "\n"


def _changes_text(changes: dict) -> str:
    c = changes["counts"]
    text = f"+{c['added']} added, -{c['removed']} removed, {c['changed']} changed records"
    reasons = {
        r: v["newly_rejected"] for r, v in changes["by_reason"].items() if v.get("newly_rejected")
    }
    if reasons:
        text += "; newly rejected: " + ", ".join(
            f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])
        )
    added_by_source = {s: v["added"] for s, v in changes["by_source"].items() if v.get("added")}
    if added_by_source:
        text += "; added by source: " + ", ".join(
            f"{s} {n}" for s, n in sorted(added_by_source.items())
        )
    return text


def changelog_entry(
    manifest: dict, changes: dict | None = None, previous: str | None = None
) -> str:
    c = manifest["counts"]
    lines = [
        f"## {manifest['tag']} ({manifest['git_commit_date'][:10]})",
        "",
        manifest["message"],
        "",
        f"- {c['exported_records']} records exported of {c['raw_records']} raw ({_splits_text(c)}); "
        f"params `{manifest['params_hash']}`; built at `{manifest['git_commit'][:12]}`",
        "- sources: " + ", ".join(f"{n} ({s['license']})" for n, s in manifest["sources"].items()),
    ]
    if manifest.get("guidelines"):
        lines.append(
            "- guidelines: "
            + ", ".join(
                f"{p} {g['version'] or '(no version)'}" for p, g in manifest["guidelines"].items()
            )
        )
    if changes and previous:
        lines.append(f"- since {previous}: {_changes_text(changes)}")
    return "\n".join(lines) + "\n"


def add_to_changelog(path: Path, entry: str) -> str:
    """The changelog with ``entry`` inserted above older entries (newest first)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else CHANGELOG_HEADER
    marker = text.find("\n## ")
    if marker < 0:
        return text.rstrip("\n") + "\n\n" + entry
    return text[: marker + 1] + entry + "\n" + text[marker + 1 :]


# ------------------------------------------------------------------ release
def gto_tag_names(root: Path, version: str) -> list[str]:
    """GTO's registration tags ``<artifact>@vX.Y.0`` for the artifacts declared in dvc.yaml."""
    artifacts = (_load_yaml(root / "dvc.yaml") or {}).get("artifacts") or {}
    return [f"{name}@v{version}.0" for name in sorted(artifacts)]


def _record_changes(root: Path, previous: str | None) -> dict | None:
    """The record diff since the previous release, or None when its data cannot be read."""
    if previous is None:
        return None
    from ftdata.diff import diff_revisions

    try:
        return diff_revisions(root, previous, WORKSPACE, limit=1).as_dict()
    except FtdataError:
        return None


def release(
    root: str | Path, version: str, message: str, *, gto: bool = False, push: bool = True
) -> ReleaseResult:
    """Check, push, write manifest + changelog, commit them, and tag ``data_v<version>``.

    Push comes before anything is written, so a failed push leaves the
    repository as it was. The manifest's ``git_commit`` is the built commit;
    the tag points at the commit that adds the manifest on top of it.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    root = Path(root).resolve()
    tag = check_version(version)
    message = message.strip()
    if not message:
        raise ConfigError("release message is empty; say what changed with -m")
    problems = preflight(root, version, push=push, gto=gto)
    if problems:
        raise ReleaseRefused(f"refusing to release {tag}:\n  - " + "\n  - ".join(problems))

    remote = default_remote(root) if push else None
    manifest = build_manifest(root, version, message, remote)
    errors = manifest_errors(root, manifest)
    if errors:
        raise ReleaseRefused(
            f"{MANIFEST}: does not match schemas/{MANIFEST_SCHEMA}: " + "; ".join(errors[:5])
        )
    previous = previous_release(root, tag)
    changes = _record_changes(root, previous)

    pushed = 0
    if push:
        try:
            with Repo(str(root)) as repo:
                pushed = repo.push()
        except DvcException as err:
            raise ReleaseRefused(
                f"`dvc push` to remote {remote['name']} ({remote['url']}) failed: {err}"
            ) from None

    write_json(root / MANIFEST, manifest)
    write_text(
        root / CHANGELOG,
        add_to_changelog(root / CHANGELOG, changelog_entry(manifest, changes, previous)),
    )
    git(root, "add", "--", MANIFEST.as_posix(), CHANGELOG.as_posix())
    git(
        root,
        "commit",
        "-q",
        "-m",
        f"Release {tag}: {message}",
        "--",
        MANIFEST.as_posix(),
        CHANGELOG.as_posix(),
    )
    git(root, "tag", "-a", tag, "-m", tag_message(manifest, changes, previous))
    gto_tags = []
    if gto:
        for name in gto_tag_names(root, version):
            git(
                root,
                "tag",
                "-a",
                name,
                "-m",
                f"Registering artifact {name.split('@')[0]} version v{version}.0 ({tag})",
            )
            gto_tags.append(name)
    return ReleaseResult(
        version=version,
        tag=tag,
        commit=git(root, "rev-parse", "HEAD"),
        manifest_path=MANIFEST.as_posix(),
        manifest=manifest,
        remote=remote or {},
        pushed=int(pushed or 0),
        gto_tags=gto_tags,
        previous=previous,
        changes=changes,
    )


def previous_release(root: Path, tag: str) -> str | None:
    """The newest release tag older than ``tag``."""
    older = [t for t in release_tags(root) if _version_key(t) < _version_key(tag)]
    return older[-1] if older else None


def _version_key(tag: str) -> tuple[int, int]:
    m = RELEASE_TAG.match(tag)
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


def release_markdown(result: ReleaseResult) -> str:
    m = result.manifest
    lines = [
        f"## Released {result.tag}",
        "",
        f"- commit `{result.commit[:12]}` (data built at `{m['git_commit'][:12]}`), params `{m['params_hash']}`",
        f"- {m['counts']['exported_records']} records exported ({_splits_text(m['counts'])}) of {m['counts']['raw_records']} raw",
        f"- manifest: `{result.manifest_path}`; changelog: `{CHANGELOG}`",
    ]
    if result.remote:
        lines.append(
            f"- pushed {result.pushed} file(s) to DVC remote `{result.remote['name']}` ({result.remote['url']})"
        )
    if result.gto_tags:
        lines.append("- GTO tags: " + ", ".join(f"`{t}`" for t in result.gto_tags))
    if result.changes and result.previous:
        lines.append(f"- since {result.previous}: {_changes_text(result.changes)}")
    # The build (report, card) comes before the release that tags it, so its release
    # section can only show the one before; say so where the user cuts the release.
    lines.append(
        f"- the report and dataset card in this release were built before it: their release "
        f"section shows {result.previous or 'no release (this is the first)'}; {result.tag}'s "
        f"manifest is `git show {result.tag}:{result.manifest_path}`"
    )
    lines.append(
        f"- publish: `git push origin {result.tag}"
        + "".join(f" {t}" for t in result.gto_tags)
        + "` (and the branch)"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # `python -m ftdata.release --ensure-remote` (the Makefile's `remote` target).
    if sys.argv[1:] == ["--ensure-remote"]:
        info = ensure_default_remote(Path("."))
        state = "configured" if info["created"] else "already set"
        print(f"default DVC remote {info['name']} -> {info['url']} ({state})")
    else:
        print("usage: python -m ftdata.release --ensure-remote", file=sys.stderr)
        sys.exit(2)
