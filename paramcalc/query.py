"""--filter, --sort and --top on a sweep's rows: a small safe parser of our own (never Python's eval).

A filter is comparisons joined by `and`, `or`, `not` and parentheses:

    macs < 300e6 and params < 3e6
    not (alpha == 1 or res > 192) and flops / params <= 200

Operands are numbers (`300e6`, `3_000_000`, `0.25`, with an optional K, M, G or T suffix: `3M` is
3,000,000) and field names (the sweep's variables and its figures: params, trainable_params, macs,
...), with `+ - * /` and parentheses between them. Arithmetic is exact (fractions): `0.1 + 0.2 == 0.3`
holds. A mistake is one located paragraph naming the column where it is."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from paramcalc.errors import Location, SpecError
from paramcalc.suggest import did_you_mean

Row = Mapping[str, Any]
Test = Callable[[Row], Any]

ALIASES = {"trainable": "trainable_params"}
SUFFIXES = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[KMGT]?)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op><=|>=|==|!=|<|>|\(|\)|\+|-|\*|/)
  | (?P<bad>.)""", re.VERBOSE)
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}
HINT = ("write comparisons of figures and numbers joined by and / or / not, e.g. "
        "--filter \"macs < 300e6 and params < 3e6\"")


class Token:
    __slots__ = ("kind", "text", "column")

    def __init__(self, kind: str, text: str, column: int) -> None:
        self.kind, self.text, self.column = kind, text, column


def tokens(text: str, option: str) -> list[Token]:
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "bad"
        column = match.start() + 1
        if kind == "space":
            continue
        if kind == "bad":
            hint = "write == to compare for equality" if match.group() == "=" else HINT
            raise QueryError(f"`{match.group()}` is not allowed", text, column, option, hint)
        if kind == "number" and match.end() < len(text) and (text[match.end()].isalnum() or text[match.end()] == "_"):
            raise QueryError(f"`{match.group()}{text[match.end()]}` is not a number", text, column, option,
                             "leave a space between a number and a name; a suffix is one of K, M, G, T.")
        found.append(Token(kind, match.group(), column))
    found.append(Token("end", "", len(text) + 1))
    return found


class QueryError(SpecError):
    """A located mistake in --filter or --sort: the column is the character where it is."""

    def __init__(self, message: str, text: str, column: int, option: str, hint: str) -> None:
        super().__init__(f"{message} in {option} \"{text}\" (at character {column})", Location(option, 1, column),
                         hint)


def number(text: str) -> Fraction | int:
    """`300e6` -> 300000000, `0.25` -> 1/4, `3M` -> 3000000: exact."""
    scale = SUFFIXES.get(text[-1], 1)
    value = Fraction(text.rstrip("KMGT").replace("_", ""))
    value *= scale
    return value.numerator if value.denominator == 1 else value


