"""`Record`: the plain value class used on the start-up path instead of `dataclasses.dataclass`.

A dataclass costs about a millisecond to create at import (it writes and compiles its methods),
and paramcalc has a dozen on the path of every command: together a tenth of the start-up time.
A `Record` subclass lists its fields in `__slots__` and writes its `__init__` by hand; this base
gives it what the dataclass gave: comparison by value, a readable repr and `replace`. Records are
treated as immutable by convention (nothing assigns to a field after `__init__`)."""

from __future__ import annotations

from typing import Any, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self), self._fields()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed, like `dataclasses.replace`."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return type(self)(**values)
