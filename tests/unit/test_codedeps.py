"""Each stage's code identity is a hash of its import closure (ftdata/codedeps.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from ftdata import codedeps
from ftdata.codedeps import ImportGraph, closure, fingerprint
from tests.conftest import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return codedeps.import_graph(ROOT)


def test_every_stage_lists_its_code_line_and_no_code_file():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert codedeps.wiring_problems(text) == []
    assert len(codedeps.stage_modules(text)) >= 12


def test_the_committed_code_identities_are_the_code_s():
    """The drift guard, as dvc.lock's: `make repro` (ftdata compose) rewrites stages/code.yaml."""
    assert codedeps.stale(ROOT) is None


def test_quality_depends_on_the_modules_that_compute_its_scores(graph):
    needed = closure(graph, "stages.quality")
    assert {"ftdata.ops.quality", "ftdata.text.lang", "ftdata.text.readability"} <= needed


def test_imports_inside_functions_are_followed_and_type_checking_ones_are_not(
    graph, tmp_path, monkeypatch
):
    pkg = tmp_path / "toypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("lazy", "typing_only", "plain"):
        (pkg / f"{name}.py").write_text("")
    (pkg / "user.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import toypkg.plain\n"
        "if TYPE_CHECKING:\n    from toypkg import typing_only\n"
        "def f():\n    from toypkg import lazy\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = codedeps._grimp_graph(("toypkg",)).find_modules_directly_imported_by("toypkg.user")
    assert found == {"toypkg.plain", "toypkg.lazy"}
    # and in the real code: ftdata/compose.py imports the op catalog only inside a function
    assert "ftdata.catalog" in graph.imports["ftdata.compose"]


def _toy(imports: dict[str, set[str]], sources: Path) -> ImportGraph:
    files = {}
    for module in imports:
        files[module] = sources / f"{module}.py"
        files[module].write_text(f"# {module}\n")
    return ImportGraph(imports={m: frozenset(v) for m, v in imports.items()}, files=files)


TOY_IMPORTS = {
    "stages": set(),
    "stages.a": {"ftdata.ops.x"},
    "stages.b": {"ftdata.util"},
    "ftdata": set(),
    "ftdata.util": set(),
    "ftdata.registry": set(),
    "ftdata.ops": {"ftdata.ops.x", "ftdata.ops.y"},  # the package registers its ops
    "ftdata.ops.x": set(),
    "ftdata.ops.y": {"ftdata.util", "ftdata.registry"},
}


@pytest.fixture
def toy(tmp_path) -> ImportGraph:
    return _toy(TOY_IMPORTS, tmp_path)


def test_importing_a_submodule_runs_its_packages_and_what_they_import(toy):
    assert closure(toy, "stages.a") == {
        "stages",
        "stages.a",
        "ftdata",
        "ftdata.ops",
        "ftdata.ops.x",
        "ftdata.ops.y",
        "ftdata.util",
        "ftdata.registry",
    }
    assert "ftdata.ops.y" not in closure(toy, "stages.b")


def test_an_edit_changes_the_fingerprint_of_exactly_the_stages_that_run_it(toy):
    before = {m: fingerprint(toy, m, []) for m in ("stages.a", "stages.b")}
    toy.files["ftdata.ops.y"].write_text("# edited\n")
    after = {m: fingerprint(toy, m, []) for m in ("stages.a", "stages.b")}
    assert after["stages.a"] != before["stages.a"]
    assert after["stages.b"] == before["stages.b"]
    toy.files["ftdata.util"].write_text("# edited\n")
    assert fingerprint(toy, "stages.b", []) != before["stages.b"]


def test_an_installed_plugin_counts_only_where_the_op_registry_runs(toy):
    plugin = ["squeeze=acme_ops:squeeze (acme-ops==1.2)"]
    upgraded = ["squeeze=acme_ops:squeeze (acme-ops==1.3)"]
    assert fingerprint(toy, "stages.a", plugin) != fingerprint(toy, "stages.a", upgraded)
    assert fingerprint(toy, "stages.b", plugin) == fingerprint(toy, "stages.b", upgraded)


DVC_YAML = """\
stages:
  ingest:
    foreach: ${source}
    do:
      cmd: python -m stages.ingest ${key}
      deps:
        - ${item.path}
      params:
        - stages/code.yaml: [ingest]
        - ingest
  b:
    cmd: python -m stages.b
    deps:
      - data/in.parquet
      - ftdata/util.py
    params:
      - b
  other:
    cmd: echo no stage module
"""


def test_wiring_problems_name_a_missing_code_line_and_a_hand_written_code_dep():
    assert codedeps.wiring_problems(DVC_YAML) == [
        "b: params must list `stages/code.yaml: [b]` (has [])",
        "b: code dep ftdata/util.py written by hand; stages/code.yaml covers it",
    ]


def _engine_copy(dest: Path) -> Path:
    for part in ("ftdata", "stages"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("dvc.yaml", "params.yaml"):
        shutil.copy2(ROOT / part, dest / part)
    return dest


def test_deps_check_names_the_stages_an_edit_reaches(tmp_path):
    project = _engine_copy(tmp_path)
    env = {"PYTHONPATH": str(project)}
    assert run(["ftdata", "deps", "--check"], project, env=env).returncode == 0
    with (project / "ftdata" / "stages" / "report.py").open("a") as f:
        f.write("# an edit\n")
    check = run(["ftdata", "deps", "--check"], project, check=False, env=env)
    assert check.returncode == 1
    assert "stale against the code (changed: report); run `ftdata compose`" in check.stderr
    shown = run(["ftdata", "deps", "report"], project, env=env).stdout
    assert "  ftdata/stages/report.py\n" in shown and "ftdata/stages/clean.py" not in shown


def test_a_module_outside_any_package_is_refused_not_skipped(tmp_path):
    project = _engine_copy(tmp_path)
    (project / "ftdata" / "annotate" / "__init__.py").unlink()
    proc = run(
        ["ftdata", "deps", "--check"], project, check=False, env={"PYTHONPATH": str(project)}
    )
    assert proc.returncode == 2
    assert "ftdata/annotate/" in proc.stderr and "add __init__.py" in proc.stderr
    assert "Traceback" not in proc.stderr


STAGE_MODULES = codedeps.stage_modules((ROOT / "dvc.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stage", sorted(STAGE_MODULES))
def test_every_project_module_a_stage_loads_on_import_is_in_its_closure(graph, stage):
    """A cross-check of the static graph against what Python really runs on import."""
    module = f"stages.{STAGE_MODULES[stage]}"
    probe = (
        f"import sys, {module}; "
        "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in ('ftdata', 'stages')))"
    )
    proc = run([sys.executable, "-c", probe], ROOT, env={"PYTHONPATH": str(ROOT)})
    loaded = set(proc.stdout.split())
    assert module in loaded
    assert loaded <= closure(graph, module)


def test_stages_using_a_module_name_each_item_of_a_foreach_stage(graph):
    sources = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["source"]
    shell = codedeps.stages_using(graph, ROOT, "ftdata.stage_run")
    assert {f"ingest@{s}" for s in sources} <= shell and "ingest" not in shell
    assert codedeps.stages_using(graph, ROOT, "ftdata.stages.report") == {"report"}
