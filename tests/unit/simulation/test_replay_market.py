"""Market orders of the replay exchange on hand-made books (every fill computed by hand)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from _books import S, book, market, one_venue, row

from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import (
    FILL_DTYPE,
    ConstantLatency,
    PerVenueLatency,
    ReplayExchange,
    Side,
)


def test_market_buy_walks_three_levels_at_their_vwap() -> None:
    ex = ReplayExchange(one_venue([row(0.0), row(5.0)]), fees=0.003, rebates=0.002)
    oid = ex.submit_market(1 * S, "XNAS", "buy", 1000)
    f = ex.fills_frame()
    assert f["price"].tolist() == [10.01, 10.02, 10.03]
    assert f["size"].tolist() == [200, 400, 400]
    assert (f["liquidity"] == "taker").all()
    assert (f["side"] == "buy").all()
    assert f["ts_event"].tolist() == [1 * S] * 3
    assert f["order_id"].tolist() == [oid] * 3
    vwap = (f["price"] * f["size"]).sum() / 1000
    assert vwap == pytest.approx((200 * 10.01 + 400 * 10.02 + 400 * 10.03) / 1000)  # 10.022
    st = ex.order_status(oid)
    assert (st.status, st.filled, st.leaves) == ("filled", 1000, 0)
    assert st.avg_price == pytest.approx(10.022)
    assert f["fee"].tolist() == pytest.approx([0.6, 1.2, 1.2])  # + paid: 0.003 x shares


def test_market_sell_walks_the_bids() -> None:
    ex = ReplayExchange(one_venue([row(0.0)]))
    ex.submit_market(1 * S, 0, Side.SELL, 850)
    f = ex.fills_frame()
    assert f["price"].tolist() == [9.99, 9.98, 9.97]
    assert f["size"].tolist() == [300, 500, 50]
    assert (f["side"] == "sell").all()
    assert ex.fills.dtype == FILL_DTYPE
    assert ex.fills["side"].tolist() == [-1, -1, -1]


def test_depth_exhausted_is_an_error_naming_venue_time_and_size() -> None:
    ex = ReplayExchange(one_venue([row(0.0)]))
    with pytest.raises(ExecutionError) as info:
        ex.submit_market(1 * S, "XNAS", "buy", 1500)
    msg = str(info.value)
    assert "XNAS" in msg
    assert "1500" in msg
    assert "only 1200 displayed" in msg
    assert "1970-01-01T00:00:01" in msg
    assert len(ex.fills) == 0  # never a partial silent fill
    assert ex.open_orders() == []


def test_depth_exhausted_with_penalty_fills_the_rest_at_the_penalty_price(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ex = ReplayExchange(one_venue([row(0.0)]), depth_policy=("penalty", 0.05))
    with caplog.at_level(logging.WARNING):
        ex.submit_market(1 * S, "XNAS", "buy", 1500)
    f = ex.fills_frame()
    assert f["size"].tolist() == [200, 400, 600, 300]
    assert f["price"].tolist() == pytest.approx([10.01, 10.02, 10.03, 10.08])
    assert f["penalty"].tolist() == [False, False, False, True]
    assert "penalty" in caplog.text
    # a sell: the rest at the deepest bid minus the penalty
    ex = ReplayExchange(one_venue([row(0.0)]), depth_policy="penalty:0.05")
    ex.submit_market(1 * S, "XNAS", "sell", 2000)
    f = ex.fills_frame()
    assert f["size"].tolist() == [300, 500, 700, 500]
    assert f["price"].iloc[-1] == pytest.approx(9.92)


def test_same_instant_market_orders_share_the_displayed_depth() -> None:
    # rows at 0 s and 5 s: the orders at 1 s and 2 s both see the 0 s book
    ex = ReplayExchange(one_venue([row(0.0), row(5.0)]))
    ex.submit_market(1 * S, "XNAS", "buy", 150)
    ex.submit_market(2 * S, "XNAS", "buy", 100)  # 50 left at 10.01, then 10.02
    f = ex.fills_frame()
    assert f["price"].tolist() == [10.01, 10.01, 10.02]
    assert f["size"].tolist() == [150, 50, 50]


def test_our_consumption_lasts_until_the_level_size_changes() -> None:
    rows = [
        row(0.0),
        row(2.0, bid_sz=[250, 500, 700]),  # the bids change, the asks do not
        row(4.0, ask_sz=[260, 400, 600]),  # 10.01 changes size: the data no longer include us
    ]
    ex = ReplayExchange(one_venue(rows))
    ex.submit_market(1 * S, "XNAS", "buy", 150)
    ex.submit_market(3 * S, "XNAS", "buy", 100)  # still 50 left at 10.01 (size unchanged)
    ex.submit_market(5 * S, "XNAS", "buy", 100)  # fresh 260 at 10.01
    f = ex.fills_frame()
    assert f["price"].tolist() == [10.01, 10.01, 10.02, 10.01]
    assert f["size"].tolist() == [150, 50, 50, 100]


def test_exhausting_after_our_own_takes_is_an_error() -> None:
    ex = ReplayExchange(one_venue([row(0.0)]))
    ex.submit_market(1 * S, "XNAS", "buy", 1000)
    with pytest.raises(ExecutionError, match="only 200 displayed"):
        ex.submit_market(1 * S, "XNAS", "buy", 300)


def test_latency_shifts_the_book_an_order_sees() -> None:
    rows = [row(0.0), row(1.5, ask_px=[10.05, 10.06, 10.07])]
    fast = ReplayExchange(one_venue(rows))
    fast.submit_market(1 * S, "XNAS", "buy", 100)
    slow = ReplayExchange(one_venue(rows), latency=ConstantLatency(1 * S))
    oid = slow.submit_market(1 * S, "XNAS", "buy", 100)
    assert fast.fills_frame()["price"].tolist() == [10.01]
    assert slow.fills_frame()["price"].tolist() == [10.05]
    assert slow.fills_frame()["ts_event"].tolist() == [2 * S]  # acts at t + latency
    st = slow.order_status(oid)
    assert (st.ts_sent, st.ts_effective) == (1 * S, 2 * S)
    # an int latency is a constant entry latency in ns: 0.4 s still sees the old book
    mid = ReplayExchange(one_venue(rows), latency=400_000_000)
    mid.submit_market(1 * S, "XNAS", "buy", 100)
    assert mid.fills_frame()["price"].tolist() == [10.01]


def test_per_venue_latency() -> None:
    rows = [row(0.0), row(1.5, ask_px=[10.05, 10.06, 10.07])]
    md = market(book(rows, "XNAS"), book(rows, "BATS"))
    lat = PerVenueLatency({"XNAS": 0, "BATS": 1 * S})
    ex = ReplayExchange(md, latency=lat)
    ex.submit_market(1 * S, "XNAS", "buy", 100)
    ex.submit_market(1 * S, "BATS", "buy", 100)
    f = ex.fills_frame()  # time order: XNAS at 1 s, BATS at 2 s
    assert f["venue"].tolist() == ["XNAS", "BATS"]
    assert f["price"].tolist() == [10.01, 10.05]


def test_fee_signs_per_venue() -> None:
    md = market(book([row(0.0)], "XNAS"), book([row(0.0)], "BATS"))
    ex = ReplayExchange(md, fees={"XNAS": 0.003, "BATS": 0.001}, rebates=[0.002, 0.0025])
    ex.submit_market(1 * S, "XNAS", "buy", 100)
    ex.submit_market(1 * S, "BATS", "sell", 100)
    f = ex.fills_frame()
    assert dict(zip(f["venue"], f["fee"], strict=True)) == pytest.approx({"XNAS": 0.3, "BATS": 0.1})
    with pytest.raises(ConfigError, match="no value for venue"):
        ReplayExchange(md, fees={"XNAS": 0.003})
    with pytest.raises(ConfigError, match="2 venues"):
        ReplayExchange(md, fees=[0.003])


def test_impact_overlay_shifts_every_price_we_trade_at() -> None:
    md = one_venue([row(0.0)])
    buy = ReplayExchange(md, impact_overlay=lambda t: 0.02)
    buy.submit_market(1 * S, "XNAS", "buy", 300)
    assert buy.fills_frame()["price"].tolist() == pytest.approx([10.03, 10.04])  # pays p + I
    sell = ReplayExchange(md, impact_overlay=lambda t: -0.02)  # after our own sales
    sell.submit_market(1 * S, "XNAS", "sell", 100)
    assert sell.fills_frame()["price"].tolist() == pytest.approx([9.97])  # receives p + I
    with pytest.raises(ConfigError, match="finite"):
        ReplayExchange(md, impact_overlay=lambda t: float("nan")).submit_market(
            1 * S, "XNAS", "buy", 1
        )


def test_no_book_yet_and_bad_arguments() -> None:
    ex = ReplayExchange(one_venue([row(5.0)]))
    with pytest.raises(ExecutionError, match="displays no asks"):
        ReplayExchange(one_venue([row(5.0)]), depth_policy=("penalty", 0.1)).submit_market(
            1 * S, "XNAS", "buy", 10
        )
    with pytest.raises(ExecutionError, match="only 0 displayed"):
        ex.submit_market(1 * S, "XNAS", "buy", 10)
    with pytest.raises(ConfigError, match="unknown venue"):
        ex.submit_market(6 * S, "BATS", "buy", 10)
    with pytest.raises(ConfigError, match="whole number"):
        ex.submit_market(6 * S, "XNAS", "buy", 10.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="side"):
        ex.submit_market(6 * S, "XNAS", "hold", 10)
    with pytest.raises(ConfigError, match="depth_policy"):
        ReplayExchange(one_venue([row(0.0)]), depth_policy=("penalty", -1.0))
    ex.advance_to(7 * S)
    with pytest.raises(ConfigError, match="before the exchange clock"):
        ex.submit_market(6 * S, "XNAS", "buy", 10)
    with pytest.raises(ExecutionError, match="unknown order_id"):
        ex.order_status(99)


def test_empty_exchange_has_typed_empty_fills() -> None:
    ex = ReplayExchange(one_venue([row(0.0)]))
    f = ex.fills_frame()
    assert list(f.columns[:8]) == [
        "ts_event", "venue", "side", "price", "size", "liquidity", "fee", "order_id",
    ]  # fmt: skip
    assert len(f) == 0
    assert f["size"].dtype == np.int64
    assert ex.filled_quantity() == 0
