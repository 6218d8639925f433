"""Analysis: execution metrics (MATH.md §8), the spec's analyzer, plots and reports."""

from __future__ import annotations

from myopic_sor.analysis._analyzer import (
    MultiObjectiveOptimizer,
    MyopicAnalyzer,
    create_lambda_comparison_plot,
)
from myopic_sor.analysis._execution_detail import (
    child_order_metrics,
    child_summary,
    cost_volatility,
    decision_efficiency,
    detail_metrics,
    modelled_impact,
    modelled_impact_path,
    realised_impact,
)
from myopic_sor.analysis._metrics import (
    arrival_mid,
    cost_breakdown,
    execution_metrics,
    market_benchmarks,
    path_metrics,
)
from myopic_sor.analysis._report import load_results, write_report
from myopic_sor.analysis._sensitivity import plot_sensitivity, sensitivity_analysis

__all__ = [
    "MultiObjectiveOptimizer",
    "MyopicAnalyzer",
    "arrival_mid",
    "child_order_metrics",
    "child_summary",
    "cost_breakdown",
    "cost_volatility",
    "create_lambda_comparison_plot",
    "decision_efficiency",
    "detail_metrics",
    "execution_metrics",
    "load_results",
    "market_benchmarks",
    "modelled_impact",
    "modelled_impact_path",
    "path_metrics",
    "plot_sensitivity",
    "realised_impact",
    "sensitivity_analysis",
    "write_report",
]
