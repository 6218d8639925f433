r"""Per-period λ: the bucket regression of MATH.md §4 and the spec's selection rule.

For an aggregation period τ (seconds) the session is cut into clock-aligned buckets
``[k τ, (k + 1) τ)`` (multiples of τ since the epoch, as pandas ``resample`` does) and::

    Δp_k = m_k − m_{k−1}                      m_k the mid after the last event at or before
                                              the end of bucket k (carried over empty buckets)
    ΔQ_k = Σ_{j in k} q_j σ_j / ADV_j          q_j signed trade volume (buy > 0) of row j,
                                              σ_j, ADV_j the frame's causal values at row j
    Δp_k = c + λ_τ ΔQ_k + ε_k                 ordinary least squares with intercept

Under Obizhaeva-Wang with uniform flow inside a bucket, λ_τ = λ (1 − e^{−βτ}) / (βτ)
(:func:`myopic_sor.data.lambda_tau`): the apparent λ falls as τ grows.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from myopic_sor._typing import BoolArray1D, Float64Array1D, Int64Array1D
from myopic_sor.config import LambdaEstimationConfig, parse_period, period_label
from myopic_sor.exceptions import ConvergenceWarning, DataFormatError, DataQualityWarning

__all__ = [
    "MIN_BUCKETS",
    "LambdaEstimate",
    "estimate_lambda",
    "estimate_lambda_periods",
    "select_lambda",
]

logger = logging.getLogger(__name__)

#: Fewest valid buckets a period needs; with fewer its λ is NaN and ``reason`` says why.
#: Thirty pairs give a t-statistic with 28 degrees of freedom, the usual floor for OLS.
MIN_BUCKETS: Final = 30

_REQUIRED: Final = ("ts_event", "mid_price", "signed_volume", "Volatility", "ADV")


@dataclass(frozen=True, slots=True)
class LambdaEstimate:
    """The bucket regression ``Δp = c + λ_τ ΔQ + ε`` of one aggregation period.

    Attributes
    ----------
    period_s : float
        Aggregation period τ, seconds.
    lambda_ : float
        Slope λ_τ, currency per unit of normalised flow (NaN when ``reason`` is set).
    intercept : float
        c, currency per bucket.
    r2 : float
        In-sample R² of the regression.
    t_stat : float
        λ_τ / stderr.
    stderr : float
        OLS standard error of λ_τ (homoskedastic), currency per unit of normalised flow.
    n : int
        Buckets used.
    n_skipped : int
        Buckets skipped because their mid or flow was NaN (empty book side, no volatility yet).
    reason : str
        Empty when the estimate is valid, else why λ is NaN.
    """

    period_s: float
    lambda_: float
    intercept: float
    r2: float
    t_stat: float
    stderr: float
    n: int
    n_skipped: int = 0
    reason: str = ""

    @property
    def label(self) -> str:
        """The spec's key for this period, e.g. ``'60s'``."""
        return period_label(self.period_s)

    @property
    def ok(self) -> bool:
        """True when the regression produced a finite slope."""
        return not self.reason and math.isfinite(self.lambda_)


@dataclass(frozen=True, slots=True)
class _FrameArrays:
    ts_ns: Int64Array1D
    mid: Float64Array1D
    u: Float64Array1D  # normalised signed flow q σ / ADV per row (0 on rows without trades)
    sigma: Float64Array1D
    adv: Float64Array1D


