"""Stage code deps in dvc.yaml are the stage's import closure (ftdata/codedeps.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from ftdata import codedeps
from ftdata.codedeps import ImportGraph, closure, code_deps, rewrite
from tests.conftest import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return codedeps.import_graph(ROOT)


def test_dvc_yaml_code_deps_equal_the_import_closures():
    """The drift guard: run `ftdata deps --write` after adding an import."""
    assert codedeps.differences(ROOT) == []


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


def _toy(imports: dict[str, set[str]], packages: set[str]) -> ImportGraph:
    files = {m: m.replace(".", "/") + ("/__init__.py" if m in packages else ".py") for m in imports}
    return ImportGraph(
        imports={m: frozenset(v) for m, v in imports.items()},
        files=files,
        packages=frozenset(packages),
    )


TOY = _toy(
    {
        "stages": set(),
        "stages.a": {"ftdata.ops.x"},
        "stages.b": {"ftdata.util"},
        "ftdata": set(),
        "ftdata.util": set(),
        "ftdata.cli": set(),
        "ftdata.ops": {"ftdata.ops.x", "ftdata.ops.y"},  # the package registers its ops
        "ftdata.ops.x": set(),
        "ftdata.ops.y": {"ftdata.util"},
    },
    packages={"stages", "ftdata", "ftdata.ops"},
)


def test_importing_a_submodule_runs_its_packages_and_what_they_import():
    assert closure(TOY, "stages.a") == {
        "stages",
        "stages.a",
        "ftdata",
        "ftdata.ops",
        "ftdata.ops.x",
        "ftdata.ops.y",
        "ftdata.util",
    }
    assert "ftdata.ops.y" not in closure(TOY, "stages.b")


def test_a_package_wholly_needed_is_one_folder_dep_and_top_level_packages_never_are():
    assert code_deps(TOY, "stages.a") == [
        "stages/a.py",
        "ftdata/__init__.py",
        "ftdata/ops",
        "ftdata/util.py",
        "stages/__init__.py",
    ]


DVC_YAML = """\
# header comment
stages:
  ingest:
    foreach: ${source}
    do:
      cmd: python -m stages.a ${key}
      deps:
        - ${item.path}
        - stages/a.py
        - ftdata/gone.py  # stale
      params:
        - ingest
  # a comment between stages
  b:
    cmd: python -m stages.b
    deps:
      - data/in.parquet
      - ftdata/util.py  # why it is needed
      - schemas/x.json
      - stages/b.py
    outs:
      - data/out.parquet:
          cache: false
  other:
    cmd: echo no stage module
    deps:
      - ftdata/cli.py
plots:
  - x:
      y:
        data/p.json: step
"""


def test_rewrite_replaces_only_code_deps_and_keeps_comments_data_deps_and_order():
    wanted = {"ingest": code_deps(TOY, "stages.a"), "b": code_deps(TOY, "stages.b")}
    new = rewrite(DVC_YAML, wanted)
    assert new == DVC_YAML.replace(
        """        - stages/a.py
        - ftdata/gone.py  # stale
""",
        f"""        - stages/a.py  {codedeps.ENTRY_NOTE}
        - ftdata/__init__.py
        - ftdata/ops
        - ftdata/util.py
        - stages/__init__.py
""",
    ).replace(
        """      - ftdata/util.py  # why it is needed
      - schemas/x.json
      - stages/b.py
""",
        f"""      - stages/b.py  {codedeps.ENTRY_NOTE}
      - ftdata/__init__.py
      - ftdata/util.py  # why it is needed
      - stages/__init__.py
      - schemas/x.json
""",
    )
    assert codedeps.declared(new) == wanted
    assert yaml.safe_load(new)["stages"]["other"]["deps"] == ["ftdata/cli.py"]
    assert rewrite(new, wanted) == new


def _engine_copy(dest: Path) -> Path:
    for part in ("ftdata", "stages"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "dvc.yaml", dest / "dvc.yaml")
    return dest


def test_deps_check_names_a_dropped_dep_and_write_restores_it(tmp_path):
    project = _engine_copy(tmp_path)
    original = (project / "dvc.yaml").read_text(encoding="utf-8")
    quality = original.index("python -m stages.quality")
    dropped = original.index("      - ftdata/ops\n", quality)
    (project / "dvc.yaml").write_text(
        original[:dropped] + original[dropped + len("      - ftdata/ops\n") :], encoding="utf-8"
    )
    env = {"PYTHONPATH": str(project)}
    check = run(["ftdata", "deps", "--check"], project, check=False, env=env)
    assert check.returncode == 1
    assert "dvc.yaml: quality: missing ftdata/ops" in check.stderr
    assert check.stderr.count("missing") == 1

    wrote = run(["ftdata", "deps", "--write"], project, env=env)
    assert "quality" in wrote.stdout
    assert (project / "dvc.yaml").read_text(encoding="utf-8") == original
    assert run(["ftdata", "deps", "--check"], project, env=env).returncode == 0


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
    module = STAGE_MODULES[stage]
    probe = (
        f"import sys, {module}; "
        "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in ('ftdata', 'stages')))"
    )
    proc = run([sys.executable, "-c", probe], ROOT, env={"PYTHONPATH": str(ROOT)})
    loaded = set(proc.stdout.split())
    assert module in loaded
    assert loaded <= closure(graph, module)
