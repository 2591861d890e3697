"""Report wording in zh-CN and English (报告文字 · 中英文), one dictionary.

Every key maps to ``{"zh": ..., "en": ...}``; :func:`text` picks one. ``tests/reports`` checks
that every key has both languages and that every key a template uses exists here.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LANGUAGES", "STRINGS", "check_lang", "text"]

LANGUAGES: Final = ("zh", "en")
"""Report languages: zh-CN (default) and English."""

STRINGS: Final[dict[str, dict[str, str]]] = {
    # titles
    "title.daily": {"zh": "日巡查报告", "en": "Daily inspection"},
    "title.weekly": {"zh": "周通报", "en": "Weekly bulletin"},
    "title.monthly": {"zh": "月研判报告", "en": "Monthly assessment"},
    "bureau": {"zh": "海州公安分局", "en": "Haizhou Public Security Sub-bureau"},
    "period": {"zh": "报告期", "en": "Period"},
    "generated": {"zh": "生成时间", "en": "Generated"},
    "scope": {"zh": "范围", "en": "Scope"},
    "scope.all": {"zh": "全部辖区", "en": "all jurisdictions"},
    "zone": {"zh": "时区", "en": "Time zone"},
    # sections
    "sec.summary": {"zh": "概况", "en": "Summary"},
    "sec.baseline": {"zh": "昨日警情与基线对比", "en": "Yesterday against its baseline"},
    "sec.by_jurisdiction": {"zh": "各辖区警情", "en": "Incidents by jurisdiction"},
    "sec.by_category": {"zh": "分类警情", "en": "Incidents by category"},
    "sec.warnings": {"zh": "新增预警", "en": "New warnings"},
    "sec.instructions": {"zh": "在办与超期指令", "en": "Open and overdue instructions"},
    "sec.map": {"zh": "警情分布图", "en": "Incident map"},
    "sec.ranking": {"zh": "派出所排名", "en": "Station ranking"},
    "sec.hotspots": {"zh": "高发部位", "en": "Hot spots (high-incidence places)"},
    "sec.repeat_callers": {"zh": "重复报警", "en": "Repeat calls"},
    "sec.performance": {"zh": "指令办理成效", "en": "Instruction performance"},
    "sec.trends": {"zh": "警情趋势", "en": "Trends"},
    "sec.yoy": {"zh": "同比与环比", "en": "Year-over-year and period-over-period"},
    "sec.cases": {"zh": "案件与破案", "en": "Cases and clearance"},
    "sec.emerging": {"zh": "新兴热点", "en": "Emerging hot spots"},
    "sec.forecast": {"zh": "下月预测", "en": "Next month's forecast"},
    "sec.series": {"zh": "串并系列案", "en": "Case series found"},
    "sec.models": {"zh": "模型与版本", "en": "Models and versions"},
    "sec.privacy": {"zh": "隐私说明", "en": "Privacy"},
    # columns and labels
    "col.jurisdiction": {"zh": "辖区", "en": "Jurisdiction"},
    "col.category": {"zh": "类别", "en": "Category"},
    "col.count": {"zh": "警情数", "en": "Incidents"},
    "col.observed": {"zh": "实际", "en": "Observed"},
    "col.baseline": {"zh": "基线", "en": "Baseline"},
    "col.expected": {"zh": "预期", "en": "Expected"},
    "col.ratio": {"zh": "倍数", "en": "Ratio"},
    "col.level": {"zh": "级别", "en": "Level"},
    "col.probability": {"zh": "超出概率", "en": "Exceedance p"},
    "col.explanation": {"zh": "说明", "en": "Explanation"},
    "col.title": {"zh": "标题", "en": "Title"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.deadline": {"zh": "反馈期限", "en": "Feedback due"},
    "col.overdue_step": {"zh": "超期环节", "en": "Late step"},
    "col.rank": {"zh": "名次", "en": "Rank"},
    "col.current": {"zh": "本期", "en": "This period"},
    "col.previous": {"zh": "上期", "en": "Previous"},
    "col.last_year": {"zh": "去年同期", "en": "Last year"},
    "col.pop": {"zh": "环比", "en": "PoP"},
    "col.yoy": {"zh": "同比", "en": "YoY"},
    "col.place": {"zh": "部位", "en": "Place"},
    "col.caller": {"zh": "报警人（脱敏）", "en": "Caller (masked)"},
    "col.calls": {"zh": "次数", "en": "Calls"},
    "col.last": {"zh": "最近一次", "en": "Last"},
    "col.model": {"zh": "模型", "en": "Model"},
    "col.version": {"zh": "版本", "en": "Version"},
    "col.used_for": {"zh": "用于", "en": "Used for"},
    "col.rate": {"zh": "比率", "en": "Rate"},
    "col.numerator": {"zh": "分子", "en": "Numerator"},
    "col.denominator": {"zh": "分母", "en": "Denominator"},
    "col.precision": {"zh": "核实准确率", "en": "Verified precision"},
    "col.verified": {"zh": "核实（真/假）", "en": "Verified (true/false)"},
    "col.pattern": {"zh": "模式", "en": "Pattern"},
    "col.cells": {"zh": "网格数", "en": "Cells"},
    "col.share": {"zh": "风险占比", "en": "Risk share"},
    "col.members": {"zh": "案件数", "en": "Cases"},
    "col.month": {"zh": "月份", "en": "Month"},
    "lbl.total": {"zh": "合计", "en": "Total"},
    "lbl.yesterday": {"zh": "昨日警情", "en": "Incidents yesterday"},
    "lbl.baseline_mean": {
        "zh": "前4周同星期平均",
        "en": "Mean of the same weekday over the 4 weeks before",
    },
    "lbl.open_instructions": {"zh": "在办指令", "en": "Open instructions"},
    "lbl.overdue_instructions": {"zh": "超期指令", "en": "Overdue instructions"},
    "lbl.stored_findings": {"zh": "当日入库研判发现", "en": "Findings stored that day"},
    "lbl.on_time_signing": {"zh": "按时签收率", "en": "On-time signing"},
    "lbl.on_time_feedback": {"zh": "按时反馈率", "en": "On-time feedback"},
    "lbl.issued": {"zh": "本期下发指令", "en": "Instructions issued"},
    "lbl.clearance_flow": {"zh": "破案率（流量口径）", "en": "Clearance rate (flow)"},
    "lbl.clearance_cohort": {"zh": "破案率（立案批次口径）", "en": "Clearance rate (cohort)"},
    "lbl.cases_solved": {"zh": "破案数", "en": "Cases solved"},
    "lbl.suspects": {"zh": "抓获嫌疑人", "en": "Suspects caught"},
    "lbl.incidents_period": {"zh": "本期警情", "en": "Incidents this period"},
    "lbl.none": {"zh": "无", "en": "None"},
    "lbl.not_available": {"zh": "暂不可用", "en": "Not available"},
    "lbl.forecast_method": {"zh": "预测方法", "en": "Method"},
    "lbl.forecast_top": {
        "zh": "风险最高5%网格覆盖的预测风险占比（按辖区，用于观察反馈循环）",
        "en": "Share of the top-5 % risk cells by jurisdiction (to watch for feedback loops)",
    },
    "lbl.this_year": {"zh": "今年", "en": "This year"},
    "lbl.last_year": {"zh": "去年", "en": "Last year"},
    "lbl.daily_counts": {"zh": "近28天每日警情", "en": "Daily incidents, last 28 days"},
    "lbl.monthly_counts": {"zh": "月度警情", "en": "Incidents per month"},
    "lbl.map_hex": {
        "zh": "辖区边界与H3六边形警情计数",
        "en": "Jurisdiction outlines with incidents per H3 hexagon",
    },
    "lbl.map_heat": {
        "zh": "辖区边界与下月风险热力",
        "en": "Jurisdiction outlines with next month's risk heat",
    },
    "lbl.map_emerging": {
        "zh": "辖区边界与新兴热点（H3六边形）",
        "en": "Jurisdiction outlines with emerging hot spots (H3 hexagons)",
    },
    "lbl.cjk_missing": {
        "zh": "警告：未找到中文字体，图中中文可能无法显示。请安装 fonts-noto-cjk。",
        "en": "Warning: no CJK font found; Chinese text in figures may not render. "
        "Install fonts-noto-cjk.",
    },
    "lbl.no_data": {"zh": "本期无数据", "en": "No data in this period"},
    "lbl.series_unavailable": {
        "zh": "本期无已入库的串并分析结果（串并模型未运行或未发现系列案）。",
        "en": "No stored case-linkage results in this period (the linkage model has not run "
        "or found no series).",
    },
    "lbl.forecast_unavailable": {
        "zh": "预测不可用：历史数据不足。",
        "en": "Forecast not available: too little history.",
    },
    "privacy.text": {
        "zh": "本报告不含个人身份信息：报警人仅以脱敏号码显示，关联使用加密假名；"
        "地址为警情发生部位。请按警务数据管理规定分发。",
        "en": "This report holds no personal identifiers: callers appear only masked, linked "
        "by keyed pseudonyms; addresses are incident places. Distribute under the bureau's "
        "data rules.",
    },
    "used.daily_volume": {"zh": "昨日警情基线", "en": "yesterday's baseline"},
    "used.trend_warnings": {"zh": "趋势预警", "en": "trend warnings"},
    "used.hexagons": {"zh": "六边形分布图", "en": "hexagon maps"},
    "used.repeats": {"zh": "高发部位与重复报警", "en": "hot spots and repeat calls"},
    "used.kpis": {"zh": "考核指标与排名", "en": "KPIs and rankings"},
    "used.emerging": {"zh": "新兴热点", "en": "emerging hot spots"},
    "used.forecast": {"zh": "下月风险预测", "en": "next month's forecast"},
    "used.linkage": {"zh": "串并系列案", "en": "case series"},
    # warning levels, instruction states, emerging patterns
    "level.red": {"zh": "红色", "en": "Red"},
    "level.orange": {"zh": "橙色", "en": "Orange"},
    "level.yellow": {"zh": "黄色", "en": "Yellow"},
    "level.blue": {"zh": "蓝色", "en": "Blue"},
    "status.issued": {"zh": "已下发", "en": "Issued"},
    "status.signed": {"zh": "已签收", "en": "Signed"},
    "status.in_progress": {"zh": "处置中", "en": "In progress"},
    "status.fed_back": {"zh": "已反馈", "en": "Fed back"},
    "status.closed": {"zh": "已办结", "en": "Closed"},
    "status.returned": {"zh": "退回", "en": "Returned"},
    "pattern.new_hot_spot": {"zh": "新增热点", "en": "New hot spot"},
    "pattern.consecutive_hot_spot": {"zh": "连续热点", "en": "Consecutive hot spot"},
    "pattern.intensifying_hot_spot": {"zh": "加强热点", "en": "Intensifying hot spot"},
    "pattern.persistent_hot_spot": {"zh": "持续热点", "en": "Persistent hot spot"},
    "pattern.diminishing_hot_spot": {"zh": "减弱热点", "en": "Diminishing hot spot"},
    "pattern.sporadic_hot_spot": {"zh": "零星热点", "en": "Sporadic hot spot"},
    "pattern.oscillating_hot_spot": {"zh": "振荡热点", "en": "Oscillating hot spot"},
    "pattern.historical_hot_spot": {"zh": "历史热点", "en": "Historical hot spot"},
    "pattern.new_cold_spot": {"zh": "新增冷点", "en": "New cold spot"},
    "pattern.consecutive_cold_spot": {"zh": "连续冷点", "en": "Consecutive cold spot"},
    "pattern.intensifying_cold_spot": {"zh": "加强冷点", "en": "Intensifying cold spot"},
    "pattern.persistent_cold_spot": {"zh": "持续冷点", "en": "Persistent cold spot"},
    "pattern.diminishing_cold_spot": {"zh": "减弱冷点", "en": "Diminishing cold spot"},
    "pattern.sporadic_cold_spot": {"zh": "零星冷点", "en": "Sporadic cold spot"},
    "pattern.oscillating_cold_spot": {"zh": "振荡冷点", "en": "Oscillating cold spot"},
    "pattern.historical_cold_spot": {"zh": "历史冷点", "en": "Historical cold spot"},
    "lbl.expected_next": {
        "zh": "下月预计警情（季节朴素×趋势）",
        "en": "Expected incidents next month (seasonal naive × trend)",
    },
    "lbl.weekday_note": {
        "zh": "基线为前4周同星期平均",
        "en": "Baseline: mean of the same weekday over the previous 4 weeks",
    },
    "lbl.hot_window": {
        "zh": "统计窗口：截至本期末的28天",
        "en": "Window: the 28 days to the end of the period",
    },
    "lbl.risk": {"zh": "相对风险强度", "en": "Relative risk"},
    # sensing, population verification, fraud (monthly; haizhou.reports.sensing)
    "sec.sensing": {"zh": "感知覆盖与盲区", "en": "Sensing coverage and blind spots"},
    "sec.population": {"zh": "流动人口核查", "en": "Floating-population verification"},
    "sec.fraud": {"zh": "电信网络诈骗防范", "en": "Telecom-fraud prevention"},
    "lbl.active_sensors": {"zh": "在用感知点位", "en": "Active sensors"},
    "lbl.covered_share": {"zh": "警情感知覆盖率", "en": "Incidents seen by a sensor"},
    "lbl.blind_spots": {"zh": "重点盲区（前10）", "en": "Main blind spots (top 10)"},
    "lbl.covered_note": {
        "zh": "近12个月警情按严重程度加权，落在在用设备覆盖范围内的比例；盲区为200米网格。",
        "en": "Share of the last 12 months' incidents, weighted by severity, inside an active "
        "sensor's footprint; blind spots are 200 m grid cells.",
    },
    "lbl.verified_precision": {
        "zh": "社区民警核查属实率（累计）",
        "en": "Verified precision from officers' feedback (to date)",
    },
    "lbl.no_feedback": {"zh": "暂无核查反馈", "en": "No verification feedback yet"},
    "lbl.fraud_cases": {"zh": "近12个月诈骗案件", "en": "Fraud cases, last 12 months"},
    "lbl.no_dissuasion": {"zh": "暂无劝阻反馈", "en": "No dissuasion feedback yet"},
    "lbl.uplift": {"zh": "劝阻效果（随机留置对照）", "en": "Outreach uplift (randomised hold-out)"},
    "lbl.reached": {"zh": "已劝阻（低紧急度）", "en": "Reached (low urgency)"},
    "lbl.held_out": {"zh": "随机留置（未联系）", "en": "Held out (not contacted)"},
    "lbl.prevented_per_1000": {"zh": "每千人避免受骗", "en": "Prevented per 1,000 reached"},
    "col.warnings": {"zh": "预警数", "en": "Warnings"},
    "col.victim_rate": {"zh": "受骗率", "en": "Victimisation"},
    "col.difference": {"zh": "差值（已劝阻 − 留置）", "en": "Difference (reached − held out)"},
    "lbl.no_holdout": {
        "zh": "未记录随机留置对照组，劝阻效果未作估计（不假定有效）。",
        "en": "No randomised hold-out recorded: the effect of outreach is not estimated "
        "(not assumed).",
    },
    "col.weighted": {"zh": "加权警情", "en": "Weighted incidents"},
    "col.unseen": {"zh": "未覆盖占比", "en": "Unseen share"},
    "col.decision": {"zh": "判定", "en": "Decision"},
    "col.findings": {"zh": "发现数", "en": "Findings"},
    "col.cases": {"zh": "案件数", "en": "Cases"},
    "col.population": {"zh": "登记人口", "en": "Residents"},
    "col.rate_10k": {"zh": "每万人", "en": "Per 10,000"},
    "col.age_band": {"zh": "年龄段", "en": "Age band"},
    "col.rate_ratio": {"zh": "率比", "en": "Rate ratio"},
    "col.fed_back": {"zh": "已反馈", "en": "Fed back"},
    "col.hit_rate": {"zh": "命中率", "en": "Hit rate"},
    "decision.unregistered_resident": {
        "zh": "疑似未登记实有人口",
        "en": "Likely unregistered resident",
    },
    "decision.registration_stale": {"zh": "登记信息疑似失效", "en": "Registration likely stale"},
}


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language, else a clear error."""
    if lang not in LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return lang


def text(key: str, lang: str = "zh") -> str:
    """The wording of ``key`` in ``lang`` (``zh`` or ``en``).

    Raises
    ------
    KeyError
        For an unknown key, naming it.

    Examples
    --------
    >>> text("title.daily"), text("title.daily", "en")
    ('日巡查报告', 'Daily inspection')
    """
    check_lang(lang)
    try:
        return STRINGS[key][lang]
    except KeyError:
        raise KeyError(f"no report text {key!r}; add it to haizhou/reports/i18n.py") from None
