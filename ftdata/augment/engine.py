"""What the augment stage does: pick parents, run the ops, keep only safe, new children.

1. **Where each record will land.** The split stage assigns splits by a hash
   of each record's group (``ftdata.ops.split``); the same functions and the
   same ``split`` params say here which records are bound for train. Only
   those are parents: a record bound for val or test never gets a child, so
   no augmented text can reach val/test through its parent. Children carry
   the parent's ``conversation_id`` and ``parents`` link, which puts them in
   the parent's split group.
2. **Hard examples** (``hard.py``) among the train-bound records.
3. **Selection.** A record is picked for rule-based ops when it is hard, or
   when ``unit_hash(seed, id)`` falls under ``select_fraction`` (raised for
   labels the balance stage will need to oversample: "augmentation first").
   The hash depends on the record alone, so adding data does not change who
   else is picked. Hard records get ``hard_variants`` children per op.
   Model-backed ops pick by their own hash and ``llm.select_fraction`` (and
   ``boundary`` takes every hard record with a partner).
4. **Ops** (``rules.py``, ``llm.py``) make candidate children.
5. **Filters.** A candidate is rejected when its normalised text equals any
   record's or an earlier child's (``exact_duplicate``), or when it is a near
   duplicate (MinHash + verified Jaccard, the dedup stage's helpers and
   params) of any record other than its own parents, or of an earlier child
   of other parents (``near_duplicate``): a paraphrase is close to its parent
   by design, but must not copy another record, least of all one in val/test
   (against val/test records the check is exhaustive, not LSH).
   Finally the split is recomputed with the children added; a child that
   would not land in train is rejected (``split_leak``; by construction this
   does not happen, the check keeps it that way).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ftdata.augment import balance as balance_mod
from ftdata.augment import hard as hard_mod
from ftdata.augment import rules  # noqa: F401  (registers the rule ops augment.ops names)
from ftdata.augment.records import make_child, op_params_hash, query_turn
from ftdata.errors import ConfigError
from ftdata.ops.dedup import (
    dedup_params,
    exact_key,
    jaccard,
    normalise_for_dedup,
    shingles,
    verified_pairs,
)
from ftdata.ops.feedback import awaiting_review
from ftdata.ops.split import group_keys, split_for, unit_hash, validate_ratios
from ftdata.params import check_op_keys, op_params
from ftdata.reasons import Reason
from ftdata.record import content_of
from ftdata.registry import all_ops, get_op

LANG_NAMES = {"zh": "中文", "en": "English"}


def splits_of(df: pd.DataFrame, split_params: dict) -> list[str]:
    """The split each row will get from the split stage (same functions, same params)."""
    if not len(df):
        return []
    ratios = validate_ratios(split_params.get("ratios"))
    seed = split_params.get("seed", 42)
    return [split_for(unit_hash(seed, key), ratios) for key in group_keys(df)]


def record_texts(records: list[dict]) -> list[str]:
    return [
        content_of(r.get("messages"), r.get("text") if isinstance(r.get("text"), str) else None)
        for r in records
    ]


# ------------------------------------------------------------------ filters
def filter_children(
    existing: pd.DataFrame, children: list[dict], dedup: dict
) -> tuple[list[dict], list[dict]]:
    """Children that duplicate nothing (see module docstring, step 5); the others with reasons."""
    dedup = dedup_params(dedup)
    ex_records = existing.to_dict("records")
    ex_raw = record_texts(ex_records)
    ex_norm = [normalise_for_dedup(t) for t in ex_raw]
    seen: dict[str, str] = {}
    for rid, norm, raw in zip((r["id"] for r in ex_records), ex_norm, ex_raw, strict=True):
        seen.setdefault(exact_key(norm, raw), rid)
    ch_raw = record_texts(children)
    ch_norm = [normalise_for_dedup(t) for t in ch_raw]
    rejected: list[dict] = []
    survivors: list[int] = []
    for i, child in enumerate(children):
        key = exact_key(ch_norm[i], ch_raw[i])
        if key in seen:
            rejected.append(
                {
                    **child,
                    "reason": str(Reason.EXACT_DUPLICATE),
                    "detail": f"exact duplicate of {seen[key]} after normalisation",
                    "duplicate_of": seen[key],
                }
            )
        else:
            seen[key] = child["id"]
            survivors.append(i)
    if not dedup["near"] or not survivors:
        return [children[i] for i in survivors], rejected
    n_ex = len(ex_records)
    pairs = verified_pairs(
        ex_norm + [ch_norm[i] for i in survivors],
        dedup["ngram"],
        dedup["threshold"],
        dedup["num_perm"],
        dedup["seed"],
    )
    partners: dict[int, list[tuple[int, float]]] = {}
    for a, b, score in pairs:
        if b >= n_ex:
            partners.setdefault(b, []).append((a, score))
    accepted_local: set[int] = set()
    accepted: list[dict] = []
    for local, i in enumerate(survivors):
        child = children[i]
        own = set(child.get("parents") or [])
        clash = None
        for j, score in sorted(partners.get(n_ex + local, []), key=lambda t: (-t[1], t[0])):
            if j < n_ex:
                other = ex_records[j]["id"]
                if other not in own:
                    clash = (other, score)
                    break
            elif (j - n_ex) in accepted_local:
                other_child = children[survivors[j - n_ex]]
                if not own & set(other_child.get("parents") or []):
                    clash = (other_child["id"], score)
                    break
        if clash:
            rejected.append(
                {
                    **child,
                    "reason": str(Reason.NEAR_DUPLICATE),
                    "detail": f"near duplicate of {clash[0]} (jaccard {clash[1]:.2f})",
                    "duplicate_of": clash[0],
                }
            )
        else:
            accepted_local.add(local)
            accepted.append(child)
    return accepted, rejected


class PrefixIndex:
    """Exact candidate search for Jaccard >= ``threshold`` over fixed shingle sets (prefix filter).

    Tokens are ranked rarest first (document frequency in the indexed sets,
    ties by token). Two sets with Jaccard >= t share at least
    ``ceil(t * max(|x|, |y|))`` tokens, so each shares a token with the
    other's first ``|s| - ceil(t * |s|) + 1`` tokens in that order (the
    prefix filter of Chaudhuri et al. / Bayardo et al.): indexing and probing
    only prefixes finds every such pair, with no false negatives, and rare
    tokens keep the posting lists short. Candidates are then verified exactly
    by the caller. This replaces a loop over every (text, held-out) pair,
    which was O(texts x held-out): hours at 100k records.
    """

    def __init__(self, sets: list[set[str]], threshold: float):
        self.threshold = threshold
        df = Counter(tok for s in sets for tok in s)
        self.rank = {tok: r for r, tok in enumerate(sorted(df, key=lambda t: (df[t], t)))}
        self.postings: dict[int, list[int]] = {}
        for j, s in enumerate(sets):
            for r in self._prefix(s):
                self.postings.setdefault(r, []).append(j)

    def _prefix(self, s: set[str]) -> list[int]:
        if not s:
            return []
        # a token no indexed set has ranks first (-1): it can match nothing, but it takes a slot
        ranks = sorted(self.rank.get(tok, -1) for tok in s)
        # 1e-9: a float product like 0.7 * 10 = 7.000000000000001 must not shorten the prefix
        keep = len(s) - math.ceil(self.threshold * len(s) - 1e-9) + 1
        return ranks[: max(1, keep)]

    def candidates(self, s: set[str]) -> list[int]:
        """Indices (ascending) of indexed sets that may reach the threshold with ``s``."""
        found: set[int] = set()
        for r in self._prefix(s):
            if r >= 0:
                found.update(self.postings.get(r, ()))
        return sorted(found)


def near_held_out(
    texts: list[str], held_out: pd.DataFrame, dedup: dict
) -> list[tuple[str, float] | None]:
    """Per text, the val/test record it equals or nearly duplicates (id, Jaccard), or None.

    Exhaustive (exact Jaccard over every pair that can reach the threshold),
    not LSH: MinHash LSH finds a pair at Jaccard 0.8 only ~87 % of the time,
    and a text close to val/test must never be generated or copied into
    train. ``PrefixIndex`` proposes the pairs (no false negatives), so the
    cost grows with the candidates, not with texts x held-out records.
    Ties: the first held-out record in ``held_out`` order.
    """
    dedup = dedup_params(dedup)
    ngram, threshold = dedup["ngram"], dedup["threshold"]
    held_records = held_out.to_dict("records")
    held_norm = [normalise_for_dedup(t) for t in record_texts(held_records)]
    exact = {n: r["id"] for n, r in zip(held_norm, held_records, strict=True) if n}
    held_ids = [r["id"] for r in held_records]
    held_sets = [shingles(n, ngram) for n in held_norm]
    index = PrefixIndex(held_sets, threshold)
    out: list[tuple[str, float] | None] = []
    for text in texts:
        norm = normalise_for_dedup(text)
        if norm in exact:
            out.append((exact[norm], 1.0))
            continue
        own = shingles(norm, ngram)
        best = None
        for j in index.candidates(own):
            other = held_sets[j]
            if (
                not own
                or not other
                or min(len(own), len(other)) < threshold * max(len(own), len(other))
            ):
                continue
            score = jaccard(own, other)
            if score >= threshold and (best is None or score > best[1]):
                best = (held_ids[j], score)
        out.append(best)
    return out


def reject_near_held_out(
    existing: pd.DataFrame, splits: list[str], children: list[dict], dedup: dict
) -> tuple[list[dict], list[dict]]:
    """Children with no val/test near duplicate; the others rejected as ``near_duplicate``."""
    held_out = existing[[s != "train" for s in splits]]
    if not children or not len(held_out):
        return children, []
    ok, rejected = [], []
    for child, hit in zip(
        children, near_held_out(record_texts(children), held_out, dedup), strict=True
    ):
        if hit is None:
            ok.append(child)
        else:
            rejected.append(
                {
                    **child,
                    "reason": str(Reason.NEAR_DUPLICATE),
                    "detail": f"near duplicate of {hit[0]} (jaccard {hit[1]:.2f}), a val/test record",
                    "duplicate_of": hit[0],
                }
            )
    return ok, rejected


def leak_guard(
    existing: pd.DataFrame, children: list[dict], split_params: dict, before: list[str]
) -> tuple[list[dict], list[dict]]:
    """Children that the split stage will put in train; the others rejected (``split_leak``)."""
    if not children:
        return [], []
    combined = pd.concat([existing, pd.DataFrame(children).astype(object)], ignore_index=True)
    after = splits_of(combined, split_params)
    if after[: len(existing)] != before:
        raise AssertionError("augment: adding children moved existing records between splits")
    ok, leaked = [], []
    for child, split in zip(children, after[len(existing) :], strict=True):
        if split == "train":
            ok.append(child)
        else:
            leaked.append(
                {
                    **child,
                    "reason": str(Reason.SPLIT_LEAK),
                    "detail": f"would land in {split}, not train",
                }
            )
    return ok, leaked


# ------------------------------------------------------------------ selection
@dataclass
class Plan:
    splits: list[str]
    train: list[bool]
    hard: list[bool | None]
    partner: list[str | None]
    variants: list[int]
    llm_selected: list[bool]
    boost: dict[str, float] = field(default_factory=dict)
    hard_report: dict = field(default_factory=dict)


def plan(
    df: pd.DataFrame, section: dict, *, split_params: dict, balance_params: dict, eval_dir: Path
) -> Plan:
    splits = splits_of(df, split_params)
    # Production feedback awaiting review never parents training data (it is held from export).
    held = awaiting_review(df)
    train = [s == "train" and not h for s, h in zip(splits, held, strict=True)]
    ids = [str(i) for i in df["id"]]
    labels = list(df["label"]) if "label" in df.columns else [None] * len(df)
    hard: list[bool | None] = [None] * len(df)
    partner: list[str | None] = [None] * len(df)
    report: dict = {"enabled": bool(section["hard"]["enabled"])}
    hcfg = section["hard"]
    if hcfg["enabled"]:
        known = {k: "conf" for k in hard_mod.conf_pairs(hcfg["confusable"])}
        gold = {rid: lb for rid, lb in zip(ids, labels, strict=True) if isinstance(lb, str) and lb}
        from_eval, files = hard_mod.eval_pairs(eval_dir, hcfg["min_confusion"], gold)
        for key in from_eval:
            known.setdefault(key, "eval")
        rows = [i for i in range(len(df)) if train[i]]
        texts = hard_mod.frame_texts(df.iloc[rows]) if rows else []
        mined = hard_mod.mine(
            texts,
            [labels[i] for i in rows],
            [ids[i] for i in rows],
            known_pairs=known,
            ngram_min=hcfg["ngram_min"],
            ngram_max=hcfg["ngram_max"],
            neighbours=hcfg["neighbours"],
            min_similarity=hcfg["min_similarity"],
            pair_similarity=hcfg["pair_similarity"],
            max_mined=hcfg["max_mined"],
            search=hcfg["search"],
        )
        for local, i in enumerate(rows):
            hard[i] = mined.hard[local]
            partner[i] = mined.partner[local]
        report.update(
            {
                "flagged": sum(1 for h in mined.hard if h),
                "mined": mined.mined,
                "not_mined_over_cap": mined.skipped,
                "max_mined": hcfg["max_mined"],
                "search": hcfg["search"],
                "by_origin": dict(sorted(Counter(w for w in mined.why if w).items())),
                "pairs": dict(sorted(mined.pairs.items())),
                "known_pairs": {"conf": len(hcfg["confusable"]), "eval": len(from_eval)},
                "eval_files": len(files),
            }
        )
    boost = _minority_boost(labels, train, section, balance_params)
    level = balance_params.get("level", 3)
    variants, llm_selected = [], []
    llm_fraction = section["llm"]["select_fraction"]
    for i, rid in enumerate(ids):
        if not train[i]:
            variants.append(0)
            llm_selected.append(False)
            continue
        lb = balance_mod.level_label(labels[i], level)
        fraction = min(1.0, section["select_fraction"] * boost.get(lb, 1.0))
        if hard[i]:
            variants.append(section["hard_variants"])
        elif unit_hash(section["seed"], f"select:{rid}") < fraction:
            variants.append(section["variants"])
        else:
            variants.append(0)
        llm_selected.append(unit_hash(section["seed"], f"llm:{rid}") < llm_fraction)
    return Plan(splits, train, hard, partner, variants, llm_selected, boost, report)


def _minority_boost(labels, train, section, balance_params) -> dict[str, float]:
    """Per class at the balance level: target / count when balance will oversample it."""
    if not section["minority_boost"] or balance_params.get("strategy") != "oversample":
        return {}
    level = balance_params.get("level", 3)
    counts = Counter(
        balance_mod.level_label(lb, level)
        for lb, tr in zip(labels, train, strict=True)
        if tr and lb
    )
    wanted = balance_mod.targets(
        dict(counts), "oversample", balance_params.get("target_ratio", 3.0), {}
    )
    return {lb: round(t / counts[lb], 6) for lb, t in wanted.items() if counts[lb]}


# ------------------------------------------------------------------ rule ops
def rule_op_params(section: dict, name: str) -> dict:
    """An augment op's params, by the one rule for every op (ftdata.params.op_params)."""
    op = get_op(name, where="params.yaml: augment.ops")
    if op.stage != "augment":
        raise ConfigError(f"params.yaml: augment.ops names {name!r}, an op of stage {op.stage!r}")
    return op_params("augment", section, op)


