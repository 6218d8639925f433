"""The spec's module name: re-exports of the analysis API.

``from myopic_analysis_utils import MyopicAnalyzer, create_lambda_comparison_plot`` works as
in the spec; the implementations live in :mod:`myopic_sor.analysis`.
"""

from __future__ import annotations

from myopic_sor.analysis import (
    MultiObjectiveOptimizer,
    MyopicAnalyzer,
    create_lambda_comparison_plot,
)

__all__ = ["MultiObjectiveOptimizer", "MyopicAnalyzer", "create_lambda_comparison_plot"]
