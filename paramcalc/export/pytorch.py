"""A spec as PyTorch code: an `nn.Module` whose submodules carry the spec's layer names, and a `forward`
that follows the spec's edges. Each spec block is a class of its own (Form), built once per instance
under the instance's name (`self.layer1 = Stage()`: the parameter `layer1.basic.conv1.weight`); the
values that differ between its instances are the class's constructor parameters, and instances that
differ in their layers (a `when:`) get one class per form.

MODULES says how each kind becomes a module (its constructor, and the argument PyTorch needs that
paramcalc infers from the input: `in_channels`, `in_features`, `num_features`); OPS how a kind that is
an operation of `forward` is written. A kind in neither has no PyTorch equivalent here: an error
naming it. A Keras kind is written through its PyTorch counterpart where the two agree exactly: the
table and the layout rule (a channels_last spec's feature maps held channels-first inside the module)
are in pytorch_keras.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast

from paramcalc.export import ExportError, identifier, no_equivalent, python
from paramcalc.export.pytorch_keras import (
    CHANNEL_KINDS,
    ELEMENTWISE,
    HELPERS,
    KERAS,
    KERAS_OPS,
    REFUSED,
    Module,
    Site,
    Source,
    channels,
    held_axis,
    refuse,
    to_channels_first,
    to_channels_last,
)
from paramcalc.layers.args import LayerItem
from paramcalc.layers.base import Context, Shape
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
    "RMSNorm": ("nn.RMSNorm", None, None),
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
           "StochasticDepth": "from torchvision.ops import StochasticDepth",
           **{kind: f"from torchvision.models.swin_transformer import {kind}" for kind in (
               "ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging", "PatchMergingV2")}}
# Arguments a shared name (Dropout, Flatten, ...) takes in Keras's vocabulary only.
KERAS_ONLY = {"Dropout": ("rate", "noise_shape", "seed"), "Flatten": ("data_format",), "ReLU": (
    "max_value", "negative_slope", "threshold"), "Embedding": ("input_dim", "output_dim", "mask_zero"),
    "StochasticDepth": ("drop_path_rate",), "Softmax": ("axis",),
    **{kind: ("units",) for kind in ("LSTM", "GRU", "SimpleRNN")}}  # (their classes take both vocabularies)


def _merge(symbol: str) -> Callable[[Site, list[str]], str]:
    return lambda site, ins: f" {symbol} ".join(ins)


def _cat(site: Site, ins: list[str]) -> str:
    given = site.a["axis"] if site.a["axis"] is not None else site.a["dim"]
    rank = len(site.row.input_shape)
    axis = given if given is not None else rank - 1 if site.channels_last else 1  # the spec's channel axis
    return f"torch.cat([{', '.join(ins)}], dim={held_axis(axis, rank, site.held)})"


def _mean(site: Site, ins: list[str]) -> str:
    keep = ", keepdim=True" if site.layer.args.get("keepdim") else ""
    return f"{ins[0]}.mean({python(site.layer.args['dim'])}{keep})"


def _chunk(site: Site, ins: list[str]) -> str:
    return f"{ins[0]}.chunk({site.layer.args['chunks']}, dim={site.layer.args['dim']})"


def _permute(site: Site, ins: list[str]) -> str:
    return f"{ins[0]}.permute({', '.join(str(d) for d in site.layer.args['dims'])})"


def _select_token(site: Site, ins: list[str]) -> str:
    return f"{ins[0]}[:, {site.layer.args.get('index', 0)}]"  # x[:, 0]: BERT's pooler, ViT's class token


def _slice(site: Site, ins: list[str]) -> str:
    a, rank = site.a, len(site.row.input_shape)
    dims = {d % rank for d in a["dim"]}
    cut = f"{'' if a['start'] is None else a['start']}:{'' if a['end'] is None else a['end']}"
    cut += f":{a['step']}" if a["step"] != 1 else ""
    return f"{ins[0]}[{', '.join(cut if i in dims else ':' for i in range(max(dims) + 1))}]"


def _pad(site: Site, ins: list[str]) -> str:
    value = f", value={site.a['value']!r}" if site.a["value"] is not None else ""
    return f"nn.functional.pad({ins[0]}, {tuple(site.a['pad'])}{value})"


def _torchvision(site: Site) -> Module:
    """A torchvision module, with the arguments the spec gives (sizes as torchvision's lists)."""
    return Module(site.layer.kind, {key: list(value) if isinstance(value, tuple) else value
                                    for key, value in site.a.items() if key in site.layer.args})


# kind -> its module, for kinds whose module takes the arguments as paramcalc parses them
TORCH_WRITERS: dict[str, Callable[[Site], Module]] = {
    kind: _torchvision for kind in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging",
                                    "PatchMergingV2")}


