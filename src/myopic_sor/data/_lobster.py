"""LOBSTER loader: a message file and its order-book file → one canonical :class:`VenueData`.

LOBSTER (https://lobsterdata.com/info/DataStructure.php) reconstructs the Nasdaq limit order book
from Nasdaq TotalView-ITCH, so the venue is ``"XNAS"`` by default. An extract is a pair of
header-less CSV files named
``{TICKER}_{YYYY-MM-DD}_{startsec}_{endsec}_message_{N}.csv`` and ``..._orderbook_{N}.csv``:

* message file, six columns: Time (seconds after midnight, decimal, up to nanoseconds), Type,
  Order ID, Size (shares), Price (dollars × 10000), Direction (1 buy, -1 sell limit order);
* order-book file, ``4 N`` columns: Ask Price k, Ask Size k, Bid Price k, Bid Size k for
  k = 1..N; row i is the book **after** message i. Empty levels carry the dummy prices
  9999999999 (ask) and -9999999999 (bid) with size 0.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import logging
import re
import warnings
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from myopic_sor._typing import Int64Array1D, PathLike
from myopic_sor.data._schema import (
    ACTION_ADD,
    ACTION_CANCEL,
    ACTION_NONE,
    ACTION_TRADE,
    MAX_LEVELS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
    STATUS_HALTED,
    STATUS_NORMAL,
    STATUS_QUOTING,
    STATUS_TRADING,
    VenueData,
    level_column,
)
from myopic_sor.exceptions import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
)

__all__ = [
    "LOBSTER_EMPTY_ASK_PRICE",
    "LOBSTER_EMPTY_BID_PRICE",
    "LOBSTER_PRICE_SCALE",
    "LOBSTER_VENUE",
    "LobsterFileName",
    "lobster_orderbook_path",
    "looks_like_lobster_message",
    "looks_like_lobster_orderbook",
    "parse_lobster_filename",
    "read_lobster",
]

logger = logging.getLogger(__name__)

#: Default venue of LOBSTER data: the books are rebuilt from Nasdaq TotalView-ITCH.
LOBSTER_VENUE: Final = "XNAS"
#: LOBSTER prices are integers in dollars × 10000.
LOBSTER_PRICE_SCALE: Final = 10_000
#: Dummy price of an empty ask level (its size is 0).
LOBSTER_EMPTY_ASK_PRICE: Final = 9_999_999_999
#: Dummy price of an empty bid level (its size is 0).
LOBSTER_EMPTY_BID_PRICE: Final = -9_999_999_999

#: Message-file columns, named as in LOBSTER's documentation.
_MESSAGE_COLUMNS: Final = ("Time", "Type", "Order ID", "Size", "Price", "Direction")
#: Column order of one order-book level in a LOBSTER file.
_OB_ORDER: Final = ("Ask Price", "Ask Size", "Bid Price", "Bid Size")
_TYPE_SUBMIT: Final = 1
_TYPE_PARTIAL_CANCEL: Final = 2
_TYPE_DELETE: Final = 3
_TYPE_EXEC_VISIBLE: Final = 4
_TYPE_EXEC_HIDDEN: Final = 5
_TYPE_CROSS: Final = 6
_TYPE_HALT: Final = 7
#: Type-7 price → canonical status (-1 halted, 0 quoting resumed, 1 trading resumed).
_HALT_STATUS: Final = {-1: STATUS_HALTED, 0: STATUS_QUOTING, 1: STATUS_TRADING}

_NAME_RE: Final = re.compile(
    r"^(?P<ticker>.+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<kind>message|orderbook)_(?P<levels>\d+)\.csv(?:\.(?:gz|bz2|zst))?$",
    re.IGNORECASE,
)
_INT_RE: Final = r"^\s*[+-]?\d+\s*$"
_TIME_RE: Final = r"^(?P<sec>\d+)(?:\.(?P<frac>\d*))?$"
_NS_PER_S: Final = 1_000_000_000
_NS_PER_DAY: Final = 86_400 * _NS_PER_S


# -- file names ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LobsterFileName:
    """What a LOBSTER file name says about its content.

    Attributes
    ----------
    path : pathlib.Path
    symbol : str
        Ticker, e.g. ``"AAPL"``.
    date : datetime.date
        Trading day.
    start_s, end_s : int
        Requested time window, seconds after midnight (local exchange time).
    kind : {"message", "orderbook"}
    levels : int
        Number of book levels of the extract.
    """

    path: Path
    symbol: str
    date: dt.date
    start_s: int
    end_s: int
    kind: Literal["message", "orderbook"]
    levels: int


def parse_lobster_filename(path: PathLike) -> LobsterFileName | None:
    """Parse a LOBSTER file name; return None when the name does not follow LOBSTER's pattern.

    Parameters
    ----------
    path : str or os.PathLike
        E.g. ``"AAPL_2012-06-21_34200000_57600000_message_10.csv"`` (``.gz``, ``.bz2`` and
        ``.zst`` suffixes are accepted).

    Returns
    -------
    LobsterFileName or None

    Examples
    --------
    >>> info = parse_lobster_filename("AAPL_2012-06-21_34200000_57600000_orderbook_10.csv")
    >>> (info.symbol, info.date.isoformat(), info.kind, info.levels)
    ('AAPL', '2012-06-21', 'orderbook', 10)
    """
    p = Path(path)
    m = _NAME_RE.match(p.name)
    if m is None:
        return None
    try:
        day = dt.date.fromisoformat(m["date"])
    except ValueError:
        return None
    kind: Literal["message", "orderbook"] = (
        "message" if m["kind"].lower() == "message" else "orderbook"
    )
    return LobsterFileName(
        path=p,
        symbol=m["ticker"],
        date=day,
        start_s=int(m["start"]),
        end_s=int(m["end"]),
        kind=kind,
        levels=int(m["levels"]),
    )


def lobster_orderbook_path(message_path: PathLike) -> Path:
    """Return the order-book file that pairs with a LOBSTER message file.

    The pair differs only in ``_message_`` → ``_orderbook_``; the file need not exist.

    Raises
    ------
    DataFormatError
        When the name has no ``_message_`` part (pass the order-book path explicitly).
    """
    p = Path(message_path)
    if "_message_" not in p.name:
        raise DataFormatError(
            f"{p}: cannot derive the order-book file name (no '_message_' in the name); "
            "pass orderbook_path= explicitly"
        )
    head, _, tail = p.name.rpartition("_message_")
    return p.with_name(f"{head}_orderbook_{tail}")


# -- sniffing -----------------------------------------------------------------------------------
def _open_text(path: Path) -> IO[str]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if name.endswith(".bz2"):
        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    if name.endswith(".zst"):
        import zstandard

        fh = path.open("rb")
        reader = zstandard.ZstdDecompressor().stream_reader(fh, closefd=True)
        return io.TextIOWrapper(reader, encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _first_line(path: Path) -> str | None:
    """First non-blank line of a (possibly compressed) text file, None when there is none."""
    with _open_text(path) as fh:
        for line in fh:
            if line.strip():
                return line.strip()
    return None


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None


def looks_like_lobster_message(path: PathLike) -> bool:
    """Tell whether a file looks like a LOBSTER message file (for format detection).

    True when the name follows LOBSTER's ``..._message_N.csv`` pattern, or when the first line
    has six comma-separated numbers: a decimal time, a type 1..7, integer id/size/price and a
    direction of ±1. Never raises on unreadable files (returns False).
    """
    p = Path(path)
    info = parse_lobster_filename(p)
    if info is not None:
        return info.kind == "message"
    try:
        line = _first_line(p)
    except (OSError, EOFError, ValueError):
        return False
    if line is None:
        return False
    fields = [f.strip() for f in line.split(",")]
    if len(fields) != len(_MESSAGE_COLUMNS):
        return False
    if re.fullmatch(r"\d+(?:\.\d*)?", fields[0]) is None or not all(map(_is_int, fields[1:])):
        return False
    return 1 <= int(fields[1]) <= 7 and int(fields[5]) in (1, -1)


def looks_like_lobster_orderbook(path: PathLike) -> bool:
    """Tell whether a file looks like a LOBSTER order-book file (for format detection).

    True when the name follows ``..._orderbook_N.csv``, or when the first line holds a positive
    multiple of four integers. Never raises on unreadable files (returns False).
    """
    p = Path(path)
    info = parse_lobster_filename(p)
    if info is not None:
        return info.kind == "orderbook"
    try:
        line = _first_line(p)
    except (OSError, EOFError, ValueError):
        return False
    if line is None:
        return False
    fields = line.split(",")
    return len(fields) % 4 == 0 and all(map(_is_int, fields))


# -- reading ------------------------------------------------------------------------------------
def _check_file(path: Path, what: str) -> int:
    """Check that ``path`` exists and is not empty; return its number of columns."""
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such {what} file")
    line = _first_line(path)
    if line is None:
        raise DataFormatError(
            f"{path}: the {what} file is empty; re-extract it (LOBSTER files have one row "
            "per message and no header)"
        )
    return len(line.split(","))


def _first_bad_value(
    path: Path, names: Sequence[str], check: Sequence[str], pattern: str
) -> tuple[int, str, str] | None:
    """Locate the first value not matching ``pattern``: (1-based line, column, value).

    Slow path used only to explain a failed typed read; reads the columns as strings.
    """
    table = pv.read_csv(
        path,
        read_options=pv.ReadOptions(column_names=list(names)),
        convert_options=pv.ConvertOptions(
            column_types=dict.fromkeys(check, pa.string()),
            include_columns=list(check),
            strings_can_be_null=False,
        ),
    )
    best: tuple[int, str, str] | None = None
    for name in check:
        col = table.column(name)
        ok = pc.fill_null(pc.match_substring_regex(col, pattern), False)
        bad = np.flatnonzero(~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool))
        if bad.size and (best is None or int(bad[0]) + 1 < best[0]):
            best = (int(bad[0]) + 1, name, str(col[int(bad[0])].as_py()))
    return best


def _read_int_table(path: Path, names: Sequence[str], keep: Sequence[str], what: str) -> pa.Table:
    """Read a header-less all-integer CSV (bar an optional string ``time``) with fixed dtypes."""
    types = {n: (pa.string() if n == "Time" else pa.int64()) for n in keep}
    try:
        return pv.read_csv(
            path,
            read_options=pv.ReadOptions(column_names=list(names), block_size=1 << 24),
            convert_options=pv.ConvertOptions(
                column_types=types,
                include_columns=list(keep),
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) columns, got (\d+): (.*)", msg)
        if m is not None:
            raise DataFormatError(
                f"{path}: a row of the {what} file has {m[2]} columns, expected {m[1]} "
                f"(row text: {m[3][:80]!r}); the file is truncated or not a LOBSTER {what} file"
            ) from None
        if "conversion error" in msg or "invalid value" in msg:
            ints = [n for n in keep if n != "Time"]
            bad = _first_bad_value(path, names, ints, _INT_RE)
            if bad is not None:
                line, col, value = bad
                raise DataFormatError(
                    f"{path}: line {line}, column {col!r}: non-numeric value {value!r}; LOBSTER "
                    f"{what} files hold integers only (fix or remove that row)"
                ) from None
        raise DataFormatError(f"{path}: cannot parse the {what} file: {msg}") from None
    except pa.ArrowException as exc:  # pragma: no cover - I/O or codec failures
        raise DataFormatError(f"{path}: cannot read the {what} file: {exc}") from None


def _ints(table: pa.Table, name: str) -> Int64Array1D:
    return np.ascontiguousarray(table.column(name).to_numpy(), dtype=np.int64)


def _fixed_width_seconds_ns(text: pa.Array) -> Int64Array1D | None:
    """Fast exact path for ``SSSSS.fffffffff`` strings of one width (LOBSTER writes a fixed
    number of decimals): digits are read straight from the string buffer, column by column.
    None when the layout does not fit; the regex path then parses or reports the bad row."""
    n = len(text)
    if n == 0 or text.null_count or text.type != pa.string():
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if width == 0 or not (np.diff(offsets) == width).all():
        return None
    raw = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    chars = raw[offsets[0] : offsets[0] + n * width].reshape(n, width)
    first = bytes(chars[0]).decode("ascii", errors="replace")
    dot = first.find(".")
    n_int = width if dot < 0 else dot
    n_frac = 0 if dot < 0 else width - dot - 1
    if n_int == 0 or n_int > 12 or n_frac > 9:
        return None
    if dot >= 0 and not (chars[:, dot] == ord(".")).all():
        return None
    sec = np.zeros(n, dtype=np.int64)
    frac = np.zeros(n, dtype=np.int64)
    for j in range(width):
        if j == dot:
            continue
        d = chars[:, j].astype(np.int64) - ord("0")
        if ((d < 0) | (d > 9)).any():
            return None
        if j < n_int:
            sec = sec * 10 + d
        else:
            frac += d * 10 ** (8 - (j - dot - 1))
    out: Int64Array1D = sec * _NS_PER_S + frac
    return out


def _seconds_to_ns(col: pa.ChunkedArray | pa.Array, path: Path) -> Int64Array1D:
    """Decimal seconds strings → int64 ns, exactly (nanoseconds rounded half-up when a file
    carries more than nine decimals, e.g. after a float round trip)."""
    text = pc.utf8_trim_whitespace(col)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.string())
    fast = _fixed_width_seconds_ns(text)
    if fast is not None:
        return fast
    parts = pc.extract_regex(text, _TIME_RE)
    invalid = np.asarray(parts.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise DataFormatError(
            f"{path}: line {row + 1}, column 'Time': {col[row].as_py()!r} is not a decimal "
            "number of seconds after midnight (expected e.g. 34200.004241176)"
        )
    sec = np.asarray(pc.cast(pc.struct_field(parts, "sec"), pa.int64()).to_numpy(), np.int64)
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.struct_field(parts, "frac"), 0, 10), 10, "0")
    tenths_ns = np.asarray(pc.cast(frac, pa.int64()).to_numpy(), dtype=np.int64)
    ns: Int64Array1D = sec * _NS_PER_S + (tenths_ns + 5) // 10
    return ns


def _check_timezone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone={timezone!r} is not an IANA time zone; use e.g. 'America/New_York'"
        ) from None


def _local_to_utc_ns(
    naive_ns: Int64Array1D, timezone: str, where: str, first_line: int = 1
) -> Int64Array1D:
    """Wall-clock ns since the epoch in ``timezone`` → UTC ns since the epoch (DST aware).

    ``first_line`` is the file line of element 0, used to name a bad row."""
    idx = pd.DatetimeIndex(naive_ns.view("datetime64[ns]"))
    try:
        local = idx.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError):  # ambiguous or non-existent wall-clock times
        no_fold = np.zeros(len(idx), dtype=bool)
        missing = idx.tz_localize(timezone, ambiguous=no_fold, nonexistent="NaT").isna()
        kind = "does not exist (clocks go forward)" if missing.any() else "is ambiguous"
        if not missing.any():
            missing = idx.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").isna()
        row = int(np.flatnonzero(missing)[0])
        raise DataValidationError(
            f"{where}: line {row + first_line}: local time {idx[row]} {kind} in {timezone}, a "
            "daylight-saving change; check the date and timezone="
        ) from None
    out: Int64Array1D = np.ascontiguousarray(local.as_unit("ns").asi8, dtype=np.int64)
    return out


def _midnight_naive_ns(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * _NS_PER_DAY


def _book_prices(raw: Int64Array1D) -> npt.NDArray[np.float64]:
    empty = (raw >= LOBSTER_EMPTY_ASK_PRICE) | (raw <= LOBSTER_EMPTY_BID_PRICE)
    px = raw / LOBSTER_PRICE_SCALE
    px[empty] = np.nan
    return px


def _depth(
    price: Int64Array1D,
    is_bid: npt.NDArray[np.bool_],
    bid_raw: npt.NDArray[np.int64],
    ask_raw: npt.NDArray[np.int64],
) -> npt.NDArray[np.uint8]:
    """Level of ``price`` on the event's side in the book before the event, else after, else 0."""
    n = price.shape[0]
    depth = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return depth
    side_book = np.where(is_bid[:, None], bid_raw, ask_raw)
    after = side_book == price[:, None]
    before = np.zeros_like(after)
    before[1:] = side_book[:-1] == price[1:, None]
    found_before = before.any(axis=1)
    found_after = after.any(axis=1)
    lvl_before = before.argmax(axis=1)
    lvl_after = after.argmax(axis=1)
    depth[:] = np.where(found_before, lvl_before, np.where(found_after, lvl_after, 0))
    return depth


