"""Spec loader: YAML text -> `Spec`, with a located error for every structural mistake."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import yaml

from paramcalc.errors import Location, ParamcalcError, SpecError, SpecErrors
from paramcalc.spec import expr
from paramcalc.spec.expand import MAX_LAYERS, BlockDef, Expander, Scope, origin, resolve_from
from paramcalc.spec.expect import parse_expect
from paramcalc.spec.model import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    DATA_FORMATS,
    DEFAULT_INPUT,
    LayerSpec,
    Spec,
    split_reference,
)
from paramcalc.spec.yamlnodes import MAX_NODES, Node, decode, parse_yaml
from paramcalc.suggest import did_you_mean

TOP_LEVEL_KEYS = ("name", "description", "vars", "input", "inputs", "data_format", "blocks", "layers", "outputs",
                  "expect")
STDIN = "-"
STDIN_NAME = "<stdin>"
# How messages write a variable set from outside the spec, as its caller wrote it: the command
# line's `--set alpha=0.5`, or a Python call's `analyze(alpha=0.5)` (a format of `name` and `value`).
CLI = "--set {name}={value}"


def given_text(name: str, value: Any, set_by: str = CLI) -> str:
    return set_by.format(name=name, value=value)


def read_source(path: str) -> tuple[str, str]:
    """(text, display name) of a spec file, or of standard input for '-'."""
    if path == STDIN:
        return decode(sys.stdin.buffer.read(), STDIN_NAME), STDIN_NAME
    name = path  # what the user wrote, also for `zoo:NAME` (a bundled spec)
    if path.startswith("zoo:"):
        from paramcalc.modelzoo import zoo_file

        path = zoo_file(path)
    if os.path.isdir(path):
        raise SpecError(f"`{path}` is a folder, not a spec file", Location(path),
                        "give the path of a .yaml file inside it.")
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise SpecError(f"there is no file `{path}`", Location(path),
                        "check the path, or name a bundled spec such as zoo:lenet5 (`paramcalc zoo` lists them)."
                        ) from None
    except OSError as exc:
        raise SpecError(f"cannot read `{path}`: {exc.strerror}", Location(path),
                        "check the file's permissions.") from None
    return decode(data, name), name


def load_spec(path: str, overrides: Mapping[str, Any] | None = None, max_layers: int = MAX_LAYERS,
              max_values: int = MAX_NODES, set_by: str = CLI) -> Spec:
    """Read and check a spec file (or '-' for standard input). `overrides` give variables values
    (numbers, or text as --set NAME=VALUE writes it); `set_by` is how messages name who gave them."""
    text, source = read_source(path)
    default_name = "model" if source == STDIN_NAME else os.path.splitext(os.path.basename(source))[0]
    return parse_spec(text, source, default_name, overrides, max_layers, max_values, set_by)


def parse_spec(text: str, source: str = "<spec>", default_name: str = "model",
               overrides: Mapping[str, Any] | None = None, max_layers: int = MAX_LAYERS,
               max_values: int = MAX_NODES, set_by: str = CLI) -> Spec:
    """Check a spec given as YAML text."""
    root = parse_yaml(text, source, max_values)
    if root is None:
        raise SpecError("the spec is empty", Location(source, 1, 1),
                        "start from an example (`paramcalc zoo lenet5` prints one): a spec needs `input:` and "
                        "`layers:`.")
    return spec_from_node(root, default_name, overrides, max_layers, set_by)


def spec_from_node(root: Node, default_name: str = "model", overrides: Mapping[str, Any] | None = None,
                   max_layers: int = MAX_LAYERS, set_by: str = CLI) -> Spec:
    if not root.is_map:
        raise SpecError("a spec must be a mapping with `input:` and `layers:` at the top level",
                        root.loc, "see the layout of an example: `paramcalc zoo lenet5` prints one.")
    top = root.value
    for key, key_loc in root.key_locs.items():
        if key not in TOP_LEVEL_KEYS:
            hint = did_you_mean(key, TOP_LEVEL_KEYS) or f"the top-level keys are {_listing(TOP_LEVEL_KEYS)}."
            if "class_name" in top and "config" in top:  # a Keras model's JSON (YAML reads JSON too)
                hint = ("this is a Keras model's JSON (`model.to_json()`), not a spec: convert it with "
                        "`paramcalc import FILE -o model.yaml`, then use the spec.")
            raise SpecError(f"unknown top-level key `{key}`", key_loc, hint)
    if "input" in top and "inputs" in top:
        raise SpecError("give either `input:` (one input) or `inputs:` (several, by name), not both",
                        root.key_locs["inputs"], "remove one of them.")
    if "input" not in top and "inputs" not in top:
        raise SpecError("the spec has no `input:`", root.loc, _MISSING_HINTS["input"])
    if "layers" not in top:
        raise SpecError("the spec has no `layers:`", root.loc, _MISSING_HINTS["layers"])

    name = default_name
    if "name" in top:
        name_node = top["name"]
        if not isinstance(name_node.value, (str, int)) or isinstance(name_node.value, bool):
            raise SpecError("`name` must be a word", name_node.loc, 'write e.g. `name: lenet5`.')
        name = str(name_node.value)

    data_format = None  # not stated: the spelling of the spatial layers decides, once they are known
    if "data_format" in top:
        node = top["data_format"]
        if node.value not in DATA_FORMATS:
            raise SpecError(f"`data_format` must be one of {_listing(DATA_FORMATS)}; got {node.value!r}",
                            node.loc, "use channels_last for Keras-style [H, W, C] or "
                            "channels_first for PyTorch-style [C, H, W].")
        data_format = node.value

    expectations = None
    expect = top.get("expect")
    if expect is not None:
        if not expect.is_map:
            raise SpecError("`expect` must be a mapping of figures", expect.loc,
                            "write e.g. `expect: {params: 61706}`.")
        expectations = tuple(parse_expect(expect))

    if "input" in top:
        input_nodes = [top["input"]]
    else:
        input_nodes = list(top["inputs"].value.values()) if top["inputs"].is_map else []
    free = free_dimensions(input_nodes, top.get("vars"))
    env, given = variables(top.get("vars"), overrides or {}, root.loc, free, set_by)
    if "input" in top:
        inputs = {DEFAULT_INPUT: input_shape(top["input"], env, "input", free, given)}
        input_locs = {DEFAULT_INPUT: top["input"].loc}
    else:
        inputs, input_locs = named_inputs(top["inputs"], env, free, given)
    blocks = block_defs(top.get("blocks"))

    layers_node = top["layers"]
    if not layers_node.is_list:
        raise SpecError("`layers` must be a list", layers_node.loc,
                        "write one layer per line, each starting with `- `, e.g. `- Dense: 10`.")
    if not layers_node.value:
        raise SpecError("`layers` is empty", layers_node.loc, "add at least one layer, e.g. `- Flatten`.")
    from paramcalc.layers.args import BlockItem
    from paramcalc.layers.registry import canonical

    expander = Expander(blocks, env, max_layers, takes_no_input, given, canonical, BlockItem)
    for input_name, loc in input_locs.items():
        expander.taken[input_name] = loc
    single = next(iter(inputs)) if len(inputs) == 1 else None
    last = expander.expand(layers_node.value, Scope(env, single, previous=single, given=given))
    if not expander.layers:
        raise SpecError("no layer is left once `when:` conditions and `repeat: 0` are applied", layers_node.loc,
                        "check the conditions and counts.")
    outputs, output_locs = output_names(top.get("outputs"), expander, last)
    if data_format is None:
        data_format = implied_data_format(expander.layers)
    return Spec(source=root.loc.file, name=name, inputs=inputs, input_locs=input_locs, data_format=data_format,
                layers=tuple(expander.layers), outputs=outputs, vars=env, expectations=expectations,
                output_locs=output_locs)


_MISSING_HINTS = {
    "input": "add the input shape without the batch dimension, e.g. `input: [32, 32, 1]`.",
    "layers": "add a list of layers, e.g. `layers: [Flatten, {Dense: 10}]`.",
}


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def free_dimensions(shapes: Any, vars_node: Node | None) -> set[str]:
    """Input dimensions written as names that `vars:` does not define: symbolic sizes (H, W)."""
    declared = vars_node.value if vars_node is not None and vars_node.is_map else {}
    return {item.value for shape in shapes if shape.is_list for item in shape.value
            if isinstance(item.value, str) and expr.is_identifier(item.value) and item.value not in declared}


def variables(node: Node | None, overrides: Mapping[str, Any], where: Location,
              free: set[str] | None = None, set_by: str = CLI) -> tuple[dict[str, Any], dict[str, str]]:
    """`vars:` evaluated in order (later ones may use earlier ones), with the overrides (which may
    also give values to free input dimensions); and the names whose value comes from an override,
    directly or through an expression, each with the override that sets it (for messages)."""
    env: dict[str, Any] = {}
    given = {name: given_text(name, value, set_by) for name, value in overrides.items()}
    declared = node.value if node is not None and node.is_map else {}
    if node is not None and not node.is_map:
        raise SpecError("`vars` must map names to values", node.loc, "write e.g. `vars: {alpha: 1.0, res: 224}`.")
    for name in sorted(free or ()):
        if name in overrides:
            env[name] = override_value(name, overrides[name], env, set_by)
    for name in overrides:
        if name in (free or ()):
            continue
        if name not in declared:
            raise SpecError(f"{given[name]}: the spec has no variable `{name}`", node.loc if node else where,
                            did_you_mean(name, declared) or f"declare it under `vars:` (the spec has "
                            f"{', '.join(declared) or 'none'}).")
    for name, value_node in declared.items():
        if not expr.is_identifier(name):
            raise SpecError(f"`{name}` is not a usable variable name", node.key_locs[name],  # type: ignore[union-attr]
                            "use letters, digits and underscores, starting with a letter.")
        if name in overrides:
            env[name] = override_value(name, overrides[name], env, set_by)
        else:
            env[name] = resolve_from(value_node, env, given)
            if given and (found := origin(value_node, env, given)):
                given[name] = found
    return env, given


def override_value(name: str, value: Any, env: dict[str, Any], set_by: str = CLI) -> Any:
    """A variable set from outside: a Python number (or true/false), or text as --set NAME=VALUE
    writes it, a YAML scalar (1, 0.5, true, same) or an expression over the variables."""
    where = Location(given_text(name, value, set_by))
    if not isinstance(value, str):
        return python_value(name, value, where)
    text = value
    if expr.is_expression(text, env) and not _is_number(text):
        try:
            return expr.evaluate(text, env)
        except expr.ExpressionError as error:
            raise SpecError(error.message, where, error.hint or None) from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if isinstance(value, (dict, list)):
        raise SpecError(f"variable `{name}` takes one value; got {text!r}", where,
                        f"write e.g. {given_text(name, '0.5' if set_by == CLI else 0.5, set_by)}.")
    return value


def python_value(name: str, value: Any, where: Location) -> Any:
    """A variable's value given in Python: numbers as they are (exact ints, floats, fractions)."""
    import numbers

    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, numbers.Integral):  # numpy's integers, ...
        return int(value)
    if isinstance(value, numbers.Rational):
        return expr.Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Real):
        return float(value)
    raise SpecError(f"variable `{name}` takes a number, true or false, or a word; got a {type(value).__name__}",
                    where, f"give `{name}` one number, e.g. {name}=0.5.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def input_shape(node: Node, env: dict[str, Any], what: str, free: set[str] | None = None,
                given: dict[str, str] | None = None) -> tuple[Any, ...]:
    hint = f"write the {what} shape without the batch dimension, e.g. `{what}: [32, 32, 1]`."
    if not node.is_list or not node.value:
        raise SpecError(f"`{what}` must be a non-empty list of dimensions", node.loc, hint)
    dims = []
    for item in node.value:
        if item.value in (free or ()) and item.value not in env:
            import sympy  # only specs with free dimensions pay for it

            dims.append(sympy.Symbol(item.value, integer=True, positive=True))
            continue
        value = resolve_from(item, env, given or {})
        if isinstance(value, str) and expr.is_identifier(value) and item.value in (given or {}):
            import sympy  # `--set tokens=L`: a name given for a dimension leaves it free, as `input: [L]` does

            dims.append(sympy.Symbol(value, integer=True, positive=True))
            continue
        error = None
        if isinstance(value, bool) or not isinstance(value, int):
            shown = repr(value) if not isinstance(value, float) else str(value)
            error = SpecError(f"every {what} dimension must be a whole number; got {shown}", item.loc, hint)
        elif value <= 0:
            error = SpecError(f"every {what} dimension must be at least 1; got {value}", item.loc, hint)
        if error is not None:
            error.origin = origin(item, env, given or {})
            raise error
        dims.append(value)
    return tuple(dims)


