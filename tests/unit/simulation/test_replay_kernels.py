"""Parity of the replay kernel with its plain-Python twin, and of the exchange run on both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numba
import numpy as np
import pytest
from _kernel_drive import drive

from myopic_sor.data import generate_market_data
from myopic_sor.simulation import ReplayExchange, _kernels, _python

T, A, C, R = ord("T"), ord("A"), ord("C"), ord("R")
TICK = 0.01


def _random_book(rng: np.random.Generator, n: int, levels: int) -> tuple[Any, ...]:
    touch = 1000 + np.cumsum(rng.integers(-1, 2, n))  # best bid in ticks, a random walk
    gap = rng.integers(1, 3, n)  # spread 1 or 2 ticks
    bid_px = [(touch - k) * TICK for k in range(levels)]
    ask_px = [(touch + gap + k) * TICK for k in range(levels)]
    bid_sz = [rng.integers(0, 400, n).astype(np.int64) for _ in range(levels)]
    ask_sz = [rng.integers(0, 400, n).astype(np.int64) for _ in range(levels)]
    short = rng.random(n) < 0.1  # sometimes the deepest level is empty
    bid_px[-1] = np.where(short, np.nan, bid_px[-1])
    ask_px[0] = np.where(rng.random(n) < 0.05, touch * TICK, ask_px[0])  # ask reaching the bid
    action = rng.choice(np.array([A, C, T, T], dtype=np.uint8), n)
    action[rng.random(n) < 0.01] = R
    side = rng.choice(np.array([ord("A"), ord("B"), ord("N")], dtype=np.uint8), n)
    price = (touch + rng.integers(-3, 4, n)) * TICK
    size = rng.integers(1, 300, n).astype(np.int64)
    ts = np.cumsum(rng.integers(0, 3, n)).astype(np.int64)
    return (
        ts, action, side, price, size,
        tuple(np.ascontiguousarray(a) for a in bid_px), tuple(bid_sz),
        tuple(np.ascontiguousarray(a) for a in ask_px), tuple(ask_sz),
    )  # fmt: skip


def _random_orders(rng: np.random.Generator, m: int, touch: float) -> list[np.ndarray]:
    """(o_int, o_flt) of ``m`` random orders around ``touch``."""
    side = rng.choice(np.array([1, -1], dtype=np.int64), m)
    price = touch + TICK * np.where(side > 0, -rng.integers(0, 4, m), rng.integers(1, 5, m))
    rem = rng.integers(1, 500, m).astype(np.int64)
    prev = rng.integers(-1, 400, m).astype(np.int64)
    ahead = np.where(prev < 0, np.inf, rng.random(m) * np.maximum(prev, 0))
    traded = np.zeros(m)
    return [np.stack([side, rem, prev]), np.stack([price, ahead, traded]).astype(np.float64)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("code", "param"), [(0, 0.0), (1, 1.0), (1, 2.5), (2, 0.0)])
def test_replay_kernel_matches_its_python_twin(seed: int, code: int, param: float) -> None:
    rng = np.random.default_rng(seed)
    data = _random_book(rng, 800, 3)
    orders = _random_orders(rng, 6, float(data[5][0][0]))
    cap = 16 if seed % 2 else 4096  # a small buffer exercises the "full" stop
    kw = {"code": code, "param": param, "cap": cap}
    fast = drive(_kernels.replay_kernel, data, orders, **kw)
    slow = drive(_python.replay_kernel, data, orders, **kw)
    assert fast == slow
    assert any(x[1] for x in fast[::2])  # something filled: the test can fail


@numba.njit
def _compiled_level_qty(  # noqa: PLR0917 - the kernel helper's positional signature
    px: Any, sz: Any, i: int, p: float, s: int, tol: float
) -> int:
    return _kernels.level_qty(px, sz, i, p, s, tol)


def test_level_qty_parity() -> None:
    rng = np.random.default_rng(7)
    data = _random_book(rng, 300, 4)
    bid_px, bid_sz, ask_px, ask_sz = data[5:9]
    seen: set[int] = set()
    for i in range(300):
        for p in (9.9, 9.95, 9.97, 10.0, 10.02, 10.05, 10.1):
            for s, (px, sz) in ((1, (bid_px, bid_sz)), (-1, (ask_px, ask_sz))):
                a = _compiled_level_qty(px, sz, i, p, s, 1e-6)
                b = _python.level_qty(px, sz, i, p, s, 1e-6)
                assert a == b
                seen.add(a if a <= 0 else 1)
    assert seen == {-1, 0, 1}  # unknown, empty and shown levels all occur


def test_exchange_on_numba_and_python_gives_the_same_fills() -> None:
    md, _ = generate_market_data(seed=5, session_end=dt.time(9, 31))
    t0 = md.first_ts
    frames = []
    for use_numba in (True, False):
        ex = ReplayExchange(md, fees=0.003, rebates=0.002, queue_model="prob-power:2",
                            use_numba=use_numba)  # fmt: skip
        for k in range(6):
            t = t0 + (5 + 8 * k) * 10**9
            ex.advance_to(t)
            for v in md.venue_names:
                bid = float(md[v].between(None, t).best_bid[-1])
                ask = float(md[v].between(None, t).best_ask[-1])
                ex.submit_limit(t, v, "buy", bid, 200, cancel_after_ns=6 * 10**9)
                ex.submit_limit(t, v, "sell", ask + 0.01, 150, cancel_after_ns=9 * 10**9)
        ex.advance_to(md.last_ts)
        frames.append(ex.fills_frame())
    assert len(frames[0]) > 10
    assert frames[0].equals(frames[1])
    assert set(frames[0]["liquidity"]) == {"maker", "taker"}
