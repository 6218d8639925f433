"""The empirical outflow law's equal-weight construction (one sort) builds the same law as the
weighted one with equal weights, array for array, and draws the same samples."""

from __future__ import annotations

import numpy as np
import pytest

from myopic_sor.routing._outflow import EmpiricalOutflow


def _samples(rng: np.random.Generator, kind: int) -> np.ndarray:
    n = int(rng.integers(1, 300))
    if kind == 0:
        return rng.integers(0, 400, n).astype(np.float64)  # whole shares, ties
    if kind == 1:
        return rng.exponential(50.0, n)  # no ties
    if kind == 2:
        return np.zeros(n)  # a queue that never moved
    x = rng.integers(0, 3, n).astype(np.float64)
    x[0] = -0.0  # a signed zero: left to the weighted construction
    return x


@pytest.mark.parametrize("kind", [0, 1, 2, 3])
def test_equal_weights_build_the_weighted_law(kind: int) -> None:
    rng = np.random.default_rng(kind)
    for _ in range(100):
        x = _samples(rng, kind)
        fast, ref = EmpiricalOutflow(x), EmpiricalOutflow(x, np.ones(x.size))
        for name in ("samples", "weights", "values", "cum"):
            a, b = getattr(fast, name), getattr(ref, name)
            assert a.tobytes() == b.tobytes(), name
            assert not a.flags.writeable
        assert fast.mean == ref.mean
        assert fast.cdf(7.0) == ref.cdf(7.0)
        assert fast.ppf(0.37) == ref.ppf(0.37)
        draws = fast.sample(64, np.random.default_rng(5))
        assert draws.tobytes() == ref.sample(64, np.random.default_rng(5)).tobytes()
