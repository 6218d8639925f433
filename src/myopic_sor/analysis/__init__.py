"""Analysis: execution metrics (MATH.md §8), the spec's analyzer, plots and reports."""

from __future__ import annotations

from myopic_sor.analysis._analyzer import (
    MultiObjectiveOptimizer,
    MyopicAnalyzer,
    create_lambda_comparison_plot,
)
from myopic_sor.analysis._metrics import (
    arrival_mid,
    execution_metrics,
    market_benchmarks,
    path_metrics,
)
from myopic_sor.analysis._report import load_results, write_report

__all__ = [
    "MultiObjectiveOptimizer",
    "MyopicAnalyzer",
    "arrival_mid",
    "create_lambda_comparison_plot",
    "execution_metrics",
    "load_results",
    "market_benchmarks",
    "path_metrics",
    "write_report",
]
