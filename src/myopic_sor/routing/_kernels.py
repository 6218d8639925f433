"""Numba kernels of the Cont-Kukanov router, each with a plain-Python twin in :mod:`._python`.

* :func:`project_feasible` — the exact projection onto the feasible set
  ``C = {0 ≤ M ≤ S, L_k ≥ 0, M + Σ_k L_k ≥ S}`` in the metric ``Σ_i (x_i − y_i)² / w_i``
  (Euclidean for equal weights);
* :func:`sa_run` — the whole projected stochastic subgradient loop with Polyak-Ruppert
  averaging (MATH.md §5), passes over the sample rows included;
* :func:`evaluate` — the sample mean of v(X, ξ) and the underfill frequency in one pass.

Projection (KKT). The set is a box cut by one half-space. With ``y_0 ≥ S`` the point
``(S, max(y_k, 0))`` satisfies every KKT condition (the upper bound of M carries the
multiplier ``(y_0 − S)/w_0``); else, if the clipped point ``max(y, 0)`` already satisfies
``Σ ≥ S`` it is the projection; otherwise the half-space binds, ``x_i = max(y_i + w_i μ, 0)``
with the unique ``μ > 0`` that makes ``Σ_i x_i = S`` (then ``M ≤ S`` holds by itself, so its
upper bound is inactive). ``Σ_i max(y_i + w_i μ, 0)`` is piecewise linear and increasing in μ
with breakpoints ``−y_i / w_i``: after sorting them, μ is found exactly on the first segment
whose end overshoots S.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D

__all__ = ["evaluate", "project_feasible", "sa_run"]


@njit(cache=True)
def _project_binding(  # noqa: PLR0917 - kernels take arrays and scalars positionally
    y: Float64Array1D,
    w: Float64Array1D,
    size: float,
    out: Float64Array1D,
    bp: Float64Array1D,
    idx: Int64Array1D,
) -> float:  # pragma: no cover - compiled; twin in _python.py
    """The binding case: ``y_0 < S`` and ``Σ max(y, 0) < S``; returns μ > 0."""
    n = y.shape[0]
    # breakpoints -y_i/w_i in ascending order (insertion sort: n = K + 1 is small)
    for i in range(n):
        v = -y[i] / w[i]
        j = i
        while j > 0 and bp[j - 1] > v:
            bp[j] = bp[j - 1]
            idx[j] = idx[j - 1]
            j -= 1
        bp[j] = v
        idx[j] = i
    sum_y = 0.0
    sum_w = 0.0
    mu = 0.0
    for j in range(n):
        sum_y += y[idx[j]]
        sum_w += w[idx[j]]
        mu = (size - sum_y) / sum_w
        if j == n - 1 or mu <= bp[j + 1]:
            break
    for i in range(n):
        out[i] = max(y[i] + w[i] * mu, 0.0)
    out[0] = min(out[0], size)
    return mu


@njit(cache=True)
def project_feasible(
    y: Float64Array1D, w: Float64Array1D, size: float, out: Float64Array1D
) -> float:  # pragma: no cover - compiled; twin in _python.py
    """Project ``y = (M, L_1..L_K)`` onto the feasible set; write it into ``out``.

    ``w`` are positive metric weights (all ones: the Euclidean projection). Returns the
    multiplier μ ≥ 0 of the half-space ``M + Σ L_k ≥ S`` (0 when it does not bind).
    """
    n = y.shape[0]
    if y[0] >= size:
        out[0] = size
        for i in range(1, n):
            out[i] = max(y[i], 0.0)
        return 0.0
    total = 0.0
    for i in range(n):
        v = max(y[i], 0.0)
        out[i] = v
        total += v
    if total >= size:
        return 0.0
    return _project_binding(y, w, size, out, np.empty(n), np.empty(n, dtype=np.int64))


@njit(cache=True)
def _splitmix64(state: np.uint64) -> tuple[np.uint64, np.uint64]:  # pragma: no cover
    """One step of SplitMix64: the new state and a 64-bit output."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True)
