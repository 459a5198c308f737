"""Argument parsers: YAML value -> checked Python value, or a message saying what was expected.

A parser raises `BadValue(expected)`; the layer machinery adds the layer, the argument name, what
was received and the location, so every message reads the same way:
"Conv2D `strides` must be 1 or 2 positive integers; got [1, 0]".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from paramcalc.record import Record


class BadValue(Exception):
    """Raised by a parser; carries what the argument must be ("a positive integer")."""

    def __init__(self, expected: str, example: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.example = example


Parser = Callable[[Any], Any]
_REQUIRED = object()
JsonSchema = dict[str, Any]


def typed(schema: JsonSchema, name: str = "") -> Callable[[Parser], Parser]:
    """Declare what a parser accepts as a JSON Schema (for `paramcalc schema` and editors). The plain
    type only: the schema generator adds that a variable or an expression may stand for any value.
    A `name` makes it one definition that every argument refers to (for long ones, such as a list)."""

    def declare(parse: Parser) -> Parser:
        setattr(parse, "json_schema", {**schema, "title": name} if name else schema)  # noqa: B010 - mypy refuses
        return parse

    return declare


def schema_of(parse: Parser) -> JsonSchema | None:
    """The JSON Schema a parser declared, or None (then any value is let through to the parser)."""
    return getattr(parse, "json_schema", None)


def _int_schema(minimum: int) -> JsonSchema:
    return {"type": "integer", "minimum": minimum}


class Arg(Record):
    """One keyword argument of a layer kind."""

    __slots__ = ("name", "parse", "default", "doc")

    def __init__(self, name: str, parse: Parser, default: Any = _REQUIRED, doc: str = "") -> None:
        self.name = name
        self.parse = parse
        self.default = default
        self.doc = doc

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer(minimum: int = 0) -> Parser:
    what = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"

    @typed(_int_schema(minimum))
    def parse(value: Any) -> int:
        if not is_int(value) or value < minimum:
            raise BadValue(what)
        return value

    return parse


positive = integer(1)
non_negative = integer(0)


def ints(rank: int, minimum: int = 1) -> Parser:
    """An int or a list of `rank` ints, each >= minimum (Keras `standardize_tuple`)."""
    each = "positive integers" if minimum == 1 else f"integers of at least {minimum}"
    one = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
    what = f"1 or {rank} {each}" if rank > 1 else one

    @typed({"anyOf": [_int_schema(minimum), {"type": "array", "items": _int_schema(minimum), "minItems": rank,
                                             "maxItems": rank}]})
    def parse(value: Any) -> tuple[int, ...]:
        if is_int(value) and value >= minimum:
            return (value,) * rank
        if isinstance(value, list) and len(value) == rank and all(is_int(v) and v >= minimum for v in value):
            return tuple(value)
        raise BadValue(what)

    return parse


def optional(parser: Parser) -> Parser:
    inner = schema_of(parser)

    def parse(value: Any) -> Any:
        return None if value is None else parser(value)

    return parse if inner is None else typed({"anyOf": [inner, {"type": "null"}]})(parse)


@typed({"type": "boolean"})
def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue("true or false")
    return value


@typed({"type": "number"})
def number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadValue("a number")
    return value


@typed({"type": "number", "minimum": 0, "maximum": 1})
def fraction(value: Any) -> float | int:
    """A rate in [0, 1] (dropout)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise BadValue("a number between 0 and 1")
    return value


@typed({"type": "string"})
def text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue("a word")
    return value


def choice(*options: str, any_case: bool = False) -> Parser:
    """One of the words; `any_case`: in capitals too, as Keras takes `padding: SAME` (it lowercases)."""
    what = "one of " + ", ".join(repr(o) for o in options)

    @typed({"enum": list(options)})
    def parse(value: Any) -> str:
        word = value.lower() if any_case and isinstance(value, str) else value
        if word not in options:
            raise BadValue(what)
        return word

    return parse


@typed({})
def anything(value: Any) -> Any:
    """Accepted and ignored for counting (initializers, regularizers, activations...)."""
    return value


def int_or_none_list(rank: int) -> Parser:
    """Adaptive pooling output size: an int, or `rank` entries each an int or null (keep)."""

    @typed({"anyOf": [_int_schema(1), {"type": "array", "minItems": rank, "maxItems": rank,
                                       "items": {"anyOf": [_int_schema(1), {"type": "null"}]}}]})
    def parse(value: Any) -> tuple[int | None, ...]:
        if is_int(value) and value >= 1:
            return (value,) * rank
        if isinstance(value, list) and len(value) == rank and all(v is None or (is_int(v) and v >= 1) for v in value):
            return tuple(value)
        raise BadValue(f"a positive integer or a list of {rank} positive integers or nulls")

    return parse


def pairs(rank: int) -> Parser:
    """Per-dimension (before, after) amounts: an int, `rank` ints, or `rank` [before, after] pairs."""
    what = (f"a non-negative integer, a list of {rank} of them, or a list of {rank} [before, after] pairs"
            if rank > 1 else "a non-negative integer or a [before, after] pair")

    @typed(_pairs_schema(rank))
    def parse(value: Any) -> tuple[tuple[int, int], ...]:
        if is_int(value) and value >= 0:
            return ((value, value),) * rank
        if isinstance(value, list):
            if rank == 1 and len(value) == 2 and all(is_int(v) and v >= 0 for v in value):
                return ((value[0], value[1]),)
            if len(value) == rank:
                out = []
                for item in value:
                    if is_int(item) and item >= 0:
                        out.append((item, item))
                    elif isinstance(item, list) and len(item) == 2 and all(is_int(v) and v >= 0 for v in item):
                        out.append((item[0], item[1]))
                    else:
                        raise BadValue(what)
                return tuple(out)
        raise BadValue(what)

    return parse


