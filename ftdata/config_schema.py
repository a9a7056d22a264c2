"""Structured schemas of every params section (dataclasses checked by OmegaConf).

A misspelt or mistyped key fails at compose time (and again at a stage's start),
naming the key, the conf file it came from and the closest valid key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

SOURCE_FORMATS = (
    "jsonl",
    "json",
    "csv",
    "parquet",
    "xlsx",
    "markdown",
    "html",
    "elk",
    "scrapy",
    "hf",
)


@dataclass
class FieldMap:
    """Where each canonical field lives in a raw record (dotted paths, e.g. ``_source.msg``)."""

    id: str | None = None  # a natural key, kept in meta (the record id is always derived)
    conversation_id: str | None = None
    messages: str | None = None  # a list of turn objects
    role: str = "role"  # inside a turn
    content: str = "content"  # inside a turn
    question: str | None = None  # Q/A sources: question + answer become a user/assistant pair
    answer: str | None = None
    system: str | None = None
    text: str | None = None  # classification text
    label: str | None = None
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
    sheet: str | None = None  # xlsx sheet name (default: first)
    records_path: str | None = None  # json: dotted path to the list of records
    heading_levels: list[int] = field(default_factory=lambda: [2, 3])  # markdown/html Q/A
    # A raw label that label_map does not map: keep (unlabelled, raw label in meta.raw_label,
    # counted in the ingest metrics) | reject (reason unmapped_label).
    unmapped_label: str = "keep"


SECTION_SCHEMAS: dict[str, Any] = {}


@dataclass
class ProjectConfig:
    name: str = "dataset"
    seed: int = 42


@dataclass
class ExecutorConfig:
    kind: str = "pandas"  # pandas (in process) | dask (LocalCluster, or the cluster at `address`)
    chunk_size: int = 2000
    # dask only (ignored by pandas); see ftdata/executors/dask.py
    workers: int = 2  # LocalCluster worker processes
    threads_per_worker: int = 1  # ops are pure Python (GIL-bound): processes, not threads
    address: str | None = None  # tcp://host:port of an existing scheduler; None = LocalCluster
    memory_limit: str = "auto"  # per LocalCluster worker, e.g. "1GiB"
    tasks_per_worker: int = 2  # chunks in flight per worker: bounds the driver's memory


@dataclass
class CacheConfig:
    """Per-record cache of costly ops and whole op chains (ftdata/cache.py); DVC still
    decides whether a stage runs."""

    ops: list[str] = field(default_factory=lambda: ["score"])  # ops whose results are cached
    # clean: the whole op chain cached; dedup: each record's exact and band keys
    stages: list[str] = field(default_factory=lambda: ["clean", "dedup"])
    dir: str = "data/cache"  # one sub-directory per op / stage, a DVC out (persist: true)
    max_shards: int = 16  # compact an op's shards into one past this many


@dataclass
class IngestConfig:
    # A source whose rejects exceed this share of its raw records fails the build.
    max_reject_ratio: float = 0.2
    # A raw record with more content characters than this is rejected (`record_too_large`)
    # before it reaches dedup, whose MinHash would need GBs of memory for one 10 MB record.
    max_record_chars: int = 100_000
    # Whole-file limits, checked before a reader opens a file (ftdata/ingest/files.py).
    # Text formats are decoded whole, so a bigger file would cost several times its size
    # in memory; such a file is refused (`file_too_large`) and the source goes on.
    max_file_bytes: int = 1 << 30
    # An xlsx is a zip: refused (`archive_too_large`) when its directory declares more than
    # this many unpacked bytes, or an unpacked/packed ratio above max_compression_ratio
    # (a 410 KB bomb unpacking to 400 MB cost openpyxl 134 s and 3.3 GB).
    max_decompressed_bytes: int = 256 << 20
    max_compression_ratio: float = 200.0
    # Ingest rejects keep the raw line with its PII redacted (the rejects are a DVC out that
    # `dvc push` copies to every remote); true keeps the line exactly as read, PII included.
    keep_raw_rejects: bool = False


# A section that runs ops (OP_SECTIONS: its `ops` list names registered ops) declares only
# the keys its ops share; each op's own params (`clean.redact_pii.types`) are checked
# against the op's signature, read at registration (ftdata/registry.py params_schema,
# ftdata/params.py op_params).
OP_SECTIONS = frozenset({"clean", "quality", "validate", "augment"})


@dataclass
class CleanConfig:
    ops: list[str] = field(default_factory=list)


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
    ratios: dict[str, float] = field(
        default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1}
    )
    seed: int = 42
    stratify_by: str = "label"


@dataclass
class ValidateConfig:
    # Fail the build when more than this share of records is schema-invalid.
    max_reject_ratio: float = 0.05
    require_assistant_reply: bool = True


@dataclass
class HoldForReviewParams:
    """Records of these source kinds leave the exports for the review queue until adjudicated."""

    kinds: list[str] = field(default_factory=lambda: ["feedback"])
    # A record whose `label_origin` (set by the annotate stage) is one of these is released.
    label_origins: list[str] = field(default_factory=lambda: ["adjudicated"])


@dataclass
class ExportConfig:
    formats: list[str] = field(default_factory=lambda: ["openai", "alpaca", "sharegpt"])
    dataset_name: str = "dataset"
    system_prompt: str | None = None
    hold_for_review: HoldForReviewParams = field(default_factory=HoldForReviewParams)
    # Licences (source.<name>.license) whose records may be exported; a build that would
    # export a record under any other licence fails naming the source (ftdata/licenses.py).
    accepted_licenses: list[str] = MISSING


@dataclass
class CardConfig:
    """The hand-written parts of the dataset card (data/processed/README.md); counts come from metrics."""

    title: str = ""  # default: export.dataset_name
    summary: str = ""
    intended_use: list[str] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    known_limits: list[str] = field(default_factory=list)  # the card adds the ones metrics show
    contact: str = ""


@dataclass
class ReportConfig:
    length_bins: list[int] = field(default_factory=lambda: [0, 20, 50, 100, 200, 400, 800, 1600])
    # Tokens per record (validate.token_budget), histogram per split in the report and DVC plots.
    token_bins: list[int] = field(default_factory=lambda: [0, 32, 64, 128, 256, 512, 1024, 2048])
    examples_per_label: int = 2  # example records per label in the HTML report
    score_bins: int = 10  # histogram bins per quality score
    thin_label_min: int = 20  # labels with fewer exported records are listed as a known limit
    card: CardConfig = field(default_factory=CardConfig)


@dataclass
class EvaluateConfig:
    """Scoring a model's predictions on the test split (ftdata/evaluate.py)."""

    predictions: str = "data/raw/eval/predictions.jsonl"  # missing file = empty metrics
    split: str = "test"
    hard_examples_level: int = 0  # taxonomy level whose errors are hard examples; 0 = leaf


