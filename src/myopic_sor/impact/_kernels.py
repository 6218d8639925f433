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

__all__ = ["ow_impact_path"]


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
