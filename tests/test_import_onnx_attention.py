"""Attention as ONNX exports it (issue 18): MatMuls of two activations become paramcalc's `MatMul`
kind, Transpose a Permute, the scores' scale an Identity, an nn.Parameter read by Add or Mul a
`Parameter` layer. The figures are PyTorch's and fvcore's
(tests/fixtures/make_onnx_attention_fixtures.py): the imported self-attention block, and
torch.matmul on its own (torch_matmul.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES

MATMUL = json.loads((FIXTURES / "torch_matmul.json").read_text())["cases"]
ATTENTION = json.loads((FIXTURES / "import" / "onnx_attention.json").read_text())["cases"]


@pytest.mark.parametrize("case", MATMUL, ids=[c["id"] for c in MATMUL])
def test_matmul_equals_torch_matmul(case: dict[str, Any]) -> None:
    import yaml

    report = analyze(parse_spec(yaml.safe_dump(case["spec"], sort_keys=False), "matmul.yaml"))
    assert report.total_params == case["params"] == 0
    assert report.total_macs == case["macs"]
    assert [list(shape) for shape in report.outputs.values()] == case["output_shapes"]


def test_matmul_refuses_sizes_that_do_not_multiply(spec_file: Callable[[str], str]) -> None:
    path = spec_file("name: m\ndata_format: channels_first\ninputs: {a: [2, 5, 8], b: [2, 7, 5]}\nlayers:\n"
                     "  - MatMul: {inputs: [a, b]}\n")
    result = CliRunner().invoke(cli, ["summary", path])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "contracted size" in result.stderr and "(2, 5, 8)" in result.stderr


def test_imported_self_attention_computes_pytorch_figures() -> None:
    pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] is not installed")
    from paramcalc.importers import import_file

    text = import_file(str(FIXTURES / "import" / "self_attention.onnx"))
    report = analyze(parse_spec(text, "imported.yaml"))
    torch = ATTENTION["self_attention"]
    assert report.total_params == report.trainable_params == torch["params"]
    assert report.total_macs == torch["macs"]  # fvcore: the four Linear layers and the two matmuls
    assert [list(shape) for shape in report.outputs.values()] == [torch["output_shape"]]
    assert "  - MatMul: {name: MatMul, inputs: [Transpose, Transpose_2]}\n  - Identity: {name: Div}\n" in text
    assert "Permute: {name: Transpose_2, inputs: Reshape_1, dims: [2, 3, 1]}" in text  # k^T
    assert f"the initializers hold {torch['params']:,} values = {torch['params']:,} params: they agree." in text


def test_a_constant_operand_that_is_no_per_sample_tensor_is_still_refused_by_name(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] is not installed")
    from onnx import TensorProto, helper

    # A (2, 4, 8) initializer on a (1, 4, 8) input would stretch the batch: no nn.Parameter of a sample.
    nodes = [helper.make_node("Mul", ["x", "table"], ["y"], name="scale_by_table")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 8])],
                              [helper.make_tensor("table", TensorProto.FLOAT, [2, 4, 8], [0.0] * 64)])
    path = tmp_path / "table.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "`scale_by_table`" in result.stderr and "constant operand" in result.stderr


def test_learned_tensors_become_parameter_layers_and_count() -> None:
    pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] is not installed")
    from paramcalc.importers import import_file

    text = import_file(str(FIXTURES / "import" / "learned_tensors.onnx"))
    report = analyze(parse_spec(text, "imported.yaml"))
    torch = ATTENTION["learned_tensors"]
    assert report.total_params == report.trainable_params == torch["params"]  # 1,088 + the table + the scale
    assert report.total_macs == torch["macs"]
    assert [list(shape) for shape in report.outputs.values()] == [torch["output_shape"]]
    # nn.Parameter(torch.zeros(1, 5, 16)) without its batch-like 1; nn.Parameter(torch.ones(16)) as it is.
    assert "  - Parameter: {name: position, shape: [5, 16]}\n  - Add: {name: Add, inputs: [input, position]}\n" in text
    assert "  - Parameter: {name: gamma, shape: [16]}\n" in text
    assert f"the initializers hold {torch['params']:,} values = {torch['params']:,} params: they agree." in text


def test_a_batch_swap_and_back_without_attention_weights_is_still_refused(tmp_path: Path) -> None:
    """nn.MultiheadAttention is recognised between two batch-swapping Transposes only when the region reads
    exactly its in- and out-projections: here it reads none, so the first Transpose is refused, saying why."""
    onnx = pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] is not installed")
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Transpose", ["x"], ["t"], name="to_sequence_first", perm=[1, 0, 2]),
             helper.make_node("Relu", ["t"], ["r"], name="act"),
             helper.make_node("Transpose", ["r"], ["y"], name="to_batch_first", perm=[1, 0, 2])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 16])])
    path = tmp_path / "swap.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "a Transpose that moves the batch axis (perm [1, 0, 2]) is not mapped (ONNX node `to_sequence_first`, " \
           "Transpose)" in result.stderr and "Permute keeps the batch axis first" in result.stderr
