"""`paramcalc compare` and `summary --by-type`: the seed's closed form, MobileNet's Tables 2 and 4."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.compare import compare_spec, grid, parse_values
from tests.conftest import SPECS, run_file, run_text

MOBILENET = str(SPECS / "mobilenet_v1.yaml")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_seed_example_m64_k3_from_the_grid():
    result = invoke("compare", "--in", "32", "--out", "64", "--kernel", "3", "--size", "112", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["rows"]
    assert row["ratio"] == row["closed_form"] == round(float(Fraction(1, 64) + Fraction(1, 9)), 6)
    assert round(row["ratio"], 4) == 0.1267  # the seed's 0.1267, "about 8x fewer"
    assert round(row["saving"]) == 8
    assert row["standard_macs"] == 64 * 112**2 * 3**2 * 32  # M x D^2 x K^2 x N
    assert row["separable_macs"] == 32 * 112**2 * (64 + 3**2)  # N x D^2 x (M + K^2)


@pytest.mark.parametrize("n, m, k, size, stride", [(32, 64, 3, 112, 1), (16, 24, 5, 15, 2), (8, 8, 7, 9, 3)])
def test_grid_rows_equal_the_engine(n, m, k, size, stride):
    """The grid's closed forms agree with the engine's Conv2D / SeparableConv2D (checked against
    Keras and fvcore in test_frameworks) on the same layer, 'same' padding, no bias."""
    (pair,) = grid([n], [m], [k], [size], stride)
    spec = (f"input: [{size}, {size}, {n}]\nlayers: [{{KIND: {{filters: {m}, kernel_size: {k}, strides: {stride}, "
            "padding: same, use_bias: false}}]")
    standard = run_text(spec.replace("KIND", "Conv2D"))
    separable = run_text(spec.replace("KIND", "SeparableConv2D"))
    assert (pair.standard_macs, pair.standard_weights) == (standard.total_macs, standard.total_params)
    assert (pair.separable_macs, pair.separable_weights) == (separable.total_macs, separable.total_params)
    assert pair.ratio == pair.closed_form


def test_grid_every_combination_sorted_and_in_every_format():
    args = ["compare", "--in", "32,64", "--out", "64:256:64", "--kernel", "3,5", "--size", "56", "--sort", "ratio"]
    data = json.loads(invoke(*args, "--format", "json").stdout)
    assert len(data["rows"]) == 2 * 4 * 2
    ratios = [row["ratio"] for row in data["rows"]]
    assert ratios == sorted(ratios)
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv").stdout)))
    assert len(rows) == 16 and int(rows[0]["standard_macs"]) == data["rows"][0]["standard_macs"]
    markdown = invoke(*args, "--format", "markdown").stdout.splitlines()
    assert markdown[2].startswith("| Layer | Written as | K | N | M | D |") and len(markdown) == 4 + 16 + 2
    table = invoke(*args, "--desc").stdout
    assert "Standard MACs" in table and "1/M + 1/K^2" in table


@pytest.mark.parametrize("text, values", [("3", [3]), ("32,64,128", [32, 64, 128]), ("1:7:2", [1, 3, 5, 7]),
                                          ("3,5:6", [3, 5, 6])])
def test_parse_values(text, values):
    assert parse_values(text, "kernel") == values


@pytest.mark.parametrize("args", [["--in", "0"], ["--in", "a"], ["--in", "9:3"], ["--in", "1:5:0"]])
def test_grid_bad_values_are_usage_errors(args):
    result = invoke("compare", *args, "--out", "8", "--kernel", "3", "--size", "8")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_grid_needs_every_option():
    result = invoke("compare", "--in", "8", "--out", "8")
    assert result.exit_code == 2 and "needs all of" in result.stderr


def test_mobilenet_table_4():
    """The paper's Table 4: MobileNet 569M mult-adds and 4.2M params; the same network with full
    convolutions 4866M and 29.3M. Params are conv and FC weights, BatchNorm folded, as the paper counts."""
    comparison = compare_spec(run_file("mobilenet_v1.yaml"))
    assert round(comparison.macs_as_written / 1e6) == 569
    assert round(comparison.conv_dense_params / 1e6, 1) == 4.2
    assert round(comparison.params_standard / 1e6, 1) == 29.3
    # 4,867.29M here; the paper prints 4866: within 0.03%, and 4866 is what remains without the
    # classifier's 1.02M (the paper's 569 includes it), so the paper rounded inconsistently.
    assert abs(comparison.macs_standard / 1e6 - 4866) / 4866 < 0.0003
    assert comparison.macs_standard == 4_867_293_184
    # 13 depthwise + pointwise pairs and the first 3x3 convolution.
    assert len(comparison.pairs) == 14
    assert all(p.ratio == p.closed_form for p in comparison.pairs)


def test_compare_spec_command_prints_both_totals():
    out = invoke("compare", MOBILENET, "--format", "json")
    data = json.loads(out.stdout)
    totals = {row["layer"]: row for row in data["totals"]}
    assert totals["whole network as written"]["standard_macs"] == 568_740_352
    assert totals["all standard convolutions"]["standard_macs"] == 4_867_293_184
    assert totals["all standard convolutions"]["standard_params"] == 29_282_120
    assert data["rows"][1]["layer"] == "conv_dw_1 + conv_pw_1"


def test_mobilenet_table_2_by_type():
    """Table 2 of the paper: Conv 1x1 94.86% of mult-adds and 74.59% of parameters, Conv DW 3x3
    3.06% / 1.06%, Conv 3x3 1.19% / 0.02%, FC 0.18% / 24.33%. Every figure agrees to the paper's
    rounding except the Conv 3x3 mult-adds: 10.84M of 568.74M is 1.91%; the paper's 1.19% makes its
    own column sum to 99.29%, a transposed-digit typo."""
    data = json.loads(invoke("summary", "--by-type", "--format", "json", MOBILENET).stdout)
    rows = {row["type"]: row for row in data["rows"]}
    paper = {"Conv 1x1": (94.86, 74.59), "Conv DW 3x3": (3.06, 1.06), "Conv 3x3": (1.91, 0.02), "FC": (0.18, 24.33)}
    for name, (macs, weights) in paper.items():
        assert round(rows[name]["macs_share"], 2) == macs, name
        assert round(rows[name]["weights_share"], 2) == weights, name
    assert abs(sum(r["macs_share"] for r in rows.values()) - 100) < 0.001  # shares rounded to 4 decimals


def test_depthwise_alone_and_separable_layers_are_paired_correctly():
    report = run_text("""input: [16, 16, 8]
