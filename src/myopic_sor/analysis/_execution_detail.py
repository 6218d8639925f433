"""Execution detail metrics (MATH.md §8): child orders, modelled and realised impact, decision
efficiency and cost volatility across runs.

Pure functions over a backtest's plain outputs: the fills frame, the list of decision dicts,
the NBBO mid path and the OW parameters. Conventions as in :mod:`._metrics`: ``s = +1`` buy,
``−1`` sell; prices in currency per share; times int64 UTC ns; every cost is signed so that
lower is better for both sides; every price move is side-signed, ``s · Δmid``: positive when
the price moved in the direction of our trades (up for a buyer), which is good in a mark-out
(no adverse selection) and a cost in an impact figure.

The engine's objects, as read here:

* ``fills``: one row per fill with ``ts_event``, ``price``, ``size`` (shares > 0),
  ``liquidity`` (``"maker"``: one of our resting limit orders filled; ``"taker"``: a market
  order, including a child's shortfall sent at market when its router horizon ran out) and
  ``child`` (index into ``decisions`` of the decision that sent the order; −1 for the
  end-of-window catch-up).
* ``decisions``: one dict per evaluation with ``ts_ns`` and ``quantity`` (signed shares the
  strategy sent); when the engine placed orders, also ``routed`` (shares placed),
  ``market`` (shares sent at market) and ``limit`` (shares posted per venue at the touch, after
  the engine's cap at the parent's room); the myopic scheduler adds ``planned_quantity``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from myopic_sor.exceptions import DataValidationError
from myopic_sor.impact import ImpactParams, expected_cost, impact_path

__all__ = [
    "child_order_metrics",
    "child_summary",
    "cost_volatility",
    "decision_efficiency",
    "detail_metrics",
    "modelled_impact",
    "modelled_impact_path",
    "realised_impact",
]

_NS = 1_000_000_000
_BPS = 1e4
_NAN = float("nan")

_CHILD_COLUMNS = (
    "child",
    "ts_ns",
    "quantity",
    "routed",
    "market",
    "limit",
    "filled",
    "filled_passive",
    "filled_aggressive",
    "filled_horizon_market",
    "fill_ratio",
    "time_in_queue_mean_s",
    "time_in_queue_max_s",
    "time_resting_mean_s",
    "avg_price",
)


# -- helpers ------------------------------------------------------------------------------------
def _check_side(side: int) -> int:
    if side not in (1, -1):
        raise ValueError(f"side must be +1 or -1, got {side!r}")
    return int(side)


def _require(fills: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in fills.columns]
    if missing:
        msg = (
            f"fills frame is missing column(s) {missing} (columns: {list(fills.columns)}); "
            f"{what} needs {list(columns)} (a BacktestResult's fills have them)"
        )
        raise DataValidationError(msg)


def _col(fills: pd.DataFrame, name: str, dtype: type) -> np.ndarray:
    if not len(fills):
        return np.zeros(0, dtype=dtype)
    return np.asarray(fills[name].to_numpy(dtype=dtype))


def _mid_lookup(mid_ts_ns: np.ndarray, mid: np.ndarray) -> Any:
    """``f(t)``: the last finite mid at or before each ``t`` (NaN before the first one)."""
    ts = np.asarray(mid_ts_ns, dtype=np.int64)
    px = np.asarray(mid, dtype=np.float64)
    if ts.shape != px.shape:
        msg = f"mid_ts_ns has {ts.shape[0]} values but mid has {px.shape[0]}; pass aligned arrays"
        raise DataValidationError(msg)
    ok = np.isfinite(px)
    mts, mpx = ts[ok], px[ok]

    def at(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        k = np.searchsorted(mts, t, side="right") - 1
        out = np.full(t.shape, np.nan)
        out[k >= 0] = mpx[k[k >= 0]]
        return out

    return at


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    good = np.isfinite(x) & (w > 0)
    tot = float(w[good].sum())
    return float(np.sum(x[good] * w[good]) / tot) if tot > 0 else _NAN


# -- 1. child orders ---------------------------------------------------------------------------
def child_order_metrics(
    fills: pd.DataFrame,
    decisions: Sequence[Mapping[str, Any]],
    *,
    side: int,
    mid_ts_ns: np.ndarray,
    mid: np.ndarray,
    horizons_s: Sequence[float] = (1, 10, 60),
    horizon_s: float | None = None,
    t_end_ns: int | None = None,
) -> pd.DataFrame:
    """One row per child order: its split, fills, limit fill ratio, time in queue, mark-outs.

    A *child order* is a decision at which the engine placed orders (``routed > 0``); its fills
    are the rows of ``fills`` with ``child`` equal to the decision's index. The end-of-window
    catch-up (``child == −1``) belongs to no child.

    Parameters
    ----------
    fills : pandas.DataFrame
        ``ts_event``, ``price``, ``size``, ``liquidity``, ``child`` (and ``horizon_market``,
        optional).
    decisions : sequence of dict
        The engine's decision records (``ts_ns``, ``quantity``, ``routed``, ``market``,
        ``limit``).
    side : int
        +1 buy, −1 sell.
    mid_ts_ns, mid : numpy.ndarray
        The consolidated mid (NaN where one-sided) and its sorted times.
    horizons_s : sequence of float
        Mark-out horizons, seconds.
    horizon_s : float, optional
        The router horizon: a child's unfilled limit orders are cancelled at
        ``min(ts_ns + horizon_s, t_end_ns)`` (the engine's rule). With ``t_end_ns`` it gives
        ``time_resting_mean_s``; without, that column is NaN.
    t_end_ns : int, optional
        End of the parent's window.

    Returns
    -------
    pandas.DataFrame
        One row per child, columns:

        * ``child`` (decision index), ``ts_ns`` (decision time, when its orders were sent),
          ``quantity`` (signed shares the strategy sent at that decision), ``routed`` (shares
          placed: the strategy's child plus any carried-over shares), ``market`` (shares sent
          at market), ``limit`` (shares posted as limit orders, Σ over venues).
        * ``filled`` (shares), ``filled_passive`` (maker fills: our limit orders),
          ``filled_aggressive`` (taker fills: the market part and the shortfall sent at market
          at the router horizon), ``filled_horizon_market`` (that shortfall alone, a part of
          ``filled_aggressive``).
        * ``fill_ratio`` = ``filled_passive / limit`` (NaN when nothing was posted).
        * ``time_in_queue_mean_s`` and ``time_in_queue_max_s``: over the child's passive fills,
          ``ts_event − ts_ns`` in seconds, share-weighted mean and max (fills only; NaN without
          a passive fill).
        * ``time_resting_mean_s``: share-weighted mean over **all** posted shares, the filled
          ones to their fill time and the unfilled ``limit − filled_passive`` ones to their
          cancel time ``min(ts_ns + horizon_s, t_end_ns)``.
        * ``avg_price``: ``Σ p q / Σ q`` over the child's fills (fees excluded; NaN unfilled).
        * ``markout_<h>s`` for each ``h`` in ``horizons_s``: share-weighted
          ``s (mid(t_i + h) − mid(t_i))`` over the child's fills, currency per share; positive
          when the mid moved our way after the fills (a buy followed by a rise).

    Notes
    -----
    ``limit`` is the engine's record of what it posted; a venue without a touch on our side
    has its share swept at market instead, which this count cannot see (then ``fill_ratio``
    understates). The post time is the decision time: with entry latency, the order reached
    the venue ``latency`` later, which the queue time includes.
    """
    s = _check_side(side)
    _require(fills, ("ts_event", "price", "size", "liquidity", "child"), "child_order_metrics")
    mid_at = _mid_lookup(mid_ts_ns, mid)
    ts = _col(fills, "ts_event", np.int64)
    px = _col(fills, "price", np.float64)
    sz = _col(fills, "size", np.float64)
    child = _col(fills, "child", np.int64)
    maker = (
        (fills["liquidity"].astype(str) == "maker").to_numpy() if len(fills) else np.zeros(0, bool)
    )
    horizon_mkt = (
        _col(fills, "horizon_market", bool)
        if "horizon_market" in fills.columns
        else np.zeros(ts.shape, bool)
    )
    bad = np.flatnonzero((child < -1) | (child >= len(decisions)))
    if bad.size:
        i = int(bad[0])
        msg = (
            f"fills row {i} has child={int(child[i])} but there are {len(decisions)} decisions; "
            "pass the fills and decisions of the same run"
        )
        raise DataValidationError(msg)
    move = {h: s * (mid_at(ts + round(float(h) * _NS)) - mid_at(ts)) for h in horizons_s}
    rows: list[dict[str, Any]] = []
    for k, d in enumerate(decisions):
        if int(d.get("routed", 0) or 0) <= 0:
            continue
        t_post = int(d["ts_ns"])
        mine = child == k
        pas = mine & maker
        posted = float(sum(int(v) for v in d.get("limit", []) or []))
        filled_p = float(sz[pas].sum())
        wait = (ts[pas] - t_post) / _NS
        row: dict[str, Any] = {
            "child": k,
            "ts_ns": t_post,
            "quantity": int(d.get("quantity", 0)),
            "routed": int(d["routed"]),
            "market": int(d.get("market", 0) or 0),
            "limit": int(posted),
            "filled": int(sz[mine].sum()),
            "filled_passive": int(filled_p),
            "filled_aggressive": int(sz[mine & ~maker].sum()),
            "filled_horizon_market": int(sz[mine & horizon_mkt].sum()),
            "fill_ratio": filled_p / posted if posted > 0 else _NAN,
            "time_in_queue_mean_s": _wmean(wait, sz[pas]),
            "time_in_queue_max_s": float(wait.max()) if wait.size else _NAN,
            "time_resting_mean_s": _resting(
                wait, sz[pas], posted, t_post=t_post, horizon_s=horizon_s, t_end_ns=t_end_ns
            ),
            "avg_price": _wmean(px[mine], sz[mine]),
        }
        for h, m in move.items():
            row[f"markout_{float(h):g}s"] = _wmean(m[mine], sz[mine])
        rows.append(row)
    cols = [*_CHILD_COLUMNS, *(f"markout_{float(h):g}s" for h in horizons_s)]
    return pd.DataFrame(rows, columns=cols)


def _resting(
    wait: np.ndarray,
    size: np.ndarray,
    posted: float,
    *,
    t_post: int,
    horizon_s: float | None,
    t_end_ns: int | None,
) -> float:
    """Share-weighted resting time of all posted shares (unfilled ones to their cancel time)."""
    if posted <= 0 or horizon_s is None or t_end_ns is None:
        return _NAN
    cancel_s = (min(t_post + round(float(horizon_s) * _NS), int(t_end_ns)) - t_post) / _NS
    unfilled = max(posted - float(size.sum()), 0.0)
    return float((np.sum(wait * size) + unfilled * cancel_s) / (float(size.sum()) + unfilled))


def child_summary(children: pd.DataFrame) -> dict[str, float]:
    """Scalar summaries of :func:`child_order_metrics`.

    Returns
    -------
    dict
        ``mean_fill_ratio``: the unweighted mean of the children's ``fill_ratio`` (children that
        posted limit orders; NaN if none did); ``fill_ratio``: pooled, ``Σ filled_passive /
        Σ limit``; ``mean_time_in_queue_s``: share-weighted mean of the queue time of every
        passive fill (``Σ time_in_queue_mean_s · filled_passive / Σ filled_passive``);
        ``max_time_in_queue_s``: the longest; ``mean_time_resting_s``: the posted-share-weighted
        mean of ``time_resting_mean_s`` (NaN when the router horizon was not given).
    """
    if children.empty:
        return {
            "mean_fill_ratio": _NAN,
            "fill_ratio": _NAN,
            "mean_time_in_queue_s": _NAN,
            "max_time_in_queue_s": _NAN,
            "mean_time_resting_s": _NAN,
        }
    ratio = children["fill_ratio"].to_numpy(dtype=np.float64)
    posted = children["limit"].to_numpy(dtype=np.float64)
    passive = children["filled_passive"].to_numpy(dtype=np.float64)
    queue = children["time_in_queue_mean_s"].to_numpy(dtype=np.float64)
    qmax = children["time_in_queue_max_s"].to_numpy(dtype=np.float64)
    rest = children["time_resting_mean_s"].to_numpy(dtype=np.float64)
    finite = ratio[np.isfinite(ratio)]
    return {
        "mean_fill_ratio": float(finite.mean()) if finite.size else _NAN,
        "fill_ratio": float(passive.sum() / posted.sum()) if posted.sum() > 0 else _NAN,
        "mean_time_in_queue_s": _wmean(queue, passive),
        "max_time_in_queue_s": float(np.nanmax(qmax)) if np.isfinite(qmax).any() else _NAN,
        "mean_time_resting_s": _wmean(rest, posted),
    }


# -- 2. modelled and realised impact ------------------------------------------------------------
def _signed_trades(fills: pd.DataFrame, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill times and signed sizes (``s · size``), in time order (stable)."""
    _require(fills, ("ts_event", "size"), "the modelled impact")
    ts = _col(fills, "ts_event", np.int64)
    q = side * _col(fills, "size", np.float64)
    order = np.argsort(ts, kind="stable")
    return ts[order], q[order]


