"""The canonical VenueData / MarketData containers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from myopic_sor.data import ACTION_TRADE, SIDE_BID, MarketData, VenueData
from myopic_sor.exceptions import DataValidationError


def _columns(n: int = 5, levels: int = 2, counts: bool = False) -> dict[str, np.ndarray]:
    ts = 1_743_600_600_000_000_000 + np.arange(n, dtype=np.int64) * 1_000_000
    cols: dict[str, np.ndarray] = {
        "ts_event": ts,
        "ts_recv": ts + 10,
        "action": np.full(n, ord("A"), dtype=np.uint8),
        "side": np.full(n, SIDE_BID, dtype=np.uint8),
        "price": np.full(n, 100.0),
        "size": np.full(n, 100),
    }
    for lvl in range(levels):
        cols[f"bid_px_{lvl:02d}"] = np.full(n, 100.0 - 0.01 * lvl)
        cols[f"ask_px_{lvl:02d}"] = np.full(n, 100.02 + 0.01 * lvl)
        cols[f"bid_sz_{lvl:02d}"] = np.full(n, 300)
        cols[f"ask_sz_{lvl:02d}"] = np.full(n, 200)
        if counts:
            cols[f"bid_ct_{lvl:02d}"] = np.full(n, 3)
            cols[f"ask_ct_{lvl:02d}"] = np.full(n, 2)
    return cols


def test_venue_data_normalises_dtypes_and_freezes_columns() -> None:
    cols = _columns()
    cols["size"] = cols["size"].astype(np.int32)
    vd = VenueData("XNAS", "AAPL", cols, source="mem")
    assert vd.levels == 2
    assert not vd.has_counts
    assert vd["size"].dtype == np.int64
    assert vd["depth"].dtype == np.uint8  # filled in when absent
    with pytest.raises(ValueError, match="read-only"):
        vd["price"][0] = 1.0
    np.testing.assert_allclose(vd.mid_price, 100.01)
    assert vd.level_matrix("px", "bid").shape == (5, 2)


@pytest.mark.parametrize("drop", ["ts_event", "price", "bid_px_00"])
def test_missing_required_column_is_named(drop: str) -> None:
    cols = _columns()
    del cols[drop]
    with pytest.raises(DataValidationError, match=drop):
        VenueData("XNAS", "AAPL", cols, source="file.parquet")


def test_incomplete_level_and_counts_are_rejected() -> None:
    cols = _columns(levels=2, counts=True)
    del cols["ask_sz_01"]
    with pytest.raises(DataValidationError, match="ask_sz_01"):
        VenueData("XNAS", "AAPL", cols)
    cols = _columns(levels=1, counts=True)
    del cols["ask_ct_00"]
    with pytest.raises(DataValidationError, match="ask_ct_00"):
        VenueData("XNAS", "AAPL", cols)


def test_unknown_column_and_length_mismatch() -> None:
    cols = _columns()
    cols["foo"] = np.zeros(5)
    with pytest.raises(DataValidationError, match="'foo'"):
        VenueData("XNAS", "AAPL", cols)
    cols = _columns()
    cols["size"] = np.zeros(4)
    with pytest.raises(DataValidationError, match="4 rows, expected 5"):
        VenueData("XNAS", "AAPL", cols)


def test_between_is_inclusive_and_causal() -> None:
    vd = VenueData("XNAS", "AAPL", _columns(n=10))
    t = int(vd.ts_event[4])
    past = vd.between(None, t)
    assert len(past) == 5
    assert past.ts_event[-1] == t
    assert len(vd.between(t, t)) == 1
    assert len(vd.between(int(vd.ts_event[-1]) + 1, None)) == 0


def test_to_pandas_view() -> None:
    cols = _columns(n=3)
    cols["action"][1] = ACTION_TRADE
    df = VenueData("XNAS", "AAPL", cols).to_pandas()
    assert list(df["action"]) == ["A", "T", "A"]
    assert str(df["ts_event"].dt.tz) == "UTC"
    assert (df["venue"] == "XNAS").all()


def test_market_data_groups_one_symbol() -> None:
    a = VenueData("XNAS", "AAPL", _columns(n=3))
    b = VenueData("BATS", "AAPL", _columns(n=4))
    md = MarketData("AAPL", dt.date(2025, 4, 2), {"XNAS": a, "BATS": b})
    assert md.venue_names == ("BATS", "XNAS")
    assert md.n_events == 7
    assert len(md.to_pandas()) == 7
    assert md.to_pandas()["ts_event"].is_monotonic_increasing
    with pytest.raises(DataValidationError, match="MSFT"):
        MarketData("AAPL", dt.date(2025, 4, 2), {"XNAS": VenueData("XNAS", "MSFT", _columns())})
    with pytest.raises(KeyError, match="have BATS, XNAS"):
        md["ARCX"]


def test_session_bounds_follow_new_york_dst() -> None:
    md = MarketData("AAPL", dt.date(2025, 4, 2), {"XNAS": VenueData("XNAS", "AAPL", _columns())})
    lo, hi = md.session_bounds_ns(dt.time(9, 30), dt.time(16, 0))
    assert lo == np.datetime64("2025-04-02T13:30:00", "ns").astype(np.int64)  # EDT = UTC-4
    assert hi - lo == 23_400 * 10**9


def test_caller_arrays_stay_writeable() -> None:
    cols = _columns()
    vd = VenueData("XNAS", "AAPL", cols)
    cols["price"][0] = 1.0  # the caller's array is not frozen ...
    assert vd["price"][0] == 1.0  # ... and VenueData shares its memory (no copy)
    assert not vd["price"].flags.writeable


def test_lossy_casts_are_refused_with_the_column_and_row() -> None:
    cols = _columns()
    cols["size"] = np.array([100.0, 100.7, 100.0, 100.0, 100.0])
    with pytest.raises(DataValidationError, match=r"'size' holds non-integer.*row 1"):
        VenueData("XNAS", "AAPL", cols)
    cols = _columns()
    cols["bid_sz_00"] = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    with pytest.raises(DataValidationError, match=r"'bid_sz_00'.*row 1"):
        VenueData("XNAS", "AAPL", cols)
    cols = _columns()
    cols["ts_event"] = cols["ts_event"].astype(np.float64)
    with pytest.raises(DataValidationError, match="int64 UTC nanoseconds"):
        VenueData("XNAS", "AAPL", cols)
    cols = _columns()
    cols["size"] = np.array([1, 2, 3, 4, 2**63], dtype=np.uint64)
    with pytest.raises(DataValidationError, match="outside the int64 range"):
        VenueData("XNAS", "AAPL", cols)


def test_friendly_inputs_are_converted_exactly() -> None:
    cols = _columns()
    cols["size"] = np.array([100.0, 200.0, 300.0, 400.0, 500.0])  # whole floats: fine
    cols["ts_event"] = cols["ts_event"].astype("datetime64[ns]")
    cols["action"] = np.array(["A", "T", "A", "C", "A"])
    vd = VenueData("XNAS", "AAPL", cols)
    assert vd["size"].tolist() == [100, 200, 300, 400, 500]
    assert vd.ts_event[1] - vd.ts_event[0] == 1_000_000
    assert bytes(vd["action"]) == b"ATACA"
