"""Rule-based augmentation ops: offline, deterministic, driven by tables in conf/augment/.

Each op is registered for the ``augment`` stage as ``fn(batch, *, seed,
**params) -> OpResult`` whose ``kept`` holds NEW records (children), not the
batch: the augment stage (``ftdata.augment.engine``) runs them, checks the
children for duplicates and leakage, and appends them. ``batch`` carries a
``_variants`` column, how many children the stage wants per record (0 = none);
an op makes at most that many, fewer when a record offers less to change.

Only user turns are rewritten by the text ops: the assistant's answer holds
facts (fees, dates, contract clauses) that a synonym or a dialect word must
not alter, and a customer-service model should learn to give the same answer
to differently phrased questions.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from ftdata.augment.records import child_rng, make_child, op_params_hash
from ftdata.errors import ConfigError
from ftdata.registry import OpResult, register

# The clean stage's PII placeholders (<PHONE>, <BANK_CARD>); same pattern as ftdata.text.lang.
PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z0-9_]{0,31}>")
EN_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


# ------------------------------------------------------------------ shared
def _lang(row: dict) -> str:
    lang = row.get("lang")
    if isinstance(lang, str) and lang:
        return lang
    from ftdata.record import content_of
    from ftdata.text.lang import detect_lang

    return detect_lang(content_of(row.get("messages"), row.get("text")))


def _rows(batch: pd.DataFrame) -> Iterable[tuple[dict, int]]:
    variants = batch["_variants"] if "_variants" in batch.columns else [1] * len(batch)
    for row, n in zip(batch.to_dict("records"), variants, strict=True):
        if n and int(n) > 0:
            yield row, int(n)


def _result(children: list[dict], columns: Iterable[str]) -> OpResult:
    kept = pd.DataFrame(children) if children else pd.DataFrame(columns=list(columns))
    return OpResult(kept=kept.astype(object))


def _messages(row: dict) -> list[dict]:
    return [dict(m) for m in (row.get("messages") or [])]


def _rewrite_user_turns(messages: list[dict], roles: list[str], fn) -> tuple[list[dict], int]:
    """Apply ``fn(text) -> (text, n_changes)`` to turns of ``roles``; total changes."""
    out, changes = [], 0
    for m in messages:
        if m.get("role") in roles and m.get("content"):
            new, n = fn(m["content"])
            out.append({**m, "content": new})
            changes += n
        else:
            out.append(dict(m))
    return out, changes


# ------------------------------------------------------------------ synonyms
@functools.cache
def _tokenizer(words: tuple[str, ...]):
    """A jieba tokenizer that knows the dictionary's words; built once per process and dictionary.

    jieba builds (or loads from its temp-dir cache) a prefix dictionary on
    first use, which takes a second or two: doing that per record or per
    batch would dominate the op's cost.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        if not EN_WORD_RE.fullmatch(word):
            tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000))
    return tokenizer


def _synonym_lookup(groups: list[list[str]], where: str) -> dict[str, list[str]]:
    lookup: dict[str, list[str]] = {}
    for i, group in enumerate(groups):
        if not isinstance(group, list) or len(group) < 2:
            raise ConfigError(
                f"{where}[{i}]: a synonym group lists at least two words, got {group!r}"
            )
        for word in group:
            key = word.casefold()
            lookup.setdefault(key, [])
            lookup[key].extend(w for w in group if w.casefold() != key and w not in lookup[key])
    return lookup


def tokens(text: str, lang: str, words: tuple[str, ...]) -> list[str]:
    """Tokens that concatenate back to ``text``: jieba for Chinese, words and gaps for English."""
    if lang == "en":
        parts, pos = [], 0
        for match in EN_WORD_RE.finditer(text):
            if match.start() > pos:
                parts.append(text[pos : match.start()])
            parts.append(match.group())
            pos = match.end()
        if pos < len(text):
            parts.append(text[pos:])
        return parts
    return _tokenizer(words).lcut(text, HMM=False)


