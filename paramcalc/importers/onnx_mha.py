"""nn.MultiheadAttention as PyTorch's exporter writes it: the query turned sequence-first (Transpose perm
[1, 0, 2]), the fused in-projection (MatMul by an (E, 3E) weight, Add of a 3E bias), the heads split
with the batch folded in, the scaled products and Softmax, the out-projection (Gemm or MatMul by an
(E, E) weight) and the Transpose back to batch-first. paramcalc's Permute keeps the batch first, so the
region between the two Transposes is recognised as one `MultiheadAttention` layer instead; it is taken
only when every weight it reads is one of those four, so the params are exactly the module's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SWAP = [1, 0, 2]  # (N, T, E) <-> (T, N, E)


@dataclass
class Attention:
    """One recognised region: its first and last node, every node inside, and the layer's arguments."""

    start: Any
    end: Any
    members: set[str] = field(default_factory=set)
    args: dict[str, Any] = field(default_factory=dict)


def perm(node: Any) -> list[int]:
    return list(node.attrs.get("perm") or [])


def find_attention(start: Any, consumers: dict[str, list[Any]], graph: Any) -> Attention | None:
    """The region that starts at a batch-swapping Transpose and ends at the one Transpose that swaps it
    back, or None when the nodes between do not make exactly one self-attention module."""
    if start.op != "Transpose" or perm(start) != SWAP:
        return None
    query = graph.shapes.get(start.inputs[0]) or []
    if len(query) != 3 or not isinstance(query[2], int):
        return None
    members: dict[str, Any] = {}
    ends: list[Any] = []
    pending = [start]
    while pending:
        node = pending.pop()
        if node.name in members:
            continue
        members[node.name] = node
        if node is not start and node.op == "Transpose" and perm(node) == SWAP and \
                graph.shapes.get(node.outputs[0]) == query:
            ends.append(node)
            continue
        for output in node.outputs:
            if output in graph.outputs:
                return None  # a value inside the module leaves the graph
            pending.extend(consumers.get(output, []))
    if len(ends) != 1:
        return None
    args = attention_args(list(members.values()), query[2], graph)
    if args is None:
        return None
    return Attention(start, ends[0], set(members), args)


def attention_args(nodes: list[Any], embed: int, graph: Any) -> dict[str, Any] | None:
    """embed_dim and num_heads (the Softmax's scores are (N, heads, T, T)), the biases, and need_weights
    (False when the weights are not averaged over the heads, i.e. no ReduceMean: PyTorch's fast path)."""
    read = [t for node in nodes for t in node.inputs if t in graph.float_initializers]
    dims = sorted((graph.initializers[t] for t in read), key=lambda d: (len(d), d))
    if dims == [[embed], [3 * embed], [embed, embed], [embed, 3 * embed]]:
        bias = True
    elif dims == [[embed, embed], [embed, 3 * embed]]:
        bias = False
    else:
        return None
    softmaxes = [node for node in nodes if node.op == "Softmax"]
    scores = graph.shapes.get(softmaxes[0].inputs[0]) if len(softmaxes) == 1 else None
    if not scores or len(scores) != 4 or not isinstance(scores[1], int) or embed % scores[1]:
        return None
    args: dict[str, Any] = {"embed_dim": embed, "num_heads": scores[1]}
    if not bias:
        args["bias"] = False
    args["batch_first"] = True
    if not any(node.op == "ReduceMean" for node in nodes):
        args["need_weights"] = False
    return args
