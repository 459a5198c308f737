"""Numbers that may be symbolic. With free input dimensions (`input: [H, W, 3]`) sizes are sympy
expressions; everywhere else they are plain ints. These helpers keep the layer code the same for
both: sympy is imported only when a value already is a sympy object."""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

Number = Any  # int, or a sympy expression when the spec has free dimensions


# While a sweep analyses a spec once with its swept sizes as symbols (paramcalc/sweepfast.py), the
# checks that cannot be decided for every size are noted here as (test, a, b), the test one of
# "at_least" (a >= b), "equal" (a == b) and "divisible" (a % b == 0); each combination of sizes then
# checks them.
GUARDS: list[tuple[str, Any, Any]] | None = None


def is_symbolic(x: Any) -> bool:
    return not isinstance(x, int)


def certainly_below(x: Number, bound: int) -> bool:
    """x < bound, when that can be decided; an undecidable symbolic comparison counts as False."""
    if isinstance(x, int):
        return x < bound
    try:
        return bool(x < bound)
    except TypeError:
        if GUARDS is not None:
            GUARDS.append(("at_least", x, bound))
        return False


def maximum(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    import sympy

    return sympy.Max(a, b)


def ceil_div(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return -(-a // b)
    import sympy

    return sympy.ceiling(_unnest(a, sympy.ceiling) / b)


def floor_div(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    import sympy

    return sympy.floor(_unnest(a, sympy.floor) / b)


def _unnest(a: Any, rounding: Any) -> Any:
    """floor(floor(Z) + c) / b) = floor((Z + c) / b) for a whole c and a positive whole b (the same for
    ceil): so that chained layers give floor((H - 11)/32), not five nested floors."""
    import sympy

    a = sympy.expand(a)
    terms = sympy.Add.make_args(a)
    inner = [t for t in terms if isinstance(t, rounding)]
    rest = a - sum(inner)
    if len(inner) == 1 and rest.is_integer and rest.is_number:
        return inner[0].args[0] + rest
    return sympy.Rational(1) * a


def remainder(a: Number, b: int, guard: bool = True) -> int:
    """a mod b for ints; 0 (nothing to warn about) when a is symbolic. A caller that refuses a
    non-zero remainder (`guard`) has it checked per combination of a sweep's sizes (GUARDS)."""
    if isinstance(a, int):
        return a % b if a >= 0 else 0
    if guard and GUARDS is not None:
        GUARDS.append(("divisible", a, b))
    return 0


def note_at_least(x: Number, bound: int) -> None:
    """A check skipped for a symbolic x (an index into its axis): a sweep checks x >= bound per combination."""
    if not isinstance(x, int) and GUARDS is not None:
        GUARDS.append(("at_least", x, bound))


def certainly_different(a: Number, b: Number) -> bool:
    """Two sizes that cannot be equal (for symbolic ones: their difference simplifies to non-zero)."""
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    import sympy

    difference = sympy.simplify(a - b)
    if difference.is_zero is None and GUARDS is not None:
        GUARDS.append(("equal", a, b))
    return difference.is_zero is False


def floor_times(n: Number, factor: float) -> Number:
    """PyTorch's upsampled length: floor(float(N) x factor) in double precision, rounding included
    (10 x 0.7 gives 7, where the exact binary value of 0.7 would give 6). For a free N it stays a
    formula that becomes that number when N gets a value."""
    exact = Fraction(factor)
    if exact.numerator < 2**20 and exact.denominator < 2**20:  # 2, 0.5, 1.5: the product is exact in doubles
        return floor_div(n * exact.numerator, exact.denominator)  # for any size below 2**32
    if isinstance(n, int):
        return math.floor(float(n) * float(factor))
    return _floor_times_function()(n, _decimal(factor))


def _decimal(factor: float) -> Any:
    """The shortest decimal that reads back as this double (0.7 -> 7/10), for printing."""
    import sympy

    return sympy.Rational(repr(float(factor)))


def _evaluate_floor_times(cls: Any, n: Any, factor: Any) -> Any:
    """floor(float(n) * float(factor)) once n is a whole number; None keeps it a formula."""
    import sympy

    if n.is_Integer:
        return sympy.Integer(math.floor(float(n) * float(factor)))
    return None


@functools.cache
def _floor_times_function() -> Any:
    import sympy

    class floor_times(sympy.Function):  # noqa: N801 - the name sympy prints when nothing else does
        """floor(float(n) * float(factor)), evaluated as soon as n is a whole number."""

        is_integer = True
        is_nonnegative = True

        # sympy's hook for evaluating a function on its arguments (its name, not Python's eval builtin).
        eval = classmethod(_evaluate_floor_times)

        def _sympystr(self, printer: Any) -> str:
            n, factor = self.args
            inner = printer.parenthesize(n, sympy.printing.precedence.PRECEDENCE["Mul"])
            return f"floor({float(factor)!r}*{inner})"

    return floor_times
