"""Optimal execution under OW impact: discrete optimum, continuous closed form, constrained QP.

The expected cost of a schedule ``q`` on slot times ``t`` (MATH.md §1) is the quadratic form::

    C(q) = −q·α + (λ_s/2) qᵀ G q + q·I_past,   G_ij = exp(−β |t_i − t_j|)

``G`` is the correlation matrix of an AR(1) chain sampled at ``t``, so ``G⁻¹`` is tridiagonal
(:func:`exp_kernel_inverse_banded`) and every solve below is O(n).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize

from myopic_sor._typing import BoolArray1D, Float64Array1D, Float64Array2D
from myopic_sor.exceptions import (
    ConfigError,
    ConvergenceWarning,
    DataValidationError,
    MyopicSorError,
)
from myopic_sor.impact._kernels import (
    box_qp_active_set,
    exp_kernel_inv_matvec,
    exp_kernel_matvec,
)
from myopic_sor.impact._model import (
    ImpactParams,
    _as_float_array,
    _check_times,
    past_impact,
)

__all__ = [
    "AlphaFunction",
    "ConstrainedSchedule",
    "ContinuousSchedule",
    "InfeasibleScheduleError",
    "LinearConstrainedSchedule",
    "ScheduleConvergenceError",
    "constrained_schedule",
    "constrained_schedule_linear",
    "continuous_schedule",
    "exp_kernel_inverse_banded",
    "exp_kernel_matrix",
    "impact_constraint_matrix",
    "optimal_schedule",
    "ow_discrete_schedule",
    "regret",
    "schedule_bounds",
]

logger = logging.getLogger(__name__)

#: α(t), α'(t) or α''(t) as a vectorised function of time (seconds); myopic_sor.alpha.AlphaCurve
#: instances fit (their __call__, d1 and d2).
AlphaFunction = Callable[[Float64Array1D], Float64Array1D]
"""A vectorised curve of time in seconds (``α``, ``α'`` or ``α''``), price units per s^k."""


class InfeasibleScheduleError(ConfigError):
    """The per-slot bounds cannot add up to the parent quantity."""


class ScheduleConvergenceError(MyopicSorError, RuntimeError):
    """The active-set method of :func:`constrained_schedule` hit its iteration limit."""


# ---------------------------------------------------------------------------------------------
# G and its tridiagonal inverse


def exp_kernel_matrix(times_s: Float64Array1D, beta_per_s: float) -> Float64Array2D:
    """Dense cost matrix ``G_ij = exp(−β |t_i − t_j|)`` (for checks and small problems).

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds.
    beta_per_s : float
        Impact decay rate, per second.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` symmetric matrix, positive definite when the times are distinct.
    """
    t = np.asarray(times_s, dtype=np.float64)
    return np.asarray(np.exp(-beta_per_s * np.abs(t[:, None] - t[None, :])), dtype=np.float64)


def exp_kernel_inverse_banded(times_s: Float64Array1D, beta_per_s: float) -> Float64Array2D:
    """Tridiagonal ``G⁻¹`` in LAPACK banded form (``scipy.linalg.solve_banded((1, 1), ab, x)``).

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, strictly increasing (any spacing).
    beta_per_s : float
        Impact decay rate, per second.

    Returns
    -------
    numpy.ndarray
        ``ab`` of shape ``(3, n)``: ``ab[0, 1:]`` super-diagonal, ``ab[1]`` diagonal,
        ``ab[2, :-1]`` sub-diagonal of ``G⁻¹``. ``solve_banded((1, 1), ab, x)`` returns ``G x``.

    Notes
    -----
    With ``a_k = exp(−β (t_{k+1} − t_k))``, ``G`` is the correlation matrix of the AR(1) chain
    ``x_{k+1} = a_k x_k + sqrt(1 − a_k²) ε_k``. Its joint density is
    ``x_0² + Σ_k (x_{k+1} − a_k x_k)² / (1 − a_k²)`` in the exponent, whose matrix is::

        (G⁻¹)_{k,k+1} = −a_k / (1 − a_k²)
        (G⁻¹)_{kk}    = 1/(1 − a_{k−1}²) + 1/(1 − a_k²) − 1    (interior)
        (G⁻¹)_{00}    = 1/(1 − a_0²),   (G⁻¹)_{n−1,n−1} = 1/(1 − a_{n−2}²)

    valid for non-uniform grids.
    """
    t = _check_times(times_s, strict=True)
    n = t.shape[0]
    ab = np.zeros((3, n), dtype=np.float64)
    if n == 1:
        ab[1, 0] = 1.0
        return ab
    d = beta_per_s * np.diff(t)
    w = -1.0 / np.expm1(-2.0 * d)  # 1 / (1 - a²)
    off = -np.exp(-d) * w
    diag = np.zeros(n)
    diag[:-1] += w
    diag[1:] += w
    diag[1:-1] -= 1.0
    ab[0, 1:] = off
    ab[1] = diag
    ab[2, :-1] = off
    return ab


# ---------------------------------------------------------------------------------------------
# Unconstrained discrete optimum


def _check_beta_times(times_s: Float64Array1D, params: ImpactParams) -> Float64Array1D:
    t = _check_times(times_s, strict=True)
    # exp(-2βΔ) must stay distinguishable from 1, else G is numerically singular.
    gaps = params.beta_per_s * np.diff(t)
    if gaps.size and float(gaps.min()) < 1e-12:
        i = int(np.argmin(gaps))
        msg = (
            f"slots {i} and {i + 1} are too close for β={params.beta_per_s:g}/s "
            f"(β·Δt={gaps[i]:.3g}); G is numerically singular, merge the slots"
        )
        raise DataValidationError(msg)
    return t


def _check_quantity(X: float) -> float:
    x = float(X)
    if not math.isfinite(x) or x == 0.0:
        msg = f"parent quantity X must be finite and non-zero (signed shares), got {X!r}"
        raise ConfigError(msg)
    return x


def _linear_term(
    t: Float64Array1D, alpha: Float64Array1D | None, i_now: float, params: ImpactParams
) -> Float64Array1D:
    a = np.zeros_like(t) if alpha is None else _as_float_array("alpha", alpha, t.shape[0])
    if not math.isfinite(float(i_now)):
        msg = f"i_now must be a finite impact in price units, got {i_now!r}"
        raise DataValidationError(msg)
    return np.ascontiguousarray(a - past_impact(t, i_now, params))


def optimal_schedule(
    times_s: Float64Array1D,
    X: float | None,
    params: ImpactParams,
    alpha: Float64Array1D | None = None,
    i_now: float = 0.0,
    *,
    pure_alpha: bool = False,
) -> Float64Array1D:
    """Exact discrete optimum of the expected cost on given slot times (no bounds).

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, strictly increasing (any spacing); the horizon T is the last slot.
    X : float or None
        Parent quantity, signed shares (+ buy). Ignored (may be None) when ``pure_alpha``.
    params : ImpactParams
        Model parameters.
    alpha : numpy.ndarray, optional
        ``α_n = E_{t0}[S0(T)] − E_{t0}[S0(t_n)]`` per slot, price units (MATH.md §2); ``None``
        is zero alpha (the Obizhaeva-Wang schedule).
    i_now : float, default 0.0
        Impact of earlier trades just before the first slot, price units.
    pure_alpha : bool, default False
        The spec's pure-alpha strategy: ``ν = 0``, no constraint on ``Σ q`` (it may end with any
        inventory).

    Returns
    -------
    numpy.ndarray
        ``q*`` signed shares per slot, summing to ``X`` unless ``pure_alpha``.

    Notes
    -----
    Minimising ``C(q) = −q·α + (λ_s/2) qᵀGq + q·I_past`` subject to ``Σ q = X``::

        q* = G⁻¹ (α − I_past − ν 1) / λ_s
        ν  = (1ᵀ G⁻¹ (α − I_past) − λ_s X) / (1ᵀ G⁻¹ 1)

    with ``I_past_n = I_now e^{−β (t_n − t_0)}``. ``G⁻¹`` is tridiagonal
    (:func:`exp_kernel_inverse_banded`), applied in O(n) by a numba kernel. In the continuous
    limit ``ν`` here is minus the ``ν`` of :func:`continuous_schedule`.

    References
    ----------
    Obizhaeva, A. and Wang, J. (2013). Optimal trading strategy and supply/demand dynamics.
    Journal of Financial Markets 16(1), 1-32.
    """
    t = _check_beta_times(times_s, params)
    b = _linear_term(t, alpha, i_now, params)
    if pure_alpha:
        hb = exp_kernel_inv_matvec(t, b, params.beta_per_s)
        return np.asarray(hb / params.lambda_per_share, dtype=np.float64)
    if X is None:
        msg = "X is None: give the parent quantity, or pass pure_alpha=True for ν = 0"
        raise ConfigError(msg)
    return _optimum(t, b, _check_quantity(X), params)


def _optimum(
    t: Float64Array1D, b: Float64Array1D, x: float, params: ImpactParams
) -> Float64Array1D:
    """:func:`optimal_schedule` on validated times ``t`` and linear term ``b`` (α − I_past)."""
    lam = params.lambda_per_share
    hb = exp_kernel_inv_matvec(t, b, params.beta_per_s)
    h1 = exp_kernel_inv_matvec(t, np.ones_like(t), params.beta_per_s)
    nu = (float(hb.sum()) - lam * x) / float(h1.sum())
    return np.asarray((hb - nu * h1) / lam, dtype=np.float64)


def regret(
    q: Float64Array1D, q_star: Float64Array1D, times_s: Float64Array1D, params: ImpactParams
) -> float:
    """Excess expected cost of a feasible schedule over the optimum, currency.

    Parameters
    ----------
    q, q_star : numpy.ndarray
        A schedule and the unconstrained optimum on the same slots (same ``Σ q``), shares.
    times_s : numpy.ndarray
        Slot times, seconds.
    params : ImpactParams
        Model parameters.

    Returns
    -------
    float
        ``C(q) − C(q*) = (λ_s/2)(q − q*)ᵀ G (q − q*) ≥ 0``.

    Notes
    -----
    Exact because the gradient of ``C`` at ``q*`` is ``−ν 1``, orthogonal to ``q − q*`` when
    both sum to ``X`` (for the pure-alpha optimum it is zero, so any ``q`` qualifies).
    """
    t = _check_times(times_s, strict=False)
    d = _as_float_array("q", q, t.shape[0]) - _as_float_array("q_star", q_star, t.shape[0])
    gd = exp_kernel_matvec(t, np.ascontiguousarray(d), params.beta_per_s)
    return 0.5 * params.lambda_per_share * float(d @ gd)


def ow_discrete_schedule(
    X: float, n_trades: int, horizon_s: float, params: ImpactParams
) -> Float64Array1D:
    """Obizhaeva-Wang closed form on ``n_trades = N + 1`` equally spaced trades over [0, T].

    Parameters
    ----------
    X : float
        Parent quantity, signed shares.
    n_trades : int
        Number of trades ``N + 1 ≥ 2`` (at ``0, τ, …, T``, ``τ = T/N``).
    horizon_s : float
        Horizon T, seconds.
    params : ImpactParams
        Model parameters (β is used).

    Returns
    -------
    numpy.ndarray
        End trades ``X / (2 + (N−1)(1−a))`` and interior trades ``X (1−a) / (2 + (N−1)(1−a))``
        with ``a = e^{−βτ}`` (MATH.md §3).
    """
    if n_trades < 2:
        msg = f"n_trades must be at least 2 (a trade at 0 and at T), got {n_trades}"
        raise ConfigError(msg)
    x = _check_quantity(X)
    N = n_trades - 1
    a = math.exp(-params.beta_per_s * float(horizon_s) / N)
    den = 2.0 + (N - 1) * (1.0 - a)
    q = np.full(n_trades, x * (1.0 - a) / den)
    q[0] = q[-1] = x / den
    return q


# ---------------------------------------------------------------------------------------------
# Continuous closed form


@dataclass(frozen=True, slots=True)
class ContinuousSchedule:
    """Continuous-time optimum: blocks at both ends and a trading rate in between (MATH.md §3).

    Attributes
    ----------
    t0_s, T_s : float
        Window, seconds.
    nu : float
        Multiplier of the quantity constraint, price units (0 for the pure-alpha strategy).
    start_block, end_block : float
        Blocks traded at ``t0`` and at ``T``, signed shares.
    quantity : float
        Total traded ``start_block + ∫ Q* dt + end_block``, shares.
    params : ImpactParams
        Model parameters.
    alpha, dalpha, d2alpha : callable
        The alpha curve and its first two derivatives in time (seconds), as given.
    """

    t0_s: float
    T_s: float
    nu: float
    start_block: float
    end_block: float
    quantity: float
    params: ImpactParams
    alpha: AlphaFunction
    dalpha: AlphaFunction
    d2alpha: AlphaFunction

    def impact(self, t_s: Float64Array1D) -> Float64Array1D:
        """Optimal impact ``I*(t) = (α − α'/β + ν)/2`` inside the window, price units."""
        t = np.asarray(t_s, dtype=np.float64)
        b = self.params.beta_per_s
        return np.asarray(0.5 * (self.alpha(t) - self.dalpha(t) / b + self.nu), dtype=np.float64)

    def rate(self, t_s: Float64Array1D) -> Float64Array1D:
        """Optimal trading rate ``Q*(t) = (β α − α''/β + β ν) / (2 λ_s)``, shares per second."""
        t = np.asarray(t_s, dtype=np.float64)
        b = self.params.beta_per_s
        num = b * self.alpha(t) - self.d2alpha(t) / b + b * self.nu
        return np.asarray(num / (2.0 * self.params.lambda_per_share), dtype=np.float64)


def _zero_curve(t: Float64Array1D) -> Float64Array1D:
    return np.zeros_like(np.asarray(t, dtype=np.float64))


def continuous_schedule(
    t0_s: float,
    T_s: float,
    X: float | None,
    params: ImpactParams,
    *,
    alpha: AlphaFunction | None = None,
    dalpha: AlphaFunction | None = None,
    d2alpha: AlphaFunction | None = None,
    i_now: float = 0.0,
    pure_alpha: bool = False,
) -> ContinuousSchedule:
    """Continuous-time optimal schedule for an alpha curve (the myopic closed form).

    Parameters
    ----------
    t0_s, T_s : float
        Window [t0, T], seconds, ``T > t0``.
    X : float or None
        Parent quantity, signed shares; ignored when ``pure_alpha``.
    params : ImpactParams
        Model parameters (``λ_s`` and β per second are used).
    alpha, dalpha, d2alpha : callable, optional
        Vectorised ``α(t)``, ``α'(t)``, ``α''(t)`` of time in seconds; ``α(t) = E_{t0}[S0(T)]
        − E_{t0}[S0(t)]`` in price units. ``None`` for all three is zero alpha.
    i_now : float, default 0.0
        Impact standing just before ``t0``, price units.
    pure_alpha : bool, default False
        ``ν = 0`` (the spec's pure-alpha strategy).

    Returns
    -------
    ContinuousSchedule
        ``ν``, the two blocks and the curves ``I*(t)`` and ``Q*(t)``.

    Notes
    -----
    In the interior (MATH.md §3)::

        I*(t) = (α(t) − α'(t)/β + ν) / 2
        Q*(t) = (I*'(t) + β I*(t)) / λ_s = (β α − α''/β + β ν) / (2 λ_s)

    (the spec's ``(α'(t) + β I*(t))/λ`` is a typo for the second line). Start block
    ``(I*(t0) − I_now)/λ_s``; end block ``(α(T) + ν − I*(T))/λ_s``. Executing ``X``::

        ν = [λ_s X − α(t0)/2 − α(T)/2 − (β/2) ∫ α dt + I_now] / (1 + β (T − t0)/2)

    With ``α ≡ 0`` and ``I_now = 0`` these are the Obizhaeva-Wang blocks ``X/(2 + βT)`` and
    rate ``βX/(2 + βT)``.

    References
    ----------
    Obizhaeva, A. and Wang, J. (2013). Optimal trading strategy and supply/demand dynamics.
    Journal of Financial Markets 16(1), 1-32.
    """
    t0, T = float(t0_s), float(T_s)
    if not (math.isfinite(t0) and math.isfinite(T)) or t0 >= T:
        msg = f"the window must satisfy t0 < T (seconds), got t0={t0_s!r}, T={T_s!r}"
        raise ConfigError(msg)
    curves = (alpha, dalpha, d2alpha)
    if any(c is None for c in curves) and not all(c is None for c in curves):
        msg = "give alpha, dalpha and d2alpha together (or none of them for zero alpha)"
        raise ConfigError(msg)
    a = alpha if alpha is not None else _zero_curve
    da = dalpha if dalpha is not None else _zero_curve
    d2a = d2alpha if d2alpha is not None else _zero_curve
    ends = np.asarray(a(np.array([t0, T])), dtype=np.float64)
    probe = np.asarray(d2a(np.linspace(t0, T, 17)), dtype=np.float64)
    if not (np.all(np.isfinite(ends)) and np.all(np.isfinite(probe))):
        msg = "alpha curve returned NaN/inf on the window; fix the forecast"
        raise DataValidationError(msg)
    lam, beta = params.lambda_per_share, params.beta_per_s
    a0, aT = float(ends[0]), float(ends[1])
    if pure_alpha:
        nu = 0.0
    else:
        if X is None:
            msg = "X is None: give the parent quantity, or pass pure_alpha=True for ν = 0"
            raise ConfigError(msg)
        x = _check_quantity(X)
        if alpha is None:
            int_a = 0.0
        else:
            int_a = float(integrate.quad(lambda s: float(a(np.array([s]))[0]), t0, T, limit=200)[0])
        nu = (lam * x - 0.5 * a0 - 0.5 * aT - 0.5 * beta * int_a + float(i_now)) / (
            1.0 + 0.5 * beta * (T - t0)
        )
    sched = ContinuousSchedule(t0, T, nu, 0.0, 0.0, 0.0, params, a, da, d2a)
    i_start, i_end = (float(v) for v in sched.impact(np.array([t0, T])))
    start = (i_start - float(i_now)) / lam
    end = (aT + nu - i_end) / lam
    interior = float(integrate.quad(lambda s: float(sched.rate(np.array([s]))[0]), t0, T)[0])
    return ContinuousSchedule(t0, T, nu, start, end, start + interior + end, params, a, da, d2a)


# ---------------------------------------------------------------------------------------------
# Constrained QP


@dataclass(frozen=True, slots=True)
class ConstrainedSchedule:
    """Solution of the bound-constrained execution QP.

    Attributes
    ----------
    q : numpy.ndarray
        Optimal signed shares per slot.
    nu : float
        Multiplier of ``Σ q = X``, price units (discrete convention of :func:`optimal_schedule`).
    multipliers : numpy.ndarray
        ``μ = λ_s G q − (α − I_past) + ν``, price units: ``≥ 0`` at a lower bound, ``≤ 0`` at an
        upper bound, 0 on free slots.
    at_lower, at_upper : numpy.ndarray of bool
        Slots whose bound is active.
    n_iter : int
        Active-set iterations.
    method : str
        ``"active-set"``, or ``"fixed"`` when every slot has ``lower == upper``.
    kkt_residual : float
        Largest relative violation of the KKT conditions (0 for an exact solution).
    """

    q: Float64Array1D
    nu: float
    multipliers: Float64Array1D
    at_lower: BoolArray1D
    at_upper: BoolArray1D
    n_iter: int
    method: str
    kkt_residual: float


def schedule_bounds(
    n_slots: int,
    X: float,
    *,
    allow_round_trips: bool = False,
    max_order_size: float | None = None,
    participation: float | None = None,
    expected_volume: Float64Array1D | None = None,
) -> tuple[Float64Array1D, Float64Array1D]:
    """Per-slot bounds ``lower ≤ q ≤ upper`` from the risk settings.

    Parameters
    ----------
    n_slots : int
        Number of slots.
    X : float
        Parent quantity, signed shares (its sign is the side s).
    allow_round_trips : bool, default False
        If False, ``0 ≤ s·q_n`` (never trade against the parent's side).
    max_order_size : float, optional
        ``|q_n| ≤ max_order_size``, shares.
    participation : float, optional
        ``|q_n| ≤ ρ · expected_volume_n``; needs ``expected_volume`` (shares per slot).
    expected_volume : numpy.ndarray, optional
        Expected market volume per slot, shares.

    Returns
    -------
    lower, upper : numpy.ndarray
        Bounds in signed shares (``±inf`` where unbounded).
    """
    x = _check_quantity(X)
    cap = np.full(n_slots, np.inf)
    if max_order_size is not None:
        if not max_order_size > 0:
            msg = f"max_order_size must be positive shares, got {max_order_size!r}"
            raise ConfigError(msg)
        cap = np.minimum(cap, float(max_order_size))
    if participation is not None:
        if expected_volume is None:
            msg = "participation cap given without expected_volume (shares per slot)"
            raise ConfigError(msg)
        if not 0 < participation <= 1:
            msg = f"participation must be in (0, 1], got {participation!r}"
            raise ConfigError(msg)
        vol = _as_float_array("expected_volume", expected_volume, n_slots)
        cap = np.minimum(cap, participation * np.maximum(vol, 0.0))
    lower, upper = -cap, cap.copy()
    if not allow_round_trips:
        if x > 0:
            lower = np.zeros(n_slots)
        else:
            upper = np.zeros(n_slots)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _kkt_residual(
    t: Float64Array1D,
    b: Float64Array1D,
    *,
    lam: float,
    beta: float,
    x: float,
    lo: Float64Array1D,
    hi: Float64Array1D,
    q: Float64Array1D,
    nu: float,
) -> tuple[float, Float64Array1D, BoolArray1D, BoolArray1D]:
    grad = lam * exp_kernel_matvec(t, q, beta) - b + nu
    qscale = max(float(np.abs(q).max()), abs(x), 1.0)
    btol = 1e-9 * qscale
    at_lo = np.isfinite(lo) & (q <= lo + btol)
    at_hi = np.isfinite(hi) & (q >= hi - btol) & ~at_lo
    free = ~(at_lo | at_hi)
    movable = lo != hi
    pscale = max(float(np.abs(b).max()), lam * float(np.abs(q).max()), abs(nu), 1e-300)
    viol = [
        float(np.abs(grad[free]).max(initial=0.0)) / pscale,
        float(np.maximum(-grad[at_lo & movable], 0.0).max(initial=0.0)) / pscale,
        float(np.maximum(grad[at_hi & movable], 0.0).max(initial=0.0)) / pscale,
        float(np.maximum(lo - q, 0.0).max(initial=0.0)) / qscale,
        float(np.maximum(q - hi, 0.0).max(initial=0.0)) / qscale,
        abs(float(q.sum()) - x) / qscale,
    ]
    return max(viol), np.where(free, 0.0, grad), at_lo, at_hi


def _feasible_start(
    q0: Float64Array1D, x: float, lo: Float64Array1D, hi: Float64Array1D
) -> Float64Array1D:
    q = np.clip(q0, lo, hi)
    gap = x - float(q.sum())
    room = (hi - q) if gap > 0 else (q - lo)
    inf = np.flatnonzero(np.isinf(room))
    if inf.size:
        q[inf[0]] += gap
    elif gap != 0.0 and float(room.sum()) > 0.0:
        q = q + gap * room / float(room.sum())
    return np.asarray(np.clip(q, lo, hi), dtype=np.float64)


def constrained_schedule(
    times_s: Float64Array1D,
    X: float,
    params: ImpactParams,
    alpha: Float64Array1D | None = None,
    *,
    lower: Float64Array1D | float | None = None,
    upper: Float64Array1D | float | None = None,
    i_now: float = 0.0,
    max_iter: int | None = None,
) -> ConstrainedSchedule:
    """Optimal schedule under per-slot bounds: a small convex QP solved exactly.

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, strictly increasing.
    X : float
        Parent quantity, signed shares.
    params : ImpactParams
        Model parameters.
    alpha : numpy.ndarray, optional
        Expected remaining drift per slot, price units (as in :func:`optimal_schedule`).
    lower, upper : numpy.ndarray or float, optional
        Bounds per slot, signed shares (``-inf`` / ``inf`` or None: unbounded); see
        :func:`schedule_bounds` for no round trips, max order size and participation caps.
    i_now : float, default 0.0
        Impact just before the first slot, price units.
    max_iter : int, optional
        Iteration limit of the active-set method (default ``4 n + 20``).

    Returns
    -------
    ConstrainedSchedule
        The schedule, its multipliers and the KKT residual.

    Raises
    ------
    InfeasibleScheduleError
        ``lower > upper`` somewhere, or ``Σ lower ≤ X ≤ Σ upper`` fails.

    Notes
    -----
    Solves ``min (λ_s/2) qᵀGq − (α − I_past)·q`` s.t. ``Σ q = X``, ``lower ≤ q ≤ upper``.
    KKT: ``λ_s G q − (α − I_past) + ν 1 = μ`` with ``μ ≥ 0`` at active lower bounds,
    ``μ ≤ 0`` at active upper bounds, ``μ = 0`` on free slots. Each active-set step fixes some
    slots at their bound; the free block of ``G`` is again an exponential kernel on the free
    times, so its inverse is tridiagonal and each step costs O(n). The primal active-set
    method (Nocedal & Wright 2006, Algorithm 16.3) starts from the unconstrained optimum
    clipped to the bounds and made feasible, and runs in a numba kernel. Without active
    bounds the result is :func:`optimal_schedule`. The KKT conditions are re-checked on
    return (``kkt_residual``); a residual above 1e-6 issues a ConvergenceWarning.
    """
    t = _check_beta_times(times_s, params)
    n = t.shape[0]
    x = _check_quantity(X)
    b = _linear_term(t, alpha, i_now, params)

    def _bound(name: str, v: Float64Array1D | float | None, default: float) -> Float64Array1D:
        if v is None:
            return np.full(n, default)
        arr = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()
        if np.isnan(arr).any():
            i = int(np.flatnonzero(np.isnan(arr))[0])
            msg = f"{name} bound is NaN at slot {i}; use ±inf for an unbounded slot"
            raise InfeasibleScheduleError(msg)
        return arr

    lo = _bound("lower", lower, -np.inf)
    hi = _bound("upper", upper, np.inf)
    crossed = np.flatnonzero(lo > hi)
    if crossed.size:
        i = int(crossed[0])
        msg = f"lower bound {lo[i]:g} exceeds upper bound {hi[i]:g} at slot {i} (t={t[i]:g} s)"
        raise InfeasibleScheduleError(msg)
    s_lo, s_hi = float(lo.sum()), float(hi.sum())
    tol = 1e-9 * max(abs(x), 1.0)
    if not (s_lo - tol <= x <= s_hi + tol):
        msg = (
            f"infeasible bounds: the slots can trade between {s_lo:g} and {s_hi:g} shares in "
            f"total, but X={x:g}; raise the caps, add slots or reduce the quantity"
        )
        raise InfeasibleScheduleError(msg)
    fixed = lo == hi
    if fixed.all():
        q_fix = lo.copy()
        return ConstrainedSchedule(
            q_fix,
            0.0,
            np.zeros(n),
            fixed,
            np.zeros(n, dtype=bool),
            0,
            "fixed",
            abs(float(q_fix.sum()) - x) / max(abs(x), 1.0),
        )
    lam, beta = params.lambda_per_share, params.beta_per_s
    q_unc = _optimum(t, b, x, params)  # optimal_schedule's, on the t and b validated above
    q0 = _feasible_start(q_unc, x, lo, hi)
    w_lo = fixed | (np.isfinite(lo) & (q0 <= lo))
    w_hi = np.isfinite(hi) & (q0 >= hi) & ~w_lo
    if (w_lo | w_hi).all():  # keep one slot free so that ν is defined
        j = int(np.flatnonzero(~fixed)[0])
        w_lo[j] = w_hi[j] = False
    qscale = max(float(np.abs(q0).max()), abs(x), 1.0)
    pscale = max(float(np.abs(b).max()), lam * qscale, 1e-300)
    limit = max_iter if max_iter is not None else 4 * n + 20
    q, nu, n_iter, ok = box_qp_active_set(
        t, b, lam, beta, x, lo, hi, q0, w_lo, w_hi, limit, 1e-11 * qscale, 1e-11 * pscale
    )
    if not ok:
        msg = (
            f"the constrained schedule QP did not converge in {limit} active-set iterations "
            f"({n} slots); raise max_iter or relax the bounds"
        )
        raise ScheduleConvergenceError(msg)
    method = "active-set"
    resid, mu, at_lo, at_hi = _kkt_residual(t, b, lam=lam, beta=beta, x=x, lo=lo, hi=hi, q=q, nu=nu)
    if resid > 1e-6:
        warnings.warn(
            f"constrained schedule: KKT residual {resid:.3g} on {n} slots; "
            "the bounds may be nearly degenerate, check the schedule",
            ConvergenceWarning,
            stacklevel=2,
        )
    return ConstrainedSchedule(q, nu, mu, at_lo, at_hi, n_iter, method, resid)


# ---------------------------------------------------------------------------------------------
# QP with general linear inequalities (impact cap, running position bound)


@dataclass(frozen=True, slots=True)
class LinearConstrainedSchedule:
    """Solution of the execution QP with box bounds and linear inequalities.

    Attributes
    ----------
    q : numpy.ndarray
        Optimal signed shares per slot.
    nu : float
        Multiplier of ``Σ q = X``, price units (convention of :func:`optimal_schedule`).
    ineq_multipliers : numpy.ndarray
        ``η ≥ 0`` per row of ``A_ub`` (0 on inactive rows), price units per row unit.
    active_ineq : numpy.ndarray of bool
        Rows of ``A_ub`` that hold with equality at the solution.
    kkt_residual : float
        Largest relative violation of stationarity, primal feasibility and multiplier signs.
    max_violation : float
        Largest relative violation ``max((A q − b)_+ / max(|b|, scale))`` of the inequalities.
    relaxation : float
        Uniform slack added to every ``b_ub`` to make the problem feasible (0 if none).
    method : str
        ``"box"`` (the box solution already satisfied ``A_ub``), ``"active-set"`` (the
        primal-dual active-set iterations converged), ``"slsqp+polish"`` or
        ``"slsqp"`` (polishing on the active set failed; the SLSQP point is returned).
    n_iter : int
        Active-set or SLSQP iterations (0 for ``"box"``).
    """

    q: Float64Array1D
    nu: float
    ineq_multipliers: Float64Array1D
    active_ineq: BoolArray1D
    kkt_residual: float
    max_violation: float
    relaxation: float
    method: str
    n_iter: int


def impact_constraint_matrix(times_s: Float64Array1D, params: ImpactParams) -> Float64Array2D:
    """Lower-triangular map ``L`` from a schedule to the impact just after each slot.

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, increasing.
    params : ImpactParams
        Model parameters.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` matrix, price units per share: ``L_nj = λ_s e^{−β (t_n − t_j)}`` for
        ``j ≤ n`` and 0 above the diagonal, so that ``I_n^+ = I_past_n + (L q)_n``.
    """
    t = _check_times(times_s, strict=False)
    d = t[:, None] - t[None, :]
    m = np.where(d >= 0.0, np.exp(-params.beta_per_s * np.maximum(d, 0.0)), 0.0)
    return np.asarray(params.lambda_per_share * m, dtype=np.float64)


def _polish(  # noqa: PLR0917
    gmat: Float64Array2D,
    b: Float64Array1D,
    lam: float,
    x: float,
    a_ub: Float64Array2D,
    b_ub: Float64Array1D,
    lo: Float64Array1D,
    hi: Float64Array1D,
    act: BoolArray1D,
    at_lo: BoolArray1D,
    at_hi: BoolArray1D,
) -> tuple[Float64Array1D, float, Float64Array1D, Float64Array1D] | None:
    # Equality-constrained QP on the identified active set, solved from its KKT system.
    n = b.shape[0]
    rows = [np.ones((1, n)), a_ub[act]]
    rhs = [np.array([x]), b_ub[act]]
    e = np.eye(n)
    rows += [e[at_lo], e[at_hi]]
    rhs += [lo[at_lo], hi[at_hi]]
    c = np.vstack(rows)
    d = np.concatenate(rhs)
    m = c.shape[0]
    # scaled unknowns z = q / qs and unit-norm rows keep the KKT matrix well conditioned
    qs = max(abs(x), 1.0)
    rn = np.abs(c).max(axis=1) * qs
    rn = np.where(rn > 0, rn, 1.0)
    kkt = np.zeros((n + m, n + m))
    kkt[:n, :n] = gmat
    kkt[:n, n:] = (c * qs / rn[:, None]).T
    kkt[n:, :n] = c * qs / rn[:, None]
    rhs_s = np.concatenate([b / (lam * qs), d / rn])
    try:
        sol = np.linalg.solve(kkt, rhs_s)
        ok = bool(np.all(np.isfinite(sol))) and float(
            np.abs(kkt @ sol - rhs_s).max()
        ) <= 1e-10 * max(float(np.abs(rhs_s).max()), 1.0)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:  # dependent active rows: minimum-norm solution
        sol, *_ = np.linalg.lstsq(kkt, rhs_s, rcond=None)
    q = sol[:n] * qs
    y = sol[n:] * lam * qs * qs / rn  # λ G q − b + Cᵀ y = 0
    n_act = int(act.sum())
    eta = np.zeros(a_ub.shape[0])
    eta[act] = y[1 : 1 + n_act]
    box = np.zeros(n)
    k = 1 + n_act
    box[at_lo] = -y[k : k + int(at_lo.sum())]  # multiplier of q ≥ lo (≥ 0)
    k += int(at_lo.sum())
    box[at_hi] = y[k:]  # multiplier of q ≤ hi (≥ 0)
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(y))):
        return None
    return np.asarray(q, dtype=np.float64), float(y[0]), eta, box


