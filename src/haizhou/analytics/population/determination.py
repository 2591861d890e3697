"""Comparison and determination rings (比对圈 · 判定圈): who lives where, against the registry.

*Comparison*: each pseudonymised device or plate is resolved to the pseudonymised person it is
registered to, where a link is known (:func:`resolve_subjects`), so a person's phone and car
count together; the presence profile is then joined with the registry of residents and
temporary-residence registrations (the Person records).

*Determination*: :class:`ResidenceModel` learns, without labels, how often a resident and a
non-resident are seen at night near a compound: a two-component binomial mixture of the nights
seen out of the window, fitted by EM. Its posterior is the score of "lives here".
:func:`determine` turns it into one explained decision per subject:

* ``unregistered_resident`` (疑似未登记实有人口): no registration, and likely living at the
  compound where it is seen most nights;
* ``registration_stale`` (登记信息失效): registered at a compound, but very likely not living
  there any more;
* ``consistent`` (信息一致): anything else (registered and present, or a visitor).

References
----------
.. [1] Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete
   data via the EM algorithm. J. R. Stat. Soc. B 39(1), 1–38.
   doi:10.1111/j.2517-6161.1977.tb01600.x
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from haizhou.analytics.base import Estimator, Interval, check_is_fitted

__all__ = [
    "DECISIONS",
    "ResidenceModel",
    "determine",
    "resolve_subjects",
]

DECISIONS = ("unregistered_resident", "registration_stale", "consistent")
"""Possible decisions, in the order of urgency."""

_ZH = {
    "unregistered_resident": "疑似未登记实有人口",
    "registration_stale": "登记信息疑似失效",
    "consistent": "信息一致",
}


def resolve_subjects(sightings: pd.DataFrame, device_links: pd.DataFrame | None) -> pd.DataFrame:
    """Replace each device or plate pseudonym by its person's pseudonym where a link is known.

    Parameters
    ----------
    sightings : pandas.DataFrame
        With a ``pseudo_id`` column (device or plate pseudonyms). Not modified.
    device_links : pandas.DataFrame or None
        ``pseudo_id`` (device or plate) → ``person_id`` (person pseudonym), e.g. from real-name
        phone or vehicle registration. Unlinked ids stay as they are.

    Returns
    -------
    pandas.DataFrame
        A copy with ``pseudo_id`` replaced and the original kept as ``device_id``.

    Examples
    --------
    >>> s = pd.DataFrame({"pseudo_id": ["d1", "d2"], "sensor_id": ["S", "S"]})
    >>> resolve_subjects(s, pd.DataFrame({"pseudo_id": ["d1"], "person_id": ["P1"]}))["pseudo_id"].tolist()
    ['P1', 'd2']
    """
    out = sightings.copy()
    out["device_id"] = out["pseudo_id"]
    if device_links is not None and len(device_links):
        links = device_links.dropna(subset=["person_id"])
        links = links[links["person_id"].astype(str) != ""].drop_duplicates("pseudo_id")
        mapped = out["pseudo_id"].map(links.set_index("pseudo_id")["person_id"])
        out["pseudo_id"] = mapped.fillna(out["pseudo_id"])
    return out


class ResidenceModel(Estimator):
    """Resident or not from nights seen (居住判定模型): a binomial mixture fitted by EM.

    Each subject's nights seen near a compound, ``n`` out of ``window_nights``, is modelled as
    Binomial(window, p_resident) with probability ``prior_`` and Binomial(window, p_other)
    otherwise. No labels are used.

    Parameters
    ----------
    window_nights : int, default 28
        Nights in the window the counts were taken over.
    max_iter : int, default 200
        EM iterations at most.
    tol : float, default 1e-9
        Stop when the log-likelihood gains less than this.

    Attributes
    ----------
    p_resident_, p_other_ : float
        Per-night detection probability of a resident and of anyone else.
    prior_ : float
        Share of residents among the subjects fitted.
    n_iter_ : int
        EM iterations run.

    Examples
    --------
    >>> n = np.r_[np.full(60, 0), np.full(30, 1), np.full(40, 10), np.full(40, 14)]
    >>> m = ResidenceModel(window_nights=28).fit(n)
    >>> round(m.prior_, 2), m.predict_proba([0, 12]).round(3).tolist()
    (0.47, [0.0, 1.0])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "window_nights": [Interval("int", 1, None)],
        "max_iter": [Interval("int", 1, None)],
        "tol": [Interval("real", 0, None, closed="neither")],
    }

    def __init__(self, *, window_nights: int = 28, max_iter: int = 200, tol: float = 1e-9):
        self.window_nights = window_nights
        self.max_iter = max_iter
        self.tol = tol

    def _counts(self, nights: Any) -> np.ndarray:
        n = np.asarray(nights, dtype=float).reshape(-1)
        if not np.all(np.isfinite(n) & (n >= 0) & (n <= self.window_nights) & (n == np.round(n))):
            raise ValueError(
                f"nights must be whole numbers in [0, window_nights={self.window_nights}]; "
                "count nights over the same window the model was built for."
            )
        return n

    def fit(self, nights: Any, y: Any = None) -> ResidenceModel:
        """Fit the mixture to nights-seen counts (one per subject; zeros included)."""
        self._check_params()
        n = self._counts(nights)
        if n.size < 2 or np.all(n == n[0]):
            raise ValueError(
                "ResidenceModel needs at least two subjects with different night counts to "
                "tell residents from others."
            )
        w = self.window_nights
        hi = n >= np.median(n[n > 0]) if np.any(n > 0) else n > 0
        pi = float(np.clip(hi.mean(), 0.05, 0.95))
        pr = float(np.clip(n[hi].mean() / w, 0.05, 0.99)) if hi.any() else 0.5
        po = float(np.clip(n[~hi].mean() / w, 1e-4, pr / 2)) if (~hi).any() else 0.01
        ll_old = -np.inf
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - reported as n_iter_
            lr = np.log(pi) + stats.binom.logpmf(n, w, pr)
            lo = np.log1p(-pi) + stats.binom.logpmf(n, w, po)
            top = np.maximum(lr, lo)
            ll = float(np.sum(top + np.log(np.exp(lr - top) + np.exp(lo - top))))
            r = 1.0 / (1.0 + np.exp(lo - lr))
            pi = float(np.clip(r.mean(), 1e-6, 1 - 1e-6))
            pr = float(np.clip((r * n).sum() / (w * r.sum()), 1e-6, 1 - 1e-6))
            po = float(np.clip(((1 - r) * n).sum() / (w * (1 - r).sum()), 1e-6, 1 - 1e-6))
            if pr < po:  # keep "resident" the frequently seen component
                pr, po, pi = po, pr, 1 - pi
            if ll - ll_old < self.tol:
                break
            ll_old = ll
        self.p_resident_, self.p_other_, self.prior_, self.n_iter_ = pr, po, pi, n_iter
        return self

    def predict_proba(self, nights: Any) -> np.ndarray:
        """Posterior probability of being a resident for each count, in [0, 1]."""
        check_is_fitted(self)
        n = self._counts(nights)
        w = self.window_nights
        lr = np.log(self.prior_) + stats.binom.logpmf(n, w, self.p_resident_)
        lo = np.log1p(-self.prior_) + stats.binom.logpmf(n, w, self.p_other_)
        return 1.0 / (1.0 + np.exp(np.clip(lo - lr, -700, 700)))


