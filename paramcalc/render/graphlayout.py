"""A layered (Sugiyama-style) drawing of a directed acyclic graph, in pure Python: no `dot` binary.

1. layers: longest path from the sources (a source reading nothing sits just above its first reader);
2. an edge spanning several layers gets a dummy node in each layer it crosses, so it is routed
   between the boxes rather than through them;
3. order within each layer: barycentre sweeps down and up, keeping the order with the fewest
   crossings; the members of a group (a block instance) are kept side by side in every layer;
4. coordinates: each node as close as it can be to the mean of its neighbours in the layer above
   (then below), subject to the boxes not overlapping: an isotonic regression (pool adjacent
   violators) per layer, which gives the least-squares placement exactly.

Groups are drawn as outlines around their members (one slab per layer, joined), nested groups
inside their parents; the gaps between nodes and layers grow with the group borders between them.

Why our own: the graphs are small (at most a few thousand nodes), the layout is ~250 lines, and the
one pure-Python library for it (grandalf) has had no release since 2023 and does not handle groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

NODE_GAP = 24.0  # between two boxes side by side
DUMMY_WIDTH = 10.0  # the lane of an edge passing through a layer
LAYER_GAP = 36.0  # between two layers, before group borders
GROUP_PAD = 10.0  # a group's border around its members (each nesting level adds one)
GROUP_LABEL = 16.0  # room for a group's label above its members
SWEEPS = 12  # barycentre sweeps (down and up count one each)
PLACEMENT_PASSES = 6


class Box(NamedTuple):
    width: float
    height: float
    groups: tuple[str, ...] = ()  # enclosing groups, outermost first


class Point(NamedTuple):
    x: float
    y: float


class Rect(NamedTuple):
    x: float  # left
    y: float  # top
    width: float
    height: float

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.x + other.width and other.x < self.x + self.width
                and self.y < other.y + other.height and other.y < self.y + self.height)

    def contains(self, other: Rect) -> bool:
        return (self.x <= other.x and self.y <= other.y and other.x + other.width <= self.x + self.width
                and other.y + other.height <= self.y + self.height)


class Placement(NamedTuple):
    boxes: list[Rect]  # one per node, in the order given
    edges: list[list[Point]]  # one polyline per edge, from the source's bottom to the target's top
    groups: dict[str, list[Rect]]  # by group id: its outline, one slab per layer it spans, top to bottom
    width: float
    height: float
    crossings: int


def layers_of(count: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Longest-path layering. Node indices are expected in a topological order (a spec's order is one)."""
    preds: list[list[int]] = [[] for _ in range(count)]
    succs: list[list[int]] = [[] for _ in range(count)]
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    layer = [0] * count
    for v in topological(count, succs, preds):
        layer[v] = 1 + max((layer[p] for p in preds[v]), default=-1)
    for v in range(count):  # a source (a model input read late) sits just above its first reader
        if not preds[v] and succs[v]:
            layer[v] = max(layer[v], min(layer[s] for s in succs[v]) - 1)
    return layer


def topological(count: int, succs: list[list[int]], preds: list[list[int]]) -> list[int]:
    """Kahn's order, ties broken by index (so a spec's order is kept)."""
    import heapq

    waiting = [len(p) for p in preds]
    ready = [v for v in range(count) if not waiting[v]]
    heapq.heapify(ready)
    order = []
    while ready:
        v = heapq.heappop(ready)
        order.append(v)
        for s in succs[v]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, s)
    if len(order) < count:
        raise ValueError("the graph has a cycle")
    return order


