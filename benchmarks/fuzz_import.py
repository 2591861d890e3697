"""Fuzz: ≥ 1,000,000 generated CSV rows through the importer, no crash allowed (导入模糊测试).

Generated incident files (``--rows-per-file`` rows each) whose rows are mutated at random:
a field replaced by a hostile value (impossible dates, ``1e999``, NaN, full-width digits, control
characters, lone quotes, embedded newlines, 200-character junk, random Unicode) or by a mutation
of its valid value (characters dropped, doubled, swapped), ragged rows, stray quotes. Each file
is then written in a random encoding (UTF-8, UTF-8 with BOM, GB18030, GBK, UTF-16), with LF or
CRLF, and sometimes cut short at a random byte or given random bytes spliced in. Every file goes
through :func:`haizhou.ingest.import_file` into one SQLite store: the full validation path
(decoding, header mapping, times, coordinates, jurisdictions, pseudonyms, quarantine) with the
writes batched (``--batch-size`` rows a transaction), not one write per row.

A *crash* is any exception but :class:`~haizhou.errors.HaizhouError` (a refused file with a
one-line reason), or a summary whose rows do not add up (read ≠ stored + quarantined +
duplicates). Baseline, same files, same run: ``pandas.read_csv`` with its defaults (what a
naive importer does), counting the files it raises on.

Prints one JSON line; exits 1 on any crash. Run: ``.venv/bin/python benchmarks/fuzz_import.py
[--rows 1000000] [--rows-per-file 50000] [--seed 1]``. Times are wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

KEY = "haizhou-fuzz-key-0123456789abcdef"
HEADER = ["incident_id", "reported_at", "category", "lon", "lat", "caller_phone", "summary"]
HEADER_ZH = ["警情编号", "报警时间", "警情类别", "经度", "纬度", "报警电话", "报警内容"]
CATEGORIES = ["盗窃", "诈骗", "纠纷", "交通事故", "求助"]
HOSTILE = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-1e999",
    "0x1F",
    "１１９.２",
    "119,2",
    "2024-02-30 08:00:00",
    "2024-13-01 08:00",
    "24:61:61",
    "0000-00-00 00:00:00",
    "9999-12-31 23:59:59",
    "2024年2月30日",
    "20240101256199",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "\u202e",
    '"',
    '""',
    "a\nb",
    "a\rb",
    "=cmd|' /C calc'!A0",
    "NULL",
    "None",
    "-",
    "x" * 200,
    "😀",
    "\ud7ff",
]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]
EXTENT = (119.10, 34.50, 119.35, 34.70)


def _valid(rng: random.Random, file_no: int, i: int) -> list[str]:
    lon = rng.uniform(EXTENT[0], EXTENT[2])
    lat = rng.uniform(EXTENT[1], EXTENT[3])
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.3 else ""
    return [
        f"F{file_no}-{i}",
        f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
        rng.choice(CATEGORIES),
        f"{lon:.6f}",
        f"{lat:.6f}",
        phone,
        f"报警人称{rng.choice(CATEGORIES)}"
        + (f"，回拨{phone}" if phone and rng.random() < 0.2 else ""),
    ]


def _mutate_text(rng: random.Random, value: str) -> str:
    if not value:
        return rng.choice(HOSTILE)
    k = rng.randrange(len(value))
    op = rng.randrange(4)
    if op == 0:
        return value[:k] + value[k + 1 :]
    if op == 1:
        return value[:k] + value[k] * 2 + value[k:]
    if op == 2:
        return value[:k] + chr(rng.randrange(0x20, 0x3000)) + value[k + 1 :]
    return value[::-1]


def _field(value: str) -> str:
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _row(rng: random.Random, file_no: int, i: int) -> str:
    cells = _valid(rng, file_no, i)
    roll = rng.random()
    if roll < 0.25:
        k = rng.randrange(len(cells))
        cells[k] = rng.choice(HOSTILE) if rng.random() < 0.5 else _mutate_text(rng, cells[k])
    elif roll < 0.28:
        cells = cells[: rng.randrange(len(cells))] + ["extra"] * rng.randrange(3)
    text = ",".join(_field(c) for c in cells)
    if rng.random() < 0.002:  # a stray quote opens a field that never closes (for a while)
        k = rng.randrange(len(text) + 1)
        text = text[:k] + '"' + text[k:]
    return text


def make_file(rng: random.Random, path: Path, file_no: int, rows: int) -> dict[str, object]:
    """Write one mutated CSV file; returns how it was mangled."""
    header = HEADER_ZH if rng.random() < 0.5 else HEADER
    newline = rng.choice(["\n", "\r\n"])
    lines = [",".join(header)] + [_row(rng, file_no, i) for i in range(rows)]
    encoding = rng.choices(ENCODINGS, weights=[4, 2, 2, 2, 1])[0]
    data = (newline.join(lines) + newline).encode(encoding, errors="replace")
    how: dict[str, object] = {"encoding": encoding}
    if rng.random() < 0.15:
        cut = rng.randrange(len(data) // 2, len(data))
        data, how["cut_at"] = data[:cut], cut
    if rng.random() < 0.15:
        at = rng.randrange(len(data))
        data = data[:at] + rng.randbytes(rng.randint(1, 16)) + data[at:]
        how["spliced_at"] = at
    path.write_bytes(data)
    return how


def jurisdictions(path: Path) -> None:
    x0, y0, x1, y1 = EXTENT
    mid = (x0 + x1) / 2
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": code},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[a, y0], [b, y0], [b, y1], [a, y1], [a, y0]]],
            },
        }
        for code, a, b in (("320706001", x0, mid), ("320706002", mid, x1))
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def run_ours(files: list[Path], work: Path, batch_size: int) -> dict[str, object]:
    from sqlalchemy import text

    from haizhou.errors import HaizhouError
    from haizhou.ingest import import_file
    from haizhou.store.engine import make_engine
    from haizhou.store.tables import metadata

    engine = make_engine(f"sqlite:///{work / 'fuzz.db'}")
    metadata.create_all(engine)
    geojson = work / "jurisdictions.geojson"
    jurisdictions(geojson)
    data_dir = work / "data"
    import_file("jurisdictions", geojson, engine=engine, data_dir=data_dir, pseudonym_key=KEY)
    totals = {"rows_read": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
    refused: dict[str, int] = {}
    crashes: list[str] = []
    for path in files:
        try:
            summary = import_file(
                "incidents",
                path,
                engine=engine,
                data_dir=data_dir,
                pseudonym_key=KEY,
                batch_size=batch_size,
                progress=False,
            )
        except HaizhouError as exc:
            reason = str(exc).split(":")[0][:80]
            refused[reason] = refused.get(reason, 0) + 1
            continue
        except Exception:
            crashes.append(f"{path.name}: {traceback.format_exc(limit=6)}")
            continue
        totals["rows_read"] += summary.rows
        totals["accepted"] += summary.accepted
        totals["quarantined"] += summary.quarantined
        totals["duplicates"] += summary.skipped_duplicates
        if summary.rows != summary.accepted + summary.quarantined + summary.skipped_duplicates:
            crashes.append(f"{path.name}: rows do not add up: {summary.to_dict()}")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    engine.dispose()
    if stored != totals["accepted"]:
        crashes.append(f"stored {stored} incidents but accepted {totals['accepted']}")
    return {**totals, "stored": stored, "refused_files": refused, "crashes": crashes}


def run_baseline(files: list[Path]) -> dict[str, object]:
    import pandas as pd

    raised: dict[str, int] = {}
    rows = 0
    for path in files:
        try:
            rows += len(pd.read_csv(path))
        except Exception as exc:
            name = type(exc).__name__
            raised[name] = raised.get(name, 0) + 1
    return {"rows_read": rows, "files_raised": sum(raised.values()), "raised": raised}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows generated in all")
    parser.add_argument("--rows-per-file", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="haizhou-fuzz-import-", dir="/tmp"))
    try:
        n_files = max(1, -(-args.rows // args.rows_per_file))
        t0 = time.perf_counter()
        files, mangled = [], {"cut": 0, "spliced": 0}
        for k in range(n_files):
            path = work / f"fuzz-{k:04d}.csv"
            rows = min(args.rows_per_file, args.rows - k * args.rows_per_file)
            how = make_file(rng, path, k, rows)
            mangled["cut"] += "cut_at" in how
            mangled["spliced"] += "spliced_at" in how
            files.append(path)
        generate_s = time.perf_counter() - t0
        w0, c0 = time.perf_counter(), time.process_time()
        ours = run_ours(files, work, args.batch_size)
        ours_s, ours_cpu = time.perf_counter() - w0, time.process_time() - c0
        w0, c0 = time.perf_counter(), time.process_time()
        base = run_baseline(files)
        base_s, base_cpu = time.perf_counter() - w0, time.process_time() - c0
        crashes = ours.pop("crashes")
        result = {
            "name": "fuzz_import_csv",
            "rows_generated": args.rows,
            "files": n_files,
            "files_cut": mangled["cut"],
            "files_spliced": mangled["spliced"],
            **{f"ours_{k}": v for k, v in ours.items()},
            "ours_s": round(ours_s, 2),
            "ours_cpu_s": round(ours_cpu, 2),
            "ours_rows_per_s": round(int(ours["rows_read"]) / ours_s) if ours_s else None,
            "crashes": len(crashes),
            "crash_samples": [c[-600:] for c in crashes[:3]],
            "baseline": "pandas.read_csv defaults on the same files (no validation)",
            "baseline_s": round(base_s, 2),
            "baseline_cpu_s": round(base_cpu, 2),
            "baseline_rows_read": base["rows_read"],
            "baseline_files_raised": base["files_raised"],
            "baseline_raised": base["raised"],
            "ratio": round(base_s / ours_s, 3) if ours_s else None,
            "generate_s": round(generate_s, 2),
            "seed": args.seed,
            "loadavg": [round(v, 2) for v in os.getloadavg()],
            "cpus": os.cpu_count(),
        }
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 1 if crashes else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