def determine(
    compounds: pd.DataFrame,
    subjects: Any,
    registry: pd.DataFrame,
    model: ResidenceModel,
    *,
    threshold: float = 0.9,
) -> pd.DataFrame:
    """One scored, explained decision per subject (判定结果).

    Parameters
    ----------
    compounds : pandas.DataFrame
        Nights per (pseudo_id, compound), from
        :func:`haizhou.analytics.population.presence.presence_profiles`.
    subjects : array_like of str
        Every subject to decide on (those seen at all, and registered persons).
    registry : pandas.DataFrame
        ``person_id`` (pseudonym), ``registration`` ("permanent", "temporary" or "none") and
        ``compound`` of the registered residence.
    model : ResidenceModel
        Fitted on the same window.
    threshold : float, default 0.9
        Posterior at or above which "lives there" is decided (and at or below ``1 − threshold``
        "does not live there").

    Returns
    -------
    pandas.DataFrame
        One row per subject: ``pseudo_id, compound`` (where the decision applies),
        ``decision`` (see :data:`DECISIONS`), ``score`` (probability behind the decision),
        ``nights``, ``window_nights``, ``registered``, ``evidence_en``, ``evidence_zh``;
        sorted by decision urgency then score.
    """
    check_is_fitted(model)
    if not 0.5 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0.5, 1); got {threshold!r}.")
    w = model.window_nights
    subj = pd.Index(pd.unique(np.asarray(subjects, dtype=object)), name="pseudo_id")
    comp = compounds[compounds["pseudo_id"].isin(subj)]
    best = (
        comp.sort_values(
            ["pseudo_id", "nights", "compound"], ascending=[True, False, True], kind="stable"
        )
        .drop_duplicates("pseudo_id")
        .set_index("pseudo_id")
    )
    reg = registry[registry["registration"].isin(["permanent", "temporary"])]
    reg = reg.drop_duplicates("person_id").set_index("person_id")
    out = pd.DataFrame(index=subj)
    out["registered"] = out.index.isin(reg.index)
    out["reg_compound"] = reg["compound"].reindex(out.index)
    out["best_compound"] = best["compound"].reindex(out.index)
    out["best_nights"] = best["nights"].reindex(out.index).fillna(0).astype(np.int64)
    at_reg = comp.merge(
        out.loc[out["registered"], ["reg_compound"]].reset_index(),
        left_on=["pseudo_id", "compound"],
        right_on=["pseudo_id", "reg_compound"],
        how="inner",
    ).set_index("pseudo_id")["nights"]
    out["reg_nights"] = at_reg.reindex(out.index).fillna(0).astype(np.int64)
    nights = np.where(out["registered"], out["reg_nights"], out["best_nights"])
    post = model.predict_proba(nights)
    unreg = ~out["registered"].to_numpy() & (post >= threshold)
    stale = out["registered"].to_numpy() & (post <= 1.0 - threshold)
    decision = np.select(
        [unreg, stale], ["unregistered_resident", "registration_stale"], "consistent"
    )
    score = np.where(stale, 1.0 - post, np.where(out["registered"], post, post))
    score = np.where(decision == "consistent", np.where(out["registered"], post, 1.0 - post), score)
    compound = np.where(
        out["registered"], out["reg_compound"].astype(object), out["best_compound"].astype(object)
    )
    res = pd.DataFrame(
        {
            "pseudo_id": out.index.to_numpy(),
            "compound": pd.Series(compound).fillna("").to_numpy(),
            "decision": decision,
            "score": score,
            "p_resident": post,
            "nights": nights,
            "window_nights": w,
            "registered": out["registered"].to_numpy(),
        }
    )
    en, zh = [], []
    for row in res.itertuples(index=False):
        n, c = int(row.nights), row.compound or "any compound"
        cz = row.compound or "任何小区"
        if row.decision == "unregistered_resident":
            en.append(f"seen at compound {c} on {n} of the last {w} nights, no registration")
            zh.append(f"近{w}晚中有{n}晚在{cz}被感知，无登记信息")
        elif row.decision == "registration_stale":
            en.append(f"registered at {c} but seen there on {n} of the last {w} nights")
            zh.append(f"登记居住于{cz}，近{w}晚中仅{n}晚被感知")
        elif row.registered:
            en.append(f"registered at {c} and seen there on {n} of the last {w} nights")
            zh.append(f"登记居住于{cz}，近{w}晚中有{n}晚被感知，信息一致")
        else:
            en.append(f"seen at night {n} times in {w} nights: no sign of residence")
            zh.append(f"近{w}晚中仅{n}晚被感知，未见居住迹象")
    res["evidence_en"] = en
    res["evidence_zh"] = zh
    order = {d: i for i, d in enumerate(DECISIONS)}
    res["_o"] = res["decision"].map(order)
    res = (
        res.sort_values(["_o", "score", "pseudo_id"], ascending=[True, False, True], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    return res
