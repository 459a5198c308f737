"""Exact integer arithmetic that remembers how it was done.

Every count paramcalc prints is computed as a `Q`: an int plus the expression that produced it,
so `explain` shows the very computation that gave the number (never a second, parallel formula).
Rendering is lazy: building a `Q` costs one small object, the text is made only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paramcalc.layers import sym

# Every symbol an atom may be named with, and what it means. The legends of `explain` and `paramcalc
# layers` are made from this table (tests/test_explain_tied.py checks every symbol they print is here).
SYMBOLS: dict[str, str] = {
    "N": "input size",
    "F": "kernel size",
    "Fl": "kernel length", "Fd": "kernel depth", "Fh": "kernel height", "Fw": "kernel width",
    "S": "stride",
    "D": "dilation",
    "P": "padding per side",
    "2P": "padding on both sides",
    "P1 + P2": "padding before + after",
    "P1": "zeros added before", "P2": "zeros added after",
    "OP": "output_padding",
    "C1": "rows cropped before", "C2": "rows cropped after",
    "size": "upsampling factor",
    "chunks": "pieces asked for (torch.chunk)", "split_size": "size of each piece (torch.split)",
    "N'": "output size",
    "L'": "output length", "D'": "output depth", "H'": "output height", "W'": "output width",
    "C": "input channels",
    "C/g": "input channels per group (g groups)",
    "M": "output channels (filters)",
    "m": "depth multiplier",
    "in": "input features",
    "units": "output features",
    "normalized": "values normalised together (the normalised axes' sizes multiplied)",
    "vocabulary": "vocabulary size (input_dim or num_embeddings)",
    "dim": "embedding size (output_dim or embedding_dim)",
    "h": "attention heads",
    "key_dim": "query and key size per head",
    "value_dim": "value size per head",
    "Tq": "query positions attended over", "Tk": "key and value positions attended over",
    "G": "positions on the axes not attended over (each attends on its own)",
    "hq": "query heads", "hkv": "key and value heads (each shared by hq/hkv query heads)",
    "head_dim": "size of each head",
    "dq": "query features", "dk": "key features", "dv": "value features",
    "contracted": "size summed over by a matrix product (torch.matmul: the first input's last axis)",
    "d": "features per position",
    "T": "positions (time steps: the sequence length)",
    "tokens": "tokens put in front (num_tokens)",
    "sequence_length": "rows of the position table (sequence_length)",
    "vocabulary_size": "vocabulary size (vocabulary_size)",
    "embedding_dim": "embedding size (embedding_dim)",
    "buckets": "relative-position buckets (num_buckets)",
    "kept": "positions with their own mean and variance (the kept axes' sizes multiplied)",
    "r": "pixel shuffle factor (upscale_factor or downscale_factor)",
    "E": "model width (embed_dim or d_model: the input's features)",
    "E_enc": "encoder sequence features",
    "kdim": "key features (kdim)", "vdim": "value features (vdim)",
    "ff": "feed-forward width (dim_feedforward or intermediate_dim)",
    "num_layers": "layers stacked", "layer_params": "params of one stacked layer",
    "layer_MACs": "MACs of one stacked layer",
    "num_encoder_layers": "encoder layers", "encoder_layer_params": "params of one encoder layer",
    "encoder_layer_MACs": "MACs of one encoder layer",
    "num_decoder_layers": "decoder layers", "decoder_layer_params": "params of one decoder layer",
    "decoder_layer_MACs": "MACs of one decoder layer",
    "hidden": "hidden size (PyTorch hidden_size)",
    "proj": "projected output size (LSTM proj_size)",
    "dirs": "directions (2 for a bidirectional layer)",
    "layers": "stacked recurrent layers (num_layers)",
    "experts": "experts (num_experts)", "top_k": "experts each token goes through (top_k)",
    "H": "input height", "W": "input width", "Wh": "window height", "Ww": "window width",
    "Hp": "height padded to a multiple of the window", "Wp": "width padded to a multiple of the window",
    "router_params": "params of the router", "expert_params": "params of one expert",
    "router_MACs": "MACs of the router", "expert_MACs": "MACs of one expert on every position",
}

# How the operations read, for the legends (+ and - need no words).
OPERATORS: dict[str, str] = {
    "*": "x multiplies",
    "/": "a/b is a division that the framework floors",
    "ceil": "ceil(a/b) rounds the division up",
    "max": "max(a, b) is the larger of the two",
}

# Precedence for parenthesising when rendering: sums < products/quotients < atoms and calls.
_SUM, _PRODUCT, _ATOM = 0, 1, 2


def _group(text: str) -> str:
    return f"({text})"


class Q:
    """An exact non-negative-or-not integer with the expression that produced it."""

    __slots__ = ("value", "op", "args", "name")

    def __init__(self, value: int, op: str = "atom", args: tuple[Q, ...] = (), name: str | None = None) -> None:
        self.value = value
        self.op = op
        self.args = args
        self.name = name

    # -- construction ---------------------------------------------------------------------------
    @staticmethod
    def of(value: int | Q, name: str | None = None) -> Q:
        """An atom: a known number, optionally with a symbol (`N`, `F`, `S`, ...)."""
        if isinstance(value, Q):
            return value if name is None else Q(value.value, "atom", (), name)
        return Q(value, "atom", (), name)

    def __add__(self, other: Q | int) -> Q:
        other = Q.of(other)
        return Q(self.value + other.value, "+", (self, other))

    def __radd__(self, other: int) -> Q:
        return Q.of(other) + self

    def __sub__(self, other: Q | int) -> Q:
        other = Q.of(other)
        return Q(self.value - other.value, "-", (self, other))

    def __mul__(self, other: Q | int) -> Q:
        other = Q.of(other)
        return Q(self.value * other.value, "*", (self, other))

    def __rmul__(self, other: int) -> Q:
        return Q.of(other) * self

    def floordiv(self, other: Q | int) -> Q:
        """Floor division, written `a/b` as the tutorials do (the floor is reported separately)."""
        other = Q.of(other)
        return Q(sym.floor_div(self.value, other.value), "/", (self, other))

    def ceildiv(self, other: Q | int) -> Q:
        other = Q.of(other)
        return Q(sym.ceil_div(self.value, other.value), "ceil", (self, other))

    @staticmethod
    def maximum(a: Q | int, b: Q | int) -> Q:
        a, b = Q.of(a), Q.of(b)
        return Q(sym.maximum(a.value, b.value), "max", (a, b))

    @staticmethod
    def product(factors: Iterable[Q | int]) -> Q:
        result: Q | None = None
        for factor in factors:
            result = Q.of(factor) if result is None else result * factor
        return result if result is not None else Q.of(1)

    @staticmethod
    def total(terms: Iterable[Q | int]) -> Q:
        result: Q | None = None
        for term in terms:
            result = Q.of(term) if result is None else result + term
        return result if result is not None else Q.of(0)

    # -- what it is made of -----------------------------------------------------------------------
    def walk(self) -> Iterator[Q]:
        """This node and every node below it (iteratively: long sums are deep trees)."""
        stack: list[Q] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.args))

    def symbols(self) -> set[str]:
        """The names its symbolic rendering prints."""
        return {node.name for node in self.walk() if node.op == "atom" and node.name}

    def operators(self) -> set[str]:
        return {node.op for node in self.walk() if node.op != "atom"}

    # -- rendering --------------------------------------------------------------------------------
    def _prec(self) -> int:
        if self.op in ("+", "-"):
            return _SUM
        if self.op in ("*", "/"):
            return _PRODUCT
        return _ATOM

    def render(self, symbolic: bool = False) -> str:
        """`(N - F + 2P)/S + 1` when symbolic, `(32 - 5 + 0)/1 + 1` otherwise."""
        op, args = self.op, self.args
        if op == "atom":
            return self.name if symbolic and self.name else _number(self.value)
        if op == "max":
            return f"max({args[0].render(symbolic)}, {args[1].render(symbolic)})"
        if op == "ceil":
            num, den = (a.render(symbolic) for a in args)
            num = num if args[0]._prec() == _ATOM else _group(num)
            den = den if args[1]._prec() == _ATOM else _group(den)
            return f"ceil({num}/{den})"
        left, right = args[0].render(symbolic), args[1].render(symbolic)
        if op == "+":
            return f"{left} + {right}"
        if op == "-":
            return f"{left} - {_group(right) if args[1]._prec() == _SUM else right}"
        if op == "*":
            left = _group(left) if args[0]._prec() == _SUM else left
            # A product on the right was built as a unit (a kernel volume, say): keep it grouped.
            return f"{left} x {_group(right) if args[1]._prec() < _ATOM else right}"
        # "/": group anything that is not an atom, so `(a x b)/c` cannot be misread.
        left = _group(left) if args[0]._prec() < _ATOM else left
        return f"{left}/{_group(right) if args[1]._prec() < _ATOM else right}"

    def __repr__(self) -> str:
        return f"Q({self.value}: {self.render()})"


def _number(value: object) -> str:
    """An int as written; a formula (free input dimensions) in parentheses when it has several terms."""
    if isinstance(value, int):
        return str(value)
    text = expression_text(value)
    return f"({text})" if " " in text else text


def expression_text(value: object) -> str:
    """A count in free input dimensions (a sympy expression) in the notation of the formulas:
    ceil, max and ^ rather than sympy's ceiling, Max and **. Every renderer writes them this way."""
    return str(value).replace("ceiling(", "ceil(").replace("Max(", "max(").replace("**", "^")


ZERO = Q.of(0)
