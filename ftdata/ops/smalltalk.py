"""Remove small-talk turns ("你好", "谢谢！", "ok bye") and reject dialogues left without substance.

Decisions (each one is pinned by a test):
- A turn is small talk when, ignoring case, spaces, punctuation, emoji and
  symbols, it is nothing but phrases from the list, in any order and any
  number ("你好你好", "谢谢，再见", "OK thanks!!"). Only user and assistant
  turns are judged; system turns are never removed.
- A turn with small talk *and* substance ("你好，我想查一下账单") is kept
  whole. Greeting prefixes are not stripped: prefix matching cannot tell
  "好，帮我办理" from "好像扣了两次年费".
- A small-talk user turn that answers an assistant question and is followed
  by a substantive assistant turn is kept: after "需要为您办理分期吗？" a "好的"
  is consent, and dropping it would teach the model to act without consent.
- When a removal leaves two turns of the same role next to each other, they
  are merged (joined by a newline) so roles keep alternating. Adjacent
  same-role turns that were already in the input are left as they are.
- Records without an assistant turn are classification samples: their
  messages are left alone and they are judged on ``text`` (or, without text,
  on their user turns). Note this rejects a "你好" sample of a greeting intent.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, rejected_rows

# fmt: off
DEFAULT_PHRASES: tuple[str, ...] = (
    # zh greetings / presence checks
    "你好", "您好", "你们好", "大家好", "哈喽", "嗨", "在吗", "在么", "在嘛", "在不在",
    "有人吗", "亲", "早上好", "下午好", "晚上好",
    # zh thanks / acknowledgements
    "谢谢", "谢啦", "多谢", "感谢", "非常感谢", "辛苦了", "麻烦了", "不客气",
    "好的", "好滴", "好嘞", "好", "嗯", "嗯嗯", "恩", "哦", "噢", "喔", "收到", "知道了", "明白了",
    # zh closings
    "再见", "拜拜", "没有了", "没了", "没事了", "不用了",
    # zh particles that ride along ("好的呀", "在吗亲")
    "呀", "啊", "啦", "哈",
    # en
    "hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening",
    "thanks", "thank you", "thank you very much", "thank you so much", "thanks a lot", "thx",
    "ok", "okay", "got it", "cool", "bye", "goodbye", "see you", "you're welcome",
    "no problem", "nothing else", "that's all",
)
# fmt: on

_NON_WORD = re.compile(r"[\W_]+")
_ENDS_WITH_QUESTION = re.compile(r"[?？][\W_]*$")


def _normalize(text: str) -> str:
    """Casefolded letters, digits and CJK only: what is left once punctuation, emoji and space go."""
    return _NON_WORD.sub("", text.casefold())


def substance_chars(text: str | None) -> int:
    """Letters, digits and CJK characters (one each); spaces, punctuation, emoji don't count."""
    return len(_normalize(text)) if isinstance(text, str) else 0


@cache
def _smalltalk_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    keys = sorted({_normalize(p) for p in phrases} - {""}, key=lambda k: (-len(k), k))
    if not keys:
        return None
    return re.compile("(?:" + "|".join(re.escape(k) for k in keys) + ")+")


def is_smalltalk(text: str | None, phrases: tuple[str, ...] | list[str] = DEFAULT_PHRASES) -> bool:
    """True when ``text`` is made only of small-talk phrases (plus punctuation, emoji, space)."""
    if not isinstance(text, str):
        return False
    pattern = _smalltalk_pattern(tuple(phrases))
    norm = _normalize(text)
    return bool(pattern and norm and pattern.fullmatch(norm))


def drop_smalltalk_turns(messages: list[dict], phrases: tuple[str, ...]) -> tuple[list[dict], int]:
    """Messages without small-talk turns (same-role neighbours merged); and how many were removed."""
    chatty = [
        m.get("role") in ("user", "assistant") and is_smalltalk(m.get("content"), phrases)
        for m in messages
    ]
    kept: list[dict] = []
    removed = 0
    gap = False
    for i, m in enumerate(messages):
        if chatty[i] and not _is_answer(messages, chatty, i):
            removed += 1
            gap = True
            continue
        if gap and kept and kept[-1].get("role") == m.get("role"):
            kept[-1] = {
                **kept[-1],
                "content": f"{kept[-1].get('content') or ''}\n{m.get('content') or ''}",
            }
        else:
            kept.append(dict(m))
        gap = False
    return kept, removed


