"""A small, safe arithmetic evaluator for spec expressions. Never Python's eval.

Grammar (parsed with `ast`, then walked over a whitelist of node types): numbers, 'quoted words', names, the
operators + - * / // % **, comparisons, `and` / `or` / `not`, `a if cond else b`, parentheses,
and the functions int, round, min, max, ceil, floor, abs, make_divisible (MobileNetV2's
round-to-a-multiple-of-8), and index_of / pick (a lookup table over a family's members).
Arithmetic is exact (fractions), so `int(0.75 * 1024)` is 768.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

Number = int | Fraction
Value = int | Fraction | bool | str | None

MAX_EXPRESSION_LENGTH = 2_000
MAX_RESULT_DIGITS = 4_000  # refuse 10**10**10 instead of hanging on it

_LOOKS_LIKE_EXPRESSION = re.compile(r"[-+*/%()<>=!]|\b(if|and|or|not)\b")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HYPHENATED = re.compile(r"^[A-Za-z_]\w*(?:-\w+)+$")  # nearest-exact, res-1: no spaces, hyphens between
_NUMBER = re.compile(r"^[0-9]+$")


class ExpressionError(Exception):
    """A malformed or unevaluable expression; the message says what, the caller adds where."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UndefinedName(ExpressionError):
    def __init__(self, name: str, known: list[str]) -> None:
        from paramcalc.suggest import did_you_mean

        suggestion = did_you_mean(name, known)
        hint = suggestion or (f"define it under `vars:` or with --set {name}=VALUE" +
                              (f" (defined here: {', '.join(sorted(known))})" if known else ""))
        super().__init__(f"`{name}` is not defined", hint + ("" if hint.endswith(("?", ")")) else "."))
        self.name = name


def make_divisible(value: Number, divisor: Number = 8, min_value: Number | None = None) -> int:
    """Round `value` to the nearest multiple of `divisor`, never going down by more than 10%
    (the `_make_divisible` of MobileNetV2 in Keras and torchvision)."""
    if divisor <= 0:
        raise ExpressionError("make_divisible needs a positive divisor")
    floor_value = min_value if min_value is not None else divisor
    rounded = max(floor_value, int(Fraction(value) + Fraction(divisor) / 2) // divisor * divisor)
    if rounded < Fraction(9, 10) * Fraction(value):
        rounded += divisor
    return int(rounded)


def index_of(key: Value, *choices: Value) -> int:
    """The position of `key` among `choices` (from 0): with `pick`, a lookup table over a family's
    members, `pick(index_of(model, 'y_400mf', 'y_800mf'), 48, 64)`."""
    if key not in choices:
        listed = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)
        raise ExpressionError(f"{key!r} is none of the choices", f"write one of {listed}.")
    return choices.index(key)


def pick(index: Value, *values: Value) -> Value:
    """The value at position `index` (from 0) of `values` (numbers or words: `pick(j, 'a', 'b')`)."""
    if isinstance(index, (bool, str)) or index is None:
        raise ExpressionError(f"pick() needs a position number first, not {index!r}", "write e.g. `pick(i, 48, 64)`.")
    if Fraction(index).denominator != 1 or not 0 <= index < len(values):
        raise ExpressionError(f"pick() has no value at position {index}",
                              f"give a whole number from 0 to {len(values) - 1}.")
    return values[int(index)]


def _round(value: Number, digits: int | None = None) -> Number:
    return round(Fraction(value)) if digits is None else round(Fraction(value), int(digits))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "int": lambda x: int(Fraction(x)),  # truncates toward zero, like Python's int()
    "round": _round,
    "min": min,
    "max": max,
    "ceil": lambda x: math.ceil(Fraction(x)),
    "floor": lambda x: math.floor(Fraction(x)),
    "abs": abs,
    "make_divisible": make_divisible,
    "index_of": index_of,
    "pick": pick,
}
_WORD_ARGUMENTS = {"index_of", "pick"}  # take words as well as numbers

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: Fraction(a) / Fraction(b),
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: _power(a, b),
}
_COMPARE = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(exponent, Fraction) and exponent.denominator != 1:
        raise ExpressionError("a power must have a whole-number exponent here", "write e.g. `2 ** 10`.")
    exponent = int(exponent)
    if base not in (0, 1, -1) and abs(exponent) * max(1, abs(Fraction(base)).numerator.bit_length()) > 14_000:
        raise ExpressionError(f"the power {base} ** {exponent} is too large", "use smaller numbers.")
    return Fraction(base) ** exponent if exponent < 0 else base**exponent


