"""A spec as Keras 3 code (functional API), under the spec's layer names. Each spec block is a Python
function, `def basic(x, filters, strides, name):`, called once per instance with the instance's name
(its layers are named `f"{name}.conv1"`: the names stay the spec's); the argument values that differ
between its instances are the function's parameters, and instances that differ in their layers (a
`when:`) get one function per form (the grouping of paramcalc/export/pytorch.py's `tree`).

A spec's Keras kinds are written as they are (`layers.Conv2D(...)`); KINDS holds those written otherwise
(another module, a call that takes its inputs one by one). A PyTorch kind (TORCH, export/keras_torch.py) is
written through Keras layers or `keras.ops` only where the result is the same in weights and output shapes, in the
spec's layout (a channels-first PyTorch spec stays channels first: `data_format="channels_first"`,
BatchNormalization(axis=1)); any other PyTorch kind or argument is an error naming it and saying why.
Where Keras has no layer, the file defines what the spec uses, and only that: a Layer class with its weights
made in build() (CLASSES: ViT's class token, a bare nn.Parameter, T5's position bias, Swin's layers) or a
function of Keras layers (HELPERS: nn.Transformer, a mixture of experts with its expert block)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from paramcalc.export import ExportError, identifier, no_equivalent, python
from paramcalc.export.keras_torch import (
    CLASSES,
    HELPERS,
    MOE,
    NEEDS,
    TORCH,
    TRANSLATE,
    UNREAD,
    Source,
    Step,
    Torch,
    check_tied_linear,
    op,
    partial_flatten,
)
from paramcalc.export.pytorch import Node, in_use_order, numbered, tied_to, tree, unwrapped
from paramcalc.layers.args import LayerItem
from paramcalc.report import LayerRow, Report
from paramcalc.spec.model import CHANNELS_FIRST, LayerSpec, Spec, split_reference

# kind -> (constructor, how the call takes several inputs: "list" as merges do, "args" one by one)
KINDS: dict[str, tuple[str, str]] = {
    "MultiHeadAttention": ("layers.MultiHeadAttention", "args"),
    "GroupedQueryAttention": ("layers.GroupQueryAttention", "args"),
    "Attention": ("layers.Attention", "list"),
    "AdditiveAttention": ("layers.AdditiveAttention", "list"),
    "LayerScale": ("LayerScale", "list"),  # keras.applications.convnext's, imported below
    "StochasticDepth": ("StochasticDepth", "list"),  # likewise
    "ClassToken": ("ClassToken", "list"),  # a class of the generated file (CLASSES)
    "RelativePositionBias": ("RelativePositionBias", "args"),  # likewise
    **{kind: (f"keras_hub.layers.{kind}", "args") for kind in (
        "PositionEmbedding", "TokenAndPositionEmbedding", "ReversibleEmbedding", "RotaryEmbedding")},
}
# kind -> the import its constructor needs, besides `keras` and `keras.layers`
IMPORTS = {"LayerScale": "from keras.src.applications.convnext import LayerScale",
           "StochasticDepth": "from keras.src.applications.convnext import StochasticDepth"}
# Names both frameworks use, which paramcalc reads with either's arguments (PyTorch's are translated).
SHARED = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "Flatten", "Embedding", "Identity")
PARAMCALC_ONLY = ("tie",)  # arguments of paramcalc's own, with no Keras spelling


class LayerName:
    """A Keras layer's name: the full name at the top, `f"{name}rest"` inside a block's function, where `name`
    is the instance's prefix (`layer1.basic` + `.conv1`; Keras-style names, `conv2_block1_` + `1_conv`)."""

    def __init__(self, rest: str) -> None:
        self.rest = rest


Segment = str | int | LayerName  # code, a slot (an argument value), a layer's name
Line = list[Segment]


