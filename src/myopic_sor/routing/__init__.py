"""Smart order routing: the Cont-Kukanov router (MATH.md §5), outflow laws, lookup tables."""

from __future__ import annotations

from myopic_sor.routing._base import Allocation, OutflowDistribution, Router, RoutingProblem

__all__ = [
    "Allocation",
    "OutflowDistribution",
    "Router",
    "RoutingProblem",
]
