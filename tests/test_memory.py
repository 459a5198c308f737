"""Memory (paramcalc/memory.py): bytes at each dtype, the inference peak of live activations, and
training memory. Checked against PyTorch measurements on the torchvision zoo
(tests/fixtures/torch_memory.json, made by make_memory_fixtures.py) and by hand on tiny specs."""

from __future__ import annotations

import json
from functools import cache

import pytest

from paramcalc.inputs import with_batch
from paramcalc.layers.registry import all_kinds
from paramcalc.layers.traits import SAVES, Cost, Saves
from paramcalc.memory import Precision, inference_peak, nbytes, saved_activation_bytes, training_memory
from tests.conftest import FIXTURES, run_file, run_text

# fixture id -> the zoo spec that builds the same model
SPECS = {"vgg16": "vgg16_torchvision.yaml", "resnet18": "resnet18.yaml", "resnet50": "resnet50_torchvision.yaml",
         "squeezenet1_1": "squeezenet1_1.yaml", "googlenet": "googlenet.yaml",
         "mobilenet_v3_large": "mobilenet_v3_large_torchvision.yaml",
         "efficientnet_b0": "efficientnet_b0_torchvision.yaml",
         "shufflenet_v2_x1_0": "shufflenet_v2.yaml", "convnext_tiny": "convnext_tiny_torchvision.yaml"}


@cache
def measured() -> dict:
    return {m["id"]: m for m in json.loads((FIXTURES / "torch_memory.json").read_text())["models"]}


@cache
def report(model_id: str, batch: int):
    return with_batch(run_file(SPECS[model_id]), batch)


CASES = [(model_id, batch) for model_id in SPECS for batch in (1, 8)]
IDS = [f"{m}-b{b}" for m, b in CASES]


def fixture_row(model_id: str, batch: int) -> dict:
    return next(row for row in measured()[model_id]["batches"] if row["batch"] == batch)


def test_the_fixture_covers_every_case():
    assert set(measured()) == set(SPECS)
    assert all({row["batch"] for row in measured()[m]["batches"]} == {1, 8} for m in SPECS)


# ---- training: what autograd saves --------------------------------------------------------------------

@pytest.mark.parametrize("model_id, batch", CASES, ids=IDS)
def test_saved_activations_equal_what_autograd_saves(model_id, batch):
    """Exact, to the byte. The fixture ran on the CPU, where PyTorch keeps dropout's mask in float32
    (on CUDA: bool, the model's default), so the mask is sized at 32 bits here."""
    row = fixture_row(model_id, batch)
    assert saved_activation_bytes(report(model_id, batch), 32, mask_bits=32) == row["saved_bytes"]


def test_dropout_mask_is_a_byte_a_value_by_default():
    """VGG-16's two classifier dropouts (4,096 values each): a bool mask (CUDA's) is 3 bytes a value
    smaller than the float32 one that the CPU measurement holds."""
    row = fixture_row("vgg16", 1)
    assert row["dropout_mask_values"] == 8192
    ours = saved_activation_bytes(report("vgg16", 1), 32)
    assert row["saved_bytes"] - ours == 8192 * 3


@pytest.mark.parametrize("model_id", ["vgg16", "resnet18", "googlenet", "squeezenet1_1"])
def test_max_pooling_indices_are_the_int64_part(model_id):
    """The only int64 tensors autograd saves in these models are max pooling's indices: the model's
    figure for them (8 bytes per output value) equals the measured int64 bytes."""
    r = report(model_id, 1)
    indices = sum(8 * r_.activations for r_ in r.rows if r_.kind.saves_of(r_.args) is Saves.INPUT_AND_INDICES)
    assert indices == fixture_row(model_id, 1)["saved_by_dtype"]["int64"]


HALF = [(m, d) for m in ("resnet18", "mobilenet_v3_large") for d in ("bfloat16", "float16")]


