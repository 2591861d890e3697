"""Shared test data for the decoder tests: vectors from ../shared/data, read, never copied."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from tests.conftest import SHARED_DATA, shared_file

#: Open Drone ID (opendroneid.h) names whose snake_case is not the mechanical one.
ODID_NAMES = {
    "UASID": "uas_id",
    "IDType": "id_type",
    "UAType": "ua_type",
    "HorizAccuracy": "horiz_accuracy",
    "VertAccuracy": "vert_accuracy",
    "BaroAccuracy": "baro_accuracy",
    "SpeedAccuracy": "speed_accuracy",
    "TSAccuracy": "ts_accuracy",
    "TimeStamp": "timestamp",
    "AuthData_hex": "auth_data",
    "CategoryEU": "category_eu",
    "ClassEU": "class_eu",
    "OperatorIdType": "operator_id_type",
    "OperatorId": "operator_id",
    "AltitudeBaro": "altitude_baro",
    "AltitudeGeo": "altitude_geo",
    "OperatorAltitudeGeo": "operator_altitude_geo",
}


def snake(name: str) -> str:
    return ODID_NAMES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def odid() -> dict[str, Any]:
    return json.loads(shared_file("remoteid", "opendroneid_vectors.json").read_text("utf-8"))


@cache
def gb() -> dict[str, Any]:
    return json.loads(shared_file("remoteid", "gb46750_vectors.json").read_text("utf-8"))


@cache
def pymodes_vectors() -> dict[str, Any]:
    return json.loads(shared_file("adsb", "pymodes_vectors.json").read_text("utf-8"))


def odid_vectors() -> list[dict[str, Any]]:
    return odid()["vectors"]


def odid_single_vectors() -> list[dict[str, Any]]:
    """The vectors that hold one 25-byte message."""
    return [v for v in odid_vectors() if len(v.get("encoded_hex", "")) == 50]


def odid_vector(name: str) -> dict[str, Any]:
    return next(v for v in odid_vectors() if v["name"] == name)


def spec_text() -> str:
    path = SHARED_DATA.parent / "spec" / "airspace-decode.md"
    if not path.exists():  # pragma: no cover - shared/ is laid beside the repository
        shared_file("..", "spec", "airspace-decode.md")
    return path.read_text("utf-8")


def odid_to_spec(kind: str, decoded: dict[str, Any]) -> dict[str, Any]:
    """The spec values that a reference-decoder ``decoded`` block stands for (README mapping).

    Sentinels become None; names become snake_case. Float32 noise is left for the caller to
    compare with a tolerance.
    """
    out = {snake(k): v for k, v in decoded.items()}
    if kind == "location":
        if out["direction"] >= 360:
            out["direction"] = None
        if out["speed_horizontal"] == 255:
            out["speed_horizontal"] = None
        if abs(out["speed_vertical"]) > 62:
            out["speed_vertical"] = None
        if out["latitude"] == 0 and out["longitude"] == 0:
            out["latitude"] = out["longitude"] = None
        for key in ("altitude_baro", "altitude_geo", "height"):
            if out[key] == -1000:
                out[key] = None
    if kind == "system":
        if out["operator_latitude"] == 0 and out["operator_longitude"] == 0:
            out["operator_latitude"] = out["operator_longitude"] = None
        for key in ("area_ceiling", "area_floor", "operator_altitude_geo"):
            if out[key] == -1000:
                out[key] = None
    if kind in ("basic_id",) and out["id_type"] == 3:
        out.pop("uas_id")  # raw characters in the reference; the spec wants the UUID form
    if kind in ("basic_id", "self_id", "operator_id"):
        for key in ("uas_id", "desc", "operator_id"):
            if key in out and out[key] == "":
                out[key] = None
    return out


ODID_KIND = {
    "BasicID": "basic_id",
    "Location": "location",
    "Auth": "auth",
    "SelfID": "self_id",
    "System": "system",
    "OperatorID": "operator_id",
}


def kind_of(vector: dict[str, Any]) -> str:
    return ODID_KIND[vector["message_type"].split("(")[0]]


def pack_member_kind(key: str) -> str:
    """``BasicID0`` → ``basic_id``, ``Auth1`` → ``auth``."""
    return ODID_KIND[key.rstrip("0123456789")]
