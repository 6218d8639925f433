"""The canonical in-memory market data: one columnar book per venue, Databento's names.

Every loader (Databento DBN/Parquet/CSV, LOBSTER, TAQ) and the synthetic generator produce
:class:`VenueData`; a :class:`MarketData` groups the venues of one symbol and one day.

Column conventions (Databento MBP-10 names, see https://databento.com/docs/schemas-and-data-formats/mbp-10):

* ``ts_event``, ``ts_recv``: int64, UTC nanoseconds since the epoch.
* ``action``: uint8 ASCII code of A (add), C (cancel), M (modify), R (clear book), T (trade),
  F (fill), N (none / quote update with no order event, e.g. TAQ quotes).
* ``side``: uint8 ASCII code of A (ask), B (bid), N (none). On a trade (T) the side is the
  **aggressor**: B = buyer-initiated, A = seller-initiated.
* ``depth``: uint8 book level the event touched.
* ``price``: float64 currency per share, NaN where undefined; ``size``: int64 shares.
* ``flags``: optional uint8, Databento's record flags where the source has them.
* ``status``: optional uint8 trading status set on status events (action N): 0 normal,
  1 halted, 2 quoting resumed, 3 trading resumed (LOBSTER type-7 messages).
* ``bid_px_NN``/``ask_px_NN``: float64 (NaN when the level is empty), ``bid_sz_NN``/``ask_sz_NN``
  and optionally ``bid_ct_NN``/``ask_ct_NN``: int64, for NN in 00..levels-1. The book columns
  describe the book **after** the event.

Prices are float64 in currency units rather than Databento's fixed-point int64 (1e-9) because
every model downstream works in currency; loaders convert exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, NoReturn

import numpy as np
import numpy.typing as npt
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.exceptions import DataValidationError

__all__ = [
    "ACTION_ADD",
    "ACTION_CANCEL",
    "ACTION_CLEAR",
    "ACTION_FILL",
    "ACTION_MODIFY",
    "ACTION_NONE",
    "ACTION_TRADE",
    "EVENT_COLUMNS",
    "MAX_LEVELS",
    "OPTIONAL_COLUMNS",
    "SIDE_ASK",
    "SIDE_BID",
    "SIDE_NONE",
    "STATUS_HALTED",
    "STATUS_NORMAL",
    "STATUS_QUOTING",
    "STATUS_TRADING",
    "MarketData",
    "VenueData",
    "level_column",
]

ACTION_ADD: Final = ord("A")
ACTION_CANCEL: Final = ord("C")
ACTION_MODIFY: Final = ord("M")
ACTION_CLEAR: Final = ord("R")
ACTION_TRADE: Final = ord("T")
ACTION_FILL: Final = ord("F")
ACTION_NONE: Final = ord("N")
SIDE_ASK: Final = ord("A")
SIDE_BID: Final = ord("B")
SIDE_NONE: Final = ord("N")

VALID_ACTIONS: Final = frozenset(
    (ACTION_ADD, ACTION_CANCEL, ACTION_MODIFY, ACTION_CLEAR, ACTION_TRADE, ACTION_FILL, ACTION_NONE)
)
VALID_SIDES: Final = frozenset((SIDE_ASK, SIDE_BID, SIDE_NONE))

MAX_LEVELS: Final = 10  # Databento MBP-10; LOBSTER files with more levels are cut to the first 10.

#: Per-event columns and their canonical dtypes (book columns come from :func:`level_column`).
EVENT_COLUMNS: Final[Mapping[str, np.dtype[np.generic]]] = MappingProxyType(
    {
        "ts_event": np.dtype(np.int64),
        "ts_recv": np.dtype(np.int64),
        "action": np.dtype(np.uint8),
        "side": np.dtype(np.uint8),
        "depth": np.dtype(np.uint8),
        "price": np.dtype(np.float64),
        "size": np.dtype(np.int64),
    }
)
#: Optional per-event columns.
OPTIONAL_COLUMNS: Final[Mapping[str, np.dtype[np.generic]]] = MappingProxyType(
    {
        "flags": np.dtype(np.uint8),
        "sequence": np.dtype(np.uint64),
        "status": np.dtype(np.uint8),
    }
)
STATUS_NORMAL: Final = 0
STATUS_HALTED: Final = 1
STATUS_QUOTING: Final = 2
STATUS_TRADING: Final = 3
_REQUIRED: Final = ("ts_event", "ts_recv", "action", "side", "price", "size")


def level_column(kind: str, side: str, level: int) -> str:
    """Return the Databento column name for a book level, e.g. ``level_column("px", "bid", 0)``.

    Parameters
    ----------
    kind : {"px", "sz", "ct"}
        Price, size or order count.
    side : {"bid", "ask"}
    level : int
        Zero-based level, 0 is the touch.
    """
    return f"{side}_{kind}_{level:02d}"


def _level_dtype(name: str) -> np.dtype[np.generic]:
    return np.dtype(np.float64) if "_px_" in name else np.dtype(np.int64)


def _coerce(
    name: str, arr: npt.NDArray[Any], want: np.dtype[np.generic], where: str
) -> npt.NDArray[np.generic]:
    """Cast a column to its canonical dtype, refusing any cast that would change a value."""

    def fail(what: str, mask: npt.NDArray[np.bool_], fix: str) -> NoReturn:
        r = int(np.argmax(mask))
        raise DataValidationError(
            f"{where}: column {name!r} {what} (first at row {r}: {arr[r]!r}); {fix}"
        )

    kind = arr.dtype.kind
    if name in ("ts_event", "ts_recv") and kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)  # exact: ns since the epoch
        kind = "i"
    if kind in "US" and want == np.uint8 and name in ("action", "side"):
        letters = arr.astype("S1")
        if arr.size and (np.char.str_len(arr.astype("U")) != 1).any():
            fail("holds codes longer than one letter", np.char.str_len(arr.astype("U")) != 1,
                 "use Databento's one-letter codes (A/C/M/R/T/F/N, side A/B/N)")  # fmt: skip
        return np.ascontiguousarray(letters.view(np.uint8))
    if want.kind in "iu":
        if kind == "f":
            if name in ("ts_event", "ts_recv"):
                raise DataValidationError(
                    f"{where}: column {name!r} is floating point; timestamps must be int64 UTC "
                    "nanoseconds (float64 cannot hold them exactly): pass integers or datetime64"
                )
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                fail("holds non-integer values", bad, "sizes and counts are whole numbers")
        elif kind not in "iub":
            raise DataValidationError(
                f"{where}: column {name!r} has dtype {arr.dtype}, expected {want} numbers"
            )
        if arr.size and kind in "iuf" and arr.dtype != want:  # same dtype: nothing to check
            info = np.iinfo(want)  # type: ignore[type-var]
            out = (arr < info.min) | (arr > info.max)
            if out.any():
                fail(f"holds values outside the {want} range", out, "check the column's units")
    elif want.kind == "f" and kind not in "fiub":
        raise DataValidationError(
            f"{where}: column {name!r} has dtype {arr.dtype}, expected float64 prices"
        )
    return np.ascontiguousarray(arr, dtype=want)


@dataclass(frozen=True, slots=True)
class VenueData:
    """The book and event stream of one symbol on one venue, as contiguous numpy columns.

    Parameters
    ----------
    venue : str
        Venue name, e.g. ``"XNAS"``.
    symbol : str
        Instrument symbol, e.g. ``"AAPL"``.
    columns : Mapping[str, numpy.ndarray]
        Equal-length 1-D arrays named as in the module docstring. ``ts_event``, ``ts_recv``,
        ``action``, ``side``, ``price``, ``size`` and ``bid_px_00``/``ask_px_00``/``bid_sz_00``/
        ``ask_sz_00`` are required; deeper levels and counts are optional but must be contiguous
        from level 0.
    source : str
        Where the data came from (a path, or ``"synthetic(seed=...)"``), used in messages and
        reports.

    Notes
    -----
    Columns whose dtype already matches are wrapped without a copy, as read-only views: do not
    mutate an array after handing it over. Construction checks names, dtypes and lengths
    (cheap); value checks such as sorted
    timestamps or crossed books live in :func:`myopic_sor.data.validate_venue`.
    """

    venue: str
    symbol: str
    columns: Mapping[str, npt.NDArray[np.generic]]
    source: str = ""
    levels: int = field(init=False)
    has_counts: bool = field(init=False)

    def __post_init__(self) -> None:
        cols: dict[str, npt.NDArray[np.generic]] = {}
        n: int | None = None
        where = f"{self.source or 'data'} (venue {self.venue})"
        for name in _REQUIRED:
            if name not in self.columns:
                raise DataValidationError(
                    f"{where}: missing required column {name!r}; every venue needs "
                    f"{', '.join(_REQUIRED)} and the level-0 book columns"
                )
        levels = 0
        while level_column("px", "bid", levels) in self.columns and levels < MAX_LEVELS:
            levels += 1
        if levels == 0:
            raise DataValidationError(
                f"{where}: missing book column 'bid_px_00' (and ask_px_00, bid_sz_00, ask_sz_00)"
            )
        has_counts = level_column("ct", "bid", 0) in self.columns
        allowed = set(EVENT_COLUMNS) | set(OPTIONAL_COLUMNS)
        for lvl in range(levels):
            for side in ("bid", "ask"):
                allowed.add(level_column("px", side, lvl))
                allowed.add(level_column("sz", side, lvl))
                if has_counts:
                    allowed.add(level_column("ct", side, lvl))
        for name in allowed:
            if name.startswith(("bid_", "ask_")) and name not in self.columns:
                raise DataValidationError(
                    f"{where}: missing book column {name!r}; levels 0..{levels - 1} need "
                    "bid/ask px and sz (and ct when any count column is given)"
                )
        for name, arr in self.columns.items():
            if name not in allowed:
                raise DataValidationError(
                    f"{where}: unexpected column {name!r}; canonical columns are the Databento "
                    "MBP-10 names (drop or rename it in the loader)"
                )
            want = EVENT_COLUMNS.get(name) or OPTIONAL_COLUMNS.get(name) or _level_dtype(name)
            a = _coerce(name, np.asarray(arr), want, where)
            if a.ndim != 1:
                raise DataValidationError(f"{where}: column {name!r} must be 1-D, got {a.shape}")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise DataValidationError(
                    f"{where}: column {name!r} has {a.shape[0]} rows, expected {n}"
                )
            a = a.view()  # a read-only view: the caller's own array stays writeable
            a.flags.writeable = False  # shared views must not be mutated behind our back
            cols[name] = a
        if "depth" not in cols:
            depth = np.zeros(n or 0, dtype=np.uint8)
            depth.flags.writeable = False
            cols["depth"] = depth
        object.__setattr__(self, "columns", MappingProxyType(cols))
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "has_counts", has_counts)

    # -- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.columns["ts_event"].shape[0])

    def __getitem__(self, name: str) -> npt.NDArray[np.generic]:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(
                f"venue {self.venue} has no column {name!r} (levels={self.levels}, "
                f"counts={'yes' if self.has_counts else 'no'})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    @property
    def ts_event(self) -> Int64Array1D:
        """Event timestamps, int64 UTC ns."""
        return self.columns["ts_event"]  # type: ignore[return-value]

    @property
    def best_bid(self) -> Float64Array1D:
        """Best bid price after each event (NaN when the bid side is empty)."""
        return self.columns["bid_px_00"]  # type: ignore[return-value]

    @property
    def best_ask(self) -> Float64Array1D:
        """Best ask price after each event (NaN when the ask side is empty)."""
        return self.columns["ask_px_00"]  # type: ignore[return-value]

    @property
    def mid_price(self) -> Float64Array1D:
        """Mid price ``(bid + ask) / 2`` after each event."""
        return 0.5 * (self.best_bid + self.best_ask)

    def level_matrix(self, kind: str, side: str) -> npt.NDArray[np.generic]:
        """Stack levels into an ``(n, levels)`` array, e.g. ``level_matrix("sz", "bid")``."""
        return np.column_stack(
            [self.columns[level_column(kind, side, i)] for i in range(self.levels)]
        )

    def trades_mask(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of trade events (action T)."""
        mask: npt.NDArray[np.bool_] = self.columns["action"] == ACTION_TRADE
        return mask

    # -- slicing ------------------------------------------------------------------------------
    def take(self, index: slice | npt.NDArray[np.integer] | npt.NDArray[np.bool_]) -> VenueData:
        """Return a new ``VenueData`` with the rows selected by ``index`` (views for slices)."""
        if isinstance(index, slice) and index.step in (None, 1):
            # a contiguous slice of validated, read-only columns is valid as it stands: skip
            # the construction checks (the causal view at every decision is one of these)
            view = object.__new__(VenueData)
            cols = {k: v[index] for k, v in self.columns.items()}
            for name, value in (
                ("venue", self.venue),
                ("symbol", self.symbol),
                ("columns", MappingProxyType(cols)),
                ("source", self.source),
                ("levels", self.levels),
                ("has_counts", self.has_counts),
            ):
                object.__setattr__(view, name, value)
            return view
        return VenueData(
            venue=self.venue,
            symbol=self.symbol,
            columns={k: v[index] for k, v in self.columns.items()},
            source=self.source,
        )

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> VenueData:
        """Rows with ``start_ns <= ts_event <= end_ns`` (either bound may be None).

        Uses binary search on the sorted ``ts_event`` and returns views, so it is O(log n).
        The upper bound is inclusive: ``between(None, t)`` is the causal view at decision time t.
        """
        ts = self.ts_event
        lo = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, side="left"))
        hi = len(ts) if end_ns is None else int(np.searchsorted(ts, end_ns, side="right"))
        return self.take(slice(lo, hi))

    def to_pandas(self) -> pd.DataFrame:
        """Return a DataFrame view for the API: ``ts_event``/``ts_recv`` as UTC datetimes,
        ``action``/``side`` as one-letter strings, the rest as stored."""
        data: dict[str, object] = {}
        for name, arr in self.columns.items():
            if name in ("ts_event", "ts_recv"):
                data[name] = pd.to_datetime(arr.view(np.int64), unit="ns", utc=True)
            elif name in ("action", "side"):
                data[name] = arr.view("S1").astype(str)
            else:
                data[name] = arr
        df = pd.DataFrame(data)
        df.insert(0, "venue", self.venue)
        df["symbol"] = self.symbol
        return df


