"""`paramcalc import` of ONNX Conv and pooling whose padding differs before and after (explicit
asymmetric `pads`, `auto_pad` SAME_UPPER/SAME_LOWER): a ZeroPad2d goes before the op, and the import
computes the figures of the PyTorch twin (nn.ZeroPad2d + the op) that
tests/fixtures/make_onnx_padding_fixtures.py built and measured (params, output shape, fvcore's MACs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "import"
TORCH = json.loads((IMPORTS / "onnx_padding.json").read_text())["cases"]
onnx = pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] (the `onnx` package) is not installed")


@pytest.mark.parametrize("case", sorted(TORCH))
def test_padded_onnx_computes_the_pytorch_twin_figures(case: str) -> None:
    text = import_file(str(IMPORTS / f"{case}.onnx"))
    report = analyze(parse_spec(text, "imported.yaml"))
    torch = TORCH[case]
    assert report.total_params == torch["params"]
    assert report.total_macs == torch["macs"]
    assert [list(shape) for shape in report.outputs.values()] == [torch["output_shape"]]
    count = f"{torch['params']:,}"
    assert f"# check: the initializers hold {count} values = {count} params: they agree." in text


def test_the_zero_padding_layers_are_written_in_pytorch_order() -> None:
    text = import_file(str(IMPORTS / "asymmetric_pads.onnx"))
    # ONNX pads [top, left, bottom, right] = [0, 0, 1, 1] -> PyTorch (left, right, top, bottom) = (0, 1, 0, 1)
    assert "  - ZeroPad2d: {name: conv_pad, padding: [0, 1, 0, 1]}\n  - Conv2d: {name: conv, out_channels: 8" in text
    assert "  - ZeroPad2d: {name: pool_pad, padding: [0, 1, 1, 0]}\n  - MaxPool2d: {name: pool, kernel_size: 2}" in text
    text = import_file(str(IMPORTS / "same_pads.onnx"))
    assert "ZeroPad2d: {name: conv1_pad, padding: [0, 1, 0, 1]}" in text  # SAME_UPPER: the odd zero after
    assert "ZeroPad2d: {name: pool1_pad, padding: [1, 0, 1, 0]}" in text  # SAME_LOWER: before
    # Equal on both sides: the op's own padding, no extra layer.
    assert "Conv2d: {name: conv2, out_channels: 4, kernel_size: 4, padding: 3, dilation: 2, groups: 2}" in text
    assert "conv2_pad" not in text


def test_an_asymmetric_conv_transpose_is_still_refused(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[2, 2], pads=[0, 0, 1, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])],
                              [helper.make_tensor("w", TensorProto.FLOAT, [4, 2, 2, 2], [0.0] * 32)])
    path = tmp_path / "up.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "`up`" in result.stderr and "asymmetric padding" in result.stderr
