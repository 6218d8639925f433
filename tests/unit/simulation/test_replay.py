"""Replay exchange on hand-made books where every fill is computed by hand (MATH.md §7)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from myopic_sor.data import MarketData, VenueData
from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import (
    ProbabilisticQueue,
    ReplayExchange,
    RiskAverseQueue,
    queue_model_from_spec,
)

S = 1_000_000_000
A, T, C = ord("A"), ord("T"), ord("C")
B_, A_ = ord("B"), ord("A")


def book(rows: list[dict[str, float]], venue: str = "XNAS") -> VenueData:
    """Rows: ts (s), action, side, price, size, bid/ask levels as lists (3 levels)."""
    n = len(rows)
    cols: dict[str, np.ndarray] = {
        "ts_event": np.array([round(r["ts"] * S) for r in rows], dtype=np.int64),
        "action": np.array([r.get("action", A) for r in rows], dtype=np.uint8),
        "side": np.array([r.get("side", B_) for r in rows], dtype=np.uint8),
        "price": np.array([r.get("price", np.nan) for r in rows], dtype=np.float64),
        "size": np.array([r.get("size", 0) for r in rows], dtype=np.int64),
    }
    cols["ts_recv"] = cols["ts_event"].copy()
    for lvl in range(3):
        for side in ("bid", "ask"):
            px = [r[f"{side}_px"][lvl] if lvl < len(r[f"{side}_px"]) else np.nan for r in rows]
            sz = [r[f"{side}_sz"][lvl] if lvl < len(r[f"{side}_sz"]) else 0 for r in rows]
            cols[f"{side}_px_{lvl:02d}"] = np.array(px, dtype=np.float64)
            cols[f"{side}_sz_{lvl:02d}"] = np.array(sz, dtype=np.int64)
    assert all(len(v) == n for v in cols.values())
    return VenueData(venue=venue, symbol="TEST", columns=cols)


def md_of(*venues: VenueData) -> MarketData:
    return MarketData(symbol="TEST", date=dt.date(2025, 4, 2), venues={v.venue: v for v in venues})


BASE = {
    "bid_px": [9.99, 9.98, 9.97],
    "bid_sz": [300, 500, 700],
    "ask_px": [10.01, 10.02, 10.03],
    "ask_sz": [200, 400, 600],
}


def row(ts: float, **kw: object) -> dict[str, object]:
    r: dict[str, object] = {"ts": ts, **BASE}
    r.update(kw)
    return r


def ex_of(md: MarketData, **kw: object) -> ReplayExchange:
    n = len(md.venue_names)
    return ReplayExchange(md, fees=[0.003] * n, rebates=[0.002] * n, **kw)  # type: ignore[arg-type]


def test_market_order_walks_levels_and_pays_vwap_plus_fee() -> None:
    ex = ex_of(md_of(book([row(0.0), row(5.0)])))
    ex.submit_market(1 * S, "XNAS", "buy", 500)
    f = ex.fills_frame()
    assert f["size"].tolist() == [200, 300]
    assert f["price"].tolist() == [10.01, 10.02]
    assert (f["liquidity"] == "taker").all()
    assert f["fee"].sum() == pytest.approx(0.003 * 500)
    vwap = (f["price"] * f["size"]).sum() / 500
    assert vwap == pytest.approx((200 * 10.01 + 300 * 10.02) / 500)


def test_second_market_order_sees_what_the_first_left() -> None:
    ex = ex_of(md_of(book([row(0.0), row(5.0)])))
    ex.submit_market(1 * S, "XNAS", "buy", 150)
    ex.submit_market(2 * S, "XNAS", "buy", 100)  # same row: 50 left at 10.01
    f = ex.fills_frame()
    assert f["price"].tolist() == [10.01, 10.01, 10.02]
    assert f["size"].tolist() == [150, 50, 50]


def test_depth_exhausted_is_an_error_or_a_penalty() -> None:
    md = md_of(book([row(0.0)]))
    with pytest.raises(ExecutionError, match="only 1200 displayed"):
        ex_of(md).submit_market(1 * S, "XNAS", "buy", 1500)
    ex = ex_of(md, depth_policy=("penalty", 0.05))
    ex.submit_market(1 * S, "XNAS", "buy", 1500)
    f = ex.fills_frame()
    assert f["size"].sum() == 1500
    assert f["price"].iloc[-1] == pytest.approx(10.03 + 0.05)
    assert f["size"].iloc[-1] == 300


def trades_at_bid(
    sizes: list[int], start: float = 2.0, bid_sz: int = 300
) -> list[dict[str, object]]:
    out = []
    for k, q in enumerate(sizes):
        out.append(row(start + k, action=T, side=A_, price=9.99, size=q, bid_sz=[bid_sz, 500, 700]))
    return out


def test_risk_averse_limit_fills_after_the_queue_ahead_trades() -> None:
    # 300 ahead at 9.99; trades of 200, 200 (100 of it ours), 150 (ours)
    md = md_of(book([row(0.0), *trades_at_bid([200, 200, 150])]))
    ex = ex_of(md, queue_model=RiskAverseQueue())
    oid = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 200)
    ex.advance_to(10 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [100, 100]
    assert f["ts_event"].tolist() == [3 * S, 4 * S]
    assert (f["liquidity"] == "maker").all()
    assert f["fee"].sum() == pytest.approx(-0.002 * 200)
    assert f["order_id"].tolist() == [oid, oid]
    assert ex.open_orders() == []


def test_shrinking_level_moves_us_up() -> None:
    # 300 ahead; the level shrinks to 50 (cancels), then a 120 trade fills 70 of ours
    rows = [
        row(0.0),
        row(2.0, action=C, bid_sz=[50, 500, 700]),
        row(3.0, action=T, side=A_, price=9.99, size=120, bid_sz=[50, 500, 700]),
    ]
    ex = ex_of(md_of(book(rows)))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    assert ex.fills_frame()["size"].tolist() == [70]


def test_probabilistic_queue_takes_the_expected_share_of_cancels() -> None:
    # 300 ahead, nothing behind (back = 0): every cancel is ahead of us with f = x^2
    rows = [
        row(0.0),
        row(2.0, action=C, bid_sz=[200, 500, 700]),
        row(3.0, action=T, side=A_, price=9.99, size=250, bid_sz=[200, 500, 700]),
    ]
    ex = ex_of(md_of(book(rows)), queue_model=ProbabilisticQueue(2.0))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(10 * S)
    # back = 0 -> prob = 0, the whole 100 cancelled is ahead: 200 ahead, trade 250 fills 50
    assert ex.fills_frame()["size"].tolist() == [50]
    # risk-averse on the same rows: capped at 200 too (level size), same answer here
    ex2 = ex_of(md_of(book(rows)))
    ex2.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex2.advance_to(10 * S)
    assert ex2.fills_frame()["size"].tolist() == [50]


def test_trade_through_and_opposite_quote_fill_us() -> None:
    through = [row(0.0), row(2.0, action=T, side=A_, price=9.98, size=10)]
    ex = ex_of(md_of(book(through)))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(5 * S)
    assert ex.fills_frame()["size"].tolist() == [100]
    crossed = [row(0.0), row(2.0, ask_px=[9.99, 10.0, 10.01])]
    ex = ex_of(md_of(book(crossed)))
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
    ex.advance_to(5 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [100]
    assert f["price"].tolist() == [9.99]


def test_router_horizon_cancels_and_catches_up_at_market() -> None:
    md = md_of(book([row(0.0), *trades_at_bid([100], start=2.0), row(30.0)]))
    ex = ex_of(md)
    ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100, cancel_after_ns=20 * S)
    ex.advance_to(60 * S)
    f = ex.fills_frame()
    assert f["size"].tolist() == [100]
    assert bool(f["catch_up"].iloc[0])
    assert f["ts_event"].iloc[0] == 21 * S
    assert f["price"].iloc[0] == 10.01


def test_latency_shifts_the_book_an_order_sees() -> None:
    rows = [row(0.0), row(1.5, ask_px=[10.05, 10.06, 10.07])]
    fast = ex_of(md_of(book(rows)))
    fast.submit_market(1 * S, "XNAS", "buy", 100)
    slow = ex_of(md_of(book(rows)), latency=S)  # 1 s: takes effect at 2 s
    slow.submit_market(1 * S, "XNAS", "buy", 100)
    assert fast.fills_frame()["price"].tolist() == [10.01]
    assert slow.fills_frame()["price"].tolist() == [10.05]
    assert slow.fills_frame()["ts_event"].tolist() == [2 * S]


def test_impact_overlay_moves_our_prices() -> None:
    ex = ex_of(md_of(book([row(0.0)])), impact_overlay=lambda t: 0.02)
    ex.submit_market(1 * S, "XNAS", "buy", 100)
    assert ex.fills_frame()["price"].tolist() == [pytest.approx(10.03)]


def test_no_look_ahead_future_rows_do_not_change_earlier_fills() -> None:
    rows = [row(0.0), *trades_at_bid([200, 200, 150])]
    later = [*rows, row(20.0, action=T, side=A_, price=9.99, size=10_000)]
    a, b = ex_of(md_of(book(rows))), ex_of(md_of(book(later)))
    for ex in (a, b):
        ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 400)
        ex.advance_to(10 * S)
    assert a.fills_frame().equals(b.fills_frame())


def test_bad_arguments() -> None:
    ex = ex_of(md_of(book([row(0.0)])))
    with pytest.raises(ConfigError, match="unknown venue"):
        ex.submit_market(S, "BATS", "buy", 10)
    with pytest.raises(ConfigError, match="marketable"):
        ex.submit_limit(S, "XNAS", "buy", 10.01, 10)
    with pytest.raises(ConfigError, match="queue model"):
        queue_model_from_spec("fifo")
    assert queue_model_from_spec("prob-power:3") == ProbabilisticQueue(3.0)


def test_models_differ_when_orders_queue_behind_us() -> None:
    # 300 ahead of us; 300 join behind (level 600); 200 cancel (level 400); a 250 trade
    rows = [
        row(0.0),
        row(2.0, bid_sz=[600, 500, 700]),
        row(3.0, action=C, bid_sz=[400, 500, 700]),
        row(4.0, action=T, side=A_, price=9.99, size=250, bid_sz=[400, 500, 700]),
    ]
    fills = {}
    for name, model in (("ra", RiskAverseQueue()), ("pp", ProbabilisticQueue(2.0))):
        ex = ex_of(md_of(book(rows)), queue_model=model)
        ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
        ex.advance_to(10 * S)
        fills[name] = ex.fills_frame()["size"].tolist()
    # risk-averse: the cancel is not ours to count, 300 ahead > 250 traded: nothing
    assert fills["ra"] == []
    # power 2, front = back = 300: half the 200 cancelled is ahead -> 200 ahead, 50 filled
    assert fills["pp"] == [50]
