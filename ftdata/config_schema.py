"""Structured schemas of every params section (dataclasses checked by OmegaConf).

A misspelt or mistyped key fails at compose time (and again at a stage's start),
naming the key, the conf file it came from and the closest valid key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

SOURCE_FORMATS = ("jsonl", "json", "csv", "parquet", "xlsx", "markdown", "html", "elk", "scrapy", "hf")


@dataclass
class FieldMap:
    """Where each canonical field lives in a raw record (dotted paths, e.g. ``_source.msg``)."""

    id: Optional[str] = None  # a natural key, kept in meta (the record id is always derived)
    conversation_id: Optional[str] = None
    messages: Optional[str] = None  # a list of turn objects
    role: str = "role"  # inside a turn
    content: str = "content"  # inside a turn
    question: Optional[str] = None  # Q/A sources: question + answer become a user/assistant pair
    answer: Optional[str] = None
    system: Optional[str] = None
    text: Optional[str] = None  # classification text
    label: Optional[str] = None
    meta: list[str] = field(default_factory=list)  # raw fields carried along in `meta`


@dataclass
class SourceConfig:
    path: str = MISSING  # file or directory, relative to the project root
    format: str = MISSING  # one of SOURCE_FORMATS
    kind: str = MISSING  # logs | public | crawl | crowd | feedback | augment
    license: str = MISSING
    owner: str = MISSING
    collected_at: str = MISSING  # ISO date
    description: str = ""
    encoding: str = "auto"  # auto = detect with charset-normalizer
    glob: str = "*"  # files to read when path is a directory
    fields: FieldMap = field(default_factory=FieldMap)
    roles: dict[str, str] = field(default_factory=dict)  # raw role -> system|user|assistant
    label_map: dict[str, str] = field(default_factory=dict)  # raw label -> taxonomy path
    csv_delimiter: str = ","
    sheet: Optional[str] = None  # xlsx sheet name (default: first)
    records_path: Optional[str] = None  # json: dotted path to the list of records
    heading_levels: list[int] = field(default_factory=lambda: [2, 3])  # markdown/html Q/A


SECTION_SCHEMAS: dict[str, Any] = {}


@dataclass
class ProjectConfig:
    name: str = "dataset"
    seed: int = 42


@dataclass
class ExecutorConfig:
    kind: str = "pandas"
    chunk_size: int = 2000


@dataclass
class IngestConfig:
    # A source whose rejects exceed this share of its raw records fails the build.
    max_reject_ratio: float = 0.2


@dataclass
class RemoveSmalltalkParams:
    phrases: list[str] = MISSING  # the list lives in conf/clean/default.yaml
    min_substance_chars: int = 4


@dataclass
class RedactPiiParams:
    types: list[str] = field(default_factory=lambda: ["phone", "landline", "id_card", "bank_card", "email"])


@dataclass
class NfkcParams:
    keep_cjk_punct: bool = True
    keep_circled: bool = True


@dataclass
class CollapseWhitespaceParams:
    keep_indent: bool = False


@dataclass
class T2sParams:
    phrases: Optional[dict[str, str]] = None  # None = built-in mainland phrase fixes; {} = plain OpenCC


@dataclass
class CleanConfig:
    ops: list[str] = field(default_factory=list)
    nfkc: NfkcParams = field(default_factory=NfkcParams)
    collapse_whitespace: CollapseWhitespaceParams = field(default_factory=CollapseWhitespaceParams)
    t2s: T2sParams = field(default_factory=T2sParams)
    remove_smalltalk: RemoveSmalltalkParams = field(default_factory=RemoveSmalltalkParams)
    redact_pii: RedactPiiParams = field(default_factory=RedactPiiParams)


@dataclass
class DedupConfig:
    exact: bool = True
    near: bool = True
    ngram: int = 5
    threshold: float = 0.8
    num_perm: int = 128
    seed: int = 1


@dataclass
class QualityConfig:
    ops: list[str] = field(default_factory=list)
    min_chars: int = 8
    max_chars: int = 4000
    max_char_repetition: float = 0.35
    max_special_ratio: float = 0.25
    languages: list[str] = field(default_factory=lambda: ["zh", "en", "mixed"])
    min_readability_en: float = -10.0
    max_grade_en: float = 18.0
    max_grade_zh: float = 18.0
    glossary: list[str] = field(default_factory=list)
    min_glossary_hits: int = 0
    spot_check_fraction: float = 0.1
    spot_check_seed: int = 7


@dataclass
class SplitConfig:
    ratios: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    seed: int = 42
    stratify_by: str = "label"


@dataclass
class ValidateConfig:
    # Fail the build when more than this share of records is schema-invalid.
    max_reject_ratio: float = 0.05
    require_assistant_reply: bool = True


@dataclass
class ExportConfig:
    formats: list[str] = field(default_factory=lambda: ["openai", "alpaca", "sharegpt"])
    dataset_name: str = "dataset"
    system_prompt: Optional[str] = None


@dataclass
class ReportConfig:
    length_bins: list[int] = field(default_factory=lambda: [0, 20, 50, 100, 200, 400, 800, 1600])


SECTION_SCHEMAS.update(
    {
        "project": ProjectConfig,
        "executor": ExecutorConfig,
        "ingest": IngestConfig,
        "clean": CleanConfig,
        "dedup": DedupConfig,
        "quality": QualityConfig,
        "split": SplitConfig,
        "validate": ValidateConfig,
        "export": ExportConfig,
        "report": ReportConfig,
    }
)
EXPORT_FORMATS = ("openai", "alpaca", "sharegpt")
