"""Sweeps: a spec computed for every combination of --set values (the cartesian product).

The rows come from a generator, one combination at a time (memory stays flat):

    for point in iter_sweep_rows("specs/mobilenet_v1.yaml", {"alpha": ["1", "0.5"], "res": ["224", "160"]}):
        point.values  # {"alpha": "1", "res": "224"}: as given
        point.row     # {"alpha": 1, "res": 224, "params": ..., "macs": ..., "output_shape": [None, 1000], ...}

`extra={"name": function_of_a_report}` adds figures (applied to the symbolic report when the sweep
evaluates formulas, so it should compute with sympy values too, e.g. layers/sym.py `maximum`; where
it fails, those combinations are analysed in full); `reports=True` gives each row its full Report.
paramcalc/sweepfast.py explains how swept input sizes are evaluated from formulas."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from paramcalc.engine import analyze
from paramcalc.errors import Location, SpecError
from paramcalc.record import Record
from paramcalc.report import BYTES_PER_VALUE, Report
from paramcalc.spec.expand import MAX_LAYERS
from paramcalc.spec.loader import STDIN_NAME, read_source, spec_from_node
from paramcalc.spec.model import Spec
from paramcalc.spec.yamlnodes import MAX_NODES, parse_yaml

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


FIGURES = ("params", "trainable_params", "macs", "flops", "activations", "activation_bytes", "output_shape")
Extra = Mapping[str, Callable[[Report], Any]]  # more figures of a report, by name (issue 17's memory, ...)


class SweepRow(Record):
    """One combination of a sweep: the values given, and its row: the variables as numbers, then
    FIGURES (and any extra figures). `report` is the full report when `iter_sweep_rows` was asked
    for reports (else None: most rows are evaluated from formulas, without one)."""

    __slots__ = ("values", "row", "report")

    def __init__(self, values: dict[str, str], row: dict[str, Any], report: Report | None = None) -> None:
        self.values = values  # variable -> the value given on the command line
        self.row = row
        self.report = report


def number(text: str) -> int | float | str:
    """A --set value as the number it is (JSON and CSV then hold 0.25, not "0.25"); other text as written."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def report_figures(report: Report, extra: Extra | None = None, derived: bool = True) -> dict[str, Any]:
    """A report's figures as a sweep row holds them (symbolic when the report is); without the
    `derived` ones (flops, activation_bytes: multiples of others) when not asked for."""
    found = {"params": report.total_params, "trainable_params": report.trainable_params, "macs": report.total_macs,
             "activations": report.activations, "output_shape": list(report.output_shape)}
    if derived:
        found["flops"], found["activation_bytes"] = report.total_flops, report.activations * BYTES_PER_VALUE
    for key, figure in (extra or {}).items():
        found[key] = figure(report)
    return found


def combinations(sets: dict[str, list[str]]) -> Iterator[dict[str, str]]:
    names = list(sets)
    for combo in itertools.product(*(sets[n] for n in names)):
        yield dict(zip(names, combo))


def count(sets: dict[str, list[str]]) -> int:
    total = 1
    for values in sets.values():
        total *= len(values)
    return total


def check_count(sets: dict[str, list[str]]) -> int:
    total = count(sets)
    if total > MAX_COMBINATIONS:
        raise SpecError(f"the sweep has {total:,} combinations; at most {MAX_COMBINATIONS:,} are allowed",
                        Location("--set"), "sweep fewer values at once.")
    return total


MAX_GROUPS = 4096  # symbolic analyses kept at once (one per combination of the other variables)


