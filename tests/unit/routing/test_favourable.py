"""The traditional mode's favourable-conditions rule and its tracker."""

from __future__ import annotations

import numpy as np
import pytest

from myopic_sor.exceptions import ConfigError
from myopic_sor.routing._favourable import FavourableRule, FavourableTracker

H, F = 0.005, 0.003


def test_rolling_quantile_judges_against_past_costs_only() -> None:
    rule = FavourableRule(window=10, quantile=0.8, min_history=5)
    past = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    q80 = float(np.quantile(past, 0.8))  # 8.2
    assert rule.reference(half_spread=H, fee=F, history=past) == pytest.approx(q80)
    assert rule.is_favourable(q80, half_spread=H, fee=F, history=past)  # at the reference: ok
    assert not rule.is_favourable(q80 + 1e-9, half_spread=H, fee=F, history=past)
    # only the last `window` decisions count
    old = [100.0] * 50 + past
    assert rule.reference(half_spread=H, fee=F, history=old) == pytest.approx(q80)
    # tolerance is an absolute slack in currency per share
    loose = FavourableRule(window=10, quantile=0.8, min_history=5, tolerance=0.5)
    assert loose.is_favourable(q80 + 0.4, half_spread=H, fee=F, history=past)
    assert not loose.is_favourable(q80 + 0.6, half_spread=H, fee=F, history=past)
    # too little history: no reference yet, everything is favourable
    ok, why = rule.explain(1e9, half_spread=H, fee=F, history=past[:4])
    assert ok
    assert "min_history=5" in why


def test_rolling_median_works_with_negative_costs() -> None:
    rule = FavourableRule(kind="rolling_median", window=5, min_history=3)
    past = [-0.004, -0.001, -0.002]  # rebates dominate: negative costs per share
    assert rule.reference(half_spread=H, fee=F, history=past) == -0.002
    assert rule.is_favourable(-0.003, half_spread=H, fee=F, history=past)
    ok, why = rule.explain(-0.0015, half_spread=H, fee=F, history=past)
    assert not ok
    assert "rolling median" in why


def test_half_spread_fee_compares_with_crossing_now() -> None:
    rule = FavourableRule(kind="half_spread_fee")
    assert rule.is_favourable(0.008, H, F, [])  # positional, as in the spec's call
    assert not rule.is_favourable(0.0081, half_spread=H, fee=F, history=[])
    slack = FavourableRule(kind="half_spread_fee", tolerance=0.0005)
    assert slack.is_favourable(0.0085, half_spread=H, fee=F, history=[])
    with pytest.raises(ConfigError, match="half_spread"):
        rule.is_favourable(0.001, half_spread=float("nan"), fee=F, history=[])
    assert FavourableRule(kind="always").is_favourable(1e6, half_spread=H, fee=F, history=[])


def test_tracker_records_every_check_and_starts_fresh() -> None:
    rule = FavourableRule(kind="rolling_median", window=3, min_history=2)
    tracker = rule.fresh()
    assert isinstance(tracker, FavourableTracker)
    verdicts = [tracker.check(c, half_spread=H, fee=F)[0] for c in (5.0, 1.0, 4.0, 2.0, 9.0)]
    # 5: no history; 1: 1 < 2 past; 4 > median(5, 1) = 3 -> skip (recorded anyway);
    # 2 <= median(5, 1, 4) = 4; 9 > median(1, 4, 2) = 2 -> skip
    assert verdicts == [True, True, False, True, False]
    assert tracker.history == (4.0, 2.0, 9.0)
    assert (tracker.n_checked, tracker.n_unfavourable) == (5, 2)
    again = tracker.fresh()
    assert again.history == ()
    assert again.rule == rule
    assert again.check(100.0, half_spread=H, fee=F)[0]


def test_default_rule_skips_about_one_slot_in_five_in_a_steady_market() -> None:
    tracker = FavourableRule().fresh()
    costs = np.random.default_rng(0).normal(0.002, 0.001, 4000)
    skipped = sum(not tracker.check(c, half_spread=H, fee=F)[0] for c in costs)
    assert skipped / costs.size == pytest.approx(0.2, abs=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "never"}, "kind"),
        ({"window": 0}, "window"),
        ({"min_history": 0}, "min_history"),
        ({"window": 3, "min_history": 4}, "exceeds window"),
        ({"quantile": 0.0}, "quantile"),
        ({"tolerance": -1.0}, "tolerance"),
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        FavourableRule(**kwargs)  # type: ignore[arg-type]


def test_non_finite_cost_is_refused() -> None:
    with pytest.raises(ConfigError, match="cost_per_share"):
        FavourableRule().fresh().check(float("inf"), half_spread=H, fee=F)
