"""A small generator of serial offending for tests, doctests and the scale benchmark (模拟串案).

Each offender has a home base, an active period, a habitual time of day and an MO signature
they mostly keep; one in five offenders' crimes are committed with a co-offender. Cases are
spread around the home base (normal, ``spread_m``) in time order. Not a model of any real city:
the synthetic city in :mod:`haizhou.sim` is the realistic test bed.
"""

from __future__ import annotations

import numpy as np

from haizhou.analytics.linkage.crimes import CrimeTable, Offenders

__all__ = ["synthetic_crimes"]

_MO = {
    "entry_method": ("撬锁", "插片", "攀爬", "技术开锁", "破窗", "溜门"),
    "target": ("住宅", "商铺", "办公室", "仓库"),
    "tools": ("螺丝刀", "撬棍", "钢丝", "液压钳", "无"),
}
_MO_P = {
    "entry_method": (0.35, 0.25, 0.15, 0.03, 0.12, 0.10),
    "target": (0.6, 0.2, 0.1, 0.1),
    "tools": (0.3, 0.3, 0.1, 0.05, 0.25),
}


def synthetic_crimes(
    *,
    n_offenders: int = 200,
    mean_crimes: float = 3.0,
    area_m: float = 20_000.0,
    days: float = 365.0,
    spread_m: float = 600.0,
    mo_keep: float = 0.8,
    solved_share: float = 1.0,
    categories: int = 1,
    seed: int = 0,
) -> tuple[CrimeTable, Offenders]:
    """Cases and offenders with a known truth.

    Parameters
    ----------
    n_offenders : int
        Offenders (their crimes form the series).
    mean_crimes : float
        Mean crimes per offender (1 + Poisson(mean - 1)).
    area_m : float
        Side of the square city, metres.
    days : float
        Length of the period, days (from 2024-01-01).
    spread_m : float
        Standard deviation of crime places around an offender's base, metres.
    mo_keep : float
        Chance an offender uses their signature value for each MO attribute.
    solved_share : float
        Share of cases whose offenders are known.
    categories : int
        Number of case categories (each offender keeps to one).
    seed : int
        Seed of the generator.

    Returns
    -------
    crimes : CrimeTable
    offenders : Offenders
        Links of the solved cases only.
    """
    rng = np.random.default_rng(seed)
    n_per = 1 + rng.poisson(max(mean_crimes - 1.0, 0.0), n_offenders)
    owner = np.repeat(np.arange(n_offenders), n_per)
    n = owner.size
    base = rng.uniform(0, area_m, (n_offenders, 2))
    start = rng.uniform(0, days * 0.8, n_offenders)
    length = rng.uniform(10, days * 0.3, n_offenders)
    hour = rng.uniform(0, 24, n_offenders)
    cat = rng.integers(0, categories, n_offenders)
    xy = base[owner] + rng.normal(0, spread_m, (n, 2))
    t0 = 19723.0  # 2024-01-01
    day = np.floor(start[owner] + rng.uniform(0, 1, n) * length[owner])
    clock = np.mod(hour[owner] + rng.normal(0, 1.5, n), 24.0) / 24.0
    width = rng.choice([0.0, 1 / 24, 4 / 24, 10 / 24, 2.0], size=n, p=[0.3, 0.3, 0.25, 0.1, 0.05])
    t_from = t0 + day + clock - width / 2
    mo = {}
    for name, values in _MO.items():
        p = np.asarray(_MO_P[name])
        signature = rng.choice(len(values), size=n_offenders, p=p)
        own = rng.uniform(size=n) < mo_keep
        codes = np.where(own, signature[owner], rng.choice(len(values), size=n, p=p))
        mo[name] = np.asarray(values, dtype=object)[codes]
    ids = np.char.add("S", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    crimes = CrimeTable.from_arrays(
        crime_id=ids,
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        t_from=t_from,
        t_to=t_from + width,
        mo=mo,
        category=None if categories <= 1 else np.char.add("cat", cat[owner].astype(str)),
    )
    solved = rng.uniform(size=n) < solved_share
    off_id = np.char.add("P", np.char.zfill(owner.astype(str), 6))
    # co-offending: a fifth of offenders bring a partner to half of their crimes
    partner = rng.uniform(size=n_offenders) < 0.2
    with_partner = partner[owner] & (rng.uniform(size=n) < 0.5)
    crime_col = np.r_[ids[solved], ids[solved & with_partner]]
    off_col = np.r_[off_id[solved], np.char.add("Q", off_id[solved & with_partner])]
    offenders = Offenders.from_pairs(crimes, offender_id=off_col, crime_id=crime_col)
    return crimes, offenders