def modelled_impact_path(
    fills: pd.DataFrame, params: ImpactParams, *, side: int, times_ns: np.ndarray
) -> np.ndarray:
    """The OW impact of our own fills at the given times, price units (currency per share).

    Parameters
    ----------
    fills : pandas.DataFrame
        ``ts_event`` and ``size`` (shares > 0) of every fill.
    params : ImpactParams
        λ (per unit of normalised flow ``q σ / ADV``), β per second, σ, ADV.
    side : int
        +1 buy, −1 sell: each fill is a trade of ``s · size`` shares.
    times_ns : numpy.ndarray of int
        Where to evaluate, UTC ns, any order.

    Returns
    -------
    numpy.ndarray
        ``I(t)`` just after the fills stamped at or before ``t`` (right-continuous), from
        ``I = 0`` before the first fill, by :func:`myopic_sor.impact.impact_path` (MATH.md §1:
        each fill adds ``λ σ/ADV · q``, which then decays as ``exp(−β Δt)``; decay after the
        trade, pitfall P2). Signed: > 0 pushes the price up (our buys).
    """
    s = _check_side(side)
    ts, q = _signed_trades(fills, s)
    at = np.asarray(times_ns, dtype=np.int64).ravel()
    # evaluation points are zero-size events, sorted after fills at the same instant
    all_ts = np.concatenate([ts, at])
    all_q = np.concatenate([q, np.zeros(at.shape[0])])
    kind = np.concatenate([np.zeros(ts.shape[0], np.int8), np.ones(at.shape[0], np.int8)])
    order = np.lexsort((kind, all_ts))
    _, after = impact_path(all_ts[order], all_q[order], params)
    out = np.empty(all_ts.shape[0])
    out[order] = after
    return np.asarray(out[ts.shape[0] :], dtype=np.float64)


