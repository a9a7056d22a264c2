"""Preference data (DPO / KTO) from adjudicated production feedback.

A flagged production answer that an agent rewrote is a preference already made by a
person: the agent's reply (the record's assistant turn, adjudicated before export) is
``chosen``, the deployed model's reply (``meta.model_reply`` of the feedback log line)
is ``rejected``. KTO needs no pair: the model's reply under a flag that says it was
bad (thumbs down, an escalation, a correction) is undesirable, under a thumbs up
desirable, and a correction is desirable.

Only exported records are read (data/processed/records.parquet): feedback reaches it
only once adjudicated (the export's hold op), already redacted, split and validated,
so a pair never crosses splits and both its sides are the record's own. Every
feedback record read either gives rows or is counted under the reason it gave none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftdata.export import dialogue_turns, system_of
from ftdata.ops.dedup import normalise_for_dedup
from ftdata.ops.feedback import meta_of

# Why a feedback record gave no pair (the stage's metrics count each).
NO_MODEL_REPLY = "no_model_reply"
IDENTICAL_SIDES = "identical_sides"
NOT_A_PAIR_FLAG = "not_a_pair_flag"
NO_REPLY = "no_reply"


@dataclass(frozen=True)
class Preference:
    """One record's preference: its prompt turns, chosen and rejected replies, lineage."""

    id: str
    locator: str
    split: str
    system: str | None
    prompt: list[dict]  # user / assistant turns before the reply, ending with the user's
    chosen: str | None
    rejected: str | None
    kto: list[tuple[str, bool]] = field(default_factory=list)  # (reply, desirable)


def preference_of(rec: dict, section: dict, system_prompt: str | None) -> tuple[Preference, str]:
    """The preference in one exported feedback record, and why it has no pair ('' if it has)."""
    meta = meta_of(rec.get("meta"))
    flag, model_reply = meta.get("flag"), meta.get("model_reply")
    turns = dialogue_turns(list(rec["messages"]))
    reply = turns[-1]["content"] if turns and turns[-1]["role"] == "assistant" else None
    prompt = turns[:-1] if reply is not None else turns
    has_model_reply = isinstance(model_reply, str) and bool(model_reply.strip())
    why = ""
    if reply is None:
        why = NO_REPLY
    elif not has_model_reply:
        why = NO_MODEL_REPLY
    elif flag not in section["pair_flags"]:
        why = NOT_A_PAIR_FLAG
    elif normalise_for_dedup(reply) == normalise_for_dedup(model_reply):
        why = IDENTICAL_SIDES  # the "correction" left the model's answer as it was
    kto: list[tuple[str, bool]] = []
    if has_model_reply:
        if flag in section["desirable_flags"]:
            kto.append((model_reply, True))
        elif flag in section["undesirable_flags"] and why != IDENTICAL_SIDES:
            kto.append((model_reply, False))  # an unchanged "correction" says nothing bad of it
    if not why:
        kto.append((reply, True))
    pref = Preference(
        id=rec["id"],
        locator=rec["locator"],
        split=rec["split"],
        system=system_of(list(rec["messages"]), system_prompt),
        prompt=prompt,
        chosen=None if why else reply,
        rejected=None if why else model_reply,
        kto=kto,
    )
    return pref, why


NAMES = {"user": "human", "assistant": "gpt"}


def to_sharegpt_ranking(p: Preference) -> dict:
    """LLaMA-Factory's sharegpt preference row (``ranking: true``)."""
    row: dict = {
        "conversations": [{"from": NAMES[t["role"]], "value": t["content"]} for t in p.prompt],
        "chosen": {"from": "gpt", "value": p.chosen},
        "rejected": {"from": "gpt", "value": p.rejected},
    }
    if p.system:
        row["system"] = p.system
    return row


def to_alpaca_ranking(p: Preference) -> dict:
    """LLaMA-Factory's alpaca preference row: the last user turn, earlier pairs as history."""
    turns = p.prompt
    history = [[turns[i]["content"], turns[i + 1]["content"]] for i in range(0, len(turns) - 1, 2)]
    row: dict = {
        "instruction": turns[-1]["content"] if turns else "",
        "input": "",
        "chosen": p.chosen,
        "rejected": p.rejected,
        "history": history,
    }
    if p.system:
        row["system"] = p.system
    return row


def to_kto(p: Preference, reply: str, desirable: bool) -> dict:
    """LLaMA-Factory's KTO row: a conversation ending in the reply, and its ``kto_tag``."""
    head = [{"role": "system", "content": p.system}] if p.system else []
    return {
        "messages": head + p.prompt + [{"role": "assistant", "content": reply}],
        "label": desirable,
    }


def to_openai_preference(p: Preference) -> dict:
    """OpenAI's preference fine-tuning row (DPO): input messages, preferred / non-preferred."""
    head = [{"role": "system", "content": p.system}] if p.system else []
    return {
        "input": {"messages": head + p.prompt},
        "preferred_output": [{"role": "assistant", "content": p.chosen}],
        "non_preferred_output": [{"role": "assistant", "content": p.rejected}],
    }


def dataset_info(name: str, files: list[tuple[str, str]]) -> dict:
    """dataset_info.json entries LLaMA-Factory reads the preference files by, for the
    ``(format, split)`` files written (an empty split has no file: a client cannot load one)."""
    sharegpt_tags = {
        "role_tag": "from",
        "content_tag": "value",
        "user_tag": "human",
        "assistant_tag": "gpt",
    }
    entries = {
        "dpo_sharegpt": {
            "formatting": "sharegpt",
            "ranking": True,
            "columns": {
                "messages": "conversations",
                "chosen": "chosen",
                "rejected": "rejected",
                "system": "system",
            },
            "tags": sharegpt_tags,
        },
        "dpo_alpaca": {
            "formatting": "alpaca",
            "ranking": True,
            "columns": {
                "prompt": "instruction",
                "query": "input",
                "chosen": "chosen",
                "rejected": "rejected",
                "system": "system",
                "history": "history",
            },
        },
        "kto": {
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "kto_tag": "label"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        },
    }
    return {
        f"{name}_{fmt}_{split}": {"file_name": f"{name}_{fmt}_{split}.json", **entries[fmt]}
        for fmt, split in files
        if fmt in entries
    }
