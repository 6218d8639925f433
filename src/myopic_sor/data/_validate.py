"""Validation of the canonical market data and the spec's data-quality filters.

Three layers, from strict to lenient:

* :func:`validate_venue` / :func:`validate_market_data` check the invariants every model
  downstream relies on. Broken invariants raise :class:`~myopic_sor.exceptions.DataValidationError`
  with the venue, source, row, timestamp and the fix; oddities that real feeds do produce
  (crossed or locked books, duplicated records, long one-sided stretches) issue one
  :class:`~myopic_sor.exceptions.DataQualityWarning` per check with counts. ``repair=True`` sorts
  unsorted timestamps and drops redundant duplicated book records, always with a warning.
* :func:`validate_data` / :func:`data_quality_checks` are the spec's troubleshooting checks on a
  DataFrame, kept exactly as the spec defines them.
* :func:`filter_mask` / :func:`apply_filters` implement the spec's ``data_filters``
  (``min_spread_bps``, ``max_spread_bps``, ``min_volume``, ``max_price_change``,
  ``exclude_auction``): they select the rows used as estimation samples.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, NoReturn, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

from myopic_sor._typing import BoolArray1D, Float64Array1D, Int64Array1D, UInt8Array1D
from myopic_sor.data._schema import (
    ACTION_FILL,
    ACTION_TRADE,
    SIDE_NONE,
    VALID_ACTIONS,
    VALID_SIDES,
    MarketData,
    VenueData,
    level_column,
)
from myopic_sor.exceptions import ConfigError, DataQualityWarning, DataValidationError

__all__ = [
    "CheckResult",
    "DataFilterLike",
    "FilterReport",
    "ValidationReport",
    "apply_filters",
    "data_quality_checks",
    "filter_mask",
    "validate_data",
    "validate_market_data",
    "validate_venue",
]

logger = logging.getLogger(__name__)

Severity: TypeAlias = Literal["error", "warning", "info"]

INT64_MAX: Final = int(np.iinfo(np.int64).max)
NS_PER_S: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_S
#: A book side empty for at least this long (after it was first quoted) is flagged, in ns.
EMPTY_SIDE_WARN_NS: Final = 60 * NS_PER_S
#: Absolute tolerance on the spread bounds, in bps (absorbs float rounding of cent prices).
SPREAD_TOL_BPS: Final = 1e-9

_TRADE_ACTIONS: Final = np.array([ACTION_TRADE, ACTION_FILL], dtype=np.uint8)
_VALID_ACTIONS: Final = np.array(sorted(VALID_ACTIONS), dtype=np.uint8)
_VALID_SIDES: Final = np.array(sorted(VALID_SIDES), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _iso(ts_ns: int) -> str:
    if ts_ns <= 0 or ts_ns == INT64_MAX:
        return f"{ts_ns} (undefined)"
    return pd.Timestamp(ts_ns, unit="ns", tz="UTC").isoformat()


def _where(vd: VenueData) -> str:
    return f"venue {vd.venue} ({vd.source or 'in-memory data'})"


def _f64(vd: VenueData, name: str) -> Float64Array1D:
    return np.asarray(vd[name], dtype=np.float64)


def _i64(vd: VenueData, name: str) -> Int64Array1D:
    return np.asarray(vd[name], dtype=np.int64)


def _u8(vd: VenueData, name: str) -> UInt8Array1D:
    return np.asarray(vd[name], dtype=np.uint8)


def _code_name(code: int) -> str:
    return f"{chr(code)!r} ({code})" if 32 <= code < 127 else f"byte {code}"


def _first(mask: BoolArray1D) -> int | None:
    return int(np.argmax(mask)) if mask.any() else None


# ---------------------------------------------------------------------------------------------
# reports
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one validation check.

    Parameters
    ----------
    name : str
        Check name, e.g. ``"crossed_book"``.
    severity : {"error", "warning", "info"}
        ``"error"`` checks raise when they fail, so a report only holds them with count 0;
        ``"warning"`` checks issue a :class:`DataQualityWarning`; ``"info"`` checks only count.
    count : int
        Number of offending rows (for ``empty_side``: number of stretches).
    first_row : int or None
        Row index **in the input** ``VenueData`` of the first offence in time order.
    first_ts_ns : int or None
        ``ts_event`` of that row, UTC ns.
    repaired : int
        Rows moved or dropped by ``repair=True`` for this check.
    detail : str
        Extra context (longest stretch, kept trade duplicates, ...).
    """

    name: str
    severity: Severity
    count: int = 0
    first_row: int | None = None
    first_ts_ns: int | None = None
    repaired: int = 0
    detail: str = ""

    @property
    def first_ts(self) -> str | None:
        """``first_ts_ns`` as an ISO 8601 UTC string (None when nothing was found)."""
        return None if self.first_ts_ns is None else _iso(self.first_ts_ns)

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-serialisable dict of the fields plus ``first_ts``."""
        return {
            "name": self.name,
            "severity": self.severity,
            "count": self.count,
            "first_row": self.first_row,
            "first_ts_ns": self.first_ts_ns,
            "first_ts": self.first_ts,
            "repaired": self.repaired,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What :func:`validate_venue` checked and found on one venue.

    Parameters
    ----------
    venue, source : str
        Venue name and data source (path) of the checked data.
    n_rows_in, n_rows_out : int
        Rows before and after repairs (equal unless duplicates were dropped).
    checks : Mapping[str, CheckResult]
        Every check in the order it ran, by name.
    data : VenueData
        The validated data: the input object itself when nothing was repaired, else the
        sorted and/or de-duplicated copy. Not part of ``repr``, equality or :meth:`to_dict`.
    """

    venue: str
    source: str
    n_rows_in: int
    n_rows_out: int
    checks: Mapping[str, CheckResult]
    data: VenueData = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", MappingProxyType(dict(self.checks)))

    def __getitem__(self, name: str) -> CheckResult:
        try:
            return self.checks[name]
        except KeyError:
            raise KeyError(f"no check {name!r}; checks are {', '.join(self.checks)}") from None

    @property
    def ok(self) -> bool:
        """True when no error or warning check found anything (``info`` counts are ignored)."""
        return all(c.count == 0 for c in self.checks.values() if c.severity != "info")

    @property
    def repaired(self) -> bool:
        """True when ``data`` differs from the input (rows sorted or dropped)."""
        return any(c.repaired for c in self.checks.values())

    @property
    def n_duplicate_ts(self) -> int:
        """Rows sharing their ``ts_event`` with the previous row (normal in real feeds)."""
        return self.checks["duplicate_ts"].count

    def summary(self) -> str:
        """Return a fixed-width text table of the checks."""
        head = (
            f"Validation of venue {self.venue} ({self.source or 'in-memory data'}): "
            f"{self.n_rows_in:,} rows in, {self.n_rows_out:,} out, "
            f"{'OK' if self.ok else 'ISSUES FOUND'}"
        )
        lines = [
            head,
            f"{'check':<22}{'severity':<9}{'count':>10}{'repaired':>10}  first row / ts_event",
        ]
        for c in self.checks.values():
            first = "" if c.first_row is None else f"{c.first_row} / {c.first_ts}"
            line = f"{c.name:<22}{c.severity:<9}{c.count:>10,}{c.repaired:>10,}  {first}"
            lines.append(line + (f"  [{c.detail}]" if c.detail else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-serialisable dict (without ``data``)."""
        return {
            "venue": self.venue,
            "source": self.source,
            "n_rows_in": self.n_rows_in,
            "n_rows_out": self.n_rows_out,
            "ok": self.ok,
            "repaired": self.repaired,
            "checks": {k: c.to_dict() for k, c in self.checks.items()},
        }


# ---------------------------------------------------------------------------------------------
# validate_venue
# ---------------------------------------------------------------------------------------------
def _fail(
    vd: VenueData,
    rows: BoolArray1D,
    what: str,
    fix: str,
    extra: Callable[[int], str] | str | None = None,
) -> NoReturn:
    idx = np.flatnonzero(rows)
    r = int(idx[0])
    ts = int(_i64(vd, "ts_event")[r])
    at = f"ts_event {_iso(ts)}"
    if ts <= 0 or ts == INT64_MAX:
        at += f", ts_recv {_iso(int(_i64(vd, 'ts_recv')[r]))}"
    more = "" if extra is None else f" ({extra if isinstance(extra, str) else extra(r)})"
    raise DataValidationError(
        f"{_where(vd)}: {what} in {idx.size:,} row(s); first at row {r}, {at}{more}. Fix: {fix}"
    )


_DUP_KEY_COLUMNS: Final = ("ts_recv", "action", "side", "depth", "price", "size", "sequence")


def _row_hash(vd: VenueData, rows: Int64Array1D, names: Iterable[str]) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of the given columns over ``rows`` (wrapping multiply-add of raw bits)."""
    h = np.zeros(rows.size, dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for name in names:
            bits = vd.columns[name][rows]
            if bits.dtype.itemsize == 8:
                bits = bits.view(np.uint64)
            h = h * mult + bits.astype(np.uint64)
    return h


def _equal_groups(ts: Int64Array1D, h: npt.NDArray[np.uint64], rows: Int64Array1D) -> BoolArray1D:
    """Mask of ``rows`` whose (ts, hash) key is shared with another row."""
    order = np.lexsort((h, ts))
    same = (h[order][1:] == h[order][:-1]) & (ts[order][1:] == ts[order][:-1])
    member = np.zeros(rows.size, dtype=np.bool_)
    member[order[1:][same]] = True
    member[order[:-1][same]] = True
    return member


def _duplicate_rows(vd: VenueData, cand: Int64Array1D) -> BoolArray1D:
    """Mark rows equal in every column to an earlier row, among the candidate rows ``cand``
    (ascending; duplicates share ``ts_event``, so same-ts rows are the only candidates).

    Two passes: a hash of a few key columns (``sequence`` among them when present, which is
    unique per Databento record) first narrows the candidates cheaply; rows left are grouped by
    a hash of all their columns and ``ts_event``, and each equal-hash pair is then confirmed
    column by column, so a hash collision can never mark a distinct row.
    """
    ts_all = _i64(vd, "ts_event")
    keys = [c for c in _DUP_KEY_COLUMNS if c in vd.columns]
    cand = cand[_equal_groups(ts_all[cand], _row_hash(vd, cand, keys), cand)]
    h = _row_hash(vd, cand, vd.columns)
    ts = ts_all[cand]
    order = np.lexsort((cand, h, ts))  # stable on the original row within equal keys
    hs, tss = h[order], ts[order]
    pair = (hs[1:] == hs[:-1]) & (tss[1:] == tss[:-1])
    later = cand[order[1:][pair]]
    earlier = cand[order[:-1][pair]]
    equal = np.ones(later.size, dtype=np.bool_)
    for arr in vd.columns.values():
        a, b = arr[later], arr[earlier]
        equal &= (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else (a == b)
    # within a run of equal rows, every row after the first is a duplicate ("keep first");
    # a hash collision inside a run can only hide a duplicate (p ~ 2**-64), never invent one
    out = np.zeros(len(vd), dtype=np.bool_)
    out[later[equal]] = True
    return out


_MIN_PLAUSIBLE_PRICE: Final = 1e-6  # no listed share trades at a millionth of a currency unit


def _check_hard(vd: VenueData) -> dict[str, CheckResult]:
    """Raise on the first broken invariant; return the passed error checks (count 0)."""
    ts = _i64(vd, "ts_event")
    undefined = (ts <= 0) | (ts == INT64_MAX)
    if undefined.any():
        _fail(
            vd,
            undefined,
            "ts_event is undefined (0, INT64_MAX or the UINT64_MAX sentinel -1)",
            "drop these records in the loader or fill ts_event from ts_recv",
            lambda r: f"ts_event={int(ts[r])}",
        )
    for col, valid, names in (
        ("action", _VALID_ACTIONS, "A/C/M/R/T/F/N"),
        ("side", _VALID_SIDES, "A/B/N"),
    ):
        codes = _u8(vd, col)
        bad = ~np.isin(codes, valid)
        if bad.any():
            unknown = ", ".join(_code_name(int(c)) for c in np.unique(codes[bad]))
            _fail(
                vd,
                bad,
                f"unknown {col} code(s) {unknown} in column {col!r}",
                f"map the source's {col} codes to Databento's {names} (uint8 ASCII) in the loader",
                f"{col}={_code_name(int(codes[int(np.argmax(bad))]))}",
            )
    action = _u8(vd, "action")
    price = _f64(vd, "price")
    size = _i64(vd, "size")
    trade = np.isin(action, _TRADE_ACTIONS)
    bad_px = trade & ~(np.isfinite(price) & (price > 0))
    if bad_px.any():
        _fail(
            vd,
            bad_px,
            "trade (action T/F) with a missing (NaN), infinite, zero or negative 'price'",
            "check the loader's price scaling (Databento fixed-point is 1e-9) and drop broken "
            "trade prints",
            lambda r: f"price={float(price[r])!r}",
        )
    bad_sz = trade & (size <= 0)
    if bad_sz.any():
        _fail(
            vd,
            bad_sz,
            "trade (action T/F) with a zero or negative 'size'",
            "drop broken trade prints in the loader; trade sizes are positive share counts",
            lambda r: f"size={int(size[r])}",
        )
    traded = price[trade & np.isfinite(price)]
    if traded.size and float(np.median(traded)) < _MIN_PLAUSIBLE_PRICE:
        _fail(
            vd,
            trade & np.isfinite(price),
            f"implausible price scale: the median trade price is {float(np.median(traded)):.3g}",
            "prices must be in currency per share; a fixed-point price (1e-9 units) was probably "
            "scaled twice, or whole-currency prices were read as fixed point",
            lambda r: f"price={float(price[r])!r}",
        )
    bad_book = np.zeros(len(vd), dtype=np.bool_)
    bad_cols: list[str] = []
    for lvl in range(vd.levels):
        for side in ("bid", "ask"):
            name = level_column("px", side, lvl)
            px = _f64(vd, name)
            bad = np.isinf(px) | (px <= 0)  # NaN is an empty level: fine
            if bad.any():
                bad_cols.append(name)
                bad_book |= bad
    if bad_book.any():
        _fail(
            vd,
            bad_book,
            f"zero, negative or infinite book price in column(s) {', '.join(bad_cols)}",
            "empty levels must be NaN, not 0 (Databento's UNDEF_PRICE must become NaN in the "
            "loader); check the price scaling",
            lambda r: ", ".join(f"{c}={float(_f64(vd, c)[r])!r}" for c in bad_cols),
        )
    neg = size < 0
    neg_cols = ["size"] if neg.any() else []
    for name in vd.columns:
        if name.startswith(("bid_sz_", "ask_sz_", "bid_ct_", "ask_ct_")):
            bad = _i64(vd, name) < 0
            if bad.any():
                neg_cols.append(name)
                neg |= bad
    if neg.any():
        _fail(
            vd,
            neg,
            f"negative size or count in column(s) {', '.join(neg_cols)}",
            "sizes and order counts are non-negative; check the loader's integer types "
            "(an unsigned overflow shows up as a negative int64)",
            lambda r: ", ".join(f"{c}={int(_i64(vd, c)[r])}" for c in neg_cols),
        )
    return {
        name: CheckResult(name, "error")
        for name in (
            "undefined_ts",
            "unknown_action",
            "unknown_side",
            "bad_trade_price",
            "bad_trade_size",
            "bad_book_price",
            "negative_size",
        )
    }


def _result(
    name: str,
    severity: Severity,
    rows: BoolArray1D,
    ts: Int64Array1D,
    orig: Int64Array1D | None,
    *,
    repaired: int = 0,
    detail: str = "",
) -> CheckResult:
    i = _first(rows)
    if i is None:
        return CheckResult(name, severity, repaired=repaired, detail=detail)
    return CheckResult(
        name,
        severity,
        count=int(np.count_nonzero(rows)),
        first_row=int(i if orig is None else orig[i]),
        first_ts_ns=int(ts[i]),
        repaired=repaired,
        detail=detail,
    )


def _empty_side_stretches(
    px: Float64Array1D, ts: Int64Array1D
) -> tuple[Int64Array1D, Int64Array1D, bool]:
    """Start rows and durations (ns) of empty stretches, and whether the side was never quoted."""
    n = px.shape[0]
    edges = np.diff(np.concatenate(([0], np.isnan(px).astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # exclusive: first quoted row after the stretch
    never = starts.size == 1 and starts[0] == 0 and ends[0] == n
    if starts.size and starts[0] == 0 and not never:  # the book builds up at the file start
        starts, ends = starts[1:], ends[1:]
    end_ts = ts[np.minimum(ends, n - 1)]
    return starts.astype(np.int64), (end_ts - ts[starts]).astype(np.int64), bool(never)


def validate_venue(vd: VenueData, *, repair: bool = False) -> ValidationReport:
    """Check one venue's data; raise on broken invariants, warn on oddities.

    Parameters
    ----------
    vd : VenueData
        The canonical data of one venue.
    repair : bool, default False
        Stable-sort unsorted ``ts_event`` instead of raising, and drop exact duplicate
        non-trade rows. Each repair issues a :class:`DataQualityWarning` with its count.

    Returns
    -------
    ValidationReport
        Counts and the first offending row and timestamp per check; ``report.data`` is the
        (possibly repaired) data.

    Raises
    ------
    DataValidationError
        On the first failing hard check, in this order: zero rows; undefined ``ts_event``
        (``<= 0``, ``INT64_MAX``, or Databento's ``UINT64_MAX`` sentinel, which reads as -1 in
        int64); unknown ``action``/``side`` codes (named); a trade (``T``/``F``) with a NaN,
        infinite, zero or negative price or a non-positive size; a book price ``<= 0`` or
        infinite (NaN is an empty level and fine); a negative size or order count; unsorted
        ``ts_event`` (unless ``repair``). The message names venue, source, row, ISO UTC
        timestamp and the fix.

    Warns
    -----
    DataQualityWarning
        At most one per check and call: ``unsorted_ts`` (repaired), ``duplicate_rows``,
        ``crossed_book`` (``bid_px_00 > ask_px_00``), ``locked_book`` (equal),
        ``non_monotone_levels``, ``book_gap``, ``empty_side``.

    Notes
    -----
    * Hard checks run on the input order, so their row index is the input row. Row indices in
      the report always refer to the **input** rows, also after sorting.
    * Out-of-order rows are those with ``ts_event[i] < max(ts_event[:i])``.
    * ``duplicate_ts`` (info only) counts rows whose ``ts_event`` equals the previous row's:
      several events in one nanosecond are normal (a sweep prints several trades).
    * ``duplicate_rows`` are rows equal to an earlier row in **every** column. A duplicated
      book record (A/C/M/R/N) repeats a book state and is redundant: ``repair`` drops it.
      Duplicated trades (T/F) are kept even with ``repair``: without the ``sequence`` column,
      one aggressor filling two equal resting orders at one price prints two identical trade
      records in MBP-10 (the book changes only on the following records).
    * ``non_monotone_levels``: where both levels are defined, ``bid_px_{k+1} >= bid_px_k`` or
      ``ask_px_{k+1} <= ask_px_k`` (MBP levels are distinct prices, strictly worse with depth).
      ``book_gap``: an empty (NaN) level above a non-empty deeper level on the same side.
    * ``empty_side``: a stretch where ``bid_px_00`` (or ``ask_px_00``) is NaN lasting at least
      ``EMPTY_SIDE_WARN_NS`` (60 s), measured from its first row to the first row where the
      side is quoted again (or the last row). The stretch at the start of the file, before
      the side is first quoted, is ignored (the book builds up), unless the side is never
      quoted at all. The count is the number of such stretches.

    Examples
    --------
    >>> import numpy as np
    >>> from myopic_sor.data import VenueData
    >>> n = 3
    >>> ts = 1_700_000_000_000_000_000 + np.arange(n)
    >>> vd = VenueData("XNAS", "AAPL", {
    ...     "ts_event": ts, "ts_recv": ts, "action": np.full(n, ord("A"), np.uint8),
    ...     "side": np.full(n, ord("B"), np.uint8), "price": np.full(n, 100.0),
    ...     "size": np.full(n, 100), "bid_px_00": np.full(n, 100.0),
    ...     "ask_px_00": np.full(n, 100.01), "bid_sz_00": np.full(n, 100),
    ...     "ask_sz_00": np.full(n, 100)})
    >>> validate_venue(vd).ok
    True
    """
    n_in = len(vd)
    if n_in == 0:
        raise DataValidationError(
            f"{_where(vd)}: no rows. Fix: check the file, the trading date and the symbol "
            "filter of the loader"
        )
    checks = _check_hard(vd)

    # -- order ----------------------------------------------------------------------------
    ts0 = _i64(vd, "ts_event")
    out_of_order = np.zeros(n_in, dtype=np.bool_)
    out_of_order[1:] = ts0[1:] < np.maximum.accumulate(ts0)[:-1]
    n_ooo = int(np.count_nonzero(out_of_order))
    work = vd
    orig: Int64Array1D | None = None  # working row -> input row (None: identity)
    if n_ooo:
        r = int(np.argmax(out_of_order))
        if not repair:
            raise DataValidationError(
                f"{_where(vd)}: ts_event is not sorted: {n_ooo:,} row(s) earlier than a "
                f"preceding row; first at row {r}, ts_event {_iso(int(ts0[r]))} after "
                f"{_iso(int(ts0[:r].max()))}. Fix: sort the records by ts_event in the loader "
                "or call with repair=True (stable sort)"
            )
        orig = np.argsort(ts0, kind="stable").astype(np.int64)
        work = vd.take(orig)
        checks["unsorted_ts"] = CheckResult(
            "unsorted_ts", "warning", n_ooo, r, int(ts0[r]), repaired=n_ooo, detail="stable-sorted"
        )
    else:
        checks["unsorted_ts"] = CheckResult("unsorted_ts", "warning" if repair else "error")

    # -- exact duplicate rows (they share ts_event, so only same-ts rows are candidates) ---
    ts = _i64(work, "ts_event")
    n = len(work)
    same = np.zeros(n, dtype=np.bool_)
    eq = ts[1:] == ts[:-1]
    same[1:] |= eq
    same[:-1] |= eq
    dup = _duplicate_rows(work, np.flatnonzero(same)) if same.any() else np.zeros(n, np.bool_)
    dup_trade = dup & np.isin(_u8(work, "action"), _TRADE_ACTIONS)
    dup_book = dup & ~dup_trade
    n_dup_trade = int(np.count_nonzero(dup_trade))
    n_dup_book = int(np.count_nonzero(dup_book))
    dropped = n_dup_book if repair else 0
    detail = ""
    if dup.any():
        detail = f"{n_dup_book:,} book record(s), {n_dup_trade:,} trade(s)"
        detail += "; dropped the book records, kept the trades" if repair else ""
    checks["duplicate_rows"] = _result(
        "duplicate_rows", "warning", dup, ts, orig, repaired=dropped, detail=detail
    )
    if dropped:
        keep = ~dup_book
        orig = (np.arange(n, dtype=np.int64) if orig is None else orig)[keep]
        work = work.take(keep)
        ts = _i64(work, "ts_event")
        n = len(work)

    # -- book shape -----------------------------------------------------------------------
    bid = _f64(work, "bid_px_00")
    ask = _f64(work, "ask_px_00")
    checks["crossed_book"] = _result("crossed_book", "warning", bid > ask, ts, orig)
    checks["locked_book"] = _result("locked_book", "warning", bid == ask, ts, orig)
    non_mono = np.zeros(n, dtype=np.bool_)
    gap = np.zeros(n, dtype=np.bool_)
    for lvl in range(work.levels - 1):
        b0, b1 = (_f64(work, level_column("px", "bid", k)) for k in (lvl, lvl + 1))
        a0, a1 = (_f64(work, level_column("px", "ask", k)) for k in (lvl, lvl + 1))
        non_mono |= (b1 >= b0) | (a1 <= a0)
        gap |= (np.isnan(b0) & ~np.isnan(b1)) | (np.isnan(a0) & ~np.isnan(a1))
    checks["non_monotone_levels"] = _result("non_monotone_levels", "warning", non_mono, ts, orig)
    checks["book_gap"] = _result("book_gap", "warning", gap, ts, orig)

    # -- long one-sided stretches ---------------------------------------------------------
    starts: list[Int64Array1D] = []
    durations: list[Int64Array1D] = []
    never: list[str] = []
    for side, px in (("bid", bid), ("ask", ask)):
        s, d, nev = _empty_side_stretches(px, ts)
        starts.append(s)
        durations.append(d)
        if nev:
            never.append(side)
    all_starts = np.concatenate(starts)
    all_dur = np.concatenate(durations)
    side_of = np.repeat(np.array(["bid", "ask"]), [starts[0].size, starts[1].size])
    long_ = (all_dur >= EMPTY_SIDE_WARN_NS) | np.isin(side_of, never)
    if long_.any():
        s_long, d_long, side_long = all_starts[long_], all_dur[long_], side_of[long_]
        k = int(np.argmax(d_long))
        detail = f"longest {d_long[k] / NS_PER_S:.1f} s on the {side_long[k]} side"
        if never:
            detail += f"; never quoted: {', '.join(never)}"
        first = int(s_long.min())
        checks["empty_side"] = CheckResult(
            "empty_side",
            "warning",
            count=int(s_long.size),
            first_row=first if orig is None else int(orig[first]),
            first_ts_ns=int(ts[first]),
            detail=detail,
        )
    else:
        checks["empty_side"] = CheckResult("empty_side", "warning")

    # -- same-nanosecond events (normal) --------------------------------------------------
    same_ts = np.zeros(n, dtype=np.bool_)
    same_ts[1:] = ts[1:] == ts[:-1]
    groups = np.diff(np.flatnonzero(np.concatenate(([True], ~same_ts[1:], [True]))))
    checks["duplicate_ts"] = _result(
        "duplicate_ts",
        "info",
        same_ts,
        ts,
        orig,
        detail=f"at most {int(groups.max())} events in one ns" if same_ts.any() else "",
    )

    report = ValidationReport(vd.venue, vd.source, n_in, n, checks, work)
    _warn_checks(vd, report, repair)
    logger.info(
        "validated venue %s (%s): %d rows, %s",
        vd.venue,
        vd.source or "in-memory data",
        n_in,
        "ok" if report.ok else "issues found",
    )
    return report


_ADVICE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "unsorted_ts": "the rows were stable-sorted by ts_event (repair=True); sort them in the "
        "loader to silence this",
        "duplicate_rows": "rows equal to an earlier row in every column",
        "crossed_book": "bid_px_00 > ask_px_00; a venue's own book should not cross outside "
        "auctions: check the loader's side mapping, or exclude them with the data filters "
        "(min_spread_bps >= 0)",
        "locked_book": "bid_px_00 == ask_px_00 (zero spread); excluded by the data filters when "
        "min_spread_bps > 0",
        "non_monotone_levels": "deeper levels must be strictly worse than shallower ones "
        "(bid_px_01 < bid_px_00, ask_px_01 > ask_px_00); check the level order in the loader",
        "book_gap": "an empty (NaN) level above a non-empty deeper level; levels must be "
        "filled from the touch down",
        "empty_side": f"one side of the book empty for at least {EMPTY_SIDE_WARN_NS // NS_PER_S} s "
        "after it was first quoted (spreads and mids are undefined there)",
    }
)


def _warn_checks(vd: VenueData, report: ValidationReport, repair: bool) -> None:
    for c in report.checks.values():
        if c.severity != "warning" or c.count == 0:
            continue
        advice = _ADVICE[c.name]
        if c.name == "duplicate_rows" and not repair:
            advice += "; call with repair=True to drop the duplicated book records"
        elif c.name == "duplicate_rows":
            advice += (
                "; duplicated trades are kept: they can be separate fills of one aggressor "
                "(load the 'sequence' column to tell them apart)"
            )
        unit = "stretch(es)" if c.name == "empty_side" else "row(s)"
        warnings.warn(
            f"{_where(vd)}: {c.name}: {c.count:,} {unit}"
            f"{f' ({c.detail})' if c.detail else ''}; first at row {c.first_row}, "
            f"ts_event {c.first_ts}. {advice}",
            DataQualityWarning,
            stacklevel=3,
        )


def validate_market_data(
    md: MarketData, *, repair: bool = False
) -> tuple[MarketData, dict[str, ValidationReport]]:
    """Validate every venue of ``md`` with :func:`validate_venue`.

    Parameters
    ----------
    md : MarketData
    repair : bool, default False
        Passed to :func:`validate_venue` for every venue.

    Returns
    -------
    market_data : MarketData
        ``md`` itself when nothing was repaired, else a new ``MarketData`` holding the
        repaired venues.
    reports : dict[str, ValidationReport]
        One report per venue name.

    Raises
    ------
    DataValidationError
        From the first venue (in sorted venue order) that fails a hard check.
    """
    reports = {name: validate_venue(vd, repair=repair) for name, vd in md.venues.items()}
    if not any(r.repaired for r in reports.values()):
        return md, reports
    repaired = MarketData(
        symbol=md.symbol,
        date=md.date,
        venues={name: r.data for name, r in reports.items()},
        timezone=md.timezone,
    )
    return repaired, reports


# ---------------------------------------------------------------------------------------------
# the spec's troubleshooting checks
# ---------------------------------------------------------------------------------------------
def _price_columns(df: pd.DataFrame) -> tuple[str, str] | None:
    for bid, ask in (("best_bid", "best_ask"), ("bid_px_00", "ask_px_00")):
        if bid in df.columns and ask in df.columns:
            return bid, ask
    return None


def data_quality_checks(df: pd.DataFrame) -> dict[str, bool]:
    """Run the spec's data-quality checks on a DataFrame and return them by name.

    Parameters
    ----------
    df : pandas.DataFrame
        Market data with ``ts_event`` and ``best_bid``/``best_ask`` (the spec's frame), or
        the output of ``VenueData.to_pandas()`` / ``MarketData.to_pandas()``, whose
        ``bid_px_00``/``ask_px_00`` are used when ``best_bid``/``best_ask`` are absent.

    Returns
    -------
    dict[str, bool]
        In this order: ``non_empty`` (at least one row), ``has_timestamps`` (a ``ts_event``
        column), ``has_prices`` (a bid and an ask column), ``price_sanity`` (every bid and ask
        ``> 0``), ``spread_sanity`` (every ask ``>=`` bid), ``time_sorted`` (``ts_event``
        monotone non-decreasing).

    Notes
    -----
    The checks are exactly the spec's, including its strictness: a NaN price (an empty book
    side) fails ``price_sanity`` and ``spread_sanity``, and on an empty frame the value checks
    are vacuously true (``non_empty`` fails instead). Checks that cannot be evaluated because
    their columns are missing are False instead of raising. :func:`validate_venue` is the
    nuanced check of the canonical data (NaN levels allowed, counts, repair).
    """
    prices = _price_columns(df)
    has_ts = "ts_event" in df.columns
    if prices is None:
        price_ok = spread_ok = False
    else:
        bid = df[prices[0]].to_numpy(dtype=np.float64, na_value=np.nan)
        ask = df[prices[1]].to_numpy(dtype=np.float64, na_value=np.nan)
        price_ok = bool((bid > 0).all() and (ask > 0).all())
        spread_ok = bool((ask >= bid).all())
    return {
        "non_empty": len(df) > 0,
        "has_timestamps": has_ts,
        "has_prices": prices is not None,
        "price_sanity": price_ok,
        "spread_sanity": spread_ok,
        "time_sorted": bool(has_ts and df["ts_event"].is_monotonic_increasing),
    }


def validate_data(df: pd.DataFrame) -> bool:
    """Validate market data quality with the spec's checks; log each result.

    Parameters
    ----------
    df : pandas.DataFrame
        See :func:`data_quality_checks`.

    Returns
    -------
    bool
        True when every check passes.

    Notes
    -----
    Each check is logged at INFO level on this module's logger as ``"<check>: ✅"`` or
    ``"<check>: ❌"`` (the spec printed them; library code logs).

    Examples
    --------
    >>> import pandas as pd
    >>> validate_data(pd.DataFrame({"ts_event": [1, 2], "best_bid": [9.99, 10.0],
    ...                             "best_ask": [10.01, 10.02]}))
    True
    >>> validate_data(pd.DataFrame())
    False
    """
    checks = data_quality_checks(df)
    for check, passed in checks.items():
        logger.info("%s: %s", check, "✅" if passed else "❌")
    return all(checks.values())


# ---------------------------------------------------------------------------------------------
# data filters
# ---------------------------------------------------------------------------------------------
class DataFilterLike(Protocol):
    """Anything with the spec's ``data_filters`` attributes (e.g. the ``DataFilterConfig`` model).

    ``None`` disables a numeric rule. A plain mapping with these keys (the spec's dict) is also
    accepted by :func:`filter_mask` and :func:`apply_filters`.
    """

    @property
    def min_spread_bps(self) -> float | None:
        """Lowest kept spread, bps of mid."""

    @property
    def max_spread_bps(self) -> float | None:
        """Highest kept spread, bps of mid."""

    @property
    def min_volume(self) -> float | None:
        """Smallest kept trade size, shares."""

    @property
    def max_price_change(self) -> float | None:
        """Largest kept relative mid change vs the previous kept mid (0.02 = 2 %)."""

    @property
    def exclude_auction(self) -> bool:
        """Exclude events outside the regular session and auction cross trades."""


_FILTER_FIELDS: Final = (
    "min_spread_bps",
    "max_spread_bps",
    "min_volume",
    "max_price_change",
    "exclude_auction",
)
#: Exclusion reasons, in precedence order (a row is counted under its first failing rule).
FILTER_REASONS: Final = (
    "outside_session",
    "auction_trade",
    "one_sided_book",
    "spread_below_min",
    "spread_above_max",
    "below_min_volume",
    "price_jump",
)
_R = {name: np.int8(i + 1) for i, name in enumerate(FILTER_REASONS)}


@dataclass(frozen=True, slots=True)
class _Filters:
    min_spread_bps: float | None
    max_spread_bps: float | None
    min_volume: float | None
    max_price_change: float | None
    exclude_auction: bool


def _number(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"data_filters.{name}: expected a number or None, got {value!r}")
    x = float(value)
    if not np.isfinite(x) or x < 0:
        raise ConfigError(f"data_filters.{name}: must be finite and >= 0, got {value!r}")
    return x


def _resolve_filters(filters: DataFilterLike | Mapping[str, object]) -> _Filters:
    if isinstance(filters, Mapping):
        unknown = sorted(set(filters) - set(_FILTER_FIELDS))
        if unknown:
            raise ConfigError(
                f"data_filters: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(_FILTER_FIELDS)}"
            )
        raw: dict[str, object] = {k: filters.get(k) for k in _FILTER_FIELDS}
        raw["exclude_auction"] = filters.get("exclude_auction", False)
    else:
        raw = {}
        for k in _FILTER_FIELDS:
            if not hasattr(filters, k):
                raise ConfigError(
                    f"data_filters: {type(filters).__name__} has no attribute {k!r}; "
                    f"expected {', '.join(_FILTER_FIELDS)}"
                )
            raw[k] = getattr(filters, k)
    excl = raw["exclude_auction"]
    if not isinstance(excl, bool | np.bool_):
        raise ConfigError(f"data_filters.exclude_auction: expected a bool, got {excl!r}")
    f = _Filters(
        min_spread_bps=_number("min_spread_bps", raw["min_spread_bps"]),
        max_spread_bps=_number("max_spread_bps", raw["max_spread_bps"]),
        min_volume=_number("min_volume", raw["min_volume"]),
        max_price_change=_number("max_price_change", raw["max_price_change"]),
        exclude_auction=bool(excl),
    )
    if (
        f.min_spread_bps is not None
        and f.max_spread_bps is not None
        and f.min_spread_bps > f.max_spread_bps
    ):
        raise ConfigError(
            f"data_filters: min_spread_bps={f.min_spread_bps} exceeds "
            f"max_spread_bps={f.max_spread_bps}; no quote could pass"
        )
    if f.max_price_change == 0:
        raise ConfigError(
            "data_filters.max_price_change: must be > 0 (a fraction, 0.02 = 2 %); "
            "use None to disable the rule"
        )
    return f


def _jump_keep_py(mid: Float64Array1D, max_change: float, max_run: int) -> BoolArray1D:
    n = mid.shape[0]
    keep = np.ones(n, dtype=np.bool_)
    if n == 0:
        return keep
    ref = mid[0]
    run = 0
    run_start = 0
    for i in range(1, n):
        if abs(mid[i] / ref - 1.0) > max_change:
            keep[i] = False
            if run == 0:
                run_start = i
            run += 1
            if max_run > 0 and run >= max_run:  # a persistent move is a new level
                ref = mid[i]
                for j in range(run_start, i + 1):
                    if abs(mid[j] / ref - 1.0) <= max_change:
                        keep[j] = True
                run = 0
        else:
            ref = mid[i]
            run = 0
    return keep


_jump_keep_nb: Callable[[Float64Array1D, float, int], BoolArray1D] = njit(cache=True)(_jump_keep_py)


def _local_time_of_day_ns(ts: Int64Array1D, timezone: str) -> Int64Array1D:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone {timezone!r} is not an IANA time zone (e.g. 'America/New_York')"
        ) from None
    utc = pd.to_datetime(ts, unit="ns", utc=True)
    local = utc.tz_convert(timezone).tz_localize(None).to_numpy(dtype="datetime64[ns]")
    tod: Int64Array1D = local.view(np.int64) % NS_PER_DAY
    return tod


def _time_ns(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * NS_PER_S + t.microsecond * 1000


@dataclass(frozen=True, slots=True)
class FilterReport:
    """What :func:`filter_mask` excluded from one venue and why.

    Parameters
    ----------
    venue, source : str
        Venue name and data source.
    n_total, n_kept : int
        Rows in and rows kept.
    counts : Mapping[str, int]
        Excluded rows per reason (see ``FILTER_REASONS``), each row under its first failing
        rule, so ``n_kept + sum(counts.values()) == n_total``.
    first_ts_ns : Mapping[str, int | None]
        ``ts_event`` (UTC ns) of the first row excluded for each reason.
    settings : Mapping[str, object]
        The filter values, session and time zone used.
    """

    venue: str
    source: str
    n_total: int
    n_kept: int
    counts: Mapping[str, int]
    first_ts_ns: Mapping[str, int | None]
    settings: Mapping[str, object]

    def __post_init__(self) -> None:
        for name in ("counts", "first_ts_ns", "settings"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def n_excluded(self) -> int:
        """Rows excluded for any reason."""
        return self.n_total - self.n_kept

    @property
    def kept_fraction(self) -> float:
        """``n_kept / n_total`` (1.0 for empty data)."""
        return self.n_kept / self.n_total if self.n_total else 1.0

    def summary(self) -> str:
        """Return a fixed-width text table of the exclusions."""
        lines = [
            f"Data filters on venue {self.venue} ({self.source or 'in-memory data'}): kept "
            f"{self.n_kept:,} of {self.n_total:,} rows ({100 * self.kept_fraction:.2f}%)",
            f"{'reason':<20}{'rows':>12}  first ts_event",
        ]
        for reason, count in self.counts.items():
            first = self.first_ts_ns[reason]
            lines.append(f"{reason:<20}{count:>12,}  {'' if first is None else _iso(first)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-serialisable dict."""
        return {
            "venue": self.venue,
            "source": self.source,
            "n_total": self.n_total,
            "n_kept": self.n_kept,
            "n_excluded": self.n_excluded,
            "counts": dict(self.counts),
            "first_ts_ns": dict(self.first_ts_ns),
            "first_ts": {k: None if v is None else _iso(v) for k, v in self.first_ts_ns.items()},
            "settings": {
                k: v.isoformat() if isinstance(v, dt.time) else v for k, v in self.settings.items()
            },
        }


def filter_mask(
    vd: VenueData,
    filters: DataFilterLike | Mapping[str, object],
    *,
    session: tuple[dt.time, dt.time] = (dt.time(9, 30), dt.time(16, 0)),
    timezone: str = "America/New_York",
    max_outlier_run: int = 50,
) -> tuple[BoolArray1D, FilterReport]:
    """Select the rows that pass the spec's data-quality filters.

    Parameters
    ----------
    vd : VenueData
        Validated data of one venue (sorted ``ts_event``).
    filters : DataFilterLike or Mapping[str, object]
        ``min_spread_bps`` and ``max_spread_bps`` (bps of mid), ``min_volume`` (shares),
        ``max_price_change`` (fraction, 0.02 = 2 %), ``exclude_auction`` (bool), e.g. the
        config's ``DataFilterConfig`` or the spec's ``data_filters`` dict. A numeric value of
        None disables its rule; a missing mapping key counts as None (False for
        ``exclude_auction``).
    session : tuple of datetime.time, default (09:30, 16:00)
        Regular session ``[open, close)`` in local time (pass the early close on half days).
    timezone : str, default "America/New_York"
        IANA zone of ``session``.
    max_outlier_run : int, default 50
        Consecutive rejected mids after which a move counts as a new price level (see Notes);
        0 disables the reset.

    Returns
    -------
    mask : numpy.ndarray of bool, shape (n,)
        True for kept rows.
    report : FilterReport
        Counts per reason, kept/total and the first excluded timestamp per reason.

    Raises
    ------
    ConfigError
        A filter value is not a number, negative, ``min_spread_bps > max_spread_bps``,
        ``max_price_change == 0``, the session is empty, or the time zone is unknown.

    Warns
    -----
    DataQualityWarning
        Once per call when any row is excluded, with the counts per reason.

    Notes
    -----
    Every row is an observation of the book after its event. The rules run in this order and
    a row is counted under the first rule it fails:

    1. ``outside_session`` (``exclude_auction``): local time of ``ts_event`` outside
       ``[open, close)``: pre-market, the opening auction before 09:30, the closing auction
       and after-hours.
    2. ``auction_trade`` (``exclude_auction``): auction cross trades inside the session,
       ``action == T`` with ``side == N`` (no aggressor). A source that also marks other trades
       with side N loses them too.
    3. ``one_sided_book`` (when either spread bound is set): ``bid_px_00`` or ``ask_px_00`` is
       NaN, so the spread is undefined.
    4. ``spread_below_min`` / ``spread_above_max``: with :math:`m = (b + a)/2`,
       :math:`s = 10^4 (a - b) / m` bps must lie in ``[min_spread_bps, max_spread_bps]``
       (inclusive, within ``SPREAD_TOL_BPS``). Crossed books have :math:`s < 0`, locked books
       :math:`s = 0`. Note that one tick (0.01) is 1 bp at a price of 100, so
       ``min_spread_bps=1`` drops one-tick spreads of stocks above 100; use 0 to drop only
       crossed books.
    5. ``below_min_volume``: trades (``T``/``F``) with ``size < min_volume`` (the spec's
       "minimum volume per observation" read per trade print: with 100 it drops odd lots).
       Book records are unaffected.
    6. ``price_jump``: among the rows kept so far with a two-sided book, in time order, row
       :math:`i` is an outlier when :math:`|m_i / m_{ref} - 1| >` ``max_price_change``, where
       :math:`m_{ref}` is the mid of the previous **kept** row (the first such row is the
       initial reference and is kept). Comparing with the previous kept mid rather than the
       previous mid drops a one-row spike without also dropping the return to normal. When
       ``max_outlier_run`` consecutive rows are outliers, the move is a new level: the
       reference becomes the latest of them, and the rows of that run within
       ``max_price_change`` of it are kept again. The rule runs in a numba kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from myopic_sor.data import VenueData
    >>> ts = 1_743_600_600_000_000_000 + np.arange(3)  # 2025-04-02 09:30 New York
    >>> vd = VenueData("XNAS", "AAPL", {
    ...     "ts_event": ts, "ts_recv": ts, "action": np.full(3, ord("A"), np.uint8),
    ...     "side": np.full(3, ord("B"), np.uint8), "price": np.full(3, 100.0),
    ...     "size": np.full(3, 100), "bid_px_00": np.array([100.0, 100.0, 99.0]),
    ...     "ask_px_00": np.array([100.02, 100.5, 99.02]), "bid_sz_00": np.full(3, 100),
    ...     "ask_sz_00": np.full(3, 100)})
    >>> filters = {"min_spread_bps": 1, "max_spread_bps": 10, "exclude_auction": True}
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     mask, report = filter_mask(vd, filters)
    >>> mask.tolist(), report.counts["spread_above_max"]
    ([True, False, True], 1)
    """
    f = _resolve_filters(filters)
    open_t, close_t = session
    open_ns, close_ns = _time_ns(open_t), _time_ns(close_t)
    if f.exclude_auction and open_ns >= close_ns:
        raise ConfigError(
            f"session {open_t.isoformat()}-{close_t.isoformat()} is empty; open must be "
            "before close (local time)"
        )
    n = len(vd)
    ts = _i64(vd, "ts_event")
    action = _u8(vd, "action")
    reason = np.zeros(n, dtype=np.int8)  # 0 kept, else 1 + index in FILTER_REASONS

    def assign(rows: BoolArray1D, name: str) -> None:
        reason[(reason == 0) & rows] = _R[name]

    if f.exclude_auction and n:
        tod = _local_time_of_day_ns(ts, timezone)
        assign((tod < open_ns) | (tod >= close_ns), "outside_session")
        assign((action == ACTION_TRADE) & (_u8(vd, "side") == SIDE_NONE), "auction_trade")
    bid = _f64(vd, "bid_px_00")
    ask = _f64(vd, "ask_px_00")
    two_sided = np.isfinite(bid) & np.isfinite(ask)
    mid = 0.5 * (bid + ask)
    if f.min_spread_bps is not None or f.max_spread_bps is not None:
        assign(~two_sided, "one_sided_book")
        with np.errstate(divide="ignore", invalid="ignore"):
            spread_bps = 1e4 * (ask - bid) / mid
        if f.min_spread_bps is not None:
            assign(two_sided & (spread_bps < f.min_spread_bps - SPREAD_TOL_BPS), "spread_below_min")
        if f.max_spread_bps is not None:
            assign(two_sided & (spread_bps > f.max_spread_bps + SPREAD_TOL_BPS), "spread_above_max")
    if f.min_volume is not None and f.min_volume > 0:
        small = np.isin(action, _TRADE_ACTIONS) & (_i64(vd, "size") < f.min_volume)
        assign(small, "below_min_volume")
    if f.max_price_change is not None:
        cand = np.flatnonzero((reason == 0) & two_sided & (mid > 0))
        keep = _jump_keep_nb(
            np.ascontiguousarray(mid[cand]), f.max_price_change, int(max_outlier_run)
        )
        reason[cand[~keep]] = _R["price_jump"]

    mask: BoolArray1D = reason == 0
    tally = np.bincount(reason, minlength=len(FILTER_REASONS) + 1)
    counts = {name: int(tally[_R[name]]) for name in FILTER_REASONS}
    first_ts: dict[str, int | None] = {
        name: (int(ts[int(np.argmax(reason == _R[name]))]) if counts[name] else None)
        for name in FILTER_REASONS
    }
    settings: dict[str, object] = {k: getattr(f, k) for k in _FILTER_FIELDS}
    settings.update(
        session_open=open_t,
        session_close=close_t,
        timezone=timezone,
        max_outlier_run=int(max_outlier_run),
    )
    report = FilterReport(
        vd.venue, vd.source, n, int(np.count_nonzero(mask)), counts, first_ts, settings
    )
    if report.n_excluded:
        parts = "; ".join(
            f"{k} {v:,} (first {_iso(first_ts[k] or 0)})" for k, v in counts.items() if v
        )
        warnings.warn(
            f"{_where(vd)}: data filters excluded {report.n_excluded:,} of {n:,} rows "
            f"({100 * (1 - report.kept_fraction):.2f}%): {parts}",
            DataQualityWarning,
            stacklevel=2,
        )
    return mask, report


def apply_filters(
    vd: VenueData,
    filters: DataFilterLike | Mapping[str, object],
    *,
    session: tuple[dt.time, dt.time] = (dt.time(9, 30), dt.time(16, 0)),
    timezone: str = "America/New_York",
    max_outlier_run: int = 50,
) -> tuple[VenueData, FilterReport]:
    """Return the rows of ``vd`` that pass the data filters, and the report.

    Parameters and rules as in :func:`filter_mask` (one :class:`DataQualityWarning` per call
    when rows are excluded).

    Returns
    -------
    filtered : VenueData
        ``vd`` itself when every row is kept, else a copy with the kept rows.
    report : FilterReport
    """
    mask, report = filter_mask(
        vd, filters, session=session, timezone=timezone, max_outlier_run=max_outlier_run
    )
    if report.n_excluded == 0:
        return vd, report
    return vd.take(mask), report
