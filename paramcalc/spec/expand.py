"""Expansion: variables, blocks, `repeat:` and `when:` turned into a flat list of `LayerSpec`s.

Values: a string argument that is a defined name (`filters: width`) or looks like an expression
(`filters: "int(64 * alpha)"`) is evaluated by the safe evaluator; other strings (`padding: same`)
stay words, and so do hyphenated words whose parts are not all defined names or numbers
(`mode: nearest-exact`; see expr.is_hyphenated_word). Names: `name: "conv_dw_{id}"` interpolates;
a plain name inside a block gets the block instance's name as a prefix (`b1.conv`); unnamed layers
get Keras-style names (conv2d, conv2d_1) per scope; the repetitions of a named item with `repeat: n`
are `name_1` ... `name_n`, and `name` itself means the last one (the repeated chain's output).
A layer reads the previous layer unless `inputs:` says otherwise; `input` is the scope's input
(the model input, or the block's). `name[k]` reads output k of a layer with several outputs (the
engine checks k); a kind that reads nothing (`no_input`, Parameter) gets no inputs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from paramcalc.errors import Location, ParamcalcError, SpecError, SpecErrors, UnknownLayerError
from paramcalc.names import REFUSED
from paramcalc.record import Record
from paramcalc.spec import expr
from paramcalc.spec.model import DEFAULT_INPUT, LayerSpec, split_reference
from paramcalc.spec.yamlnodes import Node
from paramcalc.suggest import did_you_mean

CONTROL_KEYS = ("name", "inputs", "repeat", "when")  # (a tuple: also the order they are read in)
MAX_LAYERS = 1_000_000  # expanded layers per spec; raise with --max-layers
_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_PLAIN_NAME = re.compile(r"[^\[\]{}]+")  # a layer name without brackets or a template: taken as written
_NO_FIELDS: Mapping[str, Node] = MappingProxyType({})
_LAYER_HINT = "write a layer as `- Flatten`, `- Dense: 10` or `- Conv2D: {filters: 32, kernel_size: 3}`."


class BlockDef(Record):
    __slots__ = ("name", "params", "layers", "output", "loc")

    def __init__(self, name: str, params: dict[str, Node | None], layers: list[Node], output: Node | None,
                 loc: Location) -> None:
        self.name = name
        self.params = params  # argument -> default (None: required)
        self.layers = layers
        self.output = output
        self.loc = loc


class Scope:
    """Where items are being expanded: the top level, or one block instance."""

    __slots__ = ("env", "input", "prefix", "path", "local", "counters", "previous", "items", "position", "arg_locs",
                 "given")

    def __init__(self, env: dict[str, Any], input: str | None, prefix: str = "",
                 path: tuple[tuple[str, str], ...] = (), previous: str | None = None,
                 arg_locs: dict[str, Location] | None = None, given: dict[str, str] | None = None) -> None:
        self.env = env
        self.input = input  # what `input` means here
        self.prefix = prefix  # full-name prefix of this block instance ("" at top level)
        self.path = path
        self.local: dict[str, str] = {}  # local name -> full name
        self.counters: dict[str, int] = {}  # automatic names per kind
        self.previous = previous  # what an item without `inputs:` reads
        # The items being expanded and the one at hand, to tell a forward reference (`is_ahead`).
        self.items: list[Node] = []
        self.position = 0
        # Block arguments -> where their values are written (the instance's line, for a missing layer).
        self.arg_locs: dict[str, Location] = {} if arg_locs is None else arg_locs
        # Names whose value comes from outside the spec, directly or through others: name -> "--set alpha=-1".
        self.given: dict[str, str] = {} if given is None else given

    def is_ahead(self, name: str) -> bool:
        """Whether an item further down declares `name` and none up to the one at hand does: a forward
        reference. (Worked out only for a reference that fails: a large spec has no names to collect.)"""
        done = self.position + 1
        return (name in {n for item in self.items[done:] if (n := _declared_name(item))}
                and name not in {n for item in self.items[:done] if (n := _declared_name(item))})


def resolve(node: Node, env: dict[str, Any]) -> Any:
    """A YAML value with names and expressions evaluated; Fractions become floats at the edge."""
    value = node.value
    if type(value) is int:  # most arguments: nothing to evaluate
        return value
    if isinstance(value, str):
        # (expr.is_identifier(value) and value in env) or expr.is_expression(value, env), its word asked once
        name, looks = _word(value)
        if (name and value in env) or (looks and not expr.is_hyphenated_word(value, env)):
            return to_plain(evaluate(value, env, node.loc))
        return value
    if isinstance(value, list):
        return [resolve(item, env) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, env) for key, item in value.items()}
    return value


@functools.lru_cache(maxsize=4096)
def _word(text: str) -> tuple[bool, bool]:
    """Whether a string argument is a name, and whether it looks like an expression: what `resolve` asks
    of it that does not depend on the variables (a large spec repeats a few words, `same`, `relu`)."""
    return expr.is_identifier(text), expr.looks_like_expression(text)


def names_in(node: Node, env: dict[str, Any]) -> set[str]:
    """The names a value reads where it is written: `int(filters * alpha)` -> {filters, alpha}."""
    value = node.value
    if isinstance(value, list):
        return set().union(*(names_in(item, env) for item in value))
    if isinstance(value, dict):
        return set().union(*(names_in(item, env) for item in value.values()))
    if isinstance(value, str):
        if expr.is_identifier(value):
            return {value} if value in env else set()
        if expr.is_expression(value, env):
            return expr.names_used(value)
    return set()


def origin(node: Node, env: dict[str, Any], given: dict[str, str]) -> str:
    """Where the values a node reads come from, when some come from outside the spec: "--set alpha=-1"."""
    if not given:
        return ""
    return " and ".join(sorted({given[name] for name in names_in(node, env) if name in given}))


def resolve_from(node: Node, env: dict[str, Any], given: dict[str, str]) -> Any:
    """`resolve`, with an error saying which outside value (--set) the expression was given."""
    try:
        return resolve(node, env)
    except SpecError as error:
        error.origin = error.origin or origin(node, env, given)
        raise


def evaluate(text: str, env: dict[str, Any], loc: Location) -> Any:
    try:
        return expr.evaluate(text, env)
    except expr.ExpressionError as error:
        raise SpecError(error.message, loc, error.hint or None) from None


def to_plain(value: Any) -> Any:
    if isinstance(value, expr.Fraction):
        return float(value)
    return value


class Expander:
    def __init__(self, blocks: dict[str, BlockDef], global_env: dict[str, Any], max_layers: int = MAX_LAYERS,
                 reads_nothing: Callable[[str], bool] | None = None, global_given: dict[str, str] | None = None,
                 canonical: Callable[[str], str] = str, block_item: Callable[[str, tuple[LayerSpec, ...], str], Any]
                 | None = None) -> None:
        self.blocks = blocks
        # The kind a spelling stands for (`MaxPool2D` -> `MaxPooling2D`), from the loader: layers are named
        # and shown under the framework's class name, as Keras names them.
        self.canonical = canonical
        # What a block written in a layer's argument becomes (the loader gives layers/args.py BlockItem: the
        # expander knows no layers); None: such an argument stays a plain value.
        self.block_item = block_item
        self.global_env = global_env
        self.global_given: dict[str, str] = {} if global_given is None else global_given  # see Scope.given
        self.max_layers = max_layers
        self.layers: list[LayerSpec] = []
        self.taken: dict[str, Location] = {}  # full names -> where they come from
        self.outputs: dict[str, str] = {}  # named layers and block instances -> the layer that is their output
        self.block_stack: list[str] = []
        # Whether a kind takes no input (Parameter): the loader knows the kinds, the expander only names.
        self.takes_no_input = reads_nothing or (lambda kind: False)
        self.reads_nothing: dict[str, bool] = {}  # its answers, by kind

    # -- items -----------------------------------------------------------------------------------
    def expand(self, items: list[Node], scope: Scope) -> str | None:
        """Expand a list of layer items in `scope`; returns the full name of the last one."""
        scope.items = items
        for position, item in enumerate(items):
            scope.position = position
            kind, body, kind_loc = _split(item)
            fields = body.value if body is not None and isinstance(body.value, dict) else None
            # `name`, `inputs`, `repeat` and `when` are read from the fields themselves (no dict of them to make)
            control: Mapping[str, Node] = fields if fields else _NO_FIELDS
            declared = control.get("name")
            written = declared.value if declared is not None else None  # the name as written
            templated = isinstance(written, str) and "{" in written
            repeat = self._count(control["repeat"], scope) if "repeat" in control else None
            for index in range(repeat if repeat is not None else 1):
                env = scope.env if repeat is None else {**scope.env, "i": index}
                if "when" in control and not evaluate_condition(control["when"], env):
                    continue
                if repeat is None and written.__class__ is str and written and _PLAIN_NAME.fullmatch(written):
                    name: str | None = written  # (what `_name` gives it, without the call: most layers)
                else:
                    name = self._name(declared, env, index if repeat is not None and repeat > 1 else None)
                # Templated names ({id}) are unique by construction and used as written, unprefixed.
                full = name if name is None or templated or not scope.prefix else scope.prefix + name
                read = control.get("inputs")
                if read is None and scope.previous is not None and self.reads_nothing.get(kind) is False:
                    inputs: tuple[str, ...] = (scope.previous,)  # what `_inputs` gives it, without the call
                else:
                    inputs = self._inputs(read, scope, kind_loc, kind)
                if kind in self.blocks:
                    last = self._block(kind, body, kind_loc, full, inputs, scope, env)
                else:
                    last = self._layer(kind, body, kind_loc, full, inputs, scope, env)
                if declared is not None and name is not None:
                    scope.local[name] = last
                    self.outputs[full or name] = last
                    if name != declared.value:  # a repetition (`down_2`) or a filled template
                        # The name as written means the last one: the output of the repeated chain.
                        scope.local[declared.value] = last
                        if not templated:
                            self.outputs[scope.prefix + declared.value] = last
                scope.previous = last
        return scope.previous

    def _count(self, node: Node, scope: Scope) -> int:
        value = resolve_from(node, scope.env, scope.given)
        error = None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            error = SpecError(f"`repeat` must be a whole number of at least 0; got {value!r}", node.loc,
                              "write e.g. `repeat: 3`.")
        elif value > self.max_layers:
            error = SpecError(f"`repeat: {value:,}` is more than the limit of {self.max_layers:,} layers", node.loc,
                              "use a smaller count, or raise the limit with --max-layers.")
        if error is not None:
            error.origin = origin(node, scope.env, scope.given)
            raise error
        return value

    def _name(self, node: Node | None, env: dict[str, Any], index: int | None) -> str | None:
        if node is None:
            return None
        if not isinstance(node.value, str) or not node.value:
            raise SpecError("a layer `name` must be a non-empty word", node.loc, "write e.g. `name: conv1`.")
        text = node.value
        if "[" in text or "]" in text:
            raise SpecError(f"a layer name cannot contain brackets; got `{text}`", node.loc,
                            "brackets pick one output of a layer with several (`halves[1]`): rename the layer.")
        if "{" in text:
            return _TEMPLATE.sub(lambda m: _template_value(m.group(1), env, node.loc), text)
        return text if index is None else f"{text}_{index + 1}"

    def _inputs(self, node: Node | None, scope: Scope, loc: Location, kind: str) -> tuple[str, ...]:
        nothing = self._reads_nothing(kind)
        if node is None:
            if nothing:
                return ()
            if scope.previous is None:
                raise SpecError("this layer has nothing to read: the model has several inputs", loc,
                                "say which with `inputs: NAME`.")
            return (scope.previous,)
        names = node.value if node.is_list else [node]
        if nothing:
            if names:
                raise SpecError(f"{kind} makes its values from its own weights and reads no input", node.loc,
                                "remove `inputs:` (it takes neither the layer above nor a named one).")
            return ()
        if not names:
            raise SpecError("`inputs` is empty", node.loc, "name at least one layer or model input.")
        found: list[str] = []
        errors: list[ParamcalcError] = []
        for item in names:  # every wrong name at once
            try:
                found.append(self._reference(item, scope))
            except SpecError as error:
                errors.append(error)
        if errors:
            raise errors[0] if len(errors) == 1 else SpecErrors(errors)
        return tuple(found)

    def _reads_nothing(self, kind: str) -> bool:
        known = self.reads_nothing.get(kind)
        if known is None:
            known = self.reads_nothing[kind] = kind not in self.blocks and self.takes_no_input(kind)
        return known

    def _reference(self, node: Node, scope: Scope) -> str:
        """The full name a reference in `inputs:` reads: `name`, or output k of a layer as `name[k]`."""
        name = node.value
        if not isinstance(name, str):
            raise SpecError(f"`inputs` must name layers; got {node.plain()!r}", node.loc,
                            "write e.g. `inputs: [a, b]`.")
        base, index = split_reference(name)
        return self._resolve(base, node, scope) if index is None else f"{self._resolve(base, node, scope)}[{index}]"

    def _resolve(self, name: str, node: Node, scope: Scope) -> str:
        if name == DEFAULT_INPUT and scope.input is not None:
            return scope.input
        passed = scope.env.get(name)
        if isinstance(passed, str) and passed != name:
            layer, index = split_reference(passed)
            if layer in self.outputs or layer in self.taken:  # a block argument naming a layer outside the block
                full = self.outputs.get(layer, layer)
                return full if index is None else f"{full}[{index}]"
        if name in scope.local:
            return scope.local[name]
        if not scope.prefix and name in self.taken:
            return name
        if scope.is_ahead(name):
            raise SpecError(f"`{name}` is defined further down: a layer can only read layers above it "
                            f"(reading one below makes a cycle)", node.loc,
                            f"move `{name}` above this layer, or read another layer.")
        if isinstance(passed, str) and name in scope.arg_locs:
            # A block argument naming a layer that does not exist: the mistake is where the value is written.
            raise SpecError(f"block argument `{name}` names `{passed}`, but no layer or input is named `{passed}`",
                            scope.arg_locs[name], did_you_mean(passed, [*self.outputs, *self.taken]) or
                            "name a layer defined above the block instance, or `input`.")
        known = list(scope.local) + ([] if scope.prefix else list(self.taken)) + [DEFAULT_INPUT]
        raise SpecError(f"no layer or input is named `{name}`", node.loc,
                        did_you_mean(name, known) or "name a layer defined above, or `input`.")

    # -- one layer -------------------------------------------------------------------------------------
    def _layer(self, kind: str, body: Node | None, kind_loc: Location, name: str | None,
               inputs: tuple[str, ...], scope: Scope, env: dict[str, Any]) -> str:
        if kind in REFUSED:  # before its arguments, which hold code (`function: "lambda x: x / 255"`)
            message, hint = REFUSED[kind]
            raise UnknownLayerError(message, kind_loc, hint)
        kind = self.canonical(kind)
        args: dict[str, Any] = {}
        arg_locs: dict[str, Location] = {}
        origins: dict[Location, str] | None = None  # (made for the few layers that have one)
        positional: Any = None
        has_positional = False
        if body is not None and isinstance(body.value, dict):
            key_locs = body.key_locs
            outside = scope.given
            for key, node in body.value.items():
                if key in CONTROL_KEYS:
                    continue
                value = node.value
                if value.__class__ is int:  # most arguments: nothing to evaluate, no name read (and no block)
                    args[key] = value
                else:
                    block = self._block_item(node, env, scope) if value.__class__ is dict else None
                    args[key] = block if block is not None else resolve_from(node, env, outside)
                    if outside and (found := origin(node, env, outside)):
                        origins = origins or {}
                        origins[key_locs[key]] = found
                arg_locs[key] = key_locs[key]
        elif body is not None and body.value is not None:
            positional, has_positional = resolve_from(body, env, scope.given), True
            if scope.given and (given := origin(body, env, scope.given)):
                origins = origins or {}
                origins[kind_loc] = given
        explicit = name is not None
        if name is not None and name not in self.taken:  # what `_full_name` does with it, without the call
            self.taken[name] = kind_loc
            full = name
        else:
            full = self._full_name(name, kind, scope, kind_loc)
        if len(self.layers) >= self.max_layers:
            raise SpecError(f"the spec expands to more than {self.max_layers:,} layers", kind_loc,
                            "use smaller repeat counts, or raise the limit with --max-layers.")
        self.layers.append(LayerSpec(kind, args, positional, has_positional, full, inputs, kind_loc, arg_locs,
                                     scope.path, explicit, origins))
        return full

    def _block_item(self, node: Node, env: dict[str, Any], scope: Scope) -> Any:
        """An argument written as a block of the spec with its arguments (`expert: {swiglu: {ff: 14336}}`),
        expanded here on its own: its layers read `input` and are named inside it (`swiglu.gate_proj`).
        The kind decides whether it takes one (layers/args.py BlockItem); None for any other value."""
        if (self.block_item is None or not node.is_map or len(node.value) != 1
                or next(iter(node.value)) not in self.blocks):
            return None
        sub = Expander(self.blocks, self.global_env, self.max_layers, self.takes_no_input, self.global_given,
                       self.canonical, self.block_item)
        sub.block_stack = list(self.block_stack)  # a block used inside itself is still refused
        sub.taken[DEFAULT_INPUT] = node.loc
        last = sub.expand([node], Scope(env, DEFAULT_INPUT, previous=DEFAULT_INPUT, arg_locs=scope.arg_locs,
                                        given=scope.given))
        assert last is not None
        return self.block_item(next(iter(node.value)), tuple(sub.layers), last)

    def _full_name(self, name: str | None, kind: str, scope: Scope, loc: Location) -> str:
        if name is None:
            from paramcalc.names import snake_case

            prefix = snake_case(kind)
            while True:
                count = scope.counters.get(prefix, 0)
                scope.counters[prefix] = count + 1
                local = prefix if count == 0 else f"{prefix}_{count}"
                candidate = scope.prefix + local
                if candidate not in self.taken:
                    scope.local.setdefault(local, candidate)  # automatic names can be read too
                    break
        else:
            candidate = name
        if candidate in self.taken:
            first = self.taken[candidate]
            raise SpecError(f"two layers are named `{candidate}` (the first at line {first.line})", loc,
                            "give each layer a different name.")
        self.taken[candidate] = loc
        return candidate

    # -- blocks ----------------------------------------------------------------------------------------
    def _block(self, kind: str, body: Node | None, kind_loc: Location, name: str | None,
               inputs: tuple[str, ...], scope: Scope, env: dict[str, Any]) -> str:
        block = self.blocks[kind]
        if kind in self.block_stack:
            chain = " -> ".join([*self.block_stack[self.block_stack.index(kind):], kind])
            raise SpecError(f"block `{kind}` uses itself ({chain})", kind_loc,
                            "remove the recursion: a block cannot contain itself.")
        if len(inputs) != 1:
            raise SpecError(f"block `{kind}` takes one input; got {len(inputs)}", kind_loc, "give it one input.")
        given = body.value if body is not None and body.is_map else {}
        if body is not None and not body.is_map and body.value is not None:
            raise SpecError(f"block `{kind}` takes named arguments", body.loc,
                            f"write `- {kind}: {{{', '.join(block.params) or '...'}}}`.")
        bound: dict[str, Any] = {}
        arg_locs: dict[str, Location] = {}
        # Inside, the spec's variables (unless an argument hides one) and the arguments given from outside.
        inner_given = {name: text for name, text in self.global_given.items() if name not in block.params}
        for key, node in given.items():
            if key in CONTROL_KEYS:
                continue
            if key not in block.params:
                raise SpecError(f"block `{kind}` has no argument `{key}`", body.key_locs[key] if body else kind_loc,
                                did_you_mean(key, block.params) or
                                f"its arguments are {', '.join(block.params) or 'none'}.")
            bound[key] = resolve_from(node, env, scope.given)
            if scope.given and (found := origin(node, env, scope.given)):
                inner_given[key] = found
            # An argument passed on from an enclosing block (`skip: skip`) was written at that block's instance.
            arg_locs[key] = scope.arg_locs.get(node.value, node.loc) if isinstance(node.value, str) else node.loc
        # A block sees the spec's variables and its own arguments; defaults may use both.
        block_env = {**self.global_env, **bound}
        for key, default in block.params.items():
            if key not in bound:
                if default is None:
                    raise SpecError(f"block `{kind}` needs `{key}`", kind_loc, f"add `{key}: ...` to its arguments.")
                block_env[key] = resolve_from(default, block_env, inner_given)
                arg_locs[key] = default.loc
                if inner_given and (found := origin(default, block_env, inner_given)):
                    inner_given[key] = found
        full = name if name is not None else scope.prefix + self._instance_name(kind, scope)
        inner = Scope(block_env, inputs[0], prefix=f"{full}.", path=(*scope.path, (full, kind)),
                      previous=inputs[0], arg_locs=arg_locs, given=inner_given)
        self.block_stack.append(kind)
        last = self.expand(block.layers, inner)
        self.block_stack.pop()
        if block.output is not None:
            out, index = split_reference(block.output.value) if isinstance(block.output.value, str) else (
                block.output.value, None)
            if out not in inner.local:
                raise SpecError(f"block `{kind}` has no layer named `{out}` for its output", block.output.loc,
                                did_you_mean(str(out), inner.local) or "name one of its layers.")
            last = inner.local[out] if index is None else f"{inner.local[out]}[{index}]"
        assert last is not None
        return last

    def _instance_name(self, kind: str, scope: Scope) -> str:
        count = scope.counters.get(kind, 0)
        scope.counters[kind] = count + 1
        return kind if count == 0 else f"{kind}_{count}"


def evaluate_condition(node: Node, env: dict[str, Any]) -> bool:
    value = node.value if isinstance(node.value, bool) else resolve(node, env)
    if isinstance(value, str) and value == node.value and value not in env:
        value = evaluate(value, env, node.loc)  # a word left as written (`when: big`) is no condition: say why
    return bool(value)


def _template_value(text: str, env: dict[str, Any], loc: Location) -> str:
    value = evaluate(text, env, loc)
    if isinstance(value, expr.Fraction):
        value = float(value)
    return str(value)


def _declared_name(item: Node) -> str | None:
    if isinstance(item.value, dict) and len(item.value) == 1:
        fields = next(iter(item.value.values())).value
        if isinstance(fields, dict) and "name" in fields and isinstance(fields["name"].value, str):
            return fields["name"].value
    return None


def _split(item: Node) -> tuple[str, Node | None, Location]:
    """(kind, body, where the kind is written) of one layer item."""
    value = item.value
    if value.__class__ is dict and len(value) == 1:  # `- Kind: ...`, as most are
        ((kind, body),) = value.items()
        return kind, body, item.key_locs[kind]
    if isinstance(value, str):
        return value, None, item.loc
    if not isinstance(value, dict) or len(value) != 1:
        raise SpecError("a layer must be a layer kind, alone or mapped to its arguments", item.loc, _LAYER_HINT)
    ((kind, body),) = value.items()
    return kind, body, item.key_locs[kind]
