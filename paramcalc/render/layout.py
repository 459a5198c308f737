"""Column widths that fit a width without cutting a figure: the pure part of render/fit.py (no
drawing), so that a table's columns can say how they give way without importing rich's tables."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len

if TYPE_CHECKING:
    from rich.text import Text

    Cell = Text | str  # a table cell: plain, or styled


class Fit(Enum):
    """How a column's cells may give way when the table is too wide."""

    FIGURE = "figure"  # never cut or wrapped: counts, percentages, shapes (the header may wrap)
    NAME = "name"  # wraps at spaces, folds a long word
    LIST = "list"  # wraps between the items of a list (at spaces); folds an item only when forced


class FitColumn(NamedTuple):
    header: str
    fit: Fit = Fit.FIGURE
    right: bool = False  # right-justified (numbers)
    drop: int = 0  # 0: always shown; 1, 2, ...: left out in that order when the table cannot fit
    minimum: int = 12  # the narrowest a NAME or LIST column may become (when its cells are wider)
    # (a LIST column is also as wide as its longest item, up to LONGEST_ITEM)


# A table's edges and padding: each column has one space either side and a rule on its right, the
# first a rule on its left too (box.HEAVY_HEAD, rich's default padding).
PER_COLUMN = 3
EDGE = 1
LONGEST_ITEM = 24  # a LIST column is at least as wide as its longest item, up to this
NAME_FLOOR = 12  # in the last resort names narrow to this before lists narrow at all
FLOOR = 4  # the narrowest a NAME or LIST column becomes when nothing is left to leave out


def frame(columns: int) -> int:
    """Characters a table of `columns` columns spends on rules and padding."""
    return PER_COLUMN * columns + EDGE


def text_width(cell: Cell) -> int:
    return cell_len(cell) if isinstance(cell, str) else cell.cell_len


def longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


# What a line never breaks inside: a shape as paramcalc prints it ((None, 28, 28, 6), (8, 224, 224, 3),
# (2, 0, 3), (None, H - 4, 6)) and a command written in backticks (`--warnings full`).
ATOM = re.compile(r"\((?:None|\d+)(?:, [^(),]+)*,?\)|`[^`]*`")
WORD = re.compile(r"\S+")


def atoms(text: str) -> Iterator[tuple[str, bool]]:
    """(piece, is_space) of `text`: words, whole shapes and commands, and the spaces between them."""
    at = 0
    for atom in ATOM.finditer(text):
        yield from _words(text[at:atom.start()])
        yield atom.group(), False
        at = atom.end()
    yield from _words(text[at:])


def _words(text: str) -> Iterator[tuple[str, bool]]:
    at = 0
    for word in WORD.finditer(text):
        if word.start() > at:
            yield text[at:word.start()], True
        yield word.group(), False
        at = word.end()
    if at < len(text):
        yield text[at:], True


def longest_atom(text: str) -> int:
    """The widest run of text without a space a line may break at (a shape counts as one)."""
    longest = run = 0
    for piece, space in atoms(text):
        run = 0 if space else run + cell_len(piece)
        longest = max(longest, run)
    return longest


class Needs(NamedTuple):
    """What a column needs: `natural`, its widest line unwrapped; `least`, the narrowest it may be;
    `cells`, the width of each cell unwrapped, the header's last."""

    natural: int
    least: int
    cells: tuple[int, ...]


def needs(column: FitColumn, cells: Sequence[Cell]) -> Needs:
    widths = tuple(text_width(c) for c in cells)
    widest = max(widths, default=0)
    natural = max(widest, cell_len(column.header), 1)
    if column.fit is Fit.FIGURE:  # every figure whole; its header may wrap between words
        least = max(widest, longest_word(column.header))
    elif column.fit is Fit.LIST:  # an item whole, unless it is very long
        item = max((longest_atom(c if isinstance(c, str) else c.plain) for c in cells), default=0)
        least = min(natural, max(column.minimum, min(item, LONGEST_ITEM)))
    else:
        least = min(natural, column.minimum)
    return Needs(natural, max(least, 1), (*widths, cell_len(column.header)))


class Layout(NamedTuple):
    widths: list[int | None]  # per column, None when left out
    dropped: list[int]  # the columns left out, in the order they were
    needed: int  # the narrowest width at which no column is left out


def layout(columns: Sequence[FitColumn], wants: Sequence[Needs], width: int) -> Layout:
    """Column widths that fit `width` characters (rules and padding included).

    In order of preference: every column at its natural width; figures' headers wrapped; names and
    lists narrowed (`grow` decides by how much); then columns left out by their `drop` rank. A list
    that may be left out is also left out when keeping it would wrap most rows that would otherwise
    be on one line. When nothing is left to leave out, names and lists narrow to FLOOR and the
    figures stay whole, whatever the width (rich then wraps the lines, never cuts them)."""
    plan = arrange(columns, wants, width)
    if plan.dropped:  # the narrowest width that shows every column (the widths that do are contiguous)
        low, high = width, sum(w.natural for w in wants) + frame(len(columns))
        while low + 1 < high:
            middle = (low + high) // 2
            low, high = (middle, high) if arrange(columns, wants, middle).dropped else (low, middle)
        plan = plan._replace(needed=high)
    return plan


