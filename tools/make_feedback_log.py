"""Generate the example production feedback log data/raw/feedback/assistant_2024-09.jsonl.

``python tools/make_feedback_log.py`` writes the same bytes every run (no random state, no
clock). Each line is one flagged answer of the deployed assistant ("bank-card-sft-v1.0"), as
the serving platform's feedback export writes it:

- ``flag``: ``thumbs_down`` (the customer disliked the answer), ``escalation`` (the customer
  asked for a human; ``reply`` is the human agent's answer) or ``agent_correction`` (an agent
  rewrote the answer in the back office; ``corrected_intent`` is the agent's intent);
- ``query`` / ``model_reply``: what the customer asked and what the model said;
- ``reply``: the best answer known (the agent's, else the model's, for a reviewer to judge);
- ``adjudicated_label``: set only on the lines the QA team already adjudicated in an earlier
  review round; everything else must go through the annotation review queue first.

One line is truncated (the exporter was killed mid-write) and one query carries a phone
number: the pipeline must reject the first and redact the second, as for any raw source.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "bank-card-sft-v1.0"
START = datetime(2024, 9, 2, 9, 0, 0)
CHANNELS = ("app", "wechat", "web")

# flag, query, model reply, model's intent, agent's intent (or None), agent's reply (or None),
# customer comment, adjudicated by QA
ENTRIES = [
    (
        "thumbs_down",
        "我的积分下个月就要过期了，能不能申请延期？",
        "您可以在APP积分商城兑换礼品，兑换后积分即扣减。",
        "产品问题>积分规则>兑换流程",
        None,
        None,
        "没回答能不能延期",
        False,
    ),
    (
        "agent_correction",
        "积分过期之后还能找回来吗",
        "积分可在积分商城兑换商品或航空里程。",
        "产品问题>积分规则>兑换流程",
        "产品问题>积分规则>有效期管理",
        "积分到期清零后无法恢复。积分有效期为自获得之日起三年，到期前30天会短信提醒，建议您尽快在积分商城兑换。",
        "",
        True,
    ),
    (
        "escalation",
        "卡找不到了，是不是先冻结一下比较好？",
        "您可以在APP申请临时冻结，冻结后可随时解冻。",
        "账户问题>卡片>冻结解冻",
        None,
        "如果卡片遗失，请立即办理挂失而不是冻结：APP-信用卡-卡片管理-挂失，挂失后可申请补卡，新卡约7个工作日寄到。",
        "转人工",
        False,
    ),
    (
        "agent_correction",
        "信用卡丢了怎么处理，补一张新卡要多久",
        "您的卡片已被冻结，可在APP自助解冻。",
        "账户问题>卡片>冻结解冻",
        "账户问题>卡片>挂失补卡",
        "请先拨打400-880-9999或在APP办理挂失，挂失后申请补卡，新卡7个工作日内寄出，补卡费用请以章程为准。",
        "",
        True,
    ),
    (
        "thumbs_down",
        "这个月账单能不能分成12期还？手续费多少",
        "您本期账单金额为APP首页显示金额，最低还款额为账单金额的10%。",
        "账户问题>账单>账单查询",
        None,
        None,
        "问的是分期",
        False,
    ),
    (
        "agent_correction",
        "账单太多了想分期，怎么操作",
        "您的本期账单可在APP-账单查询中查看明细。",
        "账户问题>账单>账单查询",
        "产品问题>分期>分期办理",
        "账单出账后到还款日前，可在APP-信用卡-账单分期选择3/6/12/24期，手续费按期收取，提交前页面会显示每期金额。",
        "",
        True,
    ),
    (
        "escalation",
        "我昨天忘记还款了，今天还算逾期吗？会影响征信吗",
        "您可以通过自动还款、转账还款等方式还款。",
        "账户问题>还款>还款方式",
        None,
        "到期还款日后有3天宽限期，宽限期内全额还款不算逾期、不上报征信；超过宽限期会产生滞纳金并可能影响征信记录。",
        "人工",
        False,
    ),
    (
        "thumbs_down",
        "已经逾期两个月了，催收电话一直打，能协商分期还吗",
        "您可以在APP设置自动还款，避免逾期。",
        "账户问题>还款>还款方式",
        None,
        None,
        "答非所问",
        False,
    ),
    (
        "agent_correction",
        "逾期了罚息怎么算的",
        "您可以在APP查看本期账单和最低还款额。",
        "账户问题>账单>账单查询",
        "账户问题>还款>逾期处理",
        "逾期后按日计收利息并收取滞纳金，具体费率以《星海银行信用卡章程》第十二条为准，请尽快全额还款，如有困难可申请协商还款。",
        "",
        True,
    ),
    (
        "thumbs_down",
        "临时额度到期了能续吗",
        "您的固定额度可在APP申请提升，审批结果将短信通知。",
        "账户问题>额度>额度调整",
        None,
        None,
        "临时额度和固定额度不一样",
        False,
    ),
    (
        "escalation",
        "为什么我申请提额被拒了，多久可以再申请",
        "提额申请已提交，请耐心等待。",
        "账户问题>额度>额度调整",
        None,
        "提额会综合用卡情况和还款记录评估，被拒后建议正常用卡并按时还款，3个月后可再次申请。",
        "转人工服务",
        False,
    ),
    (
        "thumbs_down",
        "年费怎么又扣了，不是说刷卡满6次免年费吗",
        "您的本期账单已出，可在APP查看账单明细。",
        "账户问题>账单>账单查询",
        None,
        None,
        "没解释年费",
        False,
    ),
    (
        "agent_correction",
        "金卡年费能减免吗",
        "积分可以兑换年费。",
        "产品问题>积分规则>兑换流程",
        "产品问题>年费>年费政策",
        "金卡首年免年费，次年起当年刷卡满6次可免次年年费；也可以用积分抵扣年费，详见《星海银行信用卡章程》第九条。",
        "",
        True,
    ),
    (
        "thumbs_down",
        "我手机号换了13800138000，账单短信收不到了怎么办",
        "您可以在APP查看电子账单。",
        "账户问题>账单>账单查询",
        None,
        None,
        "我要改手机号",
        False,
    ),
    (
        "escalation",
        "卡被冻结了，显示风险管控，怎么解冻",
        "请您办理挂失补卡。",
        "账户问题>卡片>挂失补卡",
        None,
        "风险管控冻结需要核实身份后解冻，请携带身份证到网点或通过APP视频核身，核实后一般1个工作日内解冻。",
        "不是丢卡",
        False,
    ),
    (
        "thumbs_down",
        "积分兑换的商品什么时候发货？",
        "积分有效期为三年，到期自动清零。",
        "产品问题>积分规则>有效期管理",
        None,
        None,
        "问发货",
        False,
    ),
    (
        "agent_correction",
        "兑换的礼品一直没收到，订单在哪里查",
        "积分将在到期前30天短信提醒。",
        "产品问题>积分规则>有效期管理",
        "产品问题>积分规则>兑换流程",
        "兑换订单可在APP-积分商城-我的订单查看物流，实物礼品一般下单后7个工作日内发出。",
        "",
        False,
    ),
    (
        "escalation",
        "分期提前还款有违约金吗",
        "您可以在APP-账单分期中申请分期。",
        "产品问题>分期>分期办理",
        None,
        "分期可申请提前还款，已收取的手续费不退，剩余期数手续费一次性收取，部分分期产品另收提前还款违约金，以办理页面为准。",
        "要人工",
        False,
    ),
    (
        "thumbs_down",
        "How do I dispute a charge I did not make on my statement?",
        "You can view your statement in the mobile app.",
        "账户问题>账单>账单查询",
        None,
        None,
        "not helpful",
        False,
    ),
    (
        "agent_correction",
        "My card was stolen last night, what should I do first?",
        "You can freeze your card temporarily in the app.",
        "账户问题>卡片>冻结解冻",
        "账户问题>卡片>挂失补卡",
        "Report the card lost or stolen right away in the app (Card Services > Report Lost) or call 400-880-9999; then request a replacement card, which arrives within 7 working days.",
        "",
        False,
    ),
    (
        "thumbs_down",
        "Can I convert this month's bill into instalments?",
        "Your minimum payment is 10% of the statement balance.",
        "账户问题>账单>账单查询",
        None,
        None,
        "",
        False,
    ),
    (
        "escalation",
        "征信报告上显示逾期，是你们报错了吗",
        "您可以查询本期账单明细。",
        "账户问题>账单>账单查询",
        None,
        "如对征信记录有异议，可提交异议申请，我们会在20个工作日内核实并反馈；确认有误的会向征信中心申请更正。",
        "转人工",
        False,
    ),
    (
        "thumbs_down",
        "积分能转给家人用吗",
        "积分可以在积分商城兑换礼品。",
        "产品问题>积分规则>兑换流程",
        None,
        None,
        "问能不能转",
        False,
    ),
    (
        "agent_correction",
        "现金分期和账单分期有什么区别",
        "您的账单可在APP查询。",
        "账户问题>账单>账单查询",
        "产品问题>分期>分期办理",
        "账单分期是把已出账单分期偿还；现金分期是把额度内的资金转到借记卡，按期还本金和手续费。两者手续费率不同，以办理页面为准。",
        "",
        True,
    ),
]
TRUNCATED_AFTER = 11  # the exporter was killed while writing the line after this one


def line_for(i: int, entry: tuple) -> dict:
    flag, query, model_reply, predicted, corrected, agent_reply, comment, adjudicated = entry
    ts = START + timedelta(hours=7 * i, minutes=13 * i)
    return {
        "log_id": f"fb-{ts:%Y%m%d}-{i + 1:04d}",
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "session_id": f"prod-{20240902 + i:08d}-{(i * 7919) % 10000:04d}",
        "channel": CHANNELS[i % len(CHANNELS)],
        "model_version": MODEL,
        "flag": flag,
        "comment": comment or None,
        "query": query,
        "model_reply": model_reply,
        "predicted_intent": predicted,
        "corrected_intent": corrected,
        "agent_id": f"A{1000 + (i * 37) % 90}" if agent_reply else None,
        "reply": agent_reply or model_reply,
        "adjudicated_label": corrected if adjudicated else None,
    }


def make_lines() -> list[str]:
    lines = []
    for i, entry in enumerate(ENTRIES):
        text = json.dumps(line_for(i, entry), ensure_ascii=False)
        if i == TRUNCATED_AFTER + 1:
            text = text[: len(text) // 2]
        lines.append(text)
    return lines


def main(out: Path) -> int:
    lines = make_lines()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "data/raw/feedback/assistant_2024-09.jsonl"
    )
    args = parser.parse_args()
    print(f"wrote {main(args.out)} lines to {args.out}")
