"""pyproject.toml's licence is an SPDX expression (PEP 639), not the TOML table setuptools
deprecates (`project.license` as a table warns on every `pip install`), and the build backend
is a setuptools that understands the expression."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import ROOT


def test_project_license_is_an_spdx_expression_with_a_backend_that_reads_it():
    licenses = pytest.importorskip("packaging.licenses")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    license_ = pyproject["project"]["license"]
    assert isinstance(license_, str), "project.license as a table is deprecated: use an SPDX string"
    assert licenses.canonicalize_license_expression(license_) == license_
    # A licence expression with a License :: classifier is an error for setuptools.
    assert not any(c.startswith("License ::") for c in pyproject["project"].get("classifiers", []))
    setuptools = next(
        r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")
    )
    minimum = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert minimum and int(minimum.group(1)) >= 77  # PEP 639 support came in setuptools 77
