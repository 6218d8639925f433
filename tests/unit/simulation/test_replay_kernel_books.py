"""The replay kernel against its plain-Python twin on books that change as real MBP rows do (a
level at a time, shifts, trades, crossings, two changes in a row), with orders at every depth;
and the exchange's fills on both layouts of the level columns (tuple, 2-D view)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from _kernel_drive import TICK, drive, orders_around, sparse_book

from myopic_sor.data import MarketData, VenueData, generate_market_data
from myopic_sor.simulation import ReplayExchange, _kernels, _python
from myopic_sor.simulation._replay import _levels

MODELS = [(0, 0.0), (1, 1.0), (1, 2.5), (2, 0.0)]


def _both(data: tuple[Any, ...], orders: list[np.ndarray], **kw: Any) -> list[object]:
    fast = drive(_kernels.replay_kernel, data, orders, **kw)
    slow = drive(_python.replay_kernel, data, orders, **kw)
    assert repr(fast) == repr(slow)  # exact (floats repr round-trip), NaN equal to NaN
    return fast


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("code", "param"), MODELS)
def test_kernel_matches_its_twin_on_realistic_books(seed: int, code: int, param: float) -> None:
    rng = np.random.default_rng(100 + seed)
    data = sparse_book(rng, 3_000, 4)
    kinds: set[int] = set()
    for start in range(0, 2_900, 150):  # fresh orders every 150 rows, as a router re-posts
        orders = orders_around(rng, data, 8, start)
        cap = 16 if start % 600 == 0 else 4096  # a small buffer exercises the "full" stop
        out = _both(data, orders, code=code, param=param, cap=cap, start=start)
        kinds |= {k for x in out[::2] for k in x[3][_kernels.F_KIND]}  # type: ignore[index]
    assert kinds == {_kernels.FILL_QUEUE, _kernels.FILL_THROUGH, _kernels.FILL_CROSS}


def test_kernel_matches_its_twin_one_sided_and_on_2d_levels() -> None:
    rng = np.random.default_rng(7)
    data = sparse_book(rng, 2_000, 5)
    as_2d = (*data[:5], *(np.stack(levels) for levels in data[5:]))  # levels x rows arrays
    for m, keep in ((6, 1), (6, -1), (5, 0)):
        o_int, o_flt = orders_around(rng, data, m)
        if keep:  # one side only
            o_int[0] = keep
        for book in (data, as_2d):
            _both(book, [o_int, o_flt], code=1, param=2.0, cap=4096)


def _rows(bids: list[list[tuple[float, int]]], asks: list[list[tuple[float, int]]]) -> Any:
    """Kernel inputs of A rows whose books are given level by level (3 levels)."""
    n = len(bids)

    def side(rows: list[list[tuple[float, int]]]) -> tuple[Any, Any]:
        px = [[r[k][0] if k < len(r) else np.nan for r in rows] for k in range(3)]
        sz = [[r[k][1] if k < len(r) else 0 for r in rows] for k in range(3)]
        return tuple(np.array(a) for a in px), tuple(np.array(a, dtype=np.int64) for a in sz)

    return (
        np.arange(n, dtype=np.int64), np.full(n, ord("A"), np.uint8),
        np.full(n, ord("B"), np.uint8), np.full(n, np.nan), np.zeros(n, np.int64),
        *side(bids), *side(asks),
    )  # fmt: skip


def test_a_level_leaving_our_price_in_a_two_level_row() -> None:
    """Row 2 (bids) and row 7 (asks) move the level at our price to a better one and show the
    level behind unchanged: the scan at our price now finds a gap (its size drops to 0)."""
    bid = [(9.99, 100), (9.98, 200), (9.97, 300)]
    ask = [(10.02, 100), (10.03, 200), (10.04, 300)]
    bid2 = [(10.0, 50), (9.99, 100), (9.97, 300)]  # 9.98 gone, 10.00 new: 2 levels in 1 row
    ask2 = [(10.01, 50), (10.02, 100), (10.04, 300)]
    data = _rows([bid] * 2 + [bid2] * 8, [ask] * 7 + [ask2] * 3)  # drive's calls: 0-5, 6-9
    o_int = np.array([[1, -1], [500, 500], [200, 200]], dtype=np.int64)
    o_flt = np.array([[9.98, 10.03], [150.0, 150.0], [0.0, 0.0]])
    out = _both(data, [o_int, o_flt], code=0, param=0.0, cap=64)
    assert out[-1] == [[[1, -1], [500, 500], [0, 0]], [[9.98, 10.03], [0.0, 0.0], [0.0, 0.0]]]


def test_an_order_with_a_nan_price_sees_its_side_end() -> None:
    """A sell with a NaN price (which the exchange never sends) finds no level but an empty
    one: it sees its side end (a NaN level) in row 2, like the twin."""
    bid = [(9.99, 100), (9.98, 200), (9.97, 300)]
    ask = [(10.02, 100), (10.03, 200), (10.04, 300)]
    data = _rows([bid] * 6, [ask] * 2 + [ask[:2]] * 4)
    o_int = np.array([[1, -1], [500, 500], [100, -1]], dtype=np.int64)
    o_flt = np.array([[9.99, np.nan], [50.0, np.inf], [0.0, 0.0]])
    out = _both(data, [o_int, o_flt], code=0, param=0.0, cap=64)
    assert repr(out[-1]) == repr(
        [[[1, -1], [500, 500], [100, 0]], [[9.99, math.nan], [50.0, 0.0], [0.0, 0.0]]]
    )


def test_level_columns_are_one_2d_view_when_level_major() -> None:
    block = np.arange(30.0).reshape(3, 10)
    cols = [block[k, 2:8] for k in range(3)]  # rows of one buffer, like the generator's
    view = _levels(cols)
    assert isinstance(view, np.ndarray)
    assert view.shape == (3, 6)
    assert not view.flags.writeable
    np.testing.assert_array_equal(view, np.stack(cols))
    separate = [np.arange(6.0) + k for k in range(3)]
    assert isinstance(_levels(separate), tuple)  # separate arrays: no copy, a tuple
    assert isinstance(_levels([block[0], block[2]]), np.ndarray)  # any equal stride
    assert isinstance(_levels([block[0], block[2], block[1]]), tuple)  # not in order
    single = _levels([block[1]])
    assert isinstance(single, np.ndarray)
    assert single.shape == (1, 10)


def _separate_columns(md: MarketData) -> MarketData:
    """The same data with every level column in its own buffer (as loaders make them)."""
    venues = {}
    for name in md.venue_names:
        v = md[name]
        cols = {k: np.array(a, copy=True) for k, a in v.columns.items()}
        venues[name] = VenueData(venue=name, symbol=md.symbol, columns=cols, source="copy")
    return MarketData(symbol=md.symbol, date=md.date, venues=venues)


def test_exchange_fills_are_the_same_on_both_level_layouts() -> None:
    md, _ = generate_market_data(seed=9, session_end=dt.time(9, 33))
    frames = []
    for data in (md, _separate_columns(md)):
        ex = ReplayExchange(data, fees=0.003, rebates=0.002, queue_model="prob-power:2")
        layout = type(ex._books[0].bid_px)
        t0 = data.first_ts
        for k in range(10):
            t = t0 + (3 + 9 * k) * 10**9
            ex.advance_to(t)
            for v in data.venue_names:
                bid = float(data[v].between(None, t).best_bid[-1])
                ask = float(data[v].between(None, t).best_ask[-1])
                ex.submit_limit(t, v, "buy", bid, 400, cancel_after_ns=8 * 10**9)
                ex.submit_limit(t, v, "sell", round(ask + TICK, 2), 300, cancel_after_ns=12 * 10**9)
                ex.submit_limit(t, v, "buy", round(bid - 3 * TICK, 2), 200)
        ex.advance_to(data.last_ts)
        frames.append((layout, ex.fills_frame()))
    (l2d, a), (ltup, b) = frames
    assert l2d is np.ndarray  # the generator stores levels level-major
    assert ltup is tuple
    assert len(a) > 20
    assert a.equals(b)
