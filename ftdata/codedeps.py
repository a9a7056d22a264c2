"""Each stage's code identity, computed from the stage's import closure.

Hand-written code deps drift, and a missing one fails silently: ``quality`` listed
``ftdata/ops/quality.py`` but not ``lang.py`` or ``readability.py`` that compute its
scores, so an edit there left ``data/interim/quality.parquet`` stale while ``dvc status``
said up to date. And in a project made by ``ftdata init`` the engine is installed, not in
the project, so no path in dvc.yaml can name it. Here a stage whose ``cmd`` is ``python -m
stages.<name>`` gets one fingerprint: a hash of every module running it can execute, in
the project's ``stages/`` and in the ftdata that runs (a clone or an installed wheel alike).
``ftdata compose`` writes them to :data:`CODE_FILE`, and each stage lists its own line as
a DVC param, so an engine edit or upgrade reruns exactly the stages it reaches
(``dvc params diff`` names them) and nothing else.

- the import graph is grimp's (import-linter's engine), imports inside functions
  included (they run when the function does) and ``if TYPE_CHECKING:`` ones left out
  (they never run);
- importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so a
  module's parent packages and *their* imports are in its closure too;
- plugins loaded from the ``ftdata.ops`` entry-point group are named with their
  distribution's version in the fingerprint of every stage that can load them.

This over-approximates (a module imported by a function the stage never calls still
counts): a spurious rerun costs minutes, a missed one ships stale data.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

import ftdata
from ftdata.errors import ConfigError

PACKAGES = ("ftdata", "stages")
ENGINE_DIR = Path(ftdata.__file__).resolve().parent  # the ftdata this process runs
CODE_FILE = "stages/code.yaml"
ENGINE_KEY = "ftdata"  # the engine's version in CODE_FILE (no stage reads it)
PLUGIN_GROUP = "ftdata.ops"
# A dvc.yaml dep on the engine's own code: the fingerprint replaces these.
CODE_DEP = re.compile(r"^(?:stages|ftdata)/")
STAGE_CMD = re.compile(r"\bpython\s+-m\s+stages\.(\w+)\b")
# Package data, not code: the example project `ftdata init` copies (its stages/ included).
NOT_CODE = ("ftdata/templates/",)
HEADER = """\
# Each stage's code identity, written by `ftdata compose`; never edit by hand.
# A value hashes every module the stage's entry point (stages/<name>.py) can run, the
# installed ftdata's included; dvc.yaml lists each stage's line as a param, so editing or
# upgrading the engine reruns exactly the stages that run the changed code.
"""


@dataclass(frozen=True)
class ImportGraph:
    """Module -> modules it imports, and where each module's source lives."""

    imports: dict[str, frozenset[str]]
    files: dict[str, Path]  # module -> its source file

    def shown(self, module: str) -> str:
        """``ftdata/ops/pii.py``: the file as its package lays it out, wherever installed."""
        parts = module.split(".")
        tail = "__init__.py" if self.files[module].name == "__init__.py" else None
        return "/".join([*parts, tail] if tail else [*parts[:-1], f"{parts[-1]}.py"])


def runs_here(root: Path) -> bool:
    """Whether ``python -m stages.<name>`` in ``root`` imports this process's ftdata.

    Python puts the working directory first on sys.path, so a project holding its own
    ``ftdata/`` (this repository, or a copy of it) runs that one, whatever is installed.
    """
    own = root.resolve() / "ftdata"
    return not (own / "__init__.py").is_file() or ENGINE_DIR == own


