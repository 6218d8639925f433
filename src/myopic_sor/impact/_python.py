"""Plain-Python twins of the impact kernels (parity tests and readable reference)."""

from __future__ import annotations

import math

import numpy as np

from myopic_sor._typing import BoolArray1D, Float64Array1D

__all__ = ["box_qp_active_set", "exp_kernel_inv_matvec", "exp_kernel_matvec", "ow_impact_path"]


def ow_impact_path(
    t_s: Float64Array1D, u: Float64Array1D, beta_per_s: float, lam: float, i0: float
) -> tuple[Float64Array1D, Float64Array1D]:
    before = np.empty(len(t_s))
    after = np.empty(len(t_s))
    state = i0
    for k in range(len(t_s)):
        if k > 0:
            state *= math.exp(-beta_per_s * (t_s[k] - t_s[k - 1]))
        before[k] = state
        state += lam * u[k]
        after[k] = state
    return before, after


def exp_kernel_matvec(t_s: Float64Array1D, x: Float64Array1D, beta_per_s: float) -> Float64Array1D:
    n = len(t_s)
    fwd = np.empty(n)
    bwd = np.empty(n)
    for i in range(n):
        fwd[i] = (
            x[i] if i == 0 else x[i] + math.exp(-beta_per_s * (t_s[i] - t_s[i - 1])) * fwd[i - 1]
        )
    for i in range(n - 1, -1, -1):
        bwd[i] = (
            x[i]
            if i == n - 1
            else x[i] + math.exp(-beta_per_s * (t_s[i + 1] - t_s[i])) * bwd[i + 1]
        )
    return np.asarray(fwd + bwd - np.asarray(x, dtype=np.float64), dtype=np.float64)


def exp_kernel_inv_matvec(
    t_s: Float64Array1D, x: Float64Array1D, beta_per_s: float
) -> Float64Array1D:
    n = len(t_s)
    if n == 1:
        return np.array([float(x[0])])
    a = [math.exp(-beta_per_s * (t_s[k + 1] - t_s[k])) for k in range(n - 1)]
    w = [1.0 / (1.0 - ak * ak) for ak in a]
    out = np.empty(n)
    for k in range(n):
        left = w[k - 1] if k > 0 else 0.0
        right = w[k] if k < n - 1 else 0.0
        diag = left + right - (1.0 if 0 < k < n - 1 else 0.0)
        acc = diag * x[k]
        if k > 0:
            acc -= a[k - 1] * w[k - 1] * x[k - 1]
        if k < n - 1:
            acc -= a[k] * w[k] * x[k + 1]
        out[k] = acc
    return out


def box_qp_active_set(  # noqa: PLR0917 - twin of the numba kernel's signature
    t_s: Float64Array1D,
    b: Float64Array1D,
    lam: float,
    beta_per_s: float,
    x_total: float,
    lo: Float64Array1D,
    hi: Float64Array1D,
    q_start: Float64Array1D,
    w_lo_start: BoolArray1D,
    w_hi_start: BoolArray1D,
    max_iter: int,
    tol_q: float,
    tol_mu: float,
) -> tuple[Float64Array1D, float, int, bool]:
    q = np.array(q_start, dtype=np.float64)
    w_lo = np.array(w_lo_start, dtype=np.bool_)
    w_hi = np.array(w_hi_start, dtype=np.bool_)
    nu = 0.0
    for it in range(1, max_iter + 1):
        # equality-constrained step on the free slots
        fixed_q = np.where(w_lo, lo, np.where(w_hi, hi, 0.0))
        free = np.flatnonzero(~(w_lo | w_hi))
        r = b - lam * exp_kernel_matvec(t_s, fixed_q, beta_per_s)
        hr = exp_kernel_inv_matvec(t_s[free], r[free], beta_per_s)
        h1 = exp_kernel_inv_matvec(t_s[free], np.ones(len(free)), beta_per_s)
        nu = (hr.sum() - lam * (x_total - fixed_q.sum())) / h1.sum()
        q_hat = fixed_q.copy()
        q_hat[free] = (hr - nu * h1) / lam
        if np.abs(q_hat - q).max() <= tol_q:
            q = q_hat
            mu = lam * exp_kernel_matvec(t_s, q, beta_per_s) - b + nu
            movable = lo != hi
            viol = np.where(w_lo & movable & (mu < 0.0), -mu, 0.0)
            viol = np.where(w_hi & movable & (mu > 0.0), mu, viol)
            if viol.max() <= tol_mu:
                return q, float(nu), it, True
            j = int(np.argmax(viol))
            w_lo[j] = w_hi[j] = False
            continue
        step, jb, jb_lo = 1.0, -1, False
        for i in free:
            p = q_hat[i] - q[i]
            if p < 0.0 and (lo[i] - q[i]) / p < step:
                step, jb, jb_lo = (lo[i] - q[i]) / p, int(i), True
            elif p > 0.0 and (hi[i] - q[i]) / p < step:
                step, jb, jb_lo = (hi[i] - q[i]) / p, int(i), False
        q = q + max(step, 0.0) * (q_hat - q)
        if jb >= 0:
            q[jb] = lo[jb] if jb_lo else hi[jb]
            (w_lo if jb_lo else w_hi)[jb] = True
    return q, float(nu), max_iter, False
