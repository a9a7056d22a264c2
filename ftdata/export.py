"""Trainer formats: OpenAI chat JSONL and LLaMA-Factory alpaca / sharegpt.

Pure functions from a canonical record to one export row; the export stage
writes the files and validates every row against schemas/.
"""

from __future__ import annotations

import json

from ftdata.schemas import errors_of


def system_of(messages: list[dict], default: str | None) -> str | None:
    for m in messages:
        if m["role"] == "system":
            return m["content"]
    return default


def dialogue_turns(messages: list[dict]) -> list[dict]:
    """User/assistant turns, consecutive same-role turns merged, leading assistant turns dropped.

    Trainer formats want strict alternation starting with the user; chat logs
    often open with an agent greeting and split one utterance over several turns.
    """
    turns: list[dict] = []
    for m in messages:
        if m["role"] == "system":
            continue
        if not turns and m["role"] == "assistant":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1] = {"role": m["role"], "content": turns[-1]["content"] + "\n" + m["content"]}
        else:
            turns.append({"role": m["role"], "content": m["content"]})
    while turns and turns[-1]["role"] != "assistant":
        turns.pop()
    return turns


def to_openai(messages: list[dict], system_prompt: str | None) -> dict:
    system = system_of(messages, system_prompt)
    head = [{"role": "system", "content": system}] if system else []
    return {"messages": head + dialogue_turns(messages)}


def to_alpaca(messages: list[dict], system_prompt: str | None) -> dict:
    turns = dialogue_turns(messages)
    pairs = [(turns[i]["content"], turns[i + 1]["content"]) for i in range(0, len(turns) - 1, 2)]
    row: dict = {
        "instruction": pairs[-1][0] if pairs else "",
        "input": "",
        "output": pairs[-1][1] if pairs else "",
    }
    system = system_of(messages, system_prompt)
    if system:
        row["system"] = system
    row["history"] = [list(p) for p in pairs[:-1]]
    return row


def to_sharegpt(messages: list[dict], system_prompt: str | None) -> dict:
    names = {"user": "human", "assistant": "gpt"}
    row: dict = {
        "conversations": [
            {"from": names[t["role"]], "value": t["content"]} for t in dialogue_turns(messages)
        ]
    }
    system = system_of(messages, system_prompt)
    if system:
        row["system"] = system
    return row


def dataset_info(name: str, splits: list[str], formats: list[str]) -> dict:
    """LLaMA-Factory's dataset_info.json entries for the files the export stage writes."""
    info: dict = {}
    for split in splits:
        if "alpaca" in formats:
            info[f"{name}_alpaca_{split}"] = {
                "file_name": f"{name}_alpaca_{split}.json",
                "formatting": "alpaca",
                "columns": {
                    "prompt": "instruction",
                    "query": "input",
                    "response": "output",
                    "system": "system",
                    "history": "history",
                },
            }
        if "sharegpt" in formats:
            info[f"{name}_sharegpt_{split}"] = {
                "file_name": f"{name}_sharegpt_{split}.json",
                "formatting": "sharegpt",
                "columns": {"messages": "conversations", "system": "system"},
                "tags": {
                    "role_tag": "from",
                    "content_tag": "value",
                    "user_tag": "human",
                    "assistant_tag": "gpt",
                },
            }
    return info


# Each trainer format: its converter, the schema a converted row must meet, and whether a
# split's file is one JSON array (LLaMA-Factory) rather than JSON lines. The one list of
# formats: `export.formats` is checked against it.
CONVERTERS = {
    "openai": (to_openai, "openai_chat.schema.json", False),
    "alpaca": (to_alpaca, "alpaca.schema.json", True),
    "sharegpt": (to_sharegpt, "sharegpt.schema.json", True),
}


EXPORT_FORMATS = tuple(CONVERTERS)


def row_errors(fmt: str, row: dict) -> list[str]:
    """What ``fmt``'s schema says about one converted row (an array format: as a one-row file)."""
    _, schema, is_array = CONVERTERS[fmt]
    return errors_of([row] if is_array else row, schema)


class JsonArrayFile:
    """``json.dumps(rows, ensure_ascii=False, indent=2) + "\\n"``, written a row at a time
    (an item of an indented array is its own indented dump, shifted one level)."""

    def __init__(self, path):
        self._fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.rows = 0

    def add(self, row: dict) -> None:
        text = json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self._fh.write(("[\n  " if not self.rows else ",\n  ") + text)
        self.rows += 1

    def close(self) -> None:
        self._fh.write("\n]\n" if self.rows else "[]\n")
        self._fh.close()
