"""A fast reader for the plain layout of a large spec, in pure Python, without libyaml's events.

A spec of 100,000 layers is nearly always written by a program, one layer a line:

    input: [8, 8, 16]
    layers:
      - Conv2D: {name: c1, filters: 16, kernel_size: 3, padding: same}
      - ReLU
      - Add: {name: u1, inputs: [u0, c1]}

For such a text (top-level `key: value` lines, lists of `- item` lines, values on one line in flow
style, ASCII, no comments, anchors, tags, tabs or quotes with escapes), `read_plain_layout` builds
the very `Node`s that yamlnodes.py builds from libyaml's events, values, locations and spans alike,
in about half the time. For anything else, and for every mistake (a duplicate key, a value
that cannot be read, too many values), it returns None and the event reader reads the text, so that
errors are located and worded as before. tests/test_yaml_events.py checks both readers agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from paramcalc.errors import Location
from paramcalc.spec.yamlnodes import Node, PlacedNode

# A plain scalar we read ourselves: it ends where flow style ends it (`,`, `]`, `}`, `: `) and holds
# nothing YAML could read otherwise (no `:`, `#`, spaces, quotes, brackets; a leading `-` only
# before a word). What it means (int, float, bool, null, a word) the YAML loader's resolver says.
_PLAIN = r"-?[A-Za-z0-9_.+][A-Za-z0-9_.+-]*"
# The tokens of a value in flow style on one line: a bracket, brace or comma; the `: ` after a key; a
# quoted scalar without escapes (its value the text between the quotes, as written); a plain scalar.
_TOKEN = re.compile(rf""" *(?:([\[\]{{}},])|(:)(?= |$)|"([^"\\]*)"|'([^']*)'|({_PLAIN}))""")
_TOP_KEY = re.compile(rf"({_PLAIN}):(?: +|$)")
_ITEM = re.compile(r"( *)- +")
_ITEM_KEY = re.compile(rf"({_PLAIN}): +")
# A flow mapping on one line of plain keys whose values are plain scalars or flat lists of them: the
# usual arguments of a layer. Once a line matches, `_PAIR` finds its pairs, and `, ` splits a list.
_FLAT_VALUE = rf"(?:{_PLAIN}|\[(?:{_PLAIN}(?:, {_PLAIN})*)?\])"
_FLAT_MAP = re.compile(rf"\{{{_PLAIN}: {_FLAT_VALUE}(?:, {_PLAIN}: {_FLAT_VALUE})*\}} *")
# An item `Kind: {...}` whose value `_FLAT_MAP` matches: the usual layer, matched at once.
_FLAT_ITEM = re.compile(rf"({_PLAIN}): +({_FLAT_MAP.pattern})")
_PAIR = re.compile(rf"({_PLAIN}): ({_PLAIN}|\[[^\]]*\])")
# Characters that may mean more than our reader knows: comments, anchors and aliases, tags, block
# scalars, directives, reserved indicators, escapes, explicit keys; and every control character but the
# line feed (tabs, carriage returns, and those YAML refuses).
_OTHER_YAML = re.compile(r"[#&*!|>%@`\\?\x00-\x09\x0b-\x1f\x7f]")
_DEPTH = 50  # flow collections inside one another on a line: more goes to the event reader

_new_location = tuple.__new__


class _NotPlain(Exception):
    """The text is not in the plain layout, or has a mistake: the event reader takes over."""


def read_plain_layout(text: str, source: str, max_nodes: int, value_of: Callable[[str], Any]) -> Node | None:
    """The document's root `Node`, as the event reader builds it, or None when the text is not in the
    plain layout (see the module). `value_of(text)` is a plain scalar's value as the loader reads it
    (raising for a value it cannot read)."""
    if not text.isascii() or _OTHER_YAML.search(text):
        return None
    try:
        root, size = _Reader(text, source, value_of).document()
    except _NotPlain:
        return None
    except Exception:  # noqa: BLE001 - a value the loader refuses: the event reader says why, located
        return None
    return root if size <= max_nodes else None


