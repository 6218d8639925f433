"""The Exchange interface on the reactive synthetic market: a short session, sizes add up."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from myopic_sor.data import SyntheticConfig, SyntheticMarket
from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import (
    FILL_DTYPE,
    ConstantLatency,
    Exchange,
    ReplayExchange,
    SyntheticExchange,
)

NS = 10**9


def _market(seed: int = 11) -> SyntheticMarket:
    return SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 32)), seed=seed)


def test_short_session_fills_come_out_and_sizes_add_up() -> None:
    mkt = _market()
    ex = SyntheticExchange(mkt, latency=ConstantLatency(100_000))
    assert isinstance(ex, Exchange)
    t0 = mkt.session_start_ns
    ex.advance_to(t0 + 5 * NS)
    buy = ex.submit_market(t0 + 5 * NS, "XNAS", "buy", 500)  # pushes the price up
    bid = mkt.best_price("BATS", "bid")
    # a buy 3 ticks down, left behind by the rise: the venue drops it, the horizon catches up
    behind = ex.submit_limit(
        t0 + 6 * NS, "BATS", "buy", round(bid - 0.03, 2), 300, cancel_after_ns=40 * NS
    )
    ask = mkt.best_price("ARCX", "ask")
    sell = ex.submit_limit(t0 + 7 * NS, "ARCX", "sell", round(ask + 0.06, 2), 400)
    ask = mkt.best_price("XNAS", "ask")
    brief = ex.submit_limit(t0 + 8 * NS, "XNAS", "sell", round(ask + 0.05, 2), 250)
    cancelled = ex.cancel(t0 + 9 * NS, brief)
    ex.advance_to(t0 + 110 * NS)

    f = ex.fills_frame()
    assert np.all(np.diff(f["ts_event"].to_numpy()) >= 0)
    by_order = f.groupby("order_id")["size"].sum()
    for oid in (buy, behind, sell, brief):
        st = ex.order_status(oid)
        assert by_order.get(oid, 0) == st.filled
        assert st.filled + st.cancelled + st.leaves == st.quantity
        assert st.leaves == 0
    assert by_order[buy] == 500
    assert by_order[behind] == 300
    assert cancelled > 0
    assert ex.order_status(brief).cancelled == cancelled
    # taker fills of XNAS are exactly what the market executed for us on XNAS
    xnas_taker = f[(f["venue"] == "XNAS") & (f["liquidity"] == "taker")]["size"].sum()
    assert xnas_taker == mkt.truth()["venues"]["XNAS"]["own_volume_shares"]
    # market order: taker at the venue's fee, acting 100 µs after it was sent
    mo = f[f["order_id"] == buy]
    assert (mo["liquidity"] == "taker").all()
    assert (mo["ts_event"] == t0 + 5 * NS + 100_000).all()
    assert mo["fee"].sum() == pytest.approx(0.003 * 500)  # XNAS fee_per_share
    # maker fills (filled or picked off) are at the limit price, with the venue's rebate
    mk = f[f["order_id"] == sell]
    assert (mk["liquidity"] == "maker").all()
    assert (mk["price"] == ex.order_status(sell).price).all()
    assert mk["fee"].to_numpy() == pytest.approx(-0.0020 * mk["size"].to_numpy())  # ARCX
    # the order left behind: maker fills at its price, or the catch-up at its horizon
    mine = f[f["order_id"] == behind]
    horizon = t0 + 46 * NS + 100_000
    maker = (mine["liquidity"] == "maker") & (mine["price"] == ex.order_status(behind).price)
    caught = mine["catch_up"] & (mine["liquidity"] == "taker") & (mine["ts_event"] == horizon)
    assert (maker | caught).all()
    assert ex.fills.dtype == FILL_DTYPE
    assert ex.filled_quantity() == int(f["size"].sum())


def test_an_order_the_venue_drops_is_caught_up_at_its_horizon() -> None:
    mkt = _market()
    ex = SyntheticExchange(mkt, latency=ConstantLatency(100_000))
    t0 = mkt.session_start_ns
    ex.advance_to(t0 + 5 * NS)
    ex.submit_market(t0 + 5 * NS, "XNAS", "buy", 500)
    bid = mkt.best_price("BATS", "bid")
    oid = ex.submit_limit(
        t0 + 6 * NS, "BATS", "buy", round(bid - 0.03, 2), 300, cancel_after_ns=40 * NS
    )
    ask = mkt.best_price("ARCX", "ask")
    ex.submit_limit(t0 + 7 * NS, "ARCX", "sell", round(ask + 0.06, 2), 400)
    ex.advance_to(t0 + 45 * NS)
    st = ex.order_status(oid)
    # this seed's price runs away upwards: the level falls off the venue's book
    assert (st.status, st.reason, st.cancelled, st.filled) == ("cancelled", "venue", 300, 0)
    ex.advance_to(t0 + 60 * NS)
    f = ex.fills_frame()
    mine = f[f["order_id"] == oid]
    assert mine["size"].sum() == 300
    assert mine["catch_up"].all()
    assert (mine["ts_event"] == t0 + 46 * NS + 100_000).all()
    st = ex.order_status(oid)
    assert (st.status, st.filled, st.cancelled) == ("filled", 300, 0)


def test_same_interface_as_the_replay() -> None:
    mkt = _market(3)
    data = _market(3).generate()
    syn = SyntheticExchange(mkt)
    rep = ReplayExchange(data, fees=syn.fees, rebates=syn.rebates)
    t = mkt.session_start_ns + 10 * NS
    for ex in (syn, rep):
        ex.advance_to(t)
        oid = ex.submit_market(t, "ARCX", "sell", 250)
        assert ex.order_status(oid).filled == 250
        assert list(ex.fills_frame().columns) == list(rep.fills_frame().columns)
    # no order of ours yet, same seed: the first market order sees the same book
    assert syn.fills_frame()["price"].tolist() == rep.fills_frame()["price"].tolist()


def test_book_exhausted_error_and_penalty() -> None:
    ex = SyntheticExchange(_market(4))
    t = ex.market.session_start_ns + NS
    with pytest.raises(ExecutionError, match="ran out"):
        ex.submit_market(t, "ARCX", "sell", 10**6)
    assert 0 < int(ex.fills["size"].sum()) < 10**6  # the executed part is recorded
    pen = SyntheticExchange(_market(4), depth_policy=("penalty", 0.1))
    pen.submit_market(t, "ARCX", "sell", 10**6)
    f = pen.fills_frame()
    assert f["size"].sum() == 10**6
    assert bool(f["penalty"].iloc[-1])
    assert f["price"].iloc[-1] == pytest.approx(f["price"].iloc[-2] - 0.1)


def test_synthetic_arguments() -> None:
    mkt = _market(5)
    ex = SyntheticExchange(mkt, fees=0.001, rebates={"XNAS": 0.0, "BATS": 0.0, "ARCX": 0.0})
    t = mkt.session_start_ns + NS
    with pytest.raises(ConfigError, match="unknown venue"):
        ex.submit_market(t, "XNYS", "buy", 1)
    ex.advance_to(t)
    ask = mkt.best_price("XNAS", "ask")
    with pytest.raises(ConfigError, match="marketable"):
        ex.submit_limit(t, "XNAS", "buy", ask, 10)
    with pytest.raises(ExecutionError, match="unknown order_id"):
        ex.cancel(t, 3)
    ex.advance_to(t + NS)
    with pytest.raises(ConfigError, match="before the exchange clock"):
        ex.advance_to(t)
    with pytest.raises(ConfigError, match="SyntheticMarket"):
        SyntheticExchange(object())  # type: ignore[arg-type]
