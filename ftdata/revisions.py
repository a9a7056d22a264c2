"""Read a revision's files (git-tracked or DVC-tracked) without rebuilding it.

A revision is any git revision (tag, branch, commit) or ``workspace`` (the
files on disk, as ``dvc diff`` calls them). Git-tracked files come from git;
DVC outputs come from the DVC cache, or from the default remote when the cache
lacks them (``dvc.api.DVCFileSystem`` does both), so auditing an old release
never reruns its pipeline.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ftdata.errors import FtdataError
from ftdata.io import REJECT_COLUMNS, read_columns
from ftdata.stage import INTERIM, PROCESSED

WORKSPACE = "workspace"
RECORDS = PROCESSED / "records.parquet"
REJECTS_DIR = INTERIM / "rejects"
RELEASE_TAG = re.compile(r"^data_v(\d+)\.(\d+)$")


class RevisionError(FtdataError):
    """A revision that does not exist, or whose data is in neither the cache nor the remote."""

    exit_code = 2


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git in ``root`` and return stdout (stripped of the final newline)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RevisionError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.rstrip("\n")


def resolve_commit(root: Path, rev: str) -> str:
    """The full commit sha ``rev`` names; RevisionError naming ``rev`` when it names nothing."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RevisionError(
            f"{rev!r} is not a git revision of {root} (a tag such as data_v1.0, a branch, a commit, or `{WORKSPACE}`)"
        )
    return proc.stdout.strip()


def release_tags(root: Path) -> list[str]:
    """Tags ``data_vX.Y`` in version order (1.9 before 1.10), oldest first."""
    tags = git(root, "tag", "--list", "data_v*").splitlines()
    found = [(tuple(int(g) for g in m.groups()), t) for t in tags if (m := RELEASE_TAG.match(t))]
    return [t for _, t in sorted(found)]


class Revision:
    """One revision of the project: open, list and read its files as they were."""

    def __init__(self, root: str | Path, rev: str | None = WORKSPACE):
        self.root = Path(root).resolve()
        self.name = WORKSPACE if rev in (None, "", WORKSPACE) else rev
        self.commit = None if self.name == WORKSPACE else resolve_commit(self.root, self.name)

    @property
    def is_workspace(self) -> bool:
        return self.commit is None

    def __repr__(self) -> str:
        return f"Revision({self.name!r})"

    @cached_property
    def fs(self):
        """DVC's filesystem at this commit: git files from git, outputs from cache or remote."""
        from dvc.api import DVCFileSystem

        return DVCFileSystem(url=str(self.root), rev=self.commit)

    def exists(self, path: str | Path) -> bool:
        if self.is_workspace:
            return (self.root / path).exists()
        return self.fs.exists(str(path))

    def list_files(self, folder: str | Path, suffix: str = "") -> list[str]:
        """Files under ``folder`` (recursive, posix paths relative to the root), sorted."""
        folder = str(folder)
        if self.is_workspace:
            base = self.root / folder
            if not base.is_dir():
                return []
            found = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        else:
            if not self.fs.isdir(folder):
                return []
            found = (p.lstrip("/") for p in self.fs.find(folder))
        return sorted(p for p in found if p.endswith(suffix))

    def _workspace_file(self, path: str) -> Path:
        full = self.root / path
        if not full.is_file():
            raise RevisionError(f"{path}: not in the workspace (run `dvc repro` or `dvc checkout`)")
        return full

    @contextlib.contextmanager
    def open(self, path: str | Path) -> Iterator[IO[bytes]]:
        """A binary file object; RevisionError says how to fetch data the cache lacks."""
        path = str(path)
        if self.is_workspace:
            with open(self._workspace_file(path), "rb") as fh:
                yield fh
            return
        try:
            fh = self.fs.open(path, "rb")
        except Exception as err:  # DVC raises several types for data missing from cache and remote
            if isinstance(err, FileNotFoundError) and not self.fs.isdvc(path):
                raise RevisionError(f"{path}: not in revision {self.name}") from None
            raise RevisionError(
                f"{path} at {self.name}: cannot read it from the DVC cache or the remote ({err}); "
                f"`dvc fetch --all-tags` (or `dvc pull`) with access to the remote fixes this"
            ) from None
        with fh:
            yield fh

    def read_bytes(self, path: str | Path) -> bytes:
        with self.open(path) as fh:
            return fh.read()

    def read_text(self, path: str | Path, default: str | None = None) -> str | None:
        """File text, or ``default`` when the revision has no such file."""
        if not self.exists(path):
            return default
        return self.read_bytes(path).decode("utf-8")

    def read_table(self, path: str | Path, columns: list[str] | None = None) -> pa.Table:
        """Arrow reads the file itself (a workspace path) or its bytes (a commit), never
        through a Python file object.

        Arrow's I/O threads calling back into a Python file can still be alive when the
        interpreter exits, which aborts the process ("terminate called without an
        active exception", apache/arrow#34314) after the command's output is printed.
        """
        if self.is_workspace:
            source = self._workspace_file(str(path))
        else:
            source = pa.BufferReader(self.read_bytes(path))
        return pq.read_table(source) if columns is None else read_columns(source, columns)

    # -------------------------------------------------------------- records
    def records(self, columns: list[str] | None = None) -> pa.Table:
        """The canonical exported records (data/processed/records.parquet) of this revision."""
        if not self.exists(RECORDS):
            raise RevisionError(
                f"{RECORDS}: not in revision {self.name}; build it (`dvc repro`) and commit dvc.lock first"
            )
        return self.read_table(RECORDS, columns)

    def stage_order(self) -> list[str]:
        """Stage names in dvc.yaml order (the order the pipeline runs them in)."""
        text = self.read_text("dvc.yaml", default=None)
        stages = (yaml.safe_load(text) or {}).get("stages", {}) if text else {}
        return list(stages)

    def rejects(self) -> pa.Table:
        """Every stage's rejects (data/interim/rejects/**.parquet) concatenated in pipeline order.

        A record leaves the pipeline at its first reject; a later stage (evaluate)
        may reject other rows under the same id, so the earliest stage comes first.
        """
        schema = pa.schema([(c, pa.string()) for c in REJECT_COLUMNS])
        order = {name: i for i, name in enumerate(self.stage_order())}

        def rank(path: str) -> tuple[int, str]:
            stage = Path(path).relative_to(REJECTS_DIR).parts[0].removesuffix(".parquet")
            return (order.get(stage, len(order)), path)

        tables = []
        for path in sorted(self.list_files(REJECTS_DIR, ".parquet"), key=rank):
            table = self.read_table(path)
            arrays = [
                table.column(c).cast(pa.string())
                if c in table.column_names
                else pa.nulls(table.num_rows, pa.string())
                for c in REJECT_COLUMNS
            ]
            tables.append(pa.Table.from_arrays(arrays, schema=schema))
        return pa.concat_tables(tables) if tables else schema.empty_table()
