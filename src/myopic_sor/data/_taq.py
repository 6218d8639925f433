"""NYSE TAQ-style consolidated quotes and trades → one top-of-book :class:`VenueData` per exchange.

TAQ (the consolidated tape, as sold by NYSE and redistributed by WRDS) carries every exchange's
best quote and every trade, each tagged with an exchange code. This loader splits the tape by
exchange, so each exchange becomes a venue whose level-0 book is that exchange's own quote.

Accepted column spellings (case-insensitive, ``,`` or ``|`` delimited, one header line):

=================  ===========================================================================
field              spellings
=================  ===========================================================================
date and time      ``DT`` / ``DATETIME`` (``YYYY-MM-DD HH:MM:SS[.fffffffff]``), or ``DATE``
                   (``YYYYMMDD`` or ``YYYY-MM-DD``) with ``TIME_M`` / ``TIME``
                   (``HH:MM:SS[.fffffffff]`` or ``HHMMSS[fffffffff]``)
exchange           ``EX`` / ``EXCHANGE``
symbol             ``SYM_ROOT`` (+ ``SYM_SUFFIX``, joined as ``ROOT.SUFFIX``), or ``SYMBOL``
                   / ``SYM``
quotes             ``BID``, ``BIDSIZ``, ``ASK`` (or ``OFR``), ``ASKSIZ`` (or ``OFRSIZ``), and the
                   Daily TAQ names ``BID_PRICE``, ``BID_SIZE``, ``OFFER_PRICE``, ``OFFER_SIZE``
trades             ``PRICE`` (``TRADE_PRICE``), ``SIZE`` (``TRADE_VOLUME``); optional
                   ``TR_SCOND`` (``SALE_CONDITION``), ``TR_CORR`` (``TRADE_CORRECTION_INDICATOR``)
=================  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from myopic_sor._typing import BoolArray1D, Float64Array1D, Int64Array1D, PathLike
from myopic_sor.data._lobster import (
    _check_timezone,
    _first_line,
    _local_to_utc_ns,
)
from myopic_sor.data._schema import (
    ACTION_NONE,
    ACTION_TRADE,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
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
    "TAQ_EXCHANGES",
    "TaqKind",
    "lee_ready_side",
    "looks_like_taq",
    "read_taq",
    "tick_test",
]

logger = logging.getLogger(__name__)

TaqKind = Literal["quotes", "trades"]

#: TAQ exchange (participant) code → venue name (ISO 10383 MIC where one exists), after the
#: NYSE Daily TAQ Client Specification v3.x participant table. ``D`` (FINRA ADF and the TRFs)
#: prints off-exchange trades only. ``E`` (SIP-generated) and ``S`` (consolidated tape) are
#: not venues and are absent on purpose; map them with ``exchanges=`` if a file carries them.
TAQ_EXCHANGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "XASE",  # NYSE American (AMEX)
        "B": "XBOS",  # Nasdaq BX
        "C": "XCIS",  # NYSE National (formerly National Stock Exchange)
        "D": "FINN",  # FINRA ADF / Trade Reporting Facilities (trades only)
        "H": "EPRL",  # MIAX Pearl Equities
        "I": "XISX",  # Nasdaq ISE
        "J": "EDGA",  # Cboe EDGA
        "K": "EDGX",  # Cboe EDGX
        "L": "LTSE",  # Long-Term Stock Exchange
        "M": "XCHI",  # NYSE Chicago
        "N": "XNYS",  # New York Stock Exchange
        "P": "ARCX",  # NYSE Arca
        "Q": "XNAS",  # Nasdaq (Tape C)
        "T": "XNAS",  # Nasdaq (Tapes A and B)
        "U": "MEMX",  # Members Exchange
        "V": "IEXG",  # Investors' Exchange
        "W": "XCBO",  # Cboe Stock Exchange (CBSX, closed 2014)
        "X": "XPSX",  # Nasdaq PSX
        "Y": "BATY",  # Cboe BYX
        "Z": "BATS",  # Cboe BZX
    }
)

_SPELLINGS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "dt": ("DT", "DATETIME"),
        "date": ("DATE",),
        "time": ("TIME_M", "TIME"),
        "ex": ("EX", "EXCHANGE"),
        "sym_root": ("SYM_ROOT",),
        "sym_suffix": ("SYM_SUFFIX",),
        "symbol": ("SYMBOL", "SYM"),
        "bid": ("BID", "BID_PRICE"),
        "bidsiz": ("BIDSIZ", "BID_SIZE"),
        "ask": ("ASK", "OFR", "OFFER_PRICE", "ASK_PRICE"),
        "asksiz": ("ASKSIZ", "OFRSIZ", "OFFER_SIZE", "ASK_SIZE"),
        "price": ("PRICE", "TRADE_PRICE"),
        "size": ("SIZE", "TRADE_VOLUME"),
        "cond": ("TR_SCOND", "SALE_CONDITION"),
        "corr": ("TR_CORR", "TRADE_CORRECTION_INDICATOR"),
    }
)
_QUOTE_FIELDS: Final = ("bid", "bidsiz", "ask", "asksiz")
_TRADE_FIELDS: Final = ("price", "size")
_STRING_FIELDS: Final = frozenset(
    ("dt", "date", "time", "ex", "sym_root", "sym_suffix", "symbol", "cond", "corr")
)
_NUMBER_RE: Final = r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)?\s*$"
_COLON_TIME_RE: Final = r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{0,9}))?$"
_DIGIT_TIME_RE: Final = r"^(?P<h>\d{2})(?P<m>\d{2})(?P<s>\d{2})(?P<f>\d{0,9})$"
_DT_RE: Final = r"^(?P<date>\d{4}-?\d{2}-?\d{2})[ T](?P<time>\S+)$"
_NS_PER_S: Final = 1_000_000_000
_NS_PER_DAY: Final = 86_400 * _NS_PER_S
_EPOCH: Final = dt.date(1970, 1, 1)


# -- columns ------------------------------------------------------------------------------------
def _header(path: Path, what: str) -> tuple[list[str], str]:
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such TAQ {what} file")
    line = _first_line(path)
    if line is None:
        raise DataFormatError(f"{path}: the TAQ {what} file is empty (expected a header line)")
    return _split_header(line)


def _split_header(line: str) -> tuple[list[str], str]:
    """Column names and delimiter of a header line (quotes and a UTF-8 BOM removed)."""
    line = line.lstrip("\ufeff")
    delimiter = "|" if line.count("|") > line.count(",") else ","
    return [c.strip().strip('"').strip() for c in line.split(delimiter)], delimiter


def _resolve(header: list[str]) -> dict[str, str]:
    """Map each known field to the file's spelling of it (first accepted spelling present)."""
    upper = {c.upper(): c for c in header}
    found: dict[str, str] = {}
    for field_name, spellings in _SPELLINGS.items():
        for s in spellings:
            if s in upper:
                found[field_name] = upper[s]
                break
    return found


