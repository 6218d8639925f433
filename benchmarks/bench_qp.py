"""Benchmark: one constrained re-solve of the execution QP on 390 one-minute slots.

Bounds that bind: no round trips (0 ≤ q), a max order size and a participation cap on a
U-shaped volume curve, with an alpha signal that wants to front-load. Prints the median and
p95 wall time of ``constrained_schedule`` over the repeats (numba compiled beforehand), the
number of active bounds and active-set iterations, and checks the answer independently with
the dense G: stationarity on free slots, multiplier signs on active bounds, feasibility and
Σq = X. Also times the unconstrained closed form. Exits 1 if a check fails or the median
exceeds the 5 ms target.

Usage::

    python benchmarks/bench_qp.py [--repeat 200] [--slots 390]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from myopic_sor.impact._model import ImpactParams, past_impact
from myopic_sor.impact._optimal import (
    constrained_schedule,
    exp_kernel_matrix,
    optimal_schedule,
    schedule_bounds,
)

TARGET_MS = 5.0


def _problem(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    t = np.arange(n) * 60.0
    u = np.linspace(-1.0, 1.0, n)
    volume = 4_000.0 * (1.0 + 2.0 * u**2)  # U-shaped intraday volume, shares per slot
    horizon = t[-1]
    alpha = 2e-2 * (np.exp(-t / 1_800.0) - np.exp(-horizon / 1_800.0))
    alpha += 5e-4 * np.sin(2 * np.pi * t / 3_600.0)  # an oscillating signal: pauses bind 0 <= q
    return t, alpha, volume, np.zeros(n), 150_000.0


def _dense_kkt(
    t: np.ndarray,
    b: np.ndarray,
    x: float,
    params: ImpactParams,
    *,
    lo: np.ndarray,
    hi: np.ndarray,
    q: np.ndarray,
) -> float:
    lam = params.lambda_per_share
    grad = lam * exp_kernel_matrix(t, params.beta_per_s) @ q - b
    tol_q = 1e-7 * abs(x)
    free = (q > lo + tol_q) & (q < hi - tol_q)
    if not free.any():
        return float("inf")
    mu = grad - float(np.mean(grad[free]))
    scale = float(np.abs(b).max() + lam * np.abs(q).max())
    at_lo = np.abs(q - lo) <= tol_q
    at_hi = np.abs(q - hi) <= tol_q
    return max(
        float(np.abs(mu[free]).max()) / scale,
        float(np.maximum(-mu[at_lo & ~at_hi], 0.0).max(initial=0.0)) / scale,
        float(np.maximum(mu[at_hi & ~at_lo], 0.0).max(initial=0.0)) / scale,
        float(np.maximum(lo - q, 0.0).max()) / abs(x),
        float(np.maximum(q - hi, 0.0).max()) / abs(x),
        abs(float(q.sum()) - x) / abs(x),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--slots", type=int, default=390)
    args = parser.parse_args()

    params = ImpactParams.from_half_life(lambda_=0.6, half_life_s=900.0, sigma_daily=0.02, adv=5e6)
    t, alpha, volume, _, x = _problem(args.slots)
    i_now = 2e-3
    lo, hi = schedule_bounds(
        args.slots, x, max_order_size=1_500.0, participation=0.1, expected_volume=volume
    )
    # compile the kernels outside the timed runs
    constrained_schedule(t[:5], 10.0, params, lower=0.0, upper=5.0)

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        res = constrained_schedule(t, x, params, alpha, lower=lo, upper=hi, i_now=i_now)
        times.append(time.perf_counter() - start)
    unc = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        optimal_schedule(t, x, params, alpha, i_now)
        unc.append(time.perf_counter() - start)

    median_ms = 1e3 * float(np.median(times))
    b = alpha - past_impact(t, i_now, params)
    kkt = _dense_kkt(t, b, x, params, lo=lo, hi=hi, q=res.q)
    n_active = int(res.at_lower.sum() + res.at_upper.sum())
    print(f"slots                  {args.slots}")
    print(
        f"active bounds          {n_active} ({res.at_lower.sum()} lower, "
        f"{res.at_upper.sum()} upper)"
    )
    print(f"active-set iterations  {res.n_iter}")
    print(
        f"QP median              {median_ms:.3f} ms  (p95 "
        f"{1e3 * float(np.quantile(times, 0.95)):.3f} ms; target <= {TARGET_MS} ms)"
    )
    print(f"closed form median     {1e3 * float(np.median(unc)):.3f} ms")
    print(f"KKT residual (solver)  {res.kkt_residual:.2e}")
    print(f"KKT residual (dense)   {kkt:.2e}")
    ok = n_active > 0 and kkt < 1e-7 and res.kkt_residual < 1e-7 and median_ms <= TARGET_MS
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
