"""Router inputs from market data: causal, measured by hand, exclusions, fees, adverse selection."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from myopic_sor.config import MyopicSorConfig
from myopic_sor.data import MarketData, VenueData, generate_market_data
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.features import order_flow_imbalance
from myopic_sor.routing._base import Allocation, OutflowDistribution, RoutingProblem
from myopic_sor.routing._inputs import (
    OutflowSource,
    RouterInputs,
    RouterOutflowKind,
    adverse_selection,
    build_routing_problem,
    outflow_samples,
    outflow_samples_with_ofi,
    router_inputs,
)
from myopic_sor.routing._outflow import EmpiricalOutflow

NS = 1_000_000_000
BASE = 1_743_600_600 * NS  # 2025-04-02 09:30 New York
NAN = float("nan")

Row = tuple[float, str, str, float, int, float, int, float, int]  # t_s, act, side, px, sz, book


def _venue(name: str, rows: Sequence[Row]) -> VenueData:
    a = list(zip(*rows, strict=True))
    ts = np.array([BASE + round(s * NS) for s in a[0]], dtype=np.int64)
    return VenueData(
        venue=name,
        symbol="TEST",
        columns={
            "ts_event": ts,
            "ts_recv": ts,
            "action": np.array([ord(c) for c in a[1]], dtype=np.uint8),
            "side": np.array([ord(c) for c in a[2]], dtype=np.uint8),
            "price": np.array(a[3], dtype=np.float64),
            "size": np.array(a[4], dtype=np.int64),
            "bid_px_00": np.array(a[5], dtype=np.float64),
            "bid_sz_00": np.array(a[6], dtype=np.int64),
            "ask_px_00": np.array(a[7], dtype=np.float64),
            "ask_sz_00": np.array(a[8], dtype=np.int64),
        },
        source="hand-made",
    )


def _md(*venues: VenueData) -> MarketData:
    return MarketData("TEST", dt.date(2025, 4, 2), {v.venue: v for v in venues})


def _quotes(
    start_s: float, end_s: float, bid: float, ask: float, *, every_s: float = 5.0
) -> list[Row]:
    bsz = 0 if math.isnan(bid) else 500
    asz = 0 if math.isnan(ask) else 500
    return [
        (s, "N", "N", NAN, 0, bid, bsz, ask, asz) for s in np.arange(start_s, end_s + 1e-9, every_s)
    ]


def _trading_venue(
    name: str, bid: float = 10.00, ask: float = 10.01
) -> tuple[VenueData, list[tuple[float, int]]]:
    """A bid hit by seller-initiated trades (T row, then the C row that shrinks the queue)."""
    rows: list[Row] = [(0.0, "N", "N", NAN, 0, bid, 5000, ask, 4000)]
    trades: list[tuple[float, int]] = [(5.0 + 10 * k, 10 * (k + 1)) for k in range(24)]
    trades += [(120.0, 7), (240.0, 3)]  # on the window edges: (t − lookback, t]
    q = 5000
    for s, size in sorted(trades):
        rows.append((s, "T", "A", bid, size, bid, q, ask, 4000))
        q -= size
        rows.append((s, "C", "B", bid, size, bid, q, ask, 4000))
    rows.append((250.0, "T", "A", bid, 999, bid, q, ask, 4000))  # after t: never read
    return _venue(name, rows), sorted(trades)


class ShareRouter:
    """A trivial Router: 20 % at market, the rest over the venues in proportion to E ξ_k."""

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
    ) -> Allocation:
        w = np.array([o.mean for o in outflows]) + rng.random(len(outflows)) * 1e-9
        lim = 0.8 * problem.size * w / w.sum()
        return Allocation(
            0.2 * problem.size, tuple(lim), float(lim.sum()), 0.0, "share", problem.venues
        )


# --------------------------------------------------------------------------------------------
# outflow samples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["traded", "total"])
def test_outflow_windows_are_sums_over_right_closed_intervals(source: OutflowSource) -> None:
    venue, trades = _trading_venue("XNAS")
    t = BASE + 240 * NS
    xs = outflow_samples(
        venue, t, side=1, lookback_ns=120 * NS, horizon_ns=60 * NS, n_strides=6, source=source
    )
    times = np.array([BASE + round(s * NS) for s, _ in trades])
    sizes = np.array([q for _, q in trades], dtype=float)
    # windows of 60 s stepping by one 10 s stride: (t − 120 + 10 j, t − 60 + 10 j], j = 0..6
    want = [
        sizes[(times > t - 120 * NS + j * 10 * NS) & (times <= t - 60 * NS + j * 10 * NS)].sum()
        for j in range(7)
    ]
    assert xs.tolist() == want
    assert want[-1] == sum(10 * (k + 1) for k in range(18, 24)) + 3  # the trade at t counts
    assert xs[0] == 10 * sum(range(13, 19))  # offsets 125..175 s; the one at t − lookback not
    # a sell rests on the ask, where nothing traded
    assert (
        outflow_samples(
            venue, t, side="sell", lookback_ns=120 * NS, horizon_ns=60 * NS, n_strides=6
        ).tolist()
        == [0.0] * 7
    )


def test_outflow_samples_stop_at_the_first_event_and_need_a_whole_window() -> None:
    venue, _ = _trading_venue("XNAS")
    t = BASE + 50 * NS  # 50 s of data: no 60 s window yet
    assert outflow_samples(venue, t, side=1, lookback_ns=900 * NS, horizon_ns=60 * NS).size == 0
    t = BASE + 80 * NS  # 80 s: 8 strides of 10 s, windows of 6 -> 3 samples
    xs = outflow_samples(venue, t, side=1, lookback_ns=900 * NS, horizon_ns=60 * NS, n_strides=6)
    assert xs.size == 3
    with pytest.raises(ConfigError, match="lookback_ns"):
        outflow_samples(venue, t, side=1, lookback_ns=0, horizon_ns=60 * NS)
    with pytest.raises(ConfigError, match="side"):
        outflow_samples(venue, t, side=0, lookback_ns=60 * NS, horizon_ns=60 * NS)


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=5, session_end=dt.time(9, 50))
    return data


def test_ofi_samples_align_with_the_imbalance_before_each_window(md: MarketData) -> None:
    venue = md["BATS"]
    t = md.first_ts + 12 * 60 * NS + 123_456_789
    look, hor, k = 6 * 60 * NS, 60 * NS, 4  # stride 3 s, OFI over 4 strides = 12 s
    xs, before, now = outflow_samples_with_ofi(
        venue, t, side=1, lookback_ns=look, horizon_ns=hor, ofi_window_ns=12 * NS
    )
    plain = outflow_samples(venue, t, side=1, lookback_ns=look, horizon_ns=hor)
    assert np.array_equal(xs, plain[k:])  # the first windows have no OFI interval before them
    e = order_flow_imbalance(venue, levels=1)[:, 0]
    ts = venue.ts_event
    stride = 3 * NS
    for j in (0, 5, len(xs) - 1):
        start = t - look + (k + j) * stride  # window j+k begins after this instant
        mask = (ts > start - k * stride) & (ts <= start)
        assert before[j] == pytest.approx(e[mask].sum())
    assert now == pytest.approx(e[(ts > t - 12 * NS) & (ts <= t)].sum())


# --------------------------------------------------------------------------------------------
# causality
# --------------------------------------------------------------------------------------------


def _rewrite_future(md: MarketData, t: int) -> MarketData:
    venues = {}
    for v in md:
        cols = {k: np.array(a) for k, a in v.columns.items()}
        after = cols["ts_event"] > t
        cols["bid_sz_00"][after] = cols["bid_sz_00"][after] * 3 + 1
        cols["ask_sz_00"][after] = 7
        cols["bid_px_00"][after] -= 0.05
        cols["size"][after] += 11
        cols["action"][after] = ord("T")
        venues[v.venue] = VenueData(v.venue, v.symbol, cols, v.source)
    return MarketData(md.symbol, md.date, venues, md.timezone)


def _same_inputs(a: RouterInputs, b: RouterInputs) -> None:
    assert a.problem.venues == b.problem.venues
    assert a.problem.queues.tobytes() == b.problem.queues.tobytes()
    assert a.problem.rebates.tobytes() == b.problem.rebates.tobytes()
    assert (a.problem.half_spread, a.problem.fee) == (b.problem.half_spread, b.problem.fee)
    assert dict(a.excluded) == dict(b.excluded)
    assert (a.market_venue, a.best_bid, a.best_ask) == (b.market_venue, b.best_bid, b.best_ask)
    assert dict(a.adverse) == dict(b.adverse)
    for la, lb in zip(a.outflows, b.outflows, strict=True):
        assert type(la) is type(lb)
        assert la.mean == lb.mean
        da = la.sample(64, np.random.default_rng(9))
        db = lb.sample(64, np.random.default_rng(9))
        assert da.tobytes() == db.tobytes()


@pytest.mark.parametrize("kind", ["empirical", "kde", "ofi"])
def test_data_after_t_changes_nothing_bit_for_bit(md: MarketData, kind: RouterOutflowKind) -> None:
    t = md.first_ts + 11 * 60 * NS + 77
    kw: dict[str, Any] = {"lookback_ns": 8 * 60 * NS, "horizon_ns": 60 * NS, "adverse": True}
    base = router_inputs(md, t, 400, 1, outflow_kind=kind, **kw)
    for other in (_rewrite_future(md, t), md.between(None, t)):
        again = router_inputs(other, t, 400, 1, outflow_kind=kind, **kw)
        _same_inputs(base, again)
        a1 = ShareRouter().route(base.problem, base.outflows, np.random.default_rng(3))
        a2 = ShareRouter().route(again.problem, again.outflows, np.random.default_rng(3))
        assert a1 == a2
    # and the rewrite does change what a later decision sees
    later = router_inputs(_rewrite_future(md, t), t + 60 * NS, 400, 1, **kw)
    assert later.problem.queues.tolist() != base.problem.queues.tolist()


def test_inputs_match_the_last_rows_by_hand(md: MarketData) -> None:
    t = md.first_ts + 14 * 60 * NS
    for side, col in ((1, "bid_sz_00"), (-1, "ask_sz_00")):
        problem, laws, excluded = build_routing_problem(md, t, 500, side)
        assert excluded == {}
        assert problem.venues == md.venue_names
        last = {n: md[n].between(None, t) for n in md.venue_names}
        assert problem.queues.tolist() == [float(last[n][col][-1]) for n in problem.venues]
        bid = max(float(v["bid_px_00"][-1]) for v in last.values())
        ask = min(float(v["ask_px_00"][-1]) for v in last.values())
        assert problem.half_spread == pytest.approx(max((ask - bid) / 2, 0.0), abs=1e-12)
        cfg = MyopicSorConfig()
        assert problem.fee == cfg.strategy.f
        assert problem.rebates.tolist() == [cfg.strategy.r[0]] * 3  # type: ignore[index]
        assert (problem.theta, problem.lambda_u, problem.lambda_o) == (0.0005, 0.05, 0.05)
        # default windows: 15-minute look-back clipped at the open, 5-minute horizon
        for n, law in zip(problem.venues, laws, strict=True):
            assert isinstance(law, EmpiricalOutflow)
            xs = outflow_samples(md[n], t, side=side, lookback_ns=900 * NS, horizon_ns=300 * NS)
            assert np.array_equal(np.sort(xs), law.samples)
            span = min(900 * NS, t - int(md[n].ts_event[0]))
            assert xs.size == span // (15 * NS) - 20 + 1  # strides of 15 s, windows of 20


# --------------------------------------------------------------------------------------------
# exclusions, fees, half-spread
# --------------------------------------------------------------------------------------------


def test_venues_are_excluded_with_their_reasons(caplog: pytest.LogCaptureFixture) -> None:
    good, _ = _trading_venue("XNAS")
    late = _venue("BATS", _quotes(245.0, 300.0, 10.00, 10.01))  # first event after t
    no_bid = _venue("ARCX", _quotes(0.0, 240.0, NAN, 10.01))  # empty bid at t
    young = _venue("EDGX", _quotes(200.0, 240.0, 10.00, 10.01))  # 40 s of history
    md = _md(good, late, no_bid, young)
    t = BASE + 240 * NS
    kw: dict[str, Any] = {"lookback_ns": 120 * NS, "horizon_ns": 60 * NS, "n_strides": 6}
    with caplog.at_level(logging.INFO, logger="myopic_sor.routing"):
        problem, _, excluded = build_routing_problem(md, t, 100, "buy", **kw)
    assert problem.venues == ("XNAS",)
    assert excluded["BATS"] == "no event at or before t"
    assert excluded["ARCX"].startswith("empty bid side at t")
    assert excluded["EDGX"].startswith("0 outflow sample(s) in the look-back")
    for name in ("BATS", "ARCX", "EDGX"):
        assert any(name in r.getMessage() and "excluded" in r.getMessage() for r in caplog.records)
    # a sell rests on the ask: ARCX is fine there
    problem, _, excluded = build_routing_problem(md, t, 100, "sell", **kw)
    assert problem.venues == ("ARCX", "XNAS")
    assert set(excluded) == {"BATS", "EDGX"}
    # every venue excluded: one error naming the time and each reason
    with pytest.raises(DataValidationError) as err:
        build_routing_problem(md, t, 100, "buy", venues=["BATS", "ARCX", "EDGX"], **kw)
    msg = str(err.value)
    assert "2025-04-02T09:34:00-04:00" in msg
    assert str(t) in msg
    for part in ("BATS: no event", "ARCX: empty bid", "EDGX: 0 outflow"):
        assert part in msg
    with pytest.raises(ConfigError, match="unknown venue"):
        build_routing_problem(md, t, 100, "buy", venues=["IEXG"], **kw)


def test_market_order_fee_is_the_best_priced_venues_lowest_fee() -> None:
    a, _ = _trading_venue("XNAS", 10.00, 10.02)
    b, _ = _trading_venue("BATS", 10.00, 10.02)
    c, _ = _trading_venue("ARCX", 9.99, 10.03)
    md = _md(a, b, c)
    t = BASE + 240 * NS
    fees = {"XNAS": 0.003, "BATS": 0.0025, "ARCX": -0.001}
    rebates = {"XNAS": 0.002, "BATS": 0.001, "ARCX": 0.0}
    kw: dict[str, Any] = {"lookback_ns": 120 * NS, "horizon_ns": 60 * NS, "n_strides": 6}
    ri = router_inputs(md, t, 100, 1, fees=fees, rebates=rebates, **kw)
    assert ri.market_venue == "BATS"  # best ask 10.02 on XNAS and BATS; BATS is cheaper
    assert ri.problem.fee == 0.0025
    assert ri.problem.half_spread == pytest.approx(0.01)  # NBBO 10.00 / 10.02
    assert ri.problem.rebates.tolist() == [0.0, 0.001, 0.002]  # ARCX, BATS, XNAS
    ri = router_inputs(md, t, 100, -1, fees=fees, rebates=rebates, **kw)
    assert ri.market_venue == "BATS"  # best bid 10.00: XNAS and BATS again
    # the same through a config: per-venue fees and rebates
    cfg = MyopicSorConfig.model_validate(
        {
            "venues": [
                {"name": "XNAS", "fee": 0.001, "rebate": 0.0031},
                {"name": "BATS", "fee": 0.002},
                {"name": "ARCX"},
            ],
            "strategy": {"f": 0.0029, "r": [0.0015], "theta": 0.001},
        }
    )
    ri = router_inputs(md, t, 100, 1, config=cfg, **kw)
    assert ri.market_venue == "XNAS"
    assert ri.problem.fee == 0.001
    assert ri.problem.rebates.tolist() == [0.0015, 0.0015, 0.0031]
    assert ri.problem.theta == 0.001


def test_a_crossed_nbbo_has_zero_half_spread() -> None:
    a, _ = _trading_venue("XNAS", 10.00, 10.01)
    b = _venue("BATS", _quotes(0.0, 240.0, 10.02, 10.03))
    ri = router_inputs(_md(a, b), BASE + 240 * NS, 100, 1, lookback_ns=120 * NS, horizon_ns=60 * NS)
    assert (ri.best_bid, ri.best_ask) == (10.02, 10.01)
    assert ri.problem.half_spread == 0.0


# --------------------------------------------------------------------------------------------
# adverse selection
# --------------------------------------------------------------------------------------------


def _adverse_venue() -> VenueData:
    """Fills at the bid every 30 s; 2 s later the quotes drop a tick, 20 s later they return.
    The last fill, 3 s before t, has no drop before t (its mark-out ends after t)."""
    rows: list[Row] = [(0.0, "N", "N", NAN, 0, 10.00, 900, 10.01, 900)]
    for s in range(10, 280, 30):
        rows.append((s, "T", "A", 10.00, 100, 10.00, 900, 10.01, 900))
        rows.append((s + 2, "N", "N", NAN, 0, 9.99, 900, 10.00, 900))
        rows.append((s + 20, "N", "N", NAN, 0, 10.00, 900, 10.01, 900))
    rows.append((297.0, "T", "A", 10.00, 5000, 10.00, 900, 10.01, 900))
    return _venue("XNAS", rows)


def test_adverse_selection_is_the_mark_out_after_fills_with_its_sign() -> None:
    v = _adverse_venue()
    t = BASE + 300 * NS
    a = adverse_selection(v, t, side=1, lookback_ns=300 * NS, horizon_ns=5 * NS)
    assert a == pytest.approx(0.01)  # the mid falls a tick after each buy fill: adverse, > 0
    assert adverse_selection(v, t, side=-1, lookback_ns=300 * NS, horizon_ns=5 * NS) == 0.0
    # mark-out 1 s: the drop (2 s after the fill) is not seen yet
    assert adverse_selection(v, t, side=1, lookback_ns=300 * NS, horizon_ns=NS) == 0.0
    ri = router_inputs(
        _md(v),
        t,
        100,
        1,
        lookback_ns=300 * NS,
        horizon_ns=60 * NS,
        adverse=True,
        rebates={"XNAS": 0.003},
    )
    assert ri.adverse["XNAS"] == pytest.approx(0.01)
    assert ri.problem.rebates[0] == pytest.approx(0.003 - 0.01)
    plain = router_inputs(
        _md(v), t, 100, 1, lookback_ns=300 * NS, horizon_ns=60 * NS, rebates={"XNAS": 0.003}
    )
    assert plain.problem.rebates[0] == 0.003
    assert dict(plain.adverse) == {}


def test_router_inputs_summaries() -> None:
    venue, _ = _trading_venue("XNAS")
    ri = router_inputs(
        _md(venue), BASE + 240 * NS, 100, 1, lookback_ns=120 * NS, horizon_ns=60 * NS, n_strides=6
    )
    assert ri.queue_depth == float(ri.problem.queues.sum())
    assert ri.outflow_rate == pytest.approx(ri.outflows[0].mean)  # horizon is one minute
    assert ri.n_samples == {"XNAS": 7}
    p, laws, ex = ri.as_tuple()
    assert p is ri.problem
    assert laws == list(ri.outflows)
    assert ex == {}
    again = dataclasses.replace(ri.problem, size=7.0)
    assert again.queues.tolist() == ri.problem.queues.tolist()
