"""Counting conventions: what other counters call "FLOPs" or "MACs", as recipes over one
breakdown (multiply-accumulates, plus the other operations of layers/ops.py kept apart).

A convention holds one recipe for every category of layer (`Cost`, which each layer kind
declares: layers/traits.py), never a list of kind names; tests/test_traits.py fails when a
category has no recipe in some convention. Each recipe reproduces that tool's own figure,
quirks included; `paper` is what `macs` means everywhere else in paramcalc.
A convention's figures are kept apart from the MACs (a report's `convention_count` and
`convention_total`), in the convention's own unit: MACs, or FLOPs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from paramcalc.compare import weights
from paramcalc.layers import ops as op
from paramcalc.layers.base import Variant
from paramcalc.layers.traits import Cost
from paramcalc.report import LayerRow, Report

Recipe = Callable[[LayerRow], Any]  # one layer's figure under a convention


@dataclass(frozen=True)
class Convention:
    name: str
    tool: str
    unit: str  # what its figures count: "MACs" (multiply-accumulates, one each) or "FLOPs" (two each)
    description: str
    recipes: Mapping[Cost, Recipe]  # one for every category of layer (tests/test_traits.py)

    def count(self, row: LayerRow) -> Any:
        """The layer's figure under this convention, by what its kind computes."""
        return self.recipes[row.kind.cost_of(row.args)](row)

    def total(self, report: Report) -> Any:
        return sum((self.count(row) for row in report.rows), 0)


def _table(*groups: tuple[Recipe | Cost, ...]) -> dict[Cost, Recipe]:
    """{category: recipe} from (recipe, category, ...) groups; a category given twice is a slip."""
    table: dict[Cost, Recipe] = {}
    for recipe, *categories in groups:
        for category in categories:
            if category in table:
                raise ValueError(f"two recipes for {category}")
            table[category] = recipe  # type: ignore[assignment, index]
    return table


def _get(row: LayerRow, kind: str) -> Any:
    return row.ops.get(kind, 0)


def nothing(row: LayerRow) -> Any:
    """The recipe of a category the tool does not count."""
    return 0


def _macs(row: LayerRow) -> Any:
    return row.macs


def _macs_and_biases(row: LayerRow) -> Any:
    return row.macs + _get(row, op.BIAS_ADDS)


def traced_as_convolution_mode(row: LayerRow) -> bool:
    """A PyTorch convolution whose padding is written as a word ('same', 'valid') and pads with zeros:
    PyTorch runs it as aten::_convolution_mode, not aten::_convolution. (Another padding_mode pads the
    input first with F.pad and then convolves with no padding, through aten::_convolution.)"""
    return (row.kind.framework == "torch" and row.structure is not None
            and row.structure.variant is Variant.STANDARD and isinstance(row.args.get("padding"), str)
            and row.args.get("padding_mode", "zeros") == "zeros")


def _fvcore_conv(row: LayerRow) -> Any:
    # fvcore 0.1.5 has no handle for aten::_convolution_mode: it counts 0 and warns of an unsupported op.
    return 0 if traced_as_convolution_mode(row) else row.macs


def _twice_macs(row: LayerRow) -> Any:
    return 2 * row.macs


def _twice_macs_and_biases(row: LayerRow) -> Any:
    return 2 * row.macs + _get(row, op.BIAS_ADDS)


def _params_once(row: LayerRow) -> Any:
    return row.trainable_params


def _weights(row: LayerRow) -> int:
    return weights(row.structure, row.params) if row.structure is not None else 0


def _out_positions(row: LayerRow) -> Any:
    return op.elements(row.structure.out_spatial) if row.structure else 0


# ---- fvcore ----------------------------------------------------------------------------------------

def _fvcore_norm(row: LayerRow) -> Any:
    return (_get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
            + 4 * (_get(row, op.LAYER_NORM) + _get(row, op.GROUP_NORM))
            + _get(row, op.LAYER_NORM_AFFINE) + _get(row, op.GROUP_NORM_AFFINE))