def common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def layout(boxes: Sequence[Box], edges: Sequence[tuple[int, int]]) -> Placement:
    """Place `boxes` (node i is boxes[i]) and route `edges` (source, target), top to bottom."""
    layer = layers_of(len(boxes), edges)
    # Nodes: the real ones, then one dummy per layer an edge passes through.
    width = [b.width for b in boxes]
    height = [b.height for b in boxes]
    groups = [b.groups for b in boxes]
    layer_of = list(layer)
    chains: list[list[int]] = []  # per edge: its nodes from source to target
    for a, b in edges:
        chain = [a]
        inside = common_prefix(groups[a], groups[b])
        for k in range(layer[a] + 1, layer[b]):
            chain.append(len(width))
            width.append(DUMMY_WIDTH)
            height.append(0.0)
            groups.append(inside)
            layer_of.append(k)
        chain.append(b)
        chains.append(chain)
    total = len(width)
    up: list[list[int]] = [[] for _ in range(total)]
    down: list[list[int]] = [[] for _ in range(total)]
    for chain in chains:
        for s, t in zip(chain, chain[1:]):
            down[s].append(t)
            up[t].append(s)
    depth = max(layer_of, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    for v in range(total):
        rows[layer_of[v]].append(v)
    order = sweep_orders(rows, up, down, groups)
    crossings = sum(crossings_between(order[i], order[i + 1], down) for i in range(depth - 1))
    xs = place_x(order, up, down, width, groups)
    ys, layer_heights = place_y(order, height, groups, layer_of)
    left = min((xs[v] - width[v] / 2 for v in range(total)), default=0.0)
    slabs = group_slabs(order, xs, ys, width, groups, layer_heights)
    left = min([left, *(r.x for rs in slabs.values() for r in rs)]) - GROUP_PAD
    shift = -left
    rects = [Rect(xs[v] + shift - width[v] / 2, ys[v] - height[v] / 2, width[v], height[v]) for v in range(len(boxes))]
    slabs = {g: [r._replace(x=r.x + shift) for r in rs] for g, rs in slabs.items()}
    lines = []
    for chain in chains:
        a, b = chain[0], chain[-1]
        points = [Point(xs[a] + shift, ys[a] + height[a] / 2)]
        for d in chain[1:-1]:  # through a dummy's lane: straight down its layer's height
            half = layer_heights[layer_of[d]] / 2
            points += [Point(xs[d] + shift, ys[d] - half), Point(xs[d] + shift, ys[d] + half)]
        points.append(Point(xs[b] + shift, ys[b] - height[b] / 2))
        lines.append(points)
    every = rects + [r for rs in slabs.values() for r in rs]
    right = max([*(r.x + r.width for r in every), 0.0])
    bottom = max([*(r.y + r.height for r in every), 0.0])
    return Placement(rects, lines, slabs, right + GROUP_PAD, bottom + GROUP_PAD, crossings)


# ---- order within layers ---------------------------------------------------------------------------

def sweep_orders(rows: list[list[int]], up: list[list[int]], down: list[list[int]],
                 groups: list[tuple[str, ...]]) -> list[list[int]]:
    order = [grouped(row, {v: float(i) for i, v in enumerate(row)}, groups) for row in rows]
    best = [list(r) for r in order]
    best_crossings = total_crossings(order, down)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(order)) if downward else range(len(order) - 2, -1, -1)
        for i in indices:
            fixed = order[i - 1] if downward else order[i + 1]
            where = {v: p for p, v in enumerate(fixed)}
            neighbours = up if downward else down
            centre: dict[int, float] = {}
            for p, v in enumerate(order[i]):
                near = [where[n] for n in neighbours[v] if n in where]
                centre[v] = sum(near) / len(near) if near else p * len(fixed) / max(len(order[i]), 1)
            order[i] = grouped(order[i], centre, groups)
        crossings = total_crossings(order, down)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in order], crossings
    return best


def grouped(row: list[int], centre: dict[int, float], groups: list[tuple[str, ...]], level: int = 0) -> list[int]:
    """`row` sorted by `centre`, the members of each group kept together (a group sorts by its
    members' mean centre); stable, so ties keep their order."""
    parts: dict[str, list[int]] = {}
    items: list[tuple[float, int, list[int]]] = []  # (centre, first position, members)
    for position, v in enumerate(row):
        if len(groups[v]) > level:
            key = groups[v][level]
            if key not in parts:
                parts[key] = []
                items.append((0.0, position, parts[key]))
            parts[key].append(v)
        else:
            items.append((centre[v], position, [v]))
    keyed = []
    for c, position, members in items:
        if len(members) == 1 and len(groups[members[0]]) <= level:
            keyed.append((c, position, members))
        else:
            mean = sum(centre[m] for m in members) / len(members)
            keyed.append((mean, position, grouped(members, centre, groups, level + 1)))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [v for _, _, members in keyed for v in members]


def total_crossings(order: list[list[int]], down: list[list[int]]) -> int:
    return sum(crossings_between(order[i], order[i + 1], down) for i in range(len(order) - 1))


def crossings_between(top: list[int], bottom: list[int], down: list[list[int]]) -> int:
    """Edges between two adjacent layers that cross: inversions of their bottom ends, counted with a
    Fenwick tree (E log E)."""
    where = {v: p for p, v in enumerate(bottom)}
    ends = [where[t] for v in top for t in sorted(down[v], key=lambda t: where.get(t, -1)) if t in where]
    tree = [0] * (len(bottom) + 1)
    inversions = 0
    for seen, end in enumerate(ends):
        i, below = end + 1, 0
        while i > 0:  # edges seen so far that end at or left of `end`
            below += tree[i]
            i -= i & -i
        inversions += seen - below
        i = end + 1
        while i <= len(bottom):
            tree[i] += 1
            i += i & -i
    return inversions


