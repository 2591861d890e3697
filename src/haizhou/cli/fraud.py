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
    ctx: typer.Context,
    outcomes: Annotated[
        Path | None,
        typer.Option(
            help="CSV/Parquet: treated (1 reached / 0 held out), outcome (1 became a victim)."
        ),
    ] = None,
    store: Annotated[
        bool,
        typer.Option(
            "--store",
            help="Use fraud.dissuasion's recorded hold-out and the recorded outcomes instead.",
        ),
    ] = False,
    days: Annotated[int, typer.Option(help="With --store: findings of the last N days.")] = 365,
    as_json: JsonOpt = False,
) -> None:
    """Did outreach work (劝阻成效)? Victimisation of reached vs held-out warnings."""
    from dataclasses import asdict

    from haizhou.analytics.fraud import uplift

    if store:
        out = _stored_uplift(ctx, days)
    elif outcomes is None:
        raise HaizhouError("give --outcomes FILE, or --store for the recorded hold-out.")
    else:
        o = read_table(outcomes, required=("treated", "outcome"))
        out = asdict(
            uplift(numeric(o, "outcome", outcomes) > 0, numeric(o, "treated", outcomes) > 0)
        )
    if as_json:
        print_json(out)
        return
    console.print(
        f"reached {out['n_treated']}: {out['rate_treated']:.2%} victims; held out "
        f"{out['n_control']}: {out['rate_control']:.2%}; difference {out['difference']:+.2%} "
        f"(95% CI {out['ci_low']:+.2%} to {out['ci_high']:+.2%}, p = {out['p']:.3g}); "
        f"{out['prevented_per_1000']:.1f} prevented per 1,000 reached"
    )


def _stored_uplift(ctx: typer.Context, days: int) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from haizhou.cli._common import get_settings
    from haizhou.reports.sensing import stored_uplift
    from haizhou.store.engine import make_engine, make_sessionmaker

    engine = make_engine(get_settings(ctx).resolved_database_url)
    end = datetime.now(UTC)
    try:
        with make_sessionmaker(engine)() as session:
            out = stored_uplift(session, None, end - timedelta(days=days), end)
    finally:
        engine.dispose()
    if out is None:
        raise HaizhouError(
            "no randomised hold-out with outcomes in the store: run fraud.dissuasion with "
            "holdout_share > 0 and record outcomes with `haizhou fraud outcomes`."
        )
    return out


def _sim_feed(scale: float) -> tuple[Any, Any]:
    from haizhou.sim.fraud_warnings import generate_fraud_warnings

    city = sim_city(scale)
    fw = generate_fraud_warnings(city)
    people = city.persons[["id_number", "age_band", "occupation"]]
    w = fw.warnings.merge(people, on="id_number", how="left")
    return w, fw.truth


