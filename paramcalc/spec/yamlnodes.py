"""Read YAML into values that remember where they were written.

We build `Node`s (value + location) straight from PyYAML's event stream, so that every later error
can name the file, line and column. Only plain data is built: no tags that construct Python objects,
no duplicate keys, a budget on expanded nodes against alias bombs, and a limit on nesting.

The result, and every error, is the same as composing the document with PyYAML and then walking its
nodes (what this module did before), only without the intermediate nodes: a 100,000-layer spec is
read in a little over half the time, with half the peak memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from paramcalc.errors import Location, SpecError

# Values a document may expand to through its aliases: far above any real spec (a 100,000-layer
# chain is about 600,000), far below what a "billion laughs" alias bomb expands to. Counting is
# linear in the file's size, as aliases are built once and shared.
MAX_NODES = 10_000_000

# Lists and mappings inside one another, counting the outermost. The recursive walk this module used
# to make ran out of Python stack (a recursion limit of 1,000) just past this depth when run from the
# command line (a little sooner or later from other callers), so the same documents are refused; code
# after us still walks values recursively.
MAX_DEPTH = 489

# From this many characters (about 500 layers) a spec is first offered to the plain-layout reader
# (spec/plainyaml.py). A smaller one is read quickly enough by libyaml's events, and importing that
# reader (compiling its regular expressions) would cost its start-up more than the reader saves.
PLAIN_READER_FROM = 50_000

_PLAIN_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Standard scalar tags that are data but not plain numbers or words: kept as the text written.
# (`!!python/...` also starts with tag:yaml.org,2002: and is refused like any other tag.)
_TEXT_TAGS = {
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:merge",
    "tag:yaml.org,2002:value",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# libyaml's composer leaves the anchor's name out of its messages, PyYAML's own puts it in: we word
# ours like the composer of the loader in use.
_NAMES_IN_MESSAGES = _Loader is yaml.SafeLoader
# `Location(...)` without the named tuple's Python-level `__new__`: one call fewer per value.
_new_location = tuple.__new__


_NO_KEYS: Mapping[str, Any] = MappingProxyType({})


class Node:
    """A YAML value with its location. Mappings hold `dict[str, Node]`, sequences `list[Node]`.
    (A slotted class, not a dataclass: a 100,000-layer spec has over half a million of them.)"""

    __slots__ = ("value", "loc", "key_locs", "start", "end")

    def __init__(self, value: Any, loc: Location, key_locs: Mapping[str, Location] | None = None,
                 start: int = 0, end: int = 0) -> None:
        self.value = value
        self.loc = loc
        # Scalars and lists share one empty, read-only mapping: a spec has a million of them.
        self.key_locs: Mapping[str, Location] = key_locs if key_locs is not None else _NO_KEYS
        # Character offsets of the value in the text, for precise edits (two arguments, not a `span`
        # tuple: no tuple to build and unpack for each of the half a million values of a large spec).
        self.start = start
        self.end = end

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with all locations stripped (dicts, lists, scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class PlacedNode(Node):
    """A value whose location is made when asked, from its file, line and column (the plain-layout
    reader, spec/plainyaml.py, makes these): a large spec has half a million values, and all but a few
    locations are never read, so a tuple fewer for each to make and to free."""

    __slots__ = ("source", "line", "column")

    def __init__(self, value: Any, source: str, line: int, column: int, start: int, end: int,
                 key_locs: Mapping[str, Location] = _NO_KEYS) -> None:
        self.value = value
        self.key_locs = key_locs
        self.start = start
        self.end = end
        self.source = source
        self.line = line
        self.column = column

    @property
    def loc(self) -> Location:  # type: ignore[override]
        return Location(self.source, self.line, self.column)


def _loc(source: str, mark: Any) -> Location:
    return Location(source, mark.line + 1, mark.column + 1)


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or a located error at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
            Location(source, line, column),
            "save the spec as UTF-8.",
        ) from None


class _AnyText:
    """Contains every string: the first characters to resolve when some resolver looks at them all."""

    def __contains__(self, item: object) -> bool:
        return True


class _Anchor:
    """A `&name` seen so far: its start (for the composer's duplicate-anchor message), and its node
    and expanded size once built (None while its list or mapping is still open)."""

    __slots__ = ("mark", "loc", "node", "size")

    def __init__(self, mark: Any, loc: Location | None) -> None:
        self.mark = mark
        self.loc = loc
        self.node: Node | None = None
        self.size = 0


class _EventBuilder:
    """Builds each `Node` once, straight from the parser's events, with an explicit stack instead of
    recursion (deep nesting is refused by `MAX_DEPTH`, not by running out of Python stack). Aliases
    share the node built for their anchor, and the size the document *would* expand to is counted, so
    an alias bomb is refused in linear time.

    Errors come out in the order of the compose-then-walk reading this replaces: a YAML error (from
    the parser, or the composer's rules on anchors and documents) anywhere in the file wins over any of
    our own errors, which only came from walking a fully composed document."""

    def __init__(self, text: str, source: str, max_nodes: int) -> None:
        self.loader = _Loader(text)
        self.source = source
        self.max_nodes = max_nodes
        self.anchors: dict[str, _Anchor] = {}
        # Constructed values by text for untagged plain scalars, by (event tag, text, implicit) for the
        # others. Most scalars repeat (`filters`, `16`, `same`...), and resolving and constructing them
        # is most of the cost; all the values are immutable. (The safe loader has no path resolvers, so
        # an untagged plain scalar resolves by its text alone.)
        self.plain: dict[str, Any] = {}
        self.scalars: dict[tuple[str | None, str, tuple[bool, bool]], Any] = {}
        self.constructor: yaml.constructor.SafeConstructor | None = None
        # The first characters the loader's implicit resolvers look for (`y` of `yes`, digits, `~`...;
        # all of them when one looks at any): `resolve` makes a plain scalar starting otherwise text.
        resolvers = self.loader.yaml_implicit_resolvers
        self.resolver_starts: Any = _AnyText() if None in resolvers else set(resolvers)
        self.root_mark: Any = None

    def build(self) -> Node | None:
        try:
            return self._stream()
        finally:
            self.loader.dispose()

    def _stream(self) -> Node | None:
        get_event = self.loader.get_event
        get_event()  # STREAM-START
        if get_event().__class__ is StreamEndEvent:  # else DOCUMENT-START
            return None  # an empty stream
        self.root_mark = self.loader.peek_event().start_mark
        try:
            root = self._document()
        except yaml.YAMLError:
            raise
        except Exception:
            # One of our errors. Before, it could only appear once the whole stream had composed: read
            # on, so that a YAML error further down is the one reported, as it was.
            self._skip_document()
            self._single_document()
            raise
        self._single_document()
        return root

    def _document(self) -> Node:
        """Reads the events of the document's root node and the DOCUMENT-END after it."""
        get_event = self.loader.get_event
        resolve = self.loader.resolve
        # An untagged list or mapping resolves by its kind and `implicit` flag alone.
        map_tags = {implicit: resolve(yaml.MappingNode, None, implicit) for implicit in (False, True)}
        seq_tags = {implicit: resolve(yaml.SequenceNode, None, implicit) for implicit in (False, True)}
        plain, scalars = self.plain, self.scalars
        resolver_starts = self.resolver_starts
        source = self.source
        max_nodes = self.max_nodes
        new_location = _new_location
        # The collection being filled, in locals (saved on `stack` while a child is open): a list's
        # `items`, or a mapping's `values`, `key_locs` and the `key` waiting for its value (None when a
        # key comes next); its expanded `size`, location, start offset and anchor. A one-item list
        # stands in for the document around the root.
        root: list[Node] = []
        items: list[Node] | None = root
        values: dict[str, Node] | None = None
        key_locs: dict[str, Location] | None = None
        key: str | None = None
        size = 0
        loc: Location | None = None
        start = 0
        anchor: _Anchor | None = None
        stack: list[tuple[Any, ...]] = []
        node: Node
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                mark = event.start_mark
                node_loc = new_location(Location, (source, mark.line + 1, mark.column + 1))
                if event.anchor is None:
                    value = event.value
                    if event.tag is None and event.implicit[0]:  # plain and untagged, as most are
                        if value[:1] in resolver_starts:  # else text (`conv1`): nothing to resolve
                            try:
                                value = plain[value]
                            except KeyError:
                                value = self._scalar(event, node_loc)
                    else:
                        try:
                            value = scalars[event.tag, value, event.implicit]
                        except KeyError:
                            value = self._scalar(event, node_loc)
                    if key is None and items is None:  # a key: only its name and place are kept
                        key = value if value.__class__ is str else _key_name(value, node_loc)
                        if key in values:  # type: ignore[operator]
                            raise _duplicate_key(key, node_loc, key_locs[key])  # type: ignore[index]
                        key_locs[key] = node_loc  # type: ignore[index]
                        continue
                    node = Node(value, node_loc, None, mark.index, event.end_mark.index)
                else:
                    node = self._anchored_scalar(event, node_loc)
                node_size = 1
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                # Spans end where the end event does: after `]`/`}`, or for a block where the next token starts.
                assert loc is not None  # set when the collection started
                if items is None:
                    node = Node(values, loc, key_locs, start, event.end_mark.index)
                else:
                    node = Node(items, loc, None, start, event.end_mark.index)
                node_size = size
                if size > max_nodes:
                    raise self._too_many_values(loc)
                if anchor is not None:
                    anchor.node, anchor.size = node, size
                items, values, key_locs, key, size, loc, start, anchor = stack.pop()
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                stack.append((items, values, key_locs, key, size, loc, start, anchor))
                mark = event.start_mark
                loc = new_location(Location, (source, mark.line + 1, mark.column + 1))
                start = mark.index
                anchor = None if event.anchor is None else self._anchor(event.anchor, mark, loc)
                if len(stack) > MAX_DEPTH:
                    raise _too_deep(self.source, self.root_mark)
                tag = event.tag
                if cls is MappingStartEvent:
                    if tag is None or tag == "!":
                        tag = map_tags[event.implicit]
                    if tag != _MAP_TAG:
                        raise _tag_error(tag, loc)
                    items, values, key_locs = None, {}, {}
                else:
                    if tag is None or tag == "!":
                        tag = seq_tags[event.implicit]
                    if tag != _SEQ_TAG:
                        raise _tag_error(tag, loc)
                    items, values, key_locs = [], None, None
                key = None
                size = 1
                continue
            elif cls is AliasEvent:
                node, node_size = self._alias(event)
            else:  # DOCUMENT-END: the parser sends nothing else here
                return root[0]

            # Put the finished node into the collection being filled.
            if items is not None:
                items.append(node)
                size += node_size
            elif key is None:  # a key (an alias, a list...): plain, and not yet in this mapping
                key = node.value if node.value.__class__ is str else _key_name(node.value, node.loc)
                if key in values:  # type: ignore[operator]
                    raise _duplicate_key(key, node.loc, key_locs[key])  # type: ignore[index]
                key_locs[key] = node.loc  # type: ignore[index]
            else:
                values[key] = node  # type: ignore[index]
                size += 1 + node_size
                key = None

    def _scalar(self, event: ScalarEvent, loc: Location) -> Any:
        """A scalar's value, resolved and constructed as PyYAML's safe loader would, and cached.
        Standard data tags that are not plain (timestamps, binary...) keep the text as written."""
        tag = event.tag
        text = event.value
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, text, event.implicit)
        if tag == _STR_TAG:
            value: Any = text
        elif tag in _PLAIN_TAGS:
            if self.constructor is None:
                self.constructor = yaml.constructor.SafeConstructor()
            construct = self.constructor.yaml_constructors[tag]  # straight to int/float/...
            try:
                node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark)  # type: ignore[arg-type]
                value = construct(self.constructor, node)
            except (yaml.YAMLError, ValueError) as exc:
                raise SpecError(f"cannot read the value {text!r}: {exc}", loc,
                                "write a plain number or word.") from None
            except (KeyError, IndexError):  # e.g. `!!bool foo`, `!!int ""`: the constructor has no case
                raise SpecError(f"cannot read the value {text!r} as {tag.rsplit(':', 1)[-1]}", loc,
                                "write a plain number or word, or remove the tag.") from None
        elif tag in _TEXT_TAGS:
            value = str(text)
        else:
            raise _tag_error(tag, loc)
        if event.tag is None and event.implicit[0]:
            self.plain[text] = value
        else:
            self.scalars[event.tag, text, event.implicit] = value
        return value

    def plain_value(self, text: str) -> Any:
        """The value of an untagged plain scalar, as `_document` reads it (raising for one it cannot read)."""
        if text[:1] not in self.resolver_starts:
            return text
        try:
            return self.plain[text]
        except KeyError:
            return self._scalar(ScalarEvent(None, None, (True, False), text), Location(self.source))

    def _anchored_scalar(self, event: ScalarEvent, loc: Location) -> Node:
        mark = event.start_mark
        assert event.anchor is not None and mark is not None and event.end_mark is not None
        anchor = self._anchor(event.anchor, mark, loc)  # before building: an error in it still counts
        value = self._scalar(event, loc)  # anchored scalars are few: straight to the slow path
        anchor.node, anchor.size = Node(value, loc, None, mark.index, event.end_mark.index), 1
        return anchor.node

    def _anchor(self, name: str, mark: Any, loc: Location | None) -> _Anchor:
        first = self.anchors.get(name)
        if first is not None:
            named = f" {name!r}" if _NAMES_IN_MESSAGES else ""
            raise ComposerError(f"found duplicate anchor{named}; first occurrence", first.mark,
                                "second occurrence", mark)
        anchor = self.anchors[name] = _Anchor(mark, loc)
        return anchor

    def _alias(self, event: AliasEvent) -> tuple[Node, int]:
        """The node an alias names, shared rather than copied, and its expanded size."""
        assert event.anchor is not None  # an alias always names its anchor
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            named = f" {event.anchor!r}" if _NAMES_IN_MESSAGES else ""
            raise ComposerError(None, None, f"found undefined alias{named}", event.start_mark)  # type: ignore[arg-type]
        if anchor.node is None:  # its list or mapping is still open: the alias is inside it
            raise SpecError("the YAML refers to itself (a recursive alias)", anchor.loc,
                            "remove the alias (*name) that points back to its own anchor (&name).")
        return anchor.node, anchor.size

    def _skip_document(self) -> None:
        """Reads the rest of the document after one of our errors, applying only the composer's
        rules (anchors defined before use and not twice), up to and including DOCUMENT-END."""
        get_event = self.loader.get_event
        while True:
            event = get_event()
            cls = event.__class__
            if cls is AliasEvent:
                if event.anchor not in self.anchors:
                    self._alias(event)  # raises the composer's error
            elif cls is ScalarEvent or cls is MappingStartEvent or cls is SequenceStartEvent:
                if event.anchor is not None:
                    self._anchor(event.anchor, event.start_mark, None)
            elif cls is DocumentEndEvent:
                return

    def _single_document(self) -> None:
        event = self.loader.get_event()
        if event.__class__ is not StreamEndEvent:
            raise ComposerError("expected a single document in the stream", self.root_mark,
                                "but found another document", event.start_mark)

    def _too_many_values(self, loc: Location) -> SpecError:
        return SpecError(
            f"the YAML expands to more than {self.max_nodes:,} values (an alias bomb?)", loc,
            "write the values out instead of chaining aliases (*name) that multiply, or raise the limit "
            "with --max-yaml-values.")


