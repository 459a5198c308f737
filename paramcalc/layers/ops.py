"""Operations other than multiply-accumulates, counted per layer and kept apart by kind.

Counters disagree mostly about these (see paramcalc/conventions.py): one adds BatchNorm, another
bias additions or activations. Each layer reports raw element counts; a convention decides
what each is worth."""

from __future__ import annotations

from typing import Any

BIAS_ADDS = "bias_adds"  # one addition per output value of a layer with a bias
BATCH_NORM = "batch_norm"  # values normalised; `_affine` also when there is a scale or shift
LAYER_NORM = "layer_norm"
GROUP_NORM = "group_norm"
ACTIVATION = "activation"  # values through ReLU, sigmoid, ...
SOFTMAX = "softmax"  # values through a softmax (an exponential and a division each)
POOL_WINDOW = "pool_window"  # output values x window size: the comparisons or additions of pooling
POOL_INPUT = "pool_input"  # input values of a pooling layer
GLOBAL_AVG_POOL_2D = "global_avg_pool_2d"  # input values of a 2-D global or adaptive average pooling
UPSAMPLE = "upsample"  # output values of an upsampling layer
ELEMENTWISE = "elementwise"  # additions / products of merge layers: output values x (inputs - 1)

BATCH_NORM_AFFINE = f"{BATCH_NORM}_affine"
LAYER_NORM_AFFINE = f"{LAYER_NORM}_affine"
GROUP_NORM_AFFINE = f"{GROUP_NORM}_affine"

PLAIN_RELU = "plain_relu"  # values through a plain ReLU (ptflops counts those twice)
# Values through a PyTorch nn.LayerNorm module itself (`_affine`: with a weight): ptflops and thop hook
# modules by their exact type, so torchvision's LayerNorm2d, a subclass, escapes them.
TORCH_LAYER_NORM = "torch_layer_norm"
TORCH_LAYER_NORM_AFFINE = f"{TORCH_LAYER_NORM}_affine"
AVG_POOL_OUTPUT = "avg_pool_output"  # output values of a windowed average pooling

RMS_NORM = "rms_norm"  # values normalised by their root mean square (no counter here has a rule for it)
# Multiply-accumulates (already in MACs) of the attention products that PyTorch's transformer layers run
# inside scaled_dot_product_attention, for which fvcore 0.1.5 has no handle: it counts them 0.
SDPA_MACS = "sdpa_macs"
# The score products (already in MACs) of a PyTorch MultiheadAttention given an attn_mask and returning its
# weights: it runs them as torch.baddbmm(mask, q, k^T), for which fvcore 0.1.5 has no handle either.
BADDBMM_MACS = "baddbmm_macs"

LRN = "local_response_norm"  # values normalised across channels
LRN_PADDED = "local_response_norm_padded"  # the same, over channels padded by size - 1

# Recurrent layers, summed over time steps, directions and stacked layers (the RNN counters weigh them).
GATE_VALUES = "gate_values"  # one per hidden unit, gate and step: the sums each gate's sigmoid or tanh reads
GATE_PRODUCTS = "gate_products"  # LSTM and GRU: the products of gates and the sum that make the new state
CELL_STATE = "cell_state"  # LSTM cell-state values, one per hidden unit and step
PROJECTION_MACS = "projection_macs"  # the part of the MACs that is an LSTM's output projection (proj_size)
UNPROJECTED_MACS = "unprojected_macs"  # an LSTM with proj_size: the MACs the same LSTM has without it
FUSED_LSTM_MACS = "fused_lstm_macs"  # an LSTM over a sequence without projection: PyTorch on CPU runs it as
# one oneDNN kernel (mkldnn_rnn), in which counters that read dispatched operations see no product


def elements(shape: tuple[Any, ...]) -> Any:
    total = 1
    for dim in shape:
        total *= dim
    return total


def norm_ops(kind: str, shape: tuple[Any, ...], affine: bool) -> dict[str, Any]:
    count = elements(shape)
    return {kind: count, f"{kind}_affine": count if affine else 0}


# Attention, for the sequence-model figures (paramcalc/generation.py). The MACs of the two products (QK^T and
# the attention weights times V; already in the layer's MACs), the part quadratic in the length, and the
# values a KV cache keeps per key position (keys and values, every attention block of the layer).
ATTENTION_SCORE_MACS = "attention_score_macs"
ATTENTION_VALUE_MACS = "attention_value_macs"
KV_CACHE_VALUES = "kv_cache_values"
# Params of a layer made of parts (a transformer layer), by component, for the params-by-component figure.
ATTENTION_PARAMS = "attention_params"
MLP_PARAMS = "mlp_params"
NORM_PARAMS = "norm_params"
# PyTorch's attention modules, for the counters' recipes: every MAC of the attention blocks (projections and
# products), their bias additions, and their output values (the query positions x the output width: ptflops'
# nn.MultiheadAttention hook counts one per value for scaling the queries, and one for the output bias).
ATTENTION_MACS = "attention_macs"
ATTENTION_BIAS_ADDS = "attention_bias_adds"
ATTENTION_OUTPUTS = "attention_outputs"
GELU = "gelu"  # values through PyTorch's nn.GELU (which ptflops hooks as a module)
# Values through a torch.nn.functional activation the layer's PyTorch module calls: F.relu (nn.ReLU), F.elu,
# F.prelu, F.gelu, F.silu, which ptflops patches and counts one per value besides any module hook.
TORCH_FUNCTIONAL = "torch_functional"
# Products (already in MACs) a PyTorch layer runs as torch.matmul / Tensor.matmul, which ptflops patches and
# counts (not the `@` operator, nor F.linear, whose patch ptflops leaves out): torchvision's Swin attention,
# whose projections run as F.linear on its own weights, so that no module hook sees them.
TENSOR_MATMUL_MACS = "tensor_matmul_macs"
