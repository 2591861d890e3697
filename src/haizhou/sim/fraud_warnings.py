"""Synthetic fraud early-warning feed (模拟反诈预警) with ground truth.

Derived from a generated city, without touching its random streams: every fraud victim is
warned beforehand with probability ``detect_share`` (a true warning, 2 to 72 hours before the
fraud), and ``false_per_true`` times as many residents are warned who would not have been
defrauded (false alarms, spread over the whole period, drawn with weight √(relative risk)).

Planted lift: true warnings are more often a risky transfer (35 % against 12 %), carry more
contacts by known fraud numbers (1 + Poisson(1.8) against 1 + Poisson(0.8)), longer calls
(median 8 against 4 minutes) and larger transfers (median 30,000 against 8,000 元). The truth says who would
have been defrauded without outreach (``would_be_victim``) and whether outreach would have
stopped it (``dissuadable``, with probability ``effect``), so an evaluation can simulate a
randomised hold-out and check the measured uplift against the planted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from haizhou.sim.city import City

__all__ = ["FRAUD_WARNING_COLUMNS", "FraudWarnings", "generate_fraud_warnings", "outcomes"]

FRAUD_WARNING_COLUMNS = (
    "warning_id",
    "warned_at",
    "kind",
    "id_number",
    "feed",
    "contacts",
    "call_minutes",
    "transfer_amount",
    "potential_loss",
    "lon",
    "lat",
)
_STREAM = 0x46524155  # "FRAU": this module's own sub-stream of the city's seed


@dataclass(frozen=True, slots=True)
class FraudWarnings:
    """The feed and its truth.

    Attributes
    ----------
    warnings : pandas.DataFrame
        :data:`FRAUD_WARNING_COLUMNS` plus ``jurisdiction_code``, in time order.
    truth : pandas.DataFrame
        ``warning_id, would_be_victim, dissuadable, case_id, loss``.
    """

    warnings: pd.DataFrame
    truth: pd.DataFrame


def generate_fraud_warnings(
    city: City,
    *,
    detect_share: float = 0.7,
    false_per_true: float = 9.0,
    effect: float = 0.5,
) -> FraudWarnings:
    """Early warnings for ``city`` (deterministic given the city's seed).

    Parameters
    ----------
    city : City
    detect_share : float, default 0.7
        Share of fraud victims warned beforehand.
    false_per_true : float, default 9.0
        False alarms per true warning.
    effect : float, default 0.5
        Probability that reaching a would-be victim prevents the fraud (planted uplift).
    """
    if not (0 < detect_share <= 1 and false_per_true >= 0 and 0 <= effect <= 1):
        raise ValueError(
            "detect_share must be in (0, 1], false_per_true >= 0 and effect in [0, 1]."
        )
    rng = np.random.default_rng([city.config.seed, _STREAM])
    persons = city.persons.reset_index(drop=True)
    index = pd.Series(np.arange(len(persons)), index=persons["id_number"].astype(str))
    cases = city.cases[city.cases["category_key"] == "fraud"].reset_index(drop=True)
    start = pd.Timestamp(city.config.start).tz_localize(cases["occurred_from"].dt.tz)
    # true warnings: a share of the victims, hours before the fraud
    keep = rng.uniform(size=len(cases)) < detect_share
    lead = pd.to_timedelta(rng.uniform(2, 72, size=len(cases)), unit="h")
    t_true = cases["occurred_from"] - lead
    keep &= (t_true >= start).to_numpy() & cases["victim_id"].astype(str).isin(
        index.index
    ).to_numpy()
    tc = cases[keep]
    who_true = index.loc[tc["victim_id"].astype(str)].to_numpy()
    n_true = len(tc)
    # false alarms: residents, weighted by sqrt(relative risk), uniform in time
    rr = persons.merge(city.truth.fraud_risk, on=["age_band", "occupation"], how="left")[
        "relative_risk"
    ].fillna(1.0)
    w = np.sqrt(rr.to_numpy(float))
    n_false = round(false_per_true * n_true)
    who_false = rng.choice(len(persons), size=n_false, p=w / w.sum())
    span = (cases["occurred_from"].max() - start).total_seconds()
    t_false = start + pd.to_timedelta(rng.uniform(0, span, size=n_false), unit="s")
    is_true = np.r_[np.ones(n_true, bool), np.zeros(n_false, bool)]
    who = np.r_[who_true, who_false].astype(int)
    tz = cases["occurred_from"].dt.tz
    at = pd.concat(
        [t_true[keep].reset_index(drop=True), pd.Series(t_false).dt.tz_convert(tz)],
        ignore_index=True,
    ).dt.floor("s")
    n = len(who)
    transfer = rng.uniform(size=n) < np.where(is_true, 0.35, 0.12)
    contacts = 1 + rng.poisson(np.where(is_true, 1.8, 0.8))
    minutes = np.round(rng.lognormal(np.log(np.where(is_true, 8.0, 4.0)), 0.9), 1)
    amount = np.where(
        transfer, np.round(rng.lognormal(np.log(np.where(is_true, 30_000, 8_000)), 1.0), -2), np.nan
    )
    stake = np.round(rng.lognormal(np.log(20_000), 1.0, size=n), -2)
    loss = np.r_[tc["loss_amount"].to_numpy(float), np.zeros(n_false)]
    potential = np.where(transfer, np.maximum(amount, stake), stake)
    p = persons.iloc[who]
    frame = pd.DataFrame(
        {
            "warned_at": at,
            "kind": np.where(transfer, "risky_transfer", "fraud_contact"),
            "id_number": p["id_number"].astype(str).to_numpy(),
            "feed": np.where(transfer, "银行风控", "反诈中心"),
            "contacts": contacts.astype(float),
            "call_minutes": np.where(transfer & (rng.uniform(size=n) < 0.5), np.nan, minutes),
            "transfer_amount": amount,
            "potential_loss": potential,
            "lon": p["residence_lon"].to_numpy(float),
            "lat": p["residence_lat"].to_numpy(float),
            "jurisdiction_code": p["jurisdiction_code"].to_numpy(),
            "_true": is_true,
            "_case": np.r_[tc["case_id"].astype(str).to_numpy(), np.full(n_false, "")],
            "_loss": loss,
        }
    )
    frame = frame.sort_values(["warned_at", "id_number"], kind="stable").reset_index(drop=True)
    frame.insert(0, "warning_id", [f"FW{i:07d}" for i in range(1, len(frame) + 1)])
    truth = pd.DataFrame(
        {
            "warning_id": frame["warning_id"],
            "would_be_victim": frame["_true"].to_numpy(bool),
            "dissuadable": frame["_true"].to_numpy(bool) & (rng.uniform(size=len(frame)) < effect),
            "case_id": frame["_case"],
            "loss": frame["_loss"],
        }
    )
    return FraudWarnings(frame.drop(columns=["_true", "_case", "_loss"]), truth)


def outcomes(truth: pd.DataFrame, reached: np.ndarray) -> np.ndarray:
    """Who became a victim, given who was reached: would-be victims not stopped by outreach."""
    r = np.asarray(reached, dtype=bool)
    return truth["would_be_victim"].to_numpy(bool) & ~(r & truth["dissuadable"].to_numpy(bool))
