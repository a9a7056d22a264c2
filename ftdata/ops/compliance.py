"""Compliance filter: configurable keyword and regex rules that flag or reject high-risk content.

A bank's SFT data must not teach a model to promise guaranteed returns, help a
customer cash out a credit line or explain how to get around risk control. What
counts as such content is policy, not code, so the rules live in conf
(``clean.compliance.rules``, by default ``conf/clean/compliance/bank_card.yaml``).
Each rule has a stable ``id`` that is recorded where it fired: in the record's
``compliance_flags`` (action ``flag``: the record is kept for a reviewer to look
at) or in the reject detail (action ``reject``: reason ``compliance``).

Run it after ``redact_pii``: the reject detail quotes the matched text, and a
rejected record is written with the text it has at that point.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass

import pandas as pd

from ftdata.errors import ConfigError
from ftdata.reasons import Reason
from ftdata.record import canonical_json
from ftdata.registry import OpResult, register, split_by

ACTIONS = ("flag", "reject")
# Where a rule looks: the turns of these roles, and ``text`` (classification samples).
SCOPES = ("system", "user", "assistant", "text")
RULE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
RULE_KEYS = ("id", "action", "description", "keywords", "patterns", "allow", "roles")
WHERE = "clean.compliance.rules"


@dataclass(frozen=True)
class Rule:
    id: str
    action: str
    description: str
    patterns: tuple[re.Pattern[str], ...]  # keywords (compiled) and regexes
    allow: tuple[re.Pattern[str], ...]  # a match overlapping one of these does not count
    scopes: frozenset[str]

    def first_match(self, text: str) -> str | None:
        """The first matched text that no ``allow`` match overlaps, or None.

        Overlap, not containment: an allow pattern for a negation ("不要试图绕过")
        need not spell out the rest of the phrase the rule matched ("绕过风控").
        """
        allowed: list[tuple[int, int]] | None = None
        for pattern in self.patterns:
            for m in pattern.finditer(text):
                if allowed is None:
                    allowed = [a.span() for p in self.allow for a in p.finditer(text)]
                if not any(s < m.end() and m.start() < e for s, e in allowed):
                    return m.group(0)
        return None


@dataclass(frozen=True)
class Hit:
    rule: Rule
    where: str  # "messages[2] (assistant)" or "text"
    matched: str


def keyword_pattern(keyword: str) -> str:
    """A literal keyword as a regex: case-insensitive, whitespace-tolerant, word-bounded in ASCII.

    Spaces between Chinese characters are tolerated ("稳 赚 不 赔" is the same
    promise); an ASCII keyword only matches whole words, so "cash out" does not
    fire inside "cash outflow".
    """
    words = keyword.split()
    parts: list[str] = []
    for i, word in enumerate(words):
        if i:
            both_ascii = words[i - 1].isascii() and word.isascii()
            parts.append(r"\s+" if both_ascii else r"\s*")
        if word.isascii():
            parts.append(re.escape(word))
        else:
            parts.append(r"\s*".join(re.escape(ch) for ch in word))
    body = "".join(parts)
    if words and words[0][0].isascii() and words[0][0].isalnum():
        body = r"(?<![A-Za-z0-9])" + body
    if words and words[-1][-1].isascii() and words[-1][-1].isalnum():
        body += r"(?![A-Za-z0-9])"
    return body


def _compile(regex: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(regex, re.IGNORECASE)
    except re.error as err:
        raise ConfigError(f"{where}: {regex!r} is not a valid regular expression ({err})") from None


def _strings(value, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return list(value)


def compile_rules(rules, where: str = WHERE) -> tuple[Rule, ...]:
    """Check the configured rules and compile them; a mistake names the rule and the key.

    Compiled once per distinct rule set (the op is called once per batch).
    """
    if rules is None:
        return ()
    key = canonical_json(_plain(rules))
    return _compile_rules(key, where)


def _plain(value):
    """Rules as plain lists/dicts (OmegaConf containers too), so their JSON can key the cache."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return value
    if hasattr(value, "__iter__"):
        return [_plain(v) for v in value]
    return value


