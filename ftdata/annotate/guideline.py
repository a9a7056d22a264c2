"""Read an annotation guideline (markdown): its version header and its machine-read examples.

The guideline is written for people, but two parts of it are data: the YAML
front matter (``version``: the version annotators record with every label) and
every fenced block tagged ``jsonl``, one example per line::

    {"query": "信用卡积分怎么兑换?", "label": "产品问题>积分规则>兑换流程"}
    {"query": "积分快过期了怎么办", "label": "产品问题>积分规则>有效期管理", "not": "账户问题>账单>账单查询", "why": "..."}

``label`` is the right answer; a boundary note also names the tempting wrong
label in ``not``. Tests check every example against the taxonomy, so the
guideline cannot drift from conf/taxonomy/ unnoticed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ftdata.errors import ConfigError

FENCE = re.compile(r"^(`{3,}|~{3,})\s*(\S*)")


@dataclass(frozen=True)
class Example:
    query: str
    label: str
    line: int  # 1-based line in the guideline file
    not_label: str | None = None
    why: str = ""

    @property
    def is_boundary(self) -> bool:
        return self.not_label is not None


@dataclass
class Guideline:
    path: str
    version: str
    title: str
    taxonomy: str
    examples: list[Example] = field(default_factory=list)
    # front matter `changes`: version -> what changed in it (a version bump's note)
    changes: dict[str, str] = field(default_factory=dict)

    @property
    def boundary_notes(self) -> list[Example]:
        return [e for e in self.examples if e.is_boundary]


def parse(text: str, path: str = "guideline.md") -> Guideline:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ConfigError(
            f"{path}:1: a guideline starts with YAML front matter (`---`, version: ..., `---`)"
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ConfigError(f"{path}:1: front matter is not closed with `---`") from None
    try:
        header = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: front matter is not valid YAML: {err}") from None
    version = header.get("version")
    if version is None or not str(version).strip():
        raise ConfigError(f"{path}: front matter has no `version`")
    title = next((ln[2:].strip() for ln in lines[end + 1 :] if ln.startswith("# ")), "")
    changes = header.get("changes") or {}
    if not isinstance(changes, dict):
        raise ConfigError(f"{path}: front matter `changes` must map a version to its note")
    guideline = Guideline(
        path=path,
        version=str(version),
        title=title,
        taxonomy=str(header.get("taxonomy") or ""),
        changes={str(k): str(v) for k, v in changes.items() if v},
    )
    guideline.examples = list(_examples(lines, end + 1, path))
    return guideline


def _examples(lines: list[str], start: int, path: str):
    fence: str | None = None
    in_examples = False
    for i in range(start, len(lines)):
        line = lines[i]
        match = FENCE.match(line.strip())
        if fence is None and match:
            fence, in_examples = match.group(1), match.group(2) == "jsonl"
            continue
        if (
            fence is not None
            and line.strip().startswith(fence)
            and line.strip() == fence[0] * len(line.strip())
        ):
            fence, in_examples = None, False
            continue
        if not in_examples or not line.strip():
            continue
        lineno = i + 1
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}:{lineno}: example is not valid JSON: {err.msg}") from None
        if not isinstance(row, dict) or not row.get("query") or not row.get("label"):
            raise ConfigError(f"{path}:{lineno}: an example needs `query` and `label`")
        yield Example(
            query=str(row["query"]),
            label=str(row["label"]),
            line=lineno,
            not_label=str(row["not"]) if row.get("not") else None,
            why=str(row.get("why") or ""),
        )
    if fence is not None:
        raise ConfigError(f"{path}: a fenced block is not closed")


def load(path: str | Path) -> Guideline:
    path = Path(path)
    if not path.is_file():
        from ftdata.errors import SourceError

        raise SourceError(f"{path}: guideline not found (annotate.guideline)")
    return parse(path.read_text(encoding="utf-8"), str(path))
