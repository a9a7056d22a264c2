"""Write a realistic raw benchmark corpus of N customer-service sessions, with ground truth.

``python bench/gen.py N --out bench/out/corpus-N`` writes

- ``sessions_a.jsonl`` / ``sessions_b.jsonl``  two sources (60 % / 40 %) in the
  example's chat-log format (``conf/source/chat_logs.yaml`` reads them);
- ``truth.jsonl``  one line per planted defect: ``{"file", "line", "kind", "of"}``
  where kind is ``exact_dup`` / ``near_dup`` (``of`` = the original's file:line),
  ``pii``, ``junk`` or ``malformed``; near dups also carry their Jaccard to the
  original (normalised text, character 5-grams, as ftdata's dedup judges it).

``--append FRACTION`` adds that share of N new sessions to ``sessions_b.jsonl``
(another seed, no dups): the "+1 % records in one source" rebuild.

Dialogues are Chinese (~85 %) and English, 2-3 question/answer exchanges drawn
from per-topic pools with slot values (amounts, dates, merchants, card tails) and a
context clause of random particulars, so independent sessions stay far apart. Planted: 4 % exact
duplicates (some differing only in spacing / full-width / case), 5 % near
duplicates (1-2 character edits, Jaccard >= 0.8 against the original), 10 %
sessions with PII (mobile, e-mail, ID card and bank card numbers with valid
checksums), 2 % junk (repetition, symbols, too short), 0.3 % malformed lines.
Deterministic: same N and seed, same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ftdata.ops.dedup import jaccard, normalise_for_dedup, shingles  # noqa: E402

TOPICS = {
    "BILL_QUERY": (
        [
            "我想查一下{month}月的账单，一共是{amount}元吗",
            "为什么我这期账单比上期多了{amount}元",
            "{month}月账单里有一笔{merchant}的消费{amount}元我没印象",
            "账单日是每月{day}号吗，我想改到{day2}号",
            "请问尾号{tail}的卡本期应还多少",
            "电子账单没收到，邮寄账单能不能改成电子版",
            "账单上显示的最低还款额{amount}元是怎么算的",
            "我在{merchant}刷了{amount}元为什么还没入账",
        ],
        [
            "您{month}月的账单金额为{amount}元，可在手机银行APP-信用卡-账单查询中查看明细。",
            "账单日为每月{day}日，如需修改可在APP-卡片管理-账单日变更中申请，每年可修改一次。",
            "这笔{merchant}的交易{amount}元已于{month}月{day}日入账，如对交易有疑问可申请调单。",
            "最低还款额为账单金额的10%加上分期本金和费用，本期为{amount}元。",
            "消费一般在1-3个工作日内入账，入账后会计入下一期账单。",
        ],
        [
            "How much is my {month_en} statement, I see {amount_en}?",
            "There is a charge of {amount_en} from {merchant_en} on my bill I don't recognise",
            "Can I change my statement date to the {day}th of each month?",
            "What is the minimum payment on my card ending {tail}?",
        ],
        [
            "Your {month_en} statement balance is {amount_en}; you can see the details in the mobile app under Statements.",
            "The {merchant_en} charge of {amount_en} posted on {month_en} {day}; you can request the receipt if it looks wrong.",
            "You can change the statement date once a year in the app under Card Settings.",
        ],
    ),
    "POINTS_REDEEM": (
        [
            "我有{points}积分，能兑换{item}吗",
            "积分兑换{item}需要多少分，现在还有货吗",
            "上个月兑换的{item}一直没发货，订单号{order}",
            "积分可以抵扣{merchant}的消费吗",
            "刷{amount}元能积多少分",
            "积分兑换里程是什么比例",
        ],
        [
            "兑换{item}需要{points}积分，您可在APP-积分商城下单，一般{day}个工作日内发货。",
            "订单{order}已在处理中，预计{month}月{day}日前发出，届时会短信通知您物流单号。",
            "每消费1元累积1积分，{amount}元可累积约{points}分，部分商户类别不累积积分。",
            "积分兑换航空里程的比例为{ratio}积分兑1里程，可在积分商城-里程兑换中办理。",
        ],
        [
            "I have {points} points, can I redeem them for {item_en}?",
            "My points order {order} has not shipped yet",
            "How many points do I earn for spending {amount_en}?",
        ],
        [
            "Redeeming {item_en} needs {points} points; orders ship within {day} working days.",
            "Order {order} is being processed and should ship by {month_en} {day}.",
            "You earn one point per yuan spent; {amount_en} earns about {points} points.",
        ],
    ),
    "INSTALLMENT": (
        [
            "{amount}元的账单能分{months}期吗，手续费多少",
            "我在{merchant}买的{amount}元能不能办消费分期",
            "分期之后可以提前还清吗，要收违约金吗",
            "现金分期{amount}元分{months}期每期还多少",
        ],
        [
            "账单分期{months}期的月手续费率为{rate}%，{amount}元每期需还本金加手续费约{per}元。",
            "单笔消费满{min}元即可在APP-分期中办理，{merchant}的这笔交易符合条件。",
            "可以提前还款，剩余未还的手续费不再收取，但已收取的手续费不退还。",
        ],
        [
            "Can I split my {amount_en} bill into {months} instalments?",
            "What is the fee for a {months}-month instalment plan on {amount_en}?",
        ],
        [
            "A {months}-month plan costs {rate}% per month; on {amount_en} each instalment is about {per} yuan.",
            "You can settle an instalment plan early; unpaid future fees are waived.",
        ],
    ),
    "OVERDUE": (
        [
            "我逾期了{days}天，会影响征信吗",
            "忘记还款了，现在还{amount}元还来得及吗",
            "逾期产生的违约金{amount}元能减免吗",
            "收到催收短信说我欠款{amount}元是真的吗",
        ],
        [
            "逾期{days}天会产生违约金和利息，建议尽快全额还款，还款后征信会如实记录。",
            "到期还款日后有3天宽限期，在宽限期内还款不视为逾期，您现在还{amount}元即可。",
            "首次逾期且金额较小的，可通过客服热线申请违约金减免，我们会为您登记工单{order}。",
        ],
        [
            "I missed my payment by {days} days, will it affect my credit report?",
            "Can the late fee of {amount_en} be waived?",
        ],
        [
            "There is a 3-day grace period; payments after that are reported as late, so please repay {amount_en} soon.",
            "A first late fee can usually be waived; I have opened ticket {order} for you.",
        ],
    ),
    "LIMIT_ADJUST": (
        [
            "我的额度是{limit}元，想提到{limit2}元",
            "为什么临时额度到期后额度变回{limit}了",
            "申请提额被拒了，什么时候可以再申请",
        ],
        [
            "您当前固定额度为{limit}元，系统评估后可临时提升至{limit2}元，有效期{days}天。",
            "临时额度到期后会恢复为固定额度{limit}元，超出部分需在到期日前还清。",
            "提额申请被拒后建议{months}个月后再申请，期间保持良好用卡和按时还款记录。",
        ],
        [
            "Can you raise my credit limit from {limit} to {limit2}?",
            "Why did my limit drop back to {limit}?",
        ],
        [
            "Your permanent limit is {limit}; a temporary increase to {limit2} is available for {days} days."
        ],
    ),
    "CARD_LOSS": (
        [
            "尾号{tail}的卡丢了，怎么挂失",
            "挂失补卡要收多少钱，新卡多久能寄到",
            "补办的新卡寄到哪里，快递单号是多少",
        ],
        [
            "已为您冻结尾号{tail}的卡片，补卡工本费{fee}元，新卡将在{days}个工作日内寄出。",
            "新卡寄出后可在APP-卡片进度查询中查看快递单号{order}，收到后请及时激活。",
        ],
        ["I lost my card ending {tail}, please block it", "How long does a replacement card take?"],
        [
            "Card ending {tail} is blocked; a replacement ships within {days} working days, fee {fee} yuan."
        ],
    ),
    "ANNUAL_FEE": (
        [
            "年费{fee}元怎么免，今年刷了{count}次够吗",
            "我的卡被扣了{fee}元年费，能退吗",
        ],
        [
            "该卡年费{fee}元，当年刷卡满{count2}次即可免次年年费，您今年已刷{count}次。",
            "年费已于{month}月{day}日收取，如在{days}天内满足免年费条件可申请退还。",
        ],
        ["I was charged a {fee} yuan annual fee, can it be refunded?"],
        [
            "The annual fee of {fee} yuan is waived after {count2} purchases a year; you have made {count}."
        ],
    ),
}
CONTEXT_ZH = (
    "我是{city}的持卡人，卡片尾号{tail}，{month}月{day}日在{merchant}消费了{amount}元，订单{order}"
)
CONTEXT_EN = "I live in {city}, card ending {tail}, on {month_en} {day} I paid {amount_en} at {merchant_en}, ref {order}"
CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "苏州",
    "厦门",
    "青岛",
    "长沙",
    "郑州",
]
OPENERS_ZH = ["您好", "你好，在吗", "在吗", "你好", "麻烦问一下", ""]
GREETINGS_ZH = ["您好，我是星海银行信用卡客服，请问有什么可以帮您？", "您好，很高兴为您服务。"]
CLOSINGS_ZH = ["好的谢谢", "明白了，谢谢", "好的", "再见", ""]
OPENERS_EN = ["hi", "hello", "Hi there", ""]
GREETINGS_EN = ["Hello, this is Xinghai Bank card service, how can I help?"]
CLOSINGS_EN = ["thanks", "ok thank you", "got it, thanks", ""]
MERCHANTS = [
    "京东商城",
    "美团外卖",
    "携程旅行",
    "星巴克",
    "盒马鲜生",
    "滴滴出行",
    "苹果官网",
    "永辉超市",
    "中石化加油站",
    "万达影城",
]
MERCHANTS_EN = ["Amazon", "Starbucks", "Uber", "Apple Store", "Walmart", "Expedia", "Shell"]
ITEMS = ["行李箱", "电动牙刷", "保温杯", "蓝牙耳机", "空气炸锅", "视频会员年卡", "加油卡", "咖啡券"]
ITEMS_EN = ["a suitcase", "earbuds", "a coffee voucher", "a travel mug", "air miles"]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
JUNK = [
    "哈哈哈哈哈哈哈哈哈哈哈哈",
    "？？？？？？？？",
    "@@@###$$$%%%^^^&&&",
    "asdfasdfasdfasdf",
    "嗯",
    "111111111111",
    "。。。。。。。。",
]
EMAIL_USERS = ["zhang.wei", "li_na88", "wangfang", "chenjie2020", "liu.yang", "amy.zhao", "kevin_w"]
EMAIL_DOMAINS = ["qq.com", "163.com", "gmail.com", "outlook.com", "126.com"]


def _luhn_complete(prefix: str) -> str:
    digits = [int(c) for c in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return prefix + str((10 - total % 10) % 10)


def _id_card(rng: random.Random) -> str:
    body = f"{rng.choice(['110101', '310104', '440106', '510107', '330102'])}{rng.randint(1960, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _pii(rng: random.Random, zh: bool) -> str:
    kind = rng.choice(["mobile", "email", "id_card", "bank_card"])
    if kind == "mobile":
        value = f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"
        return f"我的手机号是{value}" if zh else f"my phone is {value}"
    if kind == "email":
        value = f"{rng.choice(EMAIL_USERS)}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
        return f"邮箱{value}" if zh else f"email me at {value}"
    if kind == "id_card":
        return f"身份证号{_id_card(rng)}" if zh else f"my ID number is {_id_card(rng)}"
    value = _luhn_complete(f"6225{rng.randint(0, 10**11 - 1):011d}")
    return f"卡号{value}" if zh else f"card number {value}"


def _slots(rng: random.Random) -> dict:
    amount = rng.randint(80, 60000) + rng.randint(0, 99) / 100
    months = rng.choice([3, 6, 12, 24])
    limit = rng.choice([5000, 8000, 10000, 20000, 30000, 50000])
    return {
        "amount": f"{amount:,.2f}",
        "amount_en": f"¥{amount:,.2f}",
        "month": rng.randint(1, 12),
        "month_en": rng.choice(MONTHS_EN),
        "day": rng.randint(1, 28),
        "day2": rng.randint(1, 28),
        "merchant": rng.choice(MERCHANTS),
        "merchant_en": rng.choice(MERCHANTS_EN),
        "tail": f"{rng.randint(0, 9999):04d}",
        "points": rng.randint(1000, 90000),
        "item": rng.choice(ITEMS),
        "item_en": rng.choice(ITEMS_EN),
        "order": f"{rng.choice('JPDX')}{rng.randint(10**9, 10**10 - 1)}",
        "ratio": rng.choice([12, 15, 18, 20]),
        "months": months,
        "rate": rng.choice(["0.60", "0.66", "0.72", "0.75"]),
        "per": f"{amount / months * 1.0072:,.2f}",
        "min": rng.choice([500, 600, 1000]),
        "days": rng.randint(2, 60),
        "limit": limit,
        "limit2": limit + rng.choice([2000, 5000, 10000]),
        "fee": rng.choice([100, 200, 300, 580, 1800]),
        "count": rng.randint(0, 12),
        "count2": rng.choice([5, 6, 12]),
    }


def _dialogue(rng: random.Random, pii_rate: float) -> tuple[dict, bool]:
    tag = rng.choices(list(TOPICS), weights=[26, 20, 12, 10, 10, 8, 5])[0]
    zh = rng.random() < 0.85
    q_pool, a_pool = (TOPICS[tag][0], TOPICS[tag][1]) if zh else (TOPICS[tag][2], TOPICS[tag][3])
    user, agent = ("用户", "客服") if zh else ("customer", "agent")
    turns = []
    opener = rng.choice(OPENERS_ZH if zh else OPENERS_EN)
    if opener:
        turns.append({"speaker": user, "text": opener})
        turns.append({"speaker": agent, "text": rng.choice(GREETINGS_ZH if zh else GREETINGS_EN)})
    has_pii = rng.random() < pii_rate
    # Customers describe their own case: a context clause of random particulars keeps two
    # independent sessions on the same templates far apart (Jaccard ~0.5), so the only
    # near duplicates in the corpus are the planted ones.
    context = (CONTEXT_ZH if zh else CONTEXT_EN).format(**_slots(rng), city=rng.choice(CITIES))
    for k in range(rng.choice([2, 2, 3])):
        slots = _slots(rng)
        question = rng.choice(q_pool).format(**slots)
        if k == 0:
            question = context + ("，" if zh else ", ") + question
        if has_pii and k == 0:
            question += ("，" if zh else ", ") + _pii(rng, zh)
        turns.append({"speaker": user, "text": question})
        turns.append({"speaker": agent, "text": rng.choice(a_pool).format(**slots)})
    closing = rng.choice(CLOSINGS_ZH if zh else CLOSINGS_EN)
    if closing:
        turns.append({"speaker": user, "text": closing})
    return {
        "biz_tag": tag,
        "channel": rng.choice(["app", "wechat", "web", "phone"]),
        "turns": turns,
    }, has_pii


def _variant_exact(rng: random.Random, turns: list[dict]) -> list[dict]:
    """Same content after dedup normalisation: spacing, full-width, case or a trailing 。."""
    out = [dict(t) for t in turns]
    i = rng.randrange(len(out))
    text = out[i]["text"]
    mode = rng.choice(["space", "fullwidth", "period", "same"])
    if mode == "space":
        text = " " + text.replace("，", " ， ", 1) + "  "
    elif mode == "fullwidth":
        text = "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)
    elif mode == "period":
        text = text.rstrip("。") + "。"
    out[i]["text"] = text
    return out


def _variant_near(rng: random.Random, turns: list[dict]) -> list[dict]:
    """One or two single-character edits in the longest turns."""
    out = [dict(t) for t in turns]
    order = sorted(range(len(out)), key=lambda i: -len(out[i]["text"]))
    for i in order[: rng.choice([1, 1, 2])]:
        text = out[i]["text"]
        pos = rng.randrange(1, max(2, len(text) - 1))
        filler = rng.choice(
            "的了呢吧啊哦" if any("\u4e00" <= c <= "\u9fff" for c in text) else "xyzqk"
        )
        if rng.random() < 0.5:
            text = text[:pos] + filler + text[pos:]
        else:
            text = text[:pos] + filler + text[pos + 1 :]
        out[i]["text"] = text
    return out


def _content(turns: list[dict]) -> str:
    return normalise_for_dedup("\n".join(t["text"] for t in turns if t["text"]))


def generate(n: int, seed: int = 20250101) -> tuple[dict[str, list[str]], list[dict]]:
    rng = random.Random(seed)
    files = {"sessions_a.jsonl": [], "sessions_b.jsonl": []}
    truth: list[dict] = []
    made: list[tuple[str, int, list[dict], dict]] = []  # (file, line, turns, meta) of originals
    for k in range(n):
        fname = "sessions_a.jsonl" if rng.random() < 0.6 else "sessions_b.jsonl"
        line = len(files[fname]) + 1
        sid = f"B{seed % 1000:03d}{k:08d}"
        head = {
            "session_id": sid,
            "started_at": f"2024-{k % 12 + 1:02d}-{k % 28 + 1:02d}T10:{k % 60:02d}:00",
            "agent_id": f"A{k % 300:04d}",
            "csat": rng.randint(1, 5),
        }
        roll = rng.random()
        if roll < 0.003:
            files[fname].append(
                '{"session_id": "' + sid + '", "turns": [{"speaker": "用户", "text": "账单'
            )
            truth.append({"file": fname, "line": line, "kind": "malformed"})
            continue
        if roll < 0.023:
            turns = [
                {"speaker": "用户", "text": rng.choice(JUNK)},
                {"speaker": "客服", "text": rng.choice(JUNK)},
            ]
            rec = {**head, "biz_tag": "BILL_QUERY", "channel": "app", "turns": turns}
            truth.append({"file": fname, "line": line, "kind": "junk"})
        elif roll < 0.063 and made:
            of = made[rng.randrange(len(made))]
            rec = {
                **head,
                **{k2: v for k2, v in of[3].items() if k2 != "turns"},
                "turns": _variant_exact(rng, of[2]),
            }
            truth.append(
                {"file": fname, "line": line, "kind": "exact_dup", "of": f"{of[0]}:{of[1]}"}
            )
        elif roll < 0.113 and made:
            of = made[rng.randrange(len(made))]
            turns = _variant_near(rng, of[2])
            score = jaccard(shingles(_content(turns), 5), shingles(_content(of[2]), 5))
            rec = {**head, **{k2: v for k2, v in of[3].items() if k2 != "turns"}, "turns": turns}
            truth.append(
                {
                    "file": fname,
                    "line": line,
                    "kind": "near_dup",
                    "of": f"{of[0]}:{of[1]}",
                    "jaccard": round(score, 4),
                }
            )
        else:
            body, has_pii = _dialogue(rng, 0.10)
            rec = {**head, **body}
            made.append((fname, line, body["turns"], body))
            if has_pii:
                truth.append({"file": fname, "line": line, "kind": "pii"})
        files[fname].append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return files, truth


def append_new(path: Path, count: int, seed: int) -> int:
    """Append ``count`` fresh sessions (no planted dups) to ``path``; return the count."""
    rng = random.Random(seed)
    lines = []
    for k in range(count):
        body, _ = _dialogue(rng, 0.10)
        lines.append(
            json.dumps(
                {
                    "session_id": f"N{seed % 1000:03d}{k:08d}",
                    "started_at": "2025-01-01T00:00:00",
                    "agent_id": "A0001",
                    "csat": 5,
                    **body,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of raw sessions")
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default bench/out/corpus-N)"
    )
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument(
        "--append",
        type=float,
        default=0.0,
        help="append FRACTION*N new sessions to sessions_b.jsonl",
    )
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "out" / f"corpus-{args.n}"
    out.mkdir(parents=True, exist_ok=True)
    if args.append:
        added = append_new(out / "sessions_b.jsonl", int(args.n * args.append), args.seed + 1)
        print(f"appended {added} sessions to {out / 'sessions_b.jsonl'}")
        return
    files, truth = generate(args.n, args.seed)
    for name, lines in files.items():
        (out / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (out / "truth.jsonl").write_text(
        "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth), encoding="utf-8"
    )
    kinds: dict[str, int] = {}
    for t in truth:
        kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
    print(json.dumps({"out": str(out), "sessions": args.n, "planted": kinds}, ensure_ascii=False))


if __name__ == "__main__":
    main()
