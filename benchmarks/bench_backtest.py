"""Replay throughput and the wall time of a full comparison on one synthetic 3-venue day.

Run: ``python benchmarks/bench_backtest.py [LAYOUT_DIR]`` (default: generate the embedded
default day). Prints

* the replay kernel's throughput in rows/s with limit orders resting all day on every venue
  (two every 30 s per venue, 120 s horizon) for the risk-averse and prob-power:2 queue models,
  and the whole replay's events/s (target of the issue: 10 M events/s);
* the wall time and peak memory of a full-day comparison (09:30-16:00, 10,000 shares): myopic
  with zero alpha evaluated every ``--myopic-step`` seconds (issue: 5 s), the traditional
  approach every 120 s and TWAP every 120 s (target: 30 s), with each strategy's time per
  evaluation. The time is measured without ``tracemalloc`` (tracing every allocation made the
  run about three times slower); memory is the peak resident set size above its level at the
  start of the comparison (Linux; elsewhere the process's lifetime peak), and
  ``--traced-memory`` repeats the comparison under ``tracemalloc`` for its peak traced memory;

and checks the results: every strategy fills the parent exactly, the kernel's fills equal the
Python twin's on a slice of the day. ``--record FILE`` saves every decision and fill of the
comparison; ``--parity FILE`` checks a later run (another version of the code) makes exactly the
same decisions and fills. ``--no-replay`` skips the replay throughput and ``--end HH:MM`` ends
the comparison early, for short runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import pickle
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from myopic_sor.analysis import arrival_mid
from myopic_sor.backtest import Backtester, MyopicStrategy, ParentOrder, TraditionalStrategy
from myopic_sor.backtest._strategies import ScheduledStrategy
from myopic_sor.config import load_config
from myopic_sor.data import MarketData, generate_market_data, load_market_data
from myopic_sor.routing._inputs import _CUMULATIVE
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


def _peak_rss_reset() -> bool:
    """Reset the process's peak resident set size (Linux); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_mb(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` (peak) of this process, MB (Linux); the lifetime peak elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 2**20 if sys.platform == "darwin" else 2**10  # ru_maxrss: bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def full_comparison(
    md: MarketData, myopic_step: float, end: dt.time | None = None
) -> dict[str, Any]:
    """Run the three strategies; return ``{name: (seconds, result)}`` and the totals."""
    cfg = load_config(overrides=["strategy.N=1000", "execution.order_freq=120"])
    t0, t1 = md.session_bounds_ns(cfg.execution.start_time, end or cfg.execution.end_time)
    parent = ParentOrder(md.symbol, 1, 10_000, t0, t1)
    params = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=1e6)
    engine = Backtester(md, cfg, seed=1)
    arrival_mid(md, t0)
    strategies = [
        MyopicStrategy(MyopicScheduler(params, risk=cfg.risk, eval_every_s=myopic_step)),
        TraditionalStrategy(120.0),
        ScheduledStrategy(TWAPScheduler(slot_s=120.0)),
    ]
    _CUMULATIVE.clear()  # no router sums left from an earlier run of this process
    rss0 = _rss_mb("VmRSS")
    exact_peak = _peak_rss_reset()
    start = time.perf_counter()
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _ = engine.frame  # built once, shared by the three runs (timed)
        for strat in strategies:
            s0 = time.perf_counter()
            res = engine.run(parent, strat)
            out[strat.name] = (time.perf_counter() - s0, res)
    out["elapsed"] = time.perf_counter() - start
    out["peak_rss_mb"] = _rss_mb("VmHWM") - (rss0 if exact_peak else 0.0)
    out["peak_rss_exact"] = exact_peak
    return out


def traced_peak_mb(md: MarketData, myopic_step: float, end: dt.time | None) -> float:
    """Peak ``tracemalloc`` memory of the comparison, MB (the run is ~3x slower traced)."""
    tracemalloc.start()
    try:
        full_comparison(md, myopic_step, end)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _record(out: dict[str, Any]) -> dict[str, Any]:
    """Every decision and fill of each strategy (what ``--parity`` compares)."""
    return {
        name: {"decisions": res.decisions, "fills": res.fills}
        for name, value in out.items()
        if isinstance(value, tuple)
        for res in (value[1],)
    }


