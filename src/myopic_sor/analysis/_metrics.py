"""Execution metrics of one parent order (MATH.md §8).

Conventions: ``s = +1`` for a buy, ``−1`` for a sell; fill prices in currency per share; a fill's
``fee`` is currency paid (+) or received as a rebate (−). The **all-in average price** is
``p̄ = (Σ p q + s Σ fee) / Σ q``: for a buy what each share cost, for a sell what each share
brought net of fees. Every cost figure is signed so that **lower is better for both sides**.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from myopic_sor.data import MarketData
from myopic_sor.features import ConsolidatedBook, consolidated_book

__all__ = [
    "arrival_mid",
    "cost_breakdown",
    "execution_metrics",
    "market_benchmarks",
    "path_metrics",
]

_BPS = 1e4


def arrival_mid(md: MarketData, t0_ns: int, *, book: ConsolidatedBook | None = None) -> float:
    """The consolidated (NBBO) mid at or just before ``t0_ns``, P0 of the shortfall.

    Falls back to the first two-sided NBBO after ``t0_ns`` when the book is not two-sided
    before it (a window starting at the open); NaN when the day never has one. ``book`` is
    ``consolidated_book(md)`` when the caller has it already.
    """
    book = consolidated_book(md) if book is None else book
    mid = 0.5 * (book.best_bid + book.best_ask)
    ok = np.isfinite(mid)
    k = int(np.searchsorted(book.events.ts_event, t0_ns, side="right")) - 1
    before = np.flatnonzero(ok[: k + 1])
    if before.size:
        return float(mid[before[-1]])
    after = np.flatnonzero(ok[k + 1 :])
    return float(mid[k + 1 + after[0]]) if after.size else float("nan")


def market_benchmarks(
    md: MarketData, t0_ns: int, t_end_ns: int, *, book: ConsolidatedBook | None = None
) -> dict[str, float]:
    """Market VWAP (all venues' trades) and time-weighted NBBO mid over ``[t0, t_end]``.

    ``book`` is ``consolidated_book(md)`` when the caller has it already.

    Returns
    -------
    dict
        ``market_vwap`` (NaN without trades), ``market_twap`` (time-weighted mid; NaN without
        a two-sided book), ``market_volume`` (shares traded on all venues in the window).
    """
    notional = volume = 0.0
    for v in md.between(t0_ns, t_end_ns):
        trades = v.trades_mask()
        px = v["price"][trades].astype(np.float64)
        sz = v["size"][trades].astype(np.float64)
        ok = np.isfinite(px)
        notional += float(np.sum(px[ok] * sz[ok]))
        volume += float(np.sum(sz[ok]))
    book = consolidated_book(md) if book is None else book
    mid = 0.5 * (book.best_bid + book.best_ask)
    ts = book.events.ts_event
    keep = int(np.searchsorted(ts, t_end_ns, side="right"))
    mid, ts = mid[:keep], ts[:keep]
    k0 = max(int(np.searchsorted(ts, t0_ns, side="right")) - 1, 0)
    seg_ts = np.append(np.maximum(ts[k0:], t0_ns), t_end_ns).astype(np.float64)
    w = np.diff(seg_ts)
    m = mid[k0:]
    ok = np.isfinite(m) & (w > 0)
    twap = float(np.sum(m[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else float("nan")
    return {
        "market_vwap": notional / volume if volume > 0 else float("nan"),
        "market_twap": twap,
        "market_volume": volume,
    }


def execution_metrics(
    fills: pd.DataFrame,
    *,
    side: int,
    quantity: int,
    arrival: float,
    benchmarks: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Summarise the fills of one parent order.

    Parameters
    ----------
    fills : pandas.DataFrame
        One row per fill with ``price``, ``size`` (shares > 0), ``fee`` (currency, + paid),
        ``liquidity`` (``"maker"``/``"taker"``) and optionally ``catchup`` (bool).
    side : int
        +1 buy, −1 sell.
    quantity : int
        Parent size, shares (> 0).
    arrival : float
        P0, the arrival mid (currency per share).
    benchmarks : mapping, optional
        ``market_vwap`` and ``market_twap`` of the window (:func:`market_benchmarks`).

    Returns
    -------
    dict
        ``total_size`` (shares filled), ``fill_rate`` (``total_size / quantity``),
        ``avg_price`` (``Σ p q / Σ q``), ``avg_cost_per_share`` (the all-in average price
        p̄, fees and rebates included), ``total_cost`` (``p̄ · total_size``, the all-in
        notional), ``cost_vs_arrival`` (``s (p̄ − P0)`` currency per share, lower is better),
        ``implementation_shortfall_bps`` (``s (p̄ − P0)/P0 · 1e4``), ``slippage_vs_vwap_bps`` and
        ``slippage_vs_twap_bps`` (same with the market benchmark in place of P0), ``fees``,
        ``rebates`` (currency, ≥ 0), ``passive_share`` (maker shares / total),
        ``catchup_shares``, ``n_fills``, ``arrival_price``.
    """
    if side not in (1, -1):
        raise ValueError(f"side must be +1 or -1, got {side!r}")
    price = fills["price"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    size = fills["size"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    fee = fills["fee"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    maker = (
        (fills["liquidity"].astype(str) == "maker").to_numpy()
        if len(fills)
        else np.zeros(0, dtype=bool)
    )
    total = float(size.sum())
    notional = float(np.sum(price * size))
    fees_total = float(fee.sum())
    avg_price = notional / total if total > 0 else float("nan")
    all_in = (notional + side * fees_total) / total if total > 0 else float("nan")

    def bps(ref: float) -> float:
        if not (math.isfinite(ref) and ref > 0 and math.isfinite(all_in)):
            return float("nan")
        return side * (all_in - ref) / ref * _BPS

    bench = dict(benchmarks or {})
    catchup = (
        float(size[fills["catchup"].to_numpy(dtype=bool)].sum())
        if len(fills) and "catchup" in fills.columns
        else 0.0
    )
    return {
        "total_size": round(total),
        "fill_rate": total / quantity if quantity > 0 else float("nan"),
        "avg_price": avg_price,
        "avg_cost_per_share": all_in,
        "total_cost": all_in * total if total > 0 else 0.0,
        "cost_vs_arrival": side * (all_in - arrival) if math.isfinite(arrival) else float("nan"),
        "implementation_shortfall_bps": bps(arrival),
        "slippage_vs_vwap_bps": bps(bench.get("market_vwap", float("nan"))),
        "slippage_vs_twap_bps": bps(bench.get("market_twap", float("nan"))),
        "fees": float(fee[fee > 0].sum()),
        "rebates": float(-fee[fee < 0].sum()),
        "passive_share": float(size[maker].sum()) / total if total > 0 else float("nan"),
        "catchup_shares": round(catchup),
        "n_fills": len(fills),
        "arrival_price": arrival,
    }


def path_metrics(
    fills: pd.DataFrame,
    *,
    side: int,
    quantity: int,
    t0_ns: int,
    t_end_ns: int,
    mid_ts_ns: np.ndarray,
    mid: np.ndarray,
    markout_s: tuple[float, ...] = (1.0, 10.0, 60.0),
    grid_s: float = 60.0,
) -> dict[str, float]:
    """Metrics that need the mid-price path (MATH.md §8), from the fills and the NBBO mid.

    Parameters
    ----------
    fills : pandas.DataFrame
        ``ts_event`` (int ns), ``price``, ``size``, ``fee``.
    side, quantity : int
        ±1 and the parent size.
    t0_ns, t_end_ns : int
        The window.
    mid_ts_ns, mid : numpy.ndarray
        The consolidated mid (NaN where one-sided) and its times (sorted).
    markout_s : tuple of float
        Mark-out horizons, seconds.
    grid_s : float
        Step of the mark-to-market and tracking grids, seconds.

    Returns
    -------
    dict
        ``markout_<h>s``: size-weighted ``s (mid(t + h) − p)`` after each fill, currency per
        share (positive: the price moved our way after we traded); ``timing_quality``: the
        correlation of fill sizes with ``s (mid(t + 60 s) − mid(t))`` (NaN under 3 fills);
        ``tracking_error_vs_twap``: RMS gap between our executed fraction and the straight
        line over the window, on the grid; ``max_drawdown`` and ``sharpe``: of the
        mark-to-market P&L ``s Σ q_i (mid(t) − p_i) − fees`` on the grid (Sharpe of the grid
        increments, not annualised).
    """
    out: dict[str, float] = {}
    ok = np.isfinite(mid)
    mts, mpx = mid_ts_ns[ok], mid[ok]

    def mid_at(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(mts, t, side="right") - 1
        res = np.full(t.shape, np.nan)
        res[k >= 0] = mpx[k[k >= 0]]
        return res

    ts = fills["ts_event"].to_numpy(dtype=np.int64) if len(fills) else np.zeros(0, np.int64)
    px = fills["price"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    sz = fills["size"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    fee = fills["fee"].to_numpy(dtype=np.float64) if len(fills) else np.zeros(0)
    for h in markout_s:
        later = mid_at(ts + round(h * 1e9))
        good = np.isfinite(later)
        w = sz[good]
        out[f"markout_{h:g}s"] = (
            float(np.sum(side * (later[good] - px[good]) * w) / w.sum())
            if w.sum() > 0
            else math.nan
        )
    move = side * (mid_at(ts + 60 * 10**9) - mid_at(ts))
    good = np.isfinite(move)
    out["timing_quality"] = (
        float(np.corrcoef(sz[good], move[good])[0, 1])
        if good.sum() >= 3 and np.std(sz[good]) > 0 and np.std(move[good]) > 0
        else math.nan
    )
    step = round(grid_s * 1e9)
    grid = np.minimum(np.arange(t0_ns, t_end_ns + step, step, dtype=np.int64), t_end_ns)
    order = np.argsort(ts, kind="stable")
    cum = np.cumsum(sz[order])
    k = np.searchsorted(ts[order], grid, side="right")
    done = np.where(k > 0, cum[np.maximum(k - 1, 0)], 0.0) / quantity
    line = np.clip((grid - t0_ns) / max(t_end_ns - t0_ns, 1), 0.0, 1.0)
    out["tracking_error_vs_twap"] = float(np.sqrt(np.mean((done - line) ** 2)))
    m = mid_at(grid)
    pnl = _mtm(side, px[order], sz[order], fee[order], k=k, mid=m)
    finite = pnl[np.isfinite(pnl)]
    if finite.size:
        out["max_drawdown"] = float(np.max(np.maximum.accumulate(finite) - finite))
        inc = np.diff(finite)
        out["sharpe"] = (
            float(inc.mean() / inc.std()) if inc.size > 1 and inc.std() > 0 else math.nan
        )
    else:
        out["max_drawdown"] = out["sharpe"] = math.nan
    return out


def _mtm(
    side: int, px: np.ndarray, sz: np.ndarray, fee: np.ndarray, *, k: np.ndarray, mid: np.ndarray
) -> np.ndarray:
    """Mark-to-market P&L at each grid point: the first ``k`` fills (time order) at ``mid``."""
    qty = np.concatenate([[0.0], np.cumsum(sz)])
    cash = np.concatenate([[0.0], np.cumsum(sz * px)])
    fees = np.concatenate([[0.0], np.cumsum(fee)])
    return np.asarray(side * (qty[k] * mid - cash[k]) - fees[k], dtype=np.float64)


def cost_breakdown(
    fills: pd.DataFrame,
    *,
    side: int,
    arrival: float,
    mid_ts_ns: np.ndarray,
    mid: np.ndarray,
) -> dict[str, float]:
    """Split the cost vs arrival per share into spread, timing, fees and rebates.

    With ``m_i`` the consolidated mid just before fill ``i`` (the last mid stamped strictly
    before it, so a fill never measures itself), ``Q = Σ q_i`` and the all-in price ``p̄``::

        s (p̄ − P0) = s Σ (p_i − m_i) q_i / Q      spread_cost_per_share: paid to cross (+),
                                                   earned resting (−), book walk included
                   + s Σ (m_i − P0) q_i / Q      timing_cost_per_share: the mid's move since
                                                   arrival when each share traded (our impact
                                                   and the market's drift)
                   + Σ fee⁺_i / Q − Σ fee⁻_i / Q  fees_per_share − rebates_per_share

    and ``catchup_cost_per_share`` is the part of the three first terms due to the catch-up
    fills (the ``catchup`` column), still per share of the whole parent. The four parts add up
    to ``cost_vs_arrival`` of :func:`execution_metrics` (to rounding). Currency per share; NaN
    without fills or without a mid before the first fill.
    """
    keys = (
        "spread_cost_per_share",
        "timing_cost_per_share",
        "fees_per_share",
        "rebates_per_share",
        "catchup_cost_per_share",
    )
    if not len(fills) or not math.isfinite(arrival):
        return dict.fromkeys(keys, float("nan"))
    ts = fills["ts_event"].to_numpy(dtype=np.int64)
    p = fills["price"].to_numpy(dtype=np.float64)
    q = fills["size"].to_numpy(dtype=np.float64)
    fee = fills["fee"].to_numpy(dtype=np.float64)
    k = np.searchsorted(np.asarray(mid_ts_ns, dtype=np.int64), ts, side="left") - 1
    m = np.where(k >= 0, np.asarray(mid, dtype=np.float64)[np.maximum(k, 0)], np.nan)
    total = float(q.sum())
    spread = side * (p - m) * q
    timing = side * (m - arrival) * q
    catch = (
        fills["catchup"].to_numpy(dtype=bool)
        if "catchup" in fills.columns
        else np.zeros(len(fills), dtype=bool)
    )
    part = spread + timing + fee
    return {
        "spread_cost_per_share": float(spread.sum()) / total,
        "timing_cost_per_share": float(timing.sum()) / total,
        "fees_per_share": float(fee[fee > 0].sum()) / total,
        "rebates_per_share": float(-fee[fee < 0].sum()) / total,
        "catchup_cost_per_share": float(part[catch].sum()) / total,
    }
