"""The taxonomy, the guideline and the migrations: checked trees, machine-read examples, remaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftdata.annotate.config import check_params
from ftdata.annotate.guideline import load as load_guideline
from ftdata.annotate.guideline import parse
from ftdata.annotate.migrate import Migrations, version_key
from ftdata.annotate.taxonomy import at_level, from_params, levels, load
from ftdata.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "conf/taxonomy/bank_card.yaml"
GUIDELINE = ROOT / "guidelines/bank_card.md"
SOURCE_LABELS = [
    "账户问题>账单>账单查询",
    "账户问题>还款>逾期处理",
    "账户问题>额度>额度调整",
    "账户问题>卡片>挂失补卡",
    "账户问题>卡片>冻结解冻",
    "产品问题>积分规则>兑换流程",
    "产品问题>积分规则>有效期管理",
    "产品问题>分期>分期办理",
    "产品问题>年费>年费政策",
]


@pytest.fixture(scope="module")
def tax():
    return load(TAXONOMY)


def test_project_taxonomy_is_three_levels_deep_and_keeps_every_source_label(tax):
    assert tax.depth >= 3
    assert tax.level_names == ["大类", "业务", "意图"]
    for label in SOURCE_LABELS:
        assert tax.is_label(label), label
    assert all(node.description for node in tax.nodes.values())
    assert len(set(tax.nodes)) == len(tax.nodes)


def test_inner_nodes_and_bare_leaf_names_are_not_labels_and_get_a_hint(tax):
    assert not tax.is_label("产品问题>积分规则")
    assert not tax.is_label("兑换流程")
    assert "产品问题>积分规则>兑换流程" in tax.suggest("兑换流程")


def test_levels_are_prefix_paths():
    assert levels("产品问题>积分规则>兑换流程") == [
        "产品问题",
        "产品问题>积分规则",
        "产品问题>积分规则>兑换流程",
    ]
    assert levels(None) == []
    assert at_level("a>b>c", 2) == "a>b"
    assert at_level("a", 3) == "a"


def _tree(**overrides):
    nodes = {
        "账户问题": {
            "description": "账户",
            "children": {
                "账单": {"description": "账单", "children": {"账单查询": {"description": "查账单"}}}
            },
        }
    }
    return {"name": "t", "version": "1.0", "nodes": nodes, **overrides}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda t: t["nodes"]["账户问题"].update(description=""),
            "`description` is missing or empty",
        ),
        (lambda t: t["nodes"]["账户问题"].update(children={}), "`children` is empty"),
        (lambda t: t["nodes"].update({"a>b": {"description": "x"}}), "cannot contain '>'"),
        (lambda t: t["nodes"]["账户问题"].update(colour="red"), "unknown key(s) ['colour']"),
        (lambda t: t.update(version=""), "`version` is missing"),
        (lambda t: t.update(levels=["一", "二"]), "names 2 levels but the tree is 3 deep"),
    ],
)
def test_broken_trees_fail_naming_the_node(mutate, message):
    tree = _tree()
    mutate(tree)
    with pytest.raises(ConfigError) as err:
        from_params(tree, origin="conf/taxonomy/t.yaml")
    assert message in str(err.value)
    assert "conf/taxonomy/t.yaml" in str(err.value)


def test_duplicate_yaml_keys_are_refused_when_hydra_composes(tmp_path):
    from omegaconf import OmegaConf

    path = tmp_path / "dup.yaml"
    path.write_text(
        "nodes:\n  账户问题: {description: a}\n  账户问题: {description: b}\n", encoding="utf-8"
    )
    with pytest.raises(Exception, match="duplicate"):
        OmegaConf.load(path)


def test_compose_refuses_a_label_map_value_that_is_not_a_full_leaf_path(tax):
    params = {
        "taxonomy": tax.as_params(),
        "source": {"crm": {"label_map": {"BILL": "账单查询", "ANNUAL": "产品问题>年费>年费政策"}}},
    }
    with pytest.raises(ConfigError) as err:
        check_params(params, lambda key: "conf/source/crm.yaml")
    assert (
        "conf/source/crm.yaml: `source.crm.label_map.BILL`: label '账单查询' is not in the taxonomy"
        in str(err.value)
    )
    assert "did you mean '账户问题>账单>账单查询'" in str(err.value)


# ---------------------------------------------------------------- guideline
def test_every_guideline_example_and_boundary_note_is_a_taxonomy_leaf(tax):
    guideline = load_guideline(GUIDELINE)
    assert guideline.version == tax.version == "2.0"
    assert len(guideline.examples) >= len(tax.leaves)
    for example in guideline.examples:
        assert tax.is_label(example.label), f"{GUIDELINE.name}:{example.line}: {example.label}"
        if example.not_label:
            assert tax.is_label(example.not_label), (
                f"{GUIDELINE.name}:{example.line}: {example.not_label}"
            )
    assert {e.label for e in guideline.examples if not e.is_boundary} == set(tax.leaves)


def test_the_guideline_boundary_note_on_expiring_points(tax):
    notes = {e.query: e for e in load_guideline(GUIDELINE).boundary_notes}
    assert notes["积分过期了怎么办"].label == "产品问题>积分规则>有效期管理"
    assert notes["积分过期了怎么办"].not_label.startswith("账户问题")


def test_guideline_parser_names_the_line_of_a_broken_example():
    text = '---\nversion: "1.1"\n---\n# g\n\n```jsonl\n{"query": "a", "label": "x>y"}\n{"query": "b"}\n```\n'
    with pytest.raises(ConfigError, match=r"g\.md:8: an example needs `query` and `label`"):
        parse(text, "g.md")
    ok = parse(text.replace('{"query": "b"}\n', ""), "g.md")
    assert (ok.version, [e.line for e in ok.examples]) == ("1.1", [7])


def test_guideline_without_version_is_refused():
    with pytest.raises(ConfigError, match="no `version`"):
        parse("---\ntitle: x\n---\n", "g.md")


# ---------------------------------------------------------------- migrations
def _migrations():
    return Migrations.from_params(
        {
            "migrations": [
                {"old": "产品问题>积分", "new": ["产品问题>积分规则"], "since": "2.0"},
                {
                    "old": "产品问题>积分规则>兑换",
                    "new": ["产品问题>积分规则>兑换流程"],
                    "since": "2.0",
                },
                {"old": "账户问题>还款>催收", "new": ["账户问题>还款>逾期处理"], "since": "2.0"},
                {
                    "old": "账户问题>卡片>挂失冻结",
                    "new": ["账户问题>卡片>挂失补卡", "账户问题>卡片>冻结解冻"],
                    "since": "2.0",
                },
            ],
            "changed": [{"since": "2.0", "paths": ["产品问题>积分规则"], "note": "boundary"}],
        }
    )


def test_renames_chain_through_a_renamed_parent_and_merges_map_to_one_label():
    m = _migrations()
    assert m.remap("产品问题>积分>兑换").label == "产品问题>积分规则>兑换流程"
    assert m.remap("产品问题>积分>兑换").original == "产品问题>积分>兑换"
    assert m.remap("账户问题>还款>催收").label == "账户问题>还款>逾期处理"
    unchanged = m.remap("产品问题>年费>年费政策")
    assert (unchanged.label, unchanged.original) == ("产品问题>年费>年费政策", None)


def test_a_split_is_ambiguous_and_lists_its_candidates():
    remap = _migrations().remap("账户问题>卡片>挂失冻结")
    assert remap.ambiguous and remap.label is None
    assert remap.candidates == ("账户问题>卡片>挂失补卡", "账户问题>卡片>冻结解冻")


def test_labels_in_a_changed_part_under_an_older_guideline_need_reannotation():
    m = _migrations()
    assert m.needs_reannotation("产品问题>积分规则>兑换流程", "1.0") is not None
    assert m.needs_reannotation("产品问题>积分规则>兑换流程", "2.0") is None
    assert m.needs_reannotation("产品问题>年费>年费政策", "1.0") is None
    assert version_key("1.10") > version_key("1.9")


def test_project_migrations_are_valid_and_a_target_outside_the_taxonomy_is_refused(tax):
    import yaml

    conf = yaml.safe_load((ROOT / "conf/annotate/default.yaml").read_text(encoding="utf-8"))
    Migrations.from_params(conf).check(tax, "conf/annotate/default.yaml")
    bad = Migrations.from_params(
        {"migrations": [{"old": "旧>标签", "new": ["产品问题>积分规则>兑换"], "since": "2.0"}]}
    )
    with pytest.raises(ConfigError, match="target is not in taxonomy 2.0"):
        bad.check(tax, "conf/annotate/default.yaml")
    loop = Migrations.from_params(
        {
            "migrations": [
                {"old": "a>b", "new": ["a>c"], "since": "2"},
                {"old": "a>c", "new": ["a>b"], "since": "2"},
            ]
        }
    )
    with pytest.raises(ConfigError, match="loop"):
        loop.remap("a>b")
