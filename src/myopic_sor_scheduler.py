"""The spec's module name: re-exports of the myopic scheduler and the λ/β estimators.

``from myopic_sor_scheduler import MyopicScheduler, MyopicParameters`` works as in the spec;
the implementations live in :mod:`myopic_sor.scheduling` and :mod:`myopic_sor.impact`.
"""

from __future__ import annotations

from myopic_sor.impact import (
    AdaptiveBeta,
    AdvancedLambdaEstimator,
    adjust_params_for_volume,
    estimate_regime_aware_lambda,
)
from myopic_sor.scheduling import (
    MyopicParameters,
    MyopicScheduler,
    risk_adjusted_myopic_schedule,
)

__all__ = [
    "AdaptiveBeta",
    "AdvancedLambdaEstimator",
    "MyopicParameters",
    "MyopicScheduler",
    "adjust_params_for_volume",
    "estimate_regime_aware_lambda",
    "risk_adjusted_myopic_schedule",
]