def looks_like_expression(text: str) -> bool:
    """Strings with operators or parentheses are expressions; plain words stay words (`same`)."""
    return bool(_LOOKS_LIKE_EXPRESSION.search(text))


def is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.match(text))


def is_hyphenated_word(text: str, names: Mapping[str, Any]) -> bool:
    """A word with hyphens (`nearest-exact`, `same-padding`) rather than a subtraction: no spaces,
    no part a number, and some part not a defined name. `res-1` (a number) and `width-pad` (both
    names defined) are subtractions; with spaces (`a - b`) a hyphen is always an operator."""
    if not _HYPHENATED.match(text):
        return False
    parts = text.split("-")
    return not any(_NUMBER.match(p) for p in parts) and any(p not in names for p in parts)


def is_expression(text: str, names: Mapping[str, Any]) -> bool:
    """Whether a string argument is to be evaluated (given the names defined where it is written):
    it has an operator or parentheses, and is not a hyphenated word."""
    return looks_like_expression(text) and not is_hyphenated_word(text, names)


_BOOLEAN_WORDS = ("true", "True", "false", "False")


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ast.expr:
    """The syntax tree of an expression; cached, as sweeps evaluate the same texts many times."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at character {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"cannot read the expression {text!r}{where}",
                              "use numbers, names, + - * / // % **, parentheses and int/round/min/max/ceil/floor."
                              ) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"cannot read the expression {text[:60]!r}") from None
    return tree.body


def names_used(text: str) -> set[str]:
    """The names an expression reads (`int(filters * alpha)` -> filters, alpha); none if unreadable."""
    try:
        tree = parse(text)
    except ExpressionError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - set(_BOOLEAN_WORDS)


def evaluate(text: str, names: Mapping[str, Value]) -> Value:
    """The value of `text` with `names` bound; ints stay ints, exact fractions otherwise."""
    if text in names and text not in _BOOLEAN_WORDS:  # a bare variable (`filters: width`): no parsing
        return normalize(number(names[text]))
    try:
        return normalize(_Evaluator(names).visit(parse(text)))
    except ZeroDivisionError:
        raise ExpressionError(f"`{text}` divides by zero", "check the variables it uses.") from None
    except RecursionError:
        raise ExpressionError(f"the expression {text[:60]!r} is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"cannot evaluate `{text}`: {exc}") from None


def normalize(value: Any) -> Value:
    """Whole fractions become ints; other fractions stay exact."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        value = Fraction(value)
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, int):
        if value.bit_length() > MAX_RESULT_DIGITS * 3.33:
            raise ExpressionError(f"the result has more than {MAX_RESULT_DIGITS} digits")
        return value
    raise ExpressionError(f"unexpected value {value!r}")


def number(value: Any) -> Number:
    """YAML numbers into exact ones (0.75 -> 3/4, as written)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return value


class _Evaluator(ast.NodeVisitor):
    def __init__(self, names: Mapping[str, Value]) -> None:
        self.names = names

    def generic_visit(self, node: ast.AST) -> Any:
        raise ExpressionError(f"`{ast.unparse(node)}` is not allowed in an expression",
                              "use numbers, names, arithmetic, comparisons and int/round/min/max/ceil/floor.")

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, str):  # quoted words, for choices: "'same' if strides == 1 else 'valid'"
            return node.value
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"`{node.value!r}` is not a number")
        return number(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        if node.id not in self.names:
            raise UndefinedName(node.id, [n for n in self.names if not n.startswith("_")])
        return number(self.names[node.id])

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        operator = _BINARY.get(type(node.op))
        if operator is None:
            return self.generic_visit(node)
        left, right = self._numeric(node.left), self._numeric(node.right)
        return normalize(operator(left, right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not):
            return not self.visit(node.operand)
        value = self._numeric(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return value
        return self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self.visit(v) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            compare = _COMPARE.get(type(op))
            if compare is None:
                return self.generic_visit(node)
            right = self.visit(comparator)
            if not compare(left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise ExpressionError(f"`{ast.unparse(node.func)}(...)` is not an allowed function",
                                  f"the functions are {', '.join(FUNCTIONS)}.")
        if node.func.id in _WORD_ARGUMENTS:
            args = [self.visit(a) for a in node.args]
        else:
            args = [self._numeric(a) for a in node.args]
        try:
            return normalize(FUNCTIONS[node.func.id](*args))
        except TypeError:
            raise ExpressionError(f"{node.func.id}() got {len(args)} arguments") from None

    def _numeric(self, node: ast.expr) -> Number:
        value = self.visit(node)
        if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            raise ExpressionError(f"`{ast.unparse(node)}` is not a number")
        return value
