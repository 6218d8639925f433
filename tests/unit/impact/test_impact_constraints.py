"""Unit tests of the execution QP with linear inequalities (impact cap, running position)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import optimize

from myopic_sor.exceptions import DataValidationError
from myopic_sor.impact import (
    ImpactParams,
    InfeasibleScheduleError,
    constrained_schedule,
    exp_kernel_matrix,
    past_impact,
)
from myopic_sor.impact._optimal import constrained_schedule_linear, impact_constraint_matrix

IP = ImpactParams.from_beta_per_hour(lambda_=0.5, beta_per_hour=0.693, sigma_daily=0.02, adv=1e6)
X = 200_000.0


def _cost(q: np.ndarray, t: np.ndarray, b: np.ndarray) -> float:
    g = exp_kernel_matrix(t, IP.beta_per_s)
    return float(0.5 * IP.lambda_per_share * q @ g @ q - b @ q)


def _impact_loop(t: np.ndarray, q: np.ndarray, i_now: float) -> np.ndarray:
    out, imp, prev = [], i_now, t[0]
    for tn, qn in zip(t, q, strict=True):
        imp = imp * np.exp(-IP.beta_per_s * (tn - prev)) + IP.lambda_per_share * qn
        prev = tn
        out.append(imp)
    return np.array(out)


def test_impact_matrix_matches_recursion() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(10.0, 300.0, 25))
    q = rng.normal(0.0, 500.0, 25)
    lmat = impact_constraint_matrix(t, IP)
    got = past_impact(t, 0.003, IP) + lmat @ q
    np.testing.assert_allclose(got, _impact_loop(t, q, 0.003), rtol=1e-12, atol=1e-18)
    assert np.all(np.triu(lmat, 1) == 0.0)


def test_cap_not_binding_returns_box_solution() -> None:
    t = np.linspace(0.0, 23_400.0, 40)
    box = constrained_schedule(t, X, IP, lower=0.0, upper=20_000.0)
    lmat = impact_constraint_matrix(t, IP)
    cap = 1.01 * float((lmat @ box.q).max())
    res = constrained_schedule_linear(
        t, X, IP, lower=0.0, upper=20_000.0, A_ub=lmat, b_ub=np.full(40, cap)
    )
    assert res.method == "box"
    np.testing.assert_array_equal(res.q, box.q)
    assert not res.active_ineq.any()
    assert res.relaxation == 0.0


@pytest.mark.parametrize(("n", "i_now"), [(20, 0.0), (60, 4e-4)])
def test_cap_binds_exactly_and_costs_more(n: int, i_now: float) -> None:
    t = np.linspace(0.0, 23_400.0, n)
    alpha = 2e-3 * np.exp(-t / 3000.0)
    box = constrained_schedule(t, X, IP, alpha, lower=0.0, i_now=i_now)
    lmat = impact_constraint_matrix(t, IP)
    i_past = past_impact(t, i_now, IP)
    path = i_past + lmat @ box.q
    cap = 0.8 * float(path.max())
    res = constrained_schedule_linear(
        t, X, IP, alpha, lower=0.0, A_ub=lmat, b_ub=np.full(n, cap) - i_past, i_now=i_now
    )
    assert res.method in {"active-set", "slsqp+polish"}
    assert res.kkt_residual < 1e-7
    new_path = i_past + lmat @ res.q
    assert new_path.max() <= cap * (1.0 + 1e-9)
    assert res.active_ineq.any()
    assert res.q.sum() == pytest.approx(X, rel=1e-12)
    assert res.q.min() >= -1e-9 * X
    b = alpha - i_past
    c_box, c_cap = _cost(box.q, t, b), _cost(res.q, t, b)
    assert c_cap >= c_box
    # independent check: SLSQP from another start does not find a cheaper feasible point
    ref = optimize.minimize(
        lambda q: _cost(q * X, t, b) / (IP.lambda_per_share * X * X),
        np.full(n, 1.0 / n),
        method="SLSQP",
        constraints=[
            {"type": "eq", "fun": lambda z: np.array([z.sum() - 1.0])},
            {"type": "ineq", "fun": lambda z: (cap - i_past - lmat @ (z * X)) / cap},
        ],
        bounds=optimize.Bounds(np.zeros(n), np.full(n, np.inf)),
        options={"maxiter": 500, "ftol": 1e-14},
    )
    q_ref = ref.x * X
    if (i_past + lmat @ q_ref).max() <= cap * (1 + 1e-9):
        assert c_cap <= _cost(q_ref, t, b) + 1e-9 * abs(c_box)


def test_infeasible_cap_raises_or_relaxes(caplog: pytest.LogCaptureFixture) -> None:
    t = np.linspace(0.0, 3_600.0, 10)
    lmat = impact_constraint_matrix(t, IP)
    cap = 1e-4  # 10 trades cannot carry 200k shares under this impact
    with pytest.raises(InfeasibleScheduleError, match="infeasible linear constraints"):
        constrained_schedule_linear(t, X, IP, lower=0.0, A_ub=lmat, b_ub=np.full(10, cap))
    with caplog.at_level(logging.WARNING):
        res = constrained_schedule_linear(
            t, X, IP, lower=0.0, A_ub=lmat, b_ub=np.full(10, cap), on_infeasible="relax"
        )
    assert "relaxed" in caplog.text
    assert res.relaxation > 0.0
    assert res.q.sum() == pytest.approx(X, rel=1e-12)
    assert (lmat @ res.q).max() <= (cap + res.relaxation) * (1 + 1e-9)
    # the relaxation is the smallest uniform one: slightly less is infeasible
    with pytest.raises(InfeasibleScheduleError):
        constrained_schedule_linear(
            t, X, IP, lower=0.0, A_ub=lmat, b_ub=np.full(10, cap + 0.99 * res.relaxation)
        )


def test_running_position_bound_with_round_trips() -> None:
    n = 30
    t = np.linspace(0.0, 7_200.0, n)
    alpha = 2e-2 * np.exp(-t / 900.0)  # strong early alpha: buy more than X, sell back
    free = constrained_schedule(t, 10_000.0, IP, alpha)
    pos = np.cumsum(free.q)
    assert pos.max() > 12_000.0  # the unconstrained optimum round-trips
    tri = np.tril(np.ones((n, n)))
    limit = 12_000.0
    res = constrained_schedule_linear(
        t,
        10_000.0,
        IP,
        alpha,
        A_ub=np.vstack([tri, -tri]),
        b_ub=np.full(2 * n, limit),
    )
    new_pos = np.cumsum(res.q)
    assert new_pos.max() <= limit * (1 + 1e-9)
    assert new_pos.min() >= -limit * (1 + 1e-9)
    assert new_pos[-1] == pytest.approx(10_000.0, rel=1e-12)
    assert res.kkt_residual < 1e-7


def test_bad_shapes() -> None:
    t = np.linspace(0.0, 600.0, 5)
    with pytest.raises(DataValidationError, match="shape"):
        constrained_schedule_linear(t, 100.0, IP, A_ub=np.ones((2, 4)), b_ub=np.ones(2))
    with pytest.raises(DataValidationError, match="finite"):
        constrained_schedule_linear(t, 100.0, IP, A_ub=np.ones((1, 5)), b_ub=np.array([np.inf]))


def test_full_day_grid_390_slots() -> None:
    """390 one-minute slots (a full session): the cap binds and the polish is exact."""
    n = 390
    t = np.arange(n) * 60.0
    box = constrained_schedule(t, X, IP, lower=0.0)
    lmat = impact_constraint_matrix(t, IP)
    cap = 0.7 * float((lmat @ box.q).max())
    res = constrained_schedule_linear(t, X, IP, lower=0.0, A_ub=lmat, b_ub=np.full(n, cap))
    assert res.method in {"active-set", "slsqp+polish"}
    assert res.kkt_residual < 1e-7
    assert (lmat @ res.q).max() <= cap * (1 + 1e-9)
    assert res.q.sum() == pytest.approx(X, rel=1e-12)


@pytest.mark.parametrize("round_trips", [False, True])
def test_active_set_matches_slsqp_path(round_trips: bool) -> None:
    n = 50
    t = np.linspace(0.0, 7_200.0, n)
    alpha = 5e-3 * np.exp(-t / 1_200.0)
    lower = None if round_trips else 0.0
    lmat = impact_constraint_matrix(t, IP)
    box = constrained_schedule(t, X, IP, alpha, lower=lower)
    cap = 0.85 * float((lmat @ box.q).max())
    a_ub = np.vstack([lmat, -lmat]) if round_trips else lmat
    b_ub = np.full(a_ub.shape[0], cap)
    fast = constrained_schedule_linear(t, X, IP, alpha, lower=lower, A_ub=a_ub, b_ub=b_ub)
    slow = constrained_schedule_linear(
        t, X, IP, alpha, lower=lower, A_ub=a_ub, b_ub=b_ub, method="slsqp"
    )
    assert fast.method in {"active-set", "slsqp+polish"}
    assert slow.method in {"slsqp+polish", "slsqp"}
    np.testing.assert_allclose(fast.q, slow.q, rtol=0, atol=1e-6 * X)
    assert fast.nu == pytest.approx(slow.nu, rel=1e-6)
