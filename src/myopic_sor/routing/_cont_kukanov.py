r"""The Cont-Kukanov order placement model and its solvers (MATH.md §5).

A child of S shares (a buy; a sell is the same problem at the ask) is split into a market order
M and limit orders L_k at the touch of K venues, with Q_k shares queued ahead and a random queue
outflow ξ_k over the router horizon. Limit order k fills ``min(L_k, (ξ_k − Q_k)^+)``; the
shares executed are ``A = M + Σ_k fill_k``, and

.. math::

    v(X, ξ) = (h + f) M − Σ_k (h + r_k)\,\mathrm{fill}_k + λ_u (S − A)^+ + λ_o (A − S)^+
              + θ\,(M + Σ_k L_k + (S − A)^+),

``V(X) = E v(X, ξ)``, minimised over ``0 ≤ M ≤ S, L_k ≥ 0, M + Σ_k L_k ≥ S``.

Solvers
-------
* :func:`solve_closed_form` — one venue, exact, from the CDF of ξ (Cont & Kukanov 2017,
  Prop. 4, extended to the cases where posting more than S pays; derivation in its Notes);
* :func:`solve_sa` — projected stochastic subgradient descent with Polyak-Ruppert averaging
  (their Algorithm 1), the loop a numba kernel, the projection exact;
* :func:`solve_lp` — the sample-average problem as a linear programme (HiGHS): exact when
  ``λ_o ≤ min_k (h + r_k)``, a relaxation otherwise (then ``integer=True`` solves the exact
  mixed-integer programme).

Every expectation over samples uses **common random numbers**: one (N, K) matrix ξ for every
candidate X, so SA and LP answers can be compared on the same objective.

References
----------
R. Cont, A. Kukanov (2017), "Optimal order placement in limit order markets", Quantitative
Finance 17(1), 21-39 (arXiv:1210.1625).
A. Nemirovski, A. Juditsky, G. Lan, A. Shapiro (2009), "Robust stochastic approximation approach
to stochastic programming", SIAM J. Optim. 19(4), 1574-1609 (the constant step D/(G√N) with
iterate averaging that Cont and Kukanov use).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.optimize
import scipy.sparse

from myopic_sor._rng import as_generator
from myopic_sor._typing import Float64Array1D, Float64Array2D, SeedLike
from myopic_sor.exceptions import ConfigError, ConvergenceWarning
from myopic_sor.routing import _kernels, _python
from myopic_sor.routing._base import Allocation, OutflowDistribution, RoutingProblem

__all__ = [
    "ContKukanovRouter",
    "MarketOnlyRouter",
    "PassiveRouter",
    "cost_gradient",
    "cost_samples",
    "critical_probability",
    "draw_outflows",
    "expected_cost",
    "round_to_target",
    "solve_closed_form",
    "solve_lp",
    "solve_sa",
    "underfill_probability",
]

logger = logging.getLogger(__name__)

RouterMethod = Literal["auto", "closed_form", "sa", "lp"]

#: Gauss-Legendre rule of the closed form's expected fills: panels x nodes per integral.
_GL_PANELS = 256
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(4)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _as_x(problem: RoutingProblem, X: Float64Array1D) -> Float64Array1D:
    x = np.ascontiguousarray(X, dtype=np.float64).reshape(-1)
    if x.size != problem.n_venues + 1:
        msg = f"X must hold M and one L_k per venue ({problem.n_venues + 1} numbers), got {x.size}"
        raise ConfigError(msg)
    if not np.all(np.isfinite(x)):
        raise ConfigError(f"X must be finite shares, got {x.tolist()}")
    return x


def _as_xi(problem: RoutingProblem, xi: Float64Array2D) -> Float64Array2D:
    z = np.ascontiguousarray(xi, dtype=np.float64)
    if z.ndim == 1 and problem.n_venues == 1:
        z = z.reshape(-1, 1)
    if z.ndim != 2 or z.shape[1] != problem.n_venues or z.shape[0] == 0:
        msg = (
            f"xi must be an (N, {problem.n_venues}) array of outflow samples (shares), one "
            f"column per venue and N ≥ 1 rows; got shape {z.shape}"
        )
        raise ConfigError(msg)
    if not np.all(np.isfinite(z)):
        raise ConfigError("xi holds non-finite outflow samples; the laws must draw finite shares")
    return z


def _caps(problem: RoutingProblem, xi: Float64Array2D) -> Float64Array2D:
    """``(ξ_nk − Q_k)^+``: the shares order k could fill in sample n, contiguous (N, K)."""
    return np.ascontiguousarray(np.maximum(xi - problem.queues, 0.0))


def _evaluate(
    problem: RoutingProblem, x: Float64Array1D, cap: Float64Array2D
) -> tuple[float, float]:
    """``(V, P(A < S))`` of X on the samples behind ``cap`` (one compiled pass)."""
    return _kernels.evaluate(
        cap,
        np.ascontiguousarray(x, dtype=np.float64),
        problem.rebates,
        problem.size,
        problem.half_spread,
        problem.fee,
        problem.theta,
        problem.lambda_u,
        problem.lambda_o,
    )


def _executed(x: Float64Array1D, cap: Float64Array2D) -> Float64Array1D:
    return np.asarray(x[0] + np.minimum(cap, x[1:]).sum(axis=1), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


def cost_samples(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> Float64Array1D:
    """Return the cost v(X, ξ_n) of the allocation for every sample row (currency).

    Parameters
    ----------
    problem : RoutingProblem
        The child order and the venues.
    X : numpy.ndarray
        ``(M, L_1, ..., L_K)``, shares.
    xi : numpy.ndarray
        Outflow samples, shape (N, K), shares (a 1-D array is accepted when K = 1).

    Returns
    -------
    numpy.ndarray
        Shape (N,), currency.
    """
    x, cap = _as_x(problem, X), _caps(problem, _as_xi(problem, xi))
    fills = np.minimum(cap, x[1:])
    executed = x[0] + fills.sum(axis=1)
    under = np.maximum(problem.size - executed, 0.0)
    over = np.maximum(executed - problem.size, 0.0)
    h = problem.half_spread
    return np.asarray(
        (h + problem.fee) * x[0]
        - fills @ (h + problem.rebates)
        + problem.lambda_u * under
        + problem.lambda_o * over
        + problem.theta * (x.sum() + under),
        dtype=np.float64,
    )


def expected_cost(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> float:
    """Return V(X), the sample mean of v(X, ξ_n) over the rows of ``xi`` (currency).

    Pass the same ``xi`` for every X compared (common random numbers).
    """
    return float(np.mean(cost_samples(problem, X, xi)))


def underfill_probability(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> float:
    """Return the share of samples in which ``A < S`` (part of the child left unexecuted).

    A shortfall under ``1e-9 S`` shares (floating-point noise) does not count.
    """
    x, cap = _as_x(problem, X), _caps(problem, _as_xi(problem, xi))
    return float(np.mean(_executed(x, cap) < problem.size * (1.0 - 1e-9)))


def cost_gradient(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> Float64Array1D:
    """Return the mean over the samples of the subgradient of v at X, shape (K + 1,).

    Notes
    -----
    MATH.md §5, per sample:
    ``∂M = h + f + θ − (λ_u + θ) 1{A<S} + λ_o 1{A>S}``,
    ``∂L_k = θ + 1{ξ_k > Q_k + L_k} [−(h + r_k) − (λ_u + θ) 1{A<S} + λ_o 1{A>S}]``.
    It is the gradient of the sample average wherever no sample sits on a kink
    (``A = S`` or ``ξ_k = Q_k + L_k``); at a kink the indicators take the value 0.
    """
    x, cap = _as_x(problem, X), _caps(problem, _as_xi(problem, xi))
    executed = _executed(x, cap)
    common = np.where(
        executed < problem.size,
        -(problem.lambda_u + problem.theta),
        np.where(executed > problem.size, problem.lambda_o, 0.0),
    )
    h = problem.half_spread
    g = np.empty(problem.n_venues + 1)
    g[0] = h + problem.fee + problem.theta + float(common.mean())
    marginal = cap > x[1:]  # ξ_k > Q_k + L_k: one more limit share would fill
    g[1:] = problem.theta + np.mean(marginal * (common[:, None] - (h + problem.rebates)), axis=0)
    return g


# --------------------------------------------------------------------------------------------
# one venue: the closed form
# --------------------------------------------------------------------------------------------


def critical_probability(problem: RoutingProblem, venue: int = 0) -> float:
    """Return ``p* = (2h + f + r)/(h + r + λ_u + θ)`` of the single-venue closed form.

    Parameters
    ----------
    problem : RoutingProblem
    venue : int, default 0
        The venue whose rebate r is used.

    Returns
    -------
    float
        p* (dimensionless). When ``h + r + λ_u + θ = 0`` the marginal limit share costs the
        same at every fill probability: ``+inf`` if ``2h + f + r > 0`` (post everything),
        ``-inf`` otherwise; when it is negative there is no threshold (NaN: the solver then
        compares the two pure strategies).
    """
    h, r = problem.half_spread, float(problem.rebates[venue])
    a = 2.0 * h + problem.fee + r
    b = h + r + problem.lambda_u + problem.theta
    if b > 0.0:
        return a / b
    if b == 0.0:
        return math.inf if a > 0.0 else -math.inf
    return math.nan


def _lowest_crossing(outflow: OutflowDistribution, q: float, p: float, hi: float) -> float:
    """The smallest x in [0, hi] with F(q + x) ≥ p (hi when there is none)."""
    if p <= 0.0 or outflow.cdf(q) >= p:
        return 0.0
    if p > 1.0 or outflow.cdf(q + hi) < p:
        return hi
    return min(max(outflow.ppf(p) - q, 0.0), hi)


def _fill_integral(outflow: OutflowDistribution, q: float, lo: float, hi: float) -> float:
    """``∫_lo^hi P(ξ > q + x) dx`` = E min(hi, c) − E min(lo, c) for ``c = (ξ − q)^+``."""
    if not hi > lo:
        return 0.0
    edges = np.linspace(lo, hi, _GL_PANELS + 1)
    half = 0.5 * (edges[1] - edges[0])
    nodes = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half * _GL_NODES[None, :]
    surv = np.array([1.0 - outflow.cdf(q + float(v)) for v in nodes.ravel()])
    return float(half * np.sum(surv.reshape(_GL_PANELS, -1) @ _GL_WEIGHTS))


def _closed_form_plan(
    problem: RoutingProblem, outflow: OutflowDistribution
) -> tuple[float, float, str]:
    """``(d, L, case)``: ``d = S − M`` and L of the exact single-venue optimum."""
    s, q = problem.size, float(problem.queues[0])
    h, f, r = problem.half_spread, problem.fee, float(problem.rebates[0])
    th, lu, lo = problem.theta, problem.lambda_u, problem.lambda_o
    a, b = 2.0 * h + f + r, h + r + lu + th
    # 1) on the line M + L = S: W'(d) = -a + b F(Q + d)
    if b > 0.0:
        d_line = _lowest_crossing(outflow, q, a / b, s)
        case = "market" if d_line == 0.0 else ("limit" if d_line == s else "split")
    elif b == 0.0:
        d_line = s if a > 0.0 else 0.0
        case = "limit" if d_line == s else "market"
    else:  # W concave on the line: the better of the two pure strategies
        g_s = _fill_integral(outflow, q, 0.0, s)
        w_gap = (lu + th - h - f) * s - b * g_s  # W(S) - W(0)
        d_line = s if w_gap < 0.0 else 0.0
        case = "limit" if d_line == s else "market"
    # 2) posting beyond S - M pays when (h + r - λ_o) P(ξ > Q + L) > θ
    e = h + r - lo
    if e <= th:
        return d_line, d_line, case
    l_free = outflow.ppf(1.0) - q if th == 0.0 else outflow.ppf(1.0 - th / e) - q
    if not math.isfinite(l_free):
        msg = (
            f"the closed form has no optimum: θ = 0 and λ_o = {lo:g} < h + r = {h + r:g}, so "
            "every extra limit share earns h + r − λ_o > 0 on an unbounded outflow law; set "
            "θ > 0 or λ_o ≥ h + r, or use the SA or LP solver"
        )
        raise ConfigError(msg)
    l_free = max(l_free, 0.0) if outflow.cdf(q) < 1.0 - th / e else 0.0
    c_phi = lu + th + lo
    if c_phi > 0.0:
        d_free = _lowest_crossing(outflow, q, (h + f + th + lo) / c_phi, s)
    else:
        d_free = s if h + f > 0.0 else 0.0
    if l_free > d_free:
        return d_free, l_free, "overpost"
    return d_line, d_line, case


def solve_closed_form(
    problem: RoutingProblem,
    outflow: OutflowDistribution,
    *,
    xi: Float64Array2D | None = None,
) -> Allocation:
    """Return the exact optimum for one venue from the CDF of ξ (Cont & Kukanov 2017, Prop. 4).

    With F the CDF of ξ and ``p* = (2h + f + r)/(h + r + λ_u + θ)``: market only
    (``M = S``) if ``F(Q) ≥ p*``; limit only (``L = S``) if ``F(Q + S) ≤ p*``; otherwise
    ``L* = F⁻¹(p*) − Q`` and ``M* = S − L*``. This covers ``p* ≤ 0`` (market only) and
    ``p* ≥ 1`` (limit only). When posting more than ``S − M`` pays (see Notes) the answer
    places more than S.

    Parameters
    ----------
    problem : RoutingProblem
        One venue.
    outflow : OutflowDistribution
        The law of ξ, with an exact CDF and quantile (``has_cdf``).
    xi : numpy.ndarray, optional
        Outflow samples (N, 1): if given, ``expected_cost`` and ``p_underfill`` are the sample
        values on them (common random numbers with the other solvers); otherwise they are
        computed from the law (see Notes).

    Returns
    -------
    Allocation
        Real-valued shares, ``method="closed_form"``; ``info`` holds p*, the case
        (``market``, ``limit``, ``split`` or ``overpost``) and how the cost was computed.

    Raises
    ------
    ConfigError
        More than one venue, a law without CDF, or no optimum (θ = 0 with λ_o < h + r and an
        unbounded law).

    Notes
    -----
    Write ``d = S − M`` (the shares left to the limit order), ``c = (ξ − Q)^+`` and
    ``G(a) = E min(a, c) = ∫_0^a (1 − F(Q + x)) dx``. On the feasible set ``L ≥ d``, so
    ``(S − A)^+ = (d − c)^+`` and ``(A − S)^+ = min(L, c) − min(d, c)``, and

    ``V = (h + f + θ) S + φ(d) + ψ(L)`` with
    ``φ(d) = (λ_u − h − f) d − (λ_u + λ_o + θ) G(d)`` and ``ψ(L) = θ L − (h + r − λ_o) G(L)``.

    *On the line* ``L = d``: ``W = φ + ψ`` has ``W'(d) = −(2h + f + r) + (h + r + λ_u + θ)
    F(Q + d)``, non-decreasing when ``b = h + r + λ_u + θ > 0``, so the optimum is the smallest
    d with ``F(Q + d) ≥ p*`` clipped to ``[0, S]`` — Prop. 4. (``b = 0``: W is linear, an
    end point; ``b < 0``: W is concave, the better end point, found by integrating F.)

    *Off the line*: ψ is non-decreasing, so ``L = d`` is optimal, whenever
    ``h + r − λ_o ≤ θ``. Otherwise φ and ψ are both convex; their separate minimisers are
    ``d° = F⁻¹((h + f + θ + λ_o)/(λ_u + θ + λ_o)) − Q`` clipped to ``[0, S]`` and
    ``L° = F⁻¹(1 − θ/(h + r − λ_o)) − Q``; if ``L° > d°`` the pair ``(d°, L°)`` is optimal
    (over-posting: the extra limit shares earn more than they cost in overfill and θ), else the
    constraint ``L ≥ d`` binds and the line solution is optimal.

    Without ``xi`` the expected cost is ``(h + f + θ)S + φ(d) + ψ(L)`` with G integrated
    against the CDF by a composite 4-point Gauss-Legendre rule on 256 panels: exact to
    rounding for a smooth CDF; for a step CDF (an empirical law) the error is at most
    ``a/256`` shares of G(a). ``p_underfill = P(ξ < Q + d)``.
    """
    if problem.n_venues != 1:
        raise ConfigError(
            f"the closed form is for one venue; this problem has {problem.n_venues}: "
            "use solve_sa or solve_lp"
        )
    if not outflow.has_cdf:
        raise ConfigError(
            f"{type(outflow).__name__} has no exact CDF (has_cdf is False): use solve_sa or "
            "solve_lp"
        )
    s, q = problem.size, float(problem.queues[0])
    d, lim, case = _closed_form_plan(problem, outflow)
    x = np.array([s - d, lim])
    info: dict[str, Any] = {"p_star": critical_probability(problem), "case": case}
    if xi is not None:
        z = _as_xi(problem, xi)
        cost, p_under = _evaluate(problem, x, _caps(problem, z))
        info["cost_from"] = f"{z.shape[0]} samples"
    else:
        h, f, r = problem.half_spread, problem.fee, float(problem.rebates[0])
        th, lu, lo = problem.theta, problem.lambda_u, problem.lambda_o
        g_d = _fill_integral(outflow, q, 0.0, d)
        g_l = g_d + _fill_integral(outflow, q, d, lim)
        cost = (h + f + th) * s + (lu - h - f) * d - (lu + lo + th) * g_d + th * lim
        cost -= (h + r - lo) * g_l
        p_under = outflow.cdf(float(np.nextafter(q + d, -math.inf))) if d > 0.0 else 0.0
        info["cost_from"] = "the law (Gauss-Legendre on the CDF)"
    return Allocation.from_vector(
        x, problem.venues, expected_cost=cost, p_underfill=p_under, method="closed_form", info=info
    )


# --------------------------------------------------------------------------------------------
# stochastic approximation
# --------------------------------------------------------------------------------------------


def _sa_scales(problem: RoutingProblem, cap: Float64Array2D) -> Float64Array1D:
    """D_i: S for M and for a venue where posting beyond S cannot pay; else the larger of S and
    the (1 − θ/(h + r_k − λ_o)) quantile of ``cap_k``, past which an extra limit share costs
    more than it earns even when it overfills (a step scale: estimated on at most 256 evenly
    spaced rows)."""
    n, k = cap.shape
    scales = np.full(k + 1, problem.size)
    excess = problem.half_spread + problem.rebates - problem.lambda_o
    rows = cap[:: max(1, n // 256)]
    m = rows.shape[0]
    for j in np.flatnonzero(excess > problem.theta):
        level = 1.0 - problem.theta / float(excess[j])
        pos = min(m - 1, math.ceil(level * (m - 1)))
        quant = float(np.partition(rows[:, j], pos)[pos])
        scales[j + 1] = max(problem.size, quant)
    return scales


def _sa_gradient_bounds(problem: RoutingProblem) -> Float64Array1D:
    h, th = problem.half_spread, problem.theta
    pen = max(problem.lambda_u + th, problem.lambda_o)
    g = np.empty(problem.n_venues + 1)
    g[0] = abs(h + problem.fee + th) + pen
    g[1:] = th + np.abs(h + problem.rebates) + pen
    return g


def solve_sa(
    problem: RoutingProblem,
    xi: Float64Array2D,
    *,
    step: float | None = None,
    step_scale: float = 10.0,
    n_passes: int = 10,
    tail_passes: int | None = None,
    x0: Float64Array1D | None = None,
    seed: SeedLike = None,
    use_numba: bool = True,
) -> Allocation:
    """Minimise V by projected stochastic subgradient descent with iterate averaging.

    ``X_{n+1} = Proj(X_n − γ_n ∘ g(X_n, ξ_n))`` over the sample rows (Cont & Kukanov 2017,
    Algorithm 1), the answer the Polyak-Ruppert average of the iterates; the whole loop is the
    numba kernel :func:`myopic_sor.routing._kernels.sa_run`.

    Parameters
    ----------
    problem : RoutingProblem
    xi : numpy.ndarray
        Outflow samples (N, K), shares; each pass visits all rows.
    step : float, optional
        γ of the M coordinate in pass 0 (shares per currency-per-share); default
        ``step_scale · S √(K+1) / (√N · sqrt(Σ_i (D_i/S)² G_i²))`` (see Notes).
    step_scale : float, default 10
        Multiplier of the default step (tuned on random 3-venue problems against the exact LP
        and MILP optima; ``benchmarks/bench_router.py`` prints the sweep).
    n_passes : int, default 10
        Passes over the samples; pass p (from 0) runs with the constant step ``γ/(p + 1)²``.
    tail_passes : int, optional
        How many final passes are averaged (default ``max(1, n_passes // 4)``; with one pass,
        the whole pass, as in Cont & Kukanov).
    x0 : numpy.ndarray, optional
        Start (default ``S/(K+1)`` on every coordinate); projected onto the feasible set.
    seed : int or numpy.random.Generator, optional
        None: every pass visits the rows in order (the rows are already i.i.d. draws). Given:
        each pass after the first visits a fresh shuffle, driven by a 63-bit integer drawn from
        this generator (recorded in ``info["shuffle_seed"]``).
    use_numba : bool, default True
        False runs the plain-Python twin (the parity reference; slow).

    Returns
    -------
    Allocation
        Real-valued shares, ``method="sa"``, with ``expected_cost`` and ``p_underfill`` on the
        same ``xi``; ``info`` holds the steps, scales, passes and iterations.

    Notes
    -----
    Step. Cont & Kukanov use the robust-SA constant step ``γ = D/(G√N)`` of Nemirovski et al.
    (2009) — D the diameter of the feasible region (``S√(K+1)``, every coordinate in
    ``[0, S]``), G a bound on the subgradient norm, here
    ``G_0 = |h + f + θ| + max(λ_u + θ, λ_o)`` and ``G_k = θ + |h + r_k| + max(λ_u + θ, λ_o)``.
    A limit order can exceed S only when ``h + r_k − λ_o > θ`` (an extra share may then earn
    more than it costs); its coordinate scale ``D_k`` is then the sample quantile of
    ``(ξ_k − Q_k)^+`` at ``1 − θ/(h + r_k − λ_o)`` (if above S), else ``D_k = S``. The method
    runs in the coordinates ``X_i / D_i`` with the robust step, i.e.
    ``γ_i = c · D_i² √(K+1) / (√N · sqrt(Σ_j D_j² G_j²))``, and projects in the matching metric
    (exactly; :func:`myopic_sor.routing._kernels.project_feasible`). When every ``D_i = S`` —
    e.g. ``λ_o ≥ h + max_k r_k`` as in the default configuration — this is the Cont-Kukanov
    step ``c S √(K+1)/(G √N)`` with the exact Euclidean projection. Several passes with steps
    falling as ``1/(p + 1)²`` and averaging over the last passes reach the sample-average
    optimum more closely than one pass (V is flat near the optimum; compare V, not X).
    """
    z = _as_xi(problem, xi)
    if n_passes < 1:
        raise ConfigError(f"n_passes must be ≥ 1, got {n_passes}")
    tail = max(1, n_passes // 4) if tail_passes is None else int(tail_passes)
    if not 1 <= tail <= n_passes:
        raise ConfigError(f"tail_passes must be in [1, n_passes={n_passes}], got {tail_passes}")
    if step is not None and not (math.isfinite(step) and step > 0.0):
        raise ConfigError(f"step must be a finite number > 0, got {step!r}")
    if not (math.isfinite(step_scale) and step_scale > 0.0):
        raise ConfigError(f"step_scale must be a finite number > 0, got {step_scale!r}")
    start = None if x0 is None else _as_x(problem, x0)
    shuffle_seed = 0 if seed is None else int(as_generator(seed).integers(1, 2**63 - 1))
    cap = _caps(problem, z)
    x, info = _sa_on_caps(
        problem,
        cap,
        step=step,
        step_scale=step_scale,
        n_passes=int(n_passes),
        tail=tail,
        x0=start,
        shuffle_seed=shuffle_seed,
        use_numba=use_numba,
    )
    cost, p_under = _evaluate(problem, x, cap)
    return Allocation.from_vector(
        x, problem.venues, expected_cost=cost, p_underfill=p_under, method="sa", info=info
    )


def _sa_on_caps(
    problem: RoutingProblem,
    cap: Float64Array2D,
    *,
    step: float | None,
    step_scale: float,
    n_passes: int,
    tail: int,
    x0: Float64Array1D | None,
    shuffle_seed: int,
    use_numba: bool,
) -> tuple[Float64Array1D, dict[str, Any]]:
    """The SA of :func:`solve_sa` on validated inputs: the averaged iterate and the details."""
    n, k = cap.shape
    scales = _sa_scales(problem, cap)
    bounds = _sa_gradient_bounds(problem)
    weight = (scales / problem.size) ** 2
    norm = math.sqrt(float(np.sum(weight * bounds**2)))
    start = np.full(k + 1, problem.size / (k + 1)) if x0 is None else x0
    feasible = np.empty(k + 1)
    _kernels.project_feasible(start, np.ones(k + 1), problem.size, feasible)
    info: dict[str, Any] = {
        "n_passes": n_passes,
        "tail_passes": tail,
        "iterations": n * n_passes,
        "shuffle_seed": shuffle_seed or None,
        "scales": scales.tolist(),
    }
    if norm == 0.0:  # h + f + θ = h + r_k = λ = 0: v ≡ 0, every feasible point is optimal
        info["steps"] = [0.0] * (k + 1)
        return feasible, info
    gamma = (
        step
        if step is not None
        else step_scale * problem.size * math.sqrt(k + 1) / (math.sqrt(n) * norm)
    )
    steps = np.ascontiguousarray(gamma * weight)
    x = np.empty(k + 1)
    run = _kernels.sa_run if use_numba else _python.sa_run
    run(
        cap,
        problem.rebates,
        problem.size,
        problem.half_spread,
        problem.fee,
        problem.theta,
        problem.lambda_u,
        problem.lambda_o,
        feasible,
        steps,
        n_passes,
        tail,
        shuffle_seed,
        x,
    )
    info["steps"] = steps.tolist()
    return x, info


# --------------------------------------------------------------------------------------------
# the sample-average problem as a linear (or mixed-integer) programme
# --------------------------------------------------------------------------------------------


def _lp_matrices(
    problem: RoutingProblem, cap: Float64Array2D, integer: bool
) -> tuple[
    Float64Array1D, Any, Float64Array1D, Float64Array1D, Float64Array1D, Float64Array1D, int
]:
    """Objective, constraint matrix and bounds of the sample-average programme.

    Variables: ``M``, ``L_k``, the fills ``y_nk`` (sample-major), the shortfalls ``u_n`` and
    overfills ``o_n``, then one binary ``z`` per (n, k) that needs one (``integer`` only).
    """
    n, k = cap.shape
    s, h, th = problem.size, problem.half_spread, problem.theta
    ny = n * k
    iy, iu, io = 1 + k, 1 + k + ny, 1 + k + ny + n
    cap_flat = cap.reshape(-1)
    venue = np.tile(np.arange(k), n)
    sample = np.repeat(np.arange(n), k)
    # venues where the overfill penalty exceeds the fill's value: min(L, c) must be exact
    strict = (problem.lambda_o > h + problem.rebates) & integer
    l_max = np.where(strict, s, np.maximum(cap.max(axis=0), s))
    need_z = strict[venue] & (cap_flat > 0.0) & (cap_flat < l_max[venue])
    force = strict[venue] & (cap_flat >= l_max[venue])  # y = L: the order fills completely
    iz = np.flatnonzero(need_z)
    nz = iz.size
    n_var = io + n + nz
    c = np.zeros(n_var)
    c[0] = h + problem.fee + th
    c[1:iy] = th
    c[iy:iu] = -(h + problem.rebates)[venue] / n
    c[iu:io] = (problem.lambda_u + th) / n
    c[io : io + n] = problem.lambda_o / n
    rows: list[Float64Array1D] = []
    cols: list[Float64Array1D] = []
    vals: list[Float64Array1D] = []
    lo_parts: list[Float64Array1D] = []
    hi_parts: list[Float64Array1D] = []
    row0 = 0

    def add(r: Any, col: Any, v: Any, *, lo: Any, hi: Any, n_rows: int) -> None:
        nonlocal row0
        rows.append(np.asarray(r, dtype=np.float64) + row0)
        cols.append(np.asarray(col, dtype=np.float64))
        vals.append(np.asarray(v, dtype=np.float64))
        lo_parts.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), n_rows))
        hi_parts.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), n_rows))
        row0 += n_rows

    # y_nk - L_k <= 0 (only where the order can fill: elsewhere y is fixed at 0 by its bound)
    live = np.flatnonzero(cap_flat > 0.0)
    m = live.size
    add(
        np.r_[np.arange(m), np.arange(m)],
        np.r_[iy + live, 1 + venue[live]],
        np.r_[np.ones(m), -np.ones(m)],
        lo=-np.inf,
        hi=0.0,
        n_rows=m,
    )
    # M + Σ_k y_nk + u_n - o_n = S
    add(
        np.r_[np.arange(n), sample, np.arange(n), np.arange(n)],
        np.r_[np.zeros(n), iy + np.arange(ny), iu + np.arange(n), io + np.arange(n)],
        np.r_[np.ones(n), np.ones(ny), np.ones(n), -np.ones(n)],
        lo=s,
        hi=s,
        n_rows=n,
    )
    # M + Σ_k L_k >= S
    add(np.zeros(k + 1), np.arange(k + 1), np.ones(k + 1), lo=s, hi=np.inf, n_rows=1)
    if integer:
        fl = np.flatnonzero(force)
        add(
            np.r_[np.arange(fl.size), np.arange(fl.size)],
            np.r_[iy + fl, 1 + venue[fl]],
            np.r_[np.ones(fl.size), -np.ones(fl.size)],
            lo=0.0,
            hi=np.inf,
            n_rows=fl.size,
        )
        # z = 0 -> y >= L ; z = 1 -> y >= c  (with y <= L, y <= c: y = min(L, c))
        big = l_max[venue[iz]] - cap_flat[iz]
        add(
            np.r_[np.arange(nz), np.arange(nz), np.arange(nz)],
            np.r_[iy + iz, 1 + venue[iz], io + n + np.arange(nz)],
            np.r_[np.ones(nz), -np.ones(nz), big],
            lo=0.0,
            hi=np.inf,
            n_rows=nz,
        )
        add(
            np.r_[np.arange(nz), np.arange(nz)],
            np.r_[iy + iz, io + n + np.arange(nz)],
            np.r_[np.ones(nz), -cap_flat[iz]],
            lo=0.0,
            hi=np.inf,
            n_rows=nz,
        )
    a = scipy.sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row0, n_var),
    )
    lb = np.zeros(n_var)
    ub = np.full(n_var, np.inf)
    ub[0] = s
    ub[1:iy] = l_max
    ub[iy:iu] = cap_flat
    ub[io + n :] = 1.0
    return c, a, np.concatenate(lo_parts), np.concatenate(hi_parts), lb, ub, nz


def solve_lp(
    problem: RoutingProblem,
    xi: Float64Array2D,
    *,
    integer: bool = False,
    time_limit_s: float = 60.0,
) -> Allocation:
    """Minimise the sample mean of v(X, ξ_n) as a linear programme (HiGHS).

    Variables ``M``, ``L_k``, the fills ``y_nk``, shortfalls ``u_n`` and overfills ``o_n``:

    minimise ``(h + f + θ) M + θ Σ L_k + (1/N) Σ_n [−Σ_k (h + r_k) y_nk + (λ_u + θ) u_n
    + λ_o o_n]`` subject to ``0 ≤ y_nk ≤ (ξ_nk − Q_k)^+``, ``y_nk ≤ L_k``,
    ``M + Σ_k y_nk + u_n − o_n = S``, ``u, o ≥ 0``, ``M + Σ_k L_k ≥ S``, ``0 ≤ M ≤ S`` and
    ``L_k ≤ max(S, max_n (ξ_nk − Q_k)^+)`` (no loss: shares beyond both never fill and are not
    needed for feasibility).

    Parameters
    ----------
    problem : RoutingProblem
    xi : numpy.ndarray
        Outflow samples (N, K), shares.
    integer : bool, default False
        Make ``y_nk = min(L_k, (ξ_nk − Q_k)^+)`` exact with one binary per (n, k) that needs
        it, on the venues with ``λ_o > h + r_k`` only (``scipy.optimize.milp``; exact but can
        take seconds for N = 1000).
    time_limit_s : float, default 60
        HiGHS time limit (seconds).

    Returns
    -------
    Allocation
        Real-valued shares, ``method="lp"``; ``expected_cost`` is the true sample mean of v at
        the answer; ``info["lower_bound"]`` the programme's optimal value, ``info["exact"]``
        whether the two agree (the answer is then the sample-average optimum).

    Warns
    -----
    ConvergenceWarning
        The LP was a relaxation that did not close (see Notes), or HiGHS stopped at the time
        limit.

    Notes
    -----
    The LP is exact when ``λ_o ≤ min_k (h + r_k)``: every y then has a non-positive net
    objective coefficient whatever the state, so it sits on ``min(L_k, (ξ − Q)^+)``, and each
    sample cost is convex piecewise-linear in X. With a larger overfill penalty the sample
    cost is not convex (a fill ``min(L, c)`` inside the increasing ``λ_o (A − S)^+``) and the
    LP may declare fills smaller than they would be, to dodge the penalty: its value is then
    a lower bound, its answer possibly poor. ``integer=True`` closes that gap exactly.
    """
    z = _as_xi(problem, xi)
    cap = _caps(problem, z)
    k = cap.shape[1]
    c, a, lo, hi, lb, ub, nz = _lp_matrices(problem, cap, integer)
    if integer:
        integrality = np.zeros(c.size)
        integrality[c.size - nz :] = 1
        res = scipy.optimize.milp(
            c,
            constraints=scipy.optimize.LinearConstraint(a, lo, hi),
            bounds=scipy.optimize.Bounds(lb, ub),
            integrality=integrality,
            options={"time_limit": float(time_limit_s)},
        )
        ok = res.status in (0, 1) and res.x is not None
    else:
        eq = lo == hi
        a_ub = scipy.sparse.vstack([a[~eq & np.isfinite(hi)], -a[~eq & np.isfinite(lo)]])
        b_ub = np.r_[hi[~eq & np.isfinite(hi)], -lo[~eq & np.isfinite(lo)]]
        res = scipy.optimize.linprog(
            c,
            A_ub=a_ub.tocsr(),
            b_ub=b_ub,
            A_eq=a[eq],
            b_eq=hi[eq],
            bounds=np.column_stack([lb, ub]),
            method="highs",
            options={"time_limit": float(time_limit_s)},
        )
        ok = res.status == 0
    if not ok:
        msg = f"solve_lp: HiGHS did not solve the sample-average programme ({res.message})"
        raise ConfigError(msg)
    x = np.asarray(res.x[: 1 + k], dtype=np.float64).copy()
    x = np.maximum(x, 0.0)
    x[0] = min(x[0], problem.size)
    value, p_under = _evaluate(problem, x, cap)
    bound = float(res.fun)
    scale = max(1.0, abs(value), problem.size * abs(problem.half_spread + problem.fee))
    exact = value - bound <= 1e-7 * scale
    info: dict[str, Any] = {
        "formulation": "milp" if integer else "lp",
        "lower_bound": bound,
        "exact": bool(exact),
        "n_binaries": int(nz),
        "solver_status": int(res.status),
    }
    if integer and res.status == 1:
        warnings.warn(
            f"solve_lp: the MILP hit the {time_limit_s:g} s time limit; its answer (V = "
            f"{value:.6g}) is feasible but not proven optimal",
            ConvergenceWarning,
            stacklevel=2,
        )
    elif not exact:
        strict = [
            v
            for v, hr in zip(problem.venues, problem.half_spread + problem.rebates, strict=True)
            if problem.lambda_o > hr
        ]
        warnings.warn(
            f"solve_lp: λ_o = {problem.lambda_o:g} exceeds h + r_k on {strict}, so the LP is "
            f"a relaxation: its value {bound:.6g} is a lower bound and its answer costs "
            f"{value:.6g} on the samples; pass integer=True for the exact optimum",
            ConvergenceWarning,
            stacklevel=2,
        )
    return Allocation.from_vector(
        x, problem.venues, expected_cost=value, p_underfill=p_under, method="lp", info=info
    )


# --------------------------------------------------------------------------------------------
# whole shares
# --------------------------------------------------------------------------------------------


def round_to_target(X: Float64Array1D, S: float) -> Float64Array1D:
    """Round ``(M, L_1..L_K)`` to whole shares, keeping the total consistent with S.

    Rule: the rounded total is ``T = max(S, round(Σ X))`` — exactly S when the plan places S
    (up to floating-point noise), the nearest whole number ≥ S when it places more. Every
    coordinate starts at its floor and the ``T − Σ floor`` missing shares go one each to the
    largest fractional parts (largest remainder; ties to the lower index, so M first). So each
    share count moves by less than one share, none is negative, and ``M ≤ S``.

    Parameters
    ----------
    X : numpy.ndarray
        Real-valued ``(M, L_1..L_K)``, shares, with ``0 ≤ M ≤ S``, ``L_k ≥ 0`` and
        ``Σ X ≥ S`` up to 1e-6 S (a solver's answer).
    S : float
        The child size, whole shares (≥ 1).

    Returns
    -------
    numpy.ndarray
        Whole shares (float64 holding integers).

    Raises
    ------
    ConfigError
        S not a whole number ≥ 1, or X not feasible.
    """
    s = float(S)
    if not (math.isfinite(s) and s >= 1.0 and s == round(s)):
        raise ConfigError(
            f"round_to_target needs S a whole number of shares ≥ 1, got {S!r}; round the child "
            "size or route with round_shares=False"
        )
    x = np.asarray(X, dtype=np.float64).reshape(-1)
    tol = 1e-6 * s
    if (
        not np.all(np.isfinite(x))
        or np.any(x < -tol)
        or x[0] > s + tol
        or x.sum() < s - tol * x.size
    ):
        raise ConfigError(
            f"round_to_target needs a feasible plan (0 ≤ M ≤ S, L_k ≥ 0, Σ ≥ S = {s:g}), got "
            f"{x.tolist()}"
        )
    x = np.clip(x, 0.0, None)
    x[0] = min(x[0], s)
    short = s - float(x.sum())
    if short > 0.0:  # solver tolerance: put the missing sliver on M, else the largest L
        if x[0] + short <= s:
            x[0] += short
        else:
            x[1 + int(np.argmax(x[1:]))] += short
    target = max(s, float(round(float(x.sum()))))
    base = np.floor(x)
    frac = x - base
    missing = round(target - float(base.sum()))
    if missing > 0:
        order = np.argsort(-frac, kind="stable")
        base[order[:missing]] += 1.0
    return base


# --------------------------------------------------------------------------------------------
# routers
# --------------------------------------------------------------------------------------------


def draw_outflows(
    outflows: Sequence[OutflowDistribution], n: int, rng: np.random.Generator
) -> Float64Array2D:
    """Draw the (n, K) outflow matrix: column k from venue k's law, venues one after the other.

    Raises
    ------
    ConfigError
        A law returned the wrong number of draws, or negative or non-finite shares.
    """
    out = np.empty((n, len(outflows)))
    for k, law in enumerate(outflows):
        col = np.asarray(law.sample(n, rng), dtype=np.float64).reshape(-1)
        if col.size != n:
            raise ConfigError(
                f"outflow law {k} ({type(law).__name__}) drew {col.size} values, not {n}"
            )
        out[:, k] = col
    if out.size and not (np.isfinite(out).all() and out.min() >= 0.0):
        bad = int(np.flatnonzero(~(np.isfinite(out) & (out >= 0.0)).all(axis=0))[0])
        raise ConfigError(
            f"outflow law {bad} ({type(outflows[bad]).__name__}) drew negative or non-finite "
            "shares; an outflow is a number of shares ≥ 0"
        )
    return out


def _base_info(problem: RoutingProblem, xi: Float64Array2D | None) -> dict[str, Any]:
    info: dict[str, Any] = {"half_spread": problem.half_spread, "fee": problem.fee}
    if xi is not None:
        info["n_samples"] = int(xi.shape[0])
        info["xi_mean"] = (np.ones(xi.shape[0]) @ xi / xi.shape[0]).tolist()
    return info


def _market_allocation(problem: RoutingProblem, info: dict[str, Any]) -> Allocation:
    """Everything at market: ``V = (h + f + θ) S`` exactly, no underfill."""
    return Allocation(
        market=problem.size,
        limit=(0.0,) * problem.n_venues,
        expected_cost=(problem.half_spread + problem.fee + problem.theta) * problem.size,
        p_underfill=0.0,
        method="market",
        venues=problem.venues,
        info=info,
    )


@dataclass(frozen=True, slots=True)
class ContKukanovRouter:
    """The Cont-Kukanov router (implements :class:`~myopic_sor.routing.Router`).

    Parameters
    ----------
    n_samples : int, default 1000
        N, outflow samples per decision (the configuration's ``strategy.N``).
    method : {"auto", "closed_form", "sa", "lp"}, default "auto"
        ``auto``: the closed form for one venue whose law has a CDF, else SA.
    n_passes : int, default 10
        SA passes over the samples (:func:`solve_sa`).
    step_scale : float, default 10
        SA step multiplier (:func:`solve_sa`).
    shuffle : bool, default False
        Shuffle the samples between SA passes (seed drawn from the router's generator).
    round_shares : bool, default True
        Round the answer to whole shares (:func:`round_to_target`).
    market_guard : bool, default True
        For the SA and LP answers: keep the market-only allocation instead when it costs less
        on the same samples (its cost ``(h + f + θ) S`` is exact). An exact LP can trigger it
        only through rounding; it catches a stochastic approximation stuck far from the
        optimum (its single step size is set by the largest penalty, so with a huge λ_u the
        small gradients move it slowly), the residue of averaging at the market-only corner,
        and an LP relaxation's poor answer. The closed form is exact under the law (its
        sample cost is only an estimate) and is never overridden.
    keep_samples : bool, default False
        Put the (N, K) outflow matrix in ``info["xi"]`` (for diagnostics; memory grows with
        the number of decisions kept).

    Notes
    -----
    The samples are drawn once per decision (common random numbers) and every reported number
    is computed on them: ``expected_cost`` and ``p_underfill`` are those of the returned
    (rounded) allocation; ``info`` holds the solver's real-valued answer (``unrounded``), its
    cost on the same samples, the solver details and the mean outflow per venue. A child under
    one share cannot be split: it goes whole as a market order (``method="market"``,
    ``info["reason"]``), unrounded.

    Examples
    --------
    >>> import numpy as np
    >>> from myopic_sor.routing import ContKukanovRouter, ExponentialOutflow, RoutingProblem
    >>> p = RoutingProblem(size=500, half_spread=0.01, fee=0.003, rebates=[0.002, 0.003],
    ...                    queues=[800, 2000])
    >>> laws = [ExponentialOutflow(1500.0), ExponentialOutflow(3000.0)]
    >>> a = ContKukanovRouter(n_samples=500).route(p, laws, np.random.default_rng(0))
    >>> a.total >= 500 and a.market == round(a.market)
    True
    """

    n_samples: int = 1000
    method: RouterMethod = "auto"
    n_passes: int = 10
    step_scale: float = 10.0
    shuffle: bool = False
    round_shares: bool = True
    market_guard: bool = True
    keep_samples: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.n_samples, bool) or int(self.n_samples) != self.n_samples:
            raise ConfigError(f"n_samples must be a whole number ≥ 1, got {self.n_samples!r}")
        if self.n_samples < 1:
            raise ConfigError(f"n_samples must be ≥ 1, got {self.n_samples}")
        if self.method not in ("auto", "closed_form", "sa", "lp"):
            raise ConfigError(f"method={self.method!r}: use auto, closed_form, sa or lp")
        if self.n_passes < 1:
            raise ConfigError(f"n_passes must be ≥ 1, got {self.n_passes}")

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
        *,
        xi: Float64Array2D | None = None,
    ) -> Allocation:
        """Split ``problem.size`` into a market order and one limit order per venue.

        Parameters
        ----------
        problem : RoutingProblem
        outflows : sequence of OutflowDistribution
            One law per venue (may be empty when ``xi`` is given and the method is not the
            closed form).
        rng : numpy.random.Generator
            The only source of randomness (samples, shuffle seed).
        xi : numpy.ndarray, optional
            Pre-drawn (N, K) outflows, e.g. from a joint law; replaces the draws.

        Raises
        ------
        ConfigError
            Laws and venues do not match, the closed form is asked without a CDF law, or the
            size is fractional above one share with ``round_shares``.
        """
        if xi is None and len(outflows) != problem.n_venues:
            msg = (
                f"{len(outflows)} outflow laws for {problem.n_venues} venues; give one law "
                "per venue (or pre-drawn samples xi)"
            )
            raise ConfigError(msg)
        if problem.size < 1.0:
            info = {
                **_base_info(problem, None),
                "reason": f"size {problem.size:g} is under one share: sent whole at market",
            }
            return _market_allocation(problem, info)
        samples = draw_outflows(outflows, self.n_samples, rng) if xi is None else xi
        samples = _as_xi(problem, samples)
        cap = _caps(problem, samples)
        method = self.method
        if method == "auto":
            closed = problem.n_venues == 1 and len(outflows) == 1 and outflows[0].has_cdf
            method = "closed_form" if closed else "sa"
        if method == "closed_form":
            if len(outflows) != 1:
                raise ConfigError("method='closed_form' needs exactly one outflow law")
            sol = solve_closed_form(problem, outflows[0], xi=samples)
        elif method == "lp":
            sol = solve_lp(problem, samples)
        else:
            x_sa, sa_info = _sa_on_caps(
                problem,
                cap,
                step=None,
                step_scale=self.step_scale,
                n_passes=self.n_passes,
                tail=max(1, self.n_passes // 4),
                x0=None,
                shuffle_seed=int(rng.integers(1, 2**63 - 1)) if self.shuffle else 0,
                use_numba=True,
            )
            sa_cost, sa_under = _evaluate(problem, x_sa, cap)
            sol = Allocation(
                float(x_sa[0]), tuple(x_sa[1:].tolist()), sa_cost, sa_under, "sa", (), sa_info
            )
        x_real = np.array([sol.market, *sol.limit])
        info = {
            **_base_info(problem, samples),
            **sol.info,
            "unrounded": x_real.tolist(),
            "unrounded_cost": sol.expected_cost,
        }
        if self.keep_samples:
            info["xi"] = samples
        x = round_to_target(x_real, problem.size) if self.round_shares else x_real
        cost, p_under = _evaluate(problem, x, cap)
        market_cost = (problem.half_spread + problem.fee + problem.theta) * problem.size
        guard = self.market_guard and method != "closed_form"
        if guard and market_cost < cost - 1e-12 * max(1.0, abs(cost)):
            info["market_guard"] = (
                f"market only costs {market_cost:.6g} < {cost:.6g} for the {method} answer on "
                "the same samples"
            )
            return Allocation(
                market=problem.size,
                limit=(0.0,) * problem.n_venues,
                expected_cost=market_cost,
                p_underfill=0.0,
                method=method,
                venues=problem.venues,
                info=info,
            )
        return Allocation.from_vector(
            x, problem.venues, expected_cost=cost, p_underfill=p_under, method=method, info=info
        )


@dataclass(frozen=True, slots=True)
class MarketOnlyRouter:
    """Everything as one market order: the ablation without limit orders.

    ``expected_cost = (h + f + θ) S`` exactly, no samples drawn, ``p_underfill = 0``.
    """

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
        *,
        xi: Float64Array2D | None = None,
    ) -> Allocation:
        """Return ``M = S``, no limit orders."""
        return _market_allocation(problem, _base_info(problem, None))


@dataclass(frozen=True, slots=True)
class PassiveRouter:
    """Everything as one limit order on one venue, no market order: the passive ablation.

    The unfilled remainder at the router horizon is the caller's catch-up (MATH.md §7).

    Parameters
    ----------
    n_samples : int, default 1000
        Outflow samples used to score the venues.

    Notes
    -----
    Venue rule: maximise ``score_k = (h + r_k + λ_u + θ) · φ_k`` with
    ``φ_k = E min(S, (ξ_k − Q_k)^+) / S`` the expected filled fraction behind the queue (on the
    samples). The first factor rewards the rebate, the second penalises a long queue ahead;
    the rule is exactly the venue minimising the model cost V of ``L_k = S``
    (``V = (λ_u + 2θ) S − (h + r_k + λ_u + θ) E min(S, (ξ_k − Q_k)^+)``). Ties go to the
    higher rebate, then the lower index.
    """

    n_samples: int = 1000

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
        *,
        xi: Float64Array2D | None = None,
    ) -> Allocation:
        """Return ``L_k = S`` on the best-scoring venue, ``M = 0``."""
        if xi is None and len(outflows) != problem.n_venues:
            msg = f"{len(outflows)} outflow laws for {problem.n_venues} venues; give one each"
            raise ConfigError(msg)
        samples = _as_xi(
            problem, draw_outflows(outflows, self.n_samples, rng) if xi is None else xi
        )
        s = problem.size
        cap = _caps(problem, samples)
        fill = np.minimum(cap, s).mean(axis=0) / s
        score = (problem.half_spread + problem.rebates + problem.lambda_u + problem.theta) * fill
        best = int(np.lexsort((np.arange(problem.n_venues), -problem.rebates, -score))[0])
        x = np.zeros(problem.n_venues + 1)
        x[best + 1] = s
        info = {
            **_base_info(problem, samples),
            "venue": problem.venues[best],
            "scores": [float(v) for v in score],
        }
        cost, p_under = _evaluate(problem, x, cap)
        return Allocation(
            market=0.0,
            limit=tuple(float(v) for v in x[1:]),
            expected_cost=cost,
            p_underfill=p_under,
            method="passive",
            venues=problem.venues,
            info=info,
        )
