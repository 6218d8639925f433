r"""Laws of the queue outflow ξ over the router horizon, fitted on past samples only.

Every law implements :class:`~myopic_sor.routing.OutflowDistribution` (``sample``, ``cdf``,
``ppf``, ``mean``, ``has_cdf``). The samples are the shares that left one venue's touch queue
(trades and cancellations at the best price) over windows of the router horizon in the
look-back window (:func:`~myopic_sor.routing.build_routing_problem` makes them).

* :class:`ExponentialOutflow` — maximum likelihood: the mean of the samples;
* :class:`EmpiricalOutflow` — the empirical law (bootstrap), exact step CDF;
* :class:`KDEOutflow` — a Gaussian kernel density reflected at 0 (no mass below zero), Scott's
  bandwidth by default;
* :class:`OFIConditionedOutflow` — the empirical law re-weighted by a Gaussian kernel in the
  order-flow imbalance that preceded each sample, centred on the current OFI (a
  Nadaraya-Watson bootstrap: outflow windows that followed an imbalance like today's count
  more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.optimize
import scipy.special

from myopic_sor._typing import Float64Array1D
from myopic_sor.exceptions import ConfigError

__all__ = [
    "EmpiricalOutflow",
    "ExponentialOutflow",
    "KDEOutflow",
    "OFIConditionedOutflow",
    "OutflowKind",
    "fit_outflow",
]

OutflowKind = Literal["exponential", "kde", "empirical"]


def _samples(samples: Float64Array1D, who: str) -> Float64Array1D:
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ConfigError(f"{who}: no outflow samples to fit (the look-back window is empty)")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ConfigError(f"{who}: outflow samples must be finite shares ≥ 0")
    return np.sort(x)


@dataclass(frozen=True)
class ExponentialOutflow:
    """ξ ~ Exponential with the given mean (shares); ``mean = 0`` is the law of no outflow."""

    mean: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and self.mean >= 0):
            raise ConfigError(f"ExponentialOutflow.mean must be finite shares ≥ 0, got {self.mean}")

    @classmethod
    def fit(cls, samples: Float64Array1D) -> ExponentialOutflow:
        """Maximum likelihood: the sample mean."""
        return cls(float(np.mean(_samples(samples, "ExponentialOutflow.fit"))))

    @property
    def has_cdf(self) -> bool:
        """True: the CDF and quantile are exact."""
        return True

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Draw ``n`` outflows."""
        if self.mean == 0:
            return np.zeros(n)
        return rng.exponential(self.mean, n)

    def cdf(self, x: float) -> float:
        """``1 − e^{−x/mean}`` (a step at 0 for mean 0)."""
        if self.mean == 0:
            return 1.0 if x >= 0 else 0.0
        return -math.expm1(-max(x, 0.0) / self.mean)

    def ppf(self, p: float) -> float:
        """``−mean · ln(1 − p)``."""
        if self.mean == 0 or p <= 0:
            return 0.0
        return math.inf if p >= 1 else -self.mean * math.log1p(-p)