@functools.lru_cache(maxsize=32)
def _compile_rules(key: str, where: str) -> tuple[Rule, ...]:
    rules = json.loads(key)
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: expected a list of rules, got {type(rules).__name__}")
    compiled: list[Rule] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        at = f"{where}[{i}]"
        if not isinstance(rule, dict):
            raise ConfigError(
                f"{at}: expected a rule (a mapping with id, action, ...), got {rule!r}"
            )
        rule_id = rule.get("id")
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            raise ConfigError(f"{at}.id: {rule_id!r} is not a rule id (letters, digits, _ . -)")
        at = f"{where}[{i}] ({rule_id})"
        unknown = sorted(set(rule) - set(RULE_KEYS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], RULE_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{at}: unknown key `{unknown[0]}`{hint} (a rule has {', '.join(RULE_KEYS)})"
            )
        if rule_id in seen:
            raise ConfigError(f"{at}.id: {rule_id!r} is used by two rules; ids must be unique")
        seen.add(rule_id)
        action = rule.get("action", "flag")
        description = rule.get("description") or ""
        if not isinstance(description, str):
            raise ConfigError(f"{at}.description: expected a string, got {description!r}")
        if action not in ACTIONS:
            raise ConfigError(f"{at}.action: {action!r}; expected one of {', '.join(ACTIONS)}")
        keywords = _strings(rule.get("keywords"), f"{at}.keywords")
        regexes = _strings(rule.get("patterns"), f"{at}.patterns")
        if not keywords and not regexes:
            raise ConfigError(f"{at}: a rule needs at least one of `keywords` or `patterns`")
        roles = _strings(rule.get("roles"), f"{at}.roles")
        bad_roles = sorted(set(roles) - set(SCOPES))
        if bad_roles:
            raise ConfigError(
                f"{at}.roles: {bad_roles} unknown; expected some of {', '.join(SCOPES)}"
            )
        patterns = [_compile(keyword_pattern(k), f"{at}.keywords") for k in keywords]
        patterns += [_compile(p, f"{at}.patterns") for p in regexes]
        allow = tuple(
            _compile(p, f"{at}.allow") for p in _strings(rule.get("allow"), f"{at}.allow")
        )
        compiled.append(
            Rule(
                id=rule_id,
                action=action,
                description=description,
                patterns=tuple(patterns),
                allow=allow,
                scopes=frozenset(roles or SCOPES),
            )
        )
    return tuple(compiled)


def find_hits(rules: tuple[Rule, ...], messages, text) -> list[Hit]:
    """One hit per rule that fires on this record (its first match), in rule order."""
    parts: list[tuple[str, str, str]] = []  # (scope, where, content)
    for i, m in enumerate(messages if isinstance(messages, list | tuple) else []):
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, str) and content:
            role = m.get("role")
            parts.append((str(role), f"messages[{i}] ({role})", content))
    if isinstance(text, str) and text:
        parts.append(("text", "text", text))
    hits = []
    for rule in rules:
        for scope, where, content in parts:
            if scope not in rule.scopes:
                continue
            matched = rule.first_match(content)
            if matched is not None:
                hits.append(Hit(rule, where, matched))
                break
    return hits


def _previous(value) -> list[str]:
    if isinstance(value, str) or value is None:
        return []
    try:
        return [str(v) for v in value]
    except TypeError:
        return []


@register("compliance", "clean", changes_content=False)
def compliance(batch: pd.DataFrame, rules=()) -> OpResult:
    """Flag or reject records that match a compliance rule (keywords / regexes from conf).

    Sets ``compliance_flags`` (sorted ids of every rule that fired, merged with
    any earlier value). A record on which a ``reject`` rule fires is rejected
    with reason ``compliance`` and a detail naming the file and line, the rule,
    the matched text and the turn; flagged records get a lineage entry.
    """
    compiled = compile_rules(rules)
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    locators = batch["locator"] if "locator" in batch.columns else [""] * len(batch)
    previous = (
        batch["compliance_flags"] if "compliance_flags" in batch.columns else [None] * len(batch)
    )
    flags, changed, reject, details = [], [], [], []
    for msgs, text, locator, before in zip(
        batch["messages"], texts, locators, previous, strict=True
    ):
        hits = find_hits(compiled, msgs, text)
        fired = sorted({*_previous(before), *(h.rule.id for h in hits)})
        rejecting = [h for h in hits if h.rule.action == "reject"]
        flags.append(fired)
        changed.append(bool(hits))
        reject.append(bool(rejecting))
        if rejecting:
            first = rejecting[0]
            what = f" ({first.rule.description})" if first.rule.description else ""
            others = [h.rule.id for h in hits if h is not first]
            also = f"; also fired: {', '.join(others)}" if others else ""
            details.append(
                f"{locator}: compliance rule `{first.rule.id}`{what} matched "
                f"{first.matched!r} in {first.where}{also}"
            )
        else:
            details.append("")
    out = batch.copy()
    out["compliance_flags"] = pd.Series(flags, index=batch.index, dtype=object)
    out["_changed"] = pd.Series(changed, index=batch.index, dtype=object)
    return split_by(out, reject, Reason.COMPLIANCE, details)
