"""Spec loader: YAML text -> `Spec`, with a located error for every structural mistake."""

from __future__ import annotations

import sys
from pathlib import Path, PurePath

from paramcalc.errors import Location, SpecError
from paramcalc.spec.expect import parse_expect
from paramcalc.spec.model import DATA_FORMATS, LayerSpec, Spec
from paramcalc.spec.yamlnodes import Node, decode, parse_yaml
from paramcalc.suggest import did_you_mean

TOP_LEVEL_KEYS = ("name", "description", "input", "data_format", "layers", "expect")
STDIN = "-"
STDIN_NAME = "<stdin>"


def read_source(path: str) -> tuple[str, str]:
    """(text, display name) of a spec file, or of standard input for '-'."""
    if path == STDIN:
        return decode(sys.stdin.buffer.read(), STDIN_NAME), STDIN_NAME
    file = Path(path)
    if file.is_dir():
        raise SpecError(f"`{path}` is a folder, not a spec file", Location(path),
                        "give the path of a .yaml file inside it.")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"there is no file `{path}`", Location(path),
                        "check the path (specs live in files like specs/lenet5.yaml).") from None
    except OSError as exc:
        raise SpecError(f"cannot read `{path}`: {exc.strerror}", Location(path),
                        "check the file's permissions.") from None
    return decode(data, path), path


def load_spec(path: str) -> Spec:
    """Read and check a spec file (or '-' for standard input)."""
    text, source = read_source(path)
    default_name = "model" if source == STDIN_NAME else PurePath(source).stem
    return parse_spec(text, source, default_name)


def parse_spec(text: str, source: str = "<spec>", default_name: str = "model") -> Spec:
    """Check a spec given as YAML text."""
    root = parse_yaml(text, source)
    if root is None:
        raise SpecError("the spec is empty", Location(source, 1, 1),
                        "start from an example such as specs/lenet5.yaml: it needs `input:` and `layers:`.")
    return spec_from_node(root, default_name)


def spec_from_node(root: Node, default_name: str = "model") -> Spec:
    if not root.is_map:
        raise SpecError("a spec must be a mapping with `input:` and `layers:` at the top level",
                        root.loc, "see specs/lenet5.yaml for the layout.")
    for key, key_loc in root.key_locs.items():
        if key not in TOP_LEVEL_KEYS:
            hint = did_you_mean(key, TOP_LEVEL_KEYS) or f"the top-level keys are {_listing(TOP_LEVEL_KEYS)}."
            raise SpecError(f"unknown top-level key `{key}`", key_loc, hint)
    for required in ("input", "layers"):
        if required not in root.value:
            raise SpecError(f"the spec has no `{required}:`", root.loc, _MISSING_HINTS[required])

    name = default_name
    if "name" in root.value:
        name_node = root.value["name"]
        if not isinstance(name_node.value, (str, int)) or isinstance(name_node.value, bool):
            raise SpecError("`name` must be a word", name_node.loc, 'write e.g. `name: lenet5`.')
        name = str(name_node.value)

    data_format = DATA_FORMATS[0]
    if "data_format" in root.value:
        node = root.value["data_format"]
        if node.value not in DATA_FORMATS:
            raise SpecError(f"`data_format` must be one of {_listing(DATA_FORMATS)}; got {node.value!r}",
                            node.loc, "use channels_last for Keras-style [H, W, C] or "
                            "channels_first for PyTorch-style [C, H, W].")
        data_format = node.value

    expectations = None
    expect = root.value.get("expect")
    if expect is not None:
        if not expect.is_map:
            raise SpecError("`expect` must be a mapping of figures", expect.loc,
                            "write e.g. `expect: {params: 61706}`.")
        expectations = tuple(parse_expect(expect))

    input_node = root.value["input"]
    return Spec(
        source=root.loc.file,
        name=name,
        input_shape=_input_shape(input_node),
        input_loc=input_node.loc,
        data_format=data_format,
        layers=_layers(root.value["layers"]),
        expectations=expectations,
    )


_MISSING_HINTS = {
    "input": "add the input shape without the batch dimension, e.g. `input: [32, 32, 1]`.",
    "layers": "add a list of layers, e.g. `layers: [Flatten, {Dense: 10}]`.",
}


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _input_shape(node: Node) -> tuple[int, ...]:
    hint = "write the input shape without the batch dimension, e.g. `input: [32, 32, 1]`."
    if not node.is_list or not node.value:
        raise SpecError("`input` must be a non-empty list of dimensions", node.loc, hint)
    dims = []
    for item in node.value:
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"every input dimension must be a whole number; got {value!r}", item.loc, hint)
        if value <= 0:
            raise SpecError(f"every input dimension must be at least 1; got {value}", item.loc, hint)
        dims.append(value)
    return tuple(dims)


def _layers(node: Node) -> tuple[LayerSpec, ...]:
    if not node.is_list:
        raise SpecError("`layers` must be a list", node.loc,
                        "write one layer per line, each starting with `- `, e.g. `- Dense: 10`.")
    if not node.value:
        raise SpecError("`layers` is empty", node.loc, "add at least one layer, e.g. `- Flatten`.")
    return tuple(_layer(item) for item in node.value)


_LAYER_HINT = ("write a layer as `- Flatten`, `- Dense: 10` or `- Conv2D: {filters: 32, kernel_size: 3}`.")


def _layer(item: Node) -> LayerSpec:
    if isinstance(item.value, str):
        return LayerSpec(item.value, {}, None, None, item.loc, {})
    if not item.is_map or len(item.value) != 1:
        raise SpecError("a layer must be a layer kind, alone or mapped to its arguments", item.loc, _LAYER_HINT)
    ((kind, body),) = item.value.items()
    kind_loc = item.key_locs[kind]
    if body.value is None:
        return LayerSpec(kind, {}, None, None, kind_loc, {})
    if not body.is_map:
        return LayerSpec(kind, {}, body, None, kind_loc, {})
    args = dict(body.value)
    arg_locs = dict(body.key_locs)
    name = None
    if "name" in args:
        name_node = args.pop("name")
        arg_locs.pop("name")
        if not isinstance(name_node.value, str) or not name_node.value:
            raise SpecError("a layer `name` must be a non-empty word", name_node.loc, "write e.g. `name: conv1`.")
        name = name_node.value
    return LayerSpec(kind, args, None, name, kind_loc, arg_locs)
