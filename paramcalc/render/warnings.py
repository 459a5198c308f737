"""Warnings under the summary: the same cause said once, with the layers it concerns.

A standard network repeats its patterns, and so do its warnings: ResNet-50 floors its output size in
eight layers, each with its own arithmetic but the same consequence. Folded, they are one line per
cause naming the layers; `--warnings full` lists each one with its arithmetic. Pure: no rich."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

from paramcalc.report import Diagnostic


class WarningsShown(str, Enum):
    """`--warnings`: how the table shows the report's warnings."""

    SHORT = "short"  # one line per cause, naming the layers
    FULL = "full"  # one line per layer, with its arithmetic
    OFF = "off"  # none

    def __str__(self) -> str:
        return self.value


class WarningLine(NamedTuple):
    layers: tuple[str, ...]  # the layers it concerns (none: the model)
    message: str  # one layer's own message, or the cause several share
    line: int | None = None  # the spec line of a single layer


# "..., so the last 1 input row and column are never used": what a floored output size drops.
CONSEQUENCE = re.compile(r", so (.+?)(?=; |$)")
FLOORED = "is floored to"
FLOOR_CAUSE = "(N - F + 2P)/S + 1 is not whole and the output size is floored"


def cause(message: str) -> str:
    """What a warning says without the arithmetic of its layer: equal for the same cause."""
    consequences = CONSEQUENCE.findall(message)
    if FLOORED in message and consequences:
        return f"{FLOOR_CAUSE}, so {'; '.join(consequences)}"
    return message


def fold(warnings: Sequence[Diagnostic]) -> list[WarningLine]:
    """One line per cause, in the order each first appears; a cause of one layer keeps its message."""
    groups: dict[str, list[Diagnostic]] = {}
    lines: list[WarningLine | str] = []  # a str: the key of a group, filled in below
    for w in warnings:
        if w.layer is None:
            lines.append(each(w))
            continue
        key = cause(w.message)
        if key not in groups:
            groups[key] = []
            lines.append(key)
        groups[key].append(w)
    folded = []
    for line in lines:
        if isinstance(line, WarningLine):
            folded.append(line)
            continue
        group = groups[line]
        folded.append(each(group[0]) if len(group) == 1 else
                      WarningLine(tuple(w.layer for w in group if w.layer is not None), line))
    return folded


def each(w: Diagnostic) -> WarningLine:
    return WarningLine((w.layer,) if w.layer else (), w.message, w.loc.line if w.loc is not None else None)


def warning_lines(warnings: Sequence[Diagnostic], shown: WarningsShown) -> list[WarningLine]:
    if shown is WarningsShown.OFF:
        return []
    if shown is WarningsShown.FULL:
        return [each(w) for w in warnings]
    return fold(warnings)
