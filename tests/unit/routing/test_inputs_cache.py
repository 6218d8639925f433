"""The router's cumulative outflow cache: the same windows as a pass over the look-back, and
causal (data after t cannot change the routing problem at t once the cache is built)."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

import numpy as np
import pytest

from myopic_sor.data import MarketData, VenueData, generate_market_data
from myopic_sor.routing._inputs import (
    _CUMULATIVE,
    _FLOW_COLUMNS,
    OutflowSource,
    outflow_samples,
    router_inputs,
)

NS = 1_000_000_000


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=11, session_end=dt.time(9, 50))
    return data


def _fresh(v: VenueData) -> VenueData:
    """A copy of the venue in new memory, which the cache has never seen."""
    return VenueData(v.venue, v.symbol, {k: np.array(a) for k, a in v.columns.items()}, v.source)


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


@pytest.mark.parametrize("source", ["traded", "total"])
def test_cached_windows_equal_a_pass_over_the_look_back(
    md: MarketData, source: OutflowSource
) -> None:
    rng = np.random.default_rng(2)
    venue = md["XNAS"]
    ts = venue.ts_event
    # random times (in random order: views shorter than the rows summed so far too), times
    # on events (the right-closed edges), before and at the first event
    times = [int(x) for x in rng.integers(int(ts[0]) - 5 * NS, int(ts[-1]) + 5 * NS, 40)]
    times += [int(ts[i]) for i in rng.integers(0, ts.shape[0], 20)]
    times += [int(ts[0]) - 1, int(ts[0]), int(ts[0]) + 61 * NS, int(ts[-1])]
    hot = _fresh(venue)
    kw: dict[str, Any] = {"lookback_ns": 6 * 60 * NS, "horizon_ns": 60 * NS, "source": source}
    outflow_samples(hot, times[0], side=1, **kw)  # the first request only records the memory
    assert _CUMULATIVE.rows(hot, source) == 0
    for t in times:
        for side in (1, -1):
            # the causal view, as the engine hands it: the same memory, cut at t
            got = outflow_samples(hot.between(None, t), t, side=side, **kw)
            # new memory each time: never cached, the per-window pass over the look-back
            want = outflow_samples(_fresh(venue), t, side=side, **kw)
            assert got.dtype == want.dtype
            assert got.tobytes() == want.tobytes(), (t, side)
    assert _CUMULATIVE.rows(hot, source) == len(venue)  # summed up to the latest view only


def test_the_sum_reads_the_views_it_is_given_only(md: MarketData) -> None:
    venue = _fresh(md["BATS"])
    ts = venue.ts_event
    kw: dict[str, Any] = {"side": 1, "lookback_ns": 300 * NS, "horizon_ns": 60 * NS}
    t = int(ts[len(ts) // 2])
    for _ in range(2):
        outflow_samples(venue.between(None, t), t, **kw)
    assert _CUMULATIVE.rows(venue, "traded") == int(np.searchsorted(ts, t, side="right"))
    outflow_samples(venue.between(None, t - 100 * NS), t - 100 * NS, **kw)  # an earlier view
    assert _CUMULATIVE.rows(venue, "traded") == int(np.searchsorted(ts, t, side="right"))


def test_cache_entries_go_with_their_memory(md: MarketData) -> None:
    venue = _fresh(md["BATS"])
    t = int(venue.ts_event[-1])
    for _ in range(2):
        outflow_samples(venue, t, side=1, lookback_ns=300 * NS, horizon_ns=60 * NS)
    assert _CUMULATIVE.rows(venue, "traded") == len(venue)
    key = _CUMULATIVE._key([venue[c] for c in _FLOW_COLUMNS])
    assert key in _CUMULATIVE._runs
    del venue
    gc.collect()
    assert key not in _CUMULATIVE._runs
    assert key not in _CUMULATIVE._seen


def test_unsorted_rows_fall_back_to_the_window_pass(md: MarketData) -> None:
    v = md["ARCX"]
    cols = {k: np.array(a) for k, a in v.columns.items()}
    cols["ts_event"][[5, 6]] = cols["ts_event"][[6, 5]]  # far before t: the window is sorted
    bad = VenueData(v.venue, v.symbol, cols, v.source)
    t = int(cols["ts_event"][-1])
    kw: dict[str, Any] = {"side": 1, "lookback_ns": 300 * NS, "horizon_ns": 60 * NS}
    first = outflow_samples(bad, t, **kw)
    assert outflow_samples(bad, t, **kw).tobytes() == first.tobytes()
    assert _CUMULATIVE.rows(bad, "traded") == 0


@pytest.mark.parametrize("source", ["traded", "total"])
def test_data_after_t_does_not_reach_the_cached_problem(
    md: MarketData, source: OutflowSource
) -> None:
    """The cache sums rows across decisions; the problem at t must still see nothing after t,
    whether it is handed the whole day or the causal view."""
    t = md.first_ts + 13 * 60 * NS + 12_345
    kw: dict[str, Any] = {
        "lookback_ns": 8 * 60 * NS,
        "horizon_ns": 60 * NS,
        "outflow_source": source,
    }
    base = MarketData(md.symbol, md.date, {v.venue: _fresh(v) for v in md}, md.timezone)
    future = _rewrite_future(md, t)
    for data in (base, future):  # the whole day: its cache holds rows after t
        router_inputs(data, t + 200 * NS, 400, 1, **kw)
        router_inputs(data, t + 300 * NS, 400, -1, **kw)
        assert all(_CUMULATIVE.rows(v, source) > 0 for v in data)
    for side in (1, -1):
        a = router_inputs(base, t, 400, side, **kw)
        for other in (future, future.between(None, t)):
            b = router_inputs(other, t, 400, side, **kw)
            assert a.problem.venues == b.problem.venues == md.venue_names
            assert a.problem.queues.tobytes() == b.problem.queues.tobytes()
            assert (a.best_bid, a.best_ask, a.market_venue) == (
                b.best_bid,
                b.best_ask,
                b.market_venue,
            )
            assert dict(a.n_samples) == dict(b.n_samples)
            for la, lb in zip(a.outflows, b.outflows, strict=True):
                assert la.samples.tobytes() == lb.samples.tobytes()  # type: ignore[attr-defined]
    # the rewrite is seen by a decision after it (the traded size grew by 11 per event)
    later_a = router_inputs(base, t + 120 * NS, 400, 1, **kw)
    later_b = router_inputs(future, t + 120 * NS, 400, 1, **kw)
    assert later_a.problem.queues.tobytes() != later_b.problem.queues.tobytes()
