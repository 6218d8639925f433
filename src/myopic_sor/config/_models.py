"""Typed, validated configuration: one frozen pydantic model per section of the spec.

The field names are the spec's (``S``, ``T``, ``f``, ``r``, ``lambda_u``, ``order_freq``, ...) so
the spec's dictionaries validate unchanged; every field documents its unit, and properties give
the values in the package's internal units (seconds, per second).

Unit conventions (``shared/design/MATH.md``):

* fees ``f`` and rebates ``r`` are **currency per share** (US access fees are quoted as
  $0.003/share; the spec's "30 bps" comment on ``f`` is a misnomer);
* ``beta`` is per **hour** as in the spec (``beta = ln 2 / half_life_hours``); the models use
  :attr:`MyopicConfig.beta_per_second` internally;
* ``volatility`` is the **daily** return volatility (0.01 = 1 %), ``adv`` is shares per day;
* the router horizon ``StrategyConfig.T`` is in **minutes**, the session length
  ``MyopicConfig.T`` in **hours**, ``ExecutionConfig.order_freq`` in **seconds**.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from myopic_sor.exceptions import ConfigError

__all__ = [
    "DataConfig",
    "DataFilterConfig",
    "ExecutionConfig",
    "LambdaEstimationConfig",
    "MarketHoursConfig",
    "MyopicConfig",
    "MyopicSorConfig",
    "RiskConfig",
    "StrategyConfig",
    "VenueConfig",
    "parse_period",
    "period_label",
]

_LN2: Final = math.log(2.0)
_SECONDS_PER_HOUR: Final = 3600.0
_SECONDS_PER_MINUTE: Final = 60.0
#: Sanity bound on |fee| and |rebate| (currency per share); catches values entered in bps.
_MAX_ABS_FEE: Final = 1.0
#: Relative tolerance under which ``beta`` and ``half_life_hours`` given together agree.
_BETA_HALF_LIFE_RTOL: Final = 1e-6

_TIME_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_PERIOD_RE: Final = re.compile(r"^\s*((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(ms|s|sec|min|m)?\s*$")


# --------------------------------------------------------------------------------------------
# helpers shared by the models and the loader
# --------------------------------------------------------------------------------------------


def suggest_key(key: str, valid: Iterable[str]) -> str | None:
    """Closest valid key to a misspelt one (difflib ratio ≥ 0.6), or None."""
    matches = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_message(key: str, path: str, valid: Iterable[str]) -> str:
    """Message for an unknown key: names the full key path, a suggestion and the valid keys."""
    valid_sorted = sorted(valid)
    suggestion = suggest_key(key, valid_sorted)
    prefix = path[: len(path) - len(key)] if path.endswith(key) else ""
    hint = f"; did you mean '{prefix}{suggestion}'?" if suggestion is not None else ""
    return f"unknown key '{path}'{hint} Valid keys here: {', '.join(valid_sorted)}."


def _format_time(value: dt.time) -> str:
    if value.second or value.microsecond:
        return value.strftime("%H:%M:%S")
    return value.strftime("%H:%M")


def _parse_time(value: Any) -> dt.time:
    """Normalise ``("09", "30")``, ``"09:30"``, ``[9, 30, 0]`` or a ``datetime.time``."""
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError(
                f"time {value.isoformat()} carries a timezone; give a naive time, it is read "
                "in market_hours.timezone"
            )
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a time such as '09:30' or ('09', '30'), got {value!r}")
    if isinstance(value, int):
        raise ValueError(
            f"expected a time such as '09:30' or ('09', '30'), got the integer {value}. "
            "In YAML an unquoted 16:00 is read as the base-60 number 960: quote it ('16:00')"
        )
    parts: list[Any]
    if isinstance(value, str):
        match = _TIME_RE.match(value.strip())
        if match is None:
            raise ValueError(f"expected a time 'HH:MM' or 'HH:MM:SS', got {value!r}")
        parts = [g for g in match.groups() if g is not None]
    elif isinstance(value, Sequence) and 2 <= len(value) <= 3:
        parts = list(value)
    else:
        raise ValueError(
            f"expected a time such as '09:30', ('09', '30') or datetime.time, got {value!r}"
        )
    numbers: list[int] = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, int | str):
            raise ValueError(f"time components must be integers or digit strings, got {value!r}")
        if isinstance(part, str) and not part.strip().isdigit():
            raise ValueError(f"time components must be integers or digit strings, got {value!r}")
        numbers.append(int(part))
    hour, minute = numbers[0], numbers[1]
    second = numbers[2] if len(numbers) == 3 else 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise ValueError(f"time {value!r} is out of range (hour 0-23, minute and second 0-59)")
    return dt.time(hour, minute, second)


def _seconds_of_day(value: dt.time) -> float:
    return value.hour * 3600.0 + value.minute * 60.0 + value.second + value.microsecond * 1e-6


def period_label(seconds: float) -> str:
    """Label of an aggregation period as the spec writes it: ``60.0`` → ``'60s'``.

    Parameters
    ----------
    seconds : float
        Aggregation period, in seconds (> 0).

    Returns
    -------
    str
        ``f"{seconds:g}s"``, e.g. ``'0.1s'``, ``'1s'``, ``'300s'`` (the keys of the spec's
        ``estimate_lambda`` result).

    Examples
    --------
    >>> period_label(0.1), period_label(60)
    ('0.1s', '60s')
    """
    return f"{float(seconds):g}s"


def parse_period(value: str | float) -> float:
    """Parse a period label (``'60s'``, ``'100ms'``, ``'2min'`` or a number) to seconds.

    Parameters
    ----------
    value : str or float
        A label with unit ``ms``, ``s`` (default), ``min`` or ``m``; a bare number is seconds.

    Returns
    -------
    float
        The period in seconds.

    Raises
    ------
    ValueError
        If the label cannot be parsed or is not strictly positive.

    Examples
    --------
    >>> parse_period("60s"), parse_period("100ms"), parse_period("2min")
    (60.0, 0.1, 120.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"period {value!r} is not a number or a label like '60s'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _PERIOD_RE.match(str(value).lower())
        if match is None:
            raise ValueError(f"period {value!r} is not a label like '60s', '100ms' or '2min'")
        number = float(match.group(1))
        unit = match.group(2) or "s"
        scale = {"ms": 1e-3, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0}[unit]
        seconds = number * scale
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"period {value!r} must be a finite number of seconds > 0")
    return seconds