def _fvcore_dense(row: LayerRow) -> Any:
    # A dense layer with a LayerNorm inside (torchvision's PatchMerging): the norm counts as fvcore counts LayerNorm.
    return row.macs + _fvcore_norm(row)


def _fvcore_attention(row: LayerRow) -> Any:
    # PyTorch's transformer layers run QK^T and AV in scaled_dot_product_attention, for which fvcore 0.1.5
    # has no handle (it counts 0); their LayerNorms count as fvcore counts LayerNorm.
    return row.macs - _get(row, op.SDPA_MACS) - _get(row, op.BADDBMM_MACS) + _fvcore_norm(row)


def _fvcore_pool(row: LayerRow) -> Any:
    return _get(row, op.GLOBAL_AVG_POOL_2D)


def _fvcore_upsample(row: LayerRow) -> Any:
    # Upsample mode 'area' runs as 2-D adaptive average pooling, which fvcore counts as such.
    return (_get(row, f"{op.UPSAMPLE}_nearest_2d") + 4 * _get(row, f"{op.UPSAMPLE}_bilinear_2d")
            + _get(row, op.GLOBAL_AVG_POOL_2D))


# ---- torchinfo -------------------------------------------------------------------------------------

def _torchinfo_conv(row: LayerRow) -> Any:
    s = row.structure
    assert s is not None
    if s.variant is Variant.SEPARABLE:
        return row.macs + _get(row, op.BIAS_ADDS)
    return row.params * _out_positions(row)


def _torchinfo_dense(row: LayerRow) -> Any:
    # A tied head is a module of its own whose weight torchinfo counts (GPT-2's lm_head).
    return row.trainable_params + (row.tied[1] if row.tied else 0)


def _torch_attention(row: LayerRow) -> bool:
    """PyTorch's own attention modules (MultiheadAttention, the transformer layers), which the counters
    treat apart; Keras's attention layers are counted as the torch modules of their shape (Linear, matmul)."""
    return row.kind.framework == "torch"


def _torchinfo_attention(row: LayerRow) -> Any:
    # nn.MultiheadAttention counts 0 (its projection weights are not a `weight` of a called submodule); the
    # feed-forward Linears and the LayerNorms of a transformer layer count their parameters once.
    if _torch_attention(row):
        return row.trainable_params - _get(row, op.ATTENTION_PARAMS)
    return row.trainable_params


# ---- thop ------------------------------------------------------------------------------------------

def _thop_conv(row: LayerRow) -> Any:
    s = row.structure
    return _weights(row) * _out_positions(row) if s is not None and s.variant is Variant.TRANSPOSE else row.macs


def _thop_norm(row: LayerRow) -> Any:
    return 2 * (_get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
                + _get(row, op.TORCH_LAYER_NORM) + _get(row, op.TORCH_LAYER_NORM_AFFINE))


def _thop_pool(row: LayerRow) -> Any:
    count = _get(row, op.AVG_POOL_OUTPUT)
    if _get(row, op.GLOBAL_AVG_POOL_2D):
        count += _get(row, op.GLOBAL_AVG_POOL_2D) + row.activations  # (window + 1) x outputs
    return count


def _thop_softmax(row: LayerRow) -> Any:
    n = _get(row, op.SOFTMAX)  # 3 per value, less 1 per row of the last axis
    return 3 * n - n // max(row.output_shape[-1] or 1, 1) if n else 0


def _thop_rectifier(row: LayerRow) -> Any:
    return _get(row, op.ACTIVATION) if row.params else 0  # PReLU, the one with learned slopes: 1 per value


def _thop_dense(row: LayerRow) -> Any:
    return row.macs + _thop_norm(row)  # a dense layer with an nn.LayerNorm inside (torchvision's PatchMerging)


