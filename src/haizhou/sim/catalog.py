"""Vocabulary of the synthetic city (模拟城市词表): categories, profiles, names, MO terms.

Everything here is constant data. The mapping between the Chinese incident categories the files
carry and the stable English keys the code uses is :data:`CATEGORY_KEYS`; it never changes
meaning between versions (add keys, never reuse one).

=============  ========  ==========================================
English key    中文       notes
=============  ========  ==========================================
theft          盗窃       pickpocketing, e-bike and vehicle theft
burglary       入室盗窃   self-exciting (near-repeat) process
robbery        抢劫
fraud          诈骗       telecom and online fraud, victim attributes
dispute        纠纷       family, neighbour, economic disputes
traffic        交通       accidents and congestion
noise          噪音扰民
assistance     求助
fight          打架斗殴   nightlife profile
other          其他
=============  ========  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: English key → Chinese category as written in ``incidents.csv`` and ``cases.csv``.
CATEGORY_KEYS: dict[str, str] = {
    "theft": "盗窃",
    "burglary": "入室盗窃",
    "robbery": "抢劫",
    "fraud": "诈骗",
    "dispute": "纠纷",
    "traffic": "交通",
    "noise": "噪音扰民",
    "assistance": "求助",
    "fight": "打架斗殴",
    "other": "其他",
}
#: Chinese category → English key.
CATEGORY_ZH_TO_KEY: dict[str, str] = {zh: key for key, zh in CATEGORY_KEYS.items()}

DISTRICT_CODE = "320706"
DISTRICT_NAME = "海州分局"
#: Local-plane origin (lon, lat) in degrees; the district spans lon 119.13–119.25, lat 34.54–34.64.
ORIGIN_LON_LAT = (119.19, 34.59)

#: District boundary (海州区, simplified), WGS-84 (lon, lat), counter-clockwise.
DISTRICT_BOUNDARY_LON_LAT: tuple[tuple[float, float], ...] = (
    (119.135, 34.548),
    (119.160, 34.5415),
    (119.190, 34.5445),
    (119.220, 34.5420),
    (119.2460, 34.5520),
    (119.2490, 34.5750),
    (119.2430, 34.6000),
    (119.2480, 34.6250),
    (119.2320, 34.6380),
    (119.2050, 34.6360),
    (119.1800, 34.6390),
    (119.1520, 34.6340),
    (119.1330, 34.6200),
    (119.1370, 34.5950),
    (119.1310, 34.5700),
)

#: Police stations (派出所): code suffix, area name, station name, anchor (lon, lat).
STATIONS: tuple[tuple[str, str, str, float, float], ...] = (
    ("01", "新浦", "新浦派出所", 119.1830, 34.6010),
    ("02", "海州", "海州派出所", 119.1480, 34.5760),
    ("03", "新海", "新海派出所", 119.2000, 34.6150),
    ("04", "幸福路", "幸福路派出所", 119.2140, 34.5960),
    ("05", "朐阳", "朐阳派出所", 119.1620, 34.5570),
    ("06", "新东", "新东派出所", 119.2320, 34.6170),
    ("07", "新南", "新南派出所", 119.1940, 34.5760),
    ("08", "路南", "路南派出所", 119.2300, 34.5660),
    ("09", "洪门", "洪门派出所", 119.1700, 34.6250),
    ("10", "浦西", "浦西派出所", 119.1500, 34.6050),
    ("11", "锦屏", "锦屏派出所", 119.2050, 34.5520),
    ("12", "宁海", "宁海派出所", 119.2380, 34.5920),
)

#: East-west arterials (south to north) and north-south arterials (west to east).
ARTERIALS_EW = (
    "锦屏路",
    "新南路",
    "海连路",
    "人民路",
    "解放路",
    "朝阳路",
    "建设路",
    "新浦路",
    "瀛洲路",
)
ARTERIALS_NS = (
    "凌州路",
    "浦西路",
    "苍梧路",
    "通灌路",
    "郁州路",
    "幸福路",
    "新东路",
    "宁海路",
    "瀛海路",
)
LANE_STEMS = (
    "民主",
    "大庆",
    "陇海",
    "盐河",
    "龙尾",
    "秀逸",
    "巨龙",
    "南极",
    "北极",
    "东盐",
    "文化",
    "学院",
    "振兴",
    "光明",
    "红旗",
    "团结",
    "利民",
    "和平",
    "花园",
    "桃园",
    "梅园",
    "竹园",
    "兴隆",
    "广场",
    "长安",
    "永安",
    "平安",
    "古城",
    "鼓楼",
    "钟楼",
    "白虎",
    "朐山",
    "孔望",
    "云台",
    "凤凰",
    "玉带",
)
LANE_SUFFIXES = ("巷", "街", "路", "里")

COMPOUND_STEMS = (
    "海宁",
    "新海",
    "锦屏",
    "幸福",
    "朝阳",
    "盛世",
    "阳光",
    "金色",
    "凤凰",
    "翠园",
    "华府",
    "御景",
    "东方",
    "西城",
    "南苑",
    "北苑",
    "龙湖",
    "碧水",
    "丽景",
    "香江",
    "银河",
    "绿城",
    "世纪",
    "明珠",
    "天和",
    "瀛洲",
    "苍梧",
    "郁洲",
    "花果",
    "怡景",
    "嘉园",
    "润泽",
    "康乐",
    "福安",
    "和顺",
    "万润",
)
COMPOUND_SUFFIXES = ("花园", "小区", "新村", "家园", "公寓", "苑", "名城", "雅居")

#: Key places (重点部位) with fixed positions: name, kind, lon, lat.
KEY_PLACES: tuple[tuple[str, str, float, float], ...] = (
    ("民主路老街商业区", "old_town_commerce", 119.1790, 34.5990),
    ("龙尾河酒吧街", "riverside_bar_lane", 119.1930, 34.6060),
    ("连云港站站前广场", "station_square", 119.1980, 34.5880),
    ("连云港市体育中心", "stadium", 119.2280, 34.5800),
    ("苏宁广场", "mall", 119.1880, 34.5960),
    ("万达广场", "mall", 119.2100, 34.6030),
    ("海州古城", "old_town_commerce", 119.1500, 34.5760),
)
SCHOOL_NAMES = (
    "海州实验中学",
    "新海高级中学",
    "新浦中学",
    "连云港外国语学校",
    "解放路小学",
    "大庆路小学",
    "新海实验小学",
    "朝阳中学",
    "锦屏中学",
    "苍梧小学",
    "海州高级中学",
    "建国路小学",
)
HOSPITAL_NAMES = (
    "连云港市第一人民医院",
    "连云港市第二人民医院",
    "连云港市中医院",
    "海州区人民医院",
    "连云港市妇幼保健院",
    "新海社区卫生服务中心",
)
SMALL_PLACES = (
    ("农贸市场", "market"),
    ("网吧", "internet_cafe"),
    ("KTV", "ktv"),
    ("便利店", "convenience_store"),
    ("银行网点", "bank"),
)

#: Chinese public holidays 2023–2028: (name, first day, days, kind). Outside these years a
#: period simply has no holiday effect.
HOLIDAYS: tuple[tuple[str, date, int, str], ...] = (
    ("春节", date(2023, 1, 21), 7, "spring_festival"),
    ("国庆", date(2023, 9, 29), 8, "national_day"),
    ("春节", date(2024, 2, 10), 8, "spring_festival"),
    ("国庆", date(2024, 10, 1), 7, "national_day"),
    ("春节", date(2025, 1, 28), 8, "spring_festival"),
    ("国庆", date(2025, 10, 1), 8, "national_day"),
    ("春节", date(2026, 2, 15), 9, "spring_festival"),
    ("国庆", date(2026, 10, 1), 7, "national_day"),
    ("春节", date(2027, 2, 5), 8, "spring_festival"),
    ("国庆", date(2027, 10, 1), 7, "national_day"),
    ("春节", date(2028, 1, 25), 8, "spring_festival"),
    ("国庆", date(2028, 10, 1), 7, "national_day"),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """Hour-of-day × weekday shape (时段分布) of a category.

    ``hour`` has 24 relative weights (local time); ``weekday`` has 7 (Monday first). With
    ``night_shift`` the hours 00–05 take the weekday weight of the evening before, so that a
    Friday-night peak continues into Saturday 00–02.
    """

    hour: tuple[float, ...]
    weekday: tuple[float, ...]
    night_shift: bool = False


# fmt: off
_FLAT7 = (1.0,) * 7
PROFILES: dict[str, Profile] = {
    "day": Profile(
        hour=(0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.5, 1.6, 1.5,
              1.3, 1.3, 1.4, 1.5, 1.6, 1.5, 1.3, 1.2, 1.0, 0.8, 0.6, 0.4),
        weekday=_FLAT7,
    ),
    "commerce": Profile(
        hour=(0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.8, 1.2, 1.6, 1.8,
              1.7, 1.6, 1.6, 1.7, 1.9, 2.0, 2.0, 1.9, 1.6, 1.1, 0.7, 0.4),
        weekday=(0.9, 0.9, 0.9, 0.95, 1.05, 1.3, 1.25),
    ),
    "home_day": Profile(
        hour=(0.25, 0.2, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.3, 2.2,
              1.9, 2.0, 2.2, 2.1, 1.7, 1.0, 0.6, 0.5, 0.4, 0.35, 0.3, 0.3),
        weekday=(1.25, 1.25, 1.25, 1.25, 1.2, 0.55, 0.55),
    ),
    "traffic": Profile(
        hour=(0.2, 0.15, 0.1, 0.1, 0.15, 0.4, 1.0, 2.2, 2.4, 1.4, 1.1, 1.2,
              1.3, 1.1, 1.1, 1.2, 1.6, 2.3, 2.4, 1.5, 1.0, 0.7, 0.5, 0.3),
        weekday=(1.1, 1.05, 1.05, 1.05, 1.15, 0.85, 0.75),
    ),
    "nightlife": Profile(
        hour=(2.6, 2.4, 1.7, 0.9, 0.4, 0.15, 0.1, 0.1, 0.15, 0.2, 0.25, 0.3,
              0.35, 0.35, 0.35, 0.4, 0.5, 0.6, 0.8, 1.0, 1.4, 1.9, 2.5, 2.8),
        weekday=(0.6, 0.6, 0.65, 0.75, 2.0, 2.2, 0.9),
        night_shift=True,
    ),
    "evening": Profile(
        hour=(1.4, 1.0, 0.6, 0.3, 0.15, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7, 0.7,
              0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 1.9, 2.2, 2.3, 1.9),
        weekday=(0.85, 0.85, 0.85, 0.9, 1.15, 1.35, 1.05),
        night_shift=True,
    ),
    "fraud": Profile(
        hour=(0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.6, 1.7, 1.6,
              1.3, 1.3, 1.5, 1.6, 1.6, 1.5, 1.3, 1.3, 1.3, 1.1, 0.7, 0.3),
        weekday=(1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.75),
    ),
}
# fmt: on


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """How one incident category is generated.

    Attributes
    ----------
    share : float
        Share of all incidents (before surges, serial offenders and near-repeats).
    profile : str
        Key of :data:`PROFILES`.
    place : tuple of float
        Relative affinity for (residential, street, commercial) addresses.
    trend_per_year : float
        Slow log-linear trend (e.g. -0.08 is about −8 % a year).
    season_amplitude : float
        Amplitude of the yearly cycle, peaking in late July.
    holiday : dict
        Multiplier by holiday kind (spring_festival, national_day).
    case_rate : float
        Probability that an incident of this category becomes a recorded case (案件).
    subcategories : tuple of (str, float)
        Chinese subcategory and relative weight.
    """

    share: float
    profile: str
    place: tuple[float, float, float]
    trend_per_year: float
    season_amplitude: float
    holiday: dict[str, float]
    case_rate: float
    subcategories: tuple[tuple[str, float], ...]


CATEGORIES: dict[str, CategorySpec] = {
    "theft": CategorySpec(
        share=0.15,
        profile="commerce",
        place=(0.3, 1.0, 3.0),
        trend_per_year=-0.08,
        season_amplitude=0.05,
        holiday={"spring_festival": 0.8, "national_day": 1.3},
        case_rate=0.5,
        subcategories=(
            ("扒窃", 0.3),
            ("盗窃电动车", 0.35),
            ("盗窃车内财物", 0.15),
            ("盗窃财物", 0.2),
        ),
    ),
    "burglary": CategorySpec(
        share=0.05,
        profile="home_day",
        place=(1.0, 0.05, 0.1),
        trend_per_year=-0.05,
        season_amplitude=0.0,
        holiday={"spring_festival": 1.5, "national_day": 1.3},
        case_rate=0.9,
        subcategories=(("入户盗窃", 0.8), ("盗窃商铺", 0.2)),
    ),
    "robbery": CategorySpec(
        share=0.01,
        profile="evening",
        place=(0.2, 1.0, 1.5),
        trend_per_year=-0.1,
        season_amplitude=0.0,
        holiday={"spring_festival": 1.0, "national_day": 1.0},
        case_rate=0.9,
        subcategories=(("抢劫", 0.6), ("抢夺", 0.4)),
    ),
    "fraud": CategorySpec(
        share=0.05,
        profile="fraud",
        place=(1.0, 0.0, 0.0),
        trend_per_year=0.15,
        season_amplitude=0.0,
        holiday={"spring_festival": 0.8, "national_day": 0.9},
        case_rate=0.75,
        subcategories=(("电信网络诈骗", 0.85), ("合同诈骗", 0.05), ("其他诈骗", 0.1)),
    ),
    "dispute": CategorySpec(
        share=0.2,
        profile="day",
        place=(1.5, 0.8, 0.8),
        trend_per_year=0.0,
        season_amplitude=0.05,
        holiday={"spring_festival": 1.35, "national_day": 1.1},
        case_rate=0.0,
        subcategories=(
            ("家庭纠纷", 0.35),
            ("邻里纠纷", 0.3),
            ("经济纠纷", 0.2),
            ("劳资纠纷", 0.15),
        ),
    ),
    "traffic": CategorySpec(
        share=0.18,
        profile="traffic",
        place=(0.05, 1.0, 0.5),
        trend_per_year=0.02,
        season_amplitude=0.05,
        holiday={"spring_festival": 1.2, "national_day": 1.3},
        case_rate=0.0,
        subcategories=(("交通事故", 0.6), ("交通堵塞", 0.25), ("车辆挪车", 0.15)),
    ),
    "noise": CategorySpec(
        share=0.08,
        profile="evening",
        place=(1.5, 0.5, 1.0),
        trend_per_year=0.0,
        season_amplitude=0.25,
        holiday={"spring_festival": 1.6, "national_day": 1.2},
        case_rate=0.0,
        subcategories=(("生活噪音", 0.5), ("施工噪音", 0.25), ("娱乐场所噪音", 0.25)),
    ),
    "assistance": CategorySpec(
        share=0.14,
        profile="day",
        place=(1.0, 1.0, 1.0),
        trend_per_year=0.03,
        season_amplitude=0.0,
        holiday={"spring_festival": 1.1, "national_day": 1.1},
        case_rate=0.0,
        subcategories=(("求助", 0.5), ("走失人员", 0.15), ("开锁求助", 0.2), ("医疗求助", 0.15)),
    ),
    "fight": CategorySpec(
        share=0.05,
        profile="nightlife",
        place=(0.2, 0.8, 2.0),
        trend_per_year=-0.03,
        season_amplitude=0.15,
        holiday={"spring_festival": 1.2, "national_day": 1.3},
        case_rate=0.0,
        subcategories=(("打架斗殴", 0.7), ("醉酒滋事", 0.3)),
    ),
    "other": CategorySpec(
        share=0.09,
        profile="day",
        place=(1.0, 1.0, 1.0),
        trend_per_year=0.0,
        season_amplitude=0.0,
        holiday={"spring_festival": 1.0, "national_day": 1.0},
        case_rate=0.0,
        subcategories=(("其他", 0.7), ("咨询", 0.3)),
    ),
}

#: Persistent hot spots (持续热点): key place name → {category: share of that category}, radius_m.
HOTSPOTS: tuple[tuple[str, float, dict[str, float]], ...] = (
    (
        "民主路老街商业区",
        220.0,
        {"theft": 0.14, "robbery": 0.12, "dispute": 0.03, "fight": 0.10, "noise": 0.03},
    ),
    (
        "龙尾河酒吧街",
        160.0,
        {"fight": 0.32, "noise": 0.12, "theft": 0.04, "robbery": 0.08, "dispute": 0.03},
    ),
    (
        "连云港站站前广场",
        200.0,
        {"theft": 0.10, "robbery": 0.08, "dispute": 0.04, "assistance": 0.08},
    ),
    ("苏宁广场", 180.0, {"theft": 0.06, "fight": 0.03}),
)

DISPOSITIONS: dict[str, tuple[str, ...]] = {
    "theft": ("已受理", "移交刑侦", "已立案", "现场处置完毕"),
    "burglary": ("已立案", "移交刑侦", "现场勘查"),
    "robbery": ("已立案", "移交刑侦", "抓获嫌疑人"),
    "fraud": ("已立案", "移交反诈中心", "已受理"),
    "dispute": ("调解结束", "现场处置完毕", "建议诉讼", "双方和解"),
    "traffic": ("移交交警", "现场处置完毕", "疏导完毕"),
    "noise": ("劝阻完毕", "现场处置完毕", "移交城管"),
    "assistance": ("救助完毕", "现场处置完毕", "转相关部门"),
    "fight": ("现场处置完毕", "已受案", "带回调查"),
    "other": ("已处理", "无效警情", "告知"),
}

#: MO vocabularies (作案手段) per case category: entry method, target, tools, property.
MO_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "burglary": {
        "entry_method": ("撬锁", "插片", "攀爬", "技术开锁", "破窗", "溜门"),
        "target": ("住宅", "商铺", "办公室", "仓库"),
        "tools": ("螺丝刀", "撬棍", "插片", "万能钥匙", "液压钳", "无"),
        "property": ("现金", "首饰", "手机", "笔记本电脑", "烟酒", "电动车"),
    },
    "theft": {
        "entry_method": ("扒窃", "拎包", "撬车锁", "剪线打火", "顺手牵羊"),
        "target": ("电动车", "行人", "车内财物", "商铺", "摩托车"),
        "tools": ("剪刀", "镊子", "解码器", "螺丝刀", "无"),
        "property": ("手机", "钱包", "电动车", "电瓶", "现金"),
    },
    "robbery": {
        "entry_method": ("尾随", "拦截", "持械", "飞车"),
        "target": ("行人", "商铺", "出租车"),
        "tools": ("刀具", "棍棒", "摩托车", "无"),
        "property": ("手机", "现金", "包", "首饰"),
    },
}
#: Time-of-day bands (作案时段) and their local hours.
TIME_OF_DAY_BANDS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "上午": (6, 12),
    "下午": (12, 18),
    "夜间": (18, 24),
}

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
AGE_BAND_SHARES = (0.18, 0.19, 0.19, 0.18, 0.14, 0.12)
AGE_BAND_RANGES = ((18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 89))
OCCUPATIONS = (
    "企业职员",
    "个体经营",
    "学生",
    "退休",
    "务工人员",
    "公职人员",
    "无业",
    "自由职业",
    "医务人员",
    "教师",
)
#: Relative fraud risk (诈骗风险) by occupation and by age band: the truth `fraud_risk.csv` holds.
FRAUD_RISK_OCCUPATION = (1.2, 1.0, 1.6, 1.3, 0.9, 0.5, 1.4, 1.5, 0.6, 0.5)
FRAUD_RISK_AGE = (1.8, 1.3, 1.0, 0.8, 1.1, 1.5)
FRAUD_TYPES = (
    "刷单返利",
    "虚假投资理财",
    "冒充公检法",
    "网络贷款",
    "冒充客服",
    "虚假交友",
    "冒充熟人",
    "游戏交易",
)
#: Probability of each fraud type by age band (rows follow AGE_BANDS).
FRAUD_TYPE_BY_AGE = (
    (0.32, 0.06, 0.04, 0.18, 0.12, 0.10, 0.03, 0.15),
    (0.22, 0.20, 0.05, 0.15, 0.12, 0.16, 0.05, 0.05),
    (0.12, 0.30, 0.08, 0.10, 0.12, 0.18, 0.08, 0.02),
    (0.08, 0.30, 0.14, 0.06, 0.14, 0.14, 0.13, 0.01),
    (0.04, 0.22, 0.28, 0.03, 0.16, 0.06, 0.21, 0.00),
    (0.02, 0.14, 0.38, 0.02, 0.14, 0.04, 0.26, 0.00),
)
#: Fake origin region codes of ID numbers: local first (Haizhou and Lianyungang), then elsewhere.
LOCAL_REGION_CODES = ("320706", "320707", "320722", "320723", "320724")
OTHER_REGION_CODES = (
    "341321",
    "341322",
    "370811",
    "411522",
    "320321",
    "320882",
    "321322",
    "513029",
)
