"""A write killed at any step leaves the old or the complete new output, and the rerun succeeds.

Each case forks a real child process that runs ``atomic_dir`` / ``atomic_path``
and SIGKILLs itself at the k-th filesystem step (fsync, rename, replace,
exchange, rmtree), for every k until the child gets through: no ``finally`` or
``except`` runs, as in a real kill. A power cut cannot be simulated here; the
fsync order (files, then their folder, before the rename; the parent after) is
checked separately by recording what each fsync was called on.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

import ftdata.io as fio

OLD = {"train.jsonl": b'{"old": 1}\n', "val.jsonl": b"", "sub/info.json": b'{"v": "old"}'}
NEW = {"train.jsonl": b'{"new": 1}\n{"new": 2}\n', "test.jsonl": b"x", "sub/info.json": b"{}"}
NEXT = {"train.jsonl": b'{"next": 1}\n'}


def _tree(path: Path) -> dict[str, bytes] | None:
    if not path.exists():
        return None
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _plant(path: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)


def _run_killed_at(kill_at: int, work, *, exchange: bool = True) -> bool:
    """Run ``work()`` in a forked child that SIGKILLs itself at its ``kill_at``-th
    filesystem step; True if it was killed, False if it finished first."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            steps = [0]

            def counted(func):
                def step(*args, **kwargs):
                    steps[0] += 1
                    if steps[0] == kill_at:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return func(*args, **kwargs)

                return step

            os.fsync = counted(os.fsync)
            os.rename = counted(os.rename)
            os.replace = counted(os.replace)
            shutil.rmtree = counted(shutil.rmtree)
            fio._exchange = counted(fio._exchange) if exchange else (lambda a, b: False)
            work()
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the child failed without being killed"
    return False


def _leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


def _write_new(target: Path):
    def work():
        with fio.atomic_dir(target) as tmp:
            _plant(tmp, NEW)

    return work


def _crash_every_step(tmp_path: Path, old: dict | None, *, exchange: bool) -> int:
    """Kill the swap at each step in turn; return how many steps there were."""
    kill_at = 1
    while True:
        case = tmp_path / f"k{kill_at}"
        target = case / "openai"
        case.mkdir()
        if old is not None:
            target.mkdir()
            _plant(target, old)
        killed = _run_killed_at(kill_at, _write_new(target), exchange=exchange)
        after_crash = _tree(target)
        if exchange or old is None:
            # One atomic exchange (or a first rename): the target is never missing or mixed.
            assert after_crash in (old, NEW), f"killed at step {kill_at}: {after_crash}"
        else:
            # Moved aside and not yet replaced: the old folder waits at .openai.old.tmp.
            assert after_crash in (old, NEW, None), f"killed at step {kill_at}: {after_crash}"
            if after_crash is None:
                assert _tree(case / ".openai.old.tmp") == old
        # What the stage's next run does first: recover, then clean leftovers.
        fio.remove_stale_temps(target)
        assert _tree(target) in (old, NEW), f"killed at step {kill_at}, after recovery"
        assert _leftovers(target) == [], f"killed at step {kill_at}: {_leftovers(target)}"
        with fio.atomic_dir(target) as tmp:
            _plant(tmp, NEXT)
        assert _tree(target) == NEXT and _leftovers(target) == []
        if not killed:
            assert after_crash == NEW
            return kill_at - 1
        kill_at += 1


@pytest.mark.skipif(fio._renameat2() is None, reason="renameat2 is Linux-only")
def test_a_swap_killed_at_any_step_leaves_the_old_or_the_new_folder_at_the_target(tmp_path):
    steps = _crash_every_step(tmp_path, OLD, exchange=True)
    # fsync of 3 files and 2 folders, the exchange, the parent fsync, the rmtree of the old one
    assert steps == 8


def test_without_rename_exchange_a_cut_short_swap_is_put_back_by_the_next_run(tmp_path):
    steps = _crash_every_step(tmp_path, OLD, exchange=False)
    assert steps == 9  # two renames where the exchange is one step


def test_a_first_build_killed_at_any_step_leaves_no_folder_or_the_new_one(tmp_path):
    assert _crash_every_step(tmp_path, None, exchange=True) == 7  # 5 fsyncs, rename, fsync


def test_a_kill_while_the_folder_is_being_written_keeps_the_old_one(tmp_path):
    target = tmp_path / "openai"
    target.mkdir()
    _plant(target, OLD)

    def work():
        with fio.atomic_dir(target) as tmp:
            (tmp / "train.jsonl").write_bytes(b'{"half": ')
            os.kill(os.getpid(), signal.SIGKILL)

    assert _run_killed_at(0, work)
    assert _tree(target) == OLD and len(_leftovers(target)) == 1  # the killed run's temp
    fio.remove_stale_temps(target)
    assert _tree(target) == OLD and _leftovers(target) == []


def test_a_file_write_killed_at_any_step_leaves_the_old_or_the_new_file(tmp_path):
    kill_at = 1
    while True:
        target = tmp_path / f"k{kill_at}" / "clean.parquet"
        target.parent.mkdir()
        target.write_bytes(b"old")

        def work(target=target):
            with fio.atomic_path(target) as tmp:
                tmp.write_bytes(b"new and longer")

        killed = _run_killed_at(kill_at, work)
        assert target.read_bytes() in (b"old", b"new and longer")
        fio.remove_stale_temps(target)
        assert _leftovers(target) == []
        if not killed:
            break
        kill_at += 1
    assert kill_at - 1 == 3  # fsync of the file, the replace, fsync of the folder


def _record_fsyncs(monkeypatch) -> list[str]:
    """What each fsync and rename is called on, in order."""
    events: list[str] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd):
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(
        os, "replace", lambda a, b: (events.append(f"rename {a}"), real_replace(a, b))[1]
    )
    monkeypatch.setattr(
        os, "rename", lambda a, b: (events.append(f"rename {a}"), real_rename(a, b))[1]
    )
    real_exchange = fio._exchange
    monkeypatch.setattr(
        fio, "_exchange", lambda a, b: (events.append(f"rename {a}"), real_exchange(a, b))[1]
    )
    return events


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_files_and_folders_are_fsynced_before_they_are_renamed_and_the_parent_after(
    tmp_path, monkeypatch
):
    events = _record_fsyncs(monkeypatch)
    with fio.atomic_path(tmp_path / "m.json") as tmp:
        tmp.write_text("{}")
    assert events == [f"fsync {tmp}", f"rename {tmp}", f"fsync {tmp_path}"]

    events.clear()
    (tmp_path / "openai").mkdir()
    with fio.atomic_dir(tmp_path / "openai") as tmp:
        _plant(tmp, NEW)
    renamed = events.index(f"rename {tmp}")
    before, after = events[:renamed], events[renamed + 1 :]
    for name in NEW:
        assert f"fsync {tmp / name}" in before
    assert f"fsync {tmp / 'sub'}" in before and before[-1] == f"fsync {tmp}"
    assert after == [f"fsync {tmp_path}"]
