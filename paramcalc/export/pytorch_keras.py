"""Keras's layer kinds written with PyTorch modules (`paramcalc export --to pytorch` of a Keras-written spec).

A Keras kind is written only where PyTorch's module is the same function with the same weights and output
shapes; KERAS says how (a small function per kind, from the parsed arguments and the shapes paramcalc
computed), REFUSED why a kind is not. Layout: a channels_last spec's feature maps are held channels-first
inside the module (permuted once where a Keras spatial layer first reads them, back where a layer of the
last axis, a Flatten, a Reshape or the model's output reads them), so that Conv2d, BatchNorm2d and
MaxPool2d read them as PyTorch does; CHANNEL_KINDS read them so, ELEMENTWISE kinds in whichever layout
they come, every other kind in the spec's own.

Keras's 'same' padding adds max((ceil(N/S) - 1) x S + span - N, 0) zeros, the odd one at the end: a
symmetric amount becomes the module's `padding`, an asymmetric one an `nn.functional.pad` before it.
A BatchNormalization's moving mean and variance are PyTorch buffers (paramcalc counts them as Keras's
non-trainable weights): params + running statistics agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from paramcalc.export import ExportError
from paramcalc.report import LayerRow
from paramcalc.spec.model import LayerSpec


class Site(NamedTuple):
    """A layer where it is written: its arguments parsed (defaults filled in), its row, and whether its
    input is held channels-first (a channels_last spec's feature map, permuted inside the module)."""

    layer: LayerSpec
    a: dict[str, Any]
    row: LayerRow
    held: bool
    channels_last: bool
    input_shapes: tuple[tuple[Any, ...], ...]  # every input's shape (batch first), in the spec's layout


class Source(str):
    """An argument given as Python source (a class of the generated code), written as it is."""


class Module(NamedTuple):
    """How a layer becomes a module: its constructor and arguments, and the forward source around the call
    (`{}` the value): `before` around its first input (a pad), `after` around its output (an activation)."""

    constructor: str
    args: dict[str, Any]
    before: str = "{}"
    after: str = "{}"


OTHERWISE = "export it with `--to keras`, or write the layer with PyTorch's kinds (`paramcalc layers`)."


def refuse(site: Site, reason: str, arg: str | None = None, hint: str = OTHERWISE) -> ExportError:
    layer = site.layer
    return ExportError(f"layer `{layer.name}` ({layer.kind}) {reason}",
                       layer.arg_locs.get(arg, layer.loc) if arg else layer.loc, hint)


# ---- layouts ------------------------------------------------------------------------------------------

def _ranked(*stems: str, ranks: tuple[int, ...] = (1, 2, 3)) -> set[str]:
    return {f"{stem}{r}D" for stem in stems for r in ranks}


GLOBAL_POOLS = _ranked("GlobalAveragePooling", "GlobalMaxPooling")
CHANNEL_KINDS = {*_ranked("Conv", "MaxPooling", "AveragePooling", "ZeroPadding"),
                 *_ranked("DepthwiseConv", "SeparableConv", ranks=(1, 2)), "BatchNormalization"}
ELEMENTWISE = {"Activation", "ReLU", "LeakyReLU", "ELU", "Dropout", "Add", "Multiply", "Subtract", "Maximum",
               "Minimum", "Average", "Rescaling", "Concatenate", *GLOBAL_POOLS}


def to_channels_first(value: str, rank: int) -> str:
    """(N, ..., C) -> (N, C, ...)."""
    return f"{value}.permute(0, {rank - 1}, {', '.join(str(d) for d in range(1, rank - 1))})"


def to_channels_last(value: str, rank: int) -> str:
    """(N, C, ...) -> (N, ..., C)."""
    return f"{value}.permute(0, {', '.join(str(d) for d in range(2, rank))}, 1)"


def held_axis(axis: int, rank: int, held: bool) -> int:
    """A spec-layout axis (the batch 0, negative from the end) in the layout the value is held in."""
    if not held:
        return axis
    index = axis % rank
    if index == 0:
        return index
    return 1 if index == rank - 1 else index + 1


# ---- the arguments' arithmetic ------------------------------------------------------------------------

def same_padding(n: Any, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Keras's 'same' zeros (before, after) on an input of n: ceil(n/s) windows, the odd zero at the end."""
    if not isinstance(n, int):
        raise TypeError(n)
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def window_padding(site: Site, kernel: tuple[int, ...], strides: tuple[int, ...],
                   dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(before, after) zeros per spatial dim for the layer's `padding` ('valid', 'same' or explicit pairs)."""
    padding = site.a["padding"]
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":
        spatial = site.row.input_shape[1:-1]
        try:
            return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation))
        except TypeError:
            raise refuse(site, f"pads 'same' on an input of free size {list(spatial)}: the zeros PyTorch needs "
                         "depend on it", "padding", "give the input a size (numbers in `input:`, or `--set` its "
                         "variables) to export it to PyTorch, or export with `--to keras`.") from None
    if padding == "causal":
        raise refuse(site, "pads 'causal', which PyTorch's modules do not", "padding")
    return tuple((before, after) for before, after in padding)


def padded(pairs: tuple[tuple[int, int], ...], value: str = "") -> tuple[tuple[int, ...] | int, str]:
    """The module's `padding` and the source around its input: symmetric zeros in the module, others in a pad
    before it (nn.functional.pad lists the last dimension first)."""
    if all(before == after for before, after in pairs):
        same = [before for before, _ in pairs]
        return (same[0] if len(set(same)) == 1 else tuple(same)), "{}"
    amounts = ", ".join(f"{before}, {after}" for before, after in reversed(pairs))
    return 0, f"nn.functional.pad({{}}, ({amounts}){value})"


def square(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """(3, 3) -> 3, as PyTorch's modules take one number for every spatial dim."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def window(kernel: tuple[int, ...], strides: tuple[int, ...], padding: Any, dilation: tuple[int, ...] | None = None,
           pool: bool = False, **more: int) -> dict[str, Any]:
    """A conv's or pool's window arguments, PyTorch's defaults left out (a conv's stride 1, a pool's stride its
    kernel; no padding, dilation 1)."""
    args: dict[str, Any] = {"kernel_size": square(kernel), "stride": square(strides), "padding": padding,
                            "dilation": square(dilation or (1,)), **more}
    defaults = {"stride": args["kernel_size"] if pool else 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}
    return {key: value for key, value in args.items() if key not in defaults or value != defaults[key]}


def channels(site: Site) -> int:
    """The size of the input's last axis (the channels of a channels_last feature map, or the features)."""
    size = site.row.input_shape[-1]
    if not isinstance(size, int):
        raise refuse(site, f"reads a last axis of free size {size}: PyTorch's module needs it as a number")
    return size


def rank_of(site: Site) -> int:
    return len(site.row.input_shape) - 2  # spatial dims


# ---- activations ---------------------------------------------------------------------------------------

LAST_AXIS = "the last axis"  # Keras's softmax axis: dim -1, or 1 where the value is held channels-first

# Keras's name -> PyTorch's module, its nn.functional twin (for an `activation:` fused into a layer), and the
# arguments that make them Keras's (Keras 3's leaky_relu slope is 0.2; its hard_sigmoid is relu6(x + 3) / 6).
ACTIVATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "relu": ("ReLU", "relu", {}), "relu6": ("ReLU6", "relu6", {}), "sigmoid": ("Sigmoid", "torch.sigmoid", {}),
    "tanh": ("Tanh", "torch.tanh", {}), "silu": ("SiLU", "silu", {}), "swish": ("SiLU", "silu", {}),
    "gelu": ("GELU", "gelu", {}), "hard_sigmoid": ("Hardsigmoid", "hardsigmoid", {}),
    "hard_silu": ("Hardswish", "hardswish", {}), "hard_swish": ("Hardswish", "hardswish", {}),
    "elu": ("ELU", "elu", {}), "selu": ("SELU", "selu", {}), "softplus": ("Softplus", "softplus", {}),
    "softsign": ("Softsign", "softsign", {}), "mish": ("Mish", "mish", {}),
    "leaky_relu": ("LeakyReLU", "leaky_relu", {"negative_slope": 0.2}),
    "softmax": ("Softmax", "softmax", {"dim": LAST_AXIS}), "log_softmax": ("LogSoftmax", "log_softmax",
                                                                          {"dim": LAST_AXIS}),
}