def _thop_attention(row: LayerRow) -> Any:
    if _torch_attention(row):  # no hook for nn.MultiheadAttention (0); a transformer layer's Linears and norms
        return row.macs - _get(row, op.ATTENTION_MACS) + _thop_norm(row)
    return row.macs + _thop_softmax(row)


# ---- ptflops ---------------------------------------------------------------------------------------

def _ptflops_norm(row: LayerRow) -> Any:
    # LocalResponseNorm: its own ops, plus the avg_pool3d it calls on the channel-padded input. LayerNorm 1 per
    # value: ptflops' norm hook doubles for `affine`, which nn.LayerNorm does not have (elementwise_affine);
    # GroupNorm has it, so 2 per value with affine as BatchNorm.
    return (_get(row, op.BATCH_NORM) + _get(row, op.BATCH_NORM_AFFINE)
            + _get(row, op.GROUP_NORM) + _get(row, op.GROUP_NORM_AFFINE)
            + 3 * _get(row, op.LRN) + _get(row, op.LRN_PADDED) + _get(row, op.TORCH_LAYER_NORM))


def _ptflops_rectifier(row: LayerRow) -> Any:
    # Its module hook, 1 per value, and the patched functional call of nn.ReLU, nn.ELU, nn.PReLU (1 more).
    return _get(row, op.ACTIVATION) + _get(row, op.TORCH_FUNCTIONAL)


def _ptflops_activation(row: LayerRow) -> Any:
    # No module hook for Tanh, Sigmoid, ...; Keras `Activation` may still be a ReLU or a softmax. nn.GELU 2 per
    # value: its module hook (ReLU's) and the patched F.gelu it calls; nn.SiLU 1, its patched F.silu.
    return (2 * _get(row, op.ACTIVATION) * bool(_get(row, op.PLAIN_RELU)) + _get(row, op.SOFTMAX)
            + _get(row, op.GELU) + _get(row, op.TORCH_FUNCTIONAL))


def _ptflops_softmax(row: LayerRow) -> Any:
    return _get(row, op.SOFTMAX)


def _ptflops_pool(row: LayerRow) -> Any:
    return 2 * _get(row, op.POOL_INPUT)


def _ptflops_dense(row: LayerRow) -> Any:
    return _macs_and_biases(row) + _ptflops_norm(row)  # with an nn.LayerNorm inside (torchvision's PatchMerging)


def _ptflops_attention(row: LayerRow) -> Any:
    if not _torch_attention(row):
        return row.macs + _get(row, op.SOFTMAX)
    if _get(row, op.TENSOR_MATMUL_MACS):
        # torchvision's Swin attention: no hook for the module and its F.linear projections unpatched, so the
        # Tensor.matmul products, F.softmax, and the hooks of its child modules (V2's position bias MLP: the
        # Linears' MACs and biases, nn.ReLU twice as for any nn.ReLU).
        children = (row.macs - _get(row, op.ATTENTION_MACS) + _get(row, op.BIAS_ADDS)
                    - _get(row, op.ATTENTION_BIAS_ADDS) + _get(row, op.ACTIVATION) + _get(row, op.TORCH_FUNCTIONAL))
        return _get(row, op.TENSOR_MATMUL_MACS) + _get(row, op.SOFTMAX) + children
    # ptflops' nn.MultiheadAttention hook, per attention block: its MACs, one per query value (scaling), the
    # in-projection biases, the softmax, and the output projection's bias (counted even without one).
    outputs = _get(row, op.ATTENTION_OUTPUTS)
    biases = _get(row, op.ATTENTION_BIAS_ADDS) or outputs
    hooks = _get(row, op.ATTENTION_MACS) + _get(row, op.SOFTMAX) + outputs + biases
    # A bare MultiheadAttention (need_weights=True) runs QK^T and AV as torch.bmm and a softmax, which ptflops'
    # patched tensor ops count again; a transformer layer runs them in scaled_dot_product_attention, not patched.
    again = 0 if _get(row, op.SDPA_MACS) else (_get(row, op.ATTENTION_SCORE_MACS) + _get(row, op.ATTENTION_VALUE_MACS)
                                                + _get(row, op.SOFTMAX))
    rest = row.macs - _get(row, op.ATTENTION_MACS) + _get(row, op.BIAS_ADDS) - _get(row, op.ATTENTION_BIAS_ADDS)
    return hooks + again + rest + _get(row, op.LAYER_NORM)  # the feed-forward Linears, the LayerNorms


