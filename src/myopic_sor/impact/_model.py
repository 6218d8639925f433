"""Obizhaeva-Wang transient impact: parameters, impact paths and the expected cost of a schedule.

Units (MATH.md §1, pitfall P3): normalised flow ``u = q · σ / ADV`` (q signed shares, σ daily
return volatility, ADV shares per day), ``λ`` in price units per unit of normalised flow, so the
impact of ``q`` shares is ``λ_s q`` with ``λ_s = λ σ / ADV`` (price per share per share), and the
decay rate ``β`` is per second inside the library (per hour or as a half-life in configs).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from myopic_sor._checks import require_positive
from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact._kernels import exp_kernel_matvec, ow_impact_path

__all__ = [
    "CostBreakdown",
    "ImpactParams",
    "expected_cost",
    "expected_cost_quadratic",
    "impact_path",
    "past_impact",
    "price_impact_series",
]

logger = logging.getLogger(__name__)

_SECONDS_PER_HOUR = 3600.0
_LN2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class ImpactParams:
    """Parameters of the Obizhaeva-Wang transient impact model.

    Parameters
    ----------
    lambda_ : float
        Impact coefficient λ, price units (currency per share) per unit of normalised flow
        ``u = q σ / ADV``.
    beta_per_s : float
        Exponential decay rate β of the impact, per second.
    sigma_daily : float
        Daily return volatility σ (fraction, e.g. 0.02).
    adv : float
        Average daily volume, shares per day.

    Raises
    ------
    ConfigError
        If a field is not finite and positive (the message names the field).

    Notes
    -----
    ``dI = λ du − β I dt`` with ``du = σ/ADV dq``; a trade of ``q`` shares moves the impact by
    ``λ_s q`` with ``λ_s = λ σ / ADV`` (:attr:`lambda_per_share`), which then decays as
    ``exp(−β t)``; half-life ``ln 2 / β``.

    Examples
    --------
    >>> p = ImpactParams.from_half_life(lambda_=0.5, half_life_s=600.0, sigma_daily=0.02,
    ...                                 adv=1e6)
    >>> round(p.beta_per_hour, 4), p.lambda_per_share
    (4.1589, 1e-08)
    """

    lambda_: float
    beta_per_s: float
    sigma_daily: float
    adv: float

    def __post_init__(self) -> None:
        for name in ("lambda_", "beta_per_s", "sigma_daily", "adv"):
            object.__setattr__(
                self, name, require_positive(f"ImpactParams.{name}", getattr(self, name))
            )

    @property
    def lambda_per_share(self) -> float:
        """Impact per share ``λ_s = λ σ / ADV`` (price per share, per share traded)."""
        return self.lambda_ * self.sigma_daily / self.adv

    @property
    def half_life_s(self) -> float:
        """Half-life of the impact, seconds (``ln 2 / β``)."""
        return _LN2 / self.beta_per_s

    @property
    def beta_per_hour(self) -> float:
        """Decay rate β per hour (the spec's unit)."""
        return self.beta_per_s * _SECONDS_PER_HOUR

    @classmethod
    def from_half_life(
        cls, *, lambda_: float, half_life_s: float, sigma_daily: float, adv: float
    ) -> ImpactParams:
        """Build the parameters from an impact half-life in seconds (``β = ln 2 / half_life_s``)."""
        hl = float(half_life_s)
        if not math.isfinite(hl) or hl <= 0.0:
            msg = f"half_life_s must be a finite positive number of seconds, got {half_life_s!r}"
            raise ConfigError(msg)
        return cls(lambda_=lambda_, beta_per_s=_LN2 / hl, sigma_daily=sigma_daily, adv=adv)

    @classmethod
    def from_beta_per_hour(
        cls, *, lambda_: float, beta_per_hour: float, sigma_daily: float, adv: float
    ) -> ImpactParams:
        """Build the parameters from β per hour, the spec's unit (``β_s = β_h / 3600``)."""
        bh = float(beta_per_hour)
        if not math.isfinite(bh) or bh <= 0.0:
            msg = (
                "ImpactParams.beta_per_hour must be a finite positive number, "
                f"got {beta_per_hour!r}"
            )
            raise ConfigError(msg)
        return cls(
            lambda_=lambda_,
            beta_per_s=bh / _SECONDS_PER_HOUR,
            sigma_daily=sigma_daily,
            adv=adv,
        )


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Expected cost of a schedule under the OW model, currency (price × shares).

    Attributes
    ----------
    total : float
        ``alpha_term + impact_term + self_impact_term``.
    alpha_term : float
        ``−q·α``: the expected drift of the unperturbed price, measured against the horizon.
    impact_term : float
        ``Σ q_n I_n``: paid on the impact standing before each trade (earlier children and
        ``I_past``).
    self_impact_term : float
        ``(λ_s/2) Σ q_n²``: each child walks its own impact.
    impact_before : numpy.ndarray
        ``I_n``, impact just before each trade, price units.
    """

    total: float
    alpha_term: float
    impact_term: float
    self_impact_term: float
    impact_before: Float64Array1D


def _as_float_array(name: str, values: object, n: int | None = None) -> Float64Array1D:
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1:
        msg = f"{name} must be one-dimensional, got shape {arr.shape}"
        raise DataValidationError(msg)
    if n is not None and arr.shape[0] != n:
        msg = f"{name} has {arr.shape[0]} values but the schedule has {n} slots; align them"
        raise DataValidationError(msg)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        msg = (
            f"{name} has {bad.size} non-finite value(s), first at index {bad[0]} "
            f"({arr[bad[0]]!r}); replace NaN/inf before computing the schedule"
        )
        raise DataValidationError(msg)
    return arr


def _check_times(times_s: object, *, strict: bool) -> Float64Array1D:
    t = _as_float_array("times_s", times_s)
    if t.shape[0] == 0:
        msg = "times_s is empty: a schedule needs at least one slot"
        raise DataValidationError(msg)
    d = np.diff(t)
    bad = np.flatnonzero(d <= 0.0) if strict else np.flatnonzero(d < 0.0)
    if bad.size:
        i = int(bad[0]) + 1
        kind = "strictly increasing" if strict else "non-decreasing"
        msg = (
            f"times_s must be {kind}: times_s[{i}]={t[i]!r} after times_s[{i - 1}]={t[i - 1]!r}; "
            "sort the slots and merge slots at the same time"
        )
        raise DataValidationError(msg)
    return t


def past_impact(times_s: Float64Array1D, i_now: float, params: ImpactParams) -> Float64Array1D:
    """Impact of earlier trades still standing at each slot, price units.

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, non-decreasing; ``times_s[0]`` is the time at which ``i_now`` holds.
    i_now : float
        Impact just before the first slot, price units (what remains of trades done before).
    params : ImpactParams
        Model parameters (β is used).

    Returns
    -------
    numpy.ndarray
        ``I_past_n = i_now · exp(−β (t_n − t_0))``.
    """
    t = np.asarray(times_s, dtype=np.float64)
    return np.asarray(float(i_now) * np.exp(-params.beta_per_s * (t - t[0])), dtype=np.float64)


def impact_path(
    ts_ns: Int64Array1D,
    signed_shares: Float64Array1D,
    params: ImpactParams,
    i0: float = 0.0,
) -> tuple[Float64Array1D, Float64Array1D]:
    """Impact just before and just after each event of a stream of signed trades.

    Parameters
    ----------
    ts_ns : numpy.ndarray of int64
        Event times, UTC nanoseconds, non-decreasing (ties allowed: no decay between them).
    signed_shares : numpy.ndarray
        Signed traded quantity per event, shares (+ buy aggressor, − sell aggressor).
    params : ImpactParams
        Model parameters.
    i0 : float, default 0.0
        Impact just before the first event, price units.

    Returns
    -------
    before, after : numpy.ndarray
        Impact just before and just after each event, price units.

    Notes
    -----
    Exact decay between events, decay AFTER the trade (MATH.md §1, pitfall P2)::

        I_n^+ = I_n^- + λ u_n,   u_n = q_n σ / ADV
        I_{n+1}^- = exp(−β (t_{n+1} − t_n)) I_n^+

    Event ``n`` pays on average ``S0_n + I_n^- + λ u_n / 2``. Runs in a numba kernel, O(n).
    """
    ts = np.asarray(ts_ns)
    if ts.ndim != 1 or not np.issubdtype(ts.dtype, np.integer):
        msg = f"ts_ns must be a 1-D int64 array of UTC nanoseconds, got dtype {ts.dtype}"
        raise DataValidationError(msg)
    q = _as_float_array("signed_shares", signed_shares, ts.shape[0])
    if ts.shape[0] == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty.copy()
    dts = np.diff(ts.astype(np.int64))
    bad = np.flatnonzero(dts < 0)
    if bad.size:
        i = int(bad[0]) + 1
        msg = (
            f"ts_ns must be non-decreasing: row {i} (ts={int(ts[i])}) is before row {i - 1} "
            f"(ts={int(ts[i - 1])}); sort the events by ts_event"
        )
        raise DataValidationError(msg)
    # Differences in int64 first keeps nanosecond precision before the float conversion.
    t_s = np.ascontiguousarray((ts.astype(np.int64) - np.int64(ts[0])).astype(np.float64) * 1e-9)
    u = np.ascontiguousarray(q * (params.sigma_daily / params.adv))
    before, after = ow_impact_path(t_s, u, params.beta_per_s, params.lambda_, float(i0))
    return before, after


def price_impact_series(
    df: pd.DataFrame,
    params: ImpactParams,
    *,
    i0: float = 0.0,
    ts_col: str = "ts_event",
    volume_col: str = "signed_volume",
) -> pd.Series:
    """Impact after each row's trade, for the spec's frame (``calculate_price_impact``).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows sorted by time with ``ts_event`` (int64 UTC ns or datetime64) and
        ``signed_volume`` (signed shares, + buy aggressor; 0 on rows without a trade).
    params : ImpactParams
        Model parameters.
    i0 : float, default 0.0
        Impact just before the first row, price units.
    ts_col, volume_col : str
        Column names, defaults as in the spec.

    Returns
    -------
    pandas.Series
        Impact just after each row's trade, price units, indexed like ``df``, named
        ``"price_impact"``.

    Raises
    ------
    DataValidationError
        Missing column, NaN volume or unsorted timestamps (the message names row and column).

    Notes
    -----
    Same recursion as :func:`impact_path` (exact decay, decay after the trade), run in a numba
    kernel: no Python loop over rows. The spec's Euler update
    ``I(t+1) = I(t) + λQσ/ADV − βIΔt`` is its first-order approximation.
    """
    for col in (ts_col, volume_col):
        if col not in df.columns:
            msg = (
                f"column {col!r} is missing (columns: {list(df.columns)}); the impact needs "
                f"{ts_col!r} and {volume_col!r} (signed shares, + buy aggressor)"
            )
            raise DataValidationError(msg)
    ts_raw = df[ts_col]
    if isinstance(ts_raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(ts_raw):
        ts_ns = ts_raw.to_numpy(dtype="datetime64[ns]").view(np.int64)
    elif pd.api.types.is_integer_dtype(ts_raw):
        ts_ns = ts_raw.to_numpy(dtype=np.int64)
    else:
        msg = f"column {ts_col!r} must be int64 UTC ns or datetime64, got dtype {ts_raw.dtype}"
        raise DataValidationError(msg)
    vol = df[volume_col].to_numpy(dtype=np.float64, na_value=np.nan)
    nan_rows = np.flatnonzero(~np.isfinite(vol))
    if nan_rows.size:
        msg = (
            f"column {volume_col!r} has {nan_rows.size} NaN/inf value(s), first at row "
            f"{int(nan_rows[0])}; fill rows without a trade with 0"
        )
        raise DataValidationError(msg)
    _, after = impact_path(ts_ns, vol, params, i0=i0)
    return pd.Series(after, index=df.index, name="price_impact")


def _prepare(
    times_s: object, q: object, alpha: object | None
) -> tuple[Float64Array1D, Float64Array1D, Float64Array1D]:
    t = _check_times(times_s, strict=False)
    qq = _as_float_array("q", q, t.shape[0])
    a = np.zeros_like(t) if alpha is None else _as_float_array("alpha", alpha, t.shape[0])
    return t, qq, a


def expected_cost(
    times_s: Float64Array1D,
    q: Float64Array1D,
    params: ImpactParams,
    alpha: Float64Array1D | None = None,
    i_past: float = 0.0,
) -> CostBreakdown:
    """Expected cost of a schedule under the OW model, by the impact recursion.

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, non-decreasing; the horizon T is at or after the last slot.
    q : numpy.ndarray
        Signed child quantities per slot, shares (+ buy).
    params : ImpactParams
        Model parameters.
    alpha : numpy.ndarray, optional
        ``α_n = E_{t0}[S0(T)] − E_{t0}[S0(t_n)]``: the expected move of the unperturbed price
        from slot ``n`` to the horizon, price units, forecast at ``t0`` (MATH.md §2). ``None``
        means zero alpha (pure execution).
    i_past : float, default 0.0
        ``I_now``: impact of earlier trades just before the first slot, price units; it decays
        to ``I_past_n = I_now · exp(−β (t_n − t_0))`` at slot ``n``.

    Returns
    -------
    CostBreakdown
        Total and its three terms, currency.

    Notes
    -----
    With ``I_n`` the impact just before trade ``n`` (:func:`impact_path` recursion with
    ``λ_s = λσ/ADV``)::

        C(q) = −Σ_n q_n α_n + Σ_n q_n I_n + (λ_s/2) Σ_n q_n²

    This is the cost against the expected unperturbed price at the horizon, ``E[S0(T)]``.
    Against the arrival price ``S0(t0)`` add the schedule-independent constant
    ``(Σ q) · α(t0)``, where ``α(t0) = E[S0(T)] − S0(t0)``. It equals the quadratic form of
    :func:`expected_cost_quadratic`. For sells (q < 0) the same formula gives the cost as
    the negative of proceeds relative to the benchmark.
    """
    t, qq, a = _prepare(times_s, q, alpha)
    lam_s = params.lambda_per_share
    before, _ = ow_impact_path(t, qq, params.beta_per_s, lam_s, float(i_past))
    alpha_term = -float(qq @ a)
    impact_term = float(qq @ before)
    self_term = 0.5 * lam_s * float(qq @ qq)
    return CostBreakdown(
        total=alpha_term + impact_term + self_term,
        alpha_term=alpha_term,
        impact_term=impact_term,
        self_impact_term=self_term,
        impact_before=before,
    )


def expected_cost_quadratic(
    times_s: Float64Array1D,
    q: Float64Array1D,
    params: ImpactParams,
    alpha: Float64Array1D | None = None,
    i_past: float = 0.0,
) -> float:
    """Expected cost of a schedule by the quadratic form (same value as :func:`expected_cost`).

    Parameters
    ----------
    times_s, q, params, alpha, i_past
        As in :func:`expected_cost`.

    Returns
    -------
    float
        ``C(q) = −q·α + (λ_s/2) qᵀ G q + q·I_past``, currency.

    Notes
    -----
    ``G_ij = exp(−β |t_i − t_j|)`` (positive definite for distinct times) and
    ``I_past_n = I_now · exp(−β (t_n − t_0))``. ``G q`` is computed in O(n) by a forward and a
    backward exponential filter, never forming ``G``.
    """
    t, qq, a = _prepare(times_s, q, alpha)
    gq = exp_kernel_matvec(t, qq, params.beta_per_s)
    ip = past_impact(t, i_past, params)
    return float(-(qq @ a) + 0.5 * params.lambda_per_share * (qq @ gq) + qq @ ip)