def _same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN, arrays and containers element by element."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_parity(record: dict[str, Any], out: dict[str, Any]) -> list[str]:
    """Differences between a recorded comparison and this one (empty: identical)."""
    now = _record(out)
    problems: list[str] = []
    for name, rec in record.items():
        if name not in now:
            problems.append(f"{name}: not run")
            continue
        da, db = rec["decisions"], now[name]["decisions"]
        if len(da) != len(db):
            problems.append(f"{name}: {len(da)} decisions recorded, {len(db)} now")
        for i, (x, y) in enumerate(zip(da, db, strict=False)):
            if not _same(x, y):
                keys = sorted(k for k in set(x) | set(y) if not _same(x.get(k), y.get(k)))
                problems.append(f"{name}: decision {i} at {x.get('timestamp')} differs in {keys}")
                break
        try:
            pd.testing.assert_frame_equal(rec["fills"], now[name]["fills"], check_exact=True)
        except AssertionError as exc:
            problems.append(f"{name}: fills differ: {str(exc).splitlines()[0]}")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("layout", nargs="?", help="spec layout folder of one stock (optional)")
    ap.add_argument("--myopic-step", type=float, default=5.0, help="myopic step, seconds")
    ap.add_argument("--no-replay", action="store_true", help="skip the replay throughput")
    ap.add_argument("--end", help="end of the comparison window, HH:MM (default 16:00)")
    ap.add_argument("--traced-memory", action="store_true", help="also run under tracemalloc")
    ap.add_argument("--record", type=Path, help="save every decision and fill to this file")
    ap.add_argument("--parity", type=Path, help="check decisions and fills against a record")
    args = ap.parse_args()
    end = dt.time.fromisoformat(args.end) if args.end else None
    t = time.perf_counter()
    md = load_market_data(args.layout) if args.layout else generate_market_data(seed=1)[0]
    print(f"data: {md.symbol} {md.date}, {md.n_events:,} events ({time.perf_counter() - t:.1f} s)")
    if not args.no_replay:
        for model in ("risk-averse", "prob-power:2"):
            replay_throughput(md.between(None, md.first_ts + 600 * NS), model)  # compile
            rows, events, n_fills = replay_throughput(md, model)
            print(
                f"replay {model:13s} kernel {rows / 1e6:6.2f} M rows/s, whole replay "
                f"{events / 1e6:5.2f} M events/s (target 10), {n_fills:,} fills"
            )
    # compile the kernels on a short window first: the timed run measures the steady state
    _, warm_end = md.session_bounds_ns(dt.time(9, 30), dt.time(9, 50))
    full_comparison(md.between(None, warm_end), args.myopic_step, dt.time(9, 45))
    out = full_comparison(md, args.myopic_step, end)
    for name, value in out.items():
        if isinstance(value, tuple):
            secs, res = value
            m = res.metrics
            per = 1e3 * secs / max(m["num_evaluations"], 1)
            print(
                f"  {name:12s} {secs:7.1f} s  evaluations {m['num_evaluations']:5d} "
                f"({per:5.2f} ms each)  decisions {m['num_decisions']:5d}  IS "
                f"{m['implementation_shortfall_bps']:7.2f} bps  filled {m['total_size']:,}"
            )
            assert m["total_size"] == 10_000, name
    rss = "peak RSS" if out["peak_rss_exact"] else "process lifetime peak RSS"
    window = f"until {args.end}" if args.end else "full day"
    print(
        f"comparison ({window}; myopic every {args.myopic_step:g} s, traditional 120 s, TWAP "
        f"120 s): {out['elapsed']:.1f} s (target 30 s), {rss} +{out['peak_rss_mb']:.0f} MB"
    )
    if args.traced_memory:
        peak = traced_peak_mb(md, args.myopic_step, end)
        print(f"peak traced memory of the comparison (tracemalloc): {peak:.0f} MB")
    if args.record:
        args.record.write_bytes(pickle.dumps(_record(out)))
        print(f"recorded every decision and fill to {args.record}")
    if args.parity:
        problems = check_parity(pickle.loads(args.parity.read_bytes()), out)
        for p in problems:
            print(f"parity: {p}")
        assert not problems, "decisions or fills differ from the record"
        n = sum(len(v[1].decisions) for v in out.values() if isinstance(v, tuple))
        print(f"parity with {args.parity}: the same {n} decisions and every fill, exactly")
    print("OK")


if __name__ == "__main__":
    main()