# ---- recurrent layers --------------------------------------------------------------------------------
# As nn.RNN, nn.GRU, nn.LSTM and their cells are counted by each tool (tests/fixtures/torch_rnn.json). A
# Keras recurrent layer is counted as the PyTorch module of its shape, with its own biases.

def _fvcore_recurrent(row: LayerRow) -> Any:
    """0: a whole-sequence layer runs as one aten::lstm, aten::gru or aten::rnn_tanh / rnn_relu, for which
    fvcore 0.1.5 has no handle (it warns of an unsupported op). A cell traces as linear: its products count."""
    return 0


def _torchinfo_recurrent(row: LayerRow) -> Any:
    return row.params * (row.input_shape[1] or 0)  # every parameter once per time step


def _torchinfo_cell(row: LayerRow) -> Any:
    return row.params * (row.output_shape[-1] or 0)  # torchinfo reads a cell's output (N, H) as (N, steps): H "steps"


def _dispatched_macs(row: LayerRow) -> Any:
    return row.macs - _get(row, op.FUSED_LSTM_MACS)


def _flop_counter_recurrent(row: LayerRow) -> Any:
    return 2 * _dispatched_macs(row)


def _aten_attention(row: LayerRow) -> Any:
    # get_flops_aten puts the model in eval mode: PyTorch's transformer layers then run QK^T and AV in
    # scaled_dot_product_attention's fused CPU kernel, which dispatches no aten product (0).
    return row.macs - _get(row, op.SDPA_MACS) + _get(row, op.BIAS_ADDS)


def _fused_sdpa_attention(row: LayerRow) -> Any:
    if _get(row, op.TENSOR_MATMUL_MACS):  # written as explicit matmuls (torchvision's Swin): no SDPA to fuse
        return _twice_macs(row)
    return 2 * (row.macs - _get(row, op.ATTENTION_SCORE_MACS) - _get(row, op.ATTENTION_VALUE_MACS))


def _aten_recurrent(row: LayerRow) -> Any:
    return 0 if _get(row, op.FUSED_LSTM_MACS) else row.macs + _get(row, op.BIAS_ADDS)


def _thop_recurrent(row: LayerRow) -> Any:
    products = _get(row, op.UNPROJECTED_MACS) or row.macs  # thop reads no proj_size
    return products + _get(row, op.GATE_VALUES) + _get(row, op.BIAS_ADDS) + _get(row, op.GATE_PRODUCTS)


def _ptflops_recurrent(row: LayerRow) -> Any:
    return (row.macs - _get(row, op.PROJECTION_MACS) + _get(row, op.GATE_VALUES) + _get(row, op.GATE_PRODUCTS)
            + 2 * _get(row, op.CELL_STATE) + _get(row, op.BIAS_ADDS))


def apply(report: Report, name: str) -> Report:
    """The report with every layer counted under convention `name` too (`convention_count`,
    `convention_total`); `macs` and `total_macs` stay multiply-accumulates."""
    if name == "paper":
        return report
    convention = CONVENTIONS[name]
    rows = tuple(row.replace(convention_count=convention.count(row)) for row in report.rows)
    return report.replace(rows=rows, convention=name, convention_unit=convention.unit,
                          convention_total=sum((r.convention_count for r in rows), 0))


