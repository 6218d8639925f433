"""Validation of the canonical data, the spec's DataFrame checks and the data-quality filters."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import MarketData, VenueData
from myopic_sor.data._validate import (
    FILTER_REASONS,
    DataFilterLike,
    FilterReport,
    ValidationReport,
    _jump_keep_nb,
    _jump_keep_py,
    apply_filters,
    data_quality_checks,
    filter_mask,
    validate_data,
    validate_market_data,
    validate_venue,
)
from myopic_sor.exceptions import ConfigError, DataQualityWarning, DataValidationError

T0 = 1_743_602_400_000_000_000  # 2025-04-02 14:00:00 UTC = 10:00 New York (EDT)
MS = 1_000_000
S = 1_000_000_000
A, B, N, T = ord("A"), ord("B"), ord("N"), ord("T")


def _cols(n: int = 6, levels: int = 2, step_ns: int = MS) -> dict[str, np.ndarray]:
    ts = T0 + np.arange(n, dtype=np.int64) * step_ns
    cols: dict[str, np.ndarray] = {
        "ts_event": ts,
        "ts_recv": ts + 10,
        "action": np.full(n, A, dtype=np.uint8),
        "side": np.full(n, B, dtype=np.uint8),
        "price": np.full(n, 100.0),
        "size": np.full(n, 100, dtype=np.int64),
    }
    for lvl in range(levels):
        cols[f"bid_px_{lvl:02d}"] = np.full(n, 100.0 - 0.01 * lvl)
        cols[f"ask_px_{lvl:02d}"] = np.full(n, 100.02 + 0.01 * lvl)
        cols[f"bid_sz_{lvl:02d}"] = np.full(n, 300, dtype=np.int64)
        cols[f"ask_sz_{lvl:02d}"] = np.full(n, 200, dtype=np.int64)
    return cols


def _vd(cols: dict[str, np.ndarray]) -> VenueData:
    return VenueData("XNAS", "AAPL", cols, source="/data/AAPL/xnas-itch-20250402.mbp-10.parquet")


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


# ---------------------------------------------------------------------------------------------
# validate_venue: clean data and hard errors
# ---------------------------------------------------------------------------------------------
def test_clean_venue_passes_without_warnings() -> None:
    vd = _vd(_cols())
    report = validate_venue(vd)
    assert isinstance(report, ValidationReport)
    assert report.ok
    assert not report.repaired
    assert report.data is vd
    assert report.n_rows_in == report.n_rows_out == 6
    assert all(c.count == 0 for c in report.checks.values())
    assert all(c.detail == "" and c.first_row is None for c in report.checks.values())
    assert report["crossed_book"].severity == "warning"
    assert report["bad_trade_price"].severity == "error"
    d = report.to_dict()
    assert d["ok"] is True
    checks = d["checks"]
    assert isinstance(checks, dict)
    assert set(checks) == set(report.checks)
    text = report.summary()
    assert "XNAS" in text
    assert "crossed_book" in text
    assert "OK" in text
    with pytest.raises(KeyError, match="no check 'nope'"):
        report["nope"]


def test_zero_rows_is_an_error() -> None:
    cols = {k: v[:0] for k, v in _cols().items()}
    with pytest.raises(DataValidationError, match=r"XNAS .*xnas-itch-20250402.*no rows.*Fix:"):
        validate_venue(_vd(cols))


@pytest.mark.parametrize("bad", [0, np.iinfo(np.int64).max, -1])
def test_undefined_ts_event_is_an_error(bad: int) -> None:
    cols = _cols()
    cols["ts_event"] = cols["ts_event"].copy()
    cols["ts_event"][2] = bad
    with pytest.raises(DataValidationError) as err:
        validate_venue(_vd(cols))
    msg = str(err.value)
    assert "ts_event is undefined" in msg
    assert "in 1 row(s); first at row 2" in msg
    assert f"ts_event={bad}" in msg
    assert f"ts_recv {_iso(T0 + 2 * MS + 10)}" in msg
    assert "venue XNAS (/data/AAPL/xnas-itch-20250402.mbp-10.parquet)" in msg
    assert "Fix: drop these records" in msg


def test_unsorted_ts_event_is_an_error_naming_row_and_time() -> None:
    cols = _cols()
    cols["ts_event"] = cols["ts_event"][[0, 1, 2, 5, 3, 4]]
    with pytest.raises(DataValidationError) as err:
        validate_venue(_vd(cols))
    msg = str(err.value)
    assert "not sorted: 2 row(s)" in msg
    assert f"first at row 4, ts_event {_iso(T0 + 3 * MS)} after {_iso(T0 + 5 * MS)}" in msg
    assert "repair=True" in msg


def test_repair_sorts_stably_and_warns_once_with_count() -> None:
    cols = _cols()
    cols["ts_event"] = np.array([T0 + 3, T0 + 1, T0 + 2, T0 + 1, T0 + 4, T0], dtype=np.int64)
    cols["size"] = np.arange(1, 7, dtype=np.int64) * 100  # tags the input rows
    with pytest.warns(DataQualityWarning) as rec:
        report = validate_venue(_vd(cols), repair=True)
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 1
    assert "unsorted_ts: 4 row(s)" in msgs[0]
    assert "first at row 1" in msgs[0]
    out = report.data
    np.testing.assert_array_equal(out.ts_event, np.sort(cols["ts_event"], kind="stable"))
    # stable: the two rows at T0+1 keep their input order (rows 1 then 3)
    np.testing.assert_array_equal(out["size"], [600, 200, 400, 300, 100, 500])
    c = report["unsorted_ts"]
    assert (c.count, c.first_row, c.first_ts_ns, c.repaired) == (4, 1, T0 + 1, 4)
    assert report.repaired
    assert not report.ok
    # same-ns rows after sorting are counted (info), first row reported as an input row index
    assert report.n_duplicate_ts == 1
    assert report["duplicate_ts"].first_row == 3


@pytest.mark.parametrize("bad_price", [np.nan, 0.0, -1.5, np.inf])
@pytest.mark.parametrize("action", ["T", "F"])
def test_trade_with_bad_price_is_an_error(bad_price: float, action: str) -> None:
    cols = _cols()
    cols["action"] = cols["action"].copy()
    cols["action"][3] = ord(action)
    cols["price"] = cols["price"].copy()
    cols["price"][3] = bad_price
    with pytest.raises(DataValidationError) as err:
        validate_venue(_vd(cols))
    msg = str(err.value)
    assert "trade (action T/F)" in msg
    assert f"first at row 3, ts_event {_iso(T0 + 3 * MS)}" in msg
    assert f"price={bad_price!r}" in msg
    assert "Fix: check the loader's price scaling" in msg


def test_non_trade_rows_may_have_nan_price() -> None:
    cols = _cols()
    cols["price"] = np.full(6, np.nan)
    assert validate_venue(_vd(cols)).ok


@pytest.mark.parametrize("bad_size", [0, -100])
def test_trade_with_non_positive_size_is_an_error(bad_size: int) -> None:
    cols = _cols()
    cols["action"] = np.full(6, T, dtype=np.uint8)
    cols["size"] = cols["size"].copy()
    cols["size"][4] = bad_size
    with pytest.raises(DataValidationError, match=r"zero or negative 'size'") as err:
        validate_venue(_vd(cols))
    assert f"row 4, ts_event {_iso(T0 + 4 * MS)} (size={bad_size})" in str(err.value)
    assert "Fix:" in str(err.value)


@pytest.mark.parametrize("bad", [0.0, -99.0])
def test_book_price_zero_or_negative_is_an_error(bad: float) -> None:
    cols = _cols()
    cols["ask_px_01"] = cols["ask_px_01"].copy()
    cols["ask_px_01"][1] = bad
    cols["ask_px_01"][5] = bad
    with pytest.raises(DataValidationError) as err:
        validate_venue(_vd(cols))
    msg = str(err.value)
    assert "book price in column(s) ask_px_01" in msg
    assert f"in 2 row(s); first at row 1, ts_event {_iso(T0 + MS)} (ask_px_01={bad!r})" in msg
    assert "empty levels must be NaN, not 0" in msg


def test_nan_levels_are_empty_levels_and_accepted() -> None:
    cols = _cols(levels=3)
    for side in ("bid", "ask"):
        cols[f"{side}_px_02"] = np.full(6, np.nan)
        cols[f"{side}_sz_02"] = np.zeros(6, dtype=np.int64)
    cols["bid_px_01"] = np.array([99.99, np.nan, np.nan, 99.99, 99.99, 99.99])
    cols["bid_px_00"] = np.array([100.0, 100.0, np.nan, 100.0, 100.0, 100.0])  # 1 ms empty bid
    report = validate_venue(_vd(cols))
    assert report.ok


def test_negative_book_size_is_an_error_naming_column() -> None:
    cols = _cols()
    cols["bid_sz_01"] = cols["bid_sz_01"].copy()
    cols["bid_sz_01"][5] = -3
    with pytest.raises(
        DataValidationError, match=r"negative size or count in column\(s\) bid_sz_01"
    ) as err:
        validate_venue(_vd(cols))
    assert f"row 5, ts_event {_iso(T0 + 5 * MS)} (bid_sz_01=-3)" in str(err.value)


def test_negative_event_size_on_non_trade_is_an_error() -> None:
    cols = _cols()
    cols["size"] = cols["size"].copy()
    cols["size"][0] = -1
    with pytest.raises(
        DataValidationError, match=r"column\(s\) size in 1 row\(s\); first at row 0, ts_event"
    ):
        validate_venue(_vd(cols))


@pytest.mark.parametrize(
    ("column", "code", "shown"), [("action", ord("X"), "'X' (88)"), ("side", 0, "byte 0")]
)
def test_unknown_codes_are_errors_naming_the_code(column: str, code: int, shown: str) -> None:
    cols = _cols()
    cols[column] = cols[column].copy()
    cols[column][2] = code
    cols[column][4] = code
    with pytest.raises(DataValidationError) as err:
        validate_venue(_vd(cols))
    msg = str(err.value)
    assert f"unknown {column} code(s) {shown} in column {column!r}" in msg
    assert f"in 2 row(s); first at row 2, ts_event {_iso(T0 + 2 * MS)}" in msg
    assert "Fix: map the source's" in msg


# ---------------------------------------------------------------------------------------------
# validate_venue: warnings
# ---------------------------------------------------------------------------------------------
def test_crossed_and_locked_books_are_counted_with_one_warning_each() -> None:
    cols = _cols(n=8)
    cols["bid_px_00"] = np.array([100.0, 100.03, 100.05, 100.0, 100.02, 100.02, 100.0, 100.0])
    # rows 1 and 2 crossed (ask 100.02), rows 4 and 5 locked
    with pytest.warns(DataQualityWarning) as rec:
        report = validate_venue(_vd(cols))
    msgs = sorted(str(w.message) for w in rec)
    assert len(msgs) == 2  # one per check, not one per row
    crossed = report["crossed_book"]
    locked = report["locked_book"]
    assert (crossed.count, crossed.first_row, crossed.first_ts_ns) == (2, 1, T0 + MS)
    assert (locked.count, locked.first_row, locked.first_ts_ns) == (2, 4, T0 + 4 * MS)
    assert any("crossed_book: 2 row(s)" in m and _iso(T0 + MS) in m for m in msgs)
    assert any("locked_book: 2 row(s)" in m and _iso(T0 + 4 * MS) in m for m in msgs)
    assert not report.ok


def test_non_monotone_levels_and_gaps_are_flagged() -> None:
    cols = _cols(n=5, levels=3)
    cols["bid_px_01"] = np.array([99.99, 100.0, 99.99, 99.99, 99.99])  # row 1 equals the touch
    cols["ask_px_02"] = np.array([100.04, 100.04, 100.02, 100.04, 100.04])  # row 2 better than 01
    cols["ask_px_01"] = np.array([100.03, 100.03, 100.03, np.nan, 100.03])  # row 3 hole
    with pytest.warns(DataQualityWarning) as rec:
        report = validate_venue(_vd(cols))
    assert report["non_monotone_levels"].count == 2
    assert report["non_monotone_levels"].first_row == 1
    assert report["book_gap"].count == 1
    assert report["book_gap"].first_row == 3
    assert len(rec) == 2


def test_duplicate_timestamps_are_counted_but_not_warned() -> None:
    cols = _cols()
    cols["ts_event"] = np.array([T0, T0, T0, T0 + 5, T0 + 5, T0 + 9], dtype=np.int64)
    cols["size"] = np.arange(1, 7, dtype=np.int64)  # distinct rows: not exact duplicates
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = validate_venue(_vd(cols))
    assert report.ok
    assert report.n_duplicate_ts == 3
    assert report["duplicate_ts"].first_row == 1
    assert report["duplicate_ts"].severity == "info"
    assert "at most 3 events in one ns" in report["duplicate_ts"].detail
    assert report["duplicate_rows"].count == 0


def _with_duplicates() -> dict[str, np.ndarray]:
    cols = _cols(n=7)
    cols["ts_event"] = np.array([T0, T0, T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3], dtype=np.int64)
    cols["ts_recv"] = cols["ts_event"] + 10
    cols["action"] = np.array([A, T, A, T, T, A, A], dtype=np.uint8)
    cols["size"] = np.array([100, 50, 100, 30, 30, 100, 100], dtype=np.int64)
    # row 2 duplicates row 0 (book record, not adjacent); row 4 duplicates trade row 3;
    # row 5/6 are equal in value but at different timestamps: not duplicates
    return cols


def test_exact_duplicate_rows_warned_without_repair() -> None:
    vd = _vd(_with_duplicates())
    with pytest.warns(DataQualityWarning, match=r"duplicate_rows: 2 row\(s\).*repair=True") as rec:
        report = validate_venue(vd)
    assert len(rec) == 1
    c = report["duplicate_rows"]
    assert (c.count, c.first_row, c.repaired) == (2, 2, 0)
    assert "1 book record(s), 1 trade(s)" in c.detail
    assert report.data is vd


def test_repair_drops_duplicate_book_records_and_keeps_trades() -> None:
    vd = _vd(_with_duplicates())
    with pytest.warns(DataQualityWarning, match="duplicated trades are kept") as rec:
        report = validate_venue(vd, repair=True)
    assert len(rec) == 1
    assert report.n_rows_out == 6
    assert report["duplicate_rows"].repaired == 1
    np.testing.assert_array_equal(report.data["action"], [A, T, T, T, A, A])
    np.testing.assert_array_equal(report.data["size"], [100, 50, 30, 30, 100, 100])
    assert report.repaired


def test_long_empty_side_is_warned_but_the_opening_build_up_is_not() -> None:
    n = 8
    cols = _cols(n=n, step_ns=10 * S)  # one row every 10 s
    bid = np.full(n, 100.0)
    bid[:2] = np.nan  # book building up at the start: ignored
    bid[3:7] = np.nan  # empty from row 3 (t=30 s) until row 7 (t=70 s): 40 s, below 60 s
    cols["bid_px_00"] = bid.copy()
    cols["bid_px_01"] = np.where(np.isnan(bid), np.nan, 99.99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_venue(_vd(cols))["empty_side"].count == 0
    cols2 = _cols(n=n, step_ns=20 * S)  # one row every 20 s: the stretch lasts 80 s
    cols2["bid_px_00"] = bid
    cols2["bid_px_01"] = np.where(np.isnan(bid), np.nan, 99.99)
    with pytest.warns(DataQualityWarning, match=r"empty_side: 1 stretch\(es\)") as rec:
        report = validate_venue(_vd(cols2))
    assert len(rec) == 1
    c = report["empty_side"]
    assert (c.count, c.first_row, c.first_ts_ns) == (1, 3, T0 + 60 * S)
    assert "longest 80.0 s on the bid side" in c.detail


def test_empty_stretch_running_to_the_last_row_is_measured_to_it() -> None:
    n = 6
    cols = _cols(n=n, step_ns=30 * S)
    ask = np.full(n, 100.02)
    ask[3:] = np.nan  # from t=90 s to the last row at t=150 s: 60 s, at the threshold
    cols["ask_px_00"] = ask
    cols["ask_px_01"] = np.where(np.isnan(ask), np.nan, 100.03)
    with pytest.warns(DataQualityWarning, match="longest 60.0 s on the ask side"):
        report = validate_venue(_vd(cols))
    assert report["empty_side"].first_ts_ns == T0 + 90 * S


def test_side_never_quoted_is_warned() -> None:
    cols = _cols(n=3)
    for k in ("00", "01"):
        cols[f"ask_px_{k}"] = np.full(3, np.nan)
    with pytest.warns(DataQualityWarning, match="never quoted: ask"):
        report = validate_venue(_vd(cols))
    assert report["empty_side"].count == 1
    assert report["empty_side"].first_row == 0


# ---------------------------------------------------------------------------------------------
# validate_market_data
# ---------------------------------------------------------------------------------------------
def test_validate_market_data_returns_same_object_when_clean_and_repairs_otherwise() -> None:
    good = _vd(_cols())
    md = MarketData("AAPL", dt.date(2025, 4, 2), {"XNAS": good})
    same, reports = validate_market_data(md)
    assert same is md
    assert reports["XNAS"].ok

    cols = _cols()
    cols["ts_event"] = cols["ts_event"][::-1].copy()
    bad = VenueData("BATS", "AAPL", cols, source="bats.parquet")
    md2 = MarketData("AAPL", dt.date(2025, 4, 2), {"XNAS": good, "BATS": bad})
    with pytest.raises(DataValidationError, match="venue BATS"):
        validate_market_data(md2)
    with pytest.warns(DataQualityWarning, match="venue BATS"):
        fixed, reports2 = validate_market_data(md2, repair=True)
    assert fixed is not md2
    assert fixed["XNAS"] is good
    assert np.all(np.diff(fixed["BATS"].ts_event) >= 0)
    assert reports2["BATS"]["unsorted_ts"].count == 5


# ---------------------------------------------------------------------------------------------
# the spec's validate_data / data_quality_checks
# ---------------------------------------------------------------------------------------------
def _spec_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts_event": pd.to_datetime([T0, T0 + 1, T0 + 1], unit="ns", utc=True),
            "best_bid": [100.0, 100.01, 100.0],
            "best_ask": [100.02, 100.01, 100.03],
            "volume": [100, 200, 300],
        }
    )


def test_validate_data_passes_spec_frame_and_logs_each_check(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="myopic_sor.data._validate"):
        assert validate_data(_spec_frame()) is True
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "non_empty: ✅",
        "has_timestamps: ✅",
        "has_prices: ✅",
        "price_sanity: ✅",
        "spread_sanity: ✅",
        "time_sorted: ✅",
    ]


@pytest.mark.parametrize(
    ("mutate", "failed"),
    [
        (lambda df: df.assign(best_bid=[100.0, -1.0, 100.0]), {"price_sanity"}),
        (lambda df: df.assign(best_bid=[100.0, np.nan, 100.0]), {"price_sanity", "spread_sanity"}),
        (lambda df: df.assign(best_ask=[100.02, 100.0, 100.03]), {"spread_sanity"}),
        (lambda df: df.iloc[::-1].reset_index(drop=True), {"time_sorted"}),
        (
            lambda df: df.drop(columns=["best_ask"]),
            {"has_prices", "price_sanity", "spread_sanity"},
        ),
        (lambda df: df.drop(columns=["ts_event"]), {"has_timestamps", "time_sorted"}),
    ],
)
def test_data_quality_checks_flag_exactly_the_broken_check(
    mutate: Callable[[pd.DataFrame], pd.DataFrame], failed: set[str]
) -> None:
    checks = data_quality_checks(mutate(_spec_frame()))
    assert list(checks) == [
        "non_empty",
        "has_timestamps",
        "has_prices",
        "price_sanity",
        "spread_sanity",
        "time_sorted",
    ]
    assert {k for k, v in checks.items() if not v} == failed
    assert validate_data(mutate(_spec_frame())) is False


def test_validate_data_on_empty_frames_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="myopic_sor.data._validate"):
        assert validate_data(pd.DataFrame()) is False
    assert "non_empty: ❌" in caplog.text
    checks = data_quality_checks(pd.DataFrame())
    assert not any(checks.values())
    empty_cols = data_quality_checks(_spec_frame().iloc[:0])
    assert empty_cols["non_empty"] is False
    assert empty_cols["has_prices"] is True
    assert empty_cols["price_sanity"] is True  # vacuous, as in the spec


def test_validate_data_maps_databento_columns_of_venue_frames() -> None:
    df = _vd(_cols()).to_pandas()
    assert "best_bid" not in df.columns
    assert validate_data(df) is True
    cols = _cols()
    cols["bid_px_00"] = np.full(6, np.nan)  # an empty side fails the spec's strict check
    cols["bid_px_01"] = np.full(6, np.nan)
    with pytest.warns(DataQualityWarning):
        validate_venue(_vd(cols))  # the canonical validator only warns (never quoted)
    assert data_quality_checks(_vd(cols).to_pandas())["price_sanity"] is False


# ---------------------------------------------------------------------------------------------
# data filters
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Filters:
    min_spread_bps: float | None = None
    max_spread_bps: float | None = None
    min_volume: float | None = None
    max_price_change: float | None = None
    exclude_auction: bool = False


def _local_ns(day: str, hhmmss: str) -> int:
    return int(pd.Timestamp(f"{day} {hhmmss}").tz_localize("America/New_York").value)


def _book_vd(
    bid: np.ndarray, ask: np.ndarray, *, ts: np.ndarray | None = None, **extra: np.ndarray
) -> VenueData:
    n = bid.shape[0]
    cols = _cols(n=n, levels=1)
    cols["bid_px_00"] = bid.astype(np.float64)
    cols["ask_px_00"] = ask.astype(np.float64)
    if ts is not None:
        cols["ts_event"] = ts
        cols["ts_recv"] = ts
    cols.update(extra)
    return _vd(cols)


def test_filters_accept_the_protocol_and_the_spec_dict() -> None:
    f: DataFilterLike = _Filters(max_spread_bps=10)
    vd = _book_vd(np.array([100.0, 100.0]), np.array([100.02, 100.5]))
    with pytest.warns(DataQualityWarning):
        m1, _ = filter_mask(vd, f)
    with pytest.warns(DataQualityWarning):
        m2, _ = filter_mask(vd, {"max_spread_bps": 10, "exclude_auction": False})
    np.testing.assert_array_equal(m1, [True, False])
    np.testing.assert_array_equal(m2, m1)


def test_nothing_excluded_means_no_warning_and_same_object() -> None:
    vd = _book_vd(np.array([100.0, 100.0]), np.array([100.02, 100.03]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, report = apply_filters(vd, _Filters(min_spread_bps=1, max_spread_bps=100))
    assert out is vd
    assert report.n_kept == report.n_total == 2
    assert report.kept_fraction == 1.0
    assert all(v == 0 for v in report.counts.values())


def test_spread_rule_exact_mask_with_inclusive_bounds_and_one_sided_rows() -> None:
    bid = np.array([100.0, 99.995, 100.0, 100.0, 100.0, np.nan, 100.1, 100.0, 99.95])
    ask = np.array([100.02, 100.005, 100.0, 100.5, 100.11, 100.0, 100.0, np.nan, 100.05])
    # spread bps: 2.0, 1.0 (boundary), 0 (locked), ~49.9, ~11.0, one-sided, crossed,
    # one-sided, 10.0 (boundary)
    vd = _book_vd(bid, ask)
    with pytest.warns(DataQualityWarning) as rec:
        mask, report = filter_mask(vd, _Filters(min_spread_bps=1, max_spread_bps=10))
    assert len(rec) == 1
    np.testing.assert_array_equal(mask, [1, 1, 0, 0, 0, 0, 0, 0, 1])
    assert report.counts["spread_below_min"] == 2  # locked and crossed
    assert report.counts["spread_above_max"] == 2
    assert report.counts["one_sided_book"] == 2
    assert report.first_ts_ns["one_sided_book"] == T0 + 5 * MS
    assert report.first_ts_ns["spread_below_min"] == T0 + 2 * MS
    assert report.n_kept + sum(report.counts.values()) == report.n_total
    msg = str(rec[0].message)
    assert "excluded 6 of 9 rows" in msg
    assert f"one_sided_book 2 (first {_iso(T0 + 5 * MS)})" in msg


def test_min_volume_applies_to_trades_only() -> None:
    n = 5
    action = np.array([T, ord("F"), A, T, T], dtype=np.uint8)
    size = np.array([50, 99, 10, 100, 500], dtype=np.int64)
    vd = _book_vd(np.full(n, 100.0), np.full(n, 100.02), action=action, size=size)
    with pytest.warns(DataQualityWarning, match="below_min_volume 2"):
        mask, report = filter_mask(vd, _Filters(min_volume=100))
    np.testing.assert_array_equal(mask, [0, 0, 1, 1, 1])
    assert report.counts["below_min_volume"] == 2


def test_session_and_auction_rules_in_local_time() -> None:
    day = "2025-04-02"  # EDT (UTC-4)
    times = ["09:29:59.999999999", "09:30:00", "09:30:00.001", "12:00:00", "15:59:59.999", "16:00"]
    ts = np.array([_local_ns(day, t) for t in times], dtype=np.int64)
    action = np.array([A, T, T, T, A, A], dtype=np.uint8)
    side = np.array([B, N, A, N, B, B], dtype=np.uint8)  # row 1 opening cross, row 3 a cross
    vd = _book_vd(np.full(6, 100.0), np.full(6, 100.02), ts=ts, action=action, side=side)
    with pytest.warns(DataQualityWarning) as rec:
        mask, report = filter_mask(vd, _Filters(exclude_auction=True))
    assert len(rec) == 1
    np.testing.assert_array_equal(mask, [0, 0, 1, 0, 1, 0])
    assert report.counts["outside_session"] == 2
    assert report.counts["auction_trade"] == 2
    assert report.first_ts_ns["outside_session"] == ts[0]
    assert report.first_ts_ns["auction_trade"] == ts[1]
    # winter (EST, UTC-5): the same wall-clock rule
    ts_w = np.array(
        [_local_ns("2025-01-15", "09:29:00"), _local_ns("2025-01-15", "09:31:00")], dtype=np.int64
    )
    vd_w = _book_vd(np.full(2, 100.0), np.full(2, 100.02), ts=ts_w)
    with pytest.warns(DataQualityWarning):
        mask_w, _ = filter_mask(vd_w, _Filters(exclude_auction=True))
    np.testing.assert_array_equal(mask_w, [False, True])
    # a custom half-day session
    with pytest.warns(DataQualityWarning):
        mask_h, _ = filter_mask(
            vd, _Filters(exclude_auction=True), session=(dt.time(9, 30), dt.time(12, 0))
        )
    np.testing.assert_array_equal(mask_h, [0, 0, 1, 0, 0, 0])


def test_price_jump_drops_a_spike_but_not_the_return() -> None:
    mids = np.array([100.0, 100.5, 104.0, 100.6, 101.0, 97.0, 101.2])
    vd = _book_vd(mids - 0.01, mids + 0.01)
    with pytest.warns(DataQualityWarning, match=r"price_jump 2"):
        mask, report = filter_mask(vd, _Filters(max_price_change=0.02))
    np.testing.assert_array_equal(mask, [1, 1, 0, 1, 1, 0, 1])
    assert report.first_ts_ns["price_jump"] == T0 + 2 * MS


def test_price_jump_reference_skips_rows_excluded_by_earlier_rules() -> None:
    mids = np.array([100.0, 150.0, 101.0])
    bid = mids - 0.01
    ask = mids + 0.01
    ask[1] = mids[1] + 10.0  # row 1 has a huge spread: excluded by the spread rule first
    vd = _book_vd(bid, ask)
    with pytest.warns(DataQualityWarning):
        mask, report = filter_mask(vd, _Filters(max_spread_bps=100, max_price_change=0.02))
    np.testing.assert_array_equal(mask, [1, 0, 1])
    assert report.counts["spread_above_max"] == 1
    assert report.counts["price_jump"] == 0


def test_price_jump_accepts_a_persistent_new_level() -> None:
    mids = np.concatenate([np.full(3, 100.0), np.full(5, 110.0)])
    vd = _book_vd(mids - 0.01, mids + 0.01)
    with pytest.warns(DataQualityWarning):
        mask_never, _ = filter_mask(vd, _Filters(max_price_change=0.02), max_outlier_run=0)
    np.testing.assert_array_equal(mask_never, [1, 1, 1, 0, 0, 0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask_reset, report = filter_mask(vd, _Filters(max_price_change=0.02), max_outlier_run=3)
    assert mask_reset.all()
    assert report.counts["price_jump"] == 0


def test_rule_precedence_counts_each_row_once() -> None:
    day = "2025-04-02"
    ts = np.array(
        [_local_ns(day, "09:00"), _local_ns(day, "10:00"), _local_ns(day, "10:00:01")],
        dtype=np.int64,
    )
    # row 0: pre-market AND wide AND a small trade -> only outside_session
    # row 1: wide AND small trade -> only spread_above_max
    action = np.full(3, T, dtype=np.uint8)
    size = np.array([1, 1, 1000], dtype=np.int64)
    vd = _book_vd(
        np.full(3, 100.0), np.array([105.0, 105.0, 100.02]), ts=ts, action=action, size=size
    )
    f = _Filters(max_spread_bps=50, min_volume=100, exclude_auction=True)
    with pytest.warns(DataQualityWarning):
        out, report = apply_filters(vd, f)
    assert isinstance(report, FilterReport)
    assert dict(report.counts) == {
        "outside_session": 1,
        "auction_trade": 0,
        "one_sided_book": 0,
        "spread_below_min": 0,
        "spread_above_max": 1,
        "below_min_volume": 0,
        "price_jump": 0,
    }
    assert tuple(report.counts) == FILTER_REASONS
    assert len(out) == 1
    assert int(out["size"][0]) == 1000
    d = report.to_dict()
    assert d["n_excluded"] == 2
    assert d["settings"]["session_open"] == "09:30:00"  # type: ignore[index]
    assert "spread_above_max" in report.summary()


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ({"min_spread": 1}, "unknown key"),
        ({"min_spread_bps": -1}, "min_spread_bps"),
        ({"min_spread_bps": 20, "max_spread_bps": 10}, "exceeds"),
        ({"max_price_change": 0}, "max_price_change"),
        ({"min_volume": "100"}, "min_volume"),
        ({"exclude_auction": "yes"}, "exclude_auction"),
    ],
)
def test_bad_filter_values_raise_config_error(filters: dict[str, object], match: str) -> None:
    vd = _book_vd(np.full(2, 100.0), np.full(2, 100.02))
    with pytest.raises(ConfigError, match=match):
        filter_mask(vd, filters)


def test_object_missing_a_filter_attribute_is_named() -> None:
    @dataclass(frozen=True)
    class Partial:
        min_spread_bps: float = 1.0

    vd = _book_vd(np.full(2, 100.0), np.full(2, 100.02))
    with pytest.raises(ConfigError, match="has no attribute 'max_spread_bps'"):
        filter_mask(vd, Partial())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="IANA"):
        filter_mask(vd, _Filters(exclude_auction=True), timezone="Mars/Olympus")


@pytest.mark.parametrize("max_run", [0, 2, 3, 10])
def test_price_jump_kernel_matches_python_twin(max_run: int) -> None:
    rng = np.random.default_rng(7)
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, 3000)))
    spikes = rng.choice(3000, 60, replace=False)
    mid[spikes] *= rng.choice([0.9, 1.1], 60)
    mid[1500:] *= 1.2  # a level shift
    got = _jump_keep_nb(mid, 0.02, max_run)
    want = _jump_keep_py(mid, 0.02, max_run)
    np.testing.assert_array_equal(got, want)
    assert 0 < np.count_nonzero(~want) < 3000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_duplicate_rows_match_pandas_duplicated(seed: int) -> None:
    """The hash-based detector equals pandas' exact `duplicated(keep='first')`, NaN included."""
    from myopic_sor.data._validate import _duplicate_rows

    rng = np.random.default_rng(seed)
    n = 400
    cols = _cols(n=n)
    cols["ts_event"] = np.sort(T0 + rng.integers(0, 40, n) * MS)  # many equal timestamps
    cols["ts_recv"] = cols["ts_event"] + 10
    cols["size"] = rng.integers(1, 3, n) * 100
    cols["bid_px_01"] = np.where(rng.random(n) < 0.3, np.nan, 99.99)
    cols["action"] = rng.choice(np.array([A, T], dtype=np.uint8), n)
    vd = _vd(cols)
    got = _duplicate_rows(vd, np.arange(n, dtype=np.int64))
    want = pd.DataFrame(dict(vd.columns)).duplicated(keep="first").to_numpy()
    assert got.sum() > 0
    np.testing.assert_array_equal(got, want)
