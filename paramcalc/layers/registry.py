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
from paramcalc.suggest import did_you_mean

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
    "keras_attention": ("GroupedQueryAttention", "GroupQueryAttention", "Attention", "AdditiveAttention"),
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
    "tensor": ("Split", "Chunk", "Unbind", "Parameter", "Mean", "Select", "SelectToken"),
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
}
# Kind -> its family, in registration order (which decides between Conv2D and Conv2d in hints).
FAMILY_OF = {kind: family for family, kinds in FAMILIES.items() for kind in kinds}
K = TypeVar("K", bound=type[LayerKind])


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
    found = REGISTRY.get(kind)
    if found is None:
        if kind in REFUSED:
            message, hint = REFUSED[kind]
            raise UnknownLayerError(message, loc, hint)
        if kind in FAMILY_OF:
            importlib.import_module(f"paramcalc.layers.{FAMILY_OF[kind]}")
            return REGISTRY[kind]
        hint = did_you_mean(kind, FAMILY_OF) or "run `paramcalc layers` to list the supported layer kinds."
        raise UnknownLayerError(f"unknown layer kind `{kind}`", loc, hint)
    return found


def all_kinds() -> dict[str, type[LayerKind]]:
    """Every kind, by name (imports every family)."""
    for family in FAMILIES:
        importlib.import_module(f"paramcalc.layers.{family}")
    return REGISTRY
