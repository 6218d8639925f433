r"""Queue-position models of our resting limit orders in a replayed book (MATH.md §7).

A replay shows the displayed size at each price, not the individual orders, so the shares ahead
of our order are estimated. On entry we join the back of the queue: ahead = the displayed size
at our price (0 when our price improves the touch). Then, as in hftbacktest's queue models:

* a **trade at our price** (on our side) of q shares advances us by q; the part of q beyond the
  shares ahead fills us;
* a **change of the displayed size at our price** from ``prev`` to ``new`` updates the estimate.

:class:`RiskAverseQueue` only lets trades advance us; when the level shrinks below our position
we move up to its size: ahead ← min(ahead, new). It never credits a cancellation to the front of
the queue, so it is the conservative (slowest-filling) model.

:class:`ProbabilisticQueue` also credits decreases not explained by trades. With ``traded`` the
trade volume at our price since the previous size change, ``c = prev − new − traded`` is the
unexplained decrease (cancellations). If ``c ≤ 0`` (the level grew) ahead ← min(ahead, new).
Otherwise, with ``front`` = ahead and ``back = prev − front``, a cancellation falls **behind** us
with probability

.. math::

    p = \frac{f(\mathrm{back})}{f(\mathrm{back}) + f(\mathrm{front})},

so in expectation ``(1 − p) c`` of it was ahead of us, and

.. math::

    \mathrm{ahead} \leftarrow \min\bigl(\mathrm{front} - (1 - p)\,c
        + \min(\mathrm{back} - p\,c,\ 0),\ \mathrm{new}\bigr)

(the second term moves the part of ``c`` that cannot fit behind us to the front). This is the
expected value of the random update, so no random numbers are drawn and a replay is
deterministic. ``f(x) = x^n`` (hftbacktest's ``PowerProbQueueFunc``): n = 1 spreads
cancellations uniformly over the queue (we advance by ``c · front / prev``, the rule of the
synthetic market), larger n puts them more at the back (we advance more slowly when near the
front). :class:`LogProbabilisticQueue` uses ``f(x) = log(1 + x)``. A cancellation never executes
us: a depth update does not take ``ahead`` below ``min(ahead_before, 0)``.

Each model carries a ``kernel_code``/``kernel_param`` pair: the compiled replay loop
(:mod:`myopic_sor.simulation._kernels`) evaluates the same formulas, and the plain-Python twin
(:mod:`myopic_sor.simulation._python`) calls these classes' methods, so the parity test checks
one against the other.

References
----------
hftbacktest, ``src/backtest/models/queue.rs`` (RiskAdverseQueueModel, ProbQueueModel);
https://quant.stackexchange.com/questions/3782 ; Rigtorp, "Estimating order queue position" (2013).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from myopic_sor.exceptions import ConfigError

__all__ = [
    "QUEUE_LOG_PROB",
    "QUEUE_POWER_PROB",
    "QUEUE_RISK_AVERSE",
    "LogProbabilisticQueue",
    "ProbabilisticQueue",
    "QueueModel",
    "RiskAverseQueue",
    "queue_model_from_code",
    "queue_model_from_spec",
]

#: Kernel code of :class:`RiskAverseQueue`.
QUEUE_RISK_AVERSE: Final = 0
#: Kernel code of :class:`ProbabilisticQueue` (parameter: the power n).
QUEUE_POWER_PROB: Final = 1
#: Kernel code of :class:`LogProbabilisticQueue`.
QUEUE_LOG_PROB: Final = 2


@runtime_checkable
class QueueModel(Protocol):
    """Estimate the shares ahead of our resting limit order (hftbacktest's queue-model trait).

    Quantities are shares (floats: an expected value may be fractional). The replay calls
    :meth:`on_entry` when the order starts resting, :meth:`on_trade` for each trade at our
    price on our side, and :meth:`on_depth` when the displayed size at our price changes.
    """

    @property
    def name(self) -> str:
        """The spec that builds this model (``queue_model_from_spec(model.name)``)."""
        ...

    @property
    def kernel_code(self) -> int:
        """Which formula the compiled replay loop evaluates (a ``QUEUE_*`` code)."""
        ...

    @property
    def kernel_param(self) -> float:
        """The formula's parameter (the power n; 0 when unused)."""
        ...

    def on_entry(self, level_qty: float) -> float:
        """Shares ahead when we join a level displaying ``level_qty`` shares."""
        ...

    def on_trade(self, ahead: float, qty: float) -> float:
        """Shares ahead after ``qty`` shares traded at our price (may go negative: the excess
        over the shares ahead is ours)."""
        ...

    def on_depth(self, ahead: float, prev_qty: float, new_qty: float, traded: float) -> float:
        """Shares ahead after the displayed size at our price went from ``prev_qty`` to
        ``new_qty``, ``traded`` shares having traded there since the previous change."""
        ...


def _floor_at(value: float, ahead: float) -> float:
    # a depth change (a cancellation) never executes us
    return max(value, min(ahead, 0.0))


@dataclass(frozen=True, slots=True)
class RiskAverseQueue:
    """Only trades at our price advance us; a level shrinking below our position moves us up
    to its size (the conservative model; see the module docstring).

    Examples
    --------
    >>> q = RiskAverseQueue()
    >>> q.on_depth(q.on_trade(q.on_entry(500), 100), 500, 300, 0)  # 400 ahead, level now 300
    300.0
    """

    @property
    def name(self) -> str:
        """``"risk-averse"``."""
        return "risk-averse"

    @property
    def kernel_code(self) -> int:
        """:data:`QUEUE_RISK_AVERSE`."""
        return QUEUE_RISK_AVERSE

    @property
    def kernel_param(self) -> float:
        """Unused (0)."""
        return 0.0

    def on_entry(self, level_qty: float) -> float:
        """Join the back: ahead = the displayed size."""
        return float(level_qty)

    def on_trade(self, ahead: float, qty: float) -> float:
        """ahead − qty."""
        return float(ahead) - float(qty)

    def on_depth(self, ahead: float, prev_qty: float, new_qty: float, traded: float) -> float:
        """min(ahead, new_qty)."""
        return _floor_at(min(float(ahead), float(new_qty)), float(ahead))


@dataclass(frozen=True, slots=True)
class _ProbBase:
    def _f(self, x: float) -> float:
        raise NotImplementedError

    @property
    def kernel_param(self) -> float:
        """The parameter of ``f`` (0 when it has none)."""
        return 0.0

    def on_entry(self, level_qty: float) -> float:
        """Join the back: ahead = the displayed size."""
        return float(level_qty)

    def on_trade(self, ahead: float, qty: float) -> float:
        """ahead − qty."""
        return float(ahead) - float(qty)

    def prob_behind(self, front: float, back: float) -> float:
        """Probability that a cancellation falls behind us, ``f(back) / (f(back) + f(front))``
        (1 when both are 0)."""
        fb, ff = self._f(max(back, 0.0)), self._f(max(front, 0.0))
        if fb + ff <= 0.0 or not math.isfinite(fb):
            return 1.0
        if not math.isfinite(ff):
            return 0.0
        return fb / (fb + ff)

    def on_depth(self, ahead: float, prev_qty: float, new_qty: float, traded: float) -> float:
        """The expected update of the module docstring."""
        ahead, prev, new = float(ahead), float(prev_qty), float(new_qty)
        chg = prev - new - float(traded)
        if chg <= 0.0:
            return _floor_at(min(ahead, new), ahead)
        front = ahead
        back = prev - front
        p = self.prob_behind(front, back)
        est = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
        return _floor_at(min(est, new), ahead)


@dataclass(frozen=True, slots=True)
class ProbabilisticQueue(_ProbBase):
    """Cancellations advance us by their expected share ahead of us, with
    ``f(x) = x^n`` (hftbacktest's ``PowerProbQueueFunc``; see the module docstring).

    Parameters
    ----------
    n : float
        Power, > 0. n = 1: cancellations uniform over the queue; larger n: more at the back.

    Examples
    --------
    >>> ProbabilisticQueue(1).on_depth(300, 1000, 900, 0)  # 100 cancelled, 30 % of it ahead
    270.0
    """

    n: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.n) and self.n > 0):
            raise ConfigError(f"ProbabilisticQueue: the power n must be finite > 0, got {self.n}")

    def _f(self, x: float) -> float:
        return float(x**self.n)

    @property
    def name(self) -> str:
        """``"prob-power:<n>"``."""
        return f"prob-power:{self.n:g}"

    @property
    def kernel_code(self) -> int:
        """:data:`QUEUE_POWER_PROB`."""
        return QUEUE_POWER_PROB

    @property
    def kernel_param(self) -> float:
        """The power n."""
        return float(self.n)


