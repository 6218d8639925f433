"""Transient market impact (Obizhaeva-Wang, exponential decay): the model, its expected cost,
optimal schedules, and the calibration of λ and β from tick data."""

from __future__ import annotations

from myopic_sor.impact._advanced import (
    AdaptiveBeta,
    AdvancedLambdaEstimator,
    adjust_params_for_volume,
    estimate_regime_aware_lambda,
)
from myopic_sor.impact._calibration import (
    LambdaEstimate,
    estimate_lambda,
    estimate_lambda_periods,
    select_lambda,
)
from myopic_sor.impact._joint import ImpactEstimator
from myopic_sor.impact._kernels import ow_impact_path
from myopic_sor.impact._model import (
    CostBreakdown,
    ImpactParams,
    expected_cost,
    expected_cost_quadratic,
    impact_path,
    past_impact,
    price_impact_series,
)
from myopic_sor.impact._optimal import (
    AlphaFunction,
    ConstrainedSchedule,
    ContinuousSchedule,
    InfeasibleScheduleError,
    LinearConstrainedSchedule,
    ScheduleConvergenceError,
    constrained_schedule,
    constrained_schedule_linear,
    continuous_schedule,
    exp_kernel_inverse_banded,
    exp_kernel_matrix,
    impact_constraint_matrix,
    optimal_schedule,
    ow_discrete_schedule,
    regret,
    schedule_bounds,
)

__all__ = [
    "AdaptiveBeta",
    "AdvancedLambdaEstimator",
    "AlphaFunction",
    "ConstrainedSchedule",
    "ContinuousSchedule",
    "CostBreakdown",
    "ImpactEstimator",
    "ImpactParams",
    "InfeasibleScheduleError",
    "LambdaEstimate",
    "LinearConstrainedSchedule",
    "ScheduleConvergenceError",
    "adjust_params_for_volume",
    "constrained_schedule",
    "constrained_schedule_linear",
    "continuous_schedule",
    "estimate_lambda",
    "estimate_lambda_periods",
    "estimate_regime_aware_lambda",
    "exp_kernel_inverse_banded",
    "exp_kernel_matrix",
    "expected_cost",
    "expected_cost_quadratic",
    "impact_constraint_matrix",
    "impact_path",
    "optimal_schedule",
    "ow_discrete_schedule",
    "ow_impact_path",
    "past_impact",
    "price_impact_series",
    "regret",
    "schedule_bounds",
    "select_lambda",
]
