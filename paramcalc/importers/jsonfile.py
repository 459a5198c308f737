"""A JSON file that can say where each of its values is written, so that an import error points at
the line and column of the offending value (`model.json:41:22: error: ...`).

The values come from `json.loads` (the standard reader, fast, exact on escapes like `\\/`); the
places are found only when an error needs one, by a second, small scan of the text that records
where each value and key starts (path -> offset). Errors are rare, so a file that imports pays
nothing for them. A column counts characters from 1 (a tab is one), as Python's json module does."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Any

from paramcalc.errors import Location

Key = str | int
Path = tuple[Key, ...]
_SPACE = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a string with its escapes, as written
# a number or a literal, as json.loads accepts them (NaN and Infinity included)
_ATOM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity")
_FIX = "write valid JSON (no trailing commas, double-quoted keys and strings), or write the file again from " \
       "the framework (`model.to_json()`, `config.save_pretrained`)."


class JsonSyntaxError(ValueError):
    """Text that is not JSON, at a place in it."""

    def __init__(self, message: str, loc: Location) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


class JsonFile:
    """The values of a JSON text (`data`) and, on demand, the place of any value in it."""

    def __init__(self, label: str, text: str, data: Any) -> None:
        self.label = label  # the name errors give the file: `model.json`, `model.keras!config.json`
        self.text = text
        self.data = data
        self._places: tuple[dict[Path, int], dict[Path, int]] | None = None
        self._lines: list[int] | None = None

    def at(self, container: Any, key: Key | None = None, on_key: bool = False) -> Location:
        """Where `container[key]` is written (its key's place with `on_key`), or `container` itself
        when `key` is None or missing. `container` must be an object or array of `data` itself (found
        by identity); an unknown one gives the start of the file."""
        path = path_to(self.data, container)
        if path is None:
            return self.location(0)
        values, keys = self.places()
        if key is None:
            return self.location(values.get(path, 0))
        member = (*path, key)
        if member in values:
            return self.location((keys if on_key and member in keys else values)[member])
        return self.location(values.get(path, 0))

    def places(self) -> tuple[dict[Path, int], dict[Path, int]]:
        if self._places is None:
            self._places = offsets(self.text)
        return self._places

    def location(self, offset: int) -> Location:
        if self._lines is None:
            self._lines = [index for index, char in enumerate(self.text) if char == "\n"]
        line = bisect_right(self._lines, offset - 1)  # newlines before the offset
        start = self._lines[line - 1] + 1 if line else 0
        return Location(self.label, line + 1, offset - start + 1)


def read_json(label: str, data: bytes) -> JsonFile:
    """The JSON in `data`, or a JsonSyntaxError at the place where it stops being JSON."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        before = data[:bad.start]
        line = before.count(b"\n")
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise JsonSyntaxError("the file is not UTF-8 text (a JSON file is)",
                              Location(label, line + 1, column)) from None
    try:
        return JsonFile(label, text, json.loads(text))
    except json.JSONDecodeError as bad:
        where = JsonFile(label, text, None)
        comma = trailing_comma(text, bad.pos)
        if comma is not None:
            raise JsonSyntaxError(f"a trailing comma before `{text[bad.pos]}` is not JSON",
                                  where.location(comma)) from None
        if not text.strip():
            raise JsonSyntaxError("the file is empty", where.location(0)) from None
        if bad.msg.startswith("Invalid control character"):
            raise JsonSyntaxError("a string holds a raw control character (a tab or a line break); JSON writes it "
                                  "as `\\t` or `\\n`", where.location(bad.pos)) from None
        if not text[bad.pos:].strip():
            raise JsonSyntaxError("the file ends in the middle of a JSON value (is it cut short?)",
                                  where.location(bad.pos)) from None
        raise JsonSyntaxError(f"the file is not valid JSON: {bad.msg[0].lower()}{bad.msg[1:]}",
                              where.location(bad.pos)) from None
    except RecursionError:
        raise JsonSyntaxError("the JSON is nested too deeply to read", Location(label, 1, 1)) from None


def trailing_comma(text: str, pos: int) -> int | None:
    """The offset of the comma when the error at `pos` is a `}` or `]` right after one."""
    if pos >= len(text) or text[pos] not in "}]":
        return None
    before = text[:pos].rstrip(" \t\n\r")
    return len(before) - 1 if before.endswith(",") else None


def path_to(root: Any, target: Any) -> Path | None:
    """The keys that lead from `root` to the object or array `target` (by identity)."""
    stack: list[tuple[Any, Path]] = [(root, ())]
    while stack:
        value, path = stack.pop()
        if value is target:
            return path
        if isinstance(value, dict):
            stack.extend((item, (*path, key)) for key, item in value.items() if isinstance(item, (dict, list)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value) if isinstance(item, (dict, list)))
    return None


def offsets(text: str) -> tuple[dict[Path, int], dict[Path, int]]:
    """Where each value (by path) starts in a valid JSON text, and where each object key does. A loop
    with its own stack, not recursion, so that depth is no limit."""
    values: dict[Path, int] = {}
    keys: dict[Path, int] = {}
    stack: list[tuple[Path, bool, int]] = []  # open containers: (path, is an object, items so far)

    def space(pos: int) -> int:
        found = _SPACE.match(text, pos)
        assert found is not None
        return found.end()

    def string_end(pos: int) -> int:
        found = _STRING.match(text, pos)
        assert found is not None
        return found.end()

    def key_at(pos: int, path: Path) -> tuple[Path, int]:
        """Read `"key":` at `pos`; the member's path and where its value starts."""
        end = string_end(pos)
        member = (*path, json.loads(text[pos:end]))
        keys[member] = pos
        return member, space(space(end) + 1)  # past the colon

    path: Path = ()
    pos = space(0)
    while True:
        values[path] = pos
        char = text[pos]
        if char in "{[":
            inner = space(pos + 1)
            if text[inner] in "}]":
                pos = inner + 1
            else:
                stack.append((path, char == "{", 1))
                path, pos = key_at(inner, path) if char == "{" else ((*path, 0), inner)
                continue
        elif char == '"':
            pos = string_end(pos)
        else:
            atom = _ATOM.match(text, pos)
            assert atom is not None, f"not JSON at offset {pos}"
            pos = atom.end()
        # after a value: close the containers that end here, then go on to the next member
        while True:
            pos = space(pos)
            if not stack:
                return values, keys
            outer, is_object, count = stack[-1]
            if text[pos] == ",":
                stack[-1] = (outer, is_object, count + 1)
                path, pos = key_at(space(pos + 1), outer) if is_object else ((*outer, count), space(pos + 1))
                break
            stack.pop()
            pos += 1
