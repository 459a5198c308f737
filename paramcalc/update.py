"""`paramcalc check --update`: write computed figures into a spec's `expect:` block, in place.

The file is edited as text at the exact character spans of the values that differ, so comments,
key order and formatting everywhere else stay byte-identical. Figures that already hold (within
their tolerance) are left as written: a paper's rounded figure is worth keeping. A value that is
replaced keeps the way it was written: `40_813_184` stays grouped with underscores, `"61,706"` with
commas, `569e6` in scientific notation, and a rounded `175.0B` with a tolerance stays a rounded
figure in the same unit that holds within that tolerance.
"""

from __future__ import annotations

import codecs
import re
from fractions import Fraction
from pathlib import Path

from paramcalc.check import Change, FigureCheck, check_report
from paramcalc.conventions import apply
from paramcalc.engine import analyze
from paramcalc.errors import Location, SpecError
from paramcalc.report import Report
from paramcalc.spec.expect import SUFFIXES, Expectation, Tolerance
from paramcalc.spec.loader import STDIN, read_source, spec_from_node
from paramcalc.spec.yamlnodes import parse_yaml

_DIGITS = re.compile(r"[+-]?\d+")
_UNDERSCORED = re.compile(r"[+-]?\d{1,3}(_\d{3})+")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d+)?([eE])[+-]?\d+")
_WHOLE_FLOAT = re.compile(r"[+-]?\d+\.(0+)")
_ROUNDED = re.compile(r"(\d+)(?:\.(\d+))?(\s*)([KMGBT])")
MAX_DECIMALS = 12


def shape_yaml(shape: tuple[int | None, ...]) -> str:
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def new_block(report: Report, newline: str) -> str:
    lines = ["expect:  # written by paramcalc check --update",
             f"  params: {report.total_params}",
             f"  macs: {report.convention_total}",
             f"  output_shape: {shape_yaml(report.output_shape)}"]
    return newline.join(lines) + newline


def restyle(written: str, value: int, tolerance: Tolerance | None) -> str:
    """`value` written the way `written` was (quotes, grouping, notation, rounding)."""
    quote = written[0] if written[:1] in ("'", '"') and written.endswith(written[0]) and len(written) > 1 else ""
    text = written[1:-1] if quote else written
    return quote + _count_text(text.strip(), value, tolerance) + quote


def _count_text(text: str, value: int, tolerance: Tolerance | None) -> str:
    if _UNDERSCORED.fullmatch(text):
        return f"{value:_}"
    if _GROUPED.fullmatch(text):
        return f"{value:,}"
    whole = _WHOLE_FLOAT.fullmatch(text)
    if whole:
        return f"{value}.{whole.group(1)}"
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        digits = str(value).rstrip("0") or "0"
        zeros = len(str(value)) - len(digits) if value else 0
        return f"{digits}{scientific.group(2)}{zeros}" if zeros else str(value)
    rounded = _ROUNDED.fullmatch(text)
    if rounded and tolerance is not None:
        return _rounded_text(value, len(rounded.group(2) or ""), rounded.group(3), rounded.group(4), tolerance)
    return str(value)


def _rounded_text(value: int, decimals: int, space: str, suffix: str, tolerance: Tolerance) -> str:
    """`value` in the unit `suffix` with as many decimals as written, more if needed to hold within
    the tolerance (taken of the written figure, which is the expectation)."""
    unit = SUFFIXES[suffix]
    for places in range(decimals, MAX_DECIMALS + 1):
        scale = 10**places
        scaled = round(Fraction(value * scale, unit))  # the figure in `unit`, times 10**places
        written = scaled * unit // scale  # as the loader reads it back (int() of the decimal)
        if written and abs(value - written) <= tolerance.allowance(written):
            whole, fraction = divmod(scaled, scale)
            return f"{whole}.{fraction:0{places}d}{space}{suffix}" if places else f"{whole}{space}{suffix}"
    return str(value)


def new_value(figure: FigureCheck, written: str) -> str:
    actual = figure.actual
    if isinstance(actual, tuple):
        return shape_yaml(actual)
    assert isinstance(actual, int)
    return restyle(written, actual, figure.expectation.tolerance)


def update_text(text: str, source: str, convention: str = "paper") -> tuple[str, list[Change]]:
    """The spec text with its failing figures replaced by the computed ones (or a new block)."""
    root = parse_yaml(text, source)
    if root is None:
        raise SpecError("the spec is empty", Location(source, 1, 1), "write the spec first.")
    spec = spec_from_node(root)
    report = apply(analyze(spec), convention)  # `macs:` as `check --convention` compares it
    report.require_numbers("paramcalc check --update")
    newline = "\r\n" if "\r\n" in text else "\n"
    if spec.expectations is None:
        sep = "" if text.endswith(("\n", "\r")) or not text else newline
        block = new_block(report, newline)
        line = text.count("\n") + 1 + (1 if sep else 0)
        return text + sep + block, [Change("expect", "", "params, macs, output_shape", Location(source, line, 1))]
    edits: list[tuple[Expectation, str, str]] = []
    for figure in check_report(report, spec.expectations):
        if figure.passed or figure.actual is None:
            continue  # holds already, or names a layer that is gone: a person must decide
        start, end = figure.expectation.span
        written = text[start:end]
        edits.append((figure.expectation, written, new_value(figure, written)))
    for expectation, _, value in sorted(edits, key=lambda e: e[0].span[0], reverse=True):
        start, end = expectation.span
        text = text[:start] + value + text[end:]
    return text, [Change(e.label, old, new, e.loc) for e, old, new in edits]


def update_file(path: str, convention: str = "paper") -> list[Change]:
    if path == STDIN:
        raise SpecError("--update cannot rewrite standard input", Location(path), "give the spec's file path.")
    if path.startswith("zoo:"):
        name = path.removeprefix("zoo:")
        raise SpecError(f"--update cannot rewrite the bundled spec `{path}`", Location(path),
                        f"copy it first (`paramcalc zoo {name} > {name}.yaml`) and update the copy.")
    text, source = read_source(path)
    new_text, changes = update_text(text, source, convention)
    if new_text != text:
        bom = codecs.BOM_UTF8 if Path(path).read_bytes().startswith(codecs.BOM_UTF8) else b""
        Path(path).write_bytes(bom + new_text.encode("utf-8"))
    return changes
