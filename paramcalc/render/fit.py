"""Tables and prose that fit the terminal without cutting a figure.

Left to itself, rich shrinks every column of a table that is too wide, counts first, and ends a cut
cell with "…". Here the widths are decided before rich draws, from the width it offers at render
time: a figure (a count, a percentage, a shape) keeps its whole width and is never wrapped (only its
header may wrap between words); names fold and lists wrap between their items; when even that does
not fit, the least important columns are left out, and a note under the table names them and says
how to see them. Imported only to draw a table (it needs rich)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from paramcalc.render.layout import Fit, FitColumn, Layout, atoms, frame, layout, longest_atom, needs

Cell = Text | str


class Row(NamedTuple):
    cells: Sequence[Cell]
    style: str = ""
    end_section: bool = False  # a rule under the row (before the totals)


class FitTable:
    """A rich renderable: a titled table laid out by `layout` at the width it is drawn at, then notes.
    `more` says how to see the columns left out: a text where `{width}` is the width that shows them
    all and `{them}` is "it" or "them"."""

    def __init__(self, columns: Sequence[FitColumn], rows: Sequence[Row], title: Cell | None = None,
                 notes: Sequence[Cell] = (), more: str = "a terminal {width} columns wide shows {them}") -> None:
        self.columns = list(columns)
        self.rows = list(rows)
        self.title = title
        self.notes = list(notes)
        self.more = more

    def layout(self, width: int) -> Layout:
        wants = [needs(c, [row.cells[i] for row in self.rows]) for i, c in enumerate(self.columns)]
        return layout(self.columns, wants, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        plan = self.layout(width)
        if self.title is not None:
            yield Prose([pieces(styled(self.title, "bold"))], hang="")
        yield self.table(plan)
        notes = ([self.left_out(plan, width)] if plan.dropped else []) + self.notes
        yield Prose([pieces(styled(note, "dim")) for note in notes], hang="")

    def table(self, plan: Layout) -> Table:
        kept = [i for i, w in enumerate(plan.widths) if w is not None]
        # The table's own width: rich shrinks nothing, even in the last resort where the figures
        # alone are wider than the terminal (the lines are then longer, never cut).
        table = Table(box=box.HEAVY_HEAD, header_style="bold",
                      width=sum(plan.widths[i] or 0 for i in kept) + frame(len(kept)))
        for i in kept:
            c = self.columns[i]
            # Cells never exceed a figure column's width, so only its header can wrap; names and lists
            # wrap at spaces and fold what is longer than the column: nothing ends in "…".
            table.add_column(c.header, justify="right" if c.right else "left", width=plan.widths[i],
                             overflow="fold")
        for row in self.rows:
            cells = [row.cells[i] if self.columns[i].fit is Fit.FIGURE else
                     hang(row.cells[i], plan.widths[i] or 1, 2 if self.columns[i].fit is Fit.NAME else 0)
                     for i in kept]
            table.add_row(*cells, style=row.style or None, end_section=row.end_section)
        return table

    def left_out(self, plan: Layout, width: int) -> str:
        names = [self.columns[i].header for i in plan.dropped]
        listed = ", ".join(f"`{name}`" for name in names)
        which = "them" if len(names) > 1 else "it"
        return f"{listed} left out at {width} columns: {self.more.format(width=plan.needed, them=which)}."


def styled(cell: Cell, style: str) -> Text:
    return Text(cell, style=style) if isinstance(cell, str) else cell


def hang(cell: Cell, width: int, more: int) -> Cell:
    """A cell wider than its column, wrapped between words (never inside a shape), its lines after
    the first indented `more` under its own indent (a layer's type under its name, not at the
    column's edge where a new row would start)."""
    text = Text(cell) if isinstance(cell, str) else cell
    if text.cell_len <= width:
        return cell
    indent = len(text.plain) - len(text.plain.lstrip(" "))
    indent = max(0, min(indent + more, width - longest_atom(text.plain)))  # less indent, not a folded word
    lines = list(Prose([], hang=" " * indent).wrap(pieces(text), width))
    return Text("\n").join(lines)


def pieces(text: Text) -> Styled:
    """A styled text as (text, style) pieces, one per run of the same styles."""
    plain = text.plain
    cuts = sorted({0, len(plain)} | {span.start for span in text.spans} | {span.end for span in text.spans})
    styles = [" ".join(str(span.style) for span in text.spans if span.start <= start and span.end >= end)
              for start, end in zip(cuts, cuts[1:])]
    base = str(text.style) if text.style else ""
    return [(plain[start:end], " ".join(filter(None, (base, style))))
            for (start, end), style in zip(zip(cuts, cuts[1:]), styles) if end > start]


# ---- prose that wraps between words, never inside a shape --------------------------------------------

Styled = list[tuple[str, str]]  # pieces of text, each with its style


def words(pieces: Sequence[tuple[str, str]]) -> Iterator[tuple[Styled, Styled]]:
    """(the spaces before it, the word) for each word of `pieces`: a run of atoms with no space
    between them, whatever their styles, is one word. Spaces at the end are dropped."""
    space: Styled = []
    word: Styled = []
    for text, style in pieces:
        for atom, is_space in atoms(text):
            if not is_space:
                word.append((atom, style))
                continue
            if word:
                yield space, word
                space, word = [], []
            space.append((atom, style))
    if word:
        yield space, word


class Prose:
    """Paragraphs of styled pieces, wrapped at the width they are drawn at: between words, never
    inside a shape or a number; lines after a paragraph's first are indented by `hang`."""

    def __init__(self, paragraphs: Sequence[Sequence[tuple[str, str]]], hang: str = "   ") -> None:
        self.paragraphs = [list(p) for p in paragraphs]
        self.hang = hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for paragraph in self.paragraphs:
            if not paragraph:
                yield Text("")  # an empty line between parts
            yield from self.wrap(paragraph, options.max_width)

    def wrap(self, pieces: list[tuple[str, str]], width: int) -> Iterator[Text]:
        line, started = Text(overflow="fold"), False
        for space, word in words(pieces):
            gap = sum(cell_len(s) for s, _ in space)
            if started and line.cell_len + gap + sum(cell_len(w) for w, _ in word) > width:
                yield line
                line, space = Text(self.hang, overflow="fold"), []
            for text, style in space + word:
                line.append(text, style=style)
            started = True
        if started:
            yield line

