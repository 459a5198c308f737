"""`paramcalc check`: find the specs among the paths given, compare their computed figures with
their `expect:` blocks, and (with --update, through update.py) write the new figures in. Prints
nothing: render/check_report.py shows a `CheckRun`."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum

from paramcalc.errors import Location, ParamcalcError, SpecError
from paramcalc.report import LayerRow, Report
from paramcalc.spec.expect import Expectation


class Status(str, Enum):
    """The verdict on one spec; its value is the spelling in `check --format json`."""

    PASS = "pass"  # every expectation holds
    UPDATED = "updated"  # --update wrote the computed figures, which now hold
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
class Change:
    """One value `--update` wrote: the figure's label, its text before and after, and where."""

    label: str
    old: str
    new: str
    loc: Location


@dataclass(frozen=True)
class SpecCheck:
    path: str
    name: str | None
    status: Status
    figures: tuple[FigureCheck, ...] = ()
    error: ParamcalcError | None = None
    seconds: float = 0.0  # to load, compute and check it (JUnit's `time`)
    changes: tuple[Change, ...] = ()  # what --update wrote

    @property
    def failures(self) -> tuple[FigureCheck, ...]:
        return tuple(f for f in self.figures if not f.passed)

    @property
    def updatable(self) -> bool:
        """Whether `check --update` would fix it: a figure differs (not a layer that is gone), or no block."""
        return any(f.actual is not None for f in self.failures)


@dataclass(frozen=True)
class CheckRun:
    specs: tuple[SpecCheck, ...]
    strict: bool = False
    skipped: tuple[str, ...] = ()  # YAML files in the folders searched that are plainly not specs
    convention: str = "paper"  # what `macs:` was compared with (an --update command must say it too)

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
    elif figure == "active_params" and isinstance(source, LayerRow):  # a layer without experts uses all
        return source.params if source.active_params is None else source.active_params
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
    started = time.perf_counter()
    result = _check_spec(path, convention)
    return replace(result, seconds=time.perf_counter() - started)


def _check_spec(path: str, convention: str) -> SpecCheck:
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


def update_spec(result: SpecCheck, convention: str) -> SpecCheck:
    """--update on a spec that failed or had no block: write the computed figures, then check it again."""
    from paramcalc.update import update_file

    try:
        changes = tuple(update_file(result.path, convention))
    except ParamcalcError as error:
        return replace(result, status=Status.ERROR, error=error)
    again = check_spec(result.path, convention)
    updated = bool(changes) and again.status is Status.PASS
    return replace(again, status=Status.UPDATED if updated else again.status, changes=changes)


# ---- finding specs ---------------------------------------------------------------------------------

# A spec has `layers:` and `input:` or `inputs:` at its top level; a YAML file with none of them there
# (a CI workflow, a config file) is plainly not one. Block style: the key at the start of a line;
# flow style (`{input: [4], layers: [...]}`): after the opening brace or a comma.
_BLOCK_KEY = re.compile(r"""^["']?(?:layers|inputs?)["']?[ \t]*:""", re.MULTILINE)
_FLOW_KEY = re.compile(r"""[{,]\s*["']?(?:layers|inputs?)["']?\s*:""")
_FLOW_START = re.compile(r"""\A(?:\ufeff)?(?:\s*(?:#[^\n]*|---|%[^\n]*)?\n)*\s*\{""")


def looks_like_a_spec(path: str) -> bool:
    """False only for a YAML file that is plainly not a spec (no top-level `layers:`, `input:` or
    `inputs:`). A file that cannot be read counts as a spec, so that checking it reports why."""
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return True
    if _BLOCK_KEY.search(text):
        return True
    return bool(_FLOW_START.match(text) and _FLOW_KEY.search(text))


def hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def yaml_files(folder: str) -> list[str]:
    """The .yaml and .yml files under `folder`, recursively, in sorted order; hidden files and
    folders (.git, .github, .venv, ...) are not searched."""
    found = []
    for parent, folders, files in os.walk(folder):
        folders[:] = [f for f in folders if not hidden(f)]
        found += [os.path.join(parent, f) for f in files if f.endswith(SPEC_SUFFIXES) and not hidden(f)]
    return sorted(found, key=lambda path: path.split(os.sep))  # folder by folder: a/b/x.yaml before b.yaml


@dataclass(frozen=True)
class Found:
    specs: tuple[str, ...]
    skipped: tuple[str, ...]  # YAML files that are plainly not specs


def find_specs(paths: Iterable[str], skip_non_specs: bool = False) -> Found:
    """The specs to check: files as given (with `skip_non_specs`, minus the YAML files that are plainly
    not specs, as a hook that passes every YAML file wants), and the specs found in folders."""
    specs: list[str] = []
    skipped: list[str] = []
    for path in paths:
        if path != "-" and not path.startswith("zoo:") and os.path.isdir(path):
            files = yaml_files(path)
            verdicts = [looks_like_a_spec(f) for f in files]
            if not any(verdicts):
                others = f" ({plural(len(files), 'YAML file')}, none of them a spec)" if files else ""
                raise SpecError(f"the folder `{path}` holds no spec{others}", Location(path),
                                "point paramcalc check at spec files or a folder that contains them (a spec has "
                                "`input:` and `layers:` at its top level).")
            specs += [f for f, spec in zip(files, verdicts) if spec]
            skipped += [f for f, spec in zip(files, verdicts) if not spec]
        elif skip_non_specs and path.endswith(SPEC_SUFFIXES) and os.path.isfile(path) and not looks_like_a_spec(path):
            skipped.append(path)
        else:
            specs.append(path)
    return Found(tuple(specs), tuple(skipped))


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def check_paths(paths: Iterable[str], strict: bool = False, convention: str = "paper", update: bool = False,
                skip_non_specs: bool = False) -> CheckRun:
    found = find_specs(paths, skip_non_specs)
    import paramcalc.conventions  # noqa: F401  loaded before the clock starts: the first spec's time
    import paramcalc.engine  # noqa: F401  is its own, not paramcalc's start-up

    results = []
    for path in found.specs:
        result = check_spec(path, convention)
        if update and (result.status is Status.UNCHECKED or result.updatable):
            result = update_spec(result, convention)
        results.append(result)
    return CheckRun(tuple(results), strict, found.skipped, convention)


# ---- how CI tools name a spec ------------------------------------------------------------------------

def repository_root(path: str) -> str | None:
    """The root of the repository holding `path`: $GITHUB_WORKSPACE in GitHub Actions, else the nearest
    folder above it with a `.git` (a folder, or a file in a git worktree)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        return os.path.abspath(workspace)
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(os.path.join(folder, ".git")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return folder


def repository_path(path: str) -> str:
    """`path` relative to its repository's root (what GitHub annotations and CI servers need), else
    to the current folder, else as given; always with forward slashes."""
    if path == "-" or path.startswith("zoo:"):
        return path
    absolute = os.path.abspath(path)
    for base in (repository_root(path), os.getcwd()):
        if base and absolute.startswith(base.rstrip(os.sep) + os.sep):
            return os.path.relpath(absolute, base).replace(os.sep, "/")
    return path.replace(os.sep, "/")


def class_name(path: str) -> str:
    """A dotted name for JUnit's `classname`: specs/resnet50.yaml -> specs.resnet50 (CI servers take
    the last dotted part as the class, the rest as the package)."""
    if path == "-":
        return "stdin"
    if path.startswith("zoo:"):
        return "zoo." + path.removeprefix("zoo:").removesuffix(".yaml").replace(".", "_")
    stem = re.sub(r"\.ya?ml$", "", repository_path(path))
    parts = [part.replace(".", "_") for part in re.split(r"[/\\]", stem) if part not in ("", ".", "..")]
    return ".".join(parts) or "spec"
