"""Errors that carry a place in the spec and a fix, so the CLI can print one clear paragraph."""

from __future__ import annotations

from typing import NamedTuple


class Location(NamedTuple):
    """A place in a spec file; line and column are 1-based, as editors count them. (A named tuple:
    a spec has one per YAML value, and tuples are the cheapest immutable records Python makes.)"""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class ParamcalcError(Exception):
    """Any problem with a spec or with how paramcalc was called. Never a bug in paramcalc."""

    def __init__(self, message: str, loc: Location | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint

    def describe(self) -> str:
        """One paragraph: where, what, and how to fix it."""
        where = f"{self.loc}: " if self.loc else ""
        text = f"{where}error: {self.message}"
        if self.hint:
            text += ("" if text.endswith((".", "?", ":")) else ".") + f" Fix: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.describe()

    def each(self) -> list[ParamcalcError]:
        """The individual errors (several when a spec has several independent mistakes)."""
        return [self]


class SpecError(ParamcalcError):
    """The spec file cannot be read or says something paramcalc does not understand."""


class UnknownLayerError(SpecError):
    """A layer kind that is not in the registry (never silently counted as zero)."""


class ArgumentError(SpecError):
    """A layer argument that is missing, unknown, or of the wrong type or range."""


class ShapeError(ParamcalcError):
    """The layers are valid on their own, but the shapes flowing through them do not fit."""


class SpecErrors(ParamcalcError):
    """Several independent mistakes found in one run, like a compiler: one paragraph each."""

    def __init__(self, errors: list[ParamcalcError]) -> None:
        super().__init__(f"{len(errors)} errors", errors[0].loc, None)
        self.errors = errors

    def describe(self) -> str:
        return "\n".join(e.describe() for e in self.errors)

    def each(self) -> list[ParamcalcError]:
        return list(self.errors)
