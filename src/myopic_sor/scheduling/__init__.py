"""Parent-order scheduling: the myopic scheduler and the baseline schedules.

Every strategy follows :class:`Scheduler` (``schedule(t0_ns, t_end_ns, X, *, data=None) ->
ScheduleResult``) and returns integer :class:`ChildOrder` s that sum exactly to the parent.
"""

from __future__ import annotations

from myopic_sor.scheduling._base import (
    ChildOrder,
    Scheduler,
    ScheduleResult,
    integer_allocation,
)
from myopic_sor.scheduling._baselines import (
    AlmgrenChrissScheduler,
    AlmgrenChrissTrajectory,
    FixedFrequencyScheduler,
    OWScheduler,
    TWAPScheduler,
    VolumeProfile,
    VWAPScheduler,
    almgren_chriss_trajectory,
)
from myopic_sor.scheduling._myopic import (
    MyopicParameters,
    MyopicRun,
    MyopicScheduler,
    calculate_decision_risk,
    risk_adjusted_myopic_schedule,
)

__all__ = [
    "AlmgrenChrissScheduler",
    "AlmgrenChrissTrajectory",
    "ChildOrder",
    "FixedFrequencyScheduler",
    "MyopicParameters",
    "MyopicRun",
    "MyopicScheduler",
    "OWScheduler",
    "ScheduleResult",
    "Scheduler",
    "TWAPScheduler",
    "VWAPScheduler",
    "VolumeProfile",
    "almgren_chriss_trajectory",
    "calculate_decision_risk",
    "integer_allocation",
    "risk_adjusted_myopic_schedule",
]
