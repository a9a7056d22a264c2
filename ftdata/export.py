"""Trainer formats: OpenAI chat JSONL and LLaMA-Factory alpaca / sharegpt.

Pure functions from a canonical record to one export row; the export stage
writes the files and validates every row against schemas/.
"""

from __future__ import annotations


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
