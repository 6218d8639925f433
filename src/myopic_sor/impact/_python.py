"""Plain-Python twins of the impact kernels (parity tests and readable reference)."""

from __future__ import annotations

import math

import numpy as np

from myopic_sor._typing import Float64Array1D

__all__ = ["ow_impact_path"]


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
