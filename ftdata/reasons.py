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
    # clean
    NO_SUBSTANCE = "no_substance"
    PII_ONLY = "pii_only"
    EMPTY_AFTER_CLEAN = "empty_after_clean"
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
    # validate
    SCHEMA_INVALID = "schema_invalid"
    NOT_TRAINABLE = "not_trainable"
