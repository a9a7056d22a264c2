"""Hostile config: refuse what YAML, Hydra or OmegaConf would choke on, run, or resolve wrongly.

Every YAML file under conf/ (and params.yaml at a stage's start) is read here
first, as a YAML node graph only: nothing is constructed, so a
``!!python/object/apply`` tag never runs and an alias bomb is measured, not
expanded. What this module refuses, each with one ``file:line:column`` line:

- YAML that does not parse (an unclosed brace, a tab, a missing colon) and
  duplicate keys;
- tags other than plain YAML scalars, mappings and sequences (``!!python/...``,
  ``!!binary``, ``!custom``);
- files larger than :data:`MAX_CONF_BYTES`, nested deeper than
  :data:`MAX_CONF_DEPTH`, or whose aliases expand to more than
  :data:`MAX_CONF_NODES` nodes (billion laughs) or into themselves;
- interpolations whose value depends on the machine or the clock (``oc.env``,
  ``now``, ``hydra``), which Hydra would resolve *into* the committed
  params.yaml, and resolvers that are unknown or could re-parse a string into
  such an interpolation (``oc.decode``, ``oc.create``). Relative interpolations
  between keys (``${split.seed}``) and :data:`ALLOWED_RESOLVERS` stay.

The limits are constants, not params: they guard the reading of conf/ itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf, grammar_parser
from omegaconf._utils import get_yaml_loader
from omegaconf.errors import GrammarParseError
from omegaconf.grammar.gen.OmegaConfGrammarParser import OmegaConfGrammarParser

from ftdata.errors import ConfigError

# A conf file bigger than this is not a config (the example's largest is ~10 KB).
MAX_CONF_BYTES = 5_000_000
# Nodes of one file with every alias expanded: the example's largest has ~1,600.
MAX_CONF_NODES = 200_000
# Nesting of mappings and sequences (the taxonomy, the deepest, has ~10).
MAX_CONF_DEPTH = 64

# Resolvers whose value depends only on the config itself.
ALLOWED_RESOLVERS = ("oc.select", "oc.dict.keys", "oc.dict.values", "oc.deprecated")
SECRETS_HINT = (
    "params.yaml is committed, so a secret or a machine's setting must not be resolved into it: "
    "name the environment variable in conf instead (e.g. `augment.llm.api_key_env: "
    "OPENAI_API_KEY`) and the op reads it at run time (README, Configuration)"
)
MACHINE_RESOLVERS = {
    "oc.env": "reads an environment variable; " + SECRETS_HINT,
    "env": "reads an environment variable; " + SECRETS_HINT,
    "now": (
        "reads the clock: params.yaml would change on every compose and "
        "`ftdata compose --check` would never pass; write the value itself"
    ),
    "hydra": "depends on where and how Hydra runs (its runtime); write the value itself",
}

_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class ConfScan:
    """Where each key of one file is (``dotted.key`` -> (line, column), 1-based)."""

    path: str
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _at(display: str, mark: Any) -> str:
    if mark is None:
        return display
    return f"{display}:{mark.line + 1}:{mark.column + 1}"


def _yaml_problem(display: str, err: yaml.YAMLError) -> ConfigError:
    """One line from PyYAML's multi-line message: where, what, and the context it was in."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None)
    if problem is None:  # ReaderError (a control character) and other unmarked errors
        return ConfigError(f"{display}: not valid YAML: {_one_line(err)}")
    context = getattr(err, "context", None)
    context_mark = getattr(err, "context_mark", None)
    msg = _one_line(problem)
    if "'\\t'" in msg:
        msg += " (YAML indents with spaces, never tabs)"
    if context:
        where = ""
        if context_mark is not None and (
            mark is None or (context_mark.line, context_mark.column) != (mark.line, mark.column)
        ):
            where = f" at {context_mark.line + 1}:{context_mark.column + 1}"
        msg += f" ({_one_line(context)}{where})"
    return ConfigError(f"{_at(display, mark)}: {msg}")