def _too_deep(source: str, root_mark: Any) -> SpecError:
    # Located at the document's root: the whole structure is the problem, not one bracket of it.
    return SpecError(f"the YAML is nested too deeply (more than {MAX_DEPTH} lists and mappings inside one another)",
                     _loc(source, root_mark),
                     "flatten the nesting of lists and mappings; a spec needs only a few levels.")


def _key_name(value: Any, loc: Location) -> str:
    """The name of a key that is not text: a number or boolean as `str` writes it."""
    if value is None or isinstance(value, (dict, list)):
        raise SpecError("a mapping key must be a plain word or number", loc, "write the key as text, e.g. `filters:`.")
    return str(value)


def _duplicate_key(name: str, loc: Location, first: Location) -> SpecError:
    return SpecError(f"the key `{name}` appears twice in this mapping (first at line {first.line})", loc,
                     "keep only one of them.")


def _tag_error(tag: str, loc: Location) -> SpecError:
    return SpecError(
        f"the YAML tag `{tag}` is not allowed in a spec",
        loc,
        "remove the tag: specs hold plain numbers, words, lists and mappings only.",
    )


def _start_if_too_deep(text: str) -> Any:
    """The start of the document's root if the text, up to where the YAML library stopped, opens more
    than `MAX_DEPTH` lists and mappings inside one another; else None. libyaml's scanner reads ahead of
    the events we count and has a nesting limit of its own (1,000 flow levels since PyYAML 6.0.4), so a
    document far too deep for us can be refused by it first: this tells such a refusal apart by what
    the document is, not by the library's wording."""
    depth = 0
    root_mark = None
    try:
        for token in yaml.scan(text, Loader=_Loader):
            cls = token.__class__
            if root_mark is None and cls not in _BEFORE_ROOT_TOKENS:
                root_mark = token.start_mark
            if cls in _OPENING_TOKENS:
                depth += 1
                if depth > MAX_DEPTH:
                    return root_mark
            elif cls in _CLOSING_TOKENS:
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


