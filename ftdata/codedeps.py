"""Each stage's code deps in dvc.yaml, computed from the stage's import closure.

Hand-written code deps drift, and a missing one fails silently: ``quality`` listed
``ftdata/ops/quality.py`` but not ``lang.py`` or ``readability.py`` that compute its
scores, so an edit there left ``data/interim/quality.parquet`` stale while ``dvc status``
said up to date. Here the deps of a stage whose ``cmd`` is ``python -m stages.<name>``
are every module of ``ftdata`` / ``stages`` that running it can execute:

- the import graph is grimp's (import-linter's engine), imports inside functions
  included (they run when the function does) and ``if TYPE_CHECKING:`` ones left out
  (they never run);
- importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so a
  module's parent packages and *their* imports are in its closure too (this is how
  ``ftdata.runner`` -> ``ftdata.ops``, the op catalog, brings in every registered op module);
- a package whose every module is in the closure is listed as its folder.

This over-approximates (a module imported by a function the stage never calls still
counts): a spurious rerun costs minutes, a missed one ships stale data. Plugins loaded
from the ``ftdata.ops`` entry-point group live outside the project and are not listed.
``.dvcignore`` keeps ``__pycache__`` out of folder deps.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ftdata.errors import ConfigError

PACKAGES = ("ftdata", "stages")
# A dvc.yaml dep on the engine's own code (what this module computes).
CODE_DEP = re.compile(r"^(?:stages|ftdata)/")
STAGE_CMD = re.compile(r"\bpython\s+-m\s+(stages\.\w+)\b")
ENTRY_NOTE = "# + its import closure: `ftdata deps --write`"
_ITEM = re.compile(r"^(?P<indent>\s*)-\s+(?P<value>[^\s#]+)(?P<comment>\s+#.*)?\s*$")
_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[^\s#:-][^:]*):\s*(#.*)?$")


@dataclass(frozen=True)
class ImportGraph:
    """Module -> modules it imports, and where each module's source lives."""

    imports: dict[str, frozenset[str]]
    files: dict[str, str]  # module -> path relative to the project root
    packages: frozenset[str]  # modules that are packages (a folder with __init__.py)


def import_graph(root: Path) -> ImportGraph:
    """The import graph of ``ftdata`` and ``stages`` as found under ``root``."""
    root = root.resolve()
    for package in PACKAGES:
        if not (root / package / "__init__.py").is_file():
            raise ConfigError(f"ftdata deps: {root / package}/__init__.py not found")
        loaded = sys.modules.get(package)  # grimp reads an imported package where it is
        if loaded is not None and Path(loaded.__file__).resolve().parent != root / package:
            raise ConfigError(
                f"ftdata deps: the {package} imported is {Path(loaded.__file__).parent}, not "
                f"{root / package}; run it with that project's engine (PYTHONPATH={root})"
            )
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        graph = _grimp_graph(PACKAGES)
    finally:
        if added:
            sys.path.remove(str(root))
    files: dict[str, str] = {}
    packages: set[str] = set()
    unseen = sorted(
        p.relative_to(root).as_posix()
        for package in PACKAGES
        for p in (root / package).rglob("*.py")
        if "__pycache__" not in p.parts
        and ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        not in graph.modules
    )
    if unseen:  # a folder without __init__.py: grimp does not read it
        raise ConfigError(
            f"ftdata deps: {unseen[0]}: not in a package (add __init__.py to its folder), "
            "so its imports cannot be followed"
        )
    for module in graph.modules:
        base = Path(*module.split("."))
        if (root / base / "__init__.py").is_file():
            files[module] = (base / "__init__.py").as_posix()
            packages.add(module)
        else:
            files[module] = base.with_suffix(".py").as_posix()
    return ImportGraph(
        imports={m: frozenset(graph.find_modules_directly_imported_by(m)) for m in graph.modules},
        files=files,
        packages=frozenset(packages),
    )


def _grimp_graph(packages: tuple[str, ...]):
    """grimp's graph of ``packages``: imports in functions count, ``if TYPE_CHECKING:`` ones
    do not (they never run)."""
    import grimp

    return grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)


def closure(graph: ImportGraph, module: str) -> set[str]:
    """Every project module that importing ``module`` (and calling into it) can run."""
    if module not in graph.imports:
        raise ConfigError(f"ftdata deps: no module {module!r} under {', '.join(PACKAGES)}/")
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.imports.get(name, ()))
        if "." in name:
            todo.append(name.rsplit(".", 1)[0])  # its package's __init__ runs first
    return seen


