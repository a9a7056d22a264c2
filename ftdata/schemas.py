"""JSON Schema (draft 2020-12) validation of records and exports, with readable errors."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path("schemas")


@functools.cache
def validator(name: str, schema_dir: str = str(SCHEMA_DIR)) -> Draft202012Validator:
    path = Path(schema_dir) / name
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors_of(instance: Any, name: str) -> list[str]:
    """Every violation as ``<json path>: <message>``, in a stable order."""
    errs = sorted(
        validator(name).iter_errors(instance),
        key=lambda e: (list(map(str, e.absolute_path)), e.message),
    )
    return [f"{e.json_path}: {e.message}" for e in errs]
