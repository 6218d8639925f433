"""Numba kernel of the replay: our resting limit orders of one venue through its recorded events.

The kernel takes only numpy arrays, homogeneous tuples of them and scalars. The book columns of
one side come as one array per displayed level: a tuple of columns, or one 2-D array (levels ×
rows, a view when the columns lie level-major in one buffer, as the synthetic generator stores
them: a call then unboxes four arrays instead of forty). Our orders and the fills are 2-D arrays
with one column per order / fill (rows :data:`O_SIDE`... and :data:`F_ROW`...), kept by the
exchange between calls. Its plain-Python twin with the same name and signature is in
:mod:`myopic_sor.simulation._python`; the parity tests run both on random books.

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

Speed
-----
The loop reads each book level of a row at most once per order and side: the :func:`level_qty`
scan is inlined (a call that hands over the level tuples costs more than the scan, ~130 ns),
and an order at the same side and price as the previous live order reuses its scan. Rows are
not skipped: a proof that a row changes no order reads the same levels as the rules, and a
version that proved it (levels of the row and of the previous one, down to our farthest order)
measured slower than running the rules on every row (``benchmarks/bench_replay.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
from numba import njit
from numba.extending import register_jitable

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D, UInt8Array1D
from myopic_sor.data._schema import ACTION_CLEAR, ACTION_TRADE, SIDE_ASK, SIDE_BID

__all__ = [
    "FILL_CROSS",
    "FILL_QUEUE",
    "FILL_THROUGH",
    "F_KIND",
    "F_ORDER",
    "F_ROW",
    "F_SIZE",
    "O_AHEAD",
    "O_PREV",
    "O_PRICE",
    "O_REM",
    "O_SIDE",
    "O_TRADED",
    "STATUS_CLEAR",
    "STATUS_DONE",
    "STATUS_FULL",
    "STATUS_STOP",
    "level_qty",
    "queue_depth_update",
    "replay_kernel",
]

Int64Array2D: TypeAlias = npt.NDArray[np.int64]
#: One array per displayed level: a tuple of columns, or a 2-D array (levels × rows).
FloatLevels: TypeAlias = Sequence[Float64Array1D] | Float64Array2D
IntLevels: TypeAlias = Sequence[Int64Array1D] | Int64Array2D

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

#: Rows of the order arrays: ``o_int`` (int64) and ``o_flt`` (float64), one column per order.
O_SIDE: Final = 0
O_REM: Final = 1
O_PREV: Final = 2
O_PRICE: Final = 0
O_AHEAD: Final = 1
O_TRADED: Final = 2
#: Rows of the fill buffer ``f_int`` (int64), one column per fill (prices in ``f_price``).
F_ROW: Final = 0
F_ORDER: Final = 1
F_SIZE: Final = 2
F_KIND: Final = 3

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
    px_levels: FloatLevels,
    sz_levels: IntLevels,
    i: int,
    p: float,
    s: int,
    tol: float,
) -> int:
    """Displayed size at price ``p`` on the book side of an order of side ``s`` (bids for a
    buy) after row ``i``: the size, 0 when the level is empty, −1 when ``p`` lies beyond the
    deepest of a full set of displayed levels (unknown). :func:`replay_kernel` inlines this
    scan (a call that hands over the level tuples costs more than the scan)."""
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
    f_int: Int64Array2D,
    f_price: Float64Array1D,
    nf: int,
    i: int,
    j: int,
    p: float,
    q: int,
    kind: int,
) -> int:
    f_int[F_ROW, nf] = i
    f_int[F_ORDER, nf] = j
    f_int[F_SIZE, nf] = q
    f_int[F_KIND, nf] = kind
    f_price[nf] = p
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
    bid_px: FloatLevels,
    bid_sz: IntLevels,
    ask_px: FloatLevels,
    ask_sz: IntLevels,
    o_int: Int64Array2D,
    o_flt: Float64Array2D,
    queue_code: int,
    queue_param: float,
    tol: float,
    f_int: Int64Array2D,
    f_price: Float64Array1D,
) -> tuple[int, int, int]:  # pragma: no cover - compiled; the twin in _python.py carries coverage
    """Run our resting orders of one venue through rows ``start..`` (see the module docstring).

    ``bid_px``/``bid_sz``/``ask_px``/``ask_sz`` hold one array per displayed level (a tuple,
    or a 2-D array levels × rows). Our orders are the columns of ``o_int`` (rows
    :data:`O_SIDE` (+1 buy, −1 sell), :data:`O_REM`, :data:`O_PREV`) and ``o_flt``
    (:data:`O_PRICE`, :data:`O_AHEAD`, :data:`O_TRADED`), updated in place; ``prev`` is the
    last displayed size seen at the order's price (−1: not seen yet). Fills go to the columns
    of ``f_int`` (:data:`F_ROW`, :data:`F_ORDER` (the order's column), :data:`F_SIZE`,
    :data:`F_KIND`) and to ``f_price``. Returns ``(next_row, n_fills, status)``.
    """
    n = ts.shape[0]
    m = o_int.shape[1]
    cap = f_price.shape[0]
    nl = len(bid_px)
    bid0 = bid_px[0]
    ask0 = ask_px[0]
    nf = 0
    i = start
    while i < n:
        if ts[i] > t_stop:
            return i, nf, STATUS_STOP
        act = action[i]
        if act == _ACT_R:
            return i, nf, STATUS_CLEAR
        last_s, last_p, last_lq = 0, math.nan, -1  # the scan of the previous live order
        live = 0
        for j in range(m):
            rem = o_int[O_REM, j]
            if rem <= 0:
                continue
            s = o_int[O_SIDE, j]
            p = o_flt[O_PRICE, j]
            if act == _ACT_T:
                ag = side[i]
                if (s == 1 and ag != _SIDE_B) or (s == -1 and ag != _SIDE_A):
                    tp = price[i]
                    if abs(tp - p) <= tol:
                        q = size[i]
                        ahead = o_flt[O_AHEAD, j] - q
                        o_flt[O_TRADED, j] += q
                        if ahead < 0.0:
                            k = min(rem, math.floor(-ahead + _EPS))
                            if k > 0:
                                nf = _emit(f_int, f_price, nf, i, j, p, k, FILL_QUEUE)
                                rem -= k
                                ahead += k
                        o_flt[O_AHEAD, j] = ahead
                    elif s * (tp - p) < -tol:
                        nf = _emit(f_int, f_price, nf, i, j, p, rem, FILL_THROUGH)
                        rem = 0
            if rem > 0:
                # level_qty, inlined per side ("Speed" in the module docstring)
                lq = -1
                if s == last_s and p == last_p:
                    lq = last_lq
                elif s == 1:
                    for lv in range(nl):
                        x = bid_px[lv][i]
                        if math.isnan(x):
                            lq = 0
                            break
                        if abs(x - p) <= tol:
                            lq = int(bid_sz[lv][i])
                            break
                        if s * (p - x) > tol:
                            lq = 0
                            break
                else:
                    for lv in range(nl):
                        x = ask_px[lv][i]
                        if math.isnan(x):
                            lq = 0
                            break
                        if abs(x - p) <= tol:
                            lq = int(ask_sz[lv][i])
                            break
                        if s * (p - x) > tol:
                            lq = 0
                            break
                last_s, last_p, last_lq = s, p, lq
                opp = ask0[i] if s == 1 else bid0[i]
                if lq >= 0:
                    prev = o_int[O_PREV, j]
                    if prev < 0:
                        o_flt[O_AHEAD, j] = float(lq)
                        o_flt[O_TRADED, j] = 0.0
                        o_int[O_PREV, j] = lq
                    elif lq != prev:
                        o_flt[O_AHEAD, j] = queue_depth_update(
                            queue_code, queue_param, o_flt[O_AHEAD, j], float(prev), float(lq),
                            o_flt[O_TRADED, j],
                        )  # fmt: skip
                        o_flt[O_TRADED, j] = 0.0
                        o_int[O_PREV, j] = lq
                if not math.isnan(opp) and s * (opp - p) <= tol:
                    nf = _emit(f_int, f_price, nf, i, j, p, rem, FILL_CROSS)
                    rem = 0
            o_int[O_REM, j] = rem
            if rem > 0:
                live += 1
        i += 1
        if live == 0:
            return i, nf, STATUS_DONE
        if nf + 2 * m > cap:
            return i, nf, STATUS_FULL
    return i, nf, STATUS_STOP
