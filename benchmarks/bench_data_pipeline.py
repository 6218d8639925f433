"""Benchmark: load + validate + features for a full synthetic 3-venue day, from Parquet and DBN.

Prints rows/s end to end (best of the repeats) and the peak memory of the first run above the
process baseline, against the targets (>= 3M rows/s; peak <= 3x the bytes of the loaded
columns). Each format runs in a fresh process so its peak resident memory (VmHWM) is its own;
numba kernels are compiled on a tiny input first, so compilation is reported apart from the
timed runs. The results are checked (row counts, venues, the frame's length, finite mids, the
outflow grid; validation errors raise), and the script exits 1 if a check fails.

Usage::

    python benchmarks/bench_data_pipeline.py [--repeat 3] [--formats parquet,dbn,dbn.zst]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_ROWS_PER_S = 3_000_000
TARGET_MEMORY_RATIO = 3.0

_CHILD = r"""
import json, resource, sys, time, datetime as dt
from pathlib import Path

def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

def peak_bytes() -> int:
    # VmHWM is this process image's high-water mark; getrusage's ru_maxrss is not: Linux
    # carries the parent's maximum over fork + exec, which would report the parent's memory
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

import numpy as np
import myopic_sor.features as F
from myopic_sor.data import generate_market_data, load_market_data

def pipeline(path, day):
    md = load_market_data(path, day=day)          # load + validate (raises on errors)
    frame = F.spec_frame(md, volatility=0.015, adv=45e6)
    outflows = {v.venue: F.queue_outflows(v, 10**9) for v in md}
    ofi = {v.venue: F.ofi_buckets(v, 10**9) for v in md}
    return md, frame, outflows, ofi

path, day, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
tiny, _ = generate_market_data(seed=1, session_end=dt.time(9, 31))
F.spec_frame(tiny, volatility=0.015, adv=45e6)
for v in tiny:
    F.queue_outflows(v, 10**9); F.ofi_buckets(v, 10**9)
warm = time.perf_counter() - t0
base = rss_bytes()
times = []
for i in range(repeat):
    t = time.perf_counter()
    md, frame, outflows, ofi = pipeline(path, day)
    times.append(time.perf_counter() - t)
    if i == 0:  # memory of one run: later runs reuse freed heap, which inflates max RSS
        peak = peak_bytes()
    if i < repeat - 1:
        del md, frame, outflows, ofi
loaded = sum(a.nbytes for v in md for a in v.columns.values())
checks = {
    "rows_match_frame": len(frame) == md.n_events,
    "venues": md.venue_names == ("ARCX", "BATS", "XNAS"),
    "mid_finite_share": float(np.isfinite(frame["mid_price"].to_numpy()).mean()),
    "outflow_buckets": all(len(o.start_ns) > 20_000 for o in outflows.values()),
}
print(json.dumps({"rows": md.n_events, "times": times, "warmup_s": warm, "base": base,
                  "peak": peak, "loaded": loaded, "checks": checks}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="parquet,dbn,dbn.zst")
    args = ap.parse_args()

    from myopic_sor.data import SyntheticMarket

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        market = SyntheticMarket()
        t = time.perf_counter()
        data = market.generate()
        print(f"generated the default day: {data.n_events:,} events in "
              f"{time.perf_counter() - t:.1f} s (seed {market.config.seed})")  # fmt: skip
        for fmt in args.formats.split(","):
            out = Path(tmp) / fmt.replace(".", "_")
            t = time.perf_counter()
            market.write(out, fmt=fmt)  # type: ignore[arg-type]
            size = sum(p.stat().st_size for p in (out / "AAPL").glob("*.mbp-10.*"))
            print(f"wrote {fmt}: {size / 1e6:,.0f} MB in {time.perf_counter() - t:.1f} s")
        print()
        header = (f"{'format':<9}{'rows':>11}{'best s':>9}{'rows/s':>12}{'loaded MB':>11}"
                  f"{'peak+ MB':>10}{'ratio':>7}  targets")  # fmt: skip
        print(header)
        for fmt in args.formats.split(","):
            folder = Path(tmp) / fmt.replace(".", "_") / "AAPL"
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, str(folder), "2025-04-02", str(args.repeat)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                print(f"{fmt}: FAILED\n{proc.stderr}")
                ok = False
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            best = min(r["times"])
            rate = r["rows"] / best
            extra = r["peak"] - r["base"]
            ratio = extra / r["loaded"]
            c = r["checks"]
            good = (
                r["rows"] == data.n_events
                and c["rows_match_frame"]
                and c["venues"]
                and c["mid_finite_share"] > 0.99
                and c["outflow_buckets"]
            )
            ok &= good
            speed = "ok" if rate >= TARGET_ROWS_PER_S else "MISSED"
            mem = "ok" if ratio <= TARGET_MEMORY_RATIO else "MISSED"
            print(f"{fmt:<9}{r['rows']:>11,}{best:>9.2f}{rate:>12,.0f}{r['loaded'] / 1e6:>11,.0f}"
                  f"{extra / 1e6:>10,.0f}{ratio:>7.2f}  speed {speed}, memory {mem}"
                  f"{'' if good else ', RESULT CHECK FAILED'}")  # fmt: skip
            print(f"{'':<9}runs: {', '.join(f'{x:.2f}' for x in r['times'])} s; "
                  f"numba warm-up {r['warmup_s']:.1f} s")  # fmt: skip
    print(f"\ntargets: >= {TARGET_ROWS_PER_S:,} rows/s end to end; peak memory above the "
          f"baseline <= {TARGET_MEMORY_RATIO:g}x the loaded columns")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
