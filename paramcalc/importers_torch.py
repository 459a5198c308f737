"""A spec from a live PyTorch module: `paramcalc.from_torch(module, input_shape)`.

Two halves, so that only the first needs PyTorch:

* `trace_graph(module, input_shape)` traces the module with `torch.fx` (symbolic_trace, then
  ShapeProp on a batch of one) and returns the graph as plain dicts (JSON-ready): each node's
  name, op, target, the module's class name and constructor attributes, its arguments (a node as
  `{"node": name}`) and its output shape.
* `graph_to_spec(nodes, input_shape)` maps those dicts to paramcalc's PyTorch layer kinds and
  writes the spec (YAML text). It needs no PyTorch, so the tests run it on stored graphs.

Whatever cannot be mapped (a module type, a function, a method) is refused in one error naming
every such node, never a partial spec that silently counts less.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from paramcalc.errors import SpecError

Node = dict[str, Any]
INSTALL = "pip install 'paramcalc[torch]'"

# Module attributes worth keeping (read where present); `bias` is recorded as "has a bias".
ATTRIBUTES = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode",
    "output_padding", "num_features", "eps", "momentum", "affine", "track_running_stats", "in_features",
    "out_features", "normalized_shape", "elementwise_affine", "inplace", "p", "output_size", "ceil_mode",
    "count_include_pad", "divisor_override", "return_indices", "approximate", "dim", "start_dim", "end_dim",
    "num_embeddings", "embedding_dim", "padding_idx", "min_val", "max_val", "negative_slope", "num_groups",
    "num_channels", "upscale_factor", "downscale_factor", "embed_dim", "num_heads", "batch_first", "kdim",
    "vdim", "dropout",
)


# --------------------------------------------------------------------------------------------------
# (1) Tracing: needs PyTorch
# --------------------------------------------------------------------------------------------------

def trace_graph(module: Any, input_shape: Sequence[int], dtype: Any = None) -> list[Node]:
    """The module's fx graph as plain dicts, with output shapes from a forward pass on a batch of
    one (`torch.zeros(1, *input_shape)`; token ids (int64) when the input feeds an nn.Embedding)."""
    import torch
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        graph_module = fx.symbolic_trace(module)
    except Exception as error:  # fx raises TraceError, TypeError, ... on data-dependent Python
        raise SpecError(untraceable_message(module, error), hint=TRACE_HINT) from None
    modules = dict(graph_module.named_modules())
    if dtype is None:
        dtype = torch.long if feeds_embedding(graph_module, modules) else torch.float32
    sample = torch.zeros(1, *[int(d) for d in input_shape], dtype=dtype)
    was_training = module.training
    graph_module.eval()
    try:
        with torch.no_grad():
            ShapeProp(graph_module).propagate(sample)
    except Exception as error:  # a wrong input shape, mostly: say so, without torch's traceback
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        raise SpecError(f"{type(module).__name__} does not run on an input of shape {list(input_shape)} "
                        f"(a batch of one added): {type(error).__name__}: {first}",
                        hint="give input_shape without the batch, as the module's forward expects it") from None
    finally:
        graph_module.train(was_training)
    return [node_dict(node, modules) for node in graph_module.graph.nodes]


TRACE_HINT = ("torch.fx cannot follow Python that depends on tensor values (an `if` on a tensor, a loop "
              "over its size); write those modules as a spec by hand, or trace a module without them")


def untraceable_message(module: Any, error: Exception) -> str:
    """Name the innermost submodules that fail to trace on their own (all of them)."""
    from torch import fx

    culprits: list[str] = []

    def visit(prefix: str, mod: Any) -> bool:
        """True when `mod` fails to trace; records it when none of its children does."""
        try:
            fx.symbolic_trace(mod)
            return False
        except Exception:
            pass
        failing_child = False
        for name, child in mod.named_children():
            if is_fx_leaf(child):
                continue
            failing_child |= visit(f"{prefix}.{name}" if prefix else name, child)
        if not failing_child:
            culprits.append(f"{prefix or '(the module itself)'} ({type(mod).__name__})")
        return True

    visit("", module)
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    return (f"torch.fx cannot trace {type(module).__name__}: {type(error).__name__}: {first}; modules that "
            f"cannot be traced: {', '.join(culprits)}")


def is_fx_leaf(module: Any) -> bool:
    """torch.fx's default rule: torch.nn's own modules (not Sequential) are called, not traced."""
    from torch import nn

    return (module.__module__.startswith("torch.nn") or module.__module__.startswith("torch.ao.nn")) \
        and not isinstance(module, nn.Sequential)


def feeds_embedding(graph_module: Any, modules: dict[str, Any]) -> bool:
    from torch import nn

    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            return any(user.op == "call_module" and isinstance(modules[user.target], (nn.Embedding, nn.EmbeddingBag))
                       for user in node.users)
    return False


def node_dict(node: Any, modules: dict[str, Any]) -> Node:
    out: Node = {"name": node.name, "op": node.op, "target": target_name(node.target)}
    if node.op == "call_module":
        module = modules[node.target]
        out["type"] = type(module).__name__
        out["attrs"] = module_attributes(module)
        out["params"] = sum(p.numel() for p in module.parameters())
    out["args"] = plain(node.args)
    out["kwargs"] = plain(dict(node.kwargs))
    out["shape"] = shape_of(node.meta.get("tensor_meta"))
    return out


def target_name(target: Any) -> str:
    """`torch.cat`, `operator.add`, `torch.nn.functional.relu`; a module's or method's name as is."""
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", repr(target))
    module = {"_operator": "operator", "torch._C._nn": "torch.nn.functional",
              "torch._C._VariableFunctions": "torch"}.get(module, module)
    return f"{module}.{name}" if module else name


def module_attributes(module: Any) -> dict[str, Any]:
    from torch import nn

    attrs: dict[str, Any] = {}
    for name in ATTRIBUTES:
        value = getattr(module, name, None)
        if value is None or isinstance(value, nn.Module) or callable(value):
            continue
        if isinstance(value, (bool, int, float, str, tuple, list)):
            attrs[name] = plain(value)
    bias = getattr(module, "bias", "absent")
    if bias is None or isinstance(bias, nn.Parameter):
        attrs["bias"] = bias is not None
    if isinstance(module, nn.TransformerEncoderLayer):
        attrs.update(encoder_layer_attributes(module))
    if isinstance(module, nn.MultiheadAttention):  # its biases are in_proj_bias, bias_k and bias_v
        attrs.update(bias=module.in_proj_bias is not None, add_bias_kv=module.bias_k is not None,
                     add_zero_attn=bool(module.add_zero_attn))
    return attrs


def encoder_layer_attributes(layer: Any) -> dict[str, Any]:
    """nn.TransformerEncoderLayer keeps no constructor arguments: read them off its parts."""
    import torch.nn.functional as F

    activation = layer.activation
    name = {F.relu: "relu", F.gelu: "gelu"}.get(activation, type(activation).__name__.lower())
    return {"d_model": layer.self_attn.embed_dim, "nhead": layer.self_attn.num_heads,
            "dim_feedforward": layer.linear1.out_features, "dropout": float(layer.dropout.p),
            "activation": name, "layer_norm_eps": float(layer.norm1.eps),
            "batch_first": bool(layer.self_attn.batch_first), "norm_first": bool(layer.norm_first),
            "bias": layer.linear1.bias is not None}


def plain(value: Any) -> Any:
    """JSON-ready: a node as {"node": name}, tuples as lists, anything else as its repr."""
    from torch import fx

    if isinstance(value, fx.Node):
        return {"node": value.name}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"repr": repr(value)}


def shape_of(meta: Any) -> Any:
    if meta is None:
        return None
    if hasattr(meta, "shape"):
        return [int(d) for d in meta.shape]
    if isinstance(meta, (list, tuple)):
        return [shape_of(m) for m in meta]
    return None


# --------------------------------------------------------------------------------------------------
# (2) Mapping: plain Python
# --------------------------------------------------------------------------------------------------

Mapped = tuple[str, dict[str, Any], list[Any]]  # (kind, arguments, tensor inputs as node refs)


def short(value: Any) -> Any:
    """(3, 3) -> 3: a square kernel/stride/padding written once, as torch accepts it."""
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def pick(attrs: dict[str, Any], defaults: dict[str, Any], squeeze: tuple[str, ...] = ()) -> dict[str, Any]:
    """The attributes of `defaults`' keys that differ from the default (kept readable)."""
    out: dict[str, Any] = {}
    for key, default in defaults.items():
        if key not in attrs:
            continue
        value = short(attrs[key]) if key in squeeze else attrs[key]
        if value != default or key in ("out_channels", "out_features", "num_features", "in_channels",
                                       "in_features", "kernel_size", "output_size", "normalized_shape"):
            out[key] = value
    return out


