"""`paramcalc export --to pytorch` of specs written with Keras's layers (issue 18): the code PyTorch built in
tests/fixtures/make_export_fixtures.py (export_pytorch.json: the zoo under `cases`, the small padding and
layout cases of tests/cases/export_pytorch/ under `small_cases`) has paramcalc's figures, PyTorch's params
plus its BatchNorm buffers being paramcalc's params (Keras counts the moving statistics as weights)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.export import ExportError, export_spec
from paramcalc.export.pytorch_keras import same_padding
from paramcalc.spec.loader import load_spec
from tests.conftest import FIXTURES, ROOT

STORED = json.loads((FIXTURES / "export_pytorch.json").read_text())
ZOO, SMALL = STORED["cases"], STORED["small_cases"]
SMALL_DIR = "tests/cases/export_pytorch"

# Keras-written zoo specs (channels_last, Keras's kinds) and the Llama family (RMSNorm, GroupedQueryAttention)
KERAS_WRITTEN = ("lenet5", "lenet5_rgb", "mnist_cnn", "basic_cnn", "vgg16", "resnet50", "resnet_v2", "mobilenet_v1",
                 "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "densenet121", "inception_v3", "xception",
                 "efficientnet", "efficientnet_b0", "convnext", "convnext_tiny", "gpt3", "keras_text_transformer",
                 "imdb_lstm", "lstm_seq2seq")
LLAMAS = ("llama2_7b", "llama3_8b", "mistral_7b", "mixtral_8x7b", "t5_small")


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the code names the spec by the path the script gave, relative to the root


def figures_agree(framework: dict[str, Any], path: str) -> None:
    report = analyze(load_spec(path), keep_formulas=False)
    # A Keras-written spec's moving statistics are in paramcalc's params and in PyTorch's buffers
    assert framework["params"] + framework["running_statistics"] == report.total_params
    assert framework["trainable_params"] == report.trainable_params
    assert framework["output_shapes"] == [list(shape) for shape in report.outputs.values()]


@pytest.mark.parametrize("name", KERAS_WRITTEN + LLAMAS)
def test_keras_written_zoo_specs_build_in_pytorch(name: str) -> None:
    case = ZOO[name]
    assert "params" in case and "forward_error" not in case, case  # built, and its forward ran on the meta device
    figures_agree(case, f"specs/{name}.yaml")


def test_the_biggest_models_are_built_on_the_meta_device() -> None:
    assert ZOO["gpt3"]["params"] > 170_000_000_000 and ZOO["llama3_8b"]["params"] > 8_000_000_000
    assert not any("skipped" in case for case in ZOO.values())


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_cases_are_the_code_pytorch_built_with_paramcalcs_figures(name: str) -> None:
    path = f"{SMALL_DIR}/{name}.yaml"
    code = export_spec(path, "pytorch")
    assert hashlib.sha256(code.encode()).hexdigest() == SMALL[name]["sha256"], (
        f"the exported code of {path} changed: rerun tests/fixtures/make_export_fixtures.py pytorch")
    figures_agree(SMALL[name], path)


def test_keras_same_padding_is_written_exactly() -> None:
    code = export_spec(f"{SMALL_DIR}/same_padding_conv.yaml", "pytorch")
    # stride 2 on 8: one zero at the end, before a padding-0 conv; on 9 (odd): one each side, in the conv
    assert "        even = self.even(nn.functional.pad(input_.permute(0, 3, 1, 2), (0, 1, 0, 1)))\n" in code
    assert "self.odd = nn.Conv2d(in_channels=4, out_channels=5, kernel_size=3, stride=2, padding=1, bias=False)" in code
    assert "nn.functional.relu(self.even_kernel(nn.functional.pad(odd, (1, 2, 1, 2))))" in code  # kernel 4
    assert "padding=2, dilation=2)" in code
    assert "        return dilated.permute(0, 2, 3, 1)\n" in code  # the output channels last, as the spec's
    pools = export_spec(f"{SMALL_DIR}/same_padding_pool.yaml", "pytorch")
    assert 'nn.functional.pad(input_.permute(0, 3, 1, 2), (0, 1, 0, 1), value=float("-inf"))' in pools
    assert "nn.AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)" in pools


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(1, 1, 1), (3, 1, 1), (4, 1, 1), (3, 2, 1), (2, 2, 1),
                                                              (5, 3, 1), (3, 1, 2), (7, 2, 1)])
def test_same_padding_gives_kerass_ceil_of_n_over_s(size: int, kernel: int, stride: int, dilation: int) -> None:
    before, after = same_padding(size, kernel, stride, dilation)
    assert 0 <= after - before <= 1  # the odd zero at the end, as Keras (TensorFlow's rule) pads
    span = dilation * (kernel - 1) + 1
    assert (size + before + after - span) // stride + 1 == -(-size // stride)  # PyTorch's length = Keras's


def test_layouts_permute_once_and_back_where_the_last_axis_is_read() -> None:
    code = export_spec(f"{SMALL_DIR}/layout_ops.yaml", "pytorch")
    assert "It takes its inputs in the spec's layout, channels last" in code
    assert code.count(".permute(0, 3, 1, 2)") == 2  # the input, and the squeeze-and-excite's Reshape back to a map
    assert "        joined = torch.cat([excite, branch], dim=1)\n" in code  # Keras's axis -1: the channels
    assert "        per_pixel = self.per_pixel(joined.permute(0, 2, 3, 1))\n" in code  # a Dense reads channels last
    assert "        squeeze = stem.mean((2, 3))\n" in code and "        pooled = joined.amax((2, 3))\n" in code


def test_separable_and_batchnorm_variants() -> None:
    code = export_spec(f"{SMALL_DIR}/depthwise_separable.yaml", "pytorch")
    assert "class SeparableConv2d(nn.Module):" in code and "class KerasBatchNorm2d(nn.BatchNorm2d):" in code
    assert "self.depthwise = nn.Conv2d(in_channels=4, out_channels=8, kernel_size=3, stride=2, groups=4)" in code
    assert "nn.BatchNorm2d(num_features=8, eps=0.001, momentum=0.1)" in code  # Keras's momentum 0.9
    assert "KerasBatchNorm2d(num_features=12, eps=0.001, momentum=0.01, center=True, scale=False)" in code
    assert "self.relu6 = nn.ReLU6()" in code


def test_llama_layers_are_rmsnorm_and_grouped_query_attention() -> None:
    code = export_spec("specs/llama3_8b.yaml", "pytorch")
    assert "self.input_layernorm = nn.RMSNorm(normalized_shape=4096)" in code
    assert ("self.self_attn = GroupedQueryAttention(width=4096, head_dim=128, num_query_heads=32, "
            "num_key_value_heads=8, dropout=0.0, bias=False)") in code
    assert "self.q_proj = nn.Linear(" in code  # Hugging Face's names: q_proj, k_proj, v_proj, o_proj


def test_mixtral_experts_are_a_class_of_the_block_in_a_mixture() -> None:
    code = export_spec("specs/mixtral_8x7b.yaml", "pytorch")
    assert "self.block_sparse_moe = MixtureOfExperts(width=4096, num_experts=8, top_k=2, expert=SwigluExpert)" in code
    assert "class SwigluExpert(nn.Module):" in code  # its layers directly: experts.0.w1.weight, as Mixtral's
    assert "        self.w1 = nn.Linear(in_features=4096, out_features=14336, bias=False)\n" in code


def test_normalization_and_drop_connect() -> None:
    code = export_spec("specs/efficientnet_b0.yaml", "pytorch")
    assert "self.normalization = Normalization(channels=3)\n" in code  # to be adapted: 7 frozen params
    assert "self.block2b_drop = StochasticDepth(p=0.025, mode='row')" in code  # noise_shape [null, 1, 1, 1]
    given = export_spec("specs/convnext_tiny.yaml", "pytorch")
    assert "Normalization(channels=3, mean=[123.675, 116.28, 103.53], variance=[3409.976025," in given


def test_kerass_lstm_is_written_with_its_one_bias() -> None:
    code = export_spec("specs/lstm_seq2seq.yaml", "pytorch")
    assert "class KerasLSTM(nn.Module):" in code  # nn.LSTM's two biases would not count as Keras's one
    assert "        decoder = self.decoder(decoder_inputs, encoder[1], encoder[2])\n" in code  # the initial state
    bidirectional = export_spec("specs/imdb_lstm.yaml", "pytorch")
    assert ("self.bidirectional = KerasBidirectionalLSTM(input_size=128, units=64, bias=True, "
            "return_sequences=True)") in bidirectional


def test_resnet50_keeps_kerass_flat_layer_names() -> None:
    code = export_spec("specs/resnet50.yaml", "pytorch")
    # Keras names its layers on their own (conv2_block1_1_conv), not under the spec's block instance
    assert "        self.conv2_block1_1_conv = nn.Conv2d(in_channels=64, out_channels=64, kernel_size=1)\n" in code
    assert "        self.conv1_bn = nn.BatchNorm2d(num_features=64, eps=1.001e-05, momentum=0.01)\n" in code


def test_every_zoo_spec_exports_to_pytorch() -> None:
    assert all("params" in case and "forward_error" not in case for case in ZOO.values())
    assert {path.stem for path in (ROOT / "specs").glob("*.yaml")} == set(ZOO)


@pytest.mark.parametrize(("layers", "says"), [
    ("input: [8, 8, 3]\nlayers:\n  - AveragePooling2D: {name: pool, pool_size: 3, strides: 2, padding: same}\n",
     "pads 'same' unevenly"),
    ("input: [H, W, 3]\nlayers:\n  - Conv2D: {name: conv, filters: 4, kernel_size: 3, padding: same}\n",
     "free size"),
    ("input: [6, 16]\nlayers:\n  - GroupedQueryAttention: {name: attn, head_dim: 4, num_query_heads: 4, "
     "num_key_value_heads: 2, use_gate: true}\n", "`use_gate`"),
    ("input: [6, 16]\nlayers:\n  - LayerNormalization: {name: ln, scale: false}\n", "a shift without a scale"),
    ("input: [6, 16]\nlayers:\n  - Dropout: {name: drop, rate: 0.1, noise_shape: [1, 16]}\n", "`noise_shape`"),
    ("input: [6, 16]\nlayers:\n  - SimpleRNN: {name: rnn, units: 4}\n", "one bias vector per gate"),
    ("input: [6, 16]\nlayers:\n  - LSTM: {name: lstm, units: 4, activation: relu}\n", "activations other than"),
])
def test_inexact_arguments_are_refused_at_the_layer(spec_file: Any, layers: str, says: str) -> None:
    path = spec_file(layers)
    with pytest.raises(ExportError) as caught:
        export_spec(path, "pytorch")
    assert says in str(caught.value) and "Fix: " in str(caught.value)


def test_small_cases_are_all_stored() -> None:
    on_disk = {path.stem for path in (ROOT / SMALL_DIR).glob("*.yaml")}
    assert on_disk == set(SMALL) and all("params" in case for case in SMALL.values())


NUMERICS = json.loads((FIXTURES / "export_pytorch_numerics.json").read_text())["cases"]


@pytest.mark.parametrize("path", sorted(NUMERICS))
def test_the_pytorch_code_computes_kerass_function(path: str) -> None:
    """make_export_pytorch_numerics.py ran Keras's model (`export --to keras`; for the mixture of experts,
    transformers' Mixtral block) and this code with the same weights copied in, on the same input: the outputs
    agree to float32's precision."""
    case = NUMERICS[path]
    assert hashlib.sha256(export_spec(path, "pytorch").encode()).hexdigest() == case["sha256"], (
        f"the exported code of {path} changed: rerun tests/fixtures/make_export_pytorch_numerics.py")
    assert case["max_abs_difference"] <= 1e-4 * case["max_abs_output"]