def activation(site: Site, name: Any, held: bool) -> tuple[str, dict[str, Any], str] | None:
    """A Keras activation as (module, its arguments, the functional source around `{}`); None for linear."""
    if name in (None, "linear"):
        return None
    if name not in ACTIVATIONS:
        raise refuse(site, f"uses the activation {name!r}, which `paramcalc export` does not write in PyTorch",
                     "activation")
    module, functional, extra = ACTIVATIONS[name]
    kwargs = {key: (1 if held else -1) if value == LAST_AXIS else value for key, value in extra.items()}
    text = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    call = functional if functional.startswith("torch.") else f"nn.functional.{functional}"
    return f"nn.{module}", kwargs, f"{call}({{}}{text})"


def fused(site: Site, held: bool) -> str:
    written = activation(site, site.a.get("activation"), held)
    return "{}" if written is None else written[2]


# ---- the kinds -----------------------------------------------------------------------------------------

def _no_lora(site: Site) -> None:
    if site.a.get("lora_rank"):
        raise refuse(site, "has `lora_rank`, Keras's LoRA weights, which PyTorch's modules do not have", "lora_rank")


def conv(site: Site) -> Module:
    a = site.a
    _no_lora(site)
    pad, before = padded(window_padding(site, a["kernel_size"], a["strides"], a["dilation_rate"]))
    r = rank_of(site)
    return Module(f"nn.Conv{r}d", {"in_channels": channels(site), "out_channels": a["filters"],
                                   **window(a["kernel_size"], a["strides"], pad, a["dilation_rate"],
                                            groups=a["groups"], bias=a["use_bias"])}, before, fused(site, True))


