"""`paramcalc check --update`: write computed figures into a spec's `expect:` block, in place.

The file is edited as text at the exact character spans of the values that differ, so comments,
key order and formatting everywhere else stay byte-identical. Figures that already hold (within
their tolerance) are left as written: a paper's rounded figure is worth keeping.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from paramcalc.check import FigureCheck, check_report
from paramcalc.engine import analyze
from paramcalc.errors import Location, SpecError
from paramcalc.report import Report
from paramcalc.spec.loader import STDIN, read_source, spec_from_node
from paramcalc.spec.yamlnodes import parse_yaml


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def shape_yaml(shape: tuple[int | None, ...]) -> str:
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def new_block(report: Report, newline: str) -> str:
    lines = ["expect:  # written by paramcalc check --update",
             f"  params: {report.total_params}",
             f"  macs: {report.total_macs}",
             f"  output_shape: {shape_yaml(report.output_shape)}"]
    return newline.join(lines) + newline


def update_text(text: str, source: str) -> tuple[str, list[Change]]:
    """The spec text with its failing figures replaced by the computed ones (or a new block)."""
    root = parse_yaml(text, source)
    if root is None:
        raise SpecError("the spec is empty", Location(source, 1, 1), "write the spec first.")
    spec = spec_from_node(root)
    report = analyze(spec)
    newline = "\r\n" if "\r\n" in text else "\n"
    if spec.expectations is None:
        sep = "" if text.endswith(("\n", "\r")) or not text else newline
        return text + sep + new_block(report, newline), [Change("expect", "", "params, macs, output_shape")]
    edits: list[tuple[int, int, str, FigureCheck]] = []
    for figure in check_report(report, spec.expectations):
        if figure.passed or figure.actual is None:
            continue  # holds already, or names a layer that is gone: a person must decide
        value = shape_yaml(figure.actual) if isinstance(figure.actual, tuple) else str(figure.actual)
        start, end = figure.expectation.span
        edits.append((start, end, value, figure))
    changes = []
    for start, end, value, figure in sorted(edits, key=lambda e: e[0], reverse=True):
        changes.append(Change(figure.expectation.label, text[start:end], value))
        text = text[:start] + value + text[end:]
    return text, list(reversed(changes))


def update_file(path: str) -> list[Change]:
    if path == STDIN:
        raise SpecError("--update cannot rewrite standard input", Location(path), "give the spec's file path.")
    text, source = read_source(path)
    new_text, changes = update_text(text, source)
    if new_text != text:
        bom = codecs.BOM_UTF8 if Path(path).read_bytes().startswith(codecs.BOM_UTF8) else b""
        Path(path).write_bytes(bom + new_text.encode("utf-8"))
    return changes
