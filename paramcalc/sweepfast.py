"""Compute once, evaluate many: a sweep's figures as formulas of the swept sizes.

A swept variable that the spec uses only as an input dimension (MobileNet's `res` in
`input: [res, res, 3]`) is made a free dimension: the engine analyses the spec once, with the
variable as a symbol, and every figure of the sweep's rows becomes a formula (sympy) in it. Each
formula is compiled into a small tree of Python closures (no eval, no lambdify) that computes it
exactly (ints and fractions) for one combination in microseconds.

The analysis with symbols is only valid where the concrete one would take the same path: the
checks that a symbolic size leaves undecided (layers/sym.py `GUARDS`: a size that must be at
least 1, two sizes that must be equal, a size that must divide evenly) and every symbolic size of
every layer being at least 2 (where a size of 1 would broadcast, or be refused) become guards,
checked per combination; a combination that fails one, and a group whose symbolic analysis fails
at all, get the full analysis, as before. Variables used anywhere else (`filters: "int(64 * alpha)"`, `repeat: depth`,
`when:`) keep their values: the combinations that share them share one symbolic analysis."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from typing import Any

from paramcalc.spec.yamlnodes import Node

Env = Mapping[str, int]
Compiled = Callable[[Env], Any]
POSITIVE = re.compile(r"^[1-9][0-9]*$")  # values a free dimension may take (`0224` is YAML's octal: no)
MIN_VALUES = 4  # fewer values than this: a symbolic analysis costs more than it saves


class Unsupported(Exception):
    """A formula the closures do not cover: the group falls back to the full analysis."""


def input_only(root: Node, sets: Mapping[str, list[str]]) -> list[str]:
    """The swept variables that the spec uses only as whole input dimensions, and whose values are
    all positive whole numbers: they can be symbols."""
    top = root.value if root.is_map else {}
    shapes = [top["input"]] if "input" in top else list(top["inputs"].value.values()) if (
        "inputs" in top and top["inputs"].is_map) else []
    dims = {id(item) for shape in shapes if shape.is_list for item in shape.value}
    found = []
    for name, values in sets.items():
        if len(values) < MIN_VALUES or not all(POSITIVE.match(v) for v in values):
            continue
        word = re.compile(rf"\b{re.escape(name)}\b")
        uses = [node for node in _scalars(root, skip=top.get("vars")) if word.search(str(node.value))]
        keys = any(name in node.value for node in _maps(root) if node is not top.get("vars"))
        if uses and not keys and all(id(node) in dims and node.value == name for node in uses):
            found.append(name)
    return found


def _scalars(node: Node, skip: Node | None) -> Iterator[Node]:
    """Every scalar holding text, except under `skip` (the vars: block, whose entries are overridden)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is skip:
            continue
        if isinstance(current.value, dict):
            stack.extend(current.value.values())
        elif isinstance(current.value, list):
            stack.extend(current.value)
        elif isinstance(current.value, str):
            yield current


def _maps(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current.value, dict):
            yield current
            stack.extend(current.value.values())
        elif isinstance(current.value, list):
            stack.extend(current.value)


def without_vars(root: Node, names: list[str]) -> Node:
    """The spec with `names` removed from its vars: block, so that they become free dimensions."""
    vars_node = root.value.get("vars")
    if vars_node is None or not vars_node.is_map:
        return root
    kept = {k: v for k, v in vars_node.value.items() if k not in names}
    new_vars = Node(kept, vars_node.loc, {k: loc for k, loc in vars_node.key_locs.items() if k in kept})
    return Node({**root.value, "vars": new_vars}, root.loc, root.key_locs)


# ---- sympy formulas -> closures ------------------------------------------------------------------

class Slots:
    """Sub-formulas that several figures share (ceiling(res/2), floor(ceiling(res/2)/16), ...), each
    computed once per combination into the environment, inner ones first, then read by name."""

    def __init__(self) -> None:
        self.names: dict[Any, str] = {}
        self.order: list[tuple[str, Compiled]] = []

    def fill(self, env: Env) -> dict[str, Any]:
        values = dict(env)
        for name, fn in self.order:
            values[name] = fn(values)
        return values