def modelled_impact(
    fills: pd.DataFrame,
    params: ImpactParams,
    *,
    side: int,
    arrival: float,
    t_end_ns: int,
) -> dict[str, float]:
    """The impact cost of our own fills under the OW model (MATH.md §1).

    Parameters
    ----------
    fills : pandas.DataFrame
        ``ts_event`` and ``size`` of every fill.
    params : ImpactParams
        The model's λ, β (per second), σ and ADV.
    side : int
        +1 buy, −1 sell.
    arrival : float
        P0, the arrival mid (for the bps figure).
    t_end_ns : int
        End of the window.

    Returns
    -------
    dict
        ``modelled_impact_cost``: ``Σ_i q_i (I(t_i−) + λ_s q_i / 2)`` in currency, with
        ``q_i = s · size_i``, ``λ_s = λ σ / ADV`` and ``I(t_i−)`` the impact of the earlier
        fills standing just before fill ``i`` (:func:`myopic_sor.impact.expected_cost` with zero
        alpha; ≥ 0 for both sides; fills at one instant count as one trade of their sum);
        ``modelled_impact_cost_bps``: that over the arrival notional of the filled shares,
        ``cost / (P0 Σ size_i) · 1e4`` (comparable with the implementation shortfall);
        ``modelled_impact_end``: ``s · I(t_end)``, what is left at the end of the window,
        currency per share; ``modelled_impact_peak``: ``max_t s · I(t)``, just after a fill.
        A single trade of ``q`` shares costs ``λ_s q² / 2``.
    """
    s = _check_side(side)
    ts, q = _signed_trades(fills, s)
    if ts.size == 0:
        return {
            "modelled_impact_cost": 0.0,
            "modelled_impact_cost_bps": 0.0,
            "modelled_impact_end": 0.0,
            "modelled_impact_peak": 0.0,
        }
    t_s = (ts - ts[0]).astype(np.float64) / _NS  # int64 differences first: ns precision
    cost = expected_cost(t_s, q, params).total
    notional = float(arrival) * float(np.abs(q).sum())
    _, after = impact_path(ts, q, params)
    end = modelled_impact_path(fills, params, side=s, times_ns=np.array([int(t_end_ns)]))
    return {
        "modelled_impact_cost": float(cost),
        "modelled_impact_cost_bps": (
            cost / notional * _BPS if math.isfinite(notional) and notional > 0 else _NAN
        ),
        "modelled_impact_end": float(s * end[0]),
        "modelled_impact_peak": float(np.max(s * after)),
    }