class Body:
    """A block instance's function body (or build_model's): its code with the argument values as slots."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.lines: list[tuple[Any, ...]] = []  # ("code", segments) or ("block", out, block, key, at, ins, relative)
        self.slots: list[tuple[str, str, str]] = []  # (layer, argument, source)
        self.inputs: list[str] = []
        self.returns: list[str] = []
        self.variables: set[str] = set()
        self.key: tuple[Any, ...] = ()
        self.prefix: str | None = ""  # the `name` its layers' names start with; None: names given one by one


def render(spec: Spec, report: Report) -> str:
    from paramcalc.layers import lookup

    rows = {row.name: row for row in report.rows}
    tied = {tied_to(layer, spec): layer.name for layer in spec.layers if layer.args.get("tie")}
    shared = {str(layer.args["shares"]) for layer in spec.layers if "shares" in layer.args}
    unread = unread_layers(spec, rows)
    steps: dict[str, list[Step]] = {}
    imports: set[str] = set()
    helpers: dict[str, str] = {}
    for layer in spec.layers:  # in the spec's order: the first layer that cannot be written is the one named
        steps[layer.name] = layer_steps(layer, lookup(layer.kind, layer.loc), rows[layer.name], spec, tied, imports,
                                        helpers)
    root, nodes = tree(spec, lambda layer: list(layer.path))
    reserved = {"name", "float", "build_model", *HELPERS, *CLASSES, *helpers, *function_names(nodes)}
    bodies: dict[int, Body] = {}
    for node in reversed(nodes):  # inner instances first: a block's code holds its inner blocks' keys
        bodies[id(node)] = describe(node, spec, steps, bodies, reserved, shared | set(tied), unread)
    root.externals = list(spec.inputs)
    model = bodies[id(root)] = describe(root, spec, steps, bodies, reserved, shared | set(tied), unread)
    forms: dict[tuple[Any, ...], Form] = {}
    for node in nodes:
        forms.setdefault((node.block, bodies[id(node)].key), Form(node.block)).instances.append(bodies[id(node)])
    for form, number, count in numbered(forms.values()):
        form.settle(number, count)
    written = [line for form in in_use_order(root, lambda node: forms[(node.block, bodies[id(node)].key)])
               for line in form.source(forms)]
    inputs = [f"    {model.inputs[i]} = keras.Input(shape={keras_shape(shape)!r}, name={name!r})"
              for i, (name, shape) in enumerate(spec.inputs.items())]
    main = Form(None)
    main.instances.append(model)
    body = main.lines(forms, [source for _, _, source in model.slots], top=True)
    outs = model.returns[0] if len(model.returns) == 1 else "[" + ", ".join(model.returns) + "]"
    ins_text = model.inputs[0] if len(model.inputs) == 1 else "[" + ", ".join(model.inputs) + "]"
    model_lines = [f"    return keras.Model({ins_text}, {outs}, name={spec.name!r})"]
    if unread:  # weights no output depends on, which a functional model leaves out: kept on it, so that they count
        body = ["    UNREAD.clear()", *body]
        model_lines = [f"    model = keras.Model({ins_text}, {outs}, name={spec.name!r})",
                       "    model.unread_layers = list(UNREAD)", "    return model"]
        helpers = {"UNREAD": UNREAD, **helpers}
    head = [f'"""{spec.name} in Keras 3, written by `paramcalc export --to keras` from {spec.source}.',
            "",
            f"paramcalc's figures: {report.total_params:,} params ({report.trainable_params:,} trainable), output "
            f"{', '.join(str(s) for s in report.outputs.values())}.", '"""', "",
            "import keras", "from keras import layers", *sorted(imports), "", "", *helpers.values(), *written,
            "def build_model():", *inputs, *body, *model_lines, "", "",
            'if __name__ == "__main__":', "    build_model().summary()"]
    return "\n".join(head) + "\n"


def unread_layers(spec: Spec, rows: dict[str, LayerRow]) -> set[str]:
    """Layers with weights whose output no layer and no model output reads (T5's position bias, which the spec's
    attention is written without): a functional Keras model leaves them out, so the code keeps them on it."""
    read = {split_reference(ref)[0] for layer in spec.layers for ref in layer.inputs}
    read |= {split_reference(name)[0] for name in spec.outputs}
    read |= {str(layer.args[key]) for layer in spec.layers for key in ("shares", "tie") if key in layer.args}
    return {layer.name for layer in spec.layers if layer.name not in read and rows[layer.name].params}


