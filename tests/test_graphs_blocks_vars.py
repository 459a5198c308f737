"""Spec features for real architectures: graphs, merges, blocks, repeat, when, vars, --set, sweeps."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.compare import compare_spec
from paramcalc.errors import ParamcalcError
from paramcalc.spec import expr
from tests.conftest import SPECS, run_text
from tests.test_frameworks import application

RESIDUAL = """
input: [8, 8, 16]
layers:
  - Conv2D: {name: a, filters: 16, kernel_size: 3, padding: same}
  - Conv2D: {name: b, filters: 16, kernel_size: 3, padding: same}
  - Add: {name: sum, inputs: [input, b]}
  - ReLU
"""


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def error_of(text: str) -> str:
    with pytest.raises(ParamcalcError) as caught:
        run_text(text, "s.yaml")
    return caught.value.describe()


# -- graphs ----------------------------------------------------------------------------------------

def test_residual_graph():
    report = run_text(RESIDUAL)
    assert [r.inputs for r in report.rows] == [("input",), ("a",), ("input", "b"), ("sum",)]
    assert report.rows[2].output_shape == (None, 8, 8, 16)
    assert not report.is_chain
    out = invoke("summary", "-", input=RESIDUAL).stdout
    assert "Connected to" in out and "input, b" in out


def test_plain_chain_has_no_connected_to_column():
    assert run_text("input: [4]\nlayers: [{Dense: 3}, {Dense: 2}]").is_chain
    assert "Connected to" not in invoke("summary", str(SPECS / "lenet5.yaml")).stdout


@pytest.mark.parametrize("data_format, input_shape, axis, out", [
    ("channels_last", [8, 8, 3], None, (None, 8, 8, 7)),
    ("channels_first", [3, 8, 8], None, (None, 7, 8, 8)),
    ("channels_last", [8, 8, 3], 1, None),  # axis 1 (height) would need equal channels: error
])
def test_concatenate_axis(data_format, input_shape, axis, out):
    conv = "Conv2D" if data_format == "channels_last" else "Conv2d"
    width = "filters" if conv == "Conv2D" else "out_channels"
    padding = "same" if conv == "Conv2D" else 1
    axis_arg = f", axis: {axis}" if axis is not None else ""
    text = f"""data_format: {data_format}
input: {input_shape}
layers:
  - {conv}: {{name: c, {width}: 4, kernel_size: 3, padding: {padding}}}
  - Concatenate: {{inputs: [input, c]{axis_arg}}}
"""
    if out is None:
        assert "cannot concatenate `input` (8, 8, 3) and `c` (8, 8, 4) on axis 1" in error_of(text)
    else:
        assert run_text(text).output_shape == out


def test_merge_of_incompatible_shapes_names_both_inputs():
    message = error_of("""input: [8, 8, 3]
layers:
  - Conv2D: {name: c, filters: 4, kernel_size: 3}
  - Add: {inputs: [input, c]}
""")
    assert message.startswith("s.yaml:4:5: error: Add: cannot merge `input` (8, 8, 3) and `c` (6, 6, 4)")


def test_several_inputs_and_outputs():
    report = run_text("""inputs: {image: [8, 8, 3], meta: [10]}
layers:
  - Flatten: {name: flat, inputs: image}
  - Dense: {name: side, units: 6, inputs: meta}
  - Concatenate: {name: joined, inputs: [flat, side]}
  - Dense: {name: head, units: 2}
outputs: [head, side]
""")
    assert report.inputs == {"image": (None, 8, 8, 3), "meta": (None, 10)}
    assert report.outputs == {"head": (None, 2), "side": (None, 6)}
    assert report.rows[2].output_shape == (None, 192 + 6)
    assert report.input_values == 192 + 10


@pytest.mark.parametrize("layers, fragments", [
    ("  - Dense: {units: 2, inputs: dense9}\n", ["s.yaml:3:31:", "no layer or input is named `dense9`"]),
    ("  - Dense: {name: a, units: 2, inputs: b}\n  - Dense: {name: b, units: 2, inputs: a}\n",
     ["s.yaml:3:40:", "`b` is defined further down", "cycle"]),
    ("  - Dense: {name: a, units: 2}\n  - Dense: {units: 2, inputs: [input, a]}\n",
     ["s.yaml:4:5:", "Dense takes one input but is given 2: input (4,), a (2,)"]),
])
def test_graph_mistakes(layers, fragments):
    message = error_of("input: [4]\nlayers:\n" + layers)
    for fragment in fragments:
        assert fragment in message, message


def test_layer_with_no_input_in_a_multi_input_model():
    assert "say which with `inputs: NAME`" in error_of("inputs: {a: [4], b: [4]}\nlayers: [{Dense: 2}]")


# -- blocks, repeat, when --------------------------------------------------------------------------

BLOCKS = """
vars: {width: 8}
input: [16, 16, 3]
blocks:
  conv_bn:
    args: {filters: null, strides: 1}
    layers:
      - Conv2D: {name: conv, filters: filters, kernel_size: 3, strides: strides, padding: same, use_bias: false}
      - BatchNormalization: {name: bn}
      - ReLU
  stage:
    args: {filters: null, first_stride: 2}
    layers:
      - conv_bn: {filters: filters, strides: first_stride}
      - conv_bn: {filters: filters, repeat: 2}
