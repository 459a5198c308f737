"""Numbers that may be symbolic. With free input dimensions (`input: [H, W, 3]`) sizes are sympy
expressions; everywhere else they are plain ints. These helpers keep the layer code the same for
both: sympy is imported only when a value already is a sympy object."""

from __future__ import annotations

from typing import Any

Number = Any  # int, or a sympy expression when the spec has free dimensions


def is_symbolic(x: Any) -> bool:
    return not isinstance(x, int)


def certainly_below(x: Number, bound: int) -> bool:
    """x < bound, when that can be decided; an undecidable symbolic comparison counts as False."""
    if isinstance(x, int):
        return x < bound
    try:
        return bool(x < bound)
    except TypeError:
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


def remainder(a: Number, b: int) -> int:
    """a mod b for ints; 0 (nothing to warn about) when a is symbolic."""
    if isinstance(a, int):
        return a % b if a >= 0 else 0
    return 0


def certainly_different(a: Number, b: Number) -> bool:
    """Two sizes that cannot be equal (for symbolic ones: their difference simplifies to non-zero)."""
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    import sympy

    difference = sympy.simplify(a - b)
    return difference.is_zero is False