def named_inputs(node: Node, env: dict[str, Any], free: set[str],
                 given: dict[str, str] | None = None) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
    if not node.is_map or not node.value:
        raise SpecError("`inputs` must map input names to shapes", node.loc,
                        "write e.g. `inputs: {image: [224, 224, 3], meta: [10]}`.")
    shapes = {name: input_shape(shape, env, f"inputs.{name}", free, given) for name, shape in node.value.items()}
    return shapes, {name: node.key_locs[name] for name in node.value}


def block_defs(node: Node | None) -> dict[str, BlockDef]:
    from paramcalc.layers.registry import FAMILY_OF

    if node is None:
        return {}
    if not node.is_map:
        raise SpecError("`blocks` must map block names to definitions", node.loc,
                        "write e.g. `blocks: {my_block: {args: {filters: null}, layers: [...]}}`.")
    blocks = {}
    for name, body in node.value.items():
        loc = node.key_locs[name]
        if name in FAMILY_OF:
            raise SpecError(f"block `{name}` has the name of a layer kind", loc, "rename the block.")
        if not body.is_map or "layers" not in body.value:
            raise SpecError(f"block `{name}` needs `layers:`", body.loc,
                            "write e.g. `{args: {filters: null}, layers: [...]}`.")
        for key, key_loc in body.key_locs.items():
            if key not in ("args", "layers", "output", "description"):
                raise SpecError(f"block `{name}` has an unknown key `{key}`", key_loc,
                                did_you_mean(key, ("args", "layers", "output")) or "use args, layers and output.")
        args = body.value.get("args")
        if args is not None and not args.is_map:
            raise SpecError(f"`args` of block `{name}` must map names to defaults (null: required)", args.loc,
                            "write e.g. `args: {filters: null, strides: 1}`.")
        params = {k: (None if v.value is None else v) for k, v in (args.value.items() if args else [])}
        layers = body.value["layers"]
        if not layers.is_list or not layers.value:
            raise SpecError(f"`layers` of block `{name}` must be a non-empty list", layers.loc,
                            "list the block's layers.")
        blocks[name] = BlockDef(name, params, layers.value, body.value.get("output"), loc)
    return blocks


