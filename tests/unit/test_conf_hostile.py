"""Hostile config (issue 12) and compose-time licences / override suggestions (issue 15).

Every config error is one line naming file:line:column (or the override), exit 2.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from ftdata.compose import compose_params, write_params
from ftdata.conf_guard import MAX_CONF_NODES
from ftdata.errors import ConfigError
from ftdata.params import validated_section

ROOT = Path(__file__).resolve().parents[2]
QUALITY = "conf/quality/default.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


def _append(project: Path, rel: str, text: str) -> int:
    """Append ``text`` to a conf file; return the 1-based line it starts on."""
    path = project / rel
    body = path.read_text(encoding="utf-8")
    if not body.endswith("\n"):
        body += "\n"
    path.write_text(body + text, encoding="utf-8")
    return body.count("\n") + 1


def _refusal(project: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        compose_params(project, overrides)
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


# ---------------------------------------------------------------- 1. malformed YAML
@pytest.mark.parametrize(
    ("text", "col", "what"),
    [
        ("min_len: {8\n", None, "expected ',' or '}'"),
        ("\tmin_len: 8\n", 1, "'\\t'"),
        ("min_len 8\nmax_len: 9\n", None, "could not find expected ':'"),
    ],
    ids=["unclosed_brace", "tab", "missing_colon"],
)
def test_malformed_yaml_anywhere_in_conf_is_one_line_with_file_line_column(
    project, text, col, what
):
    line = _append(project, QUALITY, text)
    msg = _refusal(project)
    m = re.match(rf"^{QUALITY}:(\d+):(\d+): ", msg)
    assert m, msg
    assert line <= int(m.group(1)) <= line + 2
    if col is not None:
        assert int(m.group(2)) == col
    assert what in msg


def test_malformed_yaml_in_a_conf_file_no_default_selects_is_still_refused(project):
    (project / "conf/quality/unused.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    assert _refusal(project).startswith("conf/quality/unused.yaml:")


def test_duplicate_keys_are_refused_with_both_lines(project):
    line = _append(project, QUALITY, "min_chars: 9\n")
    msg = _refusal(project)
    assert re.match(rf"^{QUALITY}:{line}:1: duplicate key `min_chars` \(first at line \d+\)", msg)


# ---------------------------------------------------------------- 2. python tags
@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch PWNED"]',
        "!!python/name:os.system",
        '!!python/object/apply:pathlib.Path ["/etc/passwd"]',  # OmegaConf's loader builds Paths
    ],
)
def test_python_tags_are_refused_naming_file_and_line_and_nothing_is_constructed(
    project, tag, monkeypatch
):
    monkeypatch.chdir(project)
    line = _append(project, QUALITY, f"evil: {tag}\n")
    msg = _refusal(project)
    assert re.match(rf"^{QUALITY}:{line}:\d+: `evil` has the YAML tag !!python/", msg), msg
    assert "construct a Python object" in msg
    assert not (project / "PWNED").exists()


# ---------------------------------------------------------------- 3. alias bomb
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_a_yaml_alias_bomb_is_refused_within_a_second(project):
    (project / "conf/quality/bomb.yaml").write_text(BOMB, encoding="utf-8")
    start = time.perf_counter()
    msg = _refusal(project)
    assert time.perf_counter() - start < 1.0
    assert msg.startswith("conf/quality/bomb.yaml:")
    assert "alias bomb" in msg and f"{MAX_CONF_NODES:,}" in msg


def test_a_recursive_alias_is_refused(project):
    (project / "conf/quality/loop.yaml").write_text("a: &a [1, *a]\n", encoding="utf-8")
    assert "recursive YAML alias" in _refusal(project)


# ---------------------------------------------------------------- 4./5. resolvers
def test_an_unknown_resolver_names_the_file_and_key(project):
    line = _append(project, QUALITY, 'x: "${python:os.getcwd}"\n')
    msg = _refusal(project)
    assert re.match(rf"^{QUALITY}:{line}:\d+: `x` uses the unknown resolver \$\{{python:", msg)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("${oc.env:OPENAI_API_KEY}", "api_key_env"),
        ("${oc.env:HOME,/tmp}", "api_key_env"),
        ("prefix ${now:%Y-%m-%d}", "compose --check` would never pass"),
        ("${hydra:runtime.cwd}", "Hydra runs"),
        ("${oc.decode:'${oc.env:K}'}", "api_key_env"),
        ("${oc.create:'{a: 1}'}", "may not call"),
    ],
)
def test_machine_or_clock_dependent_interpolations_are_refused_in_conf(
    project, value, says, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "a-value-with-no-known-key-shape")
    _append(project, "conf/export/default.yaml", yaml.safe_dump({"note": value}, width=200))
    msg = _refusal(project)
    assert msg.startswith("conf/export/default.yaml:") and "`note`" in msg and says in msg
    assert "a-value-with-no-known-key-shape" not in msg


def test_relative_interpolations_between_conf_keys_keep_working(project):
    path = project / "conf/split/default.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("seed: 42", "seed: ${project.seed}"),
        encoding="utf-8",
    )
    assert compose_params(project)["split"]["seed"] == 42


def test_an_escaped_interpolation_cannot_smuggle_a_resolver_into_params(project):
    _append(project, QUALITY, 'note: "\\\\${now:%s}"\n')
    msg = _refusal(project)
    assert "`quality.note`" in msg and "now" in msg


# ---------------------------------------------------------------- 6. label_map values
def test_a_label_map_value_that_is_a_list_names_the_source_file_and_key(project):
    path = project / "conf/source/crowd_qa.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"(?m)^  bill_query: .*$", "  bill_query: [账户问题, 账单]", text), encoding="utf-8"
    )
    msg = _refusal(project)
    assert re.match(
        r"^conf/source/crowd_qa.yaml:\d+:\d+: `source.crowd_qa.label_map.bill_query`", msg
    ), msg
    assert "is a list" in msg


# ---------------------------------------------------------------- 7. overrides and stage start
@pytest.mark.parametrize(
    "override", ["quality.min_chars=${now:%s}", "export.system_prompt='${oc.env:HOME}'"]
)
def test_overrides_obey_the_same_interpolation_rules(project, override):
    msg = _refusal(project, [override])
    assert msg.startswith(f"override {override!r}: `")


def test_a_stage_refuses_a_resolver_left_in_params_yaml_with_its_line(project):
    write_params(project)
    path = project / "params.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  min_chars: 8", "  min_chars: ${now:%s}"), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"^params.yaml:\d+:\d+: `quality.min_chars` uses \$\{now"
    ):
        validated_section(project, "quality")


def test_a_stage_rechecks_conf_because_dvc_exp_run_composes_it_itself(project):
    write_params(project)  # a clean params.yaml, as DVC would write it with the value resolved
    _append(project, "conf/export/default.yaml", 'note: "${oc.env:HOME}"\n')
    with pytest.raises(ConfigError, match=r"^conf/export/default.yaml:\d+:\d+: `note` uses"):
        validated_section(project, "quality")


def test_a_stage_refuses_malformed_params_yaml_with_line_and_column(project):
    write_params(project)
    with open(project / "params.yaml", "a", encoding="utf-8") as fh:
        fh.write("broken: {\n")
    with pytest.raises(ConfigError, match=r"^params.yaml:\d+:\d+: "):
        validated_section(project, "quality")


# ---------------------------------------------------------------- 8. licences at compose
def test_compose_refuses_a_source_whose_licence_the_export_does_not_accept(project):
    path = project / "conf/source/crowd_qa.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("license: vendor-agreement-2024-017", "license: internal"))
    msg = _refusal(project)
    assert re.match(
        r"^conf/source/crowd_qa.yaml:\d+:\d+: `source.crowd_qa.license` is 'internal'", msg
    ), msg
    assert "add it to that list in conf/export/default.yaml" in msg


def test_the_licence_error_names_conf_config_yaml_when_it_overrides_the_list(project):
    _append(project, "conf/config.yaml", "export:\n  accepted_licenses: [CC0-1.0]\n")
    assert "add it to that list in conf/config.yaml" in _refusal(project)


def _readme_source_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding a raw source", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines())


def test_the_readme_adding_a_raw_source_example_composes_as_written(project):
    conf = yaml.safe_load(_readme_source_example())
    (project / "conf/source/complaints.yaml").write_text(_readme_source_example(), encoding="utf-8")
    raw = project / conf["path"]
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("{}\n", encoding="utf-8")
    config = project / "conf/config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "defaults:\n", "defaults:\n  - source@source.complaints: complaints\n"
        ),
        encoding="utf-8",
    )
    params = compose_params(project)
    assert params["source"]["complaints"]["license"] in params["export"]["accepted_licenses"]


def test_an_init_project_readme_names_the_file_that_really_sets_accepted_licenses(tmp_path):
    from ftdata.init import init_project

    dest = tmp_path / "new-bot"
    init_project(dest)
    readme = (dest / "README.md").read_text(encoding="utf-8")
    named = re.search(r"`export.accepted_licenses` in `([^`]+)`", readme).group(1)
    assert "{{" not in named
    path = dest / named
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data["export"] if named == "conf/config.yaml" else data
    section["accepted_licenses"].append("MIT-edited-here")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert "MIT-edited-here" in compose_params(dest)["export"]["accepted_licenses"]


# ---------------------------------------------------------------- 9. did-you-mean for overrides
def test_a_misspelt_override_gets_a_did_you_mean_not_hydras_append_hint(project):
    msg = _refusal(project, ["quality.min_charz=12"])
    assert msg.startswith("override 'quality.min_charz=12': unknown key `quality.min_charz`")
    assert "did you mean 'min_chars'?" in msg and "+quality" not in msg


def test_a_misspelt_source_override_suggests_the_source_field(project):
    msg = _refusal(project, ["source.crowd_qa.licence=MIT"])
    assert "did you mean 'license'?" in msg
