"""The engine's layering holds: no import cycle, no upward import, no borrowed private name.

The layers are declared once, in pyproject.toml (``[tool.importlinter]``), and
checked here with import-linter, so a new import that points up a layer fails the
suite instead of quietly growing a cycle (the one this replaced spanned 23 modules).
"""

from __future__ import annotations

import ast
import graphlib
import os
import subprocess
import sys
from pathlib import Path

from ftdata import codedeps

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_import_linter_contracts_are_kept():
    proc = subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_module_imports_itself_back():
    """Imports inside functions count (grimp's graph, as for the stage code deps)."""
    graph = codedeps.import_graph(ROOT)
    sorter = graphlib.TopologicalSorter({m: set(deps) for m, deps in graph.imports.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(reversed(err.args[1]))}") from None


def test_no_module_imports_a_private_name_of_another():
    borrowed = []
    for package in ("ftdata", "stages"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                if node.module.split(".")[0] not in ("ftdata", "stages"):
                    continue
                names = [a.name for a in node.names if a.name.startswith("_")]
                if names:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    borrowed.append(f"{where} from {node.module} import {', '.join(names)}")
    assert borrowed == []
