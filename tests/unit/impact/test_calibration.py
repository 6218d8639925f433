"""Per-period λ regression (MATH.md §4): recovery on OW frames, the selection rule, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ow_frames import ow_frame  # the shared OW-frame builder of this folder

from myopic_sor.config import LambdaEstimationConfig
from myopic_sor.data import lambda_tau
from myopic_sor.exceptions import ConvergenceWarning, DataFormatError, DataQualityWarning
from myopic_sor.impact._calibration import (
    MIN_BUCKETS,
    LambdaEstimate,
    estimate_lambda,
    estimate_lambda_periods,
    select_lambda,
)


def test_permanent_impact_is_recovered_at_every_period() -> None:
    df = ow_frame(seconds=7200.0)
    est = estimate_lambda_periods(df, [0.1, 1, 10, 60])
    assert list(est) == ["0.1s", "1s", "10s", "60s"]
    for e in est.values():
        assert e.ok
        assert e.lambda_ == pytest.approx(25_000.0, rel=4 * e.stderr / e.lambda_ + 0.01)
        assert abs(e.t_stat) > 5
        assert 0 < e.r2 < 1
    # Every clock-aligned bucket between the first and the last event, empty ones included.
    span = df["ts_event"].iloc[[0, -1]].astype("int64").to_numpy() // 100_000_000
    assert est["0.1s"].n == span[1] - span[0]
    assert est["0.1s"].n_skipped == 0
    assert est["60s"].n == 119


def test_apparent_lambda_follows_the_ow_formula() -> None:
    hl = 20.0
    df = ow_frame(seconds=7200.0, half_life_s=hl, seed=3)
    est = estimate_lambda_periods(df, [1, 30])
    beta = math.log(2) / hl
    for label, tau in (("1s", 1.0), ("30s", 30.0)):
        expected = lambda_tau(25_000.0, beta, tau)
        assert est[label].lambda_ == pytest.approx(expected, abs=4 * est[label].stderr)
    assert est["30s"].lambda_ < 0.7 * est["1s"].lambda_  # the apparent λ falls with τ


def test_regression_matches_a_hand_computed_ols() -> None:
    df = ow_frame(seconds=900.0, seed=5)
    e = estimate_lambda_periods(df, [5])["5s"]
    # Rebuild the buckets with pandas: last mid per clock-aligned 5-s bucket, carried over.
    s = df.set_index("ts_event")
    mid = s["mid_price"].resample("5s").last().ffill()
    dq = (s["signed_volume"] * s["Volatility"] / s["ADV"]).resample("5s").sum()
    y, x = mid.diff().to_numpy()[1:], dq.to_numpy()[1:]
    slope, intercept = np.polyfit(x, y, 1)
    assert e.lambda_ == pytest.approx(slope, rel=1e-9)
    assert e.intercept == pytest.approx(intercept, rel=1e-6, abs=1e-12)
    resid = y - intercept - slope * x
    assert e.r2 == pytest.approx(1 - resid @ resid / ((y - y.mean()) @ (y - y.mean())), rel=1e-9)
    assert e.stderr == pytest.approx(
        math.sqrt(resid @ resid / (len(x) - 2) / ((x - x.mean()) @ (x - x.mean()))), rel=1e-9
    )
    assert e.t_stat == pytest.approx(e.lambda_ / e.stderr)


def test_labels_accept_strings_and_config_defaults() -> None:
    df = ow_frame(seconds=600.0)
    assert list(estimate_lambda(df, ["100ms", "2s"])) == ["0.1s", "2s"]
    cfg = LambdaEstimationConfig(agg_periods=(1.0, 10.0), preferred_periods=("10s",))
    out = estimate_lambda(df, config=cfg)
    assert list(out) == ["1s", "10s"]
    assert all(v > 0 for v in out.values())


def test_too_little_data_gives_nan_with_a_reason_and_a_warning() -> None:
    df = ow_frame(seconds=600.0)  # 10 one-minute buckets
    est = estimate_lambda_periods(df, [1, 60])
    assert est["1s"].ok
    assert not est["60s"].ok
    assert math.isnan(est["60s"].lambda_)
    assert f"< {MIN_BUCKETS}" in est["60s"].reason
    with pytest.warns(DataQualityWarning, match=r"60s \(too little data"):
        out = estimate_lambda(df, [1, 60])
    assert math.isnan(out["60s"])
    assert out["1s"] > 0


def test_zero_variance_flow() -> None:
    df = ow_frame(seconds=600.0).assign(signed_volume=0, bid_fill=0, ask_fill=0)
    e = estimate_lambda_periods(df, [1])["1s"]
    assert "zero-variance flow" in e.reason
    assert math.isnan(e.lambda_)


def test_nan_mids_are_skipped_and_counted() -> None:
    df = ow_frame(seconds=600.0)
    df.loc[1000:1200, "mid_price"] = np.nan  # one side of the book empty for ~40 s
    with pytest.warns(DataQualityWarning, match=r"1s: \d+ of 599"):
        est = estimate_lambda_periods(df, [1])
    e = est["1s"]
    assert e.n_skipped > 30
    assert e.n + e.n_skipped == 599
    assert e.ok


def test_missing_columns_are_named() -> None:
    df = ow_frame(seconds=60.0).drop(columns=["Volatility", "ADV"])
    with pytest.raises(DataFormatError, match=r"missing column\(s\) Volatility, ADV"):
        estimate_lambda(df, [1])


def test_unsorted_and_non_positive_inputs_raise() -> None:
    df = ow_frame(seconds=60.0)
    with pytest.raises(DataFormatError, match="decreases at row"):
        estimate_lambda(df.iloc[::-1], [1])
    with pytest.raises(DataFormatError, match="repeats 1s"):
        estimate_lambda(df, [1, "1s"])
    with pytest.raises(DataFormatError, match="column ADV holds"):
        estimate_lambda(df.assign(ADV=0.0), [1])


def _est(label: str, lam: float, r2: float) -> LambdaEstimate:
    return LambdaEstimate(float(label[:-1]), lam, 0.0, r2, 3.0, lam / 3.0, 100)


def test_select_lambda_takes_the_first_preferred_period_that_passes() -> None:
    cfg = LambdaEstimationConfig()  # preferred 60s, 30s, 10s; min R² 0.01
    est = {
        "60s": _est("60s", 20_000.0, 0.005),  # R² too low
        "30s": _est("30s", 22_000.0, 0.05),
        "10s": _est("10s", 24_000.0, 0.2),
    }
    lam, label, reason = select_lambda(est, cfg)
    assert (lam, label) == (22_000.0, "30s")
    assert "R²" in reason


def test_select_lambda_falls_back_with_a_warning_naming_why() -> None:
    cfg = LambdaEstimationConfig(fallback_lambda=12_345.0)
    est = {
        "60s": _est("60s", -5.0, 0.2),
        "30s": LambdaEstimate(30.0, *[math.nan] * 5, 0, 0, "too little data: 3 < 30"),
    }
    with pytest.warns(ConvergenceWarning, match=r"60s: λ = -5 is not positive.*30s: too little"):
        lam, label, reason = select_lambda(est, cfg)
    assert (lam, label) == (12_345.0, "fallback")
    assert "10s not estimated" in reason


def test_select_lambda_accepts_the_plain_dict() -> None:
    lam, label, _ = select_lambda({"60s": 21_000.0}, LambdaEstimationConfig())
    assert (lam, label) == (21_000.0, "60s")
