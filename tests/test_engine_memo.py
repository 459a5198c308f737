"""The engine computes a repeated layer once and reuses the result. Reuse must never change an
answer: every figure, warning and error is the same as if each layer were computed on its own."""

from __future__ import annotations

import pytest

from paramcalc import engine
from paramcalc.errors import ParamcalcError, SpecErrors
from paramcalc.spec.loader import parse_spec
from tests.conftest import SPECS, run_text


def analyze_without_memo(spec, keep_formulas=True):
    """Reference: the same walk with a key that never repeats (so nothing is reused)."""
    original = engine.memo_key
    engine.memo_key = lambda layer, inputs, keep: None
    try:
        return engine.analyze(spec, keep_formulas)
    finally:
        engine.memo_key = original


def comparable(row):
    """Every field of a row, its formulas as the numbers and text they print."""
    formulas = [(d.label, d.q.value, d.q.render(), d.q.render(True), d.note) for d in row.derivations]
    return row.replace(derivations=()), formulas


@pytest.mark.parametrize("name", ["resnet50.yaml", "mobilenet_v2.yaml", "densenet121.yaml", "gpt3.yaml",
                                  "alexnet.yaml", "unet.yaml"])
def test_reuse_gives_the_same_report_as_computing_every_layer(name):
    spec = parse_spec((SPECS / name).read_text(), name)
    for keep in (True, False):
        fast, slow = engine.analyze(spec, keep), analyze_without_memo(spec, keep)
        assert [comparable(r) for r in fast.rows] == [comparable(r) for r in slow.rows]
        assert fast.warnings == slow.warnings and fast.total_macs == slow.total_macs


def test_a_value_of_another_type_is_not_taken_for_a_repeat():
    # 1 and 1.0 (and True and 1) are equal and hash alike in Python; only the first is valid here.
    for bad in ("1.0", "true"):
        text = f"input: [8, 8, 3]\nlayers:\n  - Conv2D: {{filters: 1, kernel_size: 3}}\n" \
               f"  - Conv2D: {{filters: {bad}, kernel_size: 3, inputs: input}}\n"
        with pytest.raises(ParamcalcError) as caught:
            run_text(text)
        assert caught.value.loc.line == 4 and "filters" in caught.value.message


def test_a_repeated_layer_warns_at_every_occurrence():
    text = ("input: [9, 9, 3]\nlayers:\n  - Conv2D: {name: a, filters: 3, kernel_size: 2, strides: 2}\n"
            "  - ZeroPadding2D: {name: p, padding: [[0, 5], [0, 5]]}\n"
            "  - Conv2D: {name: b, filters: 3, kernel_size: 2, strides: 2, inputs: input}\n")
    report = run_text(text)
    assert [w.layer for w in report.warnings] == ["a", "b"]
    assert [w.loc.line for w in report.warnings] == [3, 5]


def test_a_repeated_mistake_is_reported_at_each_place():
    text = ("input: [4, 4, 3]\nlayers:\n  - Conv2D: {name: a, filters: 2, kernel_size: 5}\n"
            "  - Conv2D: {name: b, filters: 2, kernel_size: 5, inputs: input}\n")
    with pytest.raises(SpecErrors) as caught:
        run_text(text)
    assert [e.loc.line for e in caught.value.errors] == [3, 4]


RESIDUAL = ("input: [4, 4, 2]\nlayers:\n  - Conv2D: {name: u0, filters: 2, kernel_size: 3, padding: same}\n"
            "  - Conv2D: {name: a1, filters: 2, kernel_size: 3, padding: same}\n"
            "  - Add: {name: u1, inputs: [u0, a1]}\n"
            "  - Conv2D: {name: a2, filters: 2, kernel_size: 3, padding: same}\n"
            "  - Add: {name: u2, inputs: [u1, a2]}\n"
            "  - Add: {name: d2, inputs: [a2, a2]}\n"
            "  - Concatenate: {name: j, inputs: [u2, d2]}\n"
            "  - Concatenate: {name: k, inputs: [d2, d2]}\n")


def test_merges_of_other_inputs_reuse_a_result_without_formulas_and_say_the_same():
    """Without formulas, merges of inputs of the same shapes share one result whatever the inputs' names
    (the key says which inputs are the same one); with formulas, which may name them, each is its own."""
    spec = parse_spec(RESIDUAL, "r.yaml")
    for keep in (True, False):
        fast, slow = engine.analyze(spec, keep), analyze_without_memo(spec, keep)
        assert [comparable(r) for r in fast.rows] == [comparable(r) for r in slow.rows]
    rows = {layer.name: layer for layer in spec.layers}
    shapes = [(4, 4, 2), (4, 4, 2)]
    assert engine.memo_key(rows["u1"], shapes, False) == engine.memo_key(rows["u2"], shapes, False)
    assert engine.memo_key(rows["u1"], shapes, False) != engine.memo_key(rows["d2"], shapes, False)
    assert engine.memo_key(rows["u1"], shapes, True) != engine.memo_key(rows["u2"], shapes, True)


def test_a_merge_that_fails_names_its_own_inputs_after_others_succeeded():
    text = RESIDUAL + ("  - Conv2D: {name: w, filters: 3, kernel_size: 1}\n"
                       "  - Add: {name: bad, inputs: [u1, w]}\n  - Add: {name: worse, inputs: [u2, w]}\n")
    spec = parse_spec(text, "r.yaml")
    for keep in (True, False):
        with pytest.raises(SpecErrors) as caught:
            engine.analyze(spec, keep)
        messages = [e.message for e in caught.value.errors]
        assert "cannot merge `u1` (4, 4, 2) and `w` (4, 4, 3)" in messages[0]
        assert "cannot merge `u2` (4, 4, 2) and `w` (4, 4, 3)" in messages[1]