def realised_impact(
    fills: pd.DataFrame,
    *,
    side: int,
    arrival: float,
    t_end_ns: int,
    mid_ts_ns: np.ndarray,
    mid: np.ndarray,
    post_s: float = 300.0,
) -> dict[str, float]:
    """The side-signed move of the mid from arrival, in bps of P0.

    This is **not** our impact alone: it is the market's move over the same time, our
    impact included (a drifting day shows a large figure whatever we did). Compare it with
    :func:`modelled_impact` and across strategies on the same day.

    Parameters
    ----------
    fills : pandas.DataFrame
        ``ts_event`` of every fill.
    side : int
        +1 buy, −1 sell.
    arrival : float
        P0, the arrival mid.
    t_end_ns : int
        End of the window.
    mid_ts_ns, mid : numpy.ndarray
        The consolidated mid (NaN where one-sided) and its sorted times.
    post_s : float, default 300
        How long after the last fill the second figure is taken, seconds.

    Returns
    -------
    dict
        ``realised_impact_bps``: ``s (mid(t_end) − P0) / P0 · 1e4``;
        ``realised_impact_post_bps``: ``s (mid(t_last_fill + post_s) − P0) / P0 · 1e4`` (NaN
        without fills). ``mid(t)`` is the last two-sided mid at or before ``t`` (the last one
        of the data when ``t`` is past its end). Positive: the price went against us
        (up for a buyer), i.e. the cost direction.
    """
    s = _check_side(side)
    _require(fills, ("ts_event",), "realised_impact")
    mid_at = _mid_lookup(mid_ts_ns, mid)
    p0 = float(arrival)

    def bps(t: int) -> float:
        m = float(mid_at(np.array([t]))[0])
        if not (math.isfinite(p0) and p0 > 0 and math.isfinite(m)):
            return _NAN
        return s * (m - p0) / p0 * _BPS

    ts = _col(fills, "ts_event", np.int64)
    return {
        "realised_impact_bps": bps(int(t_end_ns)),
        "realised_impact_post_bps": (
            bps(int(ts.max()) + round(float(post_s) * _NS)) if ts.size else _NAN
        ),
    }


