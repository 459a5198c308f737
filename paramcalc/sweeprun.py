"""`paramcalc summary` with a sweep: rows streamed to standard output as they are computed, kept
or dropped by --filter, ordered by --sort, cut by --top, with a progress bar on a terminal."""

from __future__ import annotations

import heapq
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from paramcalc.query import parse_filter, sort_field
from paramcalc.spec.expand import MAX_LAYERS
from paramcalc.spec.model import Spec
from paramcalc.spec.yamlnodes import MAX_NODES
from paramcalc.sweep import FIGURES, Extra, Sweeper

PROGRESS_FROM = 100  # combinations: shorter sweeps finish before a bar would be read
FLUSH_EVERY = 0.2  # seconds: rows reach a reader (a pipe, a terminal) at least this often


class Selection:
    """--filter, --sort (FIELD ascending, -FIELD or --desc descending) and --top N, checked against
    the sweep's fields before anything is computed."""

    def __init__(self, fields: list[str], row_filter: str | None = None, sort: str | None = None,
                 descending: bool = False, top: int | None = None) -> None:
        self.text = row_filter
        self.test = parse_filter(row_filter, fields) if row_filter is not None else None
        self.sort: str | None = None
        self.descending = descending
        if sort is not None:
            self.sort, minus = sort_field(sort, fields)
            self.descending = descending or minus
        self.top = top
        self.passed = 0  # rows that met the filter

    def apply(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The rows to show, in order: filtered as they come; sorted ones all held (or, with --top N,
        the N best only)."""
        kept = self.filtered(rows)
        if self.sort is None:
            for i, row in enumerate(kept):
                if self.top is not None and i >= self.top:
                    return  # the rest is not even computed
                yield row
            return
        key = sort_key(self.sort)
        if self.top is not None:
            pick = heapq.nlargest if self.descending else heapq.nsmallest
            yield from pick(self.top, kept, key=key)  # both as stable as sorted()
        else:
            yield from sorted(kept, key=key, reverse=self.descending)

    def filtered(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        test = self.test
        for row in rows:
            if test is None or test(row):
                self.passed += 1
                yield row

    def notes(self, total: int) -> list[str]:
        notes = []
        if self.text is not None:
            notes.append(f"--filter \"{self.text}\": {self.passed:,} of {total:,} combinations pass.")
        if self.sort is not None:
            notes.append(f"Sorted by {self.sort}, {'descending' if self.descending else 'ascending'}"
                         + (f"; the first {self.top:,} shown." if self.top is not None else "."))
        elif self.top is not None:
            notes.append(f"--top {self.top:,}: the first {self.top:,} rows, in the sweep's order.")
        return notes


def sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    """Numbers in their order, words after them (a variable may take both)."""
    def key(row: dict[str, Any]) -> Any:
        value = row[field]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, value, "")
        return (1, 0, str(value))

    return key


def run(spec: str, sets: dict[str, list[str]], fmt: str, out: IO[str], adjust: Callable[[Spec], Spec] | None = None,
        batch: int | None = None, row_filter: str | None = None, sort: str | None = None, descending: bool = False,
        top: int | None = None, short_units: bool = False, max_layers: int | None = None,
        max_values: int | None = None, extra: Extra | None = None, kept: list[dict[str, Any]] | None = None) -> Any:
    """Stream the sweep's rows to `out`; returns the table to draw for the table format (else None).
    `extra` adds figures (functions of a Report, see `iter_sweep_rows`) as columns after the others,
    which --filter and --sort may name; `kept` (a list) receives every row written, for plots."""
    from paramcalc.render.sweep import SweepWriter, sweep_columns, sweep_title

    sweeper = Sweeper(spec, sets, adjust, batch, extra, max_layers=max_layers or MAX_LAYERS,
                      max_values=max_values or MAX_NODES)
    names = list(sets)
    selection = Selection([*names, *FIGURES[:-1], *(extra or {})], row_filter, sort, descending, top)
    writer = SweepWriter(fmt, out, sweep_title(sweeper.name, sweeper.total, names, row_filter),
                         sweep_columns(names, list(extra or {})), short_units)
    with progress_bar(sweeper.total, fmt) as progress:
        flushed = time.monotonic()
        for row in selection.apply(point.row for point in sweeper.rows(progress)):
            writer.write(row)
            if kept is not None:
                kept.append(row)
            if fmt != "table" and time.monotonic() - flushed > FLUSH_EVERY:
                out.flush()
                flushed = time.monotonic()
    return writer.finish(selection.notes(sweeper.total))


class progress_bar:  # noqa: N801 - used as a context manager, like open()
    """A rich progress bar with the time left, on standard error, when it is a terminal and the sweep
    is long; not when the rows stream to the same terminal (they would break through it)."""

    def __init__(self, total: int, fmt: str) -> None:
        self.total = total
        self.shown = total >= PROGRESS_FROM and sys.stderr.isatty() and (fmt == "table" or not sys.stdout.isatty())
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.shown:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("sweeping"), BarColumn(), MofNCompleteColumn(), TextColumn("left"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                            redirect_stdout=False, redirect_stderr=False)
        self.bar.__enter__()
        task = self.bar.add_task("sweeping", total=self.total)
        every = max(1, self.total // 1000)  # a thousand updates at most: each costs as much as a row

        def advance(done: int) -> None:
            if done % every == 0 or done == self.total:
                self.bar.update(task, completed=done)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
