"""The quality stage's ops: one scoring op, one filter op per rule, and the spot check.

``score`` writes the ``score_*`` columns and ``lang`` and rejects nothing; each
filter reads one score (computing it when ``score`` did not run) and rejects
with its own reason code and a detail naming the figure and the threshold.
Scores read the user and assistant turns plus ``text`` (system prompts are
instructions, not training content, and would make every record look alike).

The quality params section is flat (``quality.min_chars``, not
``quality.min_chars.min_chars``): every op declares exactly the keys it reads as
keyword-only parameters without defaults (conf/ is the one source of the
defaults), and ``runner.op_calls`` passes each op the keys it declares.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from functools import cache

import pandas as pd

from ftdata.reasons import Reason
from ftdata.record import content_of
from ftdata.registry import OpResult, register, split_by
from ftdata.text.lang import (
    HAN_RE,
    LATIN_WORD_RE,
    content_chars,
    detect_lang,
    lang_of,
    script_counts,
    special_ratio,
    without_placeholders,
    zh_share,
)
from ftdata.text.readability import chinese_readability, english_readability
from ftdata.text.repetition import char_repetitions

STAGE = "quality"
SCORED_ROLES = ("user", "assistant")

# Flesch-Kincaid is a per-word average: on a handful of words one long word
# decides it ("Unbelievable." alone is grade 32), so the English readability
# thresholds apply only from this many Latin words on. The Chinese score is
# bounded per character and needs no such floor.
MIN_WORDS_EN_READABILITY = 10

SCORE_COLUMNS = (
    "score_chars",
    "score_char_repetition",
    "score_special_ratio",
    "score_readability",
    "score_grade_en",
    "score_reading_ease_en",
    "score_grade_zh",
    "score_glossary",
)


# ---------------------------------------------------------------- scores
def scored_turns(messages: list[dict] | None, text: str | None) -> list[str]:
    """The turns scores read: user and assistant contents, then ``text``."""
    turns = [
        m["content"]
        for m in (messages if messages is not None else [])
        if m.get("role") in SCORED_ROLES and m.get("content")
    ]
    if isinstance(text, str) and text:
        turns.append(text)
    return turns


def char_repetition(turns: list[str]) -> float:
    """Share of content characters that repeat earlier material of their own turn.

    Definition (datatrove's Gopher ``find_all_duplicate``, made script-agnostic):
    each turn is cut into units, one per Han/kana character, one per run of
    other letters/digits (an English word, a number), one per other non-space
    character (punctuation, emoji, a placeholder). A character is *repeated*
    when it lies in an n-gram of ``REPETITION_NGRAM`` units (case-folded) that
    already occurred earlier in the same turn, or in a run of a 1-3 character
    pattern repeated to ``RUN_MIN_CHARS``+ characters ("hahahaha", "000000",
    "！！！！！！"), first copy excluded. Unlike datatrove, overlapping n-grams
    all mark their characters instead of the scan jumping ahead, so the result
    does not depend on where a jump lands. Score = repeated / all content
    characters over the record's turns (placeholder = 1 character).

    Only later copies count, so a list that repeats one clause twice stays well
    under the threshold while a phrase said five times scores ~0.8. Counting
    within a turn, not across the record, is deliberate: an assistant echoing
    the user's "信用卡账单" is normal dialogue, not spam.
    """
    return float(char_repetitions([turns])[0])


@cache
def _glossary_matchers(glossary: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    """Per term: Chinese terms match as substrings; other terms as whole words.

    Whole-word matching ignores case, lets spaces in a term match any
    whitespace and allows a plural "s"/"es" ("cards" counts for "card", "discard"
    does not). Boundaries are "not an ASCII letter/digit", so "card余额" matches.
    """
    matchers = []
    for term in dict.fromkeys(t.strip() for t in glossary if t and t.strip()):
        if HAN_RE.search(term):
            matchers.append((term, term))
        else:
            words = r"\s+".join(re.escape(w) for w in term.split())
            matchers.append(
                (term, re.compile(rf"(?<![A-Za-z0-9]){words}(?:e?s)?(?![A-Za-z0-9])", re.I))
            )
    return tuple(matchers)


def glossary_hits(content: str, glossary: Iterable[str]) -> int:
    """Number of distinct glossary terms present in ``content`` (placeholders ignored)."""
    text = without_placeholders(content)
    hits = 0
    for _term, matcher in _glossary_matchers(tuple(glossary)):
        found = matcher in text if isinstance(matcher, str) else matcher.search(text)
        hits += bool(found)
    return hits


def score_record(messages: list[dict] | None, text: str | None, glossary: Iterable[str]) -> dict:
    """Every quality score of one record (see ``score`` for the columns)."""
    turns = scored_turns(messages, text)
    return _scores(turns, glossary, char_repetition(turns))


def _scores(turns: list[str], glossary: Iterable[str], repetition: float) -> dict:
    """The scores of one record's turns, its repetition share computed in bulk by the caller."""
    content = content_of([{"content": t} for t in turns], None)
    en = english_readability(turns)
    zh = chinese_readability(turns)
    han, latin, letters = script_counts(content)
    share = zh_share(han, latin)
    if en and zh:
        readability = share * zh.grade + (1 - share) * en.grade
    elif en or zh:
        readability = (en or zh).grade
    else:
        readability = math.nan
    return {
        "score_chars": float(content_chars(content)),
        "score_char_repetition": repetition,
        "score_special_ratio": special_ratio(content),
        "score_readability": readability,
        "score_grade_en": en.grade if en else math.nan,
        "score_reading_ease_en": en.reading_ease if en else math.nan,
        "score_grade_zh": zh.grade if zh else math.nan,
        "score_glossary": float(glossary_hits(content, glossary)),
        "lang": lang_of(han, latin, letters),
    }


def _texts(batch: pd.DataFrame) -> list:
    return list(batch["text"]) if "text" in batch.columns else [None] * len(batch)


def _batch_turns(batch: pd.DataFrame) -> list[list[str]]:
    return [scored_turns(m, t) for m, t in zip(batch["messages"], _texts(batch), strict=True)]


def add_scores(batch: pd.DataFrame, glossary: Iterable[str]) -> pd.DataFrame:
    """A copy of ``batch`` with every score column and ``lang`` (overwritten if present)."""
    glossary = tuple(glossary)
    turns = _batch_turns(batch)
    repetition = char_repetitions(turns).tolist()
    rows = [_scores(ts, glossary, r) for ts, r in zip(turns, repetition, strict=True)]
    out = batch.copy()
    for column in (*SCORE_COLUMNS, "lang"):
        values = [row[column] for row in rows]
        out[column] = pd.Series(
            values, index=batch.index, dtype=object if column == "lang" else float
        )
    return out


@register("score", STAGE, changes_content=False, cached_columns=(*SCORE_COLUMNS, "lang"))
def score(batch: pd.DataFrame, *, glossary: list[str]) -> OpResult:
    """Add the quality scores; reject nothing.

    Columns (floats): ``score_chars`` content characters, CJK char = 1,
    placeholder = 1, whitespace excluded; ``score_char_repetition`` (see
    ``char_repetition``); ``score_special_ratio`` share of characters that are
    not letters/digits of any script, whitespace or normal Chinese/English
    punctuation (``lang.NORMAL_PUNCT``; placeholders are never special);
    ``score_readability`` the English Flesch-Kincaid grade and the Chinese grade
    (``readability`` module) averaged by the weighted Han/Latin share, NaN when
    neither script is present; the parts behind it as ``score_grade_en``,
    ``score_reading_ease_en`` and ``score_grade_zh`` (NaN without that script);
    ``score_glossary`` distinct glossary terms present. String ``lang``:
    zh / en / mixed / other (``lang.detect_lang``). Every row is marked
    ``_changed`` so its lineage records that it was scored.
    """
    scored = add_scores(batch, glossary)
    scored["_changed"] = True
    return OpResult(kept=scored)


# ---------------------------------------------------------------- filters
def _fmt(value: float) -> str:
    return f"{round(float(value), 4):g}"


def _columns(
    batch: pd.DataFrame, names: Iterable[str], glossary: Iterable[str] = ()
) -> list[pd.Series]:
    """Score columns ``names`` as floats (null -> NaN), computed here when ``score`` did not run."""
    names = list(names)
    missing = [name for name in names if name not in batch.columns]
    if missing and all(name in _OWN_SCORES for name in missing):
        batch = batch.assign(**{name: _own_score(batch, name) for name in missing})
    elif missing:
        batch = add_scores(batch, glossary)
    return [pd.to_numeric(batch[name], errors="coerce").astype(float) for name in names]


# The scores a filter can compute alone, when ``score`` did not run: a chain of a few
# filters (min_chars, repetition) then costs those scores, not all eight.
_OWN_SCORES = {
    "score_chars": lambda records: [float(content_chars("\n".join(ts))) for ts in records],
    "score_char_repetition": char_repetitions,
    "score_special_ratio": lambda records: [special_ratio("\n".join(ts)) for ts in records],
}


def _own_score(batch: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(_OWN_SCORES[name](_batch_turns(batch)), index=batch.index, dtype=float)


def _threshold_filter(
    batch: pd.DataFrame, column: str, key: str, limit: float, op: str, reason: Reason, **score_kw
) -> OpResult:
    """Reject rows whose ``column`` is below (``op='<'``) or above (``'>'``) ``limit``."""
    (values,) = _columns(batch, [column], **score_kw)
    mask = values < limit if op == "<" else values > limit
    details = [f"{column} {_fmt(v)} {op} quality.{key} {_fmt(limit)}" for v in values]
    return split_by(batch, mask.fillna(False), reason, details)


@register("min_chars", STAGE)
def min_chars(batch: pd.DataFrame, *, min_chars: int) -> OpResult:
    """Reject records with fewer than ``min_chars`` content characters (too_short)."""
    return _threshold_filter(batch, "score_chars", "min_chars", min_chars, "<", Reason.TOO_SHORT)


@register("max_chars", STAGE)
def max_chars(batch: pd.DataFrame, *, max_chars: int) -> OpResult:
    """Reject records with more than ``max_chars`` content characters (too_long)."""
    return _threshold_filter(batch, "score_chars", "max_chars", max_chars, ">", Reason.TOO_LONG)


@register("repetition", STAGE)
def repetition(batch: pd.DataFrame, *, max_char_repetition: float) -> OpResult:
    """Reject records whose repeated-character share exceeds ``max_char_repetition`` (repetitive)."""
    return _threshold_filter(
        batch,
        "score_char_repetition",
        "max_char_repetition",
        max_char_repetition,
        ">",
        Reason.REPETITIVE,
    )


@register("special_chars", STAGE)
def special_chars(batch: pd.DataFrame, *, max_special_ratio: float) -> OpResult:
    """Reject records whose special-character share exceeds ``max_special_ratio`` (special_chars)."""
    return _threshold_filter(
        batch,
        "score_special_ratio",
        "max_special_ratio",
        max_special_ratio,
        ">",
        Reason.SPECIAL_CHARS,
    )


@register("language", STAGE)
def language(batch: pd.DataFrame, *, languages: list[str]) -> OpResult:
    """Reject records whose detected ``lang`` is not in ``languages`` (language)."""
    if "lang" in batch.columns:
        langs = list(batch["lang"])
    else:
        langs = [
            detect_lang(content_of([{"content": t} for t in scored_turns(m, x)], None))
            for m, x in zip(batch["messages"], _texts(batch), strict=True)
        ]
    allowed = list(languages)
    mask = [lang not in allowed for lang in langs]
    details = [f"lang {lang} not in quality.languages [{', '.join(allowed)}]" for lang in langs]
    return split_by(batch, mask, Reason.LANGUAGE, details)


@register("readability", STAGE)
def readability(
    batch: pd.DataFrame, *, min_readability_en: float, max_grade_en: float, max_grade_zh: float
) -> OpResult:
    """Reject records that are pathologically hard to read (readability).

    English (``score_grade_en`` > ``max_grade_en`` or ``score_reading_ease_en``
    < ``min_readability_en``) is judged only when the record has at least
    ``MIN_WORDS_EN_READABILITY`` Latin words; Chinese (``score_grade_zh`` >
    ``max_grade_zh``) whenever it has Han characters. A record with neither
    script (NaN scores) is not judged here: the language filter handles it.
    """
    grade_en, ease_en, grade_zh = _columns(
        batch, ["score_grade_en", "score_reading_ease_en", "score_grade_zh"]
    )
    words_en = [
        len(LATIN_WORD_RE.findall(without_placeholders("\n".join(scored_turns(m, t)))))
        for m, t in zip(batch["messages"], _texts(batch), strict=True)
    ]
    details = []
    for g_en, e_en, g_zh, n_words in zip(grade_en, ease_en, grade_zh, words_en, strict=True):
        failures = []
        if n_words >= MIN_WORDS_EN_READABILITY:
            if g_en > max_grade_en:
                failures.append(
                    f"score_grade_en {_fmt(g_en)} > quality.max_grade_en {_fmt(max_grade_en)}"
                )
            if e_en < min_readability_en:
                failures.append(
                    f"score_reading_ease_en {_fmt(e_en)} < quality.min_readability_en {_fmt(min_readability_en)}"
                )
        if g_zh > max_grade_zh:
            failures.append(
                f"score_grade_zh {_fmt(g_zh)} > quality.max_grade_zh {_fmt(max_grade_zh)}"
            )
        details.append("; ".join(failures))
    return split_by(batch, [bool(d) for d in details], Reason.READABILITY, details)


@register("glossary", STAGE)
def glossary(batch: pd.DataFrame, *, glossary: list[str], min_glossary_hits: int) -> OpResult:
    """Reject records with fewer than ``min_glossary_hits`` glossary terms (off_domain); 0 = report only."""
    return _threshold_filter(
        batch,
        "score_glossary",
        "min_glossary_hits",
        min_glossary_hits,
        "<",
        Reason.OFF_DOMAIN,
        glossary=glossary,
    )


# ---------------------------------------------------------------- spot check
def _stratum(label, source) -> tuple[str, str | None]:
    """("label", value), or ("source", value) when the label is null (None, NaN or NA)."""
    if not pd.isna(label):
        return ("label", str(label))
    return ("source", None if pd.isna(source) else str(source))


def _rank_key(seed: int, record_id: str) -> tuple[int, str]:
    digest = hashlib.sha256(f"{seed}\x1f{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big"), record_id


def spot_check_ids(
    df: pd.DataFrame, fraction: float, seed: int, stratify_by: str = "label"
) -> list[str]:
    """Ids of a deterministic stratified sample for human review, sorted.

    Strata: the value of ``stratify_by``, or the record's ``source`` when that
    is null (or the column is absent). Each stratum of n records contributes
    round-half-up(fraction * n) records, at least one when fraction > 0; the
    chosen ones are those with the smallest seeded hash of their id. A record's
    rank depends only on (seed, id), so adding records to other strata never
    changes a stratum's picks, and adding records to the same stratum only
    adds picks or swaps in a new record that ranks higher.
    """
    if fraction <= 0 or not len(df):
        return []
    labels = list(df[stratify_by]) if stratify_by in df.columns else [None] * len(df)
    sources = list(df["source"]) if "source" in df.columns else [None] * len(df)
    strata: dict[tuple, list[str]] = {}
    for record_id, label, source in zip(df["id"], labels, sources, strict=True):
        strata.setdefault(_stratum(label, source), []).append(str(record_id))
    picked = []
    for ids in strata.values():
        take = min(len(ids), max(1, math.floor(fraction * len(ids) + 0.5)))
        picked.extend(sorted(ids, key=lambda rid: _rank_key(seed, rid))[:take])
    return sorted(picked)
