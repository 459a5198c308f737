"""A spec given as Python values (a dict, as `yaml.safe_load` would give) -> the same `Node` tree
the YAML reader builds, so that every later check is the one a YAML spec gets. A Python value has
no line: its location is where it sits in the dict, `<dict>['layers'][0]['Dense']`, which the
messages name instead of a line and column."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from paramcalc.errors import Location, SpecError
from paramcalc.spec.yamlnodes import MAX_DEPTH, MAX_NODES, Node

DICT_SOURCE = "<dict>"


def node_from_python(value: Any, max_values: int = MAX_NODES) -> Node:
    """The `Node` tree of a spec given as plain Python data (mappings with string keys, lists or
    tuples, strings, numbers, booleans, None). Anything else is a located `SpecError`."""
    budget = [max_values, max_values]  # shared by every level: values left, and the limit (for the message)
    return _node(value, DICT_SOURCE, 0, budget)


def _node(value: Any, where: str, depth: int, budget: list[int]) -> Node:
    loc = Location(where)
    max_values = budget[1]
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError(f"the spec has more than {max_values:,} values", Location(DICT_SOURCE),
                        "build a smaller spec, or raise the limit with `max_yaml_values=`.")
    if depth > MAX_DEPTH:
        raise SpecError(f"the spec nests lists and mappings more than {MAX_DEPTH} deep (is it circular?)", loc,
                        "flatten the structure.")
    if isinstance(value, Mapping):
        items: dict[str, Node] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(f"the key {key!r} is not a string", loc, "use strings for every key, as YAML does.")
            items[key] = _node(item, f"{where}[{key!r}]", depth + 1, budget)
        return Node(items, loc, {key: node.loc for key, node in items.items()})
    if isinstance(value, (list, tuple)):
        return Node([_node(item, f"{where}[{i}]", depth + 1, budget) for i, item in enumerate(value)], loc)
    return Node(_scalar(value, loc), loc)


def _scalar(value: Any, loc: Location) -> Any:
    """A YAML scalar's Python equivalent: numpy's numbers and fractions become ints and floats."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise SpecError(f"a spec value must be a number, a string, true/false, None, a list or a dict; got a "
                    f"{type(value).__name__}", loc, "write the value as YAML would read it.")