CONV = {"in_channels": None, "out_channels": None, "kernel_size": None, "stride": 1, "padding": 0,
        "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"}
CONV_T = {**CONV, "output_padding": 0}
BATCHNORM = {"num_features": None, "eps": 1e-05, "momentum": 0.1, "affine": True, "track_running_stats": True}
MAXPOOL = {"kernel_size": None, "stride": None, "padding": 0, "dilation": 1, "ceil_mode": False}
AVGPOOL = {"kernel_size": None, "stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
           "divisor_override": None}
SQUEEZE = ("kernel_size", "stride", "padding", "dilation", "output_padding")


Converter = Callable[[Node], "Mapped | None"]


def module_kind(kind: str, defaults: dict[str, Any], squeeze: tuple[str, ...] = SQUEEZE) -> Converter:
    def convert(node: Node) -> Mapped | None:
        attrs = dict(node.get("attrs", {}))
        if kind.startswith(("MaxPool", "AvgPool")) and attrs.get("stride") == attrs.get("kernel_size"):
            attrs.pop("stride", None)
        return kind, pick(attrs, defaults, squeeze), node["args"][:1]
    return convert


def attention(node: Node) -> Mapped | None:
    """nn.MultiheadAttention(query, key, value): one input when all three are the same tensor."""
    if node["kwargs"].get("need_weights") is False or node["kwargs"].get("attn_mask") is not None \
            or node["kwargs"].get("key_padding_mask") is not None or len(node["args"]) > 3:
        return None  # masks and need_weights=False: not read here
    attrs = node.get("attrs", {})
    if attrs.get("kdim") == attrs.get("embed_dim") and attrs.get("vdim") == attrs.get("embed_dim"):
        attrs = {k: v for k, v in attrs.items() if k not in ("kdim", "vdim")}
    args = pick(attrs, {"embed_dim": None, "num_heads": None, "dropout": 0.0, "bias": True, "add_bias_kv": False,
                        "add_zero_attn": False, "kdim": None, "vdim": None, "batch_first": False})
    operands = [arg(node, i, key, None) for i, key in enumerate(("query", "key", "value"))]
    if operands[1] == operands[0] and operands[2] == operands[0]:
        operands = operands[:1]
    return "MultiheadAttention", args, operands


