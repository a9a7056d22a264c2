"""An engine edit, once composed, makes `dvc status` name exactly the stages whose import
closure holds it (their line in stages/code.yaml changed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftdata import codedeps
from tests.conftest import ROOT, copy_built, run

pytestmark = pytest.mark.e2e

# A score helper, one op, a module only some stages reach, a stage's own, its entry point.
EDITED = (
    "ftdata/text/readability.py",
    "ftdata/ops/dedup.py",
    "ftdata/evaluate.py",
    "ftdata/stages/report.py",
    "stages/report.py",
)


@pytest.fixture(scope="module")
def project(built_project, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("codedeps") / "project"
    copy_built(built_project, dest)
    return dest


def _changed_stages(project: Path) -> set[str]:
    return set(json.loads(run(["dvc", "status", "--json"], project).stdout or "{}"))


def _expected(module_file: str) -> set[str]:
    """Stage names as `dvc status` prints them (ingest@<source> for each source)."""
    module = module_file.removesuffix(".py").replace("/", ".")
    return codedeps.stages_using(codedeps.import_graph(ROOT), ROOT, module)


def test_an_engine_edit_reruns_exactly_the_stages_whose_closure_holds_it(project):
    assert _changed_stages(project) == set()  # the build is up to date
    for rel in EDITED:
        path = project / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n# an edit\n")
        expected = _expected(rel)
        assert expected, rel
        run(["ftdata", "compose"], project)
        assert _changed_stages(project) == expected, rel
        path.write_bytes(original)
        run(["ftdata", "compose"], project)
        assert _changed_stages(project) == set(), rel
    # the score helpers: quality (which lost them before) sees them
    assert "quality" in _expected("ftdata/text/readability.py")
    # a module only some stages import leaves the others alone
    assert not any(s.startswith("ingest@") for s in _expected("ftdata/evaluate.py"))
    assert _expected("stages/report.py") == _expected("ftdata/stages/report.py") == {"report"}
    # an op leaves the stages that run no op alone
    assert not {"report", "evaluate", "annotate"} & _expected("ftdata/ops/dedup.py")
    assert not any(s.startswith("ingest@") for s in _expected("ftdata/ops/dedup.py"))