def import_graph(root: Path) -> ImportGraph:
    """The import graph of the running ``ftdata`` and of ``root``'s ``stages`` package."""
    root = root.resolve()
    if not runs_here(root):
        raise ConfigError(
            f"ftdata deps: this ftdata is {ENGINE_DIR}, but the stages in {root} run "
            f"{root / 'ftdata'}; run it with that engine (PYTHONPATH={root})"
        )
    if not (root / "stages" / "__init__.py").is_file():
        raise ConfigError(f"ftdata deps: {root / 'stages'}/__init__.py not found")
    loaded = sys.modules.get("stages")  # grimp reads an imported package where it is
    if loaded is not None and Path(loaded.__file__).resolve().parent != root / "stages":
        raise ConfigError(
            f"ftdata deps: the stages package imported is {Path(loaded.__file__).parent}, "
            f"not {root / 'stages'}; run it in that project"
        )
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        graph = _grimp_graph(PACKAGES)
    finally:
        if added:
            sys.path.remove(str(root))
    bases = {"ftdata": ENGINE_DIR.parent, "stages": root}
    files: dict[str, Path] = {}
    for module in graph.modules:
        path = bases[module.split(".")[0]] / Path(*module.split("."))
        files[module] = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    _refuse_unreadable(bases, set(graph.modules))
    return ImportGraph(
        imports={m: frozenset(graph.find_modules_directly_imported_by(m)) for m in graph.modules},
        files=files,
    )


def _refuse_unreadable(bases: dict[str, Path], modules: set[str]) -> None:
    """A .py file grimp did not read (its folder lacks __init__.py) could hide imports."""
    for package, base in bases.items():
        for path in sorted((base / package).rglob("*.py")):
            rel = path.relative_to(base)
            if "__pycache__" in rel.parts or rel.as_posix().startswith(NOT_CODE):
                continue
            if ".".join(rel.with_suffix("").parts).removesuffix(".__init__") not in modules:
                raise ConfigError(
                    f"ftdata deps: {rel.as_posix()}: not in a package (add __init__.py to its "
                    "folder), so its imports cannot be followed"
                )


def _grimp_graph(packages: tuple[str, ...]):
    """grimp's graph of ``packages``: imports in functions count, ``if TYPE_CHECKING:`` ones
    do not (they never run)."""
    import grimp

    return grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)


def closure(graph: ImportGraph, module: str) -> set[str]:
    """Every module that importing ``module`` (and calling into it) can run."""
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


def plugins() -> list[str]:
    """The ``ftdata.ops`` entry points installed, each with its distribution's version."""
    found = []
    for ep in metadata.entry_points(group=PLUGIN_GROUP):
        dist = f"{ep.dist.name}=={ep.dist.version}" if ep.dist else "?"
        found.append(f"{ep.name}={ep.value} ({dist})")
    return sorted(found)


def fingerprint(graph: ImportGraph, module: str, plugin_lines: list[str]) -> str:
    """sha256 over the closure's module names and sources (and plugins, when it loads them)."""
    needed = closure(graph, module)
    digest = hashlib.sha256()
    for name in sorted(needed):
        source = hashlib.sha256(graph.files[name].read_bytes()).hexdigest()
        digest.update(f"{name}\0{source}\n".encode())
    if "ftdata.registry" in needed:
        for line in plugin_lines:
            digest.update(f"plugin\0{line}\n".encode())
    return digest.hexdigest()


# ------------------------------------------------------------------ dvc.yaml
def _stage_bodies(text: str) -> dict[str, dict]:
    stages = (yaml.safe_load(text) or {}).get("stages") or {}
    return {name: stage.get("do", stage) for name, stage in stages.items()}


def stage_modules(text: str) -> dict[str, str]:
    """dvc.yaml stage name -> the ``stages/<name>.py`` entry point its cmd runs (by name)."""
    found = {}
    for name, body in _stage_bodies(text).items():
        match = STAGE_CMD.search(str(body.get("cmd", "")))
        if match:
            found[name] = match.group(1)
    return found


def stage_entries(text: str) -> list[str]:
    """The ``stages/<name>.py`` entry points dvc.yaml runs, each once (a CODE_FILE key)."""
    return sorted(set(stage_modules(text).values()))


