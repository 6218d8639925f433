"""Signed trade volume and queue outflows at the touch."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.data import ACTION_CLEAR, ACTION_TRADE, SIDE_ASK, SIDE_BID, VenueData
from myopic_sor.exceptions import DataQualityWarning
from myopic_sor.features._book import touch_depth
from myopic_sor.features._common import PRICE_TOL, check_sorted, make_buckets

__all__ = [
    "QueueOutflows",
    "TradeFlow",
    "queue_outflow_events",
    "queue_outflows",
    "signed_trade_volume",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TradeFlow:
    """Trade volume of one venue split by aggressor, aligned to the venue's events.

    Attributes
    ----------
    bid_fill : numpy.ndarray
        int64 shares: buyer-initiated volume (trade with aggressor side ``B``) at each event,
        0 on non-trade events.
    ask_fill : numpy.ndarray
        int64 shares: seller-initiated volume (aggressor side ``A``).
    signed_volume : numpy.ndarray
        int64 shares, ``bid_fill - ask_fill``: positive for buying pressure.
    n_unknown : int
        Number of trades whose aggressor is unknown (side ``N``); they count 0 in the above.
    unknown_volume : int
        Their total size, shares.
    """

    bid_fill: Int64Array1D
    ask_fill: Int64Array1D
    signed_volume: Int64Array1D
    n_unknown: int
    unknown_volume: int

    @property
    def total_volume(self) -> int:
        """All traded shares, unknown aggressor included."""
        return int(self.bid_fill.sum() + self.ask_fill.sum()) + self.unknown_volume


def _trade_flow(venue: VenueData) -> TradeFlow:
    action = venue["action"]
    side = venue["side"]
    size = venue["size"].astype(np.int64)
    trade = action == ACTION_TRADE
    buy = trade & (side == SIDE_BID)
    sell = trade & (side == SIDE_ASK)
    unknown = trade & ~buy & ~sell
    bid_fill = np.where(buy, size, 0).astype(np.int64)
    ask_fill = np.where(sell, size, 0).astype(np.int64)
    return TradeFlow(
        bid_fill=bid_fill,
        ask_fill=ask_fill,
        signed_volume=bid_fill - ask_fill,
        n_unknown=int(unknown.sum()),
        unknown_volume=int(size[unknown].sum()),
    )


def _warn_unknown_aggressor(where: str, n_unknown: int, unknown_volume: int, n_trades: int) -> None:
    if n_unknown:
        warnings.warn(
            f"{where}: {n_unknown} of {n_trades} trade(s) ({unknown_volume} shares) have no "
            "aggressor side (side 'N'); they count 0 in bid_fill/ask_fill/signed_volume",
            DataQualityWarning,
            stacklevel=3,
        )


def signed_trade_volume(venue: VenueData) -> TradeFlow:
    """Split one venue's trade volume by aggressor side.

    Parameters
    ----------
    venue : VenueData

    Returns
    -------
    TradeFlow
        Arrays aligned to the venue's events.

    Warns
    -----
    DataQualityWarning
        When some trades have an unknown aggressor (side ``N``), with their count and volume.

    Notes
    -----
    Databento's ``side`` on a trade (action ``T``) is the aggressor: ``B`` a buyer lifting the
    ask, ``A`` a seller hitting the bid. The spec's columns are read as::

        bid_fill = buyer-initiated volume,  ask_fill = seller-initiated volume,
        signed_volume = bid_fill − ask_fill   (> 0 for buying pressure)

    which is the sign convention the impact regression ``Δp = λ ΔQ`` needs (λ > 0). Only
    action ``T`` rows count; ``F`` (fill of a resting order) rows describe the same
    executions from the passive side and would count them twice.
    """
    flow = _trade_flow(venue)
    n_trades = int(np.count_nonzero(venue["action"] == ACTION_TRADE))
    _warn_unknown_aggressor(
        f"{venue.source or 'data'} (venue {venue.venue})",
        flow.n_unknown,
        flow.unknown_volume,
        n_trades,
    )
    return flow


def queue_outflow_events(venue: VenueData) -> tuple[Int64Array1D, Int64Array1D]:
    """Return the displayed volume that leaves the best bid and best ask queue at each event.

    Parameters
    ----------
    venue : VenueData
        One venue, ``ts_event`` sorted.

    Returns
    -------
    bid_out, ask_out : numpy.ndarray
        int64 shares, aligned to the events (event 0 is 0).

    Notes
    -----
    With the touch ``(P, q)`` after events ``n-1`` and ``n`` (bid side; the ask mirrors it with
    "worse" meaning higher)::

        P_n = P_{n-1}                  out_n = max(q_{n-1} − q_n, 0)
        P_n worse than P_{n-1}, or     out_n = q_{n-1}   (the whole queue left)
        the side is now empty
        P_n better, or P_{n-1} empty   out_n = 0         (a new queue; nothing left the old one)

    Rows with action ``R`` (book clear) count 0: a clear is a reset, not flow.

    This measures trades at the touch and cancels at depth 0 by their effect on the displayed
    queue, which is right for every source: with order events (Databento MBP-10) a trade
    (``T``) does not change the book and the fill is followed by a cancel (``C``) at the
    touch that does, so adding trade sizes to cancel sizes would count fills twice; with
    quote-only rows (action ``N``, TAQ) the decrease of the touch size at an unchanged price is
    the outflow. Executions against hidden liquidity do not shrink the displayed queue and are
    not outflow; :func:`queue_outflows` reports the traded part separately.
    """
    check_sorted(venue)
    bid_sz, ask_sz = touch_depth(venue)
    return _outflow_events(venue.best_bid, bid_sz, venue.best_ask, ask_sz, venue["action"])


def _outflow_events(
    bid_px: npt.NDArray[Any],
    bid_sz: Int64Array1D,
    ask_px: npt.NDArray[Any],
    ask_sz: Int64Array1D,
    action: npt.NDArray[Any],
) -> tuple[Int64Array1D, Int64Array1D]:
    """:func:`queue_outflow_events` on columns (touch sizes 0 where the side is empty); each
    row's value depends on that row and the one before it only."""
    out_b = _side_outflow(bid_px, bid_sz, better=1.0)
    out_a = _side_outflow(ask_px, ask_sz, better=-1.0)
    clear = action == ACTION_CLEAR
    out_b[clear] = 0
    out_a[clear] = 0
    return out_b, out_a