def explain_difference(report: Report, name: str, limit: int = 4) -> str:
    """What a convention adds to the paper's count, by layer type: '+10.1M BatchNormalization, ...'."""
    convention = CONVENTIONS[name]
    extra: dict[str, Any] = {}
    for row in report.rows:
        delta = convention.count(row) - row.macs
        if delta:
            extra[row.type] = extra.get(row.type, 0) + delta
    if not extra:
        return "nothing more"
    ranked = sorted(extra.items(), key=lambda item: -abs(item[1]))
    parts = [f"{_short(v)} {kind}" for kind, v in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"{_short(sum(v for _, v in ranked[limit:]))} other")
    return ", ".join(parts)


def _short(n: Any) -> str:
    if not isinstance(n, int):
        return f"+{n}"
    sign = "+" if n >= 0 else "-"
    n = abs(n)
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{sign}{n / size:.3g}{unit}"
    return f"{sign}{n}"


C = Cost
CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("paper", "the papers; torchvision's model table (_ops)", "MACs",
               "multiply-accumulates of conv, dense and attention products only",
               dict.fromkeys(Cost, _macs)),  # paramcalc's own figure, by definition
    Convention("fvcore", "fvcore FlopCountAnalysis", "MACs",
               "one per multiply-accumulate of conv, linear and matmul, except a PyTorch convolution with "
               "padding written as a word ('same', 'valid') and zeros padding_mode, which counts 0 (fvcore 0.1.5 "
               "has no handle for the aten::_convolution_mode it runs as, and warns of an unsupported op); "
               "BatchNorm 2 per value with an affine transform (1 without); LayerNorm and GroupNorm 5 per value "
               "(4 without affine); 2-D adaptive or global average pooling 1 per input value; 2-D upsampling 1 "
               "per output value (nearest) or 4 (bilinear), other ranks 0 (fvcore has no handler for them); "
               "activations, max pooling, additions and bias additions 0; the attention products of PyTorch's "
               "transformer layers (TransformerEncoderLayer, ...) 0, as they run in scaled_dot_product_attention, "
               "which fvcore has no handle for (their LayerNorms 5 per value), while MultiheadAttention's, "
               "called with its default need_weights=True, are the batched products fvcore counts; recurrent "
               "layers over a sequence 0 (no handle for aten::lstm, aten::gru, aten::rnn_tanh), recurrent cells "
               "their products (traced as linear).",
               _table((_fvcore_conv, C.CONV), (_fvcore_dense, C.DENSE), (_macs, C.RECURRENT_CELL),
                      (_fvcore_attention, C.ATTENTION),
                      (_fvcore_recurrent, C.RECURRENT), (_fvcore_norm, C.NORM), (_fvcore_pool, C.POOL),
                      (_fvcore_upsample, C.UPSAMPLE),
                      (nothing, C.EMBEDDING, C.RECTIFIER, C.ACTIVATION, C.SOFTMAX, C.DROPOUT, C.RESHAPE,
                       C.MERGE))),
    Convention("torchinfo", "torchinfo total_mult_adds", "MACs",
               "for a convolution, every weight and bias times the output positions (so a transposed convolution "
               "is sized by its larger output, not its input); for any other layer with parameters, its "
               "parameter count once, whatever the positions (a Linear on a sequence counts as one position; "
               "BatchNorm adds 2 x C); a recurrent layer its parameter count times the time steps, a recurrent "
               "cell times its hidden size (torchinfo reads the cell's output (N, H) as N x steps); layers without "
               "parameters 0, and so a Parameter of model code (owned by a module with children, which torchinfo "
               "does not count: ConvNeXt's layer scale); a tied head its weight too (its own module); PyTorch's "
               "MultiheadAttention 0 (no called submodule holds its weights), a transformer layer its feed-forward "
               "Linears and LayerNorms; torchvision's Swin attention 0 (its projections run as F.linear on its own "
               "weights), V2's its position bias MLP's parameters.",
               _table((_torchinfo_conv, C.CONV), (_torchinfo_recurrent, C.RECURRENT),
                      (_torchinfo_cell, C.RECURRENT_CELL), (_torchinfo_dense, C.DENSE),
                      (_torchinfo_attention, C.ATTENTION),
                      (_params_once, C.EMBEDDING, C.NORM, C.RECTIFIER, C.ACTIVATION,
                       C.SOFTMAX, C.DROPOUT, C.POOL, C.UPSAMPLE, C.MERGE),
                      # an nn.Parameter of model code belongs to a module with children, which torchinfo
                      # does not count (ConvNeXt's layer scale)
                      (nothing, C.RESHAPE))),
    Convention("ptflops", "ptflops (default 'pytorch' backend)", "MACs",
               "multiply-accumulates plus bias additions (a Linear's at every position: its module hook); "
               "BatchNorm and GroupNorm 2 per value (1 without affine); nn.LayerNorm 1 per value (the norm hook "
               "doubles for `affine`, which nn.LayerNorm lacks; torchvision's LayerNorm2d, a subclass its hooks "
               "miss, 0); "
               "ReLU6 and LeakyReLU 1 per value, nn.ReLU, ELU, PReLU and GELU twice (its module hook and its "
               "patched functional call both count), SiLU once (the functional call), Tanh, Sigmoid, Hardswish "
               "and Mish 0; "
               "max, average and adaptive pooling (2 per input value); softmax 1 per value; LocalResponseNorm 3 "
               "per value plus its channel-padded input; Dropout, additions and padding 0; a recurrent layer or cell, "
               "per step, its input and recurrent products (not an LSTM's projection), 1 per gate value, its "
               "biases and the element-wise updates (GRU 4 per hidden unit, LSTM 6); PyTorch's MultiheadAttention by "
               "its hook (its MACs, one per query value for the scaling, the in-projection biases, the softmax and an "
               "output bias even without one), plus QK^T, AV and the softmax again when called bare "
               "(need_weights=True: torch.bmm and F.softmax, which ptflops patches), a transformer layer its attention "
               "hooks, "
               "feed-forward Linears and LayerNorms; torchvision's Swin attention no hook and its projections as "
               "F.linear, which ptflops does not patch: only its products run as Tensor.matmul (V1 both, V2 AV; "
               "V2's QK^T runs as `@`, not patched), its softmax and V2's position bias MLP (Linears with biases, "
               "ReLU twice).",
               _table((_macs_and_biases, C.CONV), (_ptflops_dense, C.DENSE), (_ptflops_attention, C.ATTENTION),
                      (_ptflops_recurrent, C.RECURRENT, C.RECURRENT_CELL),
                      (_ptflops_norm, C.NORM), (_ptflops_rectifier, C.RECTIFIER),
                      (_ptflops_activation, C.ACTIVATION), (_ptflops_softmax, C.SOFTMAX), (_ptflops_pool, C.POOL),
                      (nothing, C.EMBEDDING, C.DROPOUT, C.UPSAMPLE, C.RESHAPE, C.MERGE))),
    Convention("ptflops-aten", "ptflops backend='aten'", "MACs",
               "multiply-accumulates plus one per bias addition; an LSTM over a sequence without proj_size 0 (PyTorch "
               "on CPU runs it as one oneDNN kernel, mkldnn_rnn, which dispatches no product); the attention products "
               "of PyTorch's transformer layers 0 (ptflops runs the model in eval mode, where "
               "scaled_dot_product_attention picks its fused CPU kernel).",
               _table((_macs_and_biases, C.CONV, C.DENSE), (_aten_attention, C.ATTENTION),
                      (_aten_recurrent, C.RECURRENT, C.RECURRENT_CELL),
                      (nothing, C.EMBEDDING, C.NORM, C.RECTIFIER, C.ACTIVATION, C.SOFTMAX, C.DROPOUT, C.POOL,
                       C.UPSAMPLE, C.RESHAPE, C.MERGE))),
    Convention("thop", "thop profile", "MACs",
               "multiply-accumulates without biases (a transposed convolution sized by its output, as torchinfo "
               "does); BatchNorm and nn.LayerNorm 4 per value with an affine transform (2 without; torchvision's "
               "LayerNorm2d, a subclass its hooks miss, 0); average pooling 1 per output; "
               "adaptive and global average pooling (window + 1) per output; softmax 3n - 1 per n values; "
               "PReLU 1 per value, other activations, max pooling and additions 0; a recurrent layer or cell, per "
               "step, its products (an "
               "LSTM's proj_size ignored), 1 per gate value, its biases and 4 per hidden unit for the element-wise "
               "updates of an LSTM or a GRU; LayerNorm 4 per value (2 without affine); PyTorch's MultiheadAttention 0 "
               "(no hook), a transformer layer its feed-forward products and LayerNorms; torchvision's Swin attention "
               "0 (its projections run as F.linear), V2's its position bias MLP's products.",
               _table((_thop_conv, C.CONV), (_thop_dense, C.DENSE), (_thop_attention, C.ATTENTION),
                      (_thop_norm, C.NORM),
                      (_thop_recurrent, C.RECURRENT, C.RECURRENT_CELL),
                      (_thop_pool, C.POOL), (_thop_softmax, C.SOFTMAX, C.ACTIVATION),  # Keras `Activation: softmax`
                      (_thop_rectifier, C.RECTIFIER),
                      (nothing, C.EMBEDDING, C.DROPOUT, C.UPSAMPLE, C.RESHAPE, C.MERGE))),
    Convention("flop-counter", "PyTorch FlopCounterMode", "FLOPs",
               "exactly 2 per multiply-accumulate, except an LSTM over a sequence without proj_size, 0 (on CPU one "
               "oneDNN kernel, mkldnn_rnn, which FlopCounterMode has no formula for).",
               _table((_twice_macs, C.CONV, C.DENSE, C.ATTENTION),
                      (_flop_counter_recurrent, C.RECURRENT, C.RECURRENT_CELL),
                      (nothing, C.EMBEDDING, C.NORM, C.RECTIFIER, C.ACTIVATION, C.SOFTMAX, C.DROPOUT, C.POOL,
                       C.UPSAMPLE, C.RESHAPE, C.MERGE))),
    Convention("flop-counter-sdpa", "PyTorch FlopCounterMode, fused SDPA kernel", "FLOPs",
               "as flop-counter, for a model whose attention runs in scaled_dot_product_attention's fused kernel "
               "(Hugging Face's default attn_implementation='sdpa', or PyTorch's transformer layers in eval mode, on "
               "a CPU): the attention products QK^T and AV count 0 (FlopCounterMode has no formula for that "
               "kernel), the projections 2 per multiply-accumulate; an attention written as explicit matmuls "
               "(torchvision's Swin) never calls that kernel, so its products count as under flop-counter.",
               _table((_twice_macs, C.CONV, C.DENSE), (_fused_sdpa_attention, C.ATTENTION),
                      (_flop_counter_recurrent, C.RECURRENT, C.RECURRENT_CELL),
                      (nothing, C.EMBEDDING, C.NORM, C.RECTIFIER, C.ACTIVATION, C.SOFTMAX, C.DROPOUT, C.POOL,
                       C.UPSAMPLE, C.RESHAPE, C.MERGE))),
    Convention("flops", "DeepSpeed / calflops FLOPs", "FLOPs",
               "2 FLOPs per multiply-accumulate plus one per bias addition (DeepSpeed's and calflops' FLOPs; for "
               "recurrent layers paramcalc's reading, not checked against those tools' own RNN hooks).",
               _table((_twice_macs_and_biases, C.CONV, C.DENSE, C.ATTENTION, C.RECURRENT, C.RECURRENT_CELL),
                      (nothing, C.EMBEDDING, C.NORM, C.RECTIFIER, C.ACTIVATION, C.SOFTMAX, C.DROPOUT, C.POOL,
                       C.UPSAMPLE, C.RESHAPE, C.MERGE))),
)}
