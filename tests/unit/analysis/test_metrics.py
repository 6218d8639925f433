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
