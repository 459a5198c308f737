"""Read YAML into values that remember where they were written.

PyYAML's composer gives nodes with marks; we turn them into `Node`s (value + location) so that
every later error can name the file, line and column. Only plain data is built: no tags that
construct Python objects, no duplicate keys, and a budget on expanded nodes against alias bombs.
"""

from __future__ import annotations

from typing import Any

import yaml

from paramcalc.errors import Location, SpecError

# Values a document may expand to through its aliases: far above any real spec (a 100,000-layer
# chain is about 600,000), far below what a "billion laughs" alias bomb expands to. Counting is
# linear in the file's size, as aliases are built once and shared.
MAX_NODES = 10_000_000

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
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Node:
    """A YAML value with its location. Mappings hold `dict[str, Node]`, sequences `list[Node]`.
    (A slotted class, not a dataclass: a 100,000-layer spec has over half a million of them.)"""

    __slots__ = ("value", "loc", "key_locs", "span")

    def __init__(self, value: Any, loc: Location, key_locs: dict[str, Location] | None = None,
                 span: tuple[int, int] = (0, 0)) -> None:
        self.value = value
        self.loc = loc
        self.key_locs = key_locs if key_locs is not None else {}
        self.span = span  # character offsets of the value in the text, for precise edits

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


def _loc(source: str, mark: Any) -> Location:
    return Location(source, mark.line + 1, mark.column + 1)


def _span(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.index, node.end_mark.index


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


class _Builder:
    """Builds `Node`s once per YAML node: aliases share the built value instead of copying it, and
    the size the document *would* expand to is counted, so an alias bomb is refused in linear time."""

    def __init__(self, source: str, max_nodes: int) -> None:
        self.source = source
        self.max_nodes = max_nodes
        self.constructor = yaml.constructor.SafeConstructor()
        self.built: dict[int, tuple[Node, int]] = {}  # id(yaml node) -> (Node, expanded size)
        self.in_progress: set[int] = set()

    def build(self, node: yaml.Node) -> Node:
        return self._build(node)[0]

    def _build(self, node: yaml.Node) -> tuple[Node, int]:
        mark = node.start_mark
        if type(node) is yaml.ScalarNode:  # most values: a leaf, never recursive, cheap to rebuild
            loc = Location(self.source, mark.line + 1, mark.column + 1)
            if node.tag == _STR_TAG:
                return Node(node.value, loc, None, (mark.index, node.end_mark.index)), 1
            return self._scalar(node, loc), 1
        key = id(node)
        if key in self.built:
            return self.built[key]
        loc = Location(self.source, mark.line + 1, mark.column + 1)
        if key in self.in_progress:
            raise SpecError("the YAML refers to itself (a recursive alias)", loc,
                            "remove the alias (*name) that points back to its own anchor (&name).")
        self.in_progress.add(key)
        if isinstance(node, yaml.MappingNode):
            result = self._mapping(node, loc)
        elif isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self._tag_error(node, loc)
            items = [self._build(item) for item in node.value]
            result = (Node([n for n, _ in items], loc, span=_span(node)), 1 + sum(size for _, size in items))
        else:
            raise self._tag_error(node, loc)
        if result[1] > self.max_nodes:
            raise SpecError(
                f"the YAML expands to more than {self.max_nodes:,} values (an alias bomb?)", loc,
                "write the values out instead of chaining aliases (*name) that multiply, or raise the limit "
                "with --max-yaml-values.")
        self.in_progress.discard(key)
        self.built[key] = result
        return result

    def _mapping(self, node: yaml.MappingNode, loc: Location) -> tuple[Node, int]:
        if node.tag != _MAP_TAG:
            raise self._tag_error(node, loc)
        values: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        size = 1
        for key_node, value_node in node.value:
            key, _ = self._build(key_node)
            if isinstance(key.value, (dict, list)) or key.value is None:
                raise SpecError("a mapping key must be a plain word or number", key.loc,
                                "write the key as text, e.g. `filters:`.")
            name = str(key.value)
            if name in values:
                raise SpecError(
                    f"the key `{name}` appears twice in this mapping (first at line {key_locs[name].line})",
                    key.loc,
                    "keep only one of them.",
                )
            key_locs[name] = key.loc
            values[name], value_size = self._build(value_node)
            size += 1 + value_size
        return Node(values, loc, key_locs, _span(node)), size

    def _scalar(self, node: yaml.Node, loc: Location) -> Node:
        if node.tag in _PLAIN_TAGS:
            try:
                construct = self.constructor.yaml_constructors[node.tag]  # straight to int/float/...: fast
                return Node(construct(self.constructor, node), loc, span=_span(node))
            except (yaml.YAMLError, ValueError) as exc:
                raise SpecError(f"cannot read the value {node.value!r}: {exc}", loc,
                                "write a plain number or word.") from None
        if node.tag.startswith("tag:yaml.org,2002:"):
            # Standard but non-plain scalars (timestamps, binary): keep the text as written.
            return Node(str(node.value), loc, span=_span(node))
        raise self._tag_error(node, loc)

    @staticmethod
    def _tag_error(node: yaml.Node, loc: Location) -> SpecError:
        return SpecError(
            f"the YAML tag `{node.tag}` is not allowed in a spec",
            loc,
            "remove the tag: specs hold plain numbers, words, lists and mappings only.",
        )


def parse_yaml(text: str, source: str, max_nodes: int = MAX_NODES) -> Node | None:
    """Parse one YAML document into located `Node`s; None for an empty document."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(source, mark) if mark is not None else Location(source)
        problem = exc.problem or exc.context or "malformed YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SpecError(f"this is not valid YAML: {problem}{context}", loc,
                        "check the indentation, brackets and quotes around this place.") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"this is not valid YAML: {exc}", Location(source),
                        "check the file is a YAML spec.") from None
    except RecursionError:
        raise SpecError("the YAML is nested too deeply", Location(source),
                        "flatten the nesting of lists and mappings.") from None
    if root is None:
        return None
    try:
        return _Builder(source, max_nodes).build(root)
    except RecursionError:
        raise SpecError("the YAML is nested too deeply", _loc(source, root.start_mark),
                        "flatten the nesting of lists and mappings.") from None
