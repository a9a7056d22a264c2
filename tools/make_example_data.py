"""Generate the committed example raw data of a bank credit-card customer-service assistant.

``python tools/make_example_data.py`` rewrites every file below byte-identically on every run
(seeded ``random.Random`` per source, no wall clock, no set/dict-order dependence):

- data/raw/chat_logs/sessions.jsonl   one customer-service session per line (source ``chat_logs``)
- data/raw/legacy/tickets_2019.csv    GBK-encoded ticket export (source ``legacy_tickets``)
- data/raw/crawl/faq_*.html           crawled FAQ pages (source ``bank_faq_html``)
- data/raw/crawl/manual_*.md          user-manual pages (source ``bank_manual_md``)
- data/raw/crowd/qa_pairs.csv         crowd-sourced Q/A pairs (source ``crowd_qa``)
- tests/data/raw_pii_values.txt       every planted PII value, exactly as it appears in the raw data

The data is synthetic but deliberately dirty (see data/raw/README.md): the pipeline's cleaning,
PII, dedup and quality ops need real defects to act on, and the tests need to know exactly which
PII values were planted. The bank ("星海银行"), its hotline and all people are fictional.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANK = "星海银行"
BANK_EN = "Xinghai Bank"
HOTLINE = "400-880-9999"

# One seed per source, so editing one source's generator never reshuffles the others.
SEEDS = {"chat_logs": 20240503, "legacy": 20190315, "crawl": 20240318, "crowd": 20240412}

# ---------------------------------------------------------------------------------------------
# Taxonomy and per-source raw labels. The raw label spellings differ per source on purpose
# (real systems never agree); conf/source/*.yaml maps each spelling to the taxonomy path.
# ---------------------------------------------------------------------------------------------
TAXONOMY = {
    "bill": "账户问题>账单>账单查询",
    "overdue": "账户问题>还款>逾期处理",
    "limit": "账户问题>额度>额度调整",
    "loss": "账户问题>卡片>挂失补卡",
    "freeze": "账户问题>卡片>冻结解冻",
    "redeem": "产品问题>积分规则>兑换流程",
    "expiry": "产品问题>积分规则>有效期管理",
    "install": "产品问题>分期>分期办理",
    "fee": "产品问题>年费>年费政策",
}
SCENARIO_KEYS = list(TAXONOMY)
# Realistic skew: bill and points questions dominate; freezes and annual fees are rare.
SCENARIO_WEIGHTS = {
    "bill": 26,
    "redeem": 20,
    "install": 12,
    "overdue": 10,
    "limit": 10,
    "loss": 8,
    "expiry": 7,
    "freeze": 4,
    "fee": 3,
}
CHAT_TAGS = {
    "bill": "BILL_QUERY",
    "overdue": "OVERDUE",
    "limit": "LIMIT_ADJUST",
    "loss": "CARD_LOSS",
    "freeze": "CARD_FREEZE",
    "redeem": "POINTS_REDEEM",
    "expiry": "POINTS_EXPIRY",
    "install": "INSTALLMENT",
    "fee": "ANNUAL_FEE",
}
LEGACY_TAGS = {  # the 2019 system had two spellings for several types
    "bill": ["账单查询", "账单"],
    "overdue": ["逾期处理", "逾期催收"],
    "limit": ["额度调整", "调额"],
    "loss": ["挂失补卡", "挂失"],
    "freeze": ["冻结解冻"],
    "redeem": ["积分兑换", "积分"],
    "expiry": ["积分有效期"],
    "install": ["分期业务", "账单分期"],
    "fee": ["年费"],
}
CROWD_TAGS = {
    "bill": "bill_query",
    "overdue": "overdue",
    "limit": "limit_adjust",
    "loss": "card_loss",
    "freeze": "card_freeze",
    "redeem": "points_redeem",
    "expiry": "points_expiry",
    "install": "installment",
    "fee": "annual_fee",
}
SECTION_ZH = {
    "bill": "账单查询",
    "overdue": "还款与逾期",
    "limit": "额度调整",
    "loss": "挂失补卡",
    "freeze": "冻结与解冻",
    "redeem": "积分兑换",
    "expiry": "积分有效期",
    "install": "分期业务",
    "fee": "年费政策",
}
SECTION_EN = {
    "bill": "Billing Statements",
    "overdue": "Late Payments",
    "limit": "Credit Limit",
    "loss": "Lost or Stolen Cards",
    "freeze": "Freezing Your Card",
    "redeem": "Redeeming Points",
    "expiry": "Points Expiry",
    "install": "Instalment Plans",
    "fee": "Annual Fees",
}

# ---------------------------------------------------------------------------------------------
# Knowledge base: colloquial questions, agent answers (steps + clauses), follow-ups.
# Templates use str.format slots filled by ``make_slots``.
# ---------------------------------------------------------------------------------------------
KB: dict[str, dict[str, list]] = {
    "bill": {
        "zh_q": [
            "我这个月的账单是多少",
            "怎么查信用卡账单？",
            "账单出来了吗",
            "这期账单金额怎么比上个月多了这么多",
            "我想查一下{month}月份的账单明细",
            "账单日是哪天啊",
            "最后还款日是几号？",
            "账单上有一笔{amount}元的消费我不认识",
            "为什么我的账单里有一笔{merchant}的扣款",
            "电子账单收不到怎么办",
            "能把纸质账单改成电子账单吗",
            "本期最低还款额是多少",
            "已出账单和未出账单有什么区别？",
            "我已经还款了为什么账单还显示未还清",
            "交易流水号{txn_id}这笔是什么消费",
        ],
        "zh_a": [
            "您好，您可以通过手机银行APP-信用卡-账单查询，查看已出账单和未出账单明细；也可以关注{bank}信用卡微信公众号，点击“我的账户-账单查询”。本期账单金额、最低还款额和到期还款日均在账单首页显示。",
            "您好，经查询，您尾号{last4}的信用卡本期账单金额为{amount}元，最低还款额为{min_pay}元，到期还款日为{due_date}。您可以通过手机银行APP-信用卡-还款进行还款。",
            "您好，您的账单日是每月{bill_day}日，到期还款日为账单日后第{grace}天。根据《{bank}信用卡领用合约》第{clause}条，账单日当天及之前入账的交易计入本期账单，之后的交易计入下期账单。",
            "如您对账单中的交易有疑问，可在交易记账日起60天内通过手机银行APP-信用卡-账单-交易明细-争议交易提交申请，我们会在7个工作日内联系您。根据《{bank}信用卡章程》第{clause}条，争议处理期间该笔款项暂不计息。",
            "电子账单会在账单日后1个工作日内发送至您预留的邮箱。如未收到，请检查垃圾邮件箱，或通过手机银行APP-信用卡-账单设置-账单寄送方式核实并修改邮箱地址。",
            "已出账单是截至账单日的交易汇总，需在到期还款日前还款；未出账单是账单日后新发生的交易，会计入下一期账单。您可以在手机银行APP首页-信用卡-未出账单中查看。",
            "经查询，该笔交易为{date}在{merchant}的消费，金额{amount}元，交易流水号{txn_id}。如非本人交易，请立即通过手机银行APP-信用卡-卡片管理-临时锁卡，并拨打客服热线{hotline}申请调单。",
            "还款入账一般需要1-3个工作日，入账后账单状态会自动更新。您也可以在手机银行APP-信用卡-还款记录中查看还款是否成功。",
        ],
        "zh_f": [
            (
                "那我可以只还最低还款额吗",
                "可以的。还款不低于最低还款额即可保持良好的信用记录，但根据《{bank}信用卡领用合约》第{clause}条，未全额还款的部分将从记账日起按日利率万分之五计收利息，不再享受免息还款期。",
            ),
            (
                "账单日能改吗",
                "账单日每年可申请修改一次，您可以通过手机银行APP-信用卡-更多服务-修改账单日办理，修改后于下一个账单周期生效。",
            ),
            (
                "明细能导出吗",
                "可以。您可以在手机银行APP-信用卡-账单查询中选择“账单下载”，可导出近12个月的PDF账单。",
            ),
        ],
        "en_q": [
            "How can I check my credit card statement?",
            "When is my payment due date?",
            "What's my statement balance this month?",
            "There is a charge of CNY {amount} on my statement that I don't recognise.",
            "I didn't receive my e-statement this month.",
        ],
        "en_a": [
            "You can view your statement in the mobile banking app under Credit Card > Statements. Both billed and unbilled transactions are listed there, together with the minimum payment and the payment due date.",
            "Your statement date is the {en_day} of each month and payment is due {grace} days later. Under Clause {clause} of the Cardholder Agreement, transactions posted after the statement date roll into the next statement.",
            "If you don't recognise a transaction, please raise a dispute within 60 days of posting via the app: Credit Card > Transactions > Dispute. We will contact you within 7 working days, and no interest is charged on the disputed amount meanwhile.",
            "E-statements are emailed one working day after the statement date. Please check your spam folder, or confirm your email address under Credit Card > Statement Settings in the app.",
        ],
        "en_f": [
            (
                "Can I pay only the minimum?",
                "Yes. Paying at least the minimum keeps your account in good standing, but interest of 0.05% per day applies to the unpaid balance from the posting date (Clause {clause} of the Cardholder Agreement).",
            ),
        ],
    },
    "redeem": {
        "zh_q": [
            "积分怎么兑换礼品",
            "我有{points}积分能换什么？",
            "积分可以兑换航空里程吗",
            "积分能抵扣年费吗",
            "在哪里用积分换东西",
            "积分兑换的商品多久能到",
            "积分兑换了话费怎么还没到账",
            "积分商城的东西可以退吗",
            "我兑换的订单号{order_no}一直没发货",
            "积分能不能换星巴克的券",
            "积分兑换需要手续费吗？",
            "积分商城怎么进",
        ],
        "zh_a": [
            "您好，您可以通过手机银行APP-信用卡-积分商城，选择心仪的商品后点击“立即兑换”，确认收货地址并输入交易密码即可完成兑换。根据《{bank}信用卡积分奖励计划细则》第{clause}条，积分兑换成功后不可撤销。",
            "经查询，您当前可用积分为{points}分。积分可用于兑换实物礼品、航空里程、话费充值及商户电子券，具体兑换比例以积分商城页面展示为准。",
            "积分兑换航空里程的步骤：1. 登录手机银行APP-信用卡-积分商城-里程兑换；2. 绑定航空公司会员号；3. 选择兑换数量并确认。兑换比例为{ratio}积分兑换1里程，里程约5个工作日到账。",
            "您好，实物礼品一般在兑换成功后7-15个工作日内寄出，您可以在积分商城-我的订单中查看物流信息。您的订单{order_no}目前显示“备货中”，我已为您催办，请耐心等待。",
            "积分兑换的电子券、话费等虚拟商品一经兑换不支持退换；实物礼品如有质量问题，可在签收后7天内通过积分商城-我的订单-申请售后办理。",
            "积分兑换不收取任何手续费。话费充值类商品一般在兑换后2小时内到账，如超过24小时未到账，请提供兑换订单号{order_no}，我们将为您核查。",
            "可以，白金卡可通过手机银行APP-信用卡-积分商城-积分抵年费，按10万积分抵扣当年年费；普卡、金卡暂不支持积分抵扣年费。",
        ],
        "zh_f": [
            (
                "积分不够可以积分加现金吗",
                "部分商品支持“积分+现金”兑换，您可以在商品详情页选择对应兑换方式，现金部分将计入您的信用卡账单。",
            ),
            (
                "兑换的东西能寄到公司吗",
                "可以，您在确认兑换时可以修改收货地址，支持寄送至中国大陆地区任意有效地址。",
            ),
            (
                "怎么查积分明细",
                "您可以通过手机银行APP-信用卡-我的积分-积分明细查看近12个月的积分获取与使用记录。",
            ),
        ],
        "en_q": [
            "How do I redeem my reward points?",
            "Can I convert points to air miles?",
            "I have {points} points, what can I get with them?",
            "My points redemption order {order_no} hasn't shipped yet.",
        ],
        "en_a": [
            "You can redeem points in the mobile banking app under Credit Card > Rewards Mall: choose an item, tap Redeem, confirm the delivery address and enter your transaction PIN. Under Clause {clause} of the Rewards Programme Terms, completed redemptions cannot be cancelled.",
            "Yes. Go to Rewards Mall > Air Miles, link your frequent-flyer number and choose the amount. The rate is {ratio} points per mile and miles arrive within about 5 working days.",
            "Physical gifts are usually shipped within 7-15 working days. Your order {order_no} is currently being prepared; I have escalated it for you.",
        ],
        "en_f": [
            (
                "Is there a fee for redeeming?",
                "No, redemptions are free of charge. Some items also accept points plus cash; the cash part is billed to your card.",
            ),
        ],
    },
    "expiry": {
        "zh_q": [
            "我的积分什么时候过期",
            "积分有效期是多久？",
            "积分快过期了怎么办",
            "为什么我的积分少了{points}分",
            "销户后积分还能用吗",
            "白金卡积分是永久有效吗",
            "积分过期了还能找回吗",
            "积分到期会有提醒吗",
        ],
        "zh_a": [
            "您好，根据《{bank}信用卡积分奖励计划细则》第{clause}条，普卡及金卡积分有效期为积分产生当年起的3个自然年，到期后自动清零；白金卡及以上卡种积分永久有效。",
            "经查询，您有{points}分积分将于{expire_date}到期，建议您在到期前通过手机银行APP-信用卡-积分商城进行兑换。",
            "积分到期清零后无法恢复。我们会在积分到期前30天通过短信提醒，您也可以在手机银行APP-信用卡-我的积分中查看“即将到期积分”。",
            "信用卡销户后，账户内未使用的积分将同时清零。如您计划销户，建议先将积分兑换完毕。",
            "经查询，您减少的{points}分为{date}到期清零的积分。根据《{bank}信用卡积分奖励计划细则》第{clause}条，每年12月31日清零满3个自然年的积分。",
        ],
        "zh_f": [
            (
                "可以延期吗",
                "抱歉，积分有效期暂不支持延期。您可以考虑兑换积分商城中的电子券或话费，兑换后即时到账。",
            ),
            (
                "附属卡的积分是一起算吗",
                "是的，附属卡消费产生的积分计入主卡账户，有效期规则与主卡一致。",
            ),
        ],
        "en_q": [
            "When do my reward points expire?",
            "Why did {points} points disappear from my account?",
            "Do points on a Platinum card ever expire?",
        ],
        "en_a": [
            "Under Clause {clause} of the Rewards Programme Terms, points on Classic and Gold cards are valid for 3 calendar years from the year they are earned; Platinum points never expire.",
            "{points} points in your account are due to expire on {expire_date}. We recommend redeeming them in the Rewards Mall before then.",
            "Expired points cannot be restored. We send an SMS reminder 30 days before points expire, and the app shows them under My Points > Expiring Soon.",
        ],
        "en_f": [
            (
                "Can the expiry be extended?",
                "Sorry, the validity period cannot be extended. E-vouchers and mobile top-ups are credited instantly if you want to use the points quickly.",
            ),
        ],
    },
    "overdue": {
        "zh_q": [
            "我信用卡逾期了怎么办",
            "忘记还款了会影响征信吗",
            "逾期{overdue_days}天了，会上征信吗",
            "逾期了能协商还款吗",
            "逾期利息怎么算？",
            "违约金是多少",
            "还款日晚了一天还算逾期吗",
            "我已经还清了逾期的钱，征信多久能恢复",
            "收到催收电话说我欠款{amount}元，是真的吗",
            "现在经济困难还不上了能分期还吗",
        ],
        "zh_a": [
            "您好，逾期后请尽快通过手机银行APP-信用卡-还款还清最低还款额。根据《{bank}信用卡领用合约》第{clause}条，逾期未还最低还款额的，将按最低还款额未还部分的5%收取违约金，并按日利率万分之五计收利息。",
            "我行提供3天的还款宽限期，在到期还款日后3天内（含）还款的，视同按时还款，不影响个人征信记录。超出宽限期仍未还款的，将按规定报送中国人民银行征信系统。",
            "经查询，您的账户当前逾期{overdue_days}天，逾期金额{amount}元。建议您尽快还款；如确有困难，可通过手机银行APP-信用卡-还款-个性化分期申请协商还款，我行将根据您的实际情况进行审核。",
            "不良信用记录自您还清欠款之日起保留5年，5年后自动删除。还清后您可以通过中国人民银行征信中心官网查询个人信用报告。",
            "我行的催收电话均为官方号码，不会要求您向个人账户转账。您可以通过手机银行APP-信用卡-账单查询核实欠款金额，如有疑问请拨打信用卡背面的客服热线{hotline}核实。",
        ],
        "zh_f": [
            (
                "违约金能减免吗",
                "如为首次逾期且已全额还款，您可以申请违约金减免，我行会在3个工作日内审核，结果将短信通知您。",
            ),
            (
                "个性化分期要什么材料",
                "需提供收入证明、困难情况说明等材料，具体以审核人员电话通知为准。根据《商业银行信用卡业务监督管理办法》第七十条，符合条件的持卡人可与银行协商达成个性化分期还款协议。",
            ),
        ],
        "en_q": [
            "I missed my credit card payment, what should I do?",
            "Will a late payment affect my credit report?",
            "How is the late payment fee calculated?",
        ],
        "en_a": [
            "Please pay at least the minimum as soon as possible via Credit Card > Repay in the app. Under Clause {clause} of the Cardholder Agreement, a late fee of 5% of the unpaid minimum applies, plus daily interest of 0.05%.",
            "We offer a 3-day grace period: payments made within 3 days after the due date are treated as on time and are not reported. Beyond that, the overdue status is reported to the PBOC credit reference system.",
            "Your account is currently {overdue_days} days overdue with CNY {amount} outstanding. If you are in financial difficulty you can apply for a personalised repayment plan under Credit Card > Repay > Repayment Plan.",
        ],
        "en_f": [
            (
                "Can the late fee be waived?",
                "If this is your first late payment and the balance is now fully repaid, you can request a waiver. We review requests within 3 working days.",
            ),
        ],
    },
    "limit": {
        "zh_q": [
            "怎么提高信用卡额度",
            "我想提额",
            "临时额度怎么申请？",
            "我的额度才{limit}元太低了",
            "为什么我的额度被降了",
            "固定额度多久能提一次",
            "临时额度到期后怎么还",
            "额度可以调低吗",
            "申请提额被拒了是什么原因",
            "出国旅游能临时提额吗",
        ],
        "zh_a": [
            "您好，您可以通过手机银行APP-信用卡-额度管理-申请提额提交申请，系统将根据您的用卡情况、还款记录等综合评估。根据《{bank}信用卡领用合约》第{clause}条，我行有权根据持卡人资信状况调整信用额度。",
            "经评估，您的信用卡当前可申请临时额度至{new_limit}元，有效期{temp_days}天。临时额度到期后，超出固定额度的部分将计入当期账单，需一次性还清，不可分期。",
            "固定额度调整需持卡满6个月，且距上次调额满6个月。建议您保持良好的用卡与还款习惯，系统会定期评估。",
            "额度调整受多方面因素影响，包括用卡频率、还款记录、个人征信情况等，具体原因不便透露，敬请谅解。建议您3个月后再次尝试申请。",
            "可以的，您可以通过手机银行APP-信用卡-额度管理-调整额度将固定额度调低，调低后如需调高需重新申请审核。",
            "您当前的固定额度为{limit}元。出境前可通过手机银行APP-信用卡-额度管理-临时额度申请，最长有效期{temp_days}天，审批通过后即时生效。",
        ],
        "zh_f": [
            ("临时额度会影响征信吗", "临时额度不会影响您的征信记录，请放心使用。"),
            (
                "多久有结果",
                "临时额度申请一般实时审批；固定额度申请会在1-3个工作日内以短信通知结果。",
            ),
        ],
        "en_q": [
            "How can I increase my credit limit?",
            "Can I get a temporary limit increase for travel?",
            "Why was my credit limit reduced?",
        ],
        "en_a": [
            "You can apply under Credit Card > Credit Limit > Request Increase in the app. Under Clause {clause} of the Cardholder Agreement, limits are reviewed based on your usage, repayment record and credit profile.",
            "Yes. You are eligible for a temporary limit of CNY {new_limit} for {temp_days} days. Any amount above your permanent limit must be repaid in full on the next statement.",
            "Limit reviews consider usage frequency, repayment history and credit bureau information. We cannot disclose the specific reasons, but you may re-apply after 3 months.",
        ],
        "en_f": [
            (
                "How long does it take?",
                "Temporary increases are usually approved instantly; permanent increases take 1-3 working days and you will be notified by SMS.",
            ),
        ],
    },
    "loss": {
        "zh_q": [
            "我的信用卡丢了",
            "卡被偷了怎么挂失",
            "挂失后多久能拿到新卡？",
            "补卡要收费吗",
            "卡片坏了能换一张吗",
            "挂失前被盗刷了{amount}元能赔吗",
            "新卡寄到哪里",
            "补卡后卡号会变吗",
            "能不能先临时挂失",
        ],
        "zh_a": [
            "您好，请您立即通过手机银行APP-信用卡-卡片管理-挂失进行正式挂失，挂失即时生效。挂失后可选择补发新卡，新卡将在7-10个工作日内寄送至您的账单地址。",
            "根据《{bank}信用卡章程》第{clause}条，挂失补卡需收取工本费{card_fee}元；因卡片磨损、消磁申请换卡的免收工本费。",
            "我行提供挂失前48小时失卡保障服务，如挂失前48小时内发生被盗刷交易，您可以在挂失后7天内提交报案回执及申请材料，我们将按规定审核理赔。",
            "补发新卡卡号会变更，有效期和安全码也会同步更新。已绑定的自动还款、快捷支付需使用新卡重新绑定。",
            "新卡寄出后，您可以在手机银行APP-信用卡-卡片进度查询中查看快递单号{express_no}的物流信息。收到后请通过APP激活并设置交易密码。",
            "可以，您可以先通过手机银行APP-信用卡-卡片管理-临时锁卡，临时挂失有效期5天，找回卡片后可自行解锁；如确认丢失请及时办理正式挂失。",
        ],
        "zh_f": [
            ("旧卡找到了还能用吗", "正式挂失后原卡无法恢复使用，请将旧卡剪角作废。"),
            ("能加急吗", "可以申请加急补卡，一般3个工作日内寄出，加急费用20元。"),
        ],
        "en_q": [
            "I lost my credit card.",
            "My card was stolen, how do I report it?",
            "Will the card number change after a replacement?",
        ],
        "en_a": [
            "Please report the loss immediately under Credit Card > Card Management > Report Lost in the app; the block takes effect at once. A replacement card is mailed to your billing address within 7-10 working days.",
            "Under Clause {clause} of the Card Rules, a replacement fee of CNY {card_fee} applies. Fraudulent transactions in the 48 hours before you reported the loss can be claimed within 7 days with a police report.",
            "Yes, the replacement card has a new number, expiry date and security code. Please re-link any automatic payments to the new card.",
        ],
        "en_f": [
            (
                "Can I track the new card?",
                "Yes, the courier tracking number {express_no} is shown under Credit Card > Card Status in the app.",
            ),
        ],
    },
    "freeze": {
        "zh_q": [
            "我的卡被冻结了",
            "卡为什么刷不了了，提示账户冻结",
            "怎么解冻信用卡？",
            "我想临时冻结一下卡",
            "卡被风控了怎么办",
            "冻结后还要还款吗",
        ],
        "zh_a": [
            "您好，经查询您的卡片因系统检测到异常交易已被临时冻结。为保障您的资金安全，请通过手机银行APP-信用卡-卡片管理-安全中心完成身份核验，核验通过后将自动解冻。",
            "您可以通过手机银行APP-信用卡-卡片管理-临时锁卡，随时冻结或解冻卡片，锁卡期间所有交易将被拒绝，但自动还款不受影响。",
            "根据《{bank}信用卡领用合约》第{clause}条，如持卡人存在异常用卡行为，我行有权暂停卡片的部分或全部功能。解冻需提供近期消费凭证，审核时间为1-3个工作日。",
            "冻结期间账单仍会正常生成，请按时还款，以免产生逾期记录。",
        ],
        "zh_f": [
            (
                "要多久能解冻",
                "身份核验通过后一般即时解冻；如需人工审核，将在1-3个工作日内短信通知结果。",
            ),
        ],
        "en_q": [
            "My card has been frozen, why?",
            "How do I unfreeze my card?",
        ],
        "en_a": [
            "Your card was temporarily frozen after our system detected unusual activity. Please verify your identity under Credit Card > Card Management > Security Centre; the card is unfrozen automatically once verified.",
            "You can freeze and unfreeze the card yourself at any time under Credit Card > Card Management > Lock Card. Under Clause {clause} of the Cardholder Agreement, statements continue to be issued while the card is frozen.",
        ],
        "en_f": [
            (
                "Do I still need to pay while it is frozen?",
                "Yes, statements are still issued, so please pay on time to avoid a late record.",
            ),
        ],
    },
    "install": {
        "zh_q": [
            "账单分期怎么办理",
            "分期手续费怎么算？",
            "我想把{inst_amount}元分{months}期",
            "分期可以提前还款吗",
            "单笔消费能分期吗",
            "现金分期利率是多少",
            "分期后额度会恢复吗",
            "分期会影响征信吗",
            "最低多少钱可以分期",
        ],
        "zh_a": [
            "您好，您可以通过手机银行APP-信用卡-分期-账单分期，选择分期期数（3/6/12/24期）后确认即可。账单分期需在到期还款日前办理，最低分期金额为500元。",
            "分期手续费按期收取，{months}期每期手续费率为{rate}。以{inst_amount}元分{months}期为例，每期应还本金加手续费共计{per_period}元，具体以办理页面展示为准。",
            "根据《{bank}信用卡分期付款业务章程》第{clause}条，分期可以提前还款，提前还款需一次性结清剩余本金，已收取的手续费不予退还。",
            "单笔消费满{min_amt}元即可申请分期，请在交易入账后、账单日前通过手机银行APP-信用卡-分期-消费分期办理。办理后可在分期详情中查看合同编号{contract_no}。",
            "分期办理后，信用额度将按分期本金全额占用，随每期还款逐步恢复。正常按期还款不会影响个人征信。",
        ],
        "zh_f": [
            (
                "年化利率是多少",
                "按监管要求，我行在分期办理页面会同时展示年化利率，例如12期每期0.60%的手续费，对应年化利率约为13.03%。",
            ),
            ("能取消吗", "分期办理成功后可申请提前结清，但无法撤销分期，请您确认后再办理。"),
        ],
        "en_q": [
            "How do I convert my statement into instalments?",
            "What is the fee for a {months}-month instalment plan?",
            "Can I repay an instalment plan early?",
        ],
        "en_a": [
            "Go to Credit Card > Instalments > Statement Instalment in the app and choose 3, 6, 12 or 24 months before the payment due date. The minimum amount is CNY 500.",
            "The fee for {months} months is {rate} per month. For CNY {inst_amount} that is CNY {per_period} per month including principal; the annualised rate is shown before you confirm.",
            "Yes. Under Clause {clause} of the Instalment Terms you can settle the remaining principal in one payment; fees already charged are not refunded.",
        ],
        "en_f": [
            (
                "Does it affect my credit limit?",
                "The full instalment principal is held against your limit and released gradually as you repay each month.",
            ),
        ],
    },
    "fee": {
        "zh_q": [
            "年费怎么收",
            "我的卡有年费吗",
            "年费能免吗？",
            "为什么扣了我{fee}元年费",
            "白金卡年费多少",
            "年费能退吗",
        ],
        "zh_a": [
            "您好，根据《{bank}信用卡章程》第{clause}条，普卡、金卡首年免年费，当年刷卡消费满6次（不限金额）即可免次年年费；白金卡年费为{fee}元/年，可使用积分抵扣。",
            "经查询，您尾号{last4}的信用卡于{date}收取了年费{fee}元，原因是上一年度未达到免年费的消费次数要求。",
            "如您对年费有异议，可在年费入账后60天内申请减免，我们将在3个工作日内处理，结果短信通知。",
            "年费可通过手机银行APP-信用卡-积分商城-积分抵年费使用积分抵扣，抵扣比例以页面展示为准。",
        ],
        "zh_f": [
            ("销卡年费能退吗", "如在年费入账后30天内销卡，可申请退还当年年费。"),
            ("附属卡要年费吗", "普卡、金卡附属卡免年费；白金卡附属卡年费为主卡年费的50%。"),
        ],
        "en_q": [
            "Is there an annual fee on my card?",
            "Why was I charged a CNY {fee} annual fee?",
        ],
        "en_a": [
            "Under Clause {clause} of the Card Rules, Classic and Gold cards are free in the first year and the next year's fee is waived after 6 purchases; the Platinum fee is CNY {fee} per year and can be paid with points.",
            "The CNY {fee} fee was charged on {date} because the previous year's 6-purchase waiver requirement was not met. You may request a review within 60 days of the charge.",
        ],
        "en_f": [
            (
                "Can I get a refund if I close the card?",
                "If you close the card within 30 days of the fee being charged, you can request a refund of that year's fee.",
            ),
        ],
    },
}


# Which answers fit which question: KB_LINKS[scenario][lang][question index] -> answer indices.
KB_LINKS: dict[str, dict[str, list[list[int]]]] = {
    "bill": {
        "zh": [
            [1],
            [0],
            [0, 2],
            [5, 6],
            [0],
            [2],
            [1, 2],
            [3, 6],
            [6, 3],
            [4],
            [4],
            [1],
            [5],
            [7],
            [6],
        ],
        "en": [[0], [1], [0], [2], [3]],
    },
    "redeem": {
        "zh": [[0], [1], [2], [6], [0], [3], [5], [4], [3], [1, 0], [5], [0]],
        "en": [[0], [1], [0], [2]],
    },
    "expiry": {
        "zh": [[1, 0], [0], [1], [4], [3], [0], [2], [2]],
        "en": [[0, 1], [2], [0]],
    },
    "overdue": {
        "zh": [[0, 2], [1], [1, 2], [2], [0], [0], [1], [3], [4], [2]],
        "en": [[0, 2], [1], [0]],
    },
    "limit": {
        "zh": [[0], [0, 1], [1, 5], [0], [3], [2], [1], [4], [3], [5]],
        "en": [[0], [1], [2]],
    },
    "loss": {
        "zh": [[0], [0], [4, 0], [1], [1], [2], [0, 4], [3], [5]],
        "en": [[0], [0, 1], [2]],
    },
    "freeze": {
        "zh": [[0, 2], [0], [0, 2], [1], [0, 2], [3]],
        "en": [[0], [0, 1]],
    },
    "install": {
        "zh": [[0], [1], [1], [2], [3], [1], [4], [4], [0, 3]],
        "en": [[0], [1], [2]],
    },
    "fee": {
        "zh": [[0], [0], [0, 3], [1, 2], [0], [2]],
        "en": [[0], [1]],
    },
}

# ---------------------------------------------------------------------------------------------
# FAQ / manual knowledge (formal questions; answers use "\n" between paragraphs, "- " for
# bullets and "1. " for numbered steps, rendered to HTML or markdown).
# ---------------------------------------------------------------------------------------------
FAQ_ZH: dict[str, list[tuple[str, str]]] = {
    "bill": [
        (
            "如何查询信用卡账单？",
            "您可以通过以下渠道查询账单：\n- 手机银行APP：首页-信用卡-账单查询\n- 微信公众号“星海银行信用卡”：我的账户-账单查询\n- 网上银行：信用卡-账户查询-账单\n- 客服热线400-880-9999：按语音提示操作",
        ),
        (
            "什么是账单日和到期还款日？",
            "账单日是我行每月对您的信用卡账户交易进行汇总结算的日期；到期还款日为账单日后第20天，您需在该日期（含）前还款。根据《星海银行信用卡领用合约》第八条，账单日当天入账的交易计入本期账单。",
        ),
        (
            "如何修改账单日？",
            "每张信用卡每年可修改一次账单日：\n1. 登录手机银行APP，进入信用卡-更多服务-修改账单日\n2. 选择新的账单日（每月1日至28日）\n3. 确认后于下一个账单周期生效\n修改账单日当期可能出现一次账单周期较长或较短的情况。",
        ),
        (
            "为什么没有收到电子账单？",
            "电子账单在账单日后1个工作日内发送。如未收到，可能原因包括：预留邮箱有误、邮件被归入垃圾箱、邮箱已满。您可以在手机银行APP-信用卡-账单设置中核实邮箱地址，并申请补发当期电子账单。",
        ),
        (
            "最低还款额是如何计算的？",
            "最低还款额 = 信用额度内消费款的10% + 预借现金交易款的100% + 超限金额的100% + 当期分期应还金额 + 上期未还最低还款额 + 费用和利息。",
        ),
        (
            "已出账单和未出账单有什么区别？",
            "已出账单是截至本期账单日已入账的交易汇总，需在到期还款日前还款；未出账单是本期账单日之后新入账的交易，将计入下一期账单。",
        ),
        (
            "对账单中的交易有疑问怎么办？",
            "请在交易记账日起60天内通过手机银行APP-信用卡-交易明细-争议交易提交申请，或拨打客服热线申请调阅签购单。争议处理期间该笔款项暂不计息。",
        ),
        (
            "可以查询多久以前的账单？",
            "手机银行APP和网上银行可查询近24个月的账单；更早的账单可拨打客服热线申请，按页收取查询费5元。",
        ),
        (
            "外币交易如何入账？",
            "外币交易将按清算当日汇率折算为人民币后记入人民币账户，本期账单显示的金额可能与交易时的估算金额略有差异。",
        ),
        (
            "什么是免息还款期？",
            "非现金交易从银行记账日至到期还款日之间为免息还款期，最短20天，最长50天。在到期还款日前全额还款即可享受免息；预借现金交易不享受免息还款期。",
        ),
    ],
    "redeem": [
        (
            "如何兑换信用卡积分？",
            "1. 登录手机银行APP，进入信用卡-积分商城\n2. 选择商品后点击“立即兑换”\n3. 确认收货地址并输入交易密码\n根据《星海银行信用卡积分奖励计划细则》第十二条，兑换成功后不可撤销。",
        ),
        (
            "积分是怎么累积的？",
            "人民币消费每1元累积1分，外币消费按入账人民币金额每1元累积2分。取现、还款、分期手续费、年费及房产、批发类交易不累积积分。",
        ),
        (
            "兑换的礼品多久能收到？",
            "实物礼品一般在兑换成功后7-15个工作日内寄出，偏远地区可能延长。您可以在积分商城-我的订单中查看物流信息。",
        ),
        (
            "兑换的商品可以退换吗？",
            "电子券、话费、里程等虚拟商品一经兑换不支持退换。实物礼品如有质量问题，可在签收后7天内申请售后。",
        ),
        (
            "积分不足时能用现金补足吗？",
            "部分商品支持“积分+现金”兑换，现金部分将计入您的信用卡账单，可在商品详情页选择兑换方式。",
        ),
        (
            "附属卡能使用积分吗？",
            "附属卡消费产生的积分计入主卡账户，仅主卡持卡人可以兑换。",
        ),
        (
            "兑换积分需要支付手续费吗？",
            "积分兑换不收取手续费，实物礼品免费配送（港澳台及海外地址除外）。",
        ),
    ],
    "expiry": [
        (
            "信用卡积分有效期是多久？",
            "根据《星海银行信用卡积分奖励计划细则》第十五条：\n- 普卡、金卡：积分自产生当年起3个自然年内有效\n- 白金卡及以上：积分永久有效\n到期积分将于当年12月31日自动清零。",
        ),
        (
            "积分到期前会有提醒吗？",
            "我行会在积分到期前30天以短信方式提醒，您也可以在手机银行APP-信用卡-我的积分中查看“即将到期积分”。",
        ),
        ("过期的积分能恢复吗？", "积分到期清零后无法恢复，请在有效期内及时兑换。"),
        (
            "销户后积分怎么处理？",
            "信用卡销户后，账户内剩余积分将同时清零。如名下有其他星海银行信用卡，可在销户前申请积分合并。",
        ),
        (
            "卡片升级后积分有效期如何计算？",
            "卡片由金卡升级为白金卡后，原有积分自升级之日起转为永久有效；降级的，积分有效期按降级后卡种规则重新计算。",
        ),
        (
            "积分有效期可以延长吗？",
            "积分有效期不支持延长。如积分即将到期，建议兑换电子券、话费等即时到账的商品。",
        ),
    ],
    "overdue": [
        (
            "信用卡逾期了怎么办？",
            "请尽快还款，至少还清最低还款额。逾期将产生违约金和利息，并可能影响您的个人信用记录。如暂时无法还款，请主动联系我行协商。",
        ),
        (
            "逾期会产生哪些费用？",
            "根据《星海银行信用卡领用合约》第十九条：\n- 违约金：最低还款额未还部分的5%，最低10元\n- 利息：自记账日起按日利率万分之五计收，按月计收复利",
        ),
        (
            "有还款宽限期吗？",
            "有。我行提供3天还款宽限期，在到期还款日后3天内（含）全额还款或还清最低还款额的，视同按时还款。",
        ),
        (
            "逾期记录多久能消除？",
            "根据《征信业管理条例》第十六条，不良信息自不良行为或者事件终止之日起保留5年，5年后自动删除。",
        ),
        (
            "无法按时还款可以申请个性化分期吗？",
            "因失业、疾病等原因确实无法按时还款的，可通过手机银行APP-信用卡-还款-个性化分期提交申请，并提供收入证明、困难说明等材料，我行将在10个工作日内审核。",
        ),
        (
            "如何辨别催收电话的真伪？",
            "我行催收人员不会要求您向任何个人账户转账。如接到可疑电话，请挂断后拨打信用卡背面的客服热线核实。",
        ),
        (
            "违约金可以申请减免吗？",
            "首次逾期且已还清欠款的客户，可通过客服热线申请减免违约金，审核结果将在3个工作日内短信通知。",
        ),
    ],
    "limit": [
        (
            "如何申请提高信用额度？",
            "1. 登录手机银行APP，进入信用卡-额度管理\n2. 选择“申请提额”，提交后系统实时评估\n3. 审批结果以短信通知\n根据《星海银行信用卡领用合约》第六条，我行有权根据持卡人资信状况调整信用额度。",
        ),
        (
            "临时额度和固定额度有什么区别？",
            "临时额度有效期最长90天，到期自动失效，超出固定额度的部分需在当期一次性还清，不可分期；固定额度长期有效，可用于分期。",
        ),
        (
            "多久可以申请一次固定额度调整？",
            "持卡满6个月且距离上次固定额度调整满6个月后，可再次申请。",
        ),
        (
            "为什么提额申请没有通过？",
            "系统会综合用卡频率、还款记录、征信情况、收入水平等因素评估，具体原因不便透露。建议保持良好的用卡习惯，3个月后再次申请。",
        ),
        (
            "可以主动降低信用额度吗？",
            "可以，通过手机银行APP-信用卡-额度管理-调整额度即可调低固定额度，调低后立即生效。",
        ),
        (
            "我行会主动降低我的额度吗？",
            "如持卡人出现逾期、征信异常或用卡风险，我行有权根据合约约定调低额度，并以短信方式通知。",
        ),
    ],
    "loss": [
        (
            "信用卡丢失了怎么办？",
            "请立即办理挂失：\n- 手机银行APP：信用卡-卡片管理-挂失\n- 客服热线400-880-9999：按0转人工\n- 任一营业网点\n挂失即时生效，挂失后可申请补发新卡。",
        ),
        (
            "挂失补卡需要多少费用？",
            "根据《星海银行信用卡章程》第二十三条，挂失补卡收取工本费10元；因磨损、消磁换卡的免收工本费。",
        ),
        (
            "补发的新卡多久能收到？",
            "新卡将在7-10个工作日内寄送至您的账单地址，加急补卡3个工作日内寄出。",
        ),
        (
            "挂失前被盗刷的损失由谁承担？",
            "我行提供挂失前48小时失卡保障：挂失前48小时内发生的盗刷交易，请在挂失后7天内提交公安机关报案回执及申请材料，经审核后按规定赔付。",
        ),
        (
            "补卡后卡号会改变吗？",
            "会。补发新卡的卡号、有效期和安全码均会变更，已绑定的自动还款和第三方支付需重新绑定。",
        ),
        (
            "临时挂失和正式挂失有什么区别？",
            "临时挂失有效期5天，找回卡片后可自行解除；正式挂失后原卡永久失效，不可恢复。",
        ),
    ],
    "freeze": [
        (
            "卡片为什么会被冻结？",
            "当系统检测到异常交易、持卡人身份信息过期或存在违约风险时，我行可能暂停卡片的部分或全部功能。根据《星海银行信用卡领用合约》第二十一条，我行将以短信方式通知。",
        ),
        (
            "如何解冻信用卡？",
            "1. 登录手机银行APP，进入信用卡-卡片管理-安全中心\n2. 按提示完成人脸识别及身份核验\n3. 核验通过后卡片自动解冻\n如需人工审核，1-3个工作日内短信通知结果。",
        ),
        (
            "可以自己冻结卡片吗？",
            "可以。通过手机银行APP-信用卡-卡片管理-临时锁卡，可随时冻结或解冻卡片，锁卡期间交易将被拒绝，自动还款不受影响。",
        ),
        ("冻结期间还需要还款吗？", "需要。冻结期间账单照常生成，请按时还款，以免产生逾期记录。"),
    ],
    "install": [
        (
            "什么是账单分期？",
            "账单分期是将已出账单的全部或部分金额分成若干期偿还的业务，可选3、6、12、24期，最低分期金额500元，需在到期还款日前办理。",
        ),
        (
            "分期手续费如何计算？",
            "每期手续费 = 分期本金 × 每期手续费率。\n- 3期：每期0.75%\n- 6期：每期0.70%\n- 12期：每期0.60%\n- 24期：每期0.60%\n办理页面将同时展示对应的年化利率。",
        ),
        (
            "分期可以提前还款吗？",
            "根据《星海银行信用卡分期付款业务章程》第十条，可申请提前还款，需一次性结清剩余本金，已收取的手续费不予退还。",
        ),
        ("分期会占用信用额度吗？", "会。分期本金将全额占用信用额度，随每期还款逐步恢复。"),
        ("分期会影响个人征信吗？", "正常办理并按期还款的分期不会对个人征信产生不良影响。"),
        (
            "哪些交易不能办理分期？",
            "取现、转账、购买理财和贵金属、房产及批发类交易、已办理分期的交易不可再次分期。",
        ),
    ],
    "fee": [
        (
            "信用卡年费标准是什么？",
            "根据《星海银行信用卡章程》第九条，普卡年费100元、金卡年费200元，均首年免年费；白金卡年费2000元。",
        ),
        (
            "如何减免年费？",
            "普卡、金卡当年刷卡消费满6次（不限金额），即可免收次年年费。白金卡可使用积分抵扣年费。",
        ),
        ("附属卡收取年费吗？", "普卡、金卡附属卡免年费；白金卡附属卡年费为主卡的50%。"),
        ("销卡后年费可以退吗？", "在年费入账后30天内销卡的，可申请退还当年年费。"),
        ("年费什么时候收取？", "年费在每年卡片激活的对应月份收取，并计入当期账单。"),
    ],
}

FAQ_EN: dict[str, list[tuple[str, str]]] = {
    "bill": [
        (
            "How do I view my statement?",
            "Log in to the mobile banking app and open Credit Card > Statements. You can also view statements in online banking or through our WeChat account.",
        ),
        (
            "What is the interest-free period?",
            "Purchases enjoy an interest-free period of 20 to 50 days from the posting date to the payment due date, provided the statement balance is paid in full. Cash advances are not interest-free.",
        ),
        (
            "How do I change my statement date?",
            "You can change the statement date once a year under Credit Card > More Services > Statement Date in the app. The new date applies from the next cycle.",
        ),
        (
            "How is the minimum payment calculated?",
            "The minimum payment is 10% of purchases within your limit, plus 100% of cash advances, any over-limit amount, instalments due, fees and interest.",
        ),
    ],
    "redeem": [
        (
            "How do I redeem reward points?",
            "1. Open Credit Card > Rewards Mall in the app\n2. Choose an item and tap Redeem\n3. Confirm the address and enter your PIN\nRedemptions cannot be cancelled once completed.",
        ),
        (
            "How are points earned?",
            "You earn 1 point per CNY 1 spent in RMB and 2 points per CNY 1 of foreign-currency spending. Cash advances, repayments and fees do not earn points.",
        ),
    ],
    "expiry": [
        (
            "How long are points valid?",
            "Points on Classic and Gold cards are valid for 3 calendar years from the year they are earned. Points on Platinum cards and above never expire.",
        ),
        (
            "Do supplementary cards earn points?",
            "Yes. Points earned on supplementary cards go to the primary account and follow the same validity rules.",
        ),
        (
            "Can expired points be restored?",
            "No. Expired points are removed on 31 December and cannot be restored.",
        ),
    ],
    "overdue": [
        (
            "What happens if I pay late?",
            "A late fee of 5% of the unpaid minimum payment (at least CNY 10) is charged, and interest accrues at 0.05% per day. Late payments beyond the 3-day grace period are reported to the credit bureau.",
        ),
        (
            "How long does a late payment stay on my credit report?",
            "Negative records are kept for 5 years from the date the debt is settled, as required by the Regulation on the Administration of Credit Investigation Industry.",
        ),
        (
            "Is there a grace period?",
            "Yes. Payments received within 3 days after the due date are treated as on time.",
        ),
    ],
    "limit": [
        (
            "How can I request a higher credit limit?",
            "Apply under Credit Card > Credit Limit > Request Increase in the app. The result is sent by SMS within 1-3 working days.",
        ),
        (
            "Can I lower my credit limit?",
            "Yes, under Credit Card > Credit Limit > Adjust Limit. A lower limit takes effect immediately; raising it again requires a new application.",
        ),
        (
            "What is a temporary credit limit?",
            "A temporary limit lasts up to 90 days. Spending above your permanent limit must be repaid in full on the next statement and cannot be converted to instalments.",
        ),
    ],
    "loss": [
        (
            "What should I do if my card is lost or stolen?",
            "Report it immediately in the app (Credit Card > Card Management > Report Lost) or call 400-880-9999. The card is blocked at once and a replacement is mailed within 7-10 working days.",
        ),
        (
            "Will my card number change after a replacement?",
            "Yes. The new card has a new number, expiry date and security code; please update automatic payments.",
        ),
        (
            "Is there a fee for a replacement card?",
            "A CNY 10 fee applies for lost cards; damaged or demagnetised cards are replaced free of charge.",
        ),
    ],
    "freeze": [
        (
            "How do I unfreeze my card?",
            "Open Credit Card > Card Management > Security Centre in the app and complete identity verification. The card is unfrozen automatically once verified.",
        ),
    ],
    "install": [
        (
            "What instalment terms are available?",
            "Statement instalments are available over 3, 6, 12 or 24 months for amounts of CNY 500 or more, and must be set up before the payment due date.",
        ),
        (
            "Does an instalment plan use my credit limit?",
            "Yes. The full principal is held against your limit and released as each monthly payment is made.",
        ),
        (
            "Can I repay an instalment plan early?",
            "Yes. The remaining principal must be paid in one sum; fees already charged are not refunded.",
        ),
    ],
    "fee": [
        (
            "What are the annual fees?",
            "Classic CNY 100, Gold CNY 200 (both free in the first year) and Platinum CNY 2,000 per year.",
        ),
        (
            "How can I have the annual fee waived?",
            "Make at least 6 purchases in a card year and next year's fee on Classic and Gold cards is waived.",
        ),
    ],
}

# Generated FAQ variants (one per product / redemption item / instalment type / channel):
# the kind of near-identical Q/A that real FAQ sites are full of.
FEE_PRODUCTS = [
    ("普卡", 100, "当年刷卡消费满6次即可免次年年费"),
    ("金卡", 200, "当年刷卡消费满6次即可免次年年费"),
    ("白金卡", 2000, "可使用10万积分抵扣当年年费，或当年消费满20万元免次年年费"),
    ("钻石卡", 3600, "当年消费满50万元免次年年费"),
    ("青春卡", 0, "终身免年费"),
    ("航空联名卡", 300, "当年消费满10次免次年年费"),
    ("商务卡", 500, "由单位统一缴纳，可申请按季度结算"),
]
LIMIT_PRODUCTS = [
    ("普卡", "一般为3,000元至10,000元"),
    ("金卡", "一般为10,000元至50,000元"),
    ("白金卡", "一般为50,000元至200,000元"),
    ("钻石卡", "一般为200,000元以上"),
    ("青春卡", "一般为1,000元至5,000元"),
    ("航空联名卡", "一般为10,000元至80,000元"),
    ("商务卡", "根据所在单位的授信额度统一分配"),
]
REDEEM_ITEMS = [
    ("航空里程", "按18积分兑换1里程的比例兑换，约5个工作日到账"),
    ("手机话费", "按1000积分兑换10元话费的比例兑换，一般2小时内到账"),
    ("视频会员", "按2500积分兑换1个月会员的比例兑换，兑换码即时发放"),
    ("加油卡充值", "按1200积分兑换10元的比例兑换，1个工作日内到账"),
    ("咖啡电子券", "按3000积分兑换1杯中杯饮品的比例兑换，电子券有效期30天"),
    ("实物礼品", "按积分商城标价兑换，7-15个工作日内寄出"),
    ("年费", "白金卡可按10万积分抵扣当年年费，普卡及金卡暂不支持"),
    ("酒店会员积分", "按10积分兑换1酒店积分的比例兑换，约3个工作日到账"),
]
INSTALL_TYPES = [
    ("账单分期", "手机银行APP-信用卡-分期-账单分期", "0.60%-0.75%"),
    ("消费分期", "手机银行APP-信用卡-分期-消费分期", "0.60%-0.75%"),
    ("现金分期", "手机银行APP-信用卡-分期-现金分期，资金将转入您本人名下借记卡", "0.55%-0.80%"),
    ("汽车分期", "合作经销商处提交申请，或拨打客服热线预约", "0.25%-0.40%"),
    ("家装分期", "手机银行APP-信用卡-分期-家装分期上传装修合同", "0.30%-0.45%"),
]
BILL_CHANNELS = [
    ("手机银行APP", "登录后进入首页-信用卡-账单查询，可查看已出账单、未出账单及交易明细"),
    ("微信公众号", "关注“星海银行信用卡”公众号并绑定卡片后，点击我的账户-账单查询"),
    ("网上银行", "登录个人网上银行，进入信用卡-账户查询-账单查询"),
    ("短信", "编辑短信“ZD#卡号后四位”发送至10655-8899，即可收到本期账单摘要"),
]
LOSS_CHANNELS = [
    ("手机银行APP", "进入信用卡-卡片管理-挂失，验证交易密码后即时生效"),
    ("客服热线", "拨打400-880-9999，按语音提示转人工服务，核实身份后办理"),
    ("营业网点", "携带本人有效身份证件至任一营业网点柜台办理"),
    ("微信公众号", "进入“星海银行信用卡”公众号-卡片服务-挂失，完成人脸识别后办理"),
]


def faq_variants_zh() -> dict[str, list[tuple[str, str]]]:
    """Product/channel variants of the formal FAQ, appended to the hand-written pairs."""
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in SCENARIO_KEYS}
    for product, fee, waiver in FEE_PRODUCTS:
        fee_text = "免年费" if fee == 0 else f"年费为{fee}元/年"
        out["fee"].append((f"{product}的年费是多少？", f"{product}{fee_text}，{waiver}。"))
    for product, limit_range in LIMIT_PRODUCTS:
        out["limit"].append(
            (
                f"{product}的初始额度是多少？",
                f"{product}的初始信用额度{limit_range}，以审批结果为准。",
            )
        )
    for product, _, _ in FEE_PRODUCTS:
        forever = product in ("白金卡", "钻石卡")
        rule = "积分永久有效" if forever else "积分自产生当年起3个自然年内有效，到期于12月31日清零"
        out["expiry"].append((f"{product}的积分有效期是多久？", f"{product}{rule}。"))
    for item, rule in REDEEM_ITEMS:
        out["redeem"].append(
            (
                f"积分可以兑换{item}吗？",
                f"可以。在手机银行APP-信用卡-积分商城中选择“{item}”，{rule}。",
            )
        )
    for kind, path, rate in INSTALL_TYPES:
        out["install"].append((f"如何办理{kind}？", f"您可以通过{path}办理{kind}。"))
        out["install"].append(
            (f"{kind}的手续费率是多少？", f"{kind}每期手续费率为{rate}，具体以办理页面展示为准。")
        )
    for channel, how in BILL_CHANNELS:
        out["bill"].append((f"如何通过{channel}查询账单？", f"{how}。"))
    for channel, how in LOSS_CHANNELS:
        out["loss"].append((f"如何通过{channel}办理挂失？", f"{how}。"))
    return out


# ---------------------------------------------------------------------------------------------
# Small talk
# ---------------------------------------------------------------------------------------------
ZH_USER_OPENERS = [
    "你好",
    "您好",
    "在吗",
    "在吗？",
    "在不在",
    "有人吗",
    "你好客服",
    "人工",
    "转人工",
    "hi",
]
ZH_AGENT_GREETINGS = [
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "您好，我是星海银行信用卡客服，请问有什么可以帮您？",
    "在的，请问您需要咨询什么业务？",
    "您好，已为您接入人工客服，请问有什么可以帮您？",
    "您好，请问有什么可以帮到您？",
]
ZH_USER_CLOSINGS = [
    "谢谢",
    "好的",
    "嗯嗯",
    "好的谢谢",
    "明白了",
    "知道了，谢谢",
    "行",
    "OK",
    "好滴",
    "再见",
    "谢谢你",
    "好的，没有了",
]
ZH_AGENT_CLOSINGS = [
    "不客气，祝您生活愉快，再见！",
    "感谢您的咨询，如有其他问题欢迎随时联系我们。",
    "请问还有其他可以帮您的吗？",
    "不客气，如有其他问题欢迎随时咨询。",
    "好的，感谢您的耐心等待，祝您用卡愉快！",
]
ZH_SMALLTALK_ONLY = [
    ["在吗", "您好，请问有什么可以帮您？", "没事了", "好的，如有需要欢迎随时咨询，再见！"],
    ["你好", "您好，很高兴为您服务，请问有什么可以帮您？"],
    ["谢谢", "不客气，祝您生活愉快！"],
    ["嗯嗯", "请问还有其他问题吗？", "没有了，谢谢", "感谢您的咨询，再见！"],
    ["人工", "您好，已为您转接人工客服，请问有什么可以帮您？", "算了，我晚点再问"],
    ["好的", "好的，请问还有其他可以帮您的吗？", "没了，再见", "再见，祝您生活愉快！"],
    [
        "有人吗",
        "您好，在的，请问有什么可以帮您？",
        "你们几点下班",
        "人工客服7×24小时为您服务。",
        "哦哦好的",
        "不客气~",
    ],
    ["在不在", "在的，请问您需要咨询什么业务？", "没事，点错了", "好的，祝您生活愉快！"],
    [
        "你好",
        "您好，请问有什么可以帮您？",
        "你是机器人吗",
        "您好，我是星海银行人工客服，很高兴为您服务。",
        "哈哈好的",
        "请问还有其他问题吗？",
    ],
    ["测试", "您好，请问有什么可以帮您？"],
]
EN_USER_OPENERS = ["hi", "hello", "Hi there", "are you there?", "hello?"]
EN_AGENT_GREETINGS = [
    "Hello, thank you for contacting Xinghai Bank credit card services. How can I help you today?",
    "Hi, how may I help you?",
    "Good day, how can I assist you?",
]
EN_USER_CLOSINGS = ["thanks", "ok thank you", "got it, thanks", "great, bye", "ok", "thank you!"]
EN_AGENT_CLOSINGS = [
    "You're welcome. Have a nice day!",
    "Is there anything else I can help you with?",
    "Thank you for contacting us. Goodbye!",
]
EN_SMALLTALK_ONLY = [
    [
        "hi",
        "Hello, how can I help you today?",
        "never mind, thanks",
        "You're welcome. Have a nice day!",
    ],
    ["hello?", "Hi, how may I help you?"],
    ["thanks", "You're welcome!"],
]

ZH_Q_PREFIXES = [
    "",
    "",
    "",
    "",
    "请问",
    "你好，",
    "问一下，",
    "我想问下",
    "麻烦问一下，",
    "客服，",
    "您好，",
]
EN_Q_PREFIXES = ["", "", "", "Hi, ", "Hello, ", "Quick question: "]
MERCHANTS = [
    "京东",
    "美团",
    "携程",
    "星巴克",
    "中石化",
    "拼多多",
    "滴滴出行",
    "盒马鲜生",
    "天猫",
    "苹果App Store",
]
EMAIL_NAMES = [
    "zhangwei",
    "wang.fang",
    "li_na",
    "liuyang88",
    "chenjing",
    "yangli",
    "zhao.lei",
    "huangmin",
    "zhoujie",
    "wu_xia",
    "xu.ming",
    "sun_hao",
    "hu.yan",
    "zhu123",
    "gaofeng",
    "linxiao",
    "he.jun",
    "guo_ting",
    "ma.chao",
    "luowen",
    "john.smith",
    "emily.chen",
    "david_wu",
    "amy.lee",
]
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "sina.com",
    "foxmail.com",
    "hotmail.com",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
ID_REGIONS = [
    "110105",
    "110108",
    "310104",
    "310115",
    "440305",
    "440106",
    "320102",
    "330106",
    "510107",
    "420106",
    "610113",
    "370202",
]
CARD_BINS = [
    ("622588", 16),
    ("625807", 16),
    ("436742", 16),
    ("518710", 16),
    ("621700", 19),
    ("622202", 19),
    ("623668", 19),
    ("62284800", 17),
]

FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff"]


# ---------------------------------------------------------------------------------------------
# Checksums (the PII detectors validate these; look-alikes must fail them)
# ---------------------------------------------------------------------------------------------
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"


def luhn_valid(number: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check used by bank cards."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_complete(payload: str) -> str:
    """Append the Luhn check digit to ``payload``."""
    for check in "0123456789":
        if luhn_valid(payload + check):
            return payload + check
    raise AssertionError("unreachable: one check digit always fits")


def id_check_char(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character of a mainland resident ID number."""
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_valid(number: str) -> bool:
    """True when an 18-character ID number carries the right MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return id_check_char(number[:17]) == number[17].upper()


# ---------------------------------------------------------------------------------------------
# PII values (valid) and look-alikes (invalid, must survive redaction)
# ---------------------------------------------------------------------------------------------
def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def make_mobile(rng: random.Random) -> str:
    """A mainland mobile number, written the way people actually type it."""
    number = rng.choice(MOBILE_PREFIXES) + _digits(rng, 8)
    spaced = f"{number[:3]} {number[3:7]} {number[7:]}"
    dashed = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    styles = [
        number,
        number,
        number,
        "+86 " + number,
        "+86" + number,
        spaced,
        dashed,
        "+86 " + spaced,
        "+86-" + dashed,
    ]
    return rng.choice(styles)


def make_id_number(rng: random.Random, force_x: bool = False, lower_x: bool = False) -> str:
    """An 18-digit resident ID with a valid MOD 11-2 check character (X when ``force_x``)."""
    while True:
        birth = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 16000))
        first17 = rng.choice(ID_REGIONS) + birth.strftime("%Y%m%d") + _digits(rng, 3)
        check = id_check_char(first17)
        if force_x and check != "X":
            continue
        if not force_x and check == "X" and rng.random() < 0.5:
            continue
        if check == "X" and lower_x:
            check = "x"
        return first17 + check


def make_card(rng: random.Random) -> str:
    """A Luhn-valid card number of 16, 17 or 19 digits, plain or grouped by four."""
    bin_prefix, length = rng.choice(CARD_BINS)
    number = luhn_complete(bin_prefix + _digits(rng, length - len(bin_prefix) - 1))
    style = rng.random()
    if length == 17:  # odd lengths are never printed in groups of four
        return number
    if style < 0.35:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    if style < 0.42:
        return "-".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def make_email(rng: random.Random) -> str:
    name = rng.choice(EMAIL_NAMES)
    if rng.random() < 0.5:
        name += str(rng.randint(1, 2005))
    return f"{name}@{rng.choice(EMAIL_DOMAINS)}"


def _fails_every_check(number: str) -> bool:
    return not luhn_valid(number) and not id_valid(number)


def make_order_no(rng: random.Random, year: int = 2024) -> str:
    """A 16-19 digit order number that fails Luhn: looks like a card, is not one."""
    while True:
        number = str(year) + _digits(rng, rng.choice([12, 13, 14, 15]))
        if _fails_every_check(number):
            return number


def make_contract_no(rng: random.Random, year: int = 2024) -> str:
    """An 18-digit contract number that fails MOD 11-2 and Luhn: looks like an ID, is not one."""
    while True:
        number = rng.choice(ID_REGIONS) + str(year) + _digits(rng, 8)
        if _fails_every_check(number):
            return number


def make_txn_id(rng: random.Random, year: int = 2024) -> str:
    """A transaction id whose 16-digit run fails Luhn (a card detector must leave it alone)."""
    while True:
        digits = str(year) + _digits(rng, 12)
        if _fails_every_check(digits):
            return "TX" + digits


def make_express_no(rng: random.Random) -> str:
    return "SF" + _digits(rng, 13)


def make_masked_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "****" + _digits(rng, 4)


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def make_slots(rng: random.Random, year: int = 2024) -> dict[str, object]:
    """Fresh values for every template slot (amounts, dates, look-alike numbers ...)."""
    month, day = rng.randint(1, 6 if year == 2024 else 12), rng.randint(1, 28)
    amount = rng.randint(80, 32000) + rng.choice([0, 0, 0, 0.5, 0.8, 0.36, 0.99])
    inst_amount = rng.choice([3000, 5000, 6000, 8000, 10000, 12000, 15000, 20000])
    months = rng.choice([3, 6, 12, 24])
    rate = {3: 0.0075, 6: 0.007, 12: 0.006, 24: 0.006}[months]
    limit = rng.choice([5000, 8000, 10000, 15000, 20000, 30000, 50000])
    return {
        "bank": BANK,
        "hotline": HOTLINE,
        "amount": f"{amount:,.2f}",
        "min_pay": f"{amount * 0.1:,.2f}",
        "month": month,
        "bill_day": day,
        "en_day": ordinal(day),
        "grace": rng.choice([18, 20, 25]),
        "date": f"{year}-{month:02d}-{day:02d}",
        "due_date": f"{year}年{month}月{rng.randint(1, 28)}日",
        "expire_date": f"{year}-12-31",
        "last4": _digits(rng, 4),
        "points": f"{rng.randint(300, 90000):,}",
        "ratio": rng.choice([15, 18, 20]),
        "overdue_days": rng.randint(1, 95),
        "limit": limit,
        "new_limit": limit + rng.choice([2000, 5000, 10000]),
        "temp_days": rng.choice([30, 60, 90]),
        "card_fee": rng.choice([10, 15, 20]),
        "months": months,
        "rate": f"{rate * 100:.2f}%",
        "inst_amount": inst_amount,
        "per_period": f"{inst_amount / months + inst_amount * rate:,.2f}",
        "min_amt": rng.choice([300, 500, 600, 1000]),
        "fee": rng.choice([100, 200, 300, 600, 2000]),
        "clause": rng.randint(3, 48),
        "merchant": rng.choice(MERCHANTS),
        "order_no": make_order_no(rng, year),
        "contract_no": make_contract_no(rng, year),
        "txn_id": make_txn_id(rng, year),
        "express_no": make_express_no(rng),
        "masked_mobile": make_masked_mobile(rng),
    }


# ---------------------------------------------------------------------------------------------
# Text defects
# ---------------------------------------------------------------------------------------------
ZH_MUTATIONS = [  # particle, typo and word swaps: the near-duplicates a dedup step must catch
    ("吗", "呢"),
    ("呢", "吗"),
    ("啊", ""),
    ("？", "?"),
    ("？", ""),
    ("怎么", "如何"),
    ("怎么", "咋"),
    ("账单", "帐单"),
    ("积分", "积份"),
    ("额度", "额渡"),
    ("信用卡", "信用咔"),
    ("分期", "分其"),
    ("还款", "换款"),
    ("挂失", "挂矢"),
    ("年费", "年废"),
    ("冻结", "冻洁"),
    ("一下", "下"),
    ("我的", "我"),
    ("可以", "能"),
    ("了", "咯"),
    ("能", "可以"),
    ("是", "是不是"),
    ("什么", "啥"),
]
EN_MUTATIONS = [
    ("statement", "statment"),
    ("my ", "the "),
    ("How do I", "How can I"),
    ("How can I", "How do I"),
    ("?", ""),
    ("points", "point"),
    ("card", "crad"),
    ("I ", "i "),
    ("Can ", "can "),
    ("please", "pls"),
]


def mutate_question(text: str, rng: random.Random, protected: list[str]) -> str:
    """One small edit (particle, typo or word swap) that keeps every protected value intact."""
    table = EN_MUTATIONS if text.isascii() else ZH_MUTATIONS
    candidates = [(old, new) for old, new in table if old in text]
    rng.shuffle(candidates)
    for old, new in candidates:
        changed = text.replace(old, new, 1)
        if changed != text and all(p in changed for p in protected):
            return changed
    suffix = "?" if text.isascii() else rng.choice(["啊", "呀", "哈", "！"])
    return text + suffix


def to_fullwidth(text: str) -> str:
    return "".join(FULLWIDTH.get(ch, ch) for ch in text)


def sprinkle_zero_width(text: str, rng: random.Random) -> str:
    pos = rng.randint(1, max(1, len(text) - 1))
    return text[:pos] + rng.choice(ZERO_WIDTH) + text[pos:]


def fill(template: str, slots: dict[str, object]) -> str:
    return template.format(**slots)


def pick_scenario(rng: random.Random) -> str:
    return rng.choices(SCENARIO_KEYS, weights=[SCENARIO_WEIGHTS[k] for k in SCENARIO_KEYS])[0]


def unique_in_order(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# Source 1: chat_logs (data/raw/chat_logs/sessions.jsonl)
# ---------------------------------------------------------------------------------------------
USER, AGENT, BOT = "用户", "客服", "智能客服"
CHAT_REGULAR, CHAT_SMALLTALK, CHAT_NEAR, CHAT_REPEAT = 1530, 54, 144, 70
CHANNELS = ["app", "wechat", "web", "phone_asr"]
CHANNEL_WEIGHTS = [55, 25, 12, 8]
PII_KINDS = ["mobile", "id", "card", "email"]
PII_WEIGHTS = [40, 20, 28, 12]
ZH_PII_ASK = {"mobile": "预留手机号", "id": "身份证号码", "card": "信用卡卡号", "email": "邮箱地址"}
EN_PII_ASK = {
    "mobile": "registered mobile number",
    "id": "ID number",
    "card": "card number",
    "email": "email address",
}
ZH_PII_SAY = {
    "mobile": ["{v}", "手机号{v}", "我的手机号是{v}", "预留的是{v}", "{v}，这个是我本人的"],
    "id": ["{v}", "身份证号{v}", "我身份证是{v}", "身份证：{v}"],
    "card": ["{v}", "卡号{v}", "我的卡号是{v}", "信用卡号：{v}"],
    "email": ["{v}", "邮箱是{v}", "我的邮箱{v}"],
}
EN_PII_SAY = {
    "mobile": ["{v}", "my number is {v}", "It's {v}"],
    "id": ["{v}", "ID: {v}"],
    "card": ["{v}", "card number {v}", "It's {v}"],
    "email": ["{v}", "my email is {v}"],
}
ZH_PII_IN_Q = {
    "mobile": ["，我手机号{v}", "，有结果打我电话{v}", "（手机{v}）"],
    "id": ["，身份证号{v}", "，我身份证{v}"],
    "card": ["，卡号是{v}", "，卡号{v}"],
    "email": ["，结果发我邮箱{v}", "，邮箱{v}"],
}
EN_PII_IN_Q = {
    "mobile": [" My number is {v}.", " Call me on {v}."],
    "id": [" My ID is {v}."],
    "card": [" Card number {v}.", " My card is {v}."],
    "email": [" Please reply to {v}.", " My email: {v}."],
}
ZH_VERIFY = [
    "为保障您的账户安全，请提供您的{ask}以便核实身份。",
    "请您提供一下{ask}，我这边为您查询。",
    "麻烦提供下您的{ask}。",
]
EN_VERIFY = [
    "For security, could you please provide your {ask}?",
    "Please share your {ask} so I can check.",
]
ZH_FILLERS = ["呃", "那个", "就是", "嗯"]
STRAY_LOG_LINES = [
    "2024-05-31 23:59:58,114 INFO [export-worker-2] batch 17/40 exported (500 sessions) -> sessions.jsonl",
    "WARN 2024-06-15T02:00:03 cs-export: transcript store timeout, retrying page 212",
]


def make_pii(rng: random.Random, kind: str) -> str:
    if kind == "mobile":
        return make_mobile(rng)
    if kind == "id":
        return make_id_number(rng, force_x=rng.random() < 0.3, lower_x=rng.random() < 0.15)
    if kind == "card":
        return make_card(rng)
    return make_email(rng)


def _strip_punct(text: str) -> str:
    return "".join(ch for ch in text if ch not in "，。？！、,?!；")


def build_service_session(rng: random.Random, scenario: str, english: bool, with_pii: bool) -> dict:
    """One multi-turn session: optional greeting, question, optional ID check, answer, follow-ups, goodbye."""
    kb = KB[scenario]
    slots = make_slots(rng)
    lang = "en" if english else "zh"
    prefixes = EN_Q_PREFIXES if english else ZH_Q_PREFIXES
    q_idx = rng.randrange(len(kb[f"{lang}_q"]))
    question = rng.choice(prefixes) + fill(kb[f"{lang}_q"][q_idx], slots)
    if not english and rng.random() < 0.15:
        question = question.rstrip("？") + rng.choice(["？？", "?", "啊", "呢"])
    answer = fill(kb[f"{lang}_a"][rng.choice(KB_LINKS[scenario][lang][q_idx])], slots)
    follow_pool = kb[f"{lang}_f"]
    n_follow = min(len(follow_pool), rng.choices([0, 1, 2], weights=[50, 35, 15])[0])
    follows = [(fill(q, slots), fill(a, slots)) for q, a in rng.sample(follow_pool, n_follow)]

    opener: list[tuple[str, str]] = []
    roll = rng.random()
    if roll < 0.40:
        greeter = BOT if rng.random() < 0.25 else AGENT
        opener = [
            (USER, rng.choice(EN_USER_OPENERS if english else ZH_USER_OPENERS)),
            (greeter, rng.choice(EN_AGENT_GREETINGS if english else ZH_AGENT_GREETINGS)),
        ]
    elif roll < 0.46:  # the user says "在吗" and then asks straight away: two user turns in a row
        opener = [(USER, rng.choice(EN_USER_OPENERS if english else ZH_USER_OPENERS))]

    pii_values: list[str] = []
    verify: list[tuple[str, str]] = []
    if with_pii:
        kind = rng.choices(PII_KINDS, weights=PII_WEIGHTS)[0]
        value = make_pii(rng, kind)
        pii_values.append(value)
        if rng.random() < 0.6:
            ask = (EN_PII_ASK if english else ZH_PII_ASK)[kind]
            verify = [
                (AGENT, rng.choice(EN_VERIFY if english else ZH_VERIFY).format(ask=ask)),
                (USER, rng.choice((EN_PII_SAY if english else ZH_PII_SAY)[kind]).format(v=value)),
            ]
            answer = ("Thanks, verified. " if english else "感谢您的配合，已核实。") + answer
        else:
            question = question.rstrip("？?") + rng.choice(
                (EN_PII_IN_Q if english else ZH_PII_IN_Q)[kind]
            ).format(v=value)
        if rng.random() < 0.2:  # a second value in the same session
            kind2 = rng.choice([k for k in PII_KINDS if k != kind])
            value2 = make_pii(rng, kind2)
            pii_values.append(value2)
            question = question.rstrip("？?") + rng.choice(
                (EN_PII_IN_Q if english else ZH_PII_IN_Q)[kind2]
            ).format(v=value2)

    closing: list[tuple[str, str]] = []
    roll = rng.random()
    if roll < 0.35:
        closing = [
            (USER, rng.choice(EN_USER_CLOSINGS if english else ZH_USER_CLOSINGS)),
            (AGENT, rng.choice(EN_AGENT_CLOSINGS if english else ZH_AGENT_CLOSINGS)),
        ]
    elif roll < 0.55:  # the user says thanks and leaves: the session ends on a user turn
        closing = [(USER, rng.choice(EN_USER_CLOSINGS if english else ZH_USER_CLOSINGS))]

    def assemble() -> list[tuple[str, str]]:
        body = [(USER, question), *verify, (AGENT, answer)]
        for fq, fa in follows:
            body += [(USER, fq), (AGENT, fa)]
        return opener + body + closing

    turns = assemble()
    while len(turns) > 8 and follows:
        follows.pop()
        turns = assemble()
    if len(turns) > 8:
        opener = []
        turns = assemble()
    return {
        "biz_tag": CHAT_TAGS[scenario],
        "turns": turns,
        "question": question,
        "pii": pii_values,
        "english": english,
    }


def build_smalltalk_session(rng: random.Random) -> dict:
    """A session with nothing but greetings and thanks (the small-talk filter's target)."""
    english = rng.random() < 0.12
    script = list(rng.choice(EN_SMALLTALK_ONLY if english else ZH_SMALLTALK_ONLY))
    if rng.random() < 0.4:
        script[0] = rng.choice(EN_USER_OPENERS if english else ZH_USER_OPENERS)
    turns = [(USER if i % 2 == 0 else AGENT, text) for i, text in enumerate(script)]
    return {"biz_tag": None, "turns": turns, "question": None, "pii": [], "english": english}


def _random_start(rng: random.Random) -> datetime:
    day = datetime(2024, 3, 1) + timedelta(days=rng.randint(0, 121))
    hour = rng.choices(
        range(24),
        weights=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 9, 10, 10, 9, 8, 7, 7, 8, 7, 5, 3],
    )[0]
    return day + timedelta(hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


def _decorate(session: dict, rng: random.Random) -> None:
    """Per-session surface defects: ASR transcripts, HTML remnants, zero-width characters."""
    turns = session["turns"]
    clean = not session["pii"]
    if session["channel"] == "phone_asr" and clean and not session["english"]:
        session["turns"] = turns = [
            (sp, (rng.choice(ZH_FILLERS) if rng.random() < 0.5 else "") + _strip_punct(tx))
            if sp == USER
            else (sp, tx)
            for sp, tx in turns
        ]
    roll = rng.random()
    agent_idx = [i for i, (sp, _) in enumerate(turns) if sp == AGENT]
    if roll < 0.035 and agent_idx:
        i = rng.choice(agent_idx)
        sp, tx = turns[i]
        tx = tx.replace("；", "；<br>", 1).replace("。", "。<br>", 1)
        if rng.random() < 0.5:
            tx = tx.replace("-", "&nbsp;-&nbsp;", 2)
        else:
            tx = "<p>" + tx + "</p>"
        turns[i] = (sp, tx)
    elif roll < 0.06 and clean:
        user_idx = [i for i, (sp, _) in enumerate(turns) if sp == USER]
        i = rng.choice(user_idx)
        turns[i] = (turns[i][0], sprinkle_zero_width(turns[i][1], rng))


def _serialise(session: dict, spaced: bool = False) -> str:
    record = {
        "session_id": session["session_id"],
        "channel": session["channel"],
        "started_at": session["started_at"],
        "agent_id": session["agent_id"],
        "biz_tag": session["biz_tag"],
        "csat": session["csat"],
        "turns": [{"speaker": sp, "text": tx} for sp, tx in session["turns"]],
    }
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(record, ensure_ascii=False, separators=separators)


def _repeat_line(session: dict, rng: random.Random) -> str:
    """The same session exported again: identical, re-spaced, or typed in full-width mode."""
    roll = rng.random()
    if roll < 0.4:
        return _serialise(session)
    if roll < 0.7 or session["pii"]:
        copy = dict(session)
        copy["turns"] = [
            (sp, tx + rng.choice(["", " ", "  ", "\n"])) for sp, tx in session["turns"]
        ]
        return _serialise(copy, spaced=True)
    copy = dict(session)
    copy["turns"] = [(sp, to_fullwidth(tx) if sp == USER else tx) for sp, tx in session["turns"]]
    return _serialise(copy)


def make_chat_logs(rng: random.Random) -> tuple[str, list[str]]:
    """Return the JSONL text of the chat-log export and the PII values planted in it."""
    sessions: list[dict] = []
    seen_content: set[tuple] = set()
    while len(sessions) < CHAT_REGULAR:
        scenario = pick_scenario(rng)
        session = build_service_session(
            rng, scenario, english=rng.random() < 0.12, with_pii=rng.random() < 0.15
        )
        key = tuple(session["turns"])
        if key in seen_content:  # unplanned exact duplicates would blur the planted ones
            continue
        seen_content.add(key)
        sessions.append(session)
    sessions += [build_smalltalk_session(rng) for _ in range(CHAT_SMALLTALK)]
    for session in sessions:
        session["started"] = _random_start(rng)

    # Near-duplicates: another customer asking the same thing with one particle/typo/word changed.
    for source_idx in sorted(rng.sample(range(CHAT_REGULAR), CHAT_NEAR)):
        original = sessions[source_idx]
        question = original["question"]
        mutated = mutate_question(question, rng, original["pii"])
        turns = [
            (sp, mutated if tx == question and sp == USER else tx) for sp, tx in original["turns"]
        ]
        if rng.random() < 0.3 and turns[-1][0] == AGENT and len(turns) > 2:
            closings = EN_AGENT_CLOSINGS if original["english"] else ZH_AGENT_CLOSINGS
            turns[-1] = (AGENT, rng.choice(closings))
        near = dict(original, turns=turns, question=mutated)
        near["started"] = original["started"] + timedelta(
            days=rng.randint(1, 20), minutes=rng.randint(1, 600)
        )
        sessions.append(near)

    sessions.sort(key=lambda s: (s["started"], s["biz_tag"] or "", s["turns"]))
    for seq, session in enumerate(sessions, start=1):
        session["session_id"] = f"S{session['started']:%Y%m%d}{seq:05d}"
        session["started_at"] = session["started"].strftime("%Y-%m-%dT%H:%M:%S")
        session["channel"] = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        session["agent_id"] = f"A{rng.randint(1, 260):04d}"
        session["csat"] = rng.choice([5, 5, 5, 4, 4, 3, 2, 1, None, None, None])
        _decorate(session, rng)

    # Schema defects that still parse as JSON: empty agent replies, a session with no turns.
    service_idx = [i for i, s in enumerate(sessions) if s["biz_tag"] and not s["pii"]]
    for i in rng.sample(service_idx, 3):
        sessions[i]["turns"] = [(sp, tx) for sp, tx in sessions[i]["turns"]]
        last_agent = max(j for j, (sp, _) in enumerate(sessions[i]["turns"]) if sp == AGENT)
        sessions[i]["turns"][last_agent] = (AGENT, "")
    empty_idx = rng.choice([i for i in service_idx if sessions[i]["turns"][-1][1]])
    sessions[empty_idx]["turns"] = []

    lines = [_serialise(s) for s in sessions]
    # Malformed lines: truncated exports, a dropped comma, a Python repr instead of JSON.
    clean_idx = [
        i for i, s in enumerate(sessions) if not s["pii"] and s["turns"] and i != empty_idx
    ]
    broken = rng.sample(clean_idx, 6)
    for i in broken[:3]:
        lines[i] = lines[i][: int(len(lines[i]) * rng.uniform(0.3, 0.8))]
    for i in broken[3:5]:
        lines[i] = lines[i].replace(',"started_at"', ' "started_at"', 1)
    record = json.loads(lines[broken[5]])
    lines[broken[5]] = repr(record)
    broken_set = set(broken)

    # Repeats: a later export batch carried some sessions again.
    repeat_src = sorted(
        rng.sample([i for i in range(len(sessions)) if i not in broken_set], CHAT_REPEAT)
    )
    inserts = [
        (rng.randint(i + 1, len(lines)), k, _repeat_line(sessions[i], rng))
        for k, i in enumerate(repeat_src)
    ]
    inserts += [
        (rng.randint(1, len(lines)), CHAT_REPEAT + k, text)
        for k, text in enumerate(STRAY_LOG_LINES)
    ]
    for pos, _, text in sorted(inserts, reverse=True):
        lines.insert(pos, text)

    pii = [v for i, s in enumerate(sessions) if i not in broken_set for v in s["pii"]]
    return "".join(line + "\n" for line in lines), unique_in_order(pii)


# ---------------------------------------------------------------------------------------------
# Source 2: legacy_tickets (data/raw/legacy/tickets_2019.csv, GBK, CRLF)
# ---------------------------------------------------------------------------------------------
LEGACY_ROWS = 600
LEGACY_HEADER = ["工单号", "客户问题", "处理回复", "业务类型", "创建时间"]
LEGACY_THIRD_PERSON = ["客户来电反映：", "客户来电咨询", "客户在线留言：", "客户致电称"]
LEGACY_SUFFIXES = ["", "", "", "如有疑问请致电客服热线。", "感谢您的来电。", "祝您生活愉快！"]
LEGACY_RAGGED = [  # hand-typed rows from the old export: an unquoted comma, a missing column, stray commas
    "{tid},账单什么时候出,已处理,请客户留意短信通知,账单,{time}",
    "{tid},额度能提吗,已告知客户通过手机银行申请,调额",
    "{tid},积分怎么查,已告知客户登录网上银行查询积分,积分,{time},,",
]


def _legacy_answer(answer: str, rng: random.Random) -> str:
    """2019 wording: no app menus yet in some replies, boilerplate greetings and sign-offs."""
    answer = answer.replace("手机银行APP", rng.choice(["手机银行", "手机银行APP", "网上银行"]))
    if not answer.startswith("您好"):
        answer = "您好，" + answer
    return answer + rng.choice(LEGACY_SUFFIXES)


def _legacy_defects(text: str, rng: random.Random, is_reply: bool) -> str:
    """Full-width ASCII, HTML entities, doubled and ideographic spaces, hard line breaks in replies."""
    roll = rng.random()
    if roll < 0.15:
        text = to_fullwidth(text)
    elif roll < 0.23:
        if rng.random() < 0.6:
            text = text.replace("。", "。&nbsp;", 1)
        elif "及" in text:
            text = text.replace("及", " &amp; ", 1)
        else:
            text += "（详见官网Q&amp;A）"
    elif roll < 0.33:
        text = text.replace("，", "，  ", 1) if "，" in text else "  " + text
    elif roll < 0.38:
        text = "\u3000" + text
    if is_reply and rng.random() < 0.12:
        text = text.replace("；", "；\n").replace("。", "。\n", 1).rstrip("\n")
        if "\n" not in text:
            text = "处理意见：\n" + text
    return text


def _csv_line(fields: list[str], terminator: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=terminator).writerow(fields)
    return buf.getvalue()


def make_legacy_tickets(rng: random.Random) -> tuple[bytes, list[str]]:
    """Return the GBK bytes of the 2019 ticket export and the PII values planted in it."""
    start = datetime(2019, 1, 2, 8, 0)
    times = sorted(
        start + timedelta(minutes=rng.randint(0, 362 * 24 * 60)) for _ in range(LEGACY_ROWS)
    )
    rows: list[str] = []
    pii: list[str] = []
    n_regular = LEGACY_ROWS - len(LEGACY_RAGGED)
    ragged_at = sorted(rng.sample(range(n_regular), len(LEGACY_RAGGED)))
    seq = 0
    for i in range(n_regular):
        scenario = pick_scenario(rng)
        kb, slots = KB[scenario], make_slots(rng, year=2019)
        english = rng.random() < 0.05
        lang = "en" if english else "zh"
        q_idx = rng.randrange(len(kb[f"{lang}_q"]))
        question = fill(kb[f"{lang}_q"][q_idx], slots)
        answer = fill(kb[f"{lang}_a"][rng.choice(KB_LINKS[scenario][lang][q_idx])], slots)
        if not english:
            answer = _legacy_answer(answer, rng)
            if rng.random() < 0.22:
                question = rng.choice(LEGACY_THIRD_PERSON) + question
                answer = "已告知客户：" + answer.removeprefix("您好，")
            else:
                question = rng.choice(["", "", "您好，", "你好，", "请问"]) + question
            question = _legacy_defects(question, rng, is_reply=False)
            answer = _legacy_defects(answer, rng, is_reply=True)
        if rng.random() < 0.06:
            kind = rng.choice(["mobile", "mobile", "card", "id"])
            value = make_pii(rng, kind)
            pii.append(value)
            question += rng.choice(
                ["（联系电话：{v}）", "，手机{v}", "，卡号{v}", " 客户证件号{v}"]
            ).format(v=value)
        if rng.random() < 0.02:
            answer = ""  # ticket closed without a reply
        when = times[seq]
        stamp = (
            f"{when.year}/{when.month}/{when.day} {when:%H:%M}"
            if rng.random() < 0.8
            else f"{when:%Y-%m-%d %H:%M:%S}"
        )
        tag = rng.choice(LEGACY_TAGS[scenario])
        seq += 1
        rows.append(_csv_line([f"GD2019{seq:06d}", question, answer, tag, stamp], "\r\n"))
        if i in ragged_at:
            when = times[seq]
            seq += 1
            line = LEGACY_RAGGED[ragged_at.index(i)]
            rows.append(
                line.format(
                    tid=f"GD2019{seq:06d}", time=f"{when.year}/{when.month}/{when.day} {when:%H:%M}"
                )
                + "\r\n"
            )
    text = _csv_line(LEGACY_HEADER, "\r\n") + "".join(rows)
    return text.encode("gbk"), unique_in_order(pii)


# ---------------------------------------------------------------------------------------------
# Source 3: crowd_qa (data/raw/crowd/qa_pairs.csv, UTF-8)
# ---------------------------------------------------------------------------------------------
CROWD_ROWS = 800
CROWD_WORKERS = [f"W{n:03d}" for n in range(1, 37)]
CROWD_BAD_WORKERS = ["W013", "W027", "W031"]
CROWD_HEADER = ["worker_id", "question", "answer", "scenario", "submitted_at"]
EMOJI = ["👍", "😊", "🙏", "🤔", "👌", "😂"]
MASHING = [
    "jkljkljkl",
    "sdfghjkl",
    "qwerqwerqwer",
    "ddddddddd",
    "asdasdasd",
    "zxcvbnm",
    "hjkhjkhjk",
]


def _first_sentence(text: str) -> str:
    for stop in ("。", ". "):
        if stop in text:
            return text.split(stop, 1)[0] + stop.strip()
    return text


def _crowd_good_pair(rng: random.Random, scenario: str, english: bool) -> tuple[str, str]:
    """A worker's Q/A: a customer-style question and an answer copied, shortened or from the FAQ."""
    lang = "en" if english else "zh"
    kb, slots = KB[scenario], make_slots(rng)
    faq = (FAQ_EN if english else FAQ_ZH)[scenario]
    if rng.random() < 0.3:
        question, answer = rng.choice(faq)
        answer = answer.replace("\n", " " if english else "；") if rng.random() < 0.9 else answer
    else:
        q_idx = rng.randrange(len(kb[f"{lang}_q"]))
        question = rng.choice(EN_Q_PREFIXES if english else ZH_Q_PREFIXES) + fill(
            kb[f"{lang}_q"][q_idx], slots
        )
        answer = fill(kb[f"{lang}_a"][rng.choice(KB_LINKS[scenario][lang][q_idx])], slots)
        if rng.random() < 0.25:
            answer = _first_sentence(answer)
    if not english and rng.random() < 0.05:
        question, answer = "问：" + question, "答：" + answer
    return question, answer


def _crowd_junk(rng: random.Random, question: str, answer: str) -> tuple[str, str]:
    """What careless or gaming workers submit."""
    kind = rng.choice(
        [
            "empty",
            "empty",
            "asdf",
            "test",
            "dots",
            "echo",
            "echo",
            "emoji",
            "mash",
            "long",
            "long",
            "bad_q",
            "filler",
        ]
    )
    if kind == "empty":
        return question, ""
    if kind == "asdf":
        return question, "asdf"
    if kind == "test":
        return question, "测试测试测试测试"
    if kind == "dots":
        return question, rng.choice(["。。。。。", "......", "？？？"])
    if kind == "echo":
        return question, question
    if kind == "emoji":
        return question, rng.choice(EMOJI)
    if kind == "mash":
        return question, rng.choice(MASHING)
    if kind == "long":
        unit = rng.choice(["好的", "积分积分", _first_sentence(answer)])
        return question, unit * (rng.randint(40, 120) if len(unit) < 5 else rng.randint(15, 30))
    if kind == "bad_q":
        return rng.choice(["111", "test", "？？？", "问题"]), answer
    return question, rng.choice(["不知道", "同上", "无", "见上"])


def make_crowd_qa(rng: random.Random) -> tuple[str, list[str]]:
    """Return the UTF-8 CSV text of the crowd Q/A batch and the PII values planted in it."""
    start = datetime(2024, 4, 8, 9, 0)
    rows: list[tuple[datetime, list[str]]] = []
    pii: list[str] = []
    n_dupes = 16
    for _ in range(CROWD_ROWS - n_dupes):
        scenario = pick_scenario(rng)
        english = rng.random() < 0.12
        question, answer = _crowd_good_pair(rng, scenario, english)
        junk = rng.random() < 0.10
        worker = rng.choice(CROWD_BAD_WORKERS if junk and rng.random() < 0.7 else CROWD_WORKERS)
        if junk:
            question, answer = _crowd_junk(rng, question, answer)
        elif rng.random() < 0.015:
            value = make_pii(rng, rng.choice(["mobile", "card", "email"]))
            pii.append(value)
            question = question.rstrip("？?") + (
                f" My details: {value}" if english else f"，比如我的是{value}"
            )
        label = (
            scenario if rng.random() > 0.03 else rng.choice(SCENARIO_KEYS)
        )  # workers mislabel a few
        when = start + timedelta(seconds=rng.randint(0, 18 * 24 * 3600))
        rows.append(
            (when, [worker, question, answer, CROWD_TAGS[label], f"{when:%Y-%m-%d %H:%M:%S}"])
        )
    for when, fields in rng.sample(rows, n_dupes):  # double submissions a few seconds apart
        again = when + timedelta(seconds=rng.randint(1, 5))
        rows.append((again, [*fields[:4], f"{again:%Y-%m-%d %H:%M:%S}"]))
    rows.sort(key=lambda r: (r[0], r[1]))
    text = _csv_line(CROWD_HEADER, "\n") + "".join(_csv_line(fields, "\n") for _, fields in rows)
    return text, unique_in_order(pii)


# ---------------------------------------------------------------------------------------------
# Sources 4 and 5: bank_faq_html (data/raw/crawl/*.html) and bank_manual_md (data/raw/crawl/*.md)
# Section headings (<h2> in HTML, "## " in markdown, under an <h1>/"# " page title) carry the raw
# scenario label; questions are <h3> / <dt> in HTML and "### " in markdown (heading_levels: [3]).
# ---------------------------------------------------------------------------------------------
HTML_PAGES = [  # file, page title, scenarios, question style
    ("faq_bill.html", "账单常见问题", ["bill"], "h3"),
    ("faq_points.html", "积分常见问题", ["redeem", "expiry"], "dl"),
    ("faq_repayment.html", "还款与逾期常见问题", ["overdue"], "prefixed"),
    ("faq_limit.html", "信用额度常见问题", ["limit"], "numbered"),
    ("faq_card_security.html", "卡片安全常见问题", ["loss", "freeze"], "h3"),
    ("faq_installment.html", "分期常见问题", ["install"], "dl"),
    ("faq_annual_fee.html", "年费常见问题", ["fee"], "h3"),
    ("faq_en.html", "Credit Card FAQ", SCENARIO_KEYS, "h3"),
]
MD_PAGES = [
    (
        "manual_billing_repayment.md",
        "星海银行信用卡用户手册（账单与还款篇）",
        ["bill", "overdue", "install"],
    ),
    ("manual_points.md", "星海银行信用卡用户手册（积分与年费篇）", ["redeem", "expiry", "fee"]),
    (
        "manual_card_services.md",
        "星海银行信用卡用户手册（卡片服务篇）",
        ["limit", "loss", "freeze"],
    ),
    ("manual_en.md", "Xinghai Bank Credit Card User Guide", SCENARIO_KEYS),
]
HTML_HEAD_SCRIPT = """<script>
var _hmt = _hmt || [];
(function() {
  var hm = document.createElement("script");
  hm.src = "https://stats.example.com/hm.js?3f2a9c";
  var s = document.getElementsByTagName("script")[0];
  s.parentNode.insertBefore(hm, s);
})();
window.pageConfig = {channel: "信用卡", module: "常见问题", lang: "%s"};
</script>"""
HTML_TAIL_SCRIPT = """<script src="/static/js/jquery-1.12.4.min.js"></script>
<script>
$(function () {
  $(".qa h3, dl.faq dt").on("click", function () { $(this).next().toggle(); });
  if (window.console) { console.log("faq loaded <h3> handlers"); }
});
</script>"""
EMPTY_QUESTIONS_ZH = ["更多问题敬请期待", "其他问题（待补充）"]
EMPTY_QUESTIONS_EN = ["More questions coming soon"]


def all_faq() -> dict[str, dict[str, list[tuple[str, str]]]]:
    variants = faq_variants_zh()
    zh = {k: FAQ_ZH[k] + variants[k] for k in SCENARIO_KEYS}
    return {"zh": zh, "en": {k: list(FAQ_EN[k]) for k in SCENARIO_KEYS}}


def _answer_html(answer: str, rng: random.Random) -> str:
    """Paragraphs, bullet and numbered lists; some pages use <br> instead, some carry &nbsp;."""
    blocks: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal items, list_tag
        if items:
            blocks.append(
                f"<{list_tag}>" + "".join(f"<li>{it}</li>" for it in items) + f"</{list_tag}>"
            )
        items, list_tag = [], ""

    for line in answer.split("\n"):
        text = html.escape(line, quote=False)
        if line.startswith("- "):
            list_tag = list_tag or "ul"
            items.append(text[2:])
        elif line[:1].isdigit() and line[1:3] == ". ":
            list_tag = list_tag or "ol"
            items.append(text[3:])
        else:
            flush()
            blocks.append(f"<p>{text}</p>")
    flush()
    body = "\n".join(blocks)
    roll = rng.random()
    if roll < 0.12:
        body = body.replace("</p>\n<p>", "<br>\n")
    elif roll < 0.25:
        body = body.replace("，", "，&nbsp;", 1)
    elif roll < 0.32:
        body = body.replace("手机银行APP", '<a href="/mobile/">手机银行APP</a>', 1)
    elif roll < 0.38:
        body = body.replace("<p>", "<p><strong>答：</strong>", 1)
    return body


def _html_page(
    title: str, scenarios: list[str], style: str, english: bool, rng: random.Random, footer_h3: bool
) -> str:
    faq = all_faq()["en" if english else "zh"]
    lang = "en" if english else "zh-CN"
    nav = (
        '<nav class="top-nav"><a href="/">Home</a> | <a href="/cards/">Cards</a> | <a href="/faq/">FAQ</a> | <a href="/login">Log in</a></nav>'
        if english
        else '<nav class="top-nav"><a href="/">首页</a> | <a href="/card/">信用卡</a> | <a href="/card/apply/">在线申卡</a> | <a href="/faq/">常见问题</a> | <a href="/login">登录</a></nav>'
    )
    crumb = (
        "Home &gt; Cards &gt; FAQ" if english else f"首页 &gt; 信用卡 &gt; 常见问题 &gt; {title}"
    )
    related = (
        "Related: Rewards Mall, Card Activation"
        if english
        else "热门推荐：积分商城 | 信用卡激活 | 境外用卡"
    )
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} - {BANK_EN if english else BANK}信用卡中心</title>",
        '<link rel="stylesheet" href="/static/css/faq.css?v=20240318">',
        HTML_HEAD_SCRIPT % lang,
        "</head>",
        "<body>",
        nav,
        f'<div class="breadcrumb">{crumb}</div>',
        f'<aside class="related"><h4>{"Related" if english else "相关问题"}</h4><p>{related}</p></aside>',
        '<div class="faq-content">',
        f"<h1>{title}</h1>",
    ]
    number = 0
    for scenario in scenarios:
        out.append(f"<h2>{(SECTION_EN if english else SECTION_ZH)[scenario]}</h2>")
        pairs = list(faq[scenario])
        if style == "dl":
            out.append('<dl class="faq">')
        for question, answer in pairs:
            number += 1
            body = _answer_html(answer, rng)
            if style == "dl":
                out.append(f"<dt>{html.escape(question, quote=False)}</dt>\n<dd>{body}</dd>")
            elif style == "prefixed":
                out.append(
                    f'<div class="qa"><h3>问：{html.escape(question, quote=False)}</h3>\n{body.replace("<p>", "<p>答：", 1)}</div>'
                )
            elif style == "numbered":
                out.append(
                    f'<div class="qa"><h3><span class="q-num">Q{number}</span> {html.escape(question, quote=False)}</h3>\n{body}</div>'
                )
            else:
                out.append(
                    f'<div class="qa"><h3>{html.escape(question, quote=False)}</h3>\n{body}</div>'
                )
        if style == "dl":
            out.append("</dl>")
    if style != "dl":  # a heading the editors never filled in
        empty = rng.choice(EMPTY_QUESTIONS_EN if english else EMPTY_QUESTIONS_ZH)
        out.append(f'<div class="qa"><h3>{empty}</h3></div>')
    out.append("</div>")
    footer = ["<footer>"]
    if footer_h3:
        footer.append(f"<h3>{'Contact us' if english else '联系我们'}</h3>")
    footer.append(f"<p>{'Hotline' if english else '客服热线'}：{HOTLINE}（7×24）</p>")
    footer.append(f"<p>&copy; 2024 {BANK_EN if english else BANK} 版权所有 | 沪ICP备00000000号</p>")
    footer.append("</footer>")
    out += footer
    out.append(HTML_TAIL_SCRIPT)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _reword_question_md(question: str, rng: random.Random) -> str:
    """The manual was written from the same notes as the FAQ: same questions, slightly reworded."""
    roll = rng.random()
    if roll < 0.15 and "如何" in question:
        return question.replace("如何", "怎样", 1)
    if roll < 0.25:
        return question.rstrip("？?")
    if roll < 0.30:
        return "Q: " + question if question.isascii() else "问：" + question
    return question


