r"""The Cont-Kukanov router's inputs at decision time t, from data up to t only.

:func:`router_inputs` (and its three-value form :func:`build_routing_problem`) turns the
market data and a child order into a :class:`~myopic_sor.routing.RoutingProblem` plus one
outflow law per venue. Only each venue's rows with ``ts_event ≤ t`` are read (the causal view
``venue.between(None, t)``, its rows found by binary search): data after t cannot change the
result, bit for bit. Across decisions the look-back outflow comes from running per-event sums
of the rows already seen (:class:`_CumulativeOutflow`), not a pass over each window.

Per venue k (a **buy** rests on the bid, a sell on the ask):

* ``Q_k`` — the displayed size at our touch after the venue's last event at or before t;
* the outflow law of that queue over the router horizon T_r, fitted on the look-back window
  ``(t − lookback, t]`` (:func:`outflow_samples`, :mod:`~myopic_sor.routing._outflow`);
* the maker rebate ``r_k`` and taker fee from the configuration
  (:meth:`~myopic_sor.config.MyopicSorConfig.rebate_per_venue`, ``fee_per_venue``), the
  rebate optionally net of the venue's adverse selection (:func:`adverse_selection`).

Overall: the half-spread ``h`` of the consolidated (NBBO) book at t,
``h = max(0, (best ask − best bid) / 2)`` (a locked or crossed NBBO gives 0), and the taker fee
``f`` of the venue that would get the market order: the venue with the best opposite price at
t (lowest ask for a buy), ties to the lowest fee, then to the first name.

A venue is excluded — the reason logged (``logger.info``) and returned — when it has no event
at or before t, when our side of its book is empty at t, or when its look-back gives fewer
than ``min_samples`` outflow samples. When every venue is excluded the decision cannot be
routed: :class:`~myopic_sor.exceptions.DataValidationError` names the time and each reason.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.config import MyopicSorConfig
from myopic_sor.data import ACTION_TRADE, SIDE_ASK, SIDE_BID, MarketData, VenueData
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.features import ofi_buckets, queue_outflows
from myopic_sor.features._book import _level_sizes
from myopic_sor.features._flow import _outflow_events, _traded_events
from myopic_sor.routing._base import OutflowDistribution, RoutingProblem
from myopic_sor.routing._outflow import OFIConditionedOutflow, OutflowKind, fit_outflow

__all__ = [
    "OutflowSource",
    "RouterInputs",
    "RouterOutflowKind",
    "adverse_selection",
    "build_routing_problem",
    "outflow_rate",
    "outflow_samples",
    "outflow_samples_with_ofi",
    "router_inputs",
]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
_PRICE_TOL = 1e-9
OutflowSource = Literal["traded", "total"]
RouterOutflowKind = Literal["exponential", "kde", "empirical", "ofi"]


def _side(side: int | str) -> int:
    if isinstance(side, str):
        s = side.strip().lower()
        if s in ("buy", "b"):
            return 1
        if s in ("sell", "s"):
            return -1
    elif not isinstance(side, bool) and side in (1, -1):
        return int(side)
    raise ConfigError(f"side must be +1 / 'buy' or -1 / 'sell', got {side!r}")


def _positive_ns(name: str, value: int | float) -> int:
    if isinstance(value, bool) or not math.isfinite(float(value)) or value <= 0:
        raise ConfigError(f"{name} must be a positive number of nanoseconds, got {value!r}")
    return round(value)


def _when(t_ns: int, tz: str | None = None) -> str:
    stamp = pd.Timestamp(int(t_ns), unit="ns", tz="UTC")
    if tz:
        stamp = stamp.tz_convert(tz)
    return f"{stamp.isoformat()} (ts {int(t_ns)} ns)"


# --------------------------------------------------------------------------------------------
# outflow samples
# --------------------------------------------------------------------------------------------


def _stride_ns(horizon_ns: int, n_strides: int) -> tuple[int, int]:
    if isinstance(n_strides, bool) or int(n_strides) != n_strides or n_strides < 1:
        raise ConfigError(f"n_strides must be a whole number ≥ 1, got {n_strides!r}")
    stride = max(horizon_ns // int(n_strides), _NS)
    return stride, max(round(horizon_ns / stride), 1)


_FLOW_COLUMNS = (
    "ts_event",
    "action",
    "side",
    "price",
    "size",
    "bid_px_00",
    "ask_px_00",
    "bid_sz_00",
    "ask_sz_00",
)
_MemoryKey = tuple[tuple[int, tuple[int, ...], str], ...]


def _owner(a: np.ndarray) -> np.ndarray:
    """The array at the end of ``a``'s view chain: while it lives, so does ``a``'s memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class _Running:
    """Cumulative per-event outflow of one memory's first ``n`` rows, both touches."""

    __slots__ = ("ask", "bid", "broken", "n")

    def __init__(self) -> None:
        self.n = 0
        self.bid = np.zeros(1, dtype=np.int64)  # bid[i]: outflow of rows 0..i−1; grows
        self.ask = np.zeros(1, dtype=np.int64)
        self.broken = False  # unsorted rows: leave the venue to the windowed pass


