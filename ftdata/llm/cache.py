"""Content-addressed cache of model calls: a rebuild never pays twice for the same call.

Key: sha256 of ``(model, template hash, input hash, generation params)``.
The template hash covers the prompt templates and the expected output
fields, the input hash the values filled into them (record text, labels,
variant number), the generation params temperature, top_p, max_tokens, seed
and JSON mode. The endpoint's base_url is NOT part of the key (the same
model behind another URL answers the same) and is never stored: a URL may
carry credentials. Neither is the API key, which this module never sees.

Storage: one JSON file per call, ``<dir>/<key[:2]>/<key>.json``, holding the
key's parts and the response text. Files are written atomically as each
response arrives (a killed build keeps what it paid for) and their bytes
depend only on the call, so two builds with the same history leave identical
trees. Every response is cached, valid or not, so rejects replay the same
way; transport errors (timeouts, HTTP 5xx) are not, so the next build
retries them.

The directory is a DVC out of the augment stage with ``persist: true``: DVC
versions it like any out but does not delete it before the stage runs, and
no stage depends on it, so there is no cycle.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from ftdata.io import write_text
from ftdata.record import canonical_json, sha256_hex

README = (
    "Cache of model calls made by the augment stage (ftdata/augment/cache.py).\n"
    "One JSON file per call, named by the sha256 of (model, template hash, input hash,\n"
    "generation params). Safe to delete: the next build makes the calls again.\n"
)


def call_key(model: str, template_hash: str, input_hash: str, params: dict) -> str:
    return sha256_hex(
        canonical_json(
            {"model": model, "template": template_hash, "input": input_hash, "params": params}
        )
    )


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    written: int = 0


class LlmCache:
    """Read and write cached responses under ``directory`` (thread-safe: one file per key)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.stats = CacheStats()
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the directory with its README, so the DVC out exists even with no calls."""
        readme = self.directory / "README.txt"
        if not readme.is_file() or readme.read_text(encoding="utf-8") != README:
            write_text(readme, README)

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        path = self.path(key)
        if not path.is_file():
            with self._lock:
                self.stats.misses += 1
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            response = entry["response"]
        except (ValueError, KeyError):
            # A damaged entry is a miss: the call is made again and the file replaced.
            with self._lock:
                self.stats.misses += 1
            return None
        with self._lock:
            self.stats.hits += 1
        return response

    def put(
        self,
        key: str,
        *,
        model: str,
        template_hash: str,
        input_hash: str,
        params: dict,
        response: str,
    ) -> None:
        entry = {
            "key": key,
            "model": model,
            "template_hash": template_hash,
            "input_hash": input_hash,
            "params": params,
            "response": response,
        }
        write_text(
            self.path(key), json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        )
        with self._lock:
            self.stats.written += 1

    def replace_response(self, key: str, response: str) -> None:
        """Rewrite one entry's response in place (the client scrubs an old entry this way)."""
        entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        entry["response"] = response
        write_text(
            self.path(key), json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        )

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json")) if self.directory.is_dir() else 0
