"""How `paramcalc export --to keras` writes a layer of PyTorch's vocabulary: TORCH, a small function per
PyTorch kind giving the Keras layers or `keras.ops` calls (Steps) that compute the same thing with the same
weights and output shapes, in the spec's layout; TRANSLATE, the kinds both vocabularies name alike, whose
PyTorch arguments are renamed; and what the generated file defines where Keras has no layer: Layer
classes (CLASSES) and helper functions of Keras layers (HELPERS). paramcalc/export/keras.py writes the
file; this module only says how each kind is written (the mirror of export/pytorch_keras.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from paramcalc.export import ExportError
from paramcalc.report import LayerRow
from paramcalc.spec.model import CHANNELS_FIRST, LayerSpec

# PyTorch arguments that change nothing Keras builds: PyTorch-only memory and placement hints, the sizes
# Keras infers from the input, and the batch-first layout Keras always has.
IGNORED = {"inplace", "device", "dtype", "in_channels", "in_features", "num_features", "batch_first", "need_weights"}
FIRST = {"data_format": CHANNELS_FIRST}  # a PyTorch spatial kind reads (N, C, H, W)
TORCH_FLOAT32_EPS = 1.1920928955078125e-07  # torch.finfo(torch.float32).eps: RMSNorm's epsilon when eps is None


class Step:
    """One Keras layer (or `keras.ops` call) of a spec layer, applied to what the step before it gives."""

    def __init__(self, constructor: str, args: dict[str, Any], suffix: str = "", op: bool = False) -> None:
        self.constructor = constructor  # for an op: a template with {x} (the input) and {key} (an argument)
        self.args = args
        self.suffix = suffix  # the Keras layer's name is the spec layer's name + suffix
        self.op = op


def op(template: str, **args: Any) -> Step:
    return Step(template, args, op=True)


class Source(str):
    """An argument already written as Python source (a layer constructor), not a value."""


def _shared(renames: dict[str, str], dropped: tuple[str, ...] = ("inplace",)) -> Callable[..., dict[str, Any]]:
    def translate(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
        return {renames.get(key, key): value for key, value in args.items() if key not in dropped}
    return translate


def _dropout(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
    out = _shared({"p": "rate"})(layer, args)
    out.setdefault("rate", 0.5)  # nn.Dropout's default p; Keras's Dropout has none
    return out


def _embedding(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
    for key in ("max_norm", "scale_grad_by_freq", "sparse"):
        if args.get(key):
            raise ExportError(f"layer `{layer.name}` (Embedding) has `{key}`, which Keras's Embedding does not take",
                              layer.arg_locs.get(key, layer.loc), "drop it to export the spec to Keras.")
    # padding_idx only keeps PyTorch from training one row: the same table and output, so it is left out
    out = _shared({"num_embeddings": "input_dim", "embedding_dim": "output_dim"},
                  ("padding_idx", "device", "norm_type", "tie"))(layer, args)
    if out.pop("_freeze", False):
        out["trainable"] = False
    return out


def _permute(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
    dims = list(args["dims"])
    return {"dims": tuple(dims[1:]) if 0 in dims else tuple(dims)}  # torchvision counts the batch as 0


def _concatenate(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
    return _shared({"dim": "axis"}, ())(layer, args)  # both count the batch as axis 0


def _stochastic_depth(layer: LayerSpec, args: dict[str, Any]) -> dict[str, Any]:
    if "drop_path_rate" in args:
        return args
    if args.get("mode") != "row":
        raise ExportError(f"layer `{layer.name}` (StochasticDepth) drops the whole batch (mode: batch)",
                          layer.arg_locs.get("mode", layer.loc), "Keras's StochasticDepth drops per sample: use "
                          "mode: row to export it to Keras.")
    return {"drop_path_rate": args["p"]}  # torchvision's row mode: one draw per sample, as Keras ConvNeXt's


TRANSLATE: dict[str, Callable[[LayerSpec, dict[str, Any]], dict[str, Any]]] = {
    "Dropout": _dropout, "Embedding": _embedding, "Permute": _permute,
    "Concatenate": _concatenate, "StochasticDepth": _stochastic_depth,
    "ReLU": _shared({}), "LeakyReLU": _shared({}), "ELU": _shared({}), "Softmax": _shared({"dim": "axis"}),
    "Identity": _shared({}),
}


# -- PyTorch kinds ---------------------------------------------------------------------------------------

class Torch:
    """A PyTorch layer being written in Keras: its arguments with PyTorch's defaults, and its shapes."""

    def __init__(self, layer: LayerSpec, kind: Any, row: LayerRow) -> None:
        self.layer, self.kind, self.row = layer, kind, row
        self.args = {arg.name: arg.default for arg in kind.all_args() if not arg.required}
        if layer.has_positional:
            self.args[kind.own_args()[0].name] = layer.positional
        self.args.update(layer.args)
        self.rank = int(re.sub(r"\D", "", layer.kind) or 0) if re.search(r"\dd$", layer.kind) else 0

    def handles(self, *keys: str) -> None:
        """Refuse an argument given in the spec that the translation does not carry over."""
        for key in self.layer.args:
            if key not in keys and key not in IGNORED and key != "tie":
                raise self.refuse(f"has `{key}`, which paramcalc does not write in Keras",
                                  "export it with `--to pytorch`, or leave the argument out.", key)

    def refuse(self, what: str, fix: str, key: str | None = None) -> ExportError:
        return ExportError(f"layer `{self.layer.name}` ({self.layer.kind}) {what}",
                           self.layer.arg_locs.get(key, self.layer.loc) if key else self.layer.loc, fix)

    def spatial_in(self) -> list[int]:
        """The input's spatial sizes (channels first), which must be known numbers."""
        sizes = self.row.input_shape[2:]
        if not all(isinstance(s, int) for s in sizes):
            raise self.refuse("needs the input's size to be written exactly in Keras, which is free here",
                              "give the input dimensions values (--set H=224).")
        return [int(s) for s in sizes]  # type: ignore[arg-type]

    def per_axis(self, key: str) -> list[int]:
        value = self.args[key]
        return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)] * self.rank


