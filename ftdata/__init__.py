"""ftdata: a declarative, dataset-as-code build system for LLM fine-tuning data."""

from importlib import metadata

# The version is declared once, in pyproject.toml. Read from the installed metadata, it is
# not in this file's bytes, which every stage's code identity hashes (stages/code.yaml):
# a release that changes nothing a stage runs reruns nothing.
try:
    __version__ = metadata.version("ftdata")
except metadata.PackageNotFoundError:  # a source tree on PYTHONPATH, never installed
    __version__ = "0+unknown"