def _linear_kkt(  # noqa: PLR0917
    gmat: Float64Array2D,
    b: Float64Array1D,
    lam: float,
    x: float,
    a_ub: Float64Array2D,
    b_ub: Float64Array1D,
    lo: Float64Array1D,
    hi: Float64Array1D,
    q: Float64Array1D,
    nu: float,
    eta: Float64Array1D,
    box: Float64Array1D,
    at_lo: BoolArray1D,
    at_hi: BoolArray1D,
) -> tuple[float, float]:
    qscale = max(float(np.abs(q).max()), abs(x), 1.0)
    grad = lam * (gmat @ q) - b + nu + a_ub.T @ eta
    grad = grad - np.where(at_lo, box, 0.0) + np.where(at_hi, box, 0.0)
    pscale = max(float(np.abs(b).max()), lam * qscale, abs(nu), 1e-300)
    rscale = np.maximum(np.abs(b_ub), np.abs(a_ub).max(axis=1) * qscale)
    viol_ub = float(np.maximum((a_ub @ q - b_ub) / np.maximum(rscale, 1e-300), 0.0).max(initial=0))
    rownorm = np.abs(a_ub).max(axis=1) * qscale
    eta_neg = float(np.maximum(-eta * rownorm, 0.0).max(initial=0.0)) / pscale
    viol = [
        float(np.abs(grad).max()) / pscale,
        viol_ub,
        eta_neg,
        float(np.maximum(-box, 0.0).max(initial=0.0)) / pscale,
        float(np.maximum(lo - q, 0.0).max(initial=0.0)) / qscale,
        float(np.maximum(q - hi, 0.0).max(initial=0.0)) / qscale,
        abs(float(q.sum()) - x) / qscale,
    ]
    return max(viol), viol_ub


