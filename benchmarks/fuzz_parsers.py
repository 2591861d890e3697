"""Fuzz: every untrusted-input parser under ≥ 1,000,000 mutated inputs, no crash allowed.

Parsers: the Remote ID / ADS-B decoder (:func:`haizhou.airspace.decode.decode`, automatic
format detection), the transport unwrapping (:func:`~haizhou.airspace.decode.framing.decode_frame`,
three transports), the stateful ADS-B stream (:class:`~haizhou.airspace.decode.StreamDecoder`,
squitters with a *valid* CRC so the fuzz reaches the field decoders), the import time parser
(:func:`haizhou.ingest.timeparse.parse_times`, in batches) and the streamed-sightings message
parser (:func:`haizhou.ingest.sightings_stream.parse_message`).

Inputs are mutations (bit flips, byte sets, truncation, extension, splicing, interesting
values) of seeds: the conformance vectors in ``../shared/data/remoteid`` when present, encoded
messages otherwise, and valid time texts. A *crash* is any exception a parser documents it
does not raise (decoders return an error object; ``parse_message`` raises ``InputError`` only).
Baseline: the same parser fed uniformly random bytes of the same lengths, in the same run — it
shows how much deeper the mutations reach (``ours_distinct`` vs ``baseline_distinct``: distinct
outcome kinds seen).

Prints one JSON line per parser. Run: ``.venv/bin/python benchmarks/fuzz_parsers.py [--inputs N]
[--seed S]``; exits 1 if any parser crashed. Times are CPU seconds (``time.process_time``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SHARED = Path(
    os.environ.get("HAIZHOU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0F, 0xF0, 0x10, 0x20, 0x3F)


def _hex_strings(value: Any) -> Iterator[bytes]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _hex_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hex_strings(item)
    elif isinstance(value, str):
        text = value.replace(" ", "")
        if len(text) >= 8 and len(text) % 2 == 0:
            with contextlib.suppress(ValueError):
                yield bytes.fromhex(text)


def remoteid_seeds() -> list[bytes]:
    seeds: list[bytes] = []
    for name in ("opendroneid_vectors.json", "gb46750_vectors.json"):
        path = SHARED / "remoteid" / name
        if path.is_file():
            seeds.extend(_hex_strings(json.loads(path.read_text(encoding="utf-8"))))
    if not seeds:
        from haizhou.airspace.decode.gb46750 import encode_gb46750

        seeds.append(encode_gb46750({}))
    return seeds


def adsb_seeds() -> list[bytes]:
    from haizhou.airspace.decode import adsb_encode as E

    return [
        E.encode_identification("780A3B", "CES5401"),
        *(
            E.encode_airborne_position("780A3B", 34.6, 119.2, odd=odd, altitude_ft=3500)
            for odd in (0, 1)
        ),
        E.encode_velocity("780A3B", subtype=1, v_ew=120, v_ns=-80),
    ]


def mutate(rng: random.Random, seed: bytes, seeds: list[bytes]) -> bytes:
    data = bytearray(seed)
    in_place = rng.random() < 0.6  # most mutations keep the length, to get past length checks
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3 if in_place else 7)
        if op == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:
            data[rng.randrange(len(data))] = rng.choice(INTERESTING)
        elif op == 2 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 3 and data:
            del data[rng.randrange(len(data)) :]
        elif op == 4:
            data.extend(rng.randbytes(rng.randint(1, 30)))
        elif op == 5:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data[rng.randrange(len(data) + 1) :] = other[cut:]
        elif op == 6 and data:
            i = rng.randrange(len(data))
            data[i : i + 1] = bytes([data[i]]) * rng.randint(2, 8)
    return bytes(data)


def with_crc(message: bytes) -> bytes:
    """A 14-byte squitter whose last 3 bytes are the CRC of the first 11 (passes the check)."""
    from haizhou.airspace.decode.adsb import crc24

    body = (message + bytes(11))[:11]
    return body + crc24(body + b"\0\0\0").to_bytes(3, "big")


def outcome_kind(result: Any) -> str:
    if isinstance(result, dict):
        return str(result.get("error") or result.get("message_type") or result.get("type") or "ok")[
            :40
        ]
    if isinstance(result, list):
        return f"list{min(len(result), 3)}"
    return type(result).__name__


class Fuzz:
    """Runs one parser over generated inputs, collecting crashes by (exception, place)."""

    def __init__(self, name: str, parse: Callable[[Any], Any], allowed: tuple[type, ...] = ()):
        self.name, self.parse, self.allowed = name, parse, allowed

    def run(self, inputs: Iterator[Any], count: int) -> dict[str, Any]:
        crashes: dict[str, dict[str, Any]] = {}
        kinds: set[str] = set()
        start = time.process_time()
        for _ in range(count):
            value = next(inputs)
            try:
                kinds.add(outcome_kind(self.parse(value)))
            except self.allowed as exc:
                kinds.add(type(exc).__name__)
            except Exception as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
                entry = crashes.setdefault(key, {"count": 0, "example": repr(value)[:200]})
                entry["count"] += 1
        seconds = time.process_time() - start
        return {"inputs": count, "cpu_s": seconds, "kinds": kinds, "crashes": crashes}


def byte_inputs(
    rng: random.Random, seeds: list[bytes], *, fix: Callable[[bytes], bytes] | None = None
) -> Iterator[bytes]:
    while True:
        data = mutate(rng, rng.choice(seeds), seeds)
        yield fix(data) if fix else data


def random_inputs(
    rng: random.Random, seeds: list[bytes], *, fix: Callable[[bytes], bytes] | None = None
) -> Iterator[bytes]:
    while True:
        data = rng.randbytes(len(rng.choice(seeds)))
        yield fix(data) if fix else data


TIME_SEEDS = [
    "2025-03-14 08:30:00", "2025/3/4 8:05", "2025-03-14T08:30:00+08:00", "20250314083000",
    "2025年3月14日 8时30分", "2025-03-14", "2025-03-14 08:30:00.123456", "1741912200",
    "2024-02-29 23:59:59", "2025-03-14T00:30:00Z",
]  # fmt: skip


def time_batches(rng: random.Random, size: int, *, random_only: bool) -> Iterator[Any]:
    import pyarrow as pa

    seeds = [s.encode("utf-8") for s in TIME_SEEDS]
    while True:
        values = []
        for _ in range(size):
            raw = (
                rng.randbytes(rng.randint(0, 24))
                if random_only
                else mutate(rng, rng.choice(seeds), seeds)
            )
            values.append(raw.decode("utf-8", errors="replace"))
        yield pa.array(values, type=pa.string())


def sighting_inputs(rng: random.Random, *, random_only: bool) -> Iterator[bytes]:
    record = {
        "device_or_plate": "460001234567890",
        "sensor_id": "S-001",
        "seen_at": "2025-03-14T08:30:00+08:00",
    }
    seed = json.dumps([record, {**record, "device_or_plate": "苏G12345"}]).encode()
    pseudo = {
        "pseudo_id": "p_0a1b2c",
        "id_kind": "mac",
        "sensor_id": "S-2",
        "seen_at": "2025-03-14 08:30",
    }
    seeds = [seed, json.dumps(pseudo).encode(), b'{"id": 1}', b"[]"]
    while True:
        yield rng.randbytes(len(seed)) if random_only else mutate(rng, rng.choice(seeds), seeds)


def report(name: str, ours: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"fuzz_{name}",
        "inputs": ours["inputs"],
        "crashes": sum(c["count"] for c in ours["crashes"].values())
        + sum(c["count"] for c in base["crashes"].values()),
        "crash_sites": {**ours["crashes"], **base["crashes"]},
        "ours_s": round(ours["cpu_s"], 2),
        "inputs_per_s": round(ours["inputs"] / ours["cpu_s"]) if ours["cpu_s"] else None,
        "ours_distinct": len(ours["kinds"]),
        "baseline": "uniformly random bytes of the seeds' lengths",
        "baseline_s": round(base["cpu_s"], 2),
        "baseline_inputs": base["inputs"],
        "baseline_distinct": len(base["kinds"]),
        "load_average_1m": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=1_000_000, help="Inputs per parser.")
    parser.add_argument("--baseline-inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--only", default=None, help="Run only parsers whose name holds this.")
    args = parser.parse_args()

    from haizhou.airspace.decode import StreamDecoder, decode
    from haizhou.airspace.decode.framing import decode_frame
    from haizhou.errors import InputError
    from haizhou.ingest.timeparse import parse_times

    rid, adsb = remoteid_seeds(), adsb_seeds()
    n, nb = args.inputs, args.baseline_inputs
    stream = (
        StreamDecoder(reference=(34.6, 119.2))
        if "reference" in StreamDecoder.__init__.__code__.co_varnames
        else StreamDecoder()
    )
    feed = getattr(stream, "feed", None) or stream.decode
    suites: list[tuple[str, Fuzz, Callable[[random.Random, bool], Iterator[Any]], int]] = [
        ("decode_auto", Fuzz("decode", decode),
         lambda r, base: (random_inputs if base else byte_inputs)(r, rid + adsb), 1),
        *[
            (f"frame_{t}", Fuzz(t, lambda m, t=t: decode_frame(m, t)),
             lambda r, base: (random_inputs if base else byte_inputs)(r, rid), 1)
            for t in ("bluetooth", "wifi_beacon", "wifi_nan")
        ],
        ("adsb_stream", Fuzz("adsb", lambda m: feed(m)),
         lambda r, base: (random_inputs if base else byte_inputs)(r, adsb, fix=with_crc), 1),
        ("parse_times", Fuzz("times", lambda a: parse_times(a, "Asia/Shanghai")),
         lambda r, base: time_batches(r, 1000, random_only=base), 1000),
    ]  # fmt: skip
    try:
        from haizhou.ingest.sightings_stream import parse_message
        from haizhou.security.pseudonym import Pseudonymiser

        ps = Pseudonymiser(b"fuzz-key-0123456789abcdef0123456")
        suites.append(
            ("sightings_message", Fuzz("sightings", lambda m: parse_message(m, ps, "Asia/Shanghai"), (InputError,)),
             lambda r, base: sighting_inputs(r, random_only=base), 1)
        )  # fmt: skip
    except ImportError:  # the streamed-sightings parser is not in this build
        pass

    crashed = False
    for name, fuzz, inputs, per_call in suites:
        if args.only and args.only not in name:
            continue
        ours = fuzz.run(inputs(random.Random(args.seed), False), max(n // per_call, 1))
        base = fuzz.run(inputs(random.Random(args.seed + 1), True), max(nb // per_call, 1))
        ours["inputs"] *= per_call
        base["inputs"] *= per_call
        line = report(name, ours, base)
        crashed |= line["crashes"] > 0
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
