"""The estimator contract, run over every Estimator subclass found in haizhou.analytics.

sklearn's common checks, in our words (STYLE.md §1): ``__init__`` stores its arguments as given,
``clone`` round-trips, ``fit`` returns ``self`` and leaves the parameters alone, an unfitted
estimator raises :class:`haizhou.errors.NotFittedError` naming its class, and pickling keeps the
fitted results. An estimator whose fit input this file does not know gets the checks that need
no fit and a skip telling where to add an example (``EXAMPLES``).
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

import haizhou.analytics
from haizhou.analytics.base import Estimator, EventSet
from haizhou.analytics.grid import Grid
from haizhou.errors import NotFittedError

IMPORT_ERRORS: dict[str, str] = {}


def _walk() -> list[type]:
    for mod in pkgutil.walk_packages(haizhou.analytics.__path__, "haizhou.analytics."):
        try:
            importlib.import_module(mod.name)
        except Exception as exc:  # reported by test_every_analytics_module_imports
            IMPORT_ERRORS[mod.name] = repr(exc)
    found: dict[str, type] = {}
    stack = list(Estimator.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if (
            cls.__module__.startswith("haizhou.analytics")
            and not inspect.isabstract(cls)
            and cls.__init__ is not Estimator.__init__
        ):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


ESTIMATORS = _walk()
BASES = {"haizhou.analytics.forecast._base.Forecaster"}
ESTIMATORS = [c for c in ESTIMATORS if f"{c.__module__}.{c.__qualname__}" not in BASES]


def _events(seed: int = 0, n: int = 400) -> EventSet:
    rng = np.random.default_rng(seed)
    hot = rng.random(n) < 0.5
    x = np.where(hot, rng.normal(600, 60, n), rng.uniform(0, 1500, n))
    y = np.where(hot, rng.normal(600, 60, n), rng.uniform(0, 1500, n))
    return EventSet.from_arrays(np.sort(rng.uniform(0, 120, n)), x, y)


EV = _events()
GRID = Grid.covering(EV.x_m, EV.y_m, cell_size_m=150.0)
PTS = (np.array([600.0, 100.0, 1400.0]), np.array([600.0, 1200.0, 100.0]))

# class name -> (fit(est) -> est, predict(est) -> array)
Example = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _forecaster_example() -> Example:
    return (
        lambda est: est.fit(EV, now=120.0, context=EV, grid=GRID),
        lambda est: est.predict(GRID),
    )


def _counts_frame() -> Any:
    import pandas as pd

    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    counts = np.random.default_rng(3).poisson(4.0, days.size)
    return pd.DataFrame(
        {"jurisdiction": "A", "category": "theft", "period_start": days, "count": counts}
    )


EXAMPLES: dict[str, Example] = {
    "TrendBaseline": (
        lambda est: est.fit(_counts_frame(), now="2024-07-01"),
        lambda est: est.predict(
            "A", "theft", np.array(["2024-07-01", "2024-07-02"], "datetime64[ns]")
        ),
    ),
    "KernelDensitySurface": (
        lambda est: est.fit(EV.x_m, EV.y_m),
        lambda est: est.predict(*PTS),
    ),
    "NearRepeatZones": (
        lambda est: est.fit(EV, now=120.0),
        lambda est: est.predict(*PTS),
    ),
    "ResidenceModel": (
        lambda est: est.fit(np.array([0, 0, 1, 2, 10, 12, 14, 20, 25])),
        lambda est: est.predict_proba(np.array([0, 5, 14, 28])),
    ),
    "LinkageModel": (
        lambda est: est.fit(*_linkage_data()),
        lambda est: est.predict_proba(_linkage_data()[0], np.array([0, 1]), np.array([2, 3])),
    ),
    "FraudRiskModel": (
        lambda est: est.fit(_fraud_frame(), _fraud_frame()["victim"].to_numpy()),
        lambda est: est.predict_proba(_fraud_frame()),
    ),
}

def _linkage_data() -> Any:
    from haizhou.analytics.linkage.synthetic import synthetic_crimes

    return synthetic_crimes(n_offenders=40, seed=0)


def _fraud_frame() -> Any:
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 400
    age = rng.choice(["18-29", "30-39", "40-59", "60+"], n)
    job = rng.choice(["student", "worker", "retired"], n)
    risk = 0.05 + 0.25 * (age == "18-29") + 0.15 * (job == "retired")
    return pd.DataFrame({"age_band": age, "occupation": job, "victim": rng.random(n) < risk})


# Parameters that must be cheap in the contract run (the defaults are tuned for real data).
FAST = {
    "GradientBoostedGrid": {"n_days": 5, "max_iter": 5},
    "SelfExcitingForecast": {"n_iter": 5},
}


def _example(cls: type) -> Example | None:
    from haizhou.analytics.forecast import Forecaster

    if issubclass(cls, Forecaster):
        return _forecaster_example()
    return EXAMPLES.get(cls.__name__)


def _make(cls: type) -> Any:
    return cls(**FAST.get(cls.__name__, {}))


def _ids(classes: list[type]) -> list[str]:
    return [c.__name__ for c in classes]


def test_every_analytics_module_imports() -> None:
    assert IMPORT_ERRORS == {}


def test_estimators_are_found() -> None:
    names = set(_ids(ESTIMATORS))
    assert {
        "NaiveCounts",
        "RetrospectiveHotspot",
        "ProspectiveHotspot",
        "KernelDensityForecast",
        "SelfExcitingForecast",
        "GradientBoostedGrid",
    } <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_init_is_keyword_only_and_stores_args_untouched(cls: type) -> None:
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    assert all(p.kind is p.KEYWORD_ONLY for p in params), (
        f"{cls.__name__}.__init__ must be keyword-only"
    )
    assert all(p.default is not p.empty for p in params), f"{cls.__name__} needs defaults"
    # distinctive sentinels, stored as the very same objects, no validation in __init__
    sentinels = {p.name: object() for p in params}
    est = cls(**sentinels)
    for name, value in sentinels.items():
        assert getattr(est, name) is value
    assert not [k for k in vars(est) if k.endswith("_")], "no fitted attributes in __init__"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_clone_round_trips(cls: type) -> None:
    est = _make(cls)
    twin = clone(est)
    assert twin is not est
    assert type(twin) is cls
    assert twin.get_params() == est.get_params() or repr(twin) == repr(est)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_unfitted_raises_not_fitted_error_naming_the_class(cls: type) -> None:
    est = _make(cls)
    method = next(
        (
            getattr(est, m)
            for m in ("predict", "predict_proba", "score_samples", "transform")
            if hasattr(est, m)
        ),
        None,
    )
    if method is None:
        pytest.skip(f"{cls.__name__} has no predict/score_samples/transform")
    n_args = sum(
        1
        for p in inspect.signature(method).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    with pytest.raises(NotFittedError, match=cls.__name__):
        method(*([None] * n_args))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_fit_returns_self_and_leaves_params_alone(cls: type) -> None:
    example = _example(cls)
    if example is None:
        pytest.skip(f"no example input for {cls.__name__}: add one to EXAMPLES in this file")
    fit, _ = example
    est = _make(cls)
    before = {k: (v, repr(v)) for k, v in est.get_params().items()}
    assert fit(est) is est
    after = est.get_params()
    for k, (v, r) in before.items():
        assert after[k] is v and repr(after[k]) == r, f"fit changed parameter {k!r}"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_pickle_keeps_results(cls: type) -> None:
    example = _example(cls)
    if example is None:
        pytest.skip(f"no example input for {cls.__name__}: add one to EXAMPLES in this file")
    fit, predict = example
    est = fit(_make(cls))
    expected = np.asarray(predict(est))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(np.asarray(predict(again)), expected)
    assert np.isfinite(expected).all()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=_ids(ESTIMATORS))
def test_bad_parameter_gets_a_clear_message(cls: type) -> None:
    table = getattr(cls, "_parameter_constraints", {})
    example = _example(cls)
    if not table or example is None:
        pytest.skip(f"{cls.__name__}: no constraint table or no example input")
    fit, _ = example
    name = next(iter(table))
    est = _make(cls).set_params(**{name: "not-a-value"})
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of {cls.__name__} must be"):
        fit(est)