MODULES: dict[str, Callable[[Node], Mapped | None]] = {
    **{f"Conv{d}d": module_kind(f"Conv{d}d", CONV) for d in (1, 2, 3)},
    **{f"ConvTranspose{d}d": module_kind(f"ConvTranspose{d}d", CONV_T) for d in (1, 2, 3)},
    **{f"BatchNorm{d}d": module_kind(f"BatchNorm{d}d", BATCHNORM) for d in (1, 2, 3)},
    **{f"MaxPool{d}d": module_kind(f"MaxPool{d}d", MAXPOOL) for d in (1, 2, 3)},
    **{f"AvgPool{d}d": module_kind(f"AvgPool{d}d", AVGPOOL) for d in (1, 2, 3)},
    **{f"Adaptive{p}Pool{d}d": module_kind(f"Adaptive{p}Pool{d}d", {"output_size": None}, ("output_size",))
       for p in ("Avg", "Max") for d in (1, 2, 3)},
    **{f"Dropout{d}": module_kind(f"Dropout{d}", {"p": 0.5, "inplace": False}) for d in ("", "1d", "2d", "3d")},
    **{name: module_kind(name, {"inplace": False})
       for name in ("ReLU", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "Tanh", "Mish")},
    "GELU": module_kind("GELU", {"approximate": "none"}),
    "Identity": module_kind("Identity", {}),
    "Softmax": module_kind("Softmax", {"dim": None}),
    "LeakyReLU": module_kind("LeakyReLU", {"negative_slope": 0.01, "inplace": False}),
    "Hardtanh": module_kind("Hardtanh", {"min_val": -1.0, "max_val": 1.0, "inplace": False}),
    "Linear": module_kind("Linear", {"in_features": None, "out_features": None, "bias": True}),
    "Flatten": module_kind("Flatten", {"start_dim": 1, "end_dim": -1}),
    "Embedding": module_kind("Embedding", {"num_embeddings": None, "embedding_dim": None, "padding_idx": None}),
    "LayerNorm": module_kind("LayerNorm", {"normalized_shape": None, "eps": 1e-05, "elementwise_affine": True,
                                           "bias": True}),
    "GroupNorm": module_kind("GroupNorm", {"num_groups": None, "num_channels": None, "eps": 1e-05,
                                           "affine": True}),
    "MultiheadAttention": attention,
    "TransformerEncoderLayer": module_kind("TransformerEncoderLayer", {
        "d_model": None, "nhead": None, "dim_feedforward": 2048, "dropout": 0.1, "activation": "relu",
        "layer_norm_eps": 1e-05, "batch_first": False, "norm_first": False, "bias": True}),
}