# --------------------------------------------------------------------------------------------
# base model
# --------------------------------------------------------------------------------------------


class _Section(BaseModel):
    """Frozen, strict-keys base: an unknown key is an error naming the key and a suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    #: Keys accepted on input that are not fields (converted by a before-validator).
    _input_only_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def accepted_keys(cls) -> frozenset[str]:
        """Keys this section accepts on input (its fields plus input-only aliases)."""
        return frozenset(cls.model_fields) | cls._input_only_keys

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            valid = cls.accepted_keys()
            for key in data:
                if key not in valid:
                    raise ValueError(unknown_key_message(str(key), str(key), valid))
        return data


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------


class StrategyConfig(_Section):
    """Cont-Kukanov router parameters, the spec's ``strategy_params`` (MATH.md §5).

    Any subset of the spec's dictionary validates; missing keys take the spec's values
    (``S=100, T=5, f=0.003, r=[0.003], theta=0.0005, lambda_u=0.05, lambda_o=0.05, N=1000``).

    Notes
    -----
    ``f`` and ``r`` are **currency per share**, not basis points (the spec's "30 bps" comment
    on ``f`` is a misnomer: 0.003 is the US access-fee cap of $0.003/share). Negative values
    are allowed (inverted venues pay takers and charge makers); ``|f|, |r| ≤ 1`` is a sanity
    bound that catches values typed in bps. See :class:`MyopicSorConfig` for how ``r`` maps to
    the configured venues.
    """

    S: int = Field(100, gt=0, description="Total order size handed to the router (shares).")
    T: float = Field(
        5.0, gt=0, le=24 * 60, description="Router horizon T_r (minutes); see `horizon_s`."
    )
    f: float = Field(
        0.003,
        ge=-_MAX_ABS_FEE,
        le=_MAX_ABS_FEE,
        description="Taker fee for market orders (currency per share, not bps).",
    )
    r: tuple[float, ...] | None = Field(
        (0.003,),
        description=(
            "Maker rebates for limit orders, one per venue or one for all (currency per "
            "share). A bare number means one for all. None: use each venue's `rebate`."
        ),
    )
    theta: float = Field(
        0.0005, ge=0, description="Impact cost per share placed, θ (currency per share)."
    )
    lambda_u: float = Field(
        0.05, ge=0, description="Underfill penalty λ_u (currency per share not executed)."
    )
    lambda_o: float = Field(
        0.05, ge=0, description="Overfill penalty λ_o (currency per share executed beyond S)."
    )
    N: int = Field(1000, gt=0, description="Monte Carlo samples of the queue outflow ξ.")

    @field_validator("r", mode="before")
    @classmethod
    def _scalar_rebate(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (value,)
        return value

    @field_validator("r")
    @classmethod
    def _check_rebates(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if len(value) == 0:
            raise ValueError("r must hold at least one rebate (or be null to use venue rebates)")
        for k, rebate in enumerate(value):
            if not math.isfinite(rebate) or abs(rebate) > _MAX_ABS_FEE:
                raise ValueError(
                    f"r[{k}]={rebate!r} must be finite with |r| ≤ {_MAX_ABS_FEE} currency per "
                    "share (rebates are per share, not bps: write 0.002 for $0.002/share)"
                )
        return value

    @property
    def horizon_s(self) -> float:
        """Router horizon T_r in seconds (``T * 60``)."""
        return self.T * _SECONDS_PER_MINUTE


class MyopicConfig(_Section):
    """Transient-impact model parameters, the spec's ``MyopicParameters`` (MATH.md §1, §3).

    Notes
    -----
    Give the impact decay either as ``beta`` (per hour, as in the spec) or as
    ``half_life_hours``; ``beta = ln 2 / half_life_hours``. Only ``beta`` is stored.
    Across configuration layers (defaults → preset → file → overrides) the later one wins: a
    file that sets ``half_life_hours: 2`` replaces the default ``beta``. Within one mapping,
    giving both is an error unless they agree to a relative 1e-6.

    The spec's ``beta=0.693`` is ln 2 rounded: a half-life of 1.0002 hours.
    """

    _input_only_keys: ClassVar[frozenset[str]] = frozenset({"half_life_hours"})

    lambda_value: float = Field(
        25000.0,
        gt=0,
        description=(
            "Impact coefficient λ (price units per unit of normalised flow q·σ/ADV); "
            "usually estimated, this is the prior."
        ),
    )
    beta: float = Field(
        0.693, gt=0, description="Impact decay rate β (per hour); ln 2 / half-life in hours."
    )
    volatility: float = Field(
        0.01, gt=0, le=1.0, description="Daily return volatility σ (0.01 = 1 % per day)."
    )
    adv: float = Field(1_000_000.0, gt=0, description="Average daily volume (shares per day).")
    T: float = Field(6.5, gt=0, le=24.0, description="Trading session length (hours).")
    Q_0: float = Field(0.01, description="Initial position normalisation (fraction of ADV).")

    @model_validator(mode="before")
    @classmethod
    def _half_life_to_beta(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "half_life_hours" not in data:
            return data
        out = dict(data)
        half_life = out.pop("half_life_hours")
        if isinstance(half_life, bool) or not isinstance(half_life, int | float):
            raise ValueError(f"half_life_hours must be a number of hours > 0, got {half_life!r}")
        if not (math.isfinite(half_life) and half_life > 0):
            raise ValueError(
                f"half_life_hours must be a finite number of hours > 0, got {half_life!r}"
            )
        beta_from_half_life = _LN2 / float(half_life)
        if "beta" in out and out["beta"] is not None:
            beta = out["beta"]
            if not isinstance(beta, int | float) or not math.isclose(
                float(beta), beta_from_half_life, rel_tol=_BETA_HALF_LIFE_RTOL
            ):
                raise ValueError(
                    f"beta={beta!r} (per hour) and half_life_hours={half_life!r} disagree "
                    f"(ln 2 / {half_life} = {beta_from_half_life:.6g}); give only one of them"
                )
        out["beta"] = beta_from_half_life
        return out

    @property
    def beta_per_second(self) -> float:
        """Impact decay rate β in 1/s (``beta / 3600``), the unit used inside the models."""
        return self.beta / _SECONDS_PER_HOUR

    @property
    def half_life_hours(self) -> float:
        """Half-life of the transient impact, in hours (``ln 2 / beta``)."""
        return _LN2 / self.beta

    @property
    def half_life_s(self) -> float:
        """Half-life of the transient impact, in seconds."""
        return self.half_life_hours * _SECONDS_PER_HOUR

    @property
    def session_s(self) -> float:
        """Trading session length in seconds (``T * 3600``)."""
        return self.T * _SECONDS_PER_HOUR


class ExecutionConfig(_Section):
    """Engine clock and parallelism, the spec's ``execution_config``.

    Times accept the spec's tuples ``("09", "30")``, strings ``"09:30"`` (or ``"09:30:15"``)
    and :class:`datetime.time`; they are stored as naive :class:`datetime.time` in the market
    timezone (``market_hours.timezone``) and written back as ``"HH:MM"``.
    """

    order_freq: float = Field(
        120.0, gt=0, description="Interval between decisions of the traditional clock (seconds)."
    )
    start_time: dt.time = Field(
        dt.time(9, 30), description="Start of the execution window (market local time)."
    )
    end_time: dt.time = Field(
        dt.time(16, 0), description="End of the execution window (market local time)."
    )
    lookup_duration: tuple[int, int] = Field(
        (0, 15), description="Look-back window for the router's statistics (hours, minutes)."
    )
    use_parallel: bool = Field(True, description="Run independent jobs in parallel.")
    max_workers: int = Field(4, ge=1, description="Number of parallel workers.")

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _normalise_time(cls, value: Any) -> dt.time:
        return _parse_time(value)

    @field_serializer("start_time", "end_time", when_used="json")
    def _serialise_time(self, value: dt.time) -> str:
        return _format_time(value)

    @field_validator("lookup_duration")
    @classmethod
    def _check_lookup(cls, value: tuple[int, int]) -> tuple[int, int]:
        hours, minutes = value
        if hours < 0 or not 0 <= minutes < 60:
            raise ValueError(
                f"lookup_duration={value!r} must be (hours ≥ 0, minutes in 0..59); "
                "write (1, 30) rather than (0, 90)"
            )
        if hours == 0 and minutes == 0:
            raise ValueError("lookup_duration=(0, 0) is empty; the router needs a look-back window")
        return value

    @model_validator(mode="after")
    def _check_window(self) -> Self:
        if self.start_time >= self.end_time:
            raise ValueError(
                f"start_time {_format_time(self.start_time)} must be before end_time "
                f"{_format_time(self.end_time)}"
            )
        if self.order_freq > self.window_s:
            raise ValueError(
                f"order_freq={self.order_freq:g} s is longer than the execution window "
                f"{_format_time(self.start_time)}-{_format_time(self.end_time)} "
                f"({self.window_s:g} s): no decision would be taken"
            )
        return self

    @property
    def lookup_duration_s(self) -> float:
        """Look-back window in seconds (``hours * 3600 + minutes * 60``)."""
        hours, minutes = self.lookup_duration
        return hours * _SECONDS_PER_HOUR + minutes * _SECONDS_PER_MINUTE

    @property
    def window_s(self) -> float:
        """Length of the execution window ``end_time - start_time`` in seconds."""
        return _seconds_of_day(self.end_time) - _seconds_of_day(self.start_time)


class LambdaEstimationConfig(_Section):
    """Impact-coefficient regression settings, the spec's ``lambda_config`` (MATH.md §4).

    Periods are named as the spec's ``estimate_lambda`` names them: ``period_label(60) ==
    '60s'``. ``preferred_periods`` accepts labels (``'60s'``, ``'100ms'``, ``'2min'``) or
    numbers of seconds; each must be one of ``agg_periods`` and is stored as its canonical
    label.
    """

    agg_periods: tuple[float, ...] = Field(
        (0.1, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
        min_length=1,
        description="Aggregation periods τ of the regression (seconds, > 0, distinct).",
    )
    min_r2_threshold: float = Field(
        0.01, ge=0, lt=1, description="Minimum R² for an estimate to be accepted (0 ≤ R² < 1)."
    )
    preferred_periods: tuple[str, ...] = Field(
        ("60s", "30s", "10s"),
        description="Periods tried in order when picking λ (labels such as '60s').",
    )
    fallback_lambda: float = Field(
        25000.0,
        gt=0,
        description="λ used, with a warning, when no preferred period passes (price units).",
    )

    @field_validator("agg_periods")
    @classmethod
    def _check_periods(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for period in value:
            if not (math.isfinite(period) and period > 0):
                raise ValueError(f"agg_periods holds {period!r}; periods must be seconds > 0")
        labels = [period_label(p) for p in value]
        duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
        if duplicates:
            raise ValueError(f"agg_periods repeats {', '.join(duplicates)}; list each once")
        return value

    @field_validator("preferred_periods", mode="before")
    @classmethod
    def _labels_from_numbers(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"preferred_periods must be a list of labels such as ['60s'], got {value!r}"
            )
        if isinstance(value, Sequence):
            return tuple(
                period_label(parse_period(v)) if isinstance(v, int | float) else v for v in value
            )
        return value

    @field_validator("preferred_periods")
    @classmethod
    def _canonical_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        canonical = tuple(period_label(parse_period(label)) for label in value)
        duplicates = sorted({lab for lab in canonical if canonical.count(lab) > 1})
        if duplicates:
            raise ValueError(f"preferred_periods repeats {', '.join(duplicates)}; list each once")
        return canonical

    @model_validator(mode="after")
    def _check_preferred(self) -> Self:
        available = [period_label(p) for p in self.agg_periods]
        for label in self.preferred_periods:
            if label not in available:
                raise ValueError(
                    f"preferred period {label!r} is not one of agg_periods "
                    f"[{', '.join(available)}]; add {parse_period(label):g} to agg_periods or "
                    "remove it from preferred_periods"
                )
        return self

    @property
    def preferred_periods_s(self) -> tuple[float, ...]:
        """Preferred periods in seconds, in order of preference."""
        return tuple(parse_period(lab) for lab in self.preferred_periods)


class RiskConfig(_Section):
    """Child-order constraints, the spec's ``risk_config`` (MATH.md §3, Constraints).

    ``participation_cap`` ρ is not in the spec: a child order may not exceed ρ times the
    expected market volume in its slot.
    """

    max_order_size: int = Field(1000, gt=0, description="Largest child order (shares).")
    min_order_size: int = Field(
        1, gt=0, description="Smallest child order sent; smaller ones accumulate (shares)."
    )
    max_impact_threshold: float = Field(
        0.01, gt=0, le=1, description="Maximum modelled impact I/price (fraction, 0.01 = 1 %)."
    )
    stop_loss_threshold: float = Field(
        0.05, gt=0, le=1, description="Adverse move from arrival that stops trading (fraction)."
    )
    position_limit: int = Field(10000, gt=0, description="Maximum total position (shares).")
    participation_cap: float = Field(
        0.1,
        gt=0,
        le=1,
        description="Cap ρ on a child's share of expected market volume in its slot (fraction).",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> Self:
        if self.min_order_size > self.max_order_size:
            raise ValueError(
                f"min_order_size={self.min_order_size} must be ≤ "
                f"max_order_size={self.max_order_size} (shares)"
            )
        if self.max_order_size > self.position_limit:
            raise ValueError(
                f"max_order_size={self.max_order_size} must be ≤ "
                f"position_limit={self.position_limit} (shares)"
            )
        return self


class DataFilterConfig(_Section):
    """Data-quality filters, the spec's ``data_filters``."""

    min_spread_bps: float = Field(
        1.0, ge=0, description="Minimum quoted spread kept (basis points of mid)."
    )
    max_spread_bps: float = Field(
        100.0, gt=0, description="Maximum quoted spread kept (basis points of mid)."
    )
    min_volume: int = Field(100, ge=0, description="Minimum volume per observation (shares).")
    max_price_change: float = Field(
        0.02, gt=0, description="Maximum mid change between observations (fraction, 0.02 = 2 %)."
    )
    exclude_auction: bool = Field(True, description="Drop opening and closing auction periods.")

    @model_validator(mode="after")
    def _check_spreads(self) -> Self:
        if self.min_spread_bps > self.max_spread_bps:
            raise ValueError(
                f"min_spread_bps={self.min_spread_bps:g} must be ≤ "
                f"max_spread_bps={self.max_spread_bps:g} (bps)"
            )
        return self


