"""`paramcalc import` of ONNX Slice, including bounds the graph computes from shapes (ShuffleNetV2's
channel split `x[:, :c // 2]` exports as Shape -> Gather -> Add -> Div -> Mul): the output shapes are
checked against ONNX's own reference runtime running the same graph; a bound paramcalc cannot evaluate,
and a node refused for its form rather than its operator, say what they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.engine import analyze
from paramcalc.importers import import_file
from paramcalc.spec.loader import parse_spec

onnx = pytest.importorskip("onnx", reason="the optional extra paramcalc[onnx] (the `onnx` package) is not installed")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper  # noqa: E402 - after the skip: the extra may be absent

INPUT = [1, 6, 8, 8]


def const(name: str, values: list[int]) -> Any:
    return helper.make_node("Constant", [], [name], name=name,
                            value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values))


def channel_split(path: Path, tail: list[Any]) -> Path:
    """x[:, :c // 2] and x[:, c // 2:] (bounds from Shape, Gather, Add, Div, Mul), each through `tail`."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"), const("one", [1]),
             helper.make_node("Gather", ["shape", "one"], ["c"], name="gather", axis=0), const("plus", [1]),
             helper.make_node("Add", ["c", "plus"], ["c1"], name="add"), const("two", [2]),
             helper.make_node("Div", ["c1", "two"], ["half"], name="div"),
             helper.make_node("Mul", ["half", "one"], ["end"], name="mul"), const("zero", [0]),
             const("big", [2**63 - 1]),
             helper.make_node("Slice", ["x", "zero", "end", "one"], ["left"], name="left"),
             helper.make_node("Slice", ["x", "end", "big", "one"], ["right"], name="right"), *tail]
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in nodes[-1].output]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT)], outputs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def reference_shapes(path: Path) -> list[list[Any]]:
    """The output shapes of ONNX's reference runtime on the graph, the batch written as None."""
    from onnx.reference import ReferenceEvaluator

    results = ReferenceEvaluator(str(path)).run(None, {"x": np.ones(INPUT, dtype=np.float32)})
    return [[None, *r.shape[1:]] for r in results]


def test_a_channel_split_whose_bounds_the_graph_computes_imports_with_the_runtime_shapes(tmp_path: Path) -> None:
    path = channel_split(tmp_path / "split.onnx", [helper.make_node("Relu", ["left"], ["a"], name="act_left"),
                                                    helper.make_node("Relu", ["right"], ["b"], name="act_right"),
                                                    helper.make_node("Concat", ["a", "b"], ["y"], name="cat",
                                                                     axis=1)])
    text = import_file(str(path))
    assert "  - Slice: {name: left, dim: 1, end: 3}\n" in text
    assert "  - Slice: {name: right, inputs: x, dim: 1, start: 3}\n" in text
    report = analyze(parse_spec(text, "split.yaml"))
    assert [list(s) for s in report.outputs.values()] == reference_shapes(path) == [[None, 6, 8, 8]]


def test_a_later_split_found_once_the_earlier_slice_shape_is_known(tmp_path: Path) -> None:
    """The second split's bound is read from the first Slice's output shape, known after a first pass."""
    tail = [helper.make_node("Shape", ["left"], ["left_shape"], name="shape2"),
            helper.make_node("Gather", ["left_shape", "one"], ["c2"], name="gather2", axis=0),
            helper.make_node("Sub", ["c2", "plus"], ["end2"], name="sub2"),
            helper.make_node("Slice", ["left", "zero", "end2", "one"], ["y"], name="second")]
    path = channel_split(tmp_path / "twice.onnx", tail)
    text = import_file(str(path))
    assert "  - Slice: {name: second, inputs: left, dim: 1, end: 2}\n" in text
    assert [list(s) for s in analyze(parse_spec(text, "twice.yaml")).outputs.values()] == reference_shapes(path)


def refusal(path: Path) -> str:
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message: str = result.stderr.strip()
    assert message.startswith(f"{path}: error: ") and "\n" not in message
    return message


def test_a_bound_computed_by_an_operator_not_evaluated_is_refused_naming_that_node(tmp_path: Path) -> None:
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"), const("one", [1]), const("zero", [0]),
             helper.make_node("ReduceMax", ["shape"], ["largest"], name="largest", keepdims=1),
             helper.make_node("Slice", ["x", "zero", "largest", "one"], ["y"], name="cut")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "reduce.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    message = refusal(path)
    assert "input `largest` is not a constant: ReduceMax is not evaluated on integer values (ONNX node " \
           "`largest`, ReduceMax) (ONNX node `cut`, Slice)" in message
    assert "paramcalc evaluates integer inputs built from constants and known shapes" in message


def test_a_transpose_of_the_batch_axis_says_so_not_that_an_operator_is_unmapped(tmp_path: Path) -> None:
    nodes = [helper.make_node("Transpose", ["x"], ["y"], name="swap", perm=[1, 0, 2, 3])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, INPUT)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "swap.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    message = refusal(path)
    assert "a Transpose that moves the batch axis (perm [1, 0, 2, 3]) is not mapped" in message
    assert "Permute keeps the batch axis first" in message and "operator paramcalc does not map" not in message
