"""Execution simulation (MATH.md §7): our orders against recorded or synthetic books.

* :class:`ReplayExchange` replays the recorded books of every venue of a day in event time:
  market orders walk the displayed levels, limit orders queue under a :class:`QueueModel`,
  actions act after a :class:`LatencyModel` delay, fees and rebates per venue, an optional
  impact overlay; no order ever sees an event after the time it acts at.
* :class:`SyntheticExchange` gives the same interface (the :class:`Exchange` protocol) on top of
  the reactive :class:`~myopic_sor.data.SyntheticMarket`, whose prices respond to our orders.
* :func:`read_orders` / :func:`simulate_orders` / :func:`run_orders` run an orders file (the
  ``simulate`` command).

Fills are records of :data:`FILL_DTYPE` inside and a DataFrame (:func:`fills_frame`) at the
edge. The replay loop is a numba kernel (:mod:`._kernels`) with a plain-Python twin
(:mod:`._python`).
"""

from __future__ import annotations

from myopic_sor.simulation._latency import (
    ConstantLatency,
    LatencyModel,
    PerVenueLatency,
    as_latency_model,
)
from myopic_sor.simulation._orders import read_orders, run_orders, simulate_orders
from myopic_sor.simulation._queue import (
    LogProbabilisticQueue,
    ProbabilisticQueue,
    QueueModel,
    RiskAverseQueue,
    queue_model_from_spec,
)
from myopic_sor.simulation._recorder import EventRecorder
from myopic_sor.simulation._replay import (
    PRICE_TOLERANCE,
    DepthPolicy,
    ImpactOverlay,
    ReplayExchange,
    parse_depth_policy,
)
from myopic_sor.simulation._synthetic_exchange import SyntheticExchange
from myopic_sor.simulation._types import (
    FILL_CATCH_UP,
    FILL_DTYPE,
    FILL_PENALTY,
    Exchange,
    Liquidity,
    OrderSpec,
    OrderStatus,
    Side,
    as_side,
    fills_frame,
)

__all__ = [
    "FILL_CATCH_UP",
    "FILL_DTYPE",
    "FILL_PENALTY",
    "PRICE_TOLERANCE",
    "ConstantLatency",
    "DepthPolicy",
    "EventRecorder",
    "Exchange",
    "ImpactOverlay",
    "LatencyModel",
    "Liquidity",
    "LogProbabilisticQueue",
    "OrderSpec",
    "OrderStatus",
    "PerVenueLatency",
    "ProbabilisticQueue",
    "QueueModel",
    "ReplayExchange",
    "RiskAverseQueue",
    "Side",
    "SyntheticExchange",
    "as_latency_model",
    "as_side",
    "fills_frame",
    "parse_depth_policy",
    "queue_model_from_spec",
    "read_orders",
    "run_orders",
    "simulate_orders",
]
