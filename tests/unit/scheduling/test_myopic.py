"""Unit tests of the myopic scheduler (receding horizon, integer children, no look-ahead)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import sys
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import pytest

from myopic_sor.alpha import AlphaCurve, OracleAlpha, exp_decay_curve
from myopic_sor.config import RiskConfig
from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact import (
    InfeasibleScheduleError,
    optimal_schedule,
    ow_discrete_schedule,
    price_impact_series,
)
from myopic_sor.scheduling import (
    MyopicParameters,
    MyopicScheduler,
    Scheduler,
    calculate_decision_risk,
    risk_adjusted_myopic_schedule,
)

NS = 1_000_000_000
PARAMS = MyopicParameters(lambda_value=0.5, beta=10.0, volatility=0.02, adv=1e6)


class ConstDecayAlpha:
    """Causal test forecaster: α_t(s) = A (e^{−(s−t)/τ} − e^{−(T−t)/τ}) with fixed A, τ."""

    lookahead = False
    uses_latent_state = False

    def __init__(self, amplitude: float, tau_s: float) -> None:
        self.amplitude = amplitude
        self.tau_s = tau_s

    def fit(self, md: MarketData, until_ns: int) -> Self:
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        return exp_decay_curve(t_ns, (horizon_end_ns - t_ns) / NS, self.amplitude, self.tau_s)


class LastTradeAlpha:
    """Data-dependent causal test forecaster: amplitude from the number of events seen so far.

    It records the latest event time of every view it receives, so a test can check that no
    event after the decision time reached it.
    """

    lookahead = False
    uses_latent_state = False

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def fit(self, md: MarketData, until_ns: int) -> Self:
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        self.seen.append((t_ns, md.last_ts))
        n_events = sum(len(v) for v in md)
        amp = 1e-4 * math.sin(n_events / 997.0)
        return exp_decay_curve(t_ns, (horizon_end_ns - t_ns) / NS, amp, 300.0)


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=7, session_end=dt.time(9, 50))
    return data


def _q(decisions: list[dict[str, object]]) -> np.ndarray:
    return np.array([d["optimal_quantity"] for d in decisions], dtype=np.int64)


def test_parameters_units_and_validation() -> None:
    p = MyopicParameters(lambda_value=25000.0, beta=0.693, volatility=0.01, adv=1e6)
    assert p.beta_per_s == pytest.approx(0.693 / 3600)
    ip = p.to_impact_params()
    assert ip.beta_per_hour == pytest.approx(0.693)
    assert ip.lambda_per_share == pytest.approx(25000.0 * 0.01 / 1e6)
    assert p.session_s == pytest.approx(6.5 * 3600)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ConfigError, match="beta"):
            MyopicParameters(lambda_value=1.0, beta=bad, volatility=0.01, adv=1e6)
    with pytest.raises(ConfigError, match="lambda_value"):
        MyopicParameters(lambda_value=-1.0, beta=1.0, volatility=0.01, adv=1e6)


@pytest.mark.parametrize("x", [10_000, -7_531])
def test_children_sum_exactly_and_keep_side(x: int) -> None:
    s = MyopicScheduler(PARAMS, eval_every_s=30)
    dec = s.generate_trading_schedule(None, x, 20, start=5 * NS)
    q = _q(dec)
    assert q.sum() == x
    assert np.all(np.sign(q[q != 0]) == np.sign(x))
    assert dec[0]["ts_ns"] == 5 * NS
    assert dec[-1]["ts_ns"] == 5 * NS + 20 * 60 * NS
    assert dec[-1]["remaining"] == 0
    for key in (
        "timestamp",
        "optimal_quantity",
        "price_impact",
        "optimal_impact",
        "alpha",
        "mid_price",
        "remaining",
        "nu",
    ):
        assert key in dec[0]
    assert isinstance(s, Scheduler)


def test_zero_alpha_matches_ow_closed_forms() -> None:
    """α ≡ 0 on a fine grid: blocks X/(2+βT), rate βX/(2+βT) (MATH.md §3)."""
    x, horizon_min, step = 100_000, 30, 5.0
    s = MyopicScheduler(PARAMS, eval_every_s=step)
    q = _q(s.generate_trading_schedule(None, x, horizon_min, start=0)).astype(float)
    ip = PARAMS.to_impact_params()
    big_t = horizon_min * 60.0
    # discrete OW on the same grid, exact: the receding horizon reproduces it up to rounding
    disc = ow_discrete_schedule(x, q.shape[0], big_t, ip)
    assert np.max(np.abs(q - disc)) <= 2.0
    assert np.max(np.abs(np.cumsum(q) - np.cumsum(disc))) <= 2.0
    # continuous limit
    block = x / (2.0 + ip.beta_per_s * big_t)
    rate = ip.beta_per_s * x / (2.0 + ip.beta_per_s * big_t)
    assert q[0] == pytest.approx(block, rel=0.01)
    assert q[-1] == pytest.approx(block, rel=0.01)
    assert np.mean(q[1:-1]) / step == pytest.approx(rate, rel=0.01)


def test_impact_state_decays_exactly_between_decisions() -> None:
    s = MyopicScheduler(PARAMS, eval_every_s=60)
    dec = s.generate_trading_schedule(None, 5_000, 10, start=0)
    ip = PARAMS.to_impact_params()
    for prev, cur in itertools.pairwise(dec):
        after = prev["price_impact"] + ip.lambda_per_share * prev["optimal_quantity"]
        dt_s = (cur["ts_ns"] - prev["ts_ns"]) / NS
        assert cur["price_impact"] == pytest.approx(after * math.exp(-ip.beta_per_s * dt_s))


def test_min_order_size_accumulates() -> None:
    risk = RiskConfig(min_order_size=100, max_order_size=5_000, position_limit=50_000)
    s = MyopicScheduler(PARAMS, risk=risk, eval_every_s=5)
    dec = s.generate_trading_schedule(None, 10_000, 30, start=0)
    q = _q(dec)
    assert q.sum() == 10_000
    sent = q[:-1][q[:-1] != 0]
    assert sent.size > 0
    assert np.all(sent >= 100)
    assert np.any(q[1:-1] == 0)  # the OW rate (~28 shares per 5 s) is held and accumulated


def test_max_order_size_binds_and_infeasible_raises() -> None:
    risk = RiskConfig(min_order_size=1, max_order_size=500, position_limit=50_000)
    s = MyopicScheduler(PARAMS, risk=risk, eval_every_s=60)
    q = _q(s.generate_trading_schedule(None, 5_000, 30, start=0))
    assert q.sum() == 5_000
    assert q.max() <= 500
    assert q.min() >= 0
    with pytest.raises(InfeasibleScheduleError, match="max_order_size"):
        s.generate_trading_schedule(None, 40_000, 30, start=0)
    with pytest.raises(ConfigError, match="position_limit"):
        s.generate_trading_schedule(None, 60_000, 30, start=0)


def test_bad_input_errors() -> None:
    s = MyopicScheduler(PARAMS)
    for bad in (0, float("nan"), 10.5):
        with pytest.raises(ConfigError, match="total_quantity"):
            s.generate_trading_schedule(None, bad, 30, start=0)
    for bad_h in (0, -5, float("inf")):
        with pytest.raises(ConfigError, match="time_horizon"):
            s.generate_trading_schedule(None, 100, bad_h, start=0)
    with pytest.raises(ConfigError, match="start"):
        s.generate_trading_schedule(None, 100, 30)
    with pytest.raises(ConfigError, match="already over"):
        s.schedule(10 * NS, 10 * NS, 100)
    with pytest.raises(ConfigError, match="eval_every_s"):
        MyopicScheduler(PARAMS, eval_every_s=0.0)
    with pytest.raises(ConfigError, match="market_data"):
        MyopicScheduler(PARAMS, alpha=ConstDecayAlpha(1e-3, 60.0)).generate_trading_schedule(
            None, 100, 30, start=0
        )
    with pytest.raises(ConfigError, match="look-ahead"):
        MyopicScheduler(PARAMS, alpha=OracleAlpha())
    unsorted = pd.DataFrame({"ts_event": np.array([2, 1], dtype=np.int64), "mid_price": [1.0, 1.0]})
    with pytest.raises(DataValidationError, match="not sorted"):
        s.generate_trading_schedule(unsorted, 100, 30)


def test_nan_alpha_is_an_error(md: MarketData) -> None:
    class NaNAlpha(ConstDecayAlpha):
        def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
            s = np.linspace(0.0, (horizon_end_ns - t_ns) / NS, 5)
            a = np.full(5, np.nan)
            return AlphaCurve(t_ns, s, a)

    s = MyopicScheduler(PARAMS, alpha=NaNAlpha(0.0, 1.0))
    with pytest.raises(DataValidationError, match="non-finite"):
        s.generate_trading_schedule(None, 100, 10, start=md.first_ts, market_data=md)


def test_no_lookahead_data_after_t_is_irrelevant(md: MarketData) -> None:
    """Decision t only sees rows/events with ts_event ≤ t: truncating the data after t changes
    nothing up to t, and no view passed to the forecaster reaches past its decision time."""
    t0 = md.first_ts + 60 * NS
    df = pd.DataFrame(
        {
            "ts_event": np.arange(md.first_ts, md.last_ts, NS, dtype=np.int64),
            "mid_price": 100.0 + 0.01 * np.arange((md.last_ts - md.first_ts - 1) // NS + 1),
        }
    )
    f = LastTradeAlpha()
    s = MyopicScheduler(PARAMS, alpha=f, eval_every_s=60)
    full = s.generate_trading_schedule(df, 20_000, 10, start=t0, market_data=md)
    assert all(last <= t for t, last in f.seen)
    assert len({d["alpha"] for d in full}) > 3  # the alpha does depend on the data
    k = 4
    t_k = full[k]["ts_ns"]
    df_cut = df.copy()
    df_cut.loc[df_cut["ts_event"] > t_k, "mid_price"] = 1e6  # altered rows after t_k
    cut = s.generate_trading_schedule(
        df_cut, 20_000, 10, start=t0, market_data=md.between(None, t_k)
    )
    for a, b in zip(full[: k + 1], cut[: k + 1], strict=True):
        assert a["optimal_quantity"] == b["optimal_quantity"]
        assert a["alpha"] == b["alpha"]
        assert a["mid_price"] == b["mid_price"]
    assert full[k + 1]["mid_price"] != cut[k + 1]["mid_price"]


def test_positive_alpha_front_loads_buys(md: MarketData) -> None:
    x = 20_000
    zero = _q(
        MyopicScheduler(PARAMS, eval_every_s=60).generate_trading_schedule(
            None, x, 20, start=md.first_ts
        )
    )
    up = _q(
        MyopicScheduler(
            PARAMS, alpha=ConstDecayAlpha(2e-3, 300.0), eval_every_s=60
        ).generate_trading_schedule(None, x, 20, start=md.first_ts, market_data=md)
    )
    assert up.sum() == x
    assert np.cumsum(up)[:5].sum() > np.cumsum(zero)[:5].sum()


def test_pure_alpha_has_no_completion(md: MarketData) -> None:
    f = ConstDecayAlpha(2e-3, 300.0)
    s = MyopicScheduler(PARAMS, alpha=f, eval_every_s=60)
    dec = s.generate_trading_schedule(
        None, 1, 10, start=md.first_ts, market_data=md, pure_alpha=True
    )
    assert all(d["nu"] == 0.0 for d in dec)
    curve = f.predict(md, md.first_ts, md.first_ts + 600 * NS)
    times = np.arange(11) * 60.0
    q0 = optimal_schedule(times, None, PARAMS.to_impact_params(), curve(times), pure_alpha=True)
    assert dec[0]["planned_quantity"] == pytest.approx(q0[0])
    assert dec[0]["optimal_quantity"] == round(q0[0])
    assert _q(dec).sum() != 1  # ends with whatever inventory the alpha asks for


def test_spec_frame_mid_and_price_impact() -> None:
    ts = np.arange(0, 600 * NS, 10 * NS, dtype=np.int64)
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "ts_event": pd.to_datetime(ts, unit="ns", utc=True),
            "signed_volume": rng.integers(-500, 500, ts.shape[0]),
            "mid_price": 50.0 + np.arange(ts.shape[0]) * 0.01,
        }
    )
    s = MyopicScheduler(PARAMS, eval_every_s=60)
    dec = s.generate_trading_schedule(df, 1_000, 5)
    assert dec[0]["timestamp"] == df["ts_event"].iloc[0]
    assert dec[1]["mid_price"] == pytest.approx(50.0 + 6 * 0.01)
    imp = s.calculate_price_impact(df)
    pd.testing.assert_series_equal(imp, price_impact_series(df, PARAMS.to_impact_params()))


def test_risk_adjusted_schedule_truncates_at_budget() -> None:
    s = MyopicScheduler(PARAMS, eval_every_s=600)
    df = pd.DataFrame({"ts_event": np.array([0], dtype=np.int64), "mid_price": [10.0]})
    base = s.generate_trading_schedule(df, 50_000, 300)
    total = sum(calculate_decision_risk(d) for d in base)
    full = risk_adjusted_myopic_schedule(s, df, 50_000, total * 1.01)
    assert _q(full).tolist() == _q(base).tolist()
    limit = 0.3 * total
    part = risk_adjusted_myopic_schedule(s, df, 50_000, limit)
    assert len(part) < len(base)
    assert part[-1]["reason"] == "myopic:risk_scaled"
    assert abs(part[-1]["optimal_quantity"]) < abs(base[len(part) - 1]["optimal_quantity"])
    assert sum(calculate_decision_risk(d) for d in part[:-1]) <= limit
    assert base[len(part) - 1]["reason"] != "myopic:risk_scaled"  # the base is not mutated
    with pytest.raises(ConfigError, match="risk_limit"):
        risk_adjusted_myopic_schedule(s, df, 100, -1.0)


def test_spec_module_reexports() -> None:
    src = str(Path(__file__).resolve().parents[3] / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import myopic_sor_scheduler as spec

    assert spec.MyopicScheduler is MyopicScheduler
    assert spec.MyopicParameters is MyopicParameters
    assert spec.risk_adjusted_myopic_schedule is risk_adjusted_myopic_schedule
    assert sorted(spec.__all__) == spec.__all__
