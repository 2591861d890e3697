"""Enumerations every part of Haizhou shares (枚举)."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Warning level (预警等级), the Chinese four-colour scale, most severe first."""

    RED = "red"  # 红
    ORANGE = "orange"  # 橙
    YELLOW = "yellow"  # 黄
    BLUE = "blue"  # 蓝

    @property
    def rank(self) -> int:
        """0 for red (most severe) to 3 for blue."""
        return _LEVEL_RANK[self]

    @property
    def title_zh(self) -> str:
        return _LEVEL_ZH[self]


_LEVEL_RANK = {Level.RED: 0, Level.ORANGE: 1, Level.YELLOW: 2, Level.BLUE: 3}
_LEVEL_ZH = {Level.RED: "红色", Level.ORANGE: "橙色", Level.YELLOW: "黄色", Level.BLUE: "蓝色"}


class CaseStatus(StrEnum):
    """Status of a recorded crime (案件状态)."""

    FILED = "filed"  # 立案
    SOLVED = "solved"  # 破案


class SensorKind(StrEnum):
    """Kind of sensing point (感知点位类型)."""

    CAMERA = "camera"  # 视频监控
    PLATE_READER = "plate_reader"  # 卡口 / 车牌识别
    WIFI_PROBE = "wifi_probe"  # Wi-Fi 探针
    RADAR = "radar"  # 雷达
    RF = "rf"  # 无线电侦测
    REMOTE_ID = "remote_id"  # 远程识别接收机
    ADSB = "adsb"  # ADS-B 接收机


class SensorStatus(StrEnum):
    ACTIVE = "active"
    FAULT = "fault"
    RETIRED = "retired"


class RegistrationType(StrEnum):
    """Population registration type (户籍类型)."""

    PERMANENT = "permanent"  # 户籍人口
    TEMPORARY = "temporary"  # 暂住登记 (流动人口)
    NONE = "none"  # 未登记


class InstructionStatus(StrEnum):
    """Lifecycle of an instruction (指令状态)."""

    ISSUED = "issued"  # 已下发
    SIGNED = "signed"  # 已签收
    IN_PROGRESS = "in_progress"  # 处置中
    FED_BACK = "fed_back"  # 已反馈
    CLOSED = "closed"  # 已办结
    RETURNED = "returned"  # 退回


class Schedule(StrEnum):
    """When a model runs."""

    ON_DEMAND = "on_demand"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    STREAMING = "streaming"
