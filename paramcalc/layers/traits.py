"""What a layer kind is, for the modules that treat kinds alike: each kind declares its `Cost`
in its own definition (`LayerKind.cost`, no default), and every consumer reads that, never a
list of kind names.

- paramcalc/conventions.py holds, for each counting convention, a recipe for every category;
- paramcalc/compare.py pairs a depthwise and a 1x1 convolution across value-keeping layers;
- the activation family derives which operations it reports (layers/ops.py) from it.

tests/test_traits.py fails for a kind without a category and for a convention without a recipe
for some category, so adding a kind (or a category) cannot leave a consumer guessing.

What a layer keeps for its backward pass (`Saves`, read by paramcalc/memory.py) is a table keyed by
`Cost` (`SAVES`, checked complete by the same test); a kind whose behaviour differs from its
category's declares its own (`LayerKind.saves`, or `saves_of` when it depends on the arguments)."""

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


class Saves(Enum):
    """What PyTorch's autograd keeps of a layer for the backward pass (paramcalc/memory.py sizes it)."""

    NOTHING = "nothing"  # add, concatenate, reshape, mean, upsampling: sizes are enough
    INPUT = "input"  # its input(s): convolution, linear, most activations, average pooling
    OUTPUT = "output"  # its output: ReLU, sigmoid, tanh, ELU, softmax
    INPUT_AND_OUTPUT = "input and output"  # global max pooling (amax)
    INPUT_AND_INDICES = "input and int64 indices"  # max pooling: one int64 index per output value
    INPUT_AND_STATS = "input and statistics"  # normalisation: input, and a mean and 1/std per group (float32)
    MASK = "mask"  # dropout: one mask value per output value
    SAMPLE_MASK = "mask per sample"  # stochastic depth: one value (in the activation dtype) per sample


# The category's usual behaviour; kinds that differ say so themselves (`LayerKind.saves`).
SAVES: dict[Cost, Saves] = {
    Cost.CONV: Saves.INPUT, Cost.DENSE: Saves.INPUT, Cost.ATTENTION: Saves.INPUT, Cost.EMBEDDING: Saves.INPUT,
    Cost.NORM: Saves.INPUT_AND_STATS, Cost.RECTIFIER: Saves.INPUT, Cost.ACTIVATION: Saves.INPUT,
    Cost.SOFTMAX: Saves.OUTPUT, Cost.DROPOUT: Saves.MASK, Cost.POOL: Saves.INPUT, Cost.UPSAMPLE: Saves.NOTHING,
    Cost.RESHAPE: Saves.NOTHING, Cost.MERGE: Saves.NOTHING, Cost.RECURRENT: Saves.INPUT,
    Cost.RECURRENT_CELL: Saves.INPUT,
}