# ---- coordinates ----------------------------------------------------------------------------------

def separation(a: int, b: int, width: list[float], groups: list[tuple[str, ...]]) -> float:
    """The least distance between the centres of two neighbours in a layer: their half widths, a gap,
    and a border for every group that ends or begins between them."""
    shared = len(common_prefix(groups[a], groups[b]))
    borders = len(groups[a]) - shared + len(groups[b]) - shared
    gap = NODE_GAP if width[a] > DUMMY_WIDTH or width[b] > DUMMY_WIDTH else NODE_GAP / 3
    return (width[a] + width[b]) / 2 + gap + borders * GROUP_PAD


def place_x(order: list[list[int]], up: list[list[int]], down: list[list[int]], width: list[float],
            groups: list[tuple[str, ...]]) -> list[float]:
    xs = [0.0] * len(width)
    for row in order:  # start packed, centred on 0
        x = 0.0
        for i, v in enumerate(row):
            x += separation(row[i - 1], v, width, groups) if i else 0.0
            xs[v] = x
        for v in row:
            xs[v] -= x / 2
    for sweep in range(PLACEMENT_PASSES):
        downward = sweep % 2 == 0
        for row in (order if downward else reversed(order)):
            neighbours = up if downward else down
            wanted = []
            for v in row:
                near = [xs[n] for n in neighbours[v]] or [xs[n] for n in (down if downward else up)[v]]
                wanted.append(sum(near) / len(near) if near else xs[v])
            # a long edge's lanes weigh more: they keep straight, and the boxes move around them
            weights = [4.0 if width[v] <= DUMMY_WIDTH else 1.0 for v in row]
            gaps = [separation(a, b, width, groups) for a, b in zip(row, row[1:])]
            for v, x in zip(row, nearest_spaced(wanted, gaps, weights)):
                xs[v] = x
    return xs