def keras_shape(shape: tuple[Any, ...]) -> tuple[int | None, ...]:
    return tuple(d if isinstance(d, int) else None for d in shape)  # a free dimension (H) is any size


def function_names(nodes: list[Node]) -> set[str]:
    """The names block functions may take (`basic`, `basic2` for a second form), which no variable takes."""
    counts: dict[str, int] = {}
    for node in nodes:
        counts[str(node.block)] = counts.get(str(node.block), 0) + 1
    return {function_name(block) + (str(n) if n > 1 else "") for block, count in counts.items()
            for n in range(1, count + 1)}


def function_name(block: str) -> str:
    return identifier(block.lower())


def describe(node: Node, spec: Spec, steps: dict[str, list[Step]], bodies: dict[int, Body], reserved: set[str],
             kept: set[str], unread: frozenset[str] | set[str] = frozenset()) -> Body:
    """The node's function body: its lines, slots, key, inputs and returns. `kept`: layers whose object other
    layers call again; `unread`: layers whose object goes on the model's list UNREAD (see unread_layers)."""
    kept = kept | unread
    from paramcalc.layers import lookup

    body = Body(node)
    body.prefix = "" if node.block is None else name_prefix(node)
    taken = set(reserved)
    if node.block is None:
        values = {name: identifier(name, taken) for name in node.externals}
    else:
        values = {name: "x" if len(node.externals) == 1 else f"x{i}" for i, name in enumerate(node.externals)}
        taken.update(values.values())  # a layer is never named `x` here: identifier() writes it `x_`
    body.inputs = [values[name] for name in node.externals]
    for item in node.items:
        if isinstance(item, Node):
            inner = bodies[id(item)]
            rel = local(item.name, body.prefix) if inner.prefix is None else local(inner.prefix, body.prefix)
            ins = [reference(ref, values) for ref in item.externals]
            if len(item.outputs) <= 1:  # (a block nothing reads returns None)
                var = variable(rel, taken, reserved)
                values.update({name: var for name in item.outputs})
            else:
                var = ", ".join(values.setdefault(out, variable(local(out, body.prefix), taken, reserved))
                                for out in item.outputs)
            at = len(body.slots)
            body.slots.extend(inner.slots)
            called = [] if inner.prefix is None else name_segment(body, str(inner.prefix), "")
            body.lines.append(("block", var, item.block, inner.key, at, tuple(ins), called))
            continue
        layer = item
        rel = local(layer.name, body.prefix)
        var = values[layer.name] = variable(rel, taken, reserved)
        ins = attention_inputs(layer, [reference(ref, values) for ref in layer.inputs])
        kind = lookup(layer.kind, layer.loc)
        if kind.no_input:  # a bare weight reads nothing, but a Keras layer is called on a tensor: the batch's
            ins = [body.inputs[0]]
        if "shares" in layer.args or layer.args.get("tie"):  # a call of a layer made above, in this function
            target = str(layer.args["shares"]) if "shares" in layer.args else tied_to(layer, spec)
            if target not in values:
                raise ExportError(f"layer `{layer.name}` reuses `{target}`, which is not in the same block instance",
                                  layer.arg_locs.get("shares", layer.arg_locs.get("tie", layer.loc)),
                                  "keep a layer and the layers that reuse its weights in one block (or all outside "
                                  "blocks) to export it to Keras.")
            reverse = layer.kind in ("Linear", "Dense") and "tie" in layer.args  # a tied head: the table's transpose
            call = call_inputs(ins, form_of(layer)) + (", reverse=True" if reverse else "")
            body.lines.append(("code", [f"{var} = {values[target]}_layer({call})"]))
            continue
        line: Line = []
        expression: Line = [call_inputs(ins, form_of(layer))] if ins else []
        for number, step in enumerate(steps[layer.name]):
            last = number == len(steps[layer.name]) - 1
            expression = step_code(step, expression, body, kind, layer, ins, last and layer.name in kept)
        if layer.name in kept:  # the layer object itself is kept: other layers call it again
            line = [f"{var}_layer = ", *expression]
            body.lines.append(("code", line))
            if layer.name in unread:
                body.lines.append(("code", [f"UNREAD.append({var}_layer)"]))
            expression = [f"{var}_layer({call_inputs(ins, form_of(layer))})"]
        body.lines.append(("code", [f"{var} = ", *expression]))
    if node.block is not None:
        body.returns = [values[name] for name in node.outputs] or ["None"]  # a block nothing reads
    else:
        body.returns = [reference(name, values) for name in spec.outputs]
    body.variables = set(taken) - reserved
    body.key = (tuple(segments_key(entry[1]) if entry[0] == "code" else (*entry[:4], entry[5], segments_key(entry[6]))
                      for entry in body.lines), tuple(body.returns), tuple(body.inputs), body.prefix is None)
    return body


