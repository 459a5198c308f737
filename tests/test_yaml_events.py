"""`parse_yaml` builds its nodes straight from PyYAML's event stream. Whatever the input, it must give
what composing the document with PyYAML gives (values, locations, spans), and the same errors as the
compose-based reader it replaced."""

from __future__ import annotations

import datetime
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramcalc.errors import Location, SpecError
from paramcalc.spec.yamlnodes import _TEXT_TAGS, MAX_DEPTH, Node, parse_yaml
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("PARAMCALC_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_PLAIN_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float", "str")}


# -- the reference: PyYAML's own composer, and our nodes, as comparable trees -------------------------

def reference(text: str, source: str) -> Any:
    """What `parse_yaml` must give, worked out from the nodes `yaml.compose` makes: plain tags are
    constructed by PyYAML's safe constructor, other standard tags (timestamps...) keep their text."""
    constructor = yaml.constructor.SafeConstructor()

    def walk(node: yaml.Node) -> Any:
        loc = Location(source, node.start_mark.line + 1, node.start_mark.column + 1)
        span = (node.start_mark.index, node.end_mark.index)
        if isinstance(node, yaml.MappingNode):
            pairs = []
            for key_node, value_node in node.value:
                key = walk(key_node)
                pairs.append((str(key[1][1]), key[2], walk(value_node)))
            return ("map", pairs, loc, span)
        if isinstance(node, yaml.SequenceNode):
            return ("seq", [walk(item) for item in node.value], loc, span, {})
        assert node.tag in _PLAIN_TAGS or node.tag in _TEXT_TAGS
        value = constructor.construct_object(node) if node.tag in _PLAIN_TAGS else node.value
        return ("scalar", (type(value).__name__, value), loc, span, {})

    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    return None if root is None else walk(root)


def tree(node: Node | None) -> Any:
    """Our nodes in the shape of `reference`."""
    if node is None:
        return None
    if isinstance(node.value, dict):
        assert list(node.key_locs) == list(node.value)
        return ("map", [(name, node.key_locs[name], tree(child)) for name, child in node.value.items()],
                node.loc, node.span)
    if isinstance(node.value, list):
        return ("seq", [tree(item) for item in node.value], node.loc, node.span, node.key_locs)
    return ("scalar", (type(node.value).__name__, node.value), node.loc, node.span, node.key_locs)


def assert_reads_as_composed(text: str, source: str = "doc.yaml") -> Node | None:
    node = parse_yaml(text, source)
    assert tree(node) == reference(text, source)
    if node is not None:
        assert type(node.loc) is Location
    return node


# -- every spec in the repository ---------------------------------------------------------------------

SPEC_FILES = sorted(ROOT.glob("specs/*.yaml")) + sorted(ROOT.glob("tests/cases/**/*.yaml"))


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_repository_specs_read_as_composed(path):
    text = path.read_text(encoding="utf-8-sig")
    assert assert_reads_as_composed(text, str(path)) is not None


@pytest.mark.parametrize("text", [
    "",
    "# only a comment\n",
    "---\n",
    "--- 1\n...\n",
    "\ufeffa: 1\n",
    "a:\n",
    "a: |\n  literal\n  text\nb: >\n  folded\n  text\n\nc: 1\n",
    "a: plain\n  continued\nb: 'it''s'\nc: \"tab\\tand \\u00e9\"\n",
    "- - 1\n  - 2\n- [3, [4, {5: 6}]]\n-\n- {}\n- []\n",
    "a:\n- 1\n- 2\nb:\n  c:\n    d: [x, y]  # comment\n  e: ~\n",
    "? complex key\n: value\n? lonely key\n",
    "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: ! 12\n",
    "a: !!timestamp 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: !!binary aGk=\n",
    "a: !<tag:yaml.org,2002:str> 3\n",
    "n: [yes, no, on, off, ~, null, Null, 0x1f, 0o17, 017, 1_000, 1e3, 1.5e3, .inf, -.inf, +1, 190:20:30, 0b101]\n",
    "{yes: 1, no: 2, 1: a, 1.5: b, 2001-12-14: c}\n",
    "a: &x {b: [1, &y 2]}\nc: *x\nd: *y\ne: [*x, *y]\n",
    "%YAML 1.1\n%TAG !e! tag:yaml.org,2002:\n---\na: !e!int 3\n",
    "layers:\n  - Dense: {units: 4}\n  - ReLU\n  - Dense:\n      units: 2\n",
])
def test_small_documents_read_as_composed(text):
    assert_reads_as_composed(text)