def _match_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def replace_synonyms(
    text: str,
    lang: str,
    lookup: dict[str, list[str]],
    words: tuple[str, ...],
    rng,
    max_replacements: int,
) -> tuple[str, int]:
    """Replace up to ``max_replacements`` dictionary words of ``text`` by a synonym (rng picks)."""
    parts = tokens(text, lang, words)
    candidates = [i for i, tok in enumerate(parts) if tok.casefold() in lookup]
    if not candidates:
        return text, 0
    chosen = sorted(rng.sample(candidates, min(max_replacements, len(candidates))))
    for i in chosen:
        replacement = rng.choice(lookup[parts[i].casefold()])
        parts[i] = _match_case(replacement, parts[i]) if lang == "en" else replacement
    return "".join(parts), len(chosen)


@register("synonym", "augment")
def synonym(
    batch: pd.DataFrame,
    *,
    seed: int,
    groups: dict[str, list[list[str]]],
    max_replacements: int = 2,
    roles: list[str] | None = None,
) -> OpResult:
    """Replace words of user turns with synonyms from the domain dictionary (jieba for Chinese).

    ``groups``: per language (``zh``, ``en``), lists of mutually replaceable
    words. Variant k draws its own replacements, so variants differ.
    """
    roles = roles or ["user"]
    name = "synonym"
    phash = op_params_hash(
        name, {"seed": seed, "groups": groups, "max_replacements": max_replacements, "roles": roles}
    )
    lookups = {
        lang: _synonym_lookup(g, f"augment.synonym.groups.{lang}") for lang, g in groups.items()
    }
    words = tuple(sorted({w for g in groups.get("zh", []) for w in g}))
    children = []
    for row, n in _rows(batch):
        lang = _lang(row)
        if lang not in lookups:
            continue
        seen = set()
        for k in range(n):
            rng = child_rng(seed, row["id"], name, k)
            messages, changes = _rewrite_user_turns(
                _messages(row),
                roles,
                lambda t, rng=rng, lang=lang: replace_synonyms(
                    t, lang, lookups[lang], words, rng, max_replacements
                ),
            )
            key = tuple(m["content"] for m in messages)
            if changes and key not in seen:
                seen.add(key)
                children.append(make_child(row, op=name, phash=phash, variant=k, messages=messages))
    return _result(children, batch.columns)


# ------------------------------------------------------------------ dialect
def _phrase_pattern(table: dict[str, str]) -> re.Pattern:
    # longest phrase first, so 怎么查账单 wins over 怎么
    phrases = sorted(table, key=lambda p: (-len(p), p))
    return re.compile("|".join(re.escape(p) for p in phrases))


def apply_phrase_table(text: str, table: dict[str, str]) -> tuple[str, int]:
    """Replace every phrase of ``table`` in ``text`` (longest match first); return the count."""
    if not table:
        return text, 0
    pattern = _phrase_pattern(table)
    count = 0

    def sub(match: re.Match) -> str:
        nonlocal count
        count += 1
        return table[match.group()]

    return pattern.sub(sub, text), count


@register("dialect", "augment")
def dialect(
    batch: pd.DataFrame,
    *,
    seed: int,
    tables: dict[str, dict[str, str]],
    min_replacements: int = 1,
    roles: list[str] | None = None,
) -> OpResult:
    """Rewrite Chinese user turns into a dialect (e.g. Cantonese 点样查账单) from a phrase table.

    One child per dialect in ``tables`` (its position is the variant), made
    only when at least ``min_replacements`` phrases matched. Deterministic:
    a phrase table has one rewrite per phrase, so ``seed`` only enters the id.
    """
    roles = roles or ["user"]
    name = "dialect"
    phash = op_params_hash(
        name, {"seed": seed, "tables": tables, "min_replacements": min_replacements, "roles": roles}
    )
    children = []
    for row, _n in _rows(batch):
        if _lang(row) != "zh":
            continue
        for k, (dialect_name, table) in enumerate(sorted(tables.items())):
            messages, changes = _rewrite_user_turns(
                _messages(row), roles, lambda t, table=table: apply_phrase_table(t, table)
            )
            if changes >= max(1, min_replacements):
                children.append(
                    make_child(
                        row,
                        op=name,
                        phash=phash,
                        variant=k,
                        messages=messages,
                        meta={"dialect": dialect_name},
                    )
                )
    return _result(children, batch.columns)


