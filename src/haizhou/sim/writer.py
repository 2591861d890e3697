"""Write a city as the files the importers read (模拟城市导出), byte for byte reproducible.

Layout of ``out_dir``::

    jurisdictions.geojson  roads.geojson  pois.geojson
    incidents.csv  cases.csv  sensors.csv  persons.csv
    sightings.parquet  drone_scenarios.json  fraud_warnings.csv
    truth/hotspots.geojson  truth/surges.csv  truth/offenders.csv  truth/offender_profiles.csv
    truth/repeat_addresses.csv  truth/floating_residents.csv  truth/fraud_risk.csv
    truth/fraud_types.csv  truth/near_repeat.csv  truth/burglary_branching.csv
    truth/incident_origins.csv  truth/fraud_warnings.csv
    manifest.json

CSV: UTF-8 without BOM, ``\\n`` line ends, a header row, rows in id order, empty field for a
missing value. Times ISO 8601 with ``+08:00`` (``2024-01-01T08:15:30+08:00``). Coordinates
WGS-84 with exactly 6 decimals. GeoJSON: one feature per line. The manifest holds the config,
the counts and the SHA-256 of every other file, and no wall-clock time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from haizhou import __version__
from haizhou.sim import catalog
from haizhou.sim.city import CST, City
from haizhou.sim.fraud_warnings import FRAUD_WARNING_COLUMNS, generate_fraud_warnings

INCIDENT_COLUMNS = (
    "incident_id",
    "reported_at",
    "category",
    "subcategory",
    "lon",
    "lat",
    "address",
    "caller_phone",
    "summary",
    "disposition",
)
CASE_COLUMNS = (
    "case_id",
    "incident_id",
    "category",
    "subcategory",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "address",
    "entry_method",
    "target",
    "tools",
    "time_of_day",
    "property_taken",
    "loss_amount",
    "narrative",
    "status",
    "solved_at",
    "suspect_ids",
    "fraud_type",
    "victim_age_band",
    "victim_occupation",
    "victim_id",
)
SENSOR_COLUMNS = ("sensor_id", "kind", "lon", "lat", "range_m", "heading_deg", "fov_deg", "status")
PERSON_COLUMNS = (
    "id_number",
    "registration",
    "residence_lon",
    "residence_lat",
    "residence_address",
    "age_band",
    "occupation",
    "registered_at",
)
COORD_COLUMNS = {"lon", "lat", "residence_lon", "residence_lat", "home_lon", "home_lat"}
FORMATS = {
    "loss_amount": "{:.2f}",
    "loss": "{:.2f}",
    "contacts": "{:.0f}",
    "call_minutes": "{:.1f}",
    "transfer_amount": "{:.2f}",
    "potential_loss": "{:.2f}",
    "range_m": "{:.1f}",
    "heading_deg": "{:.1f}",
    "fov_deg": "{:.1f}",
    "share": "{:.4f}",
    "radius_m": "{:.1f}",
    "multiplier": "{:.2f}",
    "baseline_expected": "{:.3f}",
}


def iso_times(values: pd.Series) -> np.ndarray:
    """ISO 8601 strings with ``+08:00`` for tz-aware UTC+8 timestamps; ``""`` for NaT."""
    # a fixed +08:00, not Asia/Shanghai: China kept summer time 1986–1991
    local = values.dt.tz_convert(CST).dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    text = np.char.add(np.datetime_as_string(local, unit="s"), "+08:00")
    return np.where(np.isnat(local), "", text)


def _text_frame(frame: pd.DataFrame, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every column as text with the fixed formats above."""
    frame = frame if columns is None else frame.loc[:, list(columns)]
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[name] = iso_times(col)
        elif name in COORD_COLUMNS:
            values = col.to_numpy(float)
            out[name] = np.char.mod("%.6f", np.round(values, 6) + 0.0)
        elif name in FORMATS:
            fmt = FORMATS[name]
            out[name] = [fmt.format(v) if v == v else "" for v in col.to_numpy(float)]
        elif col.dtype == bool:
            out[name] = np.where(col.to_numpy(), "true", "false")
        else:
            out[name] = (
                col.astype(str).to_numpy()
                if col.dtype != object
                else col.fillna("").astype(str).to_numpy()
            )
    return pd.DataFrame(out)


