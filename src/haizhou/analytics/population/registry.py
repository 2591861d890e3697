"""Compounds from the registry (登记地址 → 小区): names and centres from residence addresses.

The store keeps each registered person's residence address and point, not a compound id. A
compound is named by the address text before its first building number ("海州区朝阳名城23号楼
2单元1103室" → "朝阳名城"), after :func:`haizhou.analytics.address.normalise_address` drops
the administrative prefix; its centre is the median of its residents' points.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from haizhou.analytics.address import normalise_address

__all__ = ["compound_of_address", "compounds_from_registry"]

_BUILDING = re.compile(r"\d+(号楼|号院|栋|幢|座|号|弄|巷|期|区\d)")


def compound_of_address(address: str | None) -> str:
    """The compound (小区) part of a residence address, "" if none is recognisable.

    Examples
    --------
    >>> compound_of_address("海州区朝阳名城23号楼2单元1103室")
    '朝阳名城'
    >>> compound_of_address("江苏省连云港市海州区银河花园2号楼3单元1403室")
    '银河花园'
    >>> compound_of_address(None)
    ''
    """
    if not address:
        return ""
    text = normalise_address(str(address))
    m = _BUILDING.search(text)
    return text[: m.start()] if m else ""


def compounds_from_registry(
    address: Any, lon: Any, lat: Any, *, min_residents: int = 1
) -> tuple[np.ndarray, pd.DataFrame]:
    """Compound of every registered person, and each compound's centre.

    Parameters
    ----------
    address, lon, lat : array_like, shape (n,)
        Residence address text and point (NaN where unknown).
    min_residents : int, default 1
        Compounds with fewer located residents get no centre (and are left out of the table).

    Returns
    -------
    compound : numpy.ndarray of object, shape (n,)
        Compound name per person ("" if unrecognised).
    centres : pandas.DataFrame
        ``compound, lon, lat, residents``, one row per compound.
    """
    comp = np.array([compound_of_address(a) for a in np.asarray(address, dtype=object)], object)
    frame = pd.DataFrame(
        {"compound": comp, "lon": np.asarray(lon, float), "lat": np.asarray(lat, float)}
    )
    located = frame[(frame["compound"] != "") & frame["lon"].notna() & frame["lat"].notna()]
    centres = (
        located.groupby("compound", sort=True)
        .agg(lon=("lon", "median"), lat=("lat", "median"), residents=("lon", "size"))
        .reset_index()
    )
    centres = centres[centres["residents"] >= min_residents].reset_index(drop=True)
    return comp, centres
