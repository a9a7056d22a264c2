"""Built-in ops. Importing this package registers them in ftdata.registry."""

from ftdata.augment import rules  # noqa: F401  (augment-stage ops, ftdata/augment/rules.py)
from ftdata.ops import (  # noqa: F401
    compliance,  # noqa: F401
    dedup,
    feedback,  # noqa: F401
    pii,
    pii_model,  # noqa: F401  (redact_pii_model, off by default)
    quality,
    smalltalk,
    split,
    text,
    validate,
)
