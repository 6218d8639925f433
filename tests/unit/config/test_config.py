"""Tests of the configuration models, the shipped defaults and presets, loading and hashing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from myopic_sor.config import (
    DEFAULTS_PATH,
    PRESETS_PATH,
    DataConfig,
    DataFilterConfig,
    ExecutionConfig,
    LambdaEstimationConfig,
    MarketHoursConfig,
    MyopicConfig,
    MyopicSorConfig,
    RiskConfig,
    StrategyConfig,
    VenueConfig,
    config_hash,
    config_to_dict,
    default_config,
    describe_presets,
    dump_config,
    list_presets,
    load_config,
    parse_period,
    period_label,
)
from myopic_sor.exceptions import ConfigError, DataNotFoundError

# The spec README's parameter blocks, verbatim (Configuration Guide / Advanced Configuration).
SPEC_STRATEGY_PARAMS: dict[str, Any] = {
    "S": 100,
    "T": 5,
    "f": 0.003,
    "r": [0.003],
    "theta": 0.0005,
    "lambda_u": 0.05,
    "lambda_o": 0.05,
    "N": 1000,
}
SPEC_MYOPIC_PARAMS: dict[str, Any] = {
    "lambda_value": 25000.0,
    "beta": 0.693,
    "volatility": 0.01,
    "adv": 1000000.0,
    "T": 6.5,
    "Q_0": 0.01,
}
SPEC_EXECUTION_CONFIG: dict[str, Any] = {
    "order_freq": 120,
    "start_time": ("09", "30"),
    "end_time": ("16", "00"),
    "lookup_duration": (0, 15),
    "use_parallel": True,
    "max_workers": 4,
}
SPEC_LAMBDA_CONFIG: dict[str, Any] = {
    "agg_periods": [0.1, 1, 2, 5, 10, 30, 60, 120, 300],
    "min_r2_threshold": 0.01,
    "preferred_periods": ["60s", "30s", "10s"],
    "fallback_lambda": 25000.0,
}
SPEC_RISK_CONFIG: dict[str, Any] = {
    "max_order_size": 1000,
    "min_order_size": 1,
    "max_impact_threshold": 0.01,
    "stop_loss_threshold": 0.05,
    "position_limit": 10000,
}
SPEC_DATA_FILTERS: dict[str, Any] = {
    "min_spread_bps": 1,
    "max_spread_bps": 100,
    "min_volume": 100,
    "max_price_change": 0.02,
    "exclude_auction": True,
}


def _write(path: Path, data: Any) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _as_tuple_values(d: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


# --------------------------------------------------------------------------------------------
# defaults
# --------------------------------------------------------------------------------------------


def test_defaults_equal_the_spec_values() -> None:
    cfg = default_config()
    assert cfg.strategy.model_dump() == _as_tuple_values(SPEC_STRATEGY_PARAMS)
    assert cfg.myopic.model_dump() == SPEC_MYOPIC_PARAMS
    ex = cfg.execution
    assert ex.order_freq == 120
    assert ex.start_time == dt.time(9, 30)
    assert ex.end_time == dt.time(16, 0)
    assert ex.lookup_duration == (0, 15)
    assert ex.use_parallel is True
    assert ex.max_workers == 4
    assert cfg.lambda_estimation.model_dump() == _as_tuple_values(SPEC_LAMBDA_CONFIG)
    risk = cfg.risk.model_dump()
    assert {k: risk[k] for k in SPEC_RISK_CONFIG} == SPEC_RISK_CONFIG
    assert 0 < cfg.risk.participation_cap <= 1
    assert cfg.data_filters.model_dump() == SPEC_DATA_FILTERS
    assert cfg.market_hours.timezone == "America/New_York"


def test_shipped_yaml_equals_model_defaults() -> None:
    assert default_config() == MyopicSorConfig()
    assert config_hash(default_config()) == config_hash(MyopicSorConfig())


def test_shipped_yaml_comments_every_key_with_a_unit_or_meaning() -> None:
    lines = DEFAULTS_PATH.read_text(encoding="utf-8").splitlines()
    leaf = re.compile(r"^\s+[A-Za-z_0-9]+:\s*\S")  # indented "key: value"
    uncommented = [ln for ln in lines if leaf.match(ln) and "#" not in ln]
    assert uncommented == []
    raw = yaml.safe_load(DEFAULTS_PATH.read_text(encoding="utf-8"))
    assert set(raw) == set(MyopicSorConfig.model_fields)


def test_unit_properties() -> None:
    cfg = default_config()
    assert cfg.strategy.horizon_s == 300.0
    assert cfg.myopic.beta_per_second == pytest.approx(0.693 / 3600)
    assert cfg.myopic.half_life_hours == pytest.approx(math.log(2) / 0.693)
    assert cfg.myopic.half_life_s == pytest.approx(3600 * math.log(2) / 0.693)
    assert cfg.myopic.session_s == 6.5 * 3600
    assert cfg.execution.lookup_duration_s == 900.0
    assert cfg.execution.window_s == 6.5 * 3600
    assert cfg.lambda_estimation.preferred_periods_s == (60.0, 30.0, 10.0)
    assert str(cfg.market_hours.tzinfo) == "America/New_York"


def test_models_are_frozen_and_hashable() -> None:
    cfg = default_config()
    with pytest.raises(ValidationError, match="frozen"):
        cfg.strategy.S = 5  # type: ignore[misc]
    assert hash(cfg) == hash(MyopicSorConfig())


# --------------------------------------------------------------------------------------------
# the spec's dictionaries validate as written
# --------------------------------------------------------------------------------------------


def test_spec_strategy_params_validate() -> None:
    strategy = StrategyConfig(**SPEC_STRATEGY_PARAMS)
    assert strategy.r == (0.003,)
    assert strategy.T == 5.0
    custom = StrategyConfig.model_validate({"S": 500, "T": 10})  # the spec's "custom" example
    assert (custom.S, custom.T, custom.theta) == (500, 10.0, 0.0005)
    without_theta = {k: v for k, v in SPEC_STRATEGY_PARAMS.items() if k != "theta"}
    assert StrategyConfig(**without_theta).theta == 0.0005


def test_spec_myopic_and_execution_blocks_validate() -> None:
    # the spec's parameter-optimisation example omits T and Q_0
    params = MyopicConfig(lambda_value=20000, beta=0.693, volatility=0.01, adv=1000000)
    assert (params.T, params.Q_0) == (6.5, 0.01)
    ex = ExecutionConfig(**SPEC_EXECUTION_CONFIG)
    assert (ex.start_time, ex.end_time) == (dt.time(9, 30), dt.time(16))
    assert LambdaEstimationConfig(**SPEC_LAMBDA_CONFIG).agg_periods[0] == 0.1
    assert RiskConfig(**SPEC_RISK_CONFIG).max_order_size == 1000
    assert DataFilterConfig(**SPEC_DATA_FILTERS).exclude_auction is True


# --------------------------------------------------------------------------------------------
# unknown keys
# --------------------------------------------------------------------------------------------

MISSPELLINGS: list[tuple[type[BaseModel], dict[str, Any], str, str]] = [
    (StrategyConfig, {}, "lamda_u", "lambda_u"),
    (MyopicConfig, {}, "volatilty", "volatility"),
    (ExecutionConfig, {}, "order_frq", "order_freq"),
    (LambdaEstimationConfig, {}, "agg_period", "agg_periods"),
    (RiskConfig, {}, "max_order_sise", "max_order_size"),
    (DataFilterConfig, {}, "min_spred_bps", "min_spread_bps"),
    (VenueConfig, {"name": "XNAS"}, "latency", "latency_us"),
    (MarketHoursConfig, {}, "time_zone", "timezone"),
    (DataConfig, {}, "data_pth", "data_path"),
    (MyopicSorConfig, {}, "stratgy", "strategy"),
]


@pytest.mark.parametrize(("model", "base", "bad", "good"), MISSPELLINGS)
def test_every_model_rejects_unknown_keys_with_a_suggestion(
    model: type[BaseModel], base: dict[str, Any], bad: str, good: str
) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate({**base, bad: 1})
    message = str(info.value)
    assert f"unknown key '{bad}'" in message
    assert f"did you mean '{good}'" in message


def test_file_with_misspelt_key_names_path_file_and_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path / "cfg.yaml", {"strategy": {"S": 200, "lamda_u": 0.1}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "strategy.lamda_u" in message
    assert str(path) in message
    assert "did you mean 'strategy.lambda_u'" in message


def test_file_with_misspelt_section_and_venue_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.json", {"data_filter": {}})
    with pytest.raises(
        ConfigError, match=r"unknown key 'data_filter'; did you mean 'data_filters'"
    ):
        load_config(path)
    path = _write(tmp_path / "b.yaml", {"venues": [{"name": "XNAS", "rebat": 0.002}]})
    with pytest.raises(ConfigError, match=r"'venues\.0\.rebat'; did you mean 'venues\.0\.rebate'"):
        load_config(path)


def test_unknown_key_without_close_match_lists_valid_keys(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", {"risk": {"zzz": 1}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "did you mean" not in str(info.value)
    assert "position_limit" in str(info.value)


# --------------------------------------------------------------------------------------------
# value validators
# --------------------------------------------------------------------------------------------

INVALID: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (StrategyConfig, {"S": 0}, "greater than 0"),
    (StrategyConfig, {"S": 10.5}, "integer"),
    (StrategyConfig, {"T": -1}, "greater than 0"),
    (StrategyConfig, {"f": 30}, "less than or equal to 1"),
    (StrategyConfig, {"r": [0.002, 30]}, r"r\[1\]=30"),
    (StrategyConfig, {"r": []}, "at least one rebate"),
    (StrategyConfig, {"theta": -0.1}, "greater than or equal to 0"),
    (StrategyConfig, {"lambda_u": -1}, "greater than or equal to 0"),
    (StrategyConfig, {"N": 0}, "greater than 0"),
    (MyopicConfig, {"lambda_value": 0}, "greater than 0"),
    (MyopicConfig, {"beta": 0}, "greater than 0"),
    (MyopicConfig, {"volatility": 2.0}, "less than or equal to 1"),
    (MyopicConfig, {"adv": -5}, "greater than 0"),
    (MyopicConfig, {"T": 30}, "less than or equal to 24"),
    (MyopicConfig, {"half_life_hours": 0}, "half_life_hours must be a finite number"),
    (MyopicConfig, {"half_life_hours": 2.0, "beta": 0.693}, "disagree"),
    (ExecutionConfig, {"order_freq": 0}, "greater than 0"),
    (ExecutionConfig, {"start_time": "16:00", "end_time": "09:30"}, "must be before end_time"),
    (ExecutionConfig, {"start_time": "10:00", "end_time": "10:01"}, "longer than the execution"),
    (ExecutionConfig, {"end_time": 960}, "quote it"),
    (ExecutionConfig, {"end_time": "24:00"}, "out of range"),
    (ExecutionConfig, {"end_time": "4pm"}, "HH:MM"),
    (ExecutionConfig, {"end_time": ("16", "xx")}, "digit strings"),
    (ExecutionConfig, {"lookup_duration": (0, 90)}, r"write \(1, 30\)"),
    (ExecutionConfig, {"lookup_duration": (0, 0)}, "empty"),
    (ExecutionConfig, {"max_workers": 0}, "greater than or equal to 1"),
    (LambdaEstimationConfig, {"agg_periods": []}, "at least 1 item"),
    (LambdaEstimationConfig, {"agg_periods": [1, -2]}, "seconds > 0"),
    (LambdaEstimationConfig, {"agg_periods": [1, 1.0]}, "repeats 1s"),
    (LambdaEstimationConfig, {"preferred_periods": ["45s"]}, "not one of agg_periods"),
    (LambdaEstimationConfig, {"preferred_periods": ["60s", "1min"]}, "repeats 60s"),
    (LambdaEstimationConfig, {"preferred_periods": ["sixty"]}, "not a label"),
    (LambdaEstimationConfig, {"min_r2_threshold": 1.0}, "less than 1"),
    (LambdaEstimationConfig, {"fallback_lambda": 0}, "greater than 0"),
    (RiskConfig, {"min_order_size": 2000}, "must be ≤ max_order_size=1000"),
    (RiskConfig, {"max_order_size": 20000}, "must be ≤ position_limit=10000"),
    (RiskConfig, {"participation_cap": 1.5}, "less than or equal to 1"),
    (RiskConfig, {"max_impact_threshold": 0}, "greater than 0"),
    (DataFilterConfig, {"min_spread_bps": 50, "max_spread_bps": 10}, "must be ≤"),
    (DataFilterConfig, {"min_volume": -1}, "greater than or equal to 0"),
    (VenueConfig, {"name": "X NAS"}, "venue name"),
    (VenueConfig, {"name": "XNAS", "latency_us": -1}, "greater than or equal to 0"),
    (VenueConfig, {"name": "XNAS", "fee": 3}, "less than or equal to 1"),
    (MarketHoursConfig, {"timezone": "Mars/Olympus"}, "not an IANA timezone"),
    (MarketHoursConfig, {"open": "16:00", "close": "09:30"}, "must be before close"),
    (DataConfig, {"stock": "  "}, "non-empty symbol"),
    (DataConfig, {"day": "2025-13-40"}, "date"),
    (MyopicSorConfig, {"seed": -1}, "greater than or equal to 0"),
]


@pytest.mark.parametrize(("model", "data", "pattern"), INVALID)
def test_validators_reject_bad_values(
    model: type[BaseModel], data: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValidationError, match=pattern):
        model.model_validate(data)


def test_time_inputs_are_normalised() -> None:
    for value in [("09", "45"), ["9", "45"], (9, 45), "09:45", "9:45", dt.time(9, 45)]:
        assert ExecutionConfig(start_time=value).start_time == dt.time(9, 45)
    assert ExecutionConfig(start_time="09:45:30").start_time == dt.time(9, 45, 30)
    assert ExecutionConfig(start_time=("09", "45", "30")).start_time == dt.time(9, 45, 30)
    aware = dt.time(9, 45, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="carries a timezone"):
        ExecutionConfig(start_time=aware)


def test_half_life_alternative_to_beta() -> None:
    two_hours = MyopicConfig(half_life_hours=2.0)  # type: ignore[call-arg]
    assert two_hours.beta == pytest.approx(math.log(2) / 2)
    assert two_hours.half_life_hours == pytest.approx(2.0)
    assert "half_life_hours" not in two_hours.model_dump()
    both = MyopicConfig.model_validate({"beta": math.log(2) / 4, "half_life_hours": 4})
    assert both.half_life_hours == pytest.approx(4.0)


def test_half_life_in_a_later_layer_replaces_default_beta(tmp_path: Path) -> None:
    path = _write(tmp_path / "hl.yaml", {"myopic": {"half_life_hours": 0.5}})
    cfg = load_config(path)
    assert cfg.myopic.beta == pytest.approx(2 * math.log(2))
    # and a beta given after a half-life wins in turn
    cfg = load_config(path, overrides=["myopic.beta=0.1"])
    assert cfg.myopic.beta == 0.1
    cfg = load_config(overrides=["myopic.half_life_hours=3"])
    assert cfg.myopic.half_life_hours == pytest.approx(3.0)


def test_preferred_periods_are_canonical_labels() -> None:
    cfg = LambdaEstimationConfig(
        preferred_periods=[60, "0.5min", "100ms"], agg_periods=[0.1, 30, 60]
    )
    assert cfg.preferred_periods == ("60s", "30s", "0.1s")
    assert cfg.preferred_periods_s == (60.0, 30.0, 0.1)
    assert period_label(0.1) == "0.1s"
    assert period_label(300.0) == "300s"
    assert parse_period("2min") == 120.0
    assert parse_period("250ms") == 0.25
    with pytest.raises(ValueError, match="> 0"):
        parse_period("0s")


# --------------------------------------------------------------------------------------------
# venues, fees and rebates
# --------------------------------------------------------------------------------------------


def test_venue_names_normalised_and_unique() -> None:
    assert VenueConfig(name=" xnas ").name == "XNAS"
    with pytest.raises(ValidationError, match="repeats the name"):
        MyopicSorConfig.model_validate({"venues": [{"name": "XNAS"}, {"name": "xnas"}]})


def test_rebate_length_must_match_venues_or_be_one() -> None:
    venues = [{"name": "XNAS"}, {"name": "BATS"}, {"name": "ARCX"}]
    with pytest.raises(ValidationError, match=r"strategy\.r has 2 rebates but venues lists 3"):
        MyopicSorConfig.model_validate({"venues": venues, "strategy": {"r": [0.001, 0.002]}})
    cfg = MyopicSorConfig.model_validate(
        {"venues": venues, "strategy": {"r": [0.001, 0.002, 0.0025]}}
    )
    assert cfg.rebate_per_venue() == (0.001, 0.002, 0.0025)
    assert cfg.rebate_per_venue(["ARCX", "xnas"]) == (0.0025, 0.001)
    with pytest.raises(ConfigError, match=r"cannot map strategy\.r"):
        cfg.rebate_per_venue(["IEXG"])


def test_fee_and_rebate_resolution() -> None:
    cfg = MyopicSorConfig.model_validate(
        {
            "strategy": {"f": 0.003, "r": 0.0029},  # a scalar rebate is one for all
            "venues": [
                {"name": "XNAS", "fee": 0.0030, "rebate": 0.0020},
                {"name": "BATY", "fee": -0.0002, "rebate": -0.0003},  # an inverted venue
                {"name": "ARCX"},
            ],
        }
    )
    assert cfg.venue_names == ("XNAS", "BATY", "ARCX")
    assert cfg.fee_per_venue() == (0.0030, -0.0002, 0.003)
    assert cfg.rebate_per_venue() == (0.0020, -0.0003, 0.0029)
    assert cfg.fee_per_venue(["IEXG"]) == (0.003,)
    no_r = MyopicSorConfig.model_validate({"strategy": {"r": None}})
    assert no_r.rebate_per_venue() == (0.0, 0.0, 0.0)


def test_empty_venues_map_rebates_positionally() -> None:
    cfg = MyopicSorConfig.model_validate({"venues": [], "strategy": {"r": [0.001, 0.002]}})
    assert cfg.rebate_per_venue(["XNAS", "BATS"]) == (0.001, 0.002)
    with pytest.raises(ConfigError, match="cannot map"):
        cfg.rebate_per_venue(["XNAS", "BATS", "ARCX"])


def test_cross_section_checks() -> None:
    with pytest.raises(ValidationError, match=r"strategy.S=20000 exceeds risk.position_limit"):
        MyopicSorConfig.model_validate({"strategy": {"S": 20000}})
    with pytest.raises(ValidationError, match="outside market_hours"):
        MyopicSorConfig.model_validate({"execution": {"start_time": "04:00"}})
    extended = MyopicSorConfig.model_validate(
        {"execution": {"start_time": "04:00"}, "market_hours": {"open": "04:00"}}
    )
    assert extended.execution.start_time == dt.time(4)


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def test_bad_value_in_file_names_key_value_constraint_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.yaml", {"risk": {"participation_cap": 3.0}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "'risk.participation_cap'" in message
    assert "3.0" in message
    assert "less than or equal to 1" in message
    assert str(path) in message


def test_missing_file_bad_extension_and_bad_syntax(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(DataNotFoundError, match=re.escape(str(missing))):
        load_config(missing)
    toml = tmp_path / "cfg.toml"
    toml.write_text("x = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown configuration format '\.toml'"):
        load_config(toml)
    broken = tmp_path / "broken.yaml"
    broken.write_text("strategy:\n  S: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid YAML at line \d+"):
        load_config(broken)
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"strategy": {"S": }}', encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_config(bad_json)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(listed)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert load_config(empty) == default_config()


def test_unquoted_yaml_time_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("execution:\n  end_time: 15:00\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"execution\.end_time.*quote it"):
        load_config(path)
    path.write_text("execution:\n  end_time: '15:00'\n", encoding="utf-8")
    assert load_config(path).execution.end_time == dt.time(15)


def test_partial_file_is_deep_merged(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", {"strategy": {"S": 500, "T": 10}, "seed": 7})
    cfg = load_config(path)
    assert (cfg.strategy.S, cfg.strategy.T, cfg.seed) == (500, 10.0, 7)
    assert cfg.strategy.lambda_u == 0.05  # untouched keys keep their defaults
    assert cfg.myopic == default_config().myopic


def test_yaml_and_json_files_are_equivalent(tmp_path: Path) -> None:
    data = {
        "strategy": {"S": 300, "r": [0.002, 0.0025]},
        "venues": [{"name": "XNAS", "latency_us": 40}, {"name": "ARCX", "fee": 0.0028}],
        "execution": {"start_time": ["10", "00"], "end_time": "15:30", "order_freq": 60},
        "data": {"data_path": str(tmp_path), "stock": "AAPL", "day": "2025-04-02"},
    }
    from_yaml = load_config(_write(tmp_path / "c.yaml", data))
    from_json = load_config(_write(tmp_path / "c.json", data))
    assert from_yaml == from_json
    assert config_hash(from_yaml) == config_hash(from_json)
    assert from_yaml.data.day == dt.date(2025, 4, 2)
    assert from_yaml.data.data_path == tmp_path


def test_layer_order_preset_then_file_then_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.yaml", {"execution": {"order_freq": 90}, "risk": {"max_order_size": 300}}
    )
    cfg = load_config(path, preset="aggressive", overrides={"risk": {"max_order_size": 400}})
    assert cfg.execution.order_freq == 90  # file beats preset (30)
    assert cfg.risk.max_order_size == 400  # overrides beat file
    assert cfg.risk.participation_cap == 0.25  # from the preset
    assert cfg.strategy.T == 2.0  # from the preset


def test_override_strings() -> None:
    cfg = load_config(
        overrides=[
            "strategy.S=500",
            "strategy.r=[0.002, 0.001, 0.0015]",
            "execution.start_time=10:15",
            "execution.use_parallel=false",
            "venues.1.fee=0.0025",
            "data.stock=MSFT",
            "seed=null",
        ]
    )
    assert cfg.strategy.S == 500
    assert cfg.strategy.r == (0.002, 0.001, 0.0015)
    assert cfg.execution.start_time == dt.time(10, 15)
    assert cfg.execution.use_parallel is False
    assert cfg.venues[1].fee == 0.0025
    assert cfg.fee_per_venue() == (0.003, 0.0025, 0.003)
    assert cfg.data.stock == "MSFT"
    assert cfg.seed is None
    assert load_config(overrides="strategy.N=10").strategy.N == 10


def test_override_mapping_with_dotted_keys() -> None:
    cfg = load_config(overrides={"strategy.S": 250, "myopic": {"adv": 5e6}})
    assert cfg.strategy.S == 250
    assert cfg.myopic.adv == 5e6


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ("strategy.S", "is not 'section.key=value'"),
        ("strategy.lamda_o=1", r"did you mean 'strategy\.lambda_o'"),
        ("strategy.S.x=1", "is a value, not a section"),
        ("seed.x=1", "is a value, not a section"),
        ("venues.7.fee=0.001", "has 3 entries, no index 7"),
        ("venues.first.fee=0.001", "index a list section by position"),
        ("strategy.S=-5", r"'strategy\.S'.*greater than 0.*-5"),
    ],
)
def test_bad_overrides(override: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(overrides=[override])


# --------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------


def test_presets_listed_described_and_loadable() -> None:
    names = list_presets()
    assert names == sorted(names)
    assert {"default", "conservative", "aggressive", "high_frequency", "spec"} <= set(names)
    descriptions = describe_presets()
    assert all(len(descriptions[name]) > 20 for name in names)
    for name in names:
        assert isinstance(load_config(preset=name), MyopicSorConfig)


def test_preset_semantics() -> None:
    base = default_config()
    assert load_config(preset="default") == base
    assert load_config(preset="spec") == base  # the spec's blocks are the defaults
    slow = load_config(preset="conservative")
    assert slow.execution.order_freq > base.execution.order_freq
    assert slow.risk.max_order_size < base.risk.max_order_size
    assert slow.risk.participation_cap < base.risk.participation_cap
    fast = load_config(preset="aggressive")
    assert fast.execution.order_freq < base.execution.order_freq
    assert fast.risk.participation_cap > base.risk.participation_cap
    hf = load_config(preset="high_frequency")
    assert hf.execution.order_freq <= 10
    assert hf.strategy.horizon_s < base.strategy.horizon_s


def test_spec_preset_is_exactly_the_spec_blocks() -> None:
    raw = json.loads(PRESETS_PATH.read_text(encoding="utf-8"))["spec"]
    assert raw["strategy"] == SPEC_STRATEGY_PARAMS
    assert raw["myopic"] == SPEC_MYOPIC_PARAMS
    assert raw["execution"] == {
        k: list(v) if isinstance(v, tuple) else v for k, v in SPEC_EXECUTION_CONFIG.items()
    }
    assert raw["lambda_estimation"] == SPEC_LAMBDA_CONFIG
    assert raw["risk"] == SPEC_RISK_CONFIG
    assert raw["data_filters"] == SPEC_DATA_FILTERS


def test_unknown_preset_suggests() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown preset 'agressive' \(did you mean 'aggressive'\?\); available presets",
    ):
        load_config(preset="agressive")


# --------------------------------------------------------------------------------------------
# hashing, dict and dump
# --------------------------------------------------------------------------------------------


def test_config_hash_equal_different_and_canonical() -> None:
    a = default_config()
    b = MyopicSorConfig.model_validate(config_to_dict(a))
    assert a is not b
    assert config_hash(a) == config_hash(b)
    assert re.fullmatch(r"[0-9a-f]{12}", config_hash(a))
    assert config_hash(load_config(overrides=["strategy.S=101"])) != config_hash(a)
    assert config_hash(load_config(overrides=["seed=43"])) != config_hash(a)
    canonical = json.dumps(config_to_dict(a), sort_keys=True, separators=(",", ":"))
    assert config_hash(a) == hashlib.sha256(canonical.encode()).hexdigest()[:12]


def test_config_hash_ignores_key_order_in_source(tmp_path: Path) -> None:
    data = {
        "strategy": {"S": 300, "T": 7, "N": 200},
        "risk": {"participation_cap": 0.2, "max_order_size": 500},
        "seed": 3,
    }
    reordered = {
        "seed": 3,
        "risk": {"max_order_size": 500, "participation_cap": 0.2},
        "strategy": {"N": 200, "T": 7, "S": 300},
    }
    first = load_config(_write(tmp_path / "a.yaml", data))
    second = load_config(_write(tmp_path / "b.yaml", reordered))
    assert first == second
    assert config_hash(first) == config_hash(second)


def test_config_to_dict_is_json_safe() -> None:
    cfg = load_config(
        overrides={"execution": {"end_time": "15:59:30"}, "data": {"day": "2025-04-02"}}
    )
    data = config_to_dict(cfg)
    json.dumps(data)  # no TypeError
    assert data["execution"]["start_time"] == "09:30"
    assert data["execution"]["end_time"] == "15:59:30"
    assert data["market_hours"] == {
        "open": "09:30",
        "close": "16:00",
        "timezone": "America/New_York",
    }
    assert data["data"]["day"] == "2025-04-02"
    assert data["strategy"]["r"] == [0.003]
    assert list(data) == list(MyopicSorConfig.model_fields)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_then_load_round_trips(tmp_path: Path, fmt: str) -> None:
    cfg = load_config(
        preset="high_frequency",
        overrides={
            "strategy": {"r": [0.001, 0.002, 0.0015]},
            "myopic": {"half_life_hours": 0.25},
            "execution": {"end_time": "15:45:10"},
            "venues": [
                {"name": "XNAS", "fee": 0.003, "rebate": 0.0021},
                {"name": "EDGA", "fee": -0.0002},
                {"name": "ARCX", "latency_us": 120},
            ],
            "data": {"data_path": str(tmp_path / "data"), "stock": "AAPL", "day": "2025-04-02"},
            "seed": 11,
        },
    )
    text = dump_config(cfg, fmt=fmt)  # type: ignore[arg-type]
    path = tmp_path / f"dumped.{fmt}"
    path.write_text(text, encoding="utf-8")
    again = load_config(path)
    assert again == cfg
    assert config_hash(again) == config_hash(cfg)
    if fmt == "yaml":
        assert text.startswith(f"# myopic-sor configuration, config_hash {config_hash(cfg)}")
        assert "start_time: '09:30'" in text  # quoted: YAML 1.1 would read 16:00 as 960
        assert "r: [0.001, 0.002, 0.0015]" in text


def test_dump_rejects_unknown_format() -> None:
    with pytest.raises(ConfigError, match="unknown dump format 'toml'"):
        dump_config(default_config(), fmt="toml")  # type: ignore[arg-type]
