"""The spec's examples 1-5 (``examples/``, their code unchanged) run against generated data in
the spec's layout: ``./data/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.parquet``.

The data (``conftest.workdir``) are short synthetic sessions (09:30-10:00) so the suite stays
fast; the examples' windows run to 16:00 and trade the rest of the day on the last books (the
engine's market fallback), which exercises the code paths without a full day per run.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def in_workdir(workdir: Path) -> object:
    old = Path.cwd()
    os.chdir(workdir)
    try:
        yield workdir
    finally:
        os.chdir(old)


@pytest.mark.parametrize(
    "name",
    [
        "example1_basic_integration.py",
        "example2_comparison.py",
        "example3_sensitivity.py",
        "example4_batch.py",
        "example5_custom_analysis.py",
    ],
)
@pytest.mark.filterwarnings("ignore::myopic_sor.exceptions.MyopicSorWarning")
def test_example_runs_unchanged(
    name: str, in_workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    assert "Error" not in out, out
    if name == "example1_basic_integration.py":
        assert "Myopic enabled: True" in out
    if name == "example2_comparison.py":
        assert "MYOPIC vs TRADITIONAL" in out
        assert (in_workdir / "myopic_schedule_analysis.png").exists()
    if name == "example4_batch.py":
        assert out.count("✅ Completed") == 9
    if name == "example5_custom_analysis.py":
        assert (in_workdir / "lambda_analysis.png").exists()
        assert (in_workdir / "myopic_performance_report.txt").exists()