def _side_outflow(px: Float64Array1D, sz: Int64Array1D, better: float) -> Int64Array1D:
    out = np.zeros(px.shape[0], dtype=np.int64)
    if px.shape[0] < 2:
        return out
    p0, p1 = px[:-1], px[1:]
    q0, q1 = sz[:-1], sz[1:]
    had = ~np.isnan(p0)
    with np.errstate(invalid="ignore"):
        same = had & (np.abs(p1 - p0) <= PRICE_TOL)
        worse = had & (np.isnan(p1) | (better * (p1 - p0) < -PRICE_TOL))
    out[1:] = np.where(same, np.maximum(q0 - q1, 0), np.where(worse, q0, 0))
    return out


def _traded_at_touch(venue: VenueData) -> tuple[Int64Array1D, Int64Array1D]:
    return _traded_events(
        venue["action"],
        venue["side"],
        venue["price"],
        venue["size"],
        venue.best_bid,
        venue.best_ask,
    )


def _traded_events(  # noqa: PLR0917 - the columns of one venue, in a fixed order
    action_col: npt.NDArray[Any],
    side_col: npt.NDArray[Any],
    price_col: npt.NDArray[Any],
    size_col: npt.NDArray[Any],
    best_bid: npt.NDArray[Any],
    best_ask: npt.NDArray[Any],
) -> tuple[Int64Array1D, Int64Array1D]:
    """Shares traded at the previous best bid / best ask at each row (row 0 is 0); each row's
    value depends on that row and the one before it only."""
    n = action_col.shape[0]
    hit_bid = np.zeros(n, dtype=np.int64)
    lift_ask = np.zeros(n, dtype=np.int64)
    if n < 2:
        return hit_bid, lift_ask
    action, side = action_col[1:], side_col[1:]
    price = np.asarray(price_col[1:], dtype=np.float64)
    size = size_col[1:].astype(np.int64)
    prev_bid, prev_ask = best_bid[:-1], best_ask[:-1]
    trade = action == ACTION_TRADE
    with np.errstate(invalid="ignore"):
        at_bid = np.abs(price - prev_bid) <= PRICE_TOL
        at_ask = np.abs(price - prev_ask) <= PRICE_TOL
    # Resting side = opposite of the aggressor; an unknown aggressor is placed by its price.
    unknown = (side != SIDE_BID) & (side != SIDE_ASK)
    rest_bid = trade & at_bid & ((side == SIDE_ASK) | unknown)
    rest_ask = trade & at_ask & ((side == SIDE_BID) | (unknown & ~at_bid))
    hit_bid[1:] = np.where(rest_bid, size, 0)
    lift_ask[1:] = np.where(rest_ask, size, 0)
    return hit_bid, lift_ask


