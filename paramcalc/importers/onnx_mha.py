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
    args = attention_args(list(members.values()), query, graph)
    if args is None:
        return None
    return Attention(start, ends[0], set(members), args)


def attention_args(nodes: list[Any], query: list[Any], graph: Any) -> dict[str, Any] | None:
    """embed_dim, num_heads and the biases. The Softmax's scores tell the path PyTorch took: (N, heads, T, T)
    is scaled_dot_product_attention, taken when the forward passes need_weights=False (torchvision's ViT);
    (N x heads, T, T) the explicit batched products of need_weights=True, PyTorch's default."""
    embed = query[2]
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
    if not scores or any(not isinstance(d, int) for d in scores) or not isinstance(query[0], int):
        return None
    if len(scores) == 4:
        heads, need_weights = scores[1], False
    elif len(scores) == 3 and scores[0] % query[0] == 0:
        heads, need_weights = scores[0] // query[0], True
    else:
        return None
    if embed % heads:
        return None
    args: dict[str, Any] = {"embed_dim": embed, "num_heads": heads}
    if not bias:
        args["bias"] = False
    args["batch_first"] = True
    if not need_weights:
        args["need_weights"] = False
    return args
