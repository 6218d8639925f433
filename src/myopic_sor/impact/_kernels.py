"""Numba kernels of the impact layer, each with a plain-Python twin in :mod:`._python`.

The Obizhaeva-Wang state with exact exponential decay between events, decay AFTER the trade
(MATH.md §1, pitfall P2)::

    I_n^-     impact just before event n
    I_n^+ = I_n^- + λ u_n                      (event n trades u_n, normalised flow)
    I_{n+1}^- = exp(-β (t_{n+1} - t_n)) · I_n^+

Event n pays the average price S0_n + I_n^- + λ u_n / 2 (it walks its own impact, P4).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from myopic_sor._typing import Float64Array1D

__all__ = ["box_qp_active_set", "exp_kernel_inv_matvec", "exp_kernel_matvec", "ow_impact_path"]


@njit(cache=True)
def ow_impact_path(
    t_s: Float64Array1D, u: Float64Array1D, beta_per_s: float, lam: float, i0: float
) -> tuple[Float64Array1D, Float64Array1D]:  # pragma: no cover - compiled; twin in _python.py
    """Impact just before and just after each event (see the module docstring).

    ``t_s`` non-decreasing event times in seconds, ``u`` normalised signed flow per event,
    ``i0`` the impact just before the first event. With ``lam = 1`` the "after" path is the
    decayed flow state J(β) = Σ_j u_j e^{-β (t - t_j)} of MATH.md §4.
    """
    n = t_s.shape[0]
    before = np.empty(n, dtype=np.float64)
    after = np.empty(n, dtype=np.float64)
    state = i0
    for k in range(n):
        if k > 0:
            state *= math.exp(-beta_per_s * (t_s[k] - t_s[k - 1]))
        before[k] = state
        state += lam * u[k]
        after[k] = state
    return before, after


@njit(cache=True)
def exp_kernel_matvec(
    t_s: Float64Array1D, x: Float64Array1D, beta_per_s: float
) -> Float64Array1D:  # pragma: no cover - compiled; twin in _python.py
    """``G @ x`` with ``G_ij = exp(-β |t_i - t_j|)`` in O(n) (forward + backward filter).

    ``(G x)_i = F_i + B_i - x_i`` with ``F_i = x_i + a_{i-1} F_{i-1}`` and
    ``B_i = x_i + a_i B_{i+1}``, ``a_i = exp(-β (t_{i+1} - t_i))``; ``t_s`` non-decreasing.
    """
    return _matvec_decay(_gap_decays(t_s, beta_per_s), x)


@njit(cache=True)
def exp_kernel_inv_matvec(
    t_s: Float64Array1D, x: Float64Array1D, beta_per_s: float
) -> Float64Array1D:  # pragma: no cover - compiled; twin in _python.py
    """``G^{-1} @ x`` for ``G_ij = exp(-β |t_i - t_j|)`` in O(n); ``t_s`` strictly increasing.

    ``G`` is the correlation matrix of the AR(1) chain ``x_{k+1} = a_k x_k + sqrt(1 - a_k²) ε``,
    so ``G^{-1}`` is tridiagonal: off-diagonal ``-a_k / (1 - a_k²)``, diagonal
    ``d_k = [k>0] / (1 - a_{k-1}²) + [k<n-1] / (1 - a_k²) - [0<k<n-1]`` (ends: ``1/(1 - a²)``).
    """
    n = t_s.shape[0]
    w = np.empty(max(n - 1, 0))
    off = np.empty(max(n - 1, 0))
    for k in range(n - 1):
        d = beta_per_s * (t_s[k + 1] - t_s[k])
        w[k] = -1.0 / math.expm1(-2.0 * d)  # 1 / (1 - a²), exact for small gaps
        off[k] = -math.exp(-d) * w[k]
    return _tridiag_inverse_apply(w, off, x)


@njit(cache=True)
def _gap_decays(t_s: Float64Array1D, beta_per_s: float) -> Float64Array1D:  # pragma: no cover
    n = t_s.shape[0]
    a = np.empty(max(n - 1, 0))
    for k in range(n - 1):
        a[k] = math.exp(-beta_per_s * (t_s[k + 1] - t_s[k]))
    return a


@njit(cache=True)
def _matvec_decay(a: Float64Array1D, x: Float64Array1D) -> Float64Array1D:  # pragma: no cover
    # G @ x with the gap decays a_k = exp(-β (t_{k+1} - t_k)) precomputed
    n = x.shape[0]
    out = np.empty(n)
    if n == 0:
        return out
    fwd = x[0]
    out[0] = fwd
    for i in range(1, n):
        fwd = x[i] + a[i - 1] * fwd
        out[i] = fwd
    bwd = x[n - 1]
    for i in range(n - 2, -1, -1):
        bwd = x[i] + a[i] * bwd
        out[i] += bwd - x[i]
    return out


@njit(cache=True)
def _inv_matvec_decay(a: Float64Array1D, x: Float64Array1D) -> Float64Array1D:  # pragma: no cover
    # G^{-1} @ x (tridiagonal) from the gap decays a_k; only the n - 1 gaps of x are read
    m = max(x.shape[0] - 1, 0)
    w = np.empty(m)
    off = np.empty(m)
    for k in range(m):
        w[k] = 1.0 / ((1.0 - a[k]) * (1.0 + a[k]))
        off[k] = -a[k] * w[k]
    return _tridiag_inverse_apply(w, off, x)


@njit(cache=True)
def _tridiag_inverse_apply(
    w: Float64Array1D, off: Float64Array1D, x: Float64Array1D
) -> Float64Array1D:  # pragma: no cover - compiled
    # G^{-1} @ x with, per gap k -> k+1, w_k = 1 / (1 - a_k²) and off_k = -a_k w_k:
    # diagonal w_0, w_{k-1} + w_k - 1 inside, w_{n-2} at the end; off-diagonals off_k
    n = x.shape[0]
    out = np.empty(n)
    if n == 0:
        return out
    if n == 1:
        out[0] = x[0]
        return out
    for k in range(n):
        if k == 0:
            diag = w[0]
        elif k == n - 1:
            diag = w[n - 2]
        else:
            diag = w[k - 1] + w[k] - 1.0
        acc = diag * x[k]
        if k > 0:
            acc += off[k - 1] * x[k - 1]
        if k < n - 1:
            acc += off[k] * x[k + 1]
        out[k] = acc
    return out


@njit(cache=True)
def _eq_step(  # noqa: PLR0917 - numba kernels take flat positional arrays
    a: Float64Array1D,
    b: Float64Array1D,
    lam: float,
    x_total: float,
    lo: Float64Array1D,
    hi: Float64Array1D,
    w_lo: np.ndarray,
    w_hi: np.ndarray,
) -> tuple[Float64Array1D, float]:  # pragma: no cover - compiled
    n = b.shape[0]
    q = np.zeros(n)
    fixed_sum = 0.0
    m = 0
    for i in range(n):
        if w_lo[i]:
            q[i] = lo[i]
            fixed_sum += lo[i]
        elif w_hi[i]:
            q[i] = hi[i]
            fixed_sum += hi[i]
        else:
            m += 1
    g = _matvec_decay(a, q)
    idx = np.empty(m, dtype=np.int64)
    a_sub = np.empty(m)
    rf = np.empty(m)
    ones = np.ones(m)
    j = 0
    for i in range(n):
        if not (w_lo[i] or w_hi[i]):
            if j > 0:
                # decay between consecutive free slots: product of the gap decays
                prod = 1.0
                for k in range(idx[j - 1], i):
                    prod *= a[k]
                a_sub[j - 1] = prod
            idx[j] = i
            rf[j] = b[i] - lam * g[i]
            j += 1
    hr = _inv_matvec_decay(a_sub, rf)
    h1 = _inv_matvec_decay(a_sub, ones)
    nu = (hr.sum() - lam * (x_total - fixed_sum)) / h1.sum()
    for j in range(m):
        q[idx[j]] = (hr[j] - nu * h1[j]) / lam
    return q, nu


@njit(cache=True)
def box_qp_active_set(  # noqa: PLR0917 - numba kernels take flat positional arrays
    t_s: Float64Array1D,
    b: Float64Array1D,
    lam: float,
    beta_per_s: float,
    x_total: float,
    lo: Float64Array1D,
    hi: Float64Array1D,
    q_start: Float64Array1D,
    w_lo_start: np.ndarray,
    w_hi_start: np.ndarray,
    max_iter: int,
    tol_q: float,
    tol_mu: float,
) -> tuple[Float64Array1D, float, int, bool]:  # pragma: no cover - compiled; twin in _python.py
    """Primal active set for ``min (λ/2) qᵀGq − b·q`` s.t. ``Σq = X``, ``lo ≤ q ≤ hi``.

    ``G_ij = exp(-β|t_i - t_j|)``; ``q_start`` feasible, the working sets ``w_lo/w_hi`` (bool)
    hold slots fixed at a bound and leave at least one slot free. Each step solves the
    equality-constrained problem on the free slots in O(n) (the free block of ``G`` is an
    exponential kernel on the free times, with tridiagonal inverse), then either moves to
    it with a ratio test (adding the blocking bound) or, at a stationary point, drops the
    bound with the most negative multiplier ``μ = λGq − b + ν`` (sign-adjusted; slots with
    ``lo == hi`` are never dropped). Nocedal & Wright (2006), Algorithm 16.3.
    Returns ``(q, ν, iterations, converged)``.
    """
    n = t_s.shape[0]
    a = _gap_decays(t_s, beta_per_s)
    q = q_start.copy()
    w_lo = w_lo_start.copy()
    w_hi = w_hi_start.copy()
    nu = 0.0
    for it in range(1, max_iter + 1):
        q_hat, nu = _eq_step(a, b, lam, x_total, lo, hi, w_lo, w_hi)
        pmax = 0.0
        for i in range(n):
            pmax = max(pmax, abs(q_hat[i] - q[i]))
        if pmax <= tol_q:
            q = q_hat
            g = _matvec_decay(a, q)
            worst = 0.0
            jw = -1
            for i in range(n):
                if lo[i] == hi[i]:
                    continue
                mu = lam * g[i] - b[i] + nu
                v = 0.0
                if w_lo[i] and mu < 0.0:
                    v = -mu
                elif w_hi[i] and mu > 0.0:
                    v = mu
                if v > worst:
                    worst = v
                    jw = i
            if worst <= tol_mu:
                return q, nu, it, True
            w_lo[jw] = False
            w_hi[jw] = False
            continue
        step = 1.0
        jb = -1
        jb_lo = False
        for i in range(n):
            if w_lo[i] or w_hi[i]:
                continue
            p = q_hat[i] - q[i]
            if p < 0.0:
                s = (lo[i] - q[i]) / p
                if s < step:
                    step = s
                    jb = i
                    jb_lo = True
            elif p > 0.0:
                s = (hi[i] - q[i]) / p
                if s < step:
                    step = s
                    jb = i
                    jb_lo = False
        step = max(step, 0.0)
        for i in range(n):
            q[i] += step * (q_hat[i] - q[i])
        if jb >= 0:
            if jb_lo:
                q[jb] = lo[jb]
                w_lo[jb] = True
            else:
                q[jb] = hi[jb]
                w_hi[jb] = True
    return q, nu, max_iter, False
