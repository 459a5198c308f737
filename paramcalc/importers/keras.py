"""Keras 3 models to specs: the JSON of `model.to_json()` and `.keras` archives (their config.json).

Only the configuration is read (no Keras, no weights). Sequential and Functional models map layer
by layer: each Keras layer becomes the spec layer of the same class, under its Keras name, with the
arguments that change a shape or a count (initialisers, regularisers, dtypes and values equal to
the default are left out); a Functional model's edges become `inputs:`. A nested model becomes a
block (its other inputs block arguments, its other outputs read as its layers), a later call of it
an instance of the block's `_shared` copy. A shared layer (called more than once) becomes one layer
per call, the later calls with `shares:` naming the first, so that its weights count once, as Keras
counts them. An error names the Keras layer and its line and column in the JSON.
A run of identical layers with Keras's numbered names (dense_1, dense_2, ...) folds into `repeat:`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any

from paramcalc.errors import Location
from paramcalc.importers import Imported, ImportError_, load_json
from paramcalc.importers.jsonfile import JsonFile
from paramcalc.importers.specwriter import spec_text

MODELS = ("Sequential", "Functional", "Model")
# Arguments Keras writes that never change a shape or a count.
NEUTRAL = {"name", "dtype", "activity_regularizer", "seed", "sparse", "ragged", "optional",
           "zero_output_for_mask"}  # (masking only: Bidirectional sets it on the layers it wraps)
NEUTRAL_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
# Keras's spelling of a value that paramcalc's default (None) means for a channels-last spec.
SAME_AS_DEFAULT = {("activation", "linear"), ("data_format", "channels_last"), ("axis", -1)}
# Arguments that take one number for every dimension: [5, 5] is written 5.
SCALAR_OK = {"kernel_size", "strides", "pool_size", "dilation_rate", "padding", "size", "cropping"}
MIN_RUN = 3  # identical layers folded into `repeat:` from this many on
Layer = tuple[str, dict[str, Any]]  # (kind, arguments as the spec writes them)


def import_keras_archive(path: str) -> Imported:
    """A `.keras` archive: its config.json, never its weights. Errors in it are placed as
    `model.keras!config.json:LINE:COL` (the member of the archive, as a jar URL names one)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ImportError_(f"{path} has no config.json", Location(path),
                                   "give a `.keras` archive written by Keras 3's `model.save`.")
            data = archive.read("config.json")
    except zipfile.BadZipFile:
        raise ImportError_(f"{path} is not a `.keras` archive (not a zip file)", Location(path),
                           "give a file written by Keras 3's `model.save('model.keras')`.") from None
    return import_keras(load_json(f"{path}!config.json", data), path)


def import_keras(doc: JsonFile, path: str | None = None) -> Imported:
    """The spec (YAML text) of a Keras model's serialised configuration."""
    path = path or doc.label
    data = doc.data
    reader = Reader(doc)
    model = reader.model(data, top=True)
    header = [f"{model.name}: imported by `paramcalc import` from {path.rsplit('/', 1)[-1]} (Keras "
              f"{data.get('class_name')}).", "Layer names and edges are Keras's."]
    top: dict[str, Any] = {"name": model.name}
    if list(model.inputs) == ["input"]:
        top["input"] = next(iter(model.inputs.values()))
    else:
        top["inputs"] = model.inputs
    if reader.channels_first:
        top["data_format"] = "channels_first"
    tail: dict[str, Any] = {}
    last = model.layers[-1][1].get("name") if model.layers else None
    if model.outputs != [last]:
        tail["outputs"] = model.outputs
    return Imported(spec_text(header, top, reader.blocks, fold_runs(model.layers), tail), reader.place)


class Graph:
    """One model: its inputs (name -> shape), its layers in order, its outputs."""

    def __init__(self, name: str, inputs: dict[str, list[int | None]], layers: list[Layer], outputs: list[str]):
        self.name = name
        self.inputs = inputs
        self.layers = layers
        self.outputs = outputs