def run_rule_ops(
    df: pd.DataFrame, variants: list[int], section: dict
) -> tuple[list[dict], dict[str, int]]:
    picked = df.assign(_variants=pd.Series(variants, index=df.index, dtype=object))
    picked = picked[[v > 0 for v in variants]].reset_index(drop=True)
    check_op_keys("augment", section, all_ops())
    children: list[dict] = []
    made: dict[str, int] = {}
    for name in section["ops"]:
        params = rule_op_params(section, name)
        result = get_op(name).fn(picked, **params) if len(picked) else None
        kept = result.kept.to_dict("records") if result is not None and len(result.kept) else []
        made[name] = len(kept)
        children.extend(kept)
    return children, made


# ------------------------------------------------------------------ model-backed ops
@dataclass
class LlmTask:
    row: dict
    op: str
    variant: int
    turn: int
    lang: str
    extra: dict = field(default_factory=dict)


def _source_lang(row: dict) -> str:
    return "en" if row.get("lang") == "en" else "zh"


def llm_tasks(df: pd.DataFrame, p: Plan, llm: dict) -> list[LlmTask]:
    records = df.to_dict("records")
    by_id = {str(r["id"]): r for r in records}
    tasks = []
    for i, row in enumerate(records):
        if not p.train[i]:
            continue
        turn = query_turn(list(row.get("messages") or []))
        if turn is None:
            continue
        lang = _source_lang(row)
        if p.llm_selected[i]:
            for op in llm["ops"]:
                if op in ("paraphrase", "back_translate"):
                    tasks += [LlmTask(row, op, k, turn, lang) for k in range(llm["variants"])]
                elif op == "dialect_rewrite" and lang == "zh":
                    for k, (code, name) in enumerate(sorted(llm["dialects"].items())):
                        tasks.append(
                            LlmTask(row, op, k, turn, lang, {"dialect": code, "dialect_name": name})
                        )
        if "boundary" in llm["ops"] and p.hard[i] and p.partner[i] in by_id:
            other = by_id[p.partner[i]]
            other_turn = query_turn(list(other.get("messages") or []))
            if other_turn is not None:
                tasks.append(
                    LlmTask(
                        row,
                        "boundary",
                        0,
                        turn,
                        lang,
                        {"partner": other, "partner_turn": other_turn},
                    )
                )
    return tasks


