"""`ftdata compose` through the real CLI: a hostile conf is one line on stderr and exit 2."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run

pytestmark = pytest.mark.e2e

CASES = {
    "unclosed_brace": ("conf/quality/default.yaml", "min_len: {8\n", []),
    "tab": ("conf/quality/default.yaml", "\tmin_len: 8\n", []),
    "missing_colon": ("conf/quality/default.yaml", "min_len 8\nmax_len: 9\n", []),
    "python_tag": ("conf/quality/default.yaml", 'x: !!python/object/apply:os.system ["id"]\n', []),
    "python_name": ("conf/quality/default.yaml", "x: !!python/name:os.system\n", []),
    "unknown_resolver": ("conf/quality/default.yaml", 'x: "${python:os.getcwd}"\n', []),
    "oc_env": ("conf/export/default.yaml", 'note: "${oc.env:OPENAI_API_KEY}"\n', []),
    "now": ("conf/export/default.yaml", 'note: "${now:%H}"\n', []),
    "bad_licence": ("conf/source/crowd_qa.yaml", "", []),
    "misspelt_override": (None, "", ["quality.min_charz=12"]),
    "clock_override": (None, "", ["quality.min_chars=${now:%s}"]),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("check", [False, True], ids=["compose", "compose_check"])
def test_hostile_conf_is_one_line_and_exit_2_through_the_cli(project, case, check):
    rel, text, overrides = CASES[case]
    if check:  # --check compares against a params.yaml; it must never rewrite it
        shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    before = (project / "params.yaml").read_bytes() if check else None
    if case == "bad_licence":
        path = project / rel
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "license: vendor-agreement-2024-017", "license: internal"
            ),
            encoding="utf-8",
        )
    elif rel:
        with open(project / rel, "a", encoding="utf-8") as fh:
            fh.write(text)
    cmd = ["ftdata", "compose", *(["--check"] if check else []), "--root", str(project)]
    proc = run([*cmd, *overrides], project, check=False, env={"COLUMNS": "1000"})
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    if rel:
        assert lines[0].startswith(f"error: {rel}:"), lines[0]
    else:
        assert lines[0].startswith(f"error: override '{overrides[0]}':"), lines[0]
    if check:
        assert (project / "params.yaml").read_bytes() == before
    else:
        assert not (project / "params.yaml").exists()


def test_an_alias_bomb_is_refused_by_the_cli_within_seconds(project):
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (project / "conf/quality/bomb.yaml").write_text(bomb, encoding="utf-8")
    start = time.perf_counter()
    proc = run(["ftdata", "compose", "--root", str(project)], project, check=False)
    assert proc.returncode == 2 and "alias bomb" in proc.stderr
    assert time.perf_counter() - start < 30  # a whole CLI start; the check itself is < 1 s
