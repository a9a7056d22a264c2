"""The op catalog: importing it registers every built-in op in ftdata.registry.

Whoever looks an op up by name (the runner, compose, the CLI, lineage) imports
``get_op`` / ``all_ops`` from here, so the built-ins are registered by then; the
registry and the op packages below it never import the catalog, so no op module
sits on an import cycle.
"""

from ftdata.augment import rules  # noqa: F401  (augment-stage ops, ftdata/augment/rules.py)
from ftdata.ops import (  # noqa: F401
    compliance,  # noqa: F401
    decontaminate,  # noqa: F401
    dedup,
    feedback,  # noqa: F401
    pii,
    pii_model,  # noqa: F401  (redact_pii_model, off by default)
    quality,
    smalltalk,
    split,
    text,
    tokens,  # noqa: F401
    validate,
)
from ftdata.registry import all_ops, get_op

__all__ = ["all_ops", "get_op"]
