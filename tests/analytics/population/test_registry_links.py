"""Compounds from registered addresses, and every compound's nearest sensors."""

from __future__ import annotations

import numpy as np
import pytest

from haizhou.analytics.population import (
    compound_of_address,
    compounds_from_registry,
    sensor_compounds,
)


@pytest.mark.parametrize(
    ("address", "compound"),
    [
        ("海州区朝阳名城23号楼2单元1103室", "朝阳名城"),
        ("江苏省连云港市海州区银河花园2号楼3单元1403室", "银河花园"),
        ("海州区新浦路３２号", "新浦路"),
        ("海州区幸福小区5栋201", "幸福小区"),
        ("海州区某处", ""),
        ("", ""),
    ],
)
def test_compound_of_address(address, compound) -> None:  # type: ignore[no-untyped-def]
    assert compound_of_address(address) == compound


def test_compound_centre_is_the_median_of_its_residents() -> None:
    comp, centres = compounds_from_registry(
        ["海州区甲小区1号楼", "海州区甲小区2号楼", "海州区甲小区3号楼", "海州区乙苑1号楼", None],
        [1.0, 2.0, 10.0, 5.0, 7.0],
        [0.0, 0.0, 0.0, 5.0, np.nan],
    )
    assert comp.tolist() == ["甲小区", "甲小区", "甲小区", "乙苑", ""]
    row = centres.set_index("compound").loc["甲小区"]
    assert (row["lon"], row["lat"], row["residents"]) == (2.0, 0.0, 3)


def test_nearest_sensors_are_added_however_far() -> None:
    # compound A at the origin; sensors at 100 m, 400 m, 900 m, 2 km
    sx, sy = [100.0, 400.0, 900.0, 2000.0], [0.0, 0.0, 0.0, 0.0]
    within = sensor_compounds(["S1", "S2", "S3", "S4"], sx, sy, ["A"], [0.0], [0.0])
    assert within["sensor_id"].tolist() == ["S1"]
    nearest = sensor_compounds(
        ["S1", "S2", "S3", "S4"], sx, sy, ["A"], [0.0], [0.0], min_per_compound=3
    )
    assert nearest["sensor_id"].tolist() == ["S1", "S2", "S3"]
    assert nearest["distance_m"].tolist() == [100.0, 400.0, 900.0]
    # no duplicate pair when a nearest sensor is also within the radius
    assert not nearest.duplicated(["sensor_id", "compound"]).any()
