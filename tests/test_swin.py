"""Swin Transformer (issue 15, "Families the published tables use"): torchvision's ShiftedWindowAttention,
ShiftedWindowAttentionV2, PatchMerging and PatchMergingV2 layer by layer, and specs/swin.yaml's members
swin_t/s/b and swin_v2_t/s/b whole, each equal to torchvision 0.29.1 (tests/fixtures/swin.json, made by
make_swin_fixtures.py: sum(p.numel()), the output shape, FlopCounterMode / 2)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError
from paramcalc.layers.ops import ATTENTION_SCORE_MACS, ATTENTION_VALUE_MACS
from tests.conftest import FIXTURES, SPECS, run_dict, run_text

# torchvision builder -> the spec's vars
MEMBERS: dict[str, dict[str, Any]] = {
    "swin_t": {},
    "swin_s": {"depth3": 18},
    "swin_b": {"embed_dim": 128, "depth3": 18, "heads1": 4, "heads2": 8, "heads3": 16, "heads4": 32},
}
MEMBERS.update({f"swin_v2_{m[-1]}": {**v, "v2": "true", "window": 8, "res": 256} for m, v in list(MEMBERS.items())})


@cache
def fixture() -> dict[str, Any]:
    return json.loads((FIXTURES / "swin.json").read_text())


def layer_cases() -> list[dict[str, Any]]:
    return fixture()["cases"]


@pytest.mark.parametrize("case", layer_cases(), ids=lambda c: f"{c['kind']}-{c['spec']['input']}")
def test_each_layer_equals_torchvision(case):
    report = run_dict(case["spec"])
    row = report.rows[-1]
    assert row.params == row.trainable_params == case["params"]
    assert row.non_trainable_params == 0
    assert list(report.output_shape) == case["output_shape"]
    assert row.macs == case["macs"]


@pytest.mark.parametrize("case", [c for c in layer_cases() if "Attention" in c["kind"]],
                         ids=lambda c: f"{c['kind']}-{c['spec']['input']}")
def test_the_attention_products_are_torchvisions_bmm(case):
    """QK^T and the weights times V are torchvision's two matmuls (aten.bmm), on the padded windows; the
    projections are its addmm / mm (V2's position bias MLP too)."""
    row = run_dict(case["spec"]).rows[-1]
    assert row.ops[ATTENTION_SCORE_MACS] + row.ops[ATTENTION_VALUE_MACS] == case["macs_by_op"]["aten.bmm"]


@pytest.mark.parametrize("case", [c for c in layer_cases() if "Attention" in c["kind"]],
                         ids=lambda c: f"{c['kind']}-{c['spec']['input']}")
def test_the_position_bias_params_are_torchvisions(case):
    """V1's relative position bias table, (2 Wh - 1)(2 Ww - 1) x heads; V2's logit scale (one per head) and
    continuous position bias MLP: each an explained figure equal to torchvision's parameters of that name."""
    steps = {d.label: d.q.value for d in run_dict(case["spec"]).rows[-1].derivations}
    named = case["params_by_name"]
    if case["kind"] == "ShiftedWindowAttention":
        assert steps["position bias table params"] == named["relative_position_bias_table"]
    else:
        assert steps["logit scale params"] == named["logit_scale"]
        assert steps["position bias MLP params"] == sum(n for k, n in named.items() if k.startswith("cpb_mlp"))


@cache
def member(name: str) -> dict[str, Any]:
    args = [f"{k}={v}" for k, v in MEMBERS[name].items()]
    options = [x for a in args for x in ("--set", a)]
    result = CliRunner().invoke(cli, ["summary", "--format", "json", *options, str(SPECS / "swin.yaml")])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def models() -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in fixture()["models"]}


def test_every_fixture_model_is_a_member():
    assert set(models()) == set(MEMBERS)