def depthwise_conv(site: Site) -> Module:
    a = site.a
    pad, before = padded(window_padding(site, a["kernel_size"], a["strides"], a["dilation_rate"]))
    c = channels(site)
    return Module(f"nn.Conv{rank_of(site)}d", {"in_channels": c, "out_channels": c * a["depth_multiplier"],
                                               **window(a["kernel_size"], a["strides"], pad, a["dilation_rate"],
                                                        groups=c, bias=a["use_bias"])}, before, fused(site, True))


def separable_conv(site: Site) -> Module:
    a = site.a
    pad, before = padded(window_padding(site, a["kernel_size"], a["strides"], a["dilation_rate"]))
    return Module(f"SeparableConv{rank_of(site)}d", {
        "in_channels": channels(site), "out_channels": a["filters"], "kernel_size": square(a["kernel_size"]),
        "stride": square(a["strides"]), "padding": pad, "dilation": square(a["dilation_rate"]),
        "depth_multiplier": a["depth_multiplier"], "bias": a["use_bias"]}, before, fused(site, True))


def batch_norm(site: Site) -> Module:
    a, rank = site.a, len(site.row.input_shape) - 1
    if a["axis"] not in (None, -1, rank, (-1,), (rank,)):
        raise refuse(site, "normalises an axis other than the channels, which PyTorch's BatchNorm does not", "axis")
    for key in ("renorm", "synchronized"):
        if a[key]:
            raise refuse(site, f"has `{key}`, which PyTorch's BatchNorm does not do", key)
    args: dict[str, Any] = {"num_features": channels(site), "eps": a["epsilon"],
                            "momentum": round(1 - a["momentum"], 12)}  # PyTorch weighs the new batch, Keras the old
    r = max(rank - 1, 1)
    if a["center"] != a["scale"]:  # a shift without a scale (Inception v3), or a scale without a shift
        return Module(f"KerasBatchNorm{r}d", {**args, "center": a["center"], "scale": a["scale"]})
    if not a["center"]:
        args["affine"] = False
    return Module(f"nn.BatchNorm{r}d", args)


def pooling(kind: str) -> Callable[[Site], Module]:
    def write(site: Site) -> Module:
        a = site.a
        kernel = a["pool_size"]
        strides = a["strides"] or kernel
        pairs = window_padding(site, kernel, strides, (1,) * len(kernel))
        if kind == "Max":
            pad, before = padded(pairs, ', value=float("-inf")')  # a max never picks the padding
        else:
            pad, before = padded(pairs)
            if before != "{}":
                raise refuse(site, "pads 'same' unevenly: Keras averages over the part of each window inside the "
                             "input, which PyTorch's AvgPool does only with even padding", "padding",
                             "use padding 'valid', or an input size that 'same' pads evenly, to export it to "
                             "PyTorch; or export with `--to keras`.")
        # Keras leaves the padding out of an average
        args = window(kernel, strides, pad, pool=True)
        if pad and kind == "Avg":
            args["count_include_pad"] = False
        return Module(f"nn.{kind}Pool{rank_of(site)}d", args, before)
    return write


def zero_padding(site: Site) -> Module:
    pairs = site.a["padding"]
    if isinstance(pairs, int):
        pairs = ((pairs, pairs),) * rank_of(site)
    amounts = tuple(n for before, after in reversed(pairs) for n in (before, after))  # the last dim first
    return Module(f"nn.ZeroPad{rank_of(site)}d", {"padding": square(amounts)})


def dense(site: Site) -> Module:
    _no_lora(site)
    return Module("nn.Linear", {"in_features": channels(site), "out_features": site.a["units"],
                                "bias": site.a["use_bias"]}, after=fused(site, False))


def activation_layer(site: Site) -> Module:
    written = activation(site, site.a["activation"], site.held)
    return Module("nn.Identity", {}) if written is None else Module(written[0], written[1])


def softmax(site: Site) -> Module:
    return Module("nn.Softmax", {"dim": held_axis(site.a["axis"], len(site.row.input_shape), site.held)})


