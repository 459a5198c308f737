"""Property-based tests over generated specs (hypothesis): whatever the spec, paramcalc answers
with a report or its own located error, and the numbers obey the rules they must."""

from __future__ import annotations

import json
import os

import sympy
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError
from paramcalc.render.json_report import render_json
from tests.conftest import run_text

# CI runs a fixed, reproducible set of examples; raise PARAMCALC_EXAMPLES locally to search longer.
EXAMPLES = int(os.environ.get("PARAMCALC_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

small = st.integers(min_value=1, max_value=6)
sizes = st.integers(min_value=1, max_value=40)
padding = st.sampled_from(["valid", "same"])

conv = st.builds(lambda f, k, s, p, d, b: {"Conv2D": {"filters": f, "kernel_size": k, "strides": s, "padding": p,
                                                       "dilation_rate": d, "use_bias": b}},
                 small, st.integers(1, 5), st.integers(1, 3), padding, st.integers(1, 2), st.booleans())
depthwise = st.builds(lambda k, s, p, m: {"DepthwiseConv2D": {"kernel_size": k, "strides": s, "padding": p,
                                                              "depth_multiplier": m}},
                      st.integers(1, 5), st.integers(1, 3), padding, st.integers(1, 3))
separable = st.builds(lambda f, k, s, p, m: {"SeparableConv2D": {"filters": f, "kernel_size": k, "strides": s,
                                                                 "padding": p, "depth_multiplier": m}},
                      small, st.integers(1, 5), st.integers(1, 3), padding, st.integers(1, 2))
pool = st.builds(lambda k, s, p, kind: {kind: {"pool_size": k, "strides": s, "padding": p}},
                 st.integers(1, 4), st.one_of(st.none(), st.integers(1, 3)), padding,
                 st.sampled_from(["MaxPooling2D", "AveragePooling2D"]))
torch_conv = st.builds(lambda f, k, s, p: {"Conv2d": {"out_channels": f, "kernel_size": k, "stride": s,
                                                      "padding": p}},
                       small, st.integers(1, 5), st.integers(1, 3), st.integers(0, 2))
simple = st.sampled_from(["BatchNormalization", "ReLU", {"Dropout": 0.5}, {"ZeroPadding2D": 1},
                          {"UpSampling2D": 2}, {"Cropping2D": 1}, "LayerNormalization"])
layer = st.one_of(conv, depthwise, separable, pool, torch_conv, simple)
head = st.sampled_from([[], ["Flatten", {"Dense": 7}], ["GlobalAveragePooling2D", {"Dense": 3}]])


@st.composite
def specs(draw: st.DrawFn) -> dict:
    layers = draw(st.lists(layer, min_size=1, max_size=6)) + draw(head)
    return {"input": [draw(sizes), draw(sizes), draw(small)], "layers": layers}


def analyse(spec: dict):
    return run_text(yaml.safe_dump(spec, sort_keys=False))


@SETTINGS
@given(specs())
def test_a_report_or_our_own_error_and_sane_numbers(spec):
    try:
        report = analyse(spec)
    except ParamcalcError as error:
        assert error.loc is not None and error.describe()
        return
    for row in report.rows:
        for count in (row.params, row.trainable_params, row.non_trainable_params, row.macs):
            assert isinstance(count, int) and count >= 0
        assert row.params == row.trainable_params + row.non_trainable_params
        assert all(isinstance(d, int) and d >= 1 for d in row.output_shape[1:])
    data = json.loads(render_json(report))
    assert data["total_params"] == sum(layer["params"] for layer in data["layers"]) == report.total_params
    assert data["total_macs"] == sum(layer["macs"] for layer in data["layers"]) == report.total_macs
    assert data["total_flops"] == 2 * data["total_macs"]
    assert data["output_shape"] == list(report.output_shape)


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 8), st.integers(1, 12), st.integers(1, 5),
       st.integers(1, 3), st.integers(1, 3), padding, st.booleans())
def test_separable_equals_depthwise_then_pointwise(h, w, c, filters, k, s, m, pad, bias):
    separable = (f"input: [{h}, {w}, {c}]\nlayers: [{{SeparableConv2D: {{filters: {filters}, kernel_size: {k}, "
                 f"strides: {s}, padding: {pad}, depth_multiplier: {m}, use_bias: {str(bias).lower()}}}}}]")
    pair = (f"input: [{h}, {w}, {c}]\nlayers:\n  - DepthwiseConv2D: {{kernel_size: {k}, strides: {s}, padding: {pad}, "
            f"depth_multiplier: {m}, use_bias: false}}\n  - Conv2D: {{filters: {filters}, kernel_size: 1, "
            f"use_bias: {str(bias).lower()}}}")
    try:
        one = run_text(separable)
    except ParamcalcError:
        try:
            run_text(pair)
        except ParamcalcError:
            return
        raise AssertionError("the separable conv failed where depthwise + pointwise did not") from None
    two = run_text(pair)
    assert (one.total_params, one.total_macs, one.output_shape) == (two.total_params, two.total_macs,
                                                                    two.output_shape)


@SETTINGS
@given(st.integers(1, 50), st.integers(1, 50), st.integers(1, 7), st.integers(1, 3),
       st.sampled_from(["Conv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D"]))
def test_same_padding_at_stride_1_keeps_the_size(h, w, k, d, kind):
    size = "pool_size" if "Pooling" in kind else "kernel_size"
    extra = ", filters: 3" if kind == "Conv2D" else ""
    dilation = f", dilation_rate: {d}" if "Conv" in kind else ""
    report = run_text(f"input: [{h}, {w}, 2]\nlayers: [{{{kind}: {{{size}: {k}, padding: same, strides: 1"
                      f"{dilation}{extra}}}}}]")
    assert report.output_shape[1:3] == (h, w)


@settings(max_examples=max(10, EXAMPLES // 10), derandomize=True, deadline=None)
@given(st.lists(st.one_of(conv, pool, depthwise, simple), min_size=1, max_size=4), st.integers(24, 80),
       st.integers(24, 80))
def test_symbolic_results_substituted_equal_concrete_results(layers, h, w):
    text = yaml.safe_dump({"input": ["H", "W", 3], "layers": layers}, sort_keys=False)
    try:
        concrete = run_text(text.replace("- H\n- W\n", f"- {h}\n- {w}\n"))
    except ParamcalcError:
        return
    symbolic = run_text(text)
    values = {sympy.Symbol("H", integer=True, positive=True): h, sympy.Symbol("W", integer=True, positive=True): w}

    def value(x):
        return x if isinstance(x, int) else int(x.subs(values))

    assert value(symbolic.total_macs) == concrete.total_macs
    assert value(symbolic.total_params) == concrete.total_params
    assert tuple(value(d) for d in symbolic.output_shape[1:]) == concrete.output_shape[1:]


@SETTINGS
@given(specs())
def test_json_output_loads_back_to_the_same_numbers(spec):
    text = yaml.safe_dump(spec, sort_keys=False)
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "-"], input=text)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert "Traceback" not in result.output and result.stderr.startswith("<stdin>:")
        return
    data = json.loads(result.stdout)
    report = analyse(spec)
    assert [(r["name"], r["params"], r["macs"], r["output_shape"]) for r in data["layers"]] == [
        (r.name, r.params, r.macs, list(r.output_shape)) for r in report.rows]