class _CumulativeOutflow:
    """Per-event cumulative touch outflow of the venues' rows, shared by consecutive decisions.

    A backtest measures the look-back windows of the same venues at every decision, and the
    windows of t and t + 5 s overlap almost entirely. Each decision's venue data is a causal
    view (``between(None, t)``: the first k rows of the day's columns), so views of one day
    share their memory and only grow. Once a venue's memory is asked about a second time, the
    per-event outflow of the rows seen so far is summed into ``cum`` (``cum[i]`` = the outflow
    of rows ``0..i−1``) and extended with the new rows of each later view; a stride ``(a, b]``
    is then ``cum[searchsorted(ts, b, "right")] − cum[searchsorted(ts, a, "right")]``, two
    binary searches instead of a pass over the window.

    Causal: the rows read are those of the views handed in, below their length k (``ts_event
    ≤ t``); an event's outflow depends on its own row and the row before it only
    (:func:`~myopic_sor.features.queue_outflow_events`, the traded part of
    :func:`~myopic_sor.features.queue_outflows`), so ``cum[:k + 1]`` is the same whatever view
    extended it. Exact: whole shares summed in int64, as the per-window float64 sums of whole
    shares are exactly.

    Memory is identified by where each column read starts, its strides and dtype; an entry is
    dropped when the owner of any of those columns is freed, so its memory cannot be handed to
    other data meanwhile. The first request for a memory only records it (a one-off call keeps
    its O(look-back) cost). Like every reader of :class:`~myopic_sor.data.VenueData`, it
    assumes rows handed out are not rewritten (its columns are read-only views; the reactive
    market's recorder writes beyond the views only).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # extensions only; _forget (from the GC) takes none
        self._seen: set[_MemoryKey] = set()
        self._runs: dict[_MemoryKey, dict[str, _Running]] = {}

    def clear(self) -> None:
        """Drop every entry (a benchmark's cold start)."""
        self._seen.clear()
        self._runs.clear()

    def _forget(self, key: _MemoryKey) -> None:
        self._seen.discard(key)
        self._runs.pop(key, None)

    @staticmethod
    def _key(cols: Sequence[np.ndarray]) -> _MemoryKey:
        return tuple(
            (int(a.__array_interface__["data"][0]), tuple(a.strides), a.dtype.str) for a in cols
        )

    def rows(self, venue: VenueData, source: OutflowSource) -> int:
        """Rows of the venue's memory summed so far for ``source`` (0: none)."""
        run = self._runs.get(self._key([venue[c] for c in _FLOW_COLUMNS]), {}).get(source)
        return 0 if run is None or run.broken else run.n

    def get(
        self, venue: VenueData, k: int, source: OutflowSource, side: int
    ) -> Int64Array1D | None:
        """``cum`` of the venue's first ``k`` rows (length k + 1) at the side's touch, or None
        (the memory's first request, or unsorted rows)."""
        cols = [venue[c] for c in _FLOW_COLUMNS]
        key = self._key(cols)
        runs = self._runs.get(key)
        if runs is None:
            if key not in self._seen:
                self._seen.add(key)
                for a in cols:
                    weakref.finalize(_owner(a), self._forget, key)
                return None
            runs = self._runs.setdefault(key, {})
        with self._lock:
            run = runs.setdefault(source, _Running())
            if k > run.n and not run.broken:
                self._extend(run, venue, k, source)
            if run.broken:
                return None
            return (run.bid if side > 0 else run.ask)[: k + 1]

    @staticmethod
    def _extend(run: _Running, venue: VenueData, k: int, source: OutflowSource) -> None:
        n0 = run.n
        first = max(n0 - 1, 0)  # the row before the new ones gives them their previous book
        rows = slice(first, k)
        ts = venue.ts_event[rows]
        if ts.shape[0] > 1 and bool(np.any(ts[1:] < ts[:-1])):
            run.broken = True
            return
        bid, ask = venue.best_bid[rows], venue.best_ask[rows]
        per_event = (
            _traded_events(
                venue["action"][rows], venue["side"][rows], venue["price"][rows],
                venue["size"][rows], bid, ask,
            )
            if source == "traded"
            else _outflow_events(
                bid, _level_sizes(bid, venue["bid_sz_00"][rows]),
                ask, _level_sizes(ask, venue["ask_sz_00"][rows]),
                venue["action"][rows],
            )
        )  # fmt: skip
        grown = []
        for old, values in zip((run.bid, run.ask), per_event, strict=True):
            new = values[1:] if n0 else values  # the row before was counted already
            buf = old
            if buf.shape[0] < k + 1:  # amortised growth: double the capacity
                buf = np.empty(max(k + 1, 2 * old.shape[0]), dtype=np.int64)
                buf[: n0 + 1] = old[: n0 + 1]
            np.cumsum(new, out=buf[n0 + 1 : k + 1])
            buf[n0 + 1 : k + 1] += buf[n0]
            grown.append(buf)
        run.bid, run.ask = grown
        run.n = k


_CUMULATIVE = _CumulativeOutflow()


def _per_stride(
    venue: VenueData,
    t_ns: int,
    *,
    side: int,
    lookback_ns: int,
    stride_ns: int,
    source: OutflowSource,
    with_ofi: bool,
) -> tuple[Float64Array1D, Float64Array1D]:
    """Outflow (and level-1 OFI) of each stride ``(t − (n − i) s, t − (n − i − 1) s]``."""
    if source not in ("traded", "total"):
        raise ConfigError(f"outflow source {source!r}: use traded or total")
    ts = venue.ts_event
    k = int(np.searchsorted(ts, t_ns, side="right"))  # the causal view: rows [0, k)
    if k == 0:
        return np.zeros(0), np.zeros(0)
    # time before the venue's first event is no data, not "no outflow": it is not counted
    span = min(lookback_ns, t_ns - int(ts[0]))
    n_total = max(span, 0) // stride_ns
    if n_total == 0:
        return np.zeros(0), np.zeros(0)
    cum = None if with_ofi else _CUMULATIVE.get(venue, k, source, side)
    if cum is not None:
        # stride edges t − (n − i) s, i = 0..n, all ≤ t: rows [0, k) only
        edges = t_ns - stride_ns * np.arange(n_total, -1, -1, dtype=np.int64)
        per: Int64Array1D = np.diff(cum[np.searchsorted(ts[:k], edges, side="right")])
        return per.astype(np.float64), np.zeros(0)
    v = venue.take(slice(0, k))
    # buckets [g + i s, g + (i + 1) s) with g = t − n s + 1 are the intervals (…, …] ending at t
    grid = t_ns - n_total * stride_ns + 1
    lo = int(np.searchsorted(v.ts_event, grid, side="left"))
    # one row before the grid gives the first event in it its previous book state
    w = v.take(slice(max(lo - 1, 0), None))
    q = queue_outflows(w, stride_ns, start_ns=grid, end_ns=t_ns)
    if source == "total":
        raw = q.bid_outflow if side > 0 else q.ask_outflow
    else:
        raw = q.bid_traded if side > 0 else q.ask_traded
    out = np.asarray(raw, dtype=np.float64)
    if not with_ofi:
        return out, np.zeros(0)
    ofi = ofi_buckets(w, stride_ns, levels=1, start_ns=grid, end_ns=t_ns).per_level[:, 0]
    return out, np.ascontiguousarray(ofi, dtype=np.float64)


def outflow_samples(
    venue: VenueData,
    t_ns: int,
    *,
    side: int | str,
    lookback_ns: int,
    horizon_ns: int,
    n_strides: int = 20,
    source: OutflowSource = "traded",
) -> Float64Array1D:
    """Touch-queue outflow over windows of the router horizon within ``(t − lookback, t]``.

    Parameters
    ----------
    venue : VenueData
        One venue; only its events with ``ts_event ≤ t_ns`` are read.
    t_ns : int
        Decision time, UTC ns.
    side : +1/"buy" or −1/"sell"
        The order's side; the outflow is that of the queue it rests in (bid for a buy).
    lookback_ns, horizon_ns : int
        Look-back window and router horizon T_r, ns.
    n_strides : int, default 20
        Strides per horizon (see Notes).
    source : {"traded", "total"}, default "traded"
        ``"traded"`` counts the shares traded at our touch only (``bid_traded`` /
        ``ask_traded`` of :func:`~myopic_sor.features.queue_outflows`): what advances a
        resting order under the risk-averse queue model of the simulator (MATH.md §7), where
        cancellations may come from behind us. ``"total"`` adds every cancellation at the touch
        (Cont & Kukanov's outflow: right when cancellations are spread evenly over the queue);
        on a busy book it is an order of magnitude larger and makes limit orders look certain
        to fill.

    Returns
    -------
    numpy.ndarray
        float64 shares, one per window, oldest first; empty when the look-back holds no whole
        window.

    Notes
    -----
    The look-back (cut at the venue's first event: earlier time is no data) is divided into
    strides of ``s = max(horizon / n_strides, 1 s)``, each the interval ``(a, a + s]`` so the
    last one ends exactly at t. A sample is the outflow over ``m = round(horizon / s)``
    consecutive strides, and successive windows overlap by ``m − 1`` strides. Reason: the
    spec's 15-minute look-back holds only three disjoint 5-minute windows, too few to fit a
    law; overlapping windows use all the data at the price of correlated samples (the count is
    not an effective sample size). The first stride's first event is compared with the book
    just before the look-back, so no outflow is lost at the edge.
    """
    s = _side(side)
    look = _positive_ns("lookback_ns", lookback_ns)
    hor = _positive_ns("horizon_ns", horizon_ns)
    stride, m = _stride_ns(hor, n_strides)
    out, _ = _per_stride(
        venue, int(t_ns), side=s, lookback_ns=look, stride_ns=stride, source=source, with_ofi=False
    )
    if out.size < m:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(out)])
    windows: Float64Array1D = csum[m:] - csum[:-m]
    return windows