@dataclass(frozen=True, slots=True)
class LogProbabilisticQueue(_ProbBase):
    """Cancellations advance us by their expected share ahead of us, with
    ``f(x) = log(1 + x)`` (hftbacktest's ``LogProbQueueFunc``)."""

    @property
    def name(self) -> str:
        """``"prob-log"``."""
        return "prob-log"

    @property
    def kernel_code(self) -> int:
        """:data:`QUEUE_LOG_PROB`."""
        return QUEUE_LOG_PROB

    def _f(self, x: float) -> float:
        return math.log1p(x)


_SPEC_HELP: Final = "'risk-averse', 'prob-power:N' (N > 0, e.g. prob-power:2) or 'prob-log'"


def queue_model_from_spec(spec: str | QueueModel) -> QueueModel:
    """Build a queue model from its spec string (a model passes through).

    Parameters
    ----------
    spec : str or QueueModel
        ``"risk-averse"``, ``"prob-power:N"`` (:class:`ProbabilisticQueue` with power N > 0;
        ``"prob-power"`` alone is N = 1) or ``"prob-log"``; case and spaces are ignored.

    Raises
    ------
    ConfigError
        For an unknown spec or a bad N.

    Examples
    --------
    >>> queue_model_from_spec("prob-power:2")
    ProbabilisticQueue(n=2.0)
    """
    if not isinstance(spec, str):
        if isinstance(spec, QueueModel):
            return spec
        raise ConfigError(f"queue model {spec!r}: give a QueueModel or a spec string, {_SPEC_HELP}")
    text = spec.strip().lower().replace(" ", "")
    if text in ("risk-averse", "riskaverse", "risk_averse"):
        return RiskAverseQueue()
    if text == "prob-log":
        return LogProbabilisticQueue()
    head, sep, arg = text.partition(":")
    if head == "prob-power":
        if not sep:
            return ProbabilisticQueue(1.0)
        try:
            n = float(arg)
        except ValueError:
            raise ConfigError(
                f"queue model {spec!r}: N in prob-power:N must be a number > 0, e.g. prob-power:2"
            ) from None
        if not (math.isfinite(n) and n > 0):
            raise ConfigError(f"queue model {spec!r}: N in prob-power:N must be finite > 0")
        return ProbabilisticQueue(n)
    raise ConfigError(f"unknown queue model {spec!r}; use {_SPEC_HELP}")


def queue_model_from_code(code: int, param: float) -> QueueModel:
    """The model a ``(kernel_code, kernel_param)`` pair stands for (used by the Python twin)."""
    if code == QUEUE_RISK_AVERSE:
        return RiskAverseQueue()
    if code == QUEUE_POWER_PROB:
        return ProbabilisticQueue(float(param))
    if code == QUEUE_LOG_PROB:
        return LogProbabilisticQueue()
    raise ConfigError(f"unknown queue kernel code {code}; expected 0, 1 or 2")