def _write_csv(frame: pd.DataFrame, path: Path, columns: tuple[str, ...] | None = None) -> None:
    _text_frame(frame, columns).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _write_geojson(doc: dict[str, Any], path: Path) -> None:
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc["features"]]
    body = ",\n".join(lines)
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n", encoding="utf-8"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_city(city: City, out_dir: Path) -> dict[str, Path]:
    """Write ``city`` into ``out_dir`` (created if needed) as deterministic files.

    Parameters
    ----------
    city : City
        From :func:`haizhou.sim.generate_city`.
    out_dir : pathlib.Path
        Target folder; existing files of the same names are replaced, others are left alone.

    Returns
    -------
    dict of str to pathlib.Path
        Every file written, keyed by its path relative to ``out_dir`` (``"truth/surges.csv"``),
        the manifest last.
    """
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def _path(name: str) -> Path:
        files[name] = out_dir / name
        return files[name]

    _write_geojson(city.jurisdictions, _path("jurisdictions.geojson"))
    _write_geojson(city.roads, _path("roads.geojson"))
    _write_geojson(city.pois, _path("pois.geojson"))
    _write_csv(city.incidents, _path("incidents.csv"), INCIDENT_COLUMNS)
    _write_csv(city.cases, _path("cases.csv"), CASE_COLUMNS)
    _write_csv(city.sensors, _path("sensors.csv"), SENSOR_COLUMNS)
    _write_csv(city.persons, _path("persons.csv"), PERSON_COLUMNS)
    seen = (
        city.sightings["seen_at"]
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .to_numpy()
        .astype("datetime64[s]")
    )
    table = pa.table(
        {
            "device_or_plate": pa.array(
                city.sightings["device_or_plate"].astype(str).to_numpy(), pa.string()
            ),
            "sensor_id": pa.array(city.sightings["sensor_id"].astype(str).to_numpy(), pa.string()),
            # Parquet has no second unit: milliseconds, explicitly
            "seen_at": pa.array(seen.astype(np.int64) * 1000, pa.int64()).cast(
                pa.timestamp("ms", tz="Asia/Shanghai")
            ),
        }
    )
    pq.write_table(table, _path("sightings.parquet"), compression="zstd", write_statistics=True)
    _path("drone_scenarios.json").write_text(
        json.dumps(city.drone_scenarios, ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )
    fraud_warnings = generate_fraud_warnings(city)
    _write_csv(fraud_warnings.warnings, _path("fraud_warnings.csv"), FRAUD_WARNING_COLUMNS)
    _write_csv(fraud_warnings.truth, _path("truth/fraud_warnings.csv"))
    t = city.truth
    _write_geojson(t.hotspots, _path("truth/hotspots.geojson"))
    for name, frame in (
        ("surges", t.surges),
        ("offenders", t.offenders),
        ("offender_profiles", t.offender_profiles),
        ("repeat_addresses", t.repeat_addresses),
        ("floating_residents", t.floating_residents),
        ("fraud_risk", t.fraud_risk),
        ("fraud_types", t.fraud_types),
        ("near_repeat", t.near_repeat),
        ("burglary_branching", t.burglary_branching),
        ("incident_origins", t.incident_origins),
    ):
        _write_csv(frame, _path(f"truth/{name}.csv"))

    manifest = {
        "generator": f"haizhou.sim {__version__}",
        "config": city.config.to_dict(),
        "timezone": "+08:00",
        "category_keys": catalog.CATEGORY_KEYS,
        "counts": city.counts(),
        "files": {
            name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for name, path in files.items()
        },
    }
    files["manifest.json"] = out_dir / "manifest.json"
    files["manifest.json"].write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return files
