"""The licence gate: an export carries only records whose source licence it accepts.

Every source declares its ``license`` (``source.<name>.license``) and every record
carries it from ingest on; the export declares the licences it may publish
(``export.accepted_licenses``). A build that would export a record under any other
licence fails (exit 4) naming the source, the licence and an example record, so a
licence problem is fixed in conf, never discovered in a published dataset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ftdata.errors import GateError

NO_LICENSE = "(none)"


@dataclass(frozen=True)
class LicenseViolation:
    source: str
    license: str
    records: int
    example: str  # the locator of the first such record


def _norm(name: str) -> str:
    """Licence names compare case- and space-insensitively ("CC-BY-4.0" == "cc-by-4.0 ")."""
    return name.strip().casefold()


def accepted_set(accepted: Iterable[str]) -> frozenset[str]:
    """``export.accepted_licenses`` in the form ``is_accepted`` compares against."""
    return frozenset(_norm(str(a)) for a in accepted)


def is_accepted(license: object, allowed: frozenset[str]) -> bool:
    """``license`` is one of ``allowed`` (compose checks sources with it, export records)."""
    return isinstance(license, str) and _norm(license) in allowed


def license_violations(records: pd.DataFrame, accepted: Iterable[str]) -> list[LicenseViolation]:
    """Per (source, licence) outside ``accepted``: how many records and one locator, sorted."""
    allowed = accepted_set(accepted)
    found: dict[tuple[str, str], list] = {}
    if not len(records):
        return []
    sources = records["source"] if "source" in records.columns else [None] * len(records)
    licenses = records["license"] if "license" in records.columns else [None] * len(records)
    locators = records["locator"] if "locator" in records.columns else [""] * len(records)
    for source, lic, locator in zip(sources, licenses, locators, strict=True):
        lic = lic if isinstance(lic, str) and lic.strip() else NO_LICENSE
        if lic != NO_LICENSE and is_accepted(lic, allowed):
            continue
        entry = found.setdefault((str(source), lic), [0, str(locator or "")])
        entry[0] += 1
    return [
        LicenseViolation(source, lic, n, example)
        for (source, lic), (n, example) in sorted(found.items())
    ]


def check_export_licenses(
    records: pd.DataFrame, accepted: Iterable[str], where: str = "export.accepted_licenses"
) -> None:
    """Raise GateError when a record about to be exported has a licence outside ``accepted``."""
    accepted = list(accepted)
    violations = license_violations(records, accepted)
    if not violations:
        return
    parts = [
        f"source `{v.source}` has licence {v.license!r} ({v.records} record(s), e.g. {v.example})"
        for v in violations
    ]
    listed = ", ".join(repr(a) for a in accepted) or "nothing"
    raise GateError(
        f"{where} ({listed}) does not accept: {'; '.join(parts)}. Add the licence to "
        f"{where} if this export may carry it, or remove the source from the build"
    )
