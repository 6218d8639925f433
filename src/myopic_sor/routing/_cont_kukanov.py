r"""The Cont-Kukanov order placement model and its solvers (MATH.md §5).

A child of S shares (a buy; a sell is the mirror image) is split into a market order M and limit
orders L_k at the touch of K venues, queue ahead Q_k, random queue outflow ξ_k over the router
horizon. Limit order k fills ``min(L_k, (ξ_k − Q_k)^+)``; ``A = M + Σ_k fill_k`` executes.

.. math::

    v(X, ξ) = (h + f) M − Σ_k (h + r_k)\,\mathrm{fill}_k + λ_u (S − A)^+ + λ_o (A − S)^+
              + θ\,(M + Σ_k L_k + (S − A)^+),

and V(X) = E v(X, ξ) is convex on the feasible set ``0 ≤ M ≤ S, L_k ≥ 0, M + Σ L_k ≥ S``.

Solvers: the exact single-venue closed form (Cont & Kukanov 2017, Prop. 4), projected
stochastic approximation with iterate averaging (their Algorithm 1, the projection exact), and
the sample-average problem solved exactly as a linear programme — so SA and LP can check each
other on the same samples. All expectations use **common random numbers**: one ξ matrix
(N, K) for every candidate X.

References
----------
R. Cont, A. Kukanov (2017), "Optimal order placement in limit order markets", Quantitative
Finance 17(1), 21-39.
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

from myopic_sor._typing import Float64Array1D, Float64Array2D
from myopic_sor.exceptions import ConfigError, ConvergenceWarning
from myopic_sor.routing import _ck_kernels, _ck_python
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


def _check_x(problem: RoutingProblem, x: Float64Array1D) -> Float64Array1D:
    arr = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    if arr.shape[0] != problem.n_venues + 1:
        msg = f"X must hold M and one L per venue ({problem.n_venues + 1} numbers), got {arr.size}"
        raise ConfigError(msg)
    return arr


def _check_xi(problem: RoutingProblem, xi: Float64Array2D) -> Float64Array2D:
    arr = np.ascontiguousarray(xi, dtype=np.float64)
    if arr.ndim == 1 and problem.n_venues == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != problem.n_venues or arr.shape[0] == 0:
        msg = f"xi must be an (N, {problem.n_venues}) array of outflow samples, got {arr.shape}"
        raise ConfigError(msg)
    return arr


def _fills(problem: RoutingProblem, x: Float64Array1D, xi: Float64Array2D) -> Float64Array2D:
    avail = np.maximum(xi - problem.queues, 0.0)
    return np.minimum(avail, x[1:])


def cost_samples(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> Float64Array1D:
    """Return v(X, ξ_n) for every sample row of ``xi`` (currency).

    Parameters
    ----------
    problem : RoutingProblem
    X : numpy.ndarray
        ``(M, L_1, ..., L_K)``, shares.
    xi : numpy.ndarray
        Outflow samples, shape (N, K), shares.
    """
    x, z = _check_x(problem, X), _check_xi(problem, xi)
    fills = _fills(problem, x, z)
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
    """Return the sample mean of v(X, ξ) (currency): V(X) on common random numbers."""
    return float(np.mean(cost_samples(problem, X, xi)))


def underfill_probability(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> float:
    """Return the share of samples with A < S (shares executed short of the child)."""
    x, z = _check_x(problem, X), _check_xi(problem, xi)
    executed = x[0] + _fills(problem, x, z).sum(axis=1)
    return float(np.mean(executed < problem.size - 1e-9))


def cost_gradient(problem: RoutingProblem, X: Float64Array1D, xi: Float64Array2D) -> Float64Array1D:
    """Return the mean subgradient of v over the samples, shape (K + 1,) (MATH.md §5)."""
    x, z = _check_x(problem, X), _check_xi(problem, xi)
    fills = _fills(problem, x, z)
    executed = x[0] + fills.sum(axis=1)
    under = (executed < problem.size).astype(np.float64)
    over = (executed > problem.size).astype(np.float64)
    common = -(problem.lambda_u + problem.theta) * under + problem.lambda_o * over
    h = problem.half_spread
    g = np.empty(problem.n_venues + 1)
    g[0] = h + problem.fee + problem.theta + float(common.mean())
    above = z > problem.queues + x[1:]  # the order is not yet fully filled at the margin
    g[1:] = problem.theta + np.mean(above * (-(h + problem.rebates) + common[:, None]), axis=0)
    return g


def critical_probability(problem: RoutingProblem) -> float:
    """``p* = (2h + f + r)/(h + r + λ_u + θ)`` of the single-venue closed form."""
    h, r = problem.half_spread, float(problem.rebates[0])
    den = h + r + problem.lambda_u + problem.theta
    return (2.0 * h + problem.fee + r) / den if den > 0 else math.inf


def solve_closed_form(problem: RoutingProblem, outflow: OutflowDistribution) -> Float64Array1D:
    """The exact optimum for one venue (Cont & Kukanov 2017, Prop. 4).

    With F the CDF of ξ and ``p* = (2h + f + r)/(h + r + λ_u + θ)``: market only
    (``M = S``) if ``F(Q) ≥ p*``; limit only (``L = S``) if ``F(Q + S) ≤ p*``; otherwise
    ``L* = F⁻¹(p*) − Q`` and ``M* = S − L*``.

    Returns
    -------
    numpy.ndarray
        ``(M*, L*)``, real-valued shares.

    Notes
    -----
    The optimum places exactly S (``M + L = S``) and trades the marginal share: as a market
    share it costs ``h + f + θ`` for sure; as the L-th limit share it costs θ placed, earns
    ``h + r`` when filled (ξ > Q + L, probability ``1 − F(Q + L)``) and costs ``λ_u + θ``
    when not. The limit share is cheaper while
    ``θ − (h + r)(1 − F(Q + L)) + (λ_u + θ) F(Q + L) < h + f + θ``, i.e. while
    ``F(Q + L) < p*``; hence ``L* = F⁻¹(p*) − Q`` clipped to ``[0, S]``.
    """
    if problem.n_venues != 1:
        raise ConfigError(f"the closed form is for one venue; this problem has {problem.n_venues}")
    if not outflow.has_cdf:
        raise ConfigError(f"{type(outflow).__name__} has no CDF: use the SA or LP solver")
    s, q = problem.size, float(problem.queues[0])
    p_star = critical_probability(problem)
    if outflow.cdf(q) >= p_star:
        return np.array([s, 0.0])
    if outflow.cdf(q + s) <= p_star:
        return np.array([0.0, s])
    lim = min(max(outflow.ppf(p_star) - q, 0.0), s)
    return np.array([s - lim, lim])


def _sa_step(problem: RoutingProblem, n_iter: int) -> float:
    """Constant step of projected SGD: D / (G √n) with D the feasible diameter that matters
    (about S per coordinate) and G a bound on the subgradient norm."""
    h, k = problem.half_spread, problem.n_venues
    pen = problem.lambda_u + problem.lambda_o + problem.theta
    g_m = abs(h + problem.fee) + problem.theta + pen
    g_l = problem.theta + float(np.max(np.abs(h + problem.rebates))) + pen
    g = math.sqrt(g_m**2 + k * g_l**2)
    return problem.size * math.sqrt(k + 1) / (g * math.sqrt(max(n_iter, 1)))


def solve_sa(
    problem: RoutingProblem,
    xi: Float64Array2D,
    *,
    n_passes: int = 1,
    step: float | None = None,
    step_scale: float = 3.0,
    x0: Float64Array1D | None = None,
    use_numba: bool = True,
) -> Float64Array1D:
    """Projected stochastic subgradient descent with iterate averaging (Cont & Kukanov Alg. 1).

    Parameters
    ----------
    problem : RoutingProblem
    xi : numpy.ndarray
        Outflow samples (N, K); each pass visits them in order.
    n_passes : int, default 1
        Passes over the samples. Pass p (from 0) runs with the constant step ``γ/(p+1)``
        from the previous pass's averaged iterate; the answer is the last pass's average.
    step : float, optional
        γ (default ``step_scale · S √(K+1) / (G √N)``, G a bound on the subgradient norm).
    step_scale : float, default 3
        Multiplier of the default step. 3 did best on one venue (0.3-100 tried); with three
        venues and many passes 10 converges faster (``benchmarks/bench_router.py`` prints
        both).
    x0 : numpy.ndarray, optional
        Start (default: ``S/(K+1)`` on every coordinate, feasible).
    use_numba : bool, default True
        False runs the plain-Python twin (the parity reference).

    Returns
    -------
    numpy.ndarray
        The averaged iterate ``(M, L_1..L_K)``, feasible, real-valued shares.
    """
    z = _check_xi(problem, xi)
    if n_passes < 1:
        raise ConfigError(f"n_passes must be >= 1, got {n_passes}")
    k = problem.n_venues
    start = np.full(k + 1, problem.size / (k + 1)) if x0 is None else _check_x(problem, x0).copy()
    gamma = step_scale * _sa_step(problem, z.shape[0]) if step is None else float(step)
    out = np.empty(k + 1)
    run = _ck_kernels.sa_run if use_numba else _ck_python.sa_run
    queues = np.ascontiguousarray(problem.queues)
    rebates = np.ascontiguousarray(problem.rebates)
    for p in range(int(n_passes)):
        # pass p: constant step γ/(p+1), started from the previous pass's average
        run(
            z,
            queues,
            rebates,
            problem.size,
            problem.half_spread,
            problem.fee,
            problem.theta,
            problem.lambda_u,
            problem.lambda_o,
            start,
            gamma / (p + 1),
            1,
            out,
        )
        start = out.copy()
    return out


def solve_lp(problem: RoutingProblem, xi: Float64Array2D) -> Float64Array1D:
    """Minimise the sample mean of v(X, ξ_n) exactly, as a linear programme (HiGHS).

    Variables: M, L_k, the fills ``y_nk``, the under- and overfills ``u_n``, ``o_n``.
    ``y_nk ≤ L_k`` and ``0 ≤ y_nk ≤ (ξ_nk − Q_k)^+``; ``u_n ≥ S − M − Σ_k y_nk``;
    ``o_n ≥ M + Σ_k y_nk − S``; ``M + Σ L_k ≥ S``; ``0 ≤ M ≤ S``.

    **Exact when** ``λ_o ≤ min_k (h + r_k)``: each sample's cost is then convex
    piecewise-linear in X and the objective pushes every auxiliary variable onto its defining
    bound (``y = min(L, (ξ − Q)^+)``), so the LP optimum is the sample-average optimum. With a
    larger overfill penalty the per-sample cost is **not** convex (the fill ``min(L, c)`` is
    concave inside the increasing ``λ_o (A − S)^+``: past ``L = c`` an extra limit share stops
    adding overfill), the LP may under-fill on purpose to dodge the penalty and becomes a
    relaxation: its value is then a lower bound on the sample-average optimum, and a
    :class:`~myopic_sor.exceptions.ConvergenceWarning` says so. (MATH.md calls V convex; that
    holds for the expectation under a smooth law in many cases, not for the sample average.)

    Returns
    -------
    numpy.ndarray
        ``(M, L_1..L_K)``, real-valued shares.

    Raises
    ------
    ConfigError
        When some ``h + r_k ≤ 0`` (the fill variables would not be exact: use SA) or the solver
        fails.
    """
    z = _check_xi(problem, xi)
    n, k = z.shape
    h = problem.half_spread
    if np.any(h + problem.rebates <= 0):
        raise ConfigError("solve_lp needs h + r_k > 0 on every venue; use solve_sa")
    cap = np.maximum(z - problem.queues, 0.0)
    n_y = n * k
    # variable order: M, L (k), y (n*k, row-major by sample), u (n), o (n)
    n_var = 1 + k + n_y + 2 * n
    iy, iu, io = 1 + k, 1 + k + n_y, 1 + k + n_y + n
    c = np.zeros(n_var)
    c[0] = h + problem.fee + problem.theta
    c[1 : 1 + k] = problem.theta
    c[iy : iy + n_y] = -np.tile(h + problem.rebates, n) / n
    c[iu:io] = (problem.lambda_u + problem.theta) / n
    c[io:] = problem.lambda_o / n
    rows: list[Any] = []
    # y_nk - L_k <= 0
    eye_y = scipy.sparse.identity(n_y, format="csr")
    l_map = scipy.sparse.csr_matrix(
        (-np.ones(n_y), (np.arange(n_y), np.tile(np.arange(k), n) + 1)), shape=(n_y, n_var)
    )
    rows.append(
        scipy.sparse.hstack(
            [scipy.sparse.csr_matrix((n_y, iy)), eye_y, scipy.sparse.csr_matrix((n_y, 2 * n))]
        )
        + l_map
    )
    # -M - sum_k y_nk - u_n <= -S
    sum_y = scipy.sparse.kron(scipy.sparse.identity(n), np.ones((1, k)), format="csr")
    ident_n = scipy.sparse.identity(n, format="csr")
    zeros_l = scipy.sparse.csr_matrix((n, k))
    m_col = scipy.sparse.csr_matrix(np.ones((n, 1)))
    rows.append(
        scipy.sparse.hstack([-m_col, zeros_l, -sum_y, -ident_n, scipy.sparse.csr_matrix((n, n))])
    )
    # M + sum_k y_nk - o_n <= S
    rows.append(
        scipy.sparse.hstack([m_col, zeros_l, sum_y, scipy.sparse.csr_matrix((n, n)), -ident_n])
    )
    # -M - sum L <= -S
    feas = np.zeros((1, n_var))
    feas[0, : 1 + k] = -1.0
    rows.append(scipy.sparse.csr_matrix(feas))
    a_ub = scipy.sparse.vstack(rows, format="csr")
    b_ub = np.concatenate(
        [np.zeros(n_y), np.full(n, -problem.size), np.full(n, problem.size), [-problem.size]]
    )
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[0, 1] = problem.size
    bounds[iy : iy + n_y, 1] = cap.reshape(-1)
    res = scipy.optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise ConfigError(f"solve_lp: HiGHS did not solve the sample-average LP ({res.message})")
    if problem.lambda_o > float(np.min(h + problem.rebates)):
        warnings.warn(
            f"solve_lp: λ_o = {problem.lambda_o:g} > min_k(h + r_k) = "
            f"{float(np.min(h + problem.rebates)):g}: the sample cost is not convex and the LP "
            f"is a relaxation (its value {res.fun:.6g} is a lower bound, not the optimum)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return np.asarray(res.x[: 1 + k], dtype=np.float64)


def round_to_target(X: Float64Array1D, S: float) -> Float64Array1D:
    """Round ``(M, L_1..L_K)`` to whole shares keeping the total consistent with S.

    The rounded total is ``max(S, round(Σ X))`` (so a plan that places exactly S shares places
    exactly S after rounding, and one that over-places keeps about its over-placement); shares
    are given by largest remainder on the floors; ``M ≤ S`` and nothing is negative.

    Parameters
    ----------
    X : numpy.ndarray
        Real-valued ``(M, L_1..L_K)``, ≥ 0.
    S : float
        The child size, whole shares.

    Returns
    -------
    numpy.ndarray
        Whole shares (float64 holding integers).
    """
    x = np.maximum(np.asarray(X, dtype=np.float64).reshape(-1), 0.0)
    s = round(float(S))
    target = max(s, round(float(x.sum())))
    base = np.floor(x)
    left = int(target - base.sum())
    if left > 0:
        order = np.argsort(-(x - base), kind="stable")
        for i in order[:left]:
            base[i] += 1.0
    elif left < 0:  # floors can only undershoot; kept for safety
        order = np.argsort(x - base, kind="stable")
        for i in order:
            if left == 0:
                break
            take = min(base[i], -left)
            base[i] -= take
            left += int(take)
    if base[0] > s:
        extra = base[0] - s
        base[0] = s
        base[1 + int(np.argmax(base[1:]))] += extra
    return base


def draw_outflows(
    outflows: Sequence[OutflowDistribution], n: int, rng: np.random.Generator
) -> Float64Array2D:
    """Draw the (n, K) outflow matrix, one independent column per venue's law."""
    cols = [np.asarray(o.sample(n, rng), dtype=np.float64).reshape(-1) for o in outflows]
    return np.ascontiguousarray(np.column_stack(cols))