def arg(node: Node, index: int, key: str, default: Any) -> Any:
    """A call's argument given by position or by keyword."""
    if len(node["args"]) > index:
        return node["args"][index]
    return node["kwargs"].get(key, default)


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "node" in value


def merge(kind: str) -> Callable[[Node], Mapped | None]:
    def convert(node: Node) -> Mapped | None:
        operands = [arg(node, 0, "input", None), arg(node, 1, "other", None)]
        if not all(is_ref(v) for v in operands) or node["kwargs"].get("alpha", 1) != 1:
            return None  # a constant operand has no layer kind
        return kind, {}, operands
    return convert


def cat(node: Node) -> Mapped | None:
    tensors, dim = arg(node, 0, "tensors", []), arg(node, 1, "dim", 0)
    if not isinstance(tensors, list) or not all(is_ref(v) for v in tensors) or dim == 0:
        return None
    if len(tensors) == 1:  # DenseNet's first layer joins a list of one: the tensor itself
        return "Identity", {}, tensors
    return "Concatenate", {"dim": dim}, tensors


def flatten(node: Node) -> Mapped | None:
    start, end = arg(node, 1, "start_dim", 0), arg(node, 2, "end_dim", -1)
    if start == 0:  # flattens the batch axis, which a spec leaves out
        return None
    args = {**({"start_dim": start} if start != 1 else {}), **({"end_dim": end} if end != -1 else {})}
    return "Flatten", args, [node["args"][0]]


def elementwise(kind: str, keep: tuple[str, ...] = ()) -> Callable[[Node], Mapped | None]:
    def convert(node: Node) -> Mapped | None:
        args = {k: node["kwargs"][k] for k in keep if node["kwargs"].get(k)}
        return kind, args, [node["args"][0]]
    return convert


