"""A spec as PyTorch code: an `nn.Module` whose submodules carry the spec's layer names (a block's
layers are submodules of the block instance: `layer1.basic.conv1`), and a `forward` that follows
the spec's edges.

MODULES says how each kind becomes a module (its constructor, and the argument PyTorch needs that
paramcalc infers from the input: `in_channels`, `in_features`, `num_features`); OPS how a kind that is
an operation of `forward` is written. A kind in neither has no PyTorch equivalent here: an error
naming it. A Keras kind is exported through its PyTorch counterpart only where the two agree exactly,
which today is none: write the spec with PyTorch's spellings to export it to PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paramcalc.export import ExportError, identifier, no_equivalent, python
from paramcalc.layers.registry import SHARED_NAMES
from paramcalc.report import LayerRow, Report
from paramcalc.spec.model import LayerSpec, Spec, split_reference

CHANNELS, LAST = "channels", "last"  # where an inferred argument is read: the channel axis, the last axis

# kind -> (constructor, inferred argument, where it is read)
MODULES: dict[str, tuple[str, str | None, str | None]] = {
    **{f"Conv{r}d": (f"nn.Conv{r}d", "in_channels", CHANNELS) for r in (1, 2, 3)},
    **{f"ConvTranspose{r}d": (f"nn.ConvTranspose{r}d", "in_channels", CHANNELS) for r in (1, 2, 3)},
    **{f"BatchNorm{r}d": (f"nn.BatchNorm{r}d", "num_features", CHANNELS) for r in (1, 2, 3)},
    "Linear": ("nn.Linear", "in_features", LAST),
    "GroupNorm": ("nn.GroupNorm", "num_channels", CHANNELS),
    "LayerNorm": ("nn.LayerNorm", None, None),
    "LayerNorm2d": ("LayerNorm2d", None, None),  # torchvision.models.convnext.LayerNorm2d
    "StochasticDepth": ("StochasticDepth", None, None),  # torchvision.ops.StochasticDepth
    "MultiheadAttention": ("nn.MultiheadAttention", None, None),
    **{kind: (f"nn.{kind}", None, None) for kind in (
        "ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Mish", "Softmax",
        "LogSoftmax", "ELU", "LeakyReLU", "PReLU", "Hardtanh", "Softplus", "Identity", "Dropout", "Dropout1d",
        "Dropout2d", "Dropout3d", "Flatten", "Unflatten", "LocalResponseNorm", "Upsample", "PixelShuffle",
        "PixelUnshuffle", "ChannelShuffle", "Embedding", "TransformerEncoderLayer", "TransformerDecoderLayer",
        "Transformer", "EmbeddingBag",
        *(f"{p}{r}d" for p in ("MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "ZeroPad")
          for r in (1, 2, 3)))},
}
IMPORTS = {"LayerNorm2d": "from torchvision.models.convnext import LayerNorm2d",
           "StochasticDepth": "from torchvision.ops import StochasticDepth"}
# Arguments a shared name (Dropout, Flatten, ...) takes in Keras's vocabulary only.
KERAS_ONLY = {"Dropout": ("rate", "noise_shape", "seed"), "Flatten": ("data_format",), "ReLU": (
    "max_value", "negative_slope", "threshold"), "Embedding": ("input_dim", "output_dim", "mask_zero"),
    "StochasticDepth": ("drop_path_rate",), "Softmax": ("axis",)}


def _merge(symbol: str) -> Callable[[LayerSpec, list[str]], str]:
    return lambda layer, ins: f" {symbol} ".join(ins)


def _cat(layer: LayerSpec, ins: list[str]) -> str:
    if layer.args.get("axis") is not None:
        raise ExportError(f"layer `{layer.name}` (Concatenate) gives Keras's `axis`", layer.loc,
                          "give PyTorch's `dim` (the batch is dim 0) to export it to PyTorch.")
    return f"torch.cat([{', '.join(ins)}], dim={layer.args.get('dim', 1)})"


def _mean(layer: LayerSpec, ins: list[str]) -> str:
    keep = ", keepdim=True" if layer.args.get("keepdim") else ""
    return f"{ins[0]}.mean({python(layer.args['dim'])}{keep})"


def _chunk(layer: LayerSpec, ins: list[str]) -> str:
    return f"{ins[0]}.chunk({layer.args['chunks']}, dim={layer.args['dim']})"


def _permute(layer: LayerSpec, ins: list[str]) -> str:
    return f"{ins[0]}.permute({', '.join(str(d) for d in layer.args['dims'])})"


def _select_token(layer: LayerSpec, ins: list[str]) -> str:
    return f"{ins[0]}[:, {layer.args.get('index', 0)}]"  # x[:, 0]: BERT's pooler, ViT's class token


# kind -> how forward writes it from the layer and its inputs' variables
OPS: dict[str, Callable[[LayerSpec, list[str]], str]] = {
    "Add": _merge("+"), "Multiply": _merge("*"), "Subtract": _merge("-"), "Concatenate": _cat, "Mean": _mean,
    "Chunk": _chunk, "Permute": _permute, "SelectToken": _select_token,
}


def render(spec: Spec, report: Report) -> str:
    from paramcalc.layers import lookup

    rows = {row.name: row for row in report.rows}
    taken: set[str] = set()
    values = {name: identifier(name, taken) for name in spec.inputs}
    init: list[str] = []
    forward: list[str] = []
    containers: set[str] = set()
    imports: set[str] = set()
    for layer in spec.layers:
        kind = lookup(layer.kind, layer.loc)
        var = values[layer.name] = identifier(layer.name, taken)
        ins = [reference(ref, values) for ref in layer.inputs]
        attribute = "self." + ".".join(identifier(part) for part in layer.name.split("."))
        for depth in range(1, layer.name.count(".") + 1):  # a block instance: a submodule holding its layers
            parent = ".".join(layer.name.split(".")[:depth])
            if parent not in containers:
                containers.add(parent)
                init.append(f"        self.{'.'.join(identifier(p) for p in parent.split('.'))} = nn.Module()"
                            f"  # block {parent}")
        if layer.kind == "Parameter":
            grad = layer.args.get("requires_grad", True) and layer.args.get("trainable", True)
            init.append(f"        {attribute} = nn.Parameter(torch.zeros({python(tuple(layer.args['shape']))})"
                        f"{'' if grad else ', requires_grad=False'})")
            forward.append(f"        {var} = {attribute}")
            continue
        if layer.kind in OPS:
            forward.append(f"        {var} = {OPS[layer.kind](layer, ins)}")
            continue
        if layer.kind not in MODULES or kind.framework == "keras" and layer.kind not in (*SHARED_NAMES, *KERAS_ONLY):
            raise no_equivalent(layer.kind, "PyTorch", layer.name, layer.loc,
                                f"write `{layer.kind}` with PyTorch's layer (`paramcalc layers` lists them, e.g. "
                                "Conv2d, Linear, BatchNorm2d) to export to PyTorch, or export with `--to keras`.")
        constructor, inferred, axis = MODULES[layer.kind]
        if layer.kind in IMPORTS:
            imports.add(IMPORTS[layer.kind])
        init.append(f"        {attribute} = {constructor}({torch_args(layer, kind, rows[layer.name], inferred, axis)})")
        if layer.args.get("tie"):  # the same Parameter object: PyTorch counts it once, as paramcalc does
            tied = "self." + ".".join(identifier(part) for part in tied_to(layer, spec).split("."))
            init.append(f"        {attribute}.weight = {tied}.weight")
        forward.append(f"        {var} = {call(layer, attribute, ins)}")
    inputs = [values[name] for name in spec.inputs]
    outputs = [reference(name, values) for name in spec.outputs]
    head = [f'"""{spec.name} in PyTorch, written by `paramcalc export --to pytorch` from {spec.source}.', "",
            f"paramcalc's figures: {report.total_params:,} params ({report.trainable_params:,} trainable), output "
            f"{', '.join(str(s) for s in report.outputs.values())}.", '"""', "", "import torch",
            "from torch import nn", *sorted(imports), "", "",
            f"class {class_name(spec.name)}(nn.Module):", "    def __init__(self):", "        super().__init__()"]
    body = ["", f"    def forward(self, {', '.join(inputs)}):", *forward,
            f"        return {', '.join(outputs)}", "", "",
            'if __name__ == "__main__":',
            f"    model = {class_name(spec.name)}()",
            "    print(sum(p.numel() for p in model.parameters()))"]
    return "\n".join(head + init + body) + "\n"


