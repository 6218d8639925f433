"""Run the replay kernel (or its twin) over a whole book as the exchange does, and books for it.

:func:`drive` records every output of every call; :func:`sparse_book` makes books in which each
row changes little (one level, a shift of the levels, a trade, a crossing, now and then two
things at once), as real MBP rows do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myopic_sor.simulation import _kernels

T, A, C, R = ord("T"), ord("A"), ord("C"), ord("R")
TICK = 0.01


def drive(
    fn: Any,
    data: tuple[Any, ...],
    orders: list[np.ndarray],
    *,
    code: int,
    param: float,
    cap: int,
    start: int = 0,
) -> list[object]:
    """Run ``fn`` over the book from row ``start`` as the exchange does (first to the middle,
    then to the end; skipping clear rows, resuming after a full buffer); record every output."""
    state = [a.copy() for a in orders]
    bufs = [np.zeros((4, cap), np.int64), np.zeros(cap)]
    ts = data[0]
    out: list[object] = []
    row, stop = start, int(ts[(start + len(ts)) // 2])
    for _ in range(100_000):
        nxt, nf, status = fn(row, stop, *data, *state, code, param, 1e-6, *bufs)
        out.append((nxt, nf, status, bufs[0][:, :nf].tolist(), bufs[1][:nf].tolist()))
        out.append([s.tolist() for s in state])
        row = nxt + (status == _kernels.STATUS_CLEAR)
        if status == _kernels.STATUS_STOP:
            if stop >= int(ts[-1]):
                break
            stop = int(ts[-1])
        if status == _kernels.STATUS_DONE:
            break
    return out


def _pad(side: list[list[float]], levels: int) -> tuple[list[float], list[int]]:
    px = [p for p, _ in side[:levels]] + [np.nan] * (levels - min(len(side), levels))
    sz = [int(q) for _, q in side[:levels]] + [0] * (levels - min(len(side), levels))
    return px, sz


def _change(
    rng: np.random.Generator, bids: list[list[Any]], asks: list[list[Any]], levels: int
) -> tuple[int, int, float, int]:
    """Change the book a little; return the row's (action, aggressor side, price, size).

    The touch wanders a few ticks around 10.00 / 10.01 (a level appears in front only behind
    that), so that orders placed at the start stay in play."""
    act, ag, px, q = A, ord("B"), np.nan, 0
    book, sign, anchor = (bids, -1, 10.0) if rng.random() < 0.5 else (asks, 1, 10.01)
    u = rng.random()
    if u < 0.1 and (not book or sign * (book[0][0] - anchor) > 1e-9):
        best = book[0][0] if book else anchor  # a better level appears: the levels shift out
        book.insert(0, [round(best - sign * TICK, 2), int(rng.integers(1, 300))])
        px = book[0][0]
    elif u < 0.55 and book:  # one level's size changes, mostly near the touch
        k = min(int(rng.geometric(0.45)) - 1, len(book) - 1)
        book[k][1] = max(1, book[k][1] + int(rng.integers(-150, 151)))
        act, px = (A if rng.random() < 0.5 else C), book[k][0]
    elif u < 0.62 and len(book) > 1:  # a level goes (those behind it shift in)
        k = min(int(rng.geometric(0.5)) - 1, len(book) - 1)
        act, px = C, book.pop(k)[0]
    elif u < 0.8 and book:  # a trade at the touch of this side, now and then through it
        act, ag = T, (ord("A") if book is bids else ord("B"))
        if rng.random() < 0.15:
            ag = ord("N")
        px, q = book[0][0], int(rng.integers(1, 250))
        if rng.random() < 0.03 and len(book) > 1:
            px = book[1][0]  # walked to the second level
        book[0][1] -= q
        if book[0][1] <= 0:
            book.pop(0)
    elif u < 0.86:  # nothing displayed changes (a trade elsewhere, a deep event)
        act, px, q = (T, 1.0, 5) if rng.random() < 0.5 else (A, np.nan, 0)
    elif u < 0.865 and asks and bids:  # the other side reaches this one (a crossing row)
        other = asks if book is bids else bids
        other.insert(0, [book[0][0], int(rng.integers(1, 100))])
    elif u < 0.9 and len(book) > 2:  # a modify: an order leaves level k for the front
        k = min(int(rng.geometric(0.4)), len(book) - 1)
        q = book.pop(k)[1]
        if sign * (book[0][0] - anchor) > 1e-9:
            book.insert(0, [round(book[0][0] - sign * TICK, 2), q])
        else:
            book[0][1] += q
        act, px, q = ord("M"), book[0][0], 0
    elif u < 0.902:
        act = R
    if len(book) < levels + 1 and rng.random() < 0.7:  # refill the side at the back
        last = book[-1][0] if book else anchor
        book.append([round(last + sign * TICK, 2), int(rng.integers(1, 400))])
    while asks and bids and asks[0][0] < bids[0][0] - 1e-9:  # keep the book sane
        (asks if book is bids else bids).pop(0)
    return act, ag, px, q


def sparse_book(rng: np.random.Generator, n: int, levels: int) -> tuple[Any, ...]:
    """A random book of ``n`` rows in which each row changes little (now and then two changes
    at once), in the kernel's argument order (ts, action, side, price, size, then per side one
    array per level)."""
    touch = 1000  # best bid, ticks
    bids = [[(touch - k) * TICK, int(rng.integers(1, 400))] for k in range(levels + 2)]
    asks = [[(touch + 1 + k) * TICK, int(rng.integers(1, 400))] for k in range(levels + 2)]
    cols: dict[str, list[Any]] = {k: [] for k in ("ts", "action", "side", "price", "size")}
    book_rows: list[tuple[list[float], list[int], list[float], list[int]]] = []
    t = 0
    for _ in range(n):
        t += int(rng.integers(0, 3))
        act, ag, px, q = _change(rng, bids, asks, levels)
        if rng.random() < 0.1 and act != R:
            _change(rng, bids, asks, levels)  # a row that changes two things
        cols["ts"].append(t)
        cols["action"].append(act)
        cols["side"].append(ag)
        cols["price"].append(px)
        cols["size"].append(q)
        book_rows.append((*_pad(bids, levels), *_pad(asks, levels)))
    bp, bs, ap, az = (np.array([r[k] for r in book_rows]).T for k in range(4))
    return (
        np.array(cols["ts"], dtype=np.int64),
        np.array(cols["action"], dtype=np.uint8),
        np.array(cols["side"], dtype=np.uint8),
        np.array(cols["price"], dtype=np.float64),
        np.array(cols["size"], dtype=np.int64),
        tuple(np.ascontiguousarray(a, dtype=np.float64) for a in bp),
        tuple(np.ascontiguousarray(a, dtype=np.int64) for a in bs),
        tuple(np.ascontiguousarray(a, dtype=np.float64) for a in ap),
        tuple(np.ascontiguousarray(a, dtype=np.int64) for a in az),
    )


def orders_around(
    rng: np.random.Generator, data: tuple[Any, ...], m: int, row: int = 0
) -> list[np.ndarray]:
    """(o_int, o_flt) of ``m`` orders at the touch, behind it, beyond the displayed levels and
    inside the spread of row ``row``, as the exchange would have entered them."""
    bid0, ask0 = float(data[5][0][row]), float(data[7][0][row])
    side = np.array([1 if k % 2 == 0 else -1 for k in range(m)], dtype=np.int64)
    depth = rng.choice(np.array([0, 0, 1, 2, 3, 6, 14, -1]), m)  # ticks behind the touch
    price = np.where(side > 0, bid0 - depth * TICK, ask0 + depth * TICK).round(2)
    rem = rng.integers(50, 5_000, m).astype(np.int64)
    prev = np.full(m, -1, dtype=np.int64)
    ahead = np.full(m, np.inf)
    for j in range(m):  # join the back of what is displayed, as submit_limit does
        px, sz = (data[5], data[6]) if side[j] > 0 else (data[7], data[8])
        for lv in range(len(px)):
            x = float(px[lv][row])
            if np.isnan(x) or side[j] * (price[j] - x) > 1e-6:
                prev[j], ahead[j] = 0, 0.0
                break
            if abs(x - price[j]) <= 1e-6:
                prev[j], ahead[j] = int(sz[lv][row]), float(sz[lv][row])
                break
    o_int = np.stack([side, rem, prev])
    o_flt = np.stack([price, ahead, np.zeros(m)]).astype(np.float64)
    return [o_int, o_flt]