def adaptive_pool(kind: str) -> Callable[[Node], Mapped | None]:
    def convert(node: Node) -> Mapped | None:
        return kind, {"output_size": short(arg(node, 1, "output_size", None))}, [node["args"][0]]
    return convert


def dropout(node: Node) -> Mapped | None:
    return "Dropout", {"p": arg(node, 1, "p", 0.5)}, [node["args"][0]]


def mean(node: Node) -> Mapped | None:
    dim, keepdim = arg(node, 1, "dim", None), arg(node, 2, "keepdim", False)
    if dim is None or dim == 0 or (isinstance(dim, list) and 0 in dim):
        return None
    return "Mean", {"dim": dim, **({"keepdim": True} if keepdim else {})}, [node["args"][0]]


def reshape(node: Node) -> Mapped | None:
    shape = node.get("shape")
    if not shape or not isinstance(shape[0], int):
        return None
    return "Reshape", {"target_shape": shape[1:]}, [node["args"][0]]


FUNCTIONS: dict[str, Callable[[Node], Mapped | None]] = {
    "operator.add": merge("Add"), "operator.iadd": merge("Add"), "torch.add": merge("Add"),
    "operator.mul": merge("Multiply"), "operator.imul": merge("Multiply"), "torch.mul": merge("Multiply"),
    "torch.cat": cat, "torch.concat": cat, "torch.flatten": flatten,
    "torch.nn.functional.relu": elementwise("ReLU", ("inplace",)), "torch.relu": elementwise("ReLU"),
    "torch.nn.functional.relu6": elementwise("ReLU6", ("inplace",)),
    "torch.nn.functional.gelu": elementwise("GELU", ("approximate",)),
    "torch.nn.functional.silu": elementwise("SiLU", ("inplace",)),
    "torch.sigmoid": elementwise("Sigmoid"), "torch.tanh": elementwise("Tanh"),
    "torch.nn.functional.hardswish": elementwise("Hardswish", ("inplace",)),
    "torch.nn.functional.adaptive_avg_pool1d": adaptive_pool("AdaptiveAvgPool1d"),
    "torch.nn.functional.adaptive_avg_pool2d": adaptive_pool("AdaptiveAvgPool2d"),
    "torch.nn.functional.adaptive_avg_pool3d": adaptive_pool("AdaptiveAvgPool3d"),
    "torch.nn.functional.dropout": dropout, "torch.mean": mean,
}
METHODS: dict[str, Callable[[Node], Mapped | None]] = {
    "add": merge("Add"), "mul": merge("Multiply"), "flatten": flatten, "mean": mean,
    "relu": elementwise("ReLU"), "sigmoid": elementwise("Sigmoid"), "view": reshape, "reshape": reshape,
}
# Methods that return no tensor (sizes read for a view) or the same tensor: no layer of their own.
SIZE_METHODS = {"size", "dim"}
SAME_TENSOR_METHODS = {"contiguous"}


def describe(node: Node) -> str:
    if node["op"] == "call_module":
        return f"{node['name']} ({node['type']}, module {node['target']})"
    if node["op"] == "call_method":
        return f"{node['name']} (method .{node['target']}())"
    if node["op"] == "get_attr":
        return f"{node['name']} (self.{node['target']} read directly: write it as a Parameter layer)"
    return f"{node['name']} ({node['target']})"


def convert_node(node: Node) -> Mapped | None:
    op = node["op"]
    if op == "call_module":
        convert = MODULES.get(node.get("type", ""))
    elif op == "call_function":
        convert = FUNCTIONS.get(node["target"])
    elif op == "call_method":
        convert = METHODS.get(node["target"])
    else:
        convert = None
    return convert(node) if convert else None