@app.command("evaluate")
@friendly_errors
def evaluate(
    sim_scale: Annotated[
        float, typer.Option("--sim-scale", help="Synthetic city whose warning feed is scored.")
    ] = 0.25,
    k: Annotated[int, typer.Option(help="Precision at the top k.")] = 100,
    model: Annotated[str, typer.Option(help="logistic or gbm.")] = "logistic",
    holdout_share: Annotated[
        float, typer.Option(help="Hold-out share of low-urgency warnings for the uplift.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the hold-out draws.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Score the dissuasion ranking on the synthetic warning feed's ground truth (反诈评估).

    Trains on the first year's warnings, scores the second year's: AUC, precision at k, Brier,
    hit rate by age band, against the prior and a person-only baseline; the rate-ratio table
    of the warned; and the uplift of a seeded hold-out against the planted effect.
    """
    import time

    from haizhou.analytics.fraud.evaluation import (
        evaluate_warning_ranking,
        holdout_uplift,
        warned_rate_ratios,
    )
    from haizhou.sim.fraud_warnings import outcomes

    w, truth = _sim_feed(sim_scale)
    y = truth["would_be_victim"].to_numpy(bool)
    split = w["warned_at"].min() + pd.Timedelta(days=365)
    cpu = time.process_time()
    ev = evaluate_warning_ranking(w, y, split_at=split, k=k, model=model, random_state=seed)
    cpu = time.process_time() - cpu
    test = (w["warned_at"] >= split).to_numpy()
    wt, tt = w[test].reset_index(drop=True), truth[test].reset_index(drop=True)
    from haizhou.analytics.fraud import warning_features

    risk = ev["model"].predict_proba(warning_features(wt))
    up = holdout_uplift(
        risk, wt, lambda reached: outcomes(tt, reached), share=holdout_share, seed=seed
    )
    arms = up.pop("assignment")
    low = (arms["urgency"] == "low").to_numpy()
    # planted truth of the low-urgency sample: the share outreach would stop
    up["planted_difference"] = -float(tt.loc[low, "dissuadable"].mean())
    up["planted_in_ci"] = bool(up["ci_low"] <= up["planted_difference"] <= up["ci_high"])
    rr = warned_rate_ratios(w, y)

    def _m(d: dict[str, Any]) -> dict[str, Any]:
        return {
            k_: (_records(v) if isinstance(v, pd.DataFrame) else v)
            for k_, v in d.items()
            if k_ != "model"
        }

    out = {
        "sim_scale": sim_scale,
        "warnings": len(w),
        "would_be_victims": int(y.sum()),
        **_m({k_: v for k_, v in ev.items() if k_ != "baselines"}),
        "baselines": {name: _m(v) for name, v in ev["baselines"].items()},
        "fit_cpu_s": round(cpu, 3),
        "rate_ratios": {name: _records(t) for name, t in rr.items()},
        "uplift": up,
        "planted_effect": "a reached would-be victim is stopped with probability 0.5",
    }
    if as_json:
        print_json(out)
        return
    t = Table(title="Dissuasion ranking on the synthetic feed (test year)")
    for c in ("ranking", "AUC", f"P@{k}", "Brier", "Brier (base rate)"):
        t.add_column(c)
    for name, d in (("model", out), *out["baselines"].items()):
        t.add_row(
            name,
            f"{d['auc']:.3f}",
            f"{d[f'precision_at_{k}']:.2f}",
            f"{d['brier']:.4f}",
            f"{d['brier_base_rate']:.4f}",
        )
    console.print(t)
    hb = Table(title="Hit rate by age band (flagged top 5 %)")
    for c in ("age band", "warned", "victims", "flagged", "hit rate", "recall", "AUC in band"):
        hb.add_column(c)
    for r in out["hit_rate_by_age_band"]:
        hb.add_row(
            str(r["group"]),
            str(r["n"]),
            str(r["positives"]),
            str(r["flagged"]),
            "—" if r["hit_rate"] is None else f"{r['hit_rate']:.2f}",
            "—" if r["recall"] is None else f"{r['recall']:.2f}",
            "—" if r["auc"] is None else f"{r['auc']:.2f}",
        )
    console.print(hb)
    console.print(
        f"uplift (low urgency, hold-out {holdout_share:.0%}): reached {up['n_treated']} "
        f"{up['rate_treated']:.2%} vs held out {up['n_control']} {up['rate_control']:.2%}; "
        f"difference {up['difference']:+.2%} (95% CI {up['ci_low']:+.2%} to {up['ci_high']:+.2%}); "
        f"planted {up['planted_difference']:+.2%}"
    )


@app.command("outcomes")
@friendly_errors
def outcomes_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV/Parquet: warning_id (the feed's id), victimised (1/0)[, loss, note]."
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(help="Import source of the warnings (default: any; ambiguous ids skipped)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record what became of warned people (劝阻结果) for the hold-out uplift."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from haizhou.cli._common import get_settings
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.tables.fraud import DissuasionOutcomeRow, FraudWarningRow

    o = read_table(file, required=("warning_id", "victimised"))
    victim = np.asarray(numeric(o, "victimised", file)) > 0
    loss = pd.to_numeric(o["loss"], errors="coerce") if "loss" in o.columns else None
    engine = make_engine(get_settings(ctx).resolved_database_url)
    recorded = unknown = updated = 0
    ambiguous: set[str] = set()
    try:
        with make_sessionmaker(engine)() as session:
            q = select(FraudWarningRow.source_id, FraudWarningRow.id)
            if source is not None:
                q = q.where(FraudWarningRow.source == source)
            pairs = session.execute(q).all()
            ids = dict(pairs)
            seen: dict[str, int] = {}
            for sid, _ in pairs:
                seen[sid] = seen.get(sid, 0) + 1
            ambiguous = {sid for sid, n in seen.items() if n > 1}
            have = {r.warning_id: r for r in session.scalars(select(DissuasionOutcomeRow)).all()}
            now = datetime.now(UTC)
            for i, wid in enumerate(o["warning_id"].astype(str)):
                row_id = None if wid in ambiguous else ids.get(wid)
                if row_id is None:
                    unknown += 1
                    continue
                value = {
                    "victimised": bool(victim[i]),
                    "loss": None if loss is None or pd.isna(loss.iloc[i]) else float(loss.iloc[i]),
                    "recorded_at": now,
                    "recorded_by": f"import:{file.name}",
                    "note": str(o["note"].iloc[i]) if "note" in o.columns else None,
                }
                if row_id in have:
                    for k_, v in value.items():
                        setattr(have[row_id], k_, v)
                    updated += 1
                else:
                    session.add(DissuasionOutcomeRow(warning_id=row_id, **value))
                    recorded += 1
            session.commit()
    finally:
        engine.dispose()
    out = {
        "recorded": recorded,
        "updated": updated,
        "unknown_warning_ids": unknown,
        "ambiguous_warning_ids": len(ambiguous),
    }
    if as_json:
        print_json(out)
        return
    console.print(
        f"recorded {recorded} outcomes, updated {updated}; {unknown} warning ids not in the "
        f"store or in several sources (give --source)"
    )
