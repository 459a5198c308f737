"""Layer kinds by name. An unknown name is an error with suggestions, never a silent zero.

Each family module (conv, pooling, ...) registers its kinds when imported. A spec imports only the
families it uses, found through FAMILIES, so that start-up does not pay for a hundred kinds
(tests/test_layer_kinds.py checks that FAMILIES names every registered kind, in its module)."""

from __future__ import annotations

import importlib
from typing import TypeVar

from paramcalc.errors import Location, UnknownLayerError
from paramcalc.layers.base import LayerKind
from paramcalc.names import REFUSED

REGISTRY: dict[str, type[LayerKind]] = {}

# Family module -> the kinds it defines.
FAMILIES: dict[str, tuple[str, ...]] = {
    "activation": (
        "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "Activation", "SpatialDropout1D",
        "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        "Identity", "ReLU6", "Sigmoid", "Tanh", "SiLU", "Hardswish", "Hardsigmoid", "Mish", "GELU",
        "LogSoftmax", "Dropout1d", "Dropout2d", "Dropout3d", "PReLU",
        "Hardtanh", "Softplus", "StochasticDepth", "DropPath",
    ),
    "attention": ("Embedding", "EmbeddingBag", "MultiHeadAttention"),
    "conv": (
        "Conv1D", "Conv1DTranspose", "Conv1d", "ConvTranspose1d", "Conv2D", "Conv2DTranspose", "Conv2d",
        "ConvTranspose2d", "Conv3D", "Conv3DTranspose", "Conv3d", "ConvTranspose3d", "DepthwiseConv1D",
        "SeparableConv1D", "DepthwiseConv2D", "SeparableConv2D",
    ),
    "dense": ("Dense", "Linear"),
    "embedding_extra": (
        "PositionEmbedding", "TokenAndPositionEmbedding", "ReversibleEmbedding", "RotaryEmbedding", "ClassToken",
        "RelativePositionBias",
    ),
    "keras_attention": ("GroupedQueryAttention", "Attention", "AdditiveAttention"),
    "merge": ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"),
    "norm": (
        "RMSNormalization",
        "BatchNormalization", "LayerNormalization", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm",
        "GroupNorm", "LocalResponseNorm", "RMSNorm",
        "LayerNorm2d", "LayerScale",
    ),
    "pooling": (
        "MaxPooling1D", "AveragePooling1D", "MaxPool1d", "AvgPool1d", "GlobalAveragePooling1D",
        "GlobalMaxPooling1D", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "MaxPooling2D", "AveragePooling2D",
        "MaxPool2d", "AvgPool2d", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "AdaptiveAvgPool2d",
        "AdaptiveMaxPool2d", "MaxPooling3D", "AveragePooling3D", "MaxPool3d", "AvgPool3d",
        "GlobalAveragePooling3D", "GlobalMaxPooling3D", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d",
    ),
    "transformer": (
        "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer", "TransformerEncoder",
        "TransformerDecoder",
    ),
    "tensor": ("Split", "Chunk", "Unbind", "Parameter", "Mean", "Select", "SelectToken", "Slice", "Pad", "MatMul"),
    "recurrent": ("SimpleRNN", "LSTM", "GRU", "RNN", "RNNCell", "LSTMCell", "GRUCell", "ConvLSTM1D", "ConvLSTM2D",
                  "ConvLSTM3D"),
    "reshape": (
        "Flatten", "Reshape", "Upsample", "ZeroPadding1D", "Cropping1D", "UpSampling1D", "ZeroPad1d",
        "ZeroPadding2D", "Cropping2D", "UpSampling2D", "ZeroPad2d", "ZeroPadding3D", "Cropping3D",
        "UpSampling3D", "ZeroPad3d",
        "Permute", "RepeatVector", "Unflatten", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle",
    ),
    "preprocessing": (
        "Rescaling", "Normalization", "CenterCrop", "RandomCrop", "Resizing", "RandomFlip", "RandomRotation",
        "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
    ),
    "wrappers": ("TimeDistributed", "Bidirectional"),
    "moe": ("MixtureOfExperts",),
    "swin": ("ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging", "PatchMergingV2"),
}
# Kind -> its family, in registration order (which decides between Conv2D and Conv2d in hints).
FAMILY_OF = {kind: family for family, kinds in FAMILIES.items() for kind in kinds}
K = TypeVar("K", bound=type[LayerKind])

