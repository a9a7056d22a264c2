"""`ftdata init`: a new project builds with a real `dvc repro`, then with a source the user added."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.init import blank_config, engine_free_dvc_yaml
from tests.conftest import run

pytestmark = pytest.mark.e2e

TICKETS = [
    (
        "退货寄回去一周了，退款还没到账",
        "仓库签收后1个工作日内审核，审核通过后原路退款，银行卡3-7个工作日到账。",
    ),
    ("优惠券订单退款，券还能用吗？", "整单退款时未过期的优惠券会退回账户，部分退款不退券。"),
    (
        "Can I get a refund to a different card?",
        "Refunds always go back to the original payment method; we cannot send them to another card.",
    ),
    (
        "退款金额比我付的少了十块钱",
        "运费险和已使用的积分抵扣不在退款金额内，详情见订单的退款明细。",
    ),
    (
        "申请退款后商家一直不处理怎么办",
        "商家48小时内未处理的退款申请会自动同意，你也可以点“申请客服介入”。",
    ),
    (
        "分期付款的订单怎么退款",
        "分期订单退款后，已还的分期款退回支付账户，未还的分期自动取消，手续费按平台规则退还。",
    ),
    (
        "My refund shows completed but my bank has nothing",
        "Completed means we sent it; banks take 3 to 7 business days. Ask your bank with the refund reference in the order.",
    ),
    (
        "退款能退到微信零钱吗",
        "用微信支付的订单会原路退到微信，零钱支付退回零钱，银行卡支付退回对应银行卡。",
    ),
]


def test_blank_project_builds_at_once_and_after_adding_a_source(tmp_path):
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = New User\n\temail = new@example.invalid\n", encoding="utf-8"
    )
    env = {"GIT_CONFIG_GLOBAL": str(gitconfig)}
    project, remote = tmp_path / "support-bot", tmp_path / "storage"
    out = run(
        ["ftdata", "init", str(project), "--remote", str(remote), "--json"], tmp_path, env=env
    ).stdout
    result = json.loads(out)
    assert result["committed"] and result["remote"]["url"] == str(remote)
    assert (
        not (project / "stages").exists() and not (project / "ftdata").exists()
    )  # the installed engine runs
    for part in (
        "conf/config.yaml",
        "schemas/record.schema.json",
        "dvc.yaml",
        "Makefile",
        "README.md",
        "params.yaml",
    ):
        assert (project / part).is_file(), part
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    assert "enabled = True" in (project / ".dvc/config").read_text(
        encoding="utf-8"
    )  # dvc exp run -S works

    run(["dvc", "repro"], project, env=env)
    assert pq.read_table(project / "data/processed/records.parquet").num_rows == 16

    # A user's own source: a CSV of Q/A pairs with a label column, as the README says.
    (project / "data/raw/support").mkdir(parents=True)
    with open(project / "data/raw/support/tickets.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "answer", "topic"])
        for question, answer in TICKETS:
            writer.writerow([question, answer, "refund"])
        writer.writerow(["", "no question here", "refund"])
    (project / "conf/source/support.yaml").write_text(
        yaml.safe_dump(
            {
                "path": "data/raw/support/tickets.csv",
                "format": "csv",
                "kind": "logs",
                "license": "internal-use-only",
                "owner": "support@example.invalid",
                "collected_at": "2024-06-30",
                "fields": {"question": "question", "answer": "answer", "label": "topic"},
                "label_map": {"refund": "支付>退款"},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    config = yaml.safe_load((project / "conf/config.yaml").read_text(encoding="utf-8"))
    config["defaults"].insert(1, {"source@source.support": "support"})
    config["export"]["accepted_licenses"].append("internal-use-only")
    (project / "conf/config.yaml").write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    run(["ftdata", "compose"], project)
    repro = run(["dvc", "repro"], project, env=env).stdout
    assert (
        "Running stage 'ingest@support'" in repro and "Running stage 'ingest@example'" not in repro
    )

    records = pq.read_table(project / "data/processed/records.parquet").to_pylist()
    support = [r for r in records if r["source"] == "support"]
    assert support and all(
        r["label"] == "支付>退款" and r["locator"].startswith("data/raw/support/tickets.csv:")
        for r in support
    )
    ingest = json.loads((project / "data/metrics/ingest/support.json").read_text(encoding="utf-8"))
    assert ingest["in"] == len(TICKETS) + 1 and ingest["rejected"] == {"empty_record": 1}
    assert "| support | logs | internal-use-only |" in (
        project / "data/processed/README.md"
    ).read_text(encoding="utf-8")
    assert "support" in (project / "data/processed/report/index.html").read_text(encoding="utf-8")
    run(["dvc", "push"], project)
    assert any(remote.rglob("*")), "dvc push filled the local remote"


def test_bank_card_template_copies_the_example_without_engine_deps(tmp_path):
    project = tmp_path / "bank"
    run(
        [
            "ftdata",
            "init",
            str(project),
            "--template",
            "bank-card",
            "--remote",
            str(tmp_path / "r"),
        ],
        tmp_path,
    )
    dvc_yaml = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))
    deps = [d for s in dvc_yaml["stages"].values() for d in s.get("do", s).get("deps", [])]
    assert deps and not [d for d in deps if str(d).startswith(("stages/", "ftdata/"))]
    assert (project / "data/raw/chat_logs/sessions.jsonl").is_file()
    assert run(["ftdata", "compose", "--check"], project).returncode == 0


def test_init_refuses_a_non_empty_folder_and_an_unknown_template(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("", encoding="utf-8")
    busy = run(["ftdata", "init", str(tmp_path / "taken")], tmp_path, check=False)
    assert busy.returncode == 2 and "exists and is not an empty directory" in busy.stderr
    odd = run(
        ["ftdata", "init", str(tmp_path / "new"), "--template", "banking"], tmp_path, check=False
    )
    assert odd.returncode == 2 and "unknown template 'banking'" in odd.stderr


def test_helpers_keep_comments_and_swap_sources():
    text = "stages:\n  clean:\n    # why\n    deps:\n      - data/interim/ingest\n      - stages/clean.py\n      - ftdata/ops\n"
    assert (
        engine_free_dvc_yaml(text)
        == "stages:\n  clean:\n    # why\n    deps:\n      - data/interim/ingest\n"
    )
    example = {
        "defaults": [
            {"source@source.a": "a"},
            {"taxonomy": "bank"},
            {"quality": "default"},
            "_self_",
        ],
        "project": {"name": "x"},
    }
    config = blank_config(
        example, {"project": {"name": "n"}, "quality": {"glossary": []}, "annotate": {"inputs": []}}
    )
    assert config == {
        "defaults": [
            {"source@source.example": "example"},
            {"taxonomy": "example"},
            {"quality": "default"},
            "_self_",
        ],
        "project": {"name": "n"},
        "quality": {"glossary": []},
    }
