"""Book features per venue and the consolidated top of book (NBBO)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pytest

from myopic_sor.data import MarketData, VenueData
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.features import (
    consolidated_book,
    cumulative_depth,
    merge_events,
    microprice,
    mid_price,
    spread,
    touch_depth,
)

NAN = float("nan")
Level = tuple[float, int]


def make_venue(
    name: str,
    ts: Sequence[int],
    bids: Sequence[Sequence[Level]],
    asks: Sequence[Sequence[Level]],
    *,
    levels: int = 1,
    action: str | None = None,
) -> VenueData:
    n = len(ts)
    cols: dict[str, np.ndarray] = {
        "ts_event": np.asarray(ts, dtype=np.int64),
        "ts_recv": np.asarray(ts, dtype=np.int64),
        "action": np.frombuffer((action or "N" * n).encode(), dtype=np.uint8),
        "side": np.frombuffer(b"N" * n, dtype=np.uint8),
        "price": np.full(n, NAN),
        "size": np.zeros(n, dtype=np.int64),
    }
    for side, book in (("bid", bids), ("ask", asks)):
        for k in range(levels):
            cols[f"{side}_px_{k:02d}"] = np.array(
                [row[k][0] if k < len(row) else NAN for row in book], dtype=np.float64
            )
            cols[f"{side}_sz_{k:02d}"] = np.array(
                [row[k][1] if k < len(row) else 0 for row in book], dtype=np.int64
            )
    return VenueData(name, "TEST", cols, source=f"test:{name}")


def market(*venues: VenueData) -> MarketData:
    return MarketData("TEST", dt.date(2024, 3, 5), {v.venue: v for v in venues})


@pytest.fixture
def three_levels() -> VenueData:
    return make_venue(
        "XNAS",
        [1, 2, 3],
        bids=[[(10.00, 100), (9.99, 200), (9.98, 300)], [(10.01, 50)], []],
        asks=[[(10.02, 300), (10.03, 100)], [(10.02, 150), (10.03, 0)], [(10.04, 40)]],
        levels=3,
    )


def test_spread_mid_microprice_hand_values(three_levels: VenueData) -> None:
    np.testing.assert_allclose(spread(three_levels)[:2], [0.02, 0.01], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mid_price(three_levels)[:2], [10.01, 10.015], rtol=0, atol=1e-12)
    # (10.00·300 + 10.02·100) / 400 = 10.005 ; (10.01·150 + 10.02·50) / 200 = 10.0125
    np.testing.assert_allclose(microprice(three_levels)[:2], [10.005, 10.0125], atol=1e-12)
    # Row 2 has an empty bid: everything that needs both sides is NaN.
    assert np.isnan(spread(three_levels)[2])
    assert np.isnan(mid_price(three_levels)[2])
    assert np.isnan(microprice(three_levels)[2])


def test_microprice_zero_sizes_is_nan() -> None:
    v = make_venue("XNAS", [1], bids=[[(10.0, 0)]], asks=[[(10.02, 0)]])
    assert np.isnan(microprice(v)[0])


def test_touch_and_cumulative_depth_with_empty_levels(three_levels: VenueData) -> None:
    bid_sz, ask_sz = touch_depth(three_levels)
    np.testing.assert_array_equal(bid_sz, [100, 50, 0])
    np.testing.assert_array_equal(ask_sz, [300, 150, 40])
    np.testing.assert_array_equal(
        cumulative_depth(three_levels, "bid"), [[100, 300, 600], [50, 50, 50], [0, 0, 0]]
    )
    np.testing.assert_array_equal(
        cumulative_depth(three_levels, "ask", 2), [[300, 400], [150, 150], [40, 40]]
    )


def test_cumulative_depth_ignores_size_on_nan_price() -> None:
    v = make_venue("XNAS", [1], bids=[[(10.0, 5)]], asks=[[(10.1, 7)]], levels=2)
    cols = dict(v.columns)
    cols["bid_sz_01"] = np.array([99], dtype=np.int64)  # junk size on an empty level
    v2 = VenueData("XNAS", "TEST", cols)
    np.testing.assert_array_equal(cumulative_depth(v2, "bid"), [[5, 5]])


def test_cumulative_depth_rejects_bad_arguments(three_levels: VenueData) -> None:
    with pytest.raises(ConfigError, match="levels=4 is out of range"):
        cumulative_depth(three_levels, "bid", 4)
    with pytest.raises(ConfigError, match="side must be"):
        cumulative_depth(three_levels, "buy")  # type: ignore[arg-type]


def test_merge_is_stable_on_ties_with_venues_in_name_order() -> None:
    b = make_venue("XB", [1, 1, 2], [[(1, 1)]] * 3, [[(2, 1)]] * 3)
    a = make_venue("XA", [1, 3], [[(1, 1)]] * 2, [[(2, 1)]] * 2)
    ev = merge_events(market(b, a))
    assert ev.venues == ("XA", "XB")
    np.testing.assert_array_equal(ev.ts_event, [1, 1, 1, 2, 3])
    np.testing.assert_array_equal(ev.venue_index, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(ev.row, [0, 0, 1, 2, 1])
    got = ev.gather({"XA": np.array([10, 11]), "XB": np.array([20, 21, 22])})
    np.testing.assert_array_equal(got, [10, 20, 21, 22, 11])
    with pytest.raises(KeyError, match="missing"):
        ev.gather({"XA": np.array([10, 11])})


def _nbbo_case() -> MarketData:
    xa = make_venue(
        "XA", [1, 3], bids=[[(10.00, 100)], [(10.01, 50)]], asks=[[(10.02, 200)], [(10.02, 200)]]
    )
    xb = make_venue(
        "XB",
        [1, 2, 3],
        bids=[[(10.00, 300)], [(10.00, 300)], []],
        asks=[[(10.03, 100)], [(10.02, 400)], [(10.02, 10)]],
    )
    xc = make_venue("XC", [], bids=[], asks=[])  # a venue with no events
    return market(xa, xb, xc)


def test_nbbo_hand_case_with_ties_empty_side_and_empty_venue() -> None:
    book = consolidated_book(_nbbo_case())
    assert book.venues == ("XA", "XB", "XC")
    np.testing.assert_array_equal(book.ts_event, [1, 1, 2, 3, 3])
    np.testing.assert_array_equal(book.events.venue_index, [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(book.best_bid, [10.00, 10.00, 10.00, 10.01, 10.01])
    np.testing.assert_array_equal(book.best_ask, [10.02, 10.02, 10.02, 10.02, 10.02])
    np.testing.assert_array_equal(book.bid_size, [100, 400, 400, 50, 50])
    np.testing.assert_array_equal(book.ask_size, [200, 200, 600, 600, 210])
    t, f = True, False
    np.testing.assert_array_equal(
        book.bid_venues, [[t, f, f], [t, t, f], [t, t, f], [t, f, f], [t, f, f]]
    )
    np.testing.assert_array_equal(
        book.ask_venues, [[t, f, f], [t, f, f], [t, t, f], [t, t, f], [t, t, f]]
    )
    np.testing.assert_allclose(book.mid_price, [10.01, 10.01, 10.01, 10.015, 10.015], atol=1e-12)
    np.testing.assert_allclose(book.spread, [0.02, 0.02, 0.02, 0.01, 0.01], atol=1e-12)
    assert len(book) == 5


def test_nbbo_before_any_quote_is_nan_with_zero_size() -> None:
    xa = make_venue("XA", [1, 2], bids=[[], [(9.0, 5)]], asks=[[], []])
    book = consolidated_book(market(xa))
    assert np.isnan(book.best_bid[0])
    assert book.best_bid[1] == 9.0
    assert np.isnan(book.best_ask).all()
    np.testing.assert_array_equal(book.bid_size, [0, 5])
    np.testing.assert_array_equal(book.ask_size, [0, 0])
    assert not book.ask_venues.any()


def test_nbbo_is_causal() -> None:
    rng = np.random.default_rng(7)
    venues = []
    for name in ("XA", "XB", "XC"):
        n = 60
        ts = np.sort(rng.integers(0, 40, n))  # many ties within and across venues
        bid = np.round(10 + rng.integers(-3, 3, n) * 0.01, 2)
        bids = [[(float(p), int(s))] for p, s in zip(bid, rng.integers(1, 9, n), strict=True)]
        asks = [
            [(float(p) + 0.02, int(s))] for p, s in zip(bid, rng.integers(1, 9, n), strict=True)
        ]
        venues.append(make_venue(name, ts.tolist(), bids, asks))
    md = market(*venues)
    base = consolidated_book(md)
    i = 90
    t_i = int(base.ts_event[i])
    # Rewrite every event after merged row i: later timestamps and new quotes.
    changed = []
    for v in md:
        # Merged position of every row of this venue.
        pos = np.empty(len(v), dtype=np.int64)
        vi = md.venue_names.index(v.venue)
        pos[base.events.row[base.events.venue_index == vi]] = np.flatnonzero(
            base.events.venue_index == vi
        )
        after = pos > i
        cols = dict(v.columns)
        cols["bid_px_00"] = np.where(after, 50.0, v.best_bid)
        cols["ask_px_00"] = np.where(after, 60.0, v.best_ask)
        cols["bid_sz_00"] = np.where(after, 1, v["bid_sz_00"])
        cols["ts_event"] = np.where(after, np.maximum(v.ts_event, t_i) + 5, v.ts_event)
        changed.append(VenueData(v.venue, "TEST", cols))
    mod = consolidated_book(market(*changed))
    np.testing.assert_array_equal(mod.best_bid[: i + 1], base.best_bid[: i + 1])
    np.testing.assert_array_equal(mod.best_ask[: i + 1], base.best_ask[: i + 1])
    np.testing.assert_array_equal(mod.bid_size[: i + 1], base.bid_size[: i + 1])
    np.testing.assert_array_equal(mod.bid_venues[: i + 1], base.bid_venues[: i + 1])
    assert not np.array_equal(mod.best_bid, base.best_bid)  # the change did reach later rows


def test_unsorted_venue_is_rejected_with_row() -> None:
    v = make_venue("XA", [5, 3], bids=[[(1.0, 1)]] * 2, asks=[[(2.0, 1)]] * 2)
    with pytest.raises(DataValidationError, match=r"row 1 \(3 ns\)"):
        merge_events(market(v))