def _answer_md(answer: str, rng: random.Random) -> str:
    text = answer.replace("手机银行APP", "**手机银行APP**", 1) if rng.random() < 0.3 else answer
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        is_item = line.startswith("- ") or (line[:1].isdigit() and line[1:3] == ". ")
        prev_item = i > 0 and (
            lines[i - 1].startswith("- ")
            or (lines[i - 1][:1].isdigit() and lines[i - 1][1:3] == ". ")
        )
        if out and not (is_item and prev_item):
            out.append("")
        out.append(line)
    if rng.random() < 0.12:
        out += [
            "",
            "> 提示：以上内容以星海银行官方最新公告为准。"
            if not answer.isascii()
            else "> Note: terms may change; see the latest notice.",
        ]
    return "\n".join(out)


FEE_TABLE_MD = """| 卡种 | 年费 | 减免条件 |
| --- | --- | --- |
| 普卡 | 100元 | 年刷卡6次 |
| 金卡 | 200元 | 年刷卡6次 |
| 白金卡 | 2000元 | 10万积分抵扣 |"""


def _md_page(title: str, scenarios: list[str], english: bool, rng: random.Random) -> str:
    faq = all_faq()["en" if english else "zh"]
    intro = (
        "This guide explains everyday credit card services. Menu paths refer to the mobile banking app."
        if english
        else "本手册介绍星海银行信用卡常用业务的办理方式，文中菜单路径均以手机银行APP最新版本为准。"
    )
    out = [
        "---",
        f"title: {title}",
        "version: 2024.03",
        "updated: 2024-03-18",
        "---",
        "",
        f"# {title}",
        "",
        intro,
        "",
    ]
    for scenario in scenarios:
        out += [f"## {(SECTION_EN if english else SECTION_ZH)[scenario]}", ""]
        for n, (question, answer) in enumerate(faq[scenario]):
            if n and rng.random() < 0.1:
                continue  # the manual does not repeat every FAQ entry
            body = _answer_md(answer, rng)
            if scenario == "fee" and n == 0 and not english:
                body += "\n\n" + FEE_TABLE_MD
            out += [f"### {_reword_question_md(question, rng)}", "", body, ""]
    empty = "Other questions" if english else "常见问题补充（待更新）"
    out += [f"### {empty}", ""]
    return "\n".join(out)


