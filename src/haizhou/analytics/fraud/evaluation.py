"""Scoring the dissuasion ranking against ground truth (劝阻排序评估).

:func:`evaluate_warning_ranking` trains the warning risk model on the warnings before
``split_at`` and scores the later ones: AUC, precision at the top ``k``, Brier score (with the
base-rate Brier as reference), hit rate by age band (fairness), beside two named baselines
scored on the same warnings: the fixed prior (:func:`~haizhou.analytics.fraud.prior_risk`) and
the person-only model (age band × occupation, no warning signal). :func:`warned_rate_ratios`
gives the rate-ratio table of the warned people (which kinds of warning and which groups
carry elevated victimisation). :func:`holdout_uplift` runs the daily ranking with a seeded
hold-out over a period and measures the uplift from given outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from haizhou.analytics.fraud.dissuasion import assign_holdout, rank_warnings, uplift
from haizhou.analytics.fraud.early_warnings import WARNING_FEATURES, prior_risk, warning_features
from haizhou.analytics.fraud.rates import rate_ratios
from haizhou.analytics.fraud.risk import FraudRiskModel, risk_metrics

__all__ = ["evaluate_warning_ranking", "holdout_uplift", "warned_rate_ratios"]

PERSON_FEATURES = ("age_band", "occupation")


def _metrics(y: np.ndarray, risk: np.ndarray, groups: Any, k: int) -> dict[str, Any]:
    m = risk_metrics(y, risk, groups=groups, k=k)
    return {
        "auc": m.auc,
        f"precision_at_{k}": m.precision_at_k,
        "brier": m.brier,
        "brier_base_rate": m.brier_reference,
        "hit_rate_by_age_band": m.hit_rate_by_group,
    }


def evaluate_warning_ranking(
    warnings: pd.DataFrame,
    y: Any,
    *,
    split_at: Any,
    k: int = 100,
    model: str = "logistic",
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Train on warnings before ``split_at``, score the ranking of the later ones.

    Parameters
    ----------
    warnings : pandas.DataFrame
        ``warned_at``, ``kind``, signal columns (``contacts``, ``call_minutes``,
        ``transfer_amount``), ``age_band``, ``occupation``.
    y : array_like of bool
        Would have been defrauded (ground truth), one per warning.
    split_at : datetime-like
    k : int, default 100
    model : {"logistic", "gbm"}

    Returns
    -------
    dict
        ``n_train, n_test, victims_test, attributes_used``, the model's figures (``auc``,
        ``precision_at_k``, ``brier``, ``brier_base_rate``, ``hit_rate_by_age_band`` as a
        DataFrame) and ``baselines``: the same figures for ``prior`` and ``person_only``.
    """
    yy = np.asarray(y, dtype=bool).reshape(-1)
    if yy.size != len(warnings):
        raise ValueError(f"y has {yy.size} values for {len(warnings)} warnings.")
    w = warning_features(warnings).reset_index(drop=True)
    train = (w["warned_at"] < pd.Timestamp(split_at)).to_numpy()
    if train.sum() == 0 or (~train).sum() == 0:
        raise ValueError("split_at leaves no warnings on one side; pick a time inside the feed.")
    if len(np.unique(yy[train])) != 2:
        raise ValueError("the training warnings hold only one outcome; use a later split_at.")
    features = (*WARNING_FEATURES, *PERSON_FEATURES)
    m = FraudRiskModel(features=features, model=model, random_state=random_state).fit(
        w[train], yy[train].astype(int)
    )
    test, yt = w[~train], yy[~train]
    groups = test["age_band"].astype(str).to_numpy()
    out: dict[str, Any] = {
        "n_train": int(train.sum()),
        "n_test": int((~train).sum()),
        "victims_test": int(yt.sum()),
        "attributes_used": list(features),
        **_metrics(yt, m.predict_proba(test), groups, k),
    }
    person = FraudRiskModel(features=PERSON_FEATURES, random_state=random_state).fit(
        w[train], yy[train].astype(int)
    )
    out["baselines"] = {
        "prior": _metrics(yt, prior_risk(test), groups, k),
        "person_only": _metrics(yt, person.predict_proba(test), groups, k),
    }
    out["model"] = m
    return out


def warned_rate_ratios(warnings: pd.DataFrame, y: Any) -> dict[str, pd.DataFrame]:
    """Rate-ratio tables of victimisation among the warned, by warning kind, by age band, and
    by kind × age band (exact 95 % intervals, see :func:`rate_ratios`)."""
    frame = warnings.assign(_y=np.asarray(y, dtype=bool).astype(int))
    tables = {}
    for name, cols in (
        ("kind", ["kind"]),
        ("age_band", ["age_band"]),
        ("kind_x_age_band", ["kind", "age_band"]),
    ):
        t = (
            frame.groupby(cols)["_y"]
            .agg(cases="sum", population="size")
            .reset_index()
            .astype({"cases": float, "population": float})
        )
        tables[name] = rate_ratios(t, cols, min_cases=1 if len(cols) == 1 else 5)
    return tables


def holdout_uplift(
    ranked_risk: np.ndarray,
    warnings: pd.DataFrame,
    outcome_of: Callable[[np.ndarray], np.ndarray],
    *,
    share: float = 0.2,
    seed: int = 0,
    high_share: float = 0.1,
    medium_share: float = 0.3,
    zone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """Run the daily ranking with a seeded hold-out of low-urgency warnings, then measure.

    Parameters
    ----------
    ranked_risk : numpy.ndarray
        Predicted risk per warning.
    warnings : pandas.DataFrame
        ``warned_at``, ``potential_loss``, ``jurisdiction_code``.
    outcome_of : callable
        ``reached (bool per warning) -> victimised (bool per warning)``.
    share, seed : float, int
        Hold-out share of the low-urgency warnings; seed of each day's draw is
        ``[seed, day ordinal]`` as in the ``fraud.dissuasion`` model.

    Returns
    -------
    dict
        ``UpliftResult`` fields plus ``n_low``, ``urgency`` counts and ``assignment`` (a
        DataFrame per warning: ``urgency``, ``held_out``).
    """
    w = warnings.reset_index(drop=True).assign(
        risk=np.clip(np.asarray(ranked_risk, float), 0, 1),
        pseudo_id=np.arange(len(warnings)).astype(str),
        _i=np.arange(len(warnings)),
    )
    w["potential_loss"] = pd.to_numeric(w["potential_loss"], errors="coerce").fillna(0.0)
    day = pd.to_datetime(w["warned_at"]).dt.tz_convert(zone).dt.date
    urgency = np.empty(len(w), dtype=object)
    held = np.zeros(len(w), bool)
    for d, part in w.groupby(day, sort=True):
        r = rank_warnings(
            part, now=part["warned_at"].max(), high_share=high_share, medium_share=medium_share
        )
        rng = np.random.default_rng([seed, d.toordinal()])
        h = assign_holdout(r["urgency"], share=share, random_state=rng)
        urgency[r["_i"].to_numpy()] = r["urgency"].to_numpy()
        held[r["_i"].to_numpy()] = h
    reached = ~held
    victim = np.asarray(outcome_of(reached), dtype=bool)
    low = urgency == "low"
    res = uplift(victim[low], reached[low])
    return {
        **asdict(res),
        "n_low": int(low.sum()),
        "urgency": {k: int((urgency == k).sum()) for k in ("high", "medium", "low")},
        "assignment": pd.DataFrame({"urgency": urgency, "held_out": held}),
    }
