"""Features of an early warning (预警特征) for the risk model, and the prior risk.

The risk model (:class:`~haizhou.analytics.fraud.FraudRiskModel`) takes categorical columns,
so the warning's signal strengths are put into bands: contacts by known fraud numbers in 24 h
(1, 2-3, 4+), call minutes (none, <5, 5-15, 15+) and transfer amount (none, <10k, 10k-50k,
50k+ 元). Before any outcome is recorded the ranking uses :func:`prior_risk`, a fixed,
documented score from the warning kind and its contacts, not learnt from anyone's attributes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["WARNING_FEATURES", "prior_risk", "warning_features"]

WARNING_FEATURES = ("kind", "contacts_band", "minutes_band", "transfer_band")
"""Signal features of a warning (add ``age_band``, ``occupation`` for the person)."""

_PRIOR = {"risky_transfer": 0.25, "fraud_contact": 0.06}


def _band(values: pd.Series, edges: list[float], labels: list[str], missing: str) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(float)
    idx = np.searchsorted(np.asarray(edges, float), v, side="right")
    out = np.asarray(labels, dtype=object)[np.minimum(idx, len(labels) - 1)]
    return np.where(np.isnan(v), missing, out)


def warning_features(warnings: pd.DataFrame) -> pd.DataFrame:
    """The warnings with the banded signal columns of :data:`WARNING_FEATURES` added.

    Parameters
    ----------
    warnings : pandas.DataFrame
        ``kind`` and any of ``contacts``, ``call_minutes``, ``transfer_amount`` (missing
        columns count as absent). Not modified.

    Examples
    --------
    >>> w = pd.DataFrame({"kind": ["fraud_contact"], "contacts": [5], "call_minutes": [None],
    ...                   "transfer_amount": [20000]})
    >>> warning_features(w)[list(WARNING_FEATURES)].values.tolist()
    [['fraud_contact', '4+', 'none', '10k-50k']]
    """
    if "kind" not in warnings.columns:
        raise ValueError("warnings lack column 'kind' (fraud_contact or risky_transfer).")
    out = warnings.copy()
    empty = pd.Series(np.nan, index=out.index)
    out["contacts_band"] = _band(out.get("contacts", empty), [2, 4], ["1", "2-3", "4+"], "1")
    out["minutes_band"] = _band(
        out.get("call_minutes", empty), [5, 15], ["<5", "5-15", "15+"], "none"
    )
    out["transfer_band"] = _band(
        out.get("transfer_amount", empty), [10_000, 50_000], ["<10k", "10k-50k", "50k+"], "none"
    )
    return out


def prior_risk(warnings: pd.DataFrame) -> np.ndarray:
    """Risk before any outcome is recorded: 0.25 for a risky transfer, 0.06 for a contact,
    × 1.5 with 4 or more contacts in 24 h (capped at 0.9).

    Examples
    --------
    >>> prior_risk(pd.DataFrame({"kind": ["risky_transfer", "fraud_contact"], "contacts": [1, 6]}))
    array([0.25, 0.09])
    """
    base = warnings["kind"].map(_PRIOR).fillna(0.06).to_numpy(float)
    contacts = pd.to_numeric(
        warnings.get("contacts", pd.Series(np.nan, index=warnings.index)), errors="coerce"
    ).to_numpy(float)
    return np.round(np.minimum(0.9, base * np.where(contacts >= 4, 1.5, 1.0)), 6)
