"""The spec's module name: re-exports of the backtest API.

``from main_myopic_final import run_job_with_myopic, compare_myopic_vs_traditional, main``
works as in the spec; the implementations live in :mod:`myopic_sor.backtest`.
"""

from __future__ import annotations

from myopic_sor.backtest import (
    backtest,
    compare_myopic_vs_traditional,
    enhanced_backtest_with_myopic,
    main,
    run_job_with_myopic,
)

__all__ = [
    "backtest",
    "compare_myopic_vs_traditional",
    "enhanced_backtest_with_myopic",
    "main",
    "run_job_with_myopic",
]


if __name__ == "__main__":  # the spec's `python main_myopic_final.py`: run with the defaults
    from myopic_sor.analysis import MyopicAnalyzer

    print(MyopicAnalyzer().generate_performance_report(main()))
