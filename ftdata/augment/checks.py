"""Cross-field checks of the ``augment`` and ``balance`` sections (compose time and stage start).

The dataclass schemas catch unknown keys and wrong types; these catch values
that are well-typed but unusable: an unknown op or strategy, a fraction
outside [0, 1], a confusable pair that is not a pair, a base_url carrying
credentials. Messages name the key; the caller prefixes the file.
"""

from __future__ import annotations

import difflib
from urllib.parse import urlsplit

from ftdata.errors import ConfigError

STRATEGIES = ("oversample", "undersample", "cap", "none")
HARD_SEARCHES = ("neighbours", "foreign")


def _fraction(value, key: str) -> None:
    if not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"`{key}` must be in [0, 1], got {value!r}")


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"


def check_augment(section: dict) -> None:
    from ftdata.augment.llm import LLM_OPS, OP_TEMPLATES

    _fraction(section["select_fraction"], "augment.select_fraction")
    for key in ("variants", "hard_variants"):
        if int(section[key]) < 0:
            raise ConfigError(f"`augment.{key}` must be >= 0, got {section[key]!r}")
    for i, entry in enumerate(section["hard"]["confusable"]):
        labels = entry["labels"]
        if len(labels) != 2 or labels[0] == labels[1]:
            raise ConfigError(
                f"`augment.hard.confusable[{i}].labels` must name two different labels, got {labels!r}"
            )
    _fraction(section["hard"]["min_confusion"], "augment.hard.min_confusion")
    if section["hard"]["search"] not in HARD_SEARCHES:
        raise ConfigError(
            f"`augment.hard.search` must be one of {', '.join(HARD_SEARCHES)}, "
            f"got {section['hard']['search']!r}"
        )
    if int(section["hard"]["max_mined"]) < 0:
        raise ConfigError(
            f"`augment.hard.max_mined` must be >= 0 (0: no cap), got {section['hard']['max_mined']!r}"
        )
    if (
        section["hard"]["ngram_min"] < 1
        or section["hard"]["ngram_max"] < section["hard"]["ngram_min"]
    ):
        raise ConfigError("`augment.hard.ngram_min` must be >= 1 and <= `augment.hard.ngram_max`")
    llm = section["llm"]
    _fraction(llm["select_fraction"], "augment.llm.select_fraction")
    for op in llm["ops"]:
        if op not in LLM_OPS:
            raise ConfigError(f"`augment.llm.ops` names unknown op {op!r}{_suggest(op, LLM_OPS)}")
        for name in OP_TEMPLATES[op]:
            if name not in llm["templates"]:
                raise ConfigError(f"`augment.llm.templates.{name}` is missing (op {op!r} needs it)")
    for key in ("concurrency", "timeout_s"):
        if float(llm[key]) <= 0:
            raise ConfigError(f"`augment.llm.{key}` must be > 0, got {llm[key]!r}")
    for key in ("max_retries", "max_calls"):
        if int(llm[key]) < 0:
            raise ConfigError(f"`augment.llm.{key}` must be >= 0, got {llm[key]!r}")
    parts = urlsplit(llm["base_url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"`augment.llm.base_url` must be an http(s) URL, got {llm['base_url']!r}")
    if parts.username or parts.password:
        raise ConfigError(
            "`augment.llm.base_url` carries credentials; params.yaml is committed: put the key in the "
            f"environment variable named by `augment.llm.api_key_env` ({llm['api_key_env']})"
        )


def check_balance(section: dict) -> None:
    if section["strategy"] not in STRATEGIES:
        raise ConfigError(
            f"`balance.strategy` is {section['strategy']!r}{_suggest(section['strategy'], STRATEGIES)}"
        )
    if int(section["level"]) < 1:
        raise ConfigError(f"`balance.level` must be >= 1, got {section['level']!r}")
    _fraction(section["max_share"], "balance.max_share")
    for key in ("max_ratio", "target_ratio"):
        if float(section[key]) < 1.0:
            raise ConfigError(f"`balance.{key}` must be >= 1, got {section[key]!r}")
    for label, cap in section["caps"].items():
        if int(cap) < 0:
            raise ConfigError(f"`balance.caps.{label}` must be >= 0, got {cap!r}")
