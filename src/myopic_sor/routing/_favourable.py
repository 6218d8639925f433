r"""The traditional mode's "favourable conditions" rule: skip a slot when routing now looks dear.

In the spec's traditional mode the router is asked every ``order_freq`` seconds and the child
is sent "only if conditions are favourable"; a skipped quantity is carried to later slots by
the strategy, and the last slot is never skipped. The rule judges the router's **expected cost
per share** of the child it would send now, ``c = Allocation.expected_cost / S`` (currency per
share; it moves with the spread, the fees, the queue lengths and the recent outflow, and it is
what the router minimises), against a reference:

``"rolling_quantile"`` (default)
    favourable iff ``c ≤ Q_q(c_{t−w}, …, c_{t−1}) + tolerance``, the ``quantile`` q of the
    costs per share of the last ``window`` decisions of the same run. Until ``min_history``
    past decisions exist every slot is favourable.
``"rolling_median"``
    the same with q = 0.5.
``"half_spread_fee"``
    favourable iff ``c ≤ h + f + tolerance``: the router's best mix must cost no more than the
    spread-and-fee of a plain market order (``c`` can exceed it only through θ and the
    penalties, i.e. when resting orders are unlikely to fill). It needs no history but judges
    the passive opportunity only, not whether the spread itself is wide.
``"always"``
    every slot is favourable (the ablation without skipping).

Why the default: a quantile of the run's own recent costs is free of units and of sign (costs
per share can be negative when rebates dominate, which breaks relative slacks), adapts to the
stock and the time of day, and in a steady market skips a known share of the slots — about
``1 − q`` = 20 % with q = 0.8 — so the schedule does not fall far behind and pile up at the end,
while a deterioration (wider spread, longer queues, a dry touch) is skipped until the window
has adapted to it (``window`` decisions, 30 × 120 s = one hour by default).

Every check is recorded (favourable or not) by the :class:`FavourableTracker`, so the
reference follows the conditions; only past decisions enter a judgement (causal).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from myopic_sor.exceptions import ConfigError

__all__ = ["FavourableKind", "FavourableRule", "FavourableTracker"]

FavourableKind = Literal["rolling_quantile", "rolling_median", "half_spread_fee", "always"]
_KINDS = ("rolling_quantile", "rolling_median", "half_spread_fee", "always")


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"FavourableRule: {name} must be finite, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class FavourableRule:
    """A configurable skip rule (see the module notes); stateless — history is passed in.

    Parameters
    ----------
    kind : {"rolling_quantile", "rolling_median", "half_spread_fee", "always"}
        Reference the cost per share is judged against (default ``"rolling_quantile"``).
    window : int, default 30
        Past decisions in the rolling reference.
    quantile : float, default 0.8
        q of ``"rolling_quantile"``, in (0, 1].
    tolerance : float, default 0.0
        Slack above the reference before a slot is unfavourable, currency per share (≥ 0).
    min_history : int, default 5
        Past decisions needed before a rolling rule can skip.

    Examples
    --------
    >>> rule = FavourableRule(kind="rolling_median", window=4, min_history=3)
    >>> rule.is_favourable(0.004, half_spread=0.005, fee=0.003, history=[0.001, 0.002, 0.003])
    False
    >>> tracker = rule.fresh()
    >>> [tracker.check(c, half_spread=0.005, fee=0.003)[0] for c in (3, 1, 2, 5, 1.5)]
    [True, True, True, False, True]
    """

    kind: FavourableKind = "rolling_quantile"
    window: int = 30
    quantile: float = 0.8
    tolerance: float = 0.0
    min_history: int = 5

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"FavourableRule.kind={self.kind!r}: use one of {', '.join(_KINDS)}")
        for name in ("window", "min_history"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ConfigError(f"FavourableRule.{name} must be a whole number ≥ 1, got {v!r}")
        if self.min_history > self.window:
            raise ConfigError(
                f"FavourableRule.min_history={self.min_history} exceeds window={self.window}: "
                "the rolling reference could never start"
            )
        q = float(self.quantile)
        if not 0.0 < q <= 1.0:
            raise ConfigError(f"FavourableRule.quantile must be in (0, 1], got {self.quantile!r}")
        tol = float(self.tolerance)
        if not (math.isfinite(tol) and tol >= 0.0):
            raise ConfigError(
                f"FavourableRule.tolerance must be ≥ 0 currency per share, got {self.tolerance!r}"
            )

    def reference(
        self, *, half_spread: float, fee: float, history: Sequence[float]
    ) -> float | None:
        """The cost per share a slot may not exceed (before ``tolerance``); None when the rule
        cannot judge yet (too little history, or ``"always"``)."""
        if self.kind == "always":
            return None
        if self.kind == "half_spread_fee":
            return _finite("half_spread", half_spread) + _finite("fee", fee)
        past = np.asarray(list(history)[-self.window :], dtype=np.float64)
        if past.size < self.min_history:
            return None
        if not np.all(np.isfinite(past)):
            raise ConfigError("FavourableRule: the history of costs per share must be finite")
        q = 0.5 if self.kind == "rolling_median" else float(self.quantile)
        return float(np.quantile(past, q))

    def explain(
        self, cost_per_share: float, half_spread: float, fee: float, history: Sequence[float]
    ) -> tuple[bool, str]:
        """Return ``(favourable, reason)`` for a child routed at ``cost_per_share``.

        Parameters
        ----------
        cost_per_share : float
            The router's expected cost of the child divided by its size (currency per share).
        half_spread, fee : float
            h and the market order's taker fee f now (currency per share).
        history : sequence of float
            Costs per share of the past decisions of the run, oldest first (only the last
            ``window`` are used).
        """
        c = _finite("cost_per_share", cost_per_share)
        ref = self.reference(half_spread=half_spread, fee=fee, history=history)
        if ref is None:
            if self.kind == "always":
                return True, "rule 'always': every slot is favourable"
            n = min(len(history), self.window)
            return True, f"{n} past decision(s) < min_history={self.min_history}: no reference yet"
        limit = ref + float(self.tolerance)
        ok = c <= limit
        label = {
            "rolling_quantile": f"rolling q{self.quantile:g} of the last {self.window} costs",
            "rolling_median": f"rolling median of the last {self.window} costs",
            "half_spread_fee": "h + f",
        }[self.kind]
        sign = "<=" if ok else ">"
        return ok, f"cost {c:.6g}/sh {sign} {label} {ref:.6g} + tolerance {self.tolerance:g}"

    def is_favourable(
        self, cost_per_share: float, half_spread: float, fee: float, history: Sequence[float]
    ) -> bool:
        """True when the slot may trade (see :meth:`explain`)."""
        return self.explain(cost_per_share, half_spread=half_spread, fee=fee, history=history)[0]

    def fresh(self) -> FavourableTracker:
        """A tracker with this rule and no history (one per backtest run)."""
        return FavourableTracker(self)


@dataclass
class FavourableTracker:
    """The rule applied along one run: judges each decision against the past ones, then
    records it (favourable or not).

    Parameters
    ----------
    rule : FavourableRule
    """

    rule: FavourableRule = field(default_factory=FavourableRule)
    _history: deque[float] = field(init=False, repr=False)
    n_checked: int = field(default=0, init=False)
    n_unfavourable: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._history = deque(maxlen=self.rule.window)

    @property
    def history(self) -> tuple[float, ...]:
        """Costs per share of the last ``window`` decisions, oldest first."""
        return tuple(self._history)

    def check(self, cost_per_share: float, *, half_spread: float, fee: float) -> tuple[bool, str]:
        """Judge a decision against the past ones, record it, return ``(favourable, reason)``."""
        ok, why = self.rule.explain(
            cost_per_share, half_spread=half_spread, fee=fee, history=self._history
        )
        self._history.append(float(cost_per_share))
        self.n_checked += 1
        self.n_unfavourable += int(not ok)
        return ok, why

    def fresh(self) -> FavourableTracker:
        """A new tracker with the same rule and no history."""
        return FavourableTracker(self.rule)
