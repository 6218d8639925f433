"""The routing problem, its answer and the protocols of the Cont-Kukanov router (MATH.md §5).

Units throughout: sizes and queues in shares; half-spread, fees, rebates, θ, λ_u and λ_o in
currency per share; costs in currency. The problem is stated for a **buy** (limit orders at the
bid of each venue); a sell is the mirror image with the same numbers (limit orders at the ask),
so the solvers never look at the side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from myopic_sor._typing import Float64Array1D
from myopic_sor.exceptions import ConfigError

__all__ = [
    "Allocation",
    "OutflowDistribution",
    "Router",
    "RoutingProblem",
]


def _finite(name: str, value: float, *, nonneg: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or (nonneg and v < 0.0):
        bound = "a finite number ≥ 0" if nonneg else "a finite number"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class RoutingProblem:
    """One child order to split into a market order and limit orders on K venues.

    Parameters
    ----------
    size : float
        S, shares to execute (> 0; the router rounds to whole shares at the end).
    half_spread : float
        h, half the quoted spread (currency per share, ≥ 0).
    fee : float
        f, taker fee of the market order (currency per share; negative on inverted venues).
    rebates : sequence of float
        r_k, maker rebate of each venue (currency per share), adverse-selection adjusted by
        the caller if wanted.
    queues : sequence of float
        Q_k, shares displayed ahead of us at our price on venue k (≥ 0).
    theta : float
        θ, impact cost per share placed (currency per share, ≥ 0).
    lambda_u, lambda_o : float
        Under- and overfill penalties (currency per share, ≥ 0).
    venues : tuple of str, optional
        Venue names, one per entry of ``rebates`` (default ``V0, V1, …``).

    Notes
    -----
    ``v(X, ξ) = (h + f) M − Σ_k (h + r_k) min(L_k, (ξ_k − Q_k)^+) + λ_u (S − A)^+
    + λ_o (A − S)^+ + θ (M + Σ_k L_k + (S − A)^+)`` with ``A`` the shares executed
    (Cont & Kukanov 2017, eq. 2; MATH.md §5).
    """

    size: float
    half_spread: float
    fee: float
    rebates: Float64Array1D
    queues: Float64Array1D
    theta: float = 0.0005
    lambda_u: float = 0.05
    lambda_o: float = 0.05
    venues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        size = _finite("size", self.size)
        if size <= 0.0:
            raise ConfigError(f"size must be > 0 shares, got {self.size!r}")
        rebates = np.ascontiguousarray(self.rebates, dtype=np.float64).reshape(-1)
        queues = np.ascontiguousarray(self.queues, dtype=np.float64).reshape(-1)
        if rebates.size == 0:
            raise ConfigError("a routing problem needs at least one venue (rebates is empty)")
        if queues.shape != rebates.shape:
            raise ConfigError(
                f"queues has {queues.size} entries but rebates has {rebates.size}; "
                "give one queue and one rebate per venue"
            )
        if not np.all(np.isfinite(rebates)):
            raise ConfigError(f"rebates must be finite, got {rebates.tolist()}")
        if not np.all(np.isfinite(queues)) or np.any(queues < 0.0):
            raise ConfigError(f"queues must be finite and ≥ 0 shares, got {queues.tolist()}")
        venues = tuple(self.venues) or tuple(f"V{k}" for k in range(rebates.size))
        if len(venues) != rebates.size:
            raise ConfigError(f"venues names {len(venues)} venues but there are {rebates.size}")
        rebates.setflags(write=False)
        queues.setflags(write=False)
        object.__setattr__(self, "size", size)
        half_spread = _finite("half_spread", self.half_spread, nonneg=True)
        object.__setattr__(self, "half_spread", half_spread)
        object.__setattr__(self, "fee", _finite("fee", self.fee))
        object.__setattr__(self, "rebates", rebates)
        object.__setattr__(self, "queues", queues)
        object.__setattr__(self, "theta", _finite("theta", self.theta, nonneg=True))
        object.__setattr__(self, "lambda_u", _finite("lambda_u", self.lambda_u, nonneg=True))
        object.__setattr__(self, "lambda_o", _finite("lambda_o", self.lambda_o, nonneg=True))
        object.__setattr__(self, "venues", venues)

    @property
    def n_venues(self) -> int:
        """K, the number of venues."""
        return int(self.rebates.size)


@dataclass(frozen=True, slots=True)
class Allocation:
    """The router's answer: one market order and one limit order per venue.

    Attributes
    ----------
    market : float
        M, shares sent as a market order (whole shares after rounding).
    limit : tuple of float
        L_k, shares posted at the touch of each venue, in the order of ``venues``.
    expected_cost : float
        V(X), the model's expected cost of this allocation (currency), estimated on the
        samples the solver used (or exactly, for the closed form).
    p_underfill : float
        P(A < S), probability that market + limit fills leave part of S unexecuted.
    method : str
        How it was found: ``"closed_form"``, ``"sa"``, ``"lp"``, ``"lookup"``, ``"market"``…
    venues : tuple of str
        Venue names.
    info : dict
        Solver details (iterations, samples, seed, unrounded solution, reasons for excluded
        venues…).
    """

    market: float
    limit: tuple[float, ...]
    expected_cost: float
    p_underfill: float
    method: str
    venues: tuple[str, ...]
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_vector(
        cls,
        x: Sequence[float] | Float64Array1D,
        venues: tuple[str, ...],
        *,
        expected_cost: float,
        p_underfill: float,
        method: str,
        info: dict[str, Any],
    ) -> Allocation:
        """The allocation of a solver's vector ``x = (M, L_1, …, L_K)``."""
        return cls(
            market=float(x[0]),
            limit=tuple(float(v) for v in x[1:]),
            expected_cost=float(expected_cost),
            p_underfill=float(p_underfill),
            method=method,
            venues=venues,
            info=info,
        )

    @property
    def total(self) -> float:
        """M + Σ L_k, shares placed."""
        return float(self.market + sum(self.limit))

    def as_dict(self) -> dict[str, Any]:
        """The allocation as plain JSON-able types (keys of the ``route`` CLI)."""
        return {
            "market": self.market,
            "limit": list(self.limit),
            "venues": list(self.venues),
            "expected_cost": self.expected_cost,
            "p_underfill": self.p_underfill,
            "method": self.method,
        }


@runtime_checkable
class OutflowDistribution(Protocol):
    """The law of ξ, the shares leaving the front of one venue's touch queue over the router
    horizon T_r (trades plus cancellations ahead of us), fitted from past data only.

    ``has_cdf`` says whether ``cdf``/``ppf`` are exact (the single-venue closed form needs
    them); otherwise they may raise :class:`NotImplementedError`.
    """

    @property
    def has_cdf(self) -> bool: ...

    @property
    def mean(self) -> float: ...

    def sample(self, n: int, rng: np.random.Generator) -> Float64Array1D:
        """Draw ``n`` outflows (shares, ≥ 0)."""
        ...

    def cdf(self, x: float) -> float:
        """P(ξ ≤ x)."""
        ...

    def ppf(self, p: float) -> float:
        """The smallest x with P(ξ ≤ x) ≥ p."""
        ...


@runtime_checkable
class Router(Protocol):
    """Anything that turns a :class:`RoutingProblem` and the outflow laws into an allocation."""

    def route(
        self,
        problem: RoutingProblem,
        outflows: Sequence[OutflowDistribution],
        rng: np.random.Generator,
    ) -> Allocation:
        """Split ``problem.size`` into a market order and limit orders, one per venue."""
        ...