class Reader:
    def __init__(self, doc: JsonFile) -> None:
        self.doc = doc
        self.path = doc.label
        self.blocks: dict[str, dict[str, Any]] = {}
        self.channels_first = False
        self.items: dict[str, dict[str, Any]] = {}  # spec layer name (a block's: unprefixed) -> its Keras layer
        # a nested model's call (its block instance) -> how the spec reads each of its outputs
        self.model_outputs: dict[str, list[str]] = {}
        # a nested model (Keras name) -> its block, its inputs, its outputs and its layers, for its later calls
        self.nested_models: dict[str, tuple[str, list[str], list[str], list[Layer]]] = {}

    def fail(self, message: str, where: str, hint: str, at: Any = None, key: str | int | None = None,
             on_key: bool = False) -> ImportError_:
        """An error at `at[key]` in the file (the value; its key with `on_key`), naming the Keras layer."""
        loc = self.doc.at(self.doc.data if at is None else at, key, on_key)
        return ImportError_(f"{message} (Keras layer `{where}`)" if where else message, loc, hint)

    def place(self, layer: str | None, argument: str | None) -> Location:
        """Where a spec layer's Keras layer (its argument, when given and written) is in the file."""
        item = self.items.get(layer or "") or self.items.get((layer or "").rsplit(".", 1)[-1])
        if item is None:
            return self.doc.at(self.doc.data)
        config = item.get("config")
        if argument is not None and isinstance(config, dict) and argument in config:
            return self.doc.at(config, argument)
        return self.doc.at(item)

    def model(self, data: Any, top: bool = False) -> Graph:
        if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
            raise self.fail("not a Keras model configuration (no `config` object)", "", "give the JSON of "
                            "`model.to_json()` or a `.keras` archive.", data)
        kind, config = data.get("class_name"), data["config"]
        name = str(config.get("name") or "model")
        if kind == "Sequential":
            return self.sequential(name, config, data)
        if kind in ("Functional", "Model") and "input_layers" in config:
            return self.functional(name, config)
        raise self.fail(f"a Keras `{kind}` is not a Sequential or Functional model: a subclassed model's "
                        "configuration does not hold its layers", name,
                        "rebuild it as a Functional model (keras.Model(inputs, outputs)) and save that, or write "
                        "the spec by hand.", data, "class_name")

    def layer_list(self, config: dict[str, Any], name: str) -> list[dict[str, Any]]:
        """A model's `layers`: a list of objects, each with a `config` object."""
        items = config.get("layers")
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail("the model's `layers` is not a list", name, "check the model file.", config, "layers")
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("config"), dict):
                raise self.fail("a layer is not an object with a `config` object", name, "check the model file.",
                                items, index)
        return list(items)  # a copy: the file's own list stays as written, for placing errors

    # ---- Sequential -------------------------------------------------------------------------------

    def sequential(self, name: str, config: dict[str, Any], data: dict[str, Any]) -> Graph:
        items = self.layer_list(config, name)
        shape = None
        if items and items[0].get("class_name") == "InputLayer":
            shape = batchless(items.pop(0)["config"].get("batch_shape"))
        if shape is None:
            shape = batchless(config.get("build_input_shape") or (data.get("build_config") or {}).get("input_shape"))
        if shape is None:
            raise self.fail("the Sequential model has no input shape", name, "build it with `keras.Input(shape)` as "
                            "its first layer (or call `model.build(input_shape)`) before saving.", config)
        layers: list[Layer] = []
        for item in items:
            layers.extend(self.layer(item, inputs=None))
        return Graph(name, {"input": shape}, layers, [layers[-1][1]["name"]] if layers else ["input"])

    # ---- Functional -------------------------------------------------------------------------------

    def functional(self, name: str, config: dict[str, Any]) -> Graph:
        items = {str(item.get("name") or item["config"].get("name")): item for item in self.layer_list(config, name)}
        inputs: dict[str, list[int | None]] = {}
        for layer_name, item in items.items():
            if item.get("class_name") == "InputLayer":
                shape = batchless(item["config"].get("batch_shape"))
                if shape is None:
                    raise self.fail("the input has no shape", layer_name, "give keras.Input a shape.",
                                    item["config"], "batch_shape")
                inputs[layer_name] = shape
        order = [ref[0] for ref in tensor_list(config.get("input_layers"))
                 if isinstance(ref, list) and ref and isinstance(ref[0], str)]
        if sorted(order) == sorted(inputs):  # the model's own order of its inputs (a nested model's call follows it)
            inputs = {input_name: inputs[input_name] for input_name in order}
        for layer_name, item in items.items():
            if not isinstance(item.get("inbound_nodes") or [], list):
                raise self.fail("the layer's `inbound_nodes` is not a list of calls", layer_name,
                                "check the model file.", item, "inbound_nodes")
        calls = {layer_name: len(item.get("inbound_nodes") or []) for layer_name, item in items.items()}
        layers: list[Layer] = []
        for layer_name, item in items.items():
            if item.get("class_name") == "InputLayer":
                continue
            nodes = item.get("inbound_nodes") or []
            if not nodes:
                raise self.fail("the layer is never called", layer_name, "remove it from the model.", item,
                                "inbound_nodes")
            for index, node in enumerate(nodes):
                refs = [self.reference(history, calls, items, layer_name) for history in node_tensors(node)]
                if not refs:
                    raise self.fail("a call of the layer reads no tensor", layer_name, "check the model file.", node)
                call_name = call_of(layer_name, index)
                if str(item.get("module") or "").startswith("keras.src.ops"):  # `x + y`, `x * 0.5`: an op
                    layers.append(self.op(item, node, refs, call_name))
                    continue
                made = self.layer(item, refs, call_name, index, calls[layer_name])
                if index > 0 and item.get("class_name") not in MODELS:  # (a nested model's calls: its block)
                    made[-1][1]["shares"] = layer_name
                layers.extend(made)
        outputs = [self.reference(history, calls, items, name) for history in tensor_list(config.get("output_layers"))]
        return Graph(name, inputs, topological(layers, set(inputs), self), outputs)

    def reference(self, history: Any, calls: dict[str, int], items: dict[str, Any], where: str) -> str:
        """A tensor, `[layer, node, index]`, as the spec reads it: `layer`, `layer[k]`, or a later call's name."""
        if not (isinstance(history, list) and len(history) >= 3 and isinstance(history[0], str)
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in history[1:3])):
            raise self.fail(f"cannot read the tensor reference {history!r}", where, "check the model file.", history)
        layer, node, index = history[:3]
        if layer not in items:
            raise self.fail(f"reads `{layer}`, which is not a layer of the model", where, "check the model file.",
                            history, 0)
        name = call_of(layer, node) if calls.get(layer, 0) > 1 else layer
        if name in self.model_outputs:  # output k of a nested model: the block's output, or one of its layers
            outputs = self.model_outputs[name]
            if index >= len(outputs):
                raise self.fail(f"reads output {index} of `{layer}`, which has {len(outputs)}", where,
                                "check the model file.", history, 2)
            return outputs[index]
        return f"{name}[{index}]" if index else name

    def op(self, item: dict[str, Any], node: Any, refs: list[str], name: str) -> Layer:
        """A Keras op in the graph (ConvNeXt's residual `x + y`, MobileNetV3's hard sigmoid `x * (1/6)`):
        between tensors, the merge layer of the same name; with a number, a Rescaling (x * scale + offset),
        which has no weights either."""
        kind = item.get("class_name")
        args = node.get("args", []) if isinstance(node, dict) else []
        numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if kind in ("Add", "Subtract", "Multiply") and len(refs) >= 2 and not numbers:
            return kind, {"name": name, "inputs": refs}
        if len(refs) == 1 and len(numbers) == 1 and len(args) == 2:
            c, first = numbers[0], not isinstance(args[0], (int, float))
            rescale = {"Add": {"scale": 1, "offset": c}, "Multiply": {"scale": c},
                       "Subtract": {"scale": 1, "offset": -c} if first else {"scale": -1, "offset": c},
                       "Divide": {"scale": 1 / c} if first and c else None,
                       "TrueDivide": {"scale": 1 / c} if first and c else None}.get(str(kind))
            if rescale is not None:
                return "Rescaling", {"name": name, "inputs": refs[0], **rescale}
        raise self.fail(f"the Keras op `{kind}` (keras.ops) is not mapped", name,
                        "paramcalc maps the ops add, subtract, multiply and divide between tensors or by a number; "
                        "write the spec by hand for the rest.", item, "class_name")

    # ---- one layer --------------------------------------------------------------------------------

    def layer(self, item: dict[str, Any], inputs: list[str] | None, name: str | None = None, index: int = 0,
              calls: int = 1) -> list[Layer]:
        """The spec layer of call `index` (of `calls`) of one Keras layer (a nested model: its block, and
        the block's instance)."""
        kind = item.get("class_name")
        config = item.get("config") or {}
        name = name or str(config.get("name") or item.get("name") or "")
        if not isinstance(kind, str) or not name:
            raise self.fail("a layer without a class name or a name", name, "check the model file.", item)
        self.items[name] = item
        if kind in MODELS:
            return [self.nested(item, inputs, name, index, calls)]
        found = self.spec_kind(kind, name, item)
        args: dict[str, Any] = {"name": name}
        if inputs is not None and not (len(inputs) == 1 and inputs[0] == "__previous__"):
            args["inputs"] = inputs[0] if len(inputs) == 1 else inputs
        if not isinstance(config, dict):
            raise self.fail("the layer's `config` is not an object", name, "check the model file.", item, "config")
        args.update(self.arguments(found, kind, config, name))
        return [(kind, args)]

    def arguments(self, found: Any, kind: str, config: dict[str, Any], where: str) -> dict[str, Any]:
        known = found.known_args()
        defaults = found.parsed_defaults()
        out: dict[str, Any] = {}
        for key, value in config.items():
            if key in NEUTRAL or key.endswith(NEUTRAL_SUFFIXES):
                continue
            if is_plain(value) and (key, value) in SAME_AS_DEFAULT and key in defaults:  # (Activation requires one)
                continue
            if key == "data_format" and value == "channels_first":
                self.channels_first = True
                continue
            if key == "trainable" and value is True:
                continue
            if key not in known:
                if value is None or value is False:
                    continue  # an option Keras writes switched off
                raise self.fail(f"`{kind}` has an argument `{key}: {value!r}` that paramcalc does not know", where,
                                f"paramcalc's {kind} takes {', '.join(a.name for a in found.own_args())}; write the "
                                "spec by hand if the argument changes nothing that is counted.", config, key, True)
            if is_serialized_layer(value):  # a wrapper's layer (Bidirectional's LSTM): as `layers:` writes it
                value = self.wrapped_layer(value, where)
            if key == "strides" and value == config.get("pool_size"):
                continue  # a pooling layer's default stride is its pool size
            try:
                if key in defaults and known[key].parse(value) == defaults[key]:
                    continue
            except Exception:  # noqa: BLE001 - a value paramcalc refuses: keep it, the spec check names it
                pass
            out[key] = simplify(plain(value)) if key in SCALAR_OK else as_lists(value)
        if "backward_layer" in out and out["backward_layer"] == backward_copy(out.get("layer")):
            del out["backward_layer"]  # the copy Keras makes of `layer` when none is given
        return out

    def wrapped_layer(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        """A layer inside a wrapper's config, `{Kind: {arguments}}` as a spec's `layers:` writes it."""
        kind = str(item["class_name"])
        found = self.spec_kind(kind, where, item)
        config = item.get("config")
        return {kind: self.arguments(found, kind, config if isinstance(config, dict) else {}, where)}

    def nested(self, item: dict[str, Any], inputs: list[str] | None, name: str, index: int, calls: int) -> Layer:
        """A nested model's call: an instance of the model's block. Its first input is the block's
        `input`, the others block arguments named after the nested model's inputs; its first output is
        the block's output, the others its layers (`fusion.q`). A later call of the same model (shared
        weights) is an instance of `<block>_shared`, the same layers each with `shares:` naming the
        first call's, so that its MACs count and its weights do not count again."""
        model = str(item["config"].get("name") or name)
        if index == 0 or model not in self.nested_models:
            self.nested_models[model] = self.nested_block(item, name, calls)
        block, own_inputs, outputs, layers = self.nested_models[model]
        if index > 0:
            shared = f"{block}_shared"
            if shared not in self.blocks:
                if any(kind in self.blocks for kind, _ in layers):
                    raise self.fail("a nested model inside a nested model that is called more than once cannot be "
                                    "imported", name, "call the outer nested model once, or flatten the inner one "
                                    "into it.", item)
                first = call_of(model, 0)
                copies = [(kind, {**args, "shares": f"{first}.{args.get('shares', args['name'])}"})
                          for kind, args in layers]
                self.blocks[shared] = {**self.blocks[block], "layers": copies}
            block = shared
        args: dict[str, Any] = {"name": name}
        if inputs is not None:
            if len(inputs) != len(own_inputs):
                raise self.fail(f"the nested model is called on {len(inputs)} tensors but has {len(own_inputs)} "
                                "inputs", name, "check the model file.", item, "inbound_nodes")
            args["inputs"] = inputs[0]
            args.update(zip(own_inputs[1:], inputs[1:]))
        if len(outputs) > 1:
            self.model_outputs[name] = [name] + [f"{name}.{out}" for out in outputs[1:]]
        return block, args

    def nested_block(self, item: dict[str, Any], name: str, calls: int) -> tuple[str, list[str], list[str],
                                                                               list[Layer]]:
        """The block of a nested model, written once: (its name, the model's inputs, its outputs, its layers)."""
        inner = self.model(item)
        own_inputs = list(inner.inputs)
        for out in inner.outputs:
            if out.split("[")[0] in own_inputs:
                raise self.fail(f"the nested model returns its input `{out}` unchanged", name,
                                "return a layer's output, or write the spec by hand.", item)
        layers = [(kind, rename_input(args, own_inputs[0])) for kind, args in inner.layers]
        block = name if name not in self.blocks else f"{name}_block"
        output = inner.outputs[0] if inner.outputs[0] != layers[-1][1]["name"] else None
        # a model called twice, or whose other outputs are read by name, keeps each layer's own name
        folded = layers if calls > 1 or len(inner.outputs) > 1 else fold_runs(layers)
        self.blocks[block] = {"args": {extra: None for extra in own_inputs[1:]}, "layers": folded, "output": output}
        return block, own_inputs, inner.outputs, layers

    def spec_kind(self, kind: str, where: str, item: dict[str, Any]) -> Any:
        """The paramcalc kind of a Keras class name, or a refusal at the class name."""
        from paramcalc.layers.registry import FAMILY_OF, KERAS_ALIASES, lookup

        name = KERAS_ALIASES.get(kind, kind)
        at = self.doc.at(item, "class_name")
        if name not in FAMILY_OF:
            raise ImportError_(f"Keras layer `{where}` is a `{kind}`, which paramcalc has no layer kind for", at,
                               "run `paramcalc layers` for the supported kinds; a custom layer's counts cannot be "
                               "read from its configuration.")
        found = lookup(name, at)
        if found.framework != "keras" and name not in ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout",
                                                       "Flatten", "Identity", "Embedding"):
            raise ImportError_(f"Keras layer `{where}` is a `{kind}`, which is PyTorch's layer in paramcalc", at,
                               "write the spec by hand.")
        return found