def _answer_after(messages: list[dict], turn: int) -> str:
    for m in messages[turn + 1 :]:
        if m.get("role") == "assistant" and m.get("content"):
            return m["content"]
    return ""


def _variables(task: LlmTask, notes: dict[str, str]) -> dict[str, str]:
    messages = list(task.row.get("messages") or [])
    pivot = "en" if task.lang == "zh" else "zh"
    base = {
        "text": messages[task.turn]["content"],
        "lang": task.lang,
        "lang_name": LANG_NAMES[task.lang],
        "out_lang": task.lang,
        "pivot": pivot,
        "pivot_name": LANG_NAMES[pivot],
        "label": str(task.row.get("label") or ""),
        "variant": str(task.variant + 1),
        "answer": _answer_after(messages, task.turn),
    }
    if task.op == "back_translate":
        base["out_lang"] = pivot  # the first call goes to the pivot language; the second comes back
    if task.op == "dialect_rewrite":
        base.update(
            {
                "dialect": task.extra["dialect"],
                "dialect_name": task.extra["dialect_name"],
                "out_lang": "zh",
            }
        )
    if task.op == "boundary":
        other = task.extra["partner"]
        other_label = str(other.get("label") or "")
        base.update(
            {
                "other_text": other["messages"][task.extra["partner_turn"]]["content"],
                "other_label": other_label,
                "note": notes.get(hard_mod.pair_key(base["label"], other_label), ""),
            }
        )
    return base


