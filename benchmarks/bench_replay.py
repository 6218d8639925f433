"""Replay fill-kernel throughput on one synthetic 3-venue day (issue 5, point 8: ≥ 10 M events/s).

Run: ``python benchmarks/bench_replay.py [LAYOUT_DIR] [--step 5] [--minutes M] [--models ...]``
(default: generate the embedded default day, seed 1). An order pattern like a router's runs
through the :class:`~myopic_sor.simulation.ReplayExchange` all day:

* every ``--step`` seconds on every venue, a buy limit joining the best bid (500 shares) and a
  sell limit one tick behind the best ask (300 shares), each with a ``--step`` horizon (no
  catch-up): so a limit order rests on each side of each venue most of the day, re-posted;
* every 120 s on every venue, a buy limit 3 ticks under the best bid (300 shares, 120 s horizon,
  catch-up market order at the horizon);
* every 60 s a 200-share market order on one venue (venues in turn, sides alternating).

Events are the MBP rows of all venues (``MarketData.n_events``). Printed, per queue model:

* **kernel**: rows the fill kernel advanced over divided by the time spent in its calls (the
  numba dispatch of each call included), wall and CPU — the issue's "replay throughput of the
  fill kernel"; the CPU cost of a call, and of a call that processes no row (the dispatch);
* **whole replay**: all events divided by the time of the whole replay (every exchange call of
  the pattern, the fill log, expiries and market orders; the book look-ups of the pattern are
  made beforehand), wall and CPU (the machine may be shared), and its CPU outside the kernel;
* a digest of the fills (identical before and after a speed-up that changes no fill);

then the first model again on the same data with one buffer per column (as the file loaders
make them: the kernel gets the level columns as tuples, not as one 2-D view).

Check (exit 1 on failure): on a slice of the day the exchange's fills with the compiled kernel
equal those with the plain-Python twin, for every queue model.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from myopic_sor.data import MarketData, VenueData, generate_market_data, load_market_data
from myopic_sor.simulation import ReplayExchange, _kernels

NS = 1_000_000_000
TICK = 0.01
TARGET = 10e6
MODELS = ("risk-averse", "prob-power:2", "prob-log")


@dataclass
class Timing:
    """What one replay of the pattern took."""

    wall: float = 0.0
    cpu: float = 0.0
    kernel: float = 0.0
    kernel_cpu: float = 0.0
    kernel_rows: int = 0
    calls: int = 0
    fills: int = 0
    digest: str = ""


def _timed_kernel(ex: ReplayExchange, timing: Timing) -> None:
    """Wrap the exchange's kernel to count its rows, calls and time (the dispatch included)."""
    kernel: Callable[..., Any] = ex._kernel

    def timed(start: int, *args: object) -> Any:
        t, c = time.perf_counter(), time.thread_time()
        out = kernel(start, *args)
        timing.kernel += time.perf_counter() - t
        timing.kernel_cpu += time.thread_time() - c
        timing.kernel_rows += int(out[0]) - start
        timing.calls += 1
        return out

    ex._kernel = timed


Action = tuple[
    str, str, str, float, int, int, bool
]  # kind, venue, side, price, size, horizon, catch-up


def plan(md: MarketData, step_s: float) -> list[tuple[int, list[Action]]]:
    """The order pattern of the module docstring: (time, actions) per step, the book looked up
    beforehand so that the timed loop holds only exchange calls."""
    names = md.venue_names
    step = round(step_s * NS)
    first, last = md.first_ts, md.last_ts
    times = np.arange(first + NS, last, step, dtype=np.int64)
    rows = {v: np.searchsorted(md[v].ts_event, times, "right") - 1 for v in names}
    out: list[tuple[int, list[Action]]] = []
    k = 0
    for n, t in enumerate(times.tolist()):
        acts: list[Action] = []
        for v in names:
            i = int(rows[v][n])
            if i < 0:
                continue
            b, a = float(md[v].best_bid[i]), float(md[v].best_ask[i])
            if np.isfinite(b) and np.isfinite(a):
                acts.append(("limit", v, "buy", round(b, 2), 500, step, False))
                acts.append(("limit", v, "sell", round(a + TICK, 2), 300, step, False))
                if (t - first) % (120 * NS) < step:
                    acts.append(("limit", v, "buy", round(b - 3 * TICK, 2), 300, 120 * NS, True))
        if (t - first) % (60 * NS) < step:
            side = "buy" if k % 2 == 0 else "sell"
            acts.append(("market", names[k % len(names)], side, 0.0, 200, 0, False))
            k += 1
        out.append((t, acts))
    return out


