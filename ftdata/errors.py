"""User-facing errors: what to fix and where, printed without a traceback."""

from __future__ import annotations


class FtdataError(Exception):
    """An error the user must fix (config, missing file, failed gate).

    Stage entry points catch it, print ``str(err)`` and exit non-zero, so the
    message itself must name the file, line/key and field.
    """

    exit_code = 2


class ConfigError(FtdataError):
    exit_code = 2


class SourceError(FtdataError):
    exit_code = 3


class GateError(FtdataError):
    exit_code = 4
