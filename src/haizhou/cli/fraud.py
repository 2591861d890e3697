"""``haizhou fraud``: telecom-fraud targeting (电信网络诈骗 · 精准劝阻).

Rates by area and group (time, place, person), a calibrated risk model scored on the
synthetic city, ranking an early-warning feed into dissuasion work with a randomised hold-out,
and the uplift report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from haizhou.cli._common import console, friendly_errors, print_json
from haizhou.cli.coverage import numeric, read_geojson, read_table, sim_city
from haizhou.errors import HaizhouError

app = typer.Typer(
    help="Telecom-fraud targeting (电信网络诈骗): rates, risk, dissuasion, uplift.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
MODEL_CARD_ATTRIBUTES = ("age_band", "occupation")


@app.callback()
def fraud() -> None:
    """Telecom-fraud targeting (电信网络诈骗): rates, risk, dissuasion, uplift."""


def _neighbours(doc: dict[str, Any], codes: np.ndarray) -> Any:
    import shapely
    from shapely.geometry import shape

    from haizhou.analytics.spatial_stats import Neighbours

    geoms = {
        str((f.get("properties") or {}).get("code")): shape(f["geometry"]) for f in doc["features"]
    }
    polys = [
        shapely.make_valid(geoms[str(c)]) if str(c) in geoms else shapely.Point() for c in codes
    ]
    tree = shapely.STRtree(polys)
    lists = []
    for i, g in enumerate(polys):
        near = (
            tree.query(shapely.buffer(g, 1e-5), predicate="intersects")
            if not g.is_empty
            else np.zeros(0, int)
        )
        lists.append(sorted(int(j) for j in near if j != i))
    return Neighbours.from_lists(lists)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None else str(v))
    return json.loads(out.to_json(orient="records", force_ascii=False))


@app.command("rates")
@friendly_errors
def rates(
    sim_scale: Annotated[
        float | None, typer.Option("--sim-scale", help="Use the synthetic city.")
    ] = None,
    cases: Annotated[
        Path | None,
        typer.Option(
            help="Fraud cases CSV/Parquet: victim_age_band, victim_occupation, jurisdiction_code[, fraud_type, loss_amount]."
        ),
    ] = None,
    persons: Annotated[
        Path | None,
        typer.Option(help="Residents CSV/Parquet: age_band, occupation, jurisdiction_code."),
    ] = None,
    jurisdictions: Annotated[
        Path | None, typer.Option(help="Jurisdictions GeoJSON (for Gi* neighbours).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the Gi* permutations.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Victimisation rates: high-risk areas (EB-smoothed, Gi*) and high-risk groups (rate ratios)."""
    from haizhou.analytics.fraud import high_risk_areas, rate_ratios

    jur_doc = None
    if sim_scale is not None:
        city = sim_city(sim_scale)
        f = city.cases[city.cases["category_key"] == "fraud"]
        p = city.persons
        jur_doc = city.jurisdictions
    elif cases is None or persons is None:
        raise HaizhouError("give --cases and --persons, or --sim-scale.")
    else:
        f = read_table(
            cases, required=("victim_age_band", "victim_occupation", "jurisdiction_code")
        )
        p = read_table(persons, required=("age_band", "occupation", "jurisdiction_code"))
    if jurisdictions is not None:
        jur_doc = read_geojson(jurisdictions)
    pop = p.groupby("jurisdiction_code").size().rename("population")
    cnt = f.groupby("jurisdiction_code").size().rename("cases")
    area = pd.concat([pop, cnt], axis=1).fillna(0)
    area = area[area["population"] > 0]
    nb = _neighbours(jur_doc, area.index.to_numpy()) if jur_doc is not None else None
    areas = high_risk_areas(
        area.index.to_numpy(), area["cases"], area["population"], nb, random_state=seed
    )
    areas["level"] = [None if v is None or pd.isna(v) else str(v) for v in areas["level"]]
    cells = p.groupby(["age_band", "occupation"]).size().rename("population")
    fc = f.rename(columns={"victim_age_band": "age_band", "victim_occupation": "occupation"})
    cc = fc.groupby(["age_band", "occupation"]).size().rename("cases")
    t = pd.concat([cells, cc], axis=1).fillna(0).reset_index()
    tables = {
        "age_band": rate_ratios(t, ["age_band"]),
        "occupation": rate_ratios(t, ["occupation"]),
        "age_band_x_occupation": rate_ratios(t, ["age_band", "occupation"], min_cases=5),
    }
    extra: dict[str, Any] = {}
    if "fraud_type" in f.columns:
        extra["by_fraud_type"] = (
            f.groupby("fraud_type").size().sort_values(ascending=False).to_dict()
        )
    if "loss_amount" in f.columns:
        loss = pd.to_numeric(f["loss_amount"], errors="coerce")
        extra["loss_total"] = float(loss.sum())
        extra["loss_median"] = float(loss.median())
    if as_json:
        print_json(
            {"areas": _records(areas), **{k: _records(v) for k, v in tables.items()}, **extra}
        )
        return
    ta = Table(title="High-risk areas (高风险区域): EB-smoothed rate per 10,000")
    for c in ("area", "cases", "population", "rate_per_10k", "z", "p", "level"):
        ta.add_column(c)
    for r in areas.itertuples():
        ta.add_row(
            str(r.area),
            f"{r.cases:.0f}",
            f"{r.population:.0f}",
            f"{r.rate_per_10k:.1f}",
            f"{r.z:.2f}",
            f"{r.p:.3g}",
            r.level if isinstance(r.level, str) else "—",
        )
    console.print(ta)
    tg = Table(title="High-risk groups (高危人群): rate ratio vs everyone else, 95% CI")
    for c in ("age_band", "occupation", "cases", "rate_ratio", "95% CI", "elevated"):
        tg.add_column(c)
    for r in tables["age_band_x_occupation"].head(15).itertuples():
        tg.add_row(
            r.age_band,
            r.occupation,
            f"{r.cases:.0f}",
            f"{r.rate_ratio:.2f}",
            f"{r.ci_low:.2f}–{r.ci_high:.2f}",
            "yes" if r.elevated else "",
        )
    console.print(tg)