def make_crawl(rng: random.Random) -> dict[str, str]:
    """Return {file name: text} for the crawled FAQ pages and manual pages."""
    pages: dict[str, str] = {}
    for n, (name, title, scenarios, style) in enumerate(HTML_PAGES):
        english = name.endswith("_en.html")
        pages[name] = _html_page(title, scenarios, style, english, rng, footer_h3=n in (0, 4, 7))
    for name, title, scenarios in MD_PAGES:
        pages[name] = _md_page(title, scenarios, name.endswith("_en.md"), rng)
    return pages


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
CHAT_PATH = Path("data/raw/chat_logs/sessions.jsonl")
LEGACY_PATH = Path("data/raw/legacy/tickets_2019.csv")
CRAWL_DIR = Path("data/raw/crawl")
CROWD_PATH = Path("data/raw/crowd/qa_pairs.csv")
PII_PATH = Path("tests/data/raw_pii_values.txt")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main(out_dir: str | Path | None = None) -> dict[str, int]:
    """Write every example raw file under ``out_dir`` (default: the repository root).

    Returns the number of files written per source directory; the files themselves are
    byte-identical on every run.
    """
    root = Path(out_dir) if out_dir is not None else ROOT
    chat_text, chat_pii = make_chat_logs(random.Random(SEEDS["chat_logs"]))
    legacy_bytes, legacy_pii = make_legacy_tickets(random.Random(SEEDS["legacy"]))
    pages = make_crawl(random.Random(SEEDS["crawl"]))
    crowd_text, crowd_pii = make_crowd_qa(random.Random(SEEDS["crowd"]))

    _write(root / CHAT_PATH, chat_text.encode("utf-8"))
    _write(root / LEGACY_PATH, legacy_bytes)
    for name, text in pages.items():
        _write(root / CRAWL_DIR / name, text.encode("utf-8"))
    _write(root / CROWD_PATH, crowd_text.encode("utf-8"))
    pii = unique_in_order(chat_pii + legacy_pii + crowd_pii)
    _write(root / PII_PATH, "".join(v + "\n" for v in pii).encode("utf-8"))
    return {
        "chat_logs_lines": chat_text.count("\n"),
        "crawl_pages": len(pages),
        "pii_values": len(pii),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output root (default: the repository root)")
    args = parser.parse_args()
    print(json.dumps(main(args.out), ensure_ascii=False))
