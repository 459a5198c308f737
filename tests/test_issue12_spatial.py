"""Issue 12, spatial layers: free input dimensions give exactly what concrete sizes give, for
every registered layer kind that takes a spatial input; and the pooling / padding / upsampling
figures and refusals that the frameworks were found to disagree with."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import pytest
import sympy
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramcalc.cli import cli
from paramcalc.errors import ParamcalcError, ShapeError
from paramcalc.layers.registry import all_kinds
from tests.conftest import FIXTURES, SPECS, run_dict, run_text

# ---- symbolic = concrete, for every kind ------------------------------------------------------------

# CI runs a fixed set; raise PARAMCALC_SPATIAL_EXAMPLES locally to search longer.
EXAMPLES = int(os.environ.get("PARAMCALC_SPATIAL_EXAMPLES", "10"))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
NAMES = ("D", "H", "W")
CHANNELS = 4
BIG = 64  # an input every drawn window fits: a refusal at a small size must be about the size

# Kinds whose arguments name concrete sizes of the input itself, so that a free dimension cannot
# be checked against them and the symbolic run refuses: the refusal says so.
# Kinds whose arguments name the input's own sizes (or need them as numbers) refuse free dimensions there.
NAMES_INPUT_SIZES = {"LayerNorm": "normalized_shape", "RMSNorm": "normalized_shape", "LayerScale": "projection_dim",
                     "Reshape": "depends on the free dimensions",
                     **dict.fromkeys(("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                                      "TransformerEncoder", "TransformerDecoder", "Transformer"),
                                     "number of features as a number"),
                     # torchvision's Swin layers take `dim` channels: a free channel axis is refused
                     **dict.fromkeys(("ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging",
                                      "PatchMergingV2"), "channels (its last axis)")}


def per_dim(values: st.SearchStrategy, rank: int) -> st.SearchStrategy:
    """One value for every axis, or a list of `rank` of them (both spellings are drawn)."""
    return st.one_of(values, st.lists(values, min_size=rank, max_size=rank))


def pairs(values: st.SearchStrategy, rank: int) -> st.SearchStrategy:
    return st.one_of(values, st.lists(st.one_of(values, st.lists(values, min_size=2, max_size=2)),
                                      min_size=rank, max_size=rank))


def spatial_value(kind: str, arg: str, rank: int) -> st.SearchStrategy | None:
    """What to draw for one argument that shapes the spatial output (None: keep the example's)."""
    if arg in ("kernel_size", "pool_size"):
        return per_dim(st.integers(1, 4), rank)
    if arg in ("stride", "strides"):
        return per_dim(st.integers(1, 3), rank)
    if arg in ("dilation", "dilation_rate"):
        return per_dim(st.integers(1, 3), rank)
    if arg == "padding":
        if kind.startswith("ZeroPad") and not kind.startswith("ZeroPadding"):  # PyTorch: may be negative
            return st.one_of(st.integers(-2, 3), st.lists(st.integers(-2, 3), min_size=2 * rank, max_size=2 * rank))
        if kind.startswith("ZeroPadding"):
            return pairs(st.integers(0, 3), rank)
        return st.one_of(st.sampled_from(["valid", "same", "causal"]), per_dim(st.integers(0, 2), rank))
    if arg == "cropping":
        return pairs(st.integers(0, 3), rank)
    if arg == "output_padding":
        return st.one_of(st.none(), per_dim(st.integers(0, 2), rank))
    if arg in ("ceil_mode", "count_include_pad", "keepdims"):
        return st.booleans()
    if arg == "output_size":
        return per_dim(st.one_of(st.none(), st.integers(1, 4)), rank)
    if arg == "size" and kind.startswith("UpSampling"):
        return per_dim(st.integers(1, 3), rank)
    if arg == "size" and kind == "Upsample":
        return st.one_of(st.none(), per_dim(st.integers(1, 12), rank))
    if arg == "scale_factor":
        return st.one_of(st.none(), per_dim(st.sampled_from([0.3, 0.35, 0.5, 0.6, 0.7, 1.5, 2, 2.9, 3.0]), rank))
    if arg == "mode":
        return st.sampled_from(["nearest", "linear", "bilinear", "bicubic", "trilinear", "area"])
    if arg == "align_corners":
        return st.sampled_from([None, True, False])
    if arg == "interpolation":
        return st.sampled_from(["nearest", "bilinear", "lanczos3", "area"])
    return None


SINGLE = sorted(name for name, kind in all_kinds().items() if not kind.multi_input)
MERGES = sorted(name for name, kind in all_kinds().items() if kind.multi_input)


def spec_text(kind: str, args: dict[str, Any], dims: list[Any], channels_last: bool, merge: bool = False) -> str:
    shape = [*dims, CHANNELS] if channels_last else [CHANNELS, *dims]
    layers = [{"Identity": {"name": "a"}}, {"Identity": {"name": "b", "inputs": "input"}},
              {kind: {"inputs": ["a", "b"], **args}}] if merge else [{kind: args}]
    return yaml.safe_dump({"input": shape, "data_format": "channels_last" if channels_last else "channels_first",
                           "layers": layers}, sort_keys=False)


def analyse(text: str):
    try:
        return run_text(text)
    except ParamcalcError as error:
        return error


def substituted(x: Any, env: dict) -> Any:
    if x is None or isinstance(x, int):
        return x
    value = x.subs(env)
    assert value.is_Integer, f"{x} at {env} is {value}, not a whole number"
    return int(value)


def figures(report, env: dict | None = None) -> list[tuple]:
    """Every row's shape, params, MACs and other operations (with free dimensions substituted)."""
    def v(x: Any) -> Any:
        return substituted(x, env) if env is not None else x

    return [(r.name, tuple(v(d) for d in r.output_shape), v(r.params), v(r.trainable_params),
             v(r.non_trainable_params), v(r.macs), {k: v(n) for k, n in sorted(r.ops.items())}) for r in report.rows]


# Kinds that refuse some sizes however large, which free dimensions cannot know about.
OTHER_SIZE_BOUNDS = {
    "MatMul": "the first input's last axis must equal the second's next-to-last (the merge test gives equal shapes)",
    "PixelUnshuffle": "the height and width must be multiples of downscale_factor",
    "PositionEmbedding": "at most sequence_length positions (the table's rows)",
    "TokenAndPositionEmbedding": "at most sequence_length positions (the table's rows)",
}


def check_symbolic_equals_concrete(kind: str, args: dict[str, Any], rank: int, channels_last: bool,
                                   sizes: list[tuple[int, ...]], merge: bool = False) -> None:
    names = list(NAMES[3 - rank:])
    symbolic = analyse(spec_text(kind, args, names, channels_last, merge))
    for size in [*sizes, (BIG,) * rank]:
        concrete = analyse(spec_text(kind, args, list(size), channels_last, merge))
        env = {sympy.Symbol(n, integer=True, positive=True): s for n, s in zip(names, size)}
        where = f"{kind} {args} on {size} ({'channels_last' if channels_last else 'channels_first'})"
        if isinstance(symbolic, ParamcalcError):
            if kind in NAMES_INPUT_SIZES and NAMES_INPUT_SIZES[kind] in str(symbolic):
                return
            assert isinstance(concrete, ParamcalcError), f"{where}: only the symbolic run refuses: {symbolic}"
        elif isinstance(concrete, ParamcalcError):
            # Free dimensions cannot be too small; a size can, and only a size may make the difference.
            # A large size is refused only by kinds whose sizes have other bounds (below).
            assert isinstance(concrete, ShapeError), f"{where}: {concrete}"
            assert size != (BIG,) * rank or kind in OTHER_SIZE_BOUNDS, f"{where}: {concrete}"
        else:
            assert figures(symbolic, env) == figures(concrete), where


@st.composite
def layer_args(draw: st.DrawFn, kind: str, rank: int) -> dict[str, Any]:
    cls = all_kinds()[kind]
    args = yaml.safe_load(cls.example) or {}
    for arg in cls.own_args():
        values = spatial_value(kind, arg.name, rank)
        if values is None:
            continue
        value = draw(values)
        if value is None and not arg.required:
            args.pop(arg.name, None)
        else:
            args[arg.name] = value
    return args


sizes_of = {rank: st.lists(st.tuples(*[st.integers(1, 40)] * rank), min_size=2, max_size=3) for rank in (1, 2, 3)}


@pytest.mark.parametrize("kind", SINGLE)
@SETTINGS
@given(data=st.data())
def test_free_dimensions_substituted_equal_concrete_sizes(kind, data):
    """Shapes, params, MACs and other operations with free input dimensions, substituted, are the
    figures of the same spec at those sizes; or both runs refuse (a size may be too small only)."""
    cls = all_kinds()[kind]
    rank = getattr(cls, "rank", None) or data.draw(st.integers(1, 3), label="rank")
    channels_last = cls.framework == "keras" and data.draw(st.booleans(), label="channels_last")
    args = data.draw(layer_args(kind, rank), label="args")
    check_symbolic_equals_concrete(kind, args, rank, channels_last, data.draw(sizes_of[rank], label="sizes"))


@pytest.mark.parametrize("kind", MERGES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_merges_of_free_dimensions_equal_concrete_sizes(kind, rank):
    args = {k: v for k, v in (yaml.safe_load(all_kinds()[kind].example) or {}).items() if k != "inputs"}
    check_symbolic_equals_concrete(kind, args, rank, all_kinds()[kind].framework == "keras",
                                   [(5,) * rank, tuple(range(3, 3 + rank))], merge=True)


def test_the_property_covers_every_spatial_argument():
    """Each argument that decides an output length is drawn, for every kind that has it."""
    drawn = {"kernel_size", "pool_size", "stride", "strides", "dilation", "dilation_rate", "padding", "cropping",
             "output_padding", "ceil_mode", "output_size", "scale_factor", "mode"}
    for kind in SINGLE:
        cls = all_kinds()[kind]
        rank = getattr(cls, "rank", 2)
        for arg in cls.own_args():
            if arg.name in drawn or (arg.name == "size" and kind != "LocalResponseNorm"):
                assert spatial_value(kind, arg.name, rank) is not None, (kind, arg.name)


# ---- ceil_mode pooling with free dimensions ---------------------------------------------------------

@cache
def torchvision_model(model_id: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / "torchvision_models.json").read_text())
    return next(m for m in data["models"] if m["id"] == model_id)


@pytest.mark.parametrize("name", ["squeezenet1_1", "googlenet"])
def test_ceil_mode_zoo_specs_with_free_dimensions_give_torchvisions_figures_at_224(name):
    """MaxPool2d(ceil_mode=True) with free H, W: the formulas at 224 are torchvision's model
    (forward-hook conv/linear MACs, sum(p.numel())), layer by layer as the concrete spec."""
    text = (SPECS / f"{name}.yaml").read_text()
    assert "input: [3, res, res]" in text
    symbolic = run_text(text.replace("input: [3, res, res]", "input: [3, H, W]"))
    assert symbolic.free_dimensions == ["H", "W"]
    env = {sympy.Symbol(n, integer=True, positive=True): 224 for n in ("H", "W")}
    model = torchvision_model(name)
    assert substituted(symbolic.total_macs, env) == model["conv_linear_macs"]
    assert symbolic.total_params == model["params"]
    assert tuple(substituted(d, env) for d in symbolic.output_shape) == tuple(model["output_shape"])
    assert figures(symbolic, env) == figures(run_text(text))


def test_ceil_mode_max_pool_with_free_dimensions_through_the_cli():
    """ceil((H - 3)/2) + 1, as PyTorch: 54 at H = 109 (was 53: a window always dropped)."""
    text = "data_format: channels_first\ninput: [4, H, W]\nlayers:\n" \
           "  - MaxPool2d: {kernel_size: 3, stride: 2, ceil_mode: true}\n"
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "-"], input=text)
    assert result.exit_code == 0, result.output
    shape = json.loads(result.stdout)["output_shape"]
    assert shape == [None, 4, "ceil(H/2 - 3/2) + 1", "ceil(W/2 - 3/2) + 1"]
    H = sympy.Symbol("H", integer=True, positive=True)
    assert sympy.sympify(shape[2].replace("ceil(", "ceiling("), locals={"H": H}).subs(H, 109) == 54


