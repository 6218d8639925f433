"""Small outflow laws for the router tests (the library's fitted laws are tested separately)."""

from __future__ import annotations

import math

import numpy as np


class ExpLaw:
    """ξ ~ Exponential(mean), exact CDF and quantile."""

    has_cdf = True

    def __init__(self, mean: float) -> None:
        self._mean = float(mean)

    @property
    def mean(self) -> float:
        return self._mean

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.exponential(self._mean, n)

    def cdf(self, x: float) -> float:
        return 1.0 - math.exp(-max(x, 0.0) / self._mean)

    def ppf(self, p: float) -> float:
        return -self._mean * math.log1p(-p)


class ConstLaw:
    """ξ = c always (c = 0: no outflow at all)."""

    has_cdf = True

    def __init__(self, c: float) -> None:
        self.c = float(c)

    @property
    def mean(self) -> float:
        return self.c

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, self.c)

    def cdf(self, x: float) -> float:
        return 1.0 if x >= self.c else 0.0

    def ppf(self, p: float) -> float:
        return self.c