layers:
  - DepthwiseConv2D: {kernel_size: 3, padding: same}
  - Conv2D: {filters: 4, kernel_size: 3, padding: same}
  - SeparableConv2D: {filters: 16, kernel_size: 5, depth_multiplier: 2, padding: same}
""")
    pairs = compare_spec(report).pairs
    assert [(p.written, p.n, p.m, p.multiplier) for p in pairs] == [
        ("depthwise only", 8, 8, 1), ("standard", 8, 4, 1), ("separable", 4, 16, 2)]
    assert pairs[2].separable_macs == report.rows[2].macs
    assert pairs[2].closed_form == 2 * (Fraction(1, 16) + Fraction(1, 25))


def test_two_specs_side_by_side():
    result = invoke("compare", str(SPECS / "lenet5.yaml"), str(SPECS / "lenet5_rgb.yaml"), "--format", "json")
    rows = {row["figure"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["params"] == {"figure": "params", "a": 61_706, "b": 62_006, "difference": 300,
                              "ratio": round(62_006 / 61_706, 6)}
    assert rows["Conv 5x5: params"]["difference"] == 300  # only CONV1 changes: 456 - 156


def test_compare_with_three_specs_is_a_usage_error():
    assert invoke("compare", MOBILENET, MOBILENET, MOBILENET).exit_code == 2
