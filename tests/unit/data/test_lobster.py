"""LOBSTER loader: message-type mapping, exact timestamps, book columns, names and errors."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from myopic_sor.data._lobster import (
    _fixed_width_seconds_ns,
    _seconds_to_ns,
    lobster_orderbook_path,
    looks_like_lobster_message,
    looks_like_lobster_orderbook,
    parse_lobster_filename,
    read_lobster,
)
from myopic_sor.data._schema import (
    MAX_LEVELS,
    STATUS_HALTED,
    STATUS_NORMAL,
    STATUS_QUOTING,
    STATUS_TRADING,
)
from myopic_sor.exceptions import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
)

E_ASK = "9999999999"
E_BID = "-9999999999"

# Two-level extract: (message line, order-book line after that message).
PAIR = [
    ("34200.000000001,1,1,100,5859400,1", f"{E_ASK},0,5859400,100,{E_ASK},0,{E_BID},0"),
    ("34200.5,1,2,50,5860000,-1", f"5860000,50,5859400,100,{E_ASK},0,{E_BID},0"),
    ("34201.25,1,3,200,5859000,1", f"5860000,50,5859400,100,{E_ASK},0,5859000,200"),
    ("34202,2,3,50,5859000,1", f"5860000,50,5859400,100,{E_ASK},0,5859000,150"),
    ("34203.123456789,4,1,40,5859400,1", f"5860000,50,5859400,60,{E_ASK},0,5859000,150"),
    ("34204,5,0,10,5859700,-1", f"5860000,50,5859400,60,{E_ASK},0,5859000,150"),
    ("34205,3,2,50,5860000,-1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859000,150"),
    ("34206,7,0,0,-1,-1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859000,150"),
    ("34207,7,0,0,0,-1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859000,150"),
    ("34208,6,-1,1000,5859500,-1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859000,150"),
    ("34209,7,0,0,1,-1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859000,150"),
    ("34210,1,4,10,5859200,1", f"{E_ASK},0,5859400,60,{E_ASK},0,5859200,10"),
]
NAME = "AAPL_2012-06-21_34200000_57600000_{kind}_2.csv"
NAME1 = "AAPL_2012-06-21_34200000_57600000_{kind}_1.csv"
NAME3 = "AAPL_2012-06-21_34200000_34300000_{kind}_2.csv"
OPEN_UTC_NS_SUMMER = 1_340_285_400_000_000_000  # 2012-06-21 13:30:00 UTC = 09:30 EDT
OPEN_UTC_NS_WINTER = 1_325_601_000_000_000_000  # 2012-01-03 14:30:00 UTC = 09:30 EST


def _write(
    root: Path,
    messages: list[str],
    book: list[str],
    name: str = NAME,
) -> tuple[Path, Path]:
    msg = root / name.format(kind="message")
    ob = root / name.format(kind="orderbook")
    msg.write_text("".join(f"{line}\n" for line in messages))
    ob.write_text("".join(f"{line}\n" for line in book))
    return msg, ob


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path, [m for m, _ in PAIR], [b for _, b in PAIR])


def test_every_message_type_maps_to_canonical_rows(pair: tuple[Path, Path], tmp_path: Path) -> None:
    vd = read_lobster(*pair)
    assert (vd.venue, vd.symbol, vd.levels, len(vd)) == ("XNAS", "AAPL", 2, 12)
    df = vd.to_pandas()
    assert df["action"].tolist() == list("AAACTTCNNTNA")
    # 4: resting buy hit → seller-initiated (A); 5: resting sell lifted → buyer-initiated (B)
    assert df["side"].tolist() == list("BABBABANNNNB")
    np.testing.assert_array_equal(
        vd["price"],
        [
            585.94,
            586.0,
            585.9,
            585.9,
            585.94,
            585.97,
            586.0,
            np.nan,
            np.nan,
            585.95,
            np.nan,
            585.92,
        ],
    )
    np.testing.assert_array_equal(vd["size"], [100, 50, 200, 50, 40, 10, 50, 0, 0, 1000, 0, 10])
    # depth: level of the price in the book before the event, else after, else 0
    np.testing.assert_array_equal(vd["depth"], [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    n, h, q, t = STATUS_NORMAL, STATUS_HALTED, STATUS_QUOTING, STATUS_TRADING
    np.testing.assert_array_equal(vd["status"], [n, n, n, n, n, n, n, h, q, n, t, n])
    assert vd["status"].dtype == np.uint8
    no_halts = _write(tmp_path, [m for m, _ in PAIR[:7]], [b for _, b in PAIR[:7]], name=NAME3)
    assert "status" not in read_lobster(*no_halts)


def test_book_columns_after_each_message_with_empty_levels_nan(pair: tuple[Path, Path]) -> None:
    vd = read_lobster(*pair)
    nan = np.nan
    np.testing.assert_array_equal(vd["ask_px_00"][:3], [nan, 586.0, 586.0])
    np.testing.assert_array_equal(vd["ask_sz_00"][:3], [0, 50, 50])
    np.testing.assert_array_equal(vd["bid_px_00"][[0, 4, 11]], [585.94, 585.94, 585.94])
    np.testing.assert_array_equal(vd["bid_sz_00"][[0, 4, 11]], [100, 60, 60])
    np.testing.assert_array_equal(
        vd["bid_px_01"][[0, 1, 2, 3, 11]], [nan, nan, 585.9, 585.9, 585.92]
    )
    np.testing.assert_array_equal(vd["bid_sz_01"][[0, 2, 3, 11]], [0, 200, 150, 10])
    assert np.isnan(vd["ask_px_01"]).all()
    assert (vd["ask_sz_01"] == 0).all()
    assert np.isnan(vd["ask_px_00"][6:]).all()


def test_timestamps_are_exact_utc_ns_in_summer(pair: tuple[Path, Path]) -> None:
    vd = read_lobster(*pair)
    ts = vd.ts_event
    assert ts.dtype == np.int64
    assert ts[0] == OPEN_UTC_NS_SUMMER + 1
    assert ts[1] == OPEN_UTC_NS_SUMMER + 500_000_000
    assert ts[4] == OPEN_UTC_NS_SUMMER + 3_123_456_789
    np.testing.assert_array_equal(vd["ts_recv"], ts)


def test_timestamps_winter_date_is_est(tmp_path: Path) -> None:
    name = "MSFT_2012-01-03_34200000_57600000_{kind}_2.csv"
    msg, ob = _write(tmp_path, [PAIR[0][0], PAIR[4][0]], [PAIR[0][1], PAIR[4][1]], name=name)
    vd = read_lobster(msg, ob)
    assert vd.symbol == "MSFT"
    np.testing.assert_array_equal(
        vd.ts_event, [OPEN_UTC_NS_WINTER + 1, OPEN_UTC_NS_WINTER + 3_123_456_789]
    )


def test_more_than_nine_decimals_round_to_the_nanosecond(tmp_path: Path) -> None:
    messages = ["34200.0042411759999,1,1,1,100,1", "34200.99999999951,1,2,1,100,1"]
    book = [f"{E_ASK},0,100,1", f"{E_ASK},0,100,2"]
    msg, ob = _write(tmp_path, messages, book, name="X_2012-06-21_0_1_{kind}_1.csv")
    ts = read_lobster(msg, ob).ts_event
    np.testing.assert_array_equal(ts, [OPEN_UTC_NS_SUMMER + 4_241_176, OPEN_UTC_NS_SUMMER + 10**9])


def test_date_and_symbol_overrides_and_derived_orderbook(pair: tuple[Path, Path]) -> None:
    msg, _ = pair
    vd = read_lobster(msg, date="2012-01-03", symbol="AAPL.X", venue="LOBSTER")
    assert (vd.symbol, vd.venue) == ("AAPL.X", "LOBSTER")
    assert vd.ts_event[0] == OPEN_UTC_NS_WINTER + 1
    assert read_lobster(msg, date=dt.date(2012, 1, 3)).ts_event[0] == OPEN_UTC_NS_WINTER + 1


def test_time_window_is_inclusive(pair: tuple[Path, Path]) -> None:
    vd = read_lobster(
        *pair, start_ns=OPEN_UTC_NS_SUMMER + 500_000_000, end_ns=OPEN_UTC_NS_SUMMER + 2 * 10**9
    )
    np.testing.assert_array_equal(vd["size"], [50, 200, 50])
    # depth is computed on the full file, so a windowed row keeps its level
    np.testing.assert_array_equal(vd["depth"], [0, 1, 1])


def test_filename_parsing() -> None:
    info = parse_lobster_filename("/x/BRK_B_2012-06-21_34200000_57600000_orderbook_50.csv.gz")
    assert info is not None
    assert (info.symbol, info.date, info.start_s, info.end_s, info.kind, info.levels) == (
        "BRK_B", dt.date(2012, 6, 21), 34_200_000, 57_600_000, "orderbook", 50,
    )  # fmt: skip
    assert parse_lobster_filename("AAPL_2012-06-21_message.csv") is None
    assert parse_lobster_filename("AAPL_2012-13-45_1_2_message_1.csv") is None
    p = lobster_orderbook_path("d/AAPL_2012-06-21_1_2_message_5.csv")
    assert p.as_posix() == "d/AAPL_2012-06-21_1_2_orderbook_5.csv"
    with pytest.raises(DataFormatError, match="orderbook_path="):
        lobster_orderbook_path("messages.csv")


def test_gzip_files_are_read(tmp_path: Path) -> None:
    name = "AAPL_2012-06-21_34200000_57600000_{kind}_2.csv.gz"
    for kind, lines in (("message", [m for m, _ in PAIR]), ("orderbook", [b for _, b in PAIR])):
        with gzip.open(tmp_path / name.format(kind=kind), "wt") as fh:
            fh.write("\n".join(lines) + "\n")
    vd = read_lobster(tmp_path / name.format(kind="message"))
    assert len(vd) == 12
    assert vd.to_pandas()["action"].tolist() == list("AAACTTCNNTNA")


def test_more_than_ten_levels_keeps_the_first_ten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    levels = 12
    row = []
    for k in range(levels):
        row += [str(5860000 + 100 * k), str(10 + k), str(5859000 - 100 * k), str(20 + k)]
    msg, ob = _write(
        tmp_path,
        ["34200,1,1,10,5860000,-1"],
        [",".join(row)],
        name=f"AAPL_2012-06-21_0_1_{{kind}}_{levels}.csv",
    )
    with caplog.at_level(logging.INFO, logger="myopic_sor.data._lobster"):
        vd = read_lobster(msg, ob)
    assert vd.levels == MAX_LEVELS
    assert "keeping the first 10" in caplog.text
    assert vd["ask_px_09"][0] == 586.09
    assert vd["bid_sz_09"][0] == 29
    assert "ask_px_10" not in vd


def test_sniffers(pair: tuple[Path, Path], tmp_path: Path) -> None:
    msg, ob = pair
    assert looks_like_lobster_message(msg)
    assert not looks_like_lobster_message(ob)
    assert looks_like_lobster_orderbook(ob)
    plain_msg = tmp_path / "m.csv"
    plain_msg.write_bytes(msg.read_bytes())
    plain_ob = tmp_path / "o.csv"
    plain_ob.write_bytes(ob.read_bytes())
    assert looks_like_lobster_message(plain_msg)
    assert not looks_like_lobster_orderbook(plain_msg)
    assert looks_like_lobster_orderbook(plain_ob)
    assert not looks_like_lobster_message(plain_ob)
    other = tmp_path / "q.csv"
    other.write_text("DATE,TIME_M,EX,BID\n20200102,09:30:00,N,1\n")
    assert not looks_like_lobster_message(other)
    assert not looks_like_lobster_orderbook(other)
    assert not looks_like_lobster_message(tmp_path / "missing.csv")


def test_large_file_is_consistent(tmp_path: Path) -> None:
    n = 50_000
    rng = np.random.default_rng(7)
    sec = 34_200 + np.sort(rng.integers(0, 23_400 * 10**9, n)) / 1
    times = [f"{34_200 + int(s) // 10**9}.{int(s) % 10**9:09d}" for s in sec - 34_200]
    px = 1_000_000 + 100 * rng.integers(0, 50, n)
    messages = [f"{t},1,{i},{100},{p},1" for i, (t, p) in enumerate(zip(times, px, strict=True))]
    book = [f"{E_ASK},0,{p},100" for p in px]
    msg, ob = _write(tmp_path, messages, book, name="ZZ_2012-06-21_0_1_{kind}_1.csv")
    vd = read_lobster(msg, ob)
    expected = OPEN_UTC_NS_SUMMER + (sec - 34_200).astype(np.int64)
    np.testing.assert_array_equal(vd.ts_event, expected)
    np.testing.assert_array_equal(vd["bid_px_00"], px / 10_000)
    assert (vd["depth"] == 0).all()


# -- errors -------------------------------------------------------------------------------------
def test_missing_file(pair: tuple[Path, Path], tmp_path: Path) -> None:
    msg, _ = pair
    with pytest.raises(DataNotFoundError, match="no such order-book file"):
        read_lobster(msg, tmp_path / "nope_orderbook.csv")
    with pytest.raises(DataNotFoundError, match="no such message file"):
        read_lobster(tmp_path / "AAPL_2012-06-21_1_2_message_2.csv", pair[1])


def test_row_count_mismatch_names_both_files(tmp_path: Path) -> None:
    msg, ob = _write(tmp_path, [m for m, _ in PAIR], [b for _, b in PAIR[:-2]])
    with pytest.raises(DataValidationError) as err:
        read_lobster(msg, ob)
    text = str(err.value)
    assert str(msg) in text
    assert str(ob) in text
    assert "12 rows" in text
    assert "has 10" in text
    assert "re-extract" in text


def test_wrong_message_column_count(tmp_path: Path) -> None:
    msg, ob = _write(tmp_path, ["34200,1,1,100,5859400"], [f"{E_ASK},0,5859400,100"], name=NAME1)
    with pytest.raises(DataFormatError, match=r"has 5 columns, expected 6"):
        read_lobster(msg, ob)


def test_ragged_row_is_reported(tmp_path: Path) -> None:
    msg, ob = _write(
        tmp_path,
        ["34200,1,1,100,5859400,1", "34201,1,2,100,5859400"],
        [f"{E_ASK},0,5859400,100", f"{E_ASK},0,5859400,200"],
        name=NAME1,
    )
    with pytest.raises(DataFormatError, match=r"has 5 columns, expected 6"):
        read_lobster(msg, ob)


def test_orderbook_columns_not_multiple_of_four(tmp_path: Path) -> None:
    msg, ob = _write(tmp_path, ["34200,1,1,100,5859400,1"], [f"{E_ASK},0,5859400,100,1,2"])
    with pytest.raises(DataFormatError, match=r"6 columns, not a multiple of 4"):
        read_lobster(msg, ob)


def test_non_numeric_value_names_line_and_column(tmp_path: Path) -> None:
    msg, ob = _write(
        tmp_path,
        ["34200,1,1,100,5859400,1", "34201,1,2,1o0,5859400,1"],
        [f"{E_ASK},0,5859400,100", f"{E_ASK},0,5859400,200"],
        name=NAME1,
    )
    with pytest.raises(DataFormatError, match=r"line 2, column 'Size'.*'1o0'"):
        read_lobster(msg, ob)
    msg.write_text("34200,1,1,100,5859400,1\n34201,1,2,100,5859400,1\n")
    ob.write_text(f"{E_ASK},0,5859400,100\n{E_ASK},0,5859400,x\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'Bid Size 1'"):
        read_lobster(msg, ob)
    ob.write_text(f"{E_ASK},0,5859400,100\n{E_ASK},0,5859400,200\n")
    msg.write_text("34200,1,1,100,5859400,1\n9:30,1,2,100,5859400,1\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'Time': '9:30'"):
        read_lobster(msg, ob)


def test_empty_files(tmp_path: Path) -> None:
    msg, ob = _write(tmp_path, [], [])
    with pytest.raises(DataFormatError, match="message file is empty"):
        read_lobster(msg, ob)
    msg.write_text("34200,1,1,100,5859400,1\n")
    with pytest.raises(DataFormatError, match="order-book file is empty"):
        read_lobster(msg, ob)


def test_bad_values_and_metadata(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    msg, ob = _write(sub, ["34200,8,1,100,5859400,1"], [f"{E_ASK},0,5859400,100"], name=NAME1)
    with pytest.raises(DataValidationError, match="unknown message type 8"):
        read_lobster(msg, ob)
    msg.write_text("34200,1,1,100,5859400,0\n")
    with pytest.raises(DataValidationError, match="direction 0"):
        read_lobster(msg, ob)
    msg.write_text("34200,7,0,0,5,-1\n")
    with pytest.raises(DataValidationError, match="type 7"):
        read_lobster(msg, ob)
    plain = tmp_path / "m.csv"
    plain.write_text("34200,1,1,100,5859400,1\n")
    plain_ob = tmp_path / "o.csv"
    plain_ob.write_bytes(ob.read_bytes())
    with pytest.raises(DataFormatError, match="pass date="):
        read_lobster(plain, plain_ob)
    assert len(read_lobster(plain, plain_ob, date="2012-06-21", symbol="A")) == 1
    with pytest.raises(DataFormatError, match="pass symbol="):
        read_lobster(plain, plain_ob, date="2012-06-21")
    with pytest.raises(ConfigError, match="IANA"):
        read_lobster(*pair, timezone="Mars/Olympus")


def test_pair_from_different_extracts_is_rejected(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    msg, _ = pair
    other = tmp_path / "MSFT_2012-06-21_34200000_57600000_orderbook_2.csv"
    other.write_bytes(pair[1].read_bytes())
    with pytest.raises(DataValidationError, match="not one LOBSTER extract"):
        read_lobster(msg, other)


def test_levels_in_name_disagreeing_with_content_warns(tmp_path: Path) -> None:
    msg, ob = _write(
        tmp_path,
        ["34200,1,1,100,5859400,1"],
        [f"{E_ASK},0,5859400,100"],
        name="A_2012-06-21_0_1_{kind}_5.csv",
    )
    with pytest.warns(DataQualityWarning, match="name says 5 levels but the file has 1"):
        vd = read_lobster(msg, ob)
    assert vd.levels == 1


@pytest.mark.parametrize(
    ("day", "seconds", "what"),
    [
        ("2012-11-04", "5400", r"line 2: local time 2012-11-04 01:30:00 is ambiguous"),
        ("2012-03-11", "9000", r"line 2: local time 2012-03-11 02:30:00 does not exist"),
    ],
)
def test_dst_transition_times_are_reported(
    tmp_path: Path, day: str, seconds: str, what: str
) -> None:
    msg, ob = _write(
        tmp_path,
        ["1800,1,1,100,5859400,1", f"{seconds},1,1,100,5859400,1"],
        [f"{E_ASK},0,5859400,100", f"{E_ASK},0,5859400,200"],
        name=NAME1,
    )
    with pytest.raises(DataValidationError, match=what):
        read_lobster(msg, ob, date=day)


@pytest.mark.parametrize(
    ("times", "expected_ns"),
    [
        (["34200.004241176", "57599.999999999"], [34_200_004_241_176, 57_599_999_999_999]),
        (["34200.5", "34201.0"], [34_200_500_000_000, 34_201_000_000_000]),
        (["34200", "57600"], [34_200 * 10**9, 57_600 * 10**9]),
        (["00001.000000001", "99999.100000000"], [1_000_000_001, 99_999_100_000_000]),
    ],
)
def test_fixed_width_time_fast_path_matches_the_regex_path(
    times: list[str], expected_ns: list[int]
) -> None:
    fast = _fixed_width_seconds_ns(pa.array(times))
    assert fast is not None
    np.testing.assert_array_equal(fast, expected_ns)
    ragged = _seconds_to_ns(pa.array([*times, "1.5"]), Path("m.csv"))  # regex path
    np.testing.assert_array_equal(ragged[:-1], expected_ns)
    assert ragged[-1] == 1_500_000_000


def test_fixed_width_time_fast_path_declines_bad_values() -> None:
    for bad in (["34200.1", "342x0.1"], ["34200.1", "34200-1"], ["1.0000000001", "2.0000000001"]):
        assert _fixed_width_seconds_ns(pa.array(bad)) is None
    with pytest.raises(DataFormatError, match=r"line 2, column 'Time': '342x0\.1'"):
        _seconds_to_ns(pa.array(["34200.1", "342x0.1"]), Path("m.csv"))
    # more than nine decimals: regex path, rounded half-up to the nanosecond
    np.testing.assert_array_equal(
        _seconds_to_ns(pa.array(["1.0000000005", "2.0000000004"]), Path("m.csv")),
        [1_000_000_001, 2_000_000_000],
    )


def test_renamed_pair_loads_with_date_and_symbol(pair: tuple[Path, Path], tmp_path: Path) -> None:
    # names that do not pair by LOBSTER's convention: the lone message and orderbook files
    # are taken as one pair (this crashed with an IndexError before)
    from myopic_sor.data import load_market_data

    msg, ob = pair
    a, b = tmp_path / "day_msgs.csv", tmp_path / "day_book.csv"
    msg.rename(a)
    ob.rename(b)
    md = load_market_data(a, b, symbol="AAPL", day="2012-01-03")
    assert md.n_events == len(PAIR)
    assert md.symbol == "AAPL"