layers:
  - conv_bn: {name: stem, filters: width}
  - stage: {filters: "2 * width", repeat: 2, first_stride: "2 if i == 0 else 1"}
  - GlobalAveragePooling2D
  - Dropout: {rate: 0.5, when: "width > 100"}
  - Dense: 10
"""


def test_blocks_names_nesting_and_repeat():
    report = run_text(BLOCKS)
    names = [r.name for r in report.rows]
    assert names[:3] == ["stem.conv", "stem.bn", "stem.re_lu"]
    # Automatic names as Keras gives them: stage, stage_1; conv_bn, conv_bn_1, conv_bn_2.
    assert names[3:6] == ["stage.conv_bn.conv", "stage.conv_bn.bn", "stage.conv_bn.re_lu"]
    assert "stage.conv_bn_1.conv" in names and "stage.conv_bn_2.conv" in names
    assert "stage_1.conv_bn_2.re_lu" in names
    assert names[-2:] == ["global_average_pooling2d", "dense"]  # Dropout left out by `when`
    assert len(report.rows) == 3 + 2 * 9 + 2
    assert report.rows[3].output_shape == (None, 8, 8, 16)  # first stage strides 2
    stage2 = next(r for r in report.rows if r.name == "stage_1.conv_bn.conv")
    assert stage2.output_shape == (None, 8, 8, 16)  # first_stride 1 for i == 1
    assert report.rows[3].path == (("stage", "stage"), ("stage.conv_bn", "conv_bn"))


def test_depth_folds_blocks_into_rows_that_sum_them():
    data_rows = invoke("summary", "--depth", "0", "--format", "csv", "-", input=BLOCKS).stdout.splitlines()
    assert [line.split(",")[0] for line in data_rows[1:-1]] == [
        "stem", "stage", "stage_1", "global_average_pooling2d", "dense"]
    report = run_text(BLOCKS)
    stage = sum(r.params for r in report.rows if r.path and r.path[0][0] == "stage")
    macs = sum(r.macs for r in report.rows if r.path and r.path[0][0] == "stage")
    assert f"stage,stage block,None x 8 x 8 x 16,{stage},,,{macs},false" in data_rows
    table = invoke("summary", "--depth", "1", "-", input=BLOCKS).stdout
    assert "stage.conv_bn_1 (conv_bn block)" in table


@pytest.mark.parametrize("extra, fragments", [
    ("  - conv_bn: {filterz: 4}\n", ["block `conv_bn` has no argument `filterz`", "did you mean `filters`"]),
    ("  - conv_bn: {strides: 2}\n", ["block `conv_bn` needs `filters`"]),
    ("  - loop: {}\n", ["block `loop` uses itself (loop -> inner -> loop)"]),
    ("  - Dense: {units: 2, repeat: -1}\n", ["`repeat` must be a whole number of at least 0; got -1"]),
])
def test_block_mistakes(extra, fragments):
    text = """input: [8, 8, 3]
blocks:
  conv_bn:
    args: {filters: null, strides: 1}
    layers: [{Conv2D: {filters: filters, kernel_size: 3, strides: strides}}]
  loop:
    layers: [{inner: {}}]
  inner:
    layers: [{loop: {}}]
layers:
""" + extra
    message = error_of(text)
    for fragment in fragments:
        assert fragment in message, message


# -- variables and expressions ------------------------------------------------------------------------

VARS = """vars: {alpha: 0.75, res: 32, c: "int(64 * alpha)"}
input: [res, res, 3]
layers:
  - Conv2D: {filters: c, kernel_size: 3, strides: 2, padding: same}
  - Conv2D: {filters: "make_divisible(c * 1.4)", kernel_size: 1}
