"""Numba kernel of the replay: our resting limit orders of one venue through its recorded events.

The kernel takes only contiguous numpy arrays, homogeneous tuples of them (one array per book
level) and scalars. Its plain-Python twin with the same name and signature is in
:mod:`myopic_sor.simulation._python`; the parity test runs both on random books.

Rules, per recorded row ``i`` (the book columns describe the book after the event), for each of
our resting orders (side s, limit price p, ``rem`` shares left, ``ahead`` shares ahead):

1. a trade (action T) on our side of the book — aggressor on the other side, or unknown (N) —
   at price p advances the queue (``ahead -= size``, the queue model's ``on_trade``); the whole
   shares of the excess over ``ahead`` fill us (kind :data:`FILL_QUEUE`); a trade at a price
   worse than p for the aggressor (below our bid, above our ask) went through our level and
   fills all of ``rem`` (:data:`FILL_THROUGH`);
2. the displayed size at p after the event (0 when p is inside the spread or in a gap, unknown
   when p is beyond the deepest of a full set of displayed levels) updates ``ahead`` through the
   queue model's ``on_depth`` when it changed; the first time an unknown level shows,
   ``ahead`` becomes its size (we join the back of what is displayed);
3. when the opposite touch reaches p (the ask at or below our bid) the rest fills
   (:data:`FILL_CROSS`).

All fills are at the limit price p. The loop stops at the first row after ``t_stop``, before a
clear (R) row, when every order is done, or when the fill buffer might overflow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from numba import njit
from numba.extending import register_jitable

from myopic_sor._typing import Float64Array1D, Int64Array1D, UInt8Array1D
from myopic_sor.data._schema import ACTION_CLEAR, ACTION_TRADE, SIDE_ASK, SIDE_BID

__all__ = [
    "FILL_CROSS",
    "FILL_QUEUE",
    "FILL_THROUGH",
    "STATUS_CLEAR",
    "STATUS_DONE",
    "STATUS_FULL",
    "STATUS_STOP",
    "level_qty",
    "queue_depth_update",
    "replay_kernel",
]

#: A trade at our price reached us through the queue.
FILL_QUEUE: Final = 0
#: A trade went through our price.
FILL_THROUGH: Final = 1
#: The opposite touch reached our price.
FILL_CROSS: Final = 2

#: Stopped at the first row after ``t_stop`` (or at the end of the data).
STATUS_STOP: Final = 0
#: Stopped because the fill buffer could overflow on the next row.
STATUS_FULL: Final = 1
#: Stopped before a clear-book (R) row, which is not processed.
STATUS_CLEAR: Final = 2
#: Stopped because no order has shares left.
STATUS_DONE: Final = 3

_ACT_T: Final = ACTION_TRADE
_ACT_R: Final = ACTION_CLEAR
_SIDE_A: Final = SIDE_ASK
_SIDE_B: Final = SIDE_BID
_QUEUE_RISK_AVERSE: Final = 0
_QUEUE_POWER: Final = 1
_QUEUE_LOG: Final = 2
_EPS: Final = 1e-9


@register_jitable
def level_qty(  # noqa: PLR0917 - positional, as numba calls it
    px_levels: Sequence[Float64Array1D],
    sz_levels: Sequence[Int64Array1D],
    i: int,
    p: float,
    s: int,
    tol: float,
) -> int:
    """Displayed size at price ``p`` on the book side of an order of side ``s`` (bids for a
    buy) after row ``i``: the size, 0 when the level is empty, −1 when ``p`` lies beyond the
    deepest of a full set of displayed levels (unknown)."""
    for k in range(len(px_levels)):
        x = px_levels[k][i]
        if math.isnan(x):  # the side ends before p
            return 0
        if abs(x - p) <= tol:
            return int(sz_levels[k][i])
        if s * (p - x) > tol:  # p is better than this level: a gap or inside the spread
            return 0
    return -1


@register_jitable
def _prob_f(code: int, param: float, x: float) -> float:
    if code == _QUEUE_POWER:
        return float(x**param)
    return math.log1p(x)


@register_jitable
def queue_depth_update(  # noqa: PLR0917 - positional, as numba calls it
    code: int, param: float, ahead: float, prev: float, new: float, traded: float
) -> float:
    """The queue models' ``on_depth`` (:mod:`myopic_sor.simulation._queue`), compiled."""
    floor = min(ahead, 0.0)
    if code == _QUEUE_RISK_AVERSE:
        return max(min(ahead, new), floor)
    chg = prev - new - traded
    if chg <= 0.0:
        return max(min(ahead, new), floor)
    front = ahead
    back = prev - front
    fb = _prob_f(code, param, max(back, 0.0))
    ff = _prob_f(code, param, max(front, 0.0))
    if fb + ff <= 0.0 or not math.isfinite(fb):
        p = 1.0
    elif not math.isfinite(ff):
        p = 0.0
    else:
        p = fb / (fb + ff)
    est = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
    return max(min(est, new), floor)


