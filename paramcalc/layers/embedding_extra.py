"""Embeddings and position information for transformers: keras_hub's PositionEmbedding,
TokenAndPositionEmbedding and RotaryEmbedding, Keras's ReversibleEmbedding, and two building blocks
no framework ships as a layer of its own: ViT's ClassToken and T5's RelativePositionBias.

None of them multiplies and accumulates: they look up, slice, rotate or prepend learned values."""

from __future__ import annotations

from typing import Any

from paramcalc.layers import sym
from paramcalc.layers.args import Arg, BadValue, anything, boolean, is_int, number, optional, positive
from paramcalc.layers.base import Context, Derivation, LayerKind, LayerResult, Shape, format_shape, trainable_split
from paramcalc.layers.formula import ZERO, Q
from paramcalc.layers.registry import register
from paramcalc.layers.traits import Cost

OUTPUT_POSITIONS = "output positions"


def check_table_length(positions: int, sequence_length: int, ctx: Context) -> None:
    """keras_hub slices the first `positions` rows of a table of `sequence_length`: more fail."""
    if not sym.certainly_below(sequence_length - positions, 0):
        return
    # A shape error (located at the argument): it depends on the input's length, not on the argument alone.
    raise ctx.fail(f"`sequence_length` is {sequence_length}, fewer than the input's {positions} positions "
                   "(keras_hub slices one row of the table per position, and fails beyond its end)",
                   f"make sequence_length at least {positions}, the longest sequence the model reads.",
                   "sequence_length")