@pytest.mark.parametrize("model_id, dtype", HALF, ids=[f"{m}-{d}" for m, d in HALF])
def test_half_precision_saves_half_the_bytes(model_id, dtype):
    """The model cast to bfloat16 / float16 (batch 2): every activation at 2 bytes, max pooling's
    indices still int64. PyTorch on the CPU keeps batch norm's statistics and dropout's mask in the
    activation dtype too (cuDNN keeps the statistics in float32, the model's default): sized so here."""
    row = next(r for r in json.loads((FIXTURES / "torch_memory.json").read_text())["half"]
               if (r["id"], r["dtype"]) == (model_id, dtype))
    r = report(model_id, row["batch"])
    assert saved_activation_bytes(r, 16, mask_bits=16, stat_bits=16) == row["saved_bytes"]
    ours = inference_peak(r, 16, count_inputs=False).bytes
    assert ours <= row["inference_peak_bytes"] <= ours + max(2 * row_.activations for row_ in r.rows)


# ---- inference: liveness --------------------------------------------------------------------------

EXACT_PEAK = {"vgg16", "resnet18", "googlenet", "shufflenet_v2_x1_0"}


@pytest.mark.parametrize("model_id, batch", CASES, ids=IDS)
def test_inference_peak_against_live_tensors_in_pytorch(model_id, batch):
    """The measurement (a TorchDispatchMode tracking each created storage until its last tensor object
    dies) leaves out the input, which the caller holds: so does this comparison. Where the peak is
    where the last-reader model says, it is exact. Elsewhere PyTorch holds more, for two reasons the
    model leaves out on purpose: a module's Python `forward` keeps its input alive until it returns
    (ResNet-50's, MobileNetV3's, EfficientNet's, ConvNeXt's blocks), and PyTorch's CPU max pooling
    allocates int64 indices for a moment even without gradients (SqueezeNet). Either adds at most
    one tensor: the measurement lies between the model's figure and that plus its largest tensor."""
    r = report(model_id, batch)
    ours = inference_peak(r, 32, count_inputs=False).bytes
    theirs = fixture_row(model_id, batch)["inference_peak_bytes"]
    if model_id in EXACT_PEAK:
        assert ours == theirs
    else:
        largest = max(4 * row.activations for row in r.rows)
        assert ours <= theirs <= ours + largest, (ours, theirs, largest)


# ---- parameters, gradients, optimizer state ---------------------------------------------------------

@pytest.mark.parametrize("model_id", list(SPECS))
@pytest.mark.parametrize("optimizer", ["momentum", "adam", "adamw"])
def test_parameters_gradients_and_optimizer_state_equal_pytorch(model_id, optimizer):
    """torch.optim's state tensors after one step; Adam's per-tensor `step` counters (4 bytes per
    parameter tensor, under 1 KB for these models) are left out of the model and of this check."""
    m = measured()[model_id]
    t = training_memory(report(model_id, 1), Precision(), optimizer)
    assert (t.parameter_bytes, t.gradient_bytes, t.optimizer_bytes) == (
        m["parameter_bytes"], m["gradient_bytes"], m["optimizer_state_bytes"][optimizer])
    assert m["optimizer_step_bytes"][optimizer] < 1024


# ---- by hand, on tiny specs ---------------------------------------------------------------------

CHAIN = """
name: tiny
input: [8, 8, 3]
layers:
  - Conv2D: {name: conv, filters: 4, kernel_size: 3, padding: same}   # 8x8x4 = 256 values, 112 params
  - ReLU: {name: relu}                                                 # 256 values
  - MaxPooling2D: {name: pool, pool_size: 2}                           # 4x4x4 = 64 values
  - Flatten: {name: flat}                                              # a view: no new storage
  - Dense: {name: fc, units: 10}                                       # 10 values, 650 params
"""


def test_chain_peak_is_the_largest_neighbouring_pair():
    """float32: input 192 values = 768 B. conv: input 768 + conv 1024 = 1792; relu: conv 1024 + relu
    1024 = 2048; pool: 1024 + 256 = 1280; flat: a view of pool, 256; fc: 256 + 40 = 296."""
    peak = inference_peak(run_text(CHAIN))
    assert (peak.bytes, peak.layer) == (2048, "relu")
    assert inference_peak(run_text(CHAIN), count_inputs=False).bytes == 2048
    assert inference_peak(with_batch(run_text(CHAIN), 8)).bytes == 8 * 2048


def test_an_in_place_relu_adds_no_storage():
    """ReLU in place writes over the conv's output: the peak is the conv's step, 768 + 1024 = 1792."""
    peak = inference_peak(run_text(CHAIN.replace("{name: relu}", "{name: relu, inplace: true}")))
    assert (peak.bytes, peak.layer) == (1792, "conv")


