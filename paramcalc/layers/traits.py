"""What a layer kind is, for the modules that treat kinds alike: each kind declares its `Cost`
in its own definition (`LayerKind.cost`, no default), and every consumer reads that, never a
list of kind names.

- paramcalc/conventions.py holds, for each counting convention, a recipe for every category;
- paramcalc/compare.py pairs a depthwise and a 1x1 convolution across value-keeping layers;
- the activation family derives which operations it reports (layers/ops.py) from it.

tests/test_traits.py fails for a kind without a category and for a convention without a recipe
for some category, so adding a kind (or a category) cannot leave a consumer guessing.

When training memory arrives, what a layer saves for its backward pass (a convolution its input,
ReLU the sign of its output, dropout its mask, BatchNorm its normalised input) belongs here too:
a table keyed by `Cost`, like the conventions' recipes, checked complete by the same test."""

from __future__ import annotations

from enum import Enum


class Cost(Enum):
    """What a layer computes, in the categories that the counting conventions tell apart."""

    CONV = "conv"  # convolutions: standard, grouped, depthwise, separable, transposed
    DENSE = "dense"  # fully connected, at every position
    ATTENTION = "attention"  # projections and the QK^T and AV products
    EMBEDDING = "embedding"  # a table lookup
    NORM = "norm"  # normalisation: batch, layer, group, local response
    RECTIFIER = "rectifier"  # ReLU and its variants ReLU6, LeakyReLU, PReLU, ELU (ptflops counts these)
    ACTIVATION = "activation"  # other element-wise functions: sigmoid, tanh, GELU, SiLU, Mish, hard-*
    SOFTMAX = "softmax"  # softmax and log-softmax: exponentials normalised along an axis
    DROPOUT = "dropout"  # dropout, noise and Identity: the identity at inference
    POOL = "pool"  # windowed, global and adaptive pooling
    UPSAMPLE = "upsample"  # repeats or interpolates values onto a larger grid
    RESHAPE = "reshape"  # moves, pads or crops values, computes nothing
    MERGE = "merge"  # combines several inputs: add, multiply, concatenate, ...
    RECURRENT = "recurrent"  # a recurrent layer over a whole sequence: simple RNN, LSTM, GRU
    RECURRENT_CELL = "recurrent_cell"  # one step of a recurrent cell (PyTorch RNNCell, LSTMCell, GRUCell)

    @property
    def value_keeping(self) -> bool:
        """Same shape out as in, every value transformed where it stands: `compare` reads a
        depthwise convolution, such layers, then a 1x1 convolution as one separable convolution."""
        return self in _VALUE_KEEPING


_VALUE_KEEPING = frozenset({Cost.NORM, Cost.RECTIFIER, Cost.ACTIVATION, Cost.SOFTMAX, Cost.DROPOUT})
