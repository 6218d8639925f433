"""ImpactParams, impact paths over event streams and the expected cost of a schedule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact._model import (
    ImpactParams,
    expected_cost,
    expected_cost_quadratic,
    impact_path,
    past_impact,
    price_impact_series,
)

PARAMS = ImpactParams(lambda_=0.8, beta_per_s=math.log(2) / 300.0, sigma_daily=0.02, adv=2e6)


# ------------------------------------------------------------------------------ ImpactParams


@pytest.mark.parametrize("field", ["lambda_", "beta_per_s", "sigma_daily", "adv"])
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_params_reject_non_positive_fields_naming_them(field: str, bad: float) -> None:
    kwargs = {"lambda_": 0.8, "beta_per_s": 1e-3, "sigma_daily": 0.02, "adv": 2e6, field: bad}
    with pytest.raises(ConfigError, match=field):
        ImpactParams(**kwargs)


def test_params_units_and_constructors() -> None:
    p = ImpactParams.from_half_life(lambda_=0.5, half_life_s=600.0, sigma_daily=0.02, adv=1e6)
    assert p.beta_per_s == pytest.approx(math.log(2) / 600.0)
    assert p.half_life_s == pytest.approx(600.0)
    assert p.beta_per_hour == pytest.approx(3600.0 * math.log(2) / 600.0)
    assert p.lambda_per_share == pytest.approx(0.5 * 0.02 / 1e6)
    q = ImpactParams.from_beta_per_hour(
        lambda_=0.5, beta_per_hour=p.beta_per_hour, sigma_daily=0.02, adv=1e6
    )
    assert q.beta_per_s == pytest.approx(p.beta_per_s, rel=1e-14)
    with pytest.raises(ConfigError, match="half_life_s"):
        ImpactParams.from_half_life(lambda_=0.5, half_life_s=-1.0, sigma_daily=0.02, adv=1e6)
    with pytest.raises(ConfigError, match="beta_per_hour"):
        ImpactParams.from_beta_per_hour(lambda_=0.5, beta_per_hour=0.0, sigma_daily=0.02, adv=1)


def test_params_are_frozen_and_slotted() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PARAMS.lambda_ = 1.0  # type: ignore[misc]
    assert not hasattr(PARAMS, "__dict__")
    assert isinstance(ImpactParams(lambda_=1, beta_per_s=1, sigma_daily=1, adv=1).adv, float)


# ------------------------------------------------------------------------------ impact paths


def test_impact_path_single_trade_units_and_half_life() -> None:
    ts = np.array([0, 300, 600], dtype=np.int64) * 1_000_000_000
    before, after = impact_path(ts, np.array([10_000.0, 0.0, 0.0]), PARAMS)
    jump = PARAMS.lambda_ * 10_000.0 * PARAMS.sigma_daily / PARAMS.adv
    assert before[0] == 0.0
    assert after[0] == pytest.approx(jump)
    assert before[1] == pytest.approx(jump / 2)  # one half-life
    assert before[2] == pytest.approx(jump / 4)


def test_impact_path_ties_do_not_decay_and_i0_decays() -> None:
    ts = np.array([5, 5, 5 + 300 * 10**9], dtype=np.int64)
    before, after = impact_path(ts, np.array([1.0, 1.0, 0.0]) * 1e4, PARAMS, i0=0.01)
    jump = PARAMS.lambda_per_share * 1e4
    assert before[1] == pytest.approx(0.01 + jump)
    assert after[1] == pytest.approx(0.01 + 2 * jump)
    assert before[2] == pytest.approx((0.01 + 2 * jump) / 2)


def test_impact_path_bad_input() -> None:
    with pytest.raises(DataValidationError, match="row 2"):
        impact_path(np.array([0, 2, 1], dtype=np.int64), np.ones(3), PARAMS)
    with pytest.raises(DataValidationError, match="non-finite"):
        impact_path(np.array([0, 1], dtype=np.int64), np.array([1.0, np.nan]), PARAMS)
    with pytest.raises(DataValidationError, match="int64"):
        impact_path(np.array([0.0, 1.0]), np.ones(2), PARAMS)  # type: ignore[arg-type]
    b, a = impact_path(np.array([], dtype=np.int64), np.array([]), PARAMS)
    assert b.size == a.size == 0


def _spec_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000 * 10**9 + np.cumsum(rng.integers(1, 2_000_000_000, n))
    vol = np.where(rng.random(n) < 0.4, 0.0, rng.normal(0, 500, n).round())
    return pd.DataFrame({"ts_event": ts.astype(np.int64), "signed_volume": vol})


def test_price_impact_series_matches_path_for_int_and_datetime_timestamps() -> None:
    df = _spec_frame(5_000, 1)
    df.index = pd.RangeIndex(100, 100 + len(df))
    s_int = price_impact_series(df, PARAMS)
    _, after = impact_path(df["ts_event"].to_numpy(), df["signed_volume"].to_numpy(), PARAMS)
    np.testing.assert_array_equal(s_int.to_numpy(), after)
    assert s_int.index.equals(df.index)
    assert s_int.name == "price_impact"
    df_dt = df.assign(ts_event=pd.to_datetime(df["ts_event"], unit="ns", utc=True))
    np.testing.assert_allclose(price_impact_series(df_dt, PARAMS).to_numpy(), after, rtol=1e-12)


def test_price_impact_series_is_the_limit_of_the_spec_euler_update() -> None:
    # Spec: I(t+1) = I(t) + λQσ/ADV − βIΔt on a fine regular grid converges to the exact path.
    n, dt = 20_000, 0.05
    rng = np.random.default_rng(3)
    vol = np.where(rng.random(n) < 0.05, rng.normal(0, 800, n), 0.0)
    ts = (np.arange(n) * dt * 1e9).astype(np.int64)
    exact = price_impact_series(pd.DataFrame({"ts_event": ts, "signed_volume": vol}), PARAMS)
    euler = np.empty(n)
    state = 0.0
    for k in range(n):
        if k:
            state -= PARAMS.beta_per_s * state * dt
        state += PARAMS.lambda_per_share * vol[k]
        euler[k] = state
    scale = float(np.abs(exact).max())
    assert np.abs(euler - exact.to_numpy()).max() < 1e-3 * scale


def test_price_impact_series_errors_name_column_and_row() -> None:
    df = _spec_frame(10, 2)
    with pytest.raises(DataValidationError, match="signed_volume"):
        price_impact_series(df.drop(columns="signed_volume"), PARAMS)
    bad = df.copy()
    bad.loc[4, "signed_volume"] = np.nan
    with pytest.raises(DataValidationError, match="first at row 4"):
        price_impact_series(bad, PARAMS)
    with pytest.raises(DataValidationError, match="dtype"):
        price_impact_series(df.assign(ts_event=df["ts_event"].astype(str)), PARAMS)


# ------------------------------------------------------------------------------ expected cost


def _brute_force_cost(
    t: np.ndarray, q: np.ndarray, alpha: np.ndarray, i_now: float, p: ImpactParams
) -> float:
    lam = p.lambda_per_share
    total = 0.0
    for n in range(len(t)):
        impact = i_now * math.exp(-p.beta_per_s * (t[n] - t[0]))
        for m in range(n):
            impact += lam * q[m] * math.exp(-p.beta_per_s * (t[n] - t[m]))
        total += -q[n] * alpha[n] + q[n] * impact + 0.5 * lam * q[n] ** 2
    return total


@pytest.mark.parametrize("seed", range(5))
def test_expected_cost_recursion_quadratic_and_brute_force_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    t = np.sort(rng.uniform(0, 3600, n))
    q = rng.normal(0, 2_000, n)
    alpha = rng.normal(0, 0.02, n)
    i_now = float(rng.normal(0, 0.01))
    c = expected_cost(t, q, PARAMS, alpha, i_now)
    ref = _brute_force_cost(t, q, alpha, i_now, PARAMS)
    assert c.total == pytest.approx(ref, rel=1e-11)
    assert expected_cost_quadratic(t, q, PARAMS, alpha, i_now) == pytest.approx(ref, rel=1e-11)
    assert c.total == pytest.approx(c.alpha_term + c.impact_term + c.self_impact_term)
    assert c.alpha_term == pytest.approx(-(q @ alpha))
    assert c.self_impact_term == pytest.approx(0.5 * PARAMS.lambda_per_share * (q @ q))


def test_expected_cost_terms_on_simple_cases() -> None:
    lam = PARAMS.lambda_per_share
    one = expected_cost(np.array([0.0]), np.array([1_000.0]), PARAMS)
    assert one.total == pytest.approx(0.5 * lam * 1e6)  # a lone child walks its own impact
    assert one.impact_term == 0.0
    # Two equal children one half-life apart: the second pays half the first one's impact.
    two = expected_cost(np.array([0.0, 300.0]), np.array([1_000.0, 1_000.0]), PARAMS)
    assert two.impact_term == pytest.approx(1_000.0 * lam * 1_000.0 / 2)
    np.testing.assert_allclose(two.impact_before, [0.0, lam * 1_000.0 / 2])
    # I_past decays from the first slot and is paid by every child.
    t = np.array([100.0, 400.0])
    c = expected_cost(t, np.array([10.0, 20.0]), PARAMS, i_past=0.004)
    np.testing.assert_allclose(past_impact(t, 0.004, PARAMS), [0.004, 0.002])
    assert c.impact_term == pytest.approx(10 * 0.004 + 20 * (0.002 + lam * 10 / 2))


def test_expected_cost_is_symmetric_for_sells_and_rejects_bad_input() -> None:
    t = np.array([0.0, 60.0, 120.0])
    q = np.array([100.0, 300.0, 50.0])
    assert expected_cost(t, -q, PARAMS).total == pytest.approx(expected_cost(t, q, PARAMS).total)
    with pytest.raises(DataValidationError, match="alpha"):
        expected_cost(t, q, PARAMS, alpha=np.array([0.0, np.nan, 0.0]))
    with pytest.raises(DataValidationError, match="3 slots"):
        expected_cost(t, q[:2], PARAMS)
    with pytest.raises(DataValidationError, match="non-decreasing"):
        expected_cost(t[::-1], q, PARAMS)
