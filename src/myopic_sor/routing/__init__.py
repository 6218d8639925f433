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
from myopic_sor.routing._facade import execute_optimization, market_data_from_frames
from myopic_sor.routing._favourable import FavourableRule, FavourableTracker
from myopic_sor.routing._inputs import (
    RouterInputs,
    adverse_selection,
    build_routing_problem,
    outflow_rate,
    outflow_samples,
    outflow_samples_with_ofi,
    router_inputs,
)
from myopic_sor.routing._lookup import LookupRouter, LookupTable, build_lookup_table
from myopic_sor.routing._outflow import (
    EmpiricalOutflow,
    ExponentialOutflow,
    KDEOutflow,
    OFIConditionedOutflow,
    fit_outflow,
)

__all__ = [
    "Allocation",
    "ContKukanovRouter",
    "EmpiricalOutflow",
    "ExponentialOutflow",
    "FavourableRule",
    "FavourableTracker",
    "KDEOutflow",
    "LookupRouter",
    "LookupTable",
    "MarketOnlyRouter",
    "OFIConditionedOutflow",
    "OutflowDistribution",
    "PassiveRouter",
    "Router",
    "RouterInputs",
    "RoutingProblem",
    "adverse_selection",
    "build_lookup_table",
    "build_routing_problem",
    "cost_gradient",
    "cost_samples",
    "critical_probability",
    "draw_outflows",
    "execute_optimization",
    "expected_cost",
    "fit_outflow",
    "market_data_from_frames",
    "outflow_rate",
    "outflow_samples",
    "outflow_samples_with_ofi",
    "round_to_target",
    "router_inputs",
    "solve_closed_form",
    "solve_lp",
    "solve_sa",
    "underfill_probability",
]