@pytest.mark.parametrize("name", list(MEMBERS))
def test_each_member_equals_torchvision(name):
    report, model = member(name), models()[name]
    assert (report["total_params"], report["trainable_params"]) == (model["params"], model["params"])
    assert report["output_shape"] == model["output_shape"]
    assert report["total_macs"] == model["macs"]
    # torchvision's own table: num_params, and _ops = GMACs to 3 decimals (its "GFLOPS" column)
    assert report["total_params"] == model["torchvision_num_params"]
    assert round(report["total_macs"] / 1e9, 3) == model["torchvision_ops"]
    assert report["input_shape"][1:] == model["input"]


def test_the_spec_passes_check_at_its_defaults():
    result = CliRunner().invoke(cli, ["check", "--strict", str(SPECS / "swin.yaml")])
    assert result.exit_code == 0, result.output


# ---- the padding rule, beside torchvision's ----------------------------------------------------------

def test_a_map_not_a_multiple_of_the_window_runs_padded():
    """10 x 12 with 7 x 7 windows: torchvision pads to 14 x 14 (4 windows); the map keeps its size."""
    case = next(c for c in layer_cases()
                if c["kind"] == "ShiftedWindowAttention" and c["spec"]["input"][:2] == [10, 12])
    row = run_dict(case["spec"]).rows[-1]
    steps = {d.label: d.q.value for d in row.derivations}
    assert (steps["padded height"], steps["padded width"]) == (14, 14)
    assert row.macs == case["macs"] and tuple(row.output_shape[1:]) == (10, 12, 64)


def test_patch_merging_pads_an_odd_side():
    case = next(c for c in layer_cases() if c["kind"] == "PatchMerging" and c["spec"]["input"][:2] == [5, 8])
    assert case["output_shape"] == [None, 3, 4, 32]
    assert list(run_dict(case["spec"]).output_shape) == case["output_shape"]


def test_free_height_and_width_give_the_concrete_figures():
    text = ("input: [H, W, 32]\nlayers:\n  - ShiftedWindowAttention: {dim: 32, window_size: [4, 6], "
            "shift_size: [2, 3], num_heads: 2}\n  - PatchMerging: {dim: 32}\n")
    symbolic = run_text(text)
    concrete = run_text(text.replace("[H, W, 32]", "[9, 13, 32]"))
    for s, c in zip(symbolic.rows, concrete.rows):
        env = {x: {"H": 9, "W": 13}[x.name] for x in s.macs.free_symbols}
        assert env and int(s.macs.subs(env)) == c.macs
        assert s.params == c.params


# ---- refusals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "layer", "words"), [
    ("[96, 56, 56]", "ShiftedWindowAttention: {dim: 96, window_size: 7, shift_size: 0, num_heads: 3}", "channels"),
    ("[4, 56, 56, 96]", "ShiftedWindowAttention: {dim: 96, window_size: 7, shift_size: 0, num_heads: 3}",
     "channels-last map"),
    ("[56, 56, 96]", "ShiftedWindowAttention: {dim: 96, window_size: 7, shift_size: 0, num_heads: 5}", "divide"),
    ("[56, 56, 96]", "PatchMerging: {dim: 64}", "channels"),
])
def test_a_wrong_input_is_refused_where_it_is_written(shape, layer, words):
    with pytest.raises(ParamcalcError) as error:
        run_text(f"input: {shape}\nlayers:\n  - {layer}\n")
    assert words in str(error.value)
    assert error.value.loc.line == 3


def test_the_cli_refuses_in_one_located_paragraph(spec_file):
    path = spec_file("input: [96, 56, 56]\nlayers:\n  - PatchMerging: {dim: 96}\n")
    result = CliRunner().invoke(cli, ["summary", path])
    assert result.exit_code == 2
    assert f"{path}:3:" in result.output and "Traceback" not in result.output


# ---- fvcore ------------------------------------------------------------------------------------------

