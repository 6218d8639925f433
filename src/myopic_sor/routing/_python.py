"""Plain-Python twins of :mod:`._kernels` (same signatures and arithmetic): the readable
reference of the parity tests and of the router benchmark."""

from __future__ import annotations

import numpy as np

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D

__all__ = ["evaluate", "project_feasible", "sa_run"]

_MASK64 = (1 << 64) - 1


def _project_binding(  # noqa: PLR0917 - the kernel's positional signature
    y: Float64Array1D,
    w: Float64Array1D,
    size: float,
    out: Float64Array1D,
    bp: Float64Array1D,
    idx: Int64Array1D,
) -> float:
    n = y.shape[0]
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
    return float(mu)


def project_feasible(
    y: Float64Array1D, w: Float64Array1D, size: float, out: Float64Array1D
) -> float:
    """Project ``y`` onto the feasible set in the ``w``-weighted metric (see the kernel)."""
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


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def sa_run(  # noqa: PLR0917 - the kernel's positional signature
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
) -> None:
    """Projected stochastic subgradient descent with iterate averaging (see the kernel)."""
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
    state = seed & _MASK64
    first_avg = n_passes - tail_passes
    count = 0
    for p in range(n_passes):
        if p > 0 and seed != 0:
            for i in range(n - 1, 0, -1):
                state, z = _splitmix64(state)
                jj = z % (i + 1)
                order[i], order[jj] = order[jj], order[i]
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


def evaluate(  # noqa: PLR0917 - the kernel's positional signature
    cap: Float64Array2D,
    x: Float64Array1D,
    rebates: Float64Array1D,
    size: float,
    half_spread: float,
    fee: float,
    theta: float,
    lambda_u: float,
    lambda_o: float,
) -> tuple[float, float]:
    """Mean cost and underfill frequency over the rows of ``cap`` (see the kernel)."""
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
    return float(total / n), n_under / n
