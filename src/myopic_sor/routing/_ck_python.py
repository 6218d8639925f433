"""Plain-Python twins of :mod:`._ck_kernels` (same signatures), the reference for parity."""

from __future__ import annotations

import math

import numpy as np

from myopic_sor._typing import Float64Array1D, Float64Array2D

__all__ = ["project_feasible", "sa_run"]


def project_feasible(y: Float64Array1D, size: float, out: Float64Array1D) -> None:
    """Euclidean projection of ``y = (M, L_1..L_K)`` onto
    ``{0 ≤ M ≤ S, L_k ≥ 0, M + Σ L_k ≥ S}``, written into ``out``.

    The set is a box cut by one half-space. If the clipped point satisfies the half-space it is
    the projection; else the half-space binds and the projection is ``clip(y + μ)`` with the
    μ ≥ 0 that makes the sum S (KKT), found exactly on the sorted breakpoints of the
    piecewise-linear, non-decreasing ``Σ clip(y_i + μ)``.
    """
    n = y.shape[0]
    total = 0.0
    for i in range(n):
        hi = size if i == 0 else math.inf
        v = min(max(y[i], 0.0), hi)
        out[i] = v
        total += v
    if total >= size:
        return
    # breakpoints μ where a coordinate leaves its lower bound (−y_i) or hits M's upper (S − y_0)
    bp = np.empty(n + 1)
    for i in range(n):
        bp[i] = -y[i]
    bp[n] = size - y[0]
    bp.sort()
    lo_mu = 0.0
    for j in range(n + 1):
        mu = bp[j]
        if mu <= lo_mu:
            continue
        s = 0.0
        for i in range(n):
            hi = size if i == 0 else math.inf
            s += min(max(y[i] + mu, 0.0), hi)
        if s >= size:
            break
        lo_mu = mu
    # on [lo_mu, mu] the sum is linear: slope = number of free coordinates at lo_mu
    s_lo = 0.0
    slope = 0
    for i in range(n):
        hi = size if i == 0 else math.inf
        v = y[i] + lo_mu
        s_lo += min(max(v, 0.0), hi)
        if v >= 0.0 and v < hi:
            slope += 1
    mu_star = lo_mu + (size - s_lo) / slope if slope > 0 else lo_mu
    for i in range(n):
        hi = size if i == 0 else math.inf
        out[i] = min(max(y[i] + mu_star, 0.0), hi)


def sa_run(  # noqa: PLR0917 - kernels take arrays positionally (numba has no kw-only)
    xi: Float64Array2D,
    queues: Float64Array1D,
    rebates: Float64Array1D,
    size: float,
    half_spread: float,
    fee: float,
    theta: float,
    lambda_u: float,
    lambda_o: float,
    x0: Float64Array1D,
    step: float,
    n_passes: int,
    x_avg: Float64Array1D,
) -> None:
    """Projected stochastic subgradient descent over the rows of ``xi`` (``n_passes`` times),
    constant step, Polyak-Ruppert average of the iterates written into ``x_avg``.

    Subgradient at one sample (MATH.md §5):
    ``∂M = h + f + θ − (λ_u + θ) 1{A<S} + λ_o 1{A>S}``,
    ``∂L_k = θ + 1{ξ_k > Q_k + L_k} [−(h + r_k) − (λ_u + θ) 1{A<S} + λ_o 1{A>S}]``.
    """
    n, k = xi.shape
    x = x0.copy()
    y = np.empty(k + 1)
    for i in range(k + 1):
        x_avg[i] = 0.0
    count = 0
    for _ in range(n_passes):
        for s in range(n):
            executed = x[0]
            for j in range(k):
                avail = xi[s, j] - queues[j]
                if avail > 0.0:
                    executed += min(x[j + 1], avail)
            under = 1.0 if executed < size else 0.0
            over = 1.0 if executed > size else 0.0
            common = -(lambda_u + theta) * under + lambda_o * over
            y[0] = x[0] - step * (half_spread + fee + theta + common)
            for j in range(k):
                g = theta
                if xi[s, j] > queues[j] + x[j + 1]:
                    g += -(half_spread + rebates[j]) + common
                y[j + 1] = x[j + 1] - step * g
            project_feasible(y, size, x)
            count += 1
            for i in range(k + 1):
                x_avg[i] += (x[i] - x_avg[i]) / count
