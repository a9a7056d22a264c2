"""`ftdata init` from an installed wheel: a new project builds with a real `dvc repro`, then
with a source the user added, then after an engine upgrade reruns only what the upgrade changed."""

from __future__ import annotations

import csv
import json
import os
import sys
import sysconfig
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata import codedeps
from tests.conftest import ROOT, copy_project, run

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


@pytest.fixture(scope="module")
def wheel_engine(tmp_path_factory) -> dict:
    """ftdata installed from a wheel built here, in a venv of its own (not editable).

    The venv sees the suite's third-party packages through a .pth line (no network);
    the .pth files in that folder are not run, so the editable ftdata stays out of reach
    and ``import stages`` fails there: only the wheel's ftdata is importable.
    """
    base = tmp_path_factory.mktemp("wheel")
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], base)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "suite-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install_wheel(venv, build_wheel(ROOT, base / "dist"))
    # PYTHONPATH emptied: a developer's (a worktree on it) would shadow the wheel
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": ""}
    return {"venv": venv, "python": str(venv / "bin" / "python"), "env": env, "base": base}


def build_wheel(source: Path, dest: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), "."], source)
    return next(dest.glob("ftdata-*.whl"))


def install_wheel(venv: Path, wheel: Path) -> None:
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    run([*pip, "--force-reinstall", str(wheel)], venv)


def test_the_wheel_engine_is_the_one_the_venv_imports(wheel_engine):
    probe = "import ftdata, importlib.util as u; print(ftdata.__file__, u.find_spec('stages'))"
    base, env = wheel_engine["base"], wheel_engine["env"]
    out = run([wheel_engine["python"], "-c", probe], base, env=env).stdout.split()
    assert out[0].startswith(str(wheel_engine["venv"])) and out[1] == "None"


def test_blank_project_builds_at_once_and_after_adding_a_source(tmp_path, wheel_engine):
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = New User\n\temail = new@example.invalid\n", encoding="utf-8"
    )
    env = {"GIT_CONFIG_GLOBAL": str(gitconfig), **wheel_engine["env"]}
    dvc = [wheel_engine["python"], "-m", "dvc"]
    project, remote = tmp_path / "support-bot", tmp_path / "storage"
    out = run(
        ["ftdata", "init", str(project), "--remote", str(remote), "--json"], tmp_path, env=env
    ).stdout
    result = json.loads(out)
    assert result["committed"] and result["remote"]["url"] == str(remote)
    # the installed engine runs: the project has its entry points and their code identities
    assert not (project / "ftdata").exists()
    entry_points = sorted(p.name for p in (project / "stages").glob("*.py"))
    assert entry_points == sorted(p.name for p in (ROOT / "stages").glob("*.py"))
    for part in (
        "conf/config.yaml",
        "schemas/record.schema.json",
        "dvc.yaml",
        "Makefile",
        "README.md",
        "params.yaml",
        "stages/code.yaml",
    ):
        assert (project / part).is_file(), part
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    assert "enabled = True" in (project / ".dvc/config").read_text(
        encoding="utf-8"
    )  # dvc exp run -S works

    run([*dvc, "repro"], project, env=env)
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
    run(["ftdata", "compose"], project, env=env)
    repro = run([*dvc, "repro"], project, env=env).stdout
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
    run([*dvc, "push"], project, env=env)
    assert any(remote.rglob("*")), "dvc push filled the local remote"
    run(["git", "add", "-A"], project, env=env)
    run(["git", "commit", "-q", "-m", "support source"], project, env=env)

    # Upgrading the engine: a new release that changed one op reruns exactly the stages
    # whose code runs it, once composed (the Makefile's `make repro` composes first).
    source = copy_project(tmp_path / "ftdata-src")
    edited = source / UPGRADED
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# 0.1.1\n", encoding="utf-8")
    pyproject = source / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('version = "0.1.0"', 'version = "0.1.1"'),
        encoding="utf-8",
    )
    install_wheel(wheel_engine["venv"], build_wheel(source, tmp_path / "dist"))
    assert run([*dvc, "status", "--json"], project, env=env).stdout.strip() in ("", "{}")
    composed = run(["ftdata", "compose"], project, env=env).stdout
    assert "stages/code.yaml (changed:" in composed
    code = yaml.safe_load((project / "stages/code.yaml").read_text(encoding="utf-8"))
    assert code["ftdata"] == "0.1.1"
    changed = set(json.loads(run([*dvc, "status", "--json"], project, env=env).stdout))
    assert changed == stages_running(UPGRADED, project)
    rerun = run([*dvc, "repro"], project, env=env).stdout
    assert "Running stage 'report'" not in rerun and "Running stage 'dedup'" in rerun


# One op: the stages that run ops rerun, ingest / annotate / evaluate / report do not.
UPGRADED = "ftdata/ops/dedup.py"


def stages_running(module_file: str, project: Path) -> set[str]:
    """`dvc status` names of the project's stages whose closure (this tree's code, which the
    upgraded wheel was built from) holds ``module_file``."""
    module = module_file.removesuffix(".py").replace("/", ".")
    using = codedeps.stages_using(codedeps.import_graph(ROOT), project, module)
    assert using and "report" not in using and not any(s.startswith("ingest") for s in using)
    return using