@register_jitable
def _emit(  # noqa: PLR0917 - positional, as numba calls it
    f_row: Int64Array1D,
    f_order: Int64Array1D,
    f_price: Float64Array1D,
    f_size: Int64Array1D,
    f_kind: Int64Array1D,
    nf: int,
    i: int,
    j: int,
    p: float,
    q: int,
    kind: int,
) -> int:
    f_row[nf] = i
    f_order[nf] = j
    f_price[nf] = p
    f_size[nf] = q
    f_kind[nf] = kind
    return nf + 1


@njit(cache=True)
def replay_kernel(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    start: int,
    t_stop: int,
    ts: Int64Array1D,
    action: UInt8Array1D,
    side: UInt8Array1D,
    price: Float64Array1D,
    size: Int64Array1D,
    bid_px: Sequence[Float64Array1D],
    bid_sz: Sequence[Int64Array1D],
    ask_px: Sequence[Float64Array1D],
    ask_sz: Sequence[Int64Array1D],
    o_side: Int64Array1D,
    o_price: Float64Array1D,
    o_rem: Int64Array1D,
    o_ahead: Float64Array1D,
    o_prev: Int64Array1D,
    o_traded: Float64Array1D,
    queue_code: int,
    queue_param: float,
    tol: float,
    f_row: Int64Array1D,
    f_order: Int64Array1D,
    f_price: Float64Array1D,
    f_size: Int64Array1D,
    f_kind: Int64Array1D,
) -> tuple[int, int, int]:  # pragma: no cover - compiled; the twin in _python.py carries coverage
    """Run our resting orders of one venue through rows ``start..`` (see the module docstring).

    ``bid_px``/``bid_sz``/``ask_px``/``ask_sz`` are tuples of one array per displayed level.
    The ``o_*`` arrays (one entry per order) are updated in place: ``o_prev`` is the last
    displayed size seen at the order's price (−1: not seen yet). Fills go to the ``f_*``
    buffers (row, order index, price, shares, kind). Returns ``(next_row, n_fills, status)``.
    """
    n = ts.shape[0]
    m = o_side.shape[0]
    cap = f_row.shape[0]
    nf = 0
    i = start
    while i < n:
        if ts[i] > t_stop:
            return i, nf, STATUS_STOP
        act = action[i]
        if act == _ACT_R:
            return i, nf, STATUS_CLEAR
        live = 0
        for j in range(m):
            rem = o_rem[j]
            if rem <= 0:
                continue
            s = o_side[j]
            p = o_price[j]
            if act == _ACT_T:
                ag = side[i]
                if (s == 1 and ag != _SIDE_B) or (s == -1 and ag != _SIDE_A):
                    tp = price[i]
                    if abs(tp - p) <= tol:
                        q = size[i]
                        ahead = o_ahead[j] - q
                        o_traded[j] += q
                        if ahead < 0.0:
                            k = min(rem, math.floor(-ahead + _EPS))
                            if k > 0:
                                nf = _emit(
                                    f_row, f_order, f_price, f_size, f_kind, nf, i, j, p, k,
                                    FILL_QUEUE,
                                )  # fmt: skip
                                rem -= k
                                ahead += k
                        o_ahead[j] = ahead
                    elif s * (tp - p) < -tol:
                        nf = _emit(
                            f_row, f_order, f_price, f_size, f_kind, nf, i, j, p, rem, FILL_THROUGH
                        )
                        rem = 0
            if rem > 0:
                if s == 1:
                    lq = level_qty(bid_px, bid_sz, i, p, s, tol)
                    opp = ask_px[0][i]
                else:
                    lq = level_qty(ask_px, ask_sz, i, p, s, tol)
                    opp = bid_px[0][i]
                if lq >= 0:
                    prev = o_prev[j]
                    if prev < 0:
                        o_ahead[j] = float(lq)
                        o_traded[j] = 0.0
                        o_prev[j] = lq
                    elif lq != prev:
                        o_ahead[j] = queue_depth_update(
                            queue_code, queue_param, o_ahead[j], float(prev), float(lq),
                            o_traded[j],
                        )  # fmt: skip
                        o_traded[j] = 0.0
                        o_prev[j] = lq
                if not math.isnan(opp) and s * (opp - p) <= tol:
                    nf = _emit(
                        f_row, f_order, f_price, f_size, f_kind, nf, i, j, p, rem, FILL_CROSS
                    )
                    rem = 0
            o_rem[j] = rem
            if rem > 0:
                live += 1
        i += 1
        if live == 0:
            return i, nf, STATUS_DONE
        if nf + 2 * m > cap:
            return i, nf, STATUS_FULL
    return i, nf, STATUS_STOP
