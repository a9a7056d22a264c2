"""Taxonomy migrations: old label paths remapped to current ones, declared in conf/annotate/.

A rename or a merge maps an old path to one new path and is applied silently
(the annotation keeps ``original_label``). A split maps it to several: the old
label cannot say which one applies, so the annotation stops counting as a vote
and its record is listed for re-annotation. ``changed`` entries mark parts of
the tree whose meaning changed in a guideline version without a path change
(a moved boundary); labels given there under an older guideline are listed too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ftdata.annotate.taxonomy import SEP, Taxonomy
from ftdata.errors import ConfigError


def version_key(version: str | None) -> tuple:
    """Order guideline versions numerically (``1.10`` after ``1.9``); unknown sorts first."""
    if not version:
        return (-1,)
    numbers = re.findall(r"\d+", str(version))
    return tuple(int(n) for n in numbers) if numbers else (-1, str(version))


@dataclass(frozen=True)
class Migration:
    old: str
    new: tuple[str, ...]
    since: str
    note: str = ""

    @property
    def is_split(self) -> bool:
        return len(self.new) > 1


@dataclass(frozen=True)
class Change:
    since: str
    paths: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Remap:
    """What migrating one label gave: a label, or the candidates of an ambiguous split."""

    label: str | None
    original: str | None  # the label before migration, when it changed
    candidates: tuple[str, ...] = ()
    rule: Migration | None = None

    @property
    def ambiguous(self) -> bool:
        return self.label is None and bool(self.candidates)


class Migrations:
    def __init__(self, migrations: list[Migration], changes: list[Change]):
        self.by_old = {m.old: m for m in migrations}
        self.changes = changes

    @classmethod
    def from_params(cls, section: dict) -> Migrations:
        migrations = [
            Migration(m["old"], tuple(m["new"]), str(m.get("since") or ""), m.get("note") or "")
            for m in section.get("migrations") or []
        ]
        changes = [
            Change(str(c.get("since") or ""), tuple(c["paths"]), c.get("note") or "")
            for c in section.get("changed") or []
        ]
        return cls(migrations, changes)

    def _rule_for(self, label: str) -> tuple[Migration, str] | None:
        """The exact rule for ``label``, else the rule of its longest migrated prefix."""
        if label in self.by_old:
            return self.by_old[label], ""
        parts = label.split(SEP)
        for i in range(len(parts) - 1, 0, -1):
            prefix = SEP.join(parts[:i])
            if prefix in self.by_old:
                return self.by_old[prefix], SEP + SEP.join(parts[i:])
        return None

    def remap(self, label: str) -> Remap:
        """Follow migrations (chains too) from ``label`` until none applies."""
        current, seen, last_rule = label, set(), None
        while True:
            found = self._rule_for(current)
            if found is None:
                break
            rule, rest = found
            if current in seen:
                raise ConfigError(f"conf/annotate: migrations loop at {current!r}")
            seen.add(current)
            last_rule = rule
            if rule.is_split:
                return Remap(None, label, tuple(n + rest for n in rule.new), rule)
            current = rule.new[0] + rest
        return Remap(current, label if current != label else None, (), last_rule)

    def needs_reannotation(self, label: str, guideline_version: str | None) -> Change | None:
        """The change that makes a label given under ``guideline_version`` stale, if any."""
        for change in self.changes:
            if version_key(guideline_version) < version_key(change.since) and any(
                label == p or label.startswith(p + SEP) for p in change.paths
            ):
                return change
        return None

    def check(self, tax: Taxonomy, origin: str) -> None:
        """Targets must exist in the taxonomy; sources must not (else the rule never fires)."""
        for m in self.by_old.values():
            if not m.new:
                raise ConfigError(f"{origin}: migration of {m.old!r} has no `new` path")
            if m.old in tax.nodes:
                raise ConfigError(
                    f"{origin}: migration `old` {m.old!r} is still a node of taxonomy {tax.version}; "
                    "remove the migration or the node"
                )
            for target in m.new:
                tail_is_inner = m.old not in tax.nodes and target in tax.nodes
                if not (tax.is_label(target) or tail_is_inner):
                    raise ConfigError(
                        f"{origin}: migration {m.old!r} -> {target!r}: target is not in taxonomy "
                        f"{tax.version}{tax.suggest(target)}"
                    )
        for c in self.changes:
            for p in c.paths:
                if p not in tax.nodes:
                    raise ConfigError(
                        f"{origin}: `changed` path {p!r} is not a taxonomy node{tax.suggest(p)}"
                    )
        for m in self.by_old.values():
            self.remap(m.old)  # raises on loops
