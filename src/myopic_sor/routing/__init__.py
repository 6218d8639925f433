"""Smart order routing: the Cont-Kukanov router (MATH.md §5), outflow laws, lookup tables."""

from __future__ import annotations

from myopic_sor.routing._base import Allocation, OutflowDistribution, Router, RoutingProblem
from myopic_sor.routing._cont_kukanov import (
    ContKukanovRouter,
    MarketOnlyRouter,
    PassiveRouter,
    cost_gradient,
    cost_samples,
    critical_probability,
    draw_outflows,
    expected_cost,
    round_to_target,
    solve_closed_form,
    solve_lp,
    solve_sa,
    underfill_probability,
)

__all__ = [
    "Allocation",
    "ContKukanovRouter",
    "MarketOnlyRouter",
    "OutflowDistribution",
    "PassiveRouter",
    "Router",
    "RoutingProblem",
    "cost_gradient",
    "cost_samples",
    "critical_probability",
    "draw_outflows",
    "expected_cost",
    "round_to_target",
    "solve_closed_form",
    "solve_lp",
    "solve_sa",
    "underfill_probability",
]
