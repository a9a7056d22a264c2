"""Crashes and concurrency: SIGKILL mid-write leaves no partial output; DVC's lock stops a second repro.

Real `dvc repro` on a copy of the session's built example project. The clean
stage is the victim: its RecordWriter streams parquet into a hidden temp file
beside data/interim/clean.parquet for about a second. The test waits until
that temp file holds bytes, freezes the stage there (SIGSTOP, so nothing is
left to timing), starts a second `dvc repro`, then SIGKILLs the stage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import BIN, copy_built, run

pytestmark = pytest.mark.e2e

CLEAN_OUT = "data/interim/clean.parquet"
CLEAN_TEMP = ".clean.parquet.*.tmp"  # ftdata.io.atomic_path's temp file beside the out
# DVC releases its repo lock while a stage command runs, so a second repro gets in,
# finds the finished stages up to date and stops at the running stage's read/write lock:
# "ERROR: failed to reproduce 'clean': '.../data/interim/clean.parquet' is busy, it is being
# blocked by: (PID n): dvc repro ...". Between two stages it is "Unable to acquire lock".
LOCK_MESSAGES = ("is busy, it is being blocked by", "Unable to acquire lock")
FORCE_CLEAN = ["dvc", "repro", "--force", "--no-run-cache", "--single-item", "clean"]


def _env() -> dict:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("FTDATA_ROOT", None)
    return env


def _start(cmd: list[str], project: Path, name: str) -> subprocess.Popen:
    """Start ``cmd`` in its own session with output to files (an unread pipe could block it)."""
    logs = (project.parent / f"{name}.out", project.parent / f"{name}.err")
    with open(logs[0], "w") as out, open(logs[1], "w") as err:
        proc = subprocess.Popen(
            cmd, cwd=project, stdout=out, stderr=err, env=_env(), start_new_session=True
        )
    proc.logs = logs  # type: ignore[attr-defined]
    return proc


def _finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    code = proc.wait(timeout=timeout)
    return code, "".join(p.read_text(encoding="utf-8", errors="replace") for p in proc.logs)


def _stage_pid(session: int, module: str) -> int | None:
    """The python process running ``-m <module>`` in ``session`` (DVC starts it through a shell)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"-m" in argv and module.encode() in argv and os.getsid(int(entry.name)) == session:
                return int(entry.name)
        except (OSError, ProcessLookupError):
            continue
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _freeze_mid_write(proc: subprocess.Popen, project: Path, timeout: float = 300) -> int:
    """Wait until stages.clean has written bytes into its temp output, SIGSTOP it, return its pid."""
    deadline = time.monotonic() + timeout
    folder = project / "data/interim"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended before its write could be caught:\n{_finish(proc)[1]}")
        if any(_size(p) > 0 for p in folder.glob(CLEAN_TEMP)):
            pid = _stage_pid(proc.pid, "stages.clean")
            if pid is not None:
                os.kill(pid, signal.SIGSTOP)
                if any(_size(p) > 0 for p in folder.glob(CLEAN_TEMP)):  # not finished meanwhile
                    return pid
                os.kill(pid, signal.SIGCONT)
        time.sleep(0.002)
    pytest.fail(f"stages.clean did not start writing within {timeout}s")


