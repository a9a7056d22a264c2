"""A source's params section, checked once and turned into a typed spec, plus its files.

``read_source`` gets a plain dict (shaped by ``SourceConfig``); every mistake a
user can make in it fails here, before any file is read, naming the exact
``source.<name>.<key>``.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ftdata.config_schema import SOURCE_FORMATS, SourceConfig
from ftdata.errors import ConfigError, SourceError
from ftdata.params import at_key, check_section
from ftdata.record import ROLES, SOURCE_KINDS

PAGE_FORMATS = ("markdown", "html")
UNMAPPED_LABEL_CHOICES = ("keep", "reject")
# With the schema default glob "*", a directory source reads only the files its
# format can hold (a crawl folder also holds images; a parquet folder _SUCCESS).
DEFAULT_GLOBS: dict[str, tuple[str, ...]] = {
    "parquet": ("*.parquet",),
    "markdown": ("*.md", "*.markdown"),
    "html": ("*.html", "*.htm"),
    "xlsx": ("*.xlsx",),
    "json": ("*.json",),
}


@dataclass(frozen=True)
class FieldSpec:
    """Dotted paths of the canonical fields inside a raw record (see ``FieldMap``)."""

    id: str | None = None
    conversation_id: str | None = None
    messages: str | None = None
    role: str = "role"
    content: str = "content"
    question: str | None = None
    answer: str | None = None
    system: str | None = None
    text: str | None = None
    label: str | None = None
    meta: tuple[str, ...] = ()


# Q/A pages are not configured field by field: the page reader emits rows with
# these keys, and a page source's own ``fields`` may only point at them (e.g.
# ``label: section`` to label each question by the heading above it).
PAGE_KEYS = ("question", "answer", "page_title", "section")
PAGE_META = ("page_title", "section")


def page_fields(user: FieldSpec) -> FieldSpec:
    """The field map of a markdown/html source: fixed question/answer, the user's extras."""
    return FieldSpec(
        id=user.id,
        conversation_id=user.conversation_id,
        question="question",
        answer="answer",
        system=user.system,
        text=user.text,
        label=user.label,
        meta=PAGE_META + tuple(m for m in user.meta if m not in PAGE_META),
    )


@dataclass(frozen=True)
class SourceSpec:
    name: str
    path: str
    format: str
    kind: str
    license: str
    encoding: str = "auto"
    glob: str = "*"
    fields: FieldSpec = field(default_factory=FieldSpec)
    roles: dict[str, str] = field(default_factory=dict)
    label_map: dict[str, str] = field(default_factory=dict)
    csv_delimiter: str = ","
    sheet: str | None = None
    records_path: str | None = None
    heading_levels: tuple[int, ...] = (2, 3)
    unmapped_label: str = "keep"

    def key(self, name: str) -> str:
        """The config key a message should name, e.g. ``source.faq.fields.answer``."""
        return f"source.{self.name}.{name}"


def _opt_str(section: dict, key: str, where: str) -> str | None:
    value = section.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _parse_fields(raw: Any, where: str) -> FieldSpec:
    if raw is None:
        return FieldSpec()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of field paths")
    known = set(FieldSpec.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown field (valid: {', '.join(sorted(known))})"
        )
    values = {k: _opt_str(raw, k, where) for k in known if k != "meta"}
    for key in ("role", "content"):
        values[key] = values[key] or getattr(FieldSpec, key)
    meta = raw.get("meta") or []
    if isinstance(meta, str) or not all(isinstance(m, str) for m in meta):
        raise ConfigError(f"{where}.meta: expected a list of field paths")
    return FieldSpec(meta=tuple(meta), **values)


