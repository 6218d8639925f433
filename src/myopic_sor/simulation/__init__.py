"""Execution simulation: the replay exchange over recorded books, queue and latency models.

The queue kernel is :func:`._replay_kernels.scan_limit` (numba) with its plain-Python twin in
:mod:`._replay_python`.
"""

from __future__ import annotations

from myopic_sor.simulation._replay_exchange import (
    FILL_DTYPE,
    ConstantLatency,
    LatencyModel,
    ProbabilisticQueue,
    QueueModel,
    ReplayExchange,
    RiskAverseQueue,
    VenueLatency,
    queue_model_from_spec,
)

__all__ = [
    "FILL_DTYPE",
    "ConstantLatency",
    "LatencyModel",
    "ProbabilisticQueue",
    "QueueModel",
    "ReplayExchange",
    "RiskAverseQueue",
    "VenueLatency",
    "queue_model_from_spec",
]
