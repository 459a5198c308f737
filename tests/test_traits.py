"""Layer kinds declare what they are (`LayerKind.cost`, layers/traits.py) and every consumer reads
that: the counting conventions have a recipe for every category, and `compare` pairs a depthwise
and a 1x1 convolution across every value-keeping kind. Nothing here lists kind names: the cases
come from the registry, so a new kind is checked the day it is added."""

from __future__ import annotations

import pytest

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
