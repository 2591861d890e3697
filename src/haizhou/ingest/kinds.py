"""Record kinds (记录类型): validation and conversion of mapped columns, vectorised per chunk.

Each kind turns the mapped string columns of a chunk into the columns of its table and a list
of problems (column, row mask, reason). The pipeline adds what every point kind shares
(coordinates to WGS-84, H3 cells, owning jurisdiction, the area check), pseudonymises,
quarantines and writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from haizhou.ingest.timeparse import parse_times
from haizhou.security.pseudonym import PROVINCES

NULL_STR = pa.scalar(None, pa.string())
_NUMBER = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"
# Candidates for identifiers in free text, a superset of what Pseudonymiser.scrub_text finds:
# seven digits (ASCII or full-width) with at most two separators or brackets between two of
# them (every ID card, mobile and landline form has at least seven digits, at most a bracket
# and a separator between its groups), or a province followed by a letter (a plate). Only
# cells that match are searched in Python.
_DIGIT = "[0-9\uff10-\uff19]"
IDENTIFIER_HINT = (
    f"{_DIGIT}(?:[ \\-\u3000\uff0d()\uff08\uff09\uff0b+]{{0,2}}{_DIGIT}){{6}}"
    f"|[{PROVINCES}][A-Za-z\uff21-\uff3a\uff41-\uff5a]"
)


@dataclass(frozen=True, slots=True)
class Problem:
    """Rows of a chunk that fail one check.

    ``column`` is the canonical column (the pipeline names the file's header); ``mask`` marks
    the failing rows; ``values`` (optional) overrides the raw cell text shown in quarantine.
    """

    column: str | None
    mask: np.ndarray
    reason: str
    values: Sequence[str | None] | None = None


@dataclass(slots=True)
class Converted:
    """A chunk converted to table columns."""

    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    source_id: pa.Array | None = None
    point: tuple[str, str] | None = None  # canonical lon/lat columns
    point_required: bool = True


@dataclass(frozen=True, slots=True)
class ConvertContext:
    """What a kind needs besides the columns: zone and pseudonymiser."""

    zone: str
    pseudonymiser: Any
    identifier_kinds: Any


# --------------------------------------------------------------------------- column helpers


def col(columns: dict[str, pa.Array], name: str, n: int) -> pa.Array:
    """Mapped column or an all-null string array."""
    array = columns.get(name)
    return array if array is not None else pa.nulls(n, pa.string())


def missing(array: pa.Array) -> np.ndarray:
    return pc.is_null(array).to_numpy(zero_copy_only=False)


def floats(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers; returns values (NaN where missing/bad) and the mask of bad cells."""
    text = pc.replace_substring(array, ",", "") if len(array) else array
    ok = pc.match_substring_regex(text, _NUMBER).fill_null(False)
    parsed = pc.if_else(ok, text, NULL_STR).cast(pa.float64())
    values = parsed.to_numpy(zero_copy_only=False).astype(np.float64)
    bad = pc.is_valid(array).to_numpy(zero_copy_only=False) & ~ok.to_numpy(zero_copy_only=False)
    values = np.where(bad, np.nan, values)
    return values, bad


def choice(
    array: pa.Array, allowed: dict[str, str], default: str | None
) -> tuple[pa.Array, np.ndarray]:
    """Map text to a canonical value (case-insensitive); returns values and the bad mask."""
    keys = pa.array(list(allowed))
    lowered = pc.utf8_lower(array)
    idx = pc.index_in(lowered, value_set=keys)
    mapped = pc.take(pa.array(list(allowed.values()), type=pa.string()), idx)
    bad = (pc.is_valid(array).to_numpy(zero_copy_only=False)) & pc.is_null(idx).to_numpy(
        zero_copy_only=False
    )
    if default is not None:
        mapped = pc.if_else(pc.is_null(array), pa.scalar(default), mapped)
    return mapped, bad


def times(
    columns: dict[str, pa.Array], name: str, n: int, ctx: ConvertContext, problems: list[Problem]
) -> pa.Array:
    values, bad = parse_times(col(columns, name, n), ctx.zone)
    if bad.any():
        problems.append(
            Problem(
                name,
                bad,
                "unparseable time; use e.g. 2024-01-02 03:04:05, 2024/1/2 3:04, "
                "2024年1月2日 3时4分 or ISO 8601 with offset",
            )
        )
    return values


def number(
    columns: dict[str, pa.Array],
    name: str,
    n: int,
    problems: list[Problem],
    *,
    lo: float = -np.inf,
    hi: float = np.inf,
) -> np.ndarray:
    values, bad = floats(col(columns, name, n))
    out_of_range = ~bad & ~np.isnan(values) & ((values < lo) | (values > hi))
    if bad.any():
        problems.append(Problem(name, bad, "not a number"))
    if out_of_range.any():
        problems.append(Problem(name, out_of_range, f"out of range [{lo:g}, {hi:g}]"))
    return np.where(out_of_range, np.nan, values)


def require(
    columns: dict[str, pa.Array], names: Sequence[str], n: int, problems: list[Problem]
) -> None:
    for name in names:
        gone = missing(col(columns, name, n))
        if gone.any():
            problems.append(Problem(name, gone, "missing required field"))


def scrub(array: pa.Array, ctx: ConvertContext) -> pa.Array:
    """Mask identifiers found in free text; only cells that look like they hold one are touched."""
    if len(array) == 0 or array.null_count == len(array):
        return array
    hint = pc.match_substring_regex(array, IDENTIFIER_HINT).fill_null(False)
    idx = np.flatnonzero(hint.to_numpy(zero_copy_only=False))
    if len(idx) == 0:
        return array
    texts = pc.take(array, pa.array(idx)).to_pylist()
    cleaned = pa.array(list(ctx.pseudonymiser.scrub_many(texts)), type=pa.string())
    return pc.replace_with_mask(array.cast(pa.string()), hint, cleaned)


def normalise_identifier(array: pa.Array) -> pa.Array:
    """Strip spaces, dashes and a +86/0086 prefix; upper-case (the X of ID numbers)."""
    text = pc.replace_substring_regex(array, r"[\s\-()（）]", "")
    text = pc.replace_substring_regex(text, r"^(\+86|0086)", "")
    return pc.utf8_upper(text)


def pseudonymise(array: pa.Array, kind: Any, ctx: ConvertContext) -> tuple[pa.Array, pa.Array]:
    """Keyed pseudonym and masked form of each present identifier (null stays null)."""
    n = len(array)
    empty = pa.nulls(n, pa.string())
    present = pc.is_valid(array)
    if array.null_count == n:
        return empty, empty
    values = array.drop_null().to_pylist()
    t, m = ctx.pseudonymiser.pseudonymise_many(values, kind)
    return (
        pc.replace_with_mask(empty, present, pa.array(t, type=pa.string())),
        pc.replace_with_mask(empty, present, pa.array(m, type=pa.string())),
    )


def attributes_json(extra: dict[str, pa.Array], n: int, ctx: ConvertContext) -> pa.Array:
    """Unmapped columns as one JSON object per row (identifiers scrubbed), null if empty."""
    if not extra:
        return pa.nulls(n, pa.string())
    cleaned = [scrub(array, ctx).to_pylist() for array in extra.values()]
    out: list[str | None] = []
    for row in zip(*cleaned, strict=True):
        obj = {h: v for h, v in zip(extra, row, strict=True) if v is not None}
        out.append(json.dumps(obj, ensure_ascii=False, sort_keys=True) if obj else None)
    return pa.array(out, type=pa.string())


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A record kind: its table, canonical columns and converter."""

    name: str
    title_zh: str
    table: str
    id_column: str
    required: tuple[str, ...]
    convert: Callable[[dict[str, pa.Array], dict[str, pa.Array], int, ConvertContext], Converted]
    has_h3_levels: tuple[int, ...] = (7, 8, 9)


def _convert_incidents(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("incident_id", "reported_at", "category", "lon", "lat"), n, problems)
    reported = times(columns, "reported_at", n, ctx, problems)
    phone = normalise_identifier(col(columns, "caller_phone", n))
    token, masked = pseudonymise(phone, ctx.identifier_kinds.PHONE, ctx)
    values = {
        "reported_at": reported,
        "category": col(columns, "category", n),
        "subcategory": col(columns, "subcategory", n),
        "address": scrub(col(columns, "address", n), ctx),
        "caller_pseudonym": token,
        "caller_masked": masked,
        "summary": scrub(col(columns, "summary", n), ctx),
        "disposition": scrub(col(columns, "disposition", n), ctx),
        "attributes": attributes_json(extra, n, ctx),
    }
    return Converted(values, problems, col(columns, "incident_id", n), ("lon", "lat"))


CASE_STATUS = {
    "filed": "filed",
    "立案": "filed",
    "已立案": "filed",
    "solved": "solved",
    "破案": "solved",
    "已破案": "solved",
    "侦破": "solved",
}


def _convert_cases(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("case_id", "category", "occurred_from", "lon", "lat"), n, problems)
    start = times(columns, "occurred_from", n, ctx, problems)
    end = times(columns, "occurred_to", n, ctx, problems)
    end = pc.if_else(pc.is_null(end), start, end)
    backwards = pc.less(end, start).fill_null(False).to_numpy(zero_copy_only=False)
    if backwards.any():
        problems.append(
            Problem(
                "occurred_to",
                backwards,
                "occurrence window ends before it starts (发案时间止 < 发案时间起)",
            )
        )
    solved_at = times(columns, "solved_at", n, ctx, problems)
    status, bad_status = choice(col(columns, "status", n), CASE_STATUS, "filed")
    if bad_status.any():
        problems.append(
            Problem("status", bad_status, "unknown status; use filed/solved (立案/破案)")
        )
    loss = number(columns, "loss_amount", n, problems, lo=0)
    suspects_raw = col(columns, "suspect_ids", n)
    suspects: list[str | None] = [None] * n
    present = np.flatnonzero(pc.is_valid(suspects_raw).to_numpy(zero_copy_only=False))
    if len(present):
        lists = pc.split_pattern_regex(
            pc.take(suspects_raw, pa.array(present)), r"[;；,，、\s]+"
        ).to_pylist()
        flat = [v for items in lists for v in items if v]
        flat_arr = normalise_identifier(pa.array(flat, type=pa.string()))
        tokens, _ = pseudonymise(flat_arr, ctx.identifier_kinds.ID_CARD, ctx)
        token_list = tokens.to_pylist()
        k = 0
        for i, items in zip(present.tolist(), lists, strict=True):
            m = len([v for v in items if v])
            suspects[i] = json.dumps(token_list[k : k + m]) if m else None
            k += m
    values = {
        "incident_source_id": col(columns, "incident_id", n),
        "category": col(columns, "category", n),
        "subcategory": col(columns, "subcategory", n),
        "occurred_from": start,
        "occurred_to": end,
        "address": scrub(col(columns, "address", n), ctx),
        "mo_entry_method": col(columns, "entry_method", n),
        "mo_target": col(columns, "target", n),
        "mo_tools": col(columns, "tools", n),
        "mo_time_of_day": col(columns, "time_of_day", n),
        "mo_extra": pa.nulls(n, pa.string()),
        "property_taken": scrub(col(columns, "property_taken", n), ctx),
        "loss_amount": loss,
        "narrative": scrub(col(columns, "narrative", n), ctx),
        "status": status,
        "solved_at": solved_at,
        "suspect_pseudonyms": pa.array(suspects, type=pa.string()),
        "attributes": attributes_json(extra, n, ctx),
    }
    return Converted(values, problems, col(columns, "case_id", n), ("lon", "lat"))


SENSOR_KIND = {
    "camera": "camera",
    "视频监控": "camera",
    "摄像头": "camera",
    "监控": "camera",
    "plate_reader": "plate_reader",
    "卡口": "plate_reader",
    "车牌识别": "plate_reader",
    "wifi_probe": "wifi_probe",
    "wifi探针": "wifi_probe",
    "wi-fi探针": "wifi_probe",
    "radar": "radar",
    "雷达": "radar",
    "rf": "rf",
    "无线电侦测": "rf",
    "无线电": "rf",
    "remote_id": "remote_id",
    "远程识别": "remote_id",
    "adsb": "adsb",
    "ads-b": "adsb",
}
SENSOR_STATUS = {
    "active": "active",
    "在用": "active",
    "正常": "active",
    "在线": "active",
    "fault": "fault",
    "故障": "fault",
    "离线": "fault",
    "retired": "retired",
    "停用": "retired",
    "报废": "retired",
}


def _convert_sensors(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("sensor_id", "kind", "lon", "lat"), n, problems)
    kind, bad_kind = choice(col(columns, "kind", n), SENSOR_KIND, None)
    if bad_kind.any():
        problems.append(
            Problem(
                "kind",
                bad_kind,
                f"unknown sensor kind; use one of {sorted(set(SENSOR_KIND.values()))}",
            )
        )
    status, bad_status = choice(col(columns, "status", n), SENSOR_STATUS, "active")
    if bad_status.any():
        problems.append(
            Problem(
                "status", bad_status, "unknown status; use active/fault/retired (在用/故障/停用)"
            )
        )
    values = {
        "kind": kind,
        "range_m": number(columns, "range_m", n, problems, lo=0, hi=100_000),
        "heading_deg": number(columns, "heading_deg", n, problems, lo=0, hi=360),
        "fov_deg": number(columns, "fov_deg", n, problems, lo=0, hi=360),
        "status": status,
        "attributes": attributes_json(extra, n, ctx),
    }
    return Converted(values, problems, col(columns, "sensor_id", n), ("lon", "lat"))


REGISTRATION = {
    "permanent": "permanent",
    "户籍": "permanent",
    "常住": "permanent",
    "户籍人口": "permanent",
    "temporary": "temporary",
    "暂住": "temporary",
    "流动": "temporary",
    "流动人口": "temporary",
    "none": "none",
    "未登记": "none",
    "无": "none",
}


def _convert_persons(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("id_number", "registration"), n, problems)
    reg, bad_reg = choice(col(columns, "registration", n), REGISTRATION, None)
    if bad_reg.any():
        problems.append(
            Problem(
                "registration",
                bad_reg,
                "unknown registration; use permanent/temporary/none (户籍/暂住/未登记)",
            )
        )
    ids = normalise_identifier(col(columns, "id_number", n))
    token, masked = pseudonymise(ids, ctx.identifier_kinds.ID_CARD, ctx)
    has_lon = ~missing(col(columns, "residence_lon", n))
    has_lat = ~missing(col(columns, "residence_lat", n))
    half = has_lon ^ has_lat
    if half.any():
        problems.append(
            Problem("residence_lat", half, "give both residence_lon and residence_lat, or neither")
        )
    values = {
        "pseudonym": token,
        "masked_id": masked,
        "registration": reg,
        "residence_address": scrub(col(columns, "residence_address", n), ctx),
        "age_band": col(columns, "age_band", n),
        "occupation": scrub(col(columns, "occupation", n), ctx),
        "registered_at": times(columns, "registered_at", n, ctx, problems),
        "attributes": attributes_json(extra, n, ctx),
    }
    return Converted(
        values, problems, token, ("residence_lon", "residence_lat"), point_required=False
    )


def _convert_jurisdictions(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("code", "name", "geometry"), n, problems)
    name = col(columns, "name", n)
    station = pc.if_else(pc.is_null(col(columns, "station", n)), name, col(columns, "station", n))
    values = {
        "name": name,
        "station": station,
        "parent_code": col(columns, "parent_code", n),
        "geometry": col(columns, "geometry", n),  # parsed and checked by the pipeline
        "note": attributes_json(extra, n, ctx),
    }
    return Converted(values, problems, col(columns, "code", n), None, point_required=False)


WARNING_KIND = {
    "fraud_contact": "fraud_contact",
    "涉诈来电": "fraud_contact",
    "涉诈电话": "fraud_contact",
    "可疑来电": "fraud_contact",
    "risky_transfer": "risky_transfer",
    "可疑转账": "risky_transfer",
    "异常转账": "risky_transfer",
    "涉诈转账": "risky_transfer",
}


def _convert_fraud_warnings(
    columns: dict[str, pa.Array], extra: dict[str, pa.Array], n: int, ctx: ConvertContext
) -> Converted:
    problems: list[Problem] = []
    require(columns, ("warning_id", "warned_at", "kind", "id_number"), n, problems)
    kind, bad_kind = choice(col(columns, "kind", n), WARNING_KIND, None)
    if bad_kind.any():
        problems.append(
            Problem(
                "kind",
                bad_kind,
                "unknown warning kind; use fraud_contact/risky_transfer (涉诈来电/可疑转账)",
            )
        )
    ids = normalise_identifier(col(columns, "id_number", n))
    token, _ = pseudonymise(ids, ctx.identifier_kinds.ID_CARD, ctx)
    values = {
        "person_pseudonym": token,
        "kind": kind,
        "warned_at": times(columns, "warned_at", n, ctx, problems),
        "feed": scrub(col(columns, "feed", n), ctx),
        "contacts": number(columns, "contacts", n, problems, lo=0),
        "call_minutes": number(columns, "call_minutes", n, problems, lo=0),
        "transfer_amount": number(columns, "transfer_amount", n, problems, lo=0),
        "potential_loss": number(columns, "potential_loss", n, problems, lo=0),
        "attributes": attributes_json(extra, n, ctx),
    }
    return Converted(
        values, problems, col(columns, "warning_id", n), ("lon", "lat"), point_required=False
    )


KINDS: dict[str, KindSpec] = {
    "incidents": KindSpec(
        "incidents",
        "警情",
        "incidents",
        "incident_id",
        ("incident_id", "reported_at", "category", "lon", "lat"),
        _convert_incidents,
    ),
    "cases": KindSpec(
        "cases",
        "案件",
        "cases",
        "case_id",
        ("case_id", "category", "occurred_from", "lon", "lat"),
        _convert_cases,
    ),
    "sensors": KindSpec(
        "sensors",
        "感知点位",
        "sensors",
        "sensor_id",
        ("sensor_id", "kind", "lon", "lat"),
        _convert_sensors,
        (9,),
    ),
    "persons": KindSpec(
        "persons",
        "实有人口",
        "persons",
        "id_number",
        ("id_number", "registration"),
        _convert_persons,
        (),
    ),
    "fraud_warnings": KindSpec(
        "fraud_warnings",
        "反诈预警",
        "fraud_warnings",
        "warning_id",
        ("warning_id", "warned_at", "kind", "id_number"),
        _convert_fraud_warnings,
        (),
    ),
    "jurisdictions": KindSpec(
        "jurisdictions",
        "辖区",
        "jurisdictions",
        "code",
        ("code", "name", "geometry"),
        _convert_jurisdictions,
        (),
    ),
}
