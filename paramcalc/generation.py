"""Figures for sequence models, read from a report (issue 14, "Figures the report gives for sequence models"):

- the attention products (QK^T and the weights times V, Tq x Tk x heads x head_dim each) apart from the
  rest of the MACs, which is linear in the length: with a free length (`input: [L]`, `--set tokens=L`)
  the MACs are a + b*L + c*L^2 and the products are the c*L^2;
- params by component (embeddings, attention, MLP, norms, head, other), each weight once;
- for a decoder-only model: MACs per generated token at context length n with a KV cache, and the
  cache's size per token and at n tokens.

Every attention kind reports its products and the values its KV cache keeps per key position as
operations (layers/ops.py: ATTENTION_SCORE_MACS, ATTENTION_VALUE_MACS, KV_CACHE_VALUES), and a layer
made of parts (a transformer layer) its params by part (ATTENTION_PARAMS, MLP_PARAMS, NORM_PARAMS):
nothing here knows a kind by name."""

from __future__ import annotations

from typing import Any

from paramcalc.errors import Location, SpecError
from paramcalc.layers import ops as op
from paramcalc.layers.traits import Cost
from paramcalc.report import LayerRow, Report, batch_size

# Bytes per value of the KV cache. float16 by default: the dtype models are served in (HF's generate keeps
# the cache in the model's dtype; a float32 model keeps 4 bytes a value: --kv-dtype float32).
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "float8": 1, "int8": 1}
DEFAULT_KV_DTYPE = "float16"

COMPONENTS = ("embeddings", "attention", "mlp", "norms", "head", "other")
_BY_COST = {Cost.EMBEDDING: "embeddings", Cost.ATTENTION: "attention", Cost.DENSE: "mlp", Cost.NORM: "norms"}
_PARTS = ((op.ATTENTION_PARAMS, "attention"), (op.MLP_PARAMS, "mlp"), (op.NORM_PARAMS, "norms"))


def dtype_bytes(name: str) -> int:
    """Bytes per value of a dtype name (float32, float16, bfloat16, ...)."""
    return DTYPE_BYTES[name]


def has_attention(report: Report) -> bool:
    return any(op.ATTENTION_SCORE_MACS in row.ops for row in report.rows)


def attention_products(report: Report) -> dict[str, Any] | None:
    """The MACs of the attention products (for the report's batch, as its MACs), and the rest; None for a
    model without attention."""
    if not has_attention(report):
        return None
    batch = batch_size(report.input_shape)
    score = sum((row.ops.get(op.ATTENTION_SCORE_MACS, 0) for row in report.rows), 0) * batch
    value = sum((row.ops.get(op.ATTENTION_VALUE_MACS, 0) for row in report.rows), 0) * batch
    return {"score_macs": score, "value_macs": value, "macs": score + value,
            "other_macs": _simplified(report.total_macs - score - value)}


def params_by_component(report: Report) -> dict[str, int]:
    """Each layer's params in its component, from its kind's category (layers/traits.py): embeddings,
    attention, MLP (dense layers), norms, head, other (convolutions, recurrent layers, ...). A layer made of
    parts (a transformer layer) splits its params by part. The head is the dense layers after the model's
    last attention layer and the rest of the block that holds it (GPT-2's lm_head, BERT's masked-LM
    transform and decoder). A tied weight counts once, where it is owned (a tied head adds 0)."""
    from paramcalc.memory import by_arguments

    found = dict.fromkeys(COMPONENTS, 0)
    body_end = _body_end(report.rows)
    # Each type's component when its kind alone says (None: its arguments say, as for a wrapper), looked
    # up once per type: a large model has a few types over 100,000 rows.
    labels: dict[str, str | None] = {}
    for i, row in enumerate(report.rows):
        rest = row.params
        ops = row.ops
        if ops:  # (most layers report no operations but their MACs)
            for key, label in _PARTS:
                if key in ops:
                    found[label] += ops[key]
                    rest -= ops[key]
        known = labels.get(row.type, "")
        if known == "":
            kind = row.kind
            known = labels[row.type] = None if by_arguments(kind, "cost_of") else _BY_COST.get(kind.cost, "other")
        label = _BY_COST.get(row.kind.cost_of(row.args), "other") if known is None else known
        if label == "mlp" and body_end is not None and i > body_end:
            label = "head"
        found[label] += rest
    return found