@dataclass
class LabelClassifierConfig:
    """The out-of-fold classifier label issues are found with (ftdata/label_issues.py)."""

    folds: int = 5  # a class with fewer records than folds sits its level out
    seed: int = 42
    ngram_min: int = 1  # character n-grams: no segmenter, Chinese and English alike
    ngram_max: int = 3
    max_features: int = 50000
    c: float = 4.0  # inverse regularisation of the logistic regression


@dataclass
class LabelIssuesConfig:
    """Suspected label errors by confident learning (cleanlab) -> a review queue."""

    levels: list[int] | None = None  # taxonomy levels checked; null = every level
    classifier: LabelClassifierConfig = field(default_factory=LabelClassifierConfig)
    # Gate: fail the build (exit 4) when flagged / checked exceeds this at any level; null = off.
    max_share: float | None = None


@dataclass
class PreferenceConfig:
    """DPO / KTO data from adjudicated production feedback (ftdata/preference.py)."""

    kinds: list[str] = field(default_factory=lambda: ["feedback"])
    pair_flags: list[str] = field(default_factory=lambda: ["agent_correction", "escalation"])
    desirable_flags: list[str] = field(default_factory=lambda: ["thumbs_up"])
    undesirable_flags: list[str] = field(
        default_factory=lambda: ["thumbs_down", "agent_correction", "escalation"]
    )


@dataclass
class TaxonomyConfig:
    """The label tree (conf/taxonomy/); the tree itself is checked by ftdata/annotate/taxonomy.py."""

    name: str = MISSING
    version: str = MISSING
    description: str = ""
    levels: list[str] = field(default_factory=list)  # a name per level, e.g. [大类, 业务, 意图]
    nodes: dict[str, Any] = MISSING  # name -> {description, children: {...}}


@dataclass
class AnnotationInputConfig:
    """One annotation export under data/raw/annotations/ (ftdata/annotate/importers.py)."""

    path: str = MISSING  # a file, or a folder (doccano's one-file-per-user export)
    tool: str = MISSING  # label-studio | doccano | csv
    batch: str | None = None  # default: the folder name, else the file stem
    guideline_version: str | None = None  # when the export carries none
    glob: str = "*"  # files of a folder
    annotators: dict[str, str] = field(default_factory=dict)  # raw user id / name -> annotator name


