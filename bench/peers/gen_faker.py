"""An independent benchmark corpus: N customer-service sessions written from Faker's values.

``python bench/peers/gen_faker.py N [--out DIR] [--seed S]`` writes, in the
format ``bench/gen.py`` writes (so ``run_peers.flatten`` and a
``conf/source/chat_logs.yaml``-style ingest read it unchanged):

- ``sessions_a.jsonl`` / ``sessions_b.jsonl``  two sources (60 % / 40 %), one
  session per line: ``{"session_id", "started_at", "agent_id", "csat",
  "biz_tag", "channel", "turns": [{"speaker", "text"}]}``;
- ``truth.jsonl``  one line per planted defect, ``{"file", "line", "kind",
  "of"}`` as in gen.py: ``exact_dup`` / ``near_dup`` (``of`` = the original's
  ``file:line``; near dups carry ``jaccard``, computed with ftdata's dedup
  normalisation and character 5-grams, and ``edits``), ``pii`` (with
  ``types``), ``junk`` (with ``junk``: repetition / symbols / short) and
  ``malformed``.

Why a second generator: bench/gen.py was written by the same people as the
dedup and PII code it measures, so its texts share their blind spots. Here
the words come from Faker (``zh_CN`` and ``en_US`` lorem sentences and
paragraphs, names, companies, cities, addresses, phone numbers, e-mails,
SSNs / resident ID numbers, card numbers), wrapped in short customer-service
templates (cards, bills, limits, fraud, instalments, repayments). Each session
opens its first question with one or two Faker sentences of context, so two
independent sessions on the same template share little beyond the template:
over 20k independent sessions of a 100k corpus, random pairs have a median
Jaccard of 0.002 (99th percentile 0.18) and the closest pair found by LSH
0.50, so the only near duplicates are the planted ones.

Planted, per session drawn: 0.3 % malformed lines (truncated JSON), 2 % junk
(one phrase repeated, runs of symbols, or under 8 characters), 10 % exact
duplicates of an earlier session (same content after dedup normalisation:
extra spaces, full-width letters/digits, upper case, a trailing full stop, or
byte-identical; checked, a variant that would not normalise equal falls back
to an identical copy), 10 % near duplicates (1-6 character edits or a replaced
word; re-drawn with fewer edits while Jaccard < 0.8, the measured Jaccard is
stored either way), and 15 % of original sessions carry one or two pieces of
PII (marked ``pii`` on the original only, as gen.py does: its copies carry it
too). About 70 % of sessions are Chinese. Originals for duplicates are drawn
uniformly from every earlier original (reservoir sample, so memory stays
bounded at any N).

Faker is slow per call (10-250 us), so pools of its values are drawn once
(seeded) and sessions sample them with a seeded ``random.Random``: same N,
seed and Faker version, same bytes. 1M sessions: 2 min 23 s and 430 MB peak
RSS here (2 cores shared with other work; ~7 s of it drawing the pools).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ftdata.ops.dedup import jaccard, normalise_for_dedup, shingles  # noqa: E402

SEED = 20260314
ZH_SHARE = 0.70
MALFORMED, JUNK, EXACT, NEAR = 0.003, 0.02, 0.10, 0.10
PII_RATE = 0.15
RESERVOIR = 200_000
POOL = {"sentence": 40_000, "paragraph": 16_000, "name": 6_000, "company": 4_000, "city": 2_000}
POOL_PII = 6_000  # per PII kind and locale

# ------------------------------------------------------------------ templates
# Each topic: (zh questions, zh answers, en questions, en answers). Slots are filled
# from the Faker pools and the session's rng.
TOPICS = {
    "BILL_QUERY": (
        [
            "{month}月的账单怎么是{amount}元，我记得只刷了{amount2}元",
            "账单里有一笔{merchant}的{amount}元，这是什么消费",
            "尾号{tail}的卡本期最低还款是多少，账单日能改到{day}号吗",
            "我没收到{month}月的电子账单，能不能重新发一份",
            "{date}在{merchant}的消费{amount}元为什么还没出现在账单上",
        ],
        [
            "您{month}月账单应还{amount}元，明细可在APP账单页面查看，如有疑问可申请调单。",
            "这笔{amount}元是{merchant}于{date}提交的交易，商户名称以收单机构登记为准。",
            "账单日每年可调整一次，已为您登记改到每月{day}日，下期生效。",
            "电子账单已重新发送，请检查邮箱垃圾箱，预计{minutes}分钟内送达。",
        ],
        [
            "Why is my {month_en} statement {amount_en} when I only spent {amount2_en}?",
            "There is a {amount_en} charge from {merchant_en} on my bill, what is it?",
            "What is the minimum payment on my card ending {tail}, and can I move the due date to the {day}th?",
            "I never got my {month_en} e-statement, can you resend it?",
        ],
        [
            "Your {month_en} balance is {amount_en}; the itemised list is under Statements in the app.",
            "The {amount_en} charge was submitted by {merchant_en} on {date}; the name is the one their bank registered.",
            "I have moved your due date to the {day}th starting next cycle; it can be changed once a year.",
        ],
    ),
    "LIMIT_ADJUST": (
        [
            "我的额度只有{limit}元，能不能提到{limit2}元",
            "临时额度到期以后又变回{limit}元了，可以再申请吗",
            "提额申请被拒了，要等多久才能再申请，我在{company}上班",
            "出国旅游想临时提额到{limit2}元，{days}天就够",
        ],
        [
            "系统评估后可为您临时提额至{limit2}元，有效期{days}天，到期后恢复为{limit}元。",
            "建议{months}个月后再申请，期间保持按时还款，系统会定期评估您的用卡情况。",
            "已提交固定额度调整申请，审核结果将在{days}个工作日内短信通知您。",
        ],
        [
            "Can you raise my limit from {limit} to {limit2}?",
            "My temporary limit expired and I am back at {limit}, can I apply again?",
            "I will travel for {days} days, can I get a temporary increase to {limit2}?",
        ],
        [
            "I can offer a temporary limit of {limit2} for {days} days, after which it returns to {limit}.",
            "Please reapply in {months} months; keeping payments on time helps the review.",
        ],
    ),
    "CARD_FREEZE": (
        [
            "我的卡尾号{tail}刚收到一条{amount}元的消费短信，不是我本人刷的",
            "有人用我的卡在{merchant}刷了{amount}元，我人在{city}，卡一直在身上",
            "{date}收到短信说我尾号{tail}的卡被冻结了，让我点链接解冻，是你们发的吗",
            "卡被风控冻结了，怎么解冻，我{date}还要用",
        ],
        [
            "已为您冻结尾号{tail}的卡片并提交盗刷调查，案件号{order}，请勿向任何人透露验证码。",
            "这笔{amount}元的交易已标记为可疑，调查期间您无需还款，结果会在{days}个工作日内通知。",
            "我行不会通过短信链接要求解冻，请勿点击，已为您登记风险事件{order}。",
            "核实身份后已为您解除尾号{tail}卡片的冻结，如再发现异常交易请立即致电客服。",
        ],
        [
            "I just got an alert for {amount_en} on my card ending {tail} and it was not me",
            "Someone used my card at {merchant_en} for {amount_en}, I am in {city_en} and have the card with me",
            "On {date} I got a text saying my card ending {tail} is frozen, with a link to unlock it, was that you?",
        ],
        [
            "I have blocked card ending {tail} and opened fraud case {order}; never share your codes.",
            "The {amount_en} transaction is disputed, you do not need to pay it while we investigate.",
            "We never send unlock links by text; please ignore it, I have logged report {order}.",
        ],
    ),
    "CARD_LOSS": (
        [
            "卡丢了，尾号{tail}，麻烦帮我挂失",
            "补卡要多少钱，新卡寄到{city}要几天",
            "{date}申请的新卡寄出了吗，快递单号多少",
        ],
        [
            "已为您挂失尾号{tail}的卡片，补卡工本费{fee}元，新卡{days}个工作日内寄出。",
            "新卡已于{date}寄出，快递单号{order}，收到后请在APP激活。",
        ],
        [
            "I lost my card ending {tail}, please cancel it",
            "How long until the new card reaches {city_en}?",
        ],
        ["Card ending {tail} is cancelled; the replacement ships within {days} working days."],
    ),
    "INSTALLMENT": (
        [
            "{amount}元能分{months}期吗，每期手续费多少",
            "在{merchant}买的{amount}元想办分期，还来得及吗",
            "{month}月办的{months}期分期能提前还清吗，剩下的手续费还收不收",
        ],
        [
            "分{months}期的月手续费率为{rate}%，{amount}元每期约还{per}元。",
            "该笔交易在账单日前可申请分期，已为您办理{months}期，首期计入下期账单。",
            "可以提前结清，剩余{months}期中未到期的手续费不再收取。",
        ],
        [
            "Can I split {amount_en} into {months} instalments?",
            "Is it too late to put my {merchant_en} purchase of {amount_en} on a plan?",
        ],
        ["A {months}-month plan costs {rate}% a month, about {per} per instalment."],
    ),
    "OVERDUE": (
        [
            "忘了还款，逾期{days}天了，会上征信吗",
            "违约金{fee}元能不能减免，我是第一次逾期",
            "收到催收电话说我欠{amount}元，是真的吗",
        ],
        [
            "还款日后有3天宽限期，逾期{days}天会记录征信，请尽快还清{amount}元。",
            "首次逾期可申请减免违约金，已为您登记工单{order}，{days}个工作日内回复。",
        ],
        [
            "I am {days} days late, will it show on my credit report?",
            "Can you waive the {fee} late fee? It is my first time.",
        ],
        ["There is a 3-day grace period; after that it is reported, so please repay {amount_en}."],
    ),
}
OPENERS_ZH = ["您好", "你好，在吗", "在吗", "麻烦问一下", "人工客服", ""]
OPENERS_EN = ["hi", "hello", "Hi there", "agent please", ""]
CLOSINGS_ZH = ["好的谢谢", "明白了", "好的", "谢谢，再见", ""]
CLOSINGS_EN = ["thanks", "ok thank you", "got it", ""]
MONTHS_EN = (
    "January February March April May June July August September October November December".split()
)
JUNK_SYMBOLS = "@#$%^&*~！？。…★☆※→←↑↓■□●○"
SHORT = ["嗯", "好", "?", "ok", "在", "。", "1"]
PII_ZH = {
    "phone": ["我的手机号{v}", "联系电话{v}", "打{v}找我", "电话：{v}"],
    "email": ["邮箱{v}", "账单发到{v}", "我的邮箱是{v}"],
    "id_card": ["身份证号{v}", "证件号码{v}"],
    "bank_card": ["卡号{v}", "还款卡{v}"],
    "name_address": ["我叫{name}，地址是{address}", "收件人{name}，寄到{address}"],
}
PII_EN = {
    "phone": ["call me at {v}", "my number is {v}", "phone: {v}"],
    "email": ["email me at {v}", "my email is {v}"],
    "ssn": ["my SSN is {v}", "SSN {v}"],
    "bank_card": ["card number {v}", "the full number is {v}"],
    "name_address": ["I am {name}, {address}", "send it to {name} at {address}"],
}


class Pools:
    """Faker values drawn once per locale (seeded); sessions sample them."""

    def __init__(self, seed: int) -> None:
        self.zh, self.en = self._draw("zh_CN", seed), self._draw("en_US", seed + 1)

    @staticmethod
    def _draw(locale: str, seed: int) -> dict[str, list[str]]:
        fk = Faker(locale)
        fk.seed_instance(seed)
        zh = locale == "zh_CN"
        pools = {
            "sentence": [fk.sentence(nb_words=8) for _ in range(POOL["sentence"])],
            "paragraph": [fk.paragraph(nb_sentences=3) for _ in range(POOL["paragraph"])],
            "name": [fk.name() for _ in range(POOL["name"])],
            "company": [fk.company() for _ in range(POOL["company"])],
            "city": [fk.city() for _ in range(POOL["city"])],
            "word": list(fk.get_words_list()),
            "phone": [fk.phone_number() for _ in range(POOL_PII)],
            "email": [fk.email() for _ in range(POOL_PII)],
            "bank_card": [fk.credit_card_number() for _ in range(POOL_PII)],
            "address": [fk.address().replace("\n", ", ") for _ in range(POOL_PII)],
            ("id_card" if zh else "ssn"): [fk.ssn() for _ in range(POOL_PII)],
        }
        if not zh:  # some international numbers in English chats
            pools["phone"] += [f"+44 20 {fk.numerify('#### ####')}" for _ in range(POOL_PII // 6)]
            pools["phone"] += [f"+86 {fk.numerify('13#########')}" for _ in range(POOL_PII // 6)]
        return pools


class FastRandom(random.Random):
    """``random.Random`` whose choice / randint / randrange scale one ``random()`` float.

    The stock ones draw bits with rejection and are ~5x slower; sessions call them
    ~60 times each, which at 1M sessions is minutes. (Seeded and deterministic all the
    same; the bias of flooring a 53-bit float is far below anything measured here.)
    """

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


def _amount(s: Slots) -> float:
    return s.rng.randint(30, 80000) + s.rng.randint(0, 99) / 100


# Slot values, made on first use (a template reads three or four of them).
SLOT_MAKERS = {
    "_amount": _amount,
    "_amount2": lambda s: s["_amount"] * s.rng.uniform(0.2, 0.9),
    "_month": lambda s: s.rng.randint(1, 12),
    "amount": lambda s: f"{s['_amount']:,.2f}",
    "amount2": lambda s: f"{s['_amount2']:,.2f}",
    "amount_en": lambda s: f"${s['_amount']:,.2f}",
    "amount2_en": lambda s: f"${s['_amount2']:,.2f}",
    "month": lambda s: s["_month"],
    "month_en": lambda s: MONTHS_EN[s["_month"] - 1],
    "day": lambda s: s.rng.randint(1, 28),
    "date": lambda s: f"2025-{s['_month']:02d}-{s.rng.randint(1, 28):02d}",
    "minutes": lambda s: s.rng.randint(5, 90),
    "merchant": lambda s: s.rng.choice(s.zh["company"]),
    "merchant_en": lambda s: s.rng.choice(s.en["company"]),
    "company": lambda s: s.rng.choice(s.zh["company"]),
    "city": lambda s: s.rng.choice(s.zh["city"]),
    "city_en": lambda s: s.rng.choice(s.en["city"]),
    "tail": lambda s: f"{s.rng.randint(0, 9999):04d}",
    "order": lambda s: f"{s.rng.choice('CFRTW')}{s.rng.randint(10**11, 10**12 - 1)}",
    "months": lambda s: s.rng.choice([3, 6, 12, 24]),
    "rate": lambda s: s.rng.choice(["0.55", "0.60", "0.66", "0.75"]),
    "per": lambda s: f"{s['_amount'] / s['months'] * 1.0066:,.2f}",
    "days": lambda s: s.rng.randint(2, 45),
    "limit": lambda s: s.rng.choice([3000, 5000, 8000, 10000, 20000, 30000, 50000, 80000]),
    "limit2": lambda s: s["limit"] + s.rng.choice([2000, 5000, 10000, 20000]),
    "fee": lambda s: s.rng.choice([50, 100, 200, 300, 580]),
}


class Slots(dict):
    """The particulars of one question/answer exchange, drawn when a template asks."""

    def __init__(self, rng: random.Random, zh: dict, en: dict) -> None:
        super().__init__()
        self.rng, self.zh, self.en = rng, zh, en

    def __missing__(self, key: str):
        value = self[key] = SLOT_MAKERS[key](self)
        return value


def _pii(rng: random.Random, pools: dict, is_zh: bool) -> tuple[str, str]:
    table = PII_ZH if is_zh else PII_EN
    kind = rng.choice(list(table))
    template = rng.choice(table[kind])
    if kind == "name_address":
        return kind, template.format(
            name=rng.choice(pools["name"]), address=rng.choice(pools["address"])
        )
    return kind, template.format(v=rng.choice(pools[kind]))


def dialogue(rng: random.Random, p: Pools) -> tuple[dict, list[str]]:
    """One original session: biz_tag, channel, turns; and the PII kinds planted in it."""
    tag = rng.choice(list(TOPICS))
    is_zh = rng.random() < ZH_SHARE
    pools = p.zh if is_zh else p.en
    q_pool, a_pool = TOPICS[tag][0:2] if is_zh else TOPICS[tag][2:4]
    user, agent = ("用户", "客服") if is_zh else ("customer", "agent")
    sep = "，" if is_zh else ", "
    turns = []
    opener = rng.choice(OPENERS_ZH if is_zh else OPENERS_EN)
    if opener:
        turns.append({"speaker": user, "text": opener})
        who = rng.choice(p.zh["name"] if is_zh else p.en["name"])
        greeting = (
            f"您好，我是客服{who}，请问有什么可以帮您？"
            if is_zh
            else f"Hello, this is {who} from card services, how can I help?"
        )
        turns.append({"speaker": agent, "text": greeting})
    # Context in the customer's words: Faker sentences make sessions on one template differ.
    gap = "" if is_zh else " "
    picks = [rng.choice(pools["sentence"]) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        picks.insert(0, rng.choice(pools["paragraph"]))
    else:
        picks.append(rng.choice(pools["sentence"]))
    context = gap.join(picks)
    pii = []
    if rng.random() < PII_RATE:
        for _ in range(rng.choice([1, 1, 2])):
            kind, text = _pii(rng, pools, is_zh)
            pii.append(kind)
            context += sep + text
    for k in range(rng.choice([2, 2, 3])):
        slots = Slots(rng, p.zh, p.en)
        question = rng.choice(q_pool).format_map(slots)
        if k == 0:
            question = context + sep + question
        answer = rng.choice(a_pool).format_map(slots)
        if rng.random() < 0.5:
            answer += gap + rng.choice(pools["sentence"])
        turns.append({"speaker": user, "text": question})
        turns.append({"speaker": agent, "text": answer})
    closing = rng.choice(CLOSINGS_ZH if is_zh else CLOSINGS_EN)
    if closing:
        turns.append({"speaker": user, "text": closing})
    channel = rng.choice(["app", "wechat", "web", "phone"])
    return {"biz_tag": tag, "channel": channel, "turns": turns}, pii


def junk(rng: random.Random, p: Pools) -> tuple[list[dict], str]:
    kind = rng.choice(["repetition", "symbols", "short"])
    is_zh = rng.random() < ZH_SHARE
    pools = p.zh if is_zh else p.en
    if kind == "repetition":
        unit = rng.choice(
            [rng.choice(pools["word"]), rng.choice("哈啊嗯666"), rng.choice(pools["sentence"])]
        )
        texts = [(unit + rng.choice(["", " "])) * rng.randint(6, 15), rng.choice(SHORT)]
    elif kind == "symbols":
        texts = ["".join(rng.choice(JUNK_SYMBOLS) for _ in range(rng.randint(8, 30)))] * 2
    else:
        texts = [rng.choice(SHORT), rng.choice(SHORT)]
    speakers = ("用户", "客服") if is_zh else ("customer", "agent")
    return [{"speaker": s, "text": t} for s, t in zip(speakers, texts, strict=True)], kind


def content(turns: list[dict]) -> str:
    """The text dedup judges (run_peers.flatten's join, then ftdata's dedup normalisation)."""
    return normalise_for_dedup("\n".join(t["text"] for t in turns if t.get("text")))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def variant_exact(rng: random.Random, turns: list[dict]) -> tuple[list[dict], str]:
    """A copy that normalises to the same text: spacing, full-width, case, a full stop, or none."""
    out = [dict(t) for t in turns]
    i = rng.randrange(len(out))
    mode = rng.choice(["space", "fullwidth", "case", "period", "same"])
    text = out[i]["text"]
    if mode == "space":
        text = "  " + text.replace("，", " ， ").replace(", ", " ,  ") + " "
    elif mode == "fullwidth":
        text = _fullwidth(text)
    elif mode == "case":
        text = text.upper()
    elif mode == "period":
        text = text.rstrip("。.") + ("。" if any("\u4e00" <= c <= "\u9fff" for c in text) else ".")
    out[i]["text"] = text
    if mode != "same" and content(out) != content(turns):
        return [dict(t) for t in turns], "same"  # e.g. upper() of "ß" changes the casefold
    return out, mode


def _edit_once(rng: random.Random, text: str, words: list[str]) -> str:
    if len(text) < 4:
        return text + rng.choice(words)
    if rng.random() < 0.3:  # replace a word
        w = rng.choice(words)
        if w in text:
            return text.replace(w, rng.choice(words), 1)
    pos = rng.randrange(1, len(text) - 1)
    op = rng.choice(["insert", "substitute", "delete"])
    filler = rng.choice(rng.choice(words))
    if op == "insert":
        return text[:pos] + filler + text[pos:]
    if op == "substitute":
        return text[:pos] + filler + text[pos + 1 :]
    return text[:pos] + text[pos + 1 :]


def variant_near(
    rng: random.Random, turns: list[dict], p: Pools, base: set[str]
) -> tuple[list[dict], int, float]:
    """1-6 edits spread over the longer turns; fewer edits while Jaccard < 0.8."""
    edits = rng.randint(1, 6)
    words = p.zh["word"] + ["的", "了", "吧", "呢"]
    while True:
        out = [dict(t) for t in turns]
        longest = sorted(range(len(out)), key=lambda i: -len(out[i]["text"]))[:3]
        for _ in range(edits):
            i = rng.choice(longest)
            is_zh = any("\u4e00" <= c <= "\u9fff" for c in out[i]["text"])
            out[i]["text"] = _edit_once(rng, out[i]["text"], words if is_zh else p.en["word"])
        score = jaccard(shingles(content(out), 5), base)
        if score >= 0.8 or edits == 1:
            return out, edits, score
        edits -= 1


def generate(n: int, out: Path, seed: int = SEED) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    pools = Pools(seed)
    rng = FastRandom(seed)
    sinks = {
        name: open(out / name, "w", encoding="utf-8")
        for name in ("sessions_a.jsonl", "sessions_b.jsonl")
    }
    lines = dict.fromkeys(sinks, 0)
    truth_sink = open(out / "truth.jsonl", "w", encoding="utf-8")
    kinds: dict[str, int] = {}
    # A uniform sample of earlier originals, kept as their JSON lines: strings are not
    # tracked by the garbage collector, 200k nested dicts would make each pass slow.
    reservoir: list[tuple[str, int, str]] = []
    originals = 0

    def plant(entry: dict) -> None:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
        truth_sink.write(json.dumps(entry, ensure_ascii=False) + "\n")

    try:
        for k in range(n):
            fname = "sessions_a.jsonl" if rng.random() < 0.6 else "sessions_b.jsonl"
            lines[fname] += 1
            line = lines[fname]
            sid = f"F{seed % 1000:03d}{k:08d}"
            head = {
                "session_id": sid,
                "started_at": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                "agent_id": f"A{rng.randint(1, 500):04d}",
                "csat": rng.randint(1, 5),
            }
            roll = rng.random()
            original = False
            if roll < MALFORMED:
                sinks[fname].write(
                    json.dumps(head, ensure_ascii=False)[:-1] + ', "turns": [{"speaker": "用' + "\n"
                )
                plant({"file": fname, "line": line, "kind": "malformed"})
                continue
            if roll < MALFORMED + JUNK:
                turns, why = junk(rng, pools)
                rec = {**head, "biz_tag": "BILL_QUERY", "channel": "app", "turns": turns}
                plant({"file": fname, "line": line, "kind": "junk", "junk": why})
            elif roll < MALFORMED + JUNK + EXACT + NEAR and reservoir:
                of_file, of_line, of_json = reservoir[rng.randrange(len(reservoir))]
                body = json.loads(of_json)
                entry = {"file": fname, "line": line, "of": f"{of_file}:{of_line}"}
                if roll < MALFORMED + JUNK + EXACT:
                    turns, mode = variant_exact(rng, body["turns"])
                    entry.update(kind="exact_dup", variant=mode)
                else:
                    base = shingles(content(body["turns"]), 5)
                    turns, edits, score = variant_near(rng, body["turns"], pools, base)
                    entry.update(kind="near_dup", jaccard=round(score, 4), edits=edits)
                rec = {
                    **head,
                    "biz_tag": body["biz_tag"],
                    "channel": body["channel"],
                    "turns": turns,
                }
                plant(entry)
            else:
                body, pii = dialogue(rng, pools)
                rec = {**head, **body}
                original = True
                if pii:
                    plant({"file": fname, "line": line, "kind": "pii", "types": pii})
            text = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
            sinks[fname].write(text + "\n")
            if original:
                originals += 1
                if len(reservoir) < RESERVOIR:
                    reservoir.append((fname, line, text))
                else:  # Algorithm R: every original so far equally likely to be in the sample
                    j = rng.randrange(originals)
                    if j < RESERVOIR:
                        reservoir[j] = (fname, line, text)
    finally:
        for sink in sinks.values():
            sink.close()
        truth_sink.close()
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of raw sessions")
    parser.add_argument("--out", type=Path, default=None, help="default bench/out/corpus-faker-N")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "out" / f"corpus-faker-{args.n}"
    start = time.perf_counter()
    kinds = generate(args.n, out, args.seed)
    print(
        json.dumps(
            {
                "out": str(out),
                "sessions": args.n,
                "planted": kinds,
                "seconds": round(time.perf_counter() - start, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
