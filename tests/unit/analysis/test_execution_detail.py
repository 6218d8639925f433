"""Execution detail metrics (child orders, modelled/realised impact, decision efficiency, cost
volatility) on tiny hand-built fills, every figure computed by hand; plus one real engine run."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from myopic_sor.analysis._execution_detail import (
    child_order_metrics,
    child_summary,
    cost_volatility,
    decision_efficiency,
    detail_metrics,
    modelled_impact,
    modelled_impact_path,
    realised_impact,
)
from myopic_sor.exceptions import DataValidationError
from myopic_sor.impact import ImpactParams

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
# λ_s = λ σ / ADV = 100 · 0.02 / 1e6 = 2e-6 currency per share per share
PARAMS = ImpactParams(lambda_=100.0, beta_per_s=0.01, sigma_daily=0.02, adv=1e6)
LAM_S = 2e-6


def _fills(rows: list[tuple[float, float, int, str, int, bool]]) -> pd.DataFrame:
    """Rows of (seconds after T0, price, size, liquidity, child, horizon_market)."""
    df = pd.DataFrame(
        rows, columns=["t_s", "price", "size", "liquidity", "child", "horizon_market"]
    )
    df["ts_event"] = T0 + (df["t_s"] * NS).round().astype(np.int64)
    df["fee"] = 0.0
    return df.drop(columns="t_s")


def _decisions() -> list[dict[str, Any]]:
    return [
        # child 0: two limit orders of 100 posted at 0 s
        {"ts_ns": T0, "quantity": 200, "routed": 200, "market": 0, "limit": [100, 100]},
        # an evaluation that sent nothing: no child row
        {"ts_ns": T0 + 10 * NS, "quantity": 0},
        # child 2: 100 at market, 200 posted at 20 s
        {"ts_ns": T0 + 20 * NS, "quantity": 300, "routed": 300, "market": 100, "limit": [200, 0]},
    ]


FILLS = _fills(
    [
        (3.0, 10.00, 100, "maker", 0, False),
        (7.0, 10.00, 100, "maker", 0, False),
        (20.0, 10.02, 100, "taker", 2, False),
        (24.0, 10.01, 50, "maker", 2, False),
        (50.0, 10.03, 150, "taker", 2, True),  # child 2's shortfall at its 30 s horizon
        (60.0, 10.05, 50, "taker", -1, False),  # end-of-window catch-up: no child
    ]
)
# mid 10.00 from -1 s, 10.01 from 5 s (one-sided at 6 s), 10.02 from 21 s, 10.00 from 55 s
MID_TS = T0 + np.array([-1, 5, 6, 21, 55], dtype=np.int64) * NS
MID = np.array([10.00, 10.01, np.nan, 10.02, 10.00])


def _children(side: int = 1) -> pd.DataFrame:
    return child_order_metrics(
        FILLS,
        _decisions(),
        side=side,
        mid_ts_ns=MID_TS,
        mid=MID,
        horizons_s=(1, 10),
        horizon_s=30.0,
        t_end_ns=T0 + 60 * NS,
    )


def test_child_rows_split_fill_ratio_and_queue_time() -> None:
    c = _children().set_index("child")
    assert list(c.index) == [0, 2]  # the evaluation that sent nothing has no row
    a, b = c.loc[0], c.loc[2]
    assert (a["routed"], a["market"], a["limit"]) == (200, 0, 200)
    assert (b["routed"], b["market"], b["limit"]) == (300, 100, 200)
    assert (a["filled"], a["filled_passive"], a["filled_aggressive"]) == (200, 200, 0)
    assert (b["filled"], b["filled_passive"], b["filled_aggressive"]) == (300, 50, 250)
    assert b["filled_horizon_market"] == 150
    assert a["fill_ratio"] == pytest.approx(1.0)
    assert b["fill_ratio"] == pytest.approx(50 / 200)
    # posted at 0 s, filled at 3 s and 7 s, 100 shares each: 5 s share-weighted, 7 s max
    assert a["time_in_queue_mean_s"] == pytest.approx(5.0)
    assert a["time_in_queue_max_s"] == pytest.approx(7.0)
    assert b["time_in_queue_mean_s"] == pytest.approx(4.0)
    assert b["time_in_queue_max_s"] == pytest.approx(4.0)
    # all posted shares: 50 filled after 4 s, 150 rested to the 30 s horizon
    assert a["time_resting_mean_s"] == pytest.approx(5.0)
    assert b["time_resting_mean_s"] == pytest.approx((50 * 4 + 150 * 30) / 200)
    assert b["avg_price"] == pytest.approx((10.02 * 100 + 10.01 * 50 + 10.03 * 150) / 300)


def test_child_markouts_are_side_signed_mid_moves() -> None:
    c = _children().set_index("child")
    # child 0: fills at 3 s (mid 10.00) and 7 s (mid 10.01, the NaN at 6 s skipped)
    assert c.loc[0, "markout_1s"] == pytest.approx(0.0, abs=1e-12)
    # +10 s: mid(13 s) − mid(3 s) = 0.01, mid(17 s) − mid(7 s) = 0
    assert c.loc[0, "markout_10s"] == pytest.approx(0.01 * 100 / 200)
    # child 2: 100 at 20 s (10.01 → 10.02 at 30 s), 50 at 24 s (10.02 → 10.02), 150 at 50 s
    # (10.02 → 10.00 at 60 s)
    assert c.loc[2, "markout_10s"] == pytest.approx((0.01 * 100 - 0.02 * 150) / 300)
    sell = _children(side=-1).set_index("child")
    assert sell.loc[0, "markout_10s"] == pytest.approx(-0.005)


def test_child_summary_by_hand() -> None:
    s = child_summary(_children())
    assert s["mean_fill_ratio"] == pytest.approx((1.0 + 0.25) / 2)
    assert s["fill_ratio"] == pytest.approx((200 + 50) / 400)
    # every passive fill: 100 after 3 s, 100 after 7 s, 50 after 4 s
    assert s["mean_time_in_queue_s"] == pytest.approx((300 + 700 + 200) / 250)
    assert s["max_time_in_queue_s"] == pytest.approx(7.0)
    assert s["mean_time_resting_s"] == pytest.approx((5.0 * 200 + 23.5 * 200) / 400)


def test_without_horizon_resting_time_is_nan_and_no_children_give_nan() -> None:
    c = child_order_metrics(FILLS, _decisions(), side=1, mid_ts_ns=MID_TS, mid=MID)
    assert c["time_resting_mean_s"].isna().all()
    assert list(c.columns[-3:]) == ["markout_1s", "markout_10s", "markout_60s"]
    empty = child_order_metrics(
        FILLS.iloc[:0], [{"ts_ns": T0, "quantity": 0}], side=1, mid_ts_ns=MID_TS, mid=MID
    )
    assert empty.empty
    assert all(math.isnan(v) for v in child_summary(empty).values())


def test_child_metrics_errors_name_the_problem() -> None:
    with pytest.raises(DataValidationError, match="child"):
        child_order_metrics(
            FILLS.drop(columns="child"), _decisions(), side=1, mid_ts_ns=MID_TS, mid=MID
        )
    with pytest.raises(DataValidationError, match="row 2 has child=2"):
        child_order_metrics(FILLS, _decisions()[:2], side=1, mid_ts_ns=MID_TS, mid=MID)
    with pytest.raises(ValueError, match="side"):
        child_order_metrics(FILLS, _decisions(), side=0, mid_ts_ns=MID_TS, mid=MID)


@pytest.mark.parametrize("side", [1, -1])
def test_modelled_cost_of_one_trade_is_half_lambda_q_squared(side: int) -> None:
    f = _fills([(0.0, 10.0, 1000, "taker", 0, False)])
    m = modelled_impact(f, PARAMS, side=side, arrival=10.0, t_end_ns=T0 + 100 * NS)
    assert m["modelled_impact_cost"] == pytest.approx(LAM_S * 1000**2 / 2)  # 1.0 currency
    assert m["modelled_impact_cost_bps"] == pytest.approx(1.0 / (10.0 * 1000) * 1e4)
    assert m["modelled_impact_peak"] == pytest.approx(LAM_S * 1000)
    assert m["modelled_impact_end"] == pytest.approx(LAM_S * 1000 * math.exp(-1.0))


def test_modelled_cost_of_two_trades_pays_the_decayed_first() -> None:
    # 1000 at 0 s and 500 at 50 s (given out of time order): the second pays e^{-β 50} of the
    # first's impact plus its own half; two fills at one instant are one trade
    f = _fills([(50.0, 10.0, 500, "maker", 1, False), (0.0, 10.0, 1000, "taker", 0, False)])
    m = modelled_impact(f, PARAMS, side=1, arrival=10.0, t_end_ns=T0 + 50 * NS)
    a = math.exp(-0.01 * 50)
    cost = LAM_S * 1000**2 / 2 + 500 * (LAM_S * 1000 * a + LAM_S * 500 / 2)
    assert m["modelled_impact_cost"] == pytest.approx(cost)
    assert m["modelled_impact_end"] == pytest.approx(LAM_S * (1000 * a + 500))
    split = _fills([(0.0, 10.0, 600, "taker", 0, False), (0.0, 10.0, 400, "taker", 0, False)])
    one = modelled_impact(split, PARAMS, side=1, arrival=10.0, t_end_ns=T0)
    assert one["modelled_impact_cost"] == pytest.approx(LAM_S * 1000**2 / 2)
    none = modelled_impact(f.iloc[:0], PARAMS, side=1, arrival=10.0, t_end_ns=T0)
    assert none["modelled_impact_cost"] == 0.0


def test_modelled_impact_path_decays_after_each_fill() -> None:
    f = _fills([(10.0, 10.0, 1000, "taker", 0, False)])
    at = T0 + np.array([110, 0, 10], dtype=np.int64) * NS  # any order; at the fill: after it
    path = modelled_impact_path(f, PARAMS, side=-1, times_ns=at)
    np.testing.assert_allclose(path, [-LAM_S * 1000 * math.exp(-1.0), 0.0, -LAM_S * 1000])


def test_realised_impact_is_the_signed_mid_move_from_arrival() -> None:
    ts = T0 + np.array([0, 30, 100], dtype=np.int64) * NS
    mid = np.array([10.00, 10.02, 10.05])
    f = _fills([(20.0, 10.0, 100, "taker", 0, False)])
    kw: dict[str, Any] = {"arrival": 10.0, "t_end_ns": T0 + 120 * NS, "mid_ts_ns": ts, "mid": mid}
    buy = realised_impact(f, side=1, post_s=10.0, **kw)
    assert buy["realised_impact_bps"] == pytest.approx(50.0)  # 10.05 at the end
    assert buy["realised_impact_post_bps"] == pytest.approx(20.0)  # 10.02 at 20 + 10 s
    sell = realised_impact(f, side=-1, post_s=10.0, **kw)
    assert sell["realised_impact_bps"] == pytest.approx(-50.0)
    assert math.isnan(realised_impact(f.iloc[:0], side=1, **kw)["realised_impact_post_bps"])


def test_decision_efficiency_by_hand() -> None:
    decisions = [
        {"quantity": 100, "planned_quantity": 100.4},
        {"quantity": 0, "planned_quantity": 0.3},
        {"quantity": 0, "planned_quantity": 20.0},  # below min_order_size: not sent
        {"quantity": 50, "planned_quantity": 50.0},
    ]
    d = decision_efficiency(decisions, quantity=150)
    assert (d["num_evaluations"], d["num_children"]) == (4, 2)
    assert d["decision_efficiency"] == pytest.approx(0.5)
    assert d["children_per_1000_shares"] == pytest.approx(1000 * 2 / 150)
    assert d["schedule_deviation"] == pytest.approx((0.4 + 0.3 + 20.0) / 170.7)
    plain = decision_efficiency([{"quantity": -30}, {"quantity": -30}], quantity=60)
    assert plain["decision_efficiency"] == 1.0
    assert math.isnan(plain["schedule_deviation"])
    assert math.isnan(decision_efficiency([], quantity=60)["decision_efficiency"])


def test_cost_volatility_of_known_numbers() -> None:
    runs: list[dict[str, Any]] = [
        {"implementation_shortfall_bps": 1.0, "cost_vs_arrival": 0.01, "avg_cost_per_share": 10.0},
        {"implementation_shortfall_bps": 2.0, "cost_vs_arrival": 0.03, "avg_cost_per_share": 12.0},
        {"implementation_shortfall_bps": 3.0},
        {"implementation_shortfall_bps": 4.0},
        {"implementation_shortfall_bps": float("nan"), "cost_vs_arrival": None},
    ]
    v = cost_volatility(runs)
    assert v["n_runs"] == 4
    assert v["cost_volatility"] == pytest.approx(math.sqrt(5.0 / 3.0))  # 1, 2, 3, 4 (ddof=1)
    assert v["cost_volatility_bps"] == v["cost_volatility"]
    assert v["cost_volatility_per_share"] == pytest.approx(0.02 / math.sqrt(2.0))
    assert v["avg_cost_per_share_std"] == pytest.approx(math.sqrt(2.0))
    one = cost_volatility(iter(runs[:1]))
    assert one["n_runs"] == 1
    assert math.isnan(one["cost_volatility"])


def test_detail_metrics_is_the_flat_union_of_the_parts() -> None:
    kw: dict[str, Any] = {
        "side": 1,
        "quantity": 550,
        "arrival": 10.0,
        "t_end_ns": T0 + 60 * NS,
        "mid_ts_ns": MID_TS,
        "mid": MID,
    }
    out = detail_metrics(FILLS, _decisions(), impact=PARAMS, horizon_s=30.0, **kw)
    assert out["mean_fill_ratio"] == pytest.approx(0.625)
    assert out["mean_time_in_queue_s"] == pytest.approx(4.8)
    assert out["decision_efficiency"] == pytest.approx(2 / 3)
    mod = modelled_impact(FILLS, PARAMS, side=1, arrival=10.0, t_end_ns=T0 + 60 * NS)
    assert out["modelled_impact_cost_bps"] == pytest.approx(mod["modelled_impact_cost_bps"])
    assert out["realised_impact_bps"] == pytest.approx(0.0, abs=1e-9)  # 10.00 at 60 s
    assert all(isinstance(v, int | float) for v in out.values())
    bare = detail_metrics(FILLS, _decisions(), **kw)
    assert math.isnan(bare["modelled_impact_cost"])
    assert math.isnan(bare["mean_time_resting_s"])
    assert set(bare) == set(out)


# -- one real, small engine run ---------------------------------------------------------------
@pytest.fixture(scope="module")
def engine_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    from myopic_sor.backtest import Backtester, MyopicStrategy, ParentOrder
    from myopic_sor.config import load_config
    from myopic_sor.data import SyntheticConfig, SyntheticMarket, load_market_data
    from myopic_sor.features import consolidated_book
    from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

    root = tmp_path_factory.mktemp("detail")
    market = SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 45)), seed=3)
    market.generate()
    market.write(root)
    md = load_market_data(root / "AAPL")
    t0, t1 = md.session_bounds_ns(dt.time(9, 36), dt.time(9, 41))
    cfg = load_config(
        overrides=[
            "execution.order_freq=60",
            "execution.lookup_duration=[0, 3]",
            "strategy.T=0.5",
            "strategy.N=200",
        ]
    )
    params = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=1e6)
    sched = MyopicScheduler(params, risk=cfg.risk, eval_every_s=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the forecaster's early fallbacks
        res = Backtester(md, cfg, seed=1).run(
            ParentOrder("AAPL", -1, 2000, t0, t1), MyopicStrategy(sched)
        )
    return res, consolidated_book(md), params.to_impact_params()


def test_real_run_figures_are_finite_and_consistent(engine_run: tuple[Any, Any, Any]) -> None:
    res, book, ip = engine_run
    p = res.parent
    mid = 0.5 * (book.best_bid + book.best_ask)
    horizon = res.info["router_horizon_s"]
    c = child_order_metrics(
        res.fills,
        res.decisions,
        side=p.side,
        mid_ts_ns=book.events.ts_event,
        mid=mid,
        horizon_s=horizon,
        t_end_ns=p.end_ns,
    )
    assert len(c) >= 2
    assert ((c["fill_ratio"] >= 0) & (c["fill_ratio"] <= 1)).all()
    assert (c["filled_passive"] + c["filled_aggressive"] == c["filled"]).all()
    assert (c["filled_passive"] <= c["limit"]).all()
    catchup = int(res.fills.loc[res.fills["child"] < 0, "size"].sum())
    assert int(c["filled"].sum()) + catchup == res.metrics["total_size"]
    assert (c.loc[c["filled_passive"] > 0, "time_in_queue_max_s"] <= horizon).all()
    p0 = res.metrics["arrival_price"]  # the engine's arrival_mid
    out = detail_metrics(
        res.fills,
        res.decisions,
        side=p.side,
        quantity=p.quantity,
        arrival=p0,
        t_end_ns=p.end_ns,
        mid_ts_ns=book.events.ts_event,
        mid=mid,
        impact=ip,
        horizon_s=horizon,
    )
    assert all(math.isfinite(v) for v in out.values()), out
    assert 0.0 <= out["mean_fill_ratio"] <= 1.0
    assert 0.0 < out["decision_efficiency"] <= 1.0
    assert out["num_children"] == res.metrics["num_decisions"]
    assert out["modelled_impact_cost"] > 0.0
    assert 0.0 <= out["mean_time_in_queue_s"] <= out["max_time_in_queue_s"] <= horizon
