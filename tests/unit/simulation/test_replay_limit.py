"""Limit orders of the replay exchange on hand-made books (every fill computed by hand)."""

from __future__ import annotations

import math

import pytest
from _books import S, one_venue, row, trade

from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import (
    ConstantLatency,
    ProbabilisticQueue,
    ReplayExchange,
    RiskAverseQueue,
)

BID_1000 = {"bid_sz": [1000, 500, 700]}


def test_risk_averse_fills_after_the_queue_ahead_and_our_size_traded() -> None:
    # 300 ahead at 9.99; trades hitting the bid: 100, 200 (queue ahead done), 150, 100
    rows = [
        row(0.0),
        trade(2.0, 9.99, 100),
        trade(3.0, 9.99, 200),
        trade(4.0, 9.99, 150),
        trade(5.0, 9.99, 100),
        trade(6.0, 9.99, 500),
    ]
    ex = ReplayExchange(one_venue(rows), fees=0.003, rebates=0.002)
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 200)
    assert ex.order_status(oid).queue_ahead == 300
    ex.advance_to(3 * S)
    assert ex.order_status(oid).queue_ahead == 0
    assert len(ex.fills) == 0  # exactly the 300 ahead traded: nothing for us yet
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [150, 50]  # 300 + 200 traded at our price
    assert f["ts_event"].tolist() == [4 * S, 5 * S]
    assert f["price"].tolist() == [9.99, 9.99]
    assert (f["liquidity"] == "maker").all()
    assert f["fee"].tolist() == pytest.approx([-0.3, -0.1])  # rebates received
    st = ex.order_status(oid)
    assert (st.status, st.filled, st.leaves) == ("filled", 200, 0)
    assert ex.open_orders() == []


def test_trades_off_our_side_or_price_do_not_advance_us() -> None:
    rows = [
        row(0.0),
        trade(2.0, 10.01, 500, aggressor="B"),  # a buy lifting the ask
        trade(3.0, 9.99, 400, aggressor="B"),  # aggressor on our side: not a hit on the bids
        trade(4.0, 10.00, 400, aggressor="A"),  # a sell above our price: not through us
    ]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    assert len(ex.fills) == 0
    assert ex.order_status(oid).queue_ahead == 300


def test_level_shrinking_below_our_position_moves_us_up() -> None:
    rows = [
        row(0.0),
        row(2.0, "C", bid_sz=[120, 500, 700]),  # cancels: 300 -> 120 shown
        trade(3.0, 9.99, 150, bid_sz=[120, 500, 700]),  # 120 ahead, 30 ours
        trade(4.0, 9.99, 100, bid_sz=[120, 500, 700]),  # the other 70
    ]
    for model in (RiskAverseQueue(), ProbabilisticQueue(1.0)):
        ex = ReplayExchange(one_venue(rows), queue_model=model)
        oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
        ex.advance_to(2 * S)
        assert ex.order_status(oid).queue_ahead == 120
        ex.advance_to(10 * S)
        assert ex.fills_frame()["size"].tolist() == [30, 70]


def test_probabilistic_expected_update_by_hand() -> None:
    # we join 300 ahead; 700 join behind us (level 1000); 100 cancelled; then a 50 trade
    # that the level's fall explains; then 50 more cancelled
    rows = [
        row(0.0),
        row(1.5, **BID_1000),
        row(2.0, "C", bid_sz=[900, 500, 700]),
        trade(3.0, 9.99, 50, bid_sz=[850, 500, 700]),
        row(4.0, "C", bid_sz=[800, 500, 700]),
    ]
    ahead = {}
    for name, model in (
        ("ra", RiskAverseQueue()),
        ("p1", ProbabilisticQueue(1.0)),
        ("p2", ProbabilisticQueue(2.0)),
    ):
        ex = ReplayExchange(one_venue(rows), queue_model=model)
        oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
        path = []
        for t in (2, 3, 4):
            ex.advance_to(t * S)
            path.append(ex.order_status(oid).queue_ahead)
        ahead[name] = path
    # risk-averse: cancels are not ours to count; only the trade advances us
    assert ahead["ra"] == [300, 250, 250]
    # n = 1: P(cancel behind) = back / level; we advance by c * front / level
    a1 = 300 - 100 * 300 / 1000  # 270
    a3 = (a1 - 50) - 50 * (a1 - 50) / 850  # the trade explains 900 -> 850: no double count
    assert ahead["p1"] == pytest.approx([a1, a1 - 50, a3])
    # n = 2: P(behind) = back^2 / (back^2 + front^2) = 0.49 / 0.58
    b1 = 300 - 100 * 300**2 / (700**2 + 300**2)
    assert ahead["p2"][0] == pytest.approx(b1)
    assert ahead["p2"][0] > ahead["p1"][0]  # cancels sit more at the back: we advance less