def compile_formula(value: Any, names: frozenset[str], slots: Slots | None = None) -> Compiled:
    """A closure computing `value` (an int, or a sympy expression in the symbols `names`) exactly,
    from an environment that `slots.fill` made (when given)."""
    if isinstance(value, int) or value is None:
        return _const(value)
    fn = _compile(value, names, slots)
    if hasattr(fn, "const"):
        return _const(_whole(fn.const))
    return lambda env: _whole(fn(env))


def _const(value: Any) -> Compiled:
    def fn(env: Env) -> Any:
        return value

    fn.const = value  # type: ignore[attr-defined]  # (what products and sums fold)
    return fn


def _read(name: str) -> Compiled:
    def fn(env: Env) -> Any:
        return env[name]

    fn.key = name  # type: ignore[attr-defined]  # (what powers and products read directly)
    return fn


def _whole(value: Any) -> Any:
    if value.__class__ is Fraction:
        if value.denominator != 1:
            raise Unsupported(f"a figure is not whole: {value}")
        return value.numerator
    return value


def _compile(e: Any, names: frozenset[str], slots: Slots | None = None) -> Compiled:
    """A closure of one node; a floor or ceiling is a slot (computed once per combination) when
    there are slots."""
    import sympy

    if slots is not None and isinstance(e, (sympy.floor, sympy.ceiling)):
        name = slots.names.get(e)
        if name is None:
            fn = _compile_node(e, names, slots)  # its arguments first: inner slots come before it
            name = slots.names[e] = f"#{len(slots.names)}"  # not an identifier: never a variable's name
            slots.order.append((name, fn))
        return _read(name)
    return _compile_node(e, names, slots)


def _compile_node(e: Any, names: frozenset[str], slots: Slots | None) -> Compiled:  # noqa: C901
    """One branch per kind of node."""
    import sympy

    if e.is_Integer:
        return _const(int(e))
    if e.is_Rational:
        return _const(Fraction(int(e.p), int(e.q)))
    if e.is_Symbol:
        if e.name not in names:
            raise Unsupported(f"`{e.name}` is not swept")
        return _read(e.name)
    parts = [_compile(arg, names, slots) for arg in e.args]
    if e.is_Add:
        return _sum(parts)
    if e.is_Mul:
        return _product(parts)
    if e.is_Pow:
        base = parts[0]
        if not e.args[1].is_Integer:
            raise Unsupported(f"a power {e}")
        k = int(e.args[1])
        if k < 0:
            return lambda env: Fraction(1) / base(env) ** -k
        if hasattr(base, "key"):
            key = base.key
            return lambda env: env[key] ** k
        return lambda env: base(env) ** k
    if isinstance(e, (sympy.floor, sympy.ceiling)):
        return _rounding(e, parts[0], isinstance(e, sympy.floor), names, slots)
    if isinstance(e, sympy.Max):
        return lambda env: max(part(env) for part in parts)
    if isinstance(e, sympy.Min):
        return lambda env: min(part(env) for part in parts)
    if isinstance(e, sympy.Mod):
        a, b = parts
        return lambda env: a(env) % b(env)
    if getattr(e.func, "__name__", "") == "floor_times":  # layers/sym.py: floor(float(n) * float(factor))
        n_of, factor = parts[0], float(e.args[1])
        return lambda env: math.floor(float(n_of(env)) * factor)
    raise Unsupported(f"a formula with {e.func}")


def _sum(parts: list[Compiled]) -> Compiled:
    c = sum(part.const for part in parts if hasattr(part, "const"))
    rest = [part for part in parts if not hasattr(part, "const")]
    if not rest:
        return _const(c)
    if len(rest) == 1:
        a = rest[0]
        return (lambda env: c + a(env)) if c else a
    if len(rest) == 2:
        a, b = rest
        return lambda env: c + a(env) + b(env)
    return lambda env: c + sum([part(env) for part in rest])


