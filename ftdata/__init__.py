"""ftdata: a declarative, dataset-as-code build system for LLM fine-tuning data."""

__version__ = "0.1.0"
