"""Random number generator handling: randomness only from an injected Generator."""

from __future__ import annotations

import numpy as np

from myopic_sor._typing import SeedLike

__all__ = ["as_generator"]


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (an int, a Generator or None)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