def _sniff(header: list[str]) -> TaqKind | None:
    cols = _resolve(header)
    has_time = "dt" in cols or "time" in cols
    if not has_time or "ex" not in cols:
        return None
    if all(f in cols for f in _QUOTE_FIELDS):
        return "quotes"
    if all(f in cols for f in _TRADE_FIELDS):
        return "trades"
    return None


def looks_like_taq(path: PathLike) -> TaqKind | None:
    """Tell whether a file is a TAQ-style quotes or trades file (for format detection).

    Parameters
    ----------
    path : str or os.PathLike
        A CSV (``,`` or ``|`` delimited, optionally ``.gz``/``.bz2``/``.zst``).

    Returns
    -------
    {"quotes", "trades"} or None
        ``"quotes"`` when the header has a time, an exchange and bid/ask price and size
        columns; ``"trades"`` when it has a time, an exchange, a price and a size; else None
        (also for missing or unreadable files).
    """
    p = Path(path)
    try:
        line = _first_line(p) if p.is_file() else None
    except (OSError, EOFError, ValueError):
        return None
    if line is None:
        return None
    return _sniff(_split_header(line)[0])


def _missing(path: Path, what: str, field_name: str) -> DataFormatError:
    spellings = " / ".join(_SPELLINGS[field_name])
    return DataFormatError(
        f"{path}: the TAQ {what} file has no {field_name.upper()} column (accepted spellings, "
        f"any case: {spellings}); rename the column or export it from your TAQ source"
    )


@dataclass(frozen=True, slots=True)
class _Raw:
    """One TAQ file, parsed: UTC times, exchange codes, symbols and numeric fields."""

    path: Path
    line: Int64Array1D  # file line number of each row (the header is line 1)
    ts: Int64Array1D
    day: Int64Array1D  # local calendar day, days since 1970-01-01
    ex_codes: list[str]  # distinct exchange codes ...
    ex_idx: npt.NDArray[np.int32]  # ... and each row's index into them
    sym_names: list[str] | None  # distinct symbols (None without a symbol column) ...
    sym_idx: npt.NDArray[np.int32]  # ... and each row's index into them
    numbers: dict[str, Float64Array1D]
    strings: dict[str, pa.ChunkedArray]


