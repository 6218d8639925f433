"""One entry point for every supported input: :func:`load_market_data`.

Formats are detected from the file name and, for CSV, from the header:

* Databento MBP-10/MBP-1: ``.dbn``, ``.dbn.zst``, ``.parquet``, ``.csv`` / ``.csv.zst`` with a
  ``ts_event`` column;
* LOBSTER: a ``*_message_N.csv`` file and its ``*_orderbook_N.csv`` (headerless);
* NYSE TAQ-style consolidated quotes then trades (CSV with ``EX``, ``BID``/``ASK`` or
  ``SIZE``/``PRICE`` columns);
* a directory in the spec's layout ``<data_path>/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.<ext>``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from myopic_sor._typing import PathLike
from myopic_sor.data._layout import discover, parse_layout_name
from myopic_sor.data._schema import MarketData, VenueData
from myopic_sor.exceptions import (
    DataFormatError,
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
)

__all__ = ["InputFormat", "detect_format", "load_market_data"]

logger = logging.getLogger(__name__)

InputFormat = Literal[
    "dbn",
    "databento-parquet",
    "databento-csv",
    "lobster-message",
    "lobster-orderbook",
    "taq-quotes",
    "taq-trades",
    "layout-dir",
]

DEFAULT_TIMEZONE = "America/New_York"


def _head_text(path: Path, nbytes: int = 4096) -> str:
    """The first ``nbytes`` of the (decompressed) file as text, reading at most 1 MiB."""
    import bz2

    import zstandard

    name = path.name.lower()
    try:
        with path.open("rb") as f:
            raw = f.read(1 << 20 if name.endswith((".zst", ".gz", ".bz2")) else nbytes)
        if name.endswith(".bz2"):
            data = bz2.BZ2Decompressor().decompress(raw, max_length=nbytes)
        elif name.endswith(".zst"):
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as r:
                data = r.read(nbytes)
        elif name.endswith(".gz"):
            with gzip.open(io.BytesIO(raw)) as g:
                data = g.read(nbytes)
        else:
            data = raw
    except zstandard.ZstdError as exc:
        raise DataFormatError(
            f"{path}: corrupt zstd data ({exc}); re-download or re-export the file"
        ) from exc
    except (OSError, EOFError, ValueError) as exc:  # gzip/bz2 report corrupt data as OSError
        raise DataFormatError(f"{path}: cannot read the file header ({exc})") from exc
    return data.decode("utf-8-sig", errors="replace")


def detect_format(path: PathLike) -> InputFormat:
    """Detect the format of one input from its name and, for CSV, its header.

    Raises
    ------
    DataNotFoundError
        The path does not exist.
    DataFormatError
        The extension or header matches no supported format (the message lists them).
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p}: no such file or directory")
    if p.is_dir():
        return "layout-dir"
    name = p.name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return "dbn"
    if name.endswith(".parquet"):
        return "databento-parquet"
    if not name.endswith((".csv", ".csv.zst", ".csv.gz", ".csv.bz2", ".txt", ".txt.gz")):
        raise DataFormatError(
            f"{p}: unknown extension; supported: .dbn, .dbn.zst, .parquet, .csv, .csv.zst "
            "(Databento MBP-10/MBP-1), LOBSTER *_message_N.csv + *_orderbook_N.csv, TAQ CSV"
        )
    if p.stat().st_size == 0:
        raise DataFormatError(f"{p}: empty file (0 bytes); nothing to load")
    from myopic_sor.data._lobster import looks_like_lobster_message, looks_like_lobster_orderbook
    from myopic_sor.data._taq import looks_like_taq

    first = next(iter(_head_text(p).splitlines()), "")
    cols = {c.strip().strip('"').upper() for c in first.split(",")}
    if "TS_EVENT" in cols or "TS_RECV" in cols:
        return "databento-csv"
    taq = looks_like_taq(p)
    if taq is not None:
        return "taq-quotes" if taq == "quotes" else "taq-trades"
    if "_message_" in name or looks_like_lobster_message(p):
        return "lobster-message"
    if "_orderbook_" in name or looks_like_lobster_orderbook(p):
        return "lobster-orderbook"
    raise DataFormatError(
        f"{p}: cannot tell the CSV format from its header {first[:120]!r}; expected a Databento "
        "CSV (ts_event, ...), a TAQ quotes (EX, BID, ASK, ...) or trades (EX, PRICE, SIZE, ...) "
        "file, or a headerless LOBSTER message/orderbook file"
    )


