"""Outflow laws: exponential MLE, exact empirical law, reflected KDE, OFI conditioning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from myopic_sor.exceptions import ConfigError
from myopic_sor.routing._base import OutflowDistribution
from myopic_sor.routing._outflow import (
    EmpiricalOutflow,
    ExponentialOutflow,
    KDEOutflow,
    OFIConditionedOutflow,
    fit_outflow,
)

SAMPLES = np.array([0.0, 0.0, 40.0, 100.0, 100.0, 250.0, 900.0])


def _laws() -> list[OutflowDistribution]:
    return [
        ExponentialOutflow.fit(SAMPLES),
        EmpiricalOutflow(SAMPLES),
        KDEOutflow(SAMPLES),
        OFIConditionedOutflow(SAMPLES, ofi=np.arange(7.0), current_ofi=2.0),
    ]


@pytest.mark.parametrize("law", _laws(), ids=lambda law: type(law).__name__)
def test_every_law_is_an_outflow_distribution_with_consistent_quantiles(
    law: OutflowDistribution,
) -> None:
    assert isinstance(law, OutflowDistribution)
    assert law.has_cdf
    draws = law.sample(4000, np.random.default_rng(0))
    assert draws.shape == (4000,)
    assert draws.dtype == np.float64
    assert np.all(draws >= 0.0)
    assert law.cdf(-1.0) == 0.0
    for p in (0.05, 0.3, 0.5, 0.77, 0.95):
        x = law.ppf(p)
        assert law.cdf(x) >= p - 1e-9  # F(F^-1(p)) >= p
        assert law.cdf(x - 1e-6) <= p + 1e-9  # and x is the smallest such point
    # the mean is the mean of the law's own draws
    big = law.sample(200_000, np.random.default_rng(1))
    assert law.mean == pytest.approx(float(big.mean()), rel=0.02)


def test_exponential_mle_recovers_a_known_mean() -> None:
    x = np.random.default_rng(0).exponential(250.0, 20_000)
    law = ExponentialOutflow.fit(x)
    assert law.mean == float(np.mean(x))  # the MLE is the sample mean
    assert law.mean == pytest.approx(250.0, rel=0.03)  # 3 % is > 4 standard errors
    assert law.cdf(250.0) == pytest.approx(1.0 - math.exp(-250.0 / law.mean))
    assert law.ppf(law.cdf(123.0)) == pytest.approx(123.0)
    assert law.ppf(0.0) == 0.0
    assert law.ppf(1.0) == math.inf


def test_empirical_cdf_and_quantile_are_exact_inverses() -> None:
    law = EmpiricalOutflow(np.array([5.0, 1.0, 3.0, 3.0]))
    assert [law.cdf(x) for x in (0.5, 1.0, 2.9, 3.0, 4.0, 5.0)] == [0, 0.25, 0.25, 0.75, 0.75, 1]
    assert [law.ppf(p) for p in (0.0, 0.25, 0.26, 0.5, 0.75, 0.76, 1.0)] == [1, 1, 3, 3, 3, 5, 5]
    assert law.mean == 3.0
    rng = np.random.default_rng(2)
    x = np.sort(rng.integers(0, 50, 301).astype(float))
    law = EmpiricalOutflow(x)
    for p in rng.random(200):
        q = law.ppf(p)
        assert law.cdf(q) >= p  # F(F^-1(p)) >= p
        assert np.mean(x < q) < p  # nothing smaller reaches p
    for v in x:
        assert law.ppf(law.cdf(v)) <= v  # F^-1(F(x)) <= x
        assert law.cdf(v) == np.mean(x <= v)


def test_empirical_bootstrap_frequencies_follow_the_weights() -> None:
    law = EmpiricalOutflow(np.array([10.0, 20.0, 30.0]), weights=np.array([1.0, 0.0, 3.0]))
    draws = law.sample(40_000, np.random.default_rng(3))
    assert set(np.unique(draws)) == {10.0, 30.0}  # a zero weight is never drawn
    assert np.mean(draws == 10.0) == pytest.approx(0.25, abs=0.01)
    assert law.cdf(20.0) == 0.25
    assert law.ppf(0.25) == 10.0
    assert law.ppf(0.26) == 30.0
    assert law.mean == pytest.approx(25.0)
    assert law.effective_samples == pytest.approx(1.0 / (0.25**2 + 0.75**2))


def test_kde_lives_on_the_half_line_and_integrates_to_one() -> None:
    law = KDEOutflow(SAMPLES)
    b = law.bandwidth_
    assert b == pytest.approx(np.std(SAMPLES, ddof=1) * SAMPLES.size ** (-0.2))  # Scott
    assert law.pdf(-1e-9) == 0.0
    assert law.cdf(0.0) == 0.0
    assert law.cdf(1e7) == pytest.approx(1.0, abs=1e-12)
    grid = np.linspace(0.0, SAMPLES.max() + 12 * b, 200_001)
    dens = np.array([law.pdf(x) for x in grid[::50]])
    assert np.trapezoid(dens, grid[::50]) == pytest.approx(1.0, abs=1e-4)
    # the density is the reflection of scipy's Gaussian KDE with the same bandwidth
    kde = scipy.stats.gaussian_kde(SAMPLES, bw_method=b / np.std(SAMPLES, ddof=1))
    for x in (0.0, 3.0, 70.0, 400.0, 1500.0):
        assert law.pdf(x) == pytest.approx(float(kde(x)[0] + kde(-x)[0]), rel=1e-9)
    # the CDF is the integral of that density
    for x in (20.0, 150.0, 800.0):
        xs = np.linspace(0.0, x, 20_001)
        integral = np.trapezoid([law.pdf(v) for v in xs], xs)
        assert law.cdf(x) == pytest.approx(integral, abs=1e-6)
    assert law.ppf(law.cdf(321.0)) == pytest.approx(321.0, abs=1e-6)


def test_degenerate_samples_have_documented_laws() -> None:
    zeros = np.zeros(6)
    expo = fit_outflow(zeros, "exponential")
    assert expo.mean == 0.0
    assert expo.cdf(0.0) == 1.0
    assert np.all(expo.sample(10, np.random.default_rng(0)) == 0.0)
    emp = fit_outflow(zeros, "empirical")
    assert emp.cdf(0.0) == 1.0
    assert emp.ppf(0.9) == 0.0
    kde = fit_outflow(zeros, "kde", min_bandwidth=2.0)
    assert isinstance(kde, KDEOutflow)
    assert kde.bandwidth_ == 2.0  # the floor: a half-normal of scale 2 shares
    assert kde.mean == pytest.approx(2.0 * math.sqrt(2.0 / math.pi))
    assert kde.cdf(2.0) == pytest.approx(2 * scipy.stats.norm.cdf(1.0) - 1.0)
    one = np.array([300.0])
    assert fit_outflow(one, "exponential").mean == 300.0
    assert fit_outflow(one, "empirical").ppf(0.01) == 300.0
    assert fit_outflow(one, "kde").mean == pytest.approx(300.0)


@pytest.mark.parametrize("kind", ["exponential", "kde", "empirical"])
def test_fit_outflow_rejects_empty_and_invalid_samples(kind: str) -> None:
    with pytest.raises(ConfigError, match="no outflow samples"):
        fit_outflow(np.zeros(0), kind)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="finite shares"):
        fit_outflow(np.array([1.0, -2.0]), kind)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="finite shares"):
        fit_outflow(np.array([1.0, np.nan]), kind)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="probability"):
        fit_outflow(np.ones(3), kind).ppf(1.5)  # type: ignore[arg-type]


def test_fit_outflow_rejects_an_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="outflow kind"):
        fit_outflow(np.ones(3), "gamma")  # type: ignore[arg-type]


def test_ofi_conditioned_law_follows_the_current_imbalance() -> None:
    rng = np.random.default_rng(4)
    ofi = rng.normal(0.0, 1.0, 4000)
    outflow = np.maximum(100.0 + 80.0 * ofi + rng.normal(0.0, 10.0, 4000), 0.0)
    plain = EmpiricalOutflow(outflow)
    hi = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=1.5)
    lo = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=-1.0)
    mid = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=0.0)
    # E[outflow | ofi] = 100 + 80 ofi (no clipping near these points): kernel bias is small
    assert hi.mean == pytest.approx(220.0, rel=0.05)
    assert lo.mean == pytest.approx(20.0, abs=6.0)
    assert mid.mean == pytest.approx(100.0, rel=0.05)
    assert lo.ppf(0.5) < plain.ppf(0.5) < hi.ppf(0.5)
    assert hi.cdf(150.0) < plain.cdf(150.0) < lo.cdf(150.0)
    assert 50 < hi.effective_samples < 4000
    # an imbalance far outside the past range falls back to the nearest neighbours
    far = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=1e6)
    nearest = int(np.argmax(ofi))
    assert far.ppf(0.5) == outflow[nearest]


def test_ofi_conditioned_law_is_uniform_when_the_imbalance_does_not_vary() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    law = OFIConditionedOutflow(x, ofi=np.full(4, 7.0), current_ofi=-3.0)
    assert law.mean == 2.5
    assert law.effective_samples == pytest.approx(4.0)
    with pytest.raises(ConfigError, match="one finite imbalance per outflow sample"):
        OFIConditionedOutflow(x, ofi=np.zeros(3), current_ofi=0.0)
