"""`paramcalc layers` shows each input of a multi-input example with its own shape (MatMul's b is the
transpose of a; a decoder's memory is longer than its target), not the first input's shape repeated."""

from __future__ import annotations

from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers import all_kinds
from paramcalc.spec.loader import parse_spec


def example_line(kind: str) -> str:
    out = CliRunner().invoke(cli, ["layers", kind]).stdout
    return next(line for line in out.splitlines() if line.strip().startswith("example:"))


def test_each_input_of_a_multi_input_example_shows_its_own_shape() -> None:
    assert " on (None, 2, 5, 8) and (None, 2, 8, 5) -> (None, 2, 5, 5)," in example_line("MatMul")
    assert " on (None, 5, 8) and (None, 7, 8) -> (None, 5, 8)," in example_line("TransformerDecoderLayer")


def test_every_example_that_reads_the_model_inputs_shows_them_in_order() -> None:
    for name, kind in all_kinds().items():
        spec = parse_spec(kind.example_spec(), f"<{name} example>")
        last = spec.layers[-1]
        if len(last.inputs) < 2 or not all(ref in spec.inputs for ref in last.inputs):
            continue
        shapes = " and ".join("(None, " + ", ".join(str(d) for d in spec.inputs[ref]) + ")" for ref in last.inputs)
        assert f" on {shapes} -> " in example_line(name), name
