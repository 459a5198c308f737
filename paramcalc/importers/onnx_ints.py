"""The integer values an ONNX graph computes from shapes: `x[:, :c // 2]` exports as a Slice whose
bounds are Shape -> Gather -> Add -> Div -> Mul, not constants. With the shapes ONNX infers, those small
subgraphs have known values; this evaluates them, and names the first node it cannot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Values = list[int]


class NotConstant(Exception):
    """A value the graph computes from something other than known shapes and constants."""

    def __init__(self, proto: Any, reason: str) -> None:
        super().__init__(reason)
        self.proto = proto
        self.reason = reason


def broadcast(a: Values, b: Values, proto: Any, apply: Callable[[int, int], int]) -> Values:
    """Element-wise on flat values, a single value standing for a scalar (the exporter's usual case)."""
    if len(a) == 1:
        a = a * len(b)
    if len(b) == 1:
        b = b * len(a)
    if len(a) != len(b):
        raise NotConstant(proto, f"{proto.op_type} of {len(a)} and {len(b)} values")
    return [apply(x, y) for x, y in zip(a, b)]


def truncated_division(x: int, y: int) -> int:
    """ONNX's integer Div (as C's, toward zero)."""
    quotient = abs(x) // abs(y)
    return quotient if (x >= 0) == (y >= 0) else -quotient


ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "Add": lambda x, y: x + y, "Sub": lambda x, y: x - y, "Mul": lambda x, y: x * y, "Div": truncated_division}


class IntegerEvaluator:
    """Values of integer tensors: constants and initializers, Shape (of a tensor whose inferred shape is
    fully known), Gather, Add, Sub, Mul, Div, Unsqueeze, Squeeze, Concat and Cast of those."""

    def __init__(self, nodes: list[Any], shapes: dict[str, list[Any]], constants: dict[str, Values]) -> None:
        self.producers = {output: proto for proto in nodes for output in proto.output}
        self.shapes = shapes
        self.known: dict[str, Values] = dict(constants)

    def value(self, tensor: str) -> Values:
        if tensor not in self.known:
            proto = self.producers.get(tensor)
            if proto is None:
                raise NotConstant(None, f"`{tensor}` is a graph input or initializer without values")
            self.known[tensor] = self.evaluate(proto)
        return self.known[tensor]

    def evaluate(self, proto: Any) -> Values:
        import onnx

        op = proto.op_type
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}
        if op == "Shape":
            shape = self.shapes.get(proto.input[0])
            dims = shape[attrs.get("start", 0):attrs.get("end", len(shape) if shape else 0)] if shape else None
            if dims is None or any(not isinstance(d, int) or d <= 0 for d in dims):
                raise NotConstant(proto, f"the shape of `{proto.input[0]}` is not fully known")
            return list(dims)
        if op == "Gather":
            if attrs.get("axis", 0) != 0:
                raise NotConstant(proto, "a Gather on an axis other than 0")
            data, indexes = self.value(proto.input[0]), self.value(proto.input[1])
            if any(not -len(data) <= i < len(data) for i in indexes):
                raise NotConstant(proto, "a Gather index out of range")
            return [data[i] for i in indexes]
        if op in ARITHMETIC:
            left, right = self.value(proto.input[0]), self.value(proto.input[1])
            if op == "Div" and 0 in right:
                raise NotConstant(proto, "a division by zero")
            return broadcast(left, right, proto, ARITHMETIC[op])
        if op in ("Unsqueeze", "Squeeze", "Cast", "Identity"):
            return self.value(proto.input[0])  # flat values: adding or dropping axes of size 1 keeps them
        if op == "Concat":
            return [v for tensor in proto.input for v in self.value(tensor)]
        raise NotConstant(proto, f"{op} is not evaluated on integer values")