def _allocation(
    problem: RoutingProblem,
    x_real: Float64Array1D,
    xi: Float64Array2D,
    method: str,
    info: dict[str, Any],
) -> Allocation:
    x = round_to_target(x_real, problem.size)
    info = {
        **info,
        "unrounded": [float(v) for v in x_real],
        "half_spread": problem.half_spread,
        "fee": problem.fee,
        "n_samples": int(xi.shape[0]),
    }
    return Allocation(
        market=float(x[0]),
        limit=tuple(float(v) for v in x[1:]),
        expected_cost=expected_cost(problem, x, xi),
        p_underfill=underfill_probability(problem, x, xi),
        method=method,
        venues=problem.venues,
        info=info,
    )


@dataclass
class ContKukanovRouter:
    """The Cont-Kukanov router (implements :class:`~myopic_sor.routing.Router`).

    Parameters
    ----------
    n_samples : int, default 1000
        N, outflow samples per decision (the config's ``strategy.N``).
    method : {"auto", "closed_form", "sa", "lp"}, default "auto"
        ``auto``: the closed form for one venue with a CDF, else SA.
    n_passes : int, default 5
        SA passes over the samples (see :func:`solve_sa`).
    round_shares : bool, default True
        Round to whole shares (:func:`round_to_target`).

    Notes
    -----
    The reported ``expected_cost`` and ``p_underfill`` are those of the returned (rounded)
    allocation on the same samples; ``info['unrounded']`` holds the solver's answer. A child
    under one share is sent as a market order (``method='market'``, nothing to split).
    """

    n_samples: int = 1000
    method: RouterMethod = "auto"
    n_passes: int = 5
    round_shares: bool = True

    def __post_init__(self) -> None:
        if self.n_samples < 1:
            raise ConfigError(f"n_samples must be >= 1, got {self.n_samples}")
        if self.method not in ("auto", "closed_form", "sa", "lp"):
            raise ConfigError(f"method={self.method!r}: use auto, closed_form, sa or lp")

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
        *,
        xi: Float64Array2D | None = None,
    ) -> Allocation:
        """Split ``problem.size`` into a market order and one limit order per venue."""
        if len(outflows) != problem.n_venues and xi is None:
            msg = f"{len(outflows)} outflow laws for {problem.n_venues} venues; give one each"
            raise ConfigError(msg)
        samples = draw_outflows(outflows, self.n_samples, rng) if xi is None else xi
        samples = _check_xi(problem, samples)
        if problem.size < 1.0:
            x = np.zeros(problem.n_venues + 1)
            x[0] = problem.size
            return _allocation(problem, x, samples, "market", {"reason": "size under one share"})
        method = self.method
        if method == "auto":
            closed = problem.n_venues == 1 and len(outflows) == 1 and outflows[0].has_cdf
            method = "closed_form" if closed else "sa"
        if method == "closed_form":
            x = solve_closed_form(problem, outflows[0])
            info: dict[str, Any] = {"p_star": critical_probability(problem)}
        elif method == "lp":
            x, info = solve_lp(problem, samples), {}
        else:
            x = solve_sa(problem, samples, n_passes=self.n_passes)
            info = {"n_passes": self.n_passes}
        if not self.round_shares:
            return Allocation(
                float(x[0]),
                tuple(float(v) for v in x[1:]),
                expected_cost(problem, x, samples),
                underfill_probability(problem, x, samples),
                method,
                problem.venues,
                {**info, "half_spread": problem.half_spread, "fee": problem.fee},
            )
        return _allocation(problem, x, samples, method, info)