# -- 3. decision efficiency ---------------------------------------------------------------------
def decision_efficiency(
    decisions: Sequence[Mapping[str, Any]], *, quantity: int
) -> dict[str, float]:
    """How often the strategy traded, and how far its children were from its own plan.

    The spec's "decisions made vs optimal" has no ground-truth optimum to count against; these
    are the concrete, checkable figures.

    Parameters
    ----------
    decisions : sequence of dict
        One per evaluation with ``quantity`` (signed shares sent); the myopic scheduler's
        also carry ``planned_quantity`` (the first slot of its re-solved plan, unrounded).
    quantity : int
        Parent size, shares.

    Returns
    -------
    dict
        ``num_evaluations``: decisions evaluated; ``num_children``: those that sent shares
        (``quantity ≠ 0``); ``decision_efficiency``: ``num_children / num_evaluations``, the
        share of evaluations that traded (NaN without evaluations); ``children_per_1000_shares``:
        ``1000 · num_children / quantity``; ``schedule_deviation``: over the evaluations that
        carry a finite ``planned_quantity``, ``Σ |quantity − planned| / Σ |planned|`` — how far
        the children sent were from the scheduler's own plan (rounding, ``min_order_size``,
        caps, stop-loss), 0 when they followed it; NaN for strategies without a plan.
    """
    n_eval = len(decisions)
    sent = np.array([float(d.get("quantity", 0) or 0) for d in decisions], dtype=np.float64)
    n_child = int(np.count_nonzero(sent))
    dev = tot = 0.0
    for d, q in zip(decisions, sent, strict=True):
        p = d.get("planned_quantity")
        if p is None or not math.isfinite(float(p)):
            continue
        dev += abs(q - float(p))
        tot += abs(float(p))
    return {
        "num_evaluations": n_eval,
        "num_children": n_child,
        "decision_efficiency": n_child / n_eval if n_eval else _NAN,
        "children_per_1000_shares": 1000.0 * n_child / quantity if quantity > 0 else _NAN,
        "schedule_deviation": dev / tot if tot > 0 else _NAN,
    }


