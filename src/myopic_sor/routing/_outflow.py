r"""Laws of the queue outflow ξ over the router horizon, fitted on past samples only.

Every law implements :class:`~myopic_sor.routing.OutflowDistribution` (``has_cdf``, ``mean``,
``sample``, ``cdf``, ``ppf``). The samples are the shares that left one venue's touch queue
over windows of the router horizon in the look-back window
(:func:`~myopic_sor.routing.build_routing_problem` makes them); they are whole shares ≥ 0,
often with many exact zeros (quiet windows).

* :class:`ExponentialOutflow` — ξ ~ Exponential(μ) with the maximum-likelihood μ, the sample
  mean; exact CDF and quantile.
* :class:`EmpiricalOutflow` — the (optionally weighted) empirical law: bootstrap draws, exact
  step CDF and quantile.
* :class:`KDEOutflow` — a Gaussian kernel density **reflected at 0**, so it lives on
  ``[0, ∞)``; its CDF is the exact integral of the density (a sum of normal CDFs).
* :class:`OFIConditionedOutflow` — the empirical law re-weighted by a Gaussian kernel in the
  order-flow imbalance that preceded each sample, centred on the current imbalance (a
  Nadaraya-Watson, kernel-weighted bootstrap).

Degenerate inputs: no samples is a :class:`~myopic_sor.exceptions.ConfigError` (the caller
excludes such a venue before fitting); all samples zero gives the point mass at 0 for the
exponential and empirical laws (a venue whose queue never moves: limit orders there never
fill) and a half-normal of width ``min_bandwidth`` for the KDE; one sample gives the
exponential of that mean, the point mass at that sample, and a kernel of width
``min_bandwidth`` around it.
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
BandwidthRule = Literal["scott", "silverman"]

_SQRT2 = math.sqrt(2.0)
_SQRT2_OVER_PI = math.sqrt(2.0 / math.pi)


def _clean_samples(samples: Float64Array1D, who: str) -> Float64Array1D:
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ConfigError(
            f"{who}: no outflow samples to fit (the look-back window holds no window of the "
            "router horizon); lengthen the look-back or exclude the venue"
        )
    bad = ~np.isfinite(x) | (x < 0.0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ConfigError(
            f"{who}: outflow samples must be finite shares ≥ 0, got {x[i]!r} at position {i}"
        )
    return x


def _check_p(p: float, who: str) -> float:
    q = float(p)
    if not 0.0 <= q <= 1.0:  # also rejects NaN
        raise ConfigError(f"{who}.ppf: p must be a probability in [0, 1], got {p!r}")
    return q


def _check_n(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ConfigError(f"sample: n must be a whole number ≥ 0, got {n!r}")
    return int(n)


# --------------------------------------------------------------------------------------------
# exponential
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExponentialOutflow:
    r"""ξ ~ Exponential with mean ``mean`` (shares); ``mean = 0`` is the point mass at 0.

    Parameters
    ----------
    mean : float
        μ, the expected outflow over the router horizon, shares (≥ 0).

    Notes
    -----
    ``F(x) = 1 − e^{−x/μ}`` for ``x ≥ 0``, ``F^{-1}(p) = −μ ln(1 − p)``. The maximum-likelihood
    estimate of μ from samples ``s_1..s_n`` is their mean (:meth:`fit`).
    """

    mean: float

    def __post_init__(self) -> None:
        m = float(self.mean)
        if not (math.isfinite(m) and m >= 0.0):
            raise ConfigError(f"ExponentialOutflow.mean must be finite shares ≥ 0, got {self.mean}")
        object.__setattr__(self, "mean", m)

    @classmethod
    def fit(cls, samples: Float64Array1D) -> ExponentialOutflow:
        """Fit by maximum likelihood: ``μ̂ = mean(samples)`` (shares)."""
        return cls(float(np.mean(_clean_samples(samples, "ExponentialOutflow.fit"))))

    @property
    def has_cdf(self) -> bool:
        """True: the CDF and quantile are exact."""
        return True

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Draw ``n`` outflows (shares)."""
        n = _check_n(n)
        if self.mean == 0.0:
            return np.zeros(n)
        out: Float64Array1D = rng.exponential(self.mean, n)
        return out

    def cdf(self, x: float) -> float:
        """``P(ξ ≤ x) = 1 − e^{−x/μ}`` (a unit step at 0 when μ = 0)."""
        if x < 0.0:
            return 0.0
        if self.mean == 0.0:
            return 1.0
        return -math.expm1(-float(x) / self.mean)

    def ppf(self, p: float) -> float:
        """``−μ ln(1 − p)``: 0 at p = 0, ∞ at p = 1 (0 everywhere when μ = 0)."""
        q = _check_p(p, "ExponentialOutflow")
        if self.mean == 0.0 or q == 0.0:
            return 0.0
        return math.inf if q == 1.0 else -self.mean * math.log1p(-q)


