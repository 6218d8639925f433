"""Alpha curves, the zero / OFI-regression / latent / oracle forecasters and their scoring."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from myopic_sor.alpha import (
    LOOKAHEAD_LABEL,
    AlphaCurve,
    ForecastScore,
    OFIRegressionAlpha,
    OracleAlpha,
    TrueAlpha,
    ZeroAlpha,
    causal_view,
    evaluate_forecaster,
    exp_decay_curve,
)
from myopic_sor.alpha._base import grid_offsets
from myopic_sor.alpha._ofi import fit_decay_time
from myopic_sor.data import MarketData, SyntheticMarket, VenueData, make_synthetic_config
from myopic_sor.exceptions import (
    ConfigError,
    ConvergenceWarning,
    DataValidationError,
)

S = 1_000_000_000


# -- AlphaCurve ------------------------------------------------------------------------------------


def test_exp_decay_curve_values_and_exact_derivatives() -> None:
    a, tau, horizon = 0.08, 45.0, 200.0
    c = exp_decay_curve(10 * S, horizon, a, tau, step_s=7.0)
    assert c.times_s[-1] == horizon
    assert c(horizon) == 0.0
    assert c.alpha0 == pytest.approx(a * (1 - np.exp(-horizon / tau)), rel=1e-12)
    s = np.linspace(0.0, horizon, 1001)
    e = np.exp(-s / tau)
    np.testing.assert_allclose(c(s), a * (e - np.exp(-horizon / tau)), atol=2e-7)
    np.testing.assert_allclose(c.d1(s), -a / tau * e, atol=2e-7)
    np.testing.assert_allclose(c.d2(s), a / tau**2 * e, atol=2e-7)


def test_derivatives_match_finite_differences_of_the_interpolant() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate(([0.0], np.sort(rng.uniform(0, 50, 12)), [50.0]))
    y = rng.normal(size=x.size)
    y[-1] = 0.0
    c = AlphaCurve(0, x, y, slope=rng.normal(size=x.size), curvature=rng.normal(size=x.size))
    s = rng.uniform(0.5, 49.5, 50)
    s = s[np.min(np.abs(s[:, None] - x[None, :]), axis=1) > 1e-3]  # inside intervals
    eps = 1e-5
    fd1 = (c(s + eps) - c(s - eps)) / (2 * eps)
    fd2 = (c.d1(s + eps) - c.d1(s - eps)) / (2 * eps)
    np.testing.assert_allclose(c.d1(s), fd1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.d2(s), fd2, rtol=1e-5, atol=1e-4)
    # value, slope and curvature are matched at the nodes
    np.testing.assert_allclose(c(x), y, atol=1e-12)
    np.testing.assert_allclose(c.d1(x), c.slope, atol=1e-10)
    np.testing.assert_allclose(c.d2(x), c.curvature, atol=1e-9)


def test_quintic_is_reproduced_exactly() -> None:
    # a degree-5 polynomial vanishing at the horizon is reproduced by the quintic Hermite
    horizon = 3.0
    coef = np.polynomial.Polynomial([0.3, -0.2, 0.5, 0.1, -0.05])
    p = coef * np.polynomial.Polynomial([-horizon, 1.0])
    x = np.array([0.0, 0.7, 1.9, 3.0])
    c = AlphaCurve(0, x, p(x), slope=p.deriv(1)(x), curvature=p.deriv(2)(x))
    s = np.linspace(0, horizon, 301)
    np.testing.assert_allclose(c(s), p(s), atol=1e-12)
    np.testing.assert_allclose(c.d1(s), p.deriv(1)(s), atol=1e-11)
    np.testing.assert_allclose(c.d2(s), p.deriv(2)(s), atol=1e-10)


def test_derivatives_estimated_when_not_given() -> None:
    s = grid_offsets(300.0, 1.0)
    tau = 60.0
    alpha = 0.05 * (np.exp(-s / tau) - np.exp(-300.0 / tau))
    c = AlphaCurve(0, s, alpha)
    q = np.linspace(5.0, 295.0, 59)
    np.testing.assert_allclose(c.d1(q), -0.05 / tau * np.exp(-q / tau), rtol=1e-3)
    np.testing.assert_allclose(c.d2(q), 0.05 / tau**2 * np.exp(-q / tau), rtol=2e-2)


def test_curve_scalar_and_array_calls_and_absolute_times() -> None:
    c = exp_decay_curve(5 * S, 60.0, 0.01, 30.0, step_s=1.0)
    assert isinstance(c(3.0), float)
    assert c(np.array([3.0, 4.0])).shape == (2,)
    assert c.at_ns(5 * S + 3 * S) == pytest.approx(c(3.0))
    assert c.horizon_end_ns == 65 * S


@pytest.mark.parametrize(
    ("times", "values", "match"),
    [
        ([0.0, 1.0, 2.0], [0.1, 0.05, 0.02], "must be 0"),
        ([0.0, 1.0, 2.0], [0.1, np.nan, 0.0], "non-finite"),
        ([0.0, 2.0, 1.0], [0.1, 0.05, 0.0], "increase strictly"),
        ([1.0, 2.0], [0.1, 0.0], "start at 0"),
        ([0.0, 1.0], [0.1], "equal length"),
    ],
)
def test_curve_rejects_bad_values(times: list[float], values: list[float], match: str) -> None:
    with pytest.raises(DataValidationError, match=match):
        AlphaCurve(0, np.array(times), np.array(values))


def test_curve_rejects_queries_outside_the_horizon() -> None:
    c = exp_decay_curve(0, 60.0, 0.01, 30.0, step_s=1.0)
    with pytest.raises(ConfigError, match=r"\[0, 60\]"):
        c(61.0)
    with pytest.raises(ConfigError):
        c.d1(np.array([-1.0, 3.0]))


def test_grid_offsets() -> None:
    np.testing.assert_array_equal(grid_offsets(10.0, 4.0), [0.0, 4.0, 8.0, 10.0])
    np.testing.assert_array_equal(grid_offsets(8.0, 4.0), [0.0, 4.0, 8.0])
    np.testing.assert_array_equal(grid_offsets(0.0, 4.0), [0.0])
    with pytest.raises(ConfigError):
        grid_offsets(10.0, 0.0)


# -- forecasters on synthetic data ----------------------------------------------------------------


@pytest.fixture(scope="module")
def strong_market() -> SyntheticMarket:
    """One hour with a strong, flow-revealed drift (fixed seed: deterministic)."""
    cfg = make_synthetic_config(
        session_end=dt.time(10, 30), flow_tilt=1.0, sigma_daily=0.003, alpha_sd=0.5
    )
    m = SyntheticMarket(cfg, seed=2)
    m.generate()
    return m


def test_zero_alpha_is_zero_and_scores_zero_r2(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    f = ZeroAlpha(grid_step_s=30.0).fit(md, md.first_ts)
    c = f.predict(md, md.first_ts + 60 * S, md.first_ts + 200 * S)
    np.testing.assert_array_equal(c.alpha, 0.0)
    assert c.d2(100.0) == 0.0
    score = evaluate_forecaster(f, md, md.first_ts, md.first_ts + 900 * S, 60.0, horizon_s=60.0)
    assert score.r2 == 0.0
    assert np.isnan(score.ic)
    assert score.n > 10


def test_true_alpha_matches_latent_path(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    latent = strong_market.latent_path()
    f = TrueAlpha.from_market(strong_market).fit(md, md.first_ts)
    close = strong_market.session_end_ns
    for k in (0, 900, 2500):
        t = int(latent["ts_event"].iloc[k])
        c = f.predict(md, t, close)
        assert c.alpha0 == pytest.approx(float(latent["alpha"].iloc[k]), rel=1e-9, abs=1e-15)
        mu = float(latent["mu"].iloc[k])
        assert c.d1(0.0) == pytest.approx(-mu, rel=1e-9)
        assert c.uses_latent_state
        assert not c.lookahead
    assert "latent-state oracle" in repr(f)


def test_true_alpha_ignores_the_latent_future(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    latent = strong_market.latent_path()
    kappa = strong_market.config.kappa_per_s
    t = int(latent["ts_event"].iloc[1000]) + 400_000_000
    base = TrueAlpha(latent, kappa).fit(md, t).predict(md, t, t + 600 * S)
    changed = latent.copy()
    changed.loc[changed["ts_event"] > t, "mu"] *= -5.0
    other = TrueAlpha(changed, kappa).fit(md, t).predict(md, t, t + 600 * S)
    np.testing.assert_array_equal(base.alpha, other.alpha)


def test_oracle_is_flagged_and_uses_the_realised_path(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    latent = strong_market.latent_path()
    f = OracleAlpha.from_market(strong_market).fit(md, md.first_ts)
    assert f.lookahead
    assert LOOKAHEAD_LABEL in repr(f)
    assert LOOKAHEAD_LABEL in (OracleAlpha.__doc__ or "")
    t = int(latent["ts_event"].iloc[100])
    c = f.predict(md, t, t + 50 * S)
    s0 = latent["s0"].to_numpy()
    np.testing.assert_allclose(c.alpha, s0[150] - s0[100:151], atol=1e-12)
    assert c.lookahead
    assert LOOKAHEAD_LABEL in repr(c)
    with pytest.raises(DataValidationError, match="up to the horizon"):
        f.predict(md, t, strong_market.session_end_ns + 3600 * S)


def test_mid_oracle_scores_perfectly_and_is_labelled(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    f = OracleAlpha().fit(md, md.first_ts)
    score = evaluate_forecaster(f, md, md.first_ts, md.first_ts + 1200 * S, 60.0, horizon_s=60.0)
    assert score.r2 == pytest.approx(1.0)
    assert score.ic == pytest.approx(1.0)
    assert score.lookahead
    assert LOOKAHEAD_LABEL in score.summary()


def test_ofi_forecaster_has_positive_out_of_sample_ic(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    t_fit = md.first_ts + 900 * S
    f = OFIRegressionAlpha().fit(md, t_fit)
    assert f.fit_.converged
    assert f.fit_.until_ns == t_fit
    assert 10.0 <= f.fit_.tau_s <= 3600.0
    assert "tau=" in f.fit_.summary()
    score = f.evaluate(md, t_fit, md.last_ts, 30.0, horizon_s=60.0)
    # Figures for seed 2: n=88, IC ≈ 0.69, Pearson ≈ 0.64, R2_oos ≈ 0.39 (TrueAlpha: IC ≈ 0.80).
    assert isinstance(score, ForecastScore)
    assert score.n >= 80
    assert score.ic > 0.2
    assert score.pearson > 0.2
    assert score.r2 > 0.0
    assert not score.lookahead


def test_ofi_curve_is_an_exponential_decay(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    t = md.first_ts + 1500 * S
    f = OFIRegressionAlpha().fit(md, t)
    c = f.predict(md, t, t + 1200 * S)
    assert c.alpha0 != 0.0
    tau = f.fit_.tau_s
    s = np.linspace(0.0, 1200.0, 25)
    amp = c.alpha0 / (1 - np.exp(-1200.0 / tau))
    np.testing.assert_allclose(c(s), amp * (np.exp(-s / tau) - np.exp(-1200.0 / tau)), atol=1e-8)
    # the fixed (non-rolling) model fitted at t gives the same curve at t
    g = OFIRegressionAlpha(rolling=False).fit(md, t).predict(md, t, t + 1200 * S)
    np.testing.assert_allclose(g.alpha, c.alpha, rtol=1e-10, atol=1e-14)


def test_ofi_fixed_model_refuses_a_fit_after_the_decision_time(
    strong_market: SyntheticMarket,
) -> None:
    md = strong_market.generate()
    f = OFIRegressionAlpha(rolling=False).fit(md, md.first_ts + 1500 * S)
    with pytest.raises(DataValidationError, match="look-ahead"):
        f.predict(md, md.first_ts + 1000 * S, md.first_ts + 1100 * S)


def test_ofi_too_little_data_falls_back_to_zero(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    t = md.first_ts + 20 * S
    with pytest.warns(ConvergenceWarning, match="falling back to zero alpha"):
        f = OFIRegressionAlpha().fit(md, t)
    assert not f.fit_.converged
    with pytest.warns(ConvergenceWarning, match="training pairs"):
        c = f.predict(md, t, t + 300 * S)
    np.testing.assert_array_equal(c.alpha, 0.0)
    assert np.all(np.isfinite(c.d2(c.times_s)))


def _with_mids(md: MarketData, nan_fraction: float, seed: int) -> MarketData:
    rng = np.random.default_rng(seed)
    venues = {}
    for name, v in md.venues.items():
        cols = {k: np.array(a, copy=True) for k, a in v.columns.items()}
        bad = rng.random(len(v)) < nan_fraction
        cols["bid_px_00"][bad] = np.nan
        venues[name] = VenueData(name, v.symbol, cols, v.source)
    return MarketData(md.symbol, md.date, venues, md.timezone)


def test_ofi_with_nan_mids(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate().between(None, strong_market.session_start_ns + 1300 * S)
    t = md.last_ts
    some = _with_mids(md, 0.3, 1)
    c = OFIRegressionAlpha().fit(some, t).predict(some, t, t + 600 * S)
    assert np.all(np.isfinite(c.alpha))
    assert c.alpha0 != 0.0
    none = _with_mids(md, 1.01, 2)
    with pytest.warns(ConvergenceWarning, match="no valid consolidated mid"):
        f = OFIRegressionAlpha().fit(none, t)
    with pytest.warns(ConvergenceWarning, match="no valid consolidated mid"):
        c = f.predict(none, t, t + 600 * S)
    np.testing.assert_array_equal(c.alpha, 0.0)


@pytest.mark.parametrize("tau", [20.0, 95.0, 700.0])
def test_decay_time_is_recovered_from_exact_shapes(tau: float) -> None:
    rng = np.random.default_rng(0)
    h = np.array([10.0, 30.0, 60.0, 120.0, 300.0])
    amp = rng.normal(size=200)
    moves = amp[:, None] * -np.expm1(-h / tau)[None, :]
    moves += 1e-4 * rng.normal(size=moves.shape)
    taus = np.geomspace(5.0, 3600.0, 400)
    assert fit_decay_time(moves, h, taus) == pytest.approx(tau, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizons_s": (15.0, 30.0)}, "multiple of bucket_s"),
        ({"horizons_s": (30.0,)}, "two distinct"),
        ({"features": ("ofi", "vpin")}, "choose one or more"),
        ({"lookback_s": 5.0}, "lookback_s"),
        ({"windows_s": ()}, "windows_s"),
        ({"min_samples": 1}, "min_samples"),
    ],
)
def test_ofi_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        OFIRegressionAlpha(**kwargs)  # type: ignore[arg-type]


def test_causal_view_and_time_checks(strong_market: SyntheticMarket) -> None:
    md = strong_market.generate()
    t = md.first_ts + 10 * S
    view = causal_view(md, t)
    assert view.last_ts <= t
    f = ZeroAlpha().fit(md, t)
    with pytest.raises(ConfigError, match="integer UTC timestamp"):
        f.predict(md, float(t), t + S)  # type: ignore[arg-type]