class _Reader:
    def __init__(self, text: str, source: str, value_of: Callable[[str], Any]) -> None:
        self.text = text
        self.source = source
        self.value_of = value_of
        self.lines = text.split("\n")
        self.starts: list[int] = []  # each line's offset in the text
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line) + 1
        self.words: dict[str, Any] = {}  # a plain scalar's text -> its value (most repeat)
        self.keys: dict[str, str] = {}  # a plain key's text -> its name

    # -- the block structure: top-level keys, lists of items ----------------------------------------------
    def document(self) -> tuple[Node, int]:
        lines, starts = self.lines, self.starts
        n = len(lines)
        end_of_text = len(self.text)
        i = self._next_content(0)
        if i == n:
            raise _NotPlain  # an empty document: the event reader says so
        values: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        size = 1
        root_line = i
        while i < n:
            line = lines[i]
            match = _TOP_KEY.match(line)
            if match is None:
                raise _NotPlain
            key = self._key(match.group(1))
            if key in values:
                raise _NotPlain  # a duplicate key: the event reader words the error
            key_locs[key] = self._loc(i, 0)
            rest = match.end()
            if rest < len(line.rstrip(" ")):
                node, node_size = self._flow_line(i, rest)
                i = self._next_content(i + 1)
            else:
                node, node_size, i = self._block_list(i + 1)
            values[key] = node
            size += 1 + node_size
            if i < n and lines[i][:1] == " ":
                raise _NotPlain  # more indented lines than a list: a nested mapping, a long value...
        start = starts[root_line]
        return Node(values, self._loc(root_line, 0), key_locs, start, end_of_text), size

    def _next_content(self, i: int) -> int:
        """The first line from `i` that is not blank (len(lines) if none)."""
        lines = self.lines
        n = len(lines)
        while i < n and not lines[i].strip(" "):
            i += 1
        return i

    def _block_list(self, i: int) -> tuple[Node, int, int]:
        """The `- item` lines from line `i`: the list, its size, and the line after it."""
        lines, starts = self.lines, self.starts
        n = len(lines)
        i = self._next_content(i)
        first = _ITEM.match(lines[i]) if i < n else None
        if first is None or first.end() != len(first.group(1)) + 2:
            raise _NotPlain  # `key:` and no list (a null, a nested mapping...), or `-  item`
        indent = len(first.group(1))
        dash = lines[i][:indent + 2]  # every item starts so: `  - `
        at = indent + 2
        first_line = i
        items: list[Node] = []
        size = 1
        item_key = _ITEM_KEY.match
        flat_item = _FLAT_ITEM.fullmatch
        source = self.source
        keys = self.keys
        while True:
            line = lines[i]
            if not line.startswith(dash) or line[at] == " ":
                break
            # A list, or a mapping, in block style ends where the next token starts: most often the next item.
            following = i + 1
            if following < n and lines[following].startswith(dash):
                end = starts[following] + indent
            else:
                following = self._next_content(following)
                if following < n:
                    end = starts[following] + len(lines[following]) - len(lines[following].lstrip(" "))
                else:
                    end = len(self.text)
            keyed = flat_item(line, at) or item_key(line, at)
            if keyed is None:
                node, node_size = self._flow_line(i, at)
            else:
                key_text = keyed.group(1)
                key = keys.get(key_text) or self._key(key_text)
                line_start = starts[i]
                if keyed.re is _FLAT_ITEM:  # the usual case, read by two regular expressions and splits
                    value, value_size = self._flat_map(line, i, line_start, keyed.start(2))
                else:
                    value, value_size = self._flow_line(i, keyed.end())
                key_loc = _new_location(Location, (source, i + 1, at + 1))
                node = Node({key: value}, key_loc, {key: key_loc}, line_start + at, end)
                node_size = 2 + value_size
            items.append(node)
            size += node_size
            i = following
            if i == n:
                break
        return Node(items, self._loc(first_line, indent), None, starts[first_line] + indent, end), size, i

    def _flat_map(self, line: str, i: int, line_start: int, at: int) -> tuple[Node, int]:
        """`{key: value, key: [value, value]}` with plain keys and values, matched by `_FLAT_MAP` from
        column `at` of line `i` (so that `_PAIR` and the splits below find exactly its parts)."""
        source = self.source
        words = self.words
        keys = self.keys
        line_no = i + 1
        values: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        size = 1
        column = at + 1  # the key's offset in the line: after `{`
        for key_text, value_text in _PAIR.findall(line, column):
            key = keys.get(key_text) or self._key(key_text)
            if key in values:
                raise _NotPlain
            key_locs[key] = _new_location(Location, (source, line_no, column + 1))
            value_column = column + len(key_text) + 2
            end = value_column + len(value_text)
            if value_text[0] != "[":
                value = words[value_text] if value_text in words else self._word(value_text)
                values[key] = PlacedNode(value, source, line_no, value_column + 1, line_start + value_column,
                                         line_start + end)
                size += 2
            else:
                items: list[Node] = []
                item_column = value_column + 1
                for text in value_text[1:-1].split(", ") if value_text != "[]" else ():
                    value = words[text] if text in words else self._word(text)
                    item_end = item_column + len(text)
                    items.append(PlacedNode(value, source, line_no, item_column + 1, line_start + item_column,
                                            line_start + item_end))
                    item_column = item_end + 2
                values[key] = PlacedNode(items, source, line_no, value_column + 1, line_start + value_column,
                                         line_start + end)
                size += 2 + len(items)
            column = end + 2
        close = column - 2  # the offset of `}`
        return (PlacedNode(values, source, line_no, at + 1, line_start + at, line_start + close + 1, key_locs),
                size)

    # -- one line's value in flow style -------------------------------------------------------------------
    def _flow_line(self, i: int, at: int) -> tuple[Node, int]:
        """The value written from column `at` of line `i` to its end."""
        line = self.lines[i]
        tokens: list[tuple[int, str, str]] = []  # (column, kind, text); kind: a punctuation mark, ":", "w" or "q"
        position = at
        end = len(line.rstrip(" "))
        while position < end:
            match = _TOKEN.match(line, position)
            if match is None:
                raise _NotPlain
            mark, colon, double, single, word = match.groups()
            if mark is not None:
                tokens.append((match.start(1), mark, mark))
            elif colon is not None:
                tokens.append((match.start(2), ":", ":"))
            elif word is not None:
                tokens.append((match.start(5), "w", word))
            else:
                group = 3 if double is not None else 4
                tokens.append((match.start(group) - 1, "q", match.group(group)))
                tokens.append((match.end(group) + 1, "", ""))  # where the quoted scalar ends
            position = match.end()
        tokens.append((end, "$", ""))
        node, size, k = self._flow(tokens, 0, i, 0)
        if tokens[k][1] != "$":
            raise _NotPlain
        return node, size

    def _flow(self, tokens: list[tuple[int, str, str]], k: int, i: int, depth: int) -> tuple[Node, int, int]:
        """The flow value starting at token k: (node, size, the token after it)."""
        column, kind, text = tokens[k]
        line_start = self.starts[i]
        if kind == "w" or kind == "q":
            value = text if kind == "q" else (self.words[text] if text in self.words else self._word(text))
            if kind == "q":
                k += 1  # the marker of its end
                end = tokens[k][0]
            else:
                end = column + len(text)
            return Node(value, self._loc(i, column), None, line_start + column, line_start + end), 1, k + 1
        if depth >= _DEPTH or kind not in "[{" or not kind:
            raise _NotPlain
        closing = "]" if kind == "[" else "}"
        k += 1
        size = 1
        items: list[Node] = []
        values: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        while tokens[k][1] != closing:
            if items or values:
                if tokens[k][1] != ",":
                    raise _NotPlain
                k += 1
                if tokens[k][1] == closing:
                    raise _NotPlain  # a trailing comma: valid YAML, but left to the event reader
            if kind == "[":
                node, node_size, k = self._flow(tokens, k, i, depth + 1)
                items.append(node)
                size += node_size
            else:
                key_column, key_kind, key_text = tokens[k]
                if key_kind != "w" or tokens[k + 1][1] != ":":
                    raise _NotPlain
                key = self._key(key_text)
                if key in values:
                    raise _NotPlain
                key_locs[key] = self._loc(i, key_column)
                node, node_size, k = self._flow(tokens, k + 2, i, depth + 1)
                values[key] = node
                size += 1 + node_size
        end = tokens[k][0] + 1
        loc = self._loc(i, column)
        if kind == "[":
            return Node(items, loc, None, line_start + column, line_start + end), size, k + 1
        return Node(values, loc, key_locs, line_start + column, line_start + end), size, k + 1

    # -- scalars -----------------------------------------------------------------------------------------
    def _word(self, text: str) -> Any:
        value = self.words[text] = self.value_of(text)
        return value

    def _key(self, text: str) -> str:
        """A plain key's name: its text, or a number or boolean as `str` writes it (a null: not ours)."""
        name = self.keys.get(text)
        if name is None:
            value = self.words[text] if text in self.words else self._word(text)
            if value is None or isinstance(value, (dict, list)):
                raise _NotPlain
            name = self.keys[text] = value if value.__class__ is str else str(value)
        return name

    def _loc(self, i: int, column: int) -> Location:
        return _new_location(Location, (self.source, i + 1, column + 1))