_VENUE_RE: Final = re.compile(r"^[A-Z0-9][A-Z0-9_\-]*$")


class VenueConfig(_Section):
    """One trading venue (MIC-like code, as :func:`myopic_sor.data.dataset_to_venue` names it).

    ``fee``/``rebate`` left ``None`` inherit the strategy's ``f``/``r`` (see
    :class:`MyopicSorConfig`).
    """

    name: str = Field(description="Venue code, upper case (e.g. 'XNAS', 'BATS', 'ARCX').")
    fee: float | None = Field(
        None,
        ge=-_MAX_ABS_FEE,
        le=_MAX_ABS_FEE,
        description="Taker fee (currency per share); None: strategy.f.",
    )
    rebate: float | None = Field(
        None,
        ge=-_MAX_ABS_FEE,
        le=_MAX_ABS_FEE,
        description="Maker rebate (currency per share); None: from strategy.r.",
    )
    latency_us: float = Field(
        0.0, ge=0, description="One-way order latency to the venue (microseconds)."
    )

    @field_validator("name", mode="before")
    @classmethod
    def _normalise_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            name = value.strip().upper()
            if not _VENUE_RE.match(name):
                raise ValueError(
                    f"venue name {value!r} must be a code of letters, digits, '_' or '-' "
                    "such as 'XNAS'"
                )
            return name
        return value