def test_t5s_relative_position_bias_is_written() -> None:
    code = export_spec("specs/t5_small.yaml", "pytorch")
    assert ("self.relative_attention_bias = RelativePositionBias(num_heads=8, num_buckets=32, max_distance=128, "
            "bidirectional=True)") in code and "bidirectional=False)" in code and "import math\n" in code


def test_the_numerics_cover_every_small_case_and_keras_zoo_specs() -> None:
    covered = {f"{SMALL_DIR}/{name}.yaml" for name in SMALL} | {
        f"specs/{name}.yaml" for name in ("lenet5", "mobilenet_v2", "resnet50", "efficientnet_b0", "convnext_tiny",
                                          "imdb_lstm", "lstm_seq2seq")}
    assert covered <= set(NUMERICS)


def test_a_refusal_is_a_located_error_with_exit_code_2(spec_file: Any) -> None:
    path = spec_file("input: [6, 16]\nlayers:\n  - SimpleRNN: {name: rnn, units: 4}\n")
    result = CliRunner().invoke(cli, ["export", "--to", "pytorch", path])
    message = result.stderr.strip()
    assert result.exit_code == 2 and "Traceback" not in result.output and "\n" not in message
    assert message.startswith(f"{path}:3:5: error: layer `rnn` (SimpleRNN) has no exact PyTorch equivalent")
    assert "Fix: " in message