@dataclass(frozen=True, slots=True)
class _Window:
    day: dt.date | None
    start: dt.time | None
    end: dt.time | None
    timezone: str

    def describe(self) -> str:
        day = f"{self.day:%Y-%m-%d}" if self.day else "any day"
        start = self.start.isoformat("minutes") if self.start else "start of day"
        end = self.end.isoformat("minutes") if self.end else "end of day"
        return f"{day}, {start} to {end} {self.timezone}"

    def bounds_ns(self, day: dt.date | None = None) -> tuple[int | None, int | None]:
        d = day or self.day
        if d is None:
            return None, None

        def to_ns(t: dt.time) -> int:
            return int(pd.Timestamp(dt.datetime.combine(d, t)).tz_localize(self.timezone).value)

        midnight = dt.time(0, 0)
        lo = to_ns(self.start) if self.start is not None else to_ns(midnight)
        if self.end is not None:
            hi = to_ns(self.end)
        else:  # the next local midnight: a DST day has 23 or 25 hours
            next_day = pd.Timestamp(dt.datetime.combine(d + dt.timedelta(days=1), midnight))
            hi = int(next_day.tz_localize(self.timezone).value) - 1
        if hi < lo:
            raise DataValidationError(
                f"the window ends before it starts ({self.start} > {self.end}); "
                "pass --start earlier than --end"
            )
        return lo, hi


def _as_date(day: dt.date | str | None) -> dt.date | None:
    if day is None or isinstance(day, dt.date):
        return day
    try:
        return dt.date.fromisoformat(day.strip().replace("/", "-"))
    except ValueError:
        try:
            return dt.datetime.strptime(day.strip(), "%Y%m%d").date()
        except ValueError:
            raise DataValidationError(
                f"day {day!r} is not a date; use YYYY-MM-DD, e.g. 2025-04-02"
            ) from None


def _as_time(t: dt.time | str | tuple[str, str] | None) -> dt.time | None:
    if t is None or isinstance(t, dt.time):
        return t
    if isinstance(t, tuple):
        return dt.time(int(t[0]), int(t[1]))
    try:
        return dt.time.fromisoformat(t.strip())
    except ValueError:
        raise DataValidationError(f"time {t!r} is not HH:MM[:SS]; use e.g. 09:30") from None


def _read_databento(
    fmt: InputFormat,
    path: Path,
    *,
    symbol: str | None,
    venue: str | None,
    lo: int | None,
    hi: int | None,
) -> VenueData:
    from myopic_sor.data import _databento as dbx

    if venue is None:
        lf = parse_layout_name(path)
        venue = lf.venue if lf is not None else None
    if fmt == "dbn":
        return dbx.read_dbn(path, symbol=symbol, venue=venue, start_ns=lo, end_ns=hi)
    if fmt == "databento-parquet":
        return dbx.read_mbp_parquet(path, symbol=symbol, venue=venue, start_ns=lo, end_ns=hi)
    return dbx.read_mbp_csv(path, symbol=symbol, venue=venue, start_ns=lo, end_ns=hi)


