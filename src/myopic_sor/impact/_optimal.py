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
from scipy import integrate

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
    "ScheduleConvergenceError",
    "constrained_schedule",
    "continuous_schedule",
    "exp_kernel_inverse_banded",
    "exp_kernel_matrix",
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
    lam = params.lambda_per_share
    hb = exp_kernel_inv_matvec(t, b, params.beta_per_s)
    if pure_alpha:
        return np.asarray(hb / lam, dtype=np.float64)
    if X is None:
        msg = "X is None: give the parent quantity, or pass pure_alpha=True for ν = 0"
        raise ConfigError(msg)
    x = _check_quantity(X)
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
    q_unc = optimal_schedule(t, x, params, alpha, i_now)
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
