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
    """Any problem with a spec or with how paramcalc was called. Never a bug in paramcalc.

    `message` says what is wrong, `hint` how to fix it; `path`, `line` and `column` say where (the
    file, or for a spec given as a Python dict the place in it: `<dict>['layers'][0]['Dense']`)."""

    def __init__(self, message: str, loc: Location | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint
        # Set by the engine for a mistake found in a layer (names for the message, see `found_in`).
        self.layer: str | None = None
        self.block_path: tuple[tuple[str, str], ...] = ()  # enclosing block instances: (name, block)
        self.origin = ""  # where the wrong value came from: "--set alpha=-1"
        self.repeats: tuple[str, ...] = ()  # other layers where the same line gives the same mistake

    @property
    def path(self) -> str | None:
        return self.loc.file if self.loc else None

    @property
    def line(self) -> int | None:
        return self.loc.line if self.loc else None

    @property
    def column(self) -> int | None:
        return self.loc.column if self.loc else None

    @property
    def errors(self) -> list[ParamcalcError]:
        """The individual mistakes (several when a spec has several independent ones)."""
        return self.each()

    def found_in(self, layer: str, block_path: tuple[tuple[str, str], ...] = (), origin: str = "") -> ParamcalcError:
        """Say which layer (and block instance) the mistake was found in, and where its value came from."""
        self.layer, self.block_path, self.origin = layer, block_path, origin
        return self

    def context(self) -> str:
        """' (in block instance `b1`, layer `b1.conv`; the value comes from --set alpha=-1)', or ''."""
        parts = []
        if self.block_path:
            instance, block = self.block_path[-1]
            kind = "" if instance.startswith(block) else f" (a `{block}`)"
            parts.append(f"in layer `{self.layer}` of block instance `{instance}`{kind}")
        if self.repeats:
            shown = ", ".join(f"`{name}`" for name in self.repeats[:3]) + (", ..." if len(self.repeats) > 3 else "")
            parts.append(f"the same line fails in {len(self.repeats)} more "
                         f"{'instance' if self.block_path else 'layer'}{'s' if len(self.repeats) > 1 else ''}: {shown}")
        if self.origin:
            parts.append(f"the value comes from {self.origin}")
        return f" ({'; '.join(parts)})" if parts else ""

    def describe(self) -> str:
        """One paragraph: where, what, and how to fix it."""
        where = f"{self.loc}: " if self.loc else ""
        text = f"{where}error: {self.message}{self.context()}"
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


class ShapeError(SpecError):
    """The layers are valid on their own, but the shapes flowing through them do not fit."""


class SpecErrors(SpecError):
    """Several independent mistakes found in one run, like a compiler: one paragraph each."""

    def __init__(self, errors: list[ParamcalcError]) -> None:
        super().__init__(f"{len(errors)} errors", errors[0].loc, None)
        self.found = errors

    def describe(self) -> str:
        return "\n".join(e.describe() for e in self.found)

    def each(self) -> list[ParamcalcError]:
        return list(self.found)


def combined(errors: list[ParamcalcError]) -> ParamcalcError:
    """The errors of one run as one exception. The same line failing in several layers (the
    instances of a block, the copies of a `repeat:`) is one mistake: reported once, at its first
    layer, naming the others."""
    first_at: dict[tuple[Location | None, type], ParamcalcError] = {}
    kept: list[ParamcalcError] = []
    for error in errors:
        key = (error.loc, type(error))
        first = first_at.get(key)
        if first is None or error.layer is None:
            first_at.setdefault(key, error)
            kept.append(error)
            continue
        repeated = error.block_path[-1][0] if error.block_path else error.layer
        first.repeats = (*first.repeats, repeated)
    return kept[0] if len(kept) == 1 else SpecErrors(kept)
