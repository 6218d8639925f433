"""Execution metrics (MATH.md §8) on fills computed by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from myopic_sor.analysis import arrival_mid, execution_metrics, market_benchmarks
from myopic_sor.data import MarketData, VenueData


def _fills(
    rows: list[tuple[float, int, float, str]], catchup: list[bool] | None = None
) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["price", "size", "fee", "liquidity"])
    if catchup is not None:
        df["catchup"] = catchup
    return df


def test_buy_all_in_price_shortfall_and_shares() -> None:
    # 100 @ 10.00 taker (fee 0.30), 300 @ 9.99 maker (rebate 0.60): all-in (999 + 2997 + 0.3 -
    # 0.6) / 400
    f = _fills([(10.00, 100, 0.30, "taker"), (9.99, 300, -0.60, "maker")], [True, False])
    m = execution_metrics(f, side=1, quantity=500, arrival=9.995)
    all_in = (1000.0 + 2997.0 + 0.30 - 0.60) / 400
    assert m["avg_cost_per_share"] == pytest.approx(all_in)
    assert m["avg_price"] == pytest.approx(3997.0 / 400)
    assert m["total_size"] == 400
    assert m["fill_rate"] == pytest.approx(0.8)
    assert m["total_cost"] == pytest.approx(all_in * 400)
    assert m["implementation_shortfall_bps"] == pytest.approx((all_in - 9.995) / 9.995 * 1e4)
    assert m["cost_vs_arrival"] == pytest.approx(all_in - 9.995)
    assert m["fees"] == pytest.approx(0.30)
    assert m["rebates"] == pytest.approx(0.60)
    assert m["passive_share"] == pytest.approx(0.75)
    assert m["catchup_shares"] == 100


def test_sell_costs_are_signed_so_lower_is_better() -> None:
    # selling above arrival is a gain: negative shortfall; fees lower the net price received
    f = _fills([(10.02, 200, 0.60, "taker")])
    m = execution_metrics(f, side=-1, quantity=200, arrival=10.00)
    net = (2004.0 - 0.60) / 200
    assert m["avg_cost_per_share"] == pytest.approx(net)
    assert m["implementation_shortfall_bps"] == pytest.approx(-(net - 10.0) / 10.0 * 1e4)
    assert m["implementation_shortfall_bps"] < 0
    bench = execution_metrics(
        f, side=-1, quantity=200, arrival=10.0, benchmarks={"market_vwap": 10.01}
    )
    assert bench["slippage_vs_vwap_bps"] == pytest.approx(-(net - 10.01) / 10.01 * 1e4)


def test_no_fills_gives_zero_size_and_nan_prices() -> None:
    m = execution_metrics(_fills([]), side=1, quantity=100, arrival=10.0)
    assert m["total_size"] == 0
    assert m["fill_rate"] == 0.0
    assert math.isnan(m["avg_cost_per_share"])
    assert m["total_cost"] == 0.0


def _venue(
    name: str,
    ts: list[int],
    bid: list[float],
    ask: list[float],
    trades: list[tuple[int, float, int]],
) -> VenueData:
    rows = [(t, ord("A"), ord("B"), b, 100, b, a) for t, b, a in zip(ts, bid, ask, strict=True)]
    for t, p, s in trades:
        k = max(i for i, x in enumerate(ts) if x <= t)
        rows.append((t, ord("T"), ord("B"), p, s, bid[k], ask[k]))
    rows.sort(key=lambda r: r[0])
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    return VenueData(
        venue=name,
        symbol="TEST",
        columns={
            "ts_event": np.array(cols[0], dtype=np.int64),
            "ts_recv": np.array(cols[0], dtype=np.int64),
            "action": np.array(cols[1], dtype=np.uint8),
            "side": np.array(cols[2], dtype=np.uint8),
            "price": np.array(cols[3], dtype=np.float64),
            "size": np.array(cols[4], dtype=np.int64),
            "bid_px_00": np.array(cols[5], dtype=np.float64),
            "ask_px_00": np.array(cols[6], dtype=np.float64),
            "bid_sz_00": np.full(n, 100, dtype=np.int64),
            "ask_sz_00": np.full(n, 100, dtype=np.int64),
        },
    )


def test_arrival_and_market_benchmarks_on_a_hand_made_book() -> None:
    s = 1_000_000_000
    v = _venue(
        "XNAS",
        [0, 10 * s, 20 * s],
        [9.99, 10.00, 10.01],
        [10.01, 10.02, 10.03],
        [(5 * s, 10.01, 100), (15 * s, 10.02, 300)],
    )
    md = MarketData(symbol="TEST", date=dt.date(2025, 4, 2), venues={"XNAS": v})
    assert arrival_mid(md, 12 * s) == pytest.approx(10.01)
    bench = market_benchmarks(md, 0, 20 * s)
    assert bench["market_vwap"] == pytest.approx((10.01 * 100 + 10.02 * 300) / 400)
    assert bench["market_volume"] == 400
    # mid 10.00 on [0, 10 s), 10.01 on [10 s, 20 s): the time-weighted mean
    assert bench["market_twap"] == pytest.approx(10.005)
    assert np.isfinite(bench["market_twap"])


def test_path_metrics_by_hand() -> None:
    from myopic_sor.analysis import path_metrics

    s = 1_000_000_000
    # mid 10.00 until 30 s, then 10.10: a buy of 100 @ 10.00 at 0 s and 100 @ 10.05 at 60 s
    mid_ts = np.array([0, 30 * s], dtype=np.int64)
    mid = np.array([10.00, 10.10])
    fills = pd.DataFrame(
        {"ts_event": [0, 60 * s], "price": [10.00, 10.05], "size": [100, 100], "fee": [0.3, 0.3]}
    )
    m = path_metrics(
        fills,
        side=1,
        quantity=200,
        t0_ns=0,
        t_end_ns=120 * s,
        mid_ts_ns=mid_ts,
        mid=mid,
        markout_s=(1.0, 60.0),
        grid_s=60.0,
    )
    # 1 s after: mids 10.00 and 10.10 -> (0*100 + 0.05*100)/200
    assert m["markout_1s"] == pytest.approx(0.025)
    # 60 s after: 10.10 for both -> (0.10 + 0.05)/2
    assert m["markout_60s"] == pytest.approx(0.075)
    # grid 0, 60, 120 s: executed fractions 0.5, 1, 1 vs the line 0, 0.5, 1
    assert m["tracking_error_vs_twap"] == pytest.approx(np.sqrt((0.25 + 0.25 + 0) / 3))
    # P&L: 0 s: 100*(10.00-10.00)-0.3 = -0.3; 60 s: 100*0.10 + 100*0.05 - 0.6 = 14.4; same at 120
    assert m["max_drawdown"] == pytest.approx(0.0)
    inc = np.diff([-0.3, 14.4, 14.4])
    assert m["sharpe"] == pytest.approx(inc.mean() / inc.std())
    assert np.isnan(m["timing_quality"])  # two fills: too few for a correlation