def _product(parts: list[Compiled]) -> Compiled:
    c = math.prod(part.const for part in parts if hasattr(part, "const"))
    rest = [part for part in parts if not hasattr(part, "const")]
    if not rest or c == 0:
        return _const(c)
    if len(rest) == 1:
        a = rest[0]
        if c == 1:
            return a
        if hasattr(a, "key"):
            key = a.key
            return lambda env: c * env[key]
        return lambda env: c * a(env)
    if len(rest) == 2:
        a, b = rest
        return lambda env: c * a(env) * b(env)
    return lambda env: c * math.prod([part(env) for part in rest])


def _rounding(e: Any, inner: Compiled, down: bool, names: frozenset[str], slots: Slots | None) -> Compiled:
    """floor(x / q) and ceiling(x / q) of a whole x by integer division (the commonest case)."""
    arg = e.args[0]
    if arg.is_Mul and len(arg.args) == 2 and arg.args[0].is_Rational and arg.args[0].p == 1:
        q = int(arg.args[0].q)
        x = _compile(arg.args[1], names, slots)
        if down:
            return lambda env: _floordiv(x(env), q)
        return lambda env: -_floordiv(-x(env), q)
    if down:
        return lambda env: math.floor(inner(env))
    return lambda env: math.ceil(inner(env))


def _floordiv(x: Any, q: int) -> Any:
    return x // q if x.__class__ is int else math.floor(Fraction(x) / q)


class Formulas:
    """A group's figures and guards as closures of the swept sizes."""

    __slots__ = ("figures", "shape", "guards", "slots")

    def __init__(self, figures: dict[str, Compiled], shape: list[Compiled], guards: list[Compiled],
                 slots: Slots) -> None:
        self.figures = figures
        self.shape = shape  # the output shape's entries
        self.guards = guards  # all true: the symbolic analysis holds for this combination
        self.slots = slots

    def evaluate(self, values: Env) -> dict[str, Any] | None:
        """The figures for these values of the symbols, or None where a guard fails."""
        env = self.slots.fill(values)
        for guard in self.guards:
            if not guard(env):
                return None
        found = {key: fn(env) for key, fn in self.figures.items()}
        found["output_shape"] = [fn(env) for fn in self.shape]
        return found


def compile_group(figures: dict[str, Any], guards: list[tuple[str, Any, Any]], sizes: list[Any],
                  names: list[str]) -> Formulas:
    """Compile a symbolic report's figures (output_shape a list), the recorded guards and the
    symbolic layer sizes (each must be at least 2) into closures of the variables `names`."""
    allowed = frozenset(names)
    slots = Slots()
    compiled = {key: compile_formula(value, allowed, slots) for key, value in figures.items()
                if key != "output_shape"}
    shape = [compile_formula(value, allowed, slots) for value in figures["output_shape"]]
    checks: list[Compiled] = []
    seen: set[Any] = set()
    for test, a, b in guards:
        if (test, a, b) in seen:
            continue
        seen.add((test, a, b))
        fa, fb = _raw(a, allowed, slots), _raw(b, allowed, slots)
        checks.append(_at_least(fa, fb) if test == "at_least" else _equal(fa, fb) if test == "equal"
                      else _divisible(fa, fb))
    two = _const(2)
    for size in sizes:
        if size in seen:
            continue
        seen.add(size)
        checks.append(_at_least(_raw(size, allowed, slots), two))
    return Formulas(compiled, shape, checks, slots)


def _raw(value: Any, names: frozenset[str], slots: Slots) -> Compiled:
    """A closure of a value as it is (a guard compares exact fractions too)."""
    return _const(value) if isinstance(value, int) else _compile(value, names, slots)


def _at_least(a: Compiled, b: Compiled) -> Compiled:
    if hasattr(b, "const"):
        bound = b.const
        return lambda env: a(env) >= bound
    return lambda env: a(env) >= b(env)


def _equal(a: Compiled, b: Compiled) -> Compiled:
    return lambda env: a(env) == b(env)


def _divisible(a: Compiled, b: Compiled) -> Compiled:
    return lambda env: a(env) % b(env) == 0


def symbolic_sizes(report: Any) -> list[Any]:
    """Every size of every layer's input and outputs that is a formula (not a number)."""
    found: dict[Any, None] = {}
    for row in report.rows:
        for shape in (row.input_shape, *row.output_shapes):
            for d in shape:
                if d is not None and not isinstance(d, int):
                    found[d] = None
    return list(found)
