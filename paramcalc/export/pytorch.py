"""A spec as PyTorch code: an `nn.Module` whose submodules carry the spec's layer names, and a `forward`
that follows the spec's edges. Each spec block is a class of its own (Form), built once per instance
under the instance's name (`self.layer1 = Stage()`: the parameter `layer1.basic.conv1.weight`); the
values that differ between its instances are the class's constructor parameters, and instances that
differ in their layers (a `when:`) get one class per form.

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

CHANNEL_ARGS = {"in_channels", "out_channels", "num_features", "num_channels"}  # one width, however it is named
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


class Node:
    """A block instance (or the model itself, block None): its own layers and block instances, in order."""

    def __init__(self, name: str, block: str | None, depth: int) -> None:
        self.name, self.block, self.depth = name, block, depth
        self.items: list[LayerSpec | Node] = []
        self.outputs: list[str] = []  # its layers read from outside it (or the model's outputs), in order
        self.externals: list[str] = []  # what it reads from outside it, in order of first use
        self.key: tuple[Any, ...] = ()  # its code with the argument values left out: equal keys, one class
        self.slots: list[tuple[str, str, str]] = []  # the argument values left out: (layer, argument, source)
        self.init: list[tuple[Any, ...]] = []
        self.forward: list[str] = []
        self.returns: list[str] = []

    def relative(self, name: str) -> str:
        return name[len(self.name) + 1:] if self.name else name


def tree(spec: Spec) -> tuple[Node, list[Node]]:
    """The model as nested block instances, each with what it reads from outside and what it gives."""
    root = Node("", None, 0)
    nodes: dict[str, Node] = {}
    inside: dict[str, tuple[str, ...]] = {}  # layer -> the block instances holding it
    for layer in spec.layers:
        parent = root
        for depth, (name, block) in enumerate(layer.path, 1):
            if name not in nodes:
                nodes[name] = Node(name, block, depth)
                parent.items.append(nodes[name])
            parent = nodes[name]
        parent.items.append(layer)
        inside[layer.name] = tuple(name for name, _ in layer.path)
    finals = {split_reference(name)[0] for name in spec.outputs}
    for name in finals:
        for holder in inside.get(name, ()):
            nodes[holder].outputs.append(name)
    for layer in spec.layers:
        for ref in layer.inputs:
            base = split_reference(ref)[0]
            for holder in inside.get(base, ()):  # `base` leaves each instance that does not hold `layer`
                if holder not in inside[layer.name] and base not in nodes[holder].outputs:
                    nodes[holder].outputs.append(base)
            for holder in inside[layer.name]:
                if holder not in inside.get(base, ()) and base not in nodes[holder].externals:
                    nodes[holder].externals.append(base)
    order = {layer.name: i for i, layer in enumerate(spec.layers)}
    for node in nodes.values():
        node.outputs.sort(key=order.__getitem__)
    return root, list(nodes.values())


def render(spec: Spec, report: Report) -> str:
    rows = {row.name: row for row in report.rows}
    for layer in spec.layers:  # in the spec's order: the first layer that cannot be written is the one named
        check(layer, rows[layer.name])
    root, nodes = tree(spec)
    imports: set[str] = set()
    ties: list[str] = []
    for node in reversed(nodes):  # inner instances first: a block's code holds its inner blocks' keys
        describe(node, spec, rows, imports, ties)
    root.externals = list(spec.inputs)
    describe(root, spec, rows, imports, ties)
    classes: dict[tuple[Any, ...], Form] = {}
    for node in nodes:
        classes.setdefault((node.block, node.key), Form(node.block)).instances.append(node)
    taken = {class_name(spec.name), "Module", *MODULES}  # a block named like a layer kind gets `_`
    per_block: dict[str | None, list[Form]] = {}
    for form in classes.values():
        per_block.setdefault(form.block, []).append(form)
    for forms in per_block.values():
        for number, form in enumerate(forms, 1):
            form.settle(taken, number, len(forms))
    written: list[str] = []
    seen: set[str] = set()

    def write(node: Node) -> None:  # each class once, after the classes it uses
        for item in node.items:
            if isinstance(item, Node):
                write(item)
        if node is not root:
            form = classes[(node.block, node.key)]
            if form.name not in seen:
                seen.add(form.name)
                written.extend(form.source(classes))

    write(root)
    model = Form(None)
    model.instances.append(root)
    model.name = class_name(spec.name)
    body = model.body(classes, [f"        {tie}" for tie in ties])
    head = [f'"""{spec.name} in PyTorch, written by `paramcalc export --to pytorch` from {spec.source}.', "",
            f"paramcalc's figures: {report.total_params:,} params ({report.trainable_params:,} trainable), output "
            f"{', '.join(str(s) for s in report.outputs.values())}.", '"""', "", "import torch",
            "from torch import nn", *sorted(imports), "", ""]
    tail = ["", "", 'if __name__ == "__main__":', f"    model = {model.name}()",
            "    print(sum(p.numel() for p in model.parameters()))"]
    return "\n".join(head + written + [f"class {model.name}(nn.Module):", *body] + tail) + "\n"


