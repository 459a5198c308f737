"""`paramcalc check`: compare computed figures with each spec's `expect:` block (pure; no output)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from paramcalc.errors import Location, ParamcalcError, SpecError
from paramcalc.report import Report
from paramcalc.spec.expect import Expectation


class Status(str, Enum):
    """The verdict on one spec; its value is the spelling in `check --format json`."""

    PASS = "pass"  # every expectation holds
    FAIL = "fail"  # at least one figure differs
    UNCHECKED = "unchecked"  # no expect: block
    ERROR = "error"  # the spec could not be read or computed


SPEC_SUFFIXES = (".yaml", ".yml")

Actual = int | tuple[int | None, ...] | None


@dataclass(frozen=True)
class FigureCheck:
    expectation: Expectation
    actual: Actual  # None when the expectation names a layer the model does not have
    passed: bool

    @property
    def difference(self) -> int | None:
        if isinstance(self.actual, int) and isinstance(self.expectation.value, int):
            return self.actual - self.expectation.value
        return None

    @property
    def note(self) -> str:
        if self.actual is None:
            return f"the model has no layer named `{self.expectation.layer}`"
        return ""


@dataclass(frozen=True)
class SpecCheck:
    path: str
    name: str | None
    status: Status
    figures: tuple[FigureCheck, ...] = ()
    error: ParamcalcError | None = None

    @property
    def failures(self) -> tuple[FigureCheck, ...]:
        return tuple(f for f in self.figures if not f.passed)


@dataclass(frozen=True)
class CheckRun:
    specs: tuple[SpecCheck, ...]
    strict: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for s in self.specs if s.status == status)

    @property
    def exit_code(self) -> int:
        """2 if any spec could not be read (it wins), 1 if any figure differs, else 0."""
        if self.count(Status.ERROR):
            return 2
        if self.count(Status.FAIL) or (self.strict and self.count(Status.UNCHECKED)):
            return 1
        return 0


def actual_value(report: Report, expectation: Expectation) -> Actual:
    if expectation.layer is None:
        source: object = report
        shape = report.output_shape
    else:
        row = next((r for r in report.rows if r.name == expectation.layer), None)
        if row is None:
            return None
        source, shape = row, row.output_shape
    figure = expectation.figure
    if figure == "output_shape":
        wanted = expectation.value
        assert isinstance(wanted, tuple)  # the loader reads an expected output_shape as a tuple
        # A shape written without the batch dimension is compared without it.
        return shape if len(wanted) == len(shape) and wanted[0] is None else shape[1:]
    if figure == "params":
        figure = "total_params" if expectation.layer is None else "params"
    elif figure == "macs":  # `check --convention NAME`: as that convention counts (the MACs under `paper`)
        figure = "convention_total" if expectation.layer is None else "convention_count"
    elif figure == "flops":  # always 2 x MACs
        return 2 * (report.total_macs if expectation.layer is None else source.macs)  # type: ignore[attr-defined]
    return getattr(source, figure)


def passes(expectation: Expectation, actual: Actual) -> bool:
    if actual is None:
        return False
    if expectation.figure == "output_shape" or not isinstance(actual, int):
        return tuple(actual) == tuple(expectation.value)  # type: ignore[arg-type]
    expected = expectation.value
    assert isinstance(expected, int)
    if expectation.tolerance is None:
        return actual == expected
    return abs(actual - expected) <= expectation.tolerance.allowance(expected)


def check_report(report: Report, expectations: Iterable[Expectation]) -> tuple[FigureCheck, ...]:
    checks = []
    for expectation in expectations:
        actual = actual_value(report, expectation)
        checks.append(FigureCheck(expectation, actual, passes(expectation, actual)))
    return tuple(checks)


def check_spec(path: str, convention: str = "paper") -> SpecCheck:
    """Load, analyse and check one spec; any `ParamcalcError` becomes an ERROR result."""
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec

    try:
        from paramcalc.conventions import apply

        spec = load_spec(path)
        report = apply(analyze(spec, keep_formulas=False), convention)  # `macs:` as that convention counts
    except ParamcalcError as error:
        return SpecCheck(path, None, Status.ERROR, error=error)
    if spec.expectations is None:
        return SpecCheck(path, spec.name, Status.UNCHECKED)
    try:
        report.require_numbers("paramcalc check")
    except ParamcalcError as error:
        return SpecCheck(path, spec.name, Status.ERROR, error=error)
    figures = check_report(report, spec.expectations)
    return SpecCheck(path, spec.name, Status.PASS if all(f.passed for f in figures) else Status.FAIL, figures)


def spec_paths(paths: Iterable[str]) -> Iterator[str]:
    """Files as given; folders searched recursively for *.yaml and *.yml, in sorted order."""
    for path in paths:
        folder = Path(path)
        if path != "-" and folder.is_dir():
            found = sorted(p for p in folder.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                raise SpecError(f"the folder `{path}` holds no .yaml or .yml file", Location(path),
                                "point paramcalc check at spec files or a folder that contains them.")
            yield from (str(p) for p in found)
        else:
            yield path


def check_paths(paths: Iterable[str], strict: bool = False, convention: str = "paper") -> CheckRun:
    return CheckRun(tuple(check_spec(path, convention) for path in spec_paths(paths)), strict)
