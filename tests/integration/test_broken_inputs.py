"""A corpus of broken inputs through the public entry points: each is a clear error or a counted
warning, through ``load_market_data`` and through the CLI (exit 2, one line naming the file)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from myopic_sor.cli import main
from myopic_sor.data import VenueData, layout_path, load_market_data, write_venue
from myopic_sor.exceptions import DataQualityWarning, MyopicSorError

DAY = dt.date(2025, 4, 2)
T0 = 1_743_600_600_000_000_000  # 2025-04-02 09:30 America/New_York


def _columns(n: int = 50) -> dict[str, np.ndarray]:
    ts = T0 + np.arange(n, dtype=np.int64) * 1_000_000_000
    cols: dict[str, np.ndarray] = {
        "ts_event": ts,
        "ts_recv": ts + 1_000,
        "action": np.full(n, ord("A"), dtype=np.uint8),
        "side": np.full(n, ord("B"), dtype=np.uint8),
        "price": np.full(n, 100.0),
        "size": np.full(n, 100, dtype=np.int64),
    }
    cols["action"][::5] = ord("T")
    for lvl in range(2):
        cols[f"bid_px_{lvl:02d}"] = np.full(n, 100.0 - 0.01 * lvl)
        cols[f"ask_px_{lvl:02d}"] = np.full(n, 100.01 + 0.01 * lvl)
        cols[f"bid_sz_{lvl:02d}"] = np.full(n, 300, dtype=np.int64)
        cols[f"ask_sz_{lvl:02d}"] = np.full(n, 200, dtype=np.int64)
    return cols


def _write(tmp: Path, cols: dict[str, np.ndarray], ext: str = "csv", symbol: str = "AAPL") -> Path:
    path = layout_path(tmp, symbol, "XNAS", DAY, ext=ext)
    write_venue(VenueData("XNAS", symbol, cols), path)
    return path


def _csv_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def missing_file(tmp: Path) -> list[Path]:
    return [tmp / "nope.parquet"]


def unknown_extension(tmp: Path) -> list[Path]:
    p = tmp / "book.xlsx"
    p.write_bytes(b"PK\x03\x04")
    return [p]


def empty_file(tmp: Path) -> list[Path]:
    p = tmp / "xnas-itch-20250402.mbp-10.csv"
    p.write_bytes(b"")
    return [p]


def header_only(tmp: Path) -> list[Path]:
    p = _write(tmp, _columns())
    p.write_text(_csv_lines(p)[0] + "\n")
    return [p]


def missing_column(tmp: Path) -> list[Path]:
    p = _write(tmp, _columns())
    lines = _csv_lines(p)
    header = lines[0].split(",")
    k = header.index("ask_px_00")
    p.write_text(
        "\n".join(",".join(c for i, c in enumerate(r.split(",")) if i != k) for r in lines)
    )
    return [p]


def non_numeric_price(tmp: Path) -> list[Path]:
    p = _write(tmp, _columns())
    lines = _csv_lines(p)
    k = lines[0].split(",").index("bid_px_00")
    row = lines[7].split(",")
    row[k] = "abc"
    lines[7] = ",".join(row)
    p.write_text("\n".join(lines) + "\n")
    return [p]


def _with(mutate: Callable[[dict[str, np.ndarray]], None], ext: str = "parquet") -> Callable:
    def build(tmp: Path) -> list[Path]:
        cols = _columns()
        mutate(cols)
        return [_write(tmp, cols, ext=ext)]

    return build


def _nan_trade_price(c: dict[str, np.ndarray]) -> None:
    c["price"][10] = np.nan


def _negative_book_price(c: dict[str, np.ndarray]) -> None:
    c["bid_px_00"][12] = -1.0


def _zero_trade_price(c: dict[str, np.ndarray]) -> None:
    c["price"][15] = 0.0


def _unsorted(c: dict[str, np.ndarray]) -> None:
    c["ts_event"][20], c["ts_event"][21] = c["ts_event"][21], c["ts_event"][20]


def mixed_symbols(tmp: Path) -> list[Path]:
    a = _write(tmp / "a", _columns(), symbol="AAPL")
    b = _write(tmp / "b", _columns(), symbol="MSFT")
    p = tmp / "xnas-itch-20250402.mbp-10.csv"
    lines_b = _csv_lines(b)
    p.write_text("\n".join(_csv_lines(a) + lines_b[1:]) + "\n")
    return [p]


def truncated_parquet(tmp: Path) -> list[Path]:
    p = _write(tmp, _columns(), ext="parquet")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return [p]


def corrupt_zstd(tmp: Path) -> list[Path]:
    p = _write(tmp, _columns(), ext="dbn.zst")
    data = bytearray(p.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = b"\xff" * 16
    p.write_bytes(bytes(data))
    return [p]


def lobster_mismatch(tmp: Path) -> list[Path]:
    msg = tmp / "AAPL_2012-06-21_34200000_57600000_message_1.csv"
    book = tmp / "AAPL_2012-06-21_34200000_57600000_orderbook_1.csv"
    msg.write_text(
        "34200.01,1,1,100,1000000,1\n34200.02,1,2,100,1000100,-1\n34200.03,3,1,100,1000000,1\n"
    )
    book.write_text("1000100,100,1000000,100\n1000100,100,1000000,100\n")
    return [msg, book]


def taq_unknown_exchange(tmp: Path) -> list[Path]:
    q = tmp / "quotes.csv"
    q.write_text(
        "DATE,TIME_M,EX,SYM_ROOT,BID,BIDSIZ,ASK,ASKSIZ\n"
        "20250402,09:30:00.000001,Q,AAPL,100.00,3,100.01,2\n"
        "20250402,09:30:00.000002,?,AAPL,100.00,3,100.01,2\n"
    )
    return [q]


ERRORS = {
    "missing file": (missing_file, "nope.parquet"),
    "unknown extension": (unknown_extension, "book.xlsx"),
    "empty file": (empty_file, "empty"),
    "header only": (header_only, "row"),
    "missing column": (missing_column, "ask_px_00"),
    "non-numeric price": (non_numeric_price, "bid_px_00"),
    "NaN trade price": (_with(_nan_trade_price), "price"),
    "negative book price": (_with(_negative_book_price), "bid_px_00"),
    "zero trade price": (_with(_zero_trade_price), "price"),
    "unsorted timestamps": (_with(_unsorted), "sort"),
    "mixed symbols": (mixed_symbols, "MSFT"),
    "truncated parquet": (truncated_parquet, ".parquet"),
    "corrupt zstd": (corrupt_zstd, ".dbn.zst"),
    "LOBSTER row mismatch": (lobster_mismatch, "orderbook"),
    "TAQ unknown exchange": (taq_unknown_exchange, "'?'"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_broken_input_is_a_clear_error(case: str, tmp_path: Path) -> None:
    build, needle = ERRORS[case]
    paths = build(tmp_path)
    with pytest.raises(MyopicSorError) as info:
        load_market_data(*paths)
    assert needle.lower() in str(info.value).lower()


@pytest.mark.parametrize("case", list(ERRORS))
def test_cli_exits_2_with_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build, needle = ERRORS[case]
    paths = build(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["inspect-data", *map(str, paths), "--json"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("myopic-sor: error:")
    assert needle.lower() in err[0].lower()


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--debug", "inspect-data", str(tmp_path / "nope.parquet")])
    assert info.value.code == 2
    assert "Traceback" in capsys.readouterr().err


def _crossed(c: dict[str, np.ndarray]) -> None:
    c["bid_px_00"][30:33] = 100.02  # above the ask 100.01


def _locked(c: dict[str, np.ndarray]) -> None:
    c["bid_px_00"][40:42] = 100.01


def _dup_ts(c: dict[str, np.ndarray]) -> None:
    c["ts_event"][11] = c["ts_event"][10]


@pytest.mark.parametrize(
    ("mutate", "check", "count"),
    [(_crossed, "crossed_book", 3), (_locked, "locked_book", 2), (_dup_ts, "duplicate_ts", 1)],
)
def test_usable_problems_are_counted_not_dropped(
    mutate: Callable[[dict[str, np.ndarray]], None], check: str, count: int, tmp_path: Path
) -> None:
    cols = _columns()
    mutate(cols)
    path = _write(tmp_path, cols, ext="parquet")
    from myopic_sor.data import inspect_market_data

    summary = inspect_market_data(path)
    venue = summary["venues"]["XNAS"]
    assert venue["rows"] == 50  # nothing dropped
    assert venue["quality"]["counts"][check] == count
    if check != "duplicate_ts":  # several events in one ns are normal: counted, not warned
        assert any(check.split("_", maxsplit=1)[0] in w for w in summary["warnings"])
        with pytest.warns(DataQualityWarning):
            load_market_data(path)


def test_unsorted_can_be_repaired_with_a_warning(tmp_path: Path) -> None:
    cols = _columns()
    _unsorted(cols)
    path = _write(tmp_path, cols, ext="parquet")
    with pytest.warns(DataQualityWarning, match="sort"):
        md = load_market_data(path, repair=True)
    assert np.all(np.diff(md["XNAS"].ts_event) >= 0)
    assert md.n_events == 50