def _group_paths(paths: Sequence[Path]) -> list[tuple[str, list[Path]]]:
    """Pair LOBSTER message/orderbook files and TAQ quotes/trades files; others stand alone."""
    detected = [(p, detect_format(p)) for p in paths]
    groups: list[tuple[str, list[Path]]] = []
    lob_msg = [p for p, f in detected if f == "lobster-message"]
    lob_book = [p for p, f in detected if f == "lobster-orderbook"]
    if len(lob_msg) != len(lob_book):
        raise DataValidationError(
            f"LOBSTER data come in pairs: got {len(lob_msg)} message file(s) and "
            f"{len(lob_book)} orderbook file(s); pass each *_message_N.csv with its "
            "*_orderbook_N.csv"
        )
    for m in lob_msg:
        key = m.name.replace("_message_", "_orderbook_")
        match = [b for b in lob_book if b.name == key] or (lob_book if len(lob_book) == 1 else [])
        if not match:
            raise DataValidationError(f"{m}: no matching orderbook file {key} among the inputs")
        book = match[0]  # `match` may be `lob_book` itself: take the file before removing it
        lob_book.remove(book)
        groups.append(("lobster", [m, book]))
    quotes = [p for p, f in detected if f == "taq-quotes"]
    trades = [p for p, f in detected if f == "taq-trades"]
    if len(trades) > len(quotes):
        raise DataValidationError(
            f"TAQ trades file(s) {', '.join(map(str, trades))} given without a quotes file; "
            "pass the quotes file first, then the trades file"
        )
    for i, q in enumerate(quotes):
        groups.append(("taq", [q, trades[i]] if i < len(trades) else [q]))
    for p, f in detected:
        if f in ("dbn", "databento-parquet", "databento-csv", "layout-dir"):
            groups.append((f, [p]))
    return groups


def _local_dates(ts: np.ndarray, tz: str) -> np.ndarray:
    idx = pd.DatetimeIndex(pd.to_datetime(ts.astype(np.int64), unit="ns", utc=True))
    return np.asarray(idx.tz_convert(tz).date)


def load_market_data(
    *paths: PathLike,
    symbol: str | None = None,
    day: dt.date | str | None = None,
    start: dt.time | str | tuple[str, str] | None = None,
    end: dt.time | str | tuple[str, str] | None = None,
    venue: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    validate: bool = True,
    repair: bool = False,
) -> MarketData:
    """Load market data of one symbol and one day from any supported input into a MarketData.

    Parameters
    ----------
    *paths : str or os.PathLike
        Files or a layout directory. A LOBSTER day is its message and orderbook files; a TAQ day
        is the quotes file, then the trades file. Databento files are one venue each (the venue
        comes from the file's dataset or its layout name).
    symbol : str, optional
        The instrument to keep when the input holds several (else an error names them).
    day : date or "YYYY-MM-DD", optional
        The trading day to keep when the input spans several days (else an error lists them).
    start, end : time, "HH:MM" or ("HH", "MM"), optional
        Local-time window on ``day`` in ``timezone``; inclusive. Formats that allow it (Parquet)
        read only that window from disk.
    venue : str, optional
        Venue name for a single Databento file whose name and metadata do not say it.
    timezone : str
        Exchange time zone for windows, LOBSTER and TAQ local times; default America/New_York.
    validate : bool
        Run :func:`myopic_sor.data.validate_market_data` (errors raise, quality issues warn).
    repair : bool
        Let validation repair what it can (stable-sort unsorted timestamps, drop exact duplicate
        rows), each with a DataQualityWarning that counts the rows.

    Returns
    -------
    MarketData

    Raises
    ------
    DataNotFoundError, DataFormatError, DataValidationError
        Each names the file, column, row or timestamp at fault and how to fix it.

    Examples
    --------
    >>> md = load_market_data("./data/AAPL", day="2025-04-02")  # doctest: +SKIP
    >>> md = load_market_data(
    ...     "AAPL_2012-06-21_34200000_57600000_message_10.csv",
    ...     "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv",
    ... )  # doctest: +SKIP
    """
    if not paths:
        raise DataNotFoundError("no input given; pass files or a data directory")
    win = _Window(_as_date(day), _as_time(start), _as_time(end), timezone)
    venues: list[VenueData] = []
    for kind, group in _group_paths([Path(p) for p in paths]):
        venues.extend(_load_group(kind, group, symbol, venue, win))
    if not venues:
        raise DataNotFoundError(f"{', '.join(map(str, paths))}: no venue data found")
    windowed = win.day is not None or win.start is not None or win.end is not None
    if windowed and not any(len(v) for v in venues):
        raise DataValidationError(
            f"{', '.join(map(str, paths))}: no events in the requested window ("
            f"{win.describe()}); run `myopic-sor inspect-data` without --date/--start/--end "
            "to see the span the data cover"
        )
    empty = [v.venue for v in venues if not len(v)]
    if windowed and empty:
        warnings.warn(
            f"{len(empty)} venue(s) have no events in the window ({win.describe()}) and are "
            f"left out: {', '.join(empty)}",
            DataQualityWarning,
            stacklevel=2,
        )
        venues = [v for v in venues if len(v)]
    symbols = sorted({v.symbol for v in venues})
    if len(symbols) > 1:
        if symbol is None:
            raise DataValidationError(
                f"inputs hold several symbols ({', '.join(symbols)}); pass symbol= "
                "(CLI: --symbol) to pick one"
            )
        venues = [v for v in venues if v.symbol == symbol]
    md_day = win.day or _single_day(venues, timezone)
    names = [v.venue for v in venues]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        sources = [v.source for v in venues if v.venue in dupes]
        raise DataValidationError(
            f"venue {', '.join(dupes)} appears in several inputs ({', '.join(sources)}); "
            "pass one file per venue and day"
        )
    md = MarketData(
        symbol=venues[0].symbol,
        date=md_day,
        venues={v.venue: v for v in venues},
        timezone=timezone,
    )
    if validate:
        from myopic_sor.data._validate import validate_market_data

        md, _ = validate_market_data(md, repair=repair)
    # Loaders already pushed the window down where they could; this makes it exact for all
    # (after validation, so that `between` runs on sorted timestamps).
    lo, hi = win.bounds_ns(md_day)
    return md.between(lo, hi)