def _compose(text: str, display: str) -> yaml.Node | None:
    """The node graph of one YAML document; nothing is constructed."""
    try:
        return yaml.compose(text, Loader=get_yaml_loader())
    except yaml.YAMLError as err:
        raise _yaml_problem(display, err) from None
    except RecursionError:
        raise ConfigError(
            f"{display}: nested too deeply to be a config (more than {MAX_CONF_DEPTH} levels)"
        ) from None


def _expanded_sizes(root: yaml.Node, display: str) -> dict[int, int]:
    """Per node id, its node count with aliases expanded; an alias into itself is refused.

    Memoised by node identity, so a billion-laughs file costs its size on disk,
    not its expansion.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ConfigError(
                f"{_at(display, node.start_mark)}: an alias refers to a node that contains it "
                "(a recursive YAML alias); write the value out"
            )
        if depth > MAX_CONF_DEPTH:
            raise ConfigError(
                f"{_at(display, node.start_mark)}: nested more than {MAX_CONF_DEPTH} levels deep"
            )
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += size(v, depth + 1)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root, 0)
    return sizes


def _refuse_bomb(root: yaml.Node, sizes: dict[int, int], display: str) -> None:
    """Name the innermost node whose expansion passes the limit (where the aliases pile up)."""
    node = root
    while True:
        children = (
            [v for _, v in node.value]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        big = next((c for c in children if sizes[id(c)] > MAX_CONF_NODES), None)
        if big is None:
            break
        node = big
    raise ConfigError(
        f"{_at(display, node.start_mark)}: YAML aliases expand this value to "
        f"{sizes[id(node)]:,} nodes, more than the {MAX_CONF_NODES:,} a conf file may hold "
        "(an alias bomb?); write the values out"
    )


def _walk(root: yaml.Node) -> Iterator[tuple[str, yaml.Node, yaml.Node | None]]:
    """(dotted key, value node, key node) for every node, aliases expanded (bounded by the size check)."""
    stack: list[tuple[str, yaml.Node, yaml.Node | None]] = [("", root, None)]
    while stack:
        path, node, key_node = stack.pop()
        yield path, node, key_node
        if isinstance(node, yaml.MappingNode):
            for k, v in reversed(node.value):
                name = k.value if isinstance(k, yaml.ScalarNode) else "?"
                stack.append((f"{path}.{name}" if path else str(name), v, k))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in reversed(list(enumerate(node.value))):
                stack.append((f"{path}[{i}]", v, None))


def _check_tag(node: yaml.Node, display: str, key: str) -> None:
    tag = node.tag or ""
    if tag in _PLAIN_TAGS or tag == _MERGE_TAG:
        return
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    what = f"`{key}` has" if key else "the document has"
    if "python/" in tag:
        raise ConfigError(
            f"{_at(display, node.start_mark)}: {what} the YAML tag {shown}, which would "
            "construct a Python object; a config holds plain values only (ops are named "
            "from the registry, `ftdata ops`)"
        )
    raise ConfigError(
        f"{_at(display, node.start_mark)}: {what} the YAML tag {shown}; a config holds plain "
        "strings, numbers, booleans, lists and mappings only"
    )


def _resolvers(value: str) -> list[str]:
    """Names of the resolvers an OmegaConf string calls (nested ones included); [] if none."""
    out: list[str] = []
    stack = [grammar_parser.parse(value)]
    while stack:
        tree = stack.pop()
        if isinstance(tree, OmegaConfGrammarParser.InterpolationResolverContext):
            out.append(tree.resolverName().getText())
        stack.extend(tree.getChildren() if hasattr(tree, "getChildren") else [])
    return out


def interpolation_problem(value: str) -> str | None:
    """Why a string's interpolations are refused in a config (None when they are fine)."""
    if "${" not in value:
        return None
    try:
        names = _resolvers(value)
    except GrammarParseError as err:
        return f"is not a valid interpolation ({_one_line(err)}); write `\\${{` for a literal `${{`"
    # A machine-dependent one is named first, even when nested in another resolver.
    for name in names:
        if name in MACHINE_RESOLVERS:
            return f"uses ${{{name}:...}}, which {MACHINE_RESOLVERS[name]}"
    for name in names:
        if name in ALLOWED_RESOLVERS:
            continue
        allowed = ", ".join(ALLOWED_RESOLVERS)
        if OmegaConf.has_resolver(name):
            return (
                f"uses the resolver ${{{name}:...}}, which a config may not call (its result could "
                f"depend on more than the config); allowed: relative interpolations such as "
                f"${{split.seed}} and {allowed}"
            )
        return (
            f"uses the unknown resolver ${{{name}:...}}; a config may use relative "
            f"interpolations such as ${{split.seed}} and {allowed}"
        )
    return None