# --------------------------------------------------------------------------------------------
# empirical (optionally weighted)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # arrays: identity equality
class EmpiricalOutflow:
    """The empirical law of the samples: bootstrap draws, exact step CDF and quantile.

    Parameters
    ----------
    samples : numpy.ndarray
        Past outflows over the router horizon, shares (≥ 0, at least one).
    weights : numpy.ndarray, optional
        One weight ≥ 0 per sample, not all 0 (normalised here); default equal weights.

    Notes
    -----
    With the distinct values ``x_(1) < … < x_(m)`` and their total weights ``w_(j)``:
    ``F(x) = Σ_{x_(j) ≤ x} w_(j)``, ``F^{-1}(p) = min{x_(j) : F(x_(j)) ≥ p}`` (``x_(1)`` for
    p = 0), so ``F(F^{-1}(p)) ≥ p`` and ``F^{-1}(F(x)) ≤ x`` hold exactly. Draws pick ``x_(j)``
    with probability ``w_(j)`` (the bootstrap).
    """

    samples: Float64Array1D
    weights: Float64Array1D | None = None
    values: Float64Array1D = field(init=False, repr=False)
    cum: Float64Array1D = field(init=False, repr=False)

    def __post_init__(self) -> None:
        x = _clean_samples(self.samples, type(self).__name__)
        if self.weights is None and not bool(np.any(np.signbit(x))):
            self._set_unweighted(x)
            return
        if self.weights is None:
            w = np.ones(x.size)
        else:
            w = np.asarray(self.weights, dtype=np.float64).reshape(-1)
            if w.shape != x.shape:
                raise ConfigError(
                    f"{type(self).__name__}: {w.size} weights for {x.size} samples; give one each"
                )
            if not np.all(np.isfinite(w)) or np.any(w < 0.0) or not w.sum() > 0.0:
                raise ConfigError(
                    f"{type(self).__name__}: weights must be finite, ≥ 0 and not all 0"
                )
        values, inverse = np.unique(x, return_inverse=True)
        mass = np.bincount(inverse.reshape(-1), weights=w, minlength=values.size)
        cum = np.cumsum(np.asarray(mass, dtype=np.float64))
        cum = cum / cum[-1]
        cum[-1] = 1.0
        order = np.argsort(x, kind="stable")
        self._store(x[order], w[order] / w.sum(), values, cum)

    def _set_unweighted(self, x: Float64Array1D) -> None:
        # equal weights, one sort (the router fits one law per venue per decision): the same
        # arrays as the weighted path, whose np.unique could only differ in the sign of a
        # zero (excluded by the caller)
        xs = np.sort(x, kind="stable")
        n = xs.size
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(xs[1:], xs[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        values = xs[starts]
        cum = np.append(starts[1:], n).astype(np.float64) / float(n)
        cum[-1] = 1.0
        self._store(xs, np.full(n, 1.0 / float(n)), values, cum)

    def _store(
        self, xs: Float64Array1D, ws: Float64Array1D, values: Float64Array1D, cum: Float64Array1D
    ) -> None:
        """Freeze the law's arrays (sorted samples, their weights, distinct values, CDF)."""
        for a in (xs, ws, values, cum):
            a.setflags(write=False)
        object.__setattr__(self, "samples", xs)
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "cum", cum)

    @property
    def has_cdf(self) -> bool:
        """True: the step CDF and its quantile are exact for this law."""
        return True

    @property
    def mean(self) -> float:
        """The (weighted) sample mean, shares."""
        assert self.weights is not None
        return float(self.samples @ self.weights)

    @property
    def effective_samples(self) -> float:
        """Kish's effective sample size ``1 / Σ w_i²`` (n for equal weights)."""
        assert self.weights is not None
        return float(1.0 / np.sum(self.weights**2))

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Bootstrap ``n`` draws (shares), each value with its probability mass."""
        n = _check_n(n)
        u = rng.random(n)
        idx = np.minimum(np.searchsorted(self.cum, u, side="right"), self.values.size - 1)
        out: Float64Array1D = self.values[idx]
        return out

    def cdf(self, x: float) -> float:
        """Total weight of the samples ≤ x."""
        k = int(np.searchsorted(self.values, float(x), side="right"))
        return float(self.cum[k - 1]) if k > 0 else 0.0

    def ppf(self, p: float) -> float:
        """The smallest sample value whose CDF is ≥ p."""
        q = _check_p(p, type(self).__name__)
        k = int(np.searchsorted(self.cum, q, side="left"))
        return float(self.values[min(k, self.values.size - 1)])


# --------------------------------------------------------------------------------------------
# reflected Gaussian KDE
# --------------------------------------------------------------------------------------------


def _bandwidth(x: Float64Array1D, rule: BandwidthRule | float, floor: float) -> float:
    if isinstance(rule, str):
        n = x.size
        sd = float(np.std(x, ddof=1)) if n > 1 else 0.0
        if rule == "scott":
            b = sd * float(n) ** (-0.2)
        elif rule == "silverman":
            q75, q25 = np.percentile(x, [75.0, 25.0]) if n > 1 else (0.0, 0.0)
            iqr = float(q75) - float(q25)
            spread = min(sd, iqr / 1.34) if iqr > 0.0 else sd
            b = 0.9 * spread * float(n) ** (-0.2)
        else:
            raise ConfigError(f"bandwidth rule {rule!r}: use scott, silverman or a number")
        return float(max(b, floor))
    b = float(rule)
    if not (math.isfinite(b) and b > 0.0):
        raise ConfigError(f"KDEOutflow bandwidth must be a positive number of shares, got {rule}")
    return b


@dataclass(frozen=True, slots=True, eq=False)  # arrays: identity equality
class KDEOutflow:
    r"""Gaussian kernel density of the samples, reflected at 0 (no mass below zero).

    Parameters
    ----------
    samples : numpy.ndarray
        Past outflows over the router horizon, shares (≥ 0, at least one).
    bandwidth : {"scott", "silverman"} or float, default "scott"
        Kernel standard deviation b, shares, or the rule that sets it: Scott's ``σ̂ n^{−1/5}``
        (as :class:`scipy.stats.gaussian_kde`) or Silverman's robust
        ``0.9 min(σ̂, IQR/1.34) n^{−1/5}``.
    min_bandwidth : float, default 1.0
        Floor of a rule's bandwidth, shares: outflows are whole shares, so a narrower kernel
        would be a sum of spikes; it also keeps the law proper when every sample is equal.

    Notes
    -----
    Reflection (rather than a log transform, which cannot hold the exact zeros that quiet
    windows produce): for ``x ≥ 0``

    .. math::

        f(x) = \frac1n \sum_i \big[φ_b(x − s_i) + φ_b(x + s_i)\big], \qquad
        F(x) = \frac1n \sum_i \big[Φ((x − s_i)/b) − Φ((−x − s_i)/b)\big],

    the exact integral of f over ``[0, x]``, so F(0) = 0 and F(∞) = 1. It is the law of
    ``|s_I + b Z|`` with I uniform and Z standard normal, which is how :meth:`sample` draws, and
    ``E ξ = (1/n) Σ_i [b √(2/π) e^{−s_i²/2b²} + s_i erf(s_i / (b√2))]``.
    """

    samples: Float64Array1D
    bandwidth: BandwidthRule | float = "scott"
    min_bandwidth: float = 1.0
    bandwidth_: float = field(init=False)

    def __post_init__(self) -> None:
        x = np.sort(_clean_samples(self.samples, type(self).__name__))
        floor = float(self.min_bandwidth)
        if not (math.isfinite(floor) and floor > 0.0):
            raise ConfigError(f"min_bandwidth must be a positive number of shares, got {floor}")
        x.setflags(write=False)
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "bandwidth_", _bandwidth(x, self.bandwidth, floor))

    @property
    def has_cdf(self) -> bool:
        """True: the CDF is exact; the quantile solves ``F(x) = p`` to 1e-9 shares."""
        return True

    @property
    def mean(self) -> float:
        """E ξ of the reflected kernel mixture, shares."""
        b, s = self.bandwidth_, self.samples
        z = s / b
        return float(
            np.mean(b * _SQRT2_OVER_PI * np.exp(-0.5 * z * z) + s * scipy.special.erf(z / _SQRT2))
        )

    def pdf(self, x: float) -> float:
        """Density at ``x`` (per share); 0 below 0."""
        if x < 0.0:
            return 0.0
        b, s = self.bandwidth_, self.samples
        dens = np.exp(-0.5 * ((x - s) / b) ** 2) + np.exp(-0.5 * ((x + s) / b) ** 2)
        return float(np.mean(dens) / (b * math.sqrt(2.0 * math.pi)))

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Draw ``n`` outflows: a bootstrap sample plus ``N(0, b²)`` noise, reflected at 0."""
        n = _check_n(n)
        idx = rng.integers(0, self.samples.size, n)
        out: Float64Array1D = np.abs(self.samples[idx] + rng.normal(0.0, self.bandwidth_, n))
        return out

    def cdf(self, x: float) -> float:
        """``(1/n) Σ_i [Φ((x − s_i)/b) − Φ((−x − s_i)/b)]`` for x ≥ 0, else 0."""
        if x <= 0.0:
            return 0.0
        b, s = self.bandwidth_, self.samples
        return float(np.mean(scipy.special.ndtr((x - s) / b) - scipy.special.ndtr((-x - s) / b)))

    def ppf(self, p: float) -> float:
        """Solve ``F(x) = p`` by Brent's method (0 at p = 0, ∞ at p = 1)."""
        q = _check_p(p, type(self).__name__)
        if q == 0.0:
            return 0.0
        if q == 1.0:
            return math.inf
        b = self.bandwidth_
        hi = float(self.samples[-1]) + b * max(float(scipy.special.ndtri(q)), 0.0) + b
        while self.cdf(hi) < q:
            hi = 2.0 * hi + b
        return float(scipy.optimize.brentq(lambda v: self.cdf(v) - q, 0.0, hi, xtol=1e-9))


# --------------------------------------------------------------------------------------------
# OFI-conditioned (kernel-weighted bootstrap)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # arrays: identity equality
class OFIConditionedOutflow:
    r"""The empirical outflow law re-weighted by how close each sample's preceding OFI is to now.

    Parameters
    ----------
    samples : numpy.ndarray
        Outflow of each look-back window, shares.
    ofi : numpy.ndarray
        Order-flow imbalance over the interval just before each window (same length; any
        consistent unit, e.g. shares of level-1 OFI).
    current_ofi : float
        The imbalance over the same length of interval just before the decision.
    bandwidth : float, optional
        Kernel width h in OFI units (default Silverman's ``1.06 σ̂_ofi n^{−1/5}``; equal weights
        when the past OFI does not vary).

    Notes
    -----
    A kernel-weighted (Nadaraya-Watson) bootstrap rather than a regression of log outflow on
    OFI: it needs no functional form, keeps the exact zeros of quiet windows, and its CDF is
    exact (a weighted step function). Weights

    .. math::

        w_i ∝ \exp\!\Big(−\frac{(o_i − o_{now})^2 − \min_j (o_j − o_{now})^2}{2h^2}\Big),

    i.e. the Gaussian kernel scaled so the nearest past imbalance has weight 1: no underflow,
    and for an imbalance far outside the past range the law falls back to the samples whose
    OFI was closest (nearest neighbours) instead of failing. ``effective_samples`` (Kish) says
    how many samples the conditioning really uses.
    """

    samples: Float64Array1D
    ofi: Float64Array1D
    current_ofi: float
    bandwidth: float | None = None
    bandwidth_: float = field(init=False)
    law_: EmpiricalOutflow = field(init=False, repr=False)

    def __post_init__(self) -> None:
        x = _clean_samples(self.samples, type(self).__name__)
        o = np.asarray(self.ofi, dtype=np.float64).reshape(-1)
        if o.shape != x.shape or not np.all(np.isfinite(o)):
            raise ConfigError(
                f"OFIConditionedOutflow: ofi must hold one finite imbalance per outflow sample "
                f"({o.size} for {x.size} samples)"
            )
        now = float(self.current_ofi)
        if not math.isfinite(now):
            raise ConfigError(f"OFIConditionedOutflow: current_ofi must be finite, got {now}")
        if self.bandwidth is None:
            sd = float(np.std(o, ddof=1)) if o.size > 1 else 0.0
            h = 1.06 * sd * o.size ** (-0.2)
        else:
            h = float(self.bandwidth)
            if not (math.isfinite(h) and h > 0.0):
                raise ConfigError(f"OFI kernel bandwidth must be > 0, got {self.bandwidth}")
        if h > 0.0:
            d2 = ((o - now) / h) ** 2
            w = np.exp(-0.5 * (d2 - d2.min()))
        else:
            w = np.ones(x.size)
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "ofi", o)
        object.__setattr__(self, "current_ofi", now)
        object.__setattr__(self, "bandwidth_", h)
        object.__setattr__(self, "law_", EmpiricalOutflow(x, w))

    @property
    def has_cdf(self) -> bool:
        """True: the weighted step CDF is exact."""
        return True

    @property
    def mean(self) -> float:
        """Kernel-weighted mean outflow, shares (the Nadaraya-Watson regression at now)."""
        return self.law_.mean

    @property
    def effective_samples(self) -> float:
        """Kish's effective sample size of the weights."""
        return self.law_.effective_samples

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Weighted bootstrap of ``n`` outflows (shares)."""
        return self.law_.sample(n, rng)

    def cdf(self, x: float) -> float:
        """Weighted share of the samples ≤ x."""
        return self.law_.cdf(x)

    def ppf(self, p: float) -> float:
        """The smallest sample value whose weighted CDF is ≥ p."""
        return self.law_.ppf(p)


def fit_outflow(
    samples: Float64Array1D,
    kind: OutflowKind = "empirical",
    *,
    bandwidth: BandwidthRule | float = "scott",
    min_bandwidth: float = 1.0,
) -> ExponentialOutflow | EmpiricalOutflow | KDEOutflow:
    """Fit the outflow law ``kind`` to past samples.

    Parameters
    ----------
    samples : numpy.ndarray
        Outflows over the router horizon, shares (≥ 0, at least one).
    kind : {"empirical", "exponential", "kde"}, default "empirical"
        :class:`EmpiricalOutflow`, :class:`ExponentialOutflow` (MLE) or :class:`KDEOutflow`.
    bandwidth, min_bandwidth
        Passed to :class:`KDEOutflow` (ignored otherwise).

    Returns
    -------
    OutflowDistribution

    Raises
    ------
    ConfigError
        No samples, a negative or non-finite sample, or an unknown ``kind``.
    """
    if kind == "exponential":
        return ExponentialOutflow.fit(samples)
    if kind == "kde":
        return KDEOutflow(samples, bandwidth=bandwidth, min_bandwidth=min_bandwidth)
    if kind == "empirical":
        return EmpiricalOutflow(samples)
    raise ConfigError(f"outflow kind {kind!r}: use exponential, kde or empirical")