def _build_outs(project: Path) -> dict[str, str]:
    """md5 of every stage out in dvc.lock, except persistent caches (not build products)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text(encoding="utf-8"))
    return {
        o["path"]: o["md5"]
        for stage in lock["stages"].values()
        for o in stage.get("outs", [])
        if not o["path"].startswith("data/cache")
    }


def _temps(project: Path) -> list[str]:
    return sorted(str(p.relative_to(project)) for p in (project / "data").rglob(".*.tmp"))


def _snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """Every file (size, mtime) but DVC's own scratch space (.dvc/tmp) and git internals."""
    skip = (project / ".dvc/tmp", project / ".git")
    return {
        str(p.relative_to(project)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in project.rglob("*")
        if p.is_file() and not any(p.is_relative_to(s) for s in skip)
    }


def _complete_parquet(path: Path) -> bool:
    try:
        pq.ParquetFile(path)
    except Exception:  # noqa: BLE001 - any failure to open means "not a complete parquet file"
        return False
    return True


@pytest.fixture(scope="module")
def crash(built_project, tmp_path_factory) -> dict:
    """Kill the clean stage of a real `dvc repro` mid-write, with a second repro tried meanwhile."""
    project = tmp_path_factory.mktemp("crash") / "project"
    copy_built(built_project, project)
    if "up to date" not in run(["dvc", "status"], project).stdout:
        run(["dvc", "repro"], project)
    seen: dict = {"project": project, "reference": _build_outs(project)}

    first = _start(FORCE_CLEAN, project, "first")
    pid = _freeze_mid_write(first, project)
    try:
        before = _snapshot(project)
        started = time.monotonic()
        seen["second"] = subprocess.run(
            ["dvc", "repro"], cwd=project, env=_env(), capture_output=True, text=True, timeout=300
        )
        seen["second_seconds"] = time.monotonic() - started
        after = _snapshot(project)
        seen["changed_by_second"] = sorted(
            p for p in before.keys() | after.keys() if before.get(p) != after.get(p)
        )
    finally:
        os.kill(pid, signal.SIGKILL)  # never leave a stopped process behind
    seen["first_code"], seen["first_output"] = _finish(first)
    temps = sorted((project / "data/interim").glob(CLEAN_TEMP))
    seen["after_kill"] = {
        "out_exists": (project / CLEAN_OUT).exists(),
        "temps": [t.name for t in temps],
        "temps_complete": [_complete_parquet(t) for t in temps],
        "git_status": run(["git", "status", "--porcelain", "--ignored=no"], project).stdout,
    }
    recovery = run(["dvc", "repro"], project)
    seen["recovery_output"] = recovery.stdout
    seen["outs_after_recovery"] = _build_outs(project)
    seen["status_after_recovery"] = run(["dvc", "status"], project).stdout
    seen["temps_after_recovery"] = _temps(project)
    return seen


def test_sigkill_mid_write_leaves_no_output_at_the_out_path(crash):
    after = crash["after_kill"]
    assert crash["first_code"] != 0
    assert "failed to reproduce 'clean'" in crash["first_output"]
    # DVC removed the previous out before running the stage; the killed writer never renamed
    # its temp file into place, so there is no file at the out path, partial or otherwise.
    assert not after["out_exists"]
    # What is left is the killed writer's hidden temp file: a truncated parquet file (which
    # shows the kill came mid-write) that git does not list and no DVC out points at.
    assert len(after["temps"]) == 1 and after["temps"][0].startswith(".clean.parquet.")
    assert after["temps_complete"] == [False]
    assert ".tmp" not in after["git_status"]


def test_a_second_repro_during_a_first_gets_the_lock_message_and_changes_nothing(crash):
    second = crash["second"]
    assert second.returncode != 0
    assert any(message in second.stderr for message in LOCK_MESSAGES), second.stderr
    assert "Running stage" not in second.stdout and "Updating lock file" not in second.stdout
    assert crash["changed_by_second"] == []
    assert crash["second_seconds"] < 120


def test_the_next_repro_succeeds_with_the_results_of_a_clean_build(crash):
    assert crash["outs_after_recovery"] == crash["reference"]
    assert "up to date" in crash["status_after_recovery"]


def test_the_stage_s_next_run_removes_the_killed_writers_temp_file(crash):
    project = crash["project"]
    # `dvc repro` above may have restored clean from DVC's run cache without running it;
    # the temp file goes the next time the stage itself runs.
    run(FORCE_CLEAN, project)
    assert _temps(project) == []
    assert _build_outs(project) == crash["reference"]


def test_a_stage_killed_outside_dvc_keeps_the_previous_output(crash):
    project = crash["project"]
    before = (project / CLEAN_OUT).read_bytes()
    proc = _start([str(BIN / "python"), "-m", "stages.clean"], project, "direct")
    pid = _freeze_mid_write(proc, project)
    os.kill(pid, signal.SIGKILL)
    assert _finish(proc)[0] == -signal.SIGKILL
    assert (project / CLEAN_OUT).read_bytes() == before
    assert "up to date" in run(["dvc", "status"], project).stdout
    run([str(BIN / "python"), "-m", "stages.clean"], project)
    assert (project / CLEAN_OUT).read_bytes() == before
    assert _temps(project) == []
