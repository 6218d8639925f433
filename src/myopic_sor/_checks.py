"""Argument checks shared by the models, the features and the CLI."""

from __future__ import annotations

import math

from myopic_sor.exceptions import ConfigError

__all__ = ["require_positive"]


def require_positive(name: str, value: float, what: str = "") -> float:
    """Return ``float(value)``, or raise :class:`ConfigError` naming ``name`` when the value is
    not a finite number > 0 (``what`` says what the value means, for the message)."""
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        meaning = f" ({what})" if what else ""
        raise ConfigError(f"{name} must be a finite number > 0{meaning}, got {value!r}")
    return v
