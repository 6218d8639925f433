"""Benchmark: a batch of 3 stocks x 2 days through ``run_batch`` on 1 vs 2 joblib workers.

Generates synthetic days in the spec's layout (``<tmp>/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.
parquet``, 3 venues, sessions 09:30 to ``--session-end``) and runs every stock-day as one batch
item (one ``compare_myopic_vs_traditional``: traditional and myopic on the same parent, data and
seed) with ``executor="processes"`` and ``n_jobs`` = 1 (joblib runs the items one after the
other in this process) then 2 (two loky worker processes, started cold: their imports and numba
cache loads are part of the time, as for a user). Each run writes into a fresh results folder
(finished items are skipped on a re-run). One item runs first, untimed, so this process is warm
for the 1-worker run.

Prints the data used, the wall time per worker count (best of ``--repeat``), items/s, the
scaling ratio t(1)/t(2) (ideal 2 on 2 free cores) and the items' figures. Checks (exit 1 on
failure): every item finishes, both runs give identical per-item results (the item JSONs are
equal), each parent is filled exactly, no myopic run fell back to the traditional one.

The first 2-worker run starts its workers cold; with ``--repeat 2`` the next one reuses them
(loky keeps its pool), which separates start-up from throughput. The machine's other load
shows in the wall times: they are noisy.

Usage::

    python benchmarks/bench_batch.py [--session-end 10:30] [--start 09:45] [--quantity 1000]
                                     [--order-freq 60] [--workers 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from myopic_sor.backtest import batch_items, run_batch
from myopic_sor.data import SyntheticConfig, SyntheticMarket

STOCKS = {"AAPL": 220.0, "MSFT": 390.0, "GOOGL": 160.0}
DAYS = ["2025-04-01", "2025-04-02"]


def generate(root: Path, session_end: dt.time) -> int:
    """Write the 3 x 2 synthetic days under ``root``; return the number of book events."""
    events = 0
    for k, (stock, price) in enumerate(STOCKS.items()):
        for j, day in enumerate(DAYS):
            cfg = SyntheticConfig(
                symbol=stock,
                date=dt.date.fromisoformat(day),
                initial_price=price,
                session_end=session_end,
            )
            market = SyntheticMarket(cfg, seed=100 * k + j)
            events += market.generate().n_events
            market.write(root)
    return events


def items_of(out: Path) -> dict[str, Any]:
    """Every finished item's JSON under ``out`` (key -> record)."""
    return {
        p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((out / "items").glob("*.json"))
        if not p.name.endswith(".error.json")
    }


def errors_of(out: Path) -> list[str]:
    return [
        json.loads(p.read_text(encoding="utf-8"))["error"]
        for p in sorted((out / "items").glob("*.error.json"))
    ]


def timed_batch(root: Path, out: Path, base: dict[str, Any], workers: int) -> float:
    items = batch_items(list(STOCKS), DAYS)
    start = time.perf_counter()
    run_batch(items, root, out, base_params=base, executor="processes", n_jobs=workers)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--session-end", default="10:30", help="end of the generated sessions")
    ap.add_argument("--start", default="09:50", help="window start (>= 15 min of data before it)")
    ap.add_argument("--quantity", type=int, default=1000, help="parent size S, shares")
    ap.add_argument("--order-freq", type=float, default=60.0, help="decision step, seconds")
    ap.add_argument("--workers", type=int, default=2, help="the parallel run's joblib workers")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per worker count")
    args = ap.parse_args()
    session_end = dt.time.fromisoformat(args.session_end)
    hh, mm = args.start.split(":")
    eh, em = args.session_end.split(":")
    base: dict[str, Any] = {
        "S": args.quantity,
        "order_freq": args.order_freq,
        "start_time": (hh, mm),
        "end_time": (eh, em),  # the window ends with the data
        "lookup_duration": (0, 15),
    }
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        t = time.perf_counter()
        events = generate(root, session_end)
        print(
            f"data: {len(STOCKS)} stocks x {len(DAYS)} days ({', '.join(STOCKS)}; "
            f"{', '.join(DAYS)}), 3 venues, sessions 09:30-{args.session_end}, {events:,} book "
            f"events, generated in {time.perf_counter() - t:.1f} s"
        )
        print(
            f"items: compare myopic vs traditional, buy {args.quantity:,} shares "
            f"{args.start}-{args.session_end}, decisions every {args.order_freq:g} s; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the items' own warnings are counted in their info
            t = time.perf_counter()
            warm = batch_items(["AAPL"], DAYS[:1])
            run_batch(warm, root, Path(tmp) / "warm", base_params=base)
            print(f"warm-up (1 item, untimed in the table): {time.perf_counter() - t:.1f} s\n")
            runs: dict[int, list[float]] = {}
            outs: dict[int, Path] = {}
            for workers in (1, args.workers):
                runs[workers] = []
                for r in range(args.repeat):  # loky keeps its workers: repeats run warm
                    outs[workers] = Path(tmp) / f"out-{workers}-{r}"
                    runs[workers].append(timed_batch(root, outs[workers], base, workers))
            walls = {w: min(t) for w, t in runs.items()}
        n_items = len(STOCKS) * len(DAYS)
        print(f"{'workers':>7}{'best s':>9}{'items/s':>9}{'s/item':>8}  runs (s)")
        for workers, wall in walls.items():
            print(
                f"{workers:>7}{wall:>9.1f}{n_items / wall:>9.2f}{wall / n_items:>8.2f}  "
                + ", ".join(f"{t:.1f}" for t in runs[workers])
            )
        ratio = walls[1] / walls[args.workers]
        print(
            f"scaling: t(1) / t({args.workers}) = {ratio:.2f} (ideal {args.workers}; "
            f"noisy: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs at the end)\n"
        )
        results = {w: items_of(out) for w, out in outs.items()}
        for w, out in outs.items():
            for err in errors_of(out):
                print(f"FAILED item ({w} worker(s)): {err}")
                ok = False
            if len(results[w]) != n_items:
                print(f"FAILED: {len(results[w])} of {n_items} items finished ({w} worker(s))")
                ok = False
        print(f"{'item':<18}{'myopic $/sh':>12}{'trad $/sh':>11}{'improv %':>10}  myopic λ")
        for key, rec in results[1].items():
            other = results[args.workers].get(key)
            same = other == rec
            filled = all(rec[s]["total_size"] == args.quantity for s in ("myopic", "traditional"))
            fallback = rec["myopic"]["fallback_reason"]  # the myopic run failed: traditional ran
            ok &= same and filled and fallback is None
            print(
                f"{key:<18}{rec['myopic']['avg_cost_per_share']:>12.4f}"
                f"{rec['traditional']['avg_cost_per_share']:>11.4f}"
                f"{rec['improvement']['cost_improvement_pct']:>10.4f}  "
                f"λ = {rec['myopic']['lambda_used']:.4g}"
                f"{'' if same else '  DIFFERS between 1 and ' + str(args.workers) + ' workers'}"
                f"{'' if filled else '  NOT FILLED'}"
                f"{'' if fallback is None else '  MYOPIC FELL BACK: ' + fallback}"
            )
    print("OK: identical results per item on 1 and 2 workers" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
