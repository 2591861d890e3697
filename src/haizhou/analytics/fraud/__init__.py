"""Telecom and online fraud targeting (电信网络诈骗 · 精准劝阻).

* :mod:`.rates`: victimisation rates by area (empirical Bayes, Gi*) and rate ratios by group;
* :mod:`.risk`: a calibrated risk model and how to score a risk ranking (AUC, precision@k,
  Brier, hit rate by age band);
* :mod:`.dissuasion`: ranking warnings into dissuasion work, a randomised hold-out, uplift;
* :mod:`.early_warnings`: banded features of an early warning and the prior risk.
"""

from haizhou.analytics.fraud.dissuasion import (
    CHANNELS,
    DEADLINE_HOURS,
    UpliftResult,
    assign_holdout,
    rank_warnings,
    uplift,
)
from haizhou.analytics.fraud.early_warnings import WARNING_FEATURES, prior_risk, warning_features
from haizhou.analytics.fraud.rates import (
    EBRates,
    empirical_bayes_rates,
    high_risk_areas,
    rate_ratios,
)
from haizhou.analytics.fraud.risk import FraudRiskModel, RiskMetrics, risk_metrics

__all__ = [
    "CHANNELS",
    "DEADLINE_HOURS",
    "WARNING_FEATURES",
    "EBRates",
    "FraudRiskModel",
    "RiskMetrics",
    "UpliftResult",
    "assign_holdout",
    "empirical_bayes_rates",
    "high_risk_areas",
    "prior_risk",
    "rank_warnings",
    "rate_ratios",
    "risk_metrics",
    "uplift",
    "warning_features",
]
