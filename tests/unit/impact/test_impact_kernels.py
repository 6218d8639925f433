"""Impact kernels: numba vs the plain-Python twin, and the closed form of one trade."""

from __future__ import annotations

import math

import numpy as np
import pytest

from myopic_sor.impact import _kernels, _python


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ow_impact_path_parity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(2.0, 500))
    u = rng.normal(0, 1e-5, 500)
    a = _kernels.ow_impact_path(t, u, 0.003, 25_000.0, 0.01)
    b = _python.ow_impact_path(t, u, 0.003, 25_000.0, 0.01)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_one_trade_decays_after_it() -> None:
    t = np.array([0.0, 100.0, 300.0])
    u = np.array([1e-4, 0.0, 0.0])
    before, after = _kernels.ow_impact_path(t, u, math.log(2) / 100.0, 2.0, 0.0)
    assert before[0] == 0.0  # the trade does not see its own impact before it
    assert after[0] == pytest.approx(2e-4)
    assert before[1] == pytest.approx(1e-4)  # one half-life later
    assert before[2] == pytest.approx(2.5e-5)