@dataclass(frozen=True)
class EmpiricalOutflow:
    """The empirical law of the samples: bootstrap draws, exact step CDF and quantile."""

    samples: Float64Array1D
    weights: Float64Array1D | None = None
    _cum: Float64Array1D = field(init=False, repr=False)

    def __post_init__(self) -> None:
        x = np.asarray(self.samples, dtype=np.float64).reshape(-1)
        order = np.argsort(x, kind="stable")
        x = _samples(x[order], type(self).__name__)
        if self.weights is None:
            w = np.full(x.size, 1.0 / x.size)
        else:
            w = np.asarray(self.weights, dtype=np.float64).reshape(-1)[order]
            if w.shape != x.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
                raise ConfigError("weights must be one finite number ≥ 0 per sample, not all 0")
            w = w / w.sum()
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "_cum", np.cumsum(w))

    @property
    def has_cdf(self) -> bool:
        """True: the step CDF is exact for this law."""
        return True

    @property
    def mean(self) -> float:
        """The (weighted) sample mean, shares."""
        assert self.weights is not None
        return float(self.samples @ self.weights)

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Bootstrap ``n`` draws (with the weights)."""
        u = rng.random(n)
        idx = np.minimum(np.searchsorted(self._cum, u, side="right"), self.samples.size - 1)
        return self.samples[idx]

    def cdf(self, x: float) -> float:
        """Share of the (weighted) samples ≤ x."""
        k = int(np.searchsorted(self.samples, x, side="right"))
        return float(self._cum[k - 1]) if k > 0 else 0.0

    def ppf(self, p: float) -> float:
        """The smallest sample with CDF ≥ p."""
        k = int(np.searchsorted(self._cum, p - 1e-12, side="left"))
        return float(self.samples[min(k, self.samples.size - 1)])


@dataclass(frozen=True)
class KDEOutflow:
    """Gaussian kernel density of the samples, reflected at 0 so no mass lies below zero.

    ``f(x) = (1/n) Σ_i [φ_b(x − s_i) + φ_b(x + s_i)]`` for ``x ≥ 0``; bandwidth ``b`` by Scott's
    rule ``1.06 σ n^{−1/5}`` unless given (a floor of one share keeps it proper when every
    sample is equal). Draws: a bootstrap sample plus ``N(0, b²)`` noise, reflected.
    """

    samples: Float64Array1D
    bandwidth: float | None = None

    def __post_init__(self) -> None:
        x = _samples(self.samples, type(self).__name__)
        object.__setattr__(self, "samples", x)
        b = self.bandwidth
        if b is None:
            sd = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
            b = max(1.06 * sd * x.size ** (-0.2), 1.0)
        if not (math.isfinite(b) and b > 0):
            raise ConfigError(f"bandwidth must be a positive number of shares, got {b}")
        object.__setattr__(self, "bandwidth", float(b))

    @property
    def has_cdf(self) -> bool:
        """True: the CDF is exact (sums of normal CDFs); the quantile is solved to 1e-9."""
        return True

    @property
    def mean(self) -> float:
        """E ξ of the reflected kernel mixture."""
        b = float(self.bandwidth or 1.0)
        s = self.samples
        # E|N(s, b²)| = b √(2/π) e^{−s²/2b²} + s (1 − 2Φ(−s/b))
        z = s / b
        return float(
            np.mean(
                b * math.sqrt(2 / math.pi) * np.exp(-0.5 * z * z)
                + s * scipy.special.erf(z / math.sqrt(2))
            )
        )

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Bootstrap plus Gaussian noise, reflected at 0."""
        idx = rng.integers(0, self.samples.size, n)
        return np.abs(self.samples[idx] + rng.normal(0.0, float(self.bandwidth or 1.0), n))

    def cdf(self, x: float) -> float:
        """``(1/n) Σ_i [Φ((x − s_i)/b) − Φ((−x − s_i)/b)]`` for x ≥ 0."""
        if x <= 0:
            return 0.0
        b = float(self.bandwidth or 1.0)
        s = self.samples
        return float(np.mean(scipy.special.ndtr((x - s) / b) - scipy.special.ndtr((-x - s) / b)))

    def ppf(self, p: float) -> float:
        """Solve ``cdf(x) = p`` (Brent, to 1e-9 shares relative)."""
        if p <= 0:
            return 0.0
        if p >= 1:
            return math.inf
        hi = float(self.samples[-1]) + 10.0 * float(self.bandwidth or 1.0)
        return float(scipy.optimize.brentq(lambda x: self.cdf(x) - p, 0.0, hi, xtol=1e-9))


@dataclass(frozen=True)
class OFIConditionedOutflow(EmpiricalOutflow):
    """The empirical law re-weighted by how close each sample's preceding OFI is to now.

    Parameters
    ----------
    samples : numpy.ndarray
        Outflow of each look-back window, shares.
    ofi : numpy.ndarray
        Order-flow imbalance in the interval just before each window (same length).
    current_ofi : float
        The imbalance just before the decision.
    bandwidth : float, optional
        Kernel width in OFI units (default Scott's rule on ``ofi``).

    Notes
    -----
    Weights ``w_i ∝ exp(−(ofi_i − ofi_now)² / 2 b²)`` (Nadaraya-Watson). A strong buy imbalance
    tends to deplete the ask and refill the bid, so for a buy the bid-queue outflow is usually
    lower after positive OFI; the weighting lets the data say so without a parametric form.
    When every weight underflows (an OFI far outside the past range) the law is the plain
    empirical one.
    """

    ofi: Float64Array1D | None = None
    current_ofi: float = 0.0
    bandwidth: float | None = None

    def __post_init__(self) -> None:
        x = np.asarray(self.samples, dtype=np.float64).reshape(-1)
        o = np.asarray(self.ofi if self.ofi is not None else np.zeros(x.size), dtype=np.float64)
        if o.shape != x.shape or not np.all(np.isfinite(o)):
            raise ConfigError("ofi must hold one finite imbalance per outflow sample")
        b = self.bandwidth
        if b is None:
            sd = float(np.std(o, ddof=1)) if o.size > 1 else 0.0
            b = 1.06 * sd * o.size ** (-0.2) if sd > 0 else 1.0
        w = np.exp(-0.5 * ((o - float(self.current_ofi)) / b) ** 2)
        if not w.sum() > 0:
            w = np.ones_like(w)
        object.__setattr__(self, "bandwidth", float(b))
        object.__setattr__(self, "weights", w)
        super().__post_init__()

    @property
    def effective_samples(self) -> float:
        """Kish's effective sample size ``1 / Σ w_i²`` of the weights."""
        assert self.weights is not None
        return float(1.0 / np.sum(self.weights**2))


def fit_outflow(
    samples: Float64Array1D, kind: OutflowKind = "empirical"
) -> ExponentialOutflow | EmpiricalOutflow | KDEOutflow:
    """Fit the outflow law ``kind`` (``exponential``, ``kde`` or ``empirical``) to samples."""
    if kind == "exponential":
        return ExponentialOutflow.fit(samples)
    if kind == "kde":
        return KDEOutflow(samples)
    if kind == "empirical":
        return EmpiricalOutflow(samples)
    raise ConfigError(f"outflow kind {kind!r}: use exponential, kde or empirical")
