"""load_market_data: format detection, windows (DST included) and their errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from myopic_sor.data import VenueData, detect_format, layout_path, load_market_data, write_venue
from myopic_sor.data._load import _Window
from myopic_sor.exceptions import DataQualityWarning, DataValidationError

NY = "America/New_York"


def _venue(venue: str, start: str, n: int, step_s: float = 1.0) -> VenueData:
    t0 = pd.Timestamp(start, tz=NY).value
    ts = t0 + (np.arange(n) * step_s * 1e9).astype(np.int64)
    cols = {
        "ts_event": ts,
        "ts_recv": ts,
        "action": np.full(n, ord("A"), np.uint8),
        "side": np.full(n, ord("B"), np.uint8),
        "price": np.full(n, 50.0),
        "size": np.full(n, 100),
        "bid_px_00": np.full(n, 50.0),
        "ask_px_00": np.full(n, 50.01),
        "bid_sz_00": np.full(n, 100),
        "ask_sz_00": np.full(n, 100),
    }
    return VenueData(venue, "AAPL", cols)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2025, 3, 9), 23), (dt.date(2025, 11, 2), 25), (dt.date(2025, 4, 2), 24)],
)
def test_a_day_window_follows_dst(day: dt.date, hours: int) -> None:
    lo, hi = _Window(day, None, None, NY).bounds_ns()
    assert lo is not None
    assert hi is not None
    assert hi - lo + 1 == hours * 3600 * 10**9
    assert pd.Timestamp(lo, tz="UTC").tz_convert(NY).hour == 0


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(DataValidationError, match="ends before it starts"):
        _Window(dt.date(2025, 4, 2), dt.time(10), dt.time(9, 31), NY).bounds_ns()


def test_windows_on_a_layout(tmp_path: Path) -> None:
    day = dt.date(2025, 4, 2)
    write_venue(_venue("XNAS", "2025-04-02 09:30", 600), layout_path(tmp_path, "AAPL", "XNAS", day))
    write_venue(_venue("BATS", "2025-04-02 09:35", 60), layout_path(tmp_path, "AAPL", "BATS", day))
    with pytest.warns(DataQualityWarning, match="left out: BATS"):  # nothing from BATS then
        md = load_market_data(tmp_path / "AAPL", start="09:31", end="09:32")
    assert md.venue_names == ("XNAS",)
    assert len(md["XNAS"]) == 61  # inclusive bounds: 09:31:00 .. 09:32:00
    with pytest.raises(DataValidationError, match=r"no events in the requested window"):
        load_market_data(tmp_path / "AAPL", start="15:00", end="15:30")
    with pytest.raises(DataValidationError, match="2025-04-03"):
        load_market_data(layout_path(tmp_path, "AAPL", "XNAS", day), day="2025-04-03")


def test_several_days_need_a_date(tmp_path: Path) -> None:
    a = _venue("XNAS", "2025-04-02 15:59", 30)
    b = _venue("XNAS", "2025-04-03 09:30", 30)
    cols = {k: np.concatenate([a[k], b[k]]) for k in a.columns}
    path = tmp_path / "xnas-itch-20250402.mbp-10.parquet"
    write_venue(VenueData("XNAS", "AAPL", cols), path)
    with pytest.raises(DataValidationError, match=r"several days \(2025-04-02, 2025-04-03\)"):
        load_market_data(path)
    md = load_market_data(path, day="2025-04-03")
    assert len(md["XNAS"]) == 30
    assert md.date == dt.date(2025, 4, 3)


def test_detect_format(tmp_path: Path) -> None:
    vd = _venue("XNAS", "2025-04-02 09:30", 5)
    for ext, fmt in [
        ("parquet", "databento-parquet"),
        ("csv", "databento-csv"),
        ("dbn.zst", "dbn"),
        ("dbn", "dbn"),
    ]:
        p = tmp_path / f"x.mbp-10.{ext}"
        write_venue(vd, p)
        assert detect_format(p) == fmt
    assert detect_format(tmp_path) == "layout-dir"
    msg = tmp_path / "m.csv"
    msg.write_text("34200.1,1,5,100,1000000,1\n")
    assert detect_format(msg) == "lobster-message"
    book = tmp_path / "b.csv"
    book.write_text("1000100,100,1000000,100\n")
    assert detect_format(book) == "lobster-orderbook"


def _csv(tmp_path: Path, body: str, header: str | None = None) -> Path:
    head = header or (
        "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,"
        "flags,ts_in_delta,sequence,bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_ct_00,"
        "ask_ct_00,symbol"
    )
    p = tmp_path / "xnas-itch-20250402.mbp-1.csv"
    p.write_text(head + "\n" + body)
    return p


ROWS_WHOLE = (
    "2025-04-02T13:30:00.000000001Z,2025-04-02T13:30:00.000000001Z,1,2,7,A,B,0,220,100,0,0,1,"
    "220,221,100,100,1,1,BRK\n"
    "2025-04-02T13:30:00.000000002Z,2025-04-02T13:30:00.000000002Z,1,2,7,T,B,0,221,100,0,0,2,"
    "220,221,100,100,1,1,BRK\n"
)


def test_whole_number_decimal_prices_are_not_read_as_fixed_point(tmp_path: Path) -> None:
    md = load_market_data(_csv(tmp_path, ROWS_WHOLE))
    np.testing.assert_array_equal(md["XNAS"]["price"], [220.0, 221.0])
    np.testing.assert_array_equal(md["XNAS"]["ask_px_00"], [221.0, 221.0])


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    p = _csv(tmp_path, ROWS_WHOLE)
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert load_market_data(p).n_events == 2


def test_naive_iso_timestamps_get_a_clear_message(tmp_path: Path) -> None:
    from myopic_sor.exceptions import DataFormatError

    body = ROWS_WHOLE.replace("Z,", ",")
    with pytest.raises(DataFormatError, match=r"ts_\w+.*with a zone"):
        load_market_data(_csv(tmp_path, body))


def test_an_implausible_price_scale_is_an_error(tmp_path: Path) -> None:
    vd = _venue("XNAS", "2025-04-02 09:30", 10)
    cols = dict(vd.columns)
    cols["action"] = np.full(10, ord("T"), np.uint8)
    cols["price"] = np.full(10, 2.2e-7)  # 220 read as 1e-9 fixed point
    path = tmp_path / "xnas-itch-20250402.mbp-1.parquet"
    write_venue(VenueData("XNAS", "AAPL", cols), path)
    with pytest.raises(DataValidationError, match="implausible price scale"):
        load_market_data(path)
