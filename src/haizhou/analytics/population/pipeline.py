"""The three rings end to end (三圈核查流程) on frames of pseudonymised data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from haizhou.analytics.population.determination import ResidenceModel, determine, resolve_subjects
from haizhou.analytics.population.presence import presence_profiles

__all__ = ["Verification", "verify_population"]


@dataclass(frozen=True, slots=True, eq=False)
class Verification:
    """Result of :func:`verify_population`.

    Attributes
    ----------
    decisions : pandas.DataFrame
        From :func:`haizhou.analytics.population.determination.determine`.
    compounds, ids : pandas.DataFrame
        Presence profiles (per subject and compound; per subject).
    model : ResidenceModel
        The fitted mixture.
    """

    decisions: pd.DataFrame
    compounds: pd.DataFrame
    ids: pd.DataFrame
    model: ResidenceModel


def verify_population(
    sightings: pd.DataFrame,
    links: pd.DataFrame,
    registry: pd.DataFrame,
    *,
    now: Any,
    device_links: pd.DataFrame | None = None,
    window_nights: int = 28,
    threshold: float = 0.9,
) -> Verification:
    """Sensing, comparison and determination rings on pseudonymised frames.

    Parameters
    ----------
    sightings : pandas.DataFrame
        ``pseudo_id, sensor_id, seen_at`` (local time).
    links : pandas.DataFrame
        ``sensor_id, compound`` (:func:`haizhou.analytics.population.presence.sensor_compounds`).
    registry : pandas.DataFrame
        ``person_id, registration, compound``.
    now : datetime-like
        Local time of the run.
    device_links : pandas.DataFrame, optional
        ``pseudo_id → person_id`` (:func:`resolve_subjects`). Registered persons with a linked
        device are decided even when never seen (a stale registration shows as no nights).
    window_nights : int, default 28
    threshold : float, default 0.9

    Returns
    -------
    Verification
    """
    subj = resolve_subjects(sightings, device_links)
    comp, ids = presence_profiles(subj, links, now=now, window_nights=window_nights)
    # every subject gets one count for the fit: nights at its most-seen compound (0 if none)
    best = comp.groupby("pseudo_id")["nights"].max() if len(comp) else pd.Series(dtype=float)
    everyone = pd.Index(ids["pseudo_id"])
    counts = best.reindex(everyone).fillna(0).to_numpy(np.int64)
    model = ResidenceModel(window_nights=window_nights).fit(counts)
    registered = registry.loc[
        registry["registration"].isin(["permanent", "temporary"]), "person_id"
    ]
    # registered persons are decided when seen, or when a device of theirs is known: a linked
    # phone or car never seen near home at night is evidence of a stale registration too
    linked = (
        pd.Index(device_links["person_id"].dropna())
        if device_links is not None and len(device_links)
        else pd.Index([])
    )
    decided = registered[registered.isin(everyone) | registered.isin(linked)]
    subjects = np.concatenate([everyone.to_numpy(object), decided.to_numpy(object)])
    decisions = determine(comp, subjects, registry, model, threshold=threshold)
    return Verification(decisions=decisions, compounds=comp, ids=ids, model=model)
