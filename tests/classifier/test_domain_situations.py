"""Situations, not sentences: each grading rule on wordings the eval sets do not hold (issue 16).

Every case runs in Simplified and in Traditional (OpenCC s2t), so a rule that only knows one
script fails here.
"""

from __future__ import annotations

import pytest

from classifier.domain import Classifier
from contracts import Channel, Kind
from tests._builders.situations import Case, assert_graded_as_domain_says, numbered

H, W = Channel.HOTLINE, Channel.WECHAT
C, E, OUT = Kind.COMPLAINT, Kind.ENQUIRY, Kind.OUT_OF_SCOPE
OVER, REG = {"over_level"}, {"over_level", "regulator"}

ALREADY_WENT: list[Case] = [
    ("这事我前天已经递交到通信管理局了，你们看着办", H, C, "P2", REG, set()),
    ("上周专门跑了一趟消协，人家让我回来等你们电话", W, C, "P2", REG, set()),
    ("我把材料寄给了工信部申诉中心，回执都收到了，扣的钱还没退", H, C, "P2", REG, set()),
    ("市场监督管理局那边我已经登记过了，他们说会联系你们", H, C, "P2", REG, set()),
    ("家里网速的问题本人已于上月就此事向市场监督管理局书面反映至今", H, C, "P2", REG, set()),
    ("12345我都打过了，那边说已经转给你们，宽带还是不通", H, C, "P2", OVER, {"regulator"}),
    ("多扣钱这件事我已经写信给你们省公司了", H, C, "P2", OVER, set()),
]
NOT_WENT: list[Case] = [
    ("我打过10086了，也打过10000，都说登记了，话费还是多扣", H, C, "P4", set(), OVER),
    ("你再这样乱扣钱我就打12300去", H, C, "P4", set(), OVER),
    ("消协我还没去，先给你们一个机会把多扣的钱退了", W, C, "P4", set(), OVER),
    ("如果这周还不给退费，我就去市场监管局反映", W, C, "P4", set(), OVER),
    ("万一你们还是不处理断网的事，我只能找工信部了", H, C, "P4", set(), OVER),
]
ESCALATED: list[Case] = [
    ("该投诉经市分公司多次协调无果，已提交省公司处理，客户要求尽快退费", H, C, "P2", set(), OVER),
    ("县分公司搞不定这个宽带故障，已经升到省里协调了", H, C, "P2", set(), OVER),
]
MEDIA: list[Case] = [
    ("乱扣费这事昨晚上了我们市的民生新闻，你们还不联系我？", H, C, "P1", {"media"}, set()),
    ("都市频道的记者今天下午会到你们营业厅，问我被扣费的事", H, C, "P2", {"media"}, set()),
    ("你们客服的回复我已经截图发到微博上了，大家评评理", W, C, "P2", {"media"}, set()),
    ("要是今天再不来修网，我就发朋友圈让大家都看看", W, C, "P2", {"media"}, set()),
    ("听同事说他在网上一曝光你们就给退了，我不想那样，你们退钱吧", W, C, "P4", set(), {"media"}),
    ("你们的宣传片在电视上天天播，说信号全覆盖，我家就没信号", H, C, "P4", set(), {"media"}),
    ("我不会发到网上的，大家都不容易，你们赶紧把网修好", W, C, "P4", set(), {"media"}),
]
LITIGATION: list[Case] = [
    ("我的律师已经把起诉状交到区法院了，多扣的话费你们等着退吧", H, C, "P1", {"litigation"}, set()),
    ("法院的传票你们应该已经收到了吧，乱扣费的事法庭见", H, C, "P1", {"litigation"}, set()),
    ("再不赔偿我断网的损失，咱们法庭上见", H, C, "P2", {"litigation"}, set()),
    ("我没想过要告你们，只想把多扣的钱退了", H, C, "P4", set(), {"litigation"}),
]
PEOPLE: list[Case] = [
    ("我们小区十五户人家都签了名，要求你们把楼顶的基站挪走", H, C, "P1", {"collective"}, set()),
    ("我和隔壁两家，一共三户，一起来反映宽带断网的事", H, C, "P2", {"collective"}, set()),
    ("我们四个室友商量好了一起来投诉宿舍的网速", W, C, "P2", {"collective"}, set()),
    ("我们单位一百多名职工的手机今天都收不到短信，影响工作", H, C, "P4", set(), {"collective"}),
    ("我们公司三十多人都用你们的专线，今天全部断网", H, C, "P4", set(), {"collective"}),
    ("医院里八十多个医护人员的集团短号今天都打不通了", H, C, "P4", set(), {"collective"}),
    ("如果再不修，我们整栋楼三十户都会联名投诉", H, C, "P4", set(), {"collective"}),
]
SAFETY: list[Case] = [
    ("还好当时没人受伤，可你们那根电线杆倒在路中间太危险了", H, C, "P4", set(), {"safety"}),
    ("要是砸到孩子怎么办？你们那个箱子挂得摇摇欲坠", H, C, "P4", set(), {"safety"}),
    ("我上周就把这事捅到了消协，网还是不通", H, C, "P2", REG, {"safety"}),
    ("那人掏出刀子说要捅营业员，保安把他按住了", H, C, "P1", {"safety"}, set()),
]
FRAUD: list[Case] = [
    (
        "有个自称你们工作人员的人加我微信，说帮我提速，让我先转两百块押金",
        W,
        OUT,
        None,
        set(),
        set(),
    ),
    (
        "收到短信说积分能换现金，链接点进去让填银行卡号和密码，给你们说一声",
        W,
        OUT,
        None,
        set(),
        set(),
    ),
    ("小区门口有人登记身份证就送鸡蛋，我怀疑是拿去办卡的", H, OUT, None, set(), set()),
    (
        "有人打电话说我抽中了一部手机，让我先交三百块邮费，你们查查这个号",
        H,
        OUT,
        None,
        set(),
        set(),
    ),
    (
        "菜市场有人说扫码免费领洗衣粉，要拍身份证，我妈拍了，会不会被拿去办卡",
        W,
        OUT,
        None,
        set(),
        set(),
    ),
    ("你们营业员骗我办了个五年的合约，我要退掉", H, C, "P4", set(), set()),
]
IMPORTANT: list[Case] = [
    ("我是市人大代表，你们营业厅排队一个多小时没人管", H, C, "P2", {"vip"}, set()),
    ("我这边是县教育局办公室，单位的宽带断了一上午了", H, C, "P2", {"vip"}, set()),
    ("客户系A类集团单位的联系人，反映专线今天中断三次", H, C, "P2", {"vip"}, set()),
    ("我不是什么金卡客户，就是个普通用户，但扣费也不能这样乱扣吧", H, C, "P4", set(), {"vip"}),
    ("我是县医院办公室的，我们的宽带今天一直断", H, C, "P4", set(), {"vip"}),
    ("【重点关注客户】来电反映家里宽带又断了", H, C, "P3", {"sensitive"}, set()),
]
REPEAT: list[Case] = [
    ("第四回打你们热线了，宽带的事还是没人来修", H, C, "P3", {"repeat"}, set()),
    ("已经在你们网上营业厅反映过了，多扣的钱到今天还没退", W, C, "P3", {"repeat"}, set()),
]
ENQUIRY: list[Case] = [
    ("想请教一下，家里的宽带怎么改成按年付", W, E, None, set(), set()),
    ("问问你们，说好的送三个月宽带怎么每个月还扣一百多？", W, C, "P4", set(), set()),
]
SECOND_ROUND: list[Case] = [
    ("我在人民网领导留言板上留言了，说的就是你们乱收费", H, C, "P2", OVER, set()),
    ("领导留言板那边我上周写过了，宽带还是没人装", W, C, "P2", OVER, set()),
    ("市长信箱我上个月就写过了，装机的事到现在没人理", H, C, "P2", OVER, set()),
    ("工信部的人昨天给我打电话了，说会督促你们退钱", H, C, "P2", REG, set()),
    ("通管局那边已经联系我了，让我再等三天，网还是断的", H, C, "P2", REG, set()),
    ("我们是你们的集团客户，已经跟集团客户经理说了专线断网的事", H, C, "P4", set(), OVER),
    ("单位的集团短号两天打不通了，已经向集团专线的客服报了故障", H, C, "P4", set(), OVER),
    ("你们乱扣费的新闻已经在头条上刷屏了", H, C, "P1", {"media"}, set()),
    ("我家断网这件事的报道昨天在朋友圈刷屏了", H, C, "P1", {"media"}, set()),
    ("我保留起诉你们的权利，多扣的钱一分都不能少", H, C, "P2", {"litigation"}, set()),
    ("我本来想去法院告你们的，后来想想算了，退钱就行", H, C, "P4", set(), {"litigation"}),
    ("原本打算找记者曝光的，看你们态度还行就算了，网尽快修", H, C, "P4", set(), {"media"}),
    ("这个扣费问题你们不解决我就告到12315", H, C, "P4", set(), OVER),
    ("宽带再拖着不修就去找工信部，我说到做到", H, C, "P4", set(), OVER),
    ("客户在营业厅排队时突然晕倒，被送往医院，家属称是等得太久", H, C, "P1", {"safety"}, set()),
    ("你们的装维人员开车撞到了我家的小孩，腿上擦破了一大块皮", H, C, "P1", {"safety"}, set()),
    ("我是你们的钻石客户，十几年的老用户了，这个月被乱扣钱", H, C, "P2", {"vip"}, set()),
    ("本人是白金会员，宽带断了三天没人修", H, C, "P2", {"vip"}, set()),
]
THIRD_ROUND: list[Case] = [
    ("我前两天就在工信部申诉网站上提交过了，编号都有", H, C, "P2", REG, set()),
    ("昨天我把你们投到了消费者协会，多扣的钱看你们退不退", H, C, "P2", REG, set()),
    ("12315那边已经立案了，你们自己掂量", W, C, "P2", REG, {"litigation"}),
    ("消协的人说已经立案了，让我等通知，宽带费还在扣", H, C, "P2", REG, {"litigation"}),
    ("有个拿着摄像机的记者跟着客户进了营业厅", Channel.WALK_IN, C, "P2", {"media"}, set()),
    ("晚报的记者已经进了你们营业厅，正在问多收费的事", H, C, "P2", {"media"}, set()),
    ("我已将贵司诉至人民法院，请等候法院通知", Channel.LETTER, C, "P1", {"litigation"}, set()),
    ("乱扣费的事我上周已经告到区法院了", H, C, "P1", {"litigation"}, set()),
    ("客户与营业员发生肢体冲突，营业员脸被抓伤", Channel.WALK_IN, C, "P1", {"safety"}, set()),
    ("装机师傅跟我爸吵起来还推了他一把，我爸摔在地上起不来", H, C, "P1", {"safety"}, set()),
    ("我们小区有一千多户，就我家网不好，你们看看线路", H, C, "P4", set(), {"collective"}),
    ("我们学校三千多名学生都用你们的校园卡，我的卡今天用不了", H, C, "P4", set(), {"collective"}),
    ("你们的客服跟骗子一样，承诺的优惠根本没有", H, C, "P4", set(), set()),
    ("营业员说话像骗子似的，办的套餐跟说的完全不一样", H, C, "P4", set(), set()),
    ("该用户投诉经地市公司处理未果，现已提级省公司协调", H, C, "P2", set(), OVER),
    ("这件装机投诉县公司处理不了，已经提级到省公司", H, C, "P2", set(), OVER),
]
GROUPS = {
    "went": ALREADY_WENT,
    "not-went": NOT_WENT,
    "escalated": ESCALATED,
    "media": MEDIA,
    "litigation": LITIGATION,
    "people": PEOPLE,
    "safety": SAFETY,
    "fraud": FRAUD,
    "important": IMPORTANT,
    "repeat": REPEAT,
    "enquiry": ENQUIRY,
    "second": SECOND_ROUND,
    "third": THIRD_ROUND,
}
CASES, IDS = numbered(GROUPS)


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_situation_is_graded_as_domain_says(telecom: Classifier, case: Case, script: str) -> None:
    assert_graded_as_domain_says(telecom, case, script)