def _is_answer(messages: list[dict], chatty: list[bool], i: int) -> bool:
    """A small-talk user turn replying to an assistant question, with a real answer after it."""
    if messages[i].get("role") != "user" or i == 0 or i + 1 >= len(messages):
        return False
    prev, nxt = messages[i - 1], messages[i + 1]
    asked = prev.get("role") == "assistant" and bool(
        _ENDS_WITH_QUESTION.search(prev.get("content") or "")
    )
    return asked and nxt.get("role") == "assistant" and not chatty[i + 1]


def has_substantive_exchange(messages: list[dict], min_chars: int) -> bool:
    """Some user turn(s) directly followed by an assistant turn, both with >= ``min_chars`` substance."""
    user_run = 0
    for m in messages:
        role = m.get("role")
        if role == "user":
            user_run += substance_chars(m.get("content"))
        elif role == "assistant":
            if user_run >= min_chars and substance_chars(m.get("content")) >= min_chars:
                return True
            user_run = 0
        else:
            user_run = 0
    return False


def _judge_text(text: str | None, phrases: tuple[str, ...], min_chars: int) -> str:
    """Reject detail for a classification sample, or "" to keep it."""
    if is_smalltalk(text, phrases):
        return f"text is only small talk: {text!r}"
    if substance_chars(text) < min_chars:
        return f"text has fewer than {min_chars} substantive characters"
    return ""


def _count(value) -> int:
    """An earlier ``smalltalk_removed`` value (None/NaN when the column is new)."""
    try:
        return 0 if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return 0


@register("remove_smalltalk", "clean")
def remove_smalltalk(
    batch: pd.DataFrame,
    phrases: list[str] | tuple[str, ...] = DEFAULT_PHRASES,
    min_substance_chars: int = 4,
) -> OpResult:
    """Drop small-talk turns, then reject records with no substantive user -> assistant exchange.

    Sets ``smalltalk_removed`` (turns removed by this op, added to any earlier
    count). Rejected rows keep their messages as they came in, so a reviewer
    sees what the dialogue was.
    """
    phrases = tuple(phrases)
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    previous = (
        batch["smalltalk_removed"] if "smalltalk_removed" in batch.columns else [0] * len(batch)
    )
    new_messages, removed_counts, details = [], [], []
    for msgs, text, before in zip(batch["messages"], texts, previous, strict=True):
        msgs = list(msgs) if isinstance(msgs, list | tuple) else []
        text = text if isinstance(text, str) else None
        if not any(m.get("role") == "assistant" for m in msgs):
            # Classification sample: judged on its text, messages untouched.
            users = "\n".join(m.get("content") or "" for m in msgs if m.get("role") == "user")
            cleaned, removed = msgs, 0
            detail = _judge_text(text if text is not None else users, phrases, min_substance_chars)
        else:
            cleaned, removed = drop_smalltalk_turns(msgs, phrases)
            detail = ""
            if not has_substantive_exchange(cleaned, min_substance_chars):
                detail = (
                    f"no user turn followed by an assistant turn with >= {min_substance_chars} "
                    f"substantive characters after removing {removed} small-talk turn(s)"
                )
        new_messages.append(cleaned)
        removed_counts.append(
            removed + (int(before) if isinstance(before, int | float) and before == before else 0)
        )
        details.append(detail)

    reject = pd.Series([bool(d) for d in details], index=batch.index, dtype=bool)
    counted = batch.copy()
    counted["smalltalk_removed"] = pd.Series(removed_counts, index=batch.index, dtype=object)
    kept = counted[~reject].copy()
    kept["messages"] = pd.Series(
        [m for m, r in zip(new_messages, reject, strict=True) if not r],
        index=kept.index,
        dtype=object,
    )
    return OpResult(
        kept=kept.reset_index(drop=True),
        rejected=rejected_rows(counted, reject, Reason.NO_SUBSTANCE, details).reset_index(
            drop=True
        ),
    )
