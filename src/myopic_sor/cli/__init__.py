"""The ``myopic-sor`` command-line interface."""

from __future__ import annotations

import myopic_sor.cli._backtest_cmds
import myopic_sor.cli._model_cmds  # noqa: F401  (registers schedule, estimate-lambda)
from myopic_sor.cli._app import app, main

__all__ = ["app", "main"]