def is_serialized_layer(value: Any) -> bool:
    """A Keras layer as Keras serialises one inside another's config: {module, class_name, config}."""
    return (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and isinstance(value.get("config"), dict) and str(value.get("module") or "").startswith("keras.layers"))


def backward_copy(layer: Any) -> Any:
    """`{Kind: {args}}` run the other way (go_backwards flipped), as Keras's Bidirectional copies it."""
    if not (isinstance(layer, dict) and len(layer) == 1):
        return None
    (kind, args), = layer.items()
    flipped = {k: v for k, v in args.items() if k != "go_backwards"}
    if not args.get("go_backwards"):
        flipped["go_backwards"] = True
    return {kind: flipped}


def node_tensors(node: Any) -> Iterator[Any]:
    """The `keras_history` of every tensor a call reads, args first, then keyword tensors (a tensor
    written wrongly is yielded as it is, for `reference` to refuse at its place)."""
    def walk(value: Any) -> Iterator[Any]:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                config = value.get("config")
                yield config.get("keras_history", value) if isinstance(config, dict) else value
            return
        if isinstance(value, (list, tuple)):
            for item in value:
                yield from walk(item)

    if isinstance(node, dict):
        yield from walk(node.get("args"))
        kwargs = node.get("kwargs")
        for key in ("value", "key", "initial_state"):  # attention's other inputs, a recurrent layer's
            # starting states: in paramcalc's order
            yield from walk(kwargs.get(key) if isinstance(kwargs, dict) else None)
    elif isinstance(node, list):  # an older list form [[layer, node, index, kwargs], ...]
        yield from node
    else:
        yield node


