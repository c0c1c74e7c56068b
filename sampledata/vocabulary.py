"""The 棋牌 platform's vocabulary and how its values get written.

Names (simplified, traditional, pinyin), cities, mobile numbers and their written styles, e-mail
domains, games, recharge amounts, payment channels, social actions, survey comments and the hourly
rhythm of activity.
"""

from __future__ import annotations

import polars as pl

# (simplified, traditional, pinyin, relative frequency in %)
SURNAMES: tuple[tuple[str, str, str, float], ...] = (
    ("王", "王", "wang", 7.1),
    ("李", "李", "li", 7.0),
    ("张", "張", "zhang", 6.7),
    ("刘", "劉", "liu", 5.4),
    ("陈", "陳", "chen", 4.5),
    ("杨", "楊", "yang", 3.1),
    ("黄", "黃", "huang", 2.2),
    ("赵", "趙", "zhao", 2.0),
    ("吴", "吳", "wu", 1.9),
    ("周", "周", "zhou", 1.9),
    ("徐", "徐", "xu", 1.3),
    ("孙", "孫", "sun", 1.2),
    ("马", "馬", "ma", 1.1),
    ("朱", "朱", "zhu", 1.1),
    ("胡", "胡", "hu", 1.0),
    ("郭", "郭", "guo", 1.0),
    ("何", "何", "he", 0.9),
    ("高", "高", "gao", 0.9),
    ("林", "林", "lin", 0.9),
    ("罗", "羅", "luo", 0.9),
    ("郑", "鄭", "zheng", 0.8),
    ("梁", "梁", "liang", 0.8),
    ("谢", "謝", "xie", 0.7),
    ("宋", "宋", "song", 0.7),
    ("唐", "唐", "tang", 0.6),
    ("许", "許", "xu", 0.6),
    ("韩", "韓", "han", 0.6),
    ("冯", "馮", "feng", 0.6),
    ("邓", "鄧", "deng", 0.6),
    ("曹", "曹", "cao", 0.6),
    ("彭", "彭", "peng", 0.5),
    ("曾", "曾", "zeng", 0.5),
    ("田", "田", "tian", 0.5),
    ("董", "董", "dong", 0.5),
    ("袁", "袁", "yuan", 0.5),
    ("潘", "潘", "pan", 0.4),
    ("蒋", "蔣", "jiang", 0.4),
    ("蔡", "蔡", "cai", 0.4),
    ("余", "余", "yu", 0.4),
    ("杜", "杜", "du", 0.4),
    ("叶", "葉", "ye", 0.4),
    ("程", "程", "cheng", 0.4),
    ("苏", "蘇", "su", 0.4),
    ("魏", "魏", "wei", 0.4),
    ("吕", "呂", "lv", 0.4),
    ("丁", "丁", "ding", 0.4),
    ("任", "任", "ren", 0.4),
    ("沈", "沈", "shen", 0.4),
)

