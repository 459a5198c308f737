"""ONNX files to specs, through the `onnx` package (the optional extra `paramcalc[onnx]`).

The graph is read with PyTorch's spellings and semantics (channels first; BatchNorm running
statistics are buffers, not params), node by node, with the shapes ONNX infers. Weights are never
read: an initializer's name and shape are enough, so a model shared without its external data file
imports too. The spec's param count is cross-checked against the initializers. Nodes that only
compute shapes (Shape, Gather, Constant, ... on integer tensors) are left out; every operator that
cannot be mapped is listed, all at once, with its node's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paramcalc.errors import Location
from paramcalc.importers import ImportError_
from paramcalc.importers.onnx_ints import IntegerEvaluator, NotConstant
from paramcalc.importers.onnx_mha import Attention, find_attention
from paramcalc.importers.specwriter import spec_text

EXTRA = "pip install 'paramcalc[onnx]'"
FLOAT_TYPES = (1, 10, 11, 16)  # float, float16, double, bfloat16 (onnx.TensorProto)
ACTIVATIONS = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish",
               "HardSigmoid": "Hardsigmoid", "Mish": "Mish", "Softplus": "Softplus", "Identity": "Identity",
               "Dropout": "Dropout", "Clip": "Hardtanh", "Erf": None}
MERGES = {"Add": "Add", "Sub": "Subtract", "Mul": "Multiply"}
SCALINGS = ("Mul", "Div", "Add", "Sub")  # with a scalar constant: an attention's 1/sqrt(d) scale, x + 1


def require_onnx(path: str) -> Any:
    """The `onnx` module, or the one-line message naming the extra."""
    try:
        import onnx
    except ModuleNotFoundError:
        raise ImportError_("reading an ONNX file needs the `onnx` package, which is not installed", Location(path),
                           f"install paramcalc's ONNX extra: `{EXTRA}`.") from None
    return onnx


class Node:
    """One ONNX node as the mapping functions see it."""

    def __init__(self, proto: Any, graph: OnnxGraph) -> None:
        import onnx

        self.op = proto.op_type
        self.name = proto.name or f"{proto.op_type}_{proto.output[0]}"
        self.inputs = [name for name in proto.input]
        self.outputs = list(proto.output)
        self.attrs = {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}
        self.graph = graph

    def weight(self, index: int) -> list[int] | None:
        """The dims of input `index` when it is an initializer (a weight), else None."""
        if index >= len(self.inputs) or not self.inputs[index]:
            return None
        return self.graph.initializers.get(self.inputs[index])

    def shape(self, tensor: str) -> list[int]:
        shape = self.graph.shapes.get(tensor)
        if shape is None or any(not isinstance(d, int) for d in shape[1:]):
            raise self.graph.fail(f"ONNX could not infer the shape of `{tensor}`", self,
                                  "ONNX's shape inference left a size unknown (computed at run time); export "
                                  "with fixed input sizes, or write the spec by hand.")
        return shape

    def integers(self, index: int, default: list[int] | None = None) -> list[int]:
        """The values of integer input `index`, constant or computed from known shapes (a Slice's bounds
        from Shape, Gather, Div, Mul); `default` when the input is absent."""
        if index >= len(self.inputs) or not self.inputs[index]:
            if default is None:
                raise self.graph.fail(f"input {index + 1} is missing", self)
            return default
        try:
            return self.graph.integers.value(self.inputs[index])
        except NotConstant as error:
            source = f" (ONNX node `{error.proto.name}`, {error.proto.op_type})" if error.proto is not None else ""
            raise self.graph.fail(f"input `{self.inputs[index]}` is not a constant: {error.reason}{source}", self,
                                  "paramcalc evaluates integer inputs built from constants and known shapes "
                                  "(Shape, Gather, Add, Sub, Mul, Div, Unsqueeze, Concat, Cast) only; write the "
                                  "spec by hand.") from None

    def constant(self, index: int) -> list[int] | None:
        """An integer input given by a Constant node or an initializer with data (Reshape's shape, axes)."""
        return self.graph.constants.get(self.inputs[index]) if index < len(self.inputs) else None


class OnnxGraph:
    def __init__(self, path: str, model: Any) -> None:
        import onnx

        self.path = path
        graph = model.graph
        self.initializers = {t.name: list(t.dims) for t in graph.initializer}
        self.float_initializers = {t.name for t in graph.initializer if t.data_type in FLOAT_TYPES}
        self.shapes: dict[str, list[Any]] = {}
        self.types: dict[str, int] = {}
        for value in [*graph.input, *graph.value_info, *graph.output]:
            tensor = value.type.tensor_type
            self.types[value.name] = tensor.elem_type
            if tensor.HasField("shape"):
                self.shapes[value.name] = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        self.constants: dict[str, list[int]] = {}
        self.constant_outputs = {o for proto in graph.node if proto.op_type == "Constant" for o in proto.output}
        for tensor in graph.initializer:
            if tensor.data_type == 7 and (tensor.raw_data or tensor.int64_data):
                self.constants[tensor.name] = [int(v) for v in onnx.numpy_helper.to_array(tensor).flatten()]
        for proto in graph.node:
            if proto.op_type == "Constant":
                for attr in proto.attribute:
                    if attr.name == "value" and attr.t.data_type == 7:
                        values = onnx.numpy_helper.to_array(attr.t).flatten()
                        self.constants[proto.output[0]] = [int(v) for v in values]
                    if attr.name == "value":
                        self.shapes.setdefault(proto.output[0], list(attr.t.dims))
        for name in self.initializers:
            self.types.setdefault(name, 1 if name in self.float_initializers else 7)
        self.outputs = {o.name for o in graph.output}
        self.integers = IntegerEvaluator(list(graph.node), self.shapes, self.constants)

    def fail(self, message: str, node: Node, hint: str | None = None) -> ImportError_:
        """A refusal of one node whose operator paramcalc maps, in a form it does not (the hint says so
        unless the caller says more)."""
        return ImportError_(f"{message} (ONNX node `{node.name}`, {node.op})", Location(self.path),
                            hint or f"paramcalc maps {node.op} but not in this form; write the spec by hand.")

    def is_float(self, tensor: str) -> bool:
        return self.types.get(tensor, 1) in FLOAT_TYPES


def import_onnx(path: str) -> str:
    onnx = require_onnx(path)
    try:
        model = onnx.load(path, load_external_data=False)  # names and shapes only: never the weight bytes
        # data_prop: shapes computed in the graph (Shape, Gather, Concat feeding a Reshape, as in a
        # channel shuffle) become known sizes
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as error:  # noqa: BLE001 - protobuf and onnx raise many kinds; one message for all
        raise ImportError_(f"{path} is not a readable ONNX model ({type(error).__name__}: {error})", Location(path),
                           "give an `.onnx` file written by an exporter such as torch.onnx.export.") from None
    model = fold_slice_bounds(path, model, onnx)
    graph = OnnxGraph(path, model)
    inputs = {i.name: i for i in model.graph.input if i.name not in graph.initializers}
    names: dict[str, str] = {}  # tensor -> the spec name that holds it
    taken: set[str] = set()
    spec_inputs: dict[str, list[Any]] = {}
    for name in inputs:
        spec = unique(clean(name), taken)
        names[name] = spec
        shape = graph.shapes.get(name) or []
        spec_inputs[spec] = shape[1:]
    nodes = [Node(proto, graph) for proto in model.graph.node]
    consumers: dict[str, list[Node]] = {}
    for node in nodes:
        for tensor in node.inputs:
            consumers.setdefault(tensor, []).append(node)
    layers: list[tuple[str, dict[str, Any]]] = []
    unsupported: list[Node] = []
    folded: set[str] = set()  # Add nodes that became a Linear's bias
    buffers = 0  # BatchNorm running statistics among the initializers
    attention: Attention | None = None  # the nn.MultiheadAttention region being skipped
    for node in nodes:
        if node.name in folded or node.op == "Constant":
            continue
        if attention is not None and node.name in attention.members:
            continue
        found = find_attention(node, consumers, graph)
        if found is not None:
            attention = found  # its inner nodes are not listed among unmapped operators either
            if unsupported:
                continue
            if node.inputs[0] not in names:
                raise graph.fail(f"reads `{node.inputs[0]}`, which no mapped node makes", node)
            name = unique(clean(node.name), taken)
            layers.append(("MultiheadAttention", {"name": name, "inputs": names[node.inputs[0]], **found.args}))
            names[found.end.outputs[0]] = name
            continue
        if node.inputs and all(not t or t in graph.initializers or t in graph.constant_outputs for t in node.inputs):
            graph.constant_outputs.update(node.outputs)  # arithmetic on constants only (sqrt(d) of a scale)
            continue
        if not any(graph.is_float(out) for out in node.outputs):
            continue  # shape arithmetic (Shape, Gather, Unsqueeze, ... on integers)
        mapper = MAPPERS.get(node.op)
        if mapper is None and node.op not in ACTIVATIONS and node.op not in MERGES and not (
                node.op in SCALINGS and scaled_by_constant(node, graph)):
            unsupported.append(node)
            continue
        if unsupported:
            continue  # collecting the rest of the unsupported operators only
        data = [t for t in node.inputs if t and t not in graph.initializers and t not in graph.constant_outputs
                and graph.is_float(t)]
        missing = [t for t in data if t not in names]
        if missing:
            raise graph.fail(f"reads `{missing[0]}`, which no mapped node makes", node)
        if node.op in ACTIVATIONS:
            kind, args = activation(node)
        elif node.op in SCALINGS and scaled_by_constant(node, graph):
            kind, args = "Identity", {}  # x * c, x / c, x + c with a scalar c: element-wise, 0 params
        elif node.op in MERGES:
            kind, args = merge(node, graph)
        else:
            assert mapper is not None
            kind, args = mapper(node)
            if node.op == "MatMul":
                kind, args = fold_bias(node, consumers, graph, folded, kind, args)
            if node.op == "BatchNormalization":
                buffers += sum(d for d in (product(node.weight(3)), product(node.weight(4))) if d)
        ins = [names[t] for t in data]
        if node.op in MERGES and len(node.inputs) == 2 and len(data) == 1:
            learned = learned_operand(node, graph, data[0])
            if learned is not None:
                tensor, dims = learned
                if tensor not in names:  # one Parameter layer per initializer, however many nodes read it
                    names[tensor] = unique(clean(tensor), taken)
                    layers.append(("Parameter", {"name": names[tensor], "shape": dims}))
                ins = [names[t] for t in node.inputs]
        padded = pre_pad(node) if node.op in MAPPERS else None
        if padded is not None:
            pad_name = unique(clean(node.name) + "_pad", taken)
            layers.append((padded[0], {"name": pad_name, "inputs": ins[0], **padded[1]}))
            ins = [pad_name, *ins[1:]]
        name = unique(clean(node.name), taken)
        layer = {"name": name, **({"inputs": ins[0] if len(ins) == 1 else ins} if ins else {}), **args}
        layers.append((kind, layer))
        for output in node.outputs:
            names[output] = name
        users = consumers.get(node.outputs[0], [])
        if node.op == "MatMul" and len(users) == 1 and users[0].name in folded:
            names[users[0].outputs[0]] = name  # the Add of its bias
    if unsupported:
        listed = ", ".join(f"{n.op} (`{n.name}`)" for n in unsupported)
        raise ImportError_(f"{path} has {len(unsupported)} node{'s' if len(unsupported) > 1 else ''} with an "
                           f"operator paramcalc does not map: {listed}", Location(path),
                           "paramcalc maps Conv, ConvTranspose, Gemm, MatMul, BatchNormalization, pooling, "
                           "activations, Add/Sub/Mul (with a scalar, or an nn.Parameter), Div by a scalar, "
                           "Transpose, Concat, Reshape, Flatten, Resize, LayerNormalization, ReduceMean, Slice, "
                           "Gather of one index and nn.MultiheadAttention's export; write the spec by hand for "
                           "the rest.")
    outputs = [names[o.name] for o in model.graph.output if o.name in names]
    drop_implicit_inputs(layers, next(iter(spec_inputs)) if len(spec_inputs) == 1 else None)
    weights = sum(product(dims) or 0 for name, dims in graph.initializers.items() if name in graph.float_initializers)
    header = [f"{model.graph.name or 'model'}: imported by `paramcalc import` from {path.rsplit('/', 1)[-1]} "
              f"(ONNX, opset {model.opset_import[0].version if model.opset_import else '?'}), with PyTorch's "
              "semantics.", "Layer names are the ONNX node names."]
    top: dict[str, Any] = {"name": clean(model.graph.name or path.rsplit('/', 1)[-1].rsplit('.', 1)[0]),
                           "data_format": "channels_first"}
    if list(spec_inputs) == ["input"]:
        top["input"] = spec_inputs["input"]
    else:
        top["inputs"] = spec_inputs
    tail: dict[str, Any] = {}
    if outputs != [layers[-1][1]["name"]]:
        tail["outputs"] = outputs
    return add_check(path, spec_text(header, top, {}, layers, tail), weights, buffers)


def fold_slice_bounds(path: str, model: Any, onnx: Any) -> Any:
    """Slices whose bounds the graph computes from shapes get them as constants, and shapes are inferred
    again, until nothing changes: a bound known only once an earlier Slice's output shape is (ShuffleNet's
    next block) is found on a later pass. A bound that cannot be evaluated is left for `slice_` to refuse."""
    while True:
        graph = OnnxGraph(path, model)
        folded = 0
        for proto in model.graph.node:
            if proto.op_type != "Slice":
                continue
            for index in range(1, len(proto.input)):
                tensor = proto.input[index]
                if not tensor or tensor in graph.initializers:
                    continue
                try:
                    values = graph.integers.value(tensor)
                except NotConstant:
                    continue
                name = f"{tensor}_evaluated"
                if name not in graph.initializers:
                    model.graph.initializer.append(onnx.helper.make_tensor(name, onnx.TensorProto.INT64,
                                                                           [len(values)], values))
                    graph.initializers[name] = [len(values)]
                proto.input[index] = name
                folded += 1
        if not folded:
            return model
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)


