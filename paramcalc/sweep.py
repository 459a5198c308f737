"""Sweeps: a spec computed for every combination of --set values (the cartesian product)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

from paramcalc.engine import analyze
from paramcalc.errors import Location, SpecError
from paramcalc.record import Record
from paramcalc.report import Report
from paramcalc.spec.loader import STDIN_NAME, read_source, spec_from_node
from paramcalc.spec.model import Spec
from paramcalc.spec.yamlnodes import parse_yaml

MAX_COMBINATIONS = 1_000_000


def split_values(text: str) -> list[str]:
    """'1,0.75,max(1,2)' -> ['1', '0.75', 'max(1,2)']: commas inside parentheses stay."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current.strip())
    return parts


def parse_sets(items: tuple[str, ...]) -> dict[str, list[str]]:
    """--set NAME=VALUE[,VALUE...] options -> {name: [values]}; a value may be a range
    start:stop[:step] (stop included), as `compare` takes them. A bad one raises SpecError."""
    found: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise SpecError(f"--set {item!r} is not NAME=VALUE", Location("--set"), "write e.g. --set alpha=0.5.")
        values = [each for v in split_values(value) if v for each in expand_range(v, name)]
        if not values:
            raise SpecError(f"--set {name} has no value", Location("--set"), "write e.g. --set alpha=0.5.")
        if name in found:
            raise SpecError(f"--set {name} is given twice", Location(f"--set {item}"),
                            f"give all its values in one option: --set {name}=A,B.")
        found[name] = values
    return found


MAX_RANGE = 10_000  # values one range may give, as `compare` allows


def expand_range(text: str, name: str) -> list[str]:
    """'0.25:1:0.25' -> ['0.25', '0.5', '0.75', '1'] (exact: decimal steps do not drift); other
    values as they are. A range is numbers only: `a:b` with names is not one."""
    from fractions import Fraction

    parts = text.split(":")
    if len(parts) not in (2, 3):
        return [text]
    try:
        start, stop, *rest = (Fraction(part.strip()) for part in parts)
    except ValueError:
        if len(parts) == 2 or not all(p.strip() for p in parts):
            return [text]
        raise SpecError(f"`{text}` is not a range of numbers", Location(f"--set {name}={text}"),
                        "write a range as start:stop:step, e.g. --set alpha=0.25:1:0.25.") from None
    step = rest[0] if rest else Fraction(1)
    where = Location(f"--set {name}={text}")
    if step <= 0 or stop < start:
        raise SpecError("a range needs start <= stop and a positive step", where,
                        "write it as start:stop:step, e.g. --set alpha=0.25:1:0.25.")
    count = int((stop - start) / step) + 1
    if count > MAX_RANGE:
        raise SpecError(f"the range gives {count:,} values; at most {MAX_RANGE:,} are allowed", where,
                        "use a larger step.")
    return [_decimal(start + i * step) for i in range(count)]


def _decimal(value: object) -> str:
    """An exact Fraction as --set would write it: 1, 0.25, or a fraction's float for 1/3 steps."""
    from fractions import Fraction

    assert isinstance(value, Fraction)
    if value.denominator == 1:
        return str(value.numerator)
    return repr(float(value))


class SweepRow(Record):
    """One combination of a sweep and its report."""

    __slots__ = ("values", "report")

    def __init__(self, values: dict[str, str], report: Report) -> None:
        self.values = values  # variable -> the value given on the command line
        self.report = report


def combinations(sets: dict[str, list[str]]) -> Iterator[dict[str, str]]:
    names = list(sets)
    for combo in itertools.product(*(sets[n] for n in names)):
        yield dict(zip(names, combo))


def count(sets: dict[str, list[str]]) -> int:
    total = 1
    for values in sets.values():
        total *= len(values)
    return total


def run_sweep(path: str, sets: dict[str, list[str]], progress: Callable[[int], None] | None = None,
              adjust: Callable[[Spec], Spec] | None = None) -> list[SweepRow]:
    """Read the spec once, then analyse it for every combination of values (each spec changed by
    `adjust` first, e.g. to the --input shapes)."""
    total = count(sets)
    if total > MAX_COMBINATIONS:
        raise SpecError(f"the sweep has {total:,} combinations; at most {MAX_COMBINATIONS:,} are allowed",
                        Location("--set"), "sweep fewer values at once.")
    text, source = read_source(path)
    root = parse_yaml(text, source)
    if root is None:
        raise SpecError("the spec is empty", Location(source, 1, 1), "write the spec first.")
    default_name = "model" if source == STDIN_NAME else os.path.splitext(os.path.basename(source))[0]
    rows = []
    for i, values in enumerate(combinations(sets)):
        spec = spec_from_node(root, default_name, values)
        rows.append(SweepRow(values, analyze(adjust(spec) if adjust else spec, keep_formulas=False)))
        if progress is not None:
            progress(i + 1)
    return rows
