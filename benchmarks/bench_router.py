"""Benchmark: one Cont-Kukanov routing decision with K = 3 venues and N = 1000 outflow samples.

Prints, after a warm-up (numba compiled beforehand), the median and p99 wall time of

* ``ContKukanovRouter.route`` — draw ξ (N, 3), stochastic approximation, rounding, evaluation
  of the rounded allocation on the same samples (target: median ≤ 500 µs);
* ``solve_sa`` alone (the numba loop) and the same call on the plain-Python twin of the loop
  (``use_numba=False``: identical algorithm and arithmetic), and their ratio;
* ``solve_lp``, the exact sample-average optimum (HiGHS);

then an accuracy sweep of the SA step multiplier on random 3-venue problems where the LP is
exact (relative excess of V over the LP optimum on the same samples).

Checks (exit 1 on failure): the router's median within the target; the SA's V within 1 % of
the LP's on the same samples; the numba SA equal to its twin; the LP exact (its value equals
the sample cost of its answer).

Usage::

    python benchmarks/bench_router.py [--repeat 300] [--samples 1000] [--sweep 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from myopic_sor.routing import (
    ContKukanovRouter,
    ExponentialOutflow,
    RoutingProblem,
    draw_outflows,
    solve_lp,
    solve_sa,
)

TARGET_US = 500.0


# the exponential law of the library, under the short name the tests use
ExpLaw = ExponentialOutflow


def _problem() -> tuple[RoutingProblem, list[ExpLaw]]:
    """A 1000-share buy across three venues, 2-cent spread; λ_o ≤ h + r_k so the LP is exact."""
    problem = RoutingProblem(
        size=1000,
        half_spread=0.01,
        fee=0.003,
        rebates=[0.002, 0.003, 0.0025],
        queues=[2000.0, 5000.0, 1000.0],
        theta=0.0005,
        lambda_u=0.05,
        lambda_o=0.01,
        venues=("XNAS", "ARCX", "BATS"),
    )
    return problem, [ExpLaw(3000.0), ExpLaw(4000.0), ExpLaw(1500.0)]


def _times_us(fn: Callable[[], object], repeat: int) -> np.ndarray:
    out = np.empty(repeat)
    for i in range(repeat):
        start = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - start
    return 1e6 * out


def _sweep(n_problems: int, n_samples: int, scales: tuple[float, ...]) -> dict[float, np.ndarray]:
    """Relative V excess of SA over the exact LP on random problems (λ_o ≤ min h + r_k)."""
    rng = np.random.default_rng(2024)
    gaps: dict[float, list[float]] = {c: [] for c in scales}
    for _ in range(n_problems):
        s = float(rng.choice([100.0, 500.0, 1000.0]))
        h = float(rng.choice([0.005, 0.01, 0.02]))
        r = rng.uniform(0.0, 0.004, 3)
        problem = RoutingProblem(
            size=s,
            half_spread=h,
            fee=0.003,
            rebates=r,
            queues=rng.uniform(0.0, 3.0, 3) * s,
            theta=float(rng.choice([0.0001, 0.0005, 0.002])),
            lambda_u=float(rng.choice([0.02, 0.05, 0.2])),
            lambda_o=float(np.min(h + r)) * float(rng.uniform(0.5, 1.0)),
        )
        laws = [ExpLaw(m) for m in rng.uniform(0.3, 5.0, 3) * s]
        xi = draw_outflows(laws, n_samples, rng)
        v_lp = solve_lp(problem, xi).expected_cost
        market = s * (problem.half_spread + problem.fee + problem.theta)
        for c in scales:
            v_sa = solve_sa(problem, xi, step_scale=c).expected_cost
            gaps[c].append((v_sa - v_lp) / max(abs(v_lp), 0.1 * market))
    return {c: np.array(v) for c, v in gaps.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--sweep", type=int, default=12, help="random problems in the sweep")
    args = parser.parse_args()

    problem, laws = _problem()
    router = ContKukanovRouter(n_samples=args.samples)
    rng = np.random.default_rng(7)
    xi = draw_outflows(laws, args.samples, np.random.default_rng(1))
    for _ in range(5):  # warm-up: numba compiles (or loads its cache) here
        router.route(problem, laws, rng)
        solve_sa(problem, xi)

    t_route = _times_us(lambda: router.route(problem, laws, rng), args.repeat)
    t_sa = _times_us(lambda: solve_sa(problem, xi), args.repeat)
    t_twin = _times_us(lambda: solve_sa(problem, xi, use_numba=False), 3)
    t_lp = _times_us(lambda: solve_lp(problem, xi), 20)

    sa = solve_sa(problem, xi)
    twin = solve_sa(problem, xi, use_numba=False)
    lp = solve_lp(problem, xi)
    x_sa = np.array([sa.market, *sa.limit])
    x_twin = np.array([twin.market, *twin.limit])
    x_lp = np.array([lp.market, *lp.limit])
    gap = (sa.expected_cost - lp.expected_cost) / abs(lp.expected_cost)
    twin_err = float(np.max(np.abs(x_sa - x_twin)))
    median = float(np.median(t_route))

    rows = [
        ("route (draw + SA + round)", t_route),
        ("solve_sa (numba)", t_sa),
        ("solve_sa (Python twin)", t_twin),
        ("solve_lp (HiGHS)", t_lp),
    ]
    print(f"K = {problem.n_venues} venues, N = {args.samples} samples, S = {problem.size:g} shares")
    print(f"{'':28s} {'median µs':>12s} {'p99 µs':>12s} {'runs':>6s}")
    for name, t in rows:
        print(f"{name:28s} {np.median(t):12.1f} {np.quantile(t, 0.99):12.1f} {t.size:6d}")
    print(f"Python twin / numba SA     {np.median(t_twin) / np.median(t_sa):12.0f} x")
    print(f"route median target        {TARGET_US:12.0f} µs")
    print(f"SA  X = {np.round(x_sa, 1).tolist()}  V = {sa.expected_cost:.6f}")
    exact = lp.info["exact"]
    print(f"LP  X = {np.round(x_lp, 1).tolist()}  V = {lp.expected_cost:.6f} (exact: {exact})")
    print(f"SA excess over LP on the same samples  {100 * gap:.3f} %  (limit 1 %)")
    print(f"SA numba vs twin, max |ΔX|             {twin_err:.2e} shares")

    if args.sweep > 0:
        scales = (3.0, 10.0, 30.0)
        sweep = _sweep(args.sweep, args.samples, scales)
        print(f"step_scale sweep on {args.sweep} random problems (V excess over the exact LP):")
        print(f"{'step_scale':>12s} {'median %':>10s} {'max %':>10s}")
        for c in scales:
            g = 100 * sweep[c]
            print(f"{c:12g} {np.median(g):10.3f} {np.max(g):10.3f}")

    ok = median <= TARGET_US and -1e-12 <= gap <= 0.01 and twin_err < 1e-6
    ok = ok and bool(lp.info["exact"])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