def test_trade_through_our_price_fills_the_rest() -> None:
    rows = [row(0.0), trade(2.0, 9.99, 350), trade(3.0, 9.98, 10)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [50, 50]  # 50 by the queue, the rest by the trade through
    assert f["ts_event"].tolist() == [2 * S, 3 * S]
    assert f["price"].tolist() == [9.99, 9.99]  # at our limit price, not the trade's
    assert ex.order_status(oid).status == "filled"
    # the sell side mirror: a buy trading above our ask
    ex = ReplayExchange(one_venue([row(0.0), trade(2.0, 10.02, 10, aggressor="B")]))
    ex.submit_limit(1 * S, "XNAS", "sell", 10.01, 80)
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert (f["size"].tolist(), f["price"].tolist(), f["side"].tolist()) == (
        [80],
        [10.01],
        ["sell"],
    )


def test_ask_reaching_our_bid_fills_us() -> None:
    rows = [row(0.0), row(2.0, ask_px=[9.995, 10.0, 10.01]), row(3.0, ask_px=[9.99, 10.0, 10.01])]
    ex = ReplayExchange(one_venue(rows))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert (f["size"].tolist(), f["ts_event"].tolist(), f["price"].tolist()) == (
        [100],
        [3 * S],
        [9.99],
    )


def test_improving_the_touch_puts_us_first() -> None:
    rows = [row(0.0), trade(2.0, 10.00, 30), trade(3.0, 10.00, 100)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 10.00, 100)
    assert ex.order_status(oid).queue_ahead == 0
    ex.advance_to(10 * S)
    assert ex.fills_frame()["size"].tolist() == [30, 70]


def test_price_beyond_the_displayed_levels_queues_behind_what_shows_first() -> None:
    deeper = {"bid_px": [9.97, 9.96, 9.95], "bid_sz": [100, 200, 400]}
    rows = [row(0.0), row(2.0, **deeper), trade(3.0, 9.95, 450, **deeper)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.95, 100)  # below the 3 shown levels
    assert math.isinf(ex.order_status(oid).queue_ahead)
    ex.advance_to(2 * S)
    assert ex.order_status(oid).queue_ahead == 400  # the level shows: join its back
    ex.advance_to(10 * S)
    assert ex.fills_frame()["size"].tolist() == [50]


def test_cancel_after_sends_the_rest_as_a_catch_up_market_order() -> None:
    rows = [row(0.0), trade(2.0, 9.99, 350), row(30.0)]
    ex = ReplayExchange(one_venue(rows), fees=0.003, rebates=0.002)
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100, cancel_after_ns=20 * S)
    ex.advance_to(20 * S)
    assert ex.order_status(oid).status == "resting"
    ex.advance_to(60 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [50, 50]
    assert f["liquidity"].tolist() == ["maker", "taker"]
    assert f["catch_up"].tolist() == [False, True]
    assert f["ts_event"].tolist() == [2 * S, 21 * S]
    assert f["price"].tolist() == [9.99, 10.01]  # the catch-up pays the ask at 21 s
    assert f["fee"].tolist() == pytest.approx([-0.1, 0.15])
    assert f["order_id"].tolist() == [oid, oid]
    st = ex.order_status(oid)
    assert (st.status, st.filled, st.cancelled) == ("filled", 100, 0)


def test_cancel_after_with_latency_and_without_catch_up() -> None:
    rows = [row(0.0), trade(2.0, 9.99, 350), row(30.0)]
    ex = ReplayExchange(one_venue(rows), latency=ConstantLatency(S))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100, cancel_after_ns=20 * S)
    keep = ex.submit_limit(1 * S, "XNAS", "buy", 9.98, 100, cancel_after_ns=20 * S, catch_up=False)
    ex.advance_to(60 * S)
    st = ex.order_status(oid)
    # acts at 2 s after the 2 s trade: 300 ahead again, nothing filled; cancel acts at 22 s
    assert st.ts_effective == 2 * S
    assert st.ts_expiry == 22 * S
    f = ex.fills_frame()
    assert f["ts_event"].tolist() == [22 * S]
    assert f["catch_up"].tolist() == [True]
    other = ex.order_status(keep)
    assert (other.status, other.reason, other.cancelled, other.filled) == (
        "cancelled",
        "horizon",
        100,
        0,
    )