def code_deps(graph: ImportGraph, module: str) -> list[str]:
    """dvc.yaml deps for ``module``: files, or a package's folder when all of it is needed.

    The entry point comes first, then the rest sorted; top-level packages are never
    folded into one folder (``ftdata/`` also holds the CLI and templates).
    """
    needed = closure(graph, module)
    folded: set[str] = set()
    for package in sorted(graph.packages):
        if "." not in package or any(package.startswith(f"{f}.") for f in folded):
            continue
        members = [m for m in graph.imports if m == package or m.startswith(f"{package}.")]
        if all(m in needed for m in members):
            folded.add(package)
    deps: set[str] = set()
    for name in needed:
        top = next((f for f in folded if name == f or name.startswith(f"{f}.")), None)
        deps.add(top.replace(".", "/") if top else graph.files[name])
    entry = graph.files[module]
    return [entry, *sorted(deps - {entry})]


# ------------------------------------------------------------------ dvc.yaml
def _stage_bodies(text: str) -> dict[str, dict]:
    stages = (yaml.safe_load(text) or {}).get("stages") or {}
    return {name: stage.get("do", stage) for name, stage in stages.items()}


def stage_modules(text: str) -> dict[str, str]:
    """Stage name -> the ``stages.<name>`` module its cmd runs (stages that run one)."""
    found = {}
    for name, body in _stage_bodies(text).items():
        match = STAGE_CMD.search(str(body.get("cmd", "")))
        if match:
            found[name] = match.group(1)
    return found


def declared(text: str) -> dict[str, list[str]]:
    """Stage name -> the code deps dvc.yaml lists for it, in file order."""
    bodies = _stage_bodies(text)
    return {
        name: [
            d for d in bodies[name].get("deps") or [] if isinstance(d, str) and CODE_DEP.match(d)
        ]
        for name in stage_modules(text)
    }


def computed(root: Path, text: str) -> dict[str, list[str]]:
    graph = import_graph(root)
    return {name: code_deps(graph, module) for name, module in stage_modules(text).items()}


def differences(root: Path) -> list[str]:
    """One line per code dep dvc.yaml is missing or lists in excess; [] when in step."""
    text = (root / "dvc.yaml").read_text(encoding="utf-8")
    have, want = declared(text), computed(root, text)
    lines = []
    for name in sorted(want):
        lines += [f"{name}: missing {d}" for d in want[name] if d not in have[name]]
        lines += [f"{name}: not imported {d}" for d in have[name] if d not in want[name]]
    return lines


def rewrite(text: str, wanted: dict[str, list[str]]) -> str:
    """``text`` with each stage's code-dep lines replaced by ``wanted[stage]``.

    Line-based so every comment, data dep, param and out stays where it is: the code
    deps of a stage go where its first one was (after its other deps when it had none),
    a surviving dep keeps its trailing comment, and the entry point gets ENTRY_NOTE.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    in_stages = False
    stage: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        key = _KEY.match(line)
        if key and not key["indent"]:
            in_stages = key["key"] == "stages"
            stage = None
        elif in_stages and key and len(key["indent"]) == 2:
            stage = key["key"].strip()
        if not (in_stages and stage in wanted and key and key["key"].strip() == "deps"):
            out.append(line)
            i += 1
            continue
        out.append(line)
        indent = len(key["indent"])
        i += 1
        block: list[str] = []
        while i < len(lines):
            nxt = lines[i]
            body = nxt.strip()
            if body and not body.startswith("#") and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            block.append(nxt)
            i += 1
        out.extend(_rewrite_deps(block, wanted[stage], indent + 2))
    return "".join(out)


def _rewrite_deps(block: list[str], wanted: list[str], indent: int) -> list[str]:
    comments: dict[str, str] = {}
    kept: list[str | None] = []  # None marks where the code deps go
    for line in block:
        item = _ITEM.match(line)
        if item and CODE_DEP.match(item["value"]):
            comments[item["value"]] = (item["comment"] or "").strip()
            if None not in kept:
                kept.append(None)
            continue
        kept.append(line)
    if None not in kept:
        last = max((n for n, x in enumerate(kept) if x and _ITEM.match(x)), default=-1)
        kept.insert(last + 1, None)
    pad = " " * indent
    code = []
    for n, dep in enumerate(wanted):
        note = comments.get(dep) or (ENTRY_NOTE if n == 0 else "")
        code.append(f"{pad}- {dep}{'  ' + note if note else ''}\n")
    at = kept.index(None)
    return [*kept[:at], *code, *kept[at + 1 :]]  # type: ignore[list-item]


def write(root: Path) -> list[str]:
    """Rewrite dvc.yaml's code deps from the code; returns the stages whose deps changed."""
    path = root / "dvc.yaml"
    text = path.read_text(encoding="utf-8")
    wanted = computed(root, text)
    new = rewrite(text, wanted)
    if declared(new) != wanted:  # the line edit must say exactly what YAML reads
        raise ConfigError(f"{path}: could not rewrite the code deps in place; edit by hand")
    before = declared(text)
    if new != text:
        from ftdata.io import write_text

        write_text(path, new)
    return [name for name in wanted if before[name] != wanted[name]]
