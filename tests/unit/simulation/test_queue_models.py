"""Queue models: the documented formulas, their spec strings, and the compiled versions."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.exceptions import ConfigError
from myopic_sor.simulation import (
    LogProbabilisticQueue,
    ProbabilisticQueue,
    QueueModel,
    RiskAverseQueue,
    queue_model_from_spec,
)
from myopic_sor.simulation._kernels import queue_depth_update
from myopic_sor.simulation._queue import queue_model_from_code


@numba.njit
def _compiled_depth(  # noqa: PLR0917 - the kernel helper's positional signature
    code: int, param: float, a: float, p: float, n: float, tr: float
) -> float:
    return queue_depth_update(code, param, a, p, n, tr)


def test_specs() -> None:
    assert queue_model_from_spec("risk-averse") == RiskAverseQueue()
    assert queue_model_from_spec(" Prob-Power:3 ") == ProbabilisticQueue(3.0)
    assert queue_model_from_spec("prob-power") == ProbabilisticQueue(1.0)
    assert queue_model_from_spec("prob-log") == LogProbabilisticQueue()
    model = ProbabilisticQueue(2.5)
    assert queue_model_from_spec(model) is model
    assert queue_model_from_spec(model.name) == model
    assert isinstance(model, QueueModel)
    for bad in ("fifo", "prob-power:x", "prob-power:0", "prob-power:-1", "prob-power:inf"):
        with pytest.raises(ConfigError, match="queue model"):
            queue_model_from_spec(bad)
    with pytest.raises(ConfigError, match="power n"):
        ProbabilisticQueue(0.0)


def test_risk_averse_rules() -> None:
    q = RiskAverseQueue()
    assert q.on_entry(500) == 500
    assert q.on_trade(500, 120) == 380
    assert q.on_depth(380, 500, 1000, 0) == 380  # growth behind us changes nothing
    assert q.on_depth(380, 1000, 200, 0) == 200  # a level below our position: move up
    assert q.on_depth(-0.4, 200, 0, 0) == -0.4  # a cancel never executes us


def test_probabilistic_rules_by_hand() -> None:
    p1 = ProbabilisticQueue(1.0)
    # front 300, back 700, 100 cancelled: 30 % of it ahead
    assert p1.on_depth(300, 1000, 900, 0) == pytest.approx(270)
    # the same fall fully explained by trades: no move
    assert p1.on_depth(300, 1000, 900, 100) == pytest.approx(300)
    # 900 cancelled, 30 % ahead: 270 ahead of us, 630 of the 700 behind
    assert p1.on_depth(300, 1000, 100, 0) == pytest.approx(30)
    # with n = 4, 97 % of it "behind" is more than the 700 there: the excess is ahead
    assert ProbabilisticQueue(4.0).on_depth(300, 1000, 100, 0) == pytest.approx(100)
    p2 = ProbabilisticQueue(2.0)
    assert p2.prob_behind(300, 700) == pytest.approx(0.49 / 0.58)
    assert p2.on_depth(300, 1000, 900, 0) == pytest.approx(300 - 100 * 0.09 / 0.58)
    lg = LogProbabilisticQueue()
    pb = math.log1p(700) / (math.log1p(700) + math.log1p(300))
    assert lg.on_depth(300, 1000, 900, 0) == pytest.approx(300 - 100 * (1 - pb))
    assert p1.prob_behind(0, 0) == 1.0


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from([0, 1, 2]),
    n=st.floats(0.1, 5.0),
    prev=st.integers(0, 5000),
    frac=st.floats(0.0, 1.0),
    new=st.integers(0, 5000),
    traded=st.integers(0, 500),
)
def test_compiled_depth_update_matches_the_models(  # noqa: PLR0917 - hypothesis arguments
    code: int, n: float, prev: int, frac: float, new: int, traded: int
) -> None:
    ahead = frac * prev
    model = queue_model_from_code(code, n)
    want = model.on_depth(ahead, prev, new, traded)
    got = _compiled_depth(code, n, ahead, float(prev), float(new), float(traded))
    assert got == pytest.approx(want, rel=1e-12, abs=1e-9)
    assert got <= max(new, ahead) + 1e-9  # never behind the level nor pushed back
    assert got >= min(ahead, 0.0) - 1e-9


def test_models_are_ordered_on_the_same_cancel() -> None:
    # front 200, back 800 of 1000; 300 cancelled: higher n credits less to the front
    vals = [ProbabilisticQueue(n).on_depth(200, 1000, 700, 0) for n in (0.5, 1.0, 2.0, 4.0)]
    assert np.all(np.diff(vals) > 0)
    assert RiskAverseQueue().on_depth(200, 1000, 700, 0) >= vals[-1]
