"""Free input dimensions: shapes, params and MACs as formulas in H and W that, with values
substituted, equal a concrete run exactly."""

from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner

from paramcalc.cli import cli
from tests.conftest import SPECS, run_text

FCN = """input: [H, W, 3]
layers:
  - Conv2D: {filters: 8, kernel_size: 3, strides: 2, padding: same}
  - Conv2D: {filters: 16, kernel_size: 3}
  - MaxPooling2D: 2
  - Conv2D: {filters: 4, kernel_size: 1}
"""


def symbolic_and_concrete(text: str, sizes: dict[str, int]) -> tuple:
    return run_text(text), run_text(text.replace("[H, W,", f"[{sizes['H']}, {sizes['W']},"))


def value(x, sizes: dict[str, int]) -> int:
    if isinstance(x, int):
        return x
    result = x.subs({sympy.Symbol(k, integer=True, positive=True): v for k, v in sizes.items()})
    assert result.is_Integer, (x, result)
    return int(result)


def spec_with_free_dims(name: str) -> str:
    return (SPECS / name).read_text().replace("input: [res, res, 3]", "input: [H, W, 3]")


CASES = [("fcn", FCN)] + [(name, spec_with_free_dims(name)) for name in
                          ("vgg16.yaml", "resnet50.yaml", "mobilenet_v1.yaml", "mobilenet_v2.yaml")]
SIZES = [{"H": 224, "W": 224}, {"H": 193, "W": 161}, {"H": 97, "W": 128}, {"H": 64, "W": 33}]


@pytest.mark.parametrize("name, text", CASES, ids=[c[0] for c in CASES])
def test_substituted_formulas_equal_concrete_runs(name, text):
    symbolic = run_text(text)
    assert symbolic.free_dimensions == ["H", "W"]
    for sizes in SIZES:
        concrete = run_text(text.replace("[H, W,", f"[{sizes['H']}, {sizes['W']},"))
        for s, c in zip(symbolic.rows, concrete.rows, strict=True):
            assert s.name == c.name
            assert tuple(value(d, sizes) if d is not None else None for d in s.output_shape) == c.output_shape
            assert (value(s.params, sizes), value(s.macs, sizes)) == (c.params, c.macs), s.name
        assert value(symbolic.total_macs, sizes) == concrete.total_macs
        assert value(symbolic.total_params, sizes) == concrete.total_params
        assert value(symbolic.activations, sizes) == concrete.activations


def test_params_stay_numbers_unless_they_depend_on_the_input():
    report = run_text(spec_with_free_dims("vgg16.yaml"))
    fc1 = next(r for r in report.rows if r.name == "fc1")
    conv = next(r for r in report.rows if r.name == "block1_conv1")
    assert conv.params == 1792 and isinstance(conv.params, int)
    assert str(fc1.params) == "2097152*floor(H/32)*floor(W/32) + 4096"  # Dense after Flatten


def test_symbolic_summary_is_readable():
    out = CliRunner().invoke(cli, ["summary", "-"], input=FCN).stdout
    assert "(None, ceil(H/2), ceil(W/2), 8)" in out
    assert "216*ceil(H/2)*ceil(W/2)" in out
    data = json.loads(CliRunner().invoke(cli, ["summary", "--format", "json", "-"], input=FCN).stdout)
    assert data["layers"][1]["output_shape"] == [None, "ceil(H/2) - 2", "ceil(W/2) - 2", 16]
    assert data["total_params"] == 1460
    markdown = CliRunner().invoke(cli, ["summary", "--format", "markdown", "-"], input=FCN).stdout
    assert "| 216*ceil(H/2)*ceil(W/2) |" in markdown and "ceiling" not in markdown


def test_set_gives_free_dimensions_values():
    data = json.loads(CliRunner().invoke(cli, ["summary", "--format", "json", "--set", "H=64", "--set", "W=48",
                                               "-"], input=FCN).stdout)
    assert data["output_shape"] == [None, 15, 11, 4]
    assert data["total_macs"] == run_text(FCN.replace("[H, W,", "[64, 48,")).total_macs


def test_commands_that_need_numbers_say_so():
    result = CliRunner().invoke(cli, ["compare", "-"], input=FCN)
    assert result.exit_code == 2
    assert "needs numbers, but the input has free dimensions (H, W)" in result.stderr
    assert "--set H=224" in result.stderr