def relu(site: Site) -> Module:
    a = site.a
    if a["threshold"]:
        raise refuse(site, "has a `threshold`, which PyTorch's ReLU does not take", "threshold")
    if a["negative_slope"] and a["max_value"] is not None:
        raise refuse(site, "has both `negative_slope` and `max_value`, which no PyTorch module does", "max_value")
    if a["negative_slope"]:
        return Module("nn.LeakyReLU", {"negative_slope": a["negative_slope"]})
    if a["max_value"] is None:
        return Module("nn.ReLU", {})
    if a["max_value"] == 6:
        return Module("nn.ReLU6", {})
    return Module("nn.Hardtanh", {"min_val": 0.0, "max_val": float(a["max_value"])})


def dropout(site: Site) -> Module:
    noise = site.a.get("noise_shape")
    if noise is None:
        return Module("nn.Dropout", {"p": site.a["rate"]})  # (`seed`: Keras's random stream, nothing PyTorch reads)
    if len(noise) == len(site.row.input_shape) and noise[0] is None and all(n == 1 for n in noise[1:]):
        # one draw per sample, the kept ones scaled by 1 / (1 - rate): Keras's drop-connect is torchvision's
        return Module("StochasticDepth", {"p": site.a["rate"], "mode": "row"})
    raise refuse(site, f"has a `noise_shape` of {list(noise)}: PyTorch's Dropout draws for every value, "
                 "torchvision's StochasticDepth for every sample ([null, 1, 1, 1]) only", "noise_shape")


def normalization(site: Site) -> Module:
    a, rank = site.a, len(site.row.input_shape) - 1
    if tuple(axis % (rank + 1) for axis in a["axis"]) != (rank,):
        raise refuse(site, "normalises along axes other than the last; the generated Normalization keeps the "
                     "last only", "axis")
    if a["invert"]:
        raise refuse(site, "has `invert`, which the generated Normalization does not do", "invert")
    if a["mean"] is None:  # to be adapted: Keras's three non-trainable weights
        return Module("Normalization", {"channels": channels(site)})
    given = site.layer.args  # (the parsed `mean` and `variance` are their shapes; the values are as written)
    return Module("Normalization", {"channels": channels(site), "mean": [float(m) for m in given["mean"]],
                                    "variance": [float(v) for v in given["variance"]]})


def layer_scale(site: Site) -> Module:
    return Module("LayerScale", {"init_values": site.a["init_values"], "projection_dim": site.a["projection_dim"]})


def layer_norm(site: Site) -> Module:
    a, rank = site.a, len(site.row.input_shape) - 1
    if tuple(axis % rank if axis < 0 else axis - 1 for axis in a["axis"]) != (rank - 1,):
        raise refuse(site, "normalises axes other than the last one; nn.LayerNorm takes the last ones only", "axis")
    if a["rms_scaling"]:
        raise refuse(site, "has `rms_scaling`, which nn.LayerNorm does not do", "rms_scaling")
    if a["center"] and not a["scale"]:
        raise refuse(site, "has a shift without a scale; nn.LayerNorm's shift comes with its scale", "scale")
    args: dict[str, Any] = {"normalized_shape": channels(site), "eps": a["epsilon"]}
    if not a["scale"]:
        args["elementwise_affine"] = False
    elif not a["center"]:
        args["bias"] = False
    return Module("nn.LayerNorm", args)


def embedding(site: Site) -> Module:
    if site.a.get("mask_zero"):
        raise refuse(site, "has `mask_zero`: Keras's masks have no PyTorch counterpart", "mask_zero")
    _no_lora(site)
    return Module("nn.Embedding", {"num_embeddings": site.a["input_dim"], "embedding_dim": site.a["output_dim"]})


def attention_widths(site: Site) -> tuple[int, int, int]:
    """The query's, value's and key's feature sizes (Keras's inputs: query, value[, key])."""
    query = channels(site)
    shapes = site.input_shapes
    value = shapes[1][-1] if len(shapes) > 1 else query
    key = shapes[2][-1] if len(shapes) > 2 else value
    if not isinstance(value, int) or not isinstance(key, int):
        raise refuse(site, "reads inputs of free width: PyTorch's projections need them as numbers")
    return query, value, key


