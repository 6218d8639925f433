"""The traditional mode's "favourable conditions" rule: skip a slot when routing now looks dear.

The rule judges the router's expected cost per share of the child it would send now
(``Allocation.expected_cost / size``, currency per share: it moves with the spread, the queue
lengths and the recent outflow), against one of two references:

* ``"rolling_median"`` (default): the median of the costs per share of the last ``window``
  decisions of the same run (causal: only past decisions). A slot is unfavourable when the cost
  exceeds that median by more than ``tolerance`` (relative). Until ``min_history`` decisions
  exist every slot is favourable. Why the default: it adapts to the stock and the day without a
  parameter in currency, and it skips exactly the moments that are worse than usual.
* ``"half_spread_fee"``: unfavourable when the cost per share exceeds ``(h + f)·(1 +
  tolerance)``, the cost of crossing the spread now — i.e. when even the router's best mix is
  dearer than a plain market order would be in a normal book (it happens when the penalties
  and θ dominate).

Every check is recorded (favourable or not), so the median follows the conditions. Skipped
quantity is carried over by the strategy; the last slot is never skipped.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from myopic_sor.exceptions import ConfigError

__all__ = ["FavourableRule"]


@dataclass
class FavourableRule:
    """A configurable, stateful skip rule (see the module notes).

    Parameters
    ----------
    kind : {"rolling_median", "half_spread_fee"}, default "rolling_median"
    window : int, default 20
        Past decisions in the rolling median.
    tolerance : float, default 0.0
        Relative slack above the reference before a slot is skipped.
    min_history : int, default 5
        Decisions needed before ``rolling_median`` can skip.
    """

    kind: Literal["rolling_median", "half_spread_fee"] = "rolling_median"
    window: int = 20
    tolerance: float = 0.0
    min_history: int = 5
    _history: deque[float] = field(default_factory=deque, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("rolling_median", "half_spread_fee"):
            raise ConfigError(f"kind={self.kind!r}: use rolling_median or half_spread_fee")
        if self.window < 1 or self.min_history < 1:
            raise ConfigError("window and min_history must be >= 1")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ConfigError(f"tolerance must be a finite number >= 0, got {self.tolerance}")
        self._history = deque(maxlen=self.window)

    def fresh(self) -> FavourableRule:
        """A new rule with the same settings and no history (one per backtest run)."""
        return FavourableRule(self.kind, self.window, self.tolerance, self.min_history)

    def check(self, cost_per_share: float, *, half_spread: float, fee: float) -> tuple[bool, str]:
        """Return (favourable, reason) for a child whose routed cost is ``cost_per_share``,
        and record it."""
        c = float(cost_per_share)
        if self.kind == "half_spread_fee":
            ref = (half_spread + fee) * (1.0 + self.tolerance)
            ok = not c > ref
            why = f"cost {c:.6g}/sh {'<=' if ok else '>'} (h + f)(1 + tol) = {ref:.6g}"
        elif len(self._history) < self.min_history:
            ok, why = True, f"{len(self._history)} past decisions < min_history {self.min_history}"
        else:
            med = float(np.median(np.asarray(self._history)))
            ref = med * (1.0 + self.tolerance) if med >= 0 else med * (1.0 - self.tolerance)
            ok = not c > ref
            why = f"cost {c:.6g}/sh {'<=' if ok else '>'} rolling median {med:.6g}/sh (tol)"
        self._history.append(c)
        return ok, why
