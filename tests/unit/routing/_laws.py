"""Small outflow laws for the router tests (the library's fitted laws are tested separately)."""

from __future__ import annotations

import numpy as np

from myopic_sor.routing import ExponentialOutflow

# the exponential law of the library, under the short name the tests use
ExpLaw = ExponentialOutflow


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
