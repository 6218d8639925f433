"""Book features per venue and the consolidated top of book (NBBO) in event time.

Every per-venue feature is aligned to the venue's events: element ``i`` describes the book
**after** event ``i`` (the canonical book columns already do). The consolidated book is aligned
to the merged event stream of all venues, see :func:`merge_events`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.data import MarketData, VenueData, level_column
from myopic_sor.exceptions import ConfigError
from myopic_sor.features._common import check_levels, check_sorted
from myopic_sor.features._kernels import nbbo_kernel

__all__ = [
    "BookSide",
    "ConsolidatedBook",
    "MergedEvents",
    "consolidated_book",
    "cumulative_depth",
    "merge_events",
    "microprice",
    "mid_price",
    "spread",
    "touch_depth",
]

logger = logging.getLogger(__name__)

BookSide: TypeAlias = Literal["bid", "ask"]


def spread(venue: VenueData) -> Float64Array1D:
    """Return the quoted spread ``ask_px_00 - bid_px_00`` after each event.

    Parameters
    ----------
    venue : VenueData
        One venue's events and book.

    Returns
    -------
    numpy.ndarray
        float64, currency per share, one value per event; NaN when either side is empty.
        Negative values mean a crossed book (validation flags those).
    """
    out: Float64Array1D = venue.best_ask - venue.best_bid
    return out


def mid_price(venue: VenueData) -> Float64Array1D:
    """Return the mid price ``(bid_px_00 + ask_px_00) / 2`` after each event.

    Parameters
    ----------
    venue : VenueData

    Returns
    -------
    numpy.ndarray
        float64, currency per share; NaN when either side is empty.
    """
    return venue.mid_price


def microprice(venue: VenueData) -> Float64Array1D:
    """Return the size-weighted mid (microprice) after each event.

    Parameters
    ----------
    venue : VenueData

    Returns
    -------
    numpy.ndarray
        float64, currency per share; NaN when either side is empty or both touch sizes are 0.

    Notes
    -----
    With bid ``b``, ask ``a`` and touch sizes ``q_b``, ``q_a`` (shares)::

        microprice = (b · q_a + a · q_b) / (q_b + q_a)

    It leans towards the ask when the bid queue is the larger one (buying pressure).
    """
    b, a = venue.best_bid, venue.best_ask
    qb = venue["bid_sz_00"].astype(np.float64)
    qa = venue["ask_sz_00"].astype(np.float64)
    tot = qb + qa
    out = np.full(b.shape, np.nan)
    ok = np.isfinite(b) & np.isfinite(a) & (tot > 0)
    out[ok] = (b[ok] * qa[ok] + a[ok] * qb[ok]) / tot[ok]
    return out


def touch_depth(venue: VenueData) -> tuple[Int64Array1D, Int64Array1D]:
    """Return the displayed queue sizes at the best bid and the best ask after each event.

    Parameters
    ----------
    venue : VenueData

    Returns
    -------
    bid_sz, ask_sz : numpy.ndarray
        int64 shares (``bid_sz_00``, ``ask_sz_00``); 0 where the side is empty.
    """
    return _sizes(venue, "bid", 0), _sizes(venue, "ask", 0)


def cumulative_depth(
    venue: VenueData, side: BookSide, levels: int | None = None
) -> npt.NDArray[np.int64]:
    """Return the displayed depth from the touch down to each level, after each event.

    Parameters
    ----------
    venue : VenueData
    side : {"bid", "ask"}
    levels : int, optional
        Number of levels (default: all the venue has, at most 10).

    Returns
    -------
    numpy.ndarray
        int64 shares, shape ``(n_events, levels)``; column ``k`` is the total size on levels
        ``0..k``. Empty levels (NaN price) add 0.

    Examples
    --------
    >>> depth = cumulative_depth(venue, "bid", 3)  # doctest: +SKIP
    >>> depth[:, 2]  # shares available within the best three bid prices  # doctest: +SKIP
    """
    if side not in ("bid", "ask"):
        raise ConfigError(f"side must be 'bid' or 'ask', got {side!r}")
    n_levels = check_levels(venue, levels)
    sizes = np.column_stack([_sizes(venue, side, m) for m in range(n_levels)])
    out: npt.NDArray[np.int64] = np.cumsum(sizes.reshape(len(venue), n_levels), axis=1)
    return out


def _sizes(venue: VenueData, side: str, level: int) -> Int64Array1D:
    return _level_sizes(
        venue[level_column("px", side, level)], venue[level_column("sz", side, level)]
    )


def _level_sizes(px: npt.NDArray[np.generic], sz: npt.NDArray[np.generic]) -> Int64Array1D:
    """A level's displayed size per row, 0 where the level is empty (NaN price)."""
    out: Int64Array1D = np.where(np.isnan(px), 0, sz).astype(np.int64)
    return out


