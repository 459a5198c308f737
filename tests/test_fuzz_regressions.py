"""Inputs that once crashed paramcalc (found by tests/fuzz/fuzz_specs.py): each must now give a
report or a located error, and a short fuzzing run must find nothing new."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.fuzz.fuzz_specs import exercise, run

CASES = sorted((Path(__file__).parent / "cases" / "fuzz").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_former_crash(path):
    exercise(path.read_text())
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output


def test_upsample_fraction_on_a_free_dimension():
    from tests.conftest import run_text

    report = run_text("input: [H, 8, 3]\nlayers: [{Upsample: {scale_factor: 2.5}}]\ndata_format: channels_last")
    assert str(report.output_shape[1]) == "floor(5*H/2)" and report.output_shape[2] == 20


def test_a_short_fuzzing_run_finds_no_crash():
    assert run(seconds=3, seed=7) == 0
