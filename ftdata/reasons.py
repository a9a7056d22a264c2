"""The one list of reject reason codes: stable strings that metrics, rejects and diffs share."""

from enum import StrEnum


class Reason(StrEnum):
    # ingest
    MALFORMED_JSON = "malformed_json"
    MALFORMED_ROW = "malformed_row"
    DECODE_ERROR = "decode_error"
    MISSING_FIELD = "missing_field"
    UNKNOWN_ROLE = "unknown_role"
    MISSING_SOURCE = "missing_source"
    WRONG_TYPE = "wrong_type"
    EMPTY_RECORD = "empty_record"
    DUPLICATE_ID = "duplicate_id"
    RECORD_TOO_LARGE = "record_too_large"  # more content than ingest.max_record_chars
    INVALID_TEXT = "invalid_text"  # a mapped string holds a lone surrogate (JSON "\\ud800")
    UNMAPPED_LABEL = "unmapped_label"  # raw label not in label_map, unmapped_label: reject
    # ingest, whole files: not records (no `in`, no reject row); counted per reason under
    # `files` in data/metrics/ingest/<source>.json and warned about at the end of the stage
    SYMLINK_OUTSIDE_PROJECT = "symlink_outside_project"  # refused, never opened
    FILE_TOO_LARGE = "file_too_large"  # refused: more bytes than ingest.max_file_bytes
    ARCHIVE_TOO_LARGE = "archive_too_large"  # refused: xlsx unpacks past the ingest limits
    BINARY_FILE = "binary_file"  # only NUL bytes where text should be (zeroed / sparse file)
    NO_RECORDS = "no_records"  # read, non-empty, yet no record (a page without Q/A)
    # clean
    NO_SUBSTANCE = "no_substance"
    PII_ONLY = "pii_only"
    EMPTY_AFTER_CLEAN = "empty_after_clean"
    COMPLIANCE = "compliance"  # a `reject` rule of clean.compliance.rules fired (detail names it)
    # dedup
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    # quality
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    REPETITIVE = "repetitive"
    SPECIAL_CHARS = "special_chars"
    LANGUAGE = "language"
    READABILITY = "readability"
    OFF_DOMAIN = "off_domain"
    # split: a train record that overlaps a benchmark file (decontaminate.benchmarks)
    CONTAMINATED = "contaminated"
    # validate
    SCHEMA_INVALID = "schema_invalid"
    NOT_TRAINABLE = "not_trainable"
    TOO_MANY_TOKENS = "too_many_tokens"  # over validate.token_budget.max_tokens (cutoff_len)
    # export: feedback records wait for an adjudicated label (data/processed/review/feedback_candidates.jsonl)
    AWAITING_REVIEW = "awaiting_review"
    # evaluate: prediction lines that cannot be scored
    UNKNOWN_ID = "unknown_id"
    NOT_IN_TEST_SPLIT = "not_in_test_split"
    UNKNOWN_LABEL = "unknown_label"
    NO_REFERENCE_LABEL = "no_reference_label"
    # annotate: records (label_not_in_taxonomy, annotation_conflict when configured to reject)
    # and annotation-level rejects (annotations are not records; see data/interim/annotate/)
    LABEL_NOT_IN_TAXONOMY = "label_not_in_taxonomy"
    ANNOTATION_CONFLICT = "annotation_conflict"
    UNKNOWN_TASK_ID = "unknown_task_id"
    ANNOTATION_CANCELLED = "annotation_cancelled"
    MALFORMED_ANNOTATION = "malformed_annotation"
    # augment: generated records (children); also exact_duplicate / near_duplicate
    LLM_EMPTY = "llm_empty"  # the model answered nothing (or empty fields)
    LLM_SCHEMA_INVALID = "llm_schema_invalid"  # not the JSON object the template asks for
    LLM_OFF_LANGUAGE = "llm_off_language"  # answer not in the language asked for
    SPLIT_LEAK = "split_leak"  # a generated record that would not land in train
    # balance (train-bound records only)
    UNDERSAMPLED = "undersampled"
    CLASS_CAP = "class_cap"
