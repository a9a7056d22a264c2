"""Compose-time checks that span sections: the taxonomy against everything that names labels.

Run by ``ftdata compose`` (and so by ``make repro``): a taxonomy that is not a
usable tree, a source ``label_map`` value that is not a full leaf path, or a
migration that points nowhere fails before any stage runs, naming the file.
"""

from __future__ import annotations

from collections.abc import Callable

from ftdata.annotate.migrate import Migrations
from ftdata.annotate.taxonomy import Taxonomy, check_labels, from_params
from ftdata.errors import ConfigError

UNRESOLVED = ("drop_label", "keep_source", "reject")
NOT_IN_TAXONOMY = ("drop_label", "reject")
GATE_MODES = ("fail", "warn")


def check_params(params: dict, origin_of: Callable[[str], str]) -> Taxonomy:
    tax = from_params(params["taxonomy"], origin=origin_of("taxonomy"))
    for name, src in (params.get("source") or {}).items():
        where = origin_of(f"source.{name}")
        check_labels(
            tax,
            (
                (f"{where}: `source.{name}.label_map.{raw}`", label)
                for raw, label in src["label_map"].items()
            ),
        )
    annotate = params.get("annotate")
    if annotate:
        where = origin_of("annotate")
        Migrations.from_params(annotate).check(tax, where)
        for key, allowed in (
            ("unresolved", UNRESOLVED),
            ("label_not_in_taxonomy", NOT_IN_TAXONOMY),
        ):
            if annotate[key] not in allowed:
                raise ConfigError(
                    f"{where}: `annotate.{key}` is {annotate[key]!r}; expected one of {', '.join(allowed)}"
                )
        for gate in ("accuracy", "agreement"):
            mode = annotate["gates"][gate]["mode"]
            if mode not in GATE_MODES:
                raise ConfigError(
                    f"{where}: `annotate.gates.{gate}.mode` is {mode!r}; expected fail or warn"
                )
        from ftdata.annotate.importers import TOOLS

        for i, spec in enumerate(annotate["inputs"]):
            if spec["tool"] not in TOOLS:
                raise ConfigError(
                    f"{where}: `annotate.inputs[{i}].tool` is {spec['tool']!r}; expected one of {', '.join(TOOLS)}"
                )
    return tax
