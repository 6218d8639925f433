"""The spec's SOR facade (execute_optimization) and MyopicScheduler.integrate_with_sor."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import ConfigError
from myopic_sor.features import spec_frame
from myopic_sor.routing import execute_optimization, market_data_from_frames
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

NS = 1_000_000_000
SP = {"T": 2, "f": 0.003, "r": [0.002], "lambda_u": 0.05, "lambda_o": 0.05, "N": 300}


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=9, session_end=dt.time(10, 0))
    return data


def test_frames_round_trip_to_market_data(md: MarketData) -> None:
    dfs = {v.venue: v.to_pandas() for v in md}
    back = market_data_from_frames(dfs)
    assert back.venue_names == md.venue_names
    for v in md:
        np.testing.assert_array_equal(back[v.venue].ts_event, v.ts_event)
        np.testing.assert_array_equal(back[v.venue]["action"], v["action"])
        np.testing.assert_array_equal(back[v.venue]["bid_sz_03"], v["bid_sz_03"])


def test_execute_optimization_on_frames_equals_market_data(md: MarketData) -> None:
    t = md.first_ts + 20 * 60 * NS
    dfs = {v.venue: v.to_pandas() for v in md}
    a, cost = execute_optimization(dfs, t, S=400, seed=3, **SP)
    b, _ = execute_optimization(md, pd.Timestamp(t, tz="UTC"), S=400, seed=3, **SP)
    assert a.as_dict() == b.as_dict()
    assert cost == a.expected_cost
    assert a.total >= 400
    assert a.venues == md.venue_names


def test_execute_optimization_bad_arguments(md: MarketData) -> None:
    t = md.first_ts + 20 * 60 * NS
    with pytest.raises(ConfigError, match="side"):
        execute_optimization(md, t, S=100, side="hold")
    with pytest.raises(ConfigError, match="method"):
        execute_optimization(md, t, S=100, method="genetic")


def test_integrate_with_sor_routes_every_child(md: MarketData) -> None:
    params = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=1e6)
    sched = MyopicScheduler(params, eval_every_s=120)
    df = spec_frame(md, volatility=0.01, adv=1e6)
    start = md.first_ts + 15 * 60 * NS
    decisions = sched.generate_trading_schedule(df, 1500, 10, start=start)
    dfs = {v.venue: v.to_pandas() for v in md}
    plan = sched.integrate_with_sor(dfs, decisions, {**SP, "S": 999, "seed": 1})
    assert len(plan) == len(decisions)
    for d in plan:
        q = d["optimal_quantity"]
        placed = d["market_quantity"] + sum(d["limit_quantities"].values())
        assert placed >= abs(q)
        if q:
            assert d["side"] == "buy"
            assert d["sor_method"] == "sa"
            assert set(d["limit_quantities"]) <= set(md.venue_names)