"""


def test_vars_and_expressions():
    report = run_text(VARS)
    assert report.input_shape == (None, 32, 32, 3)
    assert report.rows[0].output_shape == (None, 16, 16, 48)
    assert report.rows[1].output_shape == (None, 16, 16, 64)  # 48 * 1.4 = 67.2 -> 64


def test_set_overrides_a_variable():
    data = json.loads(invoke("summary", "--format", "json", "--set", "alpha=0.5", "--set", "res=16", "-",
                             input=VARS).stdout)
    assert data["layers"][0]["output_shape"] == [None, 8, 8, 32]


@pytest.mark.parametrize("args, message", [
    (["--set", "alpah=1"], "the spec has no variable `alpah`"),
    (["--set", "alpha"], "is not NAME=VALUE"),
    (["--set", "res=1/0"], "divides by zero"),
])
def test_bad_set(args, message):
    result = invoke("summary", *args, "-", input=VARS)
    assert result.exit_code == 2 and message in result.stderr, result.output


@pytest.mark.parametrize("value, fragments", [
    ('"int(64 * beta)"', ["s.yaml:3:26:", "`beta` is not defined"]),
    ('"int(64 * alfa)"', ["did you mean `alpha`"]),
    ('"int(64 * (alpha)"', ["cannot read the expression"]),
    ('"64 // (alpha - 0.5)"', ["divides by zero"]),
    ('"__import__(\'os\').system(\'true\')"', ["is not an allowed function"]),
    ('"(alpha).real"', ["is not allowed in an expression"]),
    ('"2 ** 2 ** 40"', ["too large"]),
])
def test_bad_expressions(value, fragments):
    message = error_of(f"vars: {{alpha: 0.5}}\ninput: [4]\nlayers: [{{Dense: {{units: {value}}}}}]\n")
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("value, expected", [
    (32 * 0.35, 16), (16 * 1.0, 16), (24 * 0.5, 16), (96 * 0.75, 72), (1280 * 1.4, 1792), (3, 8)])
def test_make_divisible_as_mobilenet_v2_uses_it(value, expected):
    assert expr.make_divisible(expr.number(value)) == expected


def test_expressions_are_exact():
    assert expr.evaluate("int(0.7 * 10)", {}) == 7  # 6 with binary floats
    assert expr.evaluate("res / 32", {"res": 224}) == 7
    assert expr.evaluate("'same' if s == 1 else 'valid'", {"s": 2}) == "valid"


# -- sweeps: the MobileNet paper's Tables 6 and 7 -----------------------------------------------------

PAPER_TABLE_6 = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}  # width: mult-adds M, params M
PAPER_TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}  # resolution: mult-adds M (width 1.0)


def sweep(*sets: str) -> list[dict]:
    result = invoke("summary", str(SPECS / "mobilenet_v1.yaml"), *sets, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["rows"]


def test_mobilenet_width_multipliers_table_6():
    rows = sweep("--set", "alpha=1.0,0.75,0.5,0.25")
    for row in rows:
        macs, params = PAPER_TABLE_6[float(row["alpha"])]
        assert round(row["macs"] / 1e6) == macs
        # The paper's parameter counts fold BatchNorm into the convolutions.
        text = (SPECS / "mobilenet_v1.yaml").read_text()
        folded = compare_spec(run_text(text.replace("alpha: 1.0 ", f"alpha: {row['alpha']} "))).conv_dense_params
        assert round(folded / 1e6, 1) == params


def test_mobilenet_resolutions_table_7():
    for row in sweep("--set", "res=224,192,160,128"):
        macs = row["macs"] / 1e6
        # 290.68M at 160 prints as 290 in the paper (its other rows round to nearest): within 1M.
        assert abs(macs - PAPER_TABLE_7[int(row["res"])]) < 1
        if int(row["res"]) != 160:
            assert round(macs) == PAPER_TABLE_7[int(row["res"])]


def test_mobilenet_sweep_matches_keras_for_all_16_combinations():
    for row in sweep("--set", "alpha=1.0,0.75,0.5,0.25", "--set", "res=224,192,160,128"):
        keras = application(f"application/MobileNet_{row['alpha']}_{row['res']}")
        assert (row["params"], row["trainable_params"]) == (keras["params"], keras["trainable_params"])
        assert row["output_shape"] == keras["output_shape"]


def test_sweep_formats_and_limits():
    csv_out = invoke("summary", str(SPECS / "mobilenet_v1.yaml"), "--set", "res=224,128", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("res,params,trainable_params,macs,flops,activations")
    assert len(csv_out.splitlines()) == 3
    result = invoke("explain", str(SPECS / "mobilenet_v1.yaml"), "--set", "res=224,128")
    assert result.exit_code == 2 and "sweeps are for `paramcalc summary`" in result.stderr