@dataclass(frozen=True, slots=True)
class QueueOutflows:
    """Queue outflows at the touch of one venue over fixed intervals.

    Attributes
    ----------
    start_ns : numpy.ndarray
        int64 UTC ns, start of each interval ``[start, start + bucket_ns)``.
    bid_outflow, ask_outflow : numpy.ndarray
        int64 shares that left the best bid / best ask queue in the interval (trades and
        cancels, see :func:`queue_outflow_events`).
    bid_traded, ask_traded : numpy.ndarray
        int64 shares traded at the previous best bid (seller-initiated) / best ask
        (buyer-initiated) in the interval; the rest of the outflow is cancellations. May exceed
        the outflow when hidden liquidity traded.
    """

    start_ns: Int64Array1D
    bid_outflow: Int64Array1D
    ask_outflow: Int64Array1D
    bid_traded: Int64Array1D
    ask_traded: Int64Array1D

    def __len__(self) -> int:
        return int(self.start_ns.shape[0])


def queue_outflows(
    venue: VenueData,
    bucket_ns: int,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> QueueOutflows:
    """Sum one venue's queue outflows at the touch over fixed intervals.

    Parameters
    ----------
    venue : VenueData
        One venue, ``ts_event`` sorted.
    bucket_ns : int
        Interval length, nanoseconds.
    start_ns, end_ns : int, optional
        UTC ns grid bounds, as in :func:`ofi_buckets` (default: clock-aligned over the data).

    Returns
    -------
    QueueOutflows
        Every interval of the grid, empty ones included (0).

    Notes
    -----
    ``bid_outflow_k = Σ_{t_n in k} out^bid_n`` with ``out_n`` from
    :func:`queue_outflow_events`. A trade is at the touch when its price equals the best price
    of its resting side before the trade; the resting side is the opposite of the aggressor, or,
    for an unknown aggressor, the side whose touch the price equals. The interval sums are the
    samples of the outflow ``ξ`` over a horizon ``bucket_ns`` that the Cont-Kukanov router
    fits its outflow distributions to.
    """
    out_b, out_a = queue_outflow_events(venue)
    tr_b, tr_a = _traded_at_touch(venue)
    b = make_buckets(venue.ts_event, bucket_ns, start_ns, end_ns)

    def total(x: Int64Array1D) -> Int64Array1D:
        return np.rint(b.sum(x)).astype(np.int64)

    logger.debug("queue outflows of %s: %d buckets", venue.venue, b.n)
    return QueueOutflows(
        start_ns=b.start_ns,
        bid_outflow=total(out_b),
        ask_outflow=total(out_a),
        bid_traded=total(tr_b),
        ask_traded=total(tr_a),
    )