def fixture_cases(name: str) -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / name).read_text())
    return [c for c in data["cases"] if c.get("spec") and "error" not in c and len(c["spec"].get("input", ())) >= 2]


def with_free_dimensions(spec: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """The spec with its spatial input sizes made free (D, H, W), and their values."""
    shape = list(spec["input"])
    channels_last = run_dict(spec).data_format == "channels_last"  # stated, or implied by the spellings
    spatial = shape[:-1] if channels_last else shape[1:]
    names = list(NAMES[3 - len(spatial):]) if len(spatial) <= 3 else [f"S{i}" for i in range(len(spatial))]
    free = [*names, shape[-1]] if channels_last else [shape[0], *names]
    env = {sympy.Symbol(n, integer=True, positive=True): s for n, s in zip(names, spatial)}
    return {**spec, "input": free}, env


FRAMEWORK_CASES = [(name, case) for name in ("torch_layers.json", "keras_layers.json") for case in fixture_cases(name)]


@pytest.mark.parametrize("case", [c for _, c in FRAMEWORK_CASES], ids=[c["id"] for _, c in FRAMEWORK_CASES])
def test_framework_cases_with_free_dimensions_substituted(case):
    """Every framework fixture case, its spatial input sizes made free: the formulas at the
    recorded sizes are the framework's shapes, params (and fvcore MACs for PyTorch)."""
    spec, env = with_free_dimensions(case["spec"])
    try:
        report = run_text(yaml.safe_dump(spec, sort_keys=False))
    except ParamcalcError as error:  # a stated size (in_features=512, target_shape) cannot be checked
        assert any(word in str(error) for word in ("in_features", "normalized_shape", "depends on the free")), error
        return
    assert tuple(substituted(d, env) for d in report.output_shape) == tuple(case["output_shape"])
    assert substituted(report.total_params, env) == case["params"]
    if "macs" in case:
        assert substituted(report.total_macs, env) == case["macs"]
    if "layers" in case:
        assert [tuple(substituted(d, env) for d in r.output_shape) for r in report.rows] == [
            tuple(layer["output_shape"]) for layer in case["layers"]]


# ---- the issue's cases through the CLI, against the frameworks' fixtures ---------------------------

@cache
def fixture_case(name: str, case_id: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    return next(c for c in data["cases"] if c["id"] == case_id)


# (fixture, case id, for a refusal: a fragment paramcalc's message must contain)
ISSUE_CASES = [
    ("torch_layers.json", "MaxPool2d/ceil-mode-k3-s2-109", None),
    ("torch_layers.json", "MaxPool2d/ceil-mode-k3-s2-111", None),
    ("torch_layers.json", "MaxPool1d/ceil-mode-k3-s2-p1-even", None),
    ("torch_layers.json", "MaxPool1d/ceil-mode-k3-s2-p1-odd", None),
    ("torch_layers.json", "MaxPool1d/ceil-mode-k2-s3-p1-window-dropped", None),
    ("torch_layers.json", "MaxPool1d/ceil-mode-input-smaller-than-kernel", None),
    ("torch_layers.json", "MaxPool2d/ceil-mode-dilation2-padding1", None),
    ("torch_layers.json", "MaxPool3d/ceil-mode-k2-s3-p1", None),
    ("torch_layers.json", "AvgPool2d/ceil-mode-k3-s2-p1", None),
    ("torch_layers.json", "AvgPool3d/ceil-mode-k3-s2-p1", None),
    ("torch_layers.json", "AvgPool2d/divisor-override", None),
    ("torch_layers.json", "AvgPool3d/error-input-smaller-than-kernel", "smaller than the kernel"),
    ("torch_layers.json", "AvgPool3d/error-input-smaller-than-kernel-padded", "even with padding"),
    ("torch_layers.json", "AvgPool3d/error-input-smaller-than-kernel-ceil-mode", "smaller than the kernel"),
    ("torch_layers.json", "AvgPool1d/error-divisor-override", "AvgPool1d has no argument `divisor_override`"),
    ("torch_layers.json", "Upsample/scale0.7-length10", None),
    ("torch_layers.json", "Upsample/scale0.35-length20", None),
    ("torch_layers.json", "Upsample/scale0.6-length5", None),
    ("torch_layers.json", "Upsample/scale0.3-length10", None),
    ("torch_layers.json", "Upsample/scale2.9-length10", None),
    ("torch_layers.json", "Upsample/scale1.5-length7", None),
    ("torch_layers.json", "Upsample/scale-list-2d", None),
    ("torch_layers.json", "Upsample/scale0.7-area-2d", None),
    ("torch_layers.json", "Upsample/linear-1d-align-corners", None),
    ("torch_layers.json", "Upsample/bicubic-2d", None),
    ("torch_layers.json", "Upsample/trilinear-3d", None),
    ("torch_layers.json", "Upsample/nearest-3d", None),
    ("torch_layers.json", "Upsample/size-2d", None),
    ("torch_layers.json", "Upsample/error-output-zero", "would be floor(3 x 0.1) = 0"),
    ("torch_layers.json", "Upsample/error-bilinear-on-1d", "'bilinear' needs a (C, H, W) input"),
    ("torch_layers.json", "Upsample/error-linear-on-2d", "'linear' needs a (C, L) input"),
    ("torch_layers.json", "Upsample/error-trilinear-on-2d", "'trilinear' needs a (C, D, H, W) input"),
    ("torch_layers.json", "Upsample/error-bicubic-on-3d", "'bicubic' needs a (C, H, W) input"),
    ("torch_layers.json", "Upsample/error-align-corners-with-nearest", "`align_corners` can only be set"),
    ("torch_layers.json", "Upsample/error-align-corners-false-with-area", "`align_corners` can only be set"),
    ("torch_layers.json", "Upsample/error-unknown-mode", "`mode` must be one of"),
    ("torch_layers.json", "Upsample/error-lanczos", "needs antialias=True"),
    ("torch_layers.json", "Upsample/error-size-with-recompute-scale-factor", "not meaningful with an explicit size"),
    ("torch_layers.json", "ZeroPad2d/negative-int", None),
    ("torch_layers.json", "ZeroPad2d/negative-list", None),
    ("torch_layers.json", "ZeroPad1d/negative", None),
    ("torch_layers.json", "ZeroPad3d/negative", None),
    ("torch_layers.json", "ZeroPad2d/crop-to-empty", None),
    ("torch_layers.json", "ZeroPad2d/error-crop-past-empty", "would leave a negative output"),
    ("keras_layers.json", "Cropping1D/channels-first-spec-acts-on-axis1", None),
    ("keras_layers.json", "UpSampling1D/channels-first-spec-acts-on-axis1", None),
    ("keras_layers.json", "ZeroPadding1D/channels-first-spec", None),
    ("keras_layers.json", "ZeroPadding1D/data-format-argument", None),
    ("keras_layers.json", "Cropping1D/error-data-format-argument", "Cropping1D has no argument `data_format`"),
    ("keras_layers.json", "UpSampling1D/error-data-format-argument", "UpSampling1D has no argument `data_format`"),
    ("keras_layers.json", "UpSampling1D/error-interpolation-argument", "has no argument `interpolation`"),
    ("keras_layers.json", "UpSampling3D/error-interpolation-argument", "has no argument `interpolation`"),
    *[("keras_layers.json", f"UpSampling2D/interpolation-{w}", None)
      for w in ("bilinear", "bicubic", "lanczos3", "lanczos5", "Bilinear")],
    *[("keras_layers.json", f"UpSampling2D/error-interpolation-{w}", "`interpolation` must be one of")
      for w in ("area", "gaussian", "linear")],
    *[("keras_layers.json", f"MaxPooling{r}D/default-pool-size", None) for r in (1, 2, 3)],
    *[("keras_layers.json", f"AveragePooling{r}D/error-no-pool-size", f"AveragePooling{r}D needs `pool_size`")
      for r in (1, 2, 3)],
]


@pytest.mark.parametrize("fixture, case_id, refusal", ISSUE_CASES, ids=[c[1] for c in ISSUE_CASES])
def test_issue_case_through_the_cli(fixture, case_id, refusal):
    """The framework's shape and counts, or, where it refuses, exit 2 with a located error and a fix."""
    case = fixture_case(fixture, case_id)
    text = yaml.safe_dump(case["spec"], sort_keys=False)
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "-"], input=text)
    if "error" in case:
        assert refusal is not None, f"the framework refuses {case_id}: {case['error']}"
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("<stdin>:") and refusal in result.stderr and "Fix: " in result.stderr
        assert "Traceback" not in result.output
        return
    assert refusal is None and result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output_shape"] == case["output_shape"]
    assert data["total_params"] == case["params"]
    if "macs" in case:
        assert data["total_macs"] == case["macs"]


