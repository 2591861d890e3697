"""Case linkage (串并案): pair evidence, blocking, a learned linkage model, series and leads.

Pure computation (arrays and frames in, arrays, frames and records out); see docs/linkage.md.
"""

from haizhou.analytics.linkage.blocking import candidate_pairs, count_pairs_within_gap
from haizhou.analytics.linkage.collective import collective_probability, path_evidence
from haizhou.analytics.linkage.crimes import CrimeTable, Offenders, parse_crimelinkage
from haizhou.analytics.linkage.evidence import (
    EvidenceEncoder,
    expected_abs_difference,
    pair_evidence,
)
from haizhou.analytics.linkage.explain import Lead, PairExplanation, explain_pair, leads
from haizhou.analytics.linkage.metrics import bcubed_f1, pair_scores, pairwise_f1, precision_at_k
from haizhou.analytics.linkage.model import LEARNERS, LinkageModel, LinkResult
from haizhou.analytics.linkage.protocol import evaluate_linkage, grouped_folds
from haizhou.analytics.linkage.series import (
    SeriesTable,
    choose_series_threshold,
    cluster_series,
    rank_series,
)

__all__ = [
    "LEARNERS",
    "CrimeTable",
    "EvidenceEncoder",
    "Lead",
    "LinkResult",
    "LinkageModel",
    "Offenders",
    "PairExplanation",
    "SeriesTable",
    "bcubed_f1",
    "candidate_pairs",
    "choose_series_threshold",
    "cluster_series",
    "collective_probability",
    "count_pairs_within_gap",
    "evaluate_linkage",
    "expected_abs_difference",
    "explain_pair",
    "grouped_folds",
    "leads",
    "pair_evidence",
    "pair_scores",
    "pairwise_f1",
    "parse_crimelinkage",
    "path_evidence",
    "precision_at_k",
    "rank_series",
]
