"""Releases end to end: cut data_v1.0, change a source, a guideline and a threshold, cut data_v1.1,
then audit the difference with dvc and ftdata (diff, lineage, review) in a real git + DVC repo.

Nothing is mocked: real git tags, real `dvc repro` / `dvc push` to the default local
remote (a directory beside the temporary project), real `dvc checkout`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from jsonschema import Draft202012Validator

from ftdata.export import to_openai
from tests.conftest import ROOT, run

pytestmark = pytest.mark.e2e

NEW_SOURCE = "complaints"
NEW_RAW = f"data/raw/{NEW_SOURCE}/2024q4.jsonl"
OLD_MIN_CHARS, NEW_MIN_CHARS = 8, 24
LABEL = "账户问题>账单>账单查询"
# Distinct questions (no near duplicates of each other or of the example data); the last
# pair is too short for the new threshold: a new record that is rejected, never exported.
COMPLAINTS = [
    (
        "12月账单里有一笔3,288元的境外消费我不认识，怎么申请调单？",
        "请在账单日后60天内致电客服申请调单，我们会联系收单机构提供签购单，调查期间该笔款项暂不计息。",
    ),
    (
        "为什么我的还款已经到账了，账单还显示未还清？",
        "还款一般在1个工作日内入账，若超过3个工作日仍显示未还清，请提供还款凭证，我们将人工核查入账记录。",
    ),
    (
        "分期手续费和宣传的费率不一致，能退吗？",
        "我们会核对您办理分期时的页面费率和合同，如确认收费高于约定费率，差额将在下一账单周期退回。",
    ),
    (
        "Why was I charged a late fee when autopay was set up?",
        "If autopay failed because of a bank-side error, send us the debit notice and we will refund the late fee and the interest within 7 days.",
    ),
    (
        "积分兑换的商品两个月了还没发货，怎么办？",
        "请提供兑换订单号，我们将联系合作商户催发；如商品已缺货，可选择退回积分或换成等值的其他商品。",
    ),
    (
        "年费明明说首年免，为什么扣了200元？",
        "首年免年费需在开卡后90天内完成任意一笔消费，若您已满足条件仍被扣费，我们会在核实后全额退还。",
    ),
    (
        "My credit limit was lowered without any notice. Can you explain?",
        "Limits are reviewed every quarter; you can ask for the review result and apply to restore the limit after six months of on-time payments.",
    ),
    (
        "挂失后新卡寄到了老地址，能改地址重寄吗？",
        "可以，新卡会先退回发卡中心，您核验身份后修改邮寄地址，我们将在5个工作日内免费重新寄出。",
    ),
    (
        "退款已经退到卡里了，为什么还收了利息？",
        "退款入账日晚于还款日时，已产生的利息不会自动冲回，请提交申请，我们按退款对应金额减免利息。",
    ),
    (
        "临时额度到期后我的账单怎么突然多了一大笔？",
        "临时额度部分需在到期日一次性还清，逾期会影响征信，您可以申请将该部分转为账单分期。",
    ),
    ("账单日能改吗？", "可以修改账单日。"),  # 16 characters: kept at min_chars 8, rejected at 24
]
GUIDELINE = "guidelines/bank_card.md"
GUIDELINE_EDIT = "- 账单争议（不认识的交易、调单）也标为账单查询。"


def _ftdata(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The CLI of the project's own copy of ftdata (same code as this checkout)."""
    return run([sys.executable, "-m", "ftdata.cli", *args], project, check=check)


def _build(project: Path) -> None:
    _ftdata(project, "compose")
    run(["dvc", "repro"], project)


def _commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], project)
    if run(["git", "status", "--porcelain"], project).stdout:
        run(["git", "commit", "-q", "-m", message], project)


def _export_hashes(project: Path) -> dict[str, str]:
    files = [project / "data/processed/records.parquet"]
    for folder in ("data/processed/openai", "data/processed/llamafactory"):
        files += sorted((project / folder).rglob("*"))
    return {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
        if p.is_file()
    }


def _manifest_at(project: Path, tag: str) -> dict:
    return json.loads(run(["git", "show", f"{tag}:data/release/manifest.json"], project).stdout)