# ---- names people type -----------------------------------------------------------------------------
# The other names Keras 3 gives its own classes (keras.layers.MaxPool2D is MaxPooling2D): the same
# layer, Keras's semantics, shown under the class name as Keras shows it (tests/fixtures/names.json).
KERAS_ALIASES = {
    **{f"MaxPool{r}D": f"MaxPooling{r}D" for r in (1, 2, 3)},
    **{f"AvgPool{r}D": f"AveragePooling{r}D" for r in (1, 2, 3)},
    **{f"GlobalAvgPool{r}D": f"GlobalAveragePooling{r}D" for r in (1, 2, 3)},
    **{f"GlobalMaxPool{r}D": f"GlobalMaxPooling{r}D" for r in (1, 2, 3)},
    **{f"Convolution{r}D": f"Conv{r}D" for r in (1, 2, 3)},
    **{f"Convolution{r}DTranspose": f"Conv{r}DTranspose" for r in (1, 2, 3)},
    **{f"SeparableConvolution{r}D": f"SeparableConv{r}D" for r in (1, 2)},
    "GroupQueryAttention": "GroupedQueryAttention",  # the name keras.layers exports the class under
}
# Module prefixes as code writes them (`nn.Conv2d`, `keras.layers.Conv2D`): the framework they name.
PREFIXES = (("torch.nn.", "torch"), ("nn.", "torch"), ("tf.keras.layers.", "keras"), ("keras.layers.", "keras"),
            ("layers.", "keras"))
FRAMEWORK_NAMES = {"keras": "Keras", "torch": "PyTorch"}
# Class names both frameworks have, which take either framework's arguments here.
SHARED_NAMES = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "Flatten", "Identity", "Embedding")
# The other framework's layer for the same job, for hints about the other framework's arguments.
COUNTERPARTS = {
    "Dense": "Linear", "LayerNormalization": "LayerNorm", "BatchNormalization": "BatchNorm2d",
    **{f"Conv{r}D": f"Conv{r}d" for r in (1, 2, 3)},
    **{f"Conv{r}DTranspose": f"ConvTranspose{r}d" for r in (1, 2, 3)},
    **{f"MaxPooling{r}D": f"MaxPool{r}d" for r in (1, 2, 3)},
    **{f"AveragePooling{r}D": f"AvgPool{r}d" for r in (1, 2, 3)},
    **{f"GlobalAveragePooling{r}D": f"AdaptiveAvgPool{r}d" for r in (1, 2, 3)},
    **{f"GlobalMaxPooling{r}D": f"AdaptiveMaxPool{r}d" for r in (1, 2, 3)},
    **{f"ZeroPadding{r}D": f"ZeroPad{r}d" for r in (1, 2, 3)},
    **{f"SpatialDropout{r}D": f"Dropout{r}d" for r in (1, 2, 3)},
    "UpSampling2D": "Upsample",
}
COUNTERPARTS.update({torch: keras for keras, torch in list(COUNTERPARTS.items()) if torch not in ("BatchNorm2d",)})
COUNTERPARTS.update({f"BatchNorm{r}d": "BatchNormalization" for r in (1, 2, 3)})
# The same argument under each framework's name (Keras, PyTorch).
ARGUMENT_PAIRS = (("filters", "out_channels"), ("strides", "stride"), ("dilation_rate", "dilation"),
                  ("use_bias", "bias"), ("units", "out_features"), ("pool_size", "kernel_size"), ("epsilon", "eps"),
                  ("rate", "p"), ("size", "scale_factor"), ("interpolation", "mode"), ("axis", "dim"),
                  ("input_dim", "num_embeddings"), ("output_dim", "embedding_dim"), ("cropping", "padding"))
# PyTorch arguments that Keras infers from the layer's input.
INFERRED = ("in_channels", "in_features", "num_features", "normalized_shape")


def split_prefix(kind: str) -> tuple[str, str | None]:
    """`nn.Conv2d` -> (`Conv2d`, "torch"); a name without a module prefix -> (name, None)."""
    for prefix, framework in PREFIXES:
        if kind.startswith(prefix):
            return kind[len(prefix):], framework
    return kind, None


def canonical(kind: str) -> str:
    """The registered name a spelling stands for: Keras's own aliases (`MaxPool2D`) and module
    prefixes of the right framework (`nn.Conv2d`, `keras.layers.Conv2D`). Any other name is
    returned as written, for `lookup` to explain."""
    if kind in FAMILY_OF:
        return kind
    name, framework = split_prefix(kind)
    if framework != "torch":
        name = KERAS_ALIASES.get(name, name)
    if name not in FAMILY_OF or (framework is not None and framework_of(name) not in (framework, None)):
        return kind
    return name


def framework_of(name: str) -> str | None:
    """Whose layer a registered name is (None: both frameworks have it)."""
    return None if name in SHARED_NAMES else lookup(name, Location("")).framework


def spelling_framework(name: str) -> str | None:
    """`framework_of` for a registered name or a Keras alias."""
    return framework_of(KERAS_ALIASES.get(name, name))