@dataclass(frozen=True, slots=True)
class MarketData:
    """All venues of one symbol on one trading day.

    Parameters
    ----------
    symbol : str
    date : datetime.date
        The trading day (in ``timezone``).
    venues : Mapping[str, VenueData]
        Venue name to its data; every venue must carry ``symbol``.
    timezone : str
        IANA time zone of the exchange session, default ``"America/New_York"``.
    """

    symbol: str
    date: dt.date
    venues: Mapping[str, VenueData]
    timezone: str = "America/New_York"

    def __post_init__(self) -> None:
        if not self.venues:
            raise DataValidationError(f"MarketData for {self.symbol} {self.date}: no venues")
        for name, v in self.venues.items():
            if v.symbol != self.symbol:
                raise DataValidationError(
                    f"venue {name} ({v.source}) holds symbol {v.symbol!r}, expected "
                    f"{self.symbol!r}; load one symbol per MarketData"
                )
            if v.venue != name:
                raise DataValidationError(f"venue key {name!r} differs from its data's {v.venue!r}")
        object.__setattr__(self, "venues", MappingProxyType(dict(sorted(self.venues.items()))))

    def __getitem__(self, venue: str) -> VenueData:
        try:
            return self.venues[venue]
        except KeyError:
            raise KeyError(f"no venue {venue!r}; have {', '.join(self.venues)}") from None

    def __iter__(self) -> Iterator[VenueData]:
        return iter(self.venues.values())

    def __len__(self) -> int:
        return len(self.venues)

    @property
    def venue_names(self) -> tuple[str, ...]:
        """Venue names in sorted order."""
        return tuple(self.venues)

    @property
    def n_events(self) -> int:
        """Total number of events over all venues."""
        return sum(len(v) for v in self.venues.values())

    @property
    def first_ts(self) -> int:
        """Earliest ``ts_event`` over all venues (int64 ns); raises on empty data."""
        return min(int(v.ts_event[0]) for v in self.venues.values() if len(v))

    @property
    def last_ts(self) -> int:
        """Latest ``ts_event`` over all venues (int64 ns); raises on empty data."""
        return max(int(v.ts_event[-1]) for v in self.venues.values() if len(v))

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> MarketData:
        """Every venue restricted to ``start_ns <= ts_event <= end_ns`` (views, inclusive)."""
        return MarketData(
            symbol=self.symbol,
            date=self.date,
            venues={k: v.between(start_ns, end_ns) for k, v in self.venues.items()},
            timezone=self.timezone,
        )

    def session_bounds_ns(self, start: dt.time, end: dt.time) -> tuple[int, int]:
        """UTC ns bounds of ``[start, end]`` local time on this day in ``timezone``."""
        tz = self.timezone
        lo = pd.Timestamp(dt.datetime.combine(self.date, start)).tz_localize(tz)
        hi = pd.Timestamp(dt.datetime.combine(self.date, end)).tz_localize(tz)
        return int(lo.value), int(hi.value)

    def to_pandas(self) -> pd.DataFrame:
        """All venues in one DataFrame, merged in event time (stable on ties), with ``venue``."""
        frames = [v.to_pandas() for v in self.venues.values()]
        df = pd.concat(frames, ignore_index=True)
        return df.sort_values("ts_event", kind="stable").reset_index(drop=True)
