"""Plain-Python twin of :mod:`myopic_sor.simulation._kernels` (same names, same signatures).

Written for reading, not for speed: the queue updates go through the
:class:`~myopic_sor.simulation.QueueModel` methods, so the parity test checks the compiled
formulas against the documented ones. ``ReplayExchange(..., use_numba=False)`` runs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D, UInt8Array1D
from myopic_sor.data._schema import ACTION_CLEAR, ACTION_TRADE, SIDE_ASK, SIDE_BID
from myopic_sor.simulation._kernels import (
    F_KIND,
    F_ORDER,
    F_ROW,
    F_SIZE,
    FILL_CROSS,
    FILL_QUEUE,
    FILL_THROUGH,
    O_AHEAD,
    O_PREV,
    O_PRICE,
    O_REM,
    O_SIDE,
    O_TRADED,
    STATUS_CLEAR,
    STATUS_DONE,
    STATUS_FULL,
    STATUS_STOP,
    FloatLevels,
    Int64Array2D,
    IntLevels,
)
from myopic_sor.simulation._queue import queue_model_from_code

__all__ = ["level_qty", "level_qty_of", "replay_kernel"]


def level_qty(  # noqa: PLR0917 - same signature as the kernel helper
    px_levels: FloatLevels,
    sz_levels: IntLevels,
    i: int,
    p: float,
    s: int,
    tol: float,
) -> int:
    """Displayed size at ``p`` on our side after row ``i``: size, 0 (empty) or −1 (unknown).

    See :func:`level_qty_of`, here on row ``i`` of one array per level.
    """
    return level_qty_of([float(a[i]) for a in px_levels], [int(a[i]) for a in sz_levels], p, s, tol)


def level_qty_of(
    prices: Sequence[float], sizes: Sequence[int], p: float, s: int, tol: float
) -> int:
    """Displayed size at ``p`` in one book side (prices and sizes from the touch outwards) for
    an order of side ``s``: size, 0 (empty) or −1 (unknown).

    Walk the levels from the touch: an empty level (the side ends) or a level worse than ``p``
    (``p`` sits in a gap or inside the spread) means nothing is displayed at ``p``; a level at
    ``p`` gives its size; when every displayed level is better than ``p`` we cannot know.
    """
    for x, q in zip(prices, sizes, strict=True):
        if math.isnan(x):
            return 0
        if abs(x - p) <= tol:
            return int(q)
        worse_than_p = x < p - tol if s == 1 else x > p + tol
        if worse_than_p:
            return 0
    return -1


def replay_kernel(  # noqa: PLR0917 - same signature as the kernel
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
) -> tuple[int, int, int]:
    model = queue_model_from_code(queue_code, queue_param)
    o_side, o_rem, o_prev = o_int[O_SIDE], o_int[O_REM], o_int[O_PREV]  # views: updated in place
    o_price, o_ahead, o_traded = o_flt[O_PRICE], o_flt[O_AHEAD], o_flt[O_TRADED]
    n, m, cap = len(ts), len(o_side), len(f_price)
    fills: list[tuple[int, int, float, int, int]] = []

    def fill(i: int, j: int, qty: int, kind: int) -> None:
        fills.append((i, j, float(o_price[j]), qty, kind))
        o_rem[j] -= qty

    def flush(i: int, status: int) -> tuple[int, int, int]:
        for k, (row, j, p, q, kind) in enumerate(fills):
            f_int[F_ROW, k], f_int[F_ORDER, k], f_int[F_SIZE, k], f_int[F_KIND, k] = row, j, q, kind
            f_price[k] = p
        return i, len(fills), status

    i = start
    while i < n:
        if ts[i] > t_stop:
            return flush(i, STATUS_STOP)
        if action[i] == ACTION_CLEAR:
            return flush(i, STATUS_CLEAR)
        for j in range(m):
            if o_rem[j] <= 0:
                continue
            buy = o_side[j] == 1
            p = float(o_price[j])
            # 1. trades on our side of the book: the aggressor is on the other side or unknown
            ours = side[i] != (SIDE_BID if buy else SIDE_ASK)
            if action[i] == ACTION_TRADE and ours:
                tp = float(price[i])
                if abs(tp - p) <= tol:
                    o_ahead[j] = model.on_trade(float(o_ahead[j]), float(size[i]))
                    o_traded[j] += float(size[i])
                    whole = math.floor(-o_ahead[j] + 1e-9) if o_ahead[j] < 0 else 0
                    qty = min(int(o_rem[j]), whole)
                    if qty > 0:
                        fill(i, j, qty, FILL_QUEUE)
                        o_ahead[j] += qty
                elif (tp < p - tol) if buy else (tp > p + tol):
                    fill(i, j, int(o_rem[j]), FILL_THROUGH)
            if o_rem[j] <= 0:
                continue
            # 2. the displayed size at our price
            mine = (bid_px, bid_sz) if buy else (ask_px, ask_sz)
            lq = level_qty(mine[0], mine[1], i, p, int(o_side[j]), tol)
            if lq >= 0 and o_prev[j] < 0:
                o_ahead[j], o_traded[j], o_prev[j] = float(lq), 0.0, lq
            elif lq >= 0 and lq != o_prev[j]:
                o_ahead[j] = model.on_depth(
                    float(o_ahead[j]), float(o_prev[j]), float(lq), float(o_traded[j])
                )
                o_traded[j], o_prev[j] = 0.0, lq
            # 3. the other side's best reaching our price
            opp = float(ask_px[0][i] if buy else bid_px[0][i])
            if not math.isnan(opp) and ((opp <= p + tol) if buy else (opp >= p - tol)):
                fill(i, j, int(o_rem[j]), FILL_CROSS)
        i += 1
        if all(r <= 0 for r in o_rem):
            return flush(i, STATUS_DONE)
        if len(fills) + 2 * m > cap:
            return flush(i, STATUS_FULL)
    return flush(i, STATUS_STOP)