def _schema_errors(manifest: dict) -> list[str]:
    schema = json.loads((ROOT / "schemas/manifest.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return [e.message for e in Draft202012Validator(schema).iter_errors(manifest)]


def _add_source(project: Path) -> None:
    raw = project / NEW_RAW
    raw.parent.mkdir(parents=True)
    rows = [
        {"ticket": f"C{i:03d}", "q": q, "a": a, "category": "bill_dispute"}
        for i, (q, a) in enumerate(COMPLAINTS)
    ]
    raw.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (project / f"conf/source/{NEW_SOURCE}.yaml").write_text(
        f"path: {NEW_RAW}\nformat: jsonl\nkind: logs\nlicense: internal-use-only\nowner: crm-team\n"
        'collected_at: "2024-12-31"\ndescription: Complaint tickets exported from the CRM.\n'
        f"fields:\n  question: q\n  answer: a\n  label: category\n  meta: [ticket]\nlabel_map:\n  bill_dispute: {LABEL}\n",
        encoding="utf-8",
    )
    config = project / "conf/config.yaml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    last_source = max(
        i for i, line in enumerate(lines) if line.lstrip().startswith("- source@source.")
    )
    lines.insert(last_source + 1, f"  - source@source.{NEW_SOURCE}: {NEW_SOURCE}\n")
    config.write_text("".join(lines), encoding="utf-8")


def _set_min_chars(project: Path, value: int) -> None:
    path = project / "conf/quality/default.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"min_chars: {OLD_MIN_CHARS}\n" in text
    path.write_text(
        text.replace(f"min_chars: {OLD_MIN_CHARS}\n", f"min_chars: {value}\n"), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def releases(built_project, tmp_path_factory) -> dict:
    """data_v1.0 and data_v1.1 of the example, released; facts about v1.0 kept for the checks.

    v1.0 starts from a copy of the session's built example (git history and DVC
    cache included), so only the v1.1 build runs here.
    """
    project = tmp_path_factory.mktemp("releases") / "project"
    shutil.copytree(built_project, project, symlinks=True)
    assert run(["git", "status", "--porcelain"], project).stdout == "", (
        "built_project was left dirty"
    )
    guideline = project / GUIDELINE
    if not guideline.exists():
        guideline.parent.mkdir(parents=True, exist_ok=True)
        guideline.write_text(
            "---\nversion: '1.0'\n---\n\n# 信用卡客服标注指南\n\n## 账单查询\n- 用户询问账单金额、账单日、明细。\n",
            encoding="utf-8",
        )
    _build(project)
    _commit(project, "example dataset with its annotation guideline")
    v10_exports = _export_hashes(project)
    v10_records = pq.read_table(project / "data/processed/records.parquet").to_pandas()

    (project / "notes.txt").write_text("scratch\n", encoding="utf-8")
    refused = _ftdata(project, "release", "1.0", "-m", "should not happen", check=False)
    (project / "notes.txt").unlink()
    tags_after_refusal = run(["git", "tag"], project).stdout.split()

    first = _ftdata(project, "release", "1.0", "-m", "First release", "--gto", "--json")

    _add_source(project)
    with guideline.open("a", encoding="utf-8") as fh:
        fh.write(GUIDELINE_EDIT + "\n")
    _set_min_chars(project, NEW_MIN_CHARS)
    _build(project)
    _commit(project, "add complaints source, clarify guideline, min_chars 24")
    second = _ftdata(
        project, "release", "1.1", "-m", "Complaints source; stricter min_chars", "--json"
    )
    return {
        "project": project,
        "refused": refused,
        "tags_after_refusal": tags_after_refusal,
        "first": json.loads(first.stdout),
        "second": json.loads(second.stdout),
        "v10_exports": v10_exports,
        "v10_records": v10_records,
    }


def test_release_refuses_a_dirty_tree_with_a_clear_message(releases):
    refused = releases["refused"]
    assert refused.returncode == 1
    assert "refusing to release data_v1.0" in refused.stderr
    assert "git working tree is not clean (notes.txt)" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "data_v1.0" not in releases["tags_after_refusal"]


def test_both_tags_exist_annotated_with_valid_manifests(releases):
    project = releases["project"]
    for version, tag in (("1.0", "data_v1.0"), ("1.1", "data_v1.1")):
        assert run(["git", "cat-file", "-t", tag], project).stdout.strip() == "tag"
        manifest = _manifest_at(project, tag)
        assert _schema_errors(manifest) == []
        assert manifest["version"] == version and manifest["tag"] == tag
        # The manifest names the built commit, the tag its child that adds the manifest.
        parent = run(["git", "rev-parse", f"{tag}^"], project).stdout.strip()
        assert manifest["git_commit"] == parent
        lock = yaml.safe_load(run(["git", "show", f"{tag}:dvc.lock"], project).stdout)
        raw_md5 = {
            d["path"]: d["md5"] for st in lock["stages"].values() for d in st.get("deps", [])
        }
        for src in manifest["sources"].values():
            assert src["raw"]["md5"] == raw_md5[src["path"]]
        summary = json.loads(
            run(["git", "show", f"{tag}:data/metrics/summary.json"], project).stdout
        )
        assert manifest["counts"]["exported_records"] == summary["exported_records"]
        assert manifest["counts"]["splits"] == summary["splits"]
        assert manifest["tokens"] == summary["tokens"] and manifest["tokens"]["total"] > 0
        flags = json.loads(
            run(["git", "show", f"{tag}:data/metrics/label_issues.json"], project).stdout
        )
        assert manifest["label_issues"]["flagged"] == flags["flagged"]
        assert manifest["label_issues"]["levels"].keys() == flags["levels"].keys()
        pairs = json.loads(
            run(["git", "show", f"{tag}:data/metrics/preference.json"], project).stdout
        )["pairs"]
        assert manifest["preference"]["pairs"] == pairs and sum(pairs.values()) > 0
        message = run(["git", "tag", "-l", "--format=%(contents)", tag], project).stdout
        assert f"label issues: {flags['flagged']} of {flags['in']} labels" in message
        assert (
            f"records: {summary['raw_records']} raw -> {summary['exported_records']} exported"
            in message
        )

    v10, v11 = _manifest_at(project, "data_v1.0"), _manifest_at(project, "data_v1.1")
    # Each manifest carries the trend of every release up to it, its own point last.
    assert [p["tag"] for p in v10["trend"]] == ["data_v1.0"]
    assert [p["tag"] for p in v11["trend"]] == ["data_v1.0", "data_v1.1"]
    assert v11["trend"][0] == v10["trend"][0]
    assert v11["trend"][1]["labels"] != v10["trend"][0]["labels"]  # a source was added
    assert (
        NEW_SOURCE not in v10["sources"]
        and v11["sources"][NEW_SOURCE]["license"] == "internal-use-only"
    )
    for manifest, tag in ((v10, "data_v1.0"), (v11, "data_v1.1")):
        text = run(["git", "show", f"{tag}:{GUIDELINE}"], project).stdout
        assert manifest["guidelines"][GUIDELINE] == {
            "version": yaml.safe_load(text.split("---")[1])["version"],
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
    assert v10["guidelines"][GUIDELINE]["sha256"] != v11["guidelines"][GUIDELINE]["sha256"]
    assert v10["params_hash"] != v11["params_hash"]
    changelog = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## data_v1.1") < changelog.index("## data_v1.0")
    assert "since data_v1.0:" in changelog


def test_release_pushes_to_the_default_remote_and_gto_tags_resolve(releases, tmp_path):
    project = releases["project"]
    remote = Path(releases["first"]["remote"]["url"])
    assert remote == (project.parent / ".ftdata-remote/bank_card").resolve()
    assert releases["first"]["pushed"] > 0 and any(remote.rglob("*"))
    assert "records@v1.0.0" in releases["first"]["gto_tags"]
    out = tmp_path / "records_v1.0.parquet"
    run(
        ["dvc", "artifacts", "get", str(project), "records", "--rev", "v1.0.0", "-o", str(out)],
        tmp_path,
    )
    assert (
        hashlib.sha256(out.read_bytes()).hexdigest()
        == releases["v10_exports"]["data/processed/records.parquet"]
    )


def test_dvc_diff_between_the_tags_shows_the_changed_outputs(releases):
    result = json.loads(
        run(["dvc", "diff", "--json", "data_v1.0", "data_v1.1"], releases["project"]).stdout
    )
    modified = {e["path"] for e in result["modified"]}
    added = {e["path"] for e in result["added"]}
    assert {"data/processed/records.parquet", "data/interim/quality.parquet"} <= modified
    assert any(p.startswith("data/processed/openai") for p in modified)
    assert f"data/interim/ingest/{NEW_SOURCE}.parquet" in added


def _originals(records):
    """Records read from a raw line (augmentation and resampling add derived ones with parents)."""
    return records[records["parents"].map(len) == 0]


def test_record_diff_reports_the_new_source_and_the_threshold_rejects(releases):
    project = releases["project"]
    diff = json.loads(
        _ftdata(project, "diff", "data_v1.0", "data_v1.1", "--json", "--limit", "0").stdout
    )
    v11 = pq.read_table(project / "data/processed/records.parquet").to_pandas()
    new_ids = set(v11.loc[v11["source"] == NEW_SOURCE, "id"])
    originals = _originals(v11)
    # every raw line but the too-short one, plus whatever augmentation derived from them
    assert (originals["source"] == NEW_SOURCE).sum() == len(COMPLAINTS) - 1
    assert diff["by_source"][NEW_SOURCE]["added"] == len(new_ids)
    added_examples = {
        r["id"]
        for g, rows in diff["examples"]["added"].items()
        if g.startswith(NEW_SOURCE)
        for r in rows
    }
    assert added_examples == new_ids

    v10 = _originals(releases["v10_records"])
    too_short = set(v10.loc[v10["score_chars"] < NEW_MIN_CHARS, "id"])
    assert too_short, "the threshold change must reject some v1.0 records"
    rejected = diff["examples"]["newly_rejected"]["quality:too_short"]
    was_exported = {r["id"] for r in rejected if r["was_exported"]}
    assert was_exported == too_short
    assert all(f"quality.min_chars {NEW_MIN_CHARS}" in r["detail"] for r in rejected)
    assert diff["by_reason"]["quality:too_short"]["removed_from_export"] == len(too_short)
    new_rejected = {r["locator"] for r in rejected if not r["was_exported"]}
    assert new_rejected == {f"{NEW_RAW}:{len(COMPLAINTS)}"}
    # No raw-derived record left the export for another reason; derived ones follow a parent.
    removed = [r for rows in diff["examples"]["removed"].values() for r in rows]
    assert {r["id"] for r in removed if "#" not in r["locator"]} == too_short
    assert all(r["fate"] == "quality:too_short" or "#" in r["locator"] for r in removed)

    markdown = _ftdata(project, "diff", "data_v1.0", "data_v1.1").stdout
    assert f"| {NEW_SOURCE} | {len(new_ids)} |" in markdown
    assert "| quality:too_short |" in markdown


def test_lineage_follows_a_record_from_raw_line_to_export_line(releases):
    project = releases["project"]
    records = pq.read_table(project / "data/processed/records.parquet").to_pandas()
    row = _originals(records[records["source"] == NEW_SOURCE]).iloc[3]
    out = json.loads(_ftdata(project, "lineage", row["id"], "--rev", "data_v1.1", "--json").stdout)
    raw_line = int(row["locator"].rsplit(":", 1)[1])
    assert out["raw"]["path"] == NEW_RAW and out["raw"]["line"] == raw_line
    raw_text = (project / NEW_RAW).read_text(encoding="utf-8").splitlines()[raw_line - 1]
    assert out["raw"]["text"] == raw_text
    assert [(o["stage"], o["op"], o["params_hash"]) for o in out["ops"]] == [
        (o["stage"], o["op"], o["params_hash"]) for o in row["ops"]
    ]
    split = row["split"]
    assert out["split"] == split and out["export"]["path"] == f"data/processed/openai/{split}.jsonl"
    export_lines = (project / out["export"]["path"]).read_text(encoding="utf-8").splitlines()
    system = yaml.safe_load((project / "params.yaml").read_text())["export"]["system_prompt"]
    assert json.loads(export_lines[out["export"]["line"] - 1]) == to_openai(
        list(row["messages"]), system
    )
    assert out["export"]["verified"] is True
    assert out["first_release"] == "data_v1.1"

    kept = releases["v10_records"]
    old_id = kept.loc[kept["id"].isin(set(records["id"])), "id"].iloc[0]
    old = json.loads(_ftdata(project, "lineage", old_id, "--json").stdout)
    assert old["first_release"] == "data_v1.0" and old["releases"] == ["data_v1.0", "data_v1.1"]

    short = _originals(kept)
    short_id = short.loc[short["score_chars"] < NEW_MIN_CHARS, "id"].iloc[0]
    gone = json.loads(_ftdata(project, "lineage", short_id, "--rev", "data_v1.1", "--json").stdout)
    assert gone["status"] == "rejected" and gone["rejected"]["reason"] == "too_short"
    assert gone["first_release"] == "data_v1.0" and gone["releases"] == ["data_v1.0"]

    derived = records[records["parents"].map(len) > 0]
    if len(derived):  # augmentation is configured: a derived record names its parent
        child = derived.iloc[0]
        traced = json.loads(_ftdata(project, "lineage", child["id"], "--json").stdout)
        assert [p["id"] for p in traced["parents"]] == list(child["parents"])
        assert traced["raw"]["derivation"] == child["locator"].split("#", 1)[1]

    missing = _ftdata(project, "lineage", "zzzzzzzzzzzzzzzz", check=False)
    assert missing.returncode == 1 and "zzzzzzzzzzzzzzzz" in missing.stderr


def test_review_has_every_section_with_the_changes(releases):
    md = _ftdata(releases["project"], "review", "data_v1.0", "data_v1.1").stdout
    sections = [line for line in md.splitlines() if line.startswith("## ")]
    for name in (
        "## Params",
        "## Taxonomy",
        "## Guidelines",
        "## Files (`dvc diff`)",
        "## Metrics (`dvc metrics diff`)",
        "## Records",
    ):
        assert name in sections, name
    params = md.split("## Params")[1].split("## Taxonomy")[0]
    assert f"| `quality.min_chars` | {OLD_MIN_CHARS} | {NEW_MIN_CHARS} |" in params
    assert f"`source.{NEW_SOURCE}.path`" in params
    guidelines = md.split("## Guidelines")[1].split("## Files")[0]
    assert f"+{GUIDELINE_EDIT}" in guidelines
    files = md.split("## Files (`dvc diff`)")[1].split("## Metrics")[0]
    assert "`data/processed/records.parquet`" in files
    metrics = md.split("## Metrics (`dvc metrics diff`)")[1].split("## Records")[0]
    # headline figures only (data/metrics/headline/): the table fits a pull-request page
    assert "| `data/metrics/headline/summary.json` | out |" in metrics
    assert "more; run `dvc metrics diff" not in metrics
    as_json = json.loads(
        _ftdata(releases["project"], "review", "data_v1.0", "data_v1.1", "--json").stdout
    )
    quality = {
        m["metric"]: m
        for m in as_json["metrics"]
        if m["file"] == "data/metrics/headline/quality.json"
    }
    assert quality["rejected"]["head"] > quality["rejected"]["base"]
    assert as_json["records"]["counts"]["added"] > 0
    records = md.split("## Records")[1]
    assert NEW_SOURCE in records and "quality:too_short" in records
    assert "## Sample of changed records" in md


def test_diff_reads_the_remote_when_the_cache_is_gone_and_says_how_to_fetch(releases):
    project = releases["project"]
    cache, cache_aside = project / ".dvc/cache", project.parent / "cache-aside"
    remote = Path(releases["first"]["remote"]["url"])
    remote_aside = project.parent / "remote-aside"
    cache.rename(cache_aside)
    try:
        via_remote = json.loads(_ftdata(project, "diff", "data_v1.0", "data_v1.1", "--json").stdout)
        assert via_remote["by_source"][NEW_SOURCE]["added"] > 0
        shutil.rmtree(cache, ignore_errors=True)
        remote.rename(remote_aside)
        try:
            failed = _ftdata(project, "diff", "data_v1.0", "data_v1.1", check=False)
        finally:
            remote_aside.rename(remote)
        assert failed.returncode == 2
        assert "data/processed/records.parquet at data_v1.0: cannot read it" in failed.stderr
        assert "dvc fetch" in failed.stderr and "Traceback" not in failed.stderr
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        cache_aside.rename(cache)


def test_dvc_checkout_of_v1_0_restores_byte_identical_exports(releases):
    project = releases["project"]
    try:
        run(["git", "checkout", "-q", "data_v1.0"], project)
        run(["dvc", "checkout", "--force"], project)
        assert _export_hashes(project) == releases["v10_exports"]
    finally:
        run(["git", "checkout", "-q", "main"], project)
        run(["dvc", "checkout", "--force"], project)
