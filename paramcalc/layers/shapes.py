"""Output-length rules of sliding windows (conv, pooling, transposed conv) as explainable `Q`s.

Pure functions over ints. Where a framework floors an inexact division, the number of input
rows or columns that no window covers is returned so the caller can warn about it.
"""

from __future__ import annotations

from paramcalc.layers import sym
from paramcalc.layers.formula import Q

Pads = tuple[int, int]  # zeros added (before, after) along one dimension


def effective_kernel(f: int, d: int) -> Q:
    """The span of a dilated kernel, D x (F - 1) + 1 (just F without dilation)."""
    return Q.of(f, "F") if d == 1 else Q.of(d, "D") * (Q.of(f, "F") - 1) + 1


def pad_total(pads: Pads) -> Q:
    before, after = pads
    return Q.of(before + after, "2P" if before == after else "P1 + P2")


def sliding(n: int, f: int, s: int, d: int = 1, pads: Pads = (0, 0)) -> tuple[Q, int]:
    """floor((N + 2P - D(F - 1) - 1)/S) + 1, written (N - F + 2P)/S + 1; also the rows dropped."""
    span = Q.of(n, "N") - effective_kernel(f, d) + pad_total(pads)
    out = span.floordiv(Q.of(s, "S")) + 1
    return out, sym.remainder(span.value, s)


def sliding_ceil(n: int, f: int, s: int, d: int, pads: Pads) -> Q:
    """PyTorch pooling with ceil_mode: ceil((N - F + 2P)/S) + 1 windows, except that the last one must
    start inside the input or the left padding ((out - 1) x S < N + P1), else PyTorch drops it.

    Whether that can happen depends only on the arguments, not on N: with K = D(F - 1) + 1, the last
    ceil window starts at ceil((N + P1 + P2 - K)/S) x S - P1 <= N + P2 - K + S - 1, inside the input
    whenever K >= P2 + S. Otherwise the count is min(ceil count, (N + P1 - 1)/S + 1), the windows
    starting before N + P1, and that second term is the smaller for every N (its numerator
    N + P1 - 1 is at most the ceil's N + P1 + P2 - K + S - 1 exactly when K < P2 + S). So each
    case is one closed form, the same for ints and for free dimensions."""
    kernel = effective_kernel(f, d)
    if kernel.value >= pads[1] + s:
        span = Q.of(n, "N") - kernel + pad_total(pads)
        return span.ceildiv(Q.of(s, "S")) + 1
    starts = Q.of(n, "N") + Q.of(pads[0], "P") - 1
    return starts.floordiv(Q.of(s, "S")) + 1


def same(n: int, s: int) -> Q:
    """Keras 'same' padding: ceil(N/S), whatever the kernel and dilation."""
    return Q.of(n, "N").ceildiv(Q.of(s, "S"))


def keras_transpose(n: int, f: int, s: int, d: int, padding: str, output_padding: int | None) -> Q:
    """Keras Conv*DTranspose output length (keras.src.utils ... conv_transpose_output_length)."""
    kernel = effective_kernel(f, d)
    N, S = Q.of(n, "N"), Q.of(s, "S")
    if output_padding is None:
        if padding == "valid":
            return N * S + Q.maximum(kernel - S, 0)
        return N * S
    pad = Q.of(kernel.value // 2 if padding == "same" else 0, "P")
    return (N - 1) * S + kernel - 2 * pad + Q.of(output_padding, "OP")


def torch_transpose(n: int, f: int, s: int, d: int, pads: Pads, output_padding: int) -> Q:
    """PyTorch ConvTranspose: (N - 1) x S - 2P + D x (F - 1) + OP + 1."""
    return ((Q.of(n, "N") - 1) * Q.of(s, "S") - pad_total(pads) + effective_kernel(f, d)
            + Q.of(output_padding, "OP"))


def exact_ratio(q: Q) -> str:
    """The unfloored value of a `(...)/S + 1` expression, e.g. '54.25', for warnings (ints only)."""
    span, stride = q.args[0].args[0].value, q.args[0].args[1].value
    hundredths = span * 100 // stride + 100
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + ("..." if span * 100 % stride else "")


DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
DROP_UNITS = {"length": "step", "depth": "slice", "height": "row", "width": "column"}


def dim_names(rank: int) -> tuple[str, ...]:
    return DIM_NAMES.get(rank, tuple(f"dim {i + 1}" for i in range(rank)))