# ------------------------------------------------------------------ structure
def _fold(text: str) -> str:
    """Text without punctuation, spaces and case: what greeting lists are matched on."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZS")


def strip_greeting(text: str, prefixes: list[str]) -> str:
    """``text`` without leading greeting prefixes (``你好，``, ``Hi, ``) and the punctuation after them."""
    changed = True
    while changed:
        changed = False
        for prefix in sorted(prefixes, key=len, reverse=True):
            if text.casefold().startswith(prefix.casefold()):
                rest = text[len(prefix) :]
                if (
                    prefix[-1:].isascii()
                    and prefix[-1:].isalpha()
                    and rest[:1].isascii()
                    and rest[:1].isalpha()
                ):
                    continue  # "hi" is not a prefix of "his"
                rest = rest.lstrip(" \t\n,，.。!！~～、")
                if rest != text:
                    text, changed = rest, True
    return text


def is_greeting(text: str, greetings: list[str], prefixes: list[str]) -> bool:
    """A turn that is only a greeting / small talk: in ``greetings``, or nothing left after prefixes."""
    folded = _fold(text)
    if not folded:
        return True
    if folded in {_fold(g) for g in greetings}:
        return True
    return not _fold(strip_greeting(text, prefixes))


def exchanges(messages: list[dict]) -> list[tuple[str, str]]:
    """(question, answer) per exchange: consecutive user turns joined, then the assistant turns."""
    pairs: list[tuple[list[str], list[str]]] = []
    for m in messages:
        role, content = m.get("role"), m.get("content") or ""
        if role == "system" or not content:
            continue
        if role == "user":
            if not pairs or pairs[-1][1]:
                pairs.append(([], []))
            pairs[-1][0].append(content)
        elif role == "assistant" and pairs:
            pairs[-1][1].append(content)
    return [("\n".join(q), "\n".join(a)) for q, a in pairs if q and a]


def _system(messages: list[dict]) -> list[dict]:
    return [dict(m) for m in messages if m.get("role") == "system"]


def _qa(question: str, answer: str, system: list[dict]) -> list[dict]:
    return [
        *system,
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]


def _lang_key(lang: str) -> str:
    return "en" if lang == "en" else "zh"


@register("qa_to_dialogue", "augment")
def qa_to_dialogue(
    batch: pd.DataFrame,
    *,
    seed: int,
    openings: dict[str, list[list[str]]],
    greetings: dict[str, list[str]],
    prefixes: dict[str, list[str]],
) -> OpResult:
    """Turn a single Q/A pair into a 用户/客服 dialogue: a greeting exchange, then the Q/A.

    ``openings``: per language, ``[user greeting, agent reply]`` pairs; the
    child's variant picks one with its seeded RNG. Records that already
    open with a greeting, or hold more than one exchange, are left alone.
    """
    name = "qa_to_dialogue"
    phash = op_params_hash(
        name, {"seed": seed, "openings": openings, "greetings": greetings, "prefixes": prefixes}
    )
    children = []
    for row, n in _rows(batch):
        messages = _messages(row)
        pairs = exchanges(messages)
        turns = [m for m in messages if m.get("role") != "system"]
        if len(pairs) != 1 or len(turns) != 2:
            continue
        lang = _lang_key(_lang(row))
        question, answer = pairs[0]
        if (
            is_greeting(question, greetings.get(lang, []), prefixes.get(lang, []))
            or strip_greeting(question, prefixes.get(lang, [])) != question
        ):
            continue
        options = openings.get(lang, [])
        used = set()
        for k in range(min(n, len(options))):
            rng = child_rng(seed, row["id"], name, k)
            choice = rng.randrange(len(options))
            while choice in used:
                choice = (choice + 1) % len(options)
            used.add(choice)
            hello, reply = options[choice]
            dialogue = [
                *_system(messages),
                {"role": "user", "content": hello},
                {"role": "assistant", "content": reply},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
            children.append(make_child(row, op=name, phash=phash, variant=k, messages=dialogue))
    return _result(children, batch.columns)


def _row_exchanges(
    row: dict, messages: list[dict], greetings, prefixes, min_question_chars: int
) -> list[tuple[int, str, str]]:
    """A record's substantive exchanges, with the greeting lists of its language."""
    lang = _lang_key(_lang(row))
    return _substantive(
        exchanges(messages),
        lang,
        greetings.get(lang, []),
        prefixes.get(lang, []),
        min_question_chars,
    )