class Parser:
    """Recursive descent over the tokens; each rule returns a function of a row."""

    def __init__(self, text: str, fields: list[str], option: str = "--filter") -> None:
        self.text, self.fields, self.option = text, fields, option
        self.tokens = tokens(text, option)
        self.at = 0

    def fail(self, message: str, token: Token, hint: str = HINT) -> QueryError:
        return QueryError(message, self.text, token.column, self.option, hint)

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_word(self, word: str) -> bool:
        return self.token.kind == "name" and self.token.text == word

    def parse(self) -> Test:
        if self.token.kind == "end":
            raise self.fail("the filter is empty", self.token)
        start = self.token
        test = self.either()
        if not getattr(test, "is_test", False):
            raise self.fail(f"`{self.text.strip()}` is not a comparison", start,
                            "compare it with a number, e.g. \"macs < 300e6\".")
        if self.token.kind != "end":
            raise self.fail(f"unexpected `{self.token.text}`", self.token,
                            "join comparisons with and / or, e.g. \"macs < 300e6 and params < 3e6\".")
        return test

    def either(self) -> Test:
        start = self.token
        tests = [self.both()]
        while self.is_word("or"):
            self.take()
            tests.append(self.both())
        if len(tests) == 1:
            return tests[0]
        self.conditions(tests, start)
        return _mark(lambda row: any(test(row) for test in tests))

    def both(self) -> Test:
        start = self.token
        tests = [self.negation()]
        while self.is_word("and"):
            self.take()
            tests.append(self.negation())
        if len(tests) == 1:
            return tests[0]
        self.conditions(tests, start)
        return _mark(lambda row: all(test(row) for test in tests))

    def conditions(self, tests: list[Test], start: Token) -> None:
        """and / or / not join comparisons, not numbers."""
        if not all(getattr(test, "is_test", False) for test in tests):
            raise self.fail("and / or / not join comparisons, not numbers", start,
                            "compare each figure with a number, e.g. \"macs < 300e6 and params < 3e6\".")

    def negation(self) -> Test:
        if self.is_word("not"):
            start = self.take()
            inner = self.negation()
            self.conditions([inner], start)
            return _mark(lambda row: not inner(row))
        return self.comparison()

    def comparison(self) -> Test:
        left = self.sum()
        if self.token.kind != "op" or self.token.text not in COMPARISONS:
            # A parenthesised condition, or (inside parentheses) a number: the caller decides.
            return left
        pairs = []
        while self.token.kind == "op" and self.token.text in COMPARISONS:
            operator = COMPARISONS[self.take().text]
            right = self.sum()
            pairs.append((operator, right))

        @_mark
        def test(row: Row) -> bool:  # chained, as Python reads 1e6 < params < 3e6
            a = left(row)
            for operator, right in pairs:
                b = right(row)
                if not operator(a, b):
                    return False
                a = b
            return True

        return test

    def sum(self) -> Test:
        value = self.product()
        while self.token.kind == "op" and self.token.text in "+-":
            op, right = self.take().text, self.product()
            value = _add(value, right) if op == "+" else _sub(value, right)
        return value

    def product(self) -> Test:
        value = self.unary()
        while self.token.kind == "op" and self.token.text in "*/":
            token = self.take()
            right = self.unary()
            value = _mul(value, right) if token.text == "*" else _div(value, right)
        return value

    def unary(self) -> Test:
        if self.token.kind == "op" and self.token.text == "-":
            self.take()
            inner = self.unary()
            return lambda row: -inner(row)
        return self.atom()

    def atom(self) -> Test:
        token = self.take()
        if token.kind == "number":
            value = number(token.text)
            return lambda row: value
        if token.kind == "name" and token.text not in ("and", "or", "not"):
            return self.field(token)
        if token.kind == "op" and token.text == "(":
            inner = self.either()
            if self.token.kind != "op" or self.token.text != ")":
                raise self.fail("a `(` is not closed", token, "add the `)`.")
            self.take()
            return inner
        what = "the end of the filter" if token.kind == "end" else f"`{token.text}`"
        raise self.fail(f"expected a number or a name, found {what}", token)

    def field(self, token: Token) -> Test:
        name = ALIASES.get(token.text, token.text)
        if name not in self.fields:
            raise self.fail(f"there is no field `{token.text}`", token,
                            did_you_mean(token.text, self.fields) or f"the fields are {', '.join(self.fields)}.")
        text = self.text

        def value(row: Row) -> Any:
            found = row[name]
            if isinstance(found, bool) or not isinstance(found, (int, float, Fraction)):
                raise QueryError(f"`{token.text}` is {found!r} here, not a number", text, token.column, self.option,
                                 "filter on numbers only (params, macs, ... and numeric variables).")
            return Fraction(found) if isinstance(found, float) else found

        return value


def _add(a: Test, b: Test) -> Test:
    return lambda row: a(row) + b(row)


def _sub(a: Test, b: Test) -> Test:
    return lambda row: a(row) - b(row)


def _mul(a: Test, b: Test) -> Test:
    return lambda row: a(row) * b(row)


def _div(a: Test, b: Test) -> Test:
    def divide(row: Row) -> Any:
        divisor = b(row)
        return Fraction(a(row)) / divisor if divisor else Fraction(0) if a(row) == 0 else float("inf")

    return divide


def parse_filter(text: str, fields: list[str]) -> Test:
    """A row -> bool function for `--filter TEXT`, over `fields` (and their aliases), or a QueryError."""
    return Parser(text, fields).parse()


def _mark(test: Test) -> Test:
    test.is_test = True  # type: ignore[attr-defined]
    return test


def sort_field(text: str, fields: list[str]) -> tuple[str, bool]:
    """`--sort macs` -> ("macs", False); `--sort -macs` -> ("macs", True): descending."""
    descending = text.startswith("-")
    name = text[1:] if descending else text
    name = ALIASES.get(name, name)
    if name not in fields:
        raise QueryError(f"there is no field `{text.lstrip('-')}` to sort by", text, 2 if descending else 1,
                         "--sort", did_you_mean(name, fields) or f"the fields are {', '.join(fields)}.")
    return name, descending