def _encode(col: pa.ChunkedArray | pa.Array) -> tuple[list[str], npt.NDArray[np.int32]]:
    """Hash-encode strings: (distinct values, int32 index per row); no sort of the rows."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = (
            enc.combine_chunks()
            if enc.num_chunks
            else pa.array([], pa.string()).dictionary_encode()
        )
    values = [str(v) for v in enc.dictionary.to_pylist()]
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return values, idx


def _first_bad_number(path: Path, delimiter: str, column: str) -> tuple[int, str] | None:
    table = pv.read_csv(
        path,
        parse_options=pv.ParseOptions(delimiter=delimiter),
        convert_options=pv.ConvertOptions(
            include_columns=[column],
            column_types={column: pa.string()},
            strings_can_be_null=False,
        ),
    )
    col = table.column(column)
    ok = pc.fill_null(pc.match_substring_regex(col, _NUMBER_RE), True)
    bad = np.flatnonzero(~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool))
    if bad.size == 0:
        return None
    return int(bad[0]) + 2, str(col[int(bad[0])].as_py())  # +1 header line, +1 one-based


def _read(
    path: Path, what: TaqKind, header: list[str], delimiter: str
) -> tuple[pa.Table, dict[str, str]]:
    cols = _resolve(header)
    needed = _QUOTE_FIELDS if what == "quotes" else _TRADE_FIELDS
    for f in ("ex", *needed):
        if f not in cols:
            raise _missing(path, what, f)
    if "dt" not in cols and "time" not in cols:
        raise DataFormatError(
            f"{path}: the TAQ {what} file has no time column (accepted spellings, any case: "
            f"{' / '.join(_SPELLINGS['dt'])} for a date-time, or "
            f"{' / '.join(_SPELLINGS['time'])} with DATE); rename the column"
        )
    if "dt" in cols:  # a combined date-time wins over separate columns
        cols.pop("date", None)
        cols.pop("time", None)
    if "sym_root" in cols:
        cols.pop("symbol", None)
    else:
        cols.pop("sym_suffix", None)
    if what == "quotes":
        for f in ("price", "size", "cond", "corr"):
            cols.pop(f, None)
    else:
        for f in _QUOTE_FIELDS:
            cols.pop(f, None)
    types = {
        name: (pa.string() if f in _STRING_FIELDS else pa.float64()) for f, name in cols.items()
    }
    try:
        table = pv.read_csv(
            path,
            parse_options=pv.ParseOptions(delimiter=delimiter),
            read_options=pv.ReadOptions(block_size=1 << 24),
            convert_options=pv.ConvertOptions(
                include_columns=list(cols.values()),
                column_types=types,
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "conversion error" in msg:
            for f, name in cols.items():
                if f in _STRING_FIELDS:
                    continue
                bad = _first_bad_number(path, delimiter, name)
                if bad is not None:
                    line, value = bad
                    raise DataFormatError(
                        f"{path}: line {line}, column {name!r}: non-numeric value {value!r}; "
                        f"{name} must be a number (fix or remove that row)"
                    ) from None
        raise DataFormatError(f"{path}: cannot parse the TAQ {what} file: {msg}") from None
    if table.num_rows == 0:
        raise DataFormatError(f"{path}: the TAQ {what} file has a header but no rows")
    return table, cols


def _days_since_epoch(col: pa.ChunkedArray, path: Path, name: str) -> Int64Array1D:
    """Date strings (YYYYMMDD or YYYY-MM-DD) → days since 1970-01-01, parsing each distinct
    value once."""
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(col)).combine_chunks()
    days = np.empty(len(enc.dictionary), dtype=np.int64)
    for i, text in enumerate(enc.dictionary.to_pylist()):
        m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text)
        try:
            if m is None:
                raise ValueError(text)
            days[i] = (dt.date(int(m[1]), int(m[2]), int(m[3])) - _EPOCH).days
        except ValueError:
            idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False))
            row = int(np.flatnonzero(idx == i)[0])
            raise DataFormatError(
                f"{path}: line {row + 2}, column {name!r}: {text!r} is not a date "
                "(expected YYYYMMDD or YYYY-MM-DD)"
            ) from None
    out: Int64Array1D = days[np.asarray(enc.indices.to_numpy(zero_copy_only=False), np.intp)]
    return out


def _fixed_width_time_ns(text: pa.Array) -> Int64Array1D | None:
    """Fast exact path for times of one width (the usual export): digits are read straight
    from the string buffer, column by column. None when the layout does not fit (the regex
    path then parses, or reports the first bad row)."""
    n = len(text)
    if n == 0 or text.null_count or text.type != pa.string():
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if width < 6 or not (np.diff(offsets) == width).all():
        return None
    raw = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    chars = raw[offsets[0] : offsets[0] + n * width].reshape(n, width)
    if width >= 8 and chr(chars[0, 2]) == ":":  # HH:MM:SS[.fffffffff]
        seps = {2: ":", 5: ":"} | ({8: "."} if width > 8 else {})
        hms, frac = (0, 1, 3, 4, 6, 7), range(9, width)
        if width == 9 or width > 18:
            return None
    else:  # HHMMSS[fffffffff]
        seps, hms, frac = {}, (0, 1, 2, 3, 4, 5), range(6, width)
        if width > 15:
            return None
    for j, sep in seps.items():
        if not (chars[:, j] == ord(sep)).all():
            return None

    def digit(j: int) -> Int64Array1D:
        d = chars[:, j].astype(np.int64) - ord("0")
        if ((d < 0) | (d > 9)).any():
            raise ValueError
        return d

    try:
        h = digit(hms[0]) * 10 + digit(hms[1])
        m = digit(hms[2]) * 10 + digit(hms[3])
        sec = digit(hms[4]) * 10 + digit(hms[5])
        f = np.zeros(n, dtype=np.int64)
        for k, j in enumerate(frac):
            f += digit(j) * 10 ** (8 - k)
    except ValueError:
        return None
    if ((h > 23) | (m > 59) | (sec > 60)).any():
        return None
    out: Int64Array1D = ((h * 60 + m) * 60 + sec) * _NS_PER_S + f
    return out


def _time_of_day_ns(col: pa.ChunkedArray | pa.Array, path: Path, name: str) -> Int64Array1D:
    """``HH:MM:SS[.f]`` or ``HHMMSS[f]`` strings → ns after midnight, exactly."""
    text = pc.utf8_trim_whitespace(col)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.string())
    fast = _fixed_width_time_ns(text)
    if fast is not None:
        return fast
    out = np.zeros(len(text), dtype=np.int64)
    done = np.zeros(len(text), dtype=bool)
    for pattern in (_COLON_TIME_RE, _DIGIT_TIME_RE):
        parts = pc.extract_regex(text, pattern)
        ok = ~np.asarray(parts.is_null().to_numpy(zero_copy_only=False), dtype=bool) & ~done
        if not ok.any():
            continue

        def part(key: str, parts: pa.Array = parts) -> Int64Array1D:
            field = pc.struct_field(parts, key)
            if key == "f":
                field = pc.utf8_rpad(pc.if_else(pc.is_null(field), "", field), 9, "0")
            vals = pc.cast(pc.fill_null(field, "0"), pa.int64())
            return np.asarray(vals.to_numpy(zero_copy_only=False), dtype=np.int64)

        h, m, s, f = part("h"), part("m"), part("s"), part("f")
        if ((m[ok] > 59) | (s[ok] > 60) | (h[ok] > 23)).any():
            row = int(np.flatnonzero(ok & ((m > 59) | (s > 60) | (h > 23)))[0])
            raise DataFormatError(
                f"{path}: line {row + 2}, column {name!r}: {text[row].as_py()!r} is not a time "
                "of day"
            )
        ns = ((h * 60 + m) * 60 + s) * _NS_PER_S + f
        out[ok] = ns[ok]
        done |= ok
    if not done.all():
        row = int(np.flatnonzero(~done)[0])
        raise DataFormatError(
            f"{path}: line {row + 2}, column {name!r}: {text[row].as_py()!r} is not a time "
            "(expected HH:MM:SS[.fffffffff] or HHMMSS[fffffffff])"
        )
    return out


def _parse(path: Path, what: TaqKind, timezone: str, date: dt.date | None) -> _Raw:
    header, delimiter = _header(path, what)
    table, cols = _read(path, what, header, delimiter)
    n = table.num_rows
    if "dt" in cols:
        parts = pc.extract_regex(pc.utf8_trim_whitespace(table.column(cols["dt"])), _DT_RE)
        bad = np.asarray(parts.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataFormatError(
                f"{path}: line {row + 2}, column {cols['dt']!r}: "
                f"{table.column(cols['dt'])[row].as_py()!r} is not a date-time (expected "
                "YYYY-MM-DD HH:MM:SS[.fffffffff])"
            )
        day = _days_since_epoch(pc.struct_field(parts, "date"), path, cols["dt"])
        tod = _time_of_day_ns(pc.struct_field(parts, "time"), path, cols["dt"])
    else:
        tod = _time_of_day_ns(table.column(cols["time"]), path, cols["time"])
        if "date" in cols:
            day = _days_since_epoch(table.column(cols["date"]), path, cols["date"])
        elif date is not None:
            day = np.full(n, (date - _EPOCH).days, dtype=np.int64)
        else:
            raise DataFormatError(
                f"{path}: no date: the file has a time column but no DATE or DT column; "
                "pass date=YYYY-MM-DD"
            )
    ts = _local_to_utc_ns(day * _NS_PER_DAY + tod, timezone, str(path), first_line=2)

    ex_codes, ex_idx = _encode(pc.utf8_trim_whitespace(table.column(cols["ex"])))
    sym_names: list[str] | None = None
    sym_idx = np.zeros(n, dtype=np.int32)
    if "sym_root" in cols or "symbol" in cols:
        sym = pc.utf8_trim_whitespace(table.column(cols.get("sym_root") or cols["symbol"]))
        if "sym_suffix" in cols:
            suffix = pc.utf8_trim_whitespace(table.column(cols["sym_suffix"]))
            joined = pc.binary_join_element_wise(sym, suffix, ".")
            sym = pc.if_else(pc.equal(pc.utf8_length(suffix), 0), sym, joined)
        sym_names, sym_idx = _encode(sym)
    numbers = {
        f: np.asarray(table.column(name).to_numpy(), dtype=np.float64)
        for f, name in cols.items()
        if f not in _STRING_FIELDS
    }
    strings = {f: table.column(name) for f, name in cols.items() if f in ("cond", "corr")}
    line = np.arange(2, n + 2, dtype=np.int64)
    return _Raw(path, line, ts, day, ex_codes, ex_idx, sym_names, sym_idx, numbers, strings)


# -- selection ----------------------------------------------------------------------------------
def _select(raws: list[_Raw], symbol: str | None, date: dt.date | None) -> tuple[list[_Raw], str]:
    """Keep the rows of one symbol (and one day when ``date`` is given); return the symbol."""
    found: set[str] = set()
    for r in raws:
        if r.sym_names is not None:
            found.update(r.sym_names)
    if symbol is None:
        if len(found) > 1:
            listed = ", ".join(sorted(found)[:8]) + (" ..." if len(found) > 8 else "")
            raise DataValidationError(
                f"{', '.join(str(r.path) for r in raws)}: {len(found)} symbols ({listed}); "
                "pass symbol= to load one of them"
            )
        if not found:
            raise DataFormatError(
                f"{raws[0].path}: no symbol column (SYM_ROOT / SYMBOL / SYM); pass symbol="
            )
        symbol = found.pop()
    else:  # take the file's spelling of a case-insensitive match
        symbol = next((s for s in sorted(found) if s.upper() == symbol.upper()), symbol)
    out: list[_Raw] = []
    for r in raws:
        keep = np.ones(r.ts.shape[0], dtype=bool)
        if r.sym_names is not None:
            wanted = [i for i, name in enumerate(r.sym_names) if name.upper() == symbol.upper()]
            keep &= np.isin(r.sym_idx, wanted)
            if not keep.any():
                have = ", ".join(sorted(r.sym_names)[:8])
                raise DataValidationError(
                    f"{r.path}: no rows for symbol {symbol!r} (the file has {have}); check symbol="
                )
        if date is not None:
            on_day = r.day == (date - _EPOCH).days
            if not (keep & on_day).any():
                days = sorted({str(_EPOCH + dt.timedelta(days=int(d))) for d in np.unique(r.day)})
                raise DataValidationError(
                    f"{r.path}: no rows on {date} for {symbol} (the file has "
                    f"{', '.join(days[:8])}); check date="
                )
            keep &= on_day
        out.append(r if keep.all() else _take(r, keep))
    return out, symbol


def _take(r: _Raw, keep: BoolArray1D | npt.NDArray[np.intp]) -> _Raw:
    return _Raw(
        path=r.path,
        line=r.line[keep],
        ts=r.ts[keep],
        day=r.day[keep],
        ex_codes=r.ex_codes,
        ex_idx=r.ex_idx[keep],
        sym_names=r.sym_names,
        sym_idx=r.sym_idx[keep],
        numbers={k: v[keep] for k, v in r.numbers.items()},
        strings={
            k: v.filter(pa.array(keep)) if keep.dtype == bool else v.take(pa.array(keep))
            for k, v in r.strings.items()
        },
    )


def _venue_ids(r: _Raw, mapping: Mapping[str, str], names: list[str]) -> npt.NDArray[np.intp]:
    """Venue index (into ``names``, extended as new venues appear) of each row of ``r``."""
    lookup = np.zeros(len(r.ex_codes), dtype=np.intp)
    present = np.bincount(r.ex_idx, minlength=len(r.ex_codes)) > 0  # after row selection
    for i, code in enumerate(r.ex_codes):
        if not present[i]:
            continue
        if code not in mapping:
            line = int(r.line[np.flatnonzero(r.ex_idx == i)[0]])
            raise DataFormatError(
                f"{r.path}: unknown exchange code {code!r} (first on line {line}); known "
                f"codes are {', '.join(sorted(mapping))}; pass exchanges={{{code!r}: 'NAME'}} "
                "to name its venue"
            )
        if mapping[code] not in names:
            names.append(mapping[code])
        lookup[i] = names.index(mapping[code])
    out: npt.NDArray[np.intp] = lookup[r.ex_idx]
    return out


def _sizes(x: Float64Array1D, r: _Raw, name: str) -> Int64Array1D:
    bad = np.isfinite(x) & ((x < 0) | (x != np.floor(x)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{r.path}: line {int(r.line[row])}, column {name}: size {x[row]} is not a "
            "non-negative whole number"
        )
    out: Int64Array1D = np.where(np.isfinite(x), x, 0).astype(np.int64)
    return out


# -- Lee-Ready ----------------------------------------------------------------------------------
def tick_test(price: Float64Array1D) -> npt.NDArray[np.int8]:
    """Tick test: +1 up-tick or zero-up-tick, -1 down-tick or zero-down-tick, 0 unknown.

    Parameters
    ----------
    price : numpy.ndarray
        Trade prices in time order, currency per share.

    Returns
    -------
    numpy.ndarray of int8
        For each trade, the sign of ``price[i] - price[j]`` where ``j`` is the last earlier
        trade at a different price; 0 when every earlier trade had the same price.

    Examples
    --------
    >>> import numpy as np
    >>> tick_test(np.array([10.0, 10.0, 10.1, 10.1, 10.0])).tolist()
    [0, 0, 1, 1, -1]
    """
    n = price.shape[0]
    step = np.zeros(n, dtype=np.int8)
    if n > 1:
        step[1:] = np.sign(np.diff(price)).astype(np.int8)
    last = np.maximum.accumulate(np.where(step != 0, np.arange(n), -1))
    out: npt.NDArray[np.int8] = np.where(last >= 0, step[np.maximum(last, 0)], 0).astype(np.int8)
    return out


def lee_ready_side(
    price: Float64Array1D,
    bid: Float64Array1D,
    ask: Float64Array1D,
    tick: npt.NDArray[np.int8],
) -> npt.NDArray[np.uint8]:
    """Aggressor side of trades by the Lee-Ready rule, as canonical side codes.

    Parameters
    ----------
    price : numpy.ndarray
        Trade prices, currency per share.
    bid, ask : numpy.ndarray
        Prevailing quote at each trade (NaN when absent), currency per share.
    tick : numpy.ndarray of int8
        :func:`tick_test` signs of the same trades.

    Returns
    -------
    numpy.ndarray of uint8
        ``SIDE_BID`` (buyer-initiated), ``SIDE_ASK`` (seller-initiated) or ``SIDE_NONE``.

    Notes
    -----
    With ``m = (bid + ask) / 2``: ``price > m`` → B, ``price < m`` → A; at the mid, or when
    the quote is missing, one-sided or crossed (``bid > ask``), the tick test decides
    (+1 → B, -1 → A, 0 → N).

    References
    ----------
    Lee, C. M. C. and Ready, M. J. (1991). Inferring trade direction from intraday data.
    Journal of Finance 46(2), 733-746.

    Examples
    --------
    >>> import numpy as np
    >>> px = np.array([10.05, 10.00, 10.00])
    >>> side = lee_ready_side(px, np.full(3, 9.9), np.full(3, 10.1), tick_test(px))
    >>> side.tobytes().decode()
    'BAA'
    """
    usable = np.isfinite(bid) & np.isfinite(ask) & (bid <= ask)
    mid = np.where(usable, 0.5 * (bid + ask), np.nan)
    by_tick = np.where(tick > 0, SIDE_BID, np.where(tick < 0, SIDE_ASK, SIDE_NONE))
    side = np.where(price > mid, SIDE_BID, np.where(price < mid, SIDE_ASK, by_tick))
    out: npt.NDArray[np.uint8] = side.astype(np.uint8)
    return out


# -- the loader ---------------------------------------------------------------------------------
def read_taq(
    quotes_path: PathLike | None,
    trades_path: PathLike | None = None,
    *,
    symbol: str | None = None,
    date: dt.date | str | None = None,
    timezone: str = "America/New_York",
    start_ns: int | None = None,
    end_ns: int | None = None,
    exchanges: Mapping[str, str] | None = None,
    quote_size_multiplier: int = 100,
    drop_corrected: bool = True,
    exclude_conditions: Collection[str] = (),
) -> dict[str, VenueData]:
    """Load TAQ-style consolidated quotes (and trades) into one top-of-book venue per exchange.

    Parameters
    ----------
    quotes_path : str or os.PathLike or None
        Quotes CSV (``BID``, ``BIDSIZ``, ``ASK``, ``ASKSIZ`` per exchange). None loads trades
        only (every venue then has NaN book columns).
    trades_path : str or os.PathLike, optional
        Trades CSV (``PRICE``, ``SIZE``, optional ``TR_CORR``, ``TR_SCOND``).
    symbol : str, optional
        Symbol to keep (case-insensitive; ``SYM_ROOT.SYM_SUFFIX`` for suffixed classes, e.g.
        ``"BRK.B"``). Required when a file holds several symbols or has no symbol column.
    date : datetime.date or str (YYYY-MM-DD), optional
        Day to keep when the files have a date column; the day of the times when they have
        only a time column.
    timezone : str, default "America/New_York"
        IANA zone of the TAQ times (exchange local time).
    start_ns, end_ns : int, optional
        Keep only events with ``start_ns <= ts_event <= end_ns`` (UTC ns, inclusive); trades
        still see quotes from before ``start_ns``.
    exchanges : Mapping[str, str], optional
        Exchange code → venue name entries overriding or extending :data:`TAQ_EXCHANGES`.
    quote_size_multiplier : int, default 100
        Shares per quoted size unit. TAQ quote sizes are in round lots of 100 shares; pass 1
        when the file's sizes are already in shares. Trade sizes are always shares.
    drop_corrected : bool, default True
        Drop trades with a non-zero ``TR_CORR`` (corrected, cancelled or error trades), with a
        :class:`DataQualityWarning` giving the count.
    exclude_conditions : Collection[str], default ()
        Sale-condition codes (single characters of ``TR_SCOND``, e.g. ``{"I", "Z"}``) whose
        trades are dropped, with a :class:`DataQualityWarning` giving the count.

    Returns
    -------
    dict[str, VenueData]
        Venue name → its events, sorted by venue name. One level of book (level 0) per venue.

    Raises
    ------
    DataNotFoundError
        A file is missing.
    DataFormatError
        Empty file, missing column (named with its accepted spellings), non-numeric value
        (line and column named), bad date or time, unknown exchange code.
    DataValidationError
        Several symbols without ``symbol=``, no rows for the requested symbol or day,
        fractional or negative sizes, non-positive trade prices, every trade filtered out.

    Warns
    -----
    DataQualityWarning
        Trades dropped by ``drop_corrected`` or ``exclude_conditions`` (with their counts).

    Notes
    -----
    Times are local exchange time (``TIME_M``, the SIP time) converted exactly to UTC ns with
    the zone's DST rules; ``ts_recv = ts_event``.

    Each venue's events, merged in time order with a stable sort (on equal timestamps quotes
    come before trades, and file order is kept within each):

    * a quote row: action N, side N, price NaN, size 0; ``bid_px_00``/``ask_px_00`` and
      ``bid_sz_00``/``ask_sz_00`` are that exchange's quote, sizes × ``quote_size_multiplier``.
      A zero or missing price means "no quote on that side": NaN price, size 0.
    * a trade row: action T, the trade's price and size, and the book columns carrying the
      venue's prevailing quote (the last quote at or before the trade: causal). Venues with no
      quotes (``D``, FINRA TRF) have NaN book columns.

    TAQ has no aggressor flag, so the side of a trade is inferred by the Lee-Ready rule
    against the last quote of its own venue strictly before the trade (see
    :func:`lee_ready_side`; a quote stamped in the same instant is often the trade's own
    consequence, Holden and Jacobsen, 2014); the tick test used at the mid (or without a
    usable quote, e.g. FINRA TRF prints) compares with earlier trades of the consolidated tape
    (all venues, after the filters), as Lee and Ready did. No further quote delay is applied.

    Exchange codes map to venues through :data:`TAQ_EXCHANGES` (updated by ``exchanges=``);
    codes mapping to the same name (``Q`` and ``T`` → ``XNAS``) form one venue.

    References
    ----------
    NYSE, Daily TAQ Client Specification v3 (participant codes, field definitions).
    Holden, C. W. and Jacobsen, S. (2014). Liquidity measurement problems in fast, competitive
    markets: expensive and cheap solutions. Journal of Finance 69(4), 1747-1785.

    Examples
    --------
    >>> venues = read_taq("ibm_quotes.csv", "ibm_trades.csv", symbol="IBM")  # doctest: +SKIP
    >>> sorted(venues)  # doctest: +SKIP
    ['ARCX', 'BATS', 'FINN', 'XNAS', 'XNYS']
    >>> market = MarketData("IBM", dt.date(2012, 6, 21), venues)  # doctest: +SKIP
    """
    _check_timezone(timezone)
    if (
        isinstance(quote_size_multiplier, bool)
        or int(quote_size_multiplier) != quote_size_multiplier
        or quote_size_multiplier < 1
    ):
        raise ConfigError(
            f"quote_size_multiplier={quote_size_multiplier!r} must be a positive integer "
            "(100 for TAQ round lots, 1 when sizes are shares)"
        )
    if quotes_path is None and trades_path is None:
        raise ConfigError("read_taq needs quotes_path, trades_path or both")
    if isinstance(date, str):
        try:
            day: dt.date | None = dt.date.fromisoformat(date)
        except ValueError:
            raise DataFormatError(f"date={date!r} is not an ISO date (YYYY-MM-DD)") from None
    else:
        day = date
    mapping = {**TAQ_EXCHANGES, **(exchanges or {})}

    for path, what in ((quotes_path, "quotes"), (trades_path, "trades")):
        if path is not None and not Path(path).is_file():
            raise DataNotFoundError(f"{path}: no such TAQ {what} file")
    raws: list[_Raw] = []
    kinds: list[TaqKind] = []
    if quotes_path is not None:
        raws.append(_parse(Path(quotes_path), "quotes", timezone, day))
        kinds.append("quotes")
    if trades_path is not None:
        raws.append(_parse(Path(trades_path), "trades", timezone, day))
        kinds.append("trades")
    raws, symbol = _select(raws, symbol, day)
    quotes = raws[kinds.index("quotes")] if "quotes" in kinds else None
    trades = raws[kinds.index("trades")] if "trades" in kinds else None

    if trades is not None:
        trades = _filter_trades(trades, drop_corrected, exclude_conditions)

    # quotes, sorted by time: venue, prices (0 or missing → no quote) and sizes in shares
    names: list[str] = []
    q_ts = np.empty(0, dtype=np.int64)
    q_venue = np.empty(0, dtype=np.intp)
    q_book = {k: np.empty(0) for k in ("bid_px", "ask_px")}
    q_book |= {k: np.empty(0, dtype=np.int64) for k in ("bid_sz", "ask_sz")}
    if quotes is not None:
        q_venue = _venue_ids(quotes, mapping, names)
        order = np.argsort(quotes.ts, kind="stable")
        q_ts, q_venue = quotes.ts[order], q_venue[order]
        for side in ("bid", "ask"):
            px = quotes.numbers[side][order]
            px[~(px > 0)] = np.nan
            sz = _sizes(quotes.numbers[f"{side}siz"], quotes, f"{side.upper()}SIZ")[order]
            q_book[f"{side}_px"] = px
            q_book[f"{side}_sz"] = np.where(np.isnan(px), 0, sz * int(quote_size_multiplier))

    # trades, sorted by time, with the tick test over the consolidated tape
    t_ts = np.empty(0, dtype=np.int64)
    t_venue = np.empty(0, dtype=np.intp)
    t_price = np.empty(0)
    t_size = np.empty(0, dtype=np.int64)
    if trades is not None:
        t_venue = _venue_ids(trades, mapping, names)
        bad = ~(np.isfinite(trades.numbers["price"]) & (trades.numbers["price"] > 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{trades.path}: line {int(trades.line[row])}: trade price "
                f"{trades.numbers['price'][row]}; trade prices must be positive numbers (fix or "
                "drop the row)"
            )
        order = np.argsort(trades.ts, kind="stable")
        t_ts, t_venue = trades.ts[order], t_venue[order]
        t_price = trades.numbers["price"][order]
        t_size = _sizes(trades.numbers["size"], trades, "SIZE")[order]
    t_tick = tick_test(t_price)

    source = " + ".join(str(p) for p in (quotes_path, trades_path) if p is not None)
    out: dict[str, VenueData] = {}
    for venue in sorted(names):
        vid = names.index(venue)
        qi = np.flatnonzero(q_venue == vid)
        ti = np.flatnonzero(t_venue == vid)
        # prevailing quote of this venue: its last quote at or before the trade (causal)
        pos = np.searchsorted(q_ts[qi], t_ts[ti], side="right") - 1
        has_quote = pos >= 0
        at = qi[np.maximum(pos, 0)] if qi.size else np.zeros(ti.size, dtype=np.intp)
        book: dict[str, npt.NDArray[np.generic]] = {}
        for key, arr in q_book.items():
            if arr.dtype == np.float64:
                prevailing = np.where(has_quote, arr[at] if qi.size else np.nan, np.nan)
            else:
                prevailing = np.where(has_quote, arr[at] if qi.size else 0, 0)
            book[key] = np.concatenate([arr[qi], prevailing])
        n_q, n_t = qi.size, ti.size
        # Lee-Ready uses the quote STRICTLY before the trade: a quote stamped in the same
        # instant is often the trade's own consequence (Holden & Jacobsen 2014)
        pos_lr = np.searchsorted(q_ts[qi], t_ts[ti], side="left") - 1
        ok_lr = pos_lr >= 0
        at_lr = qi[np.maximum(pos_lr, 0)] if qi.size else np.zeros(ti.size, dtype=np.intp)
        bid_arr = np.asarray(q_book["bid_px"], dtype=np.float64)
        ask_arr = np.asarray(q_book["ask_px"], dtype=np.float64)
        t_bid = np.where(ok_lr, bid_arr[at_lr] if qi.size else np.nan, np.nan)
        t_ask = np.where(ok_lr, ask_arr[at_lr] if qi.size else np.nan, np.nan)
        t_side = lee_ready_side(t_price[ti], t_bid, t_ask, t_tick[ti])
        ts = np.concatenate([q_ts[qi], t_ts[ti]])
        order = np.argsort(ts, kind="stable")  # quotes precede trades on equal timestamps
        ts = ts[order]
        columns: dict[str, npt.NDArray[np.generic]] = {
            "ts_event": ts,
            "ts_recv": ts.copy(),
            "action": np.repeat(np.array([ACTION_NONE, ACTION_TRADE], np.uint8), [n_q, n_t])[order],
            "side": np.concatenate([np.full(n_q, SIDE_NONE, np.uint8), t_side])[order],
            "price": np.concatenate([np.full(n_q, np.nan), t_price[ti]])[order],
            "size": np.concatenate([np.zeros(n_q, np.int64), t_size[ti]])[order],
        }
        for key, merged in book.items():
            side, kind = key.split("_")
            columns[level_column(kind, side, 0)] = merged[order]
        if start_ns is not None or end_ns is not None:
            keep = np.ones(ts.shape[0], dtype=bool)
            if start_ns is not None:
                keep &= ts >= start_ns
            if end_ns is not None:
                keep &= ts <= end_ns
            columns = {k: v[keep] for k, v in columns.items()}
        out[venue] = VenueData(venue=venue, symbol=symbol, columns=columns, source=source)
        logger.debug("%s: venue %s, %d quotes, %d trades", source, venue, n_q, n_t)
    return out


def _filter_trades(trades: _Raw, drop_corrected: bool, exclude: Collection[str]) -> _Raw:
    keep = np.ones(trades.ts.shape[0], dtype=bool)
    if drop_corrected and "corr" in trades.strings:
        corr = pc.utf8_trim_whitespace(trades.strings["corr"])
        zero = pc.match_substring_regex(corr, r"^0*$")
        corrected = ~np.asarray(zero.to_numpy(zero_copy_only=False), dtype=bool)
        if corrected.any():
            warnings.warn(
                f"{trades.path}: dropped {int(corrected.sum())} of {keep.size} trades with "
                "TR_CORR != 0 (corrected, cancelled or error trades); pass drop_corrected=False "
                "to keep them",
                DataQualityWarning,
                stacklevel=3,
            )
            keep &= ~corrected
    codes = sorted(set(exclude))
    if codes:
        if "cond" not in trades.strings:
            raise DataFormatError(
                f"{trades.path}: exclude_conditions={codes} needs a sale-condition column "
                f"({' / '.join(_SPELLINGS['cond'])})"
            )
        cond = trades.strings["cond"]
        hit = np.zeros(keep.size, dtype=bool)
        for code in codes:
            found = pc.match_substring(cond, code)
            hit |= np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
        if hit.any():
            warnings.warn(
                f"{trades.path}: dropped {int((hit & keep).sum())} of {keep.size} trades with "
                f"sale condition in {codes} (exclude_conditions=)",
                DataQualityWarning,
                stacklevel=3,
            )
            keep &= ~hit
    if not keep.any():
        raise DataValidationError(
            f"{trades.path}: every trade was filtered out (TR_CORR / exclude_conditions); "
            "relax the filters"
        )
    return trades if keep.all() else _take(trades, keep)
