"""The ``myopic-sor`` command-line interface."""

from __future__ import annotations

import myopic_sor.cli._backtest_cmds  # registers compare, run
import myopic_sor.cli._model_cmds  # registers schedule, estimate-lambda
import myopic_sor.cli._route_cmd  # noqa: F401  (registers route)
from myopic_sor.cli._app import app, main
from myopic_sor.cli._sensitivity_cmd import register as _register_sensitivity
from myopic_sor.cli._sim_cmds import register as _register_simulate

_register_simulate(app)
_register_sensitivity(app)

__all__ = ["app", "main"]