def describe(node: Node, spec: Spec, rows: dict[str, LayerRow], imports: set[str], ties: list[str]) -> None:
    """The node's code with its argument values as slots: its key, slots, init, forward and returns."""
    from paramcalc.layers import lookup

    taken: set[str] = set()
    if node.block is None:
        values = {name: identifier(name, taken) for name in node.externals}
    else:
        values = {name: "x" if len(node.externals) == 1 else f"x{i}" for i, name in enumerate(node.externals)}
        taken.update(values.values())  # a layer is never named `x` here: identifier() writes it `x_`
    containers: set[str] = set()
    for item in node.items:
        if isinstance(item, Node):
            rel = node.relative(item.name)
            attribute = "self." + ".".join(identifier(part) for part in rel.split("."))
            ins = [reference(ref, values) for ref in item.externals]
            if len(item.outputs) <= 1:  # (a block nothing reads returns None)
                var = identifier(rel, taken)
                values.update({name: var for name in item.outputs})
            else:
                var = ", ".join(values.setdefault(out, identifier(node.relative(out), taken)) for out in item.outputs)
            node.init.append(("block", attribute, item.block, item.key, len(node.slots)))
            node.slots.extend(item.slots)
            node.forward.append(f"        {var} = {attribute}({', '.join(ins)})")
            continue
        layer = item
        kind = lookup(layer.kind, layer.loc)
        rel = node.relative(layer.name)
        var = values[layer.name] = identifier(rel, taken)
        ins = [reference(ref, values) for ref in layer.inputs]
        parts = [identifier(part) for part in rel.split(".")]
        attribute = "self." + ".".join(parts)
        for depth in range(1, len(parts)):  # a dotted name inside the block: submodules holding its layers
            parent = ".".join(parts[:depth])
            if parent not in containers:
                containers.add(parent)
                node.init.append(("text", f"self.{parent} = nn.Module()"))
        if layer.kind == "Parameter":
            grad = layer.args.get("requires_grad", True) and layer.args.get("trainable", True)
            zeros = f"torch.zeros({python(tuple(layer.args['shape']))})"
            node.init.append(("text", f"{attribute} = nn.Parameter({zeros}{'' if grad else ', requires_grad=False'})"))
            node.forward.append(f"        {var} = {attribute}")
            continue
        if layer.kind in OPS:
            node.forward.append(f"        {var} = {OPS[layer.kind](layer, ins)}")
            continue
        constructor, inferred, axis = MODULES[layer.kind]
        if layer.kind in IMPORTS:
            imports.add(IMPORTS[layer.kind])
        args = torch_args(layer, kind, rows[layer.name], inferred, axis)
        node.init.append(("module", attribute, constructor, tuple(args), len(node.slots)))
        node.slots.extend(("_".join(parts), key, text) for key, text in args.items())
        if layer.args.get("tie"):  # the same Parameter object, set on the model: PyTorch counts it once
            tied = "self." + ".".join(identifier(part) for part in tied_to(layer, spec).split("."))
            ties.append(f"self.{'.'.join(identifier(part) for part in layer.name.split('.'))}.weight = {tied}.weight")
        node.forward.append(f"        {var} = {call(layer, attribute, ins)}")
    if node.block is not None:
        node.returns = [values[name] for name in node.outputs] or ["None"]  # a block nothing reads
    else:
        node.returns = [reference(name, values) for name in spec.outputs]
    node.key = (tuple(entry[:-1] if entry[0] in ("block", "module") else entry for entry in node.init),
                tuple(node.forward), tuple(node.returns), tuple(values[name] for name in node.externals))