# Given-name characters (simplified, traditional, pinyin), male-leaning then female-leaning.
GIVEN_MALE: tuple[tuple[str, str, str], ...] = (
    ("伟", "偉", "wei"),
    ("强", "強", "qiang"),
    ("军", "軍", "jun"),
    ("杰", "傑", "jie"),
    ("涛", "濤", "tao"),
    ("华", "華", "hua"),
    ("飞", "飛", "fei"),
    ("鹏", "鵬", "peng"),
    ("辉", "輝", "hui"),
    ("龙", "龍", "long"),
    ("刚", "剛", "gang"),
    ("明", "明", "ming"),
    ("磊", "磊", "lei"),
    ("勇", "勇", "yong"),
    ("斌", "斌", "bin"),
    ("浩", "浩", "hao"),
    ("宇", "宇", "yu"),
    ("俊", "俊", "jun"),
    ("峰", "峰", "feng"),
    ("建", "建", "jian"),
    ("国", "國", "guo"),
    ("文", "文", "wen"),
    ("志", "志", "zhi"),
    ("超", "超", "chao"),
    ("波", "波", "bo"),
    ("东", "東", "dong"),
    ("海", "海", "hai"),
    ("鑫", "鑫", "xin"),
)
GIVEN_FEMALE: tuple[tuple[str, str, str], ...] = (
    ("静", "靜", "jing"),
    ("丽", "麗", "li"),
    ("艳", "艷", "yan"),
    ("敏", "敏", "min"),
    ("芳", "芳", "fang"),
    ("娜", "娜", "na"),
    ("秀", "秀", "xiu"),
    ("英", "英", "ying"),
    ("玲", "玲", "ling"),
    ("婷", "婷", "ting"),
    ("燕", "燕", "yan"),
    ("霞", "霞", "xia"),
    ("红", "紅", "hong"),
    ("娟", "娟", "juan"),
    ("梅", "梅", "mei"),
    ("琳", "琳", "lin"),
    ("雪", "雪", "xue"),
    ("慧", "慧", "hui"),
    ("倩", "倩", "qian"),
    ("颖", "穎", "ying"),
    ("洁", "潔", "jie"),
    ("琴", "琴", "qin"),
    ("晶", "晶", "jing"),
    ("佳", "佳", "jia"),
    ("兰", "蘭", "lan"),
    ("凤", "鳳", "feng"),
)
GIVEN: tuple[tuple[str, str, str], ...] = GIVEN_MALE + GIVEN_FEMALE
SHARE_SINGLE_GIVEN = 0.3  # share of persons with a one-character given name

TRADITIONAL: dict[str, str] = {s: t for s, t, *_ in SURNAMES + GIVEN if s != t}
_TRADITIONAL_TABLE = str.maketrans(TRADITIONAL)

# Given-name characters and a character of the same sound that a pinyin keyboard offers beside it
# (the typo a Chinese name gets: 杰 typed as 洁).
HOMOPHONES: dict[str, str] = {
    "伟": "玮",
    "强": "蔷",
    "军": "君",
    "杰": "洁",
    "涛": "滔",
    "华": "桦",
    "飞": "菲",
    "鹏": "朋",
    "辉": "晖",
    "龙": "隆",
    "刚": "钢",
    "明": "铭",
    "磊": "垒",
    "勇": "永",
    "斌": "彬",
    "浩": "皓",
    "宇": "雨",
    "俊": "骏",
    "峰": "锋",
    "建": "健",
    "国": "郭",
    "文": "雯",
    "志": "智",
    "超": "潮",
    "波": "博",
    "东": "冬",
    "海": "凯",
    "鑫": "欣",
    "静": "婧",
    "丽": "莉",
    "艳": "燕",
    "敏": "民",
    "芳": "方",
    "娜": "纳",
    "秀": "绣",
    "英": "瑛",
    "玲": "铃",
    "婷": "庭",
    "燕": "艳",
    "霞": "侠",
    "红": "虹",
    "娟": "鹃",
    "梅": "玫",
    "琳": "林",
    "雪": "学",
    "慧": "惠",
    "倩": "茜",
    "颖": "莹",
    "洁": "杰",
    "琴": "芹",
    "晶": "静",
    "佳": "嘉",
    "兰": "岚",
    "凤": "峰",
}
NICKNAME_PREFIXES: tuple[str, ...] = ("小", "阿")  # 小明, 阿明: what friends (and some sign-up forms) get
# English given names some members use instead of their Chinese one, each with its short form.
ENGLISH_MALE: tuple[tuple[str, str], ...] = (
    ("William", "Bill"),
    ("Robert", "Bob"),
    ("James", "Jim"),
    ("Michael", "Mike"),
    ("David", "Dave"),
    ("Thomas", "Tom"),
    ("Daniel", "Dan"),
    ("Joseph", "Joe"),
    ("Steven", "Steve"),
    ("Anthony", "Tony"),
    ("Richard", "Rick"),
    ("Alexander", "Alex"),
    ("Benjamin", "Ben"),
    ("Nicholas", "Nick"),
    ("Andrew", "Andy"),
    ("Christopher", "Chris"),
)
ENGLISH_FEMALE: tuple[tuple[str, str], ...] = (
    ("Elizabeth", "Liz"),
    ("Jennifer", "Jenny"),
    ("Katherine", "Kate"),
    ("Margaret", "Maggie"),
    ("Rebecca", "Becky"),
    ("Christina", "Tina"),
    ("Victoria", "Vicky"),
    ("Susan", "Sue"),
    ("Jessica", "Jess"),
    ("Amanda", "Mandy"),
    ("Patricia", "Pat"),
    ("Catherine", "Cathy"),
    ("Deborah", "Debbie"),
    ("Samantha", "Sam"),
    ("Stephanie", "Steph"),
    ("Abigail", "Abby"),
)