@register
class PositionEmbedding(LayerKind):
    name = "PositionEmbedding"
    cost = Cost.EMBEDDING
    doc = ("Learned positions (keras_hub): a table of sequence_length x features; outputs its first T rows, "
           "broadcast to the input's shape (T positions, features), to be added to it.")
    example, example_rank = "{sequence_length: 16}", 1
    args = (Arg("sequence_length", positive), Arg("initializer", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) < 2:
            raise ctx.fail(f"needs an input of shape (positions, features); got {format_shape(shape)} (keras_hub "
                           "reads the positions from the second-last axis, here the batch)",
                           "give it a sequence, e.g. the output of an Embedding.")
        check_table_length(shape[-2], a["sequence_length"], ctx)
        params = Q.of(a["sequence_length"], "sequence_length") * Q.of(shape[-1], "d")
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult(shape, trainable, frozen)


@register
class TokenAndPositionEmbedding(LayerKind):
    name = "TokenAndPositionEmbedding"
    cost = Cost.EMBEDDING
    doc = ("Token embedding plus learned positions (keras_hub): a ReversibleEmbedding of vocabulary_size x "
           "embedding_dim (twice with tie_weights: false) and a PositionEmbedding of sequence_length rows.")
    example, example_rank = "{vocabulary_size: 100, sequence_length: 16, embedding_dim: 8}", 0
    args = (Arg("vocabulary_size", positive), Arg("sequence_length", positive), Arg("embedding_dim", positive),
            Arg("tie_weights", boolean, True), Arg("embeddings_initializer", anything, None),
            Arg("mask_zero", boolean, False))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        check_table_length(shape[-1], a["sequence_length"], ctx)
        vocabulary, dim = Q.of(a["vocabulary_size"], "vocabulary_size"), Q.of(a["embedding_dim"], "embedding_dim")
        tokens = vocabulary * dim if a["tie_weights"] else vocabulary * dim + dim * vocabulary
        params = tokens + Q.of(a["sequence_length"], "sequence_length") * dim
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult((*shape, a["embedding_dim"]), trainable, frozen)


@register
class ReversibleEmbedding(LayerKind):
    name = "ReversibleEmbedding"
    cost = Cost.EMBEDDING
    doc = ("Token embedding that can also project back to the vocabulary (Keras, keras_hub): input_dim x "
           "output_dim, and a second output_dim x input_dim table for the reverse with tie_weights: false.")
    example, example_rank = "{input_dim: 100, output_dim: 16, tie_weights: false}", 0
    args = (Arg("input_dim", positive), Arg("output_dim", positive), Arg("tie_weights", boolean, True),
            Arg("embeddings_initializer", anything, None), Arg("embeddings_regularizer", anything, None),
            Arg("embeddings_constraint", anything, None), Arg("mask_zero", boolean, False),
            Arg("reverse_dtype", anything, None), Arg("logit_soft_cap", anything, None),
            Arg("lora_rank", anything, None), Arg("lora_alpha", anything, None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        vocabulary, dim = Q.of(a["input_dim"], "vocabulary"), Q.of(a["output_dim"], "dim")
        params = vocabulary * dim if a["tie_weights"] else vocabulary * dim + dim * vocabulary
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult((*shape, a["output_dim"]), trainable, frozen)


def keras_axis(value: Any) -> int:
    """One axis number, with the batch as 0 and -1 the last: checked against the input's rank later."""
    if not is_int(value):
        raise BadValue("an axis number (the batch is 0, -1 the last axis)", "-1")
    return int(value)


@register
class RotaryEmbedding(LayerKind):
    name = "RotaryEmbedding"
    cost = Cost.EMBEDDING
    doc = ("Rotary position embedding (keras_hub RoPE): rotates pairs of features by angles that grow with the "
           "position; no weights, shape kept. Axes are numbered with the batch as 0.")
    example, example_rank = "{}", 1
    args = (Arg("max_wavelength", number, 10000), Arg("scaling_factor", number, 1.0),
            Arg("rope_type", anything, "linear"), Arg("beta_fast", number, 32.0), Arg("beta_slow", number, 1.0),
            Arg("original_max_position_embeddings", anything, 4096), Arg("truncate", boolean, True),
            Arg("sequence_axis", keras_axis, 1), Arg("feature_axis", keras_axis, -1),
            Arg("denominator_dim", optional(positive), None))

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        rank = len(shape) + 1  # with the batch axis, as keras_hub counts
        found = {}
        for arg in ("sequence_axis", "feature_axis"):
            axis = a[arg]
            index = axis + rank if axis < 0 else axis
            if not 1 <= index < rank:
                where = "the batch axis" if index == 0 else f"outside the input's axes 1..{rank - 1}"
                raise ctx.arg_error(arg, f"is {axis}, {where}", f"pick an axis of the input (1..{rank - 1}, or "
                                    f"-1..-{rank - 1} from the end); the batch axis 0 is not one.")
            found[arg] = index
        if found["sequence_axis"] == found["feature_axis"]:
            raise ctx.fail(f"needs different sequence and feature axes; both are axis {found['feature_axis']}",
                           "point sequence_axis at the positions and feature_axis at the features.",
                           arg="feature_axis")
        features = shape[found["feature_axis"] - 1]
        if sym.certainly_different(sym.remainder(features, 2), 0):
            raise ctx.fail(f"rotates pairs of features, so it needs an even number of them; axis "
                           f"{found['feature_axis']} of {format_shape(shape)} has {features}",
                           "use an even feature size (per head, when it rotates heads).")
        return LayerResult(shape)


@register
class ClassToken(LayerKind):
    name = "ClassToken"
    cost = Cost.EMBEDDING
    doc = ("Learned token(s) put in front of a sequence (ViT's [class] token; DeiT's class and distillation "
           "tokens with num_tokens: 2): (T, features) -> (T + num_tokens, features); features params each.")
    example, example_rank = "{}", 1
    args = (Arg("num_tokens", positive, 1),)

    @classmethod
    def compute(cls, a: dict[str, Any], shape: Shape, ctx: Context) -> LayerResult:
        if len(shape) != 2:
            raise ctx.fail(f"takes a sequence of shape (positions, features); got {format_shape(shape)}",
                           "flatten the patches first, e.g. Reshape: [-1, features].")
        tokens = Q.of(a["num_tokens"], "tokens")
        positions = Q.of(shape[0], "T") + tokens
        params = tokens * Q.of(shape[1], "d") if a["num_tokens"] > 1 else Q.of(shape[1], "d")
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult((positions.value, shape[1]), trainable, frozen,
                           steps=(Derivation(OUTPUT_POSITIONS, positions),))


@register
class RelativePositionBias(LayerKind):
    name = "RelativePositionBias"
    cost = Cost.EMBEDDING
    multi_input = True
    doc = ("T5's relative position bias: a learned table of num_buckets x num_heads, looked up by the (bucketed) "
           "distance of each key from each query; outputs the bias added to every head's scores, (heads, Tq, Tk). "
           "One input (positions, features) or token ids (positions,) gives Tq = Tk; two give [query, key].")
    example = "{num_heads: 4}"
    args = (Arg("num_heads", positive), Arg("num_buckets", positive, 32), Arg("max_distance", positive, 128),
            Arg("bidirectional", boolean, True))

    @classmethod
    def example_spec(cls) -> str:
        return f"input: [6, 8]\nlayers:\n  - {cls.name}: {cls.example}\n"

    @classmethod
    def compute_many(cls, a: dict[str, Any], shapes: list[Shape], names: list[str], ctx: Context) -> LayerResult:
        if len(shapes) > 2 or any(len(s) not in (1, 2) for s in shapes):
            listed = ", ".join(f"`{n}` {format_shape(s)}" for n, s in zip(names, shapes))
            raise ctx.fail(f"takes one sequence, or [query, key], each (positions, features) or token ids "
                           f"(positions,); got {listed}", "give it the attention's input (or its query and key).")
        query, key = shapes[0], shapes[-1]
        params = Q.of(a["num_buckets"], "buckets") * Q.of(a["num_heads"], "h")
        trainable, frozen = trainable_split(params, ZERO, a)
        return LayerResult((a["num_heads"], query[0], key[0]), trainable, frozen)
