"""The explanation is tied to the computation by construction (issue 13).

- A result builds its own params and MACs lines from the `Q`s that are its counts: no kind can forget
  them, and a zero count says so in words.
- Labels are constants; symbols come from one table (paramcalc/layers/formula.py SYMBOLS), and the
  legends of `explain` and `paramcalc layers` are generated from it: every symbol printed is in the
  legend printed above it, and the legend names nothing that is not printed.
- `paramcalc layers` shows, for each kind, the formulas `explain` prints for its example."""

from __future__ import annotations

import ast
import json
import re

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers import all_kinds
from paramcalc.layers.base import (
    MACS,
    NO_MACS,
    NO_WEIGHTS,
    NON_TRAINABLE_PARAMS,
    PARAMS,
    TRAINABLE_PARAMS,
    count_derivations,
)
from paramcalc.layers.formula import OPERATORS, SYMBOLS, ZERO, Q
from tests.conftest import ROOT, SPECS, run_text

KINDS = sorted(all_kinds().values(), key=lambda k: k.name)
SPEC_FILES = sorted(SPECS.glob("*.yaml"))
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*'?")
OPERATOR_WORDS = {"x", "ceil", "max"}  # how OPERATORS print; explained by their own legend words
# "  output height  ceil(N/S) = ceil(11/2) = 6  (note)": a label (words with single spaces), 2+ spaces, the rest.
FORMULA_LINE = re.compile(r"^  (?P<label>[A-Za-z'-]+(?: [A-Za-z'-]+)*) {2,}(?P<rest>\S.*)$")


