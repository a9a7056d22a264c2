"""Built-in ops. Importing this package registers them in ftdata.registry."""

from ftdata.ops import dedup, pii, quality, smalltalk, split, text, validate  # noqa: F401