def segments_key(segments: Line) -> tuple[Any, ...]:
    return tuple(("name", seg.rest) if isinstance(seg, LayerName) else seg for seg in segments)


def name_prefix(node: Node) -> str | None:
    """What the names of the instance's layers start with: the instance's name where they are `instance.layer`
    (a spec's blocks), else their common start up to a separator (`conv2_block1_`), None if nothing."""
    names = list(layer_names(node))
    if all(name.startswith(node.name + ".") for name in names):
        return node.name
    common = os.path.commonprefix(names)
    cut = max((i + 1 for i, char in enumerate(common) if not char.isalnum()), default=0)
    return common[:cut] or None


def layer_names(node: Node) -> Iterator[str]:
    for item in node.items:
        if isinstance(item, Node):
            yield from layer_names(item)
        else:
            yield item.name


def local(name: str, prefix: str | None) -> str:
    """The part of a name a variable is named after: after the instance's prefix, never starting with a digit."""
    rest = name[len(prefix):].lstrip(".") if prefix and name.startswith(prefix) else name
    return f"_{rest}" if rest[:1].isdigit() else rest or "out"


def name_segment(body: Body, full: str, layer: str) -> Line:
    """A layer's (or an inner instance's) name in the body's code: the full name at the top, the part after the
    body's prefix inside a function, or a parameter where the body's names have no common prefix."""
    if body.node.block is None:
        return [LayerName(full)]
    if body.prefix is not None and full.startswith(body.prefix):
        return [LayerName(full[len(body.prefix):])]
    return [slot(body, identifier(layer or "block"), "name", Source(repr(full)))]


def variable(relative: str, taken: set[str], reserved: set[str]) -> str:
    """A variable for a layer or block instance; `basic_out` where `basic` is a block's function."""
    return identifier(relative + "_out" if identifier(relative) in reserved else relative, taken)


def step_code(step: Step, inner: Line, body: Body, kind: Any, layer: LayerSpec, ins: list[str], bare: bool) -> Line:
    """The step applied to `inner` (the input expression); `bare`: the layer object, not yet called."""
    layer_id = identifier(local(layer.name, body.prefix))
    if step.op:
        out: Line = []
        for piece in re.split(r"(\{\w+\})", step.constructor):
            if piece == "{x}":
                out.extend(inner)
            elif piece == "{name}":  # a helper that makes layers names them after the spec layer
                out.extend(name_segment(body, layer.name, layer_id))
            elif piece.startswith("{") and piece.endswith("}"):
                out.append(slot(body, layer_id, piece[1:-1], step.args[piece[1:-1]]))
            elif piece:
                out.append(piece)
        return out
    out = [f"{step.constructor}("]
    for key, value in step.args.items():
        out += [f"{key}=", slot(body, layer_id, key, value), ", "]
    out += ["name=", *name_segment(body, layer.name + step.suffix, layer_id), ")"]
    if bare:
        return out
    if kind.state_inputs and len(ins) > 1 and not step.suffix:  # an RNN given its initial states
        return [*out, f"({ins[0]}, initial_state=[{', '.join(ins[1:])}])"]
    return [*out, "(", *inner, ")"] if inner else [*out, "()"]