def takes_no_input(kind: str) -> bool:
    """A kind that makes its values from its own weights (Parameter); an unknown kind is not (the
    engine reports it with suggestions)."""
    from paramcalc.layers.registry import FAMILY_OF, lookup

    return kind in FAMILY_OF and lookup(kind, Location("")).no_input


def implied_data_format(layers: list[LayerSpec]) -> str:
    """The data format of a spec that states none: PyTorch's channels_first ([C, H, W]) when its
    spatial layers are PyTorch spellings (Conv2d, MaxPool2d, ...), else Keras's channels_last.
    Spatial layers of both vocabularies leave it undecidable: an error at the first layer that
    mixes them in. Layers on the last axis (Dense, Linear, LayerNorm, ...) fit either and do not count."""
    from paramcalc.layers.registry import FAMILY_OF, lookup

    first: dict[str, LayerSpec] = {}  # framework -> its first spatial layer
    decides: dict[str, str | None] = {}  # kind -> the framework it decides for (None: it does not)
    for layer in layers:
        if layer.kind not in decides:
            # An unknown kind decides nothing here; the engine reports it with suggestions.
            kind = lookup(layer.kind, layer.loc) if layer.kind in FAMILY_OF else None
            decides[layer.kind] = kind.framework if kind is not None and kind.spatial else None
        framework = decides[layer.kind]
        if framework is None or framework in first:
            continue
        first[framework] = layer
        if len(first) > 1:
            keras, torch = first["keras"], first["torch"]
            raise SpecError(
                f"without `data_format:` the spec's spatial layers must be spelled in one vocabulary, but "
                f"{keras.kind} (line {keras.loc.line}) is Keras's, which reads [H, W, C], and {torch.kind} "
                f"(line {torch.loc.line}) is PyTorch's, which reads [C, H, W]", layer.loc,
                "state the layout at the top level: `data_format: channels_first` for PyTorch's [C, H, W] or "
                "`data_format: channels_last` for Keras's [H, W, C] (or spell all the layers one way).")
    return CHANNELS_FIRST if "torch" in first else CHANNELS_LAST


def output_names(node: Node | None, expander: Expander, last: str | None
                 ) -> tuple[tuple[str, ...], dict[str, Location]]:
    """The full names `outputs:` gives (`name[k]`: output k of a layer with several, checked by the
    engine), with where each is written; every unknown name is reported at once."""
    if node is None:
        assert last is not None
        return (last,), {}
    items = node.value if node.is_list else [node]
    names: list[str] = []
    locs: dict[str, Location] = {}
    errors: list[ParamcalcError] = []
    for item in items:
        written, index = split_reference(item.value) if isinstance(item.value, str) else (item.value, None)
        name = written
        if isinstance(name, str) and name not in expander.taken and name in expander.outputs:
            name = expander.outputs[name]  # a repeated item or a block instance: its last layer
        if not isinstance(name, str) or split_reference(name)[0] not in expander.taken:
            errors.append(SpecError(f"no layer is named `{written}`", item.loc,
                                    did_you_mean(str(written), expander.taken) or "name a layer of the spec."))
            continue
        full = name if index is None else f"{name}[{index}]"
        names.append(full)
        locs[full] = item.loc
    if errors:
        raise errors[0] if len(errors) == 1 else SpecErrors(errors)
    return tuple(names), locs
