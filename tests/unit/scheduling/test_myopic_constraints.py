"""Unit tests of the myopic scheduler's risk constraints (participation, impact, position)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest

from myopic_sor.alpha import AlphaCurve, exp_decay_curve
from myopic_sor.config import RiskConfig
from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import ConfigError
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

NS = 1_000_000_000
PARAMS = MyopicParameters(lambda_value=0.5, beta=10.0, volatility=0.02, adv=1e6)
START = 3_600 * NS  # one hour of history before the parent starts


def _frame(rate_each: int = 5, mid: float = 100.0, horizon_min: float = 30.0) -> pd.DataFrame:
    """One row per second from t=0 to the end: bid_fill = ask_fill = rate_each shares."""
    n = int(START / NS + horizon_min * 60) + 1
    ts = np.arange(n, dtype=np.int64) * NS
    return pd.DataFrame(
        {
            "ts_event": ts,
            "mid_price": np.full(n, mid),
            "bid_fill": np.full(n, rate_each, dtype=np.int64),
            "ask_fill": np.full(n, rate_each, dtype=np.int64),
        }
    )


def _risk(**kw: Any) -> RiskConfig:
    base: dict[str, Any] = {
        "min_order_size": 1,
        "max_order_size": 100_000,
        "position_limit": 1_000_000,
        "participation_cap": 1.0,
        "max_impact_threshold": 1.0,
    }
    base.update(kw)
    return RiskConfig(**base)


def _q(dec: list[dict[str, Any]]) -> np.ndarray:
    return np.array([d["optimal_quantity"] for d in dec], dtype=np.int64)


@pytest.mark.parametrize("sign", [1, -1])
def test_participation_cap_binds_and_flattens(sign: int) -> None:
    df = _frame()  # 10 shares/s traded, 600 per 60 s slot, ρ = 0.1 -> 60 shares per slot
    x = 1_500 * sign  # 31 slots x 60 = 1860 >= 1500: feasible
    free = MyopicScheduler(PARAMS, risk=_risk(), eval_every_s=60)
    capped = MyopicScheduler(PARAMS, risk=_risk(participation_cap=0.1), eval_every_s=60)
    q_free = sign * _q(free.generate_trading_schedule(df, x, 30, start=START))
    dec = capped.generate_trading_schedule(df, x, 30, start=START)
    assert not any("participation_catchup" in d["binding"] for d in dec)
    q = sign * _q(dec)
    assert q.sum() == abs(x)
    assert q_free.max() > 60  # the OW blocks would exceed the cap
    assert np.all(q[:-1] <= 60)
    assert np.all(q >= 0)
    assert q.max() < q_free.max()
    assert q.std() < q_free.std()  # flatter
    assert any("participation" in d["binding"] for d in dec)
    assert all(isinstance(d["binding"], list) for d in dec)


def test_participation_not_binding_is_closed_form() -> None:
    df = _frame(rate_each=10_000)
    no_vol = df.drop(columns=["bid_fill", "ask_fill"])
    a = MyopicScheduler(PARAMS, risk=_risk(participation_cap=0.5), eval_every_s=60)
    b = MyopicScheduler(PARAMS, risk=_risk(), eval_every_s=60)
    d1 = a.generate_trading_schedule(df, 5_000, 30, start=START)
    d2 = b.generate_trading_schedule(no_vol, 5_000, 30, start=START)
    np.testing.assert_array_equal(_q(d1), _q(d2))
    np.testing.assert_allclose(
        [d["planned_quantity"] for d in d1], [d["planned_quantity"] for d in d2], rtol=1e-12
    )
    assert all("participation" not in d["binding"] for d in d1)


def test_participation_is_causal() -> None:
    df = _frame()
    s = MyopicScheduler(PARAMS, risk=_risk(participation_cap=0.1), eval_every_s=60)
    base = s.generate_trading_schedule(df, 1_500, 30, start=START)
    t_cut = base[10]["ts_ns"]
    later = df.copy()
    after = later["ts_event"] > t_cut
    later.loc[after, "bid_fill"] = 1_000  # much more volume after the decision time
    changed = s.generate_trading_schedule(later, 1_500, 30, start=START)
    for d_old, d_new in zip(base[:11], changed[:11], strict=True):
        assert d_old["optimal_quantity"] == d_new["optimal_quantity"]
        assert d_old["planned_quantity"] == d_new["planned_quantity"]
    assert _q(base[11:]).tolist() != _q(changed[11:]).tolist()  # it does matter later


def test_participation_infeasible_catches_up_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    df = _frame()
    # max_order_size 100 alone is feasible (31 x 100 >= 3000), with ρ it is not
    s = MyopicScheduler(
        PARAMS, risk=_risk(participation_cap=0.1, max_order_size=100), eval_every_s=60
    )
    with caplog.at_level(logging.WARNING):
        dec = s.generate_trading_schedule(df, 3_000, 30, start=START)
    q = _q(dec)
    assert q.sum() == 3_000
    assert np.all(q[:-1] <= 60)
    assert q[-1] > 60  # the documented catch-up
    assert "catch-up" in caplog.text
    assert dec[-1]["reason"] == "myopic:final"
    assert any("participation_catchup" in d["binding"] for d in dec[:-1])
    assert any(d["reason"] == "myopic:relaxed" for d in dec[:-1])


def test_max_impact_cap_binds_on_planned_path() -> None:
    params = MyopicParameters(lambda_value=500.0, beta=2.0, volatility=0.02, adv=1e6)
    df = _frame(rate_each=100_000)
    free = MyopicScheduler(params, risk=_risk(), eval_every_s=60)
    x = 20_000
    d_free = free.generate_trading_schedule(df, x, 30, start=START)
    lam_s = params.to_impact_params().lambda_per_share
    after = [(d["price_impact"] + lam_s * d["optimal_quantity"]) / d["mid_price"] for d in d_free]
    peak = max(after)  # the OW path peaks after the final block
    thr = 0.9 * peak
    capped = MyopicScheduler(params, risk=_risk(max_impact_threshold=thr), eval_every_s=60)
    dec = capped.generate_trading_schedule(df, x, 30, start=START)
    assert _q(dec).sum() == x
    assert any("max_impact" in d["binding"] for d in dec)
    for d in dec[:-1]:
        assert "linear_caps_relaxed" not in d["binding"]
        assert d["optimal_impact"] / d["mid_price"] <= thr * (1 + 1e-9)
    realised = [(d["price_impact"] + lam_s * d["optimal_quantity"]) / d["mid_price"] for d in dec]
    assert max(realised) <= thr * (1 + 1e-9) + lam_s / 100.0  # up to integer rounding
    # not binding: identical to the unconstrained run
    loose = MyopicScheduler(params, risk=_risk(max_impact_threshold=1.01 * 0.01), eval_every_s=60)
    if peak < 0.01:
        np.testing.assert_array_equal(
            _q(loose.generate_trading_schedule(df, x, 30, start=START)), _q(d_free)
        )


class _StrongAlpha:
    lookahead = False
    uses_latent_state = False

    def fit(self, md: MarketData, until_ns: int) -> Self:
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        return exp_decay_curve(t_ns, (horizon_end_ns - t_ns) / NS, 0.05, 300.0)


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=11, session_end=dt.time(9, 45))
    return data


def test_position_limit_with_round_trips(md: MarketData) -> None:
    t0 = md.first_ts
    x = 1_000
    free = MyopicScheduler(PARAMS, alpha=_StrongAlpha(), allow_round_trips=True, eval_every_s=60)
    d_free = free.generate_trading_schedule(None, x, 10, start=t0, market_data=md)
    peak = max(d["executed"] for d in d_free)
    assert peak > 1_500  # the alpha makes it overshoot and sell back
    limit = 1_200
    s = MyopicScheduler(
        PARAMS,
        risk=_risk(position_limit=limit, max_order_size=limit),
        alpha=_StrongAlpha(),
        allow_round_trips=True,
        eval_every_s=60,
    )
    dec = s.generate_trading_schedule(None, x, 10, start=t0, market_data=md)
    assert _q(dec).sum() == x
    assert max(abs(d["executed"]) for d in dec) <= limit
    assert any("position_limit" in d["binding"] for d in dec)


def test_no_round_trips_position_is_monotone() -> None:
    s = MyopicScheduler(
        PARAMS, risk=_risk(position_limit=5_000, max_order_size=5_000), eval_every_s=60
    )
    dec = s.generate_trading_schedule(_frame(), -5_000, 30, start=START)
    pos = np.array([d["executed"] for d in dec])
    assert np.all(np.diff(pos) <= 0)
    assert np.abs(pos).max() <= 5_000


def test_pure_alpha_respects_position_limit(md: MarketData) -> None:
    s = MyopicScheduler(
        PARAMS,
        risk=_risk(position_limit=1_200, max_order_size=1_200),
        alpha=_StrongAlpha(),
        eval_every_s=60,
    )
    dec = s.generate_trading_schedule(
        None, 1_000, 10, start=md.first_ts, market_data=md, pure_alpha=True
    )
    pos = np.array([d["executed"] for d in dec])
    assert np.abs(pos).max() <= 1_200
    assert np.abs(pos).max() == 1_200  # the strong alpha pushes it to the limit


def _ramp_frame(sign: int, jump_at_s: float, move: float) -> pd.DataFrame:
    """The _frame day with the mid jumping by ``move`` (fraction) ``jump_at_s`` after START."""
    df = _frame()
    t_s = df["ts_event"].to_numpy() / NS
    df["mid_price"] = np.where(t_s >= START / NS + jump_at_s, 100.0 * (1 + sign * move), 100.0)
    return df


@pytest.mark.parametrize("sign", [1, -1])
def test_stop_loss_halts_on_adverse_move(sign: int, caplog: pytest.LogCaptureFixture) -> None:
    # the mid moves 6 % against the parent 10 minutes in; the threshold is 5 %
    df = _ramp_frame(sign, 600.0, 0.06)
    s = MyopicScheduler(PARAMS, risk=_risk(stop_loss_threshold=0.05), eval_every_s=60)
    with caplog.at_level(logging.WARNING, logger="myopic_sor"):
        dec = s.generate_trading_schedule(df, 3_000 * sign, 30, start=START)
    k = next(i for i, d in enumerate(dec) if d["stopped"])
    assert dec[k]["ts_ns"] == START + 600 * NS  # first decision that sees the move
    assert all(d["optimal_quantity"] == 0 for d in dec[k:])
    assert all(d["reason"] == "myopic:stop_loss" and d["binding"] == ["stop_loss"] for d in dec[k:])
    executed = dec[-1]["executed"]
    assert 0 < sign * executed < 3_000  # traded before the stop, never completed
    assert dec[-1]["remaining"] == 3_000 * sign - executed
    assert "stop_loss_threshold" in caplog.text
    res = s.schedule(START, START + 30 * 60 * NS, 3_000 * sign, data=df)
    assert res.info == {"stopped": 1.0, "unexecuted": float(3_000 * sign - executed)}
    assert int(res.quantities.sum()) == executed


def test_stop_loss_ignores_favourable_moves() -> None:
    # a 6 % move in the parent's favour (down for a buy) does not stop it
    df = _ramp_frame(-1, 600.0, 0.06)
    s = MyopicScheduler(PARAMS, risk=_risk(stop_loss_threshold=0.05), eval_every_s=60)
    dec = s.generate_trading_schedule(df, 3_000, 30, start=START)
    assert not any(d["stopped"] for d in dec)
    assert _q(dec).sum() == 3_000
    assert s.schedule(START, START + 30 * 60 * NS, 3_000, data=df).info == {}


def test_pure_alpha_children_respect_participation_and_impact_caps(md: MarketData) -> None:
    # the strong alpha wants large children; the caps must clip every one of them
    t0 = md.first_ts
    free = MyopicScheduler(PARAMS, risk=_risk(), alpha=_StrongAlpha(), eval_every_s=60)
    df = _frame(rate_each=1, horizon_min=60)  # 2 shares/s -> 120 per 60 s slot at ρ = 1
    df["ts_event"] = df["ts_event"] + (t0 - START)
    d_free = free.generate_trading_schedule(
        df, 1_000, 10, start=t0, market_data=md, pure_alpha=True
    )
    assert max(abs(d["optimal_quantity"]) for d in d_free) > 60
    capped = MyopicScheduler(
        PARAMS, risk=_risk(participation_cap=0.5), alpha=_StrongAlpha(), eval_every_s=60
    )
    dec = capped.generate_trading_schedule(df, 1_000, 10, start=t0, market_data=md, pure_alpha=True)
    assert all(abs(d["optimal_quantity"]) <= 60 for d in dec)  # 0.5 x 2 sh/s x 60 s
    assert any("participation" in d["binding"] for d in dec)
    lam_s = PARAMS.to_impact_params().lambda_per_share
    thr = 0.5 * max(
        abs(d["price_impact"] + lam_s * d["optimal_quantity"]) / d["mid_price"] for d in d_free
    )
    imp = MyopicScheduler(
        PARAMS, risk=_risk(max_impact_threshold=thr), alpha=_StrongAlpha(), eval_every_s=60
    )
    dec = imp.generate_trading_schedule(df, 1_000, 10, start=t0, market_data=md, pure_alpha=True)
    assert any("max_impact" in d["binding"] for d in dec)
    for d in dec:
        after = abs(d["price_impact"] + lam_s * d["optimal_quantity"]) / d["mid_price"]
        assert after <= thr + lam_s / 100.0  # up to integer rounding


def test_run_stepped_on_causal_views_equals_the_batch_schedule() -> None:
    df = _ramp_frame(1, 900.0, 0.002)
    s = MyopicScheduler(PARAMS, risk=_risk(participation_cap=0.2), eval_every_s=60)
    batch = s.generate_trading_schedule(df, 2_000, 30, start=START)
    run = s.start(START, START + 30 * 60 * NS, 2_000)
    stepped = []
    for t in run.times_ns:
        # only the rows up to t exist; the future is garbage that must never be read
        view = df.copy()
        late = view["ts_event"] > t
        view.loc[late, "mid_price"] = 1e9
        view.loc[late, "bid_fill"] = 10**9
        stepped.append(run.step(int(t), frame=view))
    assert run.done
    assert [d["optimal_quantity"] for d in stepped] == [d["optimal_quantity"] for d in batch]
    assert [d["binding"] for d in stepped] == [d["binding"] for d in batch]


def test_run_rejects_out_of_order_steps() -> None:
    s = MyopicScheduler(PARAMS, eval_every_s=60)
    run = s.start(START, START + 5 * 60 * NS, 100)
    with pytest.raises(ConfigError, match="out of order"):
        run.step(int(run.times_ns[1]))
    for t in run.times_ns:
        run.step(int(t))
    with pytest.raises(ConfigError, match="run is over"):
        run.step(int(run.times_ns[-1]))
