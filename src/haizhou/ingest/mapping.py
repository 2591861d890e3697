"""Column mapping (字段映射): built-in aliases for the usual Chinese headers, flags and YAML.

Precedence: ``--map canonical=header`` flags, then the YAML file, then the built-in aliases
(matched after removing case, spaces, ``_``/``-`` and full-width brackets). Headers that map to
nothing are kept, after scrubbing personal identifiers, in the record's ``attributes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from haizhou.errors import InputError

# canonical column → accepted headers (the canonical name itself is always accepted)
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "incidents": {
        "incident_id": ("id", "警情编号", "接警编号", "警情号", "接警单编号", "事件编号", "警情id"),
        "reported_at": ("报警时间", "接警时间", "报案时间", "报警日期时间", "time", "reported"),
        "category": ("警情类别", "警情类型", "报警类别", "类别", "type"),
        "subcategory": ("警情细类", "警情子类", "细类", "子类别"),
        "lon": ("经度", "longitude", "lng", "x"),
        "lat": ("纬度", "latitude", "y"),
        "address": ("地址", "发生地址", "事发地址", "报警地址", "案发地址"),
        "caller_phone": ("报警电话", "联系电话", "报警人电话", "来电号码", "主叫号码", "phone"),
        "summary": ("报警内容", "警情摘要", "简要警情", "内容", "description"),
        "disposition": ("处警结果", "处理结果", "处置结果", "处警情况"),
    },
    "cases": {
        "case_id": ("案件编号", "案件编码", "案件号", "id"),
        "incident_id": ("警情编号", "接警编号", "关联警情编号"),
        "category": ("案件类别", "案件类型", "案别", "类别"),
        "subcategory": ("案件细类", "案件子类", "细类"),
        "occurred_from": ("发案时间起", "发案开始时间", "案发时间起", "发案起始时间", "发案时间"),
        "occurred_to": ("发案时间止", "发案结束时间", "案发时间止", "发案终止时间"),
        "lon": ("经度", "longitude", "lng", "x"),
        "lat": ("纬度", "latitude", "y"),
        "address": ("发案地址", "案发地址", "发案地点", "地址"),
        "entry_method": ("作案手段", "侵入方式", "进入方式"),
        "target": ("作案目标", "侵害目标", "侵害对象"),
        "tools": ("作案工具",),
        "time_of_day": ("作案时段", "发案时段"),
        "property_taken": ("损失物品", "被盗物品", "涉案物品"),
        "loss_amount": ("损失金额", "涉案金额", "损失价值"),
        "narrative": ("简要案情", "案情", "案情摘要"),
        "status": ("案件状态", "状态"),
        "solved_at": ("破案时间", "破案日期"),
        "suspect_ids": ("嫌疑人身份证号", "嫌疑人证件号码", "嫌疑人身份证号码"),
    },
    "sensors": {
        "sensor_id": ("点位编号", "设备编号", "点位编码", "设备编码", "id"),
        "kind": ("点位类型", "设备类型", "类型"),
        "lon": ("经度", "longitude", "lng", "x"),
        "lat": ("纬度", "latitude", "y"),
        "range_m": ("感知半径", "覆盖半径", "半径", "半径米"),
        "heading_deg": ("朝向", "方位角", "朝向角"),
        "fov_deg": ("视场角", "视角"),
        "status": ("状态", "设备状态", "运行状态"),
    },
    "persons": {
        "id_number": ("身份证号", "公民身份号码", "身份证号码", "证件号码"),
        "registration": ("登记类型", "户籍类型", "人口类型", "户籍性质"),
        "residence_lon": ("居住地经度", "经度", "lon"),
        "residence_lat": ("居住地纬度", "纬度", "lat"),
        "residence_address": ("居住地址", "现住址", "居住地", "地址"),
        "age_band": ("年龄段", "年龄组"),
        "occupation": ("职业",),
        "registered_at": ("登记时间", "登记日期"),
    },
    "fraud_warnings": {
        "warning_id": ("预警编号", "线索编号", "预警id"),
        "warned_at": ("预警时间", "发现时间"),
        "kind": ("预警类型", "线索类型"),
        "id_number": ("身份证号", "公民身份号码", "身份证号码", "证件号码"),
        "feed": ("预警来源", "线索来源"),
        "contacts": ("涉诈来电次数", "接触次数"),
        "call_minutes": ("通话时长", "通话分钟"),
        "transfer_amount": ("转账金额", "交易金额"),
        "potential_loss": ("潜在损失", "涉案金额"),
        "lon": ("经度", "longitude", "lng"),
        "lat": ("纬度", "latitude"),
    },
    "jurisdictions": {
        "code": ("编号", "辖区编号", "单位代码", "机构代码", "id"),
        "name": ("名称", "辖区名称", "辖区"),
        "station": ("派出所", "所属派出所", "单位名称"),
        "parent_code": ("上级编号", "上级单位代码", "上级代码", "parent"),
        "geometry": ("wkt", "geom", "几何", "边界", "范围", "shape"),
    },
}

_STRIP = re.compile(r"[\s_\-（）()【】\[\]:：]+")


def normalise_header(name: str) -> str:
    """Header key for matching: lower case without spaces, underscores, dashes or brackets.

    Examples
    --------
    >>> normalise_header(" Reported_At ")
    'reportedat'
    >>> normalise_header("发案时间（起）")
    '发案时间起'
    """
    return _STRIP.sub("", name.strip().lstrip("\ufeff")).lower()


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Where each canonical column comes from.

    Attributes
    ----------
    columns
        canonical name → header in the file.
    extra
        Headers in the file that map to no canonical column (kept in ``attributes``).
    """

    columns: dict[str, str]
    extra: tuple[str, ...]