@dataclass
class MarketOnlyRouter:
    """Everything as one market order (the ablation without limit orders)."""

    n_samples: int = 200

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
    ) -> Allocation:
        """``M = S``, no limit orders."""
        x = np.zeros(problem.n_venues + 1)
        x[0] = problem.size
        xi = draw_outflows(outflows, self.n_samples, rng)
        return _allocation(problem, x, xi, "market", {})


@dataclass
class PassiveRouter:
    """Everything as limit orders on the venue where a share posted costs least in the model
    (all-limit, the rest at market after the router horizon: the passive ablation).

    The venue is the one minimising ``V`` of ``L_k = S`` alone on sampled outflows — it trades
    the rebate against the chance of filling behind the queue — so a long queue or a low rebate
    moves the order elsewhere.
    """

    n_samples: int = 200

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
    ) -> Allocation:
        """``L_k = S`` on the cheapest venue, ``M = 0``."""
        xi = draw_outflows(outflows, self.n_samples, rng)
        best, best_cost = 0, math.inf
        for k in range(problem.n_venues):
            x = np.zeros(problem.n_venues + 1)
            x[k + 1] = problem.size
            c = expected_cost(problem, x, xi)
            if c < best_cost:
                best, best_cost = k, c
        x = np.zeros(problem.n_venues + 1)
        x[best + 1] = problem.size
        return _allocation(problem, x, xi, "passive", {"venue": problem.venues[best]})
