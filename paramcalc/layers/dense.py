"""Fully-connected layers. On inputs of rank > 1 they act on the last axis, at every position."""

from __future__ import annotations

from typing import Any

from paramcalc.layers.args import Arg, anything, boolean, keras_activation, optional, positive, text
from paramcalc.layers.base import Context, LayerKind, LayerResult, Shape, Structure, Variant, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.ops import BIAS_ADDS
from paramcalc.layers.registry import register
from paramcalc.layers.shapes import check_stated
from paramcalc.layers.traits import Cost

# `tie: name` shares the weight matrix of a layer above (GPT-2's head reuses the token embedding): the
# layer still multiplies by it (its MACs count) but owns no weights; a bias stays its own. The engine
# checks that the named layer's matrix has the matching shape (engine.py `check_tie`).
TIE = Arg("tie", optional(text), None, "the name of a layer above whose weight matrix this layer shares "
          "(a tied head: no weight params of its own, its bias stays its own)")


def note_tie(a: dict[str, Any], rows: Q, columns: Q, ctx: Context) -> None:
    """`explain` shows the shared matrix, counted at the layer that owns it."""
    if a.get("tie"):
        ctx.note("shared weights", rows * columns, f"(tied to `{a['tie']}`, counted there once)")


def dense_result(shape: Shape, units: int, use_bias: bool, a: dict[str, Any]) -> LayerResult:
    inputs = Q.of(shape[-1], "in")
    out = Q.of(units, "units")
    weights = ZERO if a.get("tie") else inputs * out
    params = (out if a.get("tie") else weights + out) if use_bias else weights
    positions = Q.product(Q.of(n) for n in shape[:-1])
    macs = positions * (inputs * out) if len(shape) > 1 else inputs * out
    trainable, frozen = trainable_split(params, ZERO, a)
    structure = Structure(Variant.DENSE, (), shape[-1], units, shape[:-1], shape[:-1], use_bias=use_bias)
    ops = {BIAS_ADDS: positions.value * units} if use_bias else {}
    return LayerResult((*shape[:-1], units), trainable, frozen, macs, structure=structure, ops=ops)


@register
class Dense(LayerKind):
    name = "Dense"
    cost = Cost.DENSE
    example, example_rank = "{units: 10}", 1
    doc = "Fully connected (Keras), applied to the last axis."
    args = (Arg("units", positive), Arg("activation", keras_activation, None), Arg("use_bias", boolean, True),
            Arg("lora_rank", anything, None), Arg("lora_alpha", anything, None), TIE)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        note_tie(a, Q.of(shape[-1], "in"), Q.of(a["units"], "units"), ctx)
        return dense_result(shape, a["units"], a["use_bias"], a)


@register
class Linear(LayerKind):
    name = "Linear"
    cost = Cost.DENSE
    example, example_rank = "{out_features: 10}", 1
    framework = "torch"
    doc = "Fully connected (PyTorch), applied to the last axis."
    args = (Arg("out_features", positive), Arg("in_features", optional(positive), None), Arg("bias", boolean, True),
            Arg("device", anything, None), Arg("dtype", anything, None), TIE)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        check_stated(a, "in_features", shape[-1], ctx)
        note_tie(a, Q.of(shape[-1], "in"), Q.of(a["out_features"], "units"), ctx)
        return dense_result(shape, a["out_features"], a["bias"], a)