def add_check(path: str, text: str, weights: int, buffers: int) -> str:
    """The header gains a line saying whether the spec's params agree with the initializers."""
    line = cross_check(path, text, weights, buffers)
    first, rest = text.split("\n", 1)
    return f"{first}\n# {line}\n{rest}"


def cross_check(path: str, text: str, weights: int, buffers: int) -> str:
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import parse_spec

    try:
        params = analyze(parse_spec(text, "imported spec"), keep_formulas=False).total_params
    except Exception:  # noqa: BLE001 - the import command computes it again and reports the error
        return "check: the spec does not compute (see the error)."
    stats = f" + {buffers:,} BatchNorm running statistics (buffers)" if buffers else ""
    if params + buffers == weights:
        return f"check: the initializers hold {weights:,} values = {params:,} params{stats}: they agree."
    return (f"check: the initializers hold {weights:,} values but the spec counts {params:,} params{stats}: they "
            "DISAGREE.")


def product(dims: list[int] | None) -> int:
    if dims is None:
        return 0
    total = 1
    for d in dims:
        total *= d
    return total


def clean(name: str) -> str:
    """A spec name from an ONNX node name: PyTorch's exporter writes the module path and the operator,
    `/layer1/layer1.0/conv1/Conv`, whose module is `layer1.0.conv1`: `layer1_0_conv1`. A node outside
    any module keeps its operator: `/Relu` -> `Relu`."""
    parts = [p for p in name.strip("/").split("/") if p]
    if len(parts) > 1:
        module = parts[:-1]
        dotted = max((i for i, p in enumerate(module) if "." in p), default=0)
        parts = module[dotted:]
    text = "_".join(parts)
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in text.replace(".", "_")).strip("_")
    return text or "node"


