"""Order-flow imbalance, signed trade volume and queue outflows."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from myopic_sor.data import VenueData
from myopic_sor.exceptions import ConfigError, DataQualityWarning
from myopic_sor.features import (
    ofi_buckets,
    order_flow_imbalance,
    queue_outflow_events,
    queue_outflows,
    signed_trade_volume,
)

NAN = float("nan")
S = 1_000_000_000  # one second in ns
Level = tuple[float, int]


def make_venue(
    ts: Sequence[int],
    bids: Sequence[Sequence[Level]],
    asks: Sequence[Sequence[Level]],
    *,
    levels: int = 1,
    action: str | None = None,
    side: str | None = None,
    price: Sequence[float] | None = None,
    size: Sequence[int] | None = None,
) -> VenueData:
    n = len(ts)
    cols: dict[str, np.ndarray] = {
        "ts_event": np.asarray(ts, dtype=np.int64),
        "ts_recv": np.asarray(ts, dtype=np.int64),
        "action": np.frombuffer((action or "N" * n).encode(), dtype=np.uint8),
        "side": np.frombuffer((side or "N" * n).encode(), dtype=np.uint8),
        "price": np.asarray(price if price is not None else [NAN] * n, dtype=np.float64),
        "size": np.asarray(size if size is not None else [0] * n, dtype=np.int64),
    }
    for name, book in (("bid", bids), ("ask", asks)):
        for k in range(levels):
            cols[f"{name}_px_{k:02d}"] = np.array(
                [row[k][0] if k < len(row) else NAN for row in book], dtype=np.float64
            )
            cols[f"{name}_sz_{k:02d}"] = np.array(
                [row[k][1] if k < len(row) else 0 for row in book], dtype=np.int64
            )
    return VenueData("XNAS", "TEST", cols, source="test")


# -- OFI ------------------------------------------------------------------------------------------


def test_ofi_hand_case_single_level() -> None:
    v = make_venue(
        [0, 1, 2, 3, 4, 5],
        bids=[[(10.00, 100)], [(10.00, 150)], [(10.01, 30)], [(10.00, 150)], [], [(9.99, 20)]],
        asks=[
            [(10.02, 200)],
            [(10.02, 200)],
            [(10.02, 200)],
            [(10.01, 40)],
            [(10.03, 60)],
            [(10.03, 60)],
        ],
    )
    e = order_flow_imbalance(v)
    assert e.shape == (6, 1)
    # 0: no previous book; 1: bid size +50 at the same price; 2: bid improves to 30 shares;
    # 3: bid falls (-30) and ask improves to 40 (-40); 4: bid side empties (-150) and the ask
    # retreats (+40); 5: a bid appears (+20), ask unchanged.
    np.testing.assert_array_equal(e[:, 0], [0, 50, 30, -70, -110, 20])


def test_ofi_empty_level_stays_zero() -> None:
    v = make_venue(
        [0, 1, 2],
        bids=[[(10.0, 5)], [(10.0, 7)], [(10.0, 7), (9.99, 4)]],
        asks=[[(10.1, 5)], [(10.1, 5)], [(10.1, 5)]],
        levels=2,
    )
    e = order_flow_imbalance(v)
    np.testing.assert_array_equal(e, [[0, 0], [2, 0], [0, 4]])
    np.testing.assert_array_equal(order_flow_imbalance(v, levels=1), e[:, :1])
    with pytest.raises(ConfigError, match="levels=3"):
        order_flow_imbalance(v, levels=3)


def _cks_direct(pb: list[float], qb: list[float], pa: list[float], qa: list[float]) -> list[float]:
    """Cont, Kukanov & Stoikov (2014) eq. (2), transcribed; NaN levels as (-inf|+inf, 0)."""

    def fix(p: float, q: float, empty: float) -> tuple[float, float]:
        return (empty, 0.0) if math.isnan(p) else (p, q)

    out = [0.0]
    for n in range(1, len(pb)):
        pb_n, qb_n = fix(pb[n], qb[n], -math.inf)
        pb_p, qb_p = fix(pb[n - 1], qb[n - 1], -math.inf)
        pa_n, qa_n = fix(pa[n], qa[n], math.inf)
        pa_p, qa_p = fix(pa[n - 1], qa[n - 1], math.inf)
        e = 0.0
        e += qb_n if pb_n >= pb_p else 0.0
        e -= qb_p if pb_n <= pb_p else 0.0
        e -= qa_n if pa_n <= pa_p else 0.0
        e += qa_p if pa_n >= pa_p else 0.0
        out.append(e)
    return out


def test_ofi_matches_direct_cks_transcription_on_random_books() -> None:
    rng = np.random.default_rng(42)
    n, levels = 400, 3
    bids, asks = [], []
    for _ in range(n):
        top = 10 + 0.01 * int(rng.integers(-3, 4))
        b = [(round(top - 0.01 * k, 2), int(rng.integers(1, 50))) for k in range(levels)]
        a = [(round(top + 0.01 * (k + 1), 2), int(rng.integers(1, 50))) for k in range(levels)]
        bids.append(b[: int(rng.integers(0, levels + 1))])  # random empty levels
        asks.append(a[: int(rng.integers(0, levels + 1))])
    v = make_venue(list(range(n)), bids, asks, levels=levels)
    e = order_flow_imbalance(v)
    for m in range(levels):
        want = _cks_direct(
            v[f"bid_px_{m:02d}"].tolist(),
            v[f"bid_sz_{m:02d}"].astype(float).tolist(),
            v[f"ask_px_{m:02d}"].tolist(),
            v[f"ask_sz_{m:02d}"].astype(float).tolist(),
        )
        np.testing.assert_array_equal(e[:, m], want)


def test_ofi_buckets_hand_case_per_level_depth_and_aggregate() -> None:
    v = make_venue(
        [0, 1 * S, 4 * S],
        bids=[
            [(10.00, 100), (9.99, 300)],
            [(10.00, 150), (9.99, 300)],
            [(10.00, 150), (9.99, 300)],
        ],
        asks=[
            [(10.02, 200), (10.03, 400)],
            [(10.02, 200), (10.03, 400)],
            [(10.02, 100), (10.03, 500)],
        ],
        levels=2,
    )
    b = ofi_buckets(v, 3 * S, start_ns=0, end_ns=8 * S)
    np.testing.assert_array_equal(b.start_ns, [0, 3 * S, 6 * S])
    np.testing.assert_array_equal(b.n_events, [2, 1, 0])
    np.testing.assert_array_equal(b.per_level, [[50, 0], [100, -100], [0, 0]])
    np.testing.assert_allclose(b.depth[:2], [[162.5, 350.0], [125.0, 400.0]])
    assert np.isnan(b.depth[2]).all()
    np.testing.assert_allclose(b.aggregate, [50 / 162.5, 100 / 125 - 100 / 400, 0.0])
    assert len(b) == 3


def test_ofi_buckets_default_grid_is_clock_aligned_and_covers_the_data() -> None:
    v = make_venue(
        [61 * S, 62 * S, 185 * S],
        bids=[[(10.0, 1)], [(10.0, 3)], [(10.0, 4)]],
        asks=[[(10.1, 1)]] * 3,
    )
    b = ofi_buckets(v, 60 * S)
    np.testing.assert_array_equal(b.start_ns, [60 * S, 120 * S, 180 * S])
    np.testing.assert_array_equal(b.per_level[:, 0], [2, 0, 1])
    with pytest.raises(ConfigError, match="bucket_ns"):
        ofi_buckets(v, 0)
    with pytest.raises(ConfigError, match="bucket_ns"):
        ofi_buckets(v, 1.5)  # type: ignore[arg-type]


def test_ofi_on_empty_venue() -> None:
    v = make_venue([], [], [])
    assert order_flow_imbalance(v).shape == (0, 1)
    b = ofi_buckets(v, S)
    assert len(b) == 0
    assert b.aggregate.shape == (0,)


# -- signed trade volume --------------------------------------------------------------------------


def test_signed_volume_uses_the_aggressor_and_counts_unknown() -> None:
    v = make_venue(
        [0, 1, 2, 3, 4, 5],
        bids=[[(10.0, 5)]] * 6,
        asks=[[(10.1, 5)]] * 6,
        action="TTTFAT",
        side="BANABB",
        price=[10.1, 10.0, 10.0, 10.0, 10.0, 10.1],
        size=[100, 30, 7, 30, 50, 20],
    )
    with pytest.warns(DataQualityWarning, match=r"1 of 4 trade\(s\) \(7 shares\)"):
        flow = signed_trade_volume(v)
    np.testing.assert_array_equal(flow.bid_fill, [100, 0, 0, 0, 0, 20])
    np.testing.assert_array_equal(flow.ask_fill, [0, 30, 0, 0, 0, 0])
    np.testing.assert_array_equal(flow.signed_volume, [100, -30, 0, 0, 0, 20])
    assert (flow.n_unknown, flow.unknown_volume, flow.total_volume) == (1, 7, 157)


def test_signed_volume_without_unknown_does_not_warn() -> None:
    v = make_venue([0], [[(10.0, 5)]], [[(10.1, 5)]], action="T", side="A", price=[10.0], size=[9])
    flow = signed_trade_volume(v)  # filterwarnings=error would fail on any warning
    assert flow.signed_volume.tolist() == [-9]


# -- queue outflows -------------------------------------------------------------------------------


def _order_event_day() -> VenueData:
    """Databento-style: a trade (T) leaves the book as it is; the cancel (C) after it updates it."""
    rows = [
        # ts, action, side, price, size, bid, ask
        (0, "A", "B", 10.00, 100, (10.00, 100), (10.02, 200)),
        (1, "T", "A", 10.00, 30, (10.00, 100), (10.02, 200)),  # seller hits the bid
        (1, "C", "B", 10.00, 30, (10.00, 70), (10.02, 200)),  # ...which removes 30
        (2, "C", "B", 10.00, 20, (10.00, 50), (10.02, 200)),  # a real cancel
        (2, "A", "B", 10.00, 30, (10.00, 80), (10.02, 200)),  # inflow, not outflow
        (4, "T", "B", 10.02, 200, (10.00, 80), (10.02, 200)),  # buyer takes the whole ask
        (4, "C", "A", 10.02, 200, (10.00, 80), (10.03, 50)),  # level gone: 200 left
        (5, "A", "B", 10.01, 10, (10.01, 10), (10.03, 50)),  # better bid: no outflow
        (5, "T", "N", 10.01, 10, (10.01, 10), (10.03, 50)),  # unknown aggressor at the bid
        (5, "C", "B", 10.01, 10, (10.00, 80), (10.03, 50)),  # bid level 10.01 gone: 10 left
        (7, "R", "N", NAN, 0, (NAN, 0), (NAN, 0)),  # book clear: not flow
    ]
    return make_venue(
        [r[0] * S for r in rows],
        bids=[[r[5]] for r in rows],
        asks=[[r[6]] for r in rows],
        action="".join(r[1] for r in rows),
        side="".join(r[2] for r in rows),
        price=[r[3] for r in rows],
        size=[r[4] for r in rows],
    )


def test_queue_outflow_events_order_event_source_counts_fills_once() -> None:
    bid, ask = queue_outflow_events(_order_event_day())
    np.testing.assert_array_equal(bid, [0, 0, 30, 20, 0, 0, 0, 0, 0, 10, 0])
    np.testing.assert_array_equal(ask, [0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0])


def test_queue_outflows_buckets_hand_case() -> None:
    q = queue_outflows(_order_event_day(), 3 * S, start_ns=0)
    np.testing.assert_array_equal(q.start_ns, [0, 3 * S, 6 * S])
    np.testing.assert_array_equal(q.bid_outflow, [50, 10, 0])
    np.testing.assert_array_equal(q.ask_outflow, [0, 200, 0])
    np.testing.assert_array_equal(q.bid_traded, [30, 10, 0])
    np.testing.assert_array_equal(q.ask_traded, [0, 200, 0])
    assert len(q) == 3


def test_queue_outflows_quote_only_source() -> None:
    """TAQ-style: quotes are N rows, trades T rows that leave the quote as it is."""
    v = make_venue(
        [0, 1 * S, 2 * S, 3 * S, 4 * S],
        bids=[[(10.00, 100)], [(10.00, 100)], [(10.00, 60)], [(10.00, 90)], [(9.99, 500)]],
        asks=[[(10.02, 50)], [(10.02, 50)], [(10.02, 20)], [(10.02, 20)], [(10.03, 5)]],
        action="NTNNN",
        side="NANNN",
        price=[NAN, 10.00, NAN, NAN, NAN],
        size=[0, 40, 0, 0, 0],
    )
    bid, ask = queue_outflow_events(v)
    np.testing.assert_array_equal(bid, [0, 0, 40, 0, 90])
    np.testing.assert_array_equal(ask, [0, 0, 30, 0, 20])
    q = queue_outflows(v, 10 * S, start_ns=0)
    assert (q.bid_outflow.tolist(), q.bid_traded.tolist()) == ([130], [40])
    assert (q.ask_outflow.tolist(), q.ask_traded.tolist()) == ([50], [0])


def test_trade_away_from_the_touch_is_not_traded_at_touch() -> None:
    v = make_venue(
        [0, 1],
        bids=[[(10.00, 100)], [(10.00, 100)]],
        asks=[[(10.02, 200)], [(10.02, 200)]],
        action="AT",
        side="BA",
        price=[10.00, 9.98],  # e.g. a print below the displayed bid (hidden / odd lot)
        size=[100, 5],
    )
    q = queue_outflows(v, S, start_ns=0)
    assert q.bid_traded.sum() == 0
    assert q.bid_outflow.sum() == 0
