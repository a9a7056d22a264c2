"""Dataset contracts: bounds every build must meet, checked on the figures of the build.

A contract is a promise about the data, not about the code: no residual PII, enough
records in every split, no label swallowing a taxonomy level, a bounded share of
generated and of duplicate records, a length distribution and a language mix within
range. The bounds live in conf/contracts/ (``contracts.*``); a bound left null is not
checked. The report stage checks them once the report is written, writes every check
to data/metrics/contracts.json (under ``gates``, the shape ``ftdata release`` refuses a
failed one in) and, in ``mode: fail``, fails the build (exit 4) naming bound and figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ftdata.errors import ConfigError
from ftdata.record import content_of

UNLABELLED = "(unlabelled)"
MODES = ("fail", "warn")


@dataclass(frozen=True)
class Check:
    name: str  # what is measured, e.g. ``label_share[账户问题]``
    bound: str  # the params key that sets the limit
    op: str  # "<=" or ">="
    limit: float
    figure: float
    passed: bool
    mode: str  # fail | warn
    since: str = ""  # the release a change is measured from (drift bounds only)

    def line(self) -> str:
        against = f" since {self.since}" if self.since else ""
        return (
            f"{self.name} = {_num(self.figure)}{against}, bound {self.op} {_num(self.limit)} "
            f"({self.bound})"
        )


def _num(x: float) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _check(name: str, bound: str, limit, figure, at_most: bool, mode: str) -> Check:
    passed = figure <= limit if at_most else figure >= limit
    op = "<=" if at_most else ">="
    return Check(name, f"contracts.{bound}", op, limit, figure, bool(passed), mode)


def check_contracts(
    section: dict, summary: dict, metrics: dict[str, dict], records: pd.DataFrame
) -> list[Check]:
    """Every configured bound against the build's figures, in a fixed order.

    ``summary`` is data/metrics/summary.json, ``metrics`` the stage metrics by stage
    name (``export``, ``dedup``), ``records`` the exported records.
    """
    mode = section["mode"]
    found: list[tuple[str, str, object, float, bool]] = []  # name, bound, limit, figure, at_most
    residual = (metrics.get("export") or {}).get("residual_pii", {}).get("records", 0)
    found.append(("residual_pii_records", "max_residual_pii_records",
                  section["max_residual_pii_records"], residual, True))  # fmt: skip
    dedup = metrics.get("dedup") or {}
    dup_share = dedup.get("rejected_total", 0) / dedup["in"] if dedup.get("in") else 0.0
    found.append(("duplicate_share", "max_duplicate_share", section["max_duplicate_share"],
                  round(dup_share, 4), True))  # fmt: skip
    exported = summary.get("exported_records", 0)
    derived = sum((summary.get("derived_records") or {}).values())
    found.append(("derived_share", "max_derived_share", section["max_derived_share"],
                  round(derived / exported, 4) if exported else 0.0, True))  # fmt: skip
    splits = summary.get("splits") or {}
    for split, minimum in (section["min_records_per_split"] or {}).items():
        found.append((f"records[{split}]", f"min_records_per_split.{split}", minimum,
                      int(splits.get(split, 0)), False))  # fmt: skip
    if len(records):
        found += _label_shares(section["label_share"], records)
        found += _length_percentile(section["chars_percentile"], records)
        found += _language_shares(section["language_share"], records)
    return [_check(n, b, lim, fig, most, mode) for n, b, lim, fig, most in found if lim is not None]


def _label_shares(rule: dict | None, records: pd.DataFrame) -> list[tuple]:
    if not rule:
        return []
    level = rule["level"]
    labels = [
        ">".join(lb.split(">")[:level]) if isinstance(lb, str) and lb else UNLABELLED
        for lb in records["label"]
    ]
    shares = pd.Series(labels).value_counts(normalize=True).sort_index()
    out = []
    for label, share in shares.items():
        if label != UNLABELLED:
            name, share = f"label_share[{label}]", round(float(share), 4)
            out.append((name, "label_share.min", rule["min"], share, False))
            out.append((name, "label_share.max", rule["max"], share, True))
    return out


def _length_percentile(rule: dict | None, records: pd.DataFrame) -> list[tuple]:
    if not rule:
        return []
    texts = zip(records["messages"], records["text"], strict=True)
    lengths = [len(content_of(m, t)) for m, t in texts]
    figure = int(np.percentile(lengths, rule["p"], method="lower"))
    name = f"chars_p{rule['p']}"
    return [
        (name, "chars_percentile.min", rule["min"], figure, False),
        (name, "chars_percentile.max", rule["max"], figure, True),
    ]


def _language_shares(rules: dict | None, records: pd.DataFrame) -> list[tuple]:
    if not rules or "lang" not in records.columns:
        return []
    shares = records["lang"].fillna("other").value_counts(normalize=True)
    out = []
    for lang, (low, high) in sorted(rules.items()):
        share = round(float(shares.get(lang, 0.0)), 4)
        out.append((f"language_share[{lang}]", f"language_share.{lang}[0]", low, share, False))
        out.append((f"language_share[{lang}]", f"language_share.{lang}[1]", high, share, True))
    return out


def label_shares(rows: list[dict], level: int) -> dict[str, float]:
    """Each label's share of all exported records at ``level``, from plots/labels.json rows.

    The denominator is every record (level 1 counts each once, the unlabelled too), so a
    share is comparable between two builds of different sizes.
    """
    total = sum(r["count"] for r in rows if r["level"] == 1)
    counts: dict[str, int] = {}
    for r in rows:
        if r["level"] == level and r["label"] != UNLABELLED:
            counts[r["label"]] = counts.get(r["label"], 0) + r["count"]
    return {label: n / total for label, n in sorted(counts.items())} if total else {}


def drift_checks(rule: dict | None, current: dict, baseline: dict, mode: str) -> list[Check]:
    """Bounds on the change since the release ``rule['baseline']``.

    ``current`` and ``baseline`` hold ``labels`` (plots/labels.json rows) and ``sources``
    (summary.json's per-source counts) of this build and of the release.
    """
    if not rule or not rule.get("baseline"):
        return []
    since, level = rule["baseline"], rule["level"]
    checks = []
    if rule.get("max_label_share_change") is not None:
        now, then = label_shares(current["labels"], level), label_shares(baseline["labels"], level)
        for label in sorted(set(now) | set(then)):
            moved = round(abs(now.get(label, 0.0) - then.get(label, 0.0)), 4)
            checks.append(
                _check(
                    f"label_share_change[{label}]",
                    "drift.max_label_share_change",
                    rule["max_label_share_change"],
                    moved,
                    True,
                    mode,
                )  # fmt: skip
            )
    if rule.get("max_source_loss") is not None:
        for source, then in sorted(baseline["sources"].items()):
            before = int(then.get("kept", 0))
            after = int((current["sources"].get(source) or {}).get("kept", 0))
            loss = round(max(0, before - after) / before, 4) if before else 0.0
            checks.append(
                _check(
                    f"source_loss[{source}]",
                    "drift.max_source_loss",
                    rule["max_source_loss"],
                    loss,
                    True,
                    mode,
                )  # fmt: skip
            )
    if rule.get("guideline_notes"):
        checks += _guideline_checks(
            current.get("guidelines") or {}, baseline.get("guidelines") or {}, mode
        )
    return [Check(**{**asdict(c), "since": since}) for c in checks]


def _guideline_checks(now: dict[str, dict], then: dict[str, dict], mode: str) -> list[Check]:
    """A guideline edited since the release must bump its version, and a bumped version
    must say what changed (front matter ``changes``): labels made under two texts of one
    version cannot be told apart, and a bump without a note leaves reviewers guessing."""
    checks = []
    for path, g in sorted(now.items()):
        old = then.get(path)
        if old is None:
            continue  # a new guideline: nothing to compare with
        edited, bumped = g["sha256"] != old["sha256"], g["version"] != old["version"]
        checks.append(
            _check(
                f"guideline_bumped[{path}]",
                "drift.guideline_notes",
                1,
                int(bumped or not edited),
                False,
                mode,
            )  # fmt: skip
        )
        checks.append(
            _check(
                f"guideline_noted[{path}]",
                "drift.guideline_notes",
                1,
                int(not bumped or g["version"] in g["changes"]),
                False,
                mode,
            )  # fmt: skip
        )
    return checks


def check_section(section: dict) -> None:
    """What the schema cannot say: the mode, and each language's bounds as [min, max]."""
    if section["mode"] not in MODES:
        raise ConfigError(f"`contracts.mode` is {section['mode']!r}; expected fail or warn")
    for lang, pair in (section["language_share"] or {}).items():
        if len(pair) != 2 or not 0 <= pair[0] <= pair[1] <= 1:
            raise ConfigError(
                f"`contracts.language_share.{lang}` is {pair}; expected [min, max] within [0, 1]"
            )


def broken(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]


def as_metrics(checks: list[Check]) -> dict:
    """data/metrics/contracts.json: counts, then every check (``gates``, as release reads)."""
    return {
        "checked": len(checks),
        "broken": len(broken(checks)),
        "gates": [{**asdict(c), "detail": c.line()} for c in checks],
    }


def markdown(checks: list[Check]) -> list[str]:
    """The contracts as a table (the dataset card): what held, what broke."""
    if not checks:
        return []
    lines = ["## Contracts", "", "| check | figure | bound | status |", "|---|---|---|---|"]
    for c in checks:
        status = "ok" if c.passed else ("**broken**" if c.mode == "fail" else "below bound (warn)")
        lines.append(
            f"| {c.name} | {_num(c.figure)}{f' since {c.since}' if c.since else ''} | "
            f"{c.op} {_num(c.limit)} (`{c.bound}`) | {status} |"
        )
    lines.append("")
    return lines