def _nnls_multipliers(  # noqa: PLR0917
    gmat: Float64Array2D,
    b: Float64Array1D,
    lam: float,
    a_ub: Float64Array2D,
    q: Float64Array1D,
    act: BoolArray1D,
    at_lo: BoolArray1D,
    at_hi: BoolArray1D,
) -> tuple[float, Float64Array1D, Float64Array1D]:
    # λ G q − b + ν 1 + A_actᵀ η − μ_lo + μ_hi = 0, η, μ ≥ 0, ν free (split in ν⁺ − ν⁻).
    n = q.shape[0]
    e = np.eye(n)
    cols = np.hstack([np.ones((n, 1)), -np.ones((n, 1)), a_ub[act].T, -e[:, at_lo], e[:, at_hi]])
    cn = np.abs(cols).max(axis=0)
    cn = np.where(cn > 0, cn, 1.0)
    target = -(lam * (gmat @ q) - b)
    y, _ = optimize.nnls(cols / cn, target, maxiter=50 * cols.shape[1])
    y = y / cn
    eta = np.zeros(a_ub.shape[0])
    eta[act] = y[2 : 2 + int(act.sum())]
    box = np.zeros(n)
    k = 2 + int(act.sum())
    box[at_lo] = y[k : k + int(at_lo.sum())]
    box[at_hi] = y[k + int(at_lo.sum()) :]
    return float(y[0] - y[1]), eta, box