def parse_map_flags(flags: Sequence[str]) -> dict[str, str]:
    """``["reported_at=接报时间", ...]`` → ``{"reported_at": "接报时间"}``."""
    out: dict[str, str] = {}
    for flag in flags:
        canonical, sep, header = flag.partition("=")
        if not sep or not canonical.strip() or not header.strip():
            raise InputError(
                f"--map {flag!r} is not of the form canonical=header, e.g. reported_at=接报时间"
            )
        out[canonical.strip()] = header.strip()
    return out


def load_mapping_file(path: Path) -> dict[str, str]:
    """Read a YAML mapping: ``columns: {canonical: header}`` (or that mapping at top level)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the mapping file: {exc}", file=str(path)) from None
    if isinstance(data, dict) and "columns" in data:
        data = data["columns"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int) for k, v in data.items()
    ):
        raise InputError(
            "the mapping file must hold 'columns:' with lines 'canonical: header'",
            file=str(path),
        )
    return {k: str(v) for k, v in data.items()}


def resolve_mapping(
    kind: str,
    headers: Iterable[str],
    *,
    explicit: Mapping[str, str] | None = None,
    file: str | None = None,
) -> ColumnMapping:
    """Match the file's headers to the canonical columns of ``kind``.

    Parameters
    ----------
    kind
        Record kind (``incidents``, ``cases``, ``sensors``, ``persons``, ``jurisdictions``).
    headers
        Column names as written in the file.
    explicit
        canonical → header from flags or a YAML file; wins over the aliases.
    file
        File name, for error messages.

    Examples
    --------
    >>> m = resolve_mapping("incidents", ["警情编号", "报警时间", "警情类别", "经度", "纬度", "备注"])
    >>> m.columns["reported_at"], m.extra
    ('报警时间', ('备注',))
    """
    aliases = ALIASES[kind]
    headers = list(headers)
    explicit = dict(explicit or {})
    unknown = sorted(set(explicit) - set(aliases))
    if unknown:
        raise InputError(
            f"--map/mapping names unknown column(s) {unknown} for {kind}; "
            f"canonical columns are: {', '.join(aliases)}",
            file=file,
        )
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(normalise_header(header), header)
    columns: dict[str, str] = {}
    used: set[str] = set()
    for canonical, header in explicit.items():
        if header not in headers:
            match = by_key.get(normalise_header(header))
            if match is None:
                raise InputError(
                    f"mapping {canonical}={header!r}: no such column; the file has {headers}",
                    file=file,
                )
            header = match
        columns[canonical] = header
        used.add(header)
    for canonical, names in aliases.items():
        if canonical in columns:
            continue
        for candidate in (canonical, *names):
            header = by_key.get(normalise_header(candidate))
            if header is not None and header not in used:
                columns[canonical] = header
                used.add(header)
                break
    extra = tuple(h for h in headers if h not in used)
    return ColumnMapping(columns=columns, extra=extra)