class Sweeper:
    """Reads the spec once and computes the rows of a sweep, one combination at a time."""

    def __init__(self, path: str, sets: dict[str, list[str]], adjust: Callable[[Spec], Spec] | None = None,
                 batch: int | None = None, extra: Extra | None = None, reports: bool = False,
                 max_layers: int = MAX_LAYERS, max_values: int = MAX_NODES) -> None:
        self.sets, self.adjust, self.batch, self.extra, self.reports = sets, adjust, batch, extra, reports
        self.max_layers = max_layers
        self.total = check_count(sets)
        text, source = read_source(path)
        root = parse_yaml(text, source, max_values)
        if root is None:
            raise SpecError("the spec is empty", Location(source, 1, 1), "write the spec first.")
        self.root = root
        self.default_name = "model" if source == STDIN_NAME else os.path.splitext(os.path.basename(source))[0]
        self.symbols: list[str] = []
        self.groups: dict[tuple[str, ...], Any] = {}
        self.symbolic_rows = 0  # how many rows came from formulas (for tests and benchmarks)
        self.numbers: dict[str, int | float | str] = {}  # each value given, as a number (a million rows)
        if not reports:
            from paramcalc.sweepfast import input_only

            symbols = input_only(root, sets)
            others = [n for n in sets if n not in symbols]
            groups = count({n: sets[n] for n in others})
            trailing = list(sets)[len(others):] == symbols
            if symbols and (groups <= MAX_GROUPS or trailing):
                self.symbols = symbols

    @property
    def name(self) -> str:
        """The model's name, as the spec gives it (or its file's)."""
        node = self.root.value.get("name") if self.root.is_map else None
        if node is not None and isinstance(node.value, (str, int)) and not isinstance(node.value, bool):
            return str(node.value)
        return self.default_name

    def rows(self, progress: Callable[[int], None] | None = None) -> Iterator[SweepRow]:
        names = list(self.sets)
        for i, values in enumerate(combinations(self.sets)):
            yield self.row(values, names)
            if progress is not None:
                progress(i + 1)

    def row(self, values: dict[str, str], names: list[str]) -> SweepRow:
        numbers = self.numbers
        row: dict[str, Any] = {}
        for name in names:
            text = values[name]
            row[name] = numbers[text] if text in numbers else numbers.setdefault(text, number(text))
        if self.symbols:
            key = tuple(values[n] for n in names if n not in self.symbols)
            formulas = self.groups.get(key, False)
            if formulas is False:  # (None: known not to work)
                if len(self.groups) >= MAX_GROUPS:
                    self.groups.clear()
                formulas = self.groups[key] = self.formulas(values)
            found = formulas.evaluate({name: int(values[name]) for name in self.symbols}) if formulas else None
            if found is not None:
                row.update(found)
                row["flops"] = 2 * found["macs"]  # as report_figures has them
                row["activation_bytes"] = BYTES_PER_VALUE * found["activations"]
                self.symbolic_rows += 1
                return SweepRow(values, row)
        report = self.report(values)
        row.update(report_figures(report, self.extra))
        return SweepRow(values, row, report if self.reports else None)

    def report(self, values: dict[str, str], root: Any = None) -> Report:
        """The full analysis of one combination (with the variables of `root`, by default the spec's)."""
        spec = spec_from_node(self.root if root is None else root, self.default_name, values, self.max_layers)
        report = analyze(self.adjust(spec) if self.adjust else spec, keep_formulas=False)
        if self.batch is not None:
            from paramcalc.inputs import with_batch

            report = with_batch(report, self.batch)
        return report

    def formulas(self, values: dict[str, str]) -> Any:
        """The figures of the combinations that share `values` of the other variables, as closures of the
        symbolic ones; None when the symbolic analysis does not work for this spec (full analyses then)."""
        from paramcalc.layers import sym
        from paramcalc.sweepfast import compile_group, symbolic_sizes, without_vars

        others = {name: value for name, value in values.items() if name not in self.symbols}
        guards: list[tuple[str, Any, Any]] = []
        sym.GUARDS = guards
        try:
            report = self.report(others, without_vars(self.root, self.symbols))
            figures = report_figures(report, self.extra, derived=False)  # flops, bytes: derived per row
            return compile_group(figures, guards, symbolic_sizes(report), self.symbols)
        except Exception:  # noqa: BLE001 - any failure: the full analysis is always right
            return None
        finally:
            sym.GUARDS = None


def iter_sweep_rows(path: str, sets: dict[str, list[str]], adjust: Callable[[Spec], Spec] | None = None,
                    batch: int | None = None, progress: Callable[[int], None] | None = None,
                    extra: Extra | None = None, reports: bool = False) -> Iterator[SweepRow]:
    """The rows of a sweep, one per combination of `sets` (the cartesian product, the last variable
    changing fastest), each computed when asked for: memory stays flat whatever their number.
    `adjust` changes each spec first (the --input shapes); `batch` counts for a batch; `extra` adds
    figures of each report (functions of a Report; they are applied to the symbolic report too when
    the sweep evaluates formulas, and a function that fails there makes those rows fully analysed);
    `reports=True` gives each row its full Report (one full analysis per combination: slower)."""
    return Sweeper(path, sets, adjust, batch, extra, reports).rows(progress)


def run_sweep(path: str, sets: dict[str, list[str]], progress: Callable[[int], None] | None = None,
              adjust: Callable[[Spec], Spec] | None = None) -> list[SweepRow]:
    """Every combination's row with its full report, all held at once (the list this module gave
    before rows streamed); prefer `iter_sweep_rows`, which computes one row at a time."""
    return list(iter_sweep_rows(path, sets, adjust, progress=progress, reports=True))
