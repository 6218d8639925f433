"""The scheduler protocol, the child-order value object and integer allocation of a schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.exceptions import ConfigError

__all__ = [
    "ChildOrder",
    "ScheduleResult",
    "Scheduler",
    "check_parent",
    "check_window",
    "integer_allocation",
]

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ChildOrder:
    """One child order of a parent: when, how many shares, and why.

    Parameters
    ----------
    ts_ns : int
        Send time, UTC nanoseconds.
    quantity : int
        Signed shares, ``+`` buy, ``−`` sell (``side * size``).
    reason : str
        The strategy and the rule that produced it (e.g. ``"twap"``, ``"myopic"``,
        ``"myopic:final"``).
    """

    ts_ns: int
    quantity: int
    reason: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.ts_ns, bool) or not isinstance(self.ts_ns, int | np.integer):
            msg = f"ChildOrder.ts_ns must be an int (UTC ns), got {self.ts_ns!r}"
            raise ConfigError(msg)
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int | np.integer):
            msg = f"ChildOrder.quantity must be an int (signed shares), got {self.quantity!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "ts_ns", int(self.ts_ns))
        object.__setattr__(self, "quantity", int(self.quantity))


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """The child orders of one parent and what the strategy knows about them.

    Attributes
    ----------
    strategy : str
        Name of the scheduler.
    t0_ns, t_end_ns : int
        The execution window, UTC ns.
    quantity : int
        Parent quantity, signed shares.
    children : tuple of ChildOrder
        Children in time order (only non-zero quantities); they sum to ``quantity`` unless
        a risk stop halted the strategy (then ``info['unexecuted']`` holds the rest).
    expected_cost : float
        The strategy's own model cost, currency (NaN when the strategy has no model).
    info : dict
        Strategy-specific figures (e.g. Almgren-Chriss variance, κ).
    """

    strategy: str
    t0_ns: int
    t_end_ns: int
    quantity: int
    children: tuple[ChildOrder, ...]
    expected_cost: float = float("nan")
    info: dict[str, float] = field(default_factory=dict)

    @property
    def ts_ns(self) -> Int64Array1D:
        """Send times of the children, int64 UTC ns."""
        return np.array([c.ts_ns for c in self.children], dtype=np.int64)

    @property
    def quantities(self) -> Int64Array1D:
        """Signed shares of the children, int64."""
        return np.array([c.quantity for c in self.children], dtype=np.int64)

    def to_frame(self) -> pd.DataFrame:
        """Return the children as a DataFrame (``ts_event`` UTC, ``quantity``, ``reason``)."""
        return pd.DataFrame(
            {
                "ts_event": pd.to_datetime(self.ts_ns, unit="ns", utc=True),
                "quantity": self.quantities,
                "reason": [c.reason for c in self.children],
            }
        )


@runtime_checkable
class Scheduler(Protocol):
    """A parent-order scheduler: splits ``X`` shares over ``[t0, t_end]`` into child orders.

    Every strategy (TWAP, VWAP, Almgren-Chriss, Obizhaeva-Wang, fixed frequency, myopic) runs
    through this one method, so the backtest engine drives them on one clock and compares them
    on the same parent.
    """

    name: str

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the children of a parent of ``X`` signed shares over ``[t0_ns, t_end_ns]``.

        ``data`` is the spec frame (``myopic_sor.features.spec_frame``) of the day, used by
        data-driven strategies with rows ``ts_event <= t`` at each decision time only.
        """
        ...


def check_window(t0_ns: int, t_end_ns: int) -> tuple[int, int]:
    """Validate an execution window (int UTC ns, ``t_end_ns > t0_ns``) and return it."""
    for name, v in (("t0_ns", t0_ns), ("t_end_ns", t_end_ns)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            msg = f"{name} must be an integer UTC timestamp in ns, got {v!r} ({type(v).__name__})"
            raise ConfigError(msg)
    a, b = int(t0_ns), int(t_end_ns)
    if b <= a:
        msg = (
            f"the window is empty or already over: t_end_ns={b} is not after t0_ns={a} "
            f"({(b - a) / _NS:.3f} s); give an end after the start"
        )
        raise ConfigError(msg)
    return a, b


def check_parent(X: float, what: str = "X") -> int:
    """Validate a parent quantity: finite, non-zero, a whole number of shares; return it."""
    x = float(X)
    if not math.isfinite(x) or x == 0.0:
        msg = f"{what} must be a finite non-zero number of shares (signed), got {X!r}"
        raise ConfigError(msg)
    if x != round(x):
        msg = f"{what}={X!r} is not a whole number of shares; children are integer shares"
        raise ConfigError(msg)
    return round(x)


def integer_allocation(target: Float64Array1D, X: int) -> Int64Array1D:
    """Round a real-valued schedule to integer shares that sum exactly to ``X``.

    Parameters
    ----------
    target : numpy.ndarray
        Real-valued signed shares per slot; should sum to ``X``.
    X : int
        Parent quantity, signed shares.

    Returns
    -------
    numpy.ndarray of int64
        ``diff`` of the rounded cumulative schedule, with the last cumulative value set to
        ``X``: each prefix is within half a share of the target prefix, the total is exact,
        and a monotone target (all slots of the parent's sign) stays monotone.
    """
    t = np.asarray(target, dtype=np.float64)
    if t.ndim != 1 or t.shape[0] == 0 or not bool(np.all(np.isfinite(t))):
        msg = "target must be a non-empty 1-D array of finite shares"
        raise ConfigError(msg)
    cum = np.rint(np.cumsum(t)).astype(np.int64)
    if X > 0 and bool(np.all(t >= 0)):
        cum = np.clip(np.maximum.accumulate(cum), 0, X)
    elif X < 0 and bool(np.all(t <= 0)):
        cum = np.clip(np.minimum.accumulate(cum), X, 0)
    cum[-1] = int(X)
    return np.diff(np.concatenate(([0], cum))).astype(np.int64)
