"""The committed example raw data: reproducible, big enough, dirty in the planned ways, and
described by source configs that fit the schema and the taxonomy."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import unicodedata
from dataclasses import fields as dataclass_fields
from pathlib import Path

import charset_normalizer
import pytest
import yaml
from omegaconf import OmegaConf

from ftdata.config_schema import SOURCE_FORMATS, FieldMap, SourceConfig

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"
CHAT = RAW / "chat_logs" / "sessions.jsonl"
LEGACY = RAW / "legacy" / "tickets_2019.csv"
CRAWL = RAW / "crawl"
CROWD = RAW / "crowd" / "qa_pairs.csv"
PII_FILE = ROOT / "tests" / "data" / "raw_pii_values.txt"
SOURCE_CONFS = sorted((ROOT / "conf" / "source").glob("*.yaml"))
GENERATED_DIRS = ["data/raw/chat_logs", "data/raw/legacy", "data/raw/crawl", "data/raw/crowd"]

# Written out here rather than imported: the test must not share a bug with the generator.
TAXONOMY = {
    "账户问题>账单>账单查询",
    "账户问题>还款>逾期处理",
    "账户问题>额度>额度调整",
    "账户问题>卡片>挂失补卡",
    "账户问题>卡片>冻结解冻",
    "产品问题>积分规则>兑换流程",
    "产品问题>积分规则>有效期管理",
    "产品问题>分期>分期办理",
    "产品问题>年费>年费政策",
}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def id_ok(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location(
        "make_example_data", ROOT / "tools" / "make_example_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pii_values() -> list[str]:
    return [v for v in PII_FILE.read_text(encoding="utf-8").splitlines() if v]


@pytest.fixture(scope="module")
def chat_lines() -> list[str]:
    return CHAT.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def chat_sessions(chat_lines) -> list[dict]:
    sessions = []
    for line in chat_lines:
        try:
            sessions.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return sessions


def legacy_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(LEGACY.read_bytes().decode("gbk"), newline="")))


def crowd_rows() -> list[dict]:
    with open(CROWD, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def html_questions(text: str) -> list[str]:
    body = re.sub(r"<footer>.*?</footer>", "", text, flags=re.S)
    return re.findall(r"<h3>(.*?)</h3>|<dt>(.*?)</dt>", body)


def conf(name: str) -> dict:
    return yaml.safe_load((ROOT / "conf" / "source" / f"{name}.yaml").read_text(encoding="utf-8"))


def raw_texts() -> list[str]:
    return [
        CHAT.read_text(encoding="utf-8"),
        LEGACY.read_bytes().decode("gbk"),
        CROWD.read_text(encoding="utf-8"),
    ]


# ------------------------------------------------------------------ reproducibility
def test_regenerating_into_a_tmp_dir_gives_the_committed_bytes(generator, tmp_path):
    generator.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert Path("data/raw/legacy/tickets_2019.csv") in written
    assert Path("tests/data/raw_pii_values.txt") in written
    for rel in written:
        assert (ROOT / rel).read_bytes() == (tmp_path / rel).read_bytes(), f"{rel} is stale"
    # and nothing under the generated folders is left over from an older generator
    committed = sorted(
        p.relative_to(ROOT) for d in GENERATED_DIRS for p in (ROOT / d).rglob("*") if p.is_file()
    )
    assert committed == [r for r in written if str(r).startswith("data/raw/")]


def test_example_sources_hold_at_least_3000_raw_records(chat_lines):
    n_chat = len([line for line in chat_lines if line.strip()])
    n_legacy = len(legacy_rows()) - 1
    n_crowd = len(crowd_rows())
    n_html = sum(len(html_questions(p.read_text(encoding="utf-8"))) for p in CRAWL.glob("*.html"))
    n_md = sum(
        len(re.findall(r"^### ", p.read_text(encoding="utf-8"), flags=re.M))
        for p in CRAWL.glob("*.md")
    )
    assert n_chat >= 1700 and n_legacy >= 550 and n_crowd >= 750
    assert n_html + n_md >= 230
    assert n_chat + n_legacy + n_crowd + n_html + n_md >= 3000


def test_raw_data_stays_small_enough_for_git():
    assert sum(p.stat().st_size for p in RAW.rglob("*") if p.is_file()) < 5 * 1024 * 1024


# ------------------------------------------------------------------ encodings
def test_legacy_export_is_gbk_and_not_utf8():
    data = LEGACY.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    assert text.startswith("工单号,客户问题,处理回复,业务类型,创建时间\r\n")
    # encoding: auto relies on charset-normalizer finding a GBK-compatible codec
    assert str(charset_normalizer.from_bytes(data).best()) == text


def test_legacy_export_carries_its_planned_defects():
    rows = legacy_rows()
    text = LEGACY.read_bytes().decode("gbk")
    assert sorted(len(r) for r in rows if len(r) != 5) == [4, 6, 7]  # ragged rows
    assert any("\n" in r[2] for r in rows[1:] if len(r) == 5)  # multi-line quoted replies
    assert "ＡＰＰ" in text and "&nbsp;" in text and "&amp;" in text and "  " in text


# ------------------------------------------------------------------ PII and look-alikes
def test_every_planted_pii_value_is_valid_and_present_in_the_raw_data(pii_values):
    raw = "\n".join(raw_texts())
    kinds = {"mobile": 0, "id": 0, "card": 0, "email": 0}
    for value in pii_values:
        assert value in raw, value
        digits = re.sub(r"[\s-]", "", value)
        if "@" in value:
            kinds["email"] += 1
            assert re.fullmatch(r"[\w.]+@[\w.]+\.[a-z]{2,}", value), value
        elif value.startswith("+86") or len(digits) == 11:
            kinds["mobile"] += 1
            assert re.fullmatch(r"1[3-9]\d{9}", digits.removeprefix("+86")), value
        elif len(digits) == 18:
            kinds["id"] += 1
            assert id_ok(digits), f"{value} fails MOD 11-2"
        else:
            kinds["card"] += 1
            assert 16 <= len(digits) <= 19 and luhn_ok(digits), f"{value} fails Luhn"
    assert min(kinds.values()) >= 20, kinds
    assert any(v.endswith("X") for v in pii_values) and any(" " in v for v in pii_values)


def test_long_digit_runs_that_are_not_planted_pii_fail_every_checksum(pii_values):
    planted = {re.sub(r"[\s+-]", "", v) for v in pii_values}
    planted |= {p.removeprefix("86") for p in planted}
    seen_lookalikes = 0
    for text in raw_texts():
        for run in re.findall(r"\d+", unicodedata.normalize("NFKC", text), flags=re.ASCII):
            if run in planted:
                continue
            if 16 <= len(run) <= 19:
                seen_lookalikes += 1
                assert not luhn_ok(run), f"look-alike {run} passes Luhn"
                assert not id_ok(run), f"look-alike {run} passes MOD 11-2"
            assert not re.fullmatch(r"1[3-9]\d{9}", run), f"unplanted mobile {run}"
    assert seen_lookalikes >= 100  # order numbers, transaction and contract ids


def test_chat_logs_carry_the_planned_mix_of_defects(chat_lines, chat_sessions, pii_values):
    n = len(chat_lines)
    assert 5 <= n - len(chat_sessions) <= 10  # malformed lines
    ids = [s["session_id"] for s in chat_sessions]
    assert 0.03 <= (len(ids) - len(set(ids))) / n <= 0.05  # re-exported sessions
    with_pii = sum(any(v in line for v in pii_values) for line in chat_lines)
    assert 0.12 <= with_pii / n <= 0.18
    smalltalk_only = [s for s in chat_sessions if s["biz_tag"] is None]
    assert 0.02 <= len(smalltalk_only) / n <= 0.04
    assert all(2 <= len(s["turns"]) <= 8 for s in chat_sessions if s["turns"])
    english = [s for s in chat_sessions if s["turns"] and s["turns"][0]["text"].isascii()]
    assert 0.08 <= len(english) / n <= 0.16
    joined = "\n".join(chat_lines)
    assert "<br>" in joined and "&nbsp;" in joined and "\u200b" in joined


# ------------------------------------------------------------------ configs and labels
def test_every_label_map_value_is_a_taxonomy_path():
    assert {p.stem for p in SOURCE_CONFS} == {
        "chat_logs",
        "legacy_tickets",
        "bank_faq_html",
        "bank_manual_md",
        "crowd_qa",
        "feedback_log",  # tools/make_feedback_log.py: labels are taxonomy paths already
    }
    for path in SOURCE_CONFS:
        if path.stem == "feedback_log":
            continue
        label_map = yaml.safe_load(path.read_text(encoding="utf-8"))["label_map"]
        assert set(label_map.values()) == TAXONOMY, path.name


@pytest.mark.parametrize("path", SOURCE_CONFS, ids=lambda p: p.stem)
def test_source_conf_fits_the_structured_schema(path):
    assert path.read_text(encoding="utf-8").startswith("# ")  # says what the source is
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(raw) <= {f.name for f in dataclass_fields(SourceConfig)}
    assert set(raw.get("fields", {})) <= {f.name for f in dataclass_fields(FieldMap)}
    merged = OmegaConf.merge(OmegaConf.structured(SourceConfig), OmegaConf.load(path))
    assert merged.format in SOURCE_FORMATS and merged.encoding == "auto"
    assert (ROOT / merged.path).exists()


def test_every_raw_label_in_the_data_is_mapped_by_its_source_conf(chat_sessions):
    chat_tags = {s["biz_tag"] for s in chat_sessions if s["biz_tag"] is not None}
    assert chat_tags <= set(conf("chat_logs")["label_map"])
    assert {r[3] for r in legacy_rows()[1:] if len(r) == 5} <= set(
        conf("legacy_tickets")["label_map"]
    )
    assert {r["scenario"] for r in crowd_rows()} <= set(conf("crowd_qa")["label_map"])
    html_sections = {
        s for p in CRAWL.glob("*.html") for s in re.findall(r"<h2>(.*?)</h2>", p.read_text("utf-8"))
    }
    md_sections = {
        s
        for p in CRAWL.glob("*.md")
        for s in re.findall(r"^## (.+)$", p.read_text("utf-8"), flags=re.M)
    }
    assert html_sections <= set(conf("bank_faq_html")["label_map"])
    assert md_sections <= set(conf("bank_manual_md")["label_map"])


def test_chat_speakers_are_all_mapped_to_roles(chat_sessions):
    speakers = {t["speaker"] for s in chat_sessions for t in s["turns"]}
    assert speakers == set(conf("chat_logs")["roles"])


def test_label_distribution_is_skewed_like_real_traffic(chat_sessions):
    counts: dict[str, int] = {}
    for s in chat_sessions:
        if s["biz_tag"]:
            counts[s["biz_tag"]] = counts.get(s["biz_tag"], 0) + 1
    assert counts["BILL_QUERY"] > counts["INSTALLMENT"] > counts["CARD_FREEZE"]
    assert counts["POINTS_REDEEM"] > 4 * counts["ANNUAL_FEE"]
    assert min(counts.values()) >= 20  # rare, not absent
