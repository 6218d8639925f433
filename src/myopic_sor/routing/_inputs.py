"""The router's inputs at decision time t, from data up to t only.

Per venue: the queue ahead ``Q_k`` (displayed size at our touch: the bid for a buy, the ask for
a sell, at the venue's last event at or before t), the outflow law of that queue over the
router horizon (fitted on the look-back window ``[t − lookback, t]``), the maker rebate
(optionally net of an adverse-selection estimate) and the taker fee; overall the half-spread
of the consolidated book at t and the taker fee of the venue that would get the market order.

A venue is excluded — with the reason logged and returned — when it has no event at or before
t, when our side of its book is empty at t, or when its look-back window gives fewer than
``min_samples`` outflow samples. When every venue is excluded the decision cannot be routed:
:class:`~myopic_sor.exceptions.DataValidationError` names the time and each venue's reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D
from myopic_sor.config import MyopicSorConfig
from myopic_sor.data import MarketData, VenueData
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.features import queue_outflows
from myopic_sor.routing._base import OutflowDistribution, RoutingProblem
from myopic_sor.routing._outflow import OutflowKind, fit_outflow

__all__ = ["adverse_selection", "build_routing_problem", "outflow_samples"]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
OutflowSource = Literal["traded", "total"]
_ACTION_TRADE = ord("T")
_SIDE_ASK = ord("A")
_SIDE_BID = ord("B")


def outflow_samples(
    venue: VenueData,
    t_ns: int,
    *,
    side: int,
    lookback_ns: int,
    horizon_ns: int,
    n_strides: int = 20,
    source: OutflowSource = "traded",
) -> Float64Array1D:
    """Touch-queue outflow over windows of the router horizon within ``[t − lookback, t]``.

    ``source="traded"`` (default) counts the shares traded at our touch only: what advances a
    resting order under the risk-averse queue model, where cancellations may come from behind
    us. ``"total"`` adds every cancellation at the touch (Cont & Kukanov's outflow, right when
    cancellations are spread evenly over the queue and we sit at its back only briefly); on a
    busy book it is an order of magnitude larger and makes limit orders look certain to fill.

    The look-back is cut into strides of ``horizon / n_strides`` (at least 1 s); a sample is
    the outflow summed over ``n_strides`` consecutive strides, so the windows overlap by all
    but one stride (reason: a 15-minute look-back holds only three disjoint 5-minute windows;
    overlapping ones use all the data, at the cost of correlated samples). When the look-back
    is shorter than the horizon, each sample is the whole look-back's outflow scaled by
    ``horizon / lookback`` (one sample). The look-back starts no earlier than the venue's
    first event. The side is the one we rest on: bid for a buy.
    """
    stride = max(horizon_ns // n_strides, _NS)
    m = max(round(horizon_ns / stride), 1)
    if len(venue) == 0:
        return np.zeros(0)
    # time before the venue's first event is not "no outflow", it is no data: not counted
    span = min(lookback_ns, t_ns - int(venue.ts_event[0]))
    n_total = int(max(span, 0) // stride)
    if n_total == 0:
        return np.zeros(0)
    start = t_ns - n_total * stride
    q = queue_outflows(venue.between(start, t_ns), stride, start_ns=start, end_ns=t_ns)
    if source == "total":
        raw = q.bid_outflow if side > 0 else q.ask_outflow
    elif source == "traded":
        raw = q.bid_traded if side > 0 else q.ask_traded
    else:
        raise ConfigError(f"outflow source {source!r}: use traded or total")
    out = np.asarray(raw, dtype=np.float64)[:n_total]
    if out.size < m:
        return np.array([out.sum() * m / max(out.size, 1)])
    csum = np.concatenate([[0.0], np.cumsum(out)])
    windows: Float64Array1D = csum[m:] - csum[:-m]
    return windows


def adverse_selection(
    venue: VenueData, t_ns: int, *, side: int, lookback_ns: int, horizon_ns: int = 5 * _NS
) -> float:
    """Mean mid move against a resting order after fills at its touch (currency per share).

    For a buy (resting on the bid) the fills are seller-initiated trades at the best bid of
    the venue; the move is ``mid(t_fill + horizon) − mid(t_fill)`` and adverse when negative
    (the price falls after we bought). Returns ``max(0, −s · mean move)`` over the fills of
    ``[t − lookback, t − horizon]`` (so every mark-out ends by t: no look-ahead); 0 without
    fills.
    """
    lo, hi = t_ns - lookback_ns, t_ns - horizon_ns
    if hi <= lo:
        return 0.0
    v = venue.between(lo, t_ns)
    ts = v.ts_event
    bid, ask = v.best_bid, v.best_ask
    mid = 0.5 * (bid + ask)
    resting_touch = bid if side > 0 else ask
    aggressor = _SIDE_ASK if side > 0 else _SIDE_BID
    before = np.concatenate([[np.nan], resting_touch[:-1]])  # the touch just before each row
    fills = (
        (v["action"] == _ACTION_TRADE)
        & (v["side"] == aggressor)
        & (ts <= hi)
        & np.isclose(v["price"], before)
    )
    idx = np.flatnonzero(fills)
    if idx.size == 0:
        return 0.0
    after = np.searchsorted(ts, ts[idx] + horizon_ns, side="right") - 1
    move = mid[after] - mid[np.maximum(idx - 1, 0)]
    ok = np.isfinite(move)
    if not ok.any():
        return 0.0
    return max(0.0, -side * float(np.mean(move[ok])))


def build_routing_problem(
    market_data: MarketData,
    t_ns: int,
    size: float,
    side: int,
    *,
    config: MyopicSorConfig,
    lookback_ns: int | None = None,
    horizon_ns: int | None = None,
    outflow_kind: OutflowKind = "empirical",
    outflow_source: OutflowSource = "traded",
    adverse: bool = False,
    min_samples: int = 5,
    venues: Sequence[str] | None = None,
) -> tuple[RoutingProblem, list[OutflowDistribution], dict[str, str]]:
    """Build the routing problem of a child of ``size`` shares at time ``t_ns``.

    Parameters
    ----------
    market_data : MarketData
        The day; only events with ``ts_event <= t_ns`` are read.
    t_ns : int
        Decision time, UTC ns.
    size : float
        Child size, shares (> 0).
    side : int
        +1 buy, −1 sell.
    config : MyopicSorConfig
        ``strategy`` (θ, λ_u, λ_o), venue fees and rebates, ``execution.lookup_duration`` and
        ``strategy.T`` (defaults of the two windows).
    lookback_ns, horizon_ns : int, optional
        Look-back window and router horizon, ns.
    outflow_kind : {"empirical", "exponential", "kde"}
    outflow_source : {"traded", "total"}, default "traded"
        What counts as outflow (:func:`outflow_samples`).
    adverse : bool, default False
        Subtract :func:`adverse_selection` from each venue's rebate.
    min_samples : int, default 5
        Fewer outflow samples exclude the venue.
    venues : sequence of str, optional
        Venues to consider (default all of ``market_data``).

    Returns
    -------
    (RoutingProblem, list of OutflowDistribution, dict)
        The problem over the included venues, their laws (same order) and ``{venue: reason}``
        for the excluded ones. ``problem.venues`` are the included names; ``problem.fee`` is
        the taker fee of the venue with the best opposite price (ties: the lowest fee).

    Raises
    ------
    DataValidationError
        Every venue excluded (the message names t and each reason).
    """
    if side not in (1, -1):
        raise ConfigError(f"side must be +1 (buy) or -1 (sell), got {side!r}")
    st = config.strategy
    look = round(config.execution.lookup_duration_s * _NS) if lookback_ns is None else lookback_ns
    hor = round(st.horizon_s * _NS) if horizon_ns is None else horizon_ns
    names = list(venues) if venues is not None else list(market_data.venue_names)
    fees = dict(zip(names, config.fee_per_venue(names), strict=True))
    rebates = dict(zip(names, config.rebate_per_venue(names), strict=True))
    excluded: dict[str, str] = {}
    queues: list[float] = []
    laws: list[OutflowDistribution] = []
    kept: list[str] = []
    best_bid, best_ask = -math.inf, math.inf
    opposite: dict[str, float] = {}
    adj: dict[str, float] = {}
    stamp = pd.Timestamp(t_ns, tz="UTC")
    for name in names:
        v = market_data[name].between(None, t_ns)
        if len(v) == 0:
            excluded[name] = "no event at or before t"
            continue
        bid = float(v["bid_px_00"][-1])
        ask = float(v["ask_px_00"][-1])
        if math.isfinite(bid):
            best_bid = max(best_bid, bid)
        if math.isfinite(ask):
            best_ask = min(best_ask, ask)
        ours_px, ours_sz = (bid, v["bid_sz_00"][-1]) if side > 0 else (ask, v["ask_sz_00"][-1])
        opp = ask if side > 0 else bid
        if math.isfinite(opp):
            opposite[name] = opp
        if not math.isfinite(ours_px) or int(ours_sz) <= 0:
            excluded[name] = f"empty {'bid' if side > 0 else 'ask'} side at t"
            continue
        samples = outflow_samples(
            v, t_ns, side=side, lookback_ns=look, horizon_ns=hor, source=outflow_source
        )
        if samples.size < min_samples:
            excluded[name] = f"{samples.size} outflow samples in the look-back (< {min_samples})"
            continue
        kept.append(name)
        queues.append(float(ours_sz))
        laws.append(fit_outflow(samples, outflow_kind))
        adj[name] = adverse_selection(v, t_ns, side=side, lookback_ns=look) if adverse else 0.0
    for name, why in excluded.items():
        logger.info("router at %s: venue %s excluded (%s)", stamp, name, why)
    if not kept:
        detail = "; ".join(f"{k}: {w}" for k, w in excluded.items())
        msg = f"no venue can be routed to at {stamp}: {detail}"
        raise DataValidationError(msg)
    if not opposite:
        msg = (
            f"no venue shows a {'sell' if side > 0 else 'buy'} side at {stamp}: a market order "
            "has nothing to take"
        )
        raise DataValidationError(msg)
    best_opp = min(opposite.values()) if side > 0 else max(opposite.values())
    at_best = [n for n, p in opposite.items() if p == best_opp]
    market_venue = min(at_best, key=lambda n: fees[n])
    half = 0.5 * (best_ask - best_bid) if math.isfinite(best_ask - best_bid) else 0.0
    problem = RoutingProblem(
        size=float(size),
        half_spread=max(half, 0.0),
        fee=fees[market_venue],
        rebates=np.array([rebates[n] - adj[n] for n in kept]),
        queues=np.array(queues),
        theta=st.theta,
        lambda_u=st.lambda_u,
        lambda_o=st.lambda_o,
        venues=tuple(kept),
    )
    return problem, laws, excluded
