"""Plain-Python twin of :mod:`._replay_kernels` (same signature): the parity reference."""

from __future__ import annotations

import math

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D, UInt8Array1D

__all__ = ["scan_limit"]

from myopic_sor.simulation._replay_kernels import MODEL_PROB_POWER

_TRADE = 84  # ord("T")
_UNKNOWN = 78  # ord("N"): aggressor not known
_TOL = 1e-9


def scan_limit(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    ts: Int64Array1D,
    action: UInt8Array1D,
    aggressor: UInt8Array1D,
    price: Float64Array1D,
    size: Int64Array1D,
    our_px: Float64Array2D,
    our_sz: Float64Array2D,
    opp_px0: Float64Array1D,
    i0: int,
    t_end: int,
    limit: float,
    sgn: int,
    passive_aggressor: int,
    state: Float64Array1D,
    model: int,
    power: float,
    fill_idx: Int64Array1D,
    fill_qty: Float64Array1D,
) -> tuple[int, int]:
    """Advance one resting order over rows ``i0 ..`` with ``ts <= t_end``.

    ``state = [queue_ahead, remaining, level_size]`` is updated in place. ``our_px``/``our_sz``
    are the book levels on our side (bids for a buy, ``sgn = +1``), ``opp_px0`` the best price
    on the other side. ``passive_aggressor`` is the aggressor code of trades that hit our side
    (``ord('A')`` for a buy). Rules (MATH.md §7):

    * a trade at our price by the other side first consumes the queue ahead, the excess fills
      us (both models);
    * a trade through our price (below it, for a buy) or the opposite best reaching it fills
      everything left at our price;
    * the level at our price shrinking: risk-averse — our position is capped at the new size;
      probabilistic (power n) — the decrease not explained by trades is a cancellation ahead of
      us with probability ``1 − f(back)/(f(back) + f(front))``, ``f(x) = x^n``, applied as an
      expected value (hftbacktest's PowerProbQueueFunc), then capped at the new size.

    Returns (the next row to read, the number of fills written to ``fill_idx``/``fill_qty``);
    it stops early when the fill buffers are nearly full (the caller calls again).
    """
    n = ts.shape[0]
    levels = our_px.shape[1]
    nf = 0
    i = i0
    cap = fill_idx.shape[0] - 1  # a row writes at most two fills
    while i < n and ts[i] <= t_end and state[1] > 0 and nf < cap:
        traded_here = 0.0
        if action[i] == _TRADE:
            p = price[i]
            if sgn * (p - limit) < -_TOL:  # traded through our price
                fill_idx[nf] = i
                fill_qty[nf] = state[1]
                nf += 1
                state[1] = 0.0
                break
            hits_us = aggressor[i] == passive_aggressor or aggressor[i] == _UNKNOWN
            if abs(p - limit) <= _TOL and hits_us:
                q = float(size[i])
                traded_here = q
                if q > state[0]:
                    got = min(q - state[0], state[1])
                    state[0] = 0.0
                    if got > 0:
                        fill_idx[nf] = i
                        fill_qty[nf] = got
                        nf += 1
                        state[1] -= got
                else:
                    state[0] -= q
        # the level at our price after this row
        best = our_px[i, 0]
        new_sz = -1.0
        if math.isnan(best) or sgn * (limit - best) > _TOL:
            new_sz = 0.0  # we would be the only ones at a better price than the displayed best
        else:
            for j in range(levels):
                px = our_px[i, j]
                if not math.isnan(px) and abs(px - limit) <= _TOL:
                    new_sz = our_sz[i, j]
                    break
        if new_sz >= 0.0:
            prev = state[2]
            if model == MODEL_PROB_POWER and prev >= 0.0:
                chg = prev - new_sz - traded_here
                if chg > 0.0:
                    front = state[0]
                    back = max(prev - front, 0.0)
                    fb = back**power
                    ff = front**power
                    prob = fb / (fb + ff) if fb + ff > 0 else 1.0
                    est = front - (1.0 - prob) * chg + min(back - prob * chg, 0.0)
                    state[0] = max(est, 0.0)
            state[0] = min(state[0], new_sz)
            state[2] = new_sz
        if state[1] > 0:
            opp = opp_px0[i]
            # the other side's best reached our price
            if not math.isnan(opp) and sgn * (opp - limit) <= _TOL:
                fill_idx[nf] = i
                fill_qty[nf] = state[1]
                nf += 1
                state[1] = 0.0
        i += 1
    return i, nf