def test_cancel_and_partial_fills_all_reach_the_log() -> None:
    rows = [row(0.0), trade(2.0, 9.99, 320), trade(3.0, 9.99, 15), trade(4.0, 9.99, 25)]
    rows += [trade(6.0, 9.99, 1000)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(5 * S)
    assert ex.cancel(5 * S, oid) == 40
    assert ex.cancel(5 * S, oid) == 0  # no longer resting: not an error
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [20, 15, 25]
    st = ex.order_status(oid)
    assert (st.status, st.reason, st.filled, st.cancelled, st.leaves) == (
        "cancelled",
        "cancelled",
        60,
        40,
        0,
    )
    assert st.avg_price == pytest.approx(9.99)
    with pytest.raises(ExecutionError, match="unknown order_id"):
        ex.cancel(10 * S, 7)


def test_cancel_all_and_filled_quantity_with_ack_latency() -> None:
    rows = [row(0.0), trade(2.0, 9.99, 400), row(9.0)]
    ex = ReplayExchange(one_venue(rows), latency=ConstantLatency(0, ack_ns=S // 2))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 150)
    ex.submit_limit(1 * S, "XNAS", "buy", 9.98, 100)
    ex.advance_to(2 * S)
    assert ex.filled_quantity() == 0  # the 2 s fill is reported at 2.5 s
    assert ex.filled_quantity(3 * S) == 100
    assert ex.cancel_all(3 * S) == 150
    assert ex.open_orders() == []


def test_clear_book_cancels_our_resting_orders() -> None:
    rows = [row(0.0), row(2.0, "R", bid_px=[], bid_sz=[], ask_px=[], ask_sz=[]), row(3.0)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    st = ex.order_status(oid)
    assert (st.status, st.reason, st.cancelled) == ("cancelled", "venue", 100)


def test_limit_order_arguments() -> None:
    ex = ReplayExchange(one_venue([row(0.0)]))
    with pytest.raises(ConfigError, match="marketable"):
        ex.submit_limit(1 * S, "XNAS", "buy", 10.01, 10)
    with pytest.raises(ConfigError, match="marketable"):
        ex.submit_limit(1 * S, "XNAS", "sell", 9.99, 10)
    with pytest.raises(ConfigError, match="price"):
        ex.submit_limit(1 * S, "XNAS", "buy", float("nan"), 10)
    with pytest.raises(ConfigError, match="horizon"):
        ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 10, cancel_after_ns=0)
    with pytest.raises(ExecutionError, match="no book yet"):
        ReplayExchange(one_venue([row(5.0)])).submit_limit(1 * S, "XNAS", "buy", 9.99, 10)


def test_an_order_the_venue_clears_is_still_caught_up_at_its_horizon() -> None:
    cleared = {"bid_px": [], "bid_sz": [], "ask_px": [], "ask_sz": []}
    rows = [row(0.0), row(2.0, "R", **cleared), row(3.0), row(9.0)]
    ex = ReplayExchange(one_venue(rows))
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100, cancel_after_ns=5 * S)
    dropped = ex.submit_limit(1 * S, "XNAS", "buy", 9.98, 100, cancel_after_ns=5 * S)
    ex.advance_to(4 * S)
    assert ex.order_status(oid).reason == "venue"
    assert ex.cancel(4 * S, dropped) == 0  # we no longer want its catch-up
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert (f["order_id"].tolist(), f["ts_event"].tolist()) == ([oid], [6 * S])
    assert (f["price"].tolist(), f["size"].tolist(), f["catch_up"].tolist()) == (
        [10.01],
        [100],
        [True],
    )
    assert ex.order_status(oid).status == "filled"
    assert ex.order_status(dropped).status == "cancelled"