# (city, province, relative weight)
CITIES: tuple[tuple[str, str, float], ...] = (
    ("北京", "北京", 9.0),
    ("上海", "上海", 9.0),
    ("广州", "广东", 8.0),
    ("深圳", "广东", 8.0),
    ("成都", "四川", 7.0),
    ("杭州", "浙江", 6.0),
    ("武汉", "湖北", 6.0),
    ("重庆", "重庆", 7.0),
    ("南京", "江苏", 5.0),
    ("西安", "陕西", 5.0),
    ("长沙", "湖南", 5.0),
    ("沈阳", "辽宁", 4.0),
    ("天津", "天津", 5.0),
    ("郑州", "河南", 5.0),
    ("济南", "山东", 4.0),
    ("哈尔滨", "黑龙江", 3.0),
    ("福州", "福建", 3.0),
    ("昆明", "云南", 3.0),
)
SHARE_CITY_SUFFIX = 0.10  # 广州 written as 广州市

# Mobile prefixes of the three mainland carriers (13x, 15x, 17x, 18x, 19x).
PHONE_PREFIXES: tuple[int, ...] = (
    130,
    131,
    132,
    133,
    134,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    170,
    171,
    173,
    175,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    184,
    185,
    186,
    187,
    188,
    189,
    191,
    193,
    195,
    196,
    197,
    198,
    199,
)
PHONE_SUFFIXES = 99_999_999  # last eight digits run 00000001..99999999, so 13800000000 never occurs
# How one phone gets written: the three parts are 138 / 0013 / 8000. Style 0 is canonical.
PHONE_STYLES: tuple[str, ...] = (
    "{}{}{}",
    "+86 {}-{}-{}",
    "{} {} {}",
    "86{}{}{}",
    "+86{}{}{}",
    "{}-{}-{}",
)
PLACEHOLDER_PHONE = "13800000000"
PLACEHOLDER_EMAIL = "test@test.com"

EMAIL_DOMAINS: tuple[str, ...] = ("163.com", "126.com", "gmail.com", "sina.com", "foxmail.com")
EMAIL_DOMAIN_P: tuple[float, ...] = (0.45, 0.2, 0.15, 0.12, 0.08)
SHARE_NO_EMAIL = 0.25
SHARE_QQ_EMAIL = 0.35  # of persons with an e-mail
QQ_FIRST = 100_000
QQ_DOMAIN = 3_000_000_000

GAME_TYPES: tuple[str, ...] = ("斗地主", "麻将", "德州扑克", "象棋", "跑得快")
GAME_P: tuple[float, ...] = (0.36, 0.28, 0.12, 0.08, 0.16)
GAME_MEDIAN_S: tuple[float, ...] = (300.0, 1200.0, 1500.0, 900.0, 240.0)
SHARE_FAVOURITE_GAME = 0.7
STAKES: tuple[int, ...] = (10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000)