def test_empty_documents():
    assert parse_yaml("", "x") is None
    assert parse_yaml("# nothing\n", "x") is None
    node = parse_yaml("---\n", "x")
    assert node is not None and node.value is None


def test_aliases_share_the_anchored_node():
    root = parse_yaml("a: &x {b: [1, 2]}\nc: *x\nd: &y 3\ne: [*y, *x]\n", "x")
    assert root.value["c"] is root.value["a"]
    assert root.value["e"].value[0] is root.value["d"]
    assert root.value["e"].value[1] is root.value["a"]
    assert root.value["c"].loc == Location("x", 1, 4)  # where the anchored value starts, at its `&x`


# -- generated documents: block and flow styles, quoting, resolution, anchors, comments -----------

# Values whose reading depends on how they are resolved (YAML 1.1, as PyYAML does), quoted or not.
WORDS = ["yes", "no", "on", "off", "Yes", "~", "null", "NULL", "0x1f", "1_000", "1e3", "1.5e3", ".inf", "-.inf",
         "2001-12-14", "12", "-3", "2.5", "true", "False", "conv 1", "same", "a_b", "0o17", "+7", "0b101", ""]
# Keys that read as different names (`yes` is True, `0x10` is 16).
KEYS = ["a", "b", "name", "units", "x1", "12", "3.5", "yes", "0x10", "'q'", '"dq"', "2001-12-14"]

scalars = st.tuples(st.just("scalar"), st.sampled_from(WORDS), st.sampled_from(["plain", "single", "double"]),
                    st.booleans())
aliases = st.tuples(st.just("alias"), st.integers(0, 7))


def _collections(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("seq"), st.lists(children, max_size=4), st.booleans(), st.booleans()),
        st.tuples(st.just("map"), st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=4,
                                           unique_by=lambda pair: pair[0]), st.booleans(), st.booleans()))


nodes = st.recursive(st.one_of(scalars, aliases), _collections, max_leaves=24)


def render(root: Any, comments: bool) -> str:
    """YAML text for a generated tree. Collections are written in flow style when asked or empty,
    else in block style; anchors are named in order and an alias names one already complete."""
    done: list[str] = []
    counter = iter(range(1000))

    def anchor(wanted: bool) -> str:
        return f"&a{next(counter)}" if wanted else ""

    def scalar(word: str, style: str) -> str:
        if style == "single" or (style == "plain" and not word):
            return "'" + word.replace("'", "''") + "'"
        return f'"{word}"' if style == "double" else word

    def finish(name: str, text: str) -> str:
        if name:
            done.append(name[1:])
        return text

    def inline(node: Any) -> str:
        kind = node[0]
        if kind == "alias":
            return f"*{done[node[1] % len(done)]}" if done else "plain"
        if kind == "scalar":
            name = anchor(node[3])
            return finish(name, f"{name} {scalar(node[1], node[2])}".strip())
        name = anchor(node[3])
        if kind == "seq":
            body = "[" + ", ".join(inline(item) for item in node[1]) + "]"
        else:
            body = "{" + ", ".join(f"{key}: {inline(value)}" for key, value in node[1]) + "}"
        return finish(name, f"{name} {body}".strip())

    def is_block(node: Any) -> bool:
        return node[0] in ("seq", "map") and bool(node[1]) and not node[2]

    def note(line: str) -> str:
        return line + "  # note" if comments else line

    def block(node: Any, indent: int) -> list[str]:
        pad = " " * indent
        lines = []
        if node[0] == "seq":
            for item in node[1]:
                if is_block(item):
                    name = anchor(item[3])
                    lines.append(note(f"{pad}- {name}".rstrip()))
                    lines += block(item, indent + 2)
                    finish(name, "")
                else:
                    lines.append(note(f"{pad}- {inline(item)}"))
        else:
            for key, value in node[1]:
                if is_block(value):
                    name = anchor(value[3])
                    lines.append(note(f"{pad}{key}: {name}".rstrip()))
                    lines += block(value, indent + 2)
                    finish(name, "")
                else:
                    lines.append(note(f"{pad}{key}: {inline(value)}"))
        return lines

    if is_block(root):
        lines = block(root, 0)
    else:
        lines = [inline(root)]
    return ("# generated\n" if comments else "") + "\n".join(lines) + "\n"