def run_llm_ops(
    df: pd.DataFrame, p: Plan, section: dict, client
) -> tuple[list[dict], list[dict], dict]:
    """Children from the model-backed ops, rejects for unusable responses, per-op counts."""
    from ftdata.augment.llm import check_ops
    from ftdata.llm.client import ChatCall, load_templates, parse_response

    llm = section["llm"]
    templates = load_templates(llm["templates"])
    check_ops(llm["ops"], templates)
    notes = {
        hard_mod.pair_key(*e["labels"]): e.get("note") or "" for e in section["hard"]["confusable"]
    }
    tasks = llm_tasks(df, p, llm)
    variables = [_variables(t, notes) for t in tasks]
    first = [
        ChatCall(templates[_templates_of(t.op)[0]], v)
        for t, v in zip(tasks, variables, strict=True)
    ]
    outcomes = client.run(first)
    # second step of back-translation: the pivot text back to the source language
    second_idx, second_calls, parsed_first = [], [], {}
    for i, (task, outcome) in enumerate(zip(tasks, outcomes, strict=True)):
        if task.op != "back_translate" or outcome.content is None:
            continue
        values, reason, detail = parse_response(
            outcome.content, first[i].template.fields, variables[i]["pivot"]
        )
        parsed_first[i] = (values, reason, detail)
        if values is not None:
            back_vars = {**variables[i], "text": values["text"], "out_lang": variables[i]["lang"]}
            second_idx.append(i)
            second_calls.append(ChatCall(templates["back_translate_back"], back_vars))
    second = dict(zip(second_idx, client.run(second_calls), strict=True)) if second_calls else {}

    phashes = {
        op: op_params_hash(
            op,
            {
                "model": llm["model"],
                "templates": [templates[n].hash for n in _templates_of(op)],
                "generation": llm["generation"],
                "json_mode": llm["json_mode"],
                "seed": section["seed"],
            },
        )
        for op in llm["ops"]
    }
    children, rejected = [], []
    made: Counter = Counter()
    for i, task in enumerate(tasks):
        outcome = outcomes[i]
        fields = first[i].template.fields
        expect = variables[i]["out_lang"]
        if outcome.content is None:
            continue  # failed or over budget: counted in the llm metrics, no record made
        if task.op == "back_translate":
            values, reason, detail = parsed_first[i]
            content = outcome.content
            if values is not None:
                back = second.get(i)
                if back is None or back.content is None:
                    continue
                content = back.content
                values, reason, detail = parse_response(
                    content, templates["back_translate_back"].fields, variables[i]["lang"]
                )
        else:
            content = outcome.content
            values, reason, detail = parse_response(content, fields, expect)
        child = _llm_child(task, phashes[task.op], values, content)
        made[task.op] += 1
        if values is None:
            rejected.append({**child, "reason": str(reason), "detail": f"{task.op}: {detail}"})
        else:
            children.append(child)
    return children, rejected, dict(made)