def stages_using(graph: ImportGraph, root: Path, module: str) -> set[str]:
    """The ``dvc status`` names of ``root``'s stages whose code identity holds ``module``:
    what an edit to it reruns (a ``foreach`` stage once per item, ``ingest@<source>``)."""
    text = (root / "dvc.yaml").read_text(encoding="utf-8")
    stages = (yaml.safe_load(text) or {}).get("stages") or {}
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8")) or {}
    names = set()
    for name, entry in stage_modules(text).items():
        if module not in closure(graph, f"stages.{entry}"):
            continue
        foreach = stages[name].get("foreach")
        if isinstance(foreach, str) and foreach.startswith("${"):
            items = params
            for key in foreach.strip("${}").split("."):
                items = items[key]
            names |= {f"{name}@{item}" for item in items}
        else:
            names.add(name)
    return names


def wiring_problems(text: str) -> list[str]:
    """A stage that runs ``stages.<name>`` must list ``CODE_FILE: [<name>]`` and no code file."""
    bodies = _stage_bodies(text)
    lines = []
    for stage, entry in sorted(stage_modules(text).items()):
        body = bodies[stage]
        listed = [
            key
            for p in body.get("params") or []
            if isinstance(p, dict) and CODE_FILE in p
            for key in p[CODE_FILE] or []
        ]
        if listed != [entry]:
            lines.append(f"{stage}: params must list `{CODE_FILE}: [{entry}]` (has {listed})")
        for dep in body.get("deps") or []:
            if isinstance(dep, str) and CODE_DEP.match(dep):
                lines.append(f"{stage}: code dep {dep} written by hand; {CODE_FILE} covers it")
    return lines


def fingerprints(root: Path) -> dict[str, str]:
    """CODE_FILE's content: the engine's version, then each entry point's fingerprint.

    Computed by the ftdata the stages will run: when that is not this process's (a
    project with its own ``ftdata/``), by a ``python -m ftdata.codedeps`` started in
    ``root``, which imports what the stages import.
    """
    if not runs_here(root):
        proc = subprocess.run(
            [sys.executable, "-m", "ftdata.codedeps"], cwd=root, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise ConfigError(f"ftdata compose: code identities in {root}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)
    entries = stage_entries((root / "dvc.yaml").read_text(encoding="utf-8"))
    graph = import_graph(root)
    plugin_lines = plugins()
    return {
        ENGINE_KEY: ftdata.__version__,
        **{e: fingerprint(graph, f"stages.{e}", plugin_lines) for e in entries},
    }


def dump(values: dict[str, str]) -> str:
    return HEADER + yaml.safe_dump(values, sort_keys=False)


def stale(root: Path) -> str | None:
    """Why CODE_FILE is not the code's identity now (None when it is, or no pipeline)."""
    if not (root / "dvc.yaml").is_file():
        return None
    path = root / CODE_FILE
    if not path.is_file():
        return f"{path}: missing; run `ftdata compose`"
    have = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    want = fingerprints(root)
    changed = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
    if not changed:
        return None
    return f"{path} is stale against the code (changed: {', '.join(changed)}); run `ftdata compose`"


def write(root: Path) -> list[str]:
    """Write CODE_FILE from the code; returns the entries whose value changed.

    A folder with conf/ but no dvc.yaml has no stages to identify, and gets no file."""
    from ftdata.io import write_text

    if not (root / "dvc.yaml").is_file():
        return []
    path = root / CODE_FILE
    have = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    want = fingerprints(root)
    write_text(path, dump(want))
    return [k for k in want if (have or {}).get(k) != want[k]]


def closure_files(root: Path, entry: str | None = None) -> dict[str, list[str]]:
    """Entry point -> the files its fingerprint hashes (``ftdata/...`` for the engine's,
    wherever it is installed), for a reader asking why a stage reran."""
    entries = stage_entries((root / "dvc.yaml").read_text(encoding="utf-8"))
    if entry is not None:
        if entry not in entries:
            raise ConfigError(f"ftdata deps: no stage runs stages.{entry} in dvc.yaml")
        entries = [entry]
    graph = import_graph(root)
    return {e: sorted(graph.shown(m) for m in closure(graph, f"stages.{e}")) for e in entries}


if __name__ == "__main__":  # fingerprints(): the identities as the project's own ftdata sees them
    print(json.dumps(fingerprints(Path("."))))