@dataclass
class ConsensusParams:
    min_annotators: int = 2  # fewer votes: no consensus
    min_share: float = (
        0.6  # the leading label's share of the votes (2 of 3 passes, 1 of 2 does not)
    )


@dataclass
class GateParams:
    min: float = MISSING
    mode: str = "fail"  # fail (stop the build) | warn (report and go on)
    min_items: int = 20  # slices with fewer gold / multi-annotated items are reported, not gated


@dataclass
class AnnotateGates:
    accuracy: GateParams = field(
        default_factory=lambda: GateParams(min=0.95)
    )  # gold accuracy per batch x annotator
    agreement: GateParams = field(
        default_factory=lambda: GateParams(min=0.90)
    )  # percent agreement per batch
    # Annotation-level rejects (unknown ids, bad labels, cancelled ...) above this share of
    # all annotations read fail the build.
    max_reject_ratio: float = 0.2


@dataclass
class MigrationParams:
    old: str = MISSING  # a path of an older taxonomy (a leaf, or an inner node to rename a subtree)
    new: list[str] = MISSING  # one path: rename / merge; several: split (needs re-annotation)
    since: str = MISSING  # the guideline version that introduced it
    note: str = ""


@dataclass
class ChangedParams:
    since: str = MISSING  # guideline version in which the meaning of `paths` changed
    paths: list[str] = MISSING  # taxonomy nodes (subtrees)
    note: str = ""


@dataclass
class AnnotateConfig:
    guideline: str = MISSING  # the guideline markdown; its front matter holds the current version
    inputs: list[AnnotationInputConfig] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)  # CSV files / folders: id,label
    adjudication: list[str] = field(
        default_factory=list
    )  # CSV files / folders: id,label,reviewer,note
    spot_check_verdicts: list[str] = field(default_factory=list)  # CSV: id,verdict,reviewer,note
    consensus: ConsensusParams = field(default_factory=ConsensusParams)
    # Records whose annotations reach no consensus (and no adjudication): drop_label (keep the
    # record for chat data, label null) | keep_source (keep the source label) | reject.
    unresolved: str = "drop_label"
    # Records whose label is not a taxonomy leaf: drop_label | reject (reason label_not_in_taxonomy).
    label_not_in_taxonomy: str = "drop_label"
    review_max_batch_disagreement: float = 0.10  # a batch above it goes to the review queue
    gates: AnnotateGates = field(default_factory=AnnotateGates)
    quality_folds: int = 5  # out-of-fold predictions for cleanlab's annotator quality
    quality_seed: int = 0
    spot_check_confidence: float = 0.95  # Wilson interval of the spot-check accuracy
    migrations: list[MigrationParams] = field(default_factory=list)
    changed: list[ChangedParams] = field(default_factory=list)


# ---- augment (ftdata/augment/): rule ops, hard examples, model-backed ops
@dataclass
class ConfusablePair:
    labels: list[str] = MISSING  # two taxonomy paths
    note: str = ""  # how to tell them apart (quoted by the boundary prompt)


@dataclass
class HardConfig:
    enabled: bool = True
    confusable: list[ConfusablePair] = field(default_factory=list)
    eval_dir: str = "data/raw/eval"  # confusion matrices (*.csv, *.json) or predictions (*.jsonl)
    min_confusion: float = 0.05
    ngram_min: int = 1
    ngram_max: int = 3
    neighbours: int = 5
    min_similarity: float = 0.6  # any label pair
    pair_similarity: float = 0.35  # a known confusable pair
    max_mined: int = 5000  # mine at most this many train records (by text hash); 0: all
    search: str = "neighbours"  # neighbours (among the `neighbours` nearest) | foreign


@dataclass
class LlmTemplate:
    system: str = ""
    user: str = MISSING  # string.Template: $text, $label, $out_lang ...
    fields: list[str] = field(default_factory=lambda: ["text"])  # keys of the JSON object to return


@dataclass
class LlmGeneration:
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None


@dataclass
class LlmConfig:
    enabled: bool = False
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "qwen2.5-7b-instruct"
    api_key_env: str = "FTDATA_LLM_API_KEY"  # the NAME of the variable; the key never enters params
    ops: list[str] = field(
        default_factory=lambda: ["paraphrase", "back_translate", "dialect_rewrite", "boundary"]
    )
    select_fraction: float = 0.1
    variants: int = 1
    dialects: dict[str, str] = field(default_factory=dict)  # code -> name used in the prompt
    cache_dir: str = "data/cache/llm"
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    concurrency: int = 4
    max_calls: int = 1000
    json_mode: bool = False
    generation: LlmGeneration = field(default_factory=LlmGeneration)
    templates: dict[str, LlmTemplate] = field(default_factory=dict)


