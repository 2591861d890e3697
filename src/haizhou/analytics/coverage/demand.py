"""Demand for blind-spot filling (补盲需求): incidents weighted by severity, pooled on a grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_SEVERITY", "demand_points"]

DEFAULT_SEVERITY: Mapping[str, float] = {
    "robbery": 5.0,
    "burglary": 3.0,
    "fight": 3.0,
    "theft": 2.0,
    "fraud": 1.0,
    "dispute": 1.0,
    "traffic": 1.0,
    "assistance": 0.5,
    "noise": 0.5,
    "other": 0.5,
}
"""Severity weight per incident category key (robbery 5 … noise 0.5); unknown keys weigh 1."""


def demand_points(
    x_m: Any,
    y_m: Any,
    category: Any = None,
    *,
    severity: Mapping[str, float] | None = None,
    cell_size_m: float = 25.0,
) -> pd.DataFrame:
    """Incidents pooled into demand points (需求点) weighted by severity.

    Parameters
    ----------
    x_m, y_m : array_like of float, shape (n,)
        Incident locations, metres.
    category : array_like of str, shape (n,), optional
        Category key of each incident (weights from ``severity``; default weight 1).
    severity : mapping of str to float, optional
        Weight per category key (default :data:`DEFAULT_SEVERITY`; unknown keys weigh 1).
    cell_size_m : float, default 25
        Incidents in one cell of this side pool into one point at their weighted centroid.

    Returns
    -------
    pandas.DataFrame
        ``x_m, y_m, weight, incidents`` per demand point, sorted by cell.

    Examples
    --------
    >>> demand_points([1, 2, 100], [1, 3, 100], ["robbery", "noise", "x"])[["weight", "incidents"]].values.tolist()
    [[5.5, 2.0], [1.0, 1.0]]
    """
    x = np.asarray(x_m, float).reshape(-1)
    y = np.asarray(y_m, float).reshape(-1)
    if x.size != y.size or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x_m and y_m must be finite and of one length (one value per incident).")
    if not cell_size_m > 0:
        raise ValueError(f"cell_size_m must be > 0 metres; got {cell_size_m!r}.")
    sev = DEFAULT_SEVERITY if severity is None else severity
    if category is None:
        w = np.ones(x.size)
    else:
        cat = pd.Series(np.asarray(category).reshape(-1).astype(str))
        w = cat.map(dict(sev)).fillna(1.0).to_numpy(float)
    df = pd.DataFrame(
        {
            "cx": np.floor(x / cell_size_m).astype(np.int64),
            "cy": np.floor(y / cell_size_m).astype(np.int64),
            "wx": w * x,
            "wy": w * y,
            "weight": w,
            "incidents": 1.0,
        }
    )
    g = df.groupby(["cx", "cy"], sort=True)[["wx", "wy", "weight", "incidents"]].sum()
    g = g[g["weight"] > 0]
    out = pd.DataFrame(
        {
            "x_m": (g["wx"] / g["weight"]).to_numpy(),
            "y_m": (g["wy"] / g["weight"]).to_numpy(),
            "weight": g["weight"].to_numpy(),
            "incidents": g["incidents"].to_numpy(),
        }
    )
    return out
