"""Shared fixtures: a copy of this project in a temporary git + DVC repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _clone_files() -> list[str]:
    """What a clean clone holds: tracked files plus new, not-ignored ones (work in progress).

    Ignored paths (.venv, .dvc/cache, build outputs) stay behind, so a test build
    never reuses this workspace's DVC cache or run cache.
    """
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    # The suite and the benchmarks are not part of a dataset project's build.
    skip = ("tests/", "bench/")
    files = out.decode().split("\0")
    return sorted({p for p in files if p and not p.startswith(skip) and (ROOT / p).is_file()})


def run(
    cmd: list[str], cwd: Path, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    full_env.pop("FTDATA_ROOT", None)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def copy_project(dest: Path) -> Path:
    """Copy the project as a fresh clone would have it, and commit it in a new git repo."""
    for rel in _clone_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    for stale in ("data/metrics", "dvc.lock"):
        target = dest / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["git", "config", "user.email", "test@ftdata.invalid"], dest)
    run(["git", "config", "user.name", "ftdata tests"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-q", "-m", "project"], dest)
    return dest


def copy_built(built: Path, dest: Path) -> Path:
    """A private copy of a built project (git history, DVC cache and per-record caches
    included), reset to its last commit whatever earlier tests did to the original.

    Starting from it instead of a fresh copy means a test's own change reruns only
    the stages it touches: a full build is the slowest thing in the suite.
    """
    shutil.copytree(built, dest, symlinks=True)
    run(["git", "reset", "-q", "--hard"], dest)
    run(["dvc", "checkout", "--force"], dest)
    return dest


def build(project: Path) -> subprocess.CompletedProcess:
    run(["ftdata", "compose"], project)
    return run(["dvc", "repro"], project)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """The example dataset built once with a real `dvc repro` (shared by the e2e tests)."""
    project = copy_project(tmp_path_factory.mktemp("built") / "project")
    build(project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "build"], project)
    return project
