"""Benchmark: Remote ID and ADS-B decode throughput (报文解码吞吐量), one core.

``decode_remoteid``: a mixed Remote ID stream built from the conformance vectors in
``../shared/data/remoteid`` (every F3411 message type incl. packs, and GB 46750 packets),
decoded message by message with :func:`haizhou.airspace.decode.decode`. Baseline: a
straightforward decoder written here the way a naive port of ``opendroneid.c`` reads its packed
bit-fields, one bit at a time through a bit reader, with a table of (field, bit offset, width).
Both sides produce the spec's objects; ``agree`` is the share of messages where they are equal.

``decode_adsb``: the 2,000 real DF 17 messages of ``../shared/data/adsb/sample_data_adsb.csv``
through :class:`~haizhou.airspace.decode.StreamDecoder` (CRC check, stateful CPR pairing).
Baseline: pyModeS 3.x ``PipeDecoder`` when it is importable (GPL-3.0: benchmark-only, never a
dependency), otherwise a naive binary-string decoder written here (``int(bits[a:b], 2)``);
the ``baseline`` field says which.

Prints one JSON line per benchmark. Run: ``.venv/bin/python benchmarks/bench_decode.py
[--messages N] [--repeat R]``. Timings are the best of R runs on the same input, in CPU time
of this process (``time.process_time``), so that other work on the machine inflates them less.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from haizhou.airspace.decode import StreamDecoder, decode
from haizhou.airspace.decode import astm as A
from haizhou.airspace.decode import gb46750 as G
from haizhou.airspace.decode.cpr import decode_global_airborne, decode_local

SHARED = Path(
    os.environ.get("HAIZHOU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)

# --------------------------------------------------------------------------- naive baseline


class BitReader:
    """Reads little-endian packed fields bit by bit, as a literal port of C bit-fields would."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def bits(self, byte: int, lsb: int, width: int) -> int:
        value = 0
        for i in range(width):
            bit_index = lsb + i
            b = self.data[byte + bit_index // 8]
            value |= ((b >> (bit_index % 8)) & 1) << i
        return value

    def uint(self, byte: int, size: int) -> int:
        return self.bits(byte, 0, size * 8)

    def int(self, byte: int, size: int) -> int:
        v = self.uint(byte, size)
        return v - (1 << (size * 8)) if v >> (size * 8 - 1) else v


def _text(data: bytes) -> str | None:
    out = ""
    for b in data:
        if b == 0:
            break
        out += chr(b)
    return out or None


def _alt(raw: int) -> float | None:
    return None if raw == 0 else raw * 0.5 - 1000.0


def _latlon(lat: int, lon: int) -> tuple[float | None, float | None]:
    if (lat == 0 and lon == 0) or abs(lat) > 900000000 or abs(lon) > 1800000000:
        return None, None
    return lat / 1e7, lon / 1e7


def naive_astm(m: bytes) -> dict[str, Any]:
    if not m:
        return {"error": "empty", "input": m.hex()}
    r = BitReader(m)
    kind, version = r.bits(0, 4, 4), r.bits(0, 0, 4)
    if kind == 0xF:
        n = r.uint(2, 1)
        if r.uint(1, 1) != 25 or not 1 <= n <= 9 or len(m) != 3 + 25 * n:
            return {"error": "bad pack", "input": m.hex()}
        msgs = [naive_astm(m[3 + 25 * i : 28 + 25 * i]) for i in range(n)]
        if any("error" in x for x in msgs):
            return {"error": "bad pack member", "input": m.hex()}
        return {
            "protocol": "astm_f3411", "type": "message_pack", "protocol_version": version,
            "message_size": 25, "message_count": n, "messages": msgs,
        }  # fmt: skip
    if kind > 5 or len(m) != 25:
        return {"error": "bad message", "input": m.hex()}
    out: dict[str, Any] = {
        "protocol": "astm_f3411",
        "type": A.TYPE_NAMES[kind],
        "protocol_version": version,
    }
    if kind == 0:
        id_type, ua_type = r.bits(1, 4, 4), r.bits(1, 0, 4)
        if id_type <= 2:
            uas = _text(m[2:22])
        elif id_type == 3:
            uas = str(uuid.UUID(bytes=m[2:18]))
        else:
            uas = m[2:22].hex()
        out.update(id_type=id_type, id_type_name=A.ID_TYPE_NAMES[id_type], ua_type=ua_type,
                   ua_type_name=A.UA_TYPE_NAMES[ua_type], uas_id=uas)  # fmt: skip
    elif kind == 1:
        status, ht, ew, mult = r.bits(1, 4, 4), r.bits(1, 2, 1), r.bits(1, 1, 1), r.bits(1, 0, 1)
        d = r.uint(2, 1) + 180 * ew
        sp = r.uint(3, 1)
        speed = (None if sp == 255 else sp * 0.75 + 63.75) if mult else sp * 0.25
        vs = r.int(4, 1)
        lat, lon = _latlon(r.int(5, 4), r.int(9, 4))
        h, v = r.bits(19, 0, 4), r.bits(19, 4, 4)
        s, b = r.bits(20, 0, 4), r.bits(20, 4, 4)
        ts = r.uint(21, 2)
        tsa = r.bits(23, 0, 4)
        out.update(
            status=status, status_name=A.STATUS_NAMES[status], direction=d if d < 360 else None,
            speed_horizontal=speed, speed_vertical=vs * 0.5 if abs(vs) <= 124 else None,
            latitude=lat, longitude=lon, altitude_baro=_alt(r.uint(13, 2)),
            altitude_geo=_alt(r.uint(15, 2)), height_type=ht,
            height_type_name=A.HEIGHT_TYPE_NAMES[ht], height=_alt(r.uint(17, 2)),
            horiz_accuracy=h, horiz_accuracy_m=A.HORIZ_ACCURACY_M[h], vert_accuracy=v,
            vert_accuracy_m=A.VERT_ACCURACY_M[v], baro_accuracy=b,
            baro_accuracy_m=A.VERT_ACCURACY_M[b], speed_accuracy=s,
            speed_accuracy_mps=A.SPEED_ACCURACY_MPS[s], timestamp=ts / 10 if ts <= 36000 else None,
            ts_accuracy=tsa, ts_accuracy_s=A.TS_ACCURACY_S[tsa],
        )  # fmt: skip
    elif kind == 2:
        at, page = r.bits(1, 4, 4), r.bits(1, 0, 4)
        if page == 0:
            ts = r.uint(4, 4)
            out.update(auth_type=at, auth_type_name=A.AUTH_TYPE_NAMES[at], data_page=page,
                       last_page_index=r.uint(2, 1), length=r.uint(3, 1), timestamp=ts,
                       timestamp_unix=ts + 1546300800, auth_data=m[8:25].hex())  # fmt: skip
        else:
            out.update(auth_type=at, auth_type_name=A.AUTH_TYPE_NAMES[at], data_page=page,
                       last_page_index=None, length=None, timestamp=None, timestamp_unix=None,
                       auth_data=m[2:25].hex())  # fmt: skip
    elif kind == 3:
        dt = r.uint(1, 1)
        out.update(desc_type=dt, desc_type_name=A.DESC_TYPE_NAMES[dt], desc=_text(m[2:25]))
    elif kind == 4:
        lt, ct = r.bits(1, 0, 2), r.bits(1, 2, 3)
        lat, lon = _latlon(r.int(2, 4), r.int(6, 4))
        cat, cls = r.bits(17, 4, 4), r.bits(17, 0, 4)
        ts = r.uint(20, 4)
        out.update(
            operator_location_type=lt, operator_location_type_name=A.OPERATOR_LOCATION_TYPE_NAMES[lt],
            classification_type=ct, classification_type_name=A.CLASSIFICATION_TYPE_NAMES[ct],
            operator_latitude=lat, operator_longitude=lon, area_count=r.uint(10, 2),
            area_radius=r.uint(12, 1) * 10, area_ceiling=_alt(r.uint(13, 2)),
            area_floor=_alt(r.uint(15, 2)), category_eu=cat, category_eu_name=A.CATEGORY_EU_NAMES[cat],
            class_eu=cls, class_eu_name=A.CLASS_EU_NAMES[cls],
            operator_altitude_geo=_alt(r.uint(18, 2)), timestamp=ts, timestamp_unix=ts + 1546300800,
        )  # fmt: skip
    else:
        out.update(operator_id_type=r.uint(1, 1), operator_id=_text(m[2:22]))
    return out


def naive_gb(m: bytes) -> dict[str, Any]:
    """Field by field with a bit reader; same rules as the spec, no precomputed layout."""
    bad = {"error": "bad packet", "input": m.hex(), "protocol": "gb46750"}
    if len(m) < 4 or m[0] != 0xFF or m[1] >> 5 != 1 or not 1 <= m[2] <= 200:
        return bad
    r = BitReader(m)
    flags, pos = [], 3
    while True:
        if pos >= len(m):
            return bad
        flags.append(m[pos])
        pos += 1
        if not r.bits(pos - 1, 0, 1):
            break
    if len(m) != pos + m[2]:
        return bad
    present = [i // 7 < len(flags) and r.bits(3 + i // 7, 7 - i % 7, 1) == 1 for i in range(21)]
    if any(not p and i + 1 not in G.OPTIONAL_FIELDS for i, p in enumerate(present)):
        return bad
    f: list[int | bytes | None] = []
    for i, size in enumerate(G.FIELD_SIZES):
        if not present[i]:
            f.append(None)
            continue
        f.append(m[pos : pos + size] if i < 2 else r.uint(pos, size))
        pos += size
    if pos - (3 + len(flags)) != m[2] and len(flags) <= 3:
        return bad
    for raw in f[:2]:
        if any(b != 0 and not 0x20 <= b <= 0x7E for b in raw):  # type: ignore[union-attr]
            return bad

    def axis(raw: int, half: int, limit: int) -> float | None:
        v = raw >> half & 0xFFFFFFFF
        if v == 0xFFFFFFFF:
            return None
        v = v - (1 << 32) if v >> 31 else v
        return v / 1e7 if abs(v) <= limit else None

    def enum(i: int) -> int | None:
        return None if f[i] is None else f[i] & 0x0F  # type: ignore[operator]

    vs = f[11]
    if vs is None or vs == 0xFF:
        vspeed = None
    else:
        vspeed = (vs & 0x7F) * 0.5 * (-1 if vs & 0x80 and vs & 0x7F else 1)  # type: ignore[operator]
    op_cat, dc, gpt, st, cs = enum(2), enum(3), enum(4), enum(14), enum(15)
    track, speed = f[8], f[9]
    return {
        "protocol": "gb46750", "type": "gb46750", "protocol_version": 1,
        "version_minor": m[1] & 0x1F, "sn": _text(f[0]), "uin": _text(f[1]),  # type: ignore[arg-type]
        "op_category": op_cat,
        "op_category_name": None if op_cat is None else G.OP_CATEGORY_NAMES[op_cat],
        "drone_class": dc, "drone_class_name": G.DRONE_CLASS_NAMES[dc],  # type: ignore[index]
        "gcs_pos_type": gpt, "gcs_pos_type_name": G.GCS_POS_TYPE_NAMES[gpt],  # type: ignore[index]
        "gcs_lon": axis(f[5], 0, 1800000000), "gcs_lat": axis(f[5], 32, 900000000),  # type: ignore[arg-type]
        "gcs_alt": _alt(f[6]),  # type: ignore[arg-type]
        "drone_lon": axis(f[7], 0, 1800000000), "drone_lat": axis(f[7], 32, 900000000),  # type: ignore[arg-type]
        "track_angle": track / 10 if track <= 3599 else None,  # type: ignore[operator]
        "ground_speed": speed / 10 if speed != 0xFFFF else None,  # type: ignore[operator]
        "rel_alt": None if not f[10] else f[10] * 0.5 - 9000.0,  # type: ignore[operator]
        "vertical_speed": vspeed, "drone_alt": _alt(f[12]),  # type: ignore[arg-type]
        "pressure_alt": None if f[13] is None else _alt(f[13]),  # type: ignore[arg-type]
        "op_status": st, "op_status_name": G.OP_STATUS_NAMES[st],  # type: ignore[index]
        "coord_system": cs, "coord_system_name": G.COORD_SYSTEM_NAMES[cs],  # type: ignore[index]
        "horizontal_accuracy": enum(16), "vertical_accuracy": enum(17), "speed_accuracy": enum(18),
        "timestamp_ms": f[19] or None, "timestamp_accuracy": enum(20),
    }  # fmt: skip


def naive_remoteid(m: bytes) -> dict[str, Any]:
    if len(m) >= 2 and m[0] == 0xFF and m[1] >> 5 == 1:
        return naive_gb(m)
    return naive_astm(m)


# --------------------------------------------------------------------------- ADS-B naive baseline

_CHARS = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def _naive_crc_ok(bits: str) -> bool:
    data = [int(c) for c in bits]
    gen = [int(c) for c in bin(0x1FFF409)[2:]]
    for i in range(88):
        if data[i]:
            for j, g in enumerate(gen):
                data[i + j] ^= g
    return not any(data[-24:])


class NaiveAdsb:
    def __init__(self) -> None:
        self.state: dict[str, dict[int, tuple[int, int]]] = {}
        self.pos: dict[str, tuple[float, float]] = {}

    def decode(self, hexstr: str) -> dict[str, Any]:
        bits = bin(int(hexstr, 16))[2:].zfill(len(hexstr) * 4)
        if len(bits) != 112 or not _naive_crc_ok(bits):
            return {"error": "bad"}
        icao = hexstr[2:8].upper()
        tc = int(bits[32:37], 2)
        out: dict[str, Any] = {"icao": icao, "typecode": tc}
        if 1 <= tc <= 4:
            out["callsign"] = "".join(
                _CHARS[int(bits[40 + 6 * i : 46 + 6 * i], 2)] for i in range(8)
            ).rstrip()
        elif 9 <= tc <= 18:
            alt = bits[40:52]
            n = int(alt[:7] + alt[8:], 2)
            out["altitude_ft"] = n * 25 - 1000
            odd = int(bits[53])
            cpr = (int(bits[54:71], 2), int(bits[71:88], 2))
            self.state.setdefault(icao, {})[odd] = cpr
            s = self.state[icao]
            p = None
            if icao in self.pos:
                p = decode_local(cpr[0], cpr[1], odd, *self.pos[icao])
            elif 0 in s and 1 in s:
                p = decode_global_airborne(s[0], s[1], bool(odd))
            if p:
                self.pos[icao] = p
                out["latitude"], out["longitude"] = p
        elif tc == 19:
            vew = (int(bits[46:56], 2) - 1) * (-1 if bits[45] == "1" else 1)
            vns = (int(bits[57:67], 2) - 1) * (-1 if bits[56] == "1" else 1)
            out["groundspeed_kt"] = math.sqrt(vew**2 + vns**2)
            out["track_deg"] = math.degrees(math.atan2(vew, vns)) % 360
            out["vertical_rate_fpm"] = (
                (int(bits[69:78], 2) - 1) * 64 * (-1 if bits[68] == "1" else 1)
            )
        return out


# --------------------------------------------------------------------------- harness


def best_time(func: Callable[[], Any], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs (wall time is reported beside it by the callers)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.process_time()
        func()
        best = min(best, time.process_time() - t0)
    return best


def wall_time(func: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def remoteid_stream(n: int) -> list[bytes]:
    odid = json.loads((SHARED / "remoteid" / "opendroneid_vectors.json").read_text("utf-8"))
    gb = json.loads((SHARED / "remoteid" / "gb46750_vectors.json").read_text("utf-8"))
    base = [bytes.fromhex(v["encoded_hex"]) for v in odid["vectors"] if "encoded_hex" in v]
    base += [bytes.fromhex(v["packet_hex"]) for v in gb["vectors"]]
    return (base * (n // len(base) + 1))[:n]


def bench_remoteid(n: int, repeat: int) -> dict[str, Any]:
    stream = remoteid_stream(n)
    ours_out: list[dict] = []
    base_out: list[dict] = []

    def ours() -> None:
        ours_out[:] = [decode(m) for m in stream]

    def baseline() -> None:
        base_out[:] = [naive_remoteid(m) for m in stream]

    ours_s = best_time(ours, repeat)
    ours_wall_s = wall_time(ours)
    base_s = best_time(baseline, max(1, repeat // 2))
    agree = sum(a == b for a, b in zip(ours_out, base_out, strict=True)) / len(stream)
    packs = sum(1 for m in stream if m[:1] != b"\xff" and m[0] >> 4 == 0xF)
    gbn = sum(1 for m in stream if m[:1] == b"\xff")
    return {
        "name": "decode_remoteid",
        "ours_s": round(ours_s, 4),
        "messages": len(stream),
        "messages_per_s": round(len(stream) / ours_s),
        "baseline": "naive bit-by-bit port of opendroneid.c bit-fields (in this script)",
        "baseline_s": round(base_s, 4),
        "ratio": round(base_s / ours_s, 2),
        "ours_wall_s": round(ours_wall_s, 4),
        "agree": agree,
        "mix": {"f3411_single": len(stream) - packs - gbn, "f3411_pack": packs, "gb46750": gbn},
        "load_average_1m": os.getloadavg()[0],
    }


def bench_adsb(n: int, repeat: int) -> dict[str, Any]:
    with (SHARED / "adsb" / "sample_data_adsb.csv").open(newline="") as handle:
        hexes = [row[1] for row in csv.reader(handle)]
    hexes = (hexes * (n // len(hexes) + 1))[:n]
    raws = [bytes.fromhex(h) for h in hexes]

    def ours() -> None:
        d = StreamDecoder()
        for m in raws:
            d.decode(m)

    try:
        import pyModeS  # GPL-3.0: benchmark oracle only, never imported by haizhou

        def baseline() -> None:
            pipe = pyModeS.PipeDecoder()
            for i, h in enumerate(hexes):
                pipe.decode(h, timestamp=float(i))

        name = f"pyModeS {getattr(pyModeS, '__version__', '3.x')} PipeDecoder"
    except ImportError:

        def baseline() -> None:
            d = NaiveAdsb()
            for h in hexes:
                d.decode(h)

        name = "naive binary-string decoder (in this script; pyModeS not installed)"

    ours_s = best_time(ours, repeat)
    ours_wall_s = wall_time(ours)
    base_s = best_time(baseline, max(1, repeat // 2))
    return {
        "name": "decode_adsb",
        "ours_s": round(ours_s, 4),
        "ours_wall_s": round(ours_wall_s, 4),
        "messages": n,
        "messages_per_s": round(n / ours_s),
        "baseline": name,
        "baseline_s": round(base_s, 4),
        "ratio": round(base_s / ours_s, 2),
        "load_average_1m": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--adsb-messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(bench_remoteid(args.messages, args.repeat)), flush=True)
    print(json.dumps(bench_adsb(args.adsb_messages, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
