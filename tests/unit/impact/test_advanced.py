"""The spec's advanced calibration pieces: multi-timeframe and regime λ, adaptive β, volume rule."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _ow_frames import ow_frame as _ow_frame
from pydantic import BaseModel

from myopic_sor.data import lambda_tau
from myopic_sor.exceptions import (
    ConvergenceWarning,
    DataFormatError,
    DataQualityWarning,
    DataValidationError,
)
from myopic_sor.impact._advanced import (
    MIN_BARS,
    AdaptiveBeta,
    AdvancedLambdaEstimator,
    adjust_params_for_volume,
    estimate_regime_aware_lambda,
)
from myopic_sor.impact._calibration import estimate_lambda_periods
from myopic_sor.impact._model import ImpactParams


def ow_frame(seconds: float = 3600.0, **kw: Any) -> pd.DataFrame:
    """The shared OW frame with the S0 noise these tests were written for (0.01 per √s)."""
    kw.setdefault("price_noise", 0.01)
    return _ow_frame(seconds, **kw)


def test_multi_timeframe_lambda_follows_the_ow_formula() -> None:
    hl = 120.0
    df = ow_frame(6 * 3600.0, half_life_s=hl, seed=1)
    with pytest.warns(DataQualityWarning, match=r"1H \(7 bars\)"):
        out = AdvancedLambdaEstimator().estimate_multi_timeframe_lambda(df)
    assert list(out) == ["1min", "5min", "15min", "1H"]
    beta = math.log(2) / hl
    assert out["1min"] == pytest.approx(lambda_tau(25_000.0, beta, 60.0), rel=0.08)
    # Dense frame, constant σ: the same regression as estimate_lambda on 60/300-s buckets.
    per = estimate_lambda_periods(df, [60, 300])
    for tf, label in (("1min", "60s"), ("5min", "300s")):
        assert out[tf] == pytest.approx(per[label].lambda_, rel=1e-9)
    assert out["1min"] > out["5min"] > out["15min"] > 0
    assert math.isnan(out["1H"])  # 7 clock hours touched < MIN_BARS
    assert MIN_BARS == 10


def test_calculate_lambda_for_timeframe_is_the_bar_ols() -> None:
    rng = np.random.default_rng(0)
    vol = rng.normal(0, 1000, 50)
    bars = pd.DataFrame(
        {"signed_volume": vol, "Volatility": 0.02, "ADV": 1e6, "mid_price": 0.0},
    )
    dq = vol * 0.02 / 1e6
    bars["mid_price"] = 100 + np.cumsum(np.r_[0.0, 3_000.0 * dq[1:] + rng.normal(0, 1e-4, 49)])
    lam = AdvancedLambdaEstimator().calculate_lambda_for_timeframe(bars)
    assert lam == pytest.approx(np.polyfit(dq[1:], np.diff(bars["mid_price"]), 1)[0])
    assert lam == pytest.approx(3_000.0, rel=0.01)
    assert math.isnan(AdvancedLambdaEstimator().calculate_lambda_for_timeframe(bars.iloc[:5]))
    with pytest.raises(DataFormatError, match="ADV"):
        AdvancedLambdaEstimator().calculate_lambda_for_timeframe(bars.drop(columns="ADV"))


def test_bad_timeframe_is_named() -> None:
    with pytest.raises(DataFormatError, match="'fortnightly'"):
        AdvancedLambdaEstimator(["fortnightly"]).estimate_multi_timeframe_lambda(ow_frame(60.0))


def test_regime_aware_lambda_separates_volatility_regimes() -> None:
    # First hour σ = 0.5 %, second hour 1.5 %; λ is the same, but the impact per share is
    # λσ/ADV, so a regression that ignored σ would mix the two.
    seconds = 7200.0
    n = int(seconds * 5)
    sigma = np.where(np.arange(n) < n // 2, 0.005, 0.015)
    df = ow_frame(seconds, sigma=sigma, seed=2)
    with pytest.warns(DataQualityWarning, match=r"left out high \(0 buckets\);"):
        out = estimate_regime_aware_lambda(df, min_buckets=100, period_s=10.0)
    assert set(out) == {"low", "medium"}
    for v in out.values():
        assert v == pytest.approx(25_000.0, rel=0.05)


def test_regime_without_enough_data_is_named_in_a_warning() -> None:
    df = ow_frame(1800.0)  # σ = 1.5 % throughout: 'medium' only, 180 ten-second buckets
    with pytest.warns(DataQualityWarning, match=r"low \(0 buckets\), high \(0 buckets\)"):
        out = estimate_regime_aware_lambda(df)
    assert list(out) == ["medium"]
    with pytest.warns(DataQualityWarning, match=r"medium \(179 buckets\)"):
        assert estimate_regime_aware_lambda(df, min_buckets=500) == {}
    with pytest.raises(DataFormatError, match="labels"):
        estimate_regime_aware_lambda(df, labels=("a", "b"))


def test_adaptive_beta_recovers_the_decay_rate() -> None:
    rng = np.random.default_rng(3)
    beta_h = 1.2
    lags = np.tile(np.arange(0.0, 7200.0, 300.0), 5)  # five trades observed every 5 min
    impact = 0.02 * np.exp(-beta_h * lags / 3600.0) + rng.normal(0, 5e-4, lags.shape[0])
    ab = AdaptiveBeta()
    assert ab.beta == 0.693
    assert ab.fit_decay_rate(np.column_stack([lags, impact])) == pytest.approx(beta_h, rel=0.05)
    assert ab.update_beta(np.column_stack([lags, impact])) == pytest.approx(beta_h, rel=0.05)
    assert ab.beta == ab.impact_history[-1]
    series = pd.Series(impact, index=lags)
    assert AdaptiveBeta().update_beta(series) == pytest.approx(beta_h, rel=0.05)


def test_adaptive_beta_bounds_and_short_input() -> None:
    lags = np.arange(0.0, 3600.0, 60.0)
    fast = 0.01 * np.exp(-20.0 * lags / 3600.0)  # 20 per hour, above the bound
    slow = 0.01 * np.exp(-0.01 * lags / 3600.0)
    ab = AdaptiveBeta()
    assert ab.update_beta(np.column_stack([lags, fast])) == 2.0
    assert ab.impact_history[-1] == pytest.approx(20.0, rel=1e-3)
    assert ab.update_beta(np.column_stack([lags, slow])) == 0.1
    assert ab.update_beta(np.column_stack([lags[:9], fast[:9]])) == 0.1  # < 10 points: kept


def test_adaptive_beta_bad_input() -> None:
    lags = np.arange(0.0, 3600.0, 60.0)
    ab = AdaptiveBeta(initial_beta=0.5)
    with pytest.warns(ConvergenceWarning, match="amplitude"):
        assert ab.update_beta(np.column_stack([lags, -0.01 * np.exp(-lags / 3600)])) == 0.5
    with pytest.raises(DataFormatError, match=r"shape \(60,\)"):
        ab.update_beta(lags)
    with pytest.raises(DataValidationError, match="NaN"):
        ab.update_beta(np.column_stack([lags, np.full(60, np.nan)]))
    with pytest.raises(DataValidationError, match="initial_beta"):
        AdaptiveBeta(initial_beta=0.0)


@dataclasses.dataclass(frozen=True)
class _Frozen:
    lambda_value: float
    beta: float = 0.7


class _Pyd(BaseModel):
    lambda_value: float


class _Copyable:
    def __init__(self, lam: float) -> None:
        self.lambda_value = lam

    def copy(self) -> _Copyable:
        return _Copyable(self.lambda_value)


@pytest.mark.parametrize(
    ("volume", "factor"), [(2_000.0, 1.2), (1_500.0, 1.0), (1_000.0, 1.0), (400.0, 0.8)]
)
def test_adjust_params_for_volume_rule(volume: float, factor: float) -> None:
    base = _Frozen(25_000.0)
    out = adjust_params_for_volume(base, volume, 1_000.0)
    assert out.lambda_value == pytest.approx(25_000.0 * factor)
    assert out.beta == 0.7
    assert base.lambda_value == 25_000.0  # never modified


def test_adjust_params_for_volume_kinds() -> None:
    ip = ImpactParams(lambda_=10.0, beta_per_s=0.01, sigma_daily=0.02, adv=1e6)
    assert adjust_params_for_volume(ip, 3.0, 1.0).lambda_ == pytest.approx(12.0)
    assert adjust_params_for_volume(_Pyd(lambda_value=10.0), 0.1, 1.0).lambda_value == 8.0
    c = _Copyable(10.0)
    assert adjust_params_for_volume(c, 0.1, 1.0).lambda_value == 8.0
    assert c.lambda_value == 10.0
    d = {"lambda_value": 10.0, "beta": 1.0}
    assert adjust_params_for_volume(d, 2.0, 1.0) == {"lambda_value": 12.0, "beta": 1.0}
    assert d["lambda_value"] == 10.0
    with pytest.raises(DataFormatError, match="no lambda_value"):
        adjust_params_for_volume({"beta": 1.0}, 2.0, 1.0)
    with pytest.raises(DataValidationError, match="historical_avg"):
        adjust_params_for_volume(d, 2.0, 0.0)
    with pytest.raises(DataValidationError, match="current_volume"):
        adjust_params_for_volume(d, -1.0, 1.0)
