"""TAQ loader: per-exchange venues, prevailing quotes, Lee-Ready signs, spellings and errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pytest

from myopic_sor.data._schema import VenueData
from myopic_sor.data._taq import (
    TAQ_EXCHANGES,
    _fixed_width_time_ns,
    _time_of_day_ns,
    lee_ready_side,
    looks_like_taq,
    read_taq,
    tick_test,
)
from myopic_sor.exceptions import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
)

OPEN = 1_340_285_400_000_000_000  # 2012-06-21 09:30:00 EDT = 13:30:00 UTC
MS = 1_000_000
S = 1_000_000_000
NAN = np.nan

QUOTES = """DATE,TIME_M,EX,SYM_ROOT,SYM_SUFFIX,BID,BIDSIZ,ASK,ASKSIZ,QU_COND
20120621,09:30:00.000000001,N,IBM,,100.00,3,100.10,2,R
20120621,09:30:00.5,P,IBM,,100.01,1,100.09,4,R
20120621,09:30:01,N,IBM,,100.02,5,0,0,R
20120621,09:30:02.123456789,N,IBM,,100.02,5,100.08,1,R
20120621,09:30:03,Q,IBM,,99.99,2,100.11,2,R
"""
TRADES = """DATE,TIME_M,EX,SYM_ROOT,SYM_SUFFIX,TR_SCOND,SIZE,PRICE,TR_CORR
20120621,09:30:00.2,N,IBM,,@,100,100.08,00
20120621,09:30:00.5,P,IBM,,@,200,100.02,00
20120621,09:30:01,N,IBM,,@,50,100.04,00
20120621,09:30:01.5,D,IBM,,@ TI,300,100.06,00
20120621,09:30:02.5,N,IBM,,@,10,100.05,00
20120621,09:30:02.6,N,IBM,,@,10,100.05,01
20120621,09:30:03,Z,IBM,,@,10,100.05,00
"""


def _files(tmp_path: Path, quotes: str = QUOTES, trades: str = TRADES) -> tuple[Path, Path]:
    q, t = tmp_path / "quotes.csv", tmp_path / "trades.csv"
    q.write_text(quotes)
    t.write_text(trades)
    return q, t


def _load(q: Path, t: Path | None, **kw: Any) -> dict[str, VenueData]:
    with pytest.warns(DataQualityWarning, match="dropped 1 of 7 trades with TR_CORR"):
        return read_taq(q, t, **kw)


def _chars(arr: npt.NDArray[np.generic]) -> str:
    return arr.tobytes().decode()


def test_venues_quotes_trades_and_lee_ready(tmp_path: Path) -> None:
    venues = _load(*_files(tmp_path))
    assert sorted(venues) == ["ARCX", "BATS", "FINN", "XNAS", "XNYS"]
    n = venues["XNYS"]
    assert (n.symbol, n.levels) == ("IBM", 1)
    np.testing.assert_array_equal(
        n.ts_event,
        [
            OPEN + 1,
            OPEN + 200 * MS,
            OPEN + S,
            OPEN + S,
            OPEN + 2 * S + 123_456_789,
            OPEN + 2500 * MS,
        ],
    )
    assert _chars(n["action"]) == "NTNTNT"
    # 100.08 > mid 100.05 → B; 100.04 against the quote strictly before it (100.00/100.10,
    # not the one-sided quote of the same instant) < mid 100.05 → A; at mid, tick down → A
    assert _chars(n["side"]) == "NBNANA"
    np.testing.assert_array_equal(n["price"], [NAN, 100.08, NAN, 100.04, NAN, 100.05])
    np.testing.assert_array_equal(n["size"], [0, 100, 0, 50, 0, 10])
    np.testing.assert_array_equal(n["bid_px_00"], [100.0, 100.0, 100.02, 100.02, 100.02, 100.02])
    np.testing.assert_array_equal(n["ask_px_00"], [100.1, 100.1, NAN, NAN, 100.08, 100.08])
    np.testing.assert_array_equal(n["bid_sz_00"], [300, 300, 500, 500, 500, 500])
    np.testing.assert_array_equal(n["ask_sz_00"], [200, 200, 0, 0, 100, 100])
    np.testing.assert_array_equal(n["ts_recv"], n.ts_event)

    p = venues["ARCX"]
    assert _chars(p["action"]) == "NT"
    # the quote shares the trade's instant: stream order puts it first, but Lee-Ready looks
    # strictly before, finds no ARCX quote and uses the tick test: 100.02 < 100.08 → A
    assert _chars(p["side"]) == "NA"
    np.testing.assert_array_equal(p["bid_px_00"], [100.01, 100.01])
    np.testing.assert_array_equal(p["ask_sz_00"], [400, 400])

    d = venues["FINN"]  # trade-only venue: NaN book, tick test (100.06 > 100.04) → B
    assert _chars(d["action"]) == "T"
    assert _chars(d["side"]) == "B"
    assert np.isnan(d["bid_px_00"]).all()
    assert np.isnan(d["ask_px_00"]).all()
    assert d["bid_sz_00"][0] == 0

    z = venues["BATS"]  # zero tick after the drop 100.06 → 100.05 → A
    assert _chars(z["side"]) == "A"
    q = venues["XNAS"]
    assert _chars(q["action"]) == "N"
    np.testing.assert_array_equal(q["bid_px_00"], [99.99])


def test_round_lot_multiplier(tmp_path: Path) -> None:
    q, _ = _files(tmp_path)
    venues = read_taq(q, quote_size_multiplier=1)
    np.testing.assert_array_equal(venues["XNYS"]["bid_sz_00"], [3, 5, 5])
    np.testing.assert_array_equal(venues["XNYS"]["ask_sz_00"], [2, 0, 1])
    with pytest.raises(ConfigError, match="quote_size_multiplier"):
        read_taq(q, quote_size_multiplier=0)


def test_dt_and_pipe_and_digit_time_spellings_give_the_same_result(tmp_path: Path) -> None:
    base = _load(*_files(tmp_path))
    # combined DT column and SYMBOL, lower-case headers
    q_lines, t_lines = QUOTES.splitlines(), TRADES.splitlines()

    def to_dt(lines: list[str]) -> str:
        head = lines[0].split(",")
        out = ["dt,ex,symbol," + ",".join(h.lower() for h in head[5:])]
        for line in lines[1:]:
            f = line.split(",")
            day = f"{f[0][:4]}-{f[0][4:6]}-{f[0][6:]}"
            out.append(f"{day} {f[1]},{f[2]},{f[3]}," + ",".join(f[5:]))
        return "\n".join(out) + "\n"

    sub = tmp_path / "dt"
    sub.mkdir()
    dt_venues = _load(*_files(sub, to_dt(q_lines), to_dt(t_lines)))

    # Daily TAQ style: pipe-delimited, HHMMSSfffffffff times, no date column (date= given)
    def to_daily(lines: list[str], names: str) -> str:
        out = [names]
        for line in lines[1:]:
            f = line.split(",")
            hms, _, frac = f[1].partition(".")
            digits = hms.replace(":", "") + frac.ljust(9, "0")
            out.append("|".join([digits, f[2], f[3], *f[5:]]))
        return "\n".join(out) + "\n"

    sub2 = tmp_path / "daily"
    sub2.mkdir()
    qd = to_daily(q_lines, "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Cond")
    td = to_daily(
        t_lines,
        "Time|Exchange|Symbol|Sale_Condition|Trade_Volume|Trade_Price|Trade_Correction_Indicator",
    )
    daily = _load(*_files(sub2, qd, td), date="2012-06-21")

    for other in (dt_venues, daily):
        assert sorted(other) == sorted(base)
        for name, vd in base.items():
            for col in vd:
                np.testing.assert_array_equal(other[name][col], vd[col], err_msg=f"{name}.{col}")


def test_winter_date_is_est_and_date_filter(tmp_path: Path) -> None:
    quotes = (
        "DATE,TIME_M,EX,SYM_ROOT,BID,BIDSIZ,ASK,ASKSIZ\n"
        "2012-01-03,09:30:00,N,IBM,1,1,2,1\n"
        "2012-06-21,09:30:00,N,IBM,1,1,2,1\n"
    )
    q, _ = _files(tmp_path, quotes)
    both = read_taq(q)["XNYS"]
    np.testing.assert_array_equal(both.ts_event, [1_325_601_000 * S, OPEN])
    one = read_taq(q, date=dt.date(2012, 1, 3))["XNYS"]
    np.testing.assert_array_equal(one.ts_event, [1_325_601_000 * S])
    with pytest.raises(DataValidationError, match=r"no rows on 2012-02-01.*2012-01-03, 2012-06-21"):
        read_taq(q, date="2012-02-01")


def test_time_window_keeps_causal_quotes(tmp_path: Path) -> None:
    venues = _load(*_files(tmp_path), start_ns=OPEN + 2 * S, end_ns=OPEN + 3 * S)
    n = venues["XNYS"]
    assert _chars(n["action"]) == "NT"
    assert "ARCX" in venues
    assert len(venues["ARCX"]) == 0
    assert len(venues["BATS"]) == 1


def test_corrected_trades_can_be_kept_and_conditions_excluded(tmp_path: Path) -> None:
    q, t = _files(tmp_path)
    kept = read_taq(q, t, drop_corrected=False)
    assert len(kept["XNYS"]) == 7
    with pytest.warns(
        DataQualityWarning, match=r"dropped 1 of 7 trades with sale condition in \['I'\]"
    ):
        out = read_taq(q, t, drop_corrected=False, exclude_conditions={"I"})
    assert "FINN" not in out


def test_unknown_exchange_code(tmp_path: Path) -> None:
    q, _ = _files(tmp_path, QUOTES + "20120621,09:30:04,E,IBM,,1,1,2,1,R\n")
    with pytest.raises(DataFormatError) as err:
        read_taq(q)
    text = str(err.value)
    assert "unknown exchange code 'E'" in text
    assert "first on line 7" in text
    assert "exchanges={'E': 'NAME'}" in text
    venues = read_taq(q, exchanges={"E": "SIPX", "N": "NYSE"})
    assert "SIPX" in venues
    assert "NYSE" in venues
    assert "XNYS" not in venues


def test_symbols(tmp_path: Path) -> None:
    q, _ = _files(tmp_path, QUOTES + "20120621,09:30:04,N,BRK,B,1,1,2,1,R\n")
    with pytest.raises(DataValidationError, match=r"2 symbols \(BRK.B, IBM\); pass symbol="):
        read_taq(q)
    brk = read_taq(q, symbol="brk.b")
    assert list(brk) == ["XNYS"]
    assert brk["XNYS"].symbol == "BRK.B"
    assert len(brk["XNYS"]) == 1
    with pytest.raises(DataValidationError, match="no rows for symbol 'MSFT'"):
        read_taq(q, symbol="MSFT")
    # an unknown code on another symbol's rows does not matter once the symbol is chosen
    q, _ = _files(tmp_path, QUOTES + "20120621,09:30:04,E,BRK,B,1,1,2,1,R\n")
    assert sorted(read_taq(q, symbol="IBM")) == ["ARCX", "XNAS", "XNYS"]
    with pytest.raises(DataFormatError, match=r"unknown exchange code 'E' \(first on line 7\)"):
        read_taq(q, symbol="BRK.B")  # line numbers survive the symbol filter


@pytest.mark.parametrize(
    "times",
    [
        ["09:30:00.000000001", "15:59:59.999999999", "00:00:00.123456789"],
        ["09:30:00.123", "10:00:01.000", "23:59:59.999"],
        ["09:30:00", "16:00:00", "12:34:56"],
        ["093000000000001", "155959999999999", "000000123456789"],
        ["093000", "160000", "123456"],
    ],
)
def test_fixed_width_time_fast_path_matches_the_regex_path(times: list[str]) -> None:
    arr = pa.array(times)
    fast = _fixed_width_time_ns(arr)
    assert fast is not None
    # the regex path on the same values (made ragged so the fast path declines)
    slow = _time_of_day_ns(pa.array([*times, "1:00:00"]), Path("f.csv"), "TIME_M")[:-1]
    np.testing.assert_array_equal(fast, slow)
    colon = [t if ":" in t else f"{t[:2]}:{t[2:4]}:{t[4:6]}.{t[6:] or '0'}" for t in times]
    np.testing.assert_array_equal(fast, [pd.Timedelta(t).value for t in colon])


def test_fixed_width_time_fast_path_declines_bad_values() -> None:
    for bad in (["25:00:00", "09:30:00"], ["09:3x:00", "09:30:00"], ["09-30-00", "09:30:00"]):
        assert _fixed_width_time_ns(pa.array(bad)) is None
        with pytest.raises(DataFormatError, match="line 2, column 'TIME_M'"):
            _time_of_day_ns(pa.array(bad), Path("f.csv"), "TIME_M")


def test_missing_columns_and_bad_values(tmp_path: Path) -> None:
    q, t = _files(tmp_path, QUOTES.replace("BIDSIZ", "BSZ"))
    with pytest.raises(DataFormatError, match=r"no BIDSIZ column.*BIDSIZ / BID_SIZE"):
        read_taq(q, t)
    q, t = _files(tmp_path, QUOTES, TRADES.replace("100.04", "abc"))
    with pytest.raises(DataFormatError, match=r"line 4, column 'PRICE': non-numeric value 'abc'"):
        read_taq(q, t)
    q, t = _files(tmp_path, QUOTES, TRADES.replace("100.04", ""))
    with pytest.raises(DataValidationError, match="line 4: trade price nan"):
        read_taq(q, t, drop_corrected=False)
    q, t = _files(tmp_path, QUOTES, TRADES.replace(",50,", ",50.5,"))
    with pytest.raises(DataValidationError, match=r"line 4, column SIZE: size 50\.5"):
        read_taq(q, t, drop_corrected=False)
    q, _ = _files(tmp_path, QUOTES.replace("09:30:01,", "9h30,"))
    with pytest.raises(DataFormatError, match=r"line 4, column 'TIME_M': '9h30' is not a time"):
        read_taq(q)
    q, _ = _files(tmp_path, QUOTES.replace("DATE,TIME_M", "D,TIME_M"))
    with pytest.raises(DataFormatError, match="pass date="):
        read_taq(q)
    q, _ = _files(tmp_path, QUOTES.replace("DATE,TIME_M", "D,T"))
    with pytest.raises(DataFormatError, match="no time column"):
        read_taq(q)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    q, t = _files(tmp_path, "", TRADES)
    with pytest.raises(DataFormatError, match="quotes file is empty"):
        read_taq(q, t)
    q, t = _files(tmp_path, QUOTES.splitlines()[0] + "\n", TRADES)
    with pytest.raises(DataFormatError, match="header but no rows"):
        read_taq(q, t)
    with pytest.raises(DataNotFoundError, match="no such TAQ trades file"):
        read_taq(tmp_path / "trades.csv", tmp_path / "nope.csv")
    with pytest.raises(DataNotFoundError, match="no such TAQ quotes file"):
        read_taq(tmp_path / "nope.csv", tmp_path / "trades.csv")


def test_trades_only(tmp_path: Path) -> None:
    _, t = _files(tmp_path)
    with pytest.warns(DataQualityWarning):
        venues = read_taq(None, t)
    assert np.isnan(venues["XNYS"]["bid_px_00"]).all()
    # no quotes → tick test only: 0 (first), B (100.04 > 100.02 via tape), ...
    assert _chars(venues["XNYS"]["side"]) == "NBA"


def test_tick_test_and_lee_ready_rule() -> None:
    px = np.array([10.0, 10.0, 10.1, 10.1, 10.0, 10.0, 10.2])
    np.testing.assert_array_equal(tick_test(px), [0, 0, 1, 1, -1, -1, 1])
    bid = np.array([9.9, 9.9, 9.9, NAN, 10.0, 10.1])
    ask = np.array([10.1, 10.1, 10.1, 10.2, 10.2, 10.0])  # last one crossed
    price = np.array([10.05, 9.95, 10.0, 10.0, 10.1, 10.05])
    tick = np.array([0, 0, -1, 1, 1, -1], dtype=np.int8)
    side = lee_ready_side(price, bid, ask, tick)
    assert _chars(side) == "BAABBA"


def test_sniffer(tmp_path: Path) -> None:
    q, t = _files(tmp_path)
    assert looks_like_taq(q) == "quotes"
    assert looks_like_taq(t) == "trades"
    other = tmp_path / "x.csv"
    other.write_text("34200.1,1,1,100,5859400,1\n")
    assert looks_like_taq(other) is None
    assert looks_like_taq(tmp_path / "missing.csv") is None
    assert TAQ_EXCHANGES["T"] == TAQ_EXCHANGES["Q"] == "XNAS"


def test_quoted_header_bom_and_no_symbol_column(tmp_path: Path) -> None:
    quotes = (
        '\ufeff"DATE","TIME_M","EX","BID","BIDSIZ","ASK","ASKSIZ"\n'
        '"20120621","09:30:00","N",1.5,1,1.6,2\n'
    )
    q = tmp_path / "q.csv"
    q.write_text(quotes, encoding="utf-8")
    assert looks_like_taq(q) == "quotes"
    with pytest.raises(DataFormatError, match="no symbol column"):
        read_taq(q)
    vd = read_taq(q, symbol="XYZ")["XNYS"]
    assert vd.symbol == "XYZ"
    np.testing.assert_array_equal(vd.ts_event, [OPEN])
    np.testing.assert_array_equal(vd["ask_sz_00"], [200])
    trades = "DATE,TIME_M,EX,SIZE,PRICE\n20120621,09:30:00,N,5,1.55\n"
    t = tmp_path / "t.csv"
    t.write_text(trades)
    with pytest.raises(DataFormatError, match="needs a sale-condition column"):
        read_taq(q, t, symbol="XYZ", exclude_conditions={"I"})