def arrange(columns: Sequence[FitColumn], wants: Sequence[Needs], width: int) -> Layout:
    shown = list(range(len(columns)))
    dropped: list[int] = []
    needed = width
    while True:
        widths = fitted(shown, columns, wants, width)
        droppable = [i for i in shown if columns[i].drop] if len(shown) > 1 else []  # never the last column
        victim = min(droppable, key=lambda i: (columns[i].drop, -i)) if droppable else None
        if victim is None or (widths is not None and not crowds(victim, shown, widths, columns, wants, width)):
            if widths is None:  # the last resort: names, then lists, narrow further; figures never
                least = squeeze({i: wants[i].least for i in shown}, columns, width - frame(len(shown)))
                widths = grow(least, {i: wants[i] for i in shown}, columns, width - frame(len(shown)))
            return Layout([widths.get(i) for i in range(len(columns))], dropped, needed)
        shown.remove(victim)
        dropped.append(victim)


LAST_RESORT = [(Fit.NAME, NAME_FLOOR), (Fit.LIST, FLOOR), (Fit.NAME, FLOOR)]


def squeeze(widths: dict[int, int], columns: Sequence[FitColumn], room: int,
            steps: Sequence[tuple[Fit, int]] = LAST_RESORT) -> dict[int, int]:
    """Narrow the widest column of a kind one character at a time down to a floor, kind after kind
    (by default names down to NAME_FLOOR, then lists down to FLOOR, then names down to FLOOR), until
    the columns fit `room` or nothing narrows."""
    widths = dict(widths)
    for fit, floor in steps:
        while sum(widths.values()) > room:
            narrowing = [i for i in widths if columns[i].fit is fit and widths[i] > floor]
            if not narrowing:
                break
            widths[max(narrowing, key=lambda i: widths[i])] -= 1
    return widths


def fitted(shown: list[int], columns: Sequence[FitColumn], wants: Sequence[Needs], width: int) -> dict[int, int] | None:
    """The widths of the `shown` columns within `width`, or None when their least widths do not fit."""
    room = width - frame(len(shown))
    least = {i: wants[i].least for i in shown}
    if sum(least.values()) > room:  # names narrow to NAME_FLOOR rather than a figure be left out
        least = squeeze(least, columns, room, [(Fit.NAME, NAME_FLOOR)])
        if sum(least.values()) > room:
            return None
    return grow(least, {i: wants[i] for i in shown}, columns, room)


def crowds(victim: int, shown: list[int], widths: dict[int, int], columns: Sequence[FitColumn],
           wants: Sequence[Needs], width: int) -> bool:
    """Whether keeping the list `victim` wraps more than a quarter of the rows, and twice as many as
    leaving it out would (a table of two-line rows reads worse than one without the list)."""
    if columns[victim].fit is not Fit.LIST:
        return False
    rows = len(wants[victim].cells)
    kept = wrapped(widths, wants)
    if 4 * kept <= rows:
        return False
    without = fitted([i for i in shown if i != victim], columns, wants, width)
    return without is not None and 2 * wrapped(without, wants) < kept


def wrapped(widths: dict[int, int], wants: Sequence[Needs]) -> int:
    """Rows (the header's included) with a cell wider than its column (on more than one line)."""
    rows = len(wants[0].cells) if wants else 0
    narrow = [i for i in widths if wants[i].natural > widths[i]]
    return sum(1 for r in range(rows) if any(wants[i].cells[r] > widths[i] for i in narrow))


def grow(widths: dict[int, int], wants: dict[int, Needs], columns: Sequence[FitColumn], room: int) -> dict[int, int]:
    """Give the room left to the columns that would be wider: by steps that each put the most rows
    (the header's included) back on one line for the room they take; then what is left to the
    figures' headers and to names and lists, leftmost first."""
    widths = dict(widths)
    spare = room - sum(widths.values())
    while spare > 0:
        step = best_step(widths, wants, spare)
        if step is None:
            break
        column, target = step
        spare -= target - widths[column]
        widths[column] = target
    in_order = [i for i in widths if columns[i].fit is Fit.FIGURE] + \
        [i for i in widths if columns[i].fit is not Fit.FIGURE]
    for i in in_order:
        more = max(0, min(spare, wants[i].natural - widths[i]))
        widths[i] += more
        spare -= more
    return widths


def best_step(widths: dict[int, int], wants: dict[int, Needs], spare: int) -> tuple[int, int] | None:
    """The widening of one column (to the width of one of its cells) that puts the most rows wholly
    on one line per character spent; None when no widening within `spare` puts any."""
    rows = len(next(iter(wants.values())).cells) if wants else 0
    narrow = [i for i in widths if wants[i].natural > widths[i]]  # only these have cells that wrap
    waiting: dict[int, list[int]] = {i: [] for i in narrow}  # rows on one line but for column i: their widths
    for r in range(rows):
        over = [i for i in narrow if wants[i].cells[r] > widths[i]]
        if len(over) == 1:
            waiting[over[0]].append(wants[over[0]].cells[r])
    best: tuple[float, int, int] | None = None  # (rows per character, column, width)
    for i, needed in waiting.items():
        needed.sort()
        for count, need in enumerate(needed, start=1):
            if need - widths[i] > spare:
                break
            if count < len(needed) and needed[count] == need:
                continue  # the last row of this width counts them all
            gain = count / (need - widths[i])
            if best is None or gain > best[0]:
                best = (gain, i, need)
    return None if best is None else (best[1], best[2])