def tensor_list(value: Any) -> list[Any]:
    """`output_layers` (and `input_layers`): a list of [layer, node, index], or one of them alone (and
    anything else as one wrong reference, for `reference` to refuse at its place)."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def call_of(layer: str, index: int) -> str:
    """The spec name of call `index` of a layer: its own name, then `name_call2`, ... for a shared layer."""
    return layer if index == 0 else f"{layer}_call{index + 1}"


def batchless(shape: Any) -> list[Any] | None:
    """The shape without the batch; a size Keras leaves open (None) becomes a free dimension, H and W
    for an image, so that the spec's figures are formulas in it."""
    if not isinstance(shape, (list, tuple)) or not shape:
        return None
    dims = list(shape[1:])
    names = ["H", "W"] if len(dims) == 3 else ["D", "H", "W"] if len(dims) == 4 else [f"d{i + 1}" for i in
                                                                                        range(len(dims))]
    return [names[i] if d is None and i < len(names) else d for i, d in enumerate(dims)]


def is_plain(value: Any) -> bool:
    """A JSON number, string, true, false or null (a value that hashes)."""
    return value is None or isinstance(value, (str, int, float, bool))


def plain(value: Any) -> Any:
    """JSON lists as tuples, so that values compare and hash."""
    if isinstance(value, list):
        return tuple(plain(v) for v in value)
    return value