def _substantive(
    pairs: list[tuple[str, str]], lang: str, greetings, prefixes, min_question_chars: int
) -> list[tuple[int, str, str]]:
    out = []
    for i, (question, answer) in enumerate(pairs):
        # consecutive user turns were joined by newlines: drop the greeting-only ones
        parts = [
            strip_greeting(t, prefixes)
            for t in question.split("\n")
            if not is_greeting(t, greetings, prefixes)
        ]
        q = "\n".join(p for p in parts if p)
        if not q:
            continue
        # a PII placeholder (<PHONE>) is an identity check, not a question: it does not count
        if len(_fold(PLACEHOLDER_RE.sub("", q))) < min_question_chars:
            continue
        out.append((i, q, strip_greeting(answer, prefixes) or answer))
    return out


@register("dialogue_to_qa", "augment")
def dialogue_to_qa(
    batch: pd.DataFrame,
    *,
    seed: int,
    greetings: dict[str, list[str]],
    prefixes: dict[str, list[str]],
    min_question_chars: int = 6,
) -> OpResult:
    """Turn a single-question 用户/客服 dialogue back into a bare Q/A pair (the inverse of qa_to_dialogue).

    Greeting-only exchanges are dropped, greeting prefixes (``您好，``) are
    stripped, consecutive user turns are joined. Only dialogues with exactly
    one substantive exchange qualify (several: see ``multiturn_to_qa``), and
    only when the result differs from the record.
    """
    name = "dialogue_to_qa"
    phash = op_params_hash(
        name,
        {
            "seed": seed,
            "greetings": greetings,
            "prefixes": prefixes,
            "min_question_chars": min_question_chars,
        },
    )
    children = []
    for row, _n in _rows(batch):
        messages = _messages(row)
        found = _row_exchanges(row, messages, greetings, prefixes, min_question_chars)
        if len(found) != 1:
            continue
        _, question, answer = found[0]
        qa = _qa(question, answer, _system(messages))
        if [m["content"] for m in qa] == [m.get("content") for m in messages]:
            continue
        children.append(make_child(row, op=name, phash=phash, variant=0, messages=qa))
    return _result(children, batch.columns)


@register("multiturn_to_qa", "augment")
def multiturn_to_qa(
    batch: pd.DataFrame,
    *,
    seed: int,
    greetings: dict[str, list[str]],
    prefixes: dict[str, list[str]],
    min_question_chars: int = 6,
    max_pairs: int = 3,
) -> OpResult:
    """Split a multi-turn dialogue into single Q/A pairs, one per substantive exchange.

    The exchange index is the variant; at most ``max_pairs`` per record.
    Children keep the conversation's label. Limit: a follow-up question that
    only makes sense in context (``那多久到账``) is short and usually falls
    under ``min_question_chars``, but not always.
    """
    name = "multiturn_to_qa"
    phash = op_params_hash(
        name,
        {
            "seed": seed,
            "greetings": greetings,
            "prefixes": prefixes,
            "min_question_chars": min_question_chars,
            "max_pairs": max_pairs,
        },
    )
    children = []
    for row, _n in _rows(batch):
        messages = _messages(row)
        found = _row_exchanges(row, messages, greetings, prefixes, min_question_chars)
        if len(found) < 2:
            continue
        for index, question, answer in found[:max_pairs]:
            children.append(
                make_child(
                    row,
                    op=name,
                    phash=phash,
                    variant=index,
                    messages=_qa(question, answer, _system(messages)),
                )
            )
    return _result(children, batch.columns)


RULE_OPS = ("synonym", "dialect", "qa_to_dialogue", "dialogue_to_qa", "multiturn_to_qa")