@dataclass(frozen=True, slots=True)
class MergedEvents:
    """The events of all venues of a :class:`MarketData` in one event-time order.

    Attributes
    ----------
    venues : tuple of str
        Venue names in ``MarketData`` order (sorted); ``venue_index`` points into it.
    ts_event : numpy.ndarray
        int64 UTC ns of each merged event, non-decreasing.
    venue_index : numpy.ndarray
        int64, the venue of each merged event.
    row : numpy.ndarray
        int64, the event's row in its own venue's columns.
    order : numpy.ndarray
        int64, the event's position in the concatenation of the venues' columns (venues in
        ``venues`` order); ``concatenated[order]`` puts any per-venue feature in merged order.
    """

    venues: tuple[str, ...]
    ts_event: Int64Array1D
    venue_index: Int64Array1D
    row: Int64Array1D
    order: Int64Array1D

    def __len__(self) -> int:
        return int(self.ts_event.shape[0])

    def gather(self, per_venue: Mapping[str, npt.NDArray[np.generic]]) -> npt.NDArray[np.generic]:
        """Put per-venue event arrays (one per venue, aligned to its events) in merged order."""
        if not isinstance(per_venue, Mapping):
            raise TypeError(
                "gather takes a mapping venue -> array, e.g. {v.venue: f(v) for v in md}; got "
                f"{type(per_venue).__name__}"
            )
        missing = [v for v in self.venues if v not in per_venue]
        if missing:
            raise KeyError(f"gather needs an array for every venue; missing {missing}")
        return np.concatenate([np.asarray(per_venue[v]) for v in self.venues])[self.order]


def merge_events(md: MarketData) -> MergedEvents:
    """Merge the venues' event streams into one stream ordered by ``ts_event``.

    Parameters
    ----------
    md : MarketData
        Every venue's ``ts_event`` must be sorted (run validation first).

    Returns
    -------
    MergedEvents

    Notes
    -----
    The order is a stable sort of the venues' events concatenated in venue-name order, so on
    equal timestamps the venue that sorts first comes first, and the events of one venue keep
    their feed order. Each venue is a pre-sorted run, which the stable sort (timsort) merges in
    about ``O(n log V)`` for ``V`` venues. Equal timestamps are not collapsed: rows at the same
    ``ts_event`` show intermediate consolidated states, the last one is the state at that time.
    """
    names = tuple(md.venue_names)
    for v in md:
        check_sorted(v)
    lengths = np.array([len(md[v]) for v in names], dtype=np.int64)
    ts_all = np.concatenate([md[v].ts_event for v in names]) if names else np.empty(0, np.int64)
    order = np.argsort(ts_all, kind="stable").astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    venue_of = np.repeat(np.arange(len(names), dtype=np.int64), lengths)
    venue_index = venue_of[order]
    row = order - starts[venue_index]
    return MergedEvents(
        venues=names,
        ts_event=ts_all[order],
        venue_index=venue_index,
        row=row,
        order=order,
    )