def scan_text(text: str, display: str) -> ConfScan:
    """Check one YAML document (see the module docstring); return where its keys are."""
    scan = ConfScan(display)
    if len(text) > MAX_CONF_BYTES:
        raise ConfigError(
            f"{display}: {len(text):,} characters, more than the {MAX_CONF_BYTES:,} a conf file may hold"
        )
    root = _compose(text, display)
    if root is None:
        return scan
    sizes = _expanded_sizes(root, display)
    if sizes[id(root)] > MAX_CONF_NODES:
        _refuse_bomb(root, sizes, display)
    for path, node, key_node in _walk(root):
        _check_tag(node, display, path)
        if key_node is not None:
            _check_tag(key_node, display, path)
            scan.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for k, _ in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
                    continue
                if k.value in seen:
                    first = seen[k.value].start_mark
                    raise ConfigError(
                        f"{_at(display, k.start_mark)}: duplicate key `{k.value}` (first at "
                        f"line {first.line + 1}); keep one"
                    )
                seen[k.value] = k
        elif isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str"):
            problem = interpolation_problem(node.value)
            if problem:
                what = f"`{path}`" if path else "the value"
                raise ConfigError(f"{_at(display, node.start_mark)}: {what} {problem}")
    return scan


_CACHE: dict[tuple[str, int, int], ConfScan] = {}


def scan_file(path: Path, display: str) -> ConfScan:
    """:func:`scan_text` for a file, cached on its size and mtime (stages call it repeatedly)."""
    try:
        st = path.stat()
    except OSError as err:
        raise ConfigError(f"{display}: cannot read ({err.strerror})") from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key in _CACHE:
        return _CACHE[key]
    if st.st_size > MAX_CONF_BYTES:
        raise ConfigError(
            f"{display}: {st.st_size:,} bytes, more than the {MAX_CONF_BYTES:,} a conf file may hold"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{display}: not UTF-8 (byte {err.start}: {err.reason}); save it as UTF-8"
        ) from None
    scan = scan_text(text, display)
    _CACHE[key] = scan
    return scan


def scan_conf(root: Path) -> dict[str, ConfScan]:
    """Check every YAML file under ``root/conf`` (selected by the defaults list or not)."""
    conf = root / "conf"
    scans: dict[str, ConfScan] = {}
    if not conf.is_dir():
        return scans
    files = []
    for dirpath, dirnames, filenames in os.walk(conf):
        dirnames.sort()
        files += [Path(dirpath) / f for f in sorted(filenames) if f.endswith((".yaml", ".yml"))]
    for path in files:
        display = path.relative_to(root).as_posix()
        scans[display] = scan_file(path, display)
    return scans


def check_values(value: Any, where: str, prefix: str = "") -> None:
    """Refuse interpolations left in already-composed values (params.yaml, overrides).

    An escaped ``\\${now:}`` in conf composes to the literal ``${now:}``, which
    the stage's own OmegaConf merge would then resolve: refused the same way.
    """
    if isinstance(value, dict):
        for k, v in value.items():
            check_values(v, where, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_values(v, where, f"{prefix}[{i}]")
    elif isinstance(value, str):
        problem = interpolation_problem(value)
        if problem:
            raise ConfigError(f"{where}: `{prefix}` {problem}")