def slot(body: Body, layer: str, key: str, value: Any) -> int:
    body.slots.append((layer, key, value if isinstance(value, Source) else inner_layer(value)))
    return len(body.slots) - 1


class Form:
    """One function: the instances of a block that share their code; the values that differ between them
    are its parameters."""

    def __init__(self, block: str | None) -> None:
        self.block = block
        self.instances: list[Body] = []
        self.name = ""
        self.comment = ""
        self.params: list[tuple[str, int]] = []  # (parameter, the slot giving its value)
        self.texts: list[str] = []  # per slot: its source in the function (a literal or a parameter)

    def settle(self, number: int, forms: int) -> None:
        first = self.instances[0]
        self.name = function_name(str(self.block)) + (str(number) if number > 1 else "")
        used = [body.node.name for body in self.instances]
        shown = ", ".join(used[:4]) + (f", ... ({len(used)} in all)" if len(used) > 4 else "")
        form = (f", form {number} of {forms} (its instances differ in their layers, e.g. a `when:`, or in what "
                "they give)") if forms > 1 else ""
        self.comment = f"Block `{self.block}` of the spec{form}: {shown}."
        params: dict[tuple[str, ...], str] = {}
        names = {"name", *first.inputs, *first.variables}
        for index, (layer, key, text) in enumerate(first.slots):
            column = tuple(body.slots[index][2] for body in self.instances)
            if len(set(column)) == 1:
                self.texts.append(text)
                continue
            if column not in params:  # the argument's name where every value it gives is that argument's
                keys = {k for n, (_, k, _) in enumerate(first.slots)
                        if tuple(body.slots[n][2] for body in self.instances) == column}
                name = key if keys == {key} and key not in names else identifier(f"{layer}_{key}", names)
                names.add(name)
                params[column] = name
                self.params.append((name, index))
            self.texts.append(params[column])

    def source(self, forms: dict[tuple[Any, ...], Form]) -> list[str]:
        body = self.instances[0]
        named = [] if body.prefix is None else ["name"]
        signature = ", ".join([*body.inputs, *(name for name, _ in self.params), *named])
        return [f"def {self.name}({signature}):", f'    """{self.comment}"""',
                *self.lines(forms, self.texts, top=False), f"    return {', '.join(body.returns)}", "", ""]

    def lines(self, forms: dict[tuple[Any, ...], Form], texts: list[str], top: bool, joint: str = "") -> list[str]:
        """`joint`: what comes between `name` and a layer's own name, inside a function (`{name}.w1`)."""
        body = self.instances[0]
        out: list[str] = []

        def text(segments: Line) -> str:
            return "".join(texts[seg] if isinstance(seg, int) else (
                repr(seg.rest) if top else f'f"{{name}}{joint}{seg.rest}"')
                           if isinstance(seg, LayerName) else seg for seg in segments)

        for entry in body.lines:
            if entry[0] == "code":
                out.append("    " + text(entry[1]))
                continue
            _, var, block, key, at, ins, called = entry
            inner = forms[(block, key)]
            named = [f"name={text(called)}"] if called else []
            args = [*ins, *(f"{name}={texts[at + slot]}" for name, slot in inner.params), *named]
            out.append(f"    {var} = {inner.name}({', '.join(args)})")
        return out


ATTENTION = ("MultiheadAttention", "MultiHeadAttention", "GroupedQueryAttention")


def attention_inputs(layer: LayerSpec, ins: list[str]) -> list[str]:
    """Keras's attention takes (query, value, key): one input is self-attention, (query, value); PyTorch's
    (query, key, value) is reordered."""
    if layer.kind not in ATTENTION or len(ins) > 3:
        return ins
    if len(ins) == 1:
        return [ins[0], ins[0]]
    return [ins[0], ins[2], ins[1]] if len(ins) == 3 and layer.kind == "MultiheadAttention" else ins


def form_of(layer: LayerSpec) -> str:
    return KINDS.get(layer.kind, ("", "args" if layer.kind in ARGS_FORM else "list"))[1]


