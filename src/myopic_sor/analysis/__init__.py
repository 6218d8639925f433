"""Analysis: execution metrics (MATH.md §8), comparisons, plots and reports."""

from __future__ import annotations

from myopic_sor.analysis._metrics import arrival_mid, execution_metrics, market_benchmarks

__all__ = [
    "arrival_mid",
    "execution_metrics",
    "market_benchmarks",
]