def multi_head_attention(site: Site) -> Module:
    """nn.MultiheadAttention where its heads split the width as Keras's do (key_dim x num_heads = the width,
    value_dim = key_dim, the same width in every input); otherwise the generated KerasMultiHeadAttention, whose
    four Linears are Keras's four projections."""
    a = site.a
    for arg in ("output_shape", "attention_axes"):
        if a[arg] is not None:
            raise refuse(site, f"has `{arg}`, which `paramcalc export` does not write in PyTorch", arg)
    query, value, key = attention_widths(site)
    value_dim = a["value_dim"] or a["key_dim"]
    if a["key_dim"] * a["num_heads"] == query == value == key and value_dim == a["key_dim"]:
        return Module("nn.MultiheadAttention", {"embed_dim": query, "num_heads": a["num_heads"],
                                                "dropout": a["dropout"], "bias": a["use_bias"], "batch_first": True})
    return Module("KerasMultiHeadAttention", {"query_width": query, "value_width": value, "key_width": key,
                                              "num_heads": a["num_heads"], "key_dim": a["key_dim"],
                                              "value_dim": value_dim, "dropout": a["dropout"],
                                              "bias": a["use_bias"]})


def grouped_query_attention(site: Site) -> Module:
    a = site.a
    for arg in ("use_gate", "sliding_window"):
        if a[arg]:
            raise refuse(site, f"has `{arg}`, which `paramcalc export` does not write in PyTorch", arg)
    width, value, key = attention_widths(site)
    if not width == value == key:
        raise refuse(site, f"reads inputs of widths {width}, {value} and {key}; the generated GroupedQueryAttention "
                     "takes one width")
    return Module("GroupedQueryAttention", {"width": width, "head_dim": a["head_dim"],
                                            "num_query_heads": a["num_query_heads"],
                                            "num_key_value_heads": a["num_key_value_heads"],
                                            "dropout": a["dropout"], "bias": a["use_bias"]})


def class_token(site: Site) -> Module:
    return Module("ClassToken", {"width": channels(site), "num_tokens": site.a["num_tokens"]})


def position_embedding(site: Site) -> Module:
    return Module("PositionEmbedding", {"sequence_length": site.a["sequence_length"], "width": channels(site)})


def token_and_position_embedding(site: Site) -> Module:
    a = site.a
    if not a["tie_weights"] or a["mask_zero"]:
        key = "mask_zero" if a["mask_zero"] else "tie_weights"
        raise refuse(site, f"has `{key}: {str(a[key]).lower()}`, which `paramcalc export` does not write in PyTorch",
                     key)
    return Module("TokenAndPositionEmbedding", {"vocabulary_size": a["vocabulary_size"],
                                                "sequence_length": a["sequence_length"],
                                                "embedding_dim": a["embedding_dim"]})


def lstm_arguments(site: Site, a: dict[str, Any], input_size: int) -> dict[str, Any]:
    """A Keras LSTM's arguments for the generated KerasLSTM; what it would compute differently is refused."""
    if a["activation"] != "tanh" or a["recurrent_activation"] != "sigmoid":
        raise refuse(site, "has activations other than Keras's defaults (tanh, sigmoid), which the generated "
                     "KerasLSTM does not take", "activation")
    for key in ("stateful", "dropout", "recurrent_dropout"):
        if a[key]:
            raise refuse(site, f"has `{key}`, which the generated KerasLSTM does not do", key)
    return {"input_size": input_size, "units": a["units"], "bias": a["use_bias"],
            "return_sequences": a["return_sequences"], "return_state": a["return_state"],
            "go_backwards": a["go_backwards"]}


def lstm(site: Site) -> Module:
    return Module("KerasLSTM", lstm_arguments(site, site.a, channels(site)))


def bidirectional(site: Site) -> Module:
    inner = site.a["layer"]
    if inner.args.get("__kind__") is None or inner.args["__kind__"].__name__ != "KerasLSTM":
        raise refuse(site, "wraps a recurrent layer other than Keras's LSTM, which `paramcalc export` does not write "
                     "in PyTorch", "layer")
    if site.a["merge_mode"] != "concat" or site.a["backward_layer"] is not None:
        raise refuse(site, "merges otherwise than by concatenating a mirror of its layer, which the generated "
                     "KerasBidirectionalLSTM does not do", "merge_mode")
    args = lstm_arguments(site, inner.args, channels(site))
    if args["return_state"] or args["go_backwards"]:
        raise refuse(site, "wraps an LSTM with `return_state` or `go_backwards`, which the generated "
                     "KerasBidirectionalLSTM does not take", "layer")
    return Module("KerasBidirectionalLSTM", {key: args[key] for key in ("input_size", "units", "bias",
                                                                         "return_sequences")})


def relative_position_bias(site: Site) -> Module:
    a = site.a
    return Module("RelativePositionBias", {"num_heads": a["num_heads"], "num_buckets": a["num_buckets"],
                                           "max_distance": a["max_distance"], "bidirectional": a["bidirectional"]})