CLASS_IMPORTS = {"RelativePositionBias": ("import math",)}  # what a class of CLASSES needs besides keras

# PyTorch kinds whose Keras code takes its inputs one by one
ARGS_FORM = ("MultiheadAttention", "Transformer", "TransformerDecoderLayer")


# -- one spec layer as Keras steps ------------------------------------------------------------------------

def mixture(layer: LayerSpec, kind: Any, row: LayerRow, spec: Spec, helpers: dict[str, str]) -> list[Step]:
    """Mixtral's sparse MoE block: the helper `mixture_of_experts`, given its expert (a block of the spec) as a
    function of its own, `def swiglu_expert(input_, name)`, which it calls once per expert."""
    t = Torch(layer, kind, row)
    t.handles("num_experts", "top_k", "expert", "router")
    if t.args["router"] is not None:
        raise t.refuse("has its own `router`; the generated mixture_of_experts routes with a bias-free Dense "
                       "(Mixtral's `gate`)", "export it with `--to pytorch`, or leave the router out.", "router")
    item = t.args["expert"]
    if isinstance(item, LayerItem):
        raise t.refuse("has an expert written as one layer; `paramcalc export` writes an expert that is a block "
                       "of the spec", "write the expert as a block (`expert: {my_block: {}}`).", "expert")
    blocks = {block for other in spec.layers for _, block in other.path}
    name = function_name(item.kind) + ("_expert" if item.kind in blocks else "")
    helpers.setdefault(name, expert_source(name, item, tuple(row.input_shape[1:]), spec, t))
    helpers.setdefault("mixture_of_experts", MOE)
    return [op("mixture_of_experts({x}, {expert}, num_experts={num_experts}, top_k={top_k}, name={name})",
               expert=Source(name), num_experts=t.args["num_experts"], top_k=t.args["top_k"])]


def expert_source(function: str, item: Any, shape: tuple[Any, ...], spec: Spec, t: Torch) -> str:
    """A mixture's expert block as a Keras function of its input and its name (`{name}.w1`, as Mixtral's
    experts.0.w1): the block's layers, written as a model's own."""
    from paramcalc.engine import analyze
    from paramcalc.layers import lookup
    from paramcalc.spec.model import DEFAULT_INPUT

    layers, output = unwrapped(item.layers, item.output)
    sub = Spec(source=spec.source, name=item.kind, inputs={DEFAULT_INPUT: shape}, input_locs={},
               data_format=spec.data_format, layers=layers, outputs=(output,))
    report = analyze(sub, keep_formulas=False)
    rows = {row.name: row for row in report.rows}
    imports: set[str] = set()
    helpers: dict[str, str] = {}
    steps = {layer.name: layer_steps(layer, lookup(layer.kind, layer.loc), rows[layer.name], sub, {}, imports,
                                     helpers) for layer in sub.layers}
    root, nodes = tree(sub, lambda layer: list(layer.path))
    if nodes or imports or helpers:
        raise t.refuse(f"has an expert, `{item.kind}`, that holds blocks or layers needing more than Keras's layers",
                       "write the expert with Keras's layers and no inner blocks, or export it with `--to pytorch`.",
                       "expert")
    root.externals = list(sub.inputs)
    body = describe(root, sub, steps, {}, {"name", "float", function}, set())
    main = Form(None)
    main.instances.append(body)
    lines = main.lines({}, [source for _, _, source in body.slots], top=False, joint=".")
    return "\n".join([f"def {function}({body.inputs[0]}, name):",
                      f'    """Expert `{item.kind}` of a mixture of experts: its layers under the expert\'s name."""',
                      *lines, f"    return {', '.join(body.returns)}", "", "", ""])


