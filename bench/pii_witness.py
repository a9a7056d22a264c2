"""A second, independent PII witness: Faker values in sentence templates and look-alikes written
by someone other than the detector's author, run through the configured ``clean.ops`` chain.

    python bench/pii_witness.py        # prints recall per type and variant, look-alikes lost

It complements bench/pii_eval.py (whose corpus the detector's author wrote); see bench/PII_RESULTS.md.
"""

import random
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
from faker import Faker

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from ftdata.compose import compose_params  # noqa: E402
from ftdata.runner import op_calls, run_ops  # noqa: E402

params = compose_params(root)
calls = op_calls(params["clean"], "clean")
rng = random.Random(4242)
fz, fe = Faker("zh_CN"), Faker("en_US")
Faker.seed(4242)


def mobile():
    v = fz.phone_number()
    return v


def dashes(d, sep):  # 3-4-4
    return f"{d[:3]}{sep}{d[3:7]}{sep}{d[7:]}"


def idc():
    return fz.ssn()


def card():
    return fe.credit_card_number(
        card_type=rng.choice(["visa16", "mastercard", "visa19", "discover"])
    )


def email():
    return rng.choice([fz, fe]).email()


VARIANTS = {
    "phone": [
        lambda v: v,
        lambda v: dashes(v, "-"),
        lambda v: dashes(v, " "),
        lambda v: "+86 " + v,
        lambda v: "+86-" + dashes(v, "-"),
        lambda v: "(+86)" + v,
        lambda v: dashes(v, "\u2013"),
        lambda v: dashes(v, "."),
        lambda v: v.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        lambda v: "Tel:" + v,
        lambda v: "tel" + v,
        lambda v: "手机" + v,
        lambda v: "86" + v,
        lambda v: "0086 " + v,
    ],
    "id_card": [
        lambda v: v,
        lambda v: f"{v[:6]} {v[6:14]} {v[14:]}",
        lambda v: f"{v[:6]}-{v[6:10]}-{v[10:14]}-{v[14:]}",
        lambda v: "ID" + v,
        lambda v: "身份证" + v,
        lambda v: v.lower(),
    ],
    "bank_card": [
        lambda v: v,
        lambda v: " ".join(v[i : i + 4] for i in range(0, len(v), 4)),
        lambda v: "-".join(v[i : i + 4] for i in range(0, len(v), 4)),
        lambda v: "卡号" + v,
        lambda v: "card#" + v,
    ],
    "email": [
        lambda v: v,
        lambda v: v.upper(),
        lambda v: "mailto:" + v,
        lambda v: "<" + v + ">",
        lambda v: "邮箱" + v + "。",
    ],
}
GEN = {"phone": mobile, "id_card": idc, "bank_card": card, "email": email}
TEMPL_ZH = [
    "您好，我的{k}是{v}，帮我查一下账单",
    "{v}这个是我{k}，请核实",
    "客户说：{k}{v}，已登记，谢谢",
    "联系人{n},{v},{x}",
    "麻烦改一下预留信息({v})，我昨天打过电话",
    "订单来自{n}，{k}：{v}；地址{a}",
]
TEMPL_EN = [
    "Hi, my {k} is {v}, please check my statement",
    "Customer {n} ({v}) asked about the annual fee.",
    "{v}",
    "Please update contact to {v} - thanks!",
    "record: {n};{v};{x}",
]
KEEP = [
    lambda: f"订单号{rng.randint(10**18, 10**19 - 1)}",
    lambda: f"金额{rng.randint(1000, 99999)}.{rng.randint(10, 99)}元",
    lambda: f"order no. {rng.randint(10**15, 10**16 - 1)}",
    lambda: f"交易流水号{rng.randint(10**17, 10**18 - 1)}",
    lambda: "请拨打95588或400-820-8820",
    lambda: f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    lambda: f"版本 v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
    lambda: f"tracking {rng.randint(10**11, 10**12 - 1)}",
]
rows, truth, keeps = [], [], []
i = 0
for kind, variants in VARIANTS.items():
    for var_i, var in enumerate(variants):
        for _ in range(25):
            raw = GEN[kind]()
            if kind == "phone":
                raw = "".join(c for c in raw if c.isdigit())[-11:]
            v = var(raw)
            zh = rng.random() < 0.6
            t = rng.choice(TEMPL_ZH if zh else TEMPL_EN)
            x = rng.choice(KEEP)()
            text = t.format(
                k={"phone": "电话", "id_card": "身份证号", "bank_card": "卡号", "email": "邮箱"}[
                    kind
                ]
                if zh
                else kind,
                v=v,
                n=(fz if zh else fe).name(),
                a=fz.address() if zh else fe.address(),
                x=x,
            )
            rid = f"r{i}"
            i += 1
            rows.append(
                {
                    "id": rid,
                    "messages": [
                        {"role": "user", "content": text},
                        {"role": "assistant", "content": "好的，已为您处理，请稍候查看。"},
                    ],
                    "text": None,
                    "ops": [],
                    "locator": f"judge:{rid}",
                }
            )
            truth.append((rid, kind, var_i, raw))
            if "{x}" in t:
                keeps.append((rid, x))
for j in range(300):
    x = rng.choice(KEEP)()
    rid = f"k{j}"
    rows.append(
        {
            "id": rid,
            "messages": [
                {"role": "user", "content": f"我想问一下{x}是什么意思"},
                {"role": "assistant", "content": "这是系统生成的编号，不是个人信息。"},
            ],
            "text": None,
            "ops": [],
            "locator": f"judge:{rid}",
        }
    )
    keeps.append((rid, x))
df = pd.DataFrame(rows)
kept, rejected = run_ops(df, calls, "clean")
allrej = pd.concat(rejected) if rejected else pd.DataFrame(columns=kept.columns)
out = {}
for frame in (kept, allrej):
    for rid, msgs in zip(frame["id"], frame["messages"], strict=True):
        out[rid] = " ".join(m["content"] or "" for m in msgs)


def digits(s):
    return "".join(c for c in s if c.isalnum()).lower()


rec = defaultdict(lambda: [0, 0])
rec_var = defaultdict(lambda: [0, 0])
for rid, kind, var_i, raw in truth:
    o = out.get(rid, "")
    leaked = digits(raw) in digits(o) if kind != "email" else raw.lower() in o.lower()
    rec[kind][0] += not leaked
    rec[kind][1] += 1
    rec_var[(kind, var_i)][0] += not leaked
    rec_var[(kind, var_i)][1] += 1
fp = 0
for rid, x in keeps:
    o = out.get(rid, "")
    if x not in o.replace("\uff0c", ","):
        fp += 1
        if fp <= 12:
            print("KEEP LOST:", x, "=>", o[:120])
for k, (a, b) in rec.items():
    print(f"{k:10s} recall {a / b:.3f} ({a}/{b})")
for (k, v), (a, b) in sorted(rec_var.items()):
    if a < b:
        print(
            f"   {k} variant {v}: {a}/{b}",
            [out[r][:90] for r, kk, vv, _ in truth if kk == k and vv == v][:2],
        )
print(f"look-alikes lost: {fp}/{len(keeps)}")
