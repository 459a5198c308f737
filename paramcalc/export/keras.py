"""A spec as Keras 3 code (functional API): one line per layer, under the spec's layer names.

A spec's kinds and arguments are Keras's, so most kinds are written as they are (`layers.Conv2D(...)`);
KINDS holds those written otherwise (another module, a call that takes its inputs one by one). A
PyTorch kind has no Keras equivalent here and is an error naming it."""

from __future__ import annotations

from typing import Any

from paramcalc.export import identifier, no_equivalent, python
from paramcalc.report import Report
from paramcalc.spec.model import CHANNELS_FIRST, LayerSpec, Spec, split_reference

# kind -> (constructor, how the call takes several inputs: "list" as merges do, "args" one by one)
KINDS: dict[str, tuple[str, str]] = {
    "MultiHeadAttention": ("layers.MultiHeadAttention", "args"),
    "GroupedQueryAttention": ("layers.GroupQueryAttention", "args"),
    "Attention": ("layers.Attention", "list"),
    "AdditiveAttention": ("layers.AdditiveAttention", "list"),
    "LayerScale": ("LayerScale", "list"),  # keras.applications.convnext's, imported below
    **{kind: (f"keras_hub.layers.{kind}", "args") for kind in (
        "PositionEmbedding", "TokenAndPositionEmbedding", "ReversibleEmbedding", "RotaryEmbedding")},
}
# kind -> the import its constructor needs, besides `keras` and `keras.layers`
IMPORTS = {"LayerScale": "from keras.src.applications.convnext import LayerScale"}
# Names both frameworks use, which paramcalc reads with either's arguments: fine in Keras with Keras's.
SHARED = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "Flatten", "Embedding")
NOT_KERAS_ARGS = {"Dropout": ("p", "inplace"), "Flatten": ("start_dim", "end_dim"),
                  "ReLU": ("inplace",), "Concatenate": ("dim",)}
PARAMCALC_ONLY = ("tie",)  # arguments of paramcalc's own, with no Keras spelling


def render(spec: Spec, report: Report) -> str:
    from paramcalc.layers import lookup

    shared = {str(layer.args["shares"]) for layer in spec.layers if "shares" in layer.args}
    taken: set[str] = set()
    tensors = {name: identifier(name, taken) for name in spec.inputs}
    imports: set[str] = set()
    lines: list[str] = []
    for name, shape in spec.inputs.items():
        dims = tuple(d if isinstance(d, int) else None for d in shape)  # a free dimension (H) is any size
        lines.append(f"    {tensors[name]} = keras.Input(shape={dims!r}, name={name!r})")
    block = None
    for layer in spec.layers:
        kind = lookup(layer.kind, layer.loc)
        top = layer.path[0] if layer.path else None
        if top != block and top is not None:
            lines.append(f"    # {top[0]} (block {top[1]})")
        block = top
        var = tensors[layer.name] = identifier(layer.name, taken)
        ins = [reference(ref, tensors) for ref in layer.inputs]
        if "shares" in layer.args:
            target = identifier(str(layer.args["shares"])) + "_layer"
            lines.append(f"    {var} = {target}({call_inputs(ins, KINDS.get(layer.kind, ('', 'list'))[1])})")
            continue
        constructor, form = KINDS.get(layer.kind, (f"layers.{layer.kind}", "list"))
        if constructor.startswith("keras_hub"):
            imports.add("import keras_hub")
        if layer.kind in IMPORTS:
            imports.add(IMPORTS[layer.kind])
        if kind.framework == "torch" and layer.kind not in SHARED:
            raise no_equivalent(layer.kind, "Keras", layer.name, layer.loc,
                                f"`{layer.kind}` is PyTorch's layer; write the spec with Keras's layers to export "
                                "it to Keras, or export it with `--to pytorch`.")
        args = keras_args(layer, kind, spec)
        made = f"{constructor}({args})"
        if layer.name in shared:
            lines.append(f"    {var}_layer = {made}")
            made = f"{var}_layer"
        if kind.state_inputs and len(ins) > 1:  # an RNN given its initial states
            lines.append(f"    {var} = {made}({ins[0]}, initial_state=[{', '.join(ins[1:])}])")
            continue
        lines.append(f"    {var} = {made}({call_inputs(ins, form) if ins else ''})")
    outputs = [reference(name, tensors) for name in spec.outputs]
    out = outputs[0] if len(outputs) == 1 else "[" + ", ".join(outputs) + "]"
    inputs = [tensors[name] for name in spec.inputs]
    ins_text = inputs[0] if len(inputs) == 1 else "[" + ", ".join(inputs) + "]"
    head = [f'"""{spec.name} in Keras 3, written by `paramcalc export --to keras` from {spec.source}.',
            "",
            f"paramcalc's figures: {report.total_params:,} params ({report.trainable_params:,} trainable), output "
            f"{', '.join(str(s) for s in report.outputs.values())}.", '"""', "",
            "import keras", "from keras import layers", *sorted(imports), "", "",
            "def build_model():"]
    tail = [f"    return keras.Model({ins_text}, {out}, name={spec.name!r})", "", "",
            'if __name__ == "__main__":', "    build_model().summary()"]
    return "\n".join(head + lines + tail) + "\n"


def keras_args(layer: LayerSpec, kind: Any, spec: Spec) -> str:
    args: dict[str, Any] = {}
    if layer.has_positional:
        args[kind.own_args()[0].name] = layer.positional
    for key, value in layer.args.items():
        if key in PARAMCALC_ONLY or key in NOT_KERAS_ARGS.get(layer.kind, ()):
            from paramcalc.export import ExportError

            raise ExportError(f"layer `{layer.name}` ({layer.kind}) has `{key}`, which Keras's {layer.kind} does not "
                              "take", layer.arg_locs.get(key, layer.loc),
                              f"write it with Keras's arguments (`paramcalc layers {layer.kind}`), or export it with "
                              "`--to pytorch`.")
        args[key] = value
    if spec.data_format == CHANNELS_FIRST and kind.spatial and "data_format" not in args:
        args["data_format"] = CHANNELS_FIRST
    parts = [f"{key}={inner_layer(value)}" for key, value in args.items()]
    return ", ".join([*parts, f"name={layer.name!r}"])


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