def layer_steps(layer: LayerSpec, kind: Any, row: LayerRow, spec: Spec, tied: dict[str, str], imports: set[str],
                helpers: dict[str, str]) -> list[Step]:
    if layer.kind == "MixtureOfExperts":
        return mixture(layer, kind, row, spec, helpers)
    if layer.kind == "Flatten" and {"start_dim", "end_dim"} & set(layer.args):  # torch.flatten's partial form
        return partial_flatten(Torch(layer, kind, row))
    if layer.kind in TORCH or (kind.framework == "torch" and layer.kind not in SHARED):
        if layer.kind not in TORCH:
            raise no_equivalent(layer.kind, "Keras", layer.name, layer.loc,
                                f"`{layer.kind}` is PyTorch's layer and paramcalc knows no Keras layers that build "
                                "it with the same weights and output shape; export it with `--to pytorch`, or write "
                                "it with Keras's layers.")
        made = TORCH[layer.kind](Torch(layer, kind, row))
        for step in made:
            if step.constructor in IMPORTS:
                imports.add(IMPORTS[step.constructor])
            if step.constructor in CLASSES:
                helpers[step.constructor] = CLASSES[step.constructor]
            helper = step.constructor.split("(")[0]
            if step.op and helper in HELPERS:
                for needed in (*NEEDS.get(helper, ()), helper):
                    helpers[needed] = HELPERS[needed]
        if layer.name in tied:  # an Embedding whose table a Linear reads back: KerasHub's, with the reverse call
            imports.add("import keras_hub")
            made[-1].constructor = "keras_hub.layers.ReversibleEmbedding"
            made[-1].args["tie_weights"] = True
        check_tied_linear(layer)
        return made
    constructor, _ = KINDS.get(layer.kind, (f"layers.{layer.kind}", "list"))
    if constructor.startswith("keras_hub"):
        imports.add("import keras_hub")
    if layer.kind in IMPORTS:
        imports.add(IMPORTS[layer.kind])
    if constructor in CLASSES:
        helpers[constructor] = CLASSES[constructor]
        imports.update(CLASS_IMPORTS.get(constructor, ()))
    args = keras_args(layer, kind, spec)
    check_tied_linear(layer)
    if layer.name in tied:
        imports.add("import keras_hub")
        constructor = "keras_hub.layers.ReversibleEmbedding"
        args["tie_weights"] = True
    return [Step(constructor, args)]


def keras_args(layer: LayerSpec, kind: Any, spec: Spec) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if layer.has_positional:
        args[kind.own_args()[0].name] = layer.positional
    for key, value in layer.args.items():
        if key in ("shares", "tie"):  # written as a call of the layer it names (see describe)
            continue
        if key in PARAMCALC_ONLY:
            raise ExportError(f"layer `{layer.name}` ({layer.kind}) has `{key}`, which Keras's {layer.kind} does not "
                              "take", layer.arg_locs.get(key, layer.loc),
                              f"write it with Keras's arguments (`paramcalc layers {layer.kind}`), or export it with "
                              "`--to pytorch`.")
        args[key] = value
    args = TRANSLATE.get(layer.kind, lambda layer, args: args)(layer, args)
    if spec.data_format == CHANNELS_FIRST and kind.spatial and "data_format" not in args and layer.kind != "Flatten":
        args["data_format"] = CHANNELS_FIRST
    return args


def inner_layer(value: Any) -> str:
    """An argument's source; a layer written inside it (`layer: {LSTM: {units: 64}}`, a wrapper's) as its
    constructor, `layers.LSTM(units=64)`."""
    from paramcalc.layers.registry import FAMILY_OF

    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in FAMILY_OF:
        kind, args = next(iter(value.items()))
        constructor = KINDS.get(kind, (f"layers.{kind}", ""))[0]
        if isinstance(args, dict):
            return f"{constructor}({', '.join(f'{k}={inner_layer(v)}' for k, v in args.items())})"
        return f"{constructor}({'' if args is None else python(args)})"
    return python(value)


def reference(ref: str, tensors: dict[str, str]) -> str:
    base, index = split_reference(ref)
    return tensors[base] if index is None else f"{tensors[base]}[{index}]"


def call_inputs(ins: list[str], form: str) -> str:
    if len(ins) == 1:
        return ins[0]
    return ", ".join(ins) if form == "args" else "[" + ", ".join(ins) + "]"


# -- the shared names and Keras kinds given PyTorch's arguments ---------------------------------------------