def unique(name: str, taken: set[str]) -> str:
    found, n = name, 1
    while found in taken or found == "input" and taken:
        n += 1
        found = f"{name}_{n}"
    taken.add(found)
    return found


def drop_implicit_inputs(layers: list[tuple[str, dict[str, Any]]], first: str | None) -> None:
    previous = first
    for _, args in layers:
        if previous is not None and args.get("inputs") == previous:
            del args["inputs"]
        previous = args["name"]


def spatial(node: Node) -> int:
    return len(node.attrs.get("kernel_shape") or (node.weight(1) or [0, 0, 0, 0])[2:])


def padding(node: Node) -> Any:
    """The op's own symmetric padding (0 when none). Padding that differs before and after (explicit
    asymmetric `pads`, or `auto_pad` SAME_UPPER/SAME_LOWER, which ONNX resolves to it) is left to a
    zero-padding layer put before the op (see `pre_pad`): here it is 0."""
    before, after = pads_of(node)
    if not any(before) and not any(after):
        return 0
    if before != after:
        return 0
    return before[0] if len(set(before)) == 1 else before


def pads_of(node: Node) -> tuple[list[int], list[int]]:
    """Zeros before and after each spatial axis, with `auto_pad` SAME_* resolved as ONNX does: the
    total pad is max((ceil(N/S) - 1) x S + (F - 1) x D + 1 - N, 0); SAME_UPPER puts the odd zero after,
    SAME_LOWER before."""
    auto = node.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        sizes = node.shape(node.inputs[0])[2:]
        kernel = list(node.attrs.get("kernel_shape") or (node.weight(1) or [])[2:])
        if node.op == "ConvTranspose" or len(kernel) != len(sizes):
            raise node.graph.fail(f"`auto_pad` {auto} on {node.op} is not mapped", node)
        strides = list(node.attrs.get("strides") or [1] * len(sizes))
        dilations = list(node.attrs.get("dilations") or [1] * len(sizes))
        before, after = [], []
        for n, f, s, d in zip(sizes, kernel, strides, dilations):
            total = max((-(-n // s) - 1) * s + (f - 1) * d + 1 - n, 0)
            small, large = total // 2, total - total // 2
            before.append(small if auto == "SAME_UPPER" else large)
            after.append(large if auto == "SAME_UPPER" else small)
        return before, after
    pads = list(node.attrs.get("pads") or [])
    if not pads or auto == "VALID":
        rank = max(spatial(node), 1)
        return [0] * rank, [0] * rank
    half = len(pads) // 2
    return pads[:half], pads[half:]


def pre_pad(node: Node) -> tuple[str, dict[str, Any]] | None:
    """A ZeroPad{1,2,3}d before a Conv or pooling whose padding is not the same on both sides, in
    PyTorch's order (last axis first: left, right, top, bottom, front, back), so that shapes and MACs
    equal PyTorch's nn.ZeroPad2d + the op with padding 0. (A MaxPool pads with -inf, not zeros: the
    values differ, the shapes and counts do not.)"""
    if node.op not in ("Conv", "MaxPool", "AveragePool"):
        if node.op == "ConvTranspose" and (pads_of(node)[0] != pads_of(node)[1]):
            raise node.graph.fail(f"asymmetric padding {node.attrs.get('pads')} on ConvTranspose is not mapped", node)
        return None
    before, after = pads_of(node)
    if before == after:
        return None
    if node.op == "AveragePool" and not node.attrs.get("count_include_pad", 0):
        raise node.graph.fail("asymmetric padding on an AveragePool that excludes the pad is not mapped", node)
    torch_order = [p for b, a in zip(reversed(before), reversed(after)) for p in (b, a)]
    return f"ZeroPad{len(before)}d", {"padding": torch_order}


def one(values: Any) -> Any:
    values = list(values)
    return values[0] if len(set(values)) == 1 else values


def conv(node: Node) -> tuple[str, dict[str, Any]]:
    weight = node.weight(1)
    if weight is None:
        raise node.graph.fail("the convolution's weight is not an initializer", node)
    rank = len(weight) - 2
    group = node.attrs.get("group", 1)
    transposed = node.op == "ConvTranspose"
    args: dict[str, Any] = {"out_channels": weight[1] * group if transposed else weight[0],
                            "kernel_size": one(weight[2:])}
    strides, dilations = node.attrs.get("strides"), node.attrs.get("dilations")
    if strides and set(strides) != {1}:
        args["stride"] = one(strides)
    pad = padding(node)
    if pad:
        args["padding"] = pad
    if transposed and node.attrs.get("output_padding") and set(node.attrs["output_padding"]) != {0}:
        args["output_padding"] = one(node.attrs["output_padding"])
    if dilations and set(dilations) != {1}:
        args["dilation"] = one(dilations)
    if group != 1:
        args["groups"] = group
    if node.weight(2) is None:
        args["bias"] = False
    return (f"ConvTranspose{rank}d" if transposed else f"Conv{rank}d"), args


def gemm(node: Node) -> tuple[str, dict[str, Any]]:
    weight = node.weight(1)
    if weight is None or node.attrs.get("transA", 0):
        raise node.graph.fail("a Gemm without a weight initializer (or with transA) is not mapped", node)
    out = weight[0] if node.attrs.get("transB", 0) else weight[1]
    args: dict[str, Any] = {"out_features": out}
    if node.weight(2) is None:
        args["bias"] = False
    return "Linear", args


def matmul(node: Node) -> tuple[str, dict[str, Any]]:
    """x @ W with W an initializer is a Linear; a product of two activations (attention's q @ k^T and
    weights @ v) is paramcalc's MatMul."""
    weight = node.weight(1)
    if weight is None and node.weight(0) is None and node.inputs[1] not in node.graph.constant_outputs:
        return "MatMul", {}
    if weight is None or len(weight) != 2:
        raise node.graph.fail("a MatMul with a constant first operand, or a weight of more than 2 axes, is not "
                              "mapped", node)
    return "Linear", {"out_features": weight[1], "bias": False}


def scaled_by_constant(node: Node, graph: OnnxGraph) -> bool:
    """Add, Sub, Mul or Div of one activation and a scalar constant (an initializer or Constant of 1 value;
    Div only by it)."""
    if len(node.inputs) != 2:
        return False
    constant = [i for i, t in enumerate(node.inputs) if t in graph.initializers or t in graph.constant_outputs]
    if len(constant) != 1 or (node.op == "Div" and constant != [1]):
        return False
    tensor = node.inputs[constant[0]]
    dims = graph.initializers.get(tensor, graph.shapes.get(tensor))
    return dims is not None and product(dims) == 1


def transpose(node: Node) -> tuple[str, dict[str, Any]]:
    perm = list(node.attrs.get("perm") or [])
    if not perm or perm[0] != 0:
        raise node.graph.fail(f"a Transpose that moves the batch axis (perm {perm}) is not mapped", node,
                              "paramcalc's Permute keeps the batch axis first, so a graph that swaps it (as "
                              "nn.MultiheadAttention without batch_first exports) is not mapped; write the spec "
                              "by hand.")
    return "Permute", {"dims": perm[1:]}


def slice_(node: Node) -> tuple[str, dict[str, Any]]:
    """x[start:end:step] on one or more axes (the batch is 0, as in ONNX), bounds evaluated when the graph
    computes them from shapes (ShuffleNet's channel split: `x[:, :c // 2]`). One Slice layer cuts every
    listed axis alike, so axes with different bounds are refused."""
    starts, ends = node.integers(1), node.integers(2)
    axes = node.integers(3, list(range(len(starts))))
    steps = node.integers(4, [1] * len(starts))
    if not (len(starts) == len(ends) == len(axes) == len(steps)) or len({*zip(starts, ends, steps)}) != 1:
        raise node.graph.fail(f"a Slice with different bounds per axis (starts {starts}, ends {ends}, steps "
                              f"{steps}) is not mapped", node)
    start, end, step = starts[0], ends[0], steps[0]
    if step < 1:
        raise node.graph.fail(f"a Slice with step {step} (backwards) is not mapped", node)
    args: dict[str, Any] = {"dim": axes[0] if len(axes) == 1 else axes}
    if start != 0:
        args["start"] = start
    if end < 2**62:  # the exporter writes INT64_MAX for `x[a:]`
        args["end"] = end
    if step != 1:
        args["step"] = step
    return "Slice", args


def fold_bias(node: Node, consumers: dict[str, list[Node]], graph: OnnxGraph, folded: set[str], kind: str,
              args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """MatMul(x, W) then Add(., b) with b an initializer of W's width: one Linear with a bias."""
    users = consumers.get(node.outputs[0], [])
    if len(users) == 1 and users[0].op == "Add":
        add = users[0]
        other = [t for t in add.inputs if t != node.outputs[0]]
        if other and other[0] in graph.initializers and graph.initializers[other[0]][-1:] == [args["out_features"]]:
            folded.add(add.name)
            return kind, {k: v for k, v in args.items() if k != "bias"}
    return kind, args


def batchnorm(node: Node) -> tuple[str, dict[str, Any]]:
    rank = len(node.shape(node.inputs[0])) - 2
    args: dict[str, Any] = {}
    eps = node.attrs.get("epsilon", 1e-5)
    if abs(eps - 1e-5) > 1e-9:
        args["eps"] = round(float(eps), 9)
    return f"BatchNorm{max(rank, 1)}d", args


def pool(node: Node) -> tuple[str, dict[str, Any]]:
    kernel = node.attrs["kernel_shape"]
    kind = ("MaxPool" if node.op == "MaxPool" else "AvgPool") + f"{len(kernel)}d"
    args: dict[str, Any] = {"kernel_size": one(kernel)}
    strides = node.attrs.get("strides")
    if strides and list(strides) != list(kernel):
        args["stride"] = one(strides)
    pad = padding(node)
    if pad:
        args["padding"] = pad
    if node.attrs.get("ceil_mode"):
        args["ceil_mode"] = True
    return kind, args


def global_pool(node: Node) -> tuple[str, dict[str, Any]]:
    rank = len(node.shape(node.inputs[0])) - 2
    return ("AdaptiveMaxPool" if node.op == "GlobalMaxPool" else "AdaptiveAvgPool") + f"{rank}d", {"output_size": 1}


def activation(node: Node) -> tuple[str, dict[str, Any]]:
    kind = ACTIVATIONS[node.op]
    if kind is None:
        raise node.graph.fail("a lone Erf is not mapped (a GELU written out)", node)
    return kind, {}


def leaky(node: Node) -> tuple[str, dict[str, Any]]:
    return "LeakyReLU", {"negative_slope": round(float(node.attrs.get("alpha", 0.01)), 9)}


def elu(node: Node) -> tuple[str, dict[str, Any]]:
    return "ELU", {}


def gelu(node: Node) -> tuple[str, dict[str, Any]]:
    return "GELU", {}


def softmax(node: Node) -> tuple[str, dict[str, Any]]:
    return "Softmax", {"dim": node.attrs.get("axis", -1)}


def learned_operand(node: Node, graph: OnnxGraph, data: str) -> tuple[str, list[int]] | None:
    """Add/Sub/Mul of an activation and a float initializer of more than one value: in a PyTorch export
    that is an nn.Parameter used in the forward (a position table, a layer scale), so it becomes a
    `Parameter` layer whose values count as params. Its shape is written without the batch-like
    leading 1; None when the initializer would stretch the batch (not a per-sample tensor)."""
    tensor = next(t for t in node.inputs if t != data)
    dims = graph.initializers.get(tensor)
    if dims is None or tensor not in graph.float_initializers or product(dims) <= 1:
        return None
    rank = len(graph.shapes.get(data) or [])
    if len(dims) == rank:
        if dims[0] != 1:
            return None
        dims = dims[1:]
    return (tensor, dims) if dims and len(dims) < max(rank, 1) + 1 else None


def merge(node: Node, graph: OnnxGraph) -> tuple[str, dict[str, Any]]:
    if node.op in MERGES and any(t in graph.initializers and t in graph.float_initializers
                                 and product(graph.initializers[t]) > 1 for t in node.inputs) and len(node.inputs) == 2:
        learned = [t for t in node.inputs if t in graph.initializers]
        if len(learned) == 1 and learned_operand(node, graph, next(t for t in node.inputs if t not in learned)):
            return MERGES[node.op], {}
    if any(t in graph.initializers or t in graph.constants or t in graph.constant_outputs or not graph.is_float(t)
           for t in node.inputs):
        raise graph.fail(f"{node.op} with a constant operand is not mapped", node)
    return MERGES[node.op], {}


def concat(node: Node) -> tuple[str, dict[str, Any]]:
    if len(node.inputs) == 1:  # torch.cat of a one-tensor list (DenseNet's first layer): a copy
        return "Identity", {}
    tokens = class_tokens(node)
    if tokens:
        return "ClassToken", {"num_tokens": tokens} if tokens > 1 else {}
    return "Concatenate", {"dim": node.attrs.get("axis", 1)}


def class_tokens(node: Node) -> int:
    """ViT's `torch.cat([class_token.expand(n, -1, -1), x], dim=1)`: the number of learned tokens put in
    front of the sequence (0 when the Concat is not that): the first input an Expand of a float
    initializer (1, k, E), the second a sequence (N, T, E)."""
    graph = node.graph
    expand = graph.integers.producers.get(node.inputs[0])
    sequence = graph.shapes.get(node.inputs[1]) or []
    if len(node.inputs) != 2 or expand is None or expand.op_type != "Expand" or len(sequence) != 3 \
            or node.attrs.get("axis", 1) not in (1, -2):
        return 0
    token = expand.input[0]
    dims = graph.initializers.get(token)
    if token not in graph.float_initializers or not dims or len(dims) != 3 or dims[0] != 1 or dims[2] != sequence[2]:
        return 0
    return dims[1]


def gather(node: Node) -> tuple[str, dict[str, Any]]:
    """`x[:, i]` on an activation: a Gather of one constant index (a scalar, so the axis goes away)."""
    index = node.constant(1)
    if index is None or len(index) != 1 or node.graph.shapes.get(node.inputs[1]) != []:
        raise node.graph.fail("a Gather of an activation by anything but one constant index is not mapped", node)
    return "Select", {"dim": node.attrs.get("axis", 0), "index": index[0]}


def flatten(node: Node) -> tuple[str, dict[str, Any]]:
    if node.attrs.get("axis", 1) != 1:
        raise node.graph.fail("Flatten with an axis other than 1 is not mapped", node)
    return "Flatten", {}


def reshape(node: Node) -> tuple[str, dict[str, Any]]:
    return "Reshape", {"target_shape": node.shape(node.outputs[0])[1:]}


def resize(node: Node) -> tuple[str, dict[str, Any]]:
    mode = node.attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    out = node.shape(node.outputs[0])[2:]
    torch_mode = {"linear": "bilinear" if len(out) == 2 else "linear", "cubic": "bicubic"}.get(mode, mode)
    return "Upsample", {"size": out if len(set(out)) > 1 else out[0], "mode": torch_mode}


def layernorm(node: Node) -> tuple[str, dict[str, Any]]:
    shape = node.shape(node.inputs[0])
    axis = node.attrs.get("axis", -1)
    normalized = shape[axis:] if axis < 0 else shape[axis:]
    args: dict[str, Any] = {"normalized_shape": normalized[0] if len(normalized) == 1 else normalized}
    eps = node.attrs.get("epsilon", 1e-5)
    if abs(eps - 1e-5) > 1e-9:
        args["eps"] = round(float(eps), 9)
    if node.weight(1) is None:
        args["elementwise_affine"] = False
    elif node.weight(2) is None:
        args["bias"] = False
    return "LayerNorm", args


def reduce_mean(node: Node) -> tuple[str, dict[str, Any]]:
    axes = node.attrs.get("axes") or node.constant(1)
    if not axes:
        raise node.graph.fail("ReduceMean without constant axes is not mapped", node)
    args: dict[str, Any] = {"dim": axes[0] if len(axes) == 1 else list(axes)}
    if node.attrs.get("keepdims", 1):
        args["keepdim"] = True
    return "Mean", args


MAPPERS: dict[str, Callable[[Node], tuple[str, dict[str, Any]]]] = {
    "Conv": conv, "ConvTranspose": conv, "Gemm": gemm, "MatMul": matmul, "BatchNormalization": batchnorm,
    "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool,
    "LeakyRelu": leaky, "Elu": elu, "Gelu": gelu, "Softmax": softmax, "Concat": concat, "Flatten": flatten,
    "Reshape": reshape, "Resize": resize, "Upsample": resize, "LayerNormalization": layernorm,
    "ReduceMean": reduce_mean, "Transpose": transpose, "Slice": slice_,
    "Gather": gather,
}