def _templates_of(op: str) -> tuple[str, ...]:
    from ftdata.augment.llm import OP_TEMPLATES

    return OP_TEMPLATES[op]


def _llm_child(task: LlmTask, phash: str, values: dict | None, raw: str) -> dict:
    messages = [dict(m) for m in (task.row.get("messages") or [])]
    if task.op == "boundary":
        question = values["question"] if values else raw
        answer = values["answer"] if values else ""
        new = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        return make_child(
            task.row,
            op=task.op,
            phash=phash,
            variant=task.variant,
            messages=new,
            extra_parents=(str(task.extra["partner"]["id"]),),
            meta={"partner_label": task.extra["partner"].get("label")},
        )
    messages[task.turn] = {**messages[task.turn], "content": values["text"] if values else raw}
    meta = {"dialect": task.extra["dialect"]} if task.op == "dialect_rewrite" else None
    return make_child(
        task.row, op=task.op, phash=phash, variant=task.variant, messages=messages, meta=meta
    )


# ------------------------------------------------------------------ the stage's core
@dataclass
class AugmentResult:
    records: pd.DataFrame  # input rows (with ``hard``) then accepted children
    rejected: list[dict]
    added: int
    report: dict


def augment(
    df: pd.DataFrame,
    section: dict,
    *,
    split_params: dict,
    dedup_params: dict,
    balance_params: dict,
    eval_dir: Path,
    client=None,
) -> AugmentResult:
    """Everything the augment stage computes, as data (the stage only reads and writes files)."""
    p = plan(
        df, section, split_params=split_params, balance_params=balance_params, eval_dir=eval_dir
    )
    base = df.copy()
    base["hard"] = pd.Series(p.hard, index=base.index, dtype=object)
    candidates, made = run_rule_ops(base, p.variants, section) if section["ops"] else ([], {})
    rejected: list[dict] = []
    llm_report: dict = {"enabled": bool(section["llm"]["enabled"])}
    if section["llm"]["enabled"]:
        if client is None:
            raise ConfigError("params.yaml: augment.llm.enabled is true but no client was given")
        llm_children, llm_rejects, llm_made = run_llm_ops(base, p, section, client)
        candidates += llm_children
        rejected += llm_rejects
        made.update(llm_made)
        llm_report.update(client.stats.as_dict())
    else:
        llm_report.update({"calls_made": 0, "calls_saved": 0})
    added = len(candidates) + len(rejected)
    accepted, dup_rejects = filter_children(base, candidates, dedup_params)
    accepted, held_out_rejects = reject_near_held_out(base, p.splits, accepted, dedup_params)
    accepted, leaks = leak_guard(base, accepted, split_params, p.splits)
    rejected += dup_rejects + held_out_rejects + leaks
    records = (
        pd.concat([base, pd.DataFrame(accepted).astype(object)], ignore_index=True)
        if accepted
        else base
    )
    kept_by_op = Counter(c["ops"][-1]["op"] for c in accepted)
    labels_added = Counter(
        c["label"] if isinstance(c.get("label"), str) else balance_mod.UNLABELLED for c in accepted
    )
    report = {
        "train_bound": sum(p.train),
        "selected": sum(1 for v in p.variants if v > 0),
        "llm_selected": sum(p.llm_selected),
        "minority_boost": p.boost,
        "hard": p.hard_report,
        "ops": {op: {"generated": n, "kept": kept_by_op.get(op, 0)} for op, n in made.items()},
        "labels_added": dict(sorted(labels_added.items())),
        "llm": llm_report,
    }
    return AugmentResult(records, rejected, added, report)
