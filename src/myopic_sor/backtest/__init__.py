"""Backtests: the engine (one clock, router and exchange for every strategy), the strategies
as the engine drives them, and the spec's API (``run_job_with_myopic``,
``compare_myopic_vs_traditional``, ``enhanced_backtest_with_myopic``, ``backtest``, ``main``).
"""

from __future__ import annotations

from myopic_sor.backtest._batch import BatchItem, batch_items, run_batch, summarise_batch
from myopic_sor.backtest._compare import (
    SCHEDULES,
    StrategySpec,
    compare_strategies,
    make_strategy,
    parse_strategy,
)
from myopic_sor.backtest._engine import Backtester
from myopic_sor.backtest._parent import BacktestResult, ParentOrder, parse_side
from myopic_sor.backtest._spec import (
    backtest,
    causal_lambda,
    compare_myopic_vs_traditional,
    enhanced_backtest_with_myopic,
    main,
    run_job_with_myopic,
)
from myopic_sor.backtest._strategies import (
    DecisionView,
    ExecutionStrategy,
    MyopicStrategy,
    ScheduledStrategy,
    TraditionalStrategy,
)

__all__ = [
    "SCHEDULES",
    "BacktestResult",
    "Backtester",
    "BatchItem",
    "DecisionView",
    "ExecutionStrategy",
    "MyopicStrategy",
    "ParentOrder",
    "ScheduledStrategy",
    "StrategySpec",
    "TraditionalStrategy",
    "backtest",
    "batch_items",
    "causal_lambda",
    "compare_myopic_vs_traditional",
    "compare_strategies",
    "enhanced_backtest_with_myopic",
    "main",
    "make_strategy",
    "parse_side",
    "parse_strategy",
    "run_batch",
    "run_job_with_myopic",
    "summarise_batch",
]