def test_upsample_scale_with_a_free_dimension_is_a_formula_that_floors_in_doubles():
    """floor(0.7*W): 7 at W = 10 as PyTorch (the exact binary value of 0.7 would give 6)."""
    text = "data_format: channels_first\ninput: [1, W]\nlayers:\n  - Upsample: {scale_factor: 0.7}\n"
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "-"], input=text)
    assert json.loads(result.stdout)["output_shape"] == [None, 1, "floor(0.7*W)"]
    W = sympy.Symbol("W", integer=True, positive=True)
    length = run_text(text).output_shape[2]
    expected = fixture_case("torch_layers.json", "Upsample/scale0.7-length10")["output_shape"][2]
    assert length.subs(W, 10) == expected == 7


def test_upsample_accepts_the_nearest_exact_mode():
    """PyTorch's 'nearest-exact' is a mode of its own, with the shapes of 'nearest' (the spec's
    expression parser still reads the hyphenated word as a subtraction: see spec/)."""
    from paramcalc.errors import Location
    from paramcalc.layers.base import Context
    from paramcalc.layers.reshape import Upsample

    nearest = fixture_case("torch_layers.json", "Upsample/scale2-nearest")
    ctx = Context(False, "Upsample", Location("test.yaml", 1, 1))
    args = Upsample.parse_args({"scale_factor": 2, "mode": "nearest-exact"}, None, False, ctx)
    result = Upsample.compute(args, tuple(nearest["spec"]["input"]), ctx)
    assert [None, *result.output_shape] == nearest["output_shape"]
