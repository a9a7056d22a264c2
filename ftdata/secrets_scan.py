"""Secrets stay in the environment: refuse them in conf, and find any that leaked into a project.

API keys (for model-backed ops such as augmentation or LLM annotation) are read
from the environment at run time and must never reach params.yaml, logs, metrics,
DVC's cache, git objects or exports: all of those are shared, versioned or published.

- :func:`inline_secrets` finds conf values that are (or look like) secrets, so
  ``ftdata compose`` can refuse them. Note that Hydra resolves
  ``${oc.env:OPENAI_API_KEY}`` at compose time, i.e. *into params.yaml*: conf names
  the variable instead (``api_key_env: OPENAI_API_KEY``) and the op reads it.
- :func:`scan_for_secret` searches a project tree for one secret value, decoding
  what a byte search would miss: parquet (compressed column chunks), gzip/zlib
  streams and git objects (zlib, packs).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Keys whose value is a credential. ``*_env`` keys name an environment variable: allowed.
SECRET_KEY = re.compile(
    r"(^|_)(api_?key|secret|token|password|passwd|access_key|private_key)$", re.I
)
# Shapes of well-known credentials (OpenAI/Anthropic, Hugging Face, GitHub, AWS, Slack).
SECRET_VALUE = re.compile(
    r"^(sk-[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,})$"
)
SKIP_DIRS = frozenset({".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"})


def inline_secrets(params: Any, prefix: str = "") -> list[str]:
    """Dotted keys of ``params`` whose value is a literal secret (by key name or value shape)."""
    found: list[str] = []
    if isinstance(params, dict):
        for key, value in params.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if (
                isinstance(value, str)
                and value.strip()
                and SECRET_KEY.search(str(key))
                and not str(key).lower().endswith("_env")
            ):
                found.append(path)
            else:
                found += inline_secrets(value, path)
    elif isinstance(params, list):
        for i, value in enumerate(params):
            found += inline_secrets(value, f"{prefix}[{i}]")
    elif isinstance(params, str) and SECRET_VALUE.match(params.strip()):
        found.append(prefix)
    return found


# ---------------------------------------------------------------- scanning a tree
@dataclass(frozen=True)
class Finding:
    path: str  # relative to the scanned root (or "git:<object>")
    how: str  # "bytes", "parquet", "gzip", "zlib", "git object"


def _parquet_text(data: bytes) -> str | None:
    """Every value of a parquet file as JSON text (column chunks are compressed on disk)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # a BufferReader, not a Python file: see Revision.read_table
        table = pq.read_table(pa.BufferReader(data))
    except Exception:  # noqa: BLE001 - not readable as parquet: the byte search still ran
        return None
    meta = table.schema.metadata or {}
    parts = [json.dumps(table.to_pylist(), ensure_ascii=False, default=str)]
    parts += [f"{k!r}{v!r}" for k, v in meta.items()]
    return "\n".join(parts)


def _decoded(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The decodings of ``data`` worth searching besides its raw bytes."""
    if data[:4] == b"PAR1":
        text = _parquet_text(data)
        if text is not None:
            yield "parquet", text.encode("utf-8")
    if data[:2] == b"\x1f\x8b":
        try:
            yield "gzip", gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            pass
    elif data[:1] == b"\x78":
        try:
            yield "zlib", zlib.decompress(data)
        except zlib.error:
            pass


def _files(root: Path) -> Iterator[Path]:
    """Every regular file but the virtualenv, tool caches and .git (read as objects instead)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or rel.parts[0] == ".git":
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def _git_objects(root: Path) -> Iterator[tuple[str, bytes]]:
    """Every object in the repository (loose and packed), decompressed by git itself."""
    if not (root / ".git").exists():
        return
    proc = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return
    out, pos = proc.stdout, 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        size = int(header[2])
        body = out[end + 1 : end + 1 + size]
        yield header[0].decode(), body
        pos = end + 1 + size + 1


def scan_for_secret(root: str | Path, secret: str, *, include_git: bool = True) -> list[Finding]:
    """Where ``secret`` occurs under ``root``: files (raw and decoded) and git objects.

    Skips the virtualenv and tool caches, nothing else: params.yaml, dvc.lock,
    data/ (metrics, interim, processed, exports), .dvc/cache and .dvc/tmp (DVC's
    logs, experiment state), any *.log, and, with ``include_git``, every git object
    (loose objects are zlib streams; ``git cat-file`` also reads packs).
    """
    if len(secret) < 8:
        raise ValueError(
            "refusing to scan for a secret shorter than 8 characters (too many false hits)"
        )
    root = Path(root)
    needle = secret.encode("utf-8")
    findings: list[Finding] = []
    for path in _files(root):
        data = path.read_bytes()
        rel = path.relative_to(root).as_posix()
        if needle in data:
            findings.append(Finding(rel, "bytes"))
            continue
        for how, decoded in _decoded(data):
            if needle in decoded:
                findings.append(Finding(rel, how))
                break
    if include_git:
        for sha, body in _git_objects(root):
            if needle in body:
                findings.append(Finding(f"git:{sha}", "git object"))
                continue
            for how, decoded in _decoded(body):
                if needle in decoded:
                    findings.append(Finding(f"git:{sha}", f"git object ({how})"))
                    break
    return findings