class Form:
    """One class: the instances of a block that share their code; the values that differ between them
    are its constructor's parameters."""

    def __init__(self, block: str | None) -> None:
        self.block = block
        self.instances: list[Node] = []
        self.name = ""
        self.comment = ""
        self.params: list[tuple[str, int]] = []  # (parameter, the slot giving its value)
        self.texts: list[str] = []  # per slot: its source in the class (a literal or a parameter)

    def settle(self, taken: set[str], number: int, forms: int) -> None:
        """Its name, parameters and the source of each slot."""
        first = self.instances[0]
        self.name = class_name(str(self.block)) + (str(number) if number > 1 else "")
        while self.name in taken:
            self.name += "_"
        taken.add(self.name)
        used = [node.name for node in self.instances]
        shown = ", ".join(used[:4]) + (f", ... ({len(used)} in all)" if len(used) > 4 else "")
        form = (f", form {number} of {forms} (its instances differ in their layers, e.g. a `when:`, or in what "
                "they give)") if forms > 1 else ""
        self.comment = f"Block `{self.block}` of the spec{form}: {shown}."
        params: dict[tuple[str, ...], str] = {}
        names: set[str] = {"self"}
        self.texts = []
        for index, (layer, key, text) in enumerate(first.slots):
            column = tuple(node.slots[index][2] for node in self.instances)
            if len(set(column)) == 1:
                self.texts.append(text)
                continue
            if column not in params:  # the argument's name where every value it gives is that argument's
                keys = {k for n, (_, k, _) in enumerate(first.slots)
                        if tuple(node.slots[n][2] for node in self.instances) == column}
                common = key if keys == {key} else "channels" if keys <= CHANNEL_ARGS else None
                name = next((n for n in ((common,) if common else ()) + (f"{layer}_{key}",) if n not in names),
                            None) or identifier(f"{layer}_{key}", names)
                names.add(name)
                params[column] = name
                self.params.append((name, index))
            self.texts.append(params[column])

    def source(self, classes: dict[tuple[Any, ...], Form]) -> list[str]:
        signature = ", ".join(["self", *(name for name, _ in self.params)])
        body = self.body(classes, [], signature)
        return [f"class {self.name}(nn.Module):", f'    """{self.comment}"""', "", *body, "", ""]

    def body(self, classes: dict[tuple[Any, ...], Form], extra: list[str], signature: str = "self") -> list[str]:
        node = self.instances[0]
        texts = self.texts or [text for _, _, text in node.slots]
        init = [f"    def __init__({signature}):", "        super().__init__()"]
        for entry in node.init:
            if entry[0] == "text":
                init.append(f"        {entry[1]}")
            elif entry[0] == "module":
                _, attribute, constructor, keys, at = entry
                args = ", ".join(f"{key}={texts[at + i]}" for i, key in enumerate(keys))
                init.append(f"        {attribute} = {constructor}({args})")
            else:
                _, attribute, block, key, at = entry
                inner = classes[(block, key)]
                args = ", ".join(f"{name}={texts[at + slot]}" for name, slot in inner.params)
                init.append(f"        {attribute} = {inner.name}({args})")
        inputs = node.key[3]
        return [*init, *extra, "", f"    def forward(self, {', '.join(inputs)}):", *node.forward,
                f"        return {', '.join(node.returns)}"]


def check(layer: LayerSpec, row: LayerRow) -> None:
    """Refuse a layer that PyTorch cannot build as the spec writes it."""
    from paramcalc.layers import lookup

    kind = lookup(layer.kind, layer.loc)
    if layer.kind == "Parameter" or layer.kind in OPS:
        return
    if layer.kind not in MODULES or kind.framework == "keras" and layer.kind not in (*SHARED_NAMES, *KERAS_ONLY):
        raise no_equivalent(layer.kind, "PyTorch", layer.name, layer.loc,
                            f"write `{layer.kind}` with PyTorch's layer (`paramcalc layers` lists them, e.g. "
                            "Conv2d, Linear, BatchNorm2d) to export to PyTorch, or export with `--to keras`.")
    constructor, inferred, axis = MODULES[layer.kind]
    torch_args(layer, kind, row, inferred, axis)


def torch_args(layer: LayerSpec, kind: Any, row: LayerRow, inferred: str | None, axis: str | None) -> dict[str, str]:
    """The module's arguments as source, by name."""
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
    return {key: python(value) for key, value in args.items()}


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
