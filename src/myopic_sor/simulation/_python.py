"""Plain-Python twin of :mod:`myopic_sor.simulation._kernels` (same names, same signatures).

Written for reading, not for speed: the queue updates go through the
:class:`~myopic_sor.simulation.QueueModel` methods, so the parity test checks the compiled
formulas against the documented ones. ``ReplayExchange(..., use_numba=False)`` runs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from myopic_sor._typing import Float64Array1D, Int64Array1D, UInt8Array1D
from myopic_sor.data._schema import ACTION_CLEAR, ACTION_TRADE, SIDE_ASK, SIDE_BID
from myopic_sor.simulation._kernels import (
    FILL_CROSS,
    FILL_QUEUE,
    FILL_THROUGH,
    STATUS_CLEAR,
    STATUS_DONE,
    STATUS_FULL,
    STATUS_STOP,
)
from myopic_sor.simulation._queue import queue_model_from_code

__all__ = ["level_qty", "replay_kernel"]


def level_qty(  # noqa: PLR0917 - same signature as the kernel helper
    px_levels: Sequence[Float64Array1D],
    sz_levels: Sequence[Int64Array1D],
    i: int,
    p: float,
    s: int,
    tol: float,
) -> int:
    """Displayed size at ``p`` on our side after row ``i``: size, 0 (empty) or −1 (unknown).

    Walk the levels from the touch: an empty level (the side ends) or a level worse than ``p``
    (``p`` sits in a gap or inside the spread) means nothing is displayed at ``p``; a level at
    ``p`` gives its size; when every displayed level is better than ``p`` we cannot know.
    """
    for prices, sizes in zip(px_levels, sz_levels, strict=True):
        x = float(prices[i])
        if math.isnan(x):
            return 0
        if abs(x - p) <= tol:
            return int(sizes[i])
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
) -> tuple[int, int, int]:
    model = queue_model_from_code(queue_code, queue_param)
    n, m, cap = len(ts), len(o_side), len(f_row)
    fills: list[tuple[int, int, float, int, int]] = []

    def fill(i: int, j: int, qty: int, kind: int) -> None:
        fills.append((i, j, float(o_price[j]), qty, kind))
        o_rem[j] -= qty

    def flush(i: int, status: int) -> tuple[int, int, int]:
        for k, (row, j, p, q, kind) in enumerate(fills):
            f_row[k], f_order[k], f_price[k], f_size[k], f_kind[k] = row, j, p, q, kind
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
