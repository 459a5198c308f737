"""Round trips of torchvision's zoo and of nn.MultiheadAttention alone (issue 18): each model exported
to ONNX by PyTorch with its weights stripped (tests/fixtures/make_onnx_zoo_fixtures.py), imported, and
compared with PyTorch's own figures; a model whose operators paramcalc does not map is refused with the
list of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.spec.loader import parse_spec
from tests.conftest import FIXTURES
from tests.test_import_onnx import assert_imports_with_pytorch_figures

ZOO = FIXTURES / "import" / "onnx_zoo"
TORCH = json.loads((ZOO / "onnx_zoo.json").read_text())["cases"]
# Refused by the importer: the operators it does not map (listed all at once, each with its node). Swin
# pads, gathers and scatters its windows. (ShuffleNet's channel split, a Slice whose bounds the graph
# computes from shapes, imports: the bounds are evaluated; so does ViT, whose nn.MultiheadAttention,
# exported sequence-first between two batch-swapping Transposes, becomes one MultiheadAttention layer.)
REFUSED = {"swin_t": "has 207 nodes with an operator paramcalc does not map: Pad"}
VIT = next(c for c in json.loads((FIXTURES / "torchvision_vit.json").read_text())["cases"]
           if c["id"] == "torchvision/vit_b_16")

onnx = pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] (the `onnx` package) is not installed")


def test_every_model_exported_or_its_error_is_recorded() -> None:
    for name, figures in TORCH.items():
        assert (ZOO / f"{name}.onnx").exists() != ("export_error" in figures), name


@pytest.mark.parametrize("case", sorted(n for n, f in TORCH.items() if "export_error" not in f and n not in REFUSED))
def test_imported_zoo_model_computes_pytorch_own_figures(case: str) -> None:
    assert_imports_with_pytorch_figures(ZOO / f"{case}.onnx", TORCH[case])


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_zoo_model_paramcalc_cannot_map_is_refused_with_the_reason(case: str) -> None:
    path = ZOO / f"{case}.onnx"
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith(f"{path}: error: ") and REFUSED[case] in message and "\n" not in message
    reason = message.split("Fix:")[0]
    listed = re.findall(r"(\w+) \(`([^`]+)`\)", reason) + [
        (op, name) for name, op in re.findall(r"ONNX node `([^`]+)`, (\w+)\)", reason)]
    nodes = {n.name: n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
    assert listed and all(nodes[name] == op for op, name in listed)  # real nodes, with their own operators
    if "nodes with an operator" in REFUSED[case]:
        assert len(listed) == int(REFUSED[case].split()[1])


def test_imported_vit_computes_flop_counter_macs_with_one_attention_layer_per_block() -> None:
    """The MACs of torch.utils.flop_counter (/ 2, math attention kernel) measured on torchvision's ViT-B/16
    (tests/fixtures/make_torchvision_vit_fixtures.py), which the zoo fixture does not store."""
    text = import_file(str(ZOO / "vit_b_16.onnx"))
    report = analyze(parse_spec(text, "imported.yaml"))
    assert report.total_params == VIT["params"] == TORCH["vit_b_16"]["params"]
    assert report.total_macs == VIT["macs"]
    assert text.count("  - MultiheadAttention: {") == 12 and "  - ClassToken: {name: Concat}\n" in text
    assert ", embed_dim: 768, num_heads: 12, batch_first: true, need_weights: false}\n" in text
    assert "  - Select: {name: Gather, dim: 1, index: 0}\n" in text


@pytest.mark.parametrize("case", sorted(n for n in TORCH if n.startswith("mha_")))
def test_multihead_attention_is_one_layer_whichever_path_pytorch_took(case: str) -> None:
    """need_weights=True exports (N x heads, T, T) batched products, False scaled_dot_product_attention."""
    text = import_file(str(ZOO / f"{case}.onnx"))
    bias = "" if case.startswith("mha_bias") else " bias: false,"
    weights = "" if case.endswith("_weights") and not case.endswith("no_weights") else ", need_weights: false"
    assert f"  - MultiheadAttention: {{name: attention, embed_dim: 64, num_heads: 8,{bias} batch_first: true" \
           f"{weights}}}\n" in text


def test_a_concat_of_one_tensor_is_a_copy(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Concat", ["x"], ["c"], name="cat_one", axis=1),
             helper.make_node("Relu", ["c"], ["y"], name="act")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])])
    path = tmp_path / "one.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    text = import_file(str(path))
    assert "  - Identity: {name: cat_one}\n" in text
    assert [list(s) for s in analyze(parse_spec(text, "one.yaml")).outputs.values()] == [[None, 4, 8, 8]]


def test_a_reshape_to_a_shape_computed_in_the_graph_has_known_sizes(tmp_path: Path) -> None:
    """A channel shuffle as the exporter writes it: Reshape's target built from Shape and Gather."""
    from onnx import TensorProto, helper

    def const(name: str, values: list[int]) -> Any:
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64,
                                                                                  [len(values)], values))

    nodes = [helper.make_node("Shape", ["x"], ["s"]), const("i0", [0]),
             helper.make_node("Gather", ["s", "i0"], ["n"], axis=0), const("rest", [2, 2, 8, 8]),
             helper.make_node("Concat", ["n", "rest"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"], name="split_groups")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "shuffle.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert "  - Reshape: {name: split_groups, target_shape: [2, 2, 8, 8]}\n" in import_file(str(path))
