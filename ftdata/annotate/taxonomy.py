"""The intent taxonomy: a tree from conf/taxonomy/, checked once and queried by path.

A label is always a full path from a top-level node to a leaf (``a>b>c``); an
inner node or a bare leaf name is not a label. Loading checks what makes a tree
usable for annotation: names without the separator, a description on every
node, children on every node that is not meant to be a leaf, unique paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ftdata.errors import ConfigError

SEP = ">"


def levels(path: str | None) -> list[str]:
    """``a>b>c`` -> ``['a', 'a>b', 'a>b>c']``: the label at each taxonomy level."""
    if not isinstance(path, str) or not path:
        return []
    parts = path.split(SEP)
    return [SEP.join(parts[: i + 1]) for i in range(len(parts))]


def at_level(path: str, level: int) -> str:
    """The prefix of ``path`` at ``level`` (1-based); a shallower path is returned whole."""
    return SEP.join(path.split(SEP)[:level])


@dataclass
class Node:
    path: str
    name: str
    description: str
    children: list[str] = field(default_factory=list)  # child paths, in file order

    @property
    def depth(self) -> int:
        return self.path.count(SEP) + 1


@dataclass
class Taxonomy:
    name: str
    version: str
    description: str
    level_names: list[str]
    nodes: dict[str, Node]  # every path (inner and leaf), in file order

    @property
    def leaves(self) -> list[str]:
        """The valid labels, in file order."""
        return [p for p, n in self.nodes.items() if not n.children]

    @property
    def depth(self) -> int:
        return max((n.depth for n in self.nodes.values()), default=0)

    @property
    def roots(self) -> list[str]:
        return [p for p, n in self.nodes.items() if n.depth == 1]

    def is_label(self, path: Any) -> bool:
        return isinstance(path, str) and path in self.nodes and not self.nodes[path].children

    def suggest(self, path: str) -> str:
        """A hint for a wrong label: the full path of a bare leaf name, or the closest path."""
        import difflib

        if not isinstance(path, str):
            return ""
        by_name = [p for p in self.leaves if p.rsplit(SEP, 1)[-1] == path.rsplit(SEP, 1)[-1]]
        if by_name:
            return f"; did you mean {by_name[0]!r}?"
        close = difflib.get_close_matches(path, self.leaves, n=1, cutoff=0.5)
        return f"; did you mean {close[0]!r}?" if close else ""

    def under(self, path: str, prefix: str) -> bool:
        """Whether ``path`` is ``prefix`` or lies below it."""
        return path == prefix or path.startswith(prefix + SEP)

    def as_params(self) -> dict:
        def subtree(path: str) -> dict:
            node = self.nodes[path]
            body: dict[str, Any] = {"description": node.description}
            if node.children:
                body["children"] = {self.nodes[c].name: subtree(c) for c in node.children}
            return body

        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "levels": list(self.level_names),
            "nodes": {self.nodes[r].name: subtree(r) for r in self.roots},
        }


def from_params(section: dict, origin: str = "params.yaml: taxonomy") -> Taxonomy:
    """Build and check a taxonomy from its params section; ConfigError names the node."""
    nodes: dict[str, Node] = {}
    tree = section.get("nodes")
    if not isinstance(tree, dict) or not tree:
        raise ConfigError(f"{origin}: `nodes` must be a non-empty mapping of top-level nodes")
    _walk(tree, "", nodes, origin)
    tax = Taxonomy(
        name=str(section.get("name") or ""),
        version=str(section.get("version") or ""),
        description=str(section.get("description") or ""),
        level_names=[str(x) for x in section.get("levels") or []],
        nodes=nodes,
    )
    if not tax.version:
        raise ConfigError(f"{origin}: `version` is missing (bump it whenever the tree changes)")
    if tax.level_names and len(tax.level_names) != tax.depth:
        raise ConfigError(
            f"{origin}: `levels` names {len(tax.level_names)} levels but the tree is {tax.depth} deep"
        )
    return tax


def _walk(tree: dict, prefix: str, nodes: dict[str, Node], origin: str) -> list[str]:
    paths = []
    for raw_name, body in tree.items():
        name = str(raw_name)
        path = f"{prefix}{SEP}{name}" if prefix else name
        where = f"{origin}: node `{path}`"
        if not name.strip() or name != name.strip():
            raise ConfigError(f"{where}: a node name must be non-empty without surrounding spaces")
        if SEP in name:
            raise ConfigError(f"{where}: a node name cannot contain {SEP!r} (it separates levels)")
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: expected a mapping with `description` (and `children`)")
        unknown = sorted(set(body) - {"description", "children"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {unknown}; a node has `description` and `children`"
            )
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ConfigError(f"{where}: `description` is missing or empty")
        if path in nodes:
            raise ConfigError(f"{where}: duplicate path")
        node = Node(path=path, name=name, description=description.strip())
        nodes[path] = node
        if "children" in body:
            children = body["children"]
            if not isinstance(children, dict) or not children:
                raise ConfigError(
                    f"{where}: `children` is empty; remove it to make the node a leaf"
                )
            node.children = _walk(children, path, nodes, origin)
        paths.append(path)
    return paths


def load(path: str | Path) -> Taxonomy:
    """Read a taxonomy YAML file directly (tools and tests; stages use params.yaml)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    return from_params(data or {}, origin=str(path))


def check_labels(tax: Taxonomy, labels: Iterable[tuple[str, str]]) -> None:
    """Raise for the first ``(where, label)`` that is not a full leaf path of ``tax``."""
    for where, label in labels:
        if not tax.is_label(label):
            kind = "an inner node, not a leaf" if label in tax.nodes else "not in the taxonomy"
            raise ConfigError(
                f"{where}: label {label!r} is {kind} `{tax.name}` {tax.version}{tax.suggest(label)}"
            )