def _pairs_schema(rank: int) -> JsonSchema:
    pair = {"type": "array", "items": _int_schema(0), "minItems": 2, "maxItems": 2}
    if rank == 1:
        return {"anyOf": [_int_schema(0), pair]}
    return {"anyOf": [_int_schema(0), {"type": "array", "minItems": rank, "maxItems": rank,
                                       "items": {"anyOf": [_int_schema(0), pair]}}]}


def padding(rank: int, modes: tuple[str, ...], any_case: bool = True) -> Parser:
    """'valid' / 'same' (and 'causal' where allowed), or explicit zero padding as PyTorch means it.
    Keras lowercases the word (`SAME` is `same`); PyTorch takes it as written (`any_case=False`)."""
    explicit = pairs(rank)
    words = " or ".join(repr(m) for m in modes)

    @typed({"anyOf": [{"enum": list(modes)}, _pairs_schema(rank)]})
    def parse(value: Any) -> str | tuple[tuple[int, int], ...]:
        if isinstance(value, str):
            word = value.lower() if any_case else value
            if word in modes:
                return word
            raise BadValue(f"{words}, or explicit zero padding as an integer or a list of {rank}")
        try:
            return explicit(value)
        except BadValue:
            raise BadValue(f"{words}, or explicit zero padding as an integer or a list of {rank}") from None

    return parse


@typed({"type": "array", "minItems": 1, "items": {"anyOf": [_int_schema(1), {"const": -1}]}})
def shape_list(value: Any) -> tuple[int, ...]:
    """A target shape: a list of positive ints with at most one -1."""
    if (isinstance(value, list) and value and all(is_int(v) and (v >= 1 or v == -1) for v in value)
            and value.count(-1) <= 1):
        return tuple(value)
    raise BadValue("a list of positive integers, with at most one -1 for 'whatever is left'")


# The names `keras.activations.get` accepts, exactly as written (Keras 3.15; tests/fixtures/names.json).
KERAS_ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
)


@typed({"anyOf": [{"enum": list(KERAS_ACTIVATIONS)}, {"type": "null"}, {"type": "object"}]}, "keras_activation")
def keras_activation(value: Any) -> Any:
    """A Keras activation: one of its names, None (linear), or a serialized config (a mapping)."""
    if value is None or isinstance(value, dict) or value in KERAS_ACTIVATIONS:
        return value
    from paramcalc.suggest import closest  # the error path only

    found = closest(str(value), KERAS_ACTIVATIONS, 1)
    raise BadValue(f"one of Keras's {len(KERAS_ACTIVATIONS)} activation names, as keras.activations writes them "
                   "(relu, sigmoid, tanh, softmax, gelu, swish, linear, ...)", found[0] if found else "relu")


class LayerItem(Record):
    """A layer written inside another layer's argument (`layer: {LSTM: {units: 64}}`, `norm: {LayerNorm:
    512}`), as in a spec's list of layers: its kind, and its arguments (named, or the one a scalar sets)."""

    __slots__ = ("kind", "args", "positional", "has_positional")

    def __init__(self, kind: str, args: Mapping[str, Any], positional: Any = None,
                 has_positional: bool = False) -> None:
        self.kind = kind
        self.args = args
        self.positional = positional
        self.has_positional = has_positional


class BlockItem(Record):
    """A block of the spec's `blocks:` written inside a layer's argument (`expert: {swiglu: {ff: 14336}}`),
    expanded by the spec loader into its layers (spec/expand.py): they read `input` and `output` is the
    full name of the one whose output the block gives. Only the kinds that say so take one
    (`layer_or_block_item`); the engine computes it as a small model of its own (engine.run_block)."""

    __slots__ = ("kind", "layers", "output")

    def __init__(self, kind: str, layers: tuple[Any, ...], output: str) -> None:
        self.kind = kind  # the block's name
        self.layers = layers  # its LayerSpecs, in order
        self.output = output

    def __repr__(self) -> str:  # as written, for messages (its layers are long)
        return f"{{{self.kind}: ...}}"


def layer_item(value: Any) -> LayerItem:
    """`Flatten`, `{Dense: 10}` or `{LSTM: {units: 64, return_sequences: true}}`; a `name` is the framework's
    own name for the inner layer and changes nothing."""
    if isinstance(value, BlockItem):
        raise BadValue(f"a layer kind with its arguments, not a block (`{value.kind}` is a block of the spec's "
                       "`blocks:`, which only MixtureOfExperts `expert:` and `router:` take)", "{Dense: 10}")
    if isinstance(value, str) and value:
        return LayerItem(value, {})
    if isinstance(value, dict) and len(value) == 1:
        ((kind, body),) = value.items()
        if isinstance(kind, str) and isinstance(body, dict):
            return LayerItem(kind, {key: v for key, v in body.items() if key != "name"})
        if isinstance(kind, str):
            return LayerItem(kind, {}) if body is None else LayerItem(kind, {}, body, True)
    raise BadValue("a layer written as in `layers:`, a kind with its arguments", "{LSTM: {units: 64}}")


def layer_or_block_item(value: Any) -> LayerItem | BlockItem:
    """A layer item, or a block of the spec's `blocks:` with its arguments (`{swiglu: {ff: 14336}}`)."""
    return value if isinstance(value, BlockItem) else layer_item(value)