def unknown_kind_hint(kind: str) -> str:
    """Why a kind is unknown and what to write: the other framework's prefix on a layer, or the
    closest names, each marked with its framework when it is not the one the name was typed in."""
    from paramcalc.suggest import closest_spellings

    name, prefixed = split_prefix(kind)
    known = KERAS_ALIASES.get(name, name) if prefixed != "torch" else name
    if prefixed is not None and known in FAMILY_OF:  # the other framework's prefix
        owner = framework_of(known) or prefixed
        hint = f"`{known}` is {FRAMEWORK_NAMES[owner]}'s layer, not {FRAMEWORK_NAMES[prefixed]}'s"
        counterpart = COUNTERPARTS.get(known)
        if counterpart:
            hint += f"; {FRAMEWORK_NAMES[prefixed]}'s is `{counterpart}`, whose arguments and rules differ"
        return hint + f": write `{counterpart or known}`" + (f" or `{known}`." if counterpart else ".")
    typed_in = prefixed or typed_framework(name)
    candidates = [n for n in [*FAMILY_OF, *KERAS_ALIASES]
                  if prefixed is None or spelling_framework(n) in (prefixed, None)]
    if typed_in is not None:  # of two names in different cases, the one of the framework it is typed like first
        candidates.sort(key=lambda n: spelling_framework(n) not in (typed_in, None))
    found = closest_spellings(name, candidates)
    if not found:
        return "run `paramcalc layers` to list the supported layer kinds."
    typed_in = typed_in or spelling_framework(found[0])
    same = [f"`{n}`" for n in found if spelling_framework(n) in (typed_in, None)]
    other = [f"`{n}`" for n in found if spelling_framework(n) not in (typed_in, None)]
    text = " or ".join(same)
    if other:
        theirs = "Keras" if typed_in == "torch" else "PyTorch"
        text += (", or " if same else "") + f"{theirs}'s {' or '.join(other)}, whose arguments and rules differ"
    return f"did you mean {text}?"


def typed_framework(name: str) -> str | None:
    """The framework a name is spelled like: `...2d` is PyTorch's, `...2D` Keras's."""
    if name[-2:] in ("1d", "2d", "3d"):
        return "torch"
    if name[-2:] in ("1D", "2D", "3D"):
        return "keras"
    return None


def unknown_argument_hint(kind: type[LayerKind], key: str) -> str:
    """For an argument the kind does not take but its counterpart in the other framework does:
    '`out_channels` is PyTorch's name; Keras calls it `filters`, or write `Conv2d` ...'. Else ''."""
    counterpart_name = COUNTERPARTS.get(kind.name)
    if counterpart_name is None:
        return ""
    counterpart = lookup(counterpart_name, Location(""))
    if key not in counterpart.known_args():
        return ""
    mine, theirs = FRAMEWORK_NAMES[kind.framework], FRAMEWORK_NAMES[counterpart.framework]
    same = [a for a, b in ARGUMENT_PAIRS if b == key] + [b for a, b in ARGUMENT_PAIRS if a == key]
    equivalent = next((name for name in same if name in kind.known_args()), None)
    switch = f"`{counterpart_name}` ({theirs}'s layer, whose rules differ)"
    if equivalent:
        return f"`{key}` is {theirs}'s name; {mine} calls it `{equivalent}`, or write {switch}."
    if key in INFERRED:
        return f"`{key}` is {theirs}'s; {mine} infers it from the layer's input: remove it, or write {switch}."
    return f"`{key}` is an argument of {theirs}'s `{counterpart_name}`, not of {mine}'s `{kind.name}`: remove it, " \
           f"or write {switch}."


def register(cls: K) -> K:
    if cls.name in REGISTRY:
        raise RuntimeError(f"layer kind {cls.name} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def define_ranked(base: type[LayerKind], name: str, rank: int, **attrs: object) -> type[LayerKind]:
    """Register `name` as `base` at one spatial rank (MaxPooling1D/2D/3D share one definition);
    a kind with a spatial rank is `spatial`."""
    return register(type(name, (base,), {"name": name, "rank": rank, "spatial": True, "__module__": base.__module__,
                                         **attrs}))


def lookup(kind: str, loc: Location) -> type[LayerKind]:
    """The kind a name stands for (any spelling `canonical` knows); an unknown name is a located
    error with suggestions."""
    found = REGISTRY.get(kind)
    if found is None:
        if kind in REFUSED:
            message, hint = REFUSED[kind]
            raise UnknownLayerError(message, loc, hint)
        name = canonical(kind)
        if name in FAMILY_OF:
            importlib.import_module(f"paramcalc.layers.{FAMILY_OF[name]}")
            return REGISTRY[name]
        raise UnknownLayerError(f"unknown layer kind `{kind}`", loc, unknown_kind_hint(kind))
    return found


def all_kinds() -> dict[str, type[LayerKind]]:
    """Every kind, by name (imports every family)."""
    for family in FAMILIES:
        importlib.import_module(f"paramcalc.layers.{family}")
    return REGISTRY