def outflow_samples_with_ofi(
    venue: VenueData,
    t_ns: int,
    *,
    side: int | str,
    lookback_ns: int,
    horizon_ns: int,
    ofi_window_ns: int = 60 * _NS,
    n_strides: int = 20,
    source: OutflowSource = "traded",
) -> tuple[Float64Array1D, Float64Array1D, float]:
    """Outflow windows with the order-flow imbalance just before each, and the OFI now.

    Parameters
    ----------
    venue, t_ns, side, lookback_ns, horizon_ns, n_strides, source
        As in :func:`outflow_samples`.
    ofi_window_ns : int, default 60 s
        Length of the interval whose OFI conditions a window (rounded to whole strides, ≥ 1).

    Returns
    -------
    (samples, ofi_before, current_ofi)
        Outflow per window (shares), the venue's level-1 OFI (CKS 2014, shares; MATH.md §6)
        over the ``ofi_window`` just before each window, and the OFI over ``(t − ofi_window,
        t]``. Windows whose preceding interval would start before the look-back are dropped,
        so every number comes from the look-back window.
    """
    s = _side(side)
    look = _positive_ns("lookback_ns", lookback_ns)
    hor = _positive_ns("horizon_ns", horizon_ns)
    ofi_ns = _positive_ns("ofi_window_ns", ofi_window_ns)
    stride, m = _stride_ns(hor, n_strides)
    k = max(round(ofi_ns / stride), 1)
    out, ofi = _per_stride(
        venue, int(t_ns), side=s, lookback_ns=look, stride_ns=stride, source=source, with_ofi=True
    )
    if out.size < m + k:
        return np.zeros(0), np.zeros(0), 0.0
    c_out = np.concatenate([[0.0], np.cumsum(out)])
    c_ofi = np.concatenate([[0.0], np.cumsum(ofi)])
    starts = np.arange(k, out.size - m + 1)  # first stride of each window
    samples = c_out[starts + m] - c_out[starts]
    before = c_ofi[starts] - c_ofi[starts - k]
    now = float(c_ofi[-1] - c_ofi[-1 - k])
    return samples, before, now


