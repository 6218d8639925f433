"""One conformance suite over every Scheduler: exact integer children inside the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from myopic_sor.config import RiskConfig
from myopic_sor.impact import ImpactParams
from myopic_sor.scheduling import (
    AlmgrenChrissScheduler,
    FixedFrequencyScheduler,
    MyopicParameters,
    MyopicScheduler,
    OWScheduler,
    Scheduler,
    ScheduleResult,
    TWAPScheduler,
    VolumeProfile,
    VWAPScheduler,
)

NS = 1_000_000_000
T0 = int(pd.Timestamp("2025-04-02 10:00", tz="America/New_York").value)
IP = ImpactParams.from_beta_per_hour(lambda_=0.5, beta_per_hour=10.0, sigma_daily=0.02, adv=1e6)
MP = MyopicParameters(lambda_value=0.5, beta=10.0, volatility=0.02, adv=1e6)
PROFILE = VolumeProfile(
    300.0,
    np.linspace(2.0, 1.0, 78),
    session_start=dt.time(9, 30),
    session_end=dt.time(16, 0),
    last_date=dt.date(2025, 4, 1),
)

FACTORIES: dict[str, Callable[[], Scheduler]] = {
    "twap": lambda: TWAPScheduler(n_slots=13),
    "vwap": lambda: VWAPScheduler(PROFILE, slot_s=120.0),
    "almgren_chriss": lambda: AlmgrenChrissScheduler(
        20, sigma=0.02, eta=0.5, gamma=1e-6, risk_aversion=1e-3
    ),
    "ow_optimal": lambda: OWScheduler(IP, n_slots=21),
    "fixed_frequency": lambda: FixedFrequencyScheduler(
        90.0, favourable=lambda t: (t // NS) % 270 != 0
    ),
    "myopic": lambda: MyopicScheduler(MP, eval_every_s=30.0),
    "myopic_risk": lambda: MyopicScheduler(
        MP,
        risk=RiskConfig(min_order_size=50, max_order_size=400, position_limit=20_000),
        eval_every_s=20.0,
    ),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("x", [7_777, -4_001, 1])
def test_scheduler_contract(name: str, x: int) -> None:
    sched = FACTORIES[name]()
    assert isinstance(sched, Scheduler)
    t_end = T0 + 30 * 60 * NS
    r = sched.schedule(T0, t_end, x)
    assert isinstance(r, ScheduleResult)
    q, ts = r.quantities, r.ts_ns
    assert q.dtype == np.int64
    assert all(isinstance(c.quantity, int) for c in r.children)
    assert int(q.sum()) == x
    assert np.all(q != 0)
    assert np.all(np.sign(q) == np.sign(x))  # no round trips: non-negative for a buy
    assert np.all((ts >= T0) & (ts <= t_end))
    assert np.all(np.diff(ts) > 0)
    assert (r.t0_ns, r.t_end_ns, r.quantity) == (T0, t_end, x)
    again = FACTORIES[name]().schedule(T0, t_end, x)
    assert again.children == r.children  # deterministic