def graph_to_spec(nodes: Sequence[Node], input_shape: Sequence[int], name: str = "model") -> str:
    """The spec (YAML text) of a traced graph: one layer per node under the node's name, with
    `inputs:` where a node does not read the node above. Raises SpecError naming every node that
    has no layer kind."""
    layers: list[tuple[str, str, dict[str, Any], list[str]]] = []  # (name, kind, args, inputs)
    alias: dict[str, str] = {}  # node name -> the layer (or `input`) it stands for
    refused: list[str] = []
    outputs: list[str] = []
    multi_output: set[str] = set()  # attention layers, returning (output, weights) to operator.getitem
    placeholders = [n for n in nodes if n["op"] == "placeholder"]
    for node in nodes:
        op = node["op"]
        if op == "placeholder":
            alias[node["name"]] = "input"
            if len(placeholders) > 1:
                refused.append(f"{node['name']} (a second input: from_torch traces one input tensor)")
            continue
        if op == "output":
            result = node["args"][0]
            refs = result if isinstance(result, list) else [result]
            if not all(is_ref(r) for r in refs):
                refused.append(f"{node['name']} (an output that is not a tensor)")
            outputs = [alias.get(r["node"], r["node"]) for r in refs if is_ref(r)]
            continue
        if op == "call_method" and node["target"] in SIZE_METHODS:
            continue
        if op == "call_method" and node["target"] in SAME_TENSOR_METHODS and is_ref(node["args"][0]):
            alias[node["name"]] = alias.get(node["args"][0]["node"], node["args"][0]["node"])
            continue
        if op == "call_function" and node["target"] == "operator.getitem" and is_ref(node["args"][0]) \
                and node["args"][0]["node"] in multi_output and node["args"][1] == 0:
            alias[node["name"]] = node["args"][0]["node"]  # the attention's output; its weights are not modelled
            continue
        mapped = convert_node(node)
        if mapped is None:
            refused.append(describe(node))
            continue
        kind, args, inputs = mapped
        if not all(is_ref(i) for i in inputs):
            refused.append(describe(node))
            continue
        layers.append((node["name"], kind, args, [alias.get(i["node"], i["node"]) for i in inputs]))
        if kind == "MultiheadAttention":
            multi_output.add(node["name"])
    if refused:
        raise SpecError(f"from_torch cannot map {len(refused)} node(s) of the traced graph to a layer kind: "
                        + "; ".join(refused),
                        hint="write the model as a spec by hand (`paramcalc layers` lists the kinds), or "
                             "replace these modules/calls with ones paramcalc knows")
    return write_spec(name, input_shape, layers, outputs)


def write_spec(name: str, input_shape: Sequence[int], layers: list[tuple[str, str, dict[str, Any], list[str]]],
               outputs: list[str]) -> str:
    import yaml

    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, sort_keys=False)
        return text.removesuffix("\n...\n").strip()  # a bare scalar ends its document with `...`

    lines = ["# Traced from PyTorch by paramcalc.from_torch (torch.fx); node names kept.",
             f"name: {flow(name)}", "data_format: channels_first", f"input: {flow([int(d) for d in input_shape])}",
             "layers:"]
    previous = "input"
    for layer_name, kind, args, inputs in layers:
        item: dict[str, Any] = {"name": layer_name, **args}
        if inputs != [previous]:
            item["inputs"] = inputs[0] if len(inputs) == 1 else inputs
        lines.append(f"  - {kind}: {flow(item)}")
        previous = layer_name
    if outputs and outputs != [previous]:
        lines.append(f"outputs: {flow(outputs)}")
    return "\n".join(lines) + "\n"


def from_torch(module: Any, input_shape: Sequence[int], name: str | None = None) -> str:
    """The spec (YAML text) of a PyTorch module, traced with torch.fx on `input_shape` (without
    the batch). Raises ImportError naming the extra when PyTorch is missing, SpecError naming every
    module or call that cannot be traced or mapped."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ImportError(f"paramcalc.from_torch needs PyTorch: {INSTALL}") from None
    nodes = trace_graph(module, input_shape)
    return graph_to_spec(nodes, input_shape, name or type(module).__name__.lower())