def invoke(*args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def tokens(text: str) -> set[str]:
    return set(TOKEN.findall(text)) - OPERATOR_WORDS


def legend_symbols(legend: str) -> set[str]:
    """The table's symbols a printed legend names; every entry must be one of them, verbatim."""
    symbols_part = legend.split("; ")[0]
    if not legend or symbols_part.split(", ")[0] in OPERATORS.values():
        return set()  # no legend (nothing but numbers printed), or operations only
    named = set()
    for entry in symbols_part.split(", "):
        found = [s for s, meaning in SYMBOLS.items() if entry == f"{s} {meaning}"]
        assert found, f"legend entry {entry!r} is not in the symbol table"
        named.add(found[0])
    return named


def printed_symbols(formula: str) -> set[str]:
    """Symbols in an explain formula `symbolic = numbers = result` (or `numbers = result`, or `result`)."""
    parts = formula.split(" = ")
    return tokens(parts[0]) if len(parts) > 1 else set()


def explain_output(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The legend and the (label, formula) lines of `paramcalc explain`'s output."""
    lines = text.splitlines()
    legend = lines[1][3:-1] if lines[1].startswith("  (") else ""
    formulas = []
    for line in lines[2:]:
        match = FORMULA_LINE.match(line)
        if match:
            formulas.append((match["label"], match["rest"].split("  (")[0]))  # the note, if any, dropped
    return legend, formulas


def check_legend(legend: str, printed: set[str]) -> None:
    named = legend_symbols(legend)
    assert printed <= set().union(*map(tokens, SYMBOLS)), printed - set().union(*map(tokens, SYMBOLS))
    assert printed == set().union(*map(tokens, named)), (printed, named)


# ---- the symbol table and the legends ------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_explain_of_every_kind_prints_only_symbols_its_legend_names(kind):
    legend, formulas = explain_output(invoke("explain", "-", input=kind.example_spec()))
    assert formulas, "explain printed no formula"
    check_legend(legend, set().union(*(printed_symbols(f) for _, f in formulas)))


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_explain_of_every_bundled_spec_prints_only_symbols_its_legend_names(path):
    legend, formulas = explain_output(invoke("explain", str(path)))
    check_legend(legend, set().union(*(printed_symbols(f) for _, f in formulas)))
    # and the objects behind the text: every atom's name is a key of the table, verbatim
    report = run_text(path.read_text(encoding="utf-8"), str(path))
    names = set().union(*(d.q.symbols() for row in report.rows for d in row.derivations))
    assert names <= SYMBOLS.keys(), names - SYMBOLS.keys()


def test_the_legend_names_what_lenet5_uses_and_nothing_else():
    legend, _ = explain_output(invoke("explain", str(SPECS / "lenet5.yaml")))
    assert legend.startswith("N input size, F kernel size, S stride, 2P padding on both sides, ")
    assert "m depth multiplier" not in legend and "C/g" not in legend  # no depthwise or grouped layer there
    assert legend.endswith("; x multiplies, a/b is a division that the framework floors")


def test_every_symbol_named_in_the_layers_source_is_in_the_table():
    # Q.of(value, "NAME") with a literal name, anywhere in layers/: caught even for a branch no example takes.
    for path in (ROOT / "paramcalc" / "layers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "of"
                    and len(node.args) == 2):
                names = [c.value for c in ast.walk(node.args[1]) if isinstance(c, ast.Constant)
                         and isinstance(c.value, str)]
                if isinstance(node.args[1], ast.JoinedStr):
                    continue  # F{dim} and {dim}' are checked through the examples
                for name in names:
                    assert name in SYMBOLS, f"{path.name}:{node.lineno}: symbol {name!r} is not in SYMBOLS"


def test_legend_entries_can_be_told_apart():
    # The legend is "S meaning, S meaning; op words": a symbol's meaning with ", " or "; " would blur it.
    for text in SYMBOLS.values():
        assert ", " not in text and "; " not in text, text


# ---- counts always explained ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_explains_its_params_and_macs(kind):
    row = run_text(kind.example_spec()).rows[-1]
    labels = [d.label for d in row.derivations]
    assert len(labels) == len(set(labels)), f"a label repeated: {labels}"  # no kind writes a count line itself
    found = {d.label: d for d in row.derivations}
    if PARAMS in found:
        assert found[PARAMS].q.value == row.params and NON_TRAINABLE_PARAMS not in found
        assert found[PARAMS].note == (NO_WEIGHTS if row.params == 0 else "")
    else:
        assert found[TRAINABLE_PARAMS].q.value == row.trainable_params
        assert found[NON_TRAINABLE_PARAMS].q.value == row.non_trainable_params != 0
    assert found[MACS].q.value == row.macs
    assert found[MACS].note == (NO_MACS if row.macs == 0 else "")


def test_a_zero_count_is_an_explicit_zero():
    params, macs = count_derivations(ZERO, ZERO, ZERO)
    assert (params.label, params.q.value, params.note) == (PARAMS, 0, NO_WEIGHTS)
    assert (macs.label, macs.q.value, macs.note) == (MACS, 0, NO_MACS)
    out = invoke("explain", "-", input="input: [4, 4, 2]\nlayers: [ReLU]\n")
    assert "  params  0  (no weights)\n  MACs    0  (no multiply-accumulates)" in out


def test_a_frozen_layer_explains_its_non_trainable_params():
    spec = ("input: [11, 11, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3, trainable: false}\n"
            "  - BatchNormalization: {trainable: false}\n")
    summary = json.loads(invoke("summary", "-", "--format", "json", input=spec))
    conv, norm = summary["layers"]
    out = invoke("explain", "-", input=spec)
    assert re.search(r"trainable params +0\n", out)
    # the frozen conv's weights, with their formula and no "+ 0" for the nothing it had frozen before
    assert re.search(rf"non-trainable params +\(F x F x C \+ 1\) x M = [^=]+ = {conv['params']}\n", out)
    assert re.search(rf"non-trainable params +2 x C \+ 2 x C = [^=]+ = {norm['params']}\n", out)


def test_a_count_that_is_one_named_size_shows_its_symbol():
    # PyTorch PReLU with one slope per channel: params = C.
    out = invoke("explain", "-", input="input: [3, 5, 5]\ndata_format: channels_first\n"
                 "layers:\n  - PReLU: {num_parameters: 3}\n")
    assert re.search(r"params +C = 3\n", out)
    legend, _ = explain_output(out)
    assert legend_symbols(legend) == {"C"}


# ---- `paramcalc layers` shows what `explain` prints ----------------------------------------------

def layers_formulas(text: str) -> dict[str, str]:
    """Kind -> its `formulas:` line."""
    found, kind = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and "  [" in line:
            kind = line.split("  [")[0]
        elif line.startswith("  formulas: "):
            found[kind] = line[len("  formulas: "):]
    return found


@pytest.fixture(scope="module")
def layers_listing() -> str:
    return invoke("layers")


def test_layers_lists_formulas_with_a_generated_legend(layers_listing):
    formulas = layers_formulas(layers_listing)
    assert set(formulas) == {k.name for k in KINDS}
    legend = next(line for line in layers_listing.splitlines() if line.startswith("Symbols: "))
    printed = set()
    for line in formulas.values():
        for part in line.split(";  "):
            printed |= tokens(part.split(" = ", 1)[1].split(" = ")[0])
    check_legend(legend[len("Symbols: "):-1], printed)
    assert formulas["Conv2D"] == ("output height, width = ceil(N/S);  padding height, width = max((N' - 1) x S "
                                  "+ F - N, 0);  params = (F x F x C + 1) x M;  MACs = H' x W' x M x (F x F x C)")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_layers_shows_the_formulas_explain_prints_for_the_example(kind, layers_listing):
    shown = layers_formulas(layers_listing)[kind.name]
    _, formulas = explain_output(invoke("explain", "-", input=kind.example_spec()))
    for label, formula in formulas:
        parts = formula.split(" = ")
        symbolic = parts[0] if len(parts) == 3 or (len(parts) == 2 and tokens(parts[0])) else formula
        assert f" = {symbolic}" in shown, (label, symbolic, shown)
        assert label.split(" ")[-1] in shown


def test_layers_for_named_kinds_has_its_own_legend():
    out = invoke("layers", "Dense")
    assert out.startswith("Symbols: in input features, units output features; x multiplies.\n\nDense  [Keras]")
    assert "  formulas: params = in x units + units;  MACs = 9 x (in x units)\n" in out


def test_the_catalog_is_computed_above_the_renderer():
    source = (ROOT / "paramcalc" / "render" / "layers.py").read_text(encoding="utf-8")
    assert "analyze" not in source and "parse_spec" not in source and "all_kinds" not in source


# ---- one rule for a layer's own data_format ------------------------------------------------------

def test_spatial_dropout_checks_data_format_as_keras_does():
    # Keras 3.15.1: SpatialDropout2D(0.1, data_format='nchw') raises ValueError ("must be one of
    # {'channels_first', 'channels_last'}"), as every layer taking data_format does.
    result = CliRunner().invoke(cli, ["summary", "-"], input="input: [8, 8, 3]\nlayers:\n"
                                "  - SpatialDropout2D: {rate: 0.1, data_format: nchw}\n")
    assert result.exit_code == 2
    assert "<stdin>:3:35: error: SpatialDropout2D `data_format` must be one of 'channels_last', " \
           "'channels_first'; got 'nchw'" in result.stderr


def test_q_lists_its_symbols_and_operations():
    q = (Q.of(5, "N") - Q.of(3, "F") + Q.of(0, "2P")).floordiv(Q.of(1, "S")) + 1
    assert q.symbols() == {"N", "F", "2P", "S"} and q.operators() == {"+", "-", "/"}
    deep = Q.total(Q.of(1, "C") for _ in range(5000))  # a long sum is a deep tree: walked without recursion
    assert deep.symbols() == {"C"}


def test_free_dimensions_are_written_in_the_formulas_notation_everywhere():
    # One rule (formula.expression_text) for sympy's ceiling, Max and **, in figures, notes and totals.
    out = invoke("explain", "-", input="input: [H, W, 3]\nlayers:\n"
                 "  - Conv2D: {filters: 4, kernel_size: 3, strides: 2, padding: same}\n  - Flatten\n")
    assert "ceil(H/2)" in out and "max(0, " in out and " before, " in out
    assert "ceiling" not in out and "Max(" not in out and "**" not in out


def test_convolution_and_pooling_share_one_window_rule():
    # Same window, stride and padding: the same output-length formula and the same floor warning, word for word.
    spec = ("input: [12, 12, 4]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3, strides: 2, name: c}\n"
            "  - MaxPooling2D: {pool_size: 3, strides: 2, name: p, inputs: input}\n"
            "  - Conv2D: {filters: 4, kernel_size: 3, strides: 2, padding: same, name: cs, inputs: input}\n"
            "  - MaxPooling2D: {pool_size: 3, strides: 2, padding: same, name: ps, inputs: input}\n")
    rows = {row.name: row for row in run_text(spec).rows}
    for conv, pool in (("c", "p"), ("cs", "ps")):
        lines = [[(d.label, d.q.render(True), d.q.render()) for d in rows[name].derivations
                  if d.label.startswith("output")] for name in (conv, pool)]
        assert lines[0] == lines[1]
        assert rows[conv].warnings == rows[pool].warnings
    assert rows["c"].warnings and not rows["cs"].warnings  # (12 - 3)/2 floors; ceil(12/2) does not