def _min_uniform_slack(
    x: float, lo: Float64Array1D, hi: Float64Array1D, a_ub: Float64Array2D, b_ub: Float64Array1D
) -> float:
    # LP: min s  s.t.  A q − s ≤ b,  Σ q = X,  lo ≤ q ≤ hi,  s ≥ 0.
    n = lo.shape[0]
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    a = np.hstack([a_ub, -np.ones((a_ub.shape[0], 1))])
    a_eq = np.concatenate([np.ones(n), [0.0]])[None, :]
    bounds: list[tuple[float | None, float | None]] = [
        (None if math.isinf(u) else float(u), None if math.isinf(v) else float(v))
        for u, v in zip(lo, hi, strict=True)
    ]
    bounds.append((0.0, None))
    res = optimize.linprog(
        cost, A_ub=a, b_ub=b_ub, A_eq=a_eq, b_eq=[x], bounds=bounds, method="highs"
    )
    if res.status != 0:
        msg = f"cannot relax the linear constraints: the LP failed ({res.message})"
        raise InfeasibleScheduleError(msg)
    return float(res.x[-1])


def constrained_schedule_linear(
    times_s: Float64Array1D,
    X: float,
    params: ImpactParams,
    alpha: Float64Array1D | None = None,
    *,
    lower: Float64Array1D | float | None = None,
    upper: Float64Array1D | float | None = None,
    A_ub: Float64Array2D,
    b_ub: Float64Array1D,
    i_now: float = 0.0,
    on_infeasible: str = "raise",
    max_iter: int = 500,
    method: str = "auto",
) -> LinearConstrainedSchedule:
    r"""Optimal schedule under box bounds and linear inequalities ``A_ub q ≤ b_ub``.

    Parameters
    ----------
    times_s : numpy.ndarray
        Slot times, seconds, strictly increasing.
    X : float
        Parent quantity, signed shares.
    params : ImpactParams
        Model parameters.
    alpha : numpy.ndarray, optional
        Expected remaining drift per slot, price units (as in :func:`optimal_schedule`).
    lower, upper : numpy.ndarray or float, optional
        Per-slot bounds, signed shares (as in :func:`constrained_schedule`).
    A_ub : numpy.ndarray
        ``(m, n)`` inequality matrix. For an impact cap ``|I_n^+| ≤ c_n`` use
        ``L = impact_constraint_matrix(t, params)``: rows ``L`` with ``b = c − I_past`` and
        ``−L`` with ``b = c + I_past``. For a running position ``|P0 + Σ_{j≤n} q_j| ≤ P``
        use the lower-triangular matrix of ones with ``b = P ∓ P0``.
    b_ub : numpy.ndarray
        ``(m,)`` right-hand side, in the rows' units.
    i_now : float, default 0.0
        Impact just before the first slot, price units.
    on_infeasible : {"raise", "relax"}, default "raise"
        If the inequalities cannot hold together with the bounds and ``Σ q = X``: raise
        :class:`InfeasibleScheduleError`, or add the smallest uniform slack ``s`` to every
        ``b_ub`` (an LP, ``min s`` s.t. ``A q ≤ b + s``, solved by HiGHS), log a warning,
        and report it as ``relaxation``.
    max_iter : int, default 500
        SLSQP iteration limit.
    method : {"auto", "slsqp"}, default "auto"
        ``"auto"``: active-set iterations, SLSQP if they cycle; ``"slsqp"``: SLSQP and polish
        only (a cross-check).

    Returns
    -------
    LinearConstrainedSchedule

    Raises
    ------
    InfeasibleScheduleError
        Bounds that cannot add up to ``X`` (as :func:`constrained_schedule`), or infeasible
        inequalities with ``on_infeasible="raise"``.
    ScheduleConvergenceError
        SLSQP failed and the active-set polish did not give a KKT point.

    Notes
    -----
    Solves ``min (λ_s/2) qᵀGq − (α − I_past)·q`` s.t. ``Σ q = X``, ``lower ≤ q ≤ upper``,
    ``A_ub q ≤ b_ub`` (convex: G is positive definite). Fast path: the box solution of
    :func:`constrained_schedule` is returned unchanged when it satisfies ``A_ub`` (relative
    tolerance 1e-12). Otherwise primal-dual active-set iterations (Hintermüller, Ito &
    Kunisch 2002) start from the rows the box solution violates: each solves the
    equality-constrained QP on the current active set exactly (its scaled KKT system, which
    gives the multipliers), adds violated rows and bounds and drops those with a negative
    multiplier (all at once; one change per step once that cycles); a point with KKT
    residual ≤ 1e-9 is returned (``"active-set"``). If they cycle, SLSQP (scaled variables
    ``q / max(|X|, 1)``, analytic gradients) is warm-started from the box solution and the
    active set it identifies is polished the same way
    (``"slsqp+polish"``, accepted at a KKT residual ≤ 1e-7; stationarity, feasibility and
    multiplier signs, relative); above 1e-6 a ConvergenceWarning is issued. Dense O(n³) per
    iteration: 390 slots with a binding impact cap take about 0.07 s (one active-set step).
    """
    if method not in ("auto", "slsqp"):
        msg = f"method must be 'auto' or 'slsqp', got {method!r}"
        raise ConfigError(msg)
    if on_infeasible not in ("raise", "relax"):
        msg = f"on_infeasible must be 'raise' or 'relax', got {on_infeasible!r}"
        raise ConfigError(msg)
    t = _check_beta_times(times_s, params)
    n = t.shape[0]
    x = _check_quantity(X)
    a_ub = np.ascontiguousarray(np.asarray(A_ub, dtype=np.float64))
    if a_ub.ndim != 2 or a_ub.shape[1] != n:
        msg = f"A_ub must have shape (m, {n}) for {n} slots, got {a_ub.shape}"
        raise DataValidationError(msg)
    bu = _as_float_array("b_ub", b_ub, a_ub.shape[0]).copy()
    if not (np.all(np.isfinite(a_ub)) and np.all(np.isfinite(bu))):
        msg = "A_ub and b_ub must be finite (drop a row instead of an infinite bound)"
        raise DataValidationError(msg)
    box = constrained_schedule(t, x, params, alpha, lower=lower, upper=upper, i_now=i_now)
    lo = np.full(n, -np.inf) if lower is None else np.broadcast_to(np.asarray(lower, float), (n,))
    hi = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (n,))
    lo, hi = np.asarray(lo, dtype=np.float64).copy(), np.asarray(hi, dtype=np.float64).copy()
    qscale = max(abs(x), 1.0)
    rscale = np.maximum(np.abs(bu), np.abs(a_ub).max(axis=1) * qscale)
    rscale = np.maximum(rscale, 1e-300)

    def _worst(q: Float64Array1D, rhs: Float64Array1D) -> float:
        return float(np.max((a_ub @ q - rhs) / rscale, initial=-np.inf))

    if a_ub.shape[0] == 0 or _worst(box.q, bu) <= 1e-12:
        m0 = a_ub.shape[0]
        return LinearConstrainedSchedule(
            box.q, box.nu, np.zeros(m0), np.zeros(m0, dtype=bool), box.kkt_residual,
            max(_worst(box.q, bu), 0.0) if m0 else 0.0, 0.0, "box", 0,
        )  # fmt: skip
    slack = _min_uniform_slack(x, lo, hi, a_ub, bu)
    relaxation = 0.0
    if slack > 1e-12 * float(rscale.max()):
        if on_infeasible == "raise":
            msg = (
                f"infeasible linear constraints: with the bounds and Σq = X={x:g}, A_ub q ≤ b_ub "
                f"fails by at least {slack:.6g} (row units) on {n} slots; raise the cap or "
                "the horizon, or pass on_infeasible='relax'"
            )
            raise InfeasibleScheduleError(msg)
        relaxation = slack * (1.0 + 1e-9)
        bu = bu + relaxation
        logger.warning(
            "linear constraints infeasible on %d slots: every b_ub relaxed by %.6g (row units)",
            n,
            relaxation,
        )
    lam, beta = params.lambda_per_share, params.beta_per_s
    b = _linear_term(t, alpha, i_now, params)
    gmat = exp_kernel_matrix(t, beta)
    # Primal-dual active-set iterations on the polish (Hintermüller, Ito & Kunisch 2002):
    # start from the rows the box solution violates, re-solve the equality QP, add violated
    # rows/bounds and drop those with a negative multiplier. Usually exact in a few steps.
    act = (a_ub @ box.q - bu) / rscale > 0.0
    at_lo, at_hi = box.at_lower.copy(), box.at_upper.copy()
    btol = 1e-12 * qscale
    seen: set[bytes] = set()
    rn_rows = np.abs(a_ub).max(axis=1) * qscale
    block = True
    for it in range(max(20, 2 * n) if method == "auto" else 0):
        key = np.packbits(np.concatenate([act, at_lo, at_hi])).tobytes()
        if key in seen:
            if not block:
                break
            block = False  # the block rule cycles: continue one change at a time
            seen.clear()
        seen.add(key)
        pol = _polish(gmat, b, lam, x, a_ub, bu, lo, hi, act, at_lo, at_hi)
        if pol is None:
            break
        qp, nup, etap, boxp = pol
        r, v = _linear_kkt(gmat, b, lam, x, a_ub, bu, lo, hi, qp, nup, etap, boxp, at_lo, at_hi)
        if r <= 1e-9:
            return LinearConstrainedSchedule(
                qp, nup, etap, act, r, v, relaxation, "active-set", it + 1
            )
        if block:  # all violated rows and bounds in, all negative multipliers out
            act = (act & (etap >= 0.0)) | ((a_ub @ qp - bu) / rscale > 1e-12)
            at_lo = (at_lo & (boxp >= 0.0)) | (np.isfinite(lo) & (qp < lo - btol))
            at_hi = ((at_hi & (boxp >= 0.0)) | (np.isfinite(hi) & (qp > hi + btol))) & ~at_lo
            continue
        # one change per step: add the most violated row or bound, else drop the most
        # negative multiplier (robust to the degenerate active sets of capped schedules)
        row_v = np.where(act, -np.inf, (a_ub @ qp - bu) / rscale)
        lo_v = np.where(np.isfinite(lo) & ~at_lo, (lo - qp) / qscale, -np.inf)
        hi_v = np.where(np.isfinite(hi) & ~at_hi, (qp - hi) / qscale, -np.inf)
        viols = (float(row_v.max()), float(lo_v.max()), float(hi_v.max()))
        if max(viols) > 1e-12:
            k = int(np.argmax(viols))
            if k == 0:
                act[int(np.argmax(row_v))] = True
            elif k == 1:
                at_lo[int(np.argmax(lo_v))] = True
            else:
                at_hi[int(np.argmax(hi_v))] = True
            continue
        neg = np.concatenate(
            [np.where(act, etap * rn_rows, 0.0), np.where(at_lo | at_hi, boxp, 0.0)]
        )
        j = int(np.argmin(neg))
        if neg[j] >= 0.0:
            break
        if j < act.shape[0]:
            act[j] = False
        else:
            at_lo[j - act.shape[0]] = at_hi[j - act.shape[0]] = False
    gs = gmat  # objective in z = q / qscale, divided by λ_s qscale²
    bs = b / (lam * qscale)
    rn = np.abs(a_ub).max(axis=1) * qscale
    rn = np.where(rn > 0, rn, 1.0)
    a_s = a_ub * qscale / rn[:, None]
    b_s = bu / rn

    def fun(z: Float64Array1D) -> float:
        return float(0.5 * z @ (gs @ z) - bs @ z)

    def jac(z: Float64Array1D) -> Float64Array1D:
        return np.asarray(gs @ z - bs, dtype=np.float64)

    ones = np.ones((1, n))
    cons = [
        {"type": "eq", "fun": lambda z: np.array([z.sum() - x / qscale]), "jac": lambda z: ones},
        {"type": "ineq", "fun": lambda z: b_s - a_s @ z, "jac": lambda z: -a_s},
    ]
    bnds = optimize.Bounds(lo / qscale, hi / qscale)
    res = optimize.minimize(
        fun,
        box.q / qscale,
        jac=jac,
        method="SLSQP",
        bounds=bnds,
        constraints=cons,
        options={"maxiter": max_iter, "ftol": 1e-15},
    )
    q_s = np.asarray(res.x, dtype=np.float64) * qscale
    q_s = np.clip(q_s, lo, hi)
    best: tuple[Float64Array1D, float, Float64Array1D, Float64Array1D, str] | None = None
    for tol_act in (1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3):
        act = (a_ub @ q_s - bu) / rscale >= -tol_act
        btol = tol_act * qscale
        at_lo = np.isfinite(lo) & (q_s <= lo + btol)
        at_hi = np.isfinite(hi) & (q_s >= hi - btol) & ~at_lo
        pol = _polish(gmat, b, lam, x, a_ub, bu, lo, hi, act, at_lo, at_hi)
        if pol is None:
            continue
        qp, nup, etap, boxp = pol
        r, _ = _linear_kkt(gmat, b, lam, x, a_ub, bu, lo, hi, qp, nup, etap, boxp, at_lo, at_hi)
        if r <= 1e-7:
            best = (qp, nup, etap, boxp, "slsqp+polish")
            break
    if best is None:
        # keep the SLSQP point; its multipliers by non-negative least squares on the
        # constraints active there (a degenerate active set defeats the polish)
        tol_act = 1e-7
        act = (a_ub @ q_s - bu) / rscale >= -tol_act
        at_lo = np.isfinite(lo) & (q_s <= lo + tol_act * qscale)
        at_hi = np.isfinite(hi) & (q_s >= hi - tol_act * qscale) & ~at_lo
        nu_s, eta_s, box_s = _nnls_multipliers(gmat, b, lam, a_ub, q_s, act, at_lo, at_hi)
        best = (q_s, nu_s, eta_s, box_s, "slsqp")
    q, nu, eta, boxm, method = best
    resid, viol = _linear_kkt(gmat, b, lam, x, a_ub, bu, lo, hi, q, nu, eta, boxm, at_lo, at_hi)
    if method == "slsqp":
        feas = max(viol, abs(float(q.sum()) - x) / qscale)
        if not res.success or feas > 1e-6:
            msg = (
                f"the linear-constrained schedule QP did not converge on {n} slots "
                f"(SLSQP: {res.message}; constraint violation {feas:.3g}); relax the caps"
            )
            raise ScheduleConvergenceError(msg)
    if resid > 1e-6:
        warnings.warn(
            f"linear-constrained schedule: KKT residual {resid:.3g} on {n} slots ({method}); "
            "check the schedule",
            ConvergenceWarning,
            stacklevel=2,
        )
    return LinearConstrainedSchedule(q, nu, eta, act, resid, viol, relaxation, method, int(res.nit))