def _frame_arrays(df: pd.DataFrame, where: str = "frame") -> _FrameArrays:
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{where}: missing column(s) {', '.join(missing)}; λ estimation needs "
            f"{', '.join(_REQUIRED)} (build the frame with myopic_sor.features.spec_frame)"
        )
    ts = df["ts_event"]
    if pd.api.types.is_datetime64_any_dtype(ts):
        ts_ns = ts.to_numpy(dtype="datetime64[ns]").view(np.int64)
    elif pd.api.types.is_integer_dtype(ts):
        ts_ns = ts.to_numpy(dtype=np.int64)
    else:
        raise DataFormatError(
            f"{where}: column ts_event has dtype {ts.dtype}; expected datetime64 or int64 UTC ns"
        )
    ts_ns = np.ascontiguousarray(ts_ns, dtype=np.int64)
    if ts_ns.shape[0] > 1:
        bad = np.flatnonzero(np.diff(ts_ns) < 0)
        if bad.shape[0]:
            raise DataFormatError(
                f"{where}: ts_event decreases at row {int(bad[0]) + 1} "
                f"({bad.shape[0]} time(s)); sort the frame by ts_event"
            )
    mid = df["mid_price"].to_numpy(dtype=np.float64, na_value=np.nan)
    q = df["signed_volume"].to_numpy(dtype=np.float64, na_value=np.nan)
    sigma = df["Volatility"].to_numpy(dtype=np.float64, na_value=np.nan)
    adv = df["ADV"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(q != 0.0, q * sigma / adv, 0.0)
    for name, col in (("Volatility", sigma), ("ADV", adv)):
        nonpos = np.count_nonzero(col <= 0.0)
        if nonpos:
            raise DataFormatError(
                f"{where}: column {name} holds {nonpos} non-positive value(s) (first at row "
                f"{int(np.flatnonzero(col <= 0.0)[0])}); {name} must be > 0 (NaN = unknown)"
            )
    return _FrameArrays(
        ts_ns=ts_ns,
        mid=np.ascontiguousarray(mid),
        u=np.ascontiguousarray(u, dtype=np.float64),
        sigma=np.ascontiguousarray(sigma),
        adv=np.ascontiguousarray(adv),
    )


@dataclass(frozen=True, slots=True)
class _Bucketed:
    dp: Float64Array1D  # Δp_k for buckets 1..K-1 (NaN when an end-mid is NaN)
    dq: Float64Array1D  # ΔQ_k
    end_ns: Int64Array1D  # end of bucket k (exclusive), UTC ns
    end_mid: Float64Array1D  # m_k for buckets 0..K-1
    last_row: Int64Array1D  # last row at or before the end of bucket k, buckets 0..K-1


def _bucket(arr: _FrameArrays, period_s: float) -> _Bucketed:
    tau_ns = round(period_s * 1e9)
    if tau_ns <= 0:
        raise DataFormatError(f"aggregation period {period_s!r} s is below one nanosecond")
    idx = arr.ts_ns // tau_ns
    b = idx - idx[0]
    nb = int(b[-1]) + 1
    ends = np.r_[np.flatnonzero(np.diff(b)), b.shape[0] - 1]
    last_row = np.full(nb, -1, dtype=np.int64)
    last_row[b[ends]] = ends
    last_row = np.maximum.accumulate(last_row)
    end_mid = arr.mid[last_row]
    dq = np.bincount(b, weights=arr.u, minlength=nb).astype(np.float64)
    end_ns = (idx[0] + 1 + np.arange(nb, dtype=np.int64)) * tau_ns
    return _Bucketed(
        dp=np.diff(end_mid), dq=dq[1:], end_ns=end_ns, end_mid=end_mid, last_row=last_row
    )


def _ols(x: Float64Array1D, y: Float64Array1D) -> tuple[float, float, float, float, float, str]:
    """Slope, intercept, R², t, stderr of y = c + b x, or NaNs and a reason."""
    n = x.shape[0]
    nan = math.nan
    if n < MIN_BUCKETS:
        return nan, nan, nan, nan, nan, f"too little data: {n} valid bucket(s) < {MIN_BUCKETS}"
    xm, ym = x.mean(), y.mean()
    dx, dy = x - xm, y - ym
    sxx, sxy, syy = float(dx @ dx), float(dx @ dy), float(dy @ dy)
    if not sxx > 1e-300 * n or np.ptp(x) == 0.0:
        return nan, nan, nan, nan, nan, "zero-variance flow: every bucket has the same ΔQ"
    slope = sxy / sxx
    intercept = float(ym - slope * xm)
    sse = max(syy - slope * sxy, 0.0)
    r2 = 1.0 - sse / syy if syy > 0 else nan
    stderr = math.sqrt(sse / (n - 2) / sxx)
    t_stat = slope / stderr if stderr > 0 else math.copysign(math.inf, slope)
    return slope, intercept, r2, t_stat, stderr, ""


def _resolve_periods(
    agg_periods: Iterable[float | str] | None, config: LambdaEstimationConfig | None
) -> list[float]:
    if agg_periods is None:
        cfg = config if config is not None else LambdaEstimationConfig()
        return [float(p) for p in cfg.agg_periods]
    periods = [parse_period(p) for p in agg_periods]
    if not periods:
        raise DataFormatError("agg_periods is empty; give at least one period in seconds")
    labels = [period_label(p) for p in periods]
    repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
    if repeated:
        raise DataFormatError(f"agg_periods repeats {', '.join(repeated)}; list each period once")
    return periods


def estimate_lambda_periods(
    df: pd.DataFrame,
    agg_periods: Iterable[float | str] | None = None,
    *,
    config: LambdaEstimationConfig | None = None,
) -> dict[str, LambdaEstimate]:
    """Regress the mid change on normalised signed flow for each aggregation period.

    Parameters
    ----------
    df : pandas.DataFrame
        The spec frame (:func:`myopic_sor.features.spec_frame`): columns ``ts_event``,
        ``mid_price`` (currency), ``signed_volume`` (shares, buy > 0), ``Volatility`` (daily,
        fraction) and ``ADV`` (shares per day), sorted by ``ts_event``, regular hours only.
    agg_periods : iterable of float or str, optional
        Periods τ in seconds (or labels such as ``'100ms'``); default ``config.agg_periods``
        (the spec's nine, 0.1 s to 300 s).
    config : LambdaEstimationConfig, optional
        Source of the default periods.

    Returns
    -------
    dict of str to LambdaEstimate
        Keyed by :func:`~myopic_sor.config.period_label` (``'60s'``), in the order given. A
        period with fewer than :data:`MIN_BUCKETS` valid buckets, or with flow of zero
        variance, has NaN λ and a ``reason``.

    Raises
    ------
    DataFormatError
        A required column is missing (named), ``ts_event`` is unsorted, or ``Volatility`` /
        ``ADV`` hold non-positive values.

    Warns
    -----
    DataQualityWarning
        When buckets are skipped because their mid or flow is NaN (counts per period).

    Notes
    -----
    See the module docstring: ``Δp_k = c + λ_τ ΔQ_k + ε_k`` with ``ΔQ_k = Σ q_j σ_j / ADV_j``
    over the rows of bucket k and ``Δp_k`` the change of the end-of-bucket mid. A bucket
    without events has ΔQ = 0 and the mid carried over (it is a valid, quiet observation).
    The per-period cost is O(rows) with ``numpy.bincount``; no Python loop over buckets.

    Examples
    --------
    >>> est = estimate_lambda_periods(df, [1, 60])  # doctest: +SKIP
    >>> est["60s"].lambda_, est["60s"].r2  # doctest: +SKIP
    """
    periods = _resolve_periods(agg_periods, config)
    arr = _frame_arrays(df)
    out: dict[str, LambdaEstimate] = {}
    skipped: list[str] = []
    for tau in periods:
        label = period_label(tau)
        if arr.ts_ns.shape[0] == 0:
            out[label] = _failed(tau, 0, 0, "too little data: the frame has no rows")
            continue
        bk = _bucket(arr, tau)
        valid: BoolArray1D = np.isfinite(bk.dp) & np.isfinite(bk.dq)
        n_skip = int(valid.shape[0] - np.count_nonzero(valid))
        if n_skip:
            skipped.append(f"{label}: {n_skip} of {valid.shape[0]}")
        slope, c, r2, t, se, reason = _ols(bk.dq[valid], bk.dp[valid])
        out[label] = LambdaEstimate(
            period_s=tau,
            lambda_=slope,
            intercept=c,
            r2=r2,
            t_stat=t,
            stderr=se,
            n=int(np.count_nonzero(valid)),
            n_skipped=n_skip,
            reason=reason,
        )
        logger.debug("lambda %s: %s", label, out[label])
    if skipped:
        warnings.warn(
            "estimate_lambda: buckets skipped because the mid (empty book side) or the flow "
            f"(NaN Volatility/ADV/signed_volume) is NaN — {'; '.join(skipped)}",
            DataQualityWarning,
            stacklevel=2,
        )
    return out


def _failed(tau: float, n: int, n_skipped: int, reason: str) -> LambdaEstimate:
    nan = math.nan
    return LambdaEstimate(tau, nan, nan, nan, nan, nan, n, n_skipped, reason)


def estimate_lambda(
    df: pd.DataFrame,
    agg_periods: Iterable[float | str] | None = None,
    *,
    config: LambdaEstimationConfig | None = None,
) -> dict[str, float]:
    """Estimate the impact coefficient λ_τ for each aggregation period (the spec's API).

    Parameters
    ----------
    df : pandas.DataFrame
        The spec frame, see :func:`estimate_lambda_periods`.
    agg_periods : iterable of float or str, optional
        Periods in seconds; default ``config.agg_periods``.
    config : LambdaEstimationConfig, optional
        Source of the default periods.

    Returns
    -------
    dict of str to float
        ``{'1s': λ_1, '60s': λ_60, ...}``, currency per unit of normalised flow
        ``q σ / ADV``. A period that could not be estimated maps to NaN and is named, with
        the reason, in a warning.

    Warns
    -----
    DataQualityWarning
        Skipped buckets (counts) and periods without an estimate (reasons).

    Notes
    -----
    ``Δp_k = c + λ_τ ΔQ_k + ε_k`` by OLS on τ-second buckets (MATH.md §4); the rich results
    (R², t, n) are in :func:`estimate_lambda_periods`, the choice among periods in
    :func:`select_lambda`.

    Examples
    --------
    >>> estimate_lambda(df, [1, 5, 10, 30, 60])  # doctest: +SKIP
    {'1s': 24890.1, '5s': 24705.3, ...}
    """
    est = estimate_lambda_periods(df, agg_periods, config=config)
    failed = [f"{lab} ({e.reason})" for lab, e in est.items() if e.reason]
    if failed:
        warnings.warn(
            f"estimate_lambda: no λ for {'; '.join(failed)}; these periods map to NaN",
            DataQualityWarning,
            stacklevel=2,
        )
    return {lab: e.lambda_ for lab, e in est.items()}


def select_lambda(
    estimates: Mapping[str, LambdaEstimate | float],
    config: LambdaEstimationConfig | None = None,
) -> tuple[float, str, str]:
    """Pick λ by the spec's rule: the first preferred period that passes, else the fallback.

    Parameters
    ----------
    estimates : mapping of str to LambdaEstimate or float
        Results keyed by period label (``'60s'``). Plain floats (the output of
        :func:`estimate_lambda`) carry no R²; they pass on λ > 0 alone.
    config : LambdaEstimationConfig, optional
        ``preferred_periods``, ``min_r2_threshold`` and ``fallback_lambda``; default the
        shipped values (``['60s', '30s', '10s']``, 0.01, 25 000).

    Returns
    -------
    (float, str, str)
        λ (currency per unit of normalised flow), the label it came from (``'fallback'``
        for the fallback) and the reason for the choice.

    Warns
    -----
    ConvergenceWarning
        When no preferred period passes; the message says why each one failed.

    Notes
    -----
    A period passes when its λ_τ is finite and > 0 and its R² ≥ ``min_r2_threshold``.
    """
    cfg = config if config is not None else LambdaEstimationConfig()
    why: list[str] = []
    for label in cfg.preferred_periods:
        e = estimates.get(label)
        if e is None:
            why.append(f"{label} not estimated")
            continue
        lam, r2 = (e, math.nan) if isinstance(e, float | int) else (e.lambda_, e.r2)
        if isinstance(e, LambdaEstimate) and e.reason:
            why.append(f"{label}: {e.reason}")
        elif not (math.isfinite(lam) and lam > 0):
            why.append(f"{label}: λ = {lam:.6g} is not positive")
        elif isinstance(e, LambdaEstimate) and not r2 >= cfg.min_r2_threshold:
            why.append(f"{label}: R² = {r2:.4g} < min_r2_threshold {cfg.min_r2_threshold:g}")
        else:
            r2_txt = f"R² = {r2:.4g} ≥ {cfg.min_r2_threshold:g}" if math.isfinite(r2) else "no R²"
            return float(lam), label, f"first preferred period that passes ({r2_txt}, λ > 0)"
    reason = "no preferred period passes: " + "; ".join(why)
    warnings.warn(
        f"select_lambda: {reason}; using fallback_lambda = {cfg.fallback_lambda:g}",
        ConvergenceWarning,
        stacklevel=2,
    )
    return float(cfg.fallback_lambda), "fallback", reason