def _require(section: dict, key: str, where: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value or value == "???":
        raise ConfigError(f"{where}.{key}: required (a non-empty string)")
    return value


def check_glob(pattern: str, key: str) -> None:
    """A glob selects files *inside* the source folder; pathlib would raise on an absolute
    one (NotImplementedError) and follow ``..`` out of the folder."""
    pure = PurePosixPath(pattern.replace("\\", "/"))
    if pure.is_absolute() or PureWindowsPath(pattern).drive or ".." in pure.parts:
        raise ConfigError(
            f"{key}: {pattern!r} must be relative to the source folder (e.g. '*.jsonl' or "
            "'**/*.json'), not absolute or climbing out with '..'; point the source's path "
            "at the folder instead"
        )


def check_source_options(name: str, section: dict, origin: str) -> None:
    """The checks ``ftdata compose`` shares with the stage's own ``parse_spec``."""
    try:
        check_glob(section.get("glob") or "*", f"source.{name}.glob")
        unmapped = section.get("unmapped_label") or "keep"
        _check_choice(unmapped, UNMAPPED_LABEL_CHOICES, f"source.{name}.unmapped_label")
    except ConfigError as err:
        raise ConfigError(f"{origin}: {err}") from None


def _check_choice(value: str, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")


def parse_spec(name: str, cfg: dict) -> SourceSpec:
    """Check a source's params section and return it typed; ConfigError names the bad key."""
    where = f"source.{name}"
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True)
    if not isinstance(cfg, dict):
        raise ConfigError(f"{where}: expected a mapping")
    spec = SourceSpec(
        name=name,
        path=_require(cfg, "path", where),
        format=_require(cfg, "format", where),
        kind=_require(cfg, "kind", where),
        license=_require(cfg, "license", where),
        encoding=_opt_str(cfg, "encoding", where) or "auto",
        glob=_opt_str(cfg, "glob", where) or "*",
        fields=_parse_fields(cfg.get("fields"), f"{where}.fields"),
        roles=dict(cfg.get("roles") or {}),
        label_map={str(k): v for k, v in (cfg.get("label_map") or {}).items()},
        csv_delimiter=cfg.get("csv_delimiter") or ",",
        sheet=_opt_str(cfg, "sheet", where),
        records_path=_opt_str(cfg, "records_path", where),
        heading_levels=tuple(cfg.get("heading_levels") or (2, 3)),
        unmapped_label=_opt_str(cfg, "unmapped_label", where) or "keep",
    )
    check_glob(spec.glob, f"{where}.glob")
    _check_choice(spec.unmapped_label, UNMAPPED_LABEL_CHOICES, f"{where}.unmapped_label")
    _check_choice(spec.format, SOURCE_FORMATS, f"{where}.format")
    _check_choice(spec.kind, SOURCE_KINDS, f"{where}.kind")
    for raw_role, role in spec.roles.items():
        _check_choice(role, ROLES, f"{where}.roles.{raw_role}")
    if spec.encoding != "auto":
        try:
            codecs.lookup(spec.encoding)
        except LookupError:
            raise ConfigError(f"{where}.encoding: unknown encoding {spec.encoding!r}") from None
    if not isinstance(spec.csv_delimiter, str) or len(spec.csv_delimiter) != 1:
        raise ConfigError(
            f"{where}.csv_delimiter: must be one character, got {spec.csv_delimiter!r}"
        )
    if not spec.heading_levels or any(
        not isinstance(level, int) or not 1 <= level <= 6 for level in spec.heading_levels
    ):
        raise ConfigError(f"{where}.heading_levels: expected heading levels between 1 and 6")
    if spec.format in PAGE_FORMATS:
        _check_page_fields(spec.fields, f"{where}.fields")
    else:
        _check_fields(spec.fields, f"{where}.fields")
    return spec


def _check_page_fields(fields: FieldSpec, where: str) -> None:
    for key in ("messages", "question", "answer"):
        if getattr(fields, key):
            raise ConfigError(
                f"{where}.{key}: markdown/html pages take questions from headings; "
                f"fields may only name {', '.join(PAGE_KEYS)} (e.g. label: section)"
            )
    for key in ("id", "conversation_id", "system", "text", "label"):
        value = getattr(fields, key)
        if value and value not in PAGE_KEYS:
            raise ConfigError(f"{where}.{key}: {value!r} is not one of {', '.join(PAGE_KEYS)}")


def _check_fields(fields: FieldSpec, where: str) -> None:
    if bool(fields.question) != bool(fields.answer):
        missing = "answer" if fields.question else "question"
        raise ConfigError(f"{where}.{missing}: question and answer are set together")
    if not (fields.messages or fields.question or fields.text):
        raise ConfigError(
            f"{where}: set messages, question + answer, or text (where the content lives)"
        )
    if fields.messages and fields.question:
        raise ConfigError(f"{where}: set either messages or question + answer, not both")


# ---------------------------------------------------------------- files
def source_root(spec: SourceSpec, root: Path) -> tuple[Path, Path]:
    """(absolute project root, absolute source path), refusing paths outside the root.

    The check is lexical: symlinks inside the project (a DVC cache link, say)
    may point anywhere, but the configured path itself may not climb out.
    """
    root_abs = Path(os.path.normpath(Path(root).absolute()))
    target = Path(os.path.normpath(root_abs / spec.path))
    if Path(spec.path).is_absolute() or not target.is_relative_to(root_abs):
        raise ConfigError(
            f"{spec.key('path')}: {spec.path!r} is outside the project root {root_abs}; "
            "raw sources live inside the repository (e.g. data/raw/...)"
        )
    if not target.exists():
        raise SourceError(
            f"source {spec.name!r}: {spec.key('path')} = {spec.path!r} does not exist "
            f"(looked for {target})"
        )
    return root_abs, target


def list_files(spec: SourceSpec, root: Path) -> tuple[Path, list[Path]]:
    """The files a source reads, in sorted relative-path order (determinism).

    Hidden files (``.gitignore``, ``.DS_Store``) are never data. An ``hf`` folder
    is one dataset, returned whole for the hf reader to lay out.
    """
    root_abs, target = source_root(spec, root)
    if target.is_file() or spec.format == "hf":
        return root_abs, [target]
    patterns = DEFAULT_GLOBS.get(spec.format, ("*",)) if spec.glob == "*" else (spec.glob,)
    found = {
        p
        for pattern in patterns
        for p in target.glob(pattern)
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(target).parts)
    }
    if not found:
        raise SourceError(
            f"source {spec.name!r}: no files match {spec.key('glob')} = "
            f"{' or '.join(patterns)!r} under {spec.path!r}"
        )
    return root_abs, sorted(found, key=lambda p: p.relative_to(target).as_posix())