def sa_run(  # noqa: PLR0917 - kernels take arrays and scalars positionally
    cap: Float64Array2D,
    rebates: Float64Array1D,
    size: float,
    half_spread: float,
    fee: float,
    theta: float,
    lambda_u: float,
    lambda_o: float,
    x0: Float64Array1D,
    steps: Float64Array1D,
    n_passes: int,
    tail_passes: int,
    seed: int,
    x_avg: Float64Array1D,
) -> None:  # pragma: no cover - compiled; twin in _python.py
    """Projected stochastic subgradient descent over the rows of ``cap``, averaged.

    Parameters
    ----------
    cap : (N, K) array
        ``(ξ_nk − Q_k)^+``, the shares each venue's order could fill in sample n.
    rebates, size, half_spread, fee, theta, lambda_u, lambda_o
        The problem (currency per share; shares).
    x0 : (K + 1,) array
        Feasible start ``(M, L_1..L_K)``.
    steps : (K + 1,) array
        Per-coordinate base steps γ_i (> 0); pass p (from 0) uses ``γ_i / (p + 1)²`` and
        projects in the metric weighted by ``γ_i``.
    n_passes, tail_passes : int
        Passes over the rows; the last ``tail_passes`` of them are averaged.
    seed : int
        0: every pass visits the rows in order; else passes after the first visit a fresh
        Fisher-Yates shuffle driven by SplitMix64 from ``seed``.
    x_avg : (K + 1,) array
        Output: the average of the iterates of the last ``tail_passes`` passes.

    Notes
    -----
    Subgradient at one sample (MATH.md §5), with ``A = M + Σ_k min(L_k, cap_k)``:
    ``∂M = h + f + θ − (λ_u + θ) 1{A<S} + λ_o 1{A>S}``,
    ``∂L_k = θ + 1{cap_k > L_k} [−(h + r_k) − (λ_u + θ) 1{A<S} + λ_o 1{A>S}]``.
    """
    n, k = cap.shape
    k1 = k + 1
    x = x0.copy()
    y = np.empty(k1)
    bp = np.empty(k1)
    idx = np.empty(k1, dtype=np.int64)
    acc = np.zeros(k1)
    step = np.empty(k1)
    order = np.arange(n)
    g_market = half_spread + fee + theta
    g_fill = np.empty(k)
    for j in range(k):
        g_fill[j] = -(half_spread + rebates[j])
    g_under = -(lambda_u + theta)
    state = np.uint64(seed)
    first_avg = n_passes - tail_passes
    count = 0
    for p in range(n_passes):
        if p > 0 and seed != 0:
            for i in range(n - 1, 0, -1):
                state, z = _splitmix64(state)
                jj = np.int64(z % np.uint64(i + 1))
                tmp = order[i]
                order[i] = order[jj]
                order[jj] = tmp
        decay = 1.0 / ((p + 1.0) * (p + 1.0))
        for i in range(k1):
            step[i] = decay * steps[i]
        for t in range(n):
            s = order[t]
            executed = x[0]
            for j in range(k):
                executed += min(x[j + 1], cap[s, j])
            common = 0.0
            if executed < size:
                common = g_under
            elif executed > size:
                common = lambda_o
            y[0] = x[0] - step[0] * (g_market + common)
            total = max(y[0], 0.0)
            for j in range(k):
                g = theta
                if cap[s, j] > x[j + 1]:
                    g += g_fill[j] + common
                v = x[j + 1] - step[j + 1] * g
                y[j + 1] = v
                total += max(v, 0.0)
            # the projection, its two cheap cases inline (the binding case is rare)
            if y[0] >= size:
                x[0] = size
                for i in range(1, k1):
                    x[i] = max(y[i], 0.0)
            elif total >= size:
                for i in range(k1):
                    x[i] = max(y[i], 0.0)
            else:
                _project_binding(y, steps, size, x, bp, idx)
            if p >= first_avg:
                count += 1
                for i in range(k1):
                    acc[i] += x[i]
    for i in range(k1):
        x_avg[i] = acc[i] / count


@njit(cache=True)
def evaluate(  # noqa: PLR0917 - kernels take arrays and scalars positionally
    cap: Float64Array2D,
    x: Float64Array1D,
    rebates: Float64Array1D,
    size: float,
    half_spread: float,
    fee: float,
    theta: float,
    lambda_u: float,
    lambda_o: float,
) -> tuple[float, float]:  # pragma: no cover - compiled; twin in _python.py
    """``(mean_n v(X, ξ_n), share of samples with A < S(1 − 1e-9))`` over the rows of ``cap``."""
    n, k = cap.shape
    placed = x[0]
    for j in range(k):
        placed += x[j + 1]
    base = (half_spread + fee) * x[0] + theta * placed
    total = 0.0
    n_under = 0
    short = size * (1.0 - 1e-9)
    for s in range(n):
        executed = x[0]
        earned = 0.0
        for j in range(k):
            y = min(x[j + 1], cap[s, j])
            executed += y
            earned += (half_spread + rebates[j]) * y
        c = base - earned
        if executed < size:
            c += (lambda_u + theta) * (size - executed)
        elif executed > size:
            c += lambda_o * (executed - size)
        total += c
        if executed < short:
            n_under += 1
    return total / n, n_under / n