_OPENING_TOKENS = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
                   yaml.BlockMappingStartToken)
_CLOSING_TOKENS = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)
_BEFORE_ROOT_TOKENS = (yaml.StreamStartToken, yaml.DirectiveToken, yaml.DocumentStartToken)


# `halves[1]` written bare: fine as a plain value, but inside a flow collection YAML reads its `[`.
_REFERENCE = re.compile(r"""(?<![\w."'])([A-Za-z_][\w.-]*\[-?\d+\])""")


def _unquoted_references(text: str, mark: Any) -> list[str]:
    """Output references (`halves[1]`) written without quotes on the line YAML stopped at."""
    lines = text.splitlines()
    return _REFERENCE.findall(lines[mark.line]) if mark is not None and mark.line < len(lines) else []


def parse_yaml(text: str, source: str, max_nodes: int = MAX_NODES) -> Node | None:
    """Parse one YAML document into located `Node`s; None for an empty document."""
    try:
        builder = _EventBuilder(text, source, max_nodes)
        if len(text) >= PLAIN_READER_FROM:
            from paramcalc.spec.plainyaml import read_plain_layout

            # A large spec written a layer a line: read without libyaml's events (the same nodes, in half
            # the time); anything else, or any mistake, goes to the event reader, which words the errors.
            root = read_plain_layout(text, source, max_nodes, builder.plain_value)
            if root is not None:
                builder.loader.dispose()
                return root
        return builder.build()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if isinstance(exc, yaml.scanner.ScannerError) and mark is not None:
            root_mark = _start_if_too_deep(text[: mark.index])
            if root_mark is not None:
                raise _too_deep(source, root_mark) from None
        loc = _loc(source, mark) if mark is not None else Location(source)
        problem = exc.problem or exc.context or "malformed YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        references = ", ".join(f'"{r}"' for r in _unquoted_references(text, mark))
        raise SpecError(f"this is not valid YAML: {problem}{context}", loc,
                        f"inside [...] or {{...}} an output reference must be quoted: write {references}"
                        if references else "check the indentation, brackets and quotes around this place.") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"this is not valid YAML: {exc}", Location(source),
                        "check the file is a YAML spec.") from None