def simplify(value: Any) -> Any:
    """[5, 5] -> 5 and [[3, 3], [3, 3]] -> 3, as people write them; other values as lists."""
    if isinstance(value, tuple):
        items = [simplify(v) for v in value]
        if items and all(v == items[0] for v in items) and not isinstance(items[0], (list, str)):
            return items[0]
        return items
    return value


def as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [as_lists(v) for v in value]
    return value


def rename_input(args: dict[str, Any], own_input: str) -> dict[str, Any]:
    """Inside a block, the nested model's input layer is the block's `input`."""
    ins = args.get("inputs")
    if ins is None:
        return args
    fixed = [("input" if ref == own_input else ref) for ref in ([ins] if isinstance(ins, str) else ins)]
    return {**args, "inputs": fixed[0] if len(fixed) == 1 else fixed}


def topological(layers: list[Layer], known: set[str], reader: Reader) -> list[Layer]:
    """Layers in an order where each reads layers above it (Keras lists them so already, mostly);
    an input that reads the layer just above is left implicit."""
    ready = set(known)
    left = list(layers)
    ordered: list[Layer] = []
    while left:
        for index, (kind, args) in enumerate(left):
            # a block instance reads its `inputs` and its arguments (a nested model's other inputs)
            reads = as_list(args.get("inputs")) + ([str(v) for k, v in args.items() if k not in ("name", "inputs")]
                                                   if kind in reader.blocks else [])
            if all(ref.split("[")[0] in ready for ref in reads):
                ordered.append(left.pop(index))
                ready.add(args["name"])
                ready.update(ref.split("[")[0] for ref in reader.model_outputs.get(args["name"], []))
                break
        else:
            raise reader.fail("the graph has a cycle or reads a layer that does not exist", left[0][1]["name"],
                              "check the model file.", reader.items.get(left[0][1]["name"]))
    previous = next(iter(known)) if len(known) == 1 else None
    for _kind, args in ordered:
        if as_list(args.get("inputs")) == [previous] and previous is not None:
            del args["inputs"]
        previous = args["name"]
    return ordered