# Keras kind -> its PyTorch module
KERAS: dict[str, Callable[[Site], Module]] = {
    **{kind: conv for kind in _ranked("Conv")},
    **{kind: depthwise_conv for kind in _ranked("DepthwiseConv", ranks=(1, 2))},
    **{kind: separable_conv for kind in _ranked("SeparableConv", ranks=(1, 2))},
    **{kind: pooling("Max") for kind in _ranked("MaxPooling")},
    **{kind: pooling("Avg") for kind in _ranked("AveragePooling")},
    **{kind: zero_padding for kind in _ranked("ZeroPadding")},
    "BatchNormalization": batch_norm, "Dense": dense, "Activation": activation_layer, "ReLU": relu,
    "Dropout": dropout, "LayerNormalization": layer_norm, "Normalization": normalization, "LayerScale": layer_scale,
    "Embedding": embedding,
    "Softmax": softmax, "MultiHeadAttention": multi_head_attention, "ClassToken": class_token,
    "PositionEmbedding": position_embedding, "TokenAndPositionEmbedding": token_and_position_embedding,
    "GroupedQueryAttention": grouped_query_attention, "LSTM": lstm, "Bidirectional": bidirectional,
    "RelativePositionBias": relative_position_bias,
}

# Kinds that have no exact PyTorch writing here, and why
REFUSED: dict[str, str] = {
    **{kind: "has one bias vector per gate where PyTorch's recurrent modules have two (b_ih and b_hh), so the "
             "params cannot agree" for kind in ("SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
}


# ---- operations of forward -----------------------------------------------------------------------------

def global_pool(reduce: str) -> Callable[[Site, list[str]], str]:
    def write(site: Site, ins: list[str]) -> str:
        rank = len(site.row.input_shape)
        dims = tuple(range(2, rank)) if site.held else tuple(range(1, rank - 1))
        keep = ", keepdim=True" if site.a.get("keepdims") else ""
        return f"{ins[0]}.{reduce}({dims[0] if len(dims) == 1 else dims}{keep})"
    return write


def rescaling(site: Site, ins: list[str]) -> str:
    scale, offset = site.a["scale"], site.a["offset"]
    if not isinstance(scale, (int, float)) or not isinstance(offset, (int, float)):
        raise refuse(site, "scales per channel, which `paramcalc export` does not write in PyTorch", "scale")
    return f"{ins[0]} * {scale!r}" + (f" + {offset!r}" if offset > 0 else f" - {-offset!r}" if offset else "")


def reshape(site: Site, ins: list[str]) -> str:
    target = tuple(site.a["target_shape"])
    if len(target) == 1:
        return f"{ins[0]}.flatten(1)" if target[0] in (-1, site.row.output_shape[1]) else f"{ins[0]}.reshape(-1)"
    return f"{ins[0]}.flatten(1).unflatten(1, {target})"


KERAS_OPS: dict[str, Callable[[Site, list[str]], str]] = {
    **{f"GlobalAveragePooling{r}D": global_pool("mean") for r in (1, 2, 3)},
    **{f"GlobalMaxPooling{r}D": global_pool("amax") for r in (1, 2, 3)},
    "Rescaling": rescaling, "Reshape": reshape,
}


# ---- classes the code defines when it uses them --------------------------------------------------------

HELPERS: dict[str, str] = {
    **{f"SeparableConv{r}d": f'''class SeparableConv{r}d(nn.Module):
    """Keras's SeparableConv{r}D: a depthwise conv without bias (`depthwise`: depth_multiplier filters per
    input channel), then a 1x1 conv (`pointwise`) with the bias."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, depth_multiplier, bias):
        super().__init__()
        self.depthwise = nn.Conv{r}d(in_channels, in_channels * depth_multiplier, kernel_size, stride, padding,
                                   dilation, groups=in_channels, bias=False)
        self.pointwise = nn.Conv{r}d(in_channels * depth_multiplier, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
''' for r in (1, 2)},
    **{f"KerasBatchNorm{r}d": f'''class KerasBatchNorm{r}d(nn.BatchNorm{r}d):
    """Keras's BatchNormalization with a shift and no scale (scale=False) or a scale and no shift (center=False):
    PyTorch's BatchNorm without `affine`, given only its `bias` or only its `weight` (F.batch_norm takes either)."""

    def __init__(self, num_features, eps, momentum, center, scale):
        super().__init__(num_features, eps, momentum, affine=False)
        if center:
            self.bias = nn.Parameter(torch.zeros(num_features))
        if scale:
            self.weight = nn.Parameter(torch.ones(num_features))
''' for r in (1, 2, 3)},
    "Normalization": '''class Normalization(nn.Module):
    """Keras's Normalization of the last axis: (x - mean) / max(sqrt(variance), 1e-7). A given mean and variance
    are constants (buffers); a layer still to be adapted has Keras's three non-trainable weights (mean,
    variance, and the count of values seen) as frozen parameters."""

    def __init__(self, channels, mean=None, variance=None):
        super().__init__()
        if mean is None:
            self.mean = nn.Parameter(torch.zeros(channels), requires_grad=False)
            self.variance = nn.Parameter(torch.ones(channels), requires_grad=False)
            self.count = nn.Parameter(torch.zeros(()), requires_grad=False)
        else:
            self.register_buffer("mean", torch.tensor(mean))
            self.register_buffer("variance", torch.tensor(variance))

    def forward(self, x):
        return (x - self.mean) / self.variance.sqrt().clamp(min=1e-7)
''',
    "LayerScale": '''class LayerScale(nn.Module):
    """Keras ConvNeXt's LayerScale: the last axis times a learned gamma."""

    def __init__(self, init_values, projection_dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((projection_dim,), float(init_values)))

    def forward(self, x):
        return x * self.gamma
''',
    "ClassToken": '''class ClassToken(nn.Module):
    """Learned token(s) put in front of a sequence (ViT's class token): (batch, T, width) -> (batch, num_tokens + T,
    width)."""

    def __init__(self, width, num_tokens):
        super().__init__()
        self.tokens = nn.Parameter(torch.zeros(1, num_tokens, width))

    def forward(self, x):
        return torch.cat([self.tokens.expand(x.shape[0], -1, -1), x], dim=1)
''',
    "PositionEmbedding": '''class PositionEmbedding(nn.Module):
    """keras_hub's PositionEmbedding: a learned table of sequence_length positions; gives its first T rows,
    broadcast to the input's shape (batch, T, width), to be added to it."""

    def __init__(self, sequence_length, width):
        super().__init__()
        self.embeddings = nn.Parameter(torch.zeros(sequence_length, width))

    def forward(self, x):
        return self.embeddings[:x.shape[-2]].expand_as(x)
''',
    "TokenAndPositionEmbedding": '''class TokenAndPositionEmbedding(nn.Module):
    """keras_hub's TokenAndPositionEmbedding: token ids -> their embeddings plus learned positions."""

    def __init__(self, vocabulary_size, sequence_length, embedding_dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocabulary_size, embedding_dim)
        self.position_embedding = PositionEmbedding(sequence_length, embedding_dim)

    def forward(self, x):
        tokens = self.token_embedding(x)
        return tokens + self.position_embedding(tokens)
''',
    "KerasMultiHeadAttention": '''class KerasMultiHeadAttention(nn.Module):
    """Keras's MultiHeadAttention where its heads do not split the width as nn.MultiheadAttention's do: num_heads
    heads of key_dim (queries, keys) and value_dim (values), each projection a Linear as Keras's EinsumDense
    (`query`, `key`, `value`, `attention_output`); the inputs are (query[, value[, key]])."""

    def __init__(self, query_width, value_width, key_width, num_heads, key_dim, value_dim, dropout, bias):
        super().__init__()
        self.num_heads, self.dropout = num_heads, dropout
        self.query = nn.Linear(query_width, num_heads * key_dim, bias=bias)
        self.key = nn.Linear(key_width, num_heads * key_dim, bias=bias)
        self.value = nn.Linear(value_width, num_heads * value_dim, bias=bias)
        self.attention_output = nn.Linear(num_heads * value_dim, query_width, bias=bias)

    def heads(self, x):
        return x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def forward(self, query, value=None, key=None):
        value = query if value is None else value
        key = value if key is None else key
        q, k, v = self.heads(self.query(query)), self.heads(self.key(key)), self.heads(self.value(value))
        out = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.attention_output(out.transpose(1, 2).flatten(2))
''',
    "KerasLSTM": '''class KerasLSTM(nn.Module):
    """Keras's LSTM: one bias per gate (nn.LSTM has two, b_ih and b_hh, so its params differ), the gates in Keras's
    order (input, forget, cell, output); reads (batch, time, features) and an optional initial state (h, c).
    `kernel` holds Keras's kernel and bias, `recurrent_kernel` its recurrent kernel."""

    def __init__(self, input_size, units, bias, return_sequences, return_state, go_backwards):
        super().__init__()
        self.units, self.return_sequences = units, return_sequences
        self.return_state, self.go_backwards = return_state, go_backwards
        self.kernel = nn.Linear(input_size, 4 * units, bias=bias)
        self.recurrent_kernel = nn.Linear(units, 4 * units, bias=False)

    def forward(self, x, h=None, c=None):
        h = x.new_zeros(x.shape[0], self.units) if h is None else h
        c = x.new_zeros(x.shape[0], self.units) if c is None else c
        projected = self.kernel(x)
        outputs = []
        for t in reversed(range(x.shape[1])) if self.go_backwards else range(x.shape[1]):
            i, f, g, o = (projected[:, t] + self.recurrent_kernel(h)).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        out = torch.stack(outputs, dim=1) if self.return_sequences else h
        return (out, h, c) if self.return_state else out
''',
    "KerasBidirectionalLSTM": '''class KerasBidirectionalLSTM(nn.Module):
    """Keras's Bidirectional(LSTM): a KerasLSTM forwards and one backwards (its sequence put back in time order),
    concatenated."""

    def __init__(self, input_size, units, bias, return_sequences):
        super().__init__()
        self.return_sequences = return_sequences
        self.forward_lstm = KerasLSTM(input_size, units, bias, return_sequences, False, False)
        self.backward_lstm = KerasLSTM(input_size, units, bias, return_sequences, False, True)

    def forward(self, x):
        backward = self.backward_lstm(x)
        return torch.cat([self.forward_lstm(x), backward.flip(1) if self.return_sequences else backward], dim=-1)
''',
    "RelativePositionBias": '''class RelativePositionBias(nn.Module):
    """T5's relative position bias: a learned table (`relative_attention_bias`) of num_buckets x num_heads, looked
    up by the bucket of each key's distance from each query; gives (1, heads, Tq, Tk), added to the scores. The
    buckets: half of them exact distances, the rest logarithmically wider up to max_distance; bidirectional
    keeps separate buckets for keys before and after the query, otherwise only keys before count."""

    def __init__(self, num_heads, num_buckets, max_distance, bidirectional):
        super().__init__()
        self.num_buckets, self.max_distance, self.bidirectional = num_buckets, max_distance, bidirectional
        self.relative_attention_bias = nn.Embedding(num_buckets, num_heads)

    def bucket(self, distance):
        buckets, offset = self.num_buckets, 0
        if self.bidirectional:
            buckets //= 2
            offset = (distance > 0).long() * buckets
            distance = distance.abs()
        else:
            distance = (-distance).clamp(min=0)
        exact = buckets // 2
        wide = exact + (torch.log(distance.float().clamp(min=1) / exact) / math.log(self.max_distance / exact)
                        * (buckets - exact)).long()
        return offset + torch.where(distance < exact, distance, wide.clamp(max=buckets - 1))

    def forward(self, query, key=None):
        key = query if key is None else key
        device = self.relative_attention_bias.weight.device
        distance = (torch.arange(key.shape[1], device=device)[None, :]
                    - torch.arange(query.shape[1], device=device)[:, None])
        return self.relative_attention_bias(self.bucket(distance)).permute(2, 0, 1)[None]
''',
    "MixtureOfExperts": '''class MixtureOfExperts(nn.Module):
    """Mixtral's sparse MoE block: a bias-free router (`gate`) scores num_experts experts for each token; the
    token goes through its top_k, weighted by their softmax scores renormalised over the top_k. (Written densely:
    every expert reads every token and the weights of the experts a token did not pick are 0; the same output.)"""

    def __init__(self, width, num_experts, top_k, expert):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(width, num_experts, bias=False)
        self.experts = nn.ModuleList(expert() for _ in range(num_experts))

    def forward(self, x):
        weights, chosen = self.gate(x).softmax(-1).topk(self.top_k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        out = 0
        for number, expert in enumerate(self.experts):
            weight = (weights * (chosen == number)).sum(-1, keepdim=True)
            out = out + weight * expert(x)
        return out
''',
    "GroupedQueryAttention": '''class GroupedQueryAttention(nn.Module):
    """Keras's GroupedQueryAttention: num_query_heads query heads share num_key_value_heads key and value
    heads; the inputs are (query[, value[, key]]), each (batch, positions, width). Its function: no mask and
    no rotary embedding, as Keras's layer (a Llama's rotary embedding has no weights)."""

    def __init__(self, width, head_dim, num_query_heads, num_key_value_heads, dropout, bias):
        super().__init__()
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(width, num_query_heads * head_dim, bias=bias)
        self.k_proj = nn.Linear(width, num_key_value_heads * head_dim, bias=bias)
        self.v_proj = nn.Linear(width, num_key_value_heads * head_dim, bias=bias)
        self.o_proj = nn.Linear(num_query_heads * head_dim, width, bias=bias)

    def heads(self, x, count):
        return x.unflatten(-1, (count, self.head_dim)).transpose(1, 2)

    def forward(self, query, value=None, key=None):
        value = query if value is None else value
        key = value if key is None else key
        group = self.num_query_heads // self.num_key_value_heads
        q = self.heads(self.q_proj(query), self.num_query_heads)
        k = self.heads(self.k_proj(key), self.num_key_value_heads).repeat_interleave(group, dim=1)
        v = self.heads(self.v_proj(value), self.num_key_value_heads).repeat_interleave(group, dim=1)
        out = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.o_proj(out.transpose(1, 2).flatten(2))
''',
}
