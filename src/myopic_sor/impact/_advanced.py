"""The spec's advanced calibration pieces (README, Advanced Configuration).

* :class:`AdvancedLambdaEstimator`: λ on pandas-resampled bars of several timeframes;
* :func:`estimate_regime_aware_lambda`: λ per volatility regime;
* :class:`AdaptiveBeta`: β re-fitted from the decay of recently observed impact;
* :func:`adjust_params_for_volume`: the spec's volume rule for λ.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from myopic_sor._typing import Float64Array1D
from myopic_sor.exceptions import (
    ConvergenceWarning,
    DataFormatError,
    DataQualityWarning,
    DataValidationError,
)
from myopic_sor.impact._calibration import _bucket, _frame_arrays, _ols

__all__ = [
    "MIN_BARS",
    "MIN_DECAY_POINTS",
    "AdaptiveBeta",
    "AdvancedLambdaEstimator",
    "adjust_params_for_volume",
    "estimate_regime_aware_lambda",
]

logger = logging.getLogger(__name__)

#: Fewest resampled bars :meth:`AdvancedLambdaEstimator.calculate_lambda_for_timeframe` fits.
MIN_BARS: Final = 10
#: Fewest impact observations :meth:`AdaptiveBeta.update_beta` fits (the spec's 10).
MIN_DECAY_POINTS: Final = 10

_P = TypeVar("_P")


def _pandas_freq(tf: str) -> str:
    # pandas 3 spells hours 'h' and minutes 'min'; the spec writes '1H' (and older code '5T').
    return re.sub(r"T$", "min", re.sub(r"H$", "h", tf.strip()))


class AdvancedLambdaEstimator:
    """λ on bars of several timeframes, resampled with pandas as the spec shows.

    Parameters
    ----------
    timeframes : sequence of str
        pandas offsets (``'1min'``, ``'5min'``, ``'15min'``, ``'1H'``; ``H`` is read as ``h``).

    Notes
    -----
    Each timeframe's bars are ``df.resample(tf, on='ts_event')`` with ``signed_volume`` summed
    and ``mid_price``, ``Volatility``, ``ADV`` last (bars with a NaN dropped); then
    ``Δp_k = mid_k − mid_{k−1}``, ``ΔQ_k = signed_volume_k · Volatility_k / ADV_k`` and
    ``Δp = c + λ ΔQ`` by OLS. Bars are labelled and closed on the left, so every value of a
    bar is known at its end (no look-ahead). Compared with :func:`estimate_lambda`, σ/ADV is
    the bar's last value and empty bars are dropped rather than carried.
    """

    def __init__(self, timeframes: Sequence[str] = ("1min", "5min", "15min", "1H")) -> None:
        self.timeframes = tuple(timeframes)

    def estimate_multi_timeframe_lambda(self, df: pd.DataFrame) -> dict[str, float]:
        """Estimate λ for every timeframe.

        Parameters
        ----------
        df : pandas.DataFrame
            The spec frame (``ts_event``, ``signed_volume``, ``mid_price``, ``Volatility``,
            ``ADV``).

        Returns
        -------
        dict of str to float
            λ per timeframe (keys as given), currency per unit of normalised flow; NaN, with a
            warning naming the timeframe, when it has fewer than :data:`MIN_BARS` bars.

        Raises
        ------
        DataFormatError
            A required column is missing, or a timeframe is not a pandas offset.
        """
        _frame_arrays(df)  # validates the columns and the order
        out: dict[str, float] = {}
        short: list[str] = []
        for tf in self.timeframes:
            try:
                resampled = (
                    df.resample(_pandas_freq(tf), on="ts_event")
                    .agg(
                        {
                            "signed_volume": "sum",
                            "mid_price": "last",
                            "Volatility": "last",
                            "ADV": "last",
                        }
                    )
                    .dropna()
                )
            except ValueError as exc:
                raise DataFormatError(
                    f"timeframe {tf!r} is not a pandas offset such as '1min', '5min' or '1h' "
                    f"({exc})"
                ) from exc
            lam = self.calculate_lambda_for_timeframe(resampled)
            if math.isnan(lam):
                short.append(f"{tf} ({len(resampled)} bars)")
            out[tf] = lam
        if short:
            warnings.warn(
                f"multi-timeframe λ: fewer than {MIN_BARS} bars for {', '.join(short)}; NaN",
                DataQualityWarning,
                stacklevel=2,
            )
        return out

    def calculate_lambda_for_timeframe(self, resampled: pd.DataFrame) -> float:
        """OLS slope of the bar mid change on the bar's normalised signed flow.

        Parameters
        ----------
        resampled : pandas.DataFrame
            Bars with columns ``signed_volume`` (shares), ``mid_price`` (last, currency),
            ``Volatility`` and ``ADV`` (last), in time order.

        Returns
        -------
        float
            λ, currency per unit of ``signed_volume · Volatility / ADV``; NaN when fewer than
            :data:`MIN_BARS` usable bars or zero-variance flow.

        Notes
        -----
        ``Δp_k = mid_k − mid_{k−1} = c + λ · signed_volume_k · Volatility_k / ADV_k + ε_k``.
        """
        missing = [
            c for c in ("signed_volume", "mid_price", "Volatility", "ADV") if c not in resampled
        ]
        if missing:
            raise DataFormatError(f"resampled bars lack column(s) {', '.join(missing)}")
        mid = resampled["mid_price"].to_numpy(dtype=np.float64)
        dq = (
            resampled["signed_volume"].to_numpy(dtype=np.float64)
            * resampled["Volatility"].to_numpy(dtype=np.float64)
            / resampled["ADV"].to_numpy(dtype=np.float64)
        )
        y, x = np.diff(mid), dq[1:]
        ok = np.isfinite(x) & np.isfinite(y)
        if np.count_nonzero(ok) < MIN_BARS:
            return math.nan
        slope, *_, reason = _ols_min(x[ok], y[ok], MIN_BARS)
        if reason:
            logger.info("calculate_lambda_for_timeframe: %s", reason)
        return slope


def _ols_min(
    x: Float64Array1D, y: Float64Array1D, n_min: int
) -> tuple[float, float, float, float, float, str]:
    if x.shape[0] < n_min:
        nan = math.nan
        return nan, nan, nan, nan, nan, f"too little data: {x.shape[0]} < {n_min}"
    xm = x.mean()
    dx = x - xm
    sxx = float(dx @ dx)
    if not sxx > 0:
        nan = math.nan
        return nan, nan, nan, nan, nan, "zero-variance flow"
    slope = float(dx @ (y - y.mean())) / sxx
    return slope, float(y.mean() - slope * xm), math.nan, math.nan, math.nan, ""


def estimate_regime_aware_lambda(
    df: pd.DataFrame,
    bins: Sequence[float] = (0.0, 0.01, 0.02, math.inf),
    labels: Sequence[str] = ("low", "medium", "high"),
    *,
    period_s: float = 10.0,
    min_buckets: int = 100,
) -> dict[str, float]:
    """Estimate λ separately in each volatility regime.

    Parameters
    ----------
    df : pandas.DataFrame
        The spec frame; ``Volatility`` (daily, fraction) defines the regime.
    bins : sequence of float
        Regime edges on σ, right-closed as ``pandas.cut`` (the spec's 0, 1 %, 2 %, ∞).
    labels : sequence of str
        One name per regime.
    period_s : float, default 10
        Bucket length of the regression, seconds.
    min_buckets : int, default 100
        Fewest buckets a regime needs (the spec's "minimum data requirement", counted in
        buckets, not rows, because buckets are the observations).

    Returns
    -------
    dict of str to float
        λ_τ per regime that has enough data, currency per unit of normalised flow. Regimes
        with too few buckets are left out (as in the spec) and named in a warning.

    Raises
    ------
    DataFormatError
        Missing columns, or ``labels`` not one shorter than ``bins``.

    Warns
    -----
    DataQualityWarning
        Regimes left out for lack of data (with their bucket counts).

    Notes
    -----
    The frame is cut into τ-second buckets as in :func:`estimate_lambda`; bucket k belongs to
    the regime of σ at the end of bucket k − 1 (the value known when the bucket starts, so
    the split is causal), and ``Δp = c + λ_τ ΔQ`` is fitted on each regime's buckets.
    """
    if len(labels) != len(bins) - 1:
        raise DataFormatError(
            f"{len(bins)} bins make {len(bins) - 1} regimes but {len(labels)} labels were given"
        )
    arr = _frame_arrays(df)
    if arr.ts_ns.shape[0] == 0:
        raise DataFormatError("estimate_regime_aware_lambda: the frame has no rows")
    bk = _bucket(arr, period_s)
    sigma_start = arr.sigma[bk.last_row[:-1]]
    regime = pd.cut(sigma_start, bins=list(bins), labels=False)
    code = np.asarray(regime, dtype=np.float64)
    ok = np.isfinite(bk.dp) & np.isfinite(bk.dq)
    out: dict[str, float] = {}
    short: list[str] = []
    for i, label in enumerate(labels):
        sel = ok & (code == i)
        n = int(np.count_nonzero(sel))
        if n < max(min_buckets, 3):
            short.append(f"{label} ({n} buckets)")
            continue
        slope, *_, reason = _ols(bk.dq[sel], bk.dp[sel])
        if reason:
            short.append(f"{label} ({reason})")
            continue
        out[label] = slope
    if short:
        warnings.warn(
            f"regime-aware λ: left out {', '.join(short)}; each regime needs ≥ {min_buckets} "
            f"buckets of {period_s:g} s",
            DataQualityWarning,
            stacklevel=2,
        )
    return out


class AdaptiveBeta:
    """β re-estimated from the observed decay of recent impact (the spec's ``AdaptiveBeta``).

    Parameters
    ----------
    initial_beta : float, default 0.693
        β per hour (0.693 = a one-hour half-life).
    bounds : (float, float), default (0.1, 2.0)
        The spec's bounds on the updated β, per hour.

    Attributes
    ----------
    beta : float
        Current β, per hour.
    impact_history : list of float
        Every unclipped decay rate fitted so far, per hour.

    Notes
    -----
    ``recent_impacts`` are impact observations after trades at known lags: an array of shape
    (n, 2) (or a pandas Series indexed by lag) with the lag since the trade in **seconds** and
    the price move in the trade's direction (currency, or any unit: only the shape matters),
    e.g. the mid relative to its pre-trade value, signed by the trade side, for several trades
    stacked. :meth:`fit_decay_rate` fits ``m(ℓ) = A e^{−β ℓ}`` by least squares.
    """

    def __init__(self, initial_beta: float = 0.693, bounds: tuple[float, float] = (0.1, 2.0)):
        if not (math.isfinite(initial_beta) and initial_beta > 0):
            raise DataValidationError(f"initial_beta = {initial_beta!r}; β must be > 0 per hour")
        self.beta = float(initial_beta)
        self.bounds = bounds
        self.impact_history: list[float] = []

    def update_beta(self, recent_impacts: pd.Series | npt.ArrayLike) -> float:
        """Refit β from recent impact observations and clip it to the bounds.

        Parameters
        ----------
        recent_impacts : pandas.Series or array_like of shape (n, 2)
            ``(lag_s, impact)`` pairs, see the class Notes.

        Returns
        -------
        float
            The new β per hour; unchanged when fewer than :data:`MIN_DECAY_POINTS`
            observations, or (with a warning) when the impacts do not decay.

        Warns
        -----
        ConvergenceWarning
            When the fit fails (no positive amplitude); β is kept.
        """
        lag, imp = _lag_impact(recent_impacts)
        if lag.shape[0] < MIN_DECAY_POINTS:
            logger.debug("update_beta: %d points < %d, β kept", lag.shape[0], MIN_DECAY_POINTS)
            return self.beta
        try:
            rate = self.fit_decay_rate(np.column_stack([lag, imp]))
        except DataValidationError as exc:
            warnings.warn(f"update_beta: {exc}; β kept at {self.beta:g}/h", ConvergenceWarning, 2)
            return self.beta
        self.impact_history.append(rate)
        lo, hi = self.bounds
        self.beta = max(lo, min(hi, rate))
        return self.beta

    def fit_decay_rate(self, recent_impacts: pd.Series | npt.ArrayLike) -> float:
        """Fit ``impact(ℓ) = A e^{−β ℓ}`` and return β per hour.

        Parameters
        ----------
        recent_impacts : pandas.Series or array_like of shape (n, 2)
            ``(lag_s, impact)`` pairs.

        Returns
        -------
        float
            β per hour (unclipped), searched on [1e-3, 1e3] per hour.

        Raises
        ------
        DataValidationError
            Fewer than 3 points, NaN values, negative lags, or no positive amplitude.

        Notes
        -----
        For fixed β, A has the closed form ``A = Σ y e / Σ e²`` (``e = e^{−β ℓ}``) and
        ``SSE(β) = Σ y² − (Σ y e)² / Σ e²``; SSE is minimised over a log grid of 400 rates,
        then by golden-section on ln β.
        """
        lag, imp = _lag_impact(recent_impacts)
        if lag.shape[0] < 3:
            raise DataValidationError(f"{lag.shape[0]} impact observation(s); need at least 3")
        lag_h = lag / 3600.0

        def sse(log_b: Float64Array1D) -> Float64Array1D:
            e = np.exp(-np.exp(log_b)[:, None] * lag_h[None, :])
            sye, see = e @ imp, np.einsum("ij,ij->i", e, e)
            return np.asarray(imp @ imp - sye * sye / see, dtype=np.float64)

        grid = np.linspace(math.log(1e-3), math.log(1e3), 400)
        k = int(np.argmin(sse(grid)))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.shape[0] - 1)]
        g = (math.sqrt(5.0) - 1.0) / 2.0
        while b - a > 1e-6:
            c1, c2 = b - g * (b - a), a + g * (b - a)
            f = sse(np.array([c1, c2]))
            if f[0] <= f[1]:
                b = c2
            else:
                a = c1
        beta_h = math.exp(0.5 * (a + b))
        e = np.exp(-beta_h * lag_h)
        amp = float(e @ imp / (e @ e))
        if not amp > 0:
            raise DataValidationError(
                f"the fitted impact amplitude is {amp:.4g} ≤ 0: the observations do not "
                "show a decaying impact in the trade direction"
            )
        return beta_h


def _lag_impact(x: pd.Series | npt.ArrayLike) -> tuple[Float64Array1D, Float64Array1D]:
    if isinstance(x, pd.Series):
        lag = x.index.to_numpy(dtype=np.float64)
        imp = x.to_numpy(dtype=np.float64)
    else:
        a = np.asarray(x, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 2:
            raise DataFormatError(
                f"recent_impacts has shape {a.shape}; give (n, 2) pairs (lag_s, impact) or a "
                "Series indexed by lag_s"
            )
        lag, imp = a[:, 0], a[:, 1]
    if not (np.all(np.isfinite(lag)) and np.all(np.isfinite(imp))):
        raise DataValidationError("recent_impacts holds NaN or infinite values; drop them first")
    if np.any(lag < 0):
        raise DataValidationError("recent_impacts has negative lags; lags are seconds ≥ 0")
    return np.ascontiguousarray(lag), np.ascontiguousarray(imp)


def adjust_params_for_volume(base_params: _P, current_volume: float, historical_avg: float) -> _P:
    """Scale λ by the spec's volume rule and return adjusted parameters.

    Parameters
    ----------
    base_params : object
        Parameters with a ``lambda_value`` (the spec's ``MyopicParameters``) or ``lambda_``
        (``ImpactParams``) field: a frozen or plain dataclass (copied with
        ``dataclasses.replace``), a pydantic model (``model_copy``), a dict, or any object
        with ``copy()`` (copied, then the attribute set). ``base_params`` is never modified.
    current_volume : float
        Recent market volume, shares (≥ 0), over the same window as ``historical_avg``.
    historical_avg : float
        Historical average volume over such a window, shares (> 0).

    Returns
    -------
    object
        A copy with λ × 1.2 when ``current_volume / historical_avg > 1.5``, λ × 0.8 when
        it is < 0.5, else λ unchanged.

    Raises
    ------
    DataValidationError
        Non-finite or negative volumes, or ``historical_avg`` ≤ 0.
    DataFormatError
        When ``base_params`` has no λ field or cannot be copied.

    Notes
    -----
    The rule is the spec's, kept as written: λ rises in busy periods and falls in quiet ones.
    """
    if not (math.isfinite(historical_avg) and historical_avg > 0):
        raise DataValidationError(f"historical_avg = {historical_avg!r}; must be > 0 shares")
    if not (math.isfinite(current_volume) and current_volume >= 0):
        raise DataValidationError(f"current_volume = {current_volume!r}; must be ≥ 0 shares")
    ratio = current_volume / historical_avg
    factor = 1.2 if ratio > 1.5 else 0.8 if ratio < 0.5 else 1.0
    name = _lambda_field(base_params)
    old = float(base_params[name] if isinstance(base_params, dict) else getattr(base_params, name))
    new = old * factor
    logger.debug("adjust_params_for_volume: ratio %.3g, λ %.6g -> %.6g", ratio, old, new)
    if dataclasses.is_dataclass(base_params) and not isinstance(base_params, type):
        return dataclasses.replace(base_params, **{name: new})
    if isinstance(base_params, dict):
        out: Any = dict(base_params)
        out[name] = new
        return out  # type: ignore[no-any-return]
    if hasattr(base_params, "model_copy"):
        return base_params.model_copy(update={name: new})  # type: ignore[no-any-return]
    dup = base_params.copy() if hasattr(base_params, "copy") else copy.copy(base_params)
    setattr(dup, name, new)
    return dup


def _lambda_field(p: object) -> str:
    for name in ("lambda_value", "lambda_"):
        if (isinstance(p, dict) and name in p) or (not isinstance(p, dict) and hasattr(p, name)):
            return name
    raise DataFormatError(
        f"{type(p).__name__} has no lambda_value or lambda_ field; pass MyopicParameters, "
        "ImpactParams or a dict with 'lambda_value'"
    )
