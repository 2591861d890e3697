"""Local spatial statistics (局部空间统计): Getis-Ord Gi*, FDR control, neighbour structures.

Statistics are functions returning frozen results of arrays aligned with the sites; the
permutation engine is shared (:mod:`.inference`); neighbours are immutable (:mod:`.weights`).
"""

from haizhou.analytics.spatial_stats.fdr import fdr_adjust, fdr_reject
from haizhou.analytics.spatial_stats.getis_ord import GiStarResult, getis_ord_gi_star
from haizhou.analytics.spatial_stats.inference import PermutationTest, conditional_randomisation
from haizhou.analytics.spatial_stats.weights import Neighbours

__all__ = [
    "GiStarResult",
    "Neighbours",
    "PermutationTest",
    "conditional_randomisation",
    "fdr_adjust",
    "fdr_reject",
    "getis_ord_gi_star",
]