def fvcore_total(spec: dict[str, Any] | None = None, options: tuple[str, ...] = ()) -> int:
    if spec is None:
        path = str(SPECS / "swin.yaml")
        result = CliRunner().invoke(cli, ["summary", "--format", "json", "--convention", "fvcore", *options, path])
    else:
        result = CliRunner().invoke(cli, ["summary", "--format", "json", "--convention", "fvcore", "-"],
                                    input=yaml.safe_dump(spec))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["convention"]["total"]


@pytest.mark.parametrize("case", layer_cases(), ids=lambda c: f"{c['kind']}-{c['spec']['input']}")
def test_fvcore_convention_equals_fvcore(case):
    """fvcore counts the padded windows' linear and matmul as FlopCounterMode does (V2's cosine normalisation
    nothing), and PatchMerging's LayerNorm 5 per value."""
    assert fvcore_total(case["spec"]) == case["fvcore"]["total"]


def test_fvcore_convention_equals_fvcore_on_swin_t():
    assert fvcore_total() == models()["swin_t"]["fvcore"]["total"]


# ---- torchinfo, ptflops (both backends), thop ----------------------------------------------------------
# tests/fixtures/swin_tools.json (make_swin_tool_fixtures.py): each tool on a real CPU forward of torchvision's
# layer or model. What each sees: torchinfo and thop hook modules, and the attention's projections run as
# F.linear on its own weights, so V1's attention counts 0 and V2's only its position bias MLP; ptflops sees,
# besides, the products run as Tensor.matmul (V2's scores run as `@`, which it does not patch) and F.softmax.

TOOL_KEYS = {"torchinfo": "torchinfo", "ptflops": "ptflops_pytorch", "ptflops-aten": "ptflops_aten", "thop": "thop"}


@cache
def tools() -> dict[str, Any]:
    return json.loads((FIXTURES / "swin_tools.json").read_text())


def convention_total(convention: str, spec: dict[str, Any] | None = None, options: tuple[str, ...] = ()) -> int:
    args = ["summary", "--format", "json", "--convention", convention, *options]
    if spec is None:
        result = CliRunner().invoke(cli, [*args, str(SPECS / "swin.yaml")])
    else:
        result = CliRunner().invoke(cli, [*args, "-"], input=yaml.safe_dump(spec))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["convention"]["total"]


TOOL_LAYER_CASES = [(c, t) for c in tools()["cases"] for t in TOOL_KEYS]


@pytest.mark.parametrize(("case", "convention"), TOOL_LAYER_CASES,
                         ids=[f"{c['kind']}-{c['spec']['input']}-{t}" for c, t in TOOL_LAYER_CASES])
def test_each_layer_under_each_tool_convention_equals_the_tool(case, convention):
    assert convention_total(convention, case["spec"]) == case[TOOL_KEYS[convention]]


def test_the_tool_fixture_has_every_layer_case():
    assert [c["spec"] for c in tools()["cases"]] == [c["spec"] for c in layer_cases()]


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
@pytest.mark.parametrize("convention", list(TOOL_KEYS))
def test_the_model_under_each_tool_convention_equals_the_tool(name, convention):
    model = next(m for m in tools()["models"] if m["name"] == name)
    options = tuple(x for k, v in MEMBERS[name].items() for x in ("--set", f"{k}={v}"))
    assert convention_total(convention, None, options) == model[TOOL_KEYS[convention]]


@pytest.mark.parametrize("name", list(MEMBERS))
@pytest.mark.parametrize("convention", ["flop-counter", "flop-counter-sdpa"])
def test_flop_counter_conventions_equal_flop_counter_mode(name, convention):
    """Swin writes its attention as matmuls, never scaled_dot_product_attention: FlopCounterMode counts its
    products whatever kernel SDPA would pick, so flop-counter-sdpa is flop-counter here (2 x swin.json's MACs)."""
    options = tuple(x for k, v in MEMBERS[name].items() for x in ("--set", f"{k}={v}"))
    assert convention_total(convention, None, options) == 2 * models()[name]["macs"]
