"""The `expect:` block: the figures a spec promises, read with their exact place in the file.

Numbers (the rules `paramcalc check` documents):
- integers are exact: `61706`, `61_706`, or quoted with thousands separators `"61,706"`;
- scientific notation is exact: `569e6` is 569,000,000 (it must come out a whole number);
- a suffix K, M, G (or B) or T marks a rounded figure (`4.2M`): it needs a tolerance;
- a tolerance is a percentage of the expected figure (`1%`, `0.5%`) or an absolute count
  (`1000`, `5K`); a difference equal to the tolerance passes.
A tolerance set beside the figures applies to all of them; a figure may carry its own:
`params: {value: 4.2M, tolerance: 5%}`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING

from paramcalc.errors import Location, SpecError
from paramcalc.record import Record
from paramcalc.spec.yamlnodes import Node
from paramcalc.suggest import did_you_mean

if TYPE_CHECKING:
    from decimal import Decimal

COUNT_FIGURES = ("params", "trainable_params", "non_trainable_params", "macs", "flops", "activations",
                 "active_params")  # active_params: what one token uses (a mixture of experts' top_k experts)
FIGURES = (*COUNT_FIGURES, "output_shape")
EXPECT_KEYS = (*FIGURES, "layers", "tolerance")
LAYER_KEYS = FIGURES
MAX_EXPONENT = 1000
SUFFIXES = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}

_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_SUFFIXED = re.compile(r"^(\d+(\.\d+)?)\s*([KMGBT])$")
_PERCENT = re.compile(r"^(\d+(\.\d+)?)\s*%$")


class Tolerance(Record):
    __slots__ = ("relative", "absolute", "text")

    def __init__(self, relative: Fraction | None = None, absolute: int | None = None, text: str = "") -> None:
        self.relative = relative  # 1% -> 1/100 of the expected figure
        self.absolute = absolute
        self.text = text

    def allowance(self, expected: int) -> Fraction:
        if self.relative is not None:
            return self.relative * abs(expected)
        return Fraction(self.absolute or 0)


class Expectation(Record):
    __slots__ = ("figure", "layer", "value", "text", "tolerance", "loc", "span", "rounded")

    def __init__(self, figure: str, layer: str | None, value: int | tuple[int | None, ...], text: str,
                 tolerance: Tolerance | None, loc: Location, span: tuple[int, int], rounded: bool = False) -> None:
        self.figure = figure  # one of FIGURES
        self.layer = layer  # None: the whole model
        self.value = value
        self.text = text  # as written in the spec
        self.tolerance = tolerance
        self.loc = loc  # where the value is written
        self.span = span  # its character offsets, for --update
        self.rounded = rounded  # written with a K/M/G/T suffix

    @property
    def label(self) -> str:
        return f"layers.{self.layer}.{self.figure}" if self.layer else self.figure


def parse_expect(node: Node) -> list[Expectation]:
    """All expectations of an `expect:` mapping, in the order written."""
    for key, loc in node.key_locs.items():
        if key not in EXPECT_KEYS:
            raise SpecError(f"`expect` has no figure `{key}`", loc,
                            did_you_mean(key, EXPECT_KEYS) or f"use one of {', '.join(EXPECT_KEYS)}.")
    shared = parse_tolerance(node.value["tolerance"]) if "tolerance" in node.value else None
    found = [_figure(name, node.value[name], None, shared) for name in node.value if name in FIGURES]
    layers = node.value.get("layers")
    if layers is not None:
        if not layers.is_map:
            raise SpecError("`expect.layers` must map layer names to figures", layers.loc,
                            "write e.g. `layers: {conv2d_1: {params: 18496}}`.")
        for layer, body in layers.value.items():
            if not body.is_map:
                raise SpecError(f"`expect.layers.{layer}` must be a mapping of figures", body.loc,
                                "write e.g. `{params: 18496, output_shape: [null, 11, 11, 64]}`.")
            for key, loc in body.key_locs.items():
                if key not in LAYER_KEYS:
                    raise SpecError(f"`expect.layers.{layer}` has no figure `{key}`", loc,
                                    did_you_mean(key, LAYER_KEYS) or f"use one of {', '.join(LAYER_KEYS)}.")
            found += [_figure(name, value, layer, shared) for name, value in body.value.items()]
    return found


def _figure(name: str, node: Node, layer: str | None, shared: Tolerance | None) -> Expectation:
    if name == "output_shape":
        return Expectation(name, layer, _shape(node), _text(node), None, node.loc, node.span)
    tolerance = shared
    value_node = node
    if node.is_map:
        for key, loc in node.key_locs.items():
            if key not in ("value", "tolerance"):
                raise SpecError(f"a figure written as a mapping takes `value` and `tolerance`, not `{key}`", loc,
                                "write e.g. `params: {value: 4.2M, tolerance: 5%}`.")
        if "value" not in node.value:
            raise SpecError(f"`{name}` needs a `value`", node.loc, "write e.g. `params: {value: 4.2M, tolerance: 5%}`.")
        value_node = node.value["value"]
        if "tolerance" in node.value:
            tolerance = parse_tolerance(node.value["tolerance"])
    value, rounded = parse_count(value_node)
    if rounded and tolerance is None:
        raise SpecError(
            f"`{name}: {value_node.value}` is a rounded figure, so it needs a tolerance", value_node.loc,
            f"add `tolerance: 5%` to the expect block, write `{name}: {{value: {value_node.value}, tolerance: 5%}}`, "
            f"or give the exact count.")
    return Expectation(name, layer, value, _text(value_node), tolerance, value_node.loc, value_node.span, rounded)


def _text(node: Node) -> str:
    return str(node.plain())


def parse_count(node: Node) -> tuple[int, bool]:
    """(value, rounded?) of a human-written count; see the module docstring for the rules."""
    value = node.value
    hint = "write a whole number such as 61706, \"61,706\", 569e6, or 4.2M with a tolerance."
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise SpecError(f"expected a count, got {node.plain()!r}", node.loc, hint)
    if isinstance(value, int):
        return value, False
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return int(value), False
        raise SpecError(f"{value} is not a whole number", node.loc, hint)
    text = value.strip().replace("_", "")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text), False
    if _GROUPED.match(text):
        return int(text.replace(",", "")), False
    if _SCIENTIFIC.match(text):
        exact = _decimal(text)
        if abs(exact.adjusted()) > MAX_EXPONENT:  # 1e70000000 would take minutes to write out
            raise SpecError(f"`{value}` is too large a count", node.loc, f"use an exponent of at most {MAX_EXPONENT}.")
        if exact != exact.to_integral_value():
            raise SpecError(f"`{value}` is not a whole number", node.loc, hint)
        return int(exact), False
    match = _SUFFIXED.match(text)
    if match:
        return int(_decimal(match.group(1)) * SUFFIXES[match.group(3)]), True
    raise SpecError(f"cannot read `{value}` as a count", node.loc, hint)


def _decimal(text: str) -> Decimal:
    from decimal import Decimal, InvalidOperation  # only for decimal figures (4.2M, 569e6)

    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the patterns above only admit valid decimals
        raise ValueError(text) from None


def parse_tolerance(node: Node) -> Tolerance:
    value = node.value
    if isinstance(value, str):
        match = _PERCENT.match(value.strip())
        if match:
            return Tolerance(relative=Fraction(match.group(1)) / 100, text=value.strip())
    try:
        amount, _ = parse_count(node)
    except SpecError:
        amount = -1
    if amount < 0:
        raise SpecError(f"cannot read the tolerance {node.plain()!r}", node.loc,
                        "write a percentage such as `1%` or an absolute count such as `1000`.")
    return Tolerance(absolute=amount, text=str(value))


def _shape(node: Node) -> tuple[int | None, ...]:
    hint = "write the shape as a list, batch first as null, e.g. `[null, 11, 11, 64]`."
    if not node.is_list or not node.value:
        raise SpecError("`output_shape` must be a list of dimensions", node.loc, hint)
    dims: list[int | None] = []
    for item in node.value:
        if item.value is not None and (isinstance(item.value, bool) or not isinstance(item.value, int)):
            raise SpecError(f"a dimension must be a whole number or null; got {item.plain()!r}", item.loc, hint)
        dims.append(item.value)
    return tuple(dims)