# -- 4. across runs -----------------------------------------------------------------------------
def cost_volatility(results: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Volatility of the execution cost across runs (the spec's ``cost_volatility``).

    Parameters
    ----------
    results : iterable of mapping
        Per-run metric dicts (:func:`~myopic_sor.analysis.execution_metrics` keys); missing
        or non-finite values are skipped.

    Returns
    -------
    dict
        ``cost_volatility``: the same as ``cost_volatility_bps``, the sample standard
        deviation (``ddof=1``) of ``implementation_shortfall_bps`` (unit-free, comparable
        across stocks and price levels: the spec's key, used by ``MultiObjectiveOptimizer``);
        ``cost_volatility_per_share``: that of ``cost_vs_arrival`` (currency per share);
        ``avg_cost_per_share_std``: that of ``avg_cost_per_share`` (the all-in price: it moves
        with the price level, so it is meaningful across runs of one stock-day only, e.g.
        seeds); ``n_runs``: runs with a finite shortfall. Each figure is NaN under 2 values.
    """
    rows = list(results)

    def std(key: str) -> tuple[float, int]:
        v = np.array([_as_float(r.get(key)) for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]
        return (float(np.std(v, ddof=1)) if v.size >= 2 else _NAN), int(v.size)

    bps, n = std("implementation_shortfall_bps")
    return {
        "cost_volatility": bps,
        "cost_volatility_bps": bps,
        "cost_volatility_per_share": std("cost_vs_arrival")[0],
        "avg_cost_per_share_std": std("avg_cost_per_share")[0],
        "n_runs": n,
    }


def _as_float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _NAN


# -- 5. all of it -------------------------------------------------------------------------------
def detail_metrics(
    fills: pd.DataFrame,
    decisions: Sequence[Mapping[str, Any]],
    *,
    side: int,
    quantity: int,
    arrival: float,
    t_end_ns: int,
    mid_ts_ns: np.ndarray,
    mid: np.ndarray,
    impact: ImpactParams | None = None,
    horizon_s: float | None = None,
    post_s: float = 300.0,
) -> dict[str, float]:
    """The scalar detail metrics of one run, as one flat dict (for ``BacktestResult.metrics``).

    Parameters
    ----------
    fills, decisions
        The run's fills frame and decision records.
    side, quantity : int
        ±1 and the parent size.
    arrival : float
        P0, the arrival mid.
    t_end_ns : int
        End of the window.
    mid_ts_ns, mid : numpy.ndarray
        The consolidated mid and its sorted times.
    impact : ImpactParams, optional
        OW parameters for the modelled impact; without them those keys are NaN.
    horizon_s : float, optional
        The router horizon, for ``mean_time_resting_s``.
    post_s : float, default 300
        For ``realised_impact_post_bps``.

    Returns
    -------
    dict
        The keys of :func:`child_summary`, :func:`decision_efficiency`,
        :func:`modelled_impact` and :func:`realised_impact` (see each for its definition).
    """
    children = child_order_metrics(
        fills,
        decisions,
        side=side,
        mid_ts_ns=mid_ts_ns,
        mid=mid,
        horizons_s=(),
        horizon_s=horizon_s,
        t_end_ns=t_end_ns,
    )
    out: dict[str, float] = dict(child_summary(children))
    out.update(decision_efficiency(decisions, quantity=quantity))
    if impact is not None:
        out.update(modelled_impact(fills, impact, side=side, arrival=arrival, t_end_ns=t_end_ns))
    else:
        out.update(
            dict.fromkeys(
                (
                    "modelled_impact_cost",
                    "modelled_impact_cost_bps",
                    "modelled_impact_end",
                    "modelled_impact_peak",
                ),
                _NAN,
            )
        )
    out.update(
        realised_impact(
            fills,
            side=side,
            arrival=arrival,
            t_end_ns=t_end_ns,
            mid_ts_ns=mid_ts_ns,
            mid=mid,
            post_s=post_s,
        )
    )
    return out
