"""``haizhou linkage``: learn case linkage from solved cases, link new ones, evaluate (串并案).

Works on CSV files in the layout of the crimelinkage R package (crimes: id, X/Y metres or
lon/lat with ``--crs``, occurrence window, MO columns; offenders: offender id → crime id) and on
the store (``--from-store``). A model file is a pickle, that is, code: it is only loaded when its
JSON sidecar is present and its SHA-256 matches; load only models you made or trust.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from haizhou import __version__
from haizhou.cli._common import console, existing_file, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError, InputError

app = typer.Typer(
    help=(
        "Case linkage (串并案): train on solved cases, link new cases into series, evaluate "
        "by grouped cross-validation. See docs/linkage.md."
    ),
    no_args_is_help=True,
)

MODEL_FORMAT = "haizhou-linkage-model"
MODEL_FORMAT_VERSION = 1

CrimesOpt = Annotated[
    Path | None, typer.Option("--crimes", help="Crimes CSV (crimelinkage layout).")
]
OffendersOpt = Annotated[
    Path | None, typer.Option("--offenders", help="Offenders CSV: offenderID,crimeID.")
]
MoOpt = Annotated[
    str, typer.Option("--mo-cols", help="Comma-separated categorical MO columns, e.g. MO1,MO2,MO3.")
]
CrsOpt = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help="Coordinates are lon/lat in this CRS (EPSG:4326 / wgs84); default: X/Y in metres.",
    ),
]
StoreOpt = Annotated[
    bool, typer.Option("--from-store", help="Read cases from the store instead of CSV files.")
]
CategoryOpt = Annotated[
    list[str] | None, typer.Option("--category", help="Store: only these categories (repeat).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

STORE_MO = ("entry_method", "target", "tools", "time_of_day")


# ------------------------------------------------------------------------------------------
# input


def _mo_list(text: str) -> list[str]:
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if len(set(cols)) != len(cols):
        raise HaizhouError(f"--mo-cols lists a column twice: {text!r}.")
    return cols


def _read_csv(path: Path) -> pd.DataFrame:
    existing_file(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read as a UTF-8 CSV ({exc}); save it as UTF-8 comma-separated.",
            file=str(path),
        ) from None


def _projector(crs: str | None, frame: pd.DataFrame, x_col: str, y_col: str) -> Any:
    if crs is None:
        return None
    if crs.strip().upper() not in {"EPSG:4326", "WGS84", "WGS-84", "LONLAT", "4326"}:
        raise HaizhouError(
            f"--crs {crs!r} is not supported; give EPSG:4326 (lon/lat) or leave it out for "
            "X/Y in metres."
        )
    from haizhou.geo.projection import LocalProjection

    lon = pd.to_numeric(frame[x_col], errors="coerce")
    lat = pd.to_numeric(frame[y_col], errors="coerce")
    proj = LocalProjection.around(float(lon.median()), float(lat.median()))
    return proj.forward


def load_crimes_csv(
    path: Path, mo_cols: list[str], *, crs: str | None, x_col: str = "X", y_col: str = "Y"
) -> Any:
    """A CrimeTable from a crimelinkage-layout CSV; errors name the file, row and column."""
    from haizhou.analytics.linkage.crimes import LinkageInputError, parse_crimelinkage

    frame = _read_csv(path)
    if crs is not None and x_col == "X" and "X" not in frame.columns:
        x_col, y_col = ("lon", "lat") if "lon" in frame.columns else ("LON", "LAT")
    try:
        project = _projector(crs, frame, x_col, y_col) if x_col in frame.columns else None
        return parse_crimelinkage(frame, mo_cols=mo_cols, x_col=x_col, y_col=y_col, project=project)
    except LinkageInputError as exc:
        raise InputError(
            str(exc),
            file=str(path),
            row=None if exc.row is None else exc.row + 2,
            column=exc.column,
        ) from None


def load_offenders_csv(path: Path, crimes: Any) -> Any:
    from haizhou.analytics.linkage.crimes import Offenders

    frame = _read_csv(path)
    off_col = next((c for c in ("offenderID", "offender_id") if c in frame.columns), None)
    crime_col = next((c for c in ("crimeID", "crime_id", "case_id") if c in frame.columns), None)
    if off_col is None or crime_col is None:
        raise InputError(
            "needs an offender id column (offenderID) and a crime id column (crimeID); columns "
            f"seen: {', '.join(frame.columns)}.",
            file=str(path),
        )
    offenders = Offenders.from_pairs(
        crimes, offender_id=frame[off_col].to_numpy(), crime_id=frame[crime_col].to_numpy()
    )
    if offenders.crime_index.size == 0:
        raise InputError(
            "no offender row refers to a crime of the crimes file; check the crime ids.",
            file=str(path),
        )
    return offenders


def load_store(ctx: typer.Context, categories: list[str] | None) -> tuple[Any, Any]:
    """Cases of the store as a CrimeTable (local time, metres around the cases' median) and
    their suspects (pseudonyms) as offenders."""
    from zoneinfo import ZoneInfo

    from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
    from haizhou.geo.projection import LocalProjection
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.store.repositories.cases import iter_cases

    settings = get_settings(ctx)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    zone = ZoneInfo(settings.timezone)
    with factory() as session:
        cases = list(
            iter_cases(
                session=session,
                scope=None,
                start=datetime(1970, 1, 1, tzinfo=UTC),
                end=datetime(2200, 1, 1, tzinfo=UTC),
                category=categories or None,
            )
        )
    if not cases:
        raise HaizhouError("the store has no cases (of these categories); import cases first.")
    lon = np.array([c.lon for c in cases])
    lat = np.array([c.lat for c in cases])
    x, y = LocalProjection.around(float(np.median(lon)), float(np.median(lat))).forward(lon, lat)

    def local(ts: datetime) -> np.datetime64:
        return np.datetime64(ts.astimezone(zone).replace(tzinfo=None), "s")

    crimes = CrimeTable.from_arrays(
        crime_id=[c.id for c in cases],
        x_m=x,
        y_m=y,
        t_from=np.array([local(c.occurred_from) for c in cases]),
        t_to=np.array([local(c.occurred_to) for c in cases]),
        mo={name: [getattr(c.mo, name) for c in cases] for name in STORE_MO},
        category=[c.category for c in cases],
        text=[c.narrative for c in cases],
        property_taken=[c.property_taken for c in cases],
    )
    off, cid = [], []
    for c in cases:
        for s in c.suspect_pseudonyms:
            off.append(s)
            cid.append(c.id)
    return crimes, Offenders.from_pairs(crimes, offender_id=off, crime_id=cid)


def _inputs(
    ctx: typer.Context,
    *,
    crimes: Path | None,
    offenders: Path | None,
    mo_cols: str,
    crs: str | None,
    from_store: bool,
    categories: list[str] | None,
    need_offenders: bool,
) -> tuple[Any, Any]:
    if from_store:
        return load_store(ctx, categories)
    if crimes is None:
        raise HaizhouError("give --crimes FILE (or --from-store).")
    table = load_crimes_csv(crimes, _mo_list(mo_cols), crs=crs)
    if offenders is None:
        if need_offenders:
            raise HaizhouError("give --offenders FILE: who committed which solved crime.")
        return table, None
    return table, load_offenders_csv(offenders, table)


# ------------------------------------------------------------------------------------------
# model files


def save_model(model: Any, path: Path) -> Path:
    """Write the pickle and its JSON sidecar (``<path>.json``) with the pickle's SHA-256."""
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    sidecar = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "haizhou_version": __version__,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "learner": model.learner_name_,
        "features": model.feature_names_,
        "mo_names": list(model.mo_names_),
        "params": model.get_params(),
        "cv_scores": model.cv_scores_,
        "series_threshold": fitted_series_threshold(model),
        "series_cv": getattr(model, "series_cv_", {}),
        "collective": bool(getattr(model, "collective_", False)),
        "collective_cv": getattr(model, "collective_cv_", {}),
        "n_train_pairs": model.n_train_pairs_,
        "n_linked_pairs": model.n_linked_pairs_,
    }
    side = _sidecar(path)
    side.write_text(json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return side


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def load_model(path: Path) -> Any:
    """Load a model written by :func:`save_model`, refusing files whose sidecar is missing or
    whose SHA-256 differs (a pickle is code)."""
    from haizhou.analytics.linkage.model import LinkageModel

    existing_file(path)
    side = _sidecar(path)
    if not side.exists():
        raise HaizhouError(
            f"{path} has no sidecar {side.name}; a model file is code, so only files written by "
            "`haizhou linkage train` (with their sidecar) are loaded."
        )
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HaizhouError(f"{side} is not valid JSON ({exc}); train the model again.") from None
    if meta.get("format") != MODEL_FORMAT or meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise HaizhouError(
            f"{side} does not describe a linkage model of format version {MODEL_FORMAT_VERSION}; "
            "train the model again with this version."
        )
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise HaizhouError(
            f"{path} does not match the SHA-256 in {side.name}: it was changed after training. "
            "Refusing to load it (a model file is code); train it again."
        )
    model = pickle.loads(blob)
    if not isinstance(model, LinkageModel):
        raise HaizhouError(f"{path} does not hold a LinkageModel.")
    return model


def _series_threshold(text: str) -> tuple[float, bool]:
    """``(threshold, tune)`` from ``--series-threshold``: ``auto`` or a number in (0, 1)."""
    if text.strip().lower() == "auto":
        return 0.5, True
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise HaizhouError(f"--series-threshold must be auto or a number in (0, 1); got {text!r}.")
    return value, False


_COLLECTIVE = {"auto": "auto", "on": True, "off": False}


def _model_params(
    learner: str,
    max_distance_m: float,
    max_gap_days: float,
    threshold: str,
    seed: int,
    collective: str = "off",
) -> dict[str, Any]:
    value, tune = _series_threshold(threshold)
    key = collective.strip().lower()
    if key not in _COLLECTIVE:
        raise HaizhouError(f"--collective must be auto, on or off; got {collective!r}.")
    return {
        "learner": learner,
        "max_distance_m": max_distance_m,
        "max_gap_days": max_gap_days,
        "series_threshold": value,
        "tune_series": tune,
        "collective": _COLLECTIVE[key],
        "random_state": seed,
    }


def fitted_series_threshold(model: Any) -> float:
    """The threshold a fitted model clusters series with (tuned, or as given; models saved
    before tuning existed have only ``series_threshold``)."""
    return float(getattr(model, "series_threshold_", model.series_threshold))


LearnerOpt = Annotated[
    str, typer.Option(help="Learner: auto, naive_bayes, logistic or gbm (auto = best by CV).")
]
DistOpt = Annotated[float, typer.Option(help="Blocking: largest distance of a pair, metres.")]
GapOpt = Annotated[float, typer.Option(help="Blocking: largest gap between windows, days.")]
ThrOpt = Annotated[
    str,
    typer.Option(
        help="Series: least average pair probability in (0, 1), or auto = chosen by the "
        "B-cubed F1 of the inner cross-validation on the training cases."
    ),
]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
CollectiveOpt = Annotated[
    str,
    typer.Option(
        help="Second stage from the pairs around each pair (linked through a third case): "
        "off (default), on, or auto = kept only if it raises the inner cross-validation's "
        "ROC AUC."
    ),
]


def _make_model(**params: Any) -> Any:
    from haizhou.analytics.linkage.model import LinkageModel

    model = LinkageModel(**params)
    try:
        model._check_params()
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    return model


# ------------------------------------------------------------------------------------------
# commands


@app.command()
@friendly_errors
def train(
    ctx: typer.Context,
    crimes: CrimesOpt = None,
    offenders: OffendersOpt = None,
    mo_cols: MoOpt = "",
    model_out: Annotated[
        Path, typer.Option("--model-out", help="Where to write the model.")
    ] = Path("linkage.model"),
    crs: CrsOpt = None,
    from_store: StoreOpt = False,
    category: CategoryOpt = None,
    learner: LearnerOpt = "auto",
    max_distance_m: DistOpt = 5000.0,
    max_gap_days: GapOpt = 365.0,
    series_threshold: ThrOpt = "auto",
    collective: CollectiveOpt = "off",
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Fit the linkage model on solved cases (two cases of one offender = linked)."""
    table, offs = _inputs(
        ctx,
        crimes=crimes,
        offenders=offenders,
        mo_cols=mo_cols,
        crs=crs,
        from_store=from_store,
        categories=category,
        need_offenders=True,
    )
    model = _make_model(
        **_model_params(learner, max_distance_m, max_gap_days, series_threshold, seed, collective)
    )
    start = time.perf_counter()
    with console.status("Training the linkage model…"):
        try:
            model.fit(table, offs)
        except ValueError as exc:
            raise HaizhouError(str(exc)) from None
    side = save_model(model, model_out)
    summary = {
        "model": str(model_out),
        "sidecar": str(side),
        "learner": model.learner_name_,
        "cv_scores": model.cv_scores_,
        "series_threshold": fitted_series_threshold(model),
        "collective": bool(model.collective_),
        "n_crimes": len(table),
        "n_solved": int(offs.solved_mask().sum()),
        "n_train_pairs": model.n_train_pairs_,
        "n_linked_pairs": model.n_linked_pairs_,
        "seconds": round(time.perf_counter() - start, 3),
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"Trained [bold]{model.learner_name_}[/] on {model.n_train_pairs_} pairs "
            f"({model.n_linked_pairs_} linked); wrote {model_out} and {side.name}."
        )


@app.command()
@friendly_errors
def link(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Option("--model", help="Model from `linkage train`.")],
    crimes: CrimesOpt = None,
    offenders: OffendersOpt = None,
    mo_cols: MoOpt = "",
    pairs_out: Annotated[
        Path | None, typer.Option("--pairs-out", help="CSV crime_a,crime_b,probability.")
    ] = None,
    series_out: Annotated[
        Path | None, typer.Option("--series-out", help="CSV crime_id,series_id.")
    ] = None,
    leads_out: Annotated[
        Path | None,
        typer.Option("--leads-out", help="CSV of leads for unsolved cases (needs --offenders)."),
    ] = None,
    crs: CrsOpt = None,
    from_store: StoreOpt = False,
    category: CategoryOpt = None,
    min_probability: Annotated[
        float, typer.Option(help="Pairs below this probability are left out of --pairs-out.")
    ] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Score the candidate pairs of new cases and group them into series."""
    from haizhou.analytics.linkage.explain import leads
    from haizhou.analytics.linkage.series import cluster_series, rank_series

    model = load_model(model_path)
    if not from_store and not mo_cols and model.mo_names_:
        mo_cols = ",".join(model.mo_names_)
    table, offs = _inputs(
        ctx,
        crimes=crimes,
        offenders=offenders,
        mo_cols=mo_cols,
        crs=crs,
        from_store=from_store,
        categories=category,
        need_offenders=leads_out is not None,
    )
    start = time.perf_counter()
    try:
        res = model.link(table)
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    labels = cluster_series(
        len(table), res.i, res.j, res.probability, threshold=fitted_series_threshold(model)
    )
    ranked = rank_series(
        table, labels, res.i, res.j, res.probability, now_days=float(table.t_to_days.max())
    )
    keep = res.probability >= min_probability
    if pairs_out is not None:
        order = np.argsort(-res.probability[keep], kind="stable")
        pd.DataFrame(
            {
                "crime_a": table.crime_id[res.i[keep]][order],
                "crime_b": table.crime_id[res.j[keep]][order],
                "probability": np.round(res.probability[keep][order], 6),
            }
        ).to_csv(pairs_out, index=False)
    if series_out is not None:
        pd.DataFrame({"crime_id": table.crime_id, "series_id": labels + 1}).to_csv(
            series_out, index=False
        )
    n_leads = 0
    if leads_out is not None and offs is not None:
        # rarity in the reasons as the model weighed it (training and new cases)
        found = leads(table, offs, res.i, res.j, res.probability, encoder=model.encoder(table))
        n_leads = len(found)
        pd.DataFrame(
            {
                "crime_id": [x.crime_id for x in found],
                "linked_crime_id": [x.linked_crime_id for x in found],
                "probability": [round(x.probability, 4) for x in found],
                "suspects": [";".join(x.suspects) for x in found],
                "reasons_zh": ["；".join(x.reasons_zh) for x in found],
                "reasons_en": ["; ".join(x.reasons_en) for x in found],
            }
        ).to_csv(leads_out, index=False)
    top = ranked.frame.head(10)
    summary = {
        "n_crimes": len(table),
        "n_candidate_pairs": len(res),
        "n_pairs_written": int(keep.sum()) if pairs_out is not None else 0,
        "n_series": int(np.unique(labels).size),
        "n_series_2plus": len(ranked.frame),
        "n_leads": n_leads,
        "top_series": [
            {
                "series_id": int(r.series_id) + 1,
                "n_crimes": int(r.n_crimes),
                "strength": round(float(r.strength), 4),
                "rank": int(r.rank),
            }
            for r in top.itertuples()
        ],
        "seconds": round(time.perf_counter() - start, 3),
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"Scored {len(res)} candidate pairs of {len(table)} cases; "
            f"{summary['n_series_2plus']} series of two or more cases."
        )


@app.command()
@friendly_errors
def evaluate(
    ctx: typer.Context,
    crimes: CrimesOpt = None,
    offenders: OffendersOpt = None,
    mo_cols: MoOpt = "",
    crs: CrsOpt = None,
    from_store: StoreOpt = False,
    category: CategoryOpt = None,
    learner: LearnerOpt = "auto",
    max_distance_m: DistOpt = 5000.0,
    max_gap_days: GapOpt = 365.0,
    series_threshold: ThrOpt = "auto",
    n_splits: Annotated[int, typer.Option(help="Folds (grouped by offender group).")] = 5,
    collective: CollectiveOpt = "off",
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Cross-validate on solved cases, grouped by offender group (docs/linkage.md)."""
    from haizhou.analytics.linkage.protocol import evaluate_linkage

    table, offs = _inputs(
        ctx,
        crimes=crimes,
        offenders=offenders,
        mo_cols=mo_cols,
        crs=crs,
        from_store=from_store,
        categories=category,
        need_offenders=True,
    )
    if n_splits < 2:
        raise HaizhouError(f"--n-splits must be at least 2; got {n_splits}.")
    model = _make_model(
        **_model_params(learner, max_distance_m, max_gap_days, series_threshold, seed, collective)
    )
    start = time.perf_counter()
    try:
        result = evaluate_linkage(table, offs, model=model, n_splits=n_splits)
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    result["seconds"] = round(time.perf_counter() - start, 3)
    if as_json:
        print_json(result)
        return
    console.print(
        f"AUC {result['pairwise_auc']:.3f}  AP {result['average_precision']:.3f}  "
        f"P@1 {result['precision_at_k']['1']:.3f}  series F1 {result['series_f1']:.3f}  "
        f"B-cubed F1 {result['bcubed_f1']:.3f}  ({result['n_crimes']} solved cases, "
        f"{result['n_offenders']} offenders, learner {result['model']['learner']})"
    )