@app.command("risk")
@friendly_errors
def risk(
    sim_scale: Annotated[
        float, typer.Option("--sim-scale", help="Synthetic city to train and score on.")
    ] = 0.25,
    model: Annotated[str, typer.Option(help="logistic or gbm.")] = "logistic",
    k: Annotated[int, typer.Option(help="Precision at the top k.")] = 100,
    seed: Annotated[int, typer.Option(help="Random state of the model.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train the risk model on year 1's victims, score the ranking on year 2 (AUC, P@k, Brier)."""
    from haizhou.analytics.fraud import FraudRiskModel, risk_metrics

    city = sim_city(sim_scale)
    p, f = city.persons, city.cases[city.cases["category_key"] == "fraud"]
    mid = f["occurred_from"].min() + pd.Timedelta(days=365)
    y1 = p["id_number"].isin(f.loc[f["occurred_from"] < mid, "victim_id"]).astype(int)
    y2 = p["id_number"].isin(f.loc[f["occurred_from"] >= mid, "victim_id"]).astype(int)
    if y1.sum() == 0 or y2.sum() == 0:
        raise HaizhouError(
            "the city has no fraud victims in one of the years; use a bigger --sim-scale."
        )
    m = FraudRiskModel(features=MODEL_CARD_ATTRIBUTES, model=model, random_state=seed).fit(p, y1)
    r = m.predict_proba(p)
    met = risk_metrics(y2, r, groups=p["age_band"], k=k)
    truth = p.merge(city.truth.fraud_risk, on=["age_band", "occupation"], how="left")
    ceiling = risk_metrics(
        y2, truth["relative_risk"].to_numpy() / truth["relative_risk"].max(), k=k
    )
    out = {
        "model": model,
        "attributes_used": list(MODEL_CARD_ATTRIBUTES),
        "persons": len(p),
        "victims_year1": int(y1.sum()),
        "victims_year2": int(y2.sum()),
        "auc": met.auc,
        f"precision_at_{k}": met.precision_at_k,
        "brier": met.brier,
        "brier_base_rate": met.brier_reference,
        "true_risk_auc": ceiling.auc,
        f"true_risk_precision_at_{k}": ceiling.precision_at_k,
        "hit_rate_by_age_band": _records(met.hit_rate_by_group),
    }
    if as_json:
        print_json(out)
        return
    console.print({k_: v for k_, v in out.items() if k_ != "hit_rate_by_age_band"})
    t = Table(title="Hit rate by age band (top 5 % of the ranking)")
    for c in ("group", "n", "positives", "flagged", "hits", "hit_rate", "recall"):
        t.add_column(c)
    for row in met.hit_rate_by_group.itertuples():
        t.add_row(
            str(row.group),
            str(row.n),
            str(row.positives),
            str(row.flagged),
            str(row.hits),
            f"{row.hit_rate:.3f}",
            f"{row.recall:.3f}",
        )
    console.print(t)


@app.command("dissuade")
@friendly_errors
def dissuade(
    warnings: Annotated[
        Path,
        typer.Option(
            help="Warnings CSV/Parquet: pseudo_id, risk, potential_loss[, jurisdiction_code]."
        ),
    ],
    now: Annotated[str, typer.Option(help="Time of ranking (ISO 8601).")],
    holdout_share: Annotated[
        float, typer.Option(help="Share of low-urgency warnings held out at random.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the hold-out draw.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Rank an early-warning feed into dissuasion instructions (call, visit, community talk)."""
    from haizhou.analytics.fraud import assign_holdout, rank_warnings

    w = read_table(warnings, required=("pseudo_id", "risk", "potential_loss"))
    w["risk"] = numeric(w, "risk", warnings)
    w["potential_loss"] = numeric(w, "potential_loss", warnings)
    r = rank_warnings(w, now=pd.Timestamp(now))
    r["holdout"] = assign_holdout(r["urgency"], share=holdout_share, random_state=seed)
    r["deadline"] = r["deadline"].astype(str)
    cols = [
        "rank",
        "pseudo_id",
        "risk",
        "potential_loss",
        "expected_loss",
        "urgency",
        "channel",
        "deadline",
        "talk_group",
        "holdout",
    ]
    if as_json:
        print_json({"instructions": _records(r[cols])})
        return
    t = Table(title="Dissuasion instructions (劝阻指令)")
    for c in cols:
        t.add_column(c)
    for row in r[cols].head(30).itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    console.print(t)


@app.command("uplift")
@friendly_errors
def uplift_cmd(
    outcomes: Annotated[
        Path,
        typer.Option(
            help="CSV/Parquet: treated (1 reached / 0 held out), outcome (1 became a victim)."
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Did outreach work (劝阻成效)? Victimisation of reached vs held-out warnings."""
    from dataclasses import asdict

    from haizhou.analytics.fraud import uplift

    o = read_table(outcomes, required=("treated", "outcome"))
    res = uplift(numeric(o, "outcome", outcomes) > 0, numeric(o, "treated", outcomes) > 0)
    if as_json:
        print_json(asdict(res))
        return
    console.print(
        f"reached {res.n_treated}: {res.rate_treated:.2%} victims; held out {res.n_control}: "
        f"{res.rate_control:.2%}; difference {res.difference:+.2%} "
        f"(95% CI {res.ci_low:+.2%} to {res.ci_high:+.2%}, p = {res.p:.3g}); "
        f"{res.prevented_per_1000:.1f} prevented per 1,000 reached"
    )