def _load_group(
    kind: str, group: list[Path], symbol: str | None, venue: str | None, win: _Window
) -> list[VenueData]:
    if kind == "layout-dir":
        files = discover(group[0], stock=symbol, day=win.day)
        stocks = sorted({f.stock for f in files})
        if len(stocks) > 1:
            raise DataValidationError(
                f"{group[0]}: holds several stocks ({', '.join(stocks)}); pass symbol= "
                "(CLI: --symbol) or the stock's folder"
            )
        days = sorted({f.date for f in files})
        if len(days) > 1:
            listed = ", ".join(f"{d:%Y-%m-%d}" for d in days)
            raise DataValidationError(
                f"{group[0]}: holds several days ({listed}); pass day= (CLI: --date)"
            )
        out = []
        for f in files:
            lo, hi = win.bounds_ns(f.date)
            fmt: InputFormat = (
                "dbn"
                if f.ext.startswith("dbn")
                else ("databento-parquet" if f.ext == "parquet" else "databento-csv")
            )
            vd = _read_databento(fmt, f.path, symbol=symbol or f.stock, venue=f.venue, lo=lo, hi=hi)
            out.append(vd)
        return out
    if kind == "lobster":
        from myopic_sor.data._lobster import read_lobster

        lo, hi = win.bounds_ns()
        return [
            read_lobster(
                group[0],
                group[1],
                date=win.day,
                symbol=symbol,
                timezone=win.timezone,
                start_ns=lo,
                end_ns=hi,
            )
        ]
    if kind == "taq":
        from myopic_sor.data._taq import read_taq

        lo, hi = win.bounds_ns()
        trades = group[1] if len(group) > 1 else None
        by_venue = read_taq(
            group[0],
            trades,
            symbol=symbol,
            date=win.day,
            timezone=win.timezone,
            start_ns=lo,
            end_ns=hi,
        )
        return list(by_venue.values())
    lo, hi = win.bounds_ns()
    return [_read_databento(kind, group[0], symbol=symbol, venue=venue, lo=lo, hi=hi)]  # type: ignore[arg-type]


def _single_day(venues: list[VenueData], tz: str) -> dt.date:
    """The one local trading day the inputs cover (min and max timestamps, robust to disorder)."""
    nonempty = [v for v in venues if len(v)]
    if not nonempty:
        raise DataValidationError(
            "inputs hold no events; check the file and the --start/--end window"
        )
    lo = min(int(v.ts_event.min()) for v in nonempty)
    hi = max(int(v.ts_event.max()) for v in nonempty)
    first, last = _local_dates(np.array([lo, hi]), tz)
    if first == last:
        return first  # type: ignore[no-any-return]
    days = sorted(set().union(*(set(_local_dates(v.ts_event, tz)) for v in nonempty)))
    listed = ", ".join(f"{d:%Y-%m-%d}" for d in days)
    raise DataValidationError(
        f"inputs span several days ({listed}); pass day= (CLI: --date) to pick one"
    )