# --------------------------------------------------------------------------------------------
# adverse selection
# --------------------------------------------------------------------------------------------


def adverse_selection(
    venue: VenueData,
    t_ns: int,
    *,
    side: int | str,
    lookback_ns: int,
    horizon_ns: int = 5 * _NS,
) -> float:
    r"""Mean mid move against a resting order after fills at its touch (currency per share).

    Parameters
    ----------
    venue : VenueData
        One venue; only events with ``ts_event ≤ t_ns`` are read.
    t_ns : int
        Decision time, UTC ns.
    side : +1/"buy" or −1/"sell"
        Our order's side (a buy rests on the bid).
    lookback_ns : int
        Fills in ``[t − lookback, t − horizon]`` are used.
    horizon_ns : int, default 5 s
        Mark-out horizon δ, ns.

    Returns
    -------
    float
        ``a``, **positive when adverse** (the price moves against the resting side after it is
        filled); 0.0 without fills in the window.

    Notes
    -----
    The fills of a resting buy are the trades on this venue whose aggressor is a seller (or
    unknown) at the venue's best bid just before the trade (a sell mirrors it: buyer-initiated
    trades at the best ask). For fill i at time ``τ_i`` of ``q_i`` shares, with ``m⁻_i`` the
    venue's mid just before the trade and ``m⁺_i`` its mid after its last event at or before
    ``τ_i + δ``:

    .. math::

        a = −s\,\frac{\sum_i q_i\,(m^+_i − m^-_i)}{\sum_i q_i},

    the share-weighted mark-out (s = +1 buy, −1 sell). Only fills with ``τ_i + δ ≤ t`` enter,
    so every mark-out is known at t. The venue's own mid is used, the book the order rests in.
    A limit buy earns ``h + r_k`` against the mid when filled; if the mid then falls by ``a`` on
    average, the net is ``h + r_k − a``, hence :func:`build_routing_problem` subtracts
    ``max(a, 0)`` from ``r_k`` (a favourable mark-out is treated as noise, never a bonus).
    """
    s = _side(side)
    look = _positive_ns("lookback_ns", lookback_ns)
    delta = _positive_ns("horizon_ns", horizon_ns)
    t = int(t_ns)
    v = venue.between(None, t)
    ts = v.ts_event
    lo = int(np.searchsorted(ts, t - look, side="left"))
    hi = int(np.searchsorted(ts, t - delta, side="right"))
    lo = max(lo, 1)  # a fill needs the row before it (its pre-trade book)
    if hi <= lo:
        return 0.0
    idx = np.arange(lo, hi)
    touch = v.best_bid if s > 0 else v.best_ask
    aggressor = SIDE_ASK if s > 0 else SIDE_BID
    action, trade_side = v["action"][idx], v["side"][idx]
    price = np.asarray(v["price"][idx], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        at_touch = np.abs(price - touch[idx - 1]) <= _PRICE_TOL
    unknown = (trade_side != SIDE_ASK) & (trade_side != SIDE_BID)
    fills = idx[(action == ACTION_TRADE) & ((trade_side == aggressor) | unknown) & at_touch]
    if fills.size == 0:
        return 0.0
    mid = v.mid_price
    after = np.searchsorted(ts, ts[fills] + delta, side="right") - 1
    move = mid[after] - mid[fills - 1]
    size = np.asarray(v["size"][fills], dtype=np.float64)
    ok = np.isfinite(move) & (size > 0)
    if not ok.any():
        return 0.0
    return float(-s * np.sum(size[ok] * move[ok]) / np.sum(size[ok]))


# --------------------------------------------------------------------------------------------
# the problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouterInputs:
    """Everything the router needs at one decision time, and how it was measured.

    Attributes
    ----------
    t_ns : int
        Decision time, UTC ns (only data with ``ts_event ≤ t_ns`` was read).
    side : int
        +1 buy, −1 sell.
    problem : RoutingProblem
        Over the included venues (``problem.venues``).
    outflows : tuple of OutflowDistribution
        One law per included venue, same order.
    excluded : Mapping[str, str]
        Venue → reason, for the venues left out.
    market_venue : str
        The venue that would get the market order (its fee is ``problem.fee``).
    best_bid, best_ask : float
        Consolidated (NBBO) touch at t, currency per share.
    n_samples : Mapping[str, int]
        Outflow samples behind each included venue's law.
    adverse : Mapping[str, float]
        :func:`adverse_selection` estimate per included venue (currency per share, positive
        adverse) when enabled, else empty; ``max(a, 0)`` was subtracted from its rebate.
    lookback_ns, horizon_ns : int
        Look-back window and router horizon used, ns.
    """

    t_ns: int
    side: int
    problem: RoutingProblem
    outflows: tuple[OutflowDistribution, ...]
    excluded: Mapping[str, str]
    market_venue: str
    best_bid: float
    best_ask: float
    n_samples: Mapping[str, int]
    adverse: Mapping[str, float] = field(default_factory=dict)
    lookback_ns: int = 0
    horizon_ns: int = 0

    @property
    def queue_depth(self) -> float:
        """Σ_k Q_k, shares ahead of us over the included venues."""
        return float(self.problem.queues.sum())

    @property
    def outflow_rate(self) -> float:
        """Σ_k E ξ_k per minute, shares per minute (the flow at our touch, all venues)."""
        return outflow_rate(self.outflows, self.horizon_ns)

    def as_tuple(self) -> tuple[RoutingProblem, list[OutflowDistribution], dict[str, str]]:
        """``(problem, outflows, excluded)`` as :func:`build_routing_problem` returns them."""
        return self.problem, list(self.outflows), dict(self.excluded)


def outflow_rate(outflows: Sequence[OutflowDistribution], horizon_ns: int) -> float:
    """Σ_k E ξ_k scaled to one minute: shares per minute leaving our touch on all venues.

    With the default ``outflow_source="traded"`` it is the volume traded at our touch per
    minute over the look-back (the lookup table's volume axis).
    """
    hor = _positive_ns("horizon_ns", horizon_ns)
    return float(sum(o.mean for o in outflows)) * 60.0 * _NS / hor


def _last_rows(md: MarketData, names: Sequence[str], t_ns: int) -> dict[str, int]:
    """Each venue's last row at or before t (−1: none); rows are read by index, not copied."""
    return {name: int(np.searchsorted(md[name].ts_event, t_ns, side="right")) - 1 for name in names}


def _best_price(prices: Sequence[float], *, highest: bool) -> float:
    """The consolidated touch of the venues' last quotes (NaN: an empty side, skipped), as
    :func:`~myopic_sor.features.consolidated_book` computes it for its last row."""
    quoted = [p for p in prices if not math.isnan(p)]
    if not quoted:
        return math.nan
    return max(quoted) if highest else min(quoted)


def router_inputs(
    market_data: MarketData,
    t_ns: int,
    size: float,
    side: int | str,
    *,
    config: MyopicSorConfig | None = None,
    lookback_ns: int | None = None,
    horizon_ns: int | None = None,
    outflow_kind: RouterOutflowKind = "empirical",
    outflow_source: OutflowSource = "traded",
    n_strides: int = 20,
    min_samples: int = 5,
    adverse: bool = False,
    adverse_horizon_ns: int = 5 * _NS,
    ofi_window_ns: int = 60 * _NS,
    theta: float | None = None,
    lambda_u: float | None = None,
    lambda_o: float | None = None,
    fees: Mapping[str, float] | None = None,
    rebates: Mapping[str, float] | None = None,
    venues: Sequence[str] | None = None,
) -> RouterInputs:
    """Measure the routing problem of a child of ``size`` shares at time ``t_ns``.

    Parameters
    ----------
    market_data : MarketData
        The day; only events with ``ts_event ≤ t_ns`` are read.
    t_ns : int
        Decision time, UTC ns.
    size : float
        Child size S, shares (> 0).
    side : +1/"buy" or −1/"sell"
    config : MyopicSorConfig, optional
        Source of θ, λ_u, λ_o (``strategy``), the fees and rebates per venue, and the default
        windows (``execution.lookup_duration`` and ``strategy.T``); default the spec's values
        (``MyopicSorConfig()``).
    lookback_ns, horizon_ns : int, optional
        Look-back window and router horizon T_r, ns (defaults from ``config``).
    outflow_kind : {"empirical", "exponential", "kde", "ofi"}, default "empirical"
        The law of ξ (:func:`~myopic_sor.routing.fit_outflow`); ``"ofi"`` is the
        :class:`~myopic_sor.routing.OFIConditionedOutflow` on the venue's level-1 OFI over
        ``ofi_window_ns`` (:func:`outflow_samples_with_ofi`).
    outflow_source : {"traded", "total"}, default "traded"
        What counts as outflow (:func:`outflow_samples`).
    n_strides : int, default 20
        Strides per horizon of the overlapping outflow windows.
    min_samples : int, default 5
        Fewer outflow samples exclude the venue.
    adverse : bool, default False
        Subtract ``max(a_k, 0)`` (:func:`adverse_selection`, mark-out ``adverse_horizon_ns``)
        from each venue's rebate.
    adverse_horizon_ns, ofi_window_ns : int
        Mark-out horizon and OFI interval, ns.
    theta, lambda_u, lambda_o : float, optional
        Override the config's θ, λ_u, λ_o (currency per share).
    fees, rebates : Mapping[str, float], optional
        Override the config's taker fee / maker rebate of the named venues (currency per
        share); venues not named keep the config's value.
    venues : sequence of str, optional
        Venues to consider (default every venue of ``market_data``).

    Returns
    -------
    RouterInputs

    Raises
    ------
    ConfigError
        A bad side, window, kind, or an unknown venue name.
    DataValidationError
        Every venue excluded, or no venue quotes the side a market order would take (the
        message names t and the reasons).
    """
    s = _side(side)
    t = int(t_ns)
    cfg = config if config is not None else MyopicSorConfig()
    st = cfg.strategy
    look = _positive_ns(
        "lookback_ns",
        round(cfg.execution.lookup_duration_s * _NS) if lookback_ns is None else lookback_ns,
    )
    hor = _positive_ns(
        "horizon_ns", round(st.horizon_s * _NS) if horizon_ns is None else horizon_ns
    )
    if outflow_kind not in ("exponential", "kde", "empirical", "ofi"):
        raise ConfigError(f"outflow_kind {outflow_kind!r}: use empirical, exponential, kde or ofi")
    if isinstance(min_samples, bool) or int(min_samples) != min_samples or min_samples < 1:
        raise ConfigError(f"min_samples must be a whole number ≥ 1, got {min_samples!r}")
    names = list(venues) if venues is not None else list(market_data.venue_names)
    if not names:
        raise ConfigError("venues is empty: give at least one venue to route to")
    unknown = [n for n in names if n not in market_data.venues]
    if unknown:
        raise ConfigError(
            f"unknown venue(s) {', '.join(unknown)}; the data has "
            f"{', '.join(market_data.venue_names)}"
        )
    fee_of = dict(zip(names, cfg.fee_per_venue(names), strict=True))
    rebate_of = dict(zip(names, cfg.rebate_per_venue(names), strict=True))
    for label, over, target in (("fees", fees, fee_of), ("rebates", rebates, rebate_of)):
        for name, value in (over or {}).items():
            if name not in target or not math.isfinite(float(value)):
                raise ConfigError(f"{label}[{name!r}]={value!r}: name a routed venue, finite value")
            target[name] = float(value)

    last = _last_rows(market_data, names, t)
    rest_col, rest_side = ("bid", "bid") if s > 0 else ("ask", "ask")
    excluded: dict[str, str] = {}
    kept: list[str] = []
    queues: list[float] = []
    laws: list[OutflowDistribution] = []
    n_samples: dict[str, int] = {}
    adj: dict[str, float] = {}
    for name in names:
        venue, row = market_data[name], last[name]
        if row < 0:
            excluded[name] = "no event at or before t"
            continue
        px = float(venue[f"{rest_col}_px_00"][row])
        qty = int(venue[f"{rest_col}_sz_00"][row])
        if not math.isfinite(px) or qty <= 0:
            excluded[name] = (
                f"empty {rest_side} side at t (a {'buy' if s > 0 else 'sell'} rests there)"
            )
            continue
        law: OutflowDistribution
        if outflow_kind == "ofi":
            xs, ofi, now = outflow_samples_with_ofi(
                venue,
                t,
                side=s,
                lookback_ns=look,
                horizon_ns=hor,
                ofi_window_ns=ofi_window_ns,
                n_strides=n_strides,
                source=outflow_source,
            )
        else:
            xs = outflow_samples(
                venue,
                t,
                side=s,
                lookback_ns=look,
                horizon_ns=hor,
                n_strides=n_strides,
                source=outflow_source,
            )
        if xs.size < min_samples:
            excluded[name] = (
                f"{xs.size} outflow sample(s) in the look-back of {look / _NS:g} s for a horizon "
                f"of {hor / _NS:g} s (< min_samples={min_samples})"
            )
            continue
        if outflow_kind == "ofi":
            law = OFIConditionedOutflow(xs, ofi, now)
        else:
            kind: OutflowKind = outflow_kind
            law = fit_outflow(xs, kind)
        kept.append(name)
        queues.append(float(qty))
        laws.append(law)
        n_samples[name] = int(xs.size)
        if adverse:
            adj[name] = adverse_selection(
                venue, t, side=s, lookback_ns=look, horizon_ns=adverse_horizon_ns
            )
    when = _when(t, market_data.timezone) if excluded else ""  # formatted only when needed
    for name, why in excluded.items():
        logger.info("router at %s: venue %s excluded: %s", when, name, why)
    if not kept:
        detail = "; ".join(f"{k}: {w}" for k, w in excluded.items())
        msg = (
            f"no venue can be routed to at {when}: {detail}. Move the decision later, lengthen "
            "the look-back or lower min_samples"
        )
        raise DataValidationError(msg)

    # the NBBO at t from each venue's last quote (venue-name order, as consolidated_book)
    quoting = {n: last[n] for n in sorted(last) if last[n] >= 0}
    best_bid = _best_price(
        [float(market_data[n].best_bid[i]) for n, i in quoting.items()], highest=True
    )
    best_ask = _best_price(
        [float(market_data[n].best_ask[i]) for n, i in quoting.items()], highest=False
    )
    take_col = "ask" if s > 0 else "bid"
    opposite: dict[str, float] = {}
    for n, i in quoting.items():
        v = market_data[n]
        p = float(v[f"{take_col}_px_00"][i])
        if math.isfinite(p) and int(v[f"{take_col}_sz_00"][i]) > 0:
            opposite[n] = p
    if not opposite or not (math.isfinite(best_bid) and math.isfinite(best_ask)):
        when = _when(t, market_data.timezone)
        msg = (
            f"no venue quotes the {take_col} side at {when}: a market order for the "
            f"{'buy' if s > 0 else 'sell'} has nothing to take and the half-spread is undefined"
        )
        raise DataValidationError(msg)
    best_opp = best_ask if s > 0 else best_bid
    at_best = [n for n in names if n in opposite and abs(opposite[n] - best_opp) <= _PRICE_TOL]
    if not at_best:  # the NBBO's best side is a venue with a zero size: take the best listed
        best_opp = min(opposite.values()) if s > 0 else max(opposite.values())
        at_best = [n for n in names if n in opposite and abs(opposite[n] - best_opp) <= _PRICE_TOL]
    market_venue = min(at_best, key=lambda n: (fee_of[n], names.index(n)))
    problem = RoutingProblem(
        size=float(size),
        half_spread=max(0.5 * (best_ask - best_bid), 0.0),
        fee=fee_of[market_venue],
        rebates=np.array([rebate_of[n] - max(adj.get(n, 0.0), 0.0) for n in kept]),
        queues=np.array(queues),
        theta=st.theta if theta is None else theta,
        lambda_u=st.lambda_u if lambda_u is None else lambda_u,
        lambda_o=st.lambda_o if lambda_o is None else lambda_o,
        venues=tuple(kept),
    )
    return RouterInputs(
        t_ns=t,
        side=s,
        problem=problem,
        outflows=tuple(laws),
        excluded=MappingProxyType(excluded),
        market_venue=market_venue,
        best_bid=best_bid,
        best_ask=best_ask,
        n_samples=MappingProxyType(n_samples),
        adverse=MappingProxyType(adj),
        lookback_ns=look,
        horizon_ns=hor,
    )


def build_routing_problem(
    market_data: MarketData,
    t_ns: int,
    size: float,
    side: int | str,
    *,
    config: MyopicSorConfig | None = None,
    lookback_ns: int | None = None,
    horizon_ns: int | None = None,
    outflow_kind: RouterOutflowKind = "empirical",
    outflow_source: OutflowSource = "traded",
    n_strides: int = 20,
    min_samples: int = 5,
    adverse: bool = False,
    adverse_horizon_ns: int = 5 * _NS,
    ofi_window_ns: int = 60 * _NS,
    theta: float | None = None,
    lambda_u: float | None = None,
    lambda_o: float | None = None,
    fees: Mapping[str, float] | None = None,
    rebates: Mapping[str, float] | None = None,
    venues: Sequence[str] | None = None,
) -> tuple[RoutingProblem, list[OutflowDistribution], dict[str, str]]:
    """Build the routing problem of a child at ``t_ns`` from data up to ``t_ns`` only.

    The parameters are those of :func:`router_inputs`.

    Returns
    -------
    (RoutingProblem, list of OutflowDistribution, dict)
        The problem over the included venues, their outflow laws (same order) and
        ``{venue: reason}`` for the excluded ones. ``problem.fee`` is the taker fee of the
        venue with the best opposite price (ties: lowest fee, then first name).

    Raises
    ------
    DataValidationError
        Every venue excluded (the message names t and each reason).

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import generate_market_data
    >>> md, _ = generate_market_data(seed=1, session_end=dt.time(9, 45))
    >>> t = md.first_ts + 10 * 60 * 10**9
    >>> problem, laws, excluded = build_routing_problem(
    ...     md, t, 300, "buy", lookback_ns=5 * 60 * 10**9, horizon_ns=60 * 10**9
    ... )
    >>> problem.venues, excluded
    (('ARCX', 'BATS', 'XNAS'), {})
    """
    return router_inputs(
        market_data,
        t_ns,
        size,
        side,
        config=config,
        lookback_ns=lookback_ns,
        horizon_ns=horizon_ns,
        outflow_kind=outflow_kind,
        outflow_source=outflow_source,
        n_strides=n_strides,
        min_samples=min_samples,
        adverse=adverse,
        adverse_horizon_ns=adverse_horizon_ns,
        ofi_window_ns=ofi_window_ns,
        theta=theta,
        lambda_u=lambda_u,
        lambda_o=lambda_o,
        fees=fees,
        rebates=rebates,
        venues=venues,
    ).as_tuple()