def _body_end(rows: tuple[LayerRow, ...]) -> int | None:
    """Index of the last row of the model's body: its last attention layer, or the last layer of the
    outermost block instance that holds it. None without attention."""
    last = max((i for i, row in enumerate(rows) if op.ATTENTION_SCORE_MACS in row.ops), default=None)
    if last is None or not rows[last].path:
        return last
    block = rows[last].path[0]
    while last + 1 < len(rows) and rows[last + 1].path[:1] == (block,):
        last += 1
    return last


def _simplified(x: Any) -> Any:
    if isinstance(x, int):
        return x
    import sympy

    x = sympy.expand(x)
    return int(x) if x.is_Integer else x


def _exact_quotient(a: Any, b: Any) -> Any | None:
    """a / b when it is a whole number (or a formula), else None."""
    if isinstance(a, int) and isinstance(b, int):
        q, r = divmod(a, b)
        return q if r == 0 else None
    import sympy

    q = sympy.cancel(sympy.sympify(a) / b)
    if q.free_symbols & sympy.sympify(b).free_symbols:
        return None
    return int(q) if q.is_Integer else (q if q.is_polynomial() else None)


def sequence_length(report: Report) -> Any:
    """T, the one length of the model's inputs ([T] token ids or [T, F] vectors), or a located error."""
    lengths = {shape[1] for shape in report.inputs.values() if len(shape) in (2, 3)}
    if len(lengths) != 1 or any(len(shape) not in (2, 3) for shape in report.inputs.values()):
        shapes = ", ".join(f"{name} {tuple(shape[1:])}" for name, shape in report.inputs.items())
        raise SpecError(f"--context needs one token sequence, inputs of shape [T] or [T, features] of one length "
                        f"T; this model's inputs are {shapes}", Location(report.source),
                        "give the model's inputs as [tokens] (token ids) or [tokens, features].")
    return next(iter(lengths))


def generation(report: Report, context: int, dtype: str = DEFAULT_KV_DTYPE) -> dict[str, Any]:
    """MACs of one generated token at context length `context` (the new token attends to `context` key
    positions, itself included) with a KV cache, and the cache's size, for one sequence.

    Decoder-only: every attention layer attends over the one sequence it reads (self-attention; a layer
    reading a second sequence is cross-attention, an encoder-decoder's); paramcalc cannot see a mask, so
    it counts the model as a causal decoder, as asking for --context says it is. Every other layer works
    position by position (dense, norms, embeddings, activations, merges): with a cache, the new token runs
    each of them at one position, and its attention products against `context` cached keys and values."""
    where = Location(report.source)
    if not has_attention(report):
        raise SpecError("--context gives the figures of generating with a KV cache, but this model has no attention "
                        "layer", where, "use it on a decoder-only transformer (specs/gpt2.yaml).")
    for row in report.rows:
        if op.ATTENTION_SCORE_MACS in row.ops and len(set(row.inputs)) > 1:
            raise SpecError(f"--context is for decoder-only models, but layer `{row.name}` ({row.type}) attends over "
                            f"a second sequence ({', '.join(row.inputs)}): cross-attention, an encoder-decoder's",
                            row.loc, "count generation on a decoder-only model (self-attention only).")
        if row.kind.cost_of(row.args) in (Cost.RECURRENT, Cost.RECURRENT_CELL, Cost.CONV, Cost.POOL):
            raise SpecError(f"--context counts a decoder whose layers other than attention work position by "
                            f"position, but layer `{row.name}` ({row.type}) mixes positions", row.loc,
                            "count generation on a transformer decoder.")
    length = sequence_length(report)
    batch = batch_size(report.input_shape)
    products = sum((row.ops.get(op.ATTENTION_SCORE_MACS, 0) + row.ops.get(op.ATTENTION_VALUE_MACS, 0)
                    for row in report.rows), 0)
    linear = (report.total_macs if batch == 1 else report.total_macs // batch) - products  # per sequence
    per_position = _exact_quotient(linear, length)
    per_pair = _exact_quotient(products, length * length)
    if per_position is None or per_pair is None:
        raise SpecError("--context: this model's MACs are not a per-position part plus attention over every pair "
                        "of positions (attention over extra key positions, or a layer that mixes positions)",
                        where, "count generation on a decoder-only transformer.")
    kv_values = sum((row.ops.get(op.KV_CACHE_VALUES, 0) for row in report.rows), 0)
    size = dtype_bytes(dtype)
    return {"context": context, "dtype": dtype,
            "macs_per_token": _simplified(per_position + per_pair * context),
            "linear_macs_per_token": per_position, "attention_macs_per_token": _simplified(per_pair * context),
            "kv_cache_values_per_token": kv_values, "kv_cache_bytes_per_token": kv_values * size,
            "kv_cache_values": kv_values * context, "kv_cache_bytes": kv_values * size * context}
