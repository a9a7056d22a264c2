"""`ftdata init` strips the engine's own files from dvc.yaml deps, commented ones included."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ftdata.init import engine_free_dvc_yaml

ROOT = Path(__file__).resolve().parents[2]
ENGINE = re.compile(r"^(stages|ftdata|tools|tests)/")


def test_no_engine_dep_survives_even_with_a_trailing_comment():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert re.search(r"(?m)^\s*-\s+(stages|ftdata)/\S+\s+#", text), (
        "dvc.yaml has a commented engine dep"
    )
    stages = yaml.safe_load(engine_free_dvc_yaml(text))["stages"]
    left = [
        (name, dep)
        for name, stage in stages.items()
        for dep in stage.get("deps", [])
        if isinstance(dep, str) and ENGINE.match(dep)
    ]
    assert left == []
    kept = [d for s in stages.values() for d in s.get("deps", []) if isinstance(d, str)]
    assert any(d.startswith("data/") for d in kept)  # data deps stay
