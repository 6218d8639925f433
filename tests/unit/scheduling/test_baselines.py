"""Unit tests of the baseline schedules: TWAP, VWAP, Almgren-Chriss, OW, fixed frequency."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact import ImpactParams, ow_discrete_schedule
from myopic_sor.scheduling import (
    AlmgrenChrissScheduler,
    FixedFrequencyScheduler,
    OWScheduler,
    TWAPScheduler,
    VolumeProfile,
    VWAPScheduler,
    integer_allocation,
)

NS = 1_000_000_000


@pytest.fixture(scope="module")
def past_day() -> MarketData:
    md, _ = generate_market_data(seed=11, day="2025-04-01", session_end=dt.time(10, 0))
    return md


def _open_ns(day: str) -> int:
    return int(pd.Timestamp(f"{day} 09:30", tz="America/New_York").value)


def test_integer_allocation_is_exact_and_monotone() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        w = rng.random(17)
        x = int(rng.integers(1, 10_000))
        q = integer_allocation(x * w / w.sum(), x)
        assert q.sum() == x
        assert q.min() >= 0
        assert np.all(np.abs(np.cumsum(q) - np.cumsum(x * w / w.sum())) <= 0.5 + 1e-9)
    q = integer_allocation(np.full(3, -100 / 3), -100)
    assert q.sum() == -100
    assert q.max() <= 0


def test_twap_equal_slices() -> None:
    r = TWAPScheduler(n_slots=4).schedule(0, 4 * 60 * NS, 1_001)
    assert r.quantities.tolist() == [250, 250, 251, 250]
    assert r.ts_ns.tolist() == [0, 60 * NS, 120 * NS, 180 * NS]
    r2 = TWAPScheduler(slot_s=90.0).schedule(0, 4 * 60 * NS, -300)
    assert len(r2.children) == 3
    assert r2.quantities.sum() == -300
    with pytest.raises(ConfigError, match="exactly one"):
        TWAPScheduler(n_slots=3, slot_s=10.0)


def test_vwap_follows_past_volume_curve(past_day: MarketData) -> None:
    prof = VolumeProfile.from_market_data([past_day], bin_s=300.0, session_end=dt.time(10, 0))
    assert prof.weights.shape == (6,)
    assert prof.weights.sum() == pytest.approx(1.0)
    assert prof.last_date == dt.date(2025, 4, 1)
    t0 = _open_ns("2025-04-02")
    r = VWAPScheduler(prof, n_slots=6).schedule(t0, t0 + 30 * 60 * NS, 60_000)
    assert r.quantities.sum() == 60_000
    np.testing.assert_allclose(r.quantities / 60_000, prof.weights, atol=1 / 60_000)
    # an unequal profile gives unequal children
    custom = VolumeProfile(60.0, np.array([3.0, 1.0]), last_date=dt.date(2025, 4, 1))
    r2 = VWAPScheduler(custom, n_slots=2).schedule(t0, t0 + 120 * NS, 100)
    assert r2.quantities.tolist() == [75, 25]


def test_vwap_refuses_lookahead_and_empty_window(past_day: MarketData) -> None:
    prof = VolumeProfile.from_market_data([past_day], session_end=dt.time(10, 0))
    same_day = _open_ns("2025-04-01")
    with pytest.raises(DataValidationError, match="look-ahead"):
        VWAPScheduler(prof).schedule(same_day, same_day + 600 * NS, 100)
    night = int(pd.Timestamp("2025-04-02 20:00", tz="America/New_York").value)
    with pytest.raises(ConfigError, match="no volume"):
        VWAPScheduler(prof).schedule(night, night + 600 * NS, 100)
    with pytest.raises(DataValidationError, match="at least one"):
        VolumeProfile.from_market_data([])


def test_almgren_chriss_front_loads_with_risk_aversion() -> None:
    kw = {"sigma": 0.02, "eta": 1.0, "gamma": 0.0}
    neutral = AlmgrenChrissScheduler(10, **kw).schedule(0, 3600 * NS, 10_000)
    averse = AlmgrenChrissScheduler(10, risk_aversion=1e-2, **kw).schedule(0, 3600 * NS, 10_000)
    assert neutral.quantities.tolist() == [1_000] * 10
    assert averse.quantities.sum() == 10_000
    assert np.all(np.diff(averse.quantities) <= 0)
    assert averse.quantities[0] > 1_500
    assert averse.info["variance"] < neutral.info["variance"]
    assert averse.expected_cost > neutral.expected_cost
    with pytest.raises(ConfigError, match="eta"):
        AlmgrenChrissScheduler(10, sigma=0.02, eta=-1.0)


def test_ow_scheduler_matches_discrete_closed_form() -> None:
    ip = ImpactParams.from_beta_per_hour(lambda_=0.5, beta_per_hour=10.0, sigma_daily=0.02, adv=1e6)
    r = OWScheduler(ip, n_slots=31).schedule(0, 1800 * NS, 30_000)
    ref = ow_discrete_schedule(30_000, 31, 1800.0, ip)
    assert r.quantities.sum() == 30_000
    assert np.max(np.abs(r.quantities - ref)) <= 1.0
    assert r.ts_ns[0] == 0
    assert r.ts_ns[-1] == 1800 * NS
    assert r.expected_cost > 0


def test_fixed_frequency_carries_skipped_quantity() -> None:
    skip = {120 * NS, 240 * NS, 360 * NS}
    f = FixedFrequencyScheduler(120.0, favourable=lambda t: t not in skip)
    r = f.schedule(0, 600 * NS, 1_000)
    assert r.quantities.sum() == 1_000
    assert r.ts_ns.tolist() == [0, 480 * NS]
    assert r.quantities.tolist() == [200, 800]
    assert r.info["skipped"] == 3.0
    # never favourable: everything at the last slot, still done by the end
    r2 = FixedFrequencyScheduler(120.0, favourable=lambda t: False).schedule(0, 600 * NS, -700)
    assert r2.quantities.tolist() == [-700]
    assert r2.ts_ns.tolist() == [480 * NS]
    plain = FixedFrequencyScheduler(120.0).schedule(0, 600 * NS, 1_000)
    assert plain.quantities.tolist() == [200] * 5
    with pytest.raises(ConfigError, match="order_freq_s"):
        FixedFrequencyScheduler(0.0)


def test_window_and_quantity_errors() -> None:
    s = TWAPScheduler()
    with pytest.raises(ConfigError, match="already over"):
        s.schedule(10, 5, 100)
    with pytest.raises(ConfigError, match="whole number"):
        s.schedule(0, 10 * NS, 10.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="non-zero"):
        s.schedule(0, 10 * NS, 0)