@dataclass(frozen=True, slots=True)
class ConsolidatedBook:
    """Consolidated top of book across venues, one row per merged event.

    Attributes
    ----------
    events : MergedEvents
        The merged event stream the arrays are aligned to.
    best_bid, best_ask : numpy.ndarray
        float64 currency per share: highest bid / lowest ask over the venues' last quotes;
        NaN while no venue has a quote on that side.
    bid_size, ask_size : numpy.ndarray
        int64 shares displayed at the best price, summed over the venues quoting it.
    bid_venues, ask_venues : numpy.ndarray
        bool, shape ``(n_events, n_venues)``: which venues are at the best price (columns in
        ``events.venues`` order).
    """

    events: MergedEvents
    best_bid: Float64Array1D
    best_ask: Float64Array1D
    bid_size: Int64Array1D
    ask_size: Int64Array1D
    bid_venues: npt.NDArray[np.bool_]
    ask_venues: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.events)

    @property
    def venues(self) -> tuple[str, ...]:
        """Venue names, the column order of ``bid_venues`` / ``ask_venues``."""
        return self.events.venues

    @property
    def ts_event(self) -> Int64Array1D:
        """Merged event timestamps, int64 UTC ns."""
        return self.events.ts_event

    @property
    def mid_price(self) -> Float64Array1D:
        """Consolidated mid ``(best_bid + best_ask) / 2``, currency per share."""
        out: Float64Array1D = 0.5 * (self.best_bid + self.best_ask)
        return out

    @property
    def spread(self) -> Float64Array1D:
        """Consolidated spread ``best_ask - best_bid``; negative when venues cross."""
        out: Float64Array1D = self.best_ask - self.best_bid
        return out


def consolidated_book(md: MarketData) -> ConsolidatedBook:
    """Build the consolidated top of book (NBBO) in merged event time.

    Parameters
    ----------
    md : MarketData
        All venues of one symbol and day; a venue with no events simply never quotes.

    Returns
    -------
    ConsolidatedBook

    Notes
    -----
    Events are merged by :func:`merge_events`. After each event, every venue is represented by
    its last quote (``bid_px_00``, ``bid_sz_00``, ``ask_px_00``, ``ask_sz_00`` of its latest
    event so far); an empty side (NaN price) does not compete. Then::

        best_bid = max_v bid_v      bid_size = Σ_{v : bid_v = best_bid} bid_sz_v
        best_ask = min_v ask_v      ask_size = Σ_{v : ask_v = best_ask} ask_sz_v

    Row ``i`` uses events ``0..i`` only, so the book is causal. Venues may lock or cross each
    other (feeds are not synchronised); the book reports that as it is.
    The loop is a numba kernel, ``O(n V)`` for ``n`` events and ``V`` venues.
    """
    ev = merge_events(md)
    per = {v: md[v] for v in ev.venues}
    bid_px = ev.gather({k: v.best_bid for k, v in per.items()}).astype(np.float64)
    ask_px = ev.gather({k: v.best_ask for k, v in per.items()}).astype(np.float64)
    bid_sz = ev.gather({k: v["bid_sz_00"] for k, v in per.items()}).astype(np.int64)
    ask_sz = ev.gather({k: v["ask_sz_00"] for k, v in per.items()}).astype(np.int64)
    bb, ba, bs, az, bat, aat = nbbo_kernel(
        np.ascontiguousarray(ev.venue_index),
        np.ascontiguousarray(bid_px),
        np.ascontiguousarray(bid_sz),
        np.ascontiguousarray(ask_px),
        np.ascontiguousarray(ask_sz),
        len(ev.venues),
    )
    logger.debug("consolidated book: %d events over %d venues", len(ev), len(ev.venues))
    return ConsolidatedBook(
        events=ev,
        best_bid=bb,
        best_ask=ba,
        bid_size=bs,
        ask_size=az,
        bid_venues=bat,
        ask_venues=aat,
    )