# kind -> how forward writes it from the layer and its inputs' variables
OPS: dict[str, Callable[[Site, list[str]], str]] = {
    "Add": _merge("+"), "Multiply": _merge("*"), "Subtract": _merge("-"), "Concatenate": _cat, "Mean": _mean,
    "Chunk": _chunk, "Permute": _permute, "SelectToken": _select_token, "Slice": _slice, "Pad": _pad,
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


class BlockForm(Protocol):
    block: str | None


F = TypeVar("F", bound=BlockForm)


def numbered(forms: Iterable[F]) -> Iterator[tuple[F, int, int]]:
    """Each form with its number among its block's forms (1, 2, ...) and how many that block has, block by
    block in order of first appearance: the second form of `basic` is written `basic2`."""
    per_block: dict[str | None, list[F]] = {}
    for form in forms:
        per_block.setdefault(form.block, []).append(form)
    for group in per_block.values():
        for number, form in enumerate(group, 1):
            yield form, number, len(group)


def in_use_order(root: Node, form_of: Callable[[Node], F]) -> list[F]:
    """The forms of the block instances under `root`, each once, after the forms it uses: the order a file
    defines them in."""
    ordered: list[F] = []
    seen: set[int] = set()

    def visit(node: Node) -> None:
        for item in node.items:
            if isinstance(item, Node):
                visit(item)
        if node is not root:
            form = form_of(node)
            if id(form) not in seen:
                seen.add(id(form))
                ordered.append(form)

    visit(root)
    return ordered


def tree(spec: Spec, holders: Callable[[LayerSpec], list[tuple[str, str]]] | None = None) -> tuple[Node, list[Node]]:
    """The model as nested block instances, each with what it reads from outside and what it gives.
    `holders(layer)`: the instances holding a layer, by default those that hold it under their name
    (named_under); the Keras export groups every block's layers, whatever their names."""
    holders = holders or named_under
    root = Node("", None, 0)
    nodes: dict[str, Node] = {}
    inside: dict[str, tuple[str, ...]] = {}  # layer -> the block instances holding it
    for layer in spec.layers:
        parent = root
        for depth, (name, block) in enumerate(holders(layer), 1):
            if name not in nodes:
                nodes[name] = Node(name, block, depth)
                parent.items.append(nodes[name])
            parent = nodes[name]
        parent.items.append(layer)
        inside[layer.name] = tuple(name for name, _ in holders(layer))
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


class Writing:
    """What writing one spec needs beyond a node: its rows, the layout each value is held in, and what the code
    collects on the way (imports, helper classes, ties)."""

    def __init__(self, spec: Spec, report: Report, outer: Writing | None = None) -> None:
        self.spec = spec
        self.rows = {row.name: row for row in report.rows}
        # what the whole file collects, shared with the specs written inside it (a mixture's expert)
        self.imports: set[str] = outer.imports if outer else set()
        self.helpers: set[str] = outer.helpers if outer else set()
        self.taken: set[str] = outer.taken if outer else {"Module", *MODULES, *HELPERS}  # class names
        self.experts: dict[str, tuple[str, list[str]]] = outer.experts if outer else {}  # key -> (class, source)
        self.ties: list[str] = []
        self.shape: dict[str, tuple[Any, ...]] = {name: (None, *shape) for name, shape in spec.inputs.items()}
        self.shape.update({row.name: row.output_shape for row in report.rows})
        self.rank = {name: len(shape) for name, shape in self.shape.items()}
        self.held: dict[str, bool] = {}  # a value held channels-first (a channels_last spec's feature map)
        self.reads: dict[str, bool] = {}  # a layer reads its inputs channels-first
        for layer in spec.layers:
            row = self.rows[layer.name]
            if not spec.channels_last:
                first = False
            elif layer.kind in CHANNEL_KINDS:
                first = len(row.input_shape) >= 3
            elif layer.kind in ELEMENTWISE:  # in whichever layout its inputs come
                first = any(self.held.get(split_reference(ref)[0], False) for ref in layer.inputs)
            else:
                first = False
            self.reads[layer.name] = first
            self.held[layer.name] = first and len(row.output_shape) >= 3
        self.sites: dict[str, Site] = {}

    @property
    def permutes(self) -> bool:
        return any(self.held.values())

    def site(self, layer: LayerSpec) -> Site:
        from paramcalc.layers import lookup

        if layer.name not in self.sites:
            kind = lookup(layer.kind, layer.loc)
            ctx = Context(self.spec.channels_last, layer.kind, layer.loc, layer.arg_locs, formulas=False)
            a = kind.parse_args(layer.args, layer.positional, layer.has_positional, ctx)
            shapes = tuple(self.shape[split_reference(ref)[0]] for ref in layer.inputs)
            self.sites[layer.name] = Site(layer, a, self.rows[layer.name], self.reads[layer.name],
                                          self.spec.channels_last, shapes)
        return self.sites[layer.name]

    def read(self, ref: str, value: str, channels_first: bool) -> str:
        """`value` (the variable of `ref`) in the layout a reader wants."""
        base = split_reference(ref)[0]
        rank = self.rank[base]
        if self.held.get(base, False) == channels_first or rank < 3:
            return value
        return to_channels_first(value, rank) if channels_first else to_channels_last(value, rank)

    def module(self, layer: LayerSpec) -> Module:
        """The layer's module, or an error naming why PyTorch cannot build it as the spec writes it."""
        from paramcalc.layers import lookup

        kind = lookup(layer.kind, layer.loc)
        if layer.kind in REFUSED and (keras_spelt(layer, kind) or kind.framework == "torch"):
            raise refuse(self.site(layer), f"has no exact PyTorch equivalent: it {REFUSED[layer.kind]}")
        if layer.kind in TORCH_WRITERS:
            return TORCH_WRITERS[layer.kind](self.site(layer))
        if layer.kind == "MixtureOfExperts":
            return self.mixture(self.site(layer))
        if keras_spelt(layer, kind):
            if layer.kind in KERAS:
                return KERAS[layer.kind](self.site(layer))
            shared = layer.kind in SHARED_NAMES or layer.kind in KERAS_ONLY  # torch_args names the argument
        if layer.kind not in MODULES or keras_spelt(layer, kind) and not shared:
            raise no_equivalent(layer.kind, "PyTorch", layer.name, layer.loc,
                                f"write `{layer.kind}` with PyTorch's layer (`paramcalc layers` lists them, e.g. "
                                "Conv2d, Linear, BatchNorm2d) to export to PyTorch, or export with `--to keras`.")
        constructor, inferred, axis = MODULES[layer.kind]
        return Module(constructor, torch_args(layer, kind, self.rows[layer.name], inferred, axis))

    def mixture(self, site: Site) -> Module:
        """Mixtral's sparse MoE block (the generated MixtureOfExperts): its expert, a block of the spec, written
        as a class of its own (once per block and input), `num_experts` instances of it."""
        from paramcalc.engine import analyze
        from paramcalc.spec.model import DEFAULT_INPUT

        a = site.a
        if a["router"] is not None:
            raise refuse(site, "has its own `router`; the generated MixtureOfExperts routes with a bias-free "
                         "Linear (Mixtral's `gate`)", "router")
        item, shape = a["expert"], cast(Shape, tuple(site.row.input_shape[1:]))
        if isinstance(item, LayerItem):
            raise refuse(site, "has an expert written as one layer; `paramcalc export` writes an expert that is a "
                         "block of the spec", "expert")
        key = f"{item.kind} {shape} {[(layer.name, layer.kind, layer.args) for layer in item.layers]}"
        if key not in self.experts:
            layers, output = unwrapped(item.layers, item.output)
            sub = Spec(source=self.spec.source, name=item.kind, inputs={DEFAULT_INPUT: shape}, input_locs={},
                       data_format=self.spec.data_format, layers=layers, outputs=(output,))
            lines, name = classes_of(Writing(sub, analyze(sub, keep_formulas=False), self))
            self.experts[key] = (name, [*lines, "", ""])
            self.helpers.add("MixtureOfExperts")
        return Module("MixtureOfExperts", {"width": channels(site), "num_experts": a["num_experts"],
                                           "top_k": a["top_k"], "expert": Source(self.experts[key][0])})

    def op(self, layer: LayerSpec) -> Callable[[Site, list[str]], str] | None:
        """How forward writes the layer when it is an operation, not a module."""
        from paramcalc.layers import lookup

        if layer.kind in OPS:
            return OPS[layer.kind]
        if layer.kind in KERAS_OPS and keras_spelt(layer, lookup(layer.kind, layer.loc)):
            return KERAS_OPS[layer.kind]
        return None


def unwrapped(layers: tuple[LayerSpec, ...], output: str) -> tuple[tuple[LayerSpec, ...], str]:
    """A block's layers as the expanded `expert:` gives them, inside one instance of the block (`swiglu.w1`),
    as a model's own (`w1`): the expert's class holds them directly (experts.0.w1.weight, as Mixtral's)."""
    tops = {layer.path[0][0] if layer.path else None for layer in layers}
    if len(tops) != 1 or None in tops:
        return layers, output
    prefix = f"{tops.pop()}."

    def strip(name: str) -> str:
        return name[len(prefix):] if name.startswith(prefix) else name

    return tuple(layer.replace(name=strip(layer.name), inputs=tuple(strip(ref) for ref in layer.inputs),
                               path=layer.path[1:]) for layer in layers), strip(output)


def keras_spelt(layer: LayerSpec, kind: Any) -> bool:
    """Whether the layer is written in Keras's vocabulary: a Keras kind, or a shared name (Dropout, ReLU, ...)
    given an argument only Keras's takes."""
    if layer.kind in SHARED_NAMES or layer.kind in KERAS_ONLY:
        keras_args = KERAS_ONLY.get(layer.kind, ())
        return any(key in keras_args for key in layer.args) or layer.has_positional and bool(
            kind.own_args()) and kind.own_args()[0].name in keras_args
    return bool(kind.framework == "keras")


def named_under(layer: LayerSpec) -> list[tuple[str, str]]:
    """The block instances that hold the layer under their name (`layer1.basic.conv1`: `layer1`, `layer1.basic`).
    A layer named on its own inside a block (Keras's flat names, `conv2_block1_1_conv`) is the model's own
    attribute, as in Keras's functional model: its state_dict key is its name."""
    held: list[tuple[str, str]] = []
    for name, block in layer.path:
        if not layer.name.startswith(name + "."):
            break
        held.append((name, block))
    return held


def render(spec: Spec, report: Report) -> str:
    writing = Writing(spec, report)
    written, model_name = classes_of(writing)
    layout = [] if not writing.permutes else [
        "", "It takes its inputs in the spec's layout, channels last (batch, ..., channels), as Keras does, holds "
        "feature maps", "channels-first inside (permuted where a convolution, pooling or BatchNorm first reads "
        "them, back where", "a Flatten, Reshape, Dense or the output reads them), and gives its outputs channels "
        "last."]
    running = [] if not any(layer.kind == "BatchNormalization" for layer in spec.layers) else [
        "", "Keras's BatchNormalization moving mean and variance (non-trainable params in paramcalc's figures) are "
        "the", "BatchNorm modules' running_mean and running_var buffers here."]
    head = [f'"""{spec.name} in PyTorch, written by `paramcalc export --to pytorch` from {spec.source}.', "",
            f"paramcalc's figures: {report.total_params:,} params ({report.trainable_params:,} trainable), output "
            f"{', '.join(str(s) for s in report.outputs.values())}.", *layout, *running, '"""', "",
            *(["import math"] if "RelativePositionBias" in writing.helpers else []), "import torch",
            "from torch import nn", *sorted(writing.imports), "", ""]
    for user, used in (("TokenAndPositionEmbedding", "PositionEmbedding"), ("KerasBidirectionalLSTM", "KerasLSTM")):
        if user in writing.helpers:
            writing.helpers.add(used)  # which it holds
    head += [line for name in HELPERS if name in writing.helpers  # in HELPERS' order: a class after those it uses
             for line in (*HELPERS[name].rstrip("\n").split("\n"), "", "")]
    head += [line for _, lines in writing.experts.values() for line in lines]
    tail = ["", "", 'if __name__ == "__main__":', f"    model = {model_name}()",
            "    print(sum(p.numel() for p in model.parameters()))"]
    return "\n".join(head + written + tail) + "\n"


def classes_of(writing: Writing) -> tuple[list[str], str]:
    """The spec's classes, each block's before the classes using it and the model's last, and the model's name."""
    spec = writing.spec
    for layer in spec.layers:  # in the spec's order: the first layer that cannot be written is the one named
        check(layer, writing)
    root, nodes = tree(spec)
    for node in reversed(nodes):  # inner instances first: a block's code holds its inner blocks' keys
        describe(node, writing)
    root.externals = list(spec.inputs)
    describe(root, writing)
    classes: dict[tuple[Any, ...], Form] = {}
    for node in nodes:
        classes.setdefault((node.block, node.key), Form(node.block)).instances.append(node)
    model = Form(None)
    model.instances.append(root)
    model.name = class_name(spec.name)
    while model.name in writing.taken:
        model.name += "_"
    writing.taken.add(model.name)  # a block named like a layer kind or the model gets `_`
    for form, number, count in numbered(classes.values()):
        form.settle(writing.taken, number, count)
    written = [line for form in in_use_order(root, lambda node: classes[(node.block, node.key)])
               for line in form.source(classes)]
    body = model.body(classes, [f"        {tie}" for tie in writing.ties])
    return written + [f"class {model.name}(nn.Module):", *body], model.name


def describe(node: Node, writing: Writing) -> None:
    """The node's code with its argument values as slots: its key, slots, init, forward and returns."""
    spec = writing.spec
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
        rel = node.relative(layer.name)
        var = values[layer.name] = identifier(rel, taken)
        site = writing.site(layer)
        ins = [writing.read(ref, reference(ref, values), site.held) for ref in layer.inputs]
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
        op = writing.op(layer)
        if op is not None:
            node.forward.append(f"        {var} = {op(site, ins)}")
            continue
        module = writing.module(layer)
        writing.imports.update(IMPORTS[key] for key in (layer.kind, module.constructor) if key in IMPORTS)
        if module.constructor in HELPERS:
            writing.helpers.add(module.constructor)
        args = {key: value if isinstance(value, Source) else python(value) for key, value in module.args.items()}
        node.init.append(("module", attribute, module.constructor, tuple(args), len(node.slots)))
        node.slots.extend(("_".join(parts), key, text) for key, text in args.items())
        if layer.args.get("tie"):  # the same Parameter object, set on the model: PyTorch counts it once
            tied = "self." + ".".join(identifier(part) for part in tied_to(layer, spec).split("."))
            own = "self." + ".".join(identifier(part) for part in layer.name.split("."))
            writing.ties.append(f"{own}.weight = {tied}.weight")
        if ins:
            ins[0] = module.before.replace("{}", ins[0])
        called = call(layer, module.constructor, attribute, ins)
        node.forward.append(f"        {var} = {module.after.replace('{}', called)}")
    if node.block is not None:
        node.returns = [values[name] for name in node.outputs] or ["None"]  # a block nothing reads
    else:  # the model gives its outputs in the spec's layout
        node.returns = [writing.read(name, reference(name, values), False) for name in spec.outputs]
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


def check(layer: LayerSpec, writing: Writing) -> None:
    """Refuse a layer that PyTorch cannot build as the spec writes it."""
    if layer.kind == "Parameter":
        return
    op = writing.op(layer)
    if op is not None:
        op(writing.site(layer), ["x"] * len(layer.inputs))
    else:
        writing.module(layer)


def torch_args(layer: LayerSpec, kind: Any, row: LayerRow, inferred: str | None, axis: str | None) -> dict[str, Any]:
    """The module's arguments, by name."""
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
    if layer.kind == "MultiheadAttention":
        args.pop("need_weights", None)  # an argument of forward, which `call` gives
    if layer.kind in ("MultiheadAttention", "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"):
        args.setdefault("batch_first", True)  # the spec's shapes are (batch, sequence, features)
    return args


def tied_to(layer: LayerSpec, spec: Spec) -> str:
    """The full name of the layer a `tie:` names (inside a block, the block's own first, as the engine reads it)."""
    from paramcalc.engine import tied_name

    return tied_name(layer.name, str(layer.args["tie"]), {other.name: None for other in spec.layers})


def call(layer: LayerSpec, constructor: str, attribute: str, ins: list[str]) -> str:
    if constructor != "nn.MultiheadAttention":
        return f"{attribute}({', '.join(ins)})"
    if layer.kind == "MultiheadAttention":
        q, k, v = (ins * 3)[:3] if len(ins) == 1 else (ins + [ins[-1]])[:3]
        return f"{attribute}({q}, {k}, {v}, need_weights=False)[0]"
    if layer.kind == "MultiHeadAttention":  # Keras's inputs: query, value[, key (the value's by default)]
        q = ins[0]
        v = ins[1] if len(ins) > 1 else q
        k = ins[2] if len(ins) > 2 else v
        return f"{attribute}({q}, {k}, {v}, need_weights=False)[0]"
    return f"{attribute}({', '.join(ins)})"


def reference(ref: str, values: dict[str, str]) -> str:
    base, index = split_reference(ref)
    return values[base] if index is None else f"{values[base]}[{index}]"


def class_name(name: str) -> str:
    parts = [p for p in identifier(name).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