@dataclass
class AugmentConfig:
    seed: int = 42
    select_fraction: float = 0.3
    variants: int = 1
    hard_variants: int = 3
    minority_boost: bool = True
    ops: list[str] = field(default_factory=list)
    greetings: dict[str, list[str]] = field(default_factory=dict)
    prefixes: dict[str, list[str]] = field(default_factory=dict)
    hard: HardConfig = field(default_factory=HardConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)


@dataclass
class BalanceConfig:
    level: int = 3  # taxonomy depth the strategy acts on (1 = top level)
    strategy: str = "oversample"  # oversample | undersample | cap | none
    max_share: float = 0.8  # imbalanced when one class holds more of a level
    max_ratio: float = 5.0  # ... or when largest / smallest exceeds this
    target_ratio: float = 3.0  # what oversample / undersample aim for (largest / smallest)
    caps: dict[str, int] = field(default_factory=dict)  # label at `level` -> max train records
    seed: int = 42


@dataclass
class BenchmarkConfig:
    """An evaluation or benchmark file no training record may overlap (read like a source)."""

    name: str = MISSING  # what a reject's detail and the metrics call it
    path: str = MISSING  # under data/raw/benchmarks/ (the split stage's DVC dependency)
    format: str = "jsonl"  # jsonl | json | csv | parquet
    license: str = "unknown"
    description: str = ""
    encoding: str = "auto"
    glob: str = "*"
    fields: FieldMap = field(default_factory=FieldMap)
    roles: dict[str, str] = field(default_factory=dict)
    csv_delimiter: str = ","


@dataclass
class MinHashTestConfig:
    threshold: float = 0.8  # true character-shingle Jaccard a candidate must reach
    ngram: int = 5
    num_perm: int = 128
    seed: int = 1


@dataclass
class DecontaminateConfig:
    """Training records that overlap a benchmark are rejected (ftdata/ops/decontaminate.py)."""

    splits: list[str] = field(default_factory=lambda: ["train"])
    exact: bool = True
    ngram: int | None = 13  # tokens (a CJK character or a word); null = off
    min_tokens: int = 6  # shorter texts and turns (你好, "thanks") match nothing
    minhash: MinHashTestConfig | None = field(default_factory=MinHashTestConfig)
    # A list, not a mapping: a project (or `-S decontaminate.benchmarks=[]`) replaces it whole.
    benchmarks: list[BenchmarkConfig] = field(default_factory=list)


@dataclass
class LabelShareBounds:
    level: int = 1  # taxonomy depth whose labels are counted
    min: float | None = None
    max: float | None = None


@dataclass
class PercentileBounds:
    p: int = 95
    min: int | None = None
    max: int | None = None


@dataclass
class DriftBounds:
    """Bounds on the change since a release (ftdata/contracts.py drift_checks)."""

    # The release compared with, a data_vX.Y tag: a param, so naming another reruns the check
    # (a tag's files never change). null = no drift bounds.
    baseline: str | None = None
    level: int = 1  # taxonomy depth whose label shares are compared
    max_label_share_change: float | None = None  # points of share (0.05 = 5 points)
    max_source_loss: float | None = None  # share of a source's kept records it may lose
    # An edited guideline bumps its version, and a bump has a note (front matter `changes`).
    guideline_notes: bool = True


@dataclass
class ContractsConfig:
    """Bounds every build must meet (ftdata/contracts.py); None = not checked."""

    mode: str = "fail"  # fail | warn
    max_residual_pii_records: int | None = 0
    max_duplicate_share: float | None = None
    max_derived_share: float | None = None
    min_records_per_split: dict[str, int] | None = None
    label_share: LabelShareBounds | None = None
    chars_percentile: PercentileBounds | None = None
    language_share: dict[str, list[float]] | None = None
    drift: DriftBounds = field(default_factory=DriftBounds)


SECTION_SCHEMAS.update(
    {
        "project": ProjectConfig,
        "executor": ExecutorConfig,
        "cache": CacheConfig,
        "ingest": IngestConfig,
        "clean": CleanConfig,
        "dedup": DedupConfig,
        "quality": QualityConfig,
        "split": SplitConfig,
        "decontaminate": DecontaminateConfig,
        "validate": ValidateConfig,
        "export": ExportConfig,
        "report": ReportConfig,
        "evaluate": EvaluateConfig,
        "label_issues": LabelIssuesConfig,
        "preference": PreferenceConfig,
        "taxonomy": TaxonomyConfig,
        "annotate": AnnotateConfig,
        "augment": AugmentConfig,
        "balance": BalanceConfig,
        "contracts": ContractsConfig,
    }
)