RECHARGE_CNY: tuple[int, ...] = (6, 30, 68, 128, 328, 648)
ODD_AMOUNT_CENTS: tuple[int, ...] = (1250, 2580, 990, 4560, 300, 1999, 8800)
SHARE_ODD_AMOUNT = 0.02
CHANNELS: tuple[str, ...] = ("微信支付", "支付宝", "银联", "Apple Pay")
CHANNEL_P: tuple[float, ...] = (0.5, 0.38, 0.05, 0.07)
STATUSES: tuple[str, ...] = ("SUCCESS", "FAILED", "PENDING", "REFUND")
ORDER_STATUS_P: tuple[float, ...] = (0.9585, 0.031, 0.0105)  # REFUND rows are added separately

ACTIONS: tuple[str, ...] = ("like", "share", "comment")
ACTION_P: tuple[float, ...] = (0.6, 0.25, 0.15)

COMMENT_PHRASES: tuple[str, ...] = (
    "斗地主匹配太慢",
    "希望增加更多麻将玩法",
    "客服回复很及时",
    "充值到账有点慢",
    "界面很好看",
    "经常掉线, 体验不好",
    "德州扑克的对手太强了",
    "活动奖励太少",
    "希望出一个象棋残局模式",
    "广告太多了",
    "朋友约局很方便",
    "金币消耗太快",
    "新手引导不够清楚",
    "希望支持夜间模式",
    "跑得快很好玩, 推荐给朋友了",
    "总体满意",
)
COMMENT_SEPARATORS: tuple[str, ...] = ("，", "。", "\n", ", ")
SATISFACTION_P: tuple[float, ...] = (0.06, 0.1, 0.24, 0.35, 0.25)

# Relative activity by local hour of day: quiet before dawn, lunch bump, evening peak.
HOUR_WEIGHTS: tuple[float, ...] = (
    3.0,
    2.0,
    1.2,
    0.7,
    0.5,
    0.5,
    0.8,
    1.5,
    2.2,
    2.6,
    3.0,
    3.4,
    4.2,
    4.0,
    3.4,
    3.3,
    3.4,
    3.8,
    4.4,
    5.4,
    6.5,
    7.0,
    6.4,
    4.8,
)


def to_traditional(text: str) -> str:
    """Write the name characters this generator uses in traditional form (张伟 -> 張偉)."""
    return text.translate(_TRADITIONAL_TABLE)


def phone_variant(phone: str, style: int) -> str:
    """Write a canonical 11-digit mobile number in one of PHONE_STYLES (1: '+86 138-0013-8000')."""
    if len(phone) != 11 or not phone.isdigit():
        raise ValueError(f"not a canonical 11-digit mobile number: {phone!r}")
    if not 0 <= style < len(PHONE_STYLES):
        raise ValueError(f"style must be in 0..{len(PHONE_STYLES) - 1}, got {style}")
    return PHONE_STYLES[style].format(phone[:3], phone[3:7], phone[7:])


def phone_variant_expr(phone: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Vectorized phone_variant: write each canonical phone in its row's style."""
    parts = (phone.str.slice(0, 3), phone.str.slice(3, 4), phone.str.slice(7, 4))
    out = pl.when(style == 0).then(phone)
    for k, template in enumerate(PHONE_STYLES[1:], start=1):
        out = out.when(style == k).then(pl.format(template, *parts))
    return out.otherwise(phone)


def email_variant(email: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Re-type an e-mail: other letter case and/or stray spaces (style 0 keeps it)."""
    capital = email.str.slice(0, 1).str.to_uppercase() + email.str.slice(1)
    return (
        pl.when(style == 1)
        .then(pl.lit(" ") + email + pl.lit(" "))
        .when(style == 2)
        .then(email.str.to_uppercase())
        .when(style == 3)
        .then(capital + pl.lit(" "))
        .when(style == 4)
        .then(pl.lit("  ") + email.str.to_uppercase())
        .otherwise(email)
    )
