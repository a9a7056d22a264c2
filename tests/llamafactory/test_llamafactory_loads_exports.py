"""LLaMA-Factory's own data code loads the example's SFT and preference exports as a training run would.

Needs LLaMA-Factory in its own virtualenv (its pins clash with ours): `make
test-llamafactory` creates .venv-llamafactory and runs this file with
FTDATA_LLAMAFACTORY_VENV set; plain `make test` skips it. load_with_llamafactory.py
runs in that venv on each dataset directory: LLaMA-Factory's parser reads
dataset_info.json, its loader and converter align every file (refusing one whose
``ranking`` does not fit the stage), its stage processor keeps or drops each row.
What it saw is compared with our files read by their fixed field names, never
through dataset_info.json's column mapping, so a wrong mapping cannot agree with itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.llamafactory]
VENV = os.environ.get("FTDATA_LLAMAFACTORY_VENV")
if not VENV:
    pytest.skip(
        "LLaMA-Factory loading our exports: run `make test-llamafactory`", allow_module_level=True
    )

HERE = Path(__file__).resolve().parent
ROLE = {"human": "user", "gpt": "assistant", "user": "user", "assistant": "assistant"}


def _kind(directory: str, name: str) -> str:
    if directory.endswith("llamafactory"):
        return "sft"
    return next(k for k in ("dpo", "kto") if f"_{k}_" in name)


def _turn(role: str, content: str) -> dict:
    return {"role": ROLE[role], "content": content}


def _alpaca_prompt(row: dict) -> list[dict]:
    prompt = [t for q, a in row["history"] for t in (_turn("user", q), _turn("assistant", a))]
    query = "\n".join(x for x in (row["instruction"], row["input"]) if x)
    return [*prompt, _turn("user", query)]


def expected(kind: str, formatting: str, row: dict) -> dict:
    """What LLaMA-Factory should align our row to, from our export's own field names."""
    system = row.get("system") or ""
    if kind == "kto":
        turns = [_turn(m["role"], m["content"]) for m in row["messages"] if m["role"] != "system"]
        system = next((m["content"] for m in row["messages"] if m["role"] == "system"), "")
        blank = _turn("assistant", "")
        response = [turns[-1], blank] if row["label"] else [blank, turns[-1]]
        return {"_prompt": turns[:-1], "_response": response, "_system": system}
    if formatting == "alpaca":
        prompt = _alpaca_prompt(row)
        answers = [row["chosen"], row["rejected"]] if kind == "dpo" else [row["output"]]
    else:
        turns = [_turn(t["from"], t["value"]) for t in row["conversations"]]
        if kind == "dpo":
            prompt, answers = turns, [row["chosen"]["value"], row["rejected"]["value"]]
        else:
            prompt, answers = turns[:-1], [turns[-1]["content"]]
    response = [_turn("assistant", a) for a in answers]
    return {"_prompt": prompt, "_response": response, "_system": system}


def load_with_llamafactory(out: Path, stages: dict[str, str], tmp: Path) -> dict:
    env = {
        **os.environ,
        "HF_HOME": str(tmp / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env.pop("DISABLE_VERSION_CHECK", None)  # LLaMA-Factory checks its own pins on import
    proc = subprocess.run(
        [
            f"{VENV}/bin/python",
            str(HERE / "load_with_llamafactory.py"),
            str(out),
            *(f"{name}={stage}" for name, stage in stages.items()),
            "--dump",
            str(tmp / "aligned"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("directory", ["data/processed/llamafactory", "data/processed/preference"])
def test_llamafactory_loads_every_dataset_of_the_export(built_project, tmp_path, directory):
    out = built_project / directory
    info = json.loads((out / "dataset_info.json").read_text("utf-8"))
    stages = {name: _kind(directory, name) for name in info}
    kinds = {"sft"} if directory.endswith("llamafactory") else {"dpo", "kto"}
    assert set(stages.values()) == kinds and len(info) >= 3 * len(kinds), stages

    result = load_with_llamafactory(out, stages, tmp_path)
    assert result["llamafactory"] == "0.9.5"
    summaries = {s["dataset"]: s for s in result["datasets"]}
    assert set(summaries) == set(info)
    aligned_by_name = {}
    for name, entry in info.items():
        s, kind = summaries[name], stages[name]
        assert "error" not in s, f"LLaMA-Factory could not load {name}: {s['error']}"
        rows = json.loads((out / entry["file_name"]).read_text("utf-8"))
        n = len(rows)
        assert n > 0 and s["rows"] == n, (name, s["rows"], n)
        assert (s["abnormal"], s["abnormal_logged"]) == (0, 0), (name, s["warnings"])
        assert (s["processed"], s["dropped_by_processor"]) == (n, 0), (name, s["warnings"])
        assert s["responses"] == {"1" if kind == "sft" else "2": n}, (name, s["responses"])
        if kind == "kto":
            # LLaMA-Factory's FeedbackDatasetProcessor decides desirable from the empty slot
            assert s["kto_tags"] == [r["label"] for r in rows], name
            assert True in s["kto_tags"] and False in s["kto_tags"], name
        if kind == "dpo":
            chosen = rows[0]["chosen"]
            chosen = chosen if isinstance(chosen, str) else chosen["value"]
            assert s["first"]["_response"][0]["content"] == chosen, name
            assert s["first"]["_response"][1]["content"] != chosen, name

        lines = (tmp_path / "aligned" / f"{name}.jsonl").read_text("utf-8").splitlines()
        aligned = [json.loads(line) for line in lines]
        assert len(aligned) == n
        for i, (row, seen) in enumerate(zip(rows, aligned, strict=True)):
            got = {k: seen[k] for k in ("_prompt", "_response", "_system")}
            assert got == expected(kind, entry["formatting"], row), f"{name} row {i}"
        aligned_by_name[name] = aligned

    # The alpaca and sharegpt files of one split hold the same records: LLaMA-Factory must
    # see the same conversations in both (history, system and multi-turn mapping agree).
    for name in info:
        twin = name.replace("_alpaca_", "_sharegpt_")
        if twin != name:
            assert twin in info, twin
            a, b = aligned_by_name[name], aligned_by_name[twin]
            assert [(r["_prompt"], r["_response"], r["_system"]) for r in a] == [
                (r["_prompt"], r["_response"], r["_system"]) for r in b
            ], (name, twin)
