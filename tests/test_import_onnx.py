"""`paramcalc import model.onnx` (issue 18): real ONNX exports from PyTorch with their weights stripped
(tests/fixtures/make_onnx_fixtures.py), imported and compared with PyTorch's own figures. Without the
optional `onnx` package these tests skip, except the one that checks the message naming the extra."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "import"
TORCH = json.loads((IMPORTS / "onnx_import.json").read_text())["cases"]

try:
    import onnx
except ModuleNotFoundError:
    onnx = None
needs_onnx = pytest.mark.skipif(onnx is None, reason="the optional extra paramcalc[onnx] (the `onnx` package) is not "
                                "installed: pip install '.[onnx]'")


def test_without_onnx_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_onnx(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "onnx" or name.startswith("onnx."):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    result = CliRunner().invoke(cli, ["import", str(IMPORTS / "lenet5_torch.onnx")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith(f"{IMPORTS / 'lenet5_torch.onnx'}: error: ") and "\n" not in message
    assert "pip install 'paramcalc[onnx]'" in message


@needs_onnx
@pytest.mark.parametrize("case", sorted(TORCH))
def test_imported_onnx_computes_pytorch_own_figures(case: str) -> None:
    assert_imports_with_pytorch_figures(IMPORTS / f"{case}.onnx", TORCH[case])


def assert_imports_with_pytorch_figures(path: Path, torch: dict[str, Any]) -> None:
    """`path` imported gives `torch`'s figures (params, trainable params, output shape) and says its
    initializers agree with them."""
    text = import_file(str(path))
    report = analyze(parse_spec(text, "imported.yaml"))
    assert report.total_params == torch["params"]
    assert report.trainable_params == torch["trainable_params"]
    assert [list(shape) for shape in report.outputs.values()] == [torch["output_shape"]]
    # The cross-check of the initializers: params, plus BatchNorm running statistics, which PyTorch
    # keeps as buffers (the fixture's `buffers`), never as params.
    stats = f" + {torch['buffers']:,} BatchNorm running statistics (buffers)" if torch["buffers"] else ""
    assert (f"# check: the initializers hold {torch['params'] + torch['buffers']:,} values = "
            f"{torch['params']:,} params{stats}: they agree.\n") in text


@needs_onnx
def test_the_weights_are_never_read() -> None:
    model = onnx.load(str(IMPORTS / "resnet18.onnx"), load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL and not t.raw_data for t in model.graph.initializer)
    assert not (IMPORTS / "weights.bin").exists()  # the external data file the initializers name is absent


@needs_onnx
def test_onnx_names_edges_and_operators() -> None:
    text = import_file(str(IMPORTS / "resnet18.onnx"))
    assert "  - Conv2d: {name: layer1_0_conv1, out_channels: 64, kernel_size: 3, padding: 1, bias: false}\n" in text
    assert "inputs: [layer1_0_bn2, maxpool]" in text  # the residual edge
    text = import_file(str(IMPORTS / "mixed_ops.onnx"))
    for line in ("Conv2d: {name: down, out_channels: 16, kernel_size: 3, stride: 2, padding: 1, groups: 4}",
                 "ConvTranspose2d: {name: up, out_channels: 8, kernel_size: 2, stride: 2}",
                 "Concatenate: {name: Concat, inputs: [input, up], dim: 1}", "Upsample: {name: Resize, size: 32",
                 "LayerNorm: {name: norm, normalized_shape: 16}",
                 "Linear: {name: MatMul, out_features: 5, bias: false}"):
        assert line in text


def onnx_model(path: Path, nodes: list[Any], initializers: list[Any], out_shape: list[int]) -> str:
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


@needs_onnx
def test_every_unsupported_operator_is_listed_at_once_with_its_node(tmp_path: Path) -> None:
    from onnx import helper

    nodes = [helper.make_node("Relu", ["x"], ["a"], name="first"),
             helper.make_node("Einsum", ["a"], ["b"], name="mix", equation="ijkl->ijkl"),
             helper.make_node("NonMaxSuppression", ["b"], ["y"], name="nms")]
    path = onnx_model(tmp_path / "odd.onnx", nodes, [], [1, 4, 8, 8])
    result = CliRunner().invoke(cli, ["import", path])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith(f"{path}: error: ") and "2 nodes" in message
    assert "Einsum (`mix`)" in message and "NonMaxSuppression (`nms`)" in message and "\n" not in message


@needs_onnx
def test_an_attention_matmul_maps_to_the_matmul_kind(tmp_path: Path) -> None:
    from onnx import helper

    nodes = [helper.make_node("MatMul", ["x", "x"], ["y"], name="scores")]
    path = onnx_model(tmp_path / "attn.onnx", nodes, [], [1, 4, 8, 8])
    assert "  - MatMul: {name: scores, inputs: [x, x]}\n" in import_file(path)


def test_a_broken_onnx_file_is_one_paragraph(tmp_path: Path) -> None:
    if onnx is None:
        pytest.skip("the optional extra paramcalc[onnx] is not installed")
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x00not a protobuf at all")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "not a readable ONNX model" in result.stderr