class MarketHoursConfig(_Section):
    """Regular trading hours and the market's timezone (IANA name, checked with zoneinfo)."""

    open: dt.time = Field(dt.time(9, 30), description="Regular session open (local time).")
    close: dt.time = Field(dt.time(16, 0), description="Regular session close (local time).")
    timezone: str = Field("America/New_York", description="IANA timezone of the market.")

    @field_validator("open", "close", mode="before")
    @classmethod
    def _normalise_time(cls, value: Any) -> dt.time:
        return _parse_time(value)

    @field_serializer("open", "close", when_used="json")
    def _serialise_time(self, value: dt.time) -> str:
        return _format_time(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"timezone {value!r} is not an IANA timezone name (e.g. 'America/New_York')"
            ) from exc
        return value

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.open >= self.close:
            raise ValueError(
                f"open {_format_time(self.open)} must be before close {_format_time(self.close)}"
            )
        return self

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        """The market timezone as a :class:`zoneinfo.ZoneInfo`."""
        return zoneinfo.ZoneInfo(self.timezone)


class DataConfig(_Section):
    """Where the data are (the spec's ``data_path``/``market_data_path``, stock and day).

    All optional: with no data path the pipeline runs on the synthetic market.
    """

    data_path: Path | None = Field(None, description="Root of the spec's data layout.")
    market_data_path: Path | None = Field(
        None, description="Root of market data for λ estimation (defaults to data_path)."
    )
    stock: str | None = Field(None, description="Symbol, e.g. 'AAPL'.")
    day: dt.date | None = Field(None, description="Trading day (ISO date, e.g. 2025-04-02).")

    @field_validator("stock")
    @classmethod
    def _check_stock(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stock = value.strip()
        if not stock or "/" in stock or "\\" in stock:
            raise ValueError(f"stock {value!r} must be a non-empty symbol without path separators")
        return stock


def _default_venues() -> tuple[VenueConfig, ...]:
    return (
        VenueConfig(name="XNAS", latency_us=50.0),
        VenueConfig(name="BATS", latency_us=75.0),
        VenueConfig(name="ARCX", latency_us=100.0),
    )


class MyopicSorConfig(_Section):
    """The whole configuration: every section of the spec plus venues, hours, data and seed.

    Notes
    -----
    Fees and rebates per venue (currency per share) resolve as follows:

    * fee of venue k: ``venues[k].fee`` if set, else ``strategy.f``;
    * rebate of venue k: ``venues[k].rebate`` if set; else, if ``strategy.r`` has one entry,
      that entry (broadcast to every venue); else ``strategy.r[k]`` (same order as
      ``venues``); if ``strategy.r`` is null, 0.
    * Hence a non-null ``strategy.r`` must have length 1 or ``len(venues)`` (checked when
      ``venues`` is non-empty). An empty ``venues`` list means "the venues found in the data";
      then :meth:`rebate_per_venue` maps ``strategy.r`` positionally onto the names it is given.

    Cross-section checks: venue names are unique; ``strategy.S ≤ risk.position_limit``;
    the execution window lies within ``market_hours``.
    """

    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    myopic: MyopicConfig = Field(default_factory=MyopicConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    lambda_estimation: LambdaEstimationConfig = Field(default_factory=LambdaEstimationConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    data_filters: DataFilterConfig = Field(default_factory=DataFilterConfig)
    venues: tuple[VenueConfig, ...] = Field(
        default_factory=_default_venues, description="Venues traded (empty: from the data)."
    )
    market_hours: MarketHoursConfig = Field(default_factory=MarketHoursConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    seed: int | None = Field(
        42, ge=0, description="Seed of every random draw (None: fresh entropy, not reproducible)."
    )

    @model_validator(mode="after")
    def _check_cross_sections(self) -> Self:
        names = [v.name for v in self.venues]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"venues repeats the name(s) {', '.join(duplicates)}; list each once")
        rebates = self.strategy.r
        if rebates is not None and self.venues and len(rebates) not in (1, len(self.venues)):
            raise ValueError(
                f"strategy.r has {len(rebates)} rebates but venues lists {len(self.venues)} "
                f"({', '.join(names)}); give one rebate for all venues or one per venue"
            )
        parent_size = self.strategy.S
        if parent_size > self.risk.position_limit:
            raise ValueError(
                f"strategy.S={self.strategy.S} exceeds risk.position_limit="
                f"{self.risk.position_limit} (shares)"
            )
        ex, mh = self.execution, self.market_hours
        if ex.start_time < mh.open or ex.end_time > mh.close:
            raise ValueError(
                f"execution window {_format_time(ex.start_time)}-{_format_time(ex.end_time)} "
                f"is outside market_hours {_format_time(mh.open)}-{_format_time(mh.close)}; "
                "widen market_hours or narrow the window"
            )
        return self

    @property
    def venue_names(self) -> tuple[str, ...]:
        """Names of the configured venues, in order."""
        return tuple(v.name for v in self.venues)

    def fee_per_venue(self, names: Sequence[str] | None = None) -> tuple[float, ...]:
        """Taker fee of each venue (currency per share).

        Parameters
        ----------
        names : sequence of str, optional
            Venue names (default: the configured venues). Unconfigured names get
            ``strategy.f``.

        Returns
        -------
        tuple of float
            One fee per name, in the order of ``names``.
        """
        by_name = {v.name: v for v in self.venues}
        out: list[float] = []
        for name in self.venue_names if names is None else names:
            venue = by_name.get(name.upper())
            fee = venue.fee if venue is not None else None
            out.append(self.strategy.f if fee is None else fee)
        return tuple(out)

    def rebate_per_venue(self, names: Sequence[str] | None = None) -> tuple[float, ...]:
        """Maker rebate r_k of each venue (currency per share), by the rule in the class notes.

        Parameters
        ----------
        names : sequence of str, optional
            Venue names (default: the configured venues).

        Returns
        -------
        tuple of float
            One rebate per name, in the order of ``names``.

        Raises
        ------
        ConfigError
            If ``strategy.r`` has several entries and a name cannot be mapped to one of them.
        """
        wanted = list(self.venue_names if names is None else names)
        by_name = {v.name: v for v in self.venues}
        position = {v.name: k for k, v in enumerate(self.venues)}
        rebates = self.strategy.r
        out: list[float] = []
        for j, raw_name in enumerate(wanted):
            name = raw_name.upper()
            venue = by_name.get(name)
            if venue is not None and venue.rebate is not None:
                out.append(venue.rebate)
            elif rebates is None:
                out.append(0.0)
            elif len(rebates) == 1:
                out.append(rebates[0])
            elif name in position:
                out.append(rebates[position[name]])
            elif not self.venues and len(rebates) == len(wanted):
                out.append(rebates[j])
            else:
                raise ConfigError(
                    f"cannot map strategy.r ({len(rebates)} rebates) onto venue {raw_name!r}: "
                    "give one rebate for all venues, list the venue under `venues`, or give "
                    "one rebate per venue in the order of the venues"
                )
        return tuple(out)


#: Model of each top-level section, for key checking in the loader.
SECTION_MODELS: Final[Mapping[str, type[_Section]]] = {
    "strategy": StrategyConfig,
    "myopic": MyopicConfig,
    "execution": ExecutionConfig,
    "lambda_estimation": LambdaEstimationConfig,
    "risk": RiskConfig,
    "data_filters": DataFilterConfig,
    "market_hours": MarketHoursConfig,
    "data": DataConfig,
}
#: Sections holding a list of models.
LIST_SECTION_MODELS: Final[Mapping[str, type[_Section]]] = {"venues": VenueConfig}