def run_pattern(
    md: MarketData, model: str, *, step_s: float = 5.0, use_numba: bool = True
) -> tuple[ReplayExchange, Timing]:
    """Run the order pattern of the module docstring through one exchange; time it."""
    ex = ReplayExchange(
        md,
        fees=0.003,
        rebates=0.002,
        queue_model=model,
        depth_policy=("penalty", 0.05),
        use_numba=use_numba,
    )
    timing = Timing()
    _timed_kernel(ex, timing)
    steps = plan(md, step_s)
    wall, cpu = time.perf_counter(), time.process_time()
    for t, acts in steps:
        ex.advance_to(t)
        for kind, venue, side, price, size, horizon, catch_up in acts:
            if kind == "limit":
                ex.submit_limit(
                    t, venue, side, price, size, cancel_after_ns=horizon, catch_up=catch_up
                )
            else:
                ex.submit_market(t, venue, side, size)
    ex.advance_to(md.last_ts)
    timing.wall = time.perf_counter() - wall
    timing.cpu = time.process_time() - cpu
    fills = ex.fills
    timing.fills = len(fills)
    fields = b"".join(fills[name].tobytes() for name in fills.dtype.names or ())  # no padding
    timing.digest = hashlib.sha256(fields).hexdigest()[:16]
    return ex, timing


def check_twin(md: MarketData, minutes: float) -> bool:
    """Fills with the compiled kernel equal those with the Python twin on the first minutes."""
    part = md.between(None, md.first_ts + round(minutes * 60 * NS))
    ok = True
    for model in MODELS:
        fast, _ = run_pattern(part, model, step_s=2.0)
        slow, _ = run_pattern(part, model, step_s=2.0, use_numba=False)
        same = fast.fills_frame().equals(slow.fills_frame())
        n = len(fast.fills)
        print(
            f"twin check {model:13s} {minutes:g} min, {n:,} fills: {'equal' if same else 'DIFFER'}"
        )
        ok = ok and same and n > 0
    return ok


def separate_columns(md: MarketData) -> MarketData:
    """The same data with every column in its own buffer, as the file loaders make them (the
    replay then gets the level columns as a tuple instead of one 2-D view)."""
    venues = {}
    for name in md.venue_names:
        cols = {k: np.array(a, copy=True) for k, a in md[name].columns.items()}
        venues[name] = VenueData(venue=name, symbol=md.symbol, columns=cols, source="copy")
    return MarketData(symbol=md.symbol, date=md.date, venues=venues)


def dispatch_us(ex: ReplayExchange) -> float:
    """Cost of one kernel call that processes no row (argument unboxing and return), µs."""
    b = ex._books[0]  # the benchmark measures the kernel
    kernel = _kernels.replay_kernel
    args = (
        b.ts, b.action, b.side, b.price, b.size, b.bid_px, b.bid_sz, b.ask_px, b.ask_sz,
        b.o_int[:, :2], b.o_flt[:, :2], 0, 0.0, 1e-6, np.zeros((4, 64), np.int64), np.zeros(64),
    )  # fmt: skip
    kernel(0, -1, *args)
    n = 20_000
    t = time.thread_time()
    for _ in range(n):
        kernel(0, -1, *args)  # stops before row 0
    return (time.thread_time() - t) / n * 1e6


def report(md: MarketData, model: str, step_s: float, label: str = "") -> None:
    """Replay the day once after a warm-up and print the figures of the module docstring."""
    run_pattern(md.between(None, md.first_ts + 120 * NS), model)  # compile / load the cache
    ex, tm = run_pattern(md, model, step_s=step_s)
    ev = md.n_events
    print(
        f"{model}{label}: kernel {tm.kernel_rows / tm.kernel / 1e6:.2f} M events/s wall, "
        f"{tm.kernel_rows / tm.kernel_cpu / 1e6:.2f} CPU ({tm.kernel_rows:,} rows, "
        f"{tm.kernel:.3f} s in {tm.calls:,} calls, {tm.kernel_cpu / tm.calls * 1e6:.1f} µs CPU a "
        f"call of which ~{dispatch_us(ex):.1f} µs dispatch)\n"
        f"    whole replay {ev / tm.wall / 1e6:.2f} M events/s wall ({tm.wall:.2f} s), "
        f"{ev / tm.cpu / 1e6:.2f} CPU ({tm.cpu:.2f} s; outside the kernel "
        f"{tm.cpu - tm.kernel_cpu:.2f} s CPU); {tm.fills:,} fills, digest {tm.digest}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("layout", nargs="?", help="spec layout folder of one stock (optional)")
    ap.add_argument("--step", type=float, default=5.0, help="re-post interval, seconds")
    ap.add_argument("--minutes", type=float, help="replay only the first M minutes")
    ap.add_argument("--twin-minutes", type=float, default=3.0, help="slice for the twin check")
    ap.add_argument("--models", default=",".join(MODELS), help="queue models, comma-separated")
    args = ap.parse_args()
    t = time.perf_counter()
    md = load_market_data(args.layout) if args.layout else generate_market_data(seed=1)[0]
    if args.minutes:
        md = md.between(None, md.first_ts + round(args.minutes * 60 * NS))
    print(f"data: {md.symbol} {md.date}, {md.n_events:,} events ({time.perf_counter() - t:.1f} s)")
    ok = check_twin(md, args.twin_minutes)
    models = args.models.split(",")
    for model in models:
        report(md, model, args.step)
    report(separate_columns(md), models[0], args.step, " (one buffer per column)")
    print(f"target: {TARGET / 1e6:g} M events/s for the fill kernel")
    print("OK" if ok else "FAILED: the compiled kernel and its twin disagree")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