def test_a_skip_connection_keeps_its_tensor_alive():
    """Dense 4 -> a (8) -> b (8) -> c (8), then Add(a, c): `a` lives until the Add. float32: at c,
    a + b + c = 96 B live. Adding b and c instead, `a` dies after b: 64 B at c, and the peak is the
    Add's b + c + sum = 96 B."""
    text = """
name: skip
input: [4]
layers:
  - Dense: {name: a, units: 8}
  - Dense: {name: b, units: 8}
  - Dense: {name: c, units: 8}
  - Add: {name: add, inputs: [a, c]}
"""
    assert inference_peak(run_text(text)) == (96, "c")
    assert inference_peak(run_text(text.replace("inputs: [a, c]", "inputs: [b, c]"))) == (96, "add")


def test_unet_skip_connections_stay_alive():
    """U-Net at 256 (float32, batch 1): while the bottleneck's last ReLU runs, the four encoder outputs
    the decoder will concatenate are still alive: inc 64 x 256^2 + down1 128 x 128^2 + down2 256 x 64^2
    + down3 512 x 32^2 = 7,864,320 values, beside the ReLU's input and output (1,024 x 16^2 each)."""
    from paramcalc.memory import live_profile

    r = run_file("unet.yaml")
    bottleneck = [row.name for row in r.rows if row.path and row.path[0][0] == "down4"][-1]
    live = dict((name, n) for n, name in live_profile(r))
    assert live[bottleneck] == 4 * (7_864_320 + 2 * 1024 * 16 * 16)


def test_densenet_concatenations_keep_their_inputs():
    """DenseNet-121: the peak is above the largest inputs-plus-output of any one layer, because every
    feature map of a dense block stays alive until the block's last concatenation."""
    r = run_file("densenet121.yaml")
    size = {name: 4 * shape[1] * shape[2] * shape[3] for name, shape in r.inputs.items()}
    size.update((row.name, 4 * row.activations) for row in r.rows)
    one_layer = max(sum(size[n] for n in row.inputs) + size[row.name] for row in r.rows)
    assert inference_peak(r).bytes > 1.25 * one_layer


def test_training_memory_by_hand():
    """Saved (float32): conv its input 768; relu its output 1024; pool its input (relu's output,
    counted once) and int64 indices 64 x 8 = 512; flat nothing; fc its input (pool's storage) 256:
    2,560. Params 762 x 4 = 3,048; gradients 3,048; Adam 2 x 3,048 = 6,096. Total 14,752."""
    t = training_memory(run_text(CHAIN), Precision(), "adam")
    assert (t.parameter_bytes, t.gradient_bytes, t.optimizer_bytes, t.saved_activation_bytes, t.total_bytes) == (
        3048, 3048, 6096, 2560, 14752)
    assert training_memory(run_text(CHAIN), Precision(), "sgd").optimizer_bytes == 0
    assert training_memory(run_text(CHAIN), Precision(), "momentum").optimizer_bytes == 3048


def test_mixed_precision_by_hand():
    """bfloat16 with float32 master weights, Adam: params 762 x 2 = 1,524; gradients 1,524; optimizer
    2 x 762 x 4 + 762 x 4 (master copy) = 9,144; saved at 2 bytes: 384 + 512 + 128, the int64 indices
    still 512: 1,536. Total 13,728."""
    t = training_memory(run_text(CHAIN), Precision("bfloat16", "bfloat16"), "adam", mixed_precision=True)
    assert (t.parameter_bytes, t.gradient_bytes, t.optimizer_bytes, t.saved_activation_bytes, t.total_bytes) == (
        1524, 1524, 9144, 1536, 13728)


def test_dtypes_size_bytes():
    """int4 packs two values a byte, rounding up; weights and activations take their own dtypes."""
    assert [nbytes(762, bits) for bits in (32, 16, 8, 4)] == [3048, 1524, 762, 381]
    assert nbytes(7, 4) == 4
    p = Precision("int4", "float16")
    assert (p.weight_bits, p.activation_bits, p.compute) == (4, 16, "float16")
    assert Precision("int8", "int8").compute == "int8" and Precision("float8", "int8").compute == "float8"