def relpath(path: Path, root_abs: Path) -> str:
    return Path(os.path.normpath(path)).relative_to(root_abs).as_posix()


def check_source(name: str, cfg: Any, origin: str, root: Path, must_exist: bool = True) -> dict:
    src = check_section(f"source.{name}", cfg, SourceConfig, origin)
    if src["format"] not in SOURCE_FORMATS:
        raise ConfigError(
            f"{origin}: `source.{name}.format` is {src['format']!r}; expected one of {', '.join(SOURCE_FORMATS)}"
        )
    if src["kind"] not in SOURCE_KINDS:
        raise ConfigError(
            f"{origin}: `source.{name}.kind` is {src['kind']!r}; expected one of {', '.join(SOURCE_KINDS)}"
        )
    for key in ("label_map", "roles"):
        for raw, value in src[key].items():
            if not isinstance(value, str):
                example = "'账户问题>账单>账单查询'" if key == "label_map" else "user"
                raise ConfigError(
                    f"{at_key(root, origin, f'{key}.{raw}')}: `source.{name}.{key}.{raw}` is a {type(value).__name__} "
                    f"({value!r}); each value is one string, e.g. {example}"
                )
    bad_roles = sorted(set(src["roles"].values()) - {"system", "user", "assistant"})
    if bad_roles:
        raise ConfigError(
            f"{origin}: `source.{name}.roles` maps to {bad_roles}; roles are system, user, assistant"
        )
    resolve_source_path(name, src["path"], origin, root, must_exist=must_exist)
    check_source_options(name, src, origin)
    return src


def resolve_source_path(
    name: str, path: str, origin: str, root: Path, must_exist: bool = True
) -> Path:
    root = root.resolve()
    full = (root / path).resolve()
    if Path(path).is_absolute() or not full.is_relative_to(root):
        raise ConfigError(
            f"{origin}: `source.{name}.path` {path!r} points outside the project; "
            "raw sources live under data/raw/ (copy or `dvc import` them there)"
        )
    if must_exist and not full.exists():
        raise SourceError(
            f"{origin}: `source.{name}.path` {path!r} does not exist; "
            "add the file under data/raw/ (or `dvc pull` it) or fix the path"
        )
    return full