def as_list(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


_NUMBERED = re.compile(r"(.*)_(\d+)$")


def fold_runs(layers: list[Layer]) -> list[Layer]:
    """Runs of MIN_RUN or more identical chained layers named `base_k`, `base_k+1`, ... become one
    item with `repeat:` and the name template `base_{i + k}` (the same names, now generated)."""
    out: list[Layer] = []
    index = 0
    while index < len(layers):
        run = run_at(layers, index)
        if run >= MIN_RUN:
            kind, args = layers[index]
            match = _NUMBERED.match(args["name"])
            assert match is not None
            base, start = match.group(1), int(match.group(2))
            folded = {"name": f"{base}_{{i + {start}}}" if start else f"{base}_{{i}}",
                      **{k: v for k, v in args.items() if k != "name"}, "repeat": run}
            out.append((kind, folded))
            index += run
        else:
            out.append(layers[index])
            index += 1
    return out


def run_at(layers: list[Layer], start: int) -> int:
    """How many layers from `start` on are the same layer, chained, with consecutive numbered names."""
    kind, args = layers[start]
    match = _NUMBERED.match(str(args.get("name")))
    if match is None or "shares" in args or "inputs" in args:
        return 1
    base, first = match.group(1), int(match.group(2))
    same = {k: v for k, v in args.items() if k not in ("name", "inputs")}
    length = 1
    for other_kind, other in layers[start + 1:]:
        if (other_kind != kind or other.get("name") != f"{base}_{first + length}" or "inputs" in other
                or {k: v for k, v in other.items() if k not in ("name", "inputs")} != same):
            break
        length += 1
    return length