def _conv(t: Torch) -> list[Step]:
    t.handles("out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode")
    if t.args["padding_mode"] != "zeros":
        raise t.refuse(f"pads with `{t.args['padding_mode']}`", "Keras's convolutions pad with zeros only: use "
                       "padding_mode: zeros to export it to Keras.", "padding_mode")
    args: dict[str, Any] = {"filters": t.args["out_channels"], "kernel_size": t.args["kernel_size"]}
    steps = []
    padding = t.args["padding"]
    if isinstance(padding, str):
        args["padding"] = padding  # PyTorch's "same" (stride 1) pads as Keras's: the odd pixel after
    elif any(t.per_axis("padding")):  # PyTorch pads both sides alike: explicit zeros, then a valid conv
        steps.append(Step(f"layers.ZeroPadding{t.rank}D", {"padding": t.per_axis("padding"), **FIRST}, "_pad"))
    for key, keras_key in (("stride", "strides"), ("dilation", "dilation_rate"), ("groups", "groups"),
                           ("bias", "use_bias")):
        if key in t.layer.args:
            args[keras_key] = t.args[key]
    return [*steps, Step(f"layers.Conv{t.rank}D", {**args, **FIRST})]


def _conv_transpose(t: Torch) -> list[Step]:
    t.handles("out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "bias")
    if t.args["groups"] != 1:
        raise t.refuse("is grouped", "Keras's Conv2DTranspose has no groups: export it with `--to pytorch`.", "groups")
    args: dict[str, Any] = {"filters": t.args["out_channels"], "kernel_size": t.args["kernel_size"]}
    for key, keras_key in (("stride", "strides"), ("output_padding", "output_padding"),
                           ("dilation", "dilation_rate"), ("bias", "use_bias")):
        if key in t.layer.args:
            args[keras_key] = t.args[key]
    steps = [Step(f"layers.Conv{t.rank}DTranspose", {**args, **FIRST})]
    if any(t.per_axis("padding")):  # PyTorch's padding takes rows off the full output: a crop after it
        steps.append(Step(f"layers.Cropping{t.rank}D", {"cropping": t.per_axis("padding"), **FIRST}, "_crop"))
    return steps


def _batch_norm(t: Torch) -> list[Step]:
    t.handles("eps", "momentum", "affine", "track_running_stats")
    if not t.args["track_running_stats"]:
        raise t.refuse("keeps no running statistics", "Keras's BatchNormalization always keeps moving statistics: "
                       "export it with `--to pytorch`.", "track_running_stats")
    if t.args["momentum"] is None:
        raise t.refuse("averages its statistics cumulatively (momentum: null)", "Keras's BatchNormalization keeps an "
                       "exponential average: give a momentum to export it to Keras.", "momentum")
    # PyTorch's momentum weighs the new batch, Keras's the running value; axis 1: the channels of (N, C, ...)
    args = {"axis": 1, "epsilon": t.args["eps"], "momentum": round(1 - t.args["momentum"], 12)}
    if not t.args["affine"]:
        args.update(center=False, scale=False)
    return [Step("layers.BatchNormalization", args)]


def _linear(t: Torch) -> list[Step]:
    t.handles("out_features", "bias")
    return [Step("layers.Dense", {"units": t.args["out_features"],
                                  **({"use_bias": t.args["bias"]} if "bias" in t.layer.args else {})})]


def check_tied_linear(layer: LayerSpec) -> None:
    bias = layer.args.get("bias", True) if layer.kind == "Linear" else layer.args.get("use_bias", True)
    if layer.args.get("tie") and layer.kind in ("Linear", "Dense") and bias:
        raise ExportError(f"layer `{layer.name}` ({layer.kind}) is tied to a table and has a bias", layer.loc,
                          "KerasHub's ReversibleEmbedding reads the table back without a bias: give bias: false to "
                          "export it to Keras.")


def normalized_axes(t: Torch) -> list[int]:
    shape = t.args["normalized_shape"]
    dims = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    if list(t.row.input_shape[len(t.row.input_shape) - len(dims):]) != dims:
        raise t.refuse("normalizes other than the last axes", "export it with `--to pytorch`.", "normalized_shape")
    return list(range(-len(dims), 0))


def _layer_norm(t: Torch) -> list[Step]:
    t.handles("normalized_shape", "eps", "elementwise_affine", "bias")
    axes = normalized_axes(t)
    args: dict[str, Any] = {"axis": axes[0] if len(axes) == 1 else axes, "epsilon": t.args["eps"]}
    if not t.args["elementwise_affine"]:
        args.update(center=False, scale=False)
    elif not t.args["bias"]:
        args["center"] = False
    return [Step("layers.LayerNormalization", args)]


def _layer_norm_2d(t: Torch) -> list[Step]:
    t.handles("normalized_shape", "eps", "elementwise_affine", "bias")
    if not (t.args["elementwise_affine"] and t.args["bias"]):
        raise t.refuse("has no affine weights or no bias", "export it with `--to pytorch`.")
    return [Step("layers.LayerNormalization", {"axis": 1, "epsilon": t.args["eps"]})]  # the channels of (N, C, H, W)


def _rms_norm(t: Torch) -> list[Step]:
    t.handles("normalized_shape", "eps", "elementwise_affine")
    axes = normalized_axes(t)
    if not t.args["elementwise_affine"] or len(axes) > 1:
        raise t.refuse("has no scale or normalizes several axes", "Keras's RMSNormalization scales one axis: export "
                       "it with `--to pytorch`.")
    eps = TORCH_FLOAT32_EPS if t.args["eps"] is None else t.args["eps"]  # PyTorch's None: float32's epsilon
    return [Step("layers.RMSNormalization", {"axis": -1, "epsilon": eps})]


def _activation(name: str) -> Callable[[Torch], list[Step]]:
    def write(t: Torch) -> list[Step]:
        t.handles()
        return [Step("layers.Activation", {"activation": name})]
    return write


def _gelu(t: Torch) -> list[Step]:
    t.handles("approximate")
    if t.args["approximate"] == "tanh":
        return [op("keras.ops.gelu({x}, approximate={approximate})", approximate=True)]
    return [Step("layers.Activation", {"activation": "gelu"})]  # Keras's gelu is exact (erf) unless approximate


def _relu6(t: Torch) -> list[Step]:
    t.handles()
    return [Step("layers.ReLU", {"max_value": 6.0})]


def _max_pool(t: Torch) -> list[Step]:
    t.handles("kernel_size", "stride", "padding", "ceil_mode", "dilation")
    if any(d != 1 for d in t.per_axis("dilation")):
        raise t.refuse("is dilated", "Keras's pooling has no dilation: export it with `--to pytorch`.", "dilation")
    before, after = window_padding(t)
    steps = []
    if any(before) or any(after):
        # PyTorch pads a max pool with -inf (a pad never wins); keras.ops.pad with -inf is that for any input,
        # where zeros would equal it only after a ReLU. The extra rows after are ceil_mode's last window.
        widths = [[0, 0], [0, 0], *([b, a] for b, a in zip(before, after))]
        steps.append(op("keras.ops.pad({x}, {pad_width}, constant_values=-float('inf'))", pad_width=widths))
    return [*steps, Step(f"layers.MaxPooling{t.rank}D", {**pool_args(t), **FIRST})]


def _avg_pool(t: Torch) -> list[Step]:
    t.handles("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    if t.args.get("divisor_override") is not None:
        raise t.refuse("has a divisor_override", "Keras's average pool divides by the window: export it with "
                       "`--to pytorch`.", "divisor_override")
    before, after = window_padding(t)
    if before != after:
        raise t.refuse("has a ceil_mode window that runs past the input, which PyTorch averages over fewer values",
                       "Keras has no such window: export it with `--to pytorch`, or use ceil_mode: false.", "ceil_mode")
    steps = []
    if any(before):
        if not t.args["count_include_pad"]:
            raise t.refuse("leaves its padding out of the average (count_include_pad: false)", "Keras's padding "
                           "'same' does, but pads differently: export it with `--to pytorch`.", "count_include_pad")
        # count_include_pad: PyTorch averages the zero padding in: explicit zeros, then a valid pool
        steps.append(Step(f"layers.ZeroPadding{t.rank}D", {"padding": before, **FIRST}, "_pad"))
    return [*steps, Step(f"layers.AveragePooling{t.rank}D", {**pool_args(t), **FIRST})]


def pool_args(t: Torch) -> dict[str, Any]:
    stride = t.args["stride"]
    return {"pool_size": t.args["kernel_size"], "strides": t.args["kernel_size"] if stride is None else stride}


def window_padding(t: Torch) -> tuple[list[int], list[int]]:
    """PyTorch's padding on each side; after it, what ceil_mode's last window adds (it starts in the input)."""
    pads = t.per_axis("padding")
    if not t.args["ceil_mode"]:
        return pads, pads
    kernel, stride = t.per_axis("kernel_size"), t.per_axis("stride" if t.args["stride"] is not None else "kernel_size")
    after = []
    for size, k, s, p in zip(t.spatial_in(), kernel, stride, pads):
        out = -(-(size + 2 * p - k) // s) + 1
        if (out - 1) * s >= size + p:  # PyTorch drops a last window that starts in the padding
            out -= 1
        after.append(p + max(0, (out - 1) * s + k - (size + 2 * p)))
    return pads, after


def _adaptive_avg_pool(t: Torch) -> list[Step]:
    t.handles("output_size")
    sizes = t.args["output_size"]
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes] * t.rank
    if all(s == 1 for s in sizes):
        return [Step(f"layers.GlobalAveragePooling{t.rank}D", {"keepdims": True, **FIRST})]
    spatial = t.spatial_in()
    windows = [size if out is None else size // out for size, out in zip(spatial, sizes)]
    if any(out is not None and size % out for size, out in zip(spatial, sizes)):
        raise t.refuse(f"pools {spatial} to {sizes}, whose windows PyTorch sizes unevenly", "Keras's pooling has one "
                       "window size: export it with `--to pytorch`, or give an output size that divides the input.",
                       "output_size")
    # where the output size divides the input, PyTorch's adaptive windows are one size, side by side
    return [Step(f"layers.AveragePooling{t.rank}D", {"pool_size": tuple(windows), "strides": tuple(windows),
                                                     **FIRST})]


def _multihead_attention(t: Torch) -> list[Step]:
    t.handles("embed_dim", "num_heads", "dropout", "bias", "kdim", "vdim")
    embed, heads = t.args["embed_dim"], t.args["num_heads"]
    if any(t.args[k] not in (None, embed) for k in ("kdim", "vdim")):
        raise t.refuse("reads keys or values of another width", "export it with `--to pytorch`.", "kdim")
    # Keras's MultiHeadAttention: q, k, v and output projections of (E, heads, E / heads): 4 E^2 + 4 E, as PyTorch
    args: dict[str, Any] = {"num_heads": heads, "key_dim": embed // heads}
    if "bias" in t.layer.args:
        args["use_bias"] = t.args["bias"]
    if "dropout" in t.layer.args:
        args["dropout"] = t.args["dropout"]
    return [Step("layers.MultiHeadAttention", args)]


def _chunk(t: Torch) -> list[Step]:
    t.handles("chunks", "dim")
    size = t.row.input_shape[t.args["dim"]]
    if not isinstance(size, int) or size % t.args["chunks"]:
        raise t.refuse("splits an axis into unequal chunks", "keras.ops.split splits evenly: export it with "
                       "`--to pytorch`.", "chunks")
    return [op("keras.ops.split({x}, {chunks}, axis={dim})", chunks=t.args["chunks"], dim=t.args["dim"])]


def _mean(t: Torch) -> list[Step]:
    t.handles("dim", "keepdim")
    dims = t.args["dim"]
    axes = Source(repr(tuple(dims)) if isinstance(dims, (list, tuple)) else repr(dims))
    return [op("keras.ops.mean({x}, axis={axis}, keepdims={keepdims})", axis=axes,
               keepdims=bool(t.args.get("keepdim", False)))]


def _select_token(t: Torch) -> list[Step]:
    t.handles("index")
    return [op("{x}[:, {index}]", index=t.args["index"])]


def _slice(t: Torch) -> list[Step]:
    t.handles("dim", "start", "end", "step")
    rank = len(t.row.input_shape)
    dims = t.args["dim"] if isinstance(t.args["dim"], (list, tuple)) else [t.args["dim"]]
    axes = {d % rank for d in dims}
    start, end, step = (t.args[k] for k in ("start", "end", "step"))
    cut = ("" if start is None else str(start)) + ":" + ("" if end is None else str(end)) + (
        "" if step == 1 else f":{step}")
    index = ", ".join(cut if axis in axes else ":" for axis in range(max(axes) + 1))
    return [op("{x}[{index}]", index=Source(index))]


def _pad(t: Torch) -> list[Step]:
    t.handles("pad", "mode", "value")
    pad = list(t.args["pad"])
    if any(p < 0 for p in pad):
        raise t.refuse("crops (a negative pad)", "export it with `--to pytorch`.", "pad")
    rank = len(t.row.input_shape)
    widths = [[0, 0] for _ in range(rank)]
    for k in range(len(pad) // 2):  # F.pad lists (before, after) from the last axis backwards
        widths[rank - 1 - k] = [pad[2 * k], pad[2 * k + 1]]
    value = t.args["value"] or 0
    return [op("keras.ops.pad({x}, {pad_width}, constant_values={value})", pad_width=widths, value=value)]


def _channel_shuffle(t: Torch) -> list[Step]:
    t.handles("groups")
    shape = t.row.input_shape[1:]
    if not all(isinstance(s, int) for s in shape):
        raise t.refuse("needs the input's size, which is free here", "give the input dimensions values.")
    channels, groups, rest = int(shape[0]), t.args["groups"], tuple(shape[1:])  # type: ignore[arg-type]
    # (C, H, W) -> (groups, C / groups, H, W) -> swap the two -> (C, H, W): PyTorch's ChannelShuffle
    return [Step("layers.Reshape", {"target_shape": (groups, channels // groups, *rest)}, "_split"),
            Step("layers.Permute", {"dims": (2, 1, *range(3, len(rest) + 3))}, "_swap"),
            Step("layers.Reshape", {"target_shape": tuple(shape)})]


def _local_response_norm(t: Torch) -> list[Step]:
    t.handles("size", "alpha", "beta", "k")
    return [op("local_response_norm({x}, size={size}, alpha={alpha}, beta={beta}, k={k})",
               **{key: t.args[key] for key in ("size", "alpha", "beta", "k")})]


def partial_flatten(t: Torch) -> list[Step]:
    t.handles("start_dim", "end_dim")
    if (t.args["start_dim"], t.args["end_dim"]) == (1, -1):
        return [Step("layers.Flatten", {})]  # no data_format: PyTorch flattens in memory order, channels first
    shape = t.row.output_shape[1:]
    if not all(isinstance(d, int) for d in shape):
        raise t.refuse("flattens some axes of an input whose size is free here", "give the input dimensions values "
                       "(--set H=224) to export it to Keras.")
    return [Step("layers.Reshape", {"target_shape": tuple(shape)})]  # torch.flatten(x, start, end): a reshape


def _parameter(t: Torch) -> list[Step]:
    t.handles("shape", "requires_grad", "trainable")
    args: dict[str, Any] = {"shape": list(t.args["shape"])}
    if not (t.args["requires_grad"] and t.args["trainable"]):
        args["trainable"] = False
    return [Step("Parameter", args)]


LAYER_KEYS = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "norm_first", "bias")


def transformer_args(t: Torch, *keys: str) -> dict[str, Any]:
    t.handles(*keys)
    if t.args["activation"] not in ("relu", "gelu"):
        raise t.refuse(f"has activation `{t.args['activation']}`", "PyTorch's transformer layers take relu or gelu "
                       "(exact, as Keras's gelu): use one of them to export it to Keras.", "activation")
    return {key: t.args[key] for key in keys}


def _transformer(t: Torch) -> list[Step]:
    keys = ("num_encoder_layers", "num_decoder_layers", *LAYER_KEYS)
    args = transformer_args(t, *keys)
    return [op("torch_transformer({x}, " + ", ".join(f"{key}={{{key}}}" for key in LAYER_KEYS[:2] + keys[:2]
                                                       + LAYER_KEYS[2:]) + ", name={name})", **args)]


def _transformer_layer(t: Torch) -> list[Step]:
    args = transformer_args(t, *LAYER_KEYS)
    memory = "" if t.layer.kind == "TransformerDecoderLayer" else "None, "  # the decoder's inputs: tgt, memory
    return [op("torch_transformer_layer({x}, " + memory + ", ".join(f"{key}={{{key}}}" for key in LAYER_KEYS)
               + ", name={name})", **args)]


def _shifted_window_attention(t: Torch) -> list[Step]:
    t.handles("dim", "window_size", "shift_size", "num_heads", "qkv_bias", "proj_bias", "attention_dropout", "dropout")
    if not all(isinstance(d, int) for d in t.row.input_shape[1:3]):
        raise t.refuse("needs the map's size, which is free here", "give the input dimensions values (--set res=224).")
    pair = lambda v: list(v) if isinstance(v, (list, tuple)) else [v, v]  # noqa: E731 - torchvision takes [h, w]
    args = {"dim": t.args["dim"], "window_size": pair(t.args["window_size"]), "shift_size": pair(t.args["shift_size"]),
            "num_heads": t.args["num_heads"]}
    args.update({key: t.args[key] for key in ("qkv_bias", "proj_bias") if key in t.layer.args})
    return [Step("ShiftedWindowAttention", args)]  # its dropouts are the identity at inference: left out


def _patch_merging(t: Torch) -> list[Step]:
    t.handles("dim")
    return [Step("PatchMerging", {"dim": t.args["dim"]})]


def _identity(t: Torch) -> list[Step]:
    t.handles()
    return [Step("layers.Identity", {})]


LRN = '''def local_response_norm(x, size, alpha, beta, k):
    """PyTorch's LocalResponseNorm on (N, C, ...), which Keras has no layer for: x over (k + alpha * the mean of
    x^2 over `size` neighbouring channels, zeros past the edges)^beta."""
    squares = keras.ops.expand_dims(keras.ops.square(x), -1)  # the channels as a spatial axis of a 3D pool
    widths = [[0, 0], [size // 2, (size - 1) // 2]] + [[0, 0]] * (len(x.shape) - 1)
    mean = keras.ops.average_pool(keras.ops.pad(squares, widths), (size,) + (1,) * (len(x.shape) - 2), strides=1)
    return x / (k + alpha * keras.ops.squeeze(mean, -1)) ** beta


'''
TRANSFORMER_LAYER = '''def torch_transformer_layer(x, memory, d_model, nhead, dim_feedforward, dropout,
                            activation, layer_norm_eps, norm_first, bias, name):
    """PyTorch's TransformerEncoderLayer (memory None) or TransformerDecoderLayer (no masks) in Keras layers under
    PyTorch's names: self-attention, cross-attention on the memory (decoder), the feed-forward pair, each added
    back to its input with a LayerNorm after the sum (PyTorch's default) or, norm_first, before the sublayer."""
    def attention(sublayer, query, source):
        found = layers.MultiHeadAttention(num_heads=nhead, key_dim=d_model // nhead, dropout=dropout, use_bias=bias,
                                          name=f"{name}.{sublayer}")(query, source)  # 4 E^2 + 4 E, as PyTorch's
        return layers.Dropout(dropout, name=f"{name}.{sublayer}_dropout")(found)

    def feed_forward(h):
        h = layers.Dense(dim_feedforward, activation=activation, use_bias=bias, name=f"{name}.linear1")(h)
        h = layers.Dense(d_model, use_bias=bias, name=f"{name}.linear2")(
            layers.Dropout(dropout, name=f"{name}.dropout")(h))
        return layers.Dropout(dropout, name=f"{name}.linear2_dropout")(h)

    sublayers = [lambda h: attention("self_attn", h, h)]
    if memory is not None:
        sublayers.append(lambda h: attention("multihead_attn", h, memory))
    sublayers.append(feed_forward)
    for number, sublayer in enumerate(sublayers, 1):
        norm = layers.LayerNormalization(epsilon=layer_norm_eps, center=bias, name=f"{name}.norm{number}")
        if norm_first:
            x = layers.Add(name=f"{name}.add{number}")([x, sublayer(norm(x))])
        else:
            x = norm(layers.Add(name=f"{name}.add{number}")([x, sublayer(x)]))
    return x


'''
TRANSFORMER = '''def torch_transformer(src, tgt, d_model, nhead, num_encoder_layers, num_decoder_layers,
                      dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias, name):
    """PyTorch's nn.Transformer (no masks) in Keras layers: the encoder's layers on src and its final LayerNorm,
    then the decoder's layers on tgt, each reading the encoder's output, and the decoder's final LayerNorm."""
    same = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                layer_norm_eps=layer_norm_eps, norm_first=norm_first, bias=bias)
    memory = src
    for number in range(num_encoder_layers):
        memory = torch_transformer_layer(memory, None, **same, name=f"{name}.encoder.layers.{number}")
    memory = layers.LayerNormalization(epsilon=layer_norm_eps, center=bias, name=f"{name}.encoder.norm")(memory)
    out = tgt
    for number in range(num_decoder_layers):
        out = torch_transformer_layer(out, memory, **same, name=f"{name}.decoder.layers.{number}")
    return layers.LayerNormalization(epsilon=layer_norm_eps, center=bias, name=f"{name}.decoder.norm")(out)


'''
MOE = '''def mixture_of_experts(x, expert, num_experts, top_k, name):
    """Mixtral's sparse MoE block in Keras layers: a bias-free router (`gate`) scores the experts for each token, and
    the softmax of the top_k scores weighs those experts' outputs (Mixtral's softmax over all experts, renormalized
    over the top_k, is this). Every expert runs on every token, weighted 0 where it is not chosen: the output of
    running each expert on its own tokens only, and its num_experts experts' weights."""
    scores = layers.Dense(num_experts, use_bias=False, name=f"{name}.gate")(x)
    weights, chosen = keras.ops.top_k(scores, top_k)
    weights = keras.ops.softmax(weights, axis=-1)
    out = None
    for number in range(num_experts):
        picked = keras.ops.cast(keras.ops.equal(chosen, number), weights.dtype)
        weight = keras.ops.sum(weights * picked, axis=-1, keepdims=True)
        term = weight * expert(x, name=f"{name}.experts.{number}")
        out = term if out is None else out + term
    return out


'''
UNREAD = '''UNREAD = []  # layers no model output reads (T5's position bias): build_model keeps them on the model


'''
HELPERS = {"local_response_norm": LRN, "torch_transformer_layer": TRANSFORMER_LAYER, "torch_transformer": TRANSFORMER}
NEEDS = {"torch_transformer": ("torch_transformer_layer",)}  # helpers a helper calls

# Layers Keras has no class for, written as classes of the generated file when the spec uses them; their
# weights are made in build(), so that count_params() sees them.
CLASSES = {
    "ShiftedWindowAttention": '''class ShiftedWindowAttention(layers.Layer):
    """torchvision's Swin (V1) shifted-window attention on (batch, H, W, C): self-attention inside windows of
    window_size (the input padded to whole windows), shifted by shift_size (the map rolled, and the pairs a roll
    brings together from apart masked), with a learned bias per head for each relative position in a window.
    Weights as torchvision's: qkv, proj and relative_position_bias_table ((2 wh - 1) (2 ww - 1) x heads)."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.window, self.shift, self.num_heads = dim, list(window_size), list(shift_size), num_heads
        self.qkv = layers.Dense(3 * dim, use_bias=qkv_bias, name="qkv")
        self.proj = layers.Dense(dim, use_bias=proj_bias, name="proj")
        wh, ww = self.window
        cells = [(i, j) for i in range(wh) for j in range(ww)]
        # the table's row for each pair of a window's positions: their offset, (2 wh - 1) x (2 ww - 1) of them
        self.index = [(a - c + wh - 1) * (2 * ww - 1) + b - d + ww - 1 for a, b in cells for c, d in cells]

    def build(self, input_shape):
        wh, ww = self.window
        self.relative_position_bias_table = self.add_weight(
            shape=((2 * wh - 1) * (2 * ww - 1), self.num_heads), initializer="zeros",
            name="relative_position_bias_table")
        self.qkv.build((None, self.dim))
        self.proj.build((None, self.dim))

    def call(self, x):
        ops = keras.ops
        height, width, dim, heads = x.shape[1], x.shape[2], self.dim, self.num_heads
        (wh, ww), (sh, sw) = self.window, self.shift
        x = ops.pad(x, [[0, 0], [0, (wh - height % wh) % wh], [0, (ww - width % ww) % ww], [0, 0]])
        ph, pw = x.shape[1], x.shape[2]
        sh, sw = (0 if wh >= ph else sh), (0 if ww >= pw else sw)  # a window as large as the map: no shift
        if sh or sw:
            x = ops.roll(x, shift=(-sh, -sw), axis=(1, 2))
        cells = wh * ww
        windows = ops.reshape(ops.transpose(ops.reshape(x, (-1, ph // wh, wh, pw // ww, ww, dim)),
                                            (0, 1, 3, 2, 4, 5)), (-1, cells, dim))
        qkv = ops.transpose(ops.reshape(self.qkv(windows), (-1, cells, 3, heads, dim // heads)), (2, 0, 3, 1, 4))
        q, k, v = qkv[0] * (dim // heads) ** -0.5, qkv[1], qkv[2]
        scores = ops.matmul(q, ops.swapaxes(k, -1, -2))
        bias = ops.take(self.relative_position_bias_table, ops.convert_to_tensor(self.index), axis=0)
        scores = scores + ops.transpose(ops.reshape(bias, (cells, cells, heads)), (2, 0, 1))[None]
        if sh or sw:
            scores = ops.reshape(ops.reshape(scores, (-1, (ph // wh) * (pw // ww), heads, cells, cells))
                                 + self.shift_mask(ph, pw, sh, sw)[None, :, None], (-1, heads, cells, cells))
        out = ops.matmul(ops.softmax(scores, axis=-1), v)
        out = self.proj(ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (-1, cells, dim)))
        out = ops.reshape(ops.transpose(ops.reshape(out, (-1, ph // wh, pw // ww, wh, ww, dim)), (0, 1, 3, 2, 4, 5)),
                          (-1, ph, pw, dim))
        if sh or sw:
            out = ops.roll(out, shift=(sh, sw), axis=(1, 2))
        return out[:, :height, :width, :]

    def shift_mask(self, ph, pw, sh, sw):
        """-100 (as torchvision) where a window's two positions came from different regions of the rolled map."""
        (wh, ww) = self.window
        rows = [0 if i < ph - wh else 1 if i < ph - sh else 2 for i in range(ph)]
        cols = [0 if j < pw - ww else 1 if j < pw - sw else 2 for j in range(pw)]
        masks = []
        for top in range(0, ph, wh):
            for left in range(0, pw, ww):
                region = [3 * rows[top + i] + cols[left + j] for i in range(wh) for j in range(ww)]
                masks.append([[0.0 if a == b else -100.0 for b in region] for a in region])
        return keras.ops.convert_to_tensor(masks)


''',
    "PatchMerging": '''class PatchMerging(layers.Layer):
    """torchvision's Swin (V1) patch merging on (batch, H, W, C): each 2 x 2 patch's four vectors side by side
    (the map padded to even sizes), a LayerNorm of 4 C and a bias-free Linear to 2 C (`norm`, `reduction`)."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.norm = layers.LayerNormalization(epsilon=1e-5, name="norm")
        self.reduction = layers.Dense(2 * dim, use_bias=False, name="reduction")

    def build(self, input_shape):
        self.norm.build((None, 4 * self.dim))
        self.reduction.build((None, 4 * self.dim))

    def call(self, x):
        x = keras.ops.pad(x, [[0, 0], [0, x.shape[1] % 2], [0, x.shape[2] % 2], [0, 0]])
        parts = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
        return self.reduction(self.norm(keras.ops.concatenate(parts, axis=-1)))


''',
    "RelativePositionBias": '''class RelativePositionBias(layers.Layer):
    """T5's relative position bias: a learned table (`relative_attention_bias`) of num_buckets x num_heads, looked
    up by the bucket of each key's distance from each query; gives (batch, heads, Tq, Tk), added to the scores.
    The buckets: half of them exact distances, the rest logarithmically wider up to max_distance; bidirectional
    keeps separate buckets for keys before and after the query, otherwise only keys before count."""

    def __init__(self, num_heads, num_buckets=32, max_distance=128, bidirectional=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.num_buckets = num_heads, num_buckets
        self.max_distance, self.bidirectional = max_distance, bidirectional

    def build(self, *input_shapes):
        self.table = self.add_weight(shape=(self.num_buckets, self.num_heads), initializer="zeros",
                                     name="relative_attention_bias")

    def bucket(self, distance):
        buckets, offset = self.num_buckets, 0
        if self.bidirectional:
            buckets //= 2
            offset = keras.ops.cast(distance > 0, "int32") * buckets
            distance = keras.ops.abs(distance)
        else:
            distance = keras.ops.maximum(-distance, 0)
        exact = buckets // 2
        spread = keras.ops.log(keras.ops.maximum(keras.ops.cast(distance, "float32"), 1.0) / exact)
        wide = exact + keras.ops.cast(spread / math.log(self.max_distance / exact) * (buckets - exact), "int32")
        return offset + keras.ops.where(distance < exact, distance, keras.ops.minimum(wide, buckets - 1))

    def call(self, query, key=None):
        key = query if key is None else key
        distance = keras.ops.arange(key.shape[1])[None, :] - keras.ops.arange(query.shape[1])[:, None]
        bias = keras.ops.transpose(keras.ops.take(self.table, self.bucket(distance), axis=0), (2, 0, 1))
        return keras.ops.broadcast_to(bias[None], (keras.ops.shape(query)[0], *bias.shape))


''',
    "ClassToken": '''class ClassToken(layers.Layer):
    """ViT's learned class token(s), put in front of the sequence: (T, D) -> (T + num_tokens, D); D weights each."""

    def __init__(self, num_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = num_tokens

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, self.num_tokens, input_shape[-1]), initializer="zeros", name="token")

    def call(self, x):
        batch, width = keras.ops.shape(x)[0], keras.ops.shape(x)[-1]
        tokens = keras.ops.broadcast_to(keras.ops.cast(self.token, x.dtype), (batch, self.num_tokens, width))
        return keras.ops.concatenate([tokens, x], axis=1)


''',
    "Parameter": '''class Parameter(layers.Layer):
    """A learned tensor of `shape` (PyTorch's nn.Parameter, e.g. a layer scale of (C, 1, 1)), given to the layers
    that read it with the batch in front; of the tensor it is called on it reads only the batch size."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.weight_shape = tuple(shape)

    def build(self, input_shape):
        self.weight = self.add_weight(shape=self.weight_shape, initializer="ones", name="weight")

    def call(self, x):
        return keras.ops.broadcast_to(self.weight, (keras.ops.shape(x)[0], *self.weight_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.weight_shape)


''',
}

TORCH: dict[str, Callable[[Torch], list[Step]]] = {
    **{f"Conv{r}d": _conv for r in (1, 2, 3)},
    **{f"ConvTranspose{r}d": _conv_transpose for r in (1, 2, 3)},
    **{f"BatchNorm{r}d": _batch_norm for r in (1, 2, 3)},
    **{f"MaxPool{r}d": _max_pool for r in (1, 2, 3)},
    **{f"AvgPool{r}d": _avg_pool for r in (1, 2, 3)},
    **{f"AdaptiveAvgPool{r}d": _adaptive_avg_pool for r in (1, 2, 3)},
    "Linear": _linear, "LayerNorm": _layer_norm, "LayerNorm2d": _layer_norm_2d, "RMSNorm": _rms_norm,
    "GELU": _gelu, "ReLU6": _relu6, "MultiheadAttention": _multihead_attention,
    **{kind: _activation(name) for kind, name in (("SiLU", "silu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"),
                                                  ("Hardswish", "hard_swish"), ("Hardsigmoid", "hard_sigmoid"),
                                                  ("Mish", "mish"))},
    "Chunk": _chunk, "Mean": _mean, "SelectToken": _select_token, "Slice": _slice, "Pad": _pad,
    "ChannelShuffle": _channel_shuffle, "LocalResponseNorm": _local_response_norm, "Identity": _identity,
    "Parameter": _parameter, "Transformer": _transformer, "TransformerEncoderLayer": _transformer_layer,
    "TransformerDecoderLayer": _transformer_layer, "ShiftedWindowAttention": _shifted_window_attention,
    "PatchMerging": _patch_merging,
}