def _as_written(value: Any) -> Any:
    """What we keep of a value PyYAML's loader constructs: timestamps as their text, keys as names."""
    if isinstance(value, dict):
        return {str(_as_written(key)): _as_written(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@SETTINGS
@given(nodes, st.booleans())
def test_generated_documents_read_as_composed(root, comments):
    text = render(root, comments)
    node = assert_reads_as_composed(text, "generated.yaml")
    # And the values agree with PyYAML's pure-Python safe loader, an independent reading.
    assert (None if node is None else node.plain()) == _as_written(yaml.load(text, Loader=yaml.SafeLoader))


# -- errors: the same messages at the same places as the compose-based reader -----------------------

BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n" for i in range(1, 9))
BIG_INT = "9" * 5000

# (text, max_nodes or None for the default, message, (line, column)), as the previous implementation
# (yaml.compose with the C loader, then a recursive walk of its nodes) reported them; recorded by
# running it on these inputs before it was replaced.
# paramcalc's own words, whichever layer (our event reader or libyaml's scanner) refuses first.
TOO_DEEP = f"the YAML is nested too deeply (more than {MAX_DEPTH} lists and mappings inside one another)"

EXPECTED_ERRORS = [
    # aliases and anchors
    ('a: *nowhere\n', None, 'this is not valid YAML: found undefined alias', (1, 4)),
    ('key: [1, *a]\n', None, 'this is not valid YAML: found undefined alias', (1, 10)),
    ('a: &x [1, *x]\n', None, 'the YAML refers to itself (a recursive alias)', (1, 4)),
    ('a: &x {b: *x}\n', None, 'the YAML refers to itself (a recursive alias)', (1, 4)),
    ('&x {*x : 1}\n', None, 'the YAML refers to itself (a recursive alias)', (1, 1)),
    ('a:\n  b: &x\n    - c: [*x]\n', None, 'the YAML refers to itself (a recursive alias)', (2, 6)),
    ('a: &x 1\nb: &x 2\n', None,
     'this is not valid YAML: second occurrence (found duplicate anchor; first occurrence)', (2, 4)),
    ('a: &x [1]\nb: &x {c: 2}\n', None,
     'this is not valid YAML: second occurrence (found duplicate anchor; first occurrence)', (2, 4)),
    ('a: &x [&x 1]\n', None,
     'this is not valid YAML: second occurrence (found duplicate anchor; first occurrence)', (1, 8)),
    # keys
    ('a: 1\nb: 2\na: 3\n', None, 'the key `a` appears twice in this mapping (first at line 1)', (3, 1)),
    ('{yes: 1, true: 2}\n', None, 'the key `True` appears twice in this mapping (first at line 1)', (1, 10)),
    ('layers:\n  - Dense: {units: 4, units: 5}\n', None,
     'the key `units` appears twice in this mapping (first at line 2)', (2, 23)),
    ('a: &a 1\n? *a\n: 2\nb: *a\n1: 3\n', None, 'the key `1` appears twice in this mapping (first at line 1)',
     (5, 1)),
    ('? [1, 2]\n: 3\n', None, 'a mapping key must be a plain word or number', (1, 3)),
    ('? {a: 1}\n: 3\n', None, 'a mapping key must be a plain word or number', (1, 3)),
    ('~: 1\n', None, 'a mapping key must be a plain word or number', (1, 1)),
    ('? \n: 1\n', None, 'a mapping key must be a plain word or number', (1, 2)),
    # tags
    ('a: !custom [1]\n', None, 'the YAML tag `!custom` is not allowed in a spec', (1, 4)),
    ('a: !custom 1\n', None, 'the YAML tag `!custom` is not allowed in a spec', (1, 4)),
    ('!!set {a, b}\n', None, 'the YAML tag `tag:yaml.org,2002:set` is not allowed in a spec', (1, 1)),
    ('!!omap [a: 1]\n', None, 'the YAML tag `tag:yaml.org,2002:omap` is not allowed in a spec', (1, 1)),
    ('a: !!str [1]\n', None, 'the YAML tag `tag:yaml.org,2002:str` is not allowed in a spec', (1, 4)),
    ('a: !!map [1]\n', None, 'the YAML tag `tag:yaml.org,2002:map` is not allowed in a spec', (1, 4)),
    ('a: !!seq {b: 1}\n', None, 'the YAML tag `tag:yaml.org,2002:seq` is not allowed in a spec', (1, 4)),
    ('a: !<tag:example.com,2000:x> 1\n', None, 'the YAML tag `tag:example.com,2000:x` is not allowed in a spec',
     (1, 4)),
    ('a: !!int abc\n', None, "cannot read the value 'abc': invalid literal for int() with base 10: 'abc'", (1, 4)),
    ('a: !!float abc\n', None, "cannot read the value 'abc': could not convert string to float: 'abc'", (1, 4)),
    (f'a: {BIG_INT}\n', None,
     f"cannot read the value '{BIG_INT}': Exceeds the limit (4300 digits) for integer string conversion: value "
     "has 5000 digits; use sys.set_int_max_str_digits() to increase the limit", (1, 4)),
    # documents
    ('a: 1\n---\nb: 2\n', None,
     'this is not valid YAML: but found another document (expected a single document in the stream)', (2, 1)),
    ('---\n---\n', None,
     'this is not valid YAML: but found another document (expected a single document in the stream)', (2, 1)),
    ('a: 1\n---\n[\n', None,
     'this is not valid YAML: but found another document (expected a single document in the stream)', (2, 1)),
    ('# only a comment\n--- 1\n--- 2\n', None,
     'this is not valid YAML: but found another document (expected a single document in the stream)', (3, 1)),
    # syntax
    ('a:\n\tb: 1\n', None,
     'this is not valid YAML: found character that cannot start any token (while scanning for the next token)',
     (2, 1)),
    ('a: [1, 2\n', None, "this is not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence)",
     (2, 1)),
    ('a: {b: 1\n', None, "this is not valid YAML: did not find expected ',' or '}' (while parsing a flow mapping)",
     (2, 1)),
    ("a: 'unclosed\n", None,
     'this is not valid YAML: found unexpected end of stream (while scanning a quoted scalar)', (2, 1)),
    ('a: "unclosed\n', None,
     'this is not valid YAML: found unexpected end of stream (while scanning a quoted scalar)', (2, 1)),
    ('a: b: c\n', None, 'this is not valid YAML: mapping values are not allowed in this context', (1, 5)),
    ('- a\nb: 1\n', None,
     "this is not valid YAML: did not find expected '-' indicator (while parsing a block collection)", (2, 1)),
    ('a:\n  - 1\n - 2\n', None,
     'this is not valid YAML: did not find expected key (while parsing a block mapping)', (3, 2)),
    ('a: @b\n', None,
     'this is not valid YAML: found character that cannot start any token (while scanning for the next token)',
     (1, 4)),
    (': 1\n', None, 'this is not valid YAML: did not find expected key (while parsing a block mapping)', (1, 1)),
    ('%YAML 1.1\n%YAML 1.1\n---\na: 1\n', None, 'this is not valid YAML: found duplicate %YAML directive', (2, 1)),
    ('a: \x00\n', None, 'this is not valid YAML: unacceptable character #x0000: control characters are not '
     'allowed\n  in "<unicode string>", position 3', (None, None)),
    ('a: "\\q"\n', None,
     'this is not valid YAML: found unknown escape character (while parsing a quoted scalar)', (1, 5)),
    # a YAML error anywhere wins over ours, which came from walking an already composed document
    ('a: 1\na: 2\nb: [\n', None,
     'this is not valid YAML: did not find expected node content (while parsing a flow node)', (4, 1)),
    ('a: !!python/tuple [1]\nb: &y 1\nc: &y 2\n', None,
     'this is not valid YAML: second occurrence (found duplicate anchor; first occurrence)', (3, 4)),
    ('a: !!python/tuple [1]\nb: *nope\n', None, 'this is not valid YAML: found undefined alias', (2, 4)),
    ('a: !!python/tuple [1]\n---\nb: 1\n', None,
     'this is not valid YAML: but found another document (expected a single document in the stream)', (2, 1)),
    ('x: &x [1, *x]\ny: *undefined\n', None, 'this is not valid YAML: found undefined alias', (2, 4)),
    ('a: &x [*x]\nb: {\n', None,
     'this is not valid YAML: did not find expected node content (while parsing a flow node)', (3, 1)),
    ('? [1]\n: 2\nc: *d\n', None, 'this is not valid YAML: found undefined alias', (3, 4)),
    # ours: the first in the document
    ('a: !!python/tuple [1]\nb: 1\nb: 2\n', None,
     'the YAML tag `tag:yaml.org,2002:python/tuple` is not allowed in a spec', (1, 4)),
    ('a: {b: 1, b: 2}\nc: !foo 1\n', None, 'the key `b` appears twice in this mapping (first at line 1)', (1, 11)),
    ('a: &x [1, *x]\nb: !foo 1\n', None, 'the YAML refers to itself (a recursive alias)', (1, 4)),
    # alias bombs and the value budget
    (BOMB, None, 'the YAML expands to more than 10,000,000 values (an alias bomb?)', (7, 4)),
    ('a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: [*a, *a, *a, *a, *a]\n', 50,
     'the YAML expands to more than 50 values (an alias bomb?)', (2, 4)),
    ('a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: [*a, *a, *a, *a, *a]\n', 59,
     'the YAML expands to more than 59 values (an alias bomb?)', (1, 1)),
    ('a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: [*a, *a, *a, *a, *a]\n', 56,
     'the YAML expands to more than 56 values (an alias bomb?)', (1, 1)),
    ('a: {b: [1, 2], c: {d: 3}}\n', 4, 'the YAML expands to more than 4 values (an alias bomb?)', (1, 4)),
    ('a: {b: [1, 2], c: {d: 3}}\n', 5, 'the YAML expands to more than 5 values (an alias bomb?)', (1, 4)),
    ('[1, 2, 3]\n', 3, 'the YAML expands to more than 3 values (an alias bomb?)', (1, 1)),
    ('a: {x: 1, y: 2}\n', 4, 'the YAML expands to more than 4 values (an alias bomb?)', (1, 4)),
    # nesting
    ("[" * 5000 + "]" * 5000 + "\n", None, TOO_DEEP, (1, 1)),
    ("a: " + "{b: " * 600 + "1" + "}" * 600 + "\n", None, TOO_DEEP, (1, 1)),
]


@pytest.mark.parametrize("text, max_nodes, message, where", EXPECTED_ERRORS,
                         ids=[repr(case[0][:30]) for case in EXPECTED_ERRORS])
def test_errors_as_before(text, max_nodes, message, where):
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "t.yaml") if max_nodes is None else parse_yaml(text, "t.yaml", max_nodes)
    assert caught.value.message == message
    assert caught.value.loc == Location("t.yaml", *where)
    assert caught.value.hint


def test_nesting_limit():
    def nested(depth: int) -> str:
        return "[" * depth + "1" + "]" * depth

    assert parse_yaml(nested(MAX_DEPTH), "x") is not None
    with pytest.raises(SpecError) as caught:
        parse_yaml(nested(MAX_DEPTH + 1), "x")
    assert caught.value.message == TOO_DEEP
    # Far deeper: a located refusal in our words, not a RecursionError, nor the YAML library's own
    # nesting limit (libyaml refuses 1,000 flow levels since PyYAML 6.0.4, and its scanner reads ahead of
    # the events we count). libyaml takes time quadratic in the depth of flow nesting, hence not deeper.
    deep_mapping = "{a: " * 3000 + "1" + "}" * 3000
    for text in ("# deep\n" + nested(20_000), "# deep\n" + nested(1_001), "# deep\n" + deep_mapping):
        with pytest.raises(SpecError) as caught:
            parse_yaml(text, "x")
        assert (caught.value.message, caught.value.loc) == (TOO_DEEP, Location("x", 2, 1))
        assert "flatten" in caught.value.hint


@pytest.mark.parametrize("depth", [MAX_DEPTH // 2, MAX_DEPTH + 1, 2 * MAX_DEPTH])
def test_nesting_limit_in_block_style(depth):
    """Indented (block) nesting counts like brackets, and is refused in the same words."""
    text = "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "- 1\n"
    if depth <= MAX_DEPTH:
        assert parse_yaml(text, "x") is not None
    else:
        with pytest.raises(SpecError) as caught:
            parse_yaml(text, "x")
        assert caught.value.message == TOO_DEEP


def test_a_yaml_error_in_a_shallow_document_stays_a_yaml_error():
    """Only a document that really nests too deeply is reported as such."""
    with pytest.raises(SpecError) as caught:
        parse_yaml("a: [1, 2\nb: @\n", "x")
    assert caught.value.message.startswith("this is not valid YAML")


# -- tags that name Python objects, and tagged values no constructor can read ------------------------

@pytest.mark.parametrize("text, message, where", [
    ("a: !!python/object:os.system ls\n", "the YAML tag `tag:yaml.org,2002:python/object:os.system` is not "
     "allowed in a spec", (1, 4)),
    ("a: 1\nb: !!python/name:os.system\n", "the YAML tag `tag:yaml.org,2002:python/name:os.system` is not "
     "allowed in a spec", (2, 4)),
    ("a: !!bool foo\n", "cannot read the value 'foo' as bool", (1, 4)),
    ('a: !!int ""\n', "cannot read the value '' as int", (1, 4)),
])
def test_python_tags_and_unreadable_tagged_values_are_refused(text, message, where):
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "t.yaml")
    assert caught.value.message == message
    assert (caught.value.loc.line, caught.value.loc.column) == where


# -- the plain layout of large specs, read without libyaml's events (spec/plainyaml.py) --------------

def event_reader_only(text: str, source: str = "doc.yaml", max_nodes: int | None = None) -> Any:
    """What `parse_yaml` gives with the plain-layout reader turned off: a tree, or the error."""
    from unittest import mock

    with mock.patch("paramcalc.spec.plainyaml.read_plain_layout", return_value=None):
        return outcome(text, source, max_nodes)


def test_only_a_large_text_is_offered_to_the_plain_reader():
    """A small spec does not import the plain reader (its start-up stays as it was); a large one is read by it."""
    import sys
    from unittest import mock

    from paramcalc.spec.yamlnodes import PLAIN_READER_FROM

    small = "input: [64]\nlayers:\n  - Dense: {units: 64}\n"
    big = small + "  - Dense: {units: 64}\n" * (PLAIN_READER_FROM // 20)
    with mock.patch.dict(sys.modules, {"paramcalc.spec.plainyaml": None}):  # an import would fail
        assert tree(parse_yaml(small, "s.yaml")) == reference(small, "s.yaml")
    with mock.patch("paramcalc.spec.plainyaml.read_plain_layout", return_value=None) as plain:
        parse_yaml(big, "b.yaml")
    assert plain.called
    assert tree(parse_yaml(big, "b.yaml")) == reference(big, "b.yaml")


def outcome(text: str, source: str = "doc.yaml", max_nodes: int | None = None) -> Any:
    """What `parse_yaml` gives, a tree or the error, offering even a small text to the plain reader."""
    from unittest import mock

    with mock.patch("paramcalc.spec.yamlnodes.PLAIN_READER_FROM", 0):
        try:
            return tree(parse_yaml(text, source) if max_nodes is None else parse_yaml(text, source, max_nodes))
        except SpecError as error:
            return ("error", error.message, error.loc, error.hint)


def read_plain(text: str, source: str = "doc.yaml", max_nodes: int = 10_000_000) -> Node | None:
    from paramcalc.spec.plainyaml import read_plain_layout
    from paramcalc.spec.yamlnodes import _EventBuilder

    return read_plain_layout(text, source, max_nodes, _EventBuilder(text, source, max_nodes).plain_value)


# Plain scalars the reader takes (what they mean, the loader's resolver says), and some it leaves.
PLAIN_WORDS = ["same", "16", "0", "-1", "2.5", "1e3", "1.5e-3", "yes", "Off", "null", "Null", "0x1f", "0o17",
               "2001-12-14", "1_000", ".inf", "-.inf", ".nan", "a_b", "u0", "conv2d_1", "True", "-.5", "+7",
               "x-y", ".5", "b1.conv", "...", "-x", "012", "1e999"]
OTHER_WORDS = ["~", "190:20", "a b", "halves[0]", "-", "a,b", "é", "a#b", "*x", "&y z", "!!str 1"]
QUOTED = ['"halves[0]"', "'it'", '""', "''", '"a: b, c"', "'x y'"]
PLAIN_KEYS = ["name", "filters", "units", "x1", "yes", "12", "1.5", "inputs"]  # names that differ


@st.composite
def plain_layouts(draw: Any, strict: bool) -> str:
    """A spec-like text in the plain layout; with `strict`, one the plain reader must take."""
    words = st.sampled_from(PLAIN_WORDS + ([] if strict else OTHER_WORDS + QUOTED))
    keys = st.sampled_from(PLAIN_KEYS if strict else PLAIN_KEYS + ["on", "Null", "~", "'q'", "a b"])
    sep = st.just(", ") if strict else st.sampled_from([", ", ",", " , "])

    def flow(depth: int) -> st.SearchStrategy:
        leaf = words
        if depth == 0:
            return leaf
        inner = flow(depth - 1)
        seqs = st.builds(lambda items, s: "[" + s.join(items) + "]", st.lists(inner, max_size=3), sep)
        maps = st.builds(lambda pairs, s: "{" + s.join(f"{k}: {v}" for k, v in pairs) + "}",
                         st.lists(st.tuples(keys, inner), max_size=4,
                                  unique_by=(lambda pair: pair[0]) if strict else None), sep)
        return st.one_of(leaf, seqs, maps)

    item = st.one_of(words, st.builds(lambda kind, value: f"{kind}: {value}",
                                      st.sampled_from(["Conv2D", "Dense", "Add", "ReLU", "x1"]), flow(2)))
    indent = draw(st.sampled_from([0, 2, 4]))
    blank = st.sampled_from(["", "", "", "\n", "  \n"]) if not strict else st.sampled_from(["", "", "\n"])
    trailing = st.sampled_from(["", "", "  "])
    top_keys = draw(st.lists(st.sampled_from(["input", "name", "layers", "outputs", "yes", "12", "x"]),
                             min_size=1, max_size=4, unique=strict))
    lines = [draw(blank)]
    for key in top_keys:
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(flow(2))}{draw(trailing)}\n")
        else:
            lines.append(f"{key}:\n")
            for value in draw(st.lists(item, min_size=1, max_size=5)):
                lines.append(f"{' ' * indent}- {value}{draw(trailing)}\n{draw(blank)}")
    text = "".join(lines)
    return text[:-1] if text.endswith("\n") and draw(st.booleans()) else text


@SETTINGS
@given(plain_layouts(strict=True))
def test_the_plain_reader_takes_the_plain_layout_and_reads_it_as_the_event_reader(text):
    assert read_plain(text) is not None
    assert outcome(text) == event_reader_only(text) == reference(text, "doc.yaml")


@SETTINGS
@given(plain_layouts(strict=False))
def test_near_the_plain_layout_both_readers_agree_to_the_error(text):
    """Anything the plain reader does not take (other scalars, spacing, duplicate keys, unreadable keys)
    is read, or refused, exactly as by the event reader."""
    assert outcome(text) == event_reader_only(text)


@pytest.mark.parametrize("text", [
    "input: [8, 8, 16]\nlayers:\n  - Conv2D: {name: u0, filters: 16, kernel_size: 3, padding: same}\n  - ReLU\n"
    "  - Add: {name: u1, inputs: [u0, c1]}\n",
    "input: [64]\nlayers:\n- Dense: {units: 64}\n- ReLU\n",
    "\n\ninput: [ 1 ,2 ]\nlayers:\n    - Dense: {units: [], x: {}}\n\n    - Dense: {units: [1,2], y: 'q'}\n"
    "outputs: [\"a\", b]",
])
def test_spec_shaped_texts_are_read_by_the_plain_reader(text):
    assert read_plain(text) is not None
    assert outcome(text) == event_reader_only(text) == reference(text, "doc.yaml")


@pytest.mark.parametrize("text, max_nodes", [
    ("layers:\n  - Dense: {units: 4, units: 5}\n", None),  # a duplicate key: the event reader words it
    ("a: 1\nb: 2\na: 3\n", None),
    ("layers:\n  - Dense: {units: 4}\n  - ReLU\n", 6),  # more values than allowed: located by the event reader
    ("a: 1\n~: 2\n", None),
    ("a: 1 # note\n", None),
    ("a:\n  b: 1\n", None),
    ("- a\n- b\n", None),
    (f"a: {BIG_INT}\n", None),
    ('a: "x\x01"\n', None),  # a control character, which YAML refuses
    ("a: 1\r\nb: [2]\r\n", None),
    ("a: [1, 2, ]\n", None),
    ("a: b, c\n", None),  # in block style one scalar: `b, c`
])
def test_what_the_plain_reader_leaves_is_read_or_refused_as_before(text, max_nodes):
    assert read_plain(text, max_nodes=max_nodes or 10_000_000) is None
    assert outcome(text, max_nodes=max_nodes) == event_reader_only(text, max_nodes=max_nodes)
