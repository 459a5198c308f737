"""The output formats, one enum per family of commands, and the report family's dispatcher.

The user's `--format` string becomes a member at the CLI's edge; past it, formats are compared by
identity and every dispatch ends in `unreachable`, so that mypy names each place a new member must
be handled. Adding a format: one member here, one renderer, one branch in its family's dispatcher.

Light on purpose (no rich, no dataclasses): `--help` and `--format json` import it too."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

if TYPE_CHECKING:
    from paramcalc.memory import Costs
    from paramcalc.report import Report


class Format(str, Enum):
    """An output format; its value is the spelling of `--format`."""

    def __str__(self) -> str:
        return self.value


class ReportFormat(Format):
    """Formats of the commands that print figures (summary, compare)."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"  # one self-contained page (render/html_report.py)
    JSONL = "jsonl"  # JSON Lines: one object a row (a sweep's rows as they are computed)


class CheckFormat(Format):
    """Formats of `paramcalc check`."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    GITHUB = "github"
    HTML = "html"


def unreachable(value: NoReturn) -> NoReturn:
    """The end of an exhaustive dispatch: mypy rejects a call that some member could reach."""
    raise AssertionError(f"unhandled {type(value).__name__}: {value!r}")


class Rendering(Protocol):
    """Something the report formats can show: a `Tabular`, or a model's summary (`SummaryView`).
    `short_units` (--units short) writes counts as 4.09 G in the table and Markdown."""

    short_units: bool

    def rich(self) -> Any: ...

    def json(self) -> str: ...

    def csv(self) -> str: ...

    def markdown(self) -> str: ...

    def html(self) -> str: ...
    def jsonl(self) -> str: ...


def render_report(view: Rendering, fmt: ReportFormat) -> Any:
    """`view` in `fmt`: text for programs, or a rich renderable for the table."""
    if fmt is ReportFormat.TABLE:
        return view.rich()
    if fmt is ReportFormat.JSON:
        return view.json()
    if fmt is ReportFormat.CSV:
        return view.csv()
    if fmt is ReportFormat.MARKDOWN:
        return view.markdown()
    if fmt is ReportFormat.HTML:
        return view.html()
    if fmt is ReportFormat.JSONL:
        return view.jsonl()
    unreachable(fmt)


class SummaryView:
    """A model's summary: the Keras-style table, the full JSON report, or its layer rows (csv,
    markdown). Each format imports its renderer only when asked for (JSON never loads rich)."""

    __slots__ = ("report", "depth", "counted_by", "short_units", "warnings", "costs", "bars")

    def __init__(self, report: Report, depth: int | None = None, counted_by: str = "", short_units: bool = False,
                 warnings: str = "short", costs: Costs | None = None, bars: bool = False) -> None:
        self.report = report
        self.depth = depth  # fold layers nested deeper than this into their block's row
        self.counted_by = counted_by  # the tool whose count a non-paper convention reproduces
        self.short_units = short_units  # --units short: counts as 4.09 G in the table and Markdown
        self.warnings = warnings  # --warnings: short, full or off (under the table)
        self.costs = costs  # --dtype, --optimizer, --device...: memory and time (None: not asked for)
        self.bars = bars  # --bars: a column with each layer's share of the MACs as a bar

    def rich(self) -> Any:
        from paramcalc.render.table import render_table
        from paramcalc.render.warnings import WarningsShown

        return render_table(self.report, self.depth, self.counted_by, self.short_units, WarningsShown(self.warnings),
                            self.costs, self.bars)

    def json(self) -> str:
        from paramcalc.render.json_report import render_json

        return render_json(self.report, self.costs)

    def csv(self) -> str:
        from paramcalc.render.costs import add_layer_costs
        from paramcalc.render.table import rows_table

        table = rows_table(self.report, self.depth)
        add_layer_costs(table, self.report, self.costs)  # --device: each layer's roofline
        return table.csv()

    def markdown(self) -> str:
        from paramcalc.render.costs import add_layer_costs
        from paramcalc.render.table import rows_table

        table = rows_table(self.report, self.depth)
        add_layer_costs(table, self.report, self.costs)
        table.short_units = self.short_units
        return table.markdown()

    def html(self) -> str:
        from paramcalc.render.html_report import summary_page

        return summary_page(self.report, self.depth, self.counted_by, self.warnings)

    def jsonl(self) -> str:
        from paramcalc.render.table import rows_table

        return rows_table(self.report, self.depth).jsonl()