def nearest_spaced(wanted: list[float], gaps: list[float], weights: list[float]) -> list[float]:
    """The positions closest to `wanted` (weighted least squares) with x[i+1] - x[i] >= gaps[i]:
    shifted by the cumulative gaps, the constraint becomes "non-decreasing", solved by pooling
    adjacent violators."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    blocks: list[list[float]] = []  # [weighted mean, weight, count]
    for target, offset, w in zip(wanted, offsets, weights):
        blocks.append([target - offset, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out = []
    for mean, _, n in blocks:
        out += [mean] * int(n)
    return [y + offset for y, offset in zip(out, offsets)]


def group_spans(order: list[list[int]], groups: list[tuple[str, ...]]) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    for i, row in enumerate(order):
        for v in row:
            for g in groups[v]:
                first, last = spans.get(g, (i, i))
                spans[g] = (min(first, i), max(last, i))
    return spans


def place_y(order: list[list[int]], height: list[float], groups: list[tuple[str, ...]],
            layer_of: list[int]) -> tuple[list[float], list[float]]:
    """Each layer's centre line; the gap below a layer makes room for the group borders that close
    there and for the borders and labels of the groups that open in the next."""
    spans = group_spans(order, groups)
    heights = [max((height[v] for v in row), default=0.0) for row in order]
    ys = [0.0] * len(height)
    centres = []
    top = GROUP_PAD
    for i, row in enumerate(order):
        opening = max((sum(1 for g in groups[v] if spans[g][0] == i) for v in row), default=0)
        closing_above = 0
        if i:
            closing_above = max((sum(1 for g in groups[v] if spans[g][1] == i - 1) for v in order[i - 1]), default=0)
            top += LAYER_GAP + closing_above * GROUP_PAD
        top += opening * (GROUP_PAD + GROUP_LABEL)
        centres.append(top + heights[i] / 2)
        top += heights[i]
    for v in range(len(height)):
        ys[v] = centres[layer_of[v]]
    return ys, heights


def group_slabs(order: list[list[int]], xs: list[float], ys: list[float], width: list[float],
                groups: list[tuple[str, ...]], layer_heights: list[float]) -> dict[str, list[Rect]]:
    """Each group's outline as one slab per layer it spans: its members in that layer (a lane counts
    its layer's height), grown by a border per nesting level, with room above for the labels of the
    groups that open there. Members are side by side in each layer, so a slab holds no other box."""
    spans = group_spans(order, groups)
    raw: dict[str, dict[int, list[float]]] = {}  # group -> layer -> [left, right, top, bottom]
    for i, row in enumerate(order):
        extents: dict[str, list[float]] = {}
        for v in row:
            top_band = ys[v] - layer_heights[i] / 2
            bottom_band = ys[v] + layer_heights[i] / 2
            for k, g in enumerate(groups[v]):
                inner = groups[v][k:]
                border = len(inner) * GROUP_PAD
                top = top_band - sum(1 for h in inner if spans[h][0] == i) * (GROUP_PAD + GROUP_LABEL)
                bottom = bottom_band + sum(1 for h in inner if spans[h][1] == i) * GROUP_PAD
                left, right = xs[v] - width[v] / 2 - border, xs[v] + width[v] / 2 + border
                e = extents.setdefault(g, [left, right, top, bottom])
                e[0], e[1], e[2], e[3] = min(e[0], left), max(e[1], right), min(e[2], top), max(e[3], bottom)
        for g, e in extents.items():
            raw.setdefault(g, {})[i] = e
    smooth(raw, order, xs, width, groups)
    return {g: [Rect(e[0], e[2], e[1] - e[0], e[3] - e[2]) for _, e in sorted(by_layer.items())]
            for g, by_layer in raw.items()}


SMOOTHING_PASSES = 4


def smooth(raw: dict[str, dict[int, list[float]]], order: list[list[int]], xs: list[float], width: list[float],
           groups: list[tuple[str, ...]]) -> None:
    """Widen each group's slabs toward its neighbouring slabs' edges, so that an outline does not
    zig-zag with the widths of the boxes inside, as far as the boxes and outlines beside it allow
    (innermost groups first; a parent then holds its children's widened slabs)."""
    path: dict[str, tuple[str, ...]] = {}
    for v in range(len(groups)):
        for k, g in enumerate(groups[v]):
            path.setdefault(g, groups[v][:k + 1])
    clearance = NODE_GAP / 3
    done: list[str] = []
    for g in sorted(raw, key=lambda g: -len(path[g])):
        mine = raw[g]
        for child in done:  # a child's widened slabs, with a border
            if path[child][:-1] == path[g]:
                for i, e in raw[child].items():
                    if i in mine:
                        mine[i][0] = min(mine[i][0], e[0] - GROUP_PAD)
                        mine[i][1] = max(mine[i][1], e[1] + GROUP_PAD)
        layers = sorted(mine)
        for sweep in range(SMOOTHING_PASSES):  # down, then up, ...: an edge spreads all the way in two
            for j, i in (enumerate(layers) if sweep % 2 == 0 else reversed(list(enumerate(layers)))):
                near = [mine[k] for k in layers[max(j - 1, 0):j + 2] if abs(k - i) == 1]
                if not near:
                    continue
                left, right = mine[i][0], mine[i][1]
                wanted_left, wanted_right = min(e[0] for e in near), max(e[1] for e in near)
                blocks = obstacles(g, i, order, xs, width, groups, path, raw, done)
                if wanted_left < left:
                    bound = max((b[1] + clearance for b in blocks if b[1] <= left), default=wanted_left)
                    mine[i][0] = min(left, max(wanted_left, bound))
                if wanted_right > right:
                    bound = min((b[0] - clearance for b in blocks if b[0] >= right), default=wanted_right)
                    mine[i][1] = max(right, min(wanted_right, bound))
        done.append(g)


def obstacles(g: str, i: int, order: list[list[int]], xs: list[float], width: list[float],
              groups: list[tuple[str, ...]], path: dict[str, tuple[str, ...]],
              raw: dict[str, dict[int, list[float]]], done: list[str]) -> list[tuple[float, float]]:
    """What group `g`'s slab in layer `i` must stay clear of: the boxes outside it (with room for
    their own groups' borders) and the slabs of groups already drawn that are neither inside it nor
    around it."""
    found = []
    for v in order[i]:
        if g in groups[v]:
            continue
        border = (len(groups[v]) - len(common_prefix(groups[v], path[g]))) * GROUP_PAD
        found.append((xs[v] - width[v] / 2 - border, xs[v] + width[v] / 2 + border))
    for h in done:
        if i in raw[h] and g not in path[h] and h not in path[g]:
            found.append((raw[h][i][0], raw[h][i][1]))
    return found


def outline(slabs: list[Rect]) -> list[Point]:
    """A polygon around a group's slabs (top to bottom): down the right side, up the left."""
    right = [p for r in slabs for p in (Point(r.x + r.width, r.y), Point(r.x + r.width, r.y + r.height))]
    left = [p for r in reversed(slabs) for p in (Point(r.x, r.y + r.height), Point(r.x, r.y))]
    return right + left