def read_lobster(
    message_path: PathLike,
    orderbook_path: PathLike | None = None,
    *,
    date: dt.date | str | None = None,
    symbol: str | None = None,
    venue: str = LOBSTER_VENUE,
    timezone: str = "America/New_York",
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> VenueData:
    """Load a LOBSTER message/order-book pair into one canonical :class:`VenueData`.

    Parameters
    ----------
    message_path : str or os.PathLike
        The ``..._message_N.csv`` file (``.gz``/``.bz2``/``.zst`` compressed files work too).
    orderbook_path : str or os.PathLike, optional
        The matching ``..._orderbook_N.csv``; derived from ``message_path`` when omitted.
    date : datetime.date or str (YYYY-MM-DD), optional
        Trading day; overrides the date in the file name. Required when the names carry none.
    symbol : str, optional
        Instrument symbol; overrides the ticker in the file name.
    venue : str, default "XNAS"
        Venue name. LOBSTER rebuilds the Nasdaq book from TotalView-ITCH, hence ``XNAS``.
    timezone : str, default "America/New_York"
        IANA zone of the message times (LOBSTER times are Nasdaq local wall-clock time).
    start_ns, end_ns : int, optional
        Keep only events with ``start_ns <= ts_event <= end_ns`` (UTC ns, inclusive).

    Returns
    -------
    VenueData
        One row per message; ``ts_recv = ts_event``; book columns are the book after the event.

    Raises
    ------
    DataNotFoundError
        A file is missing.
    DataFormatError
        Empty file, wrong number of columns, order-book columns not a multiple of 4,
        non-numeric values (file, line and column are named), no date or no symbol.
    DataValidationError
        Message and order-book row counts differ, the two file names disagree, unknown
        message types or directions, a local time that a DST change skips or repeats.

    Warns
    -----
    DataQualityWarning
        The order-book file name's level count differs from its columns (the columns win).

    Notes
    -----
    Timestamps: ``ts_event = UTC(date 00:00 local + Time)``, computed in integer nanoseconds
    from the decimal text (no float rounding) and localised with the zone's DST rules, so
    2012-06-21 09:30 EDT is 13:30 UTC and 2012-01-03 09:30 EST is 14:30 UTC.

    Message types map to canonical actions as follows (``d`` is the Direction column):

    ====  ==========================  ======  ==============================================
    Type  LOBSTER meaning             action  side
    ====  ==========================  ======  ==============================================
    1     new limit order             A       B if d = 1 else A
    2     partial cancellation        C       B if d = 1 else A
    3     full deletion               C       B if d = 1 else A
    4     visible execution           T       aggressor: A if d = 1 else B
    5     hidden execution            T       aggressor: A if d = 1 else B
    6     cross trade (auction)       T       N (an auction has no aggressor)
    7     trading halt / resumption   N       N; price NaN, size 0, ``status`` set
    ====  ==========================  ======  ==============================================

    On executions the direction is the side of the *resting* order, so a resting buy
    (d = 1) was hit by a seller: the trade is seller-initiated, side A.

    Halts are kept. When the file has type-7 messages the optional ``status`` column is set on
    them: ``STATUS_HALTED`` (price -1), ``STATUS_QUOTING`` (price 0, quoting resumed) or
    ``STATUS_TRADING`` (price 1, trading resumed), and ``STATUS_NORMAL`` on every other row,
    as the schema defines it; a replay tracks the state from these events. Files without
    halts get no ``status`` column.

    ``depth`` is the 0-based level of the event's price on its side in the book *before* the
    event (row i-1 of the order-book file); when the price is not there (an order opening a
    new level) the level in the book after the event; else 0 (hidden executions, prices
    beyond the kept levels, auction crosses and halts).

    Books deeper than ``MAX_LEVELS = 10`` are cut to their first ten levels (logged at INFO);
    the deeper columns are not read. Empty levels (dummy prices ±9999999999) become NaN
    prices with size 0. Prices are ``integer / 10000`` in float64, the nearest double to the
    exact decimal.

    Examples
    --------
    >>> vd = read_lobster("AAPL_2012-06-21_34200000_57600000_message_10.csv")  # doctest: +SKIP
    >>> vd.venue, vd.symbol, vd.levels  # doctest: +SKIP
    ('XNAS', 'AAPL', 10)
    """
    _check_timezone(timezone)
    msg_path = Path(message_path)
    ob_path = lobster_orderbook_path(msg_path) if orderbook_path is None else Path(orderbook_path)
    msg_info = parse_lobster_filename(msg_path)
    ob_info = parse_lobster_filename(ob_path)
    if (
        msg_info is not None
        and ob_info is not None
        and (msg_info.symbol, msg_info.date) != (ob_info.symbol, ob_info.date)
    ):
        raise DataValidationError(
            f"{msg_path} ({msg_info.symbol} {msg_info.date}) and {ob_path} ({ob_info.symbol} "
            f"{ob_info.date}) are not one LOBSTER extract; pass the order-book file of the same "
            "ticker and day"
        )
    info = msg_info or ob_info

    if date is None:
        if info is None:
            raise DataFormatError(
                f"{msg_path}: no trading date: the file name does not follow LOBSTER's "
                "'{TICKER}_{YYYY-MM-DD}_{start}_{end}_message_{N}.csv'; pass date=YYYY-MM-DD"
            )
        day = info.date
    elif isinstance(date, str):
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise DataFormatError(f"date={date!r} is not an ISO date (YYYY-MM-DD)") from None
    else:
        day = date
    if symbol is None:
        if info is None:
            raise DataFormatError(
                f"{msg_path}: no symbol: the file name does not follow LOBSTER's pattern; "
                "pass symbol='TICKER'"
            )
        symbol = info.symbol

    n_msg_cols = _check_file(msg_path, "message")
    n_ob_cols = _check_file(ob_path, "order-book")
    if n_msg_cols != len(_MESSAGE_COLUMNS):
        raise DataFormatError(
            f"{msg_path}: the message file has {n_msg_cols} columns, expected "
            f"{len(_MESSAGE_COLUMNS)} ({', '.join(_MESSAGE_COLUMNS)}); is it a LOBSTER message "
            "file (no header)?"
        )
    if n_ob_cols % 4 != 0:
        raise DataFormatError(
            f"{ob_path}: the order-book file has {n_ob_cols} columns, not a multiple of 4 "
            "(ask price, ask size, bid price, bid size per level); is it a LOBSTER order-book "
            "file (no header)?"
        )
    file_levels = n_ob_cols // 4
    if ob_info is not None and ob_info.levels != file_levels:
        warnings.warn(
            f"{ob_path}: the name says {ob_info.levels} levels but the file has {file_levels} "
            f"({n_ob_cols} columns); using the {file_levels} levels found in the file",
            DataQualityWarning,
            stacklevel=2,
        )
    levels = min(file_levels, MAX_LEVELS)
    if file_levels > MAX_LEVELS:
        logger.info(
            "%s: %d book levels, keeping the first %d (MAX_LEVELS)", ob_path, file_levels, levels
        )

    messages = _read_int_table(msg_path, _MESSAGE_COLUMNS, _MESSAGE_COLUMNS, "message")
    ob_names = [f"{name} {k + 1}" for k in range(file_levels) for name in _OB_ORDER]
    book = _read_int_table(ob_path, ob_names, ob_names[: 4 * levels], "order-book")
    if messages.num_rows != book.num_rows:
        raise DataValidationError(
            f"{msg_path} has {messages.num_rows} rows but {ob_path} has {book.num_rows}; "
            "LOBSTER writes one order-book row per message, so the files are truncated or "
            "not a pair: re-extract both files of the same request"
        )

    n = messages.num_rows
    where = f"{msg_path}"
    tod_ns = _seconds_to_ns(messages.column("Time"), msg_path)
    ts = _local_to_utc_ns(tod_ns + _midnight_naive_ns(day), timezone, where)
    mtype = _ints(messages, "Type")
    size = _ints(messages, "Size")
    raw_price = _ints(messages, "Price")
    direction = _ints(messages, "Direction")

    bad_type = (mtype < _TYPE_SUBMIT) | (mtype > _TYPE_HALT)
    if bad_type.any():
        row = int(np.flatnonzero(bad_type)[0])
        raise DataValidationError(
            f"{msg_path}: line {row + 1}: unknown message type {int(mtype[row])}; LOBSTER "
            "types are 1..7 (submission, partial cancel, deletion, visible/hidden execution, "
            "cross, halt)"
        )
    is_halt = mtype == _TYPE_HALT
    bad_dir = ~is_halt & (mtype != _TYPE_CROSS) & (direction != 1) & (direction != -1)
    if bad_dir.any():
        row = int(np.flatnonzero(bad_dir)[0])
        raise DataValidationError(
            f"{msg_path}: line {row + 1}: direction {int(direction[row])} is not 1 (buy) or "
            "-1 (sell)"
        )
    bad_halt = is_halt & ~np.isin(raw_price, list(_HALT_STATUS))
    if bad_halt.any():
        row = int(np.flatnonzero(bad_halt)[0])
        raise DataValidationError(
            f"{msg_path}: line {row + 1}: trading-halt message (type 7) with price "
            f"{int(raw_price[row])}; expected -1 (halt), 0 (quoting) or 1 (trading resumed)"
        )

    is_buy_order = direction == 1
    is_trade = (mtype == _TYPE_EXEC_VISIBLE) | (mtype == _TYPE_EXEC_HIDDEN)
    is_order_event = mtype <= _TYPE_DELETE
    action = np.full(n, ACTION_NONE, dtype=np.uint8)
    action[mtype == _TYPE_SUBMIT] = ACTION_ADD
    action[(mtype == _TYPE_PARTIAL_CANCEL) | (mtype == _TYPE_DELETE)] = ACTION_CANCEL
    action[is_trade | (mtype == _TYPE_CROSS)] = ACTION_TRADE
    side = np.full(n, SIDE_NONE, dtype=np.uint8)
    side[is_order_event] = np.where(is_buy_order[is_order_event], SIDE_BID, SIDE_ASK)
    # executions: the direction is the resting order's side; the aggressor is the other side
    side[is_trade] = np.where(is_buy_order[is_trade], SIDE_ASK, SIDE_BID)

    price = raw_price / LOBSTER_PRICE_SCALE
    price[is_halt] = np.nan
    size = np.where(is_halt, 0, size)
    status = np.full(n, STATUS_NORMAL, dtype=np.uint8)
    for code, code_status in _HALT_STATUS.items():
        status[is_halt & (raw_price == code)] = code_status

    columns: dict[str, npt.NDArray[np.generic]] = {
        "ts_event": ts,
        "ts_recv": ts.copy(),
        "action": action,
        "side": side,
        "price": price,
        "size": size,
    }
    if is_halt.any():
        columns["status"] = status
    bid_raw = np.empty((n, levels), dtype=np.int64)
    ask_raw = np.empty((n, levels), dtype=np.int64)
    for k in range(levels):
        ask_raw[:, k] = _ints(book, f"Ask Price {k + 1}")
        bid_raw[:, k] = _ints(book, f"Bid Price {k + 1}")
        for side_name, raw in (("bid", bid_raw[:, k]), ("ask", ask_raw[:, k])):
            px = _book_prices(raw)
            sz = _ints(book, f"{side_name.title()} Size {k + 1}")
            columns[level_column("px", side_name, k)] = px
            columns[level_column("sz", side_name, k)] = np.where(np.isnan(px), 0, sz)
    depth = _depth(raw_price, is_buy_order, bid_raw, ask_raw)
    depth[is_halt | (mtype == _TYPE_CROSS)] = 0
    columns["depth"] = depth

    if start_ns is not None or end_ns is not None:
        keep = np.ones(n, dtype=bool)
        if start_ns is not None:
            keep &= ts >= start_ns
        if end_ns is not None:
            keep &= ts <= end_ns
        columns = {k: v[keep] for k, v in columns.items()}
    logger.debug("%s: %d LOBSTER messages, %d levels, venue %s", msg_path, n, levels, venue)
    return VenueData(venue=venue, symbol=symbol, columns=columns, source=str(msg_path))
