"""Layer kinds declare what they are (`LayerKind.cost`, layers/traits.py) and every consumer reads
that: the counting conventions have a recipe for every category, and `compare` pairs a depthwise
and a 1x1 convolution across every value-keeping kind. Nothing here lists kind names: the cases
come from the registry, so a new kind is checked the day it is added."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.compare import conv_pairs
from paramcalc.conventions import CONVENTIONS, nothing
from paramcalc.layers.base import LayerKind
from paramcalc.layers.registry import all_kinds
from paramcalc.layers.traits import Cost
from tests.conftest import run_text

KINDS = all_kinds()
VALUE_KEEPING = [name for name, kind in KINDS.items()
                 if isinstance(getattr(kind, "cost", None), Cost) and kind.cost.value_keeping]


def example_row(kind: type[LayerKind]):
    return run_text(kind.example_spec()).rows[-1]


def test_the_base_class_gives_no_category():
    """A kind that forgets its category has none to inherit (the check below then fails)."""
    assert "cost" not in vars(LayerKind) and not hasattr(LayerKind, "cost")


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_declares_its_category(name):
    assert isinstance(getattr(KINDS[name], "cost", None), Cost), f"{name} declares no `cost` (layers/traits.py)"


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_every_convention_has_a_recipe_for_every_category(convention):
    missing = set(Cost) - set(CONVENTIONS[convention].recipes)
    assert not missing, f"{convention} has no recipe for {sorted(c.name for c in missing)}"


@pytest.mark.parametrize("name", list(KINDS))
def test_every_convention_counts_every_kind_and_keeps_its_multiply_accumulates(name):
    """Each kind's example goes through every recipe; a recipe that counts nothing is only ever
    given kinds without multiply-accumulates (every tool counts those)."""
    row = example_row(KINDS[name])
    for convention in CONVENTIONS.values():
        figure = convention.count(row)
        assert isinstance(figure, int) and figure >= 0, (convention.name, figure)
        if convention.recipes[row.kind.cost] is nothing:
            assert row.macs == 0, f"{convention.name} counts nothing for {name}, which has {row.macs} MACs"


@pytest.mark.parametrize("name", VALUE_KEEPING)
def test_value_keeping_kinds_keep_the_shape(name):
    row = example_row(KINDS[name])
    assert row.output_shape == row.input_shape


def test_value_keeping_kinds_include_the_issues_examples():
    assert {"Mish", "LayerNormalization", "GELU", "Dropout", "BatchNormalization", "ReLU"} <= set(VALUE_KEEPING)
    assert not {"Conv2D", "Dense", "MaxPooling2D", "Add", "Flatten", "ZeroPadding2D"} & set(VALUE_KEEPING)


def separable_block(kind: type[LayerKind]) -> str | None:
    """Depthwise, `kind` as in its example, then a 1x1 convolution, at the kind's own rank and
    data format; None when Keras has no depthwise convolution of that rank (3-D)."""
    rank = max(getattr(kind, "rank", kind.example_rank), 1)
    if rank > 2:
        return None
    channels_last = kind.framework == "keras"
    shape = [*(9,) * rank, 4] if channels_last else [4, *(9,) * rank]
    return (f"input: {shape}\n"
            f"data_format: {'channels_last' if channels_last else 'channels_first'}\n"
            "layers:\n"
            f"  - DepthwiseConv{rank}D: {{kernel_size: 3, padding: same, name: dw}}\n"
            f"  - {kind.name}: {kind.example}\n"
            f"  - Conv{rank}D: {{filters: 8, kernel_size: 1, name: pw}}\n")


@pytest.mark.parametrize("name", VALUE_KEEPING)
def test_compare_pairs_depthwise_and_pointwise_across_every_value_keeping_kind(name):
    spec = separable_block(KINDS[name])
    if spec is None:
        pytest.skip(f"{name} takes 3-D maps and Keras has no 3-D depthwise convolution")
    report = run_text(spec)
    (pair,) = conv_pairs(report)
    dw, pw = report.rows[0], report.rows[-1]
    assert (pair.layer, pair.written) == ("dw + pw", "separable")
    assert (pair.n, pair.m) == (dw.structure.in_channels, pw.structure.out_channels)
    assert pair.actual_macs == dw.macs + pw.macs


@pytest.mark.parametrize("between", ["Mish", "LayerNormalization", "GaussianNoise: 0.1"])
def test_compare_command_reports_the_separable_pair(between, spec_file):
    """The issue's cases, through the CLI: they were reported as 'depthwise only'."""
    path = spec_file("input: [16, 16, 8]\nlayers:\n  - DepthwiseConv2D: {kernel_size: 3, padding: same, name: dw}\n"
                     f"  - {between}\n  - Conv2D: {{filters: 32, kernel_size: 1, name: pw}}\n")
    result = CliRunner().invoke(cli, ["compare", path, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(row["layer"], row["form"]) for row in data["rows"]] == [("dw + pw", "separable")]
    totals = {row["layer"]: row for row in data["totals"]}
    # The whole block as one standard 3x3 convolution from 8 to 32 channels, not the depthwise alone.
    assert totals["all standard convolutions"]["standard_macs"] == data["rows"][0]["standard_macs"]


def test_a_kind_outside_the_value_keeping_categories_breaks_the_pair():
    report = run_text("input: [16, 16, 8]\nlayers:\n  - DepthwiseConv2D: {kernel_size: 3, padding: same, name: dw}\n"
                      "  - MaxPooling2D: {pool_size: 1}\n  - Conv2D: {filters: 32, kernel_size: 1, name: pw}\n")
    assert [(p.layer, p.written) for p in conv_pairs(report)] == [("dw", "depthwise only")]