def test_free_dimensions_give_formulas():
    text = "name: f\ninput: [H, W, 3]\nlayers:\n  - Conv2D: {name: conv, filters: 4, kernel_size: 1}\n"
    r = run_text(text)
    peak = inference_peak(r)
    assert str(peak.bytes) == "28*H*W" and peak.layer == "conv"  # input 12 HW + output 16 HW bytes
    assert str(saved_activation_bytes(r)) == "12*H*W"


# ---- every kind says what it keeps -----------------------------------------------------------------

def test_every_category_has_a_default():
    assert set(SAVES) == set(Cost)


@pytest.mark.parametrize("name", list(all_kinds()))
def test_every_kind_keeps_something_definite(name):
    kind = all_kinds()[name]
    row = run_text(kind.example_spec()).rows[-1]
    assert isinstance(row.kind.saves_of(row.args), Saves)
    assert isinstance(saved_activation_bytes(run_text(kind.example_spec())), int)


# ---- memory budget and sweeps ------------------------------------------------------------------------

def test_parse_bytes():
    from paramcalc.memory import parse_bytes

    assert [parse_bytes(t) for t in ("4G", "512M", "1.5GB", "8GiB", "1000")] == [
        4 * 1024**3, 512 * 1024**2, 3 * 1024**3 // 2, 8 * 1024**3, 1000]


def test_sweep_figures_and_budget_by_hand():
    """The tiny chain: inference needs params 3,048 + peak 2,048 = 5,096 B; training (Adam) 14,752 B."""
    from paramcalc.memory import Costs, sweep_figures

    r = run_text(CHAIN)
    assert sweep_figures(r, Costs(budget=5096)) == {"peak_activation_bytes": 2048, "training_bytes": 14752,
                                                    "needed_bytes": 5096, "fits": True}
    assert sweep_figures(r, Costs(budget=5095))["fits"] is False
    assert sweep_figures(r, Costs(budget=14752, training=True))["fits"] is True


def test_a_sweep_shows_where_the_model_stops_fitting(spec_file):
    """At res 8 the chain needs 5,096 B for inference; at 16, four times the activations: conv 4 x 1,024
    + relu 4 x 1,024 = 8,192 B of peak, and the Dense reads 256 values (2,570 params): far over 6 KB."""
    from click.testing import CliRunner

    from paramcalc.cli import cli

    text = CHAIN.replace("input: [8, 8, 3]", "vars: {res: 8}\ninput: [res, res, 3]")
    result = CliRunner().invoke(cli, ["summary", "--format", "json", "--set", "res=8,16", "--memory-budget", "6K",
                                      spec_file(text)])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [(r["res"], r["peak_activation_bytes"], r["needed_bytes"], r["fits"]) for r in rows] == [
        (8, 2048, 5096, True), (16, 8192, 8192 + 4 * (112 + 2570), False)]


def test_the_summary_says_whether_it_fits(spec_file):
    from click.testing import CliRunner

    from paramcalc.cli import cli

    result = CliRunner().invoke(cli, ["summary", "--memory-budget", "5K", spec_file(CHAIN)])
    assert "Fits 5.00 KB: yes" in result.stdout and "needs 4.98 KB" in result.stdout
    bad = CliRunner().invoke(cli, ["summary", "--memory-budget", "lots", spec_file(CHAIN)])
    assert bad.exit_code == 2 and "--memory-budget 'lots' is not a size" in bad.stderr


@pytest.mark.parametrize("model_id", ["vgg16", "resnet18"])
def test_the_memory_object_shares_one_walk_of_the_storages_and_says_the_same(model_id):
    """memory_dict walks the storages once when inference and training agree (no dropout: ResNet-18)
    and twice when a dropout is the identity at inference only (VGG-16): the same figures as the
    functions that walk them on their own."""
    from paramcalc.memory import memory_dict, storages_for_both

    r = report(model_id, 1)
    at_inference, in_training = storages_for_both(r, 32)
    assert (at_inference is in_training) == (model_id == "resnet18")
    found = memory_dict(r, Precision())
    assert found["peak_activation_bytes"] == inference_peak(r, 32).bytes
    assert found["training"]["saved_activation_bytes"] == saved_activation_bytes(r, 32)