def torch_args(layer: LayerSpec, kind: Any, row: LayerRow, inferred: str | None, axis: str | None) -> str:
    args: dict[str, Any] = {}
    if inferred and inferred not in layer.args:
        shape = row.input_shape[1:]
        args[inferred] = shape[-1] if axis == LAST else shape[0]
    if layer.has_positional:
        args[kind.own_args()[0].name] = layer.positional
    for key, value in layer.args.items():
        if key == "tie":
            continue  # written after the module (see render)
        if key in KERAS_ONLY.get(layer.kind, ()) or key == "shares":
            raise ExportError(f"layer `{layer.name}` ({layer.kind}) has `{key}`, which PyTorch's {layer.kind} does "
                              "not take", layer.arg_locs.get(key, layer.loc),
                              "write it with PyTorch's arguments to export it to PyTorch.")
        args[key] = value
    if layer.kind in ("MultiheadAttention", "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"):
        args.setdefault("batch_first", True)  # the spec's shapes are (batch, sequence, features)
    return ", ".join(f"{key}={python(value)}" for key, value in args.items())


def tied_to(layer: LayerSpec, spec: Spec) -> str:
    """The full name of the layer a `tie:` names (inside a block, the block's own first, as the engine reads it)."""
    from paramcalc.engine import tied_name

    return tied_name(layer.name, str(layer.args["tie"]), {other.name: None for other in spec.layers})


def call(layer: LayerSpec, attribute: str, ins: list[str]) -> str:
    if layer.kind == "MultiheadAttention":
        q, k, v = (ins * 3)[:3] if len(ins) == 1 else (ins + [ins[-1]])[:3]
        return f"{attribute}({q}, {k}, {v}, need_weights=False)[0]"
    return f"{attribute}({', '.join(ins)})"


def reference(ref: str, values: dict[str, str]) -> str:
    base, index = split_reference(ref)
    return values[base] if index is None else f"{values[base]}[{index}]"


def class_name(name: str) -> str:
    parts = [p for p in identifier(name).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
