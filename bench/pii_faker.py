"""An evaluation corpus for PII detection whose values come from a third party: Faker.

    python bench/pii_faker.py --out /tmp/pii_faker.jsonl [--seed 7] [--scale 1.0]

Values come from Faker's ``zh_CN`` / ``en_US`` providers (``phone_number``,
``ssn`` with valid check digits, ``credit_card_number``, ``email``), landlines
are composed from real area codes, and each instance is written in one of
the formats people (and earlier clean ops) produce: spaces, dots, Unicode
dashes, ``+86`` / ``0086`` prefixes, full-width digits, glued to a label
(``Tel139...``), in ASCII-comma lists, in JSON-ish or CSV-ish strings, at line
start or end. Look-alikes that must stay are written the same way. The
corpus is generated, never committed: tests/data/pii_corpus.jsonl (the
project's own corpus, written by the detector's author) stays the unit-test
fixture; this one is the independent witness ``bench/pii_eval.py`` scores.

Each line: ``{"id", "lang", "text", "spans": [{"type", "variant", "value",
"start", "end"}], "keep": [{"kind", "value", "start", "end"}]}``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from faker import Faker
from stdnum import luhn
from stdnum.cn import uscc

SEED = 20261202
AREA_CODES = (
    "010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0512 0531 "
    "0532 0551 0571 0574 0591 0592 0731 0755 0757 0769 0851 0871 0898 0931 0991"
).split()
UNICODE_DASHES = ("\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\uff0d")
CARD_TYPES = ("visa16", "visa19", "mastercard", "amex", "discover", "diners", "jcb16")
GLUE = {
    "phone": ("Tel", "TEL", "tel", "vx", "QQ", "Phone", "Mobile", "wx"),
    "id_card": ("ID", "id", "IDNo"),
}
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

ZH = {
    "phone": ("我的手机号是{v}，麻烦回电", "联系电话：{v}", "请打{v}找我", "手机{v}收不到验证码"),
    "landline": ("单位座机{v}，工作日可打", "家里电话{v}", "请拨{v}转人工", "办公电话：{v}"),
    "id_card": (
        "身份证号{v}，帮我查一下",
        "证件号码：{v}",
        "持卡人身份证{v}有误吗",
        "我身份证是{v}",
    ),
    "bank_card": (
        "卡号{v}，申请挂失",
        "我的信用卡{v}被冻结了",
        "还款卡：{v}",
        "尾号不对，卡号是{v}",
    ),
    "email": ("账单发到{v}就行", "邮箱：{v}", "请把电子账单寄到{v}", "我的邮箱是{v}，请查收"),
    "passport": ("护照号{v}，出境要用", "我的护照：{v}"),
    "uscc": ("公司统一社会信用代码{v}", "企业代码：{v}，开票用"),
    "plate": ("车牌{v}的ETC扣费了", "我的车是{v}"),
    "account_id": ("微信号{v}", "加我QQ：{v}", "支付宝账号{v}", "vx：{v}"),
}
EN = {
    "phone": ("My mobile is {v}, please call back", "Call me at {v}", "Phone: {v}"),
    "landline": ("Office line {v}, weekdays only", "Landline: {v}", "Reach me at {v}"),
    "id_card": ("My ID number is {v}", "ID card: {v}", "Resident ID {v} for verification"),
    "bank_card": ("Card number {v}, please block it", "My credit card {v} was declined"),
    "email": ("Send the statement to {v}", "Email: {v}", "You can reach me at {v}, thanks"),
    "passport": ("Passport no. {v}", "my passport number is {v}"),
    "uscc": ("Company credit code {v}",),
    "plate": ("Plate {v} was charged twice",),
    "account_id": ("WeChat: {v}", "add me on QQ {v}"),
}
ZH_KEEP = ("订单号{v}还没到账", "流水号：{v}", "交易号{v}", "快递单号{v}", "运单号 {v}")
EN_KEEP = ("Order no. {v} has not arrived", "tracking {v}", "ref {v}", "Order #{v} shipped")
KEEP_ANYWHERE_ZH = (
    "金额是{v}吗",
    "请拨打客服热线{v}",
    "版本{v}",
    "时间戳{v}",
    "余额{v}",
    "本期账单{v}",
    "交易时间{v}",
)
KEEP_ANYWHERE_EN = ("Is the amount {v}?", "Call our hotline {v}", "app version {v}", "ts={v}")


def fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.zh = Faker("zh_CN")
        self.en = Faker("en_US")
        self.zh.seed_instance(seed)
        self.en.seed_instance(seed + 1)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    # ------------------------------------------------------------ PII values
    def phone(self) -> tuple[str, str]:
        n = self.zh.phone_number()
        a, b, c = n[:3], n[3:7], n[7:]
        dash = self.rng.choice(UNICODE_DASHES)
        variants = {
            "plain": n,
            "spaced": f"{a} {b} {c}",
            "dashed": f"{a}-{b}-{c}",
            "dotted": f"{a}.{b}.{c}",
            "unicode_dash": f"{a}{dash}{b}{dash}{c}",
            "plus86": self.rng.choice([f"+86{n}", f"+86 {n}", f"+86-{a}-{b}-{c}", f"(+86){n}"]),
            "0086": self.rng.choice([f"0086{n}", f"0086 {a} {b} {c}", f"86-{n}"]),
            "fullwidth": fullwidth(n),
            "glued_label": (self.rng.choice(GLUE["phone"]), n),
        }
        return self._pick(variants)

    def landline(self) -> tuple[str, str]:
        area = self.rng.choice(AREA_CODES)
        local = self.rng.choice("2345678") + self.digits(7)
        dash = self.rng.choice(UNICODE_DASHES)
        variants = {
            "plain": f"{area}-{local}",
            "brackets": self.rng.choice([f"({area}){local}", f"（{area}）{local}"]),
            "spaced": f"{area} {local[:4]} {local[4:]}",
            "86_dash": f"86-{area[1:]}-{local}",
            "0086_dash": f"0086-{area[1:]}-{local}",
            "plus86": f"+86 {area[1:]} {local}",
            "unicode_dash": f"{area}{dash}{local}",
            "extension": f"{area}-{local}转{self.rng.randint(100, 8999)}",
            "fullwidth": fullwidth(f"{area}-{local}"),
        }
        return self._pick(variants)

    def id_card(self) -> tuple[str, str]:
        n = self.zh.ssn()
        variants = {
            "plain": n,
            "lower_x": n[:17] + n[17].lower(),
            "grouped_6_8_4": f"{n[:6]} {n[6:14]} {n[14:]}",
            "grouped_6_4_4_4": f"{n[:6]} {n[6:10]} {n[10:14]} {n[14:]}",
            "fullwidth": fullwidth(n),
            "glued_label": (self.rng.choice(GLUE["id_card"]), n),
        }
        if n[6:8] == "19":  # first-generation IDs: 15 digits, year without "19", no check digit
            variants["fifteen_digits"] = n[:6] + n[8:17]
        return self._pick(variants)

    def bank_card(self) -> tuple[str, str]:
        if self.rng.random() < 0.3:  # UnionPay, what Chinese customers mostly hold
            body = self.rng.choice(["622202", "622848", "621700", "625911", "623668"])
            body += self.digits(self.rng.choice([16, 19]) - 7)
            n = body + str(luhn.calc_check_digit(body))
        else:
            n = self.en.credit_card_number(card_type=self.rng.choice(CARD_TYPES))
            while n.startswith("35") and not "3528" <= n[:4] <= "3589":
                # Faker's jcb16 draws from all of 35xx; only 3528-3589 is issued JCB.
                n = self.en.credit_card_number(card_type="jcb16")
        groups = (
            [n[:4], n[4:10], n[10:]]
            if len(n) in (14, 15)
            else [n[i : i + 4] for i in range(0, len(n), 4)]
        )
        dash = self.rng.choice(UNICODE_DASHES)
        variants = {
            "plain": n,
            "spaced": " ".join(groups),
            "dashed": "-".join(groups),
            "unicode_dash": dash.join(groups),
            "fullwidth": fullwidth(n),
        }
        return self._pick(variants)

    def email(self) -> tuple[str, str]:
        faker = self.rng.choice([self.zh, self.en])
        e = faker.email() if self.rng.random() < 0.7 else faker.free_email()
        local = e.split("@")[0]
        variants = {
            "plain": e,
            "upper": e.upper() if self.rng.random() < 0.5 else e.capitalize(),
            "fullwidth_at": e.replace("@", "＠"),
            "idn_zh": self.rng.choice([self.zh.last_name() + self.zh.first_name(), local])
            + "@"
            + self.rng.choice(["例子.中国", "邮件.公司", "测试.网络", "银行.中国"]),
            "idn_latin": local + "@" + self.rng.choice(["münchen.de", "bücher.example", "café.fr"]),
        }
        return self._pick(variants)

    def passport(self) -> tuple[str, str]:
        return self._pick(
            {
                "e_digits": "E" + self.digits(8),
                "e_letter": "E" + self.rng.choice("ABCDEFGH") + self.digits(7),
                "g_digits": "G" + self.digits(8),
            }
        )

    def uscc(self) -> tuple[str, str]:
        body = "91" + self.rng.choice(["110108", "310115", "440300", "330106"])
        body += "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        return "checksum", body + uscc.calc_check_digit(body)

    def plate(self) -> tuple[str, str]:
        head = self.rng.choice(PLATE_PROVINCES) + self.rng.choice(PLATE_LETTERS)
        variants = {
            "standard": head + self.rng.choice(PLATE_LETTERS) + self.digits(4),
            "digits": head + self.digits(5),
            "new_energy": head
            + self.rng.choice("DF")
            + self.rng.choice(PLATE_LETTERS + "0123456789")
            + self.digits(4),
            "dotted": head + "·" + self.digits(5),
        }
        return self._pick(variants)

    def account_id(self) -> tuple[str, str]:
        name = self.en.user_name().replace(".", "_")
        return self._pick(
            {
                "wechat": (name if name[0].isalpha() else "w" + name)[:18].ljust(6, "x"),
                "qq": str(self.rng.randint(10000, 3999999999)),
            }
        )

    def _pick(self, variants: dict) -> tuple[str, str]:
        """(variant, value); a value given as (label, number) is glued: ``Tel`` + number."""
        variant = self.rng.choice(sorted(variants))
        return variant, variants[variant]

    @staticmethod
    def split_label(value) -> tuple[str, str]:
        return value if isinstance(value, tuple) else ("", value)

    # ------------------------------------------------------------ look-alikes
    def lookalike(self) -> tuple[str, str, bool]:
        """(kind, value, needs_context): needs_context look-alikes only stay after 订单号 / order no."""
        d = self.digits
        kind = self.rng.choice(
            [
                "order_number_luhn",
                "order_number",
                "amount",
                "date",
                "timestamp",
                "tracking",
                "hotline",
                "bad_id_check",
                "random_3_luhn",
                "version",
                "transaction_id",
                "eleven_digits",
            ]
        )
        if kind == "order_number_luhn":  # a card-like prefix and a valid Luhn: only context tells
            body = self.rng.choice(["62", "4", "5", "60"]) + d(self.rng.choice([14, 17]))
            return kind, body + str(luhn.calc_check_digit(body)), True
        if kind == "order_number":
            return kind, f"{self.rng.randint(2019, 2026)}{d(self.rng.randint(10, 15))}", True
        if kind == "amount":
            return (
                kind,
                self.rng.choice(
                    [
                        f"{self.zh.phone_number()}.00",
                        f"¥{self.rng.randint(1, 99)},{d(3)}.{d(2)}",
                        f"{d(3)},{d(3)}.00元",
                    ]
                ),
                False,
            )
        if kind == "date":
            when = self.en.date_time_between(start_date="-10y", end_date="+1y")
            return (
                kind,
                when.strftime(
                    self.rng.choice(["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S"])
                ),
                False,
            )
        if kind == "timestamp":
            return (
                kind,
                str(self.rng.randint(1_500_000_000, 1_900_000_000)) + self.rng.choice(["", d(3)]),
                False,
            )
        if kind == "tracking":
            return (
                kind,
                self.rng.choice([f"SF{d(13)}", f"YT{d(13)}", f"JD{d(15)}", f"75{d(13)}"]),
                True,
            )
        if kind == "hotline":
            return (
                kind,
                self.rng.choice(
                    [
                        "95588",
                        "95555",
                        "95566",
                        f"400-{d(3)}-{d(4)}",
                        f"400{d(7)}",
                        f"800-{d(3)}-{d(4)}",
                    ]
                ),
                False,
            )
        if kind == "bad_id_check":
            good = self.zh.ssn()
            wrong = [c for c in "0123456789X" if c != good[-1]]
            return kind, good[:17] + self.rng.choice(wrong), False
        if kind == "random_3_luhn":  # 19 digits starting with 3 outside every card range
            while True:
                body = "3" + self.rng.choice(["0", "1", "2", "3", "9"]) + d(16)
                if not body.startswith(("30", "39")) or len(body) == 18:
                    return kind, body + str(luhn.calc_check_digit(body)), False
        if kind == "version":
            return (
                kind,
                self.rng.choice(
                    [
                        f"v1.{self.zh.phone_number()}",
                        f"{d(1)}.{d(2)}.{d(11)}",
                        f"build 1.{d(3)}.{d(4)}.{d(4)}",
                    ]
                ),
                False,
            )
        if kind == "transaction_id":
            return (
                kind,
                self.rng.choice(
                    [f"TX{self.zh.phone_number()}", f"SN{self.zh.phone_number()}", f"NO{d(16)}"]
                ),
                False,
            )
        return kind, self.rng.choice(["10", "11", "12"]) + d(9), False

    # ------------------------------------------------------------ sentences
    def sentence(self, kinds: list[str], layout: str) -> dict:
        zh = self.rng.random() < 0.65
        templates = ZH if zh else EN
        spans, pieces = [], []
        for kind in kinds:
            variant, value = getattr(self, kind)()
            label, value = self.split_label(value)
            pieces.append((kind, variant, value, self.rng.choice(templates[kind]), label))
        if layout == "comma_list":  # 联系人X,431023...,17087921742
            name = self.zh.name() if zh else self.en.name()
            text = "联系人" + name if zh else "contact " + name
            for kind, variant, value, _, label in pieces:
                text += "," + label
                spans.append(
                    {
                        "type": kind,
                        "variant": variant + "+comma_list",
                        "value": value,
                        "start": len(text),
                    }
                )
                text += value
            if self.rng.random() < 0.5:
                text += "," + self.zh.city_name() if zh else "," + self.en.city()
        elif layout == "fullwidth_comma":  # no Han on the line: nfkc folds "，" to ","
            text = ""
            for i, (kind, variant, value, _, label) in enumerate(pieces):
                text += ("，" if i else "") + label
                spans.append(
                    {
                        "type": kind,
                        "variant": variant + "+fullwidth_comma",
                        "value": value,
                        "start": len(text),
                    }
                )
                text += value
        elif layout == "json":
            keys = {
                "phone": "tel",
                "landline": "tel",
                "id_card": "id_no",
                "bank_card": "card",
                "email": "mail",
            }
            text = "{"
            for i, (kind, variant, value, _, label) in enumerate(pieces):
                text += ("," if i else "") + f'"{keys.get(kind, kind)}":"' + label
                spans.append(
                    {"type": kind, "variant": variant + "+json", "value": value, "start": len(text)}
                )
                text += value + '"'
            text += "}"
        elif layout == "csv":
            text = (self.zh.name() if zh else self.en.name()) + ","
            for kind, variant, value, _, label in pieces:
                text += label
                spans.append(
                    {"type": kind, "variant": variant + "+csv", "value": value, "start": len(text)}
                )
                text += value + ","
            text += str(self.rng.randint(1, 99))
        else:  # prose, several per sentence, no spaces in Chinese, at line start or end
            text = ""
            for i, (kind, variant, value, template, label) in enumerate(pieces):
                if layout == "line_start" and i == 0:
                    template = "{v} " + ("是我的号码" if zh else "is mine")
                if layout == "line_end" and i == len(pieces) - 1:
                    template = ("最后：" if zh else "last: ") + "{v}"
                if i:
                    text += "；" if zh else "; "
                before, after = template.split("{v}")
                text += before + label
                spans.append({"type": kind, "variant": variant, "value": value, "start": len(text)})
                text += value + after
        for span in spans:
            span["end"] = span["start"] + len(span["value"])
        return {"lang": "zh" if zh else "en", "text": text, "spans": spans, "keep": []}

    def add_lookalike(self, row: dict) -> None:
        zh = row["lang"] == "zh"
        kind, value, needs_context = self.lookalike()
        pool = (
            (ZH_KEEP if zh else EN_KEEP)
            if needs_context
            else (ZH_KEEP + KEEP_ANYWHERE_ZH if zh else EN_KEEP + KEEP_ANYWHERE_EN)
        )
        sep = "；" if zh else "; "
        text = row["text"] + (sep if row["text"] else "")
        before, after = self.rng.choice(pool).split("{v}")
        start = len(text) + len(before)
        row["text"] = text + before + value + after
        row["keep"].append(
            {"kind": kind, "value": value, "start": start, "end": start + len(value)}
        )


DEFAULT_MIX = (
    ["phone"] * 26 + ["landline"] * 16 + ["id_card"] * 20 + ["bank_card"] * 20 + ["email"] * 18
)
OPTIONAL_MIX = ["passport", "uscc", "plate", "account_id"]
LAYOUTS = ["prose"] * 10 + [
    "line_start",
    "line_end",
    "comma_list",
    "comma_list",
    "fullwidth_comma",
    "json",
    "csv",
]


def build_corpus(
    seed: int = SEED, pii: int = 1200, optional: int = 200, lookalikes: int = 520
) -> list[dict]:
    """``pii`` default-type instances, ``optional`` optional-type ones, ``lookalikes`` that must stay."""
    gen = Generator(seed)
    rows: list[dict] = []
    placed = 0
    while placed < pii:
        layout = gen.rng.choice(LAYOUTS)
        n = (
            gen.rng.choice([1, 1, 1, 2, 3])
            if layout in ("prose", "line_start", "line_end")
            else gen.rng.choice([2, 3])
        )
        kinds = [gen.rng.choice(DEFAULT_MIX) for _ in range(n)]
        if layout == "fullwidth_comma":
            kinds = [gen.rng.choice(["phone", "id_card", "bank_card"]) for _ in range(n)]
        row = gen.sentence(kinds, layout)
        if layout == "fullwidth_comma":
            row["lang"] = "en"
        placed += len(row["spans"])
        if gen.rng.random() < 0.3 and layout not in ("json", "fullwidth_comma"):
            gen.add_lookalike(row)
        rows.append(row)
    for _ in range(optional):
        rows.append(gen.sentence([gen.rng.choice(OPTIONAL_MIX)], "prose"))
    while sum(len(r["keep"]) for r in rows) < lookalikes:
        row = {
            "lang": "zh" if gen.rng.random() < 0.6 else "en",
            "text": "",
            "spans": [],
            "keep": [],
        }
        gen.add_lookalike(row)
        if gen.rng.random() < 0.3:
            gen.add_lookalike(row)
        rows.append(row)
    for row in rows:
        for item in row["spans"] + row["keep"]:
            assert row["text"][item["start"] : item["end"]] == item["value"], (row, item)
    return [{"id": f"faker-{n:05d}", **row} for n, row in enumerate(rows, 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = build_corpus(args.seed)
    args.out.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    print(f"{args.out}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
