"""The command line: thin commands over the library. Errors become one paragraph and exit 2."""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from paramcalc import __version__
from paramcalc.errors import ParamcalcError
from paramcalc.render.formats import CheckFormat, Format, Rendering, ReportFormat, SummaryView, render_report

if TYPE_CHECKING:
    from paramcalc.compare import ConvPair
    from paramcalc.render.tabular import Tabular
    from paramcalc.report import Report
    from paramcalc.spec.model import Spec

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

CONVENTIONS = """\b
Counting conventions:
  Param #  weights + biases. Trainable vs non-trainable as Keras counts them
           (BatchNormalization: gamma, beta trainable; moving mean, variance not).
           PyTorch spellings (BatchNorm2d, ...) count parameters as PyTorch does.
  MACs     multiply-accumulates of conv, dense and attention (matrix) products only
           (the "mult-adds" of the MobileNet paper). FLOPs = 2 x MACs.
           --convention fvcore|torchinfo|ptflops|thop|... counts as that tool
           does; `summary --conventions` shows them all side by side.
  Memory   params and activations as float32 (4 bytes each), in base-1024 units."""

EXIT_CODES = """\b
Exit codes: 0 success; 2 the spec could not be read or does not fit together."""

ALL_EXIT_CODES = """\b
Exit codes: 0 success; 1 `paramcalc check` found a figure that differs from
the spec's expect: block; 2 a spec could not be read or does not fit together
(or the command line is wrong)."""

CHECK_EXIT_CODES = """\b
Exit codes: 0 every expectation holds; 1 at least one figure differs (or, with
--strict, a spec has no expect: block); 2 a spec could not be read or computed."""

EXPECT_RULES = """\b
The expect: block may state params, trainable_params, non_trainable_params,
macs, flops, activations and output_shape, for the model and per layer:
  expect:
    params: 61706
    macs: 416,520          # quote it in flow style: "416,520"
    output_shape: [null, 10]
    layers: {conv2d_1: {params: 2416, output_shape: [null, 10, 10, 16]}}
Counts are exact: 61706, "61,706", 569e6. A K/M/G/T suffix (4.2M) is a rounded
figure and needs a tolerance: `tolerance: 1%` (or an absolute count) beside the
figures applies to all of them; `params: {value: 4.2M, tolerance: 5%}` to one."""


class Paragraph(click.ClickException):
    """A message that is the whole answer (a located spec error, a bug report): one paragraph on
    stderr, as it is, and exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


DEPENDENCIES = ("click", "yaml", "rich", "sympy")  # the import names of pyproject.toml's dependencies


def failure_message(error: BaseException) -> str:
    """One paragraph for an exception paramcalc did not expect: a broken install, or a bug."""
    if isinstance(error, ModuleNotFoundError) and error.name in DEPENDENCIES:
        # Not a bug (rich is imported only when a table is drawn, so this can surface late): say how to repair it.
        return (f"error: paramcalc needs the package `{error.name}`, which is not installed in this Python "
                f"({sys.executable}). Fix: reinstall paramcalc with its dependencies, e.g. "
                f"`{sys.executable} -m pip install --force-reinstall paramcalc` (or `.` in its repository).")
    return (f"error: paramcalc failed unexpectedly ({type(error).__name__}: {error}). This is a bug in paramcalc, "
            "not in your spec; please report it with the spec attached (run it again as `paramcalc --traceback "
            "...` for the details).")


def wants_traceback(flag: bool = False) -> bool:
    """--traceback, or PARAMCALC_TRACEBACK set to anything but 0 (for runs whose command line is fixed)."""
    return flag or os.environ.get("PARAMCALC_TRACEBACK", "0") not in ("", "0")


LET_THROUGH = "paramcalc_traceback"  # marks an exception --traceback let out of a command, for `main`


class Commands(click.Group):
    """paramcalc's commands. A library error (a spec that cannot be read or computed) ends as its
    located paragraph and exit code 2; so does an exception nobody expected (a bug), unless
    --traceback asks for it to propagate, traceback and all."""

    # What click's own main loop turns into messages and exit codes.
    HANDLED_BY_CLICK = (click.ClickException, click.exceptions.Exit, click.Abort, EOFError, BrokenPipeError)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except self.HANDLED_BY_CLICK:
            raise
        except ParamcalcError as error:
            raise Paragraph(error.describe()) from None
        except Exception as error:
            if not wants_traceback(ctx.params.get("traceback", False)):
                raise Paragraph(failure_message(error)) from error
            setattr(error, LET_THROUGH, True)
            raise


# ---- options shared by several commands ---------------------------------------------------------

# The names of paramcalc.conventions.CONVENTIONS, spelled out so that --help does not import the
# engine (tests/test_conventions.py checks that the two lists agree).
CONVENTION_NAMES = ["paper", "fvcore", "torchinfo", "ptflops", "ptflops-aten", "thop", "flop-counter",
                    "flop-counter-sdpa", "flops"]


def convention_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--convention", type=click.Choice(CONVENTION_NAMES), default="paper", show_default=True,
                        help="Also count as that tool does, in a column (JSON: `convention`) of its own beside "
                        "the MACs; `check` compares `macs:` with it (paper: multiply-accumulates only; see "
                        "`paramcalc summary --conventions`).")(command)


def units_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--units", type=click.Choice(["exact", "short"]), default="exact", show_default=True,
                        help="How the table and Markdown write counts: exact (61,706) or short, three significant "
                        "digits as papers and ptflops do (61.7 K, 25.6 M, 4.09 G; the footer gives both). CSV and "
                        "JSON are always exact.")(command)


# The names of paramcalc.memory.DTYPES and OPTIMIZERS, spelled out so that --help does not import the engine.
DTYPE_NAMES = ["float32", "float16", "bfloat16", "float8", "int8", "int4"]
OPTIMIZER_NAMES = ["sgd", "momentum", "adam", "adamw"]


def cost_options(training: bool = True) -> Decorator:
    """--dtype, --weights-dtype, --activations-dtype, (with `training`) --optimizer and --mixed-precision,
    --device, --peak, --bandwidth: the command receives them as `costs` (paramcalc.memory.Costs, None
    when none is given)."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, dtype: str | None, weights_dtype: str | None, activations_dtype: str | None,
                    device: str | None, peak: str | None, bandwidth: str | None, optimizer: str | None = None,
                    mixed_precision: bool = False, memory_budget: str | None = None, **kwargs: Any) -> Any:
            given = (dtype, weights_dtype, activations_dtype, optimizer, mixed_precision or None, device, peak,
                     bandwidth, memory_budget)
            costs = None
            if any(option is not None for option in given):
                costs = make_costs(dtype, weights_dtype, activations_dtype, optimizer, mixed_precision, device, peak,
                                   bandwidth, memory_budget)
            return command(*args, costs=costs, **kwargs)

        options = [
            click.option("--dtype", type=click.Choice(DTYPE_NAMES), default=None,
                         help="The dtype of weights and activations for every byte figure (default float32)."),
            click.option("--weights-dtype", type=click.Choice(DTYPE_NAMES), default=None,
                         help="The weights' dtype, if not --dtype (e.g. int4 weights, float16 activations)."),
            click.option("--activations-dtype", type=click.Choice(DTYPE_NAMES), default=None,
                         help="The activations' dtype, if not --dtype."),
        ]
        if training:
            options += [
                click.option("--optimizer", type=click.Choice(OPTIMIZER_NAMES), default=None,
                             help="The optimizer whose state training memory counts (default adam): sgd none, "
                             "momentum one value per trainable parameter, adam and adamw two."),
                click.option("--mixed-precision", is_flag=True,
                             help="Training keeps float32 master weights and optimizer state beside the --dtype "
                             "weights."),
                click.option("--memory-budget", metavar="SIZE", default=None,
                             help="Say whether the model fits this much memory (4G, 512M; base 1024): training's "
                             "total with --optimizer, else inference's parameters + peak activations. A sweep "
                             "gains a Fits column."),
            ]
        options += [
            click.option("--device", metavar="NAME", default=None,
                         help="Estimate each layer's time on a device (`paramcalc devices` lists them): the roofline "
                         "max(FLOPs / peak, bytes / bandwidth), and whether compute or memory bounds it."),
            click.option("--peak", metavar="RATE", default=None,
                         help="A device's peak operations per second, e.g. 312T (with --bandwidth: a device of your "
                         "own; with --device: replaces its peak)."),
            click.option("--bandwidth", metavar="RATE", default=None,
                         help="A device's memory bandwidth in bytes per second, e.g. 2.0T."),
        ]
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def make_costs(dtype: str | None, weights_dtype: str | None, activations_dtype: str | None, optimizer: str | None,
               mixed_precision: bool, device: str | None, peak: str | None, bandwidth: str | None,
               memory_budget: str | None = None) -> Any:
    from paramcalc.memory import Costs, Precision, parse_bytes

    precision = Precision(weights_dtype or dtype or "float32", activations_dtype or dtype or "float32")
    if mixed_precision and precision.weights not in ("float16", "bfloat16"):
        raise click.UsageError("--mixed-precision keeps float32 master copies of float16 or bfloat16 weights: give "
                               "--dtype float16 or --dtype bfloat16 with it")
    found = None
    if device is not None or peak is not None or bandwidth is not None:
        from paramcalc.roofline import device_for

        found = device_for(device, peak, bandwidth)
    budget = parse_bytes(memory_budget) if memory_budget is not None else None
    return Costs(precision, optimizer or "adam", mixed_precision, found, budget,
                 training=optimizer is not None or mixed_precision)


class Terminal(NamedTuple):
    """How to draw a table: --width (None: the terminal's, or 200 when piped) and --no-color."""

    width: int | None = None
    no_color: bool = False


def output_options(formats: type[Format], help: str, with_width: bool = True) -> Decorator:
    """--format (a member of `formats`; the first is the default), --width (for tables, unless
    `with_width` is false) and --no-color. The command receives the member as `fmt` (the user's
    string is converted here, at the edge) and the drawing options as `terminal`."""
    members = list(formats)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, fmt: str, no_color: bool, width: int | None = None, **kwargs: Any) -> Any:
            return command(*args, fmt=formats(fmt), terminal=Terminal(width, no_color), **kwargs)

        options = [click.option("--format", "fmt", type=click.Choice([m.value for m in members]),
                                default=members[0].value, show_default=True, help=help)]
        if with_width:
            options.append(click.option("--width", type=click.IntRange(40, 1000), default=None,
                                        help="Table width in characters (default: the terminal's). Figures are "
                                        "never cut: names wrap, and a column that cannot fit is left out with a "
                                        "note."))
        options.append(click.option("--no-color", is_flag=True,
                                    help="Plain text: no colour, bold or dim (also when NO_COLOR is set)."))
        for option in reversed(options):  # click lists options in the order their decorators are written
            wrapper = option(wrapper)
        return wrapper

    return decorate


class SpecReader:
    """How to read a spec: the --set values, the --input shapes and the size limits (see `spec_options`)."""

    __slots__ = ("sets", "max_layers", "max_values", "inputs")

    def __init__(self, sets: tuple[str, ...], max_layers: int, max_values: int, inputs: tuple[str, ...] = ()) -> None:
        self.sets = sets
        self.max_layers = max_layers
        self.max_values = max_values
        self.inputs = inputs  # --input SHAPE or NAME=SHAPE, replacing the spec's input shapes

    def adjust(self, spec: Spec) -> Spec:
        """`spec` with the --input shapes in place of its own."""
        if not self.inputs:
            return spec
        from paramcalc.inputs import override_inputs, parse_inputs

        return override_inputs(spec, parse_inputs(self.inputs))

    def sweep(self) -> dict[str, list[str]]:
        """Each --set variable with its values (several make a sweep)."""
        from paramcalc.sweep import parse_sets

        return parse_sets(self.sets)

    def values(self) -> dict[str, str]:
        """The --set values of a command that runs the spec once: a sweep is refused with a clear message."""
        values = self.sweep()
        for name, options in values.items():
            if len(options) > 1:
                raise click.UsageError(f"--set {name} gives {len(options)} values: sweeps are for `paramcalc summary`")
        return {name: options[0] for name, options in values.items()}

    def report(self, path: str, values: dict[str, str] | None = None, keep_formulas: bool = False) -> Report:
        """Load the spec at `path` (with `values`, by default the --set ones) and analyse it."""
        from paramcalc.engine import analyze
        from paramcalc.spec.loader import load_spec

        spec = load_spec(path, self.values() if values is None else values, self.max_layers, self.max_values)
        return analyze(self.adjust(spec), keep_formulas=keep_formulas)


def spec_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--set NAME=VALUE (repeatable; one value each), --input SHAPE and the size limits. The command
    receives them as `reader`, a `SpecReader`."""
    return _spec_options(command, "Override a variable of the spec's vars: block (repeatable): --set alpha=0.5.")


def sweep_spec_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`spec_options` whose --set also takes several values: a sweep."""
    return _spec_options(command, "Override a variable of the spec's vars: block (repeatable). Several values, "
                         "comma-separated or as a range start:stop:step (stop included), run a sweep over every "
                         "combination: --set alpha=0.25:1:0.25 --set res=224,160.")


def _spec_options(command: Callable[..., Any], set_help: str) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, sets: tuple[str, ...], max_layers: int, max_values: int, inputs: tuple[str, ...],
                **kwargs: Any) -> Any:
        return command(*args, reader=SpecReader(sets, max_layers, max_values, inputs), **kwargs)

    wrapper = click.option("--max-layers", type=click.IntRange(1), default=1_000_000, show_default=True,
                           help="Refuse specs that expand (blocks, repeat) to more layers than this.")(wrapper)
    wrapper = click.option("--max-yaml-values", "max_values", type=click.IntRange(1), default=10_000_000,
                           show_default=True, help="Refuse YAML that expands (through aliases) to more values "
                           "than this.")(wrapper)
    wrapper = click.option("--input", "inputs", multiple=True, metavar="SHAPE",
                           help="Replace the spec's input shape, without the batch dimension and in the spec's "
                           "data format: --input 3,224,224. A spec with several inputs takes NAME=SHAPE, once per "
                           "input to change.")(wrapper)
    return click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=set_help)(wrapper)


def show(rendering: Any, terminal: Terminal) -> None:
    """Print a rendering to stdout: text as it is (programs read it), anything else (a rich
    renderable) drawn for the terminal."""
    if isinstance(rendering, str):
        click.echo(rendering)
    else:
        console_for(terminal).print(rendering, crop=False)  # a line too long wraps; it is never cut


def plain_text(terminal: Terminal) -> bool:
    """--no-color, or NO_COLOR set to anything but the empty string (no-color.org): no colour, and no
    bold or dim either."""
    return terminal.no_color or bool(os.environ.get("NO_COLOR"))


def console_for(terminal: Terminal) -> Any:
    from rich.console import Console

    width = terminal.width
    # Piped output is not wrapped at 80 columns: it is read by programs and diffs, not a window.
    if width is None and not sys.stdout.isatty():
        width = 200
    return Console(file=sys.stdout, width=width, color_system=None if plain_text(terminal) else "auto",
                   highlight=False, force_terminal=None, soft_wrap=False)


# ---- the commands ---------------------------------------------------------------------------------

@click.group(cls=Commands, help=f"""paramcalc: parameters, output shapes and MACs of a neural network, from a
YAML spec and the formulas alone (no framework, no tensors).

\b
  paramcalc summary zoo:lenet5          a bundled spec (paramcalc zoo lists them)
  paramcalc summary --format json my_model.yaml

{CONVENTIONS}

{ALL_EXIT_CODES}""", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paramcalc")
@click.option("--traceback", is_flag=True, help="If paramcalc fails unexpectedly (a bug), show Python's traceback "
              "instead of one paragraph (also: PARAMCALC_TRACEBACK=1).")
def cli(traceback: bool) -> None:
    pass  # --traceback is read by `Commands.invoke`


KV_DTYPES = ("float32", "float16", "bfloat16", "float8", "int8", "float64")  # generation.DTYPE_BYTES


@cli.command(help=f"""Print the Keras-style summary of SPEC (a YAML file, or - for standard input):
every layer's output shape, Param # and MACs, then total / trainable / non-trainable params,
MACs and FLOPs, activation memory, and warnings (e.g. when a stride does not divide evenly and the
framework floors the output size).

{CONVENTIONS}

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@output_options(ReportFormat, help="table for people; json for programs (stable keys, exact integers, batch as "
                "null unless --batch); csv and markdown: the layer rows.")
@click.option("--by-type", is_flag=True, help="Instead of every layer, MACs and params per layer type "
              "(Conv 1x1, Conv DW 3x3, Conv 3x3, FC, ...), as in the MobileNet paper's Table 2.")
@click.option("--depth", type=click.IntRange(0), default=None,
              help="Fold layers nested deeper than N blocks into their block's row (0: top-level items only).")
@click.option("--conventions", "all_conventions", is_flag=True,
              help="Instead of every layer, the model's total under every counting convention (paper, fvcore, "
              "torchinfo, ptflops, thop, ...) side by side, with what each adds explained by layer type.")
@convention_option
@click.option("--batch", type=click.IntRange(1), default=None, metavar="N",
              help="Count for a batch of N samples: shapes show N as their first dimension, and MACs, FLOPs and "
              "activations are for the whole batch (JSON too); params are the same. Without it every count is "
              "per sample and the batch is None (null in JSON).")
@units_option
@click.option("--context", type=click.IntRange(1), default=None, metavar="N",
              help="For a decoder-only transformer: also the MACs of generating one token at context length N "
              "with a KV cache, and the cache's size per token and at N tokens (JSON: `generation`).")
@click.option("--kv-dtype", type=click.Choice(KV_DTYPES), default="float16", show_default=True,
              help="The dtype the KV cache of --context is stored in (its bytes per value).")
@click.option("--warnings", "shown_warnings", type=click.Choice(["short", "full", "off"]), default="short",
              show_default=True, help="Warnings under the table: short folds the ones of the same cause into one "
              "line naming the layers; full lists each with its arithmetic; off leaves them out (and CSV and "
              "Markdown no longer say on stderr that they were left out). JSON always has them all.")
@cost_options()
@click.option("--plot", "plot", default=None, metavar="FILE",
              help="With a sweep: also write MACs against params, a point per combination, to FILE (.svg; .png needs "
              "matplotlib: pip install 'paramcalc[plot]'). --format html shows it under the table.")
@click.option("--bars", is_flag=True, help="Add a column with a small bar of each layer's share of the MACs, so that "
              "the expensive layers are seen at a glance (the table; --format html always has them).")
@sweep_spec_options
@click.option("--filter", "row_filter", metavar="EXPR", help="Sweeps: keep the combinations whose figures meet "
              "EXPR: comparisons of params, trainable_params, macs, flops, activations, activation_bytes and the "
              "variables with numbers (300e6, 3M), joined by and / or / not: --filter \"macs < 300e6 and params < "
              "3e6\".")
@click.option("--sort", metavar="FIELD", help="Sweeps: order the rows by FIELD (one of --filter's), ascending; "
              "-FIELD or --desc for descending. Sorting holds every row kept in memory (with --top N, N rows).")
@click.option("--desc", "descending", is_flag=True, help="With --sort: descending.")
@click.option("--top", type=click.IntRange(1), metavar="N", help="Sweeps: only the first N rows (with --sort, the N "
              "smallest, or largest with --desc); without --sort the sweep stops once it has them.")
def summary(spec: str, fmt: ReportFormat, terminal: Terminal, by_type: bool, depth: int | None,
            all_conventions: bool, convention: str, batch: int | None, units: str, context: int | None,
            kv_dtype: str, shown_warnings: str, plot: str | None, bars: bool, reader: SpecReader,
            row_filter: str | None, sort: str | None, descending: bool, top: int | None, costs: Any = None) -> None:
    from paramcalc.sweep import count

    if batch is not None and all_conventions:
        raise click.UsageError("--batch does not apply to --conventions, which compares the counts of one sample")
    if costs is not None and (all_conventions or (by_type and costs.device is None)):
        raise click.UsageError("--dtype, --optimizer, --device and --memory-budget add memory and time to the layer "
                               "table or a sweep; " + ("--conventions" if all_conventions else "--by-type") +
                               " does not show them" + ("" if all_conventions else " (with --device it shows each "
                                                        "type's time)"))
    sweep = reader.sweep()
    if descending and sort is None:
        raise click.UsageError("--desc orders the rows of --sort: give --sort FIELD")
    # --filter, --sort and --top choose rows of a sweep: with them even one combination is one
    sweeping = count(sweep) > 1 or row_filter is not None or sort is not None or top is not None
    refuse_mixed_views(sweeping, by_type, all_conventions, depth, convention, fmt)
    if context is not None and fmt in (ReportFormat.CSV, ReportFormat.MARKDOWN):
        raise click.UsageError(f"--context adds figures under the table and to the JSON report, which the {fmt.value} "
                               "layer rows do not show (use --format table or json)")
    refuse_bars(bars, sweeping or by_type or all_conventions, fmt)
    if plot is not None and count(sweep) < 2:
        raise click.UsageError("--plot draws a sweep: give --set with several values, e.g. --set alpha=0.25,0.5,1")
    view: Rendering
    warned = 0  # warnings that CSV and Markdown leave out
    if sweeping:
        if context is not None:
            raise click.UsageError("--context gives one model's generation figures: give each --set one value")
        sweep_output(spec, sweep, reader, fmt, terminal, batch, units, (row_filter, sort, descending, top), costs,
                     plot)
        return
    else:
        report = reader.report(spec, {name: values[0] for name, values in sweep.items()})
        view = summary_view(report, by_type, depth, all_conventions, convention, batch, shown_warnings, costs)
        if isinstance(view, SummaryView):
            view.bars = bars
        if context is not None:  # issue 14: generating one token with a KV cache (paramcalc/generation.py)
            view = generation_view(view, report, context, kv_dtype)
        warned = len(report.warnings) if shown_warnings != "off" else 0
    view.short_units = units == "short"
    show(render_report(view, fmt), terminal)
    if warned and fmt in (ReportFormat.CSV, ReportFormat.MARKDOWN):
        them = "them" if warned > 1 else "it"
        click.echo(f"paramcalc: {warned} warning{'s' if warned > 1 else ''} left out of the {fmt.value} output; "
                   f"--format table or json shows {them} (--warnings off: no such note).", err=True)


def generation_view(view: Rendering, report: Report, context: int, kv_dtype: str) -> Rendering:
    """The summary with the figures of generating at `context` (of one sequence: `report` is before --batch)."""
    from paramcalc.generation import generation
    from paramcalc.render.sequence import GenerationView

    if not isinstance(view, SummaryView):
        raise click.UsageError("--context adds to the layer table or the JSON report, which --by-type and "
                               "--conventions do not show")
    return GenerationView(view, generation(report, context, kv_dtype))


def refuse_mixed_views(sweep: bool, by_type: bool, all_conventions: bool, depth: int | None, convention: str,
                       fmt: ReportFormat) -> None:
    """Options that choose different views of `summary` do not combine: say so rather than drop one."""
    chosen = [name for name, given in (("a sweep (--set with several values)", sweep), ("--by-type", by_type),
                                       ("--conventions", all_conventions)) if given]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} are different views of the model: choose one")
    if chosen and depth is not None:
        raise click.UsageError(f"--depth folds the layer rows, which {chosen[0]} does not show")
    if chosen and convention != "paper" and not by_type:
        raise click.UsageError(f"--convention adds a column to the layer rows, which {chosen[0]} does not show"
                               + (" (it shows every convention already)" if all_conventions else ""))
    if depth is not None and fmt is ReportFormat.JSON:
        raise click.UsageError("--depth folds the rows of a table; the JSON report lists every layer, each with "
                               "its `block_path` (use --format table, csv or markdown)")


def refuse_bars(bars: bool, other_view: bool, fmt: ReportFormat) -> None:
    """--bars is a column of the terminal's layer table: say so rather than ignore it."""
    if bars and other_view:
        raise click.UsageError("--bars adds a column to the layer rows, which a sweep, --by-type and --conventions "
                               "do not show")
    if bars and fmt not in (ReportFormat.TABLE, ReportFormat.HTML):
        raise click.UsageError(f"--bars draws in the table; --format {fmt.value} has the MACs themselves (and "
                               "--format html has bars of its own)")


def summary_view(report: Report, by_type: bool, depth: int | None, all_conventions: bool, convention: str,
                 batch: int | None = None, shown_warnings: str = "short", costs: Any = None) -> Rendering:
    """What `summary` shows of one model: every layer (by default), its totals under every
    convention, or its figures by layer type; for one sample, or for a batch of `batch`."""
    if all_conventions:
        from paramcalc.render.conventions import conventions_table

        return conventions_table(report)
    counted_by = ""  # the tool a convention reproduces, for the table's footer
    if convention != "paper":  # the engine counts the paper's way already
        from paramcalc.conventions import CONVENTIONS, apply

        report, counted_by = apply(report, convention), CONVENTIONS[convention].tool
    if batch is not None:  # after the convention, which counts one sample's operations
        from paramcalc.inputs import with_batch

        report = with_batch(report, batch)
    if by_type:
        from paramcalc.render.compare import by_type_table

        table = by_type_table(report)
        if costs is not None and costs.device is not None:  # each type's share of the time
            from paramcalc.render.costs import add_type_times

            add_type_times(table, report, costs)
        return table
    return SummaryView(report, depth, counted_by, warnings=shown_warnings, costs=costs)


def sweep_output(spec: str, sets: dict[str, list[str]], reader: SpecReader, fmt: ReportFormat, terminal: Terminal,
                 batch: int | None, units: str, selection: tuple[str | None, str | None, bool, int | None],
                 costs: Any = None, plot: str | None = None) -> None:
    """One row per combination of the --set values, streamed as computed (paramcalc/sweeprun.py);
    with --dtype, --device or --memory-budget, memory and time columns that --filter and --sort may
    name; with --plot or --format html, the rows kept for the plots too."""
    from paramcalc import sweeprun

    row_filter, sort, descending, top = selection
    extra = sweep_cost_figures(costs) if costs is not None else None
    page = fmt is ReportFormat.HTML  # a page is drawn once its rows are known, as the table is
    kept: list[dict[str, Any]] | None = [] if plot is not None or page else None
    table = sweeprun.run(spec, sets, "table" if page else fmt.value, sys.stdout, reader.adjust, batch, row_filter,
                         sort, descending, top, units == "short", reader.max_layers, reader.max_values, extra,
                         kept)
    if table is not None and extra:
        from paramcalc.render.costs import show_sweep_costs

        show_sweep_costs(table, costs)
    if kept is not None:
        from paramcalc.render.tabular import Tabular

        chart_rows = Tabular(table.title if table is not None else spec, [], kept)
        add_plots(chart_rows, "sweep", plot, fmt, list(sets))
        if page and table is not None:
            table.pictures.extend(chart_rows.pictures)
            click.echo(table.html(), nl=False)
            return
    if table is not None:
        show(table.rich(), terminal)


def sweep_cost_figures(costs: Any) -> dict[str, Callable[[Report], Any]]:
    """The memory and time figures of each combination (memory.sweep_figures) as extra sweep columns."""
    from paramcalc.memory import sweep_figures

    last: list[Any] = [None, {}]  # the report last asked about and its figures: one computation a row

    def figures(report: Report) -> dict[str, Any]:
        if last[0] is not report:
            last[0], last[1] = report, sweep_figures(report, costs)
        return last[1]

    keys = ["peak_activation_bytes", "training_bytes"]
    keys += ["roofline_seconds"] if costs.device is not None else []
    keys += ["needed_bytes", "fits"] if costs.budget is not None else []

    def figure(key: str) -> Callable[[Report], Any]:
        return lambda report: figures(report)[key]

    return {key: figure(key) for key in keys}


@cli.command(help=f"""Draw SPEC: one box per layer (name, type, output shape, params; MACs with
--macs), arrows from its inputs, blocks as labelled groups (--depth folds them into one box), the
heavy layers shaded by their share of MACs (or params). SVG needs no other program; DOT is for
Graphviz (dot -Tpng model.dot -o model.png), Mermaid for Markdown (GitHub draws it).

\b
  paramcalc draw zoo:resnet50 -o resnet50.svg
  paramcalc draw zoo:resnet50 --depth 1 --format mermaid

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE (default: standard output). Its suffix chooses the format when --format is not "
              "given: .dot/.gv, .mmd/.mermaid, else SVG.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot", "mermaid"]), default=None,
              help="svg (default), dot or mermaid.")
@click.option("--depth", type=click.IntRange(0), default=None,
              help="Fold layers nested deeper than N blocks into one box per block (0: top-level items only).")
@click.option("--macs", "show_macs", is_flag=True, help="Write each box's MACs too.")
@click.option("--shade", type=click.Choice(["macs", "params", "none"]), default="macs", show_default=True,
              help="Shade each box by its share of the model's MACs or params.")
@spec_options
def draw(spec: str, output: str | None, fmt: str | None, depth: int | None, show_macs: bool, shade: str,
         reader: SpecReader) -> None:
    from paramcalc.render.diagram import build_diagram, render_diagram

    fmt = fmt or format_of(output)
    text = render_diagram(build_diagram(reader.report(spec), depth, shade, show_macs), fmt)
    write_output(text, output)


def format_of(output: str | None, default: str = "svg") -> str:
    """The drawing format an output file's suffix names."""
    suffix = os.path.splitext(output or "")[1].lower()
    return {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}.get(suffix, default)


def write_output(text: str, output: str | None) -> None:
    """`text` to the file `output`, or to stdout; a file that cannot be written is one paragraph, exit 2."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as error:
        raise Paragraph(f"error: cannot write {output}: {error.strerror or error}. Fix: choose a path in a folder "
                        "that exists and that you can write to.") from None


@cli.command(help=f"""Compare each spec's computed figures with its expect: block. PATHS are spec
files, bundled specs (zoo:NAME) or folders, searched recursively for specs: hidden folders are
skipped, and so are YAML files that are plainly not specs (no input:, inputs: or layers: at the top).

{EXPECT_RULES}

--update writes the computed figures into the expect: blocks of the specs that fail: only the
values that differ are replaced, written the way they were (61_706, "61,706", 4.2M with its
tolerance); comments and formatting elsewhere are kept. A spec without a block gets one with
params, macs and output_shape.

{CHECK_EXIT_CODES}""")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@output_options(CheckFormat, with_width=False, help="text: a table on a terminal, one line per failure when "
                "piped; json; junit (JUnit XML, valid under Jenkins xunit's junit-10.xsd); github (one ::error "
                "annotation per failing spec, paths relative to the repository root).")
@click.option("--strict", is_flag=True, help="A spec without an expect: block fails (exit 1).")
@click.option("--update", is_flag=True, help="Write the computed figures into the expect: blocks of the specs "
              "that fail (or have none); they are reported as updated.")
@click.option("--skip-non-specs", is_flag=True, help="Skip YAML files named on the command line that are plainly "
              "not specs, as folders do (for hooks that pass every YAML file).")
@convention_option
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...], fmt: CheckFormat, terminal: Terminal, strict: bool,
          update: bool, skip_non_specs: bool, convention: str) -> None:
    from paramcalc.check import check_paths
    from paramcalc.render.check_report import render_check

    run = check_paths(paths, strict, convention, update, skip_non_specs)
    show(render_check(run, fmt, tty=sys.stdout.isatty()), terminal)
    ctx.exit(run.exit_code)


@cli.command(help=f"""Show how every number of SPEC is obtained: for each layer (or only the named
LAYERs), the output size, params and MACs as formulas with the spec's numbers substituted, in the
notation of the tutorials: (N - F + 2P)/S + 1 = (32 - 5 + 0)/1 + 1 = 28.

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@click.argument("layers", nargs=-1, metavar="[LAYER]...")
@spec_options
def explain(spec: str, layers: tuple[str, ...], reader: SpecReader) -> None:
    from paramcalc.render.explain import render_explain

    report = reader.report(spec, keep_formulas=True)
    click.echo(render_explain(report, chosen_rows(report, layers)))


def chosen_rows(report: Report, names: tuple[str, ...]) -> list[Any]:
    """The rows of the named layers, in the order named (all rows when none is)."""
    if not names:
        return list(report.rows)
    by_name = {row.name: row for row in report.rows}
    for name in names:
        if name not in by_name:
            from paramcalc.errors import Location
            from paramcalc.suggest import did_you_mean

            raise ParamcalcError(f"the model has no layer named `{name}`", Location(report.source),
                                 did_you_mean(name, by_name) or "run `paramcalc summary` to see the names.")
    return [by_name[name] for name in names]


@cli.command(name="zoo", help=f"""The model zoo: the specs that come with paramcalc, with their figures;
or, given a MODEL, its spec (to start your own: paramcalc zoo lenet5 > my_model.yaml). Every
command takes a bundled spec as zoo:NAME, e.g. paramcalc summary zoo:resnet50.

{EXIT_CODES}""")
@click.argument("model", required=False, metavar="[MODEL]")
@output_options(ReportFormat, help="table for people; json, csv and markdown for programs and documents.")
def zoo_command(model: str | None, fmt: ReportFormat, terminal: Terminal) -> None:
    from paramcalc import modelzoo

    if model is not None:
        from paramcalc.spec.loader import read_source

        text, _ = read_source(modelzoo.PREFIX + model.removeprefix(modelzoo.PREFIX))
        click.echo(text, nl=False)
        return
    show(render_report(modelzoo.zoo_table(modelzoo.entries()), fmt), terminal)


@cli.command(name="devices", help="""The device presets of `--device`: each one's published peak
operations per second by dtype, its memory bandwidth and where the figures come from
(paramcalc/data/devices.json). Any other device: --peak 312T --bandwidth 2.0T.""")
@output_options(ReportFormat, help="table for people; json, csv and markdown for programs and documents.")
def devices_command(fmt: ReportFormat, terminal: Terminal) -> None:
    from paramcalc.render.costs import devices_table

    show(render_report(devices_table(), fmt), terminal)


@cli.command(name="layers", help="""List the supported layer kinds with their arguments, defaults and
formulas, or everything about the named KINDs.""")
@click.argument("kinds", nargs=-1, metavar="[KIND]...")
def layers_command(kinds: tuple[str, ...]) -> None:
    from paramcalc.catalog import catalog
    from paramcalc.render.layers import render_kinds

    click.echo(render_kinds(catalog(kinds)))


@cli.command(name="schema", help="""Print a JSON Schema of the spec format, generated from the layer
registry: every layer kind with its arguments, their types, defaults and docs. With an editor
that runs the YAML language server (VS Code's YAML extension, ...), specs then complete kinds and
arguments and underline mistakes as they are typed:

\b
  paramcalc schema > paramcalc.schema.json
  # and as the first line of a spec (the path is relative to the spec):
  # yaml-language-server: $schema=paramcalc.schema.json""")
def schema_command() -> None:
    from paramcalc.schema import render_schema

    click.echo(render_schema())


GRID_HELP = """\b
Grid mode (no SPEC): every combination of
  --in N      input channels     --out M    output channels
  --kernel K  kernel size        --size S   input feature-map size
  [--stride]  D = ceil(S / stride), as with 'same' padding
Values are comma lists or ranges start:stop:step (stop included): --in 32,64,128 --kernel 3:7:2"""


@cli.command(help=f"""Standard vs depthwise-separable convolution costs.

\b
  paramcalc compare SPEC          each convolution of SPEC both ways, and the
                                  whole network in both forms (MobileNet Table 4)
  paramcalc compare A.yaml B.yaml two models side by side, with differences
  paramcalc compare --in 32,64 --out 64,128 --kernel 3,5 --size 112,56

{GRID_HELP}

Standard: D^2 x K^2 x N x M MACs; separable: D^2 x K^2 x N + D^2 x N x M; their
ratio is 1/M + 1/K^2 (the seed's closed form). Weights exclude biases.

{EXIT_CODES}""")
@click.argument("specs", nargs=-1, metavar="[SPEC [SPEC]]")
@click.option("--in", "ins", metavar="N,...", help="Input channels (grid mode).")
@click.option("--out", "outs", metavar="M,...", help="Output channels (grid mode).")
@click.option("--kernel", "kernels", metavar="K,...", help="Kernel sizes (grid mode).")
@click.option("--size", "sizes", metavar="S,...", help="Input feature-map sizes (grid mode).")
@click.option("--stride", type=click.IntRange(1), default=1, show_default=True, help="Stride (grid mode).")
@click.option("--multiplier", type=click.IntRange(1), default=1, show_default=True,
              help="Depth multiplier of the depthwise part (grid mode).")
@click.option("--sort", type=click.Choice(["standard_macs", "separable_macs", "ratio", "saving", "N", "M", "K", "D"]),
              default=None, help="Sort the grid by a column (default: the order given).")
@click.option("--desc", is_flag=True, help="Sort in descending order.")
@output_options(ReportFormat, help="table for people; csv, json, markdown for notebooks and papers; html: one "
                "page with the table and its plots.")
@click.option("--plot", "plot", default=None, metavar="FILE",
              help="Also write two plots to FILE (.svg; .png needs matplotlib: pip install 'paramcalc[plot]'): each "
              "convolution standard and separable, MACs against weights; and the ratio against M, per kernel size.")
@convention_option
@units_option
@cost_options(training=False)
@spec_options
def compare(specs: tuple[str, ...], ins: str | None, outs: str | None, kernels: str | None, sizes: str | None,
            stride: int, multiplier: int, sort: str | None, desc: bool, fmt: ReportFormat, terminal: Terminal,
            plot: str | None, convention: str, units: str, reader: SpecReader, costs: Any = None) -> None:
    grid = (ins, outs, kernels, sizes)
    if costs is not None and costs.device is None:
        raise click.UsageError("compare uses --dtype for its time estimates: give a --device (or --peak and "
                               "--bandwidth) with it")
    if any(grid):
        if specs:
            raise click.UsageError("give either SPEC files or the grid options (--in, --out, --kernel, --size)")
        table = compare_grid(grid, stride, multiplier, sort, desc, costs)
    elif len(specs) == 1:
        report = reader.report(specs[0])
        table = compare_convolutions(report, costs)
    elif len(specs) == 2:
        if plot is not None:
            raise click.UsageError("--plot draws the convolutions of one SPEC or of a grid, not two models side "
                                   "by side")
        table = compare_two_specs(specs, reader, convention)
    else:
        raise click.UsageError("give one SPEC, two SPECs to put side by side, or the grid options")
    if len(specs) < 2:
        add_plots(table, "compare", plot, fmt)
    if specs and fmt is ReportFormat.HTML:  # the page shows the models too
        add_diagrams(table, [report] if len(specs) == 1 else [reader.report(path) for path in specs])
    table.short_units = units == "short"
    show(render_report(table, fmt), terminal)


def add_plots(table: Tabular, kind: str, path: str | None, fmt: ReportFormat, names: list[str] | None = None) -> None:
    """The plots of a sweep or a comparison (render/plot.py), from its table's rows: written to
    `path` (--plot), and shown under the table of an HTML page."""
    if path is None and fmt is not ReportFormat.HTML:
        return
    from paramcalc.render import plot as plots

    if kind == "sweep":
        charts = [plots.sweep_chart(table.title, names or [], table.rows)]
    else:
        charts = [plots.forms_chart("Each convolution, standard and depthwise-separable", table.rows),
                  plots.ratio_chart("Separable / standard MACs over the grid", table.rows)]
    if fmt is ReportFormat.HTML:
        table.pictures.append(plots.render_svg(charts, standalone=False))
    if path is not None:
        try:
            text = plots.write_plot(charts, path)
        except plots.PlotError as error:
            raise Paragraph(str(error)) from None
        except OSError as error:
            raise Paragraph(f"error: cannot write {path}: {error.strerror or error}. Fix: choose a path in a folder "
                            "that exists and that you can write to.") from None
        if text is not None:
            write_output(text, path)


def add_diagrams(table: Tabular, reports: list[Report]) -> None:
    """Each model's diagram under the table of an HTML page (render/diagram.py)."""
    from paramcalc.render.diagram import build_diagram, render_svg

    table.pictures += [render_svg(build_diagram(report), standalone=False) for report in reports]


GRID_LIMIT = 1_000_000  # combinations


def compare_grid(options: tuple[str | None, ...], stride: int, multiplier: int, sort: str | None,
                 descending: bool, costs: Any = None) -> Tabular:
    """Grid mode: standard vs separable for every combination of --in, --out, --kernel and --size."""
    from paramcalc.compare import grid, parse_values
    from paramcalc.render.compare import pairs_table

    if not all(options):
        raise click.UsageError("grid mode needs all of --in, --out, --kernel and --size")
    try:
        ins, outs, kernels, sizes = (parse_values(text or "", name)
                                     for text, name in zip(options, ("in", "out", "kernel", "size")))
    except ValueError as bad:
        raise click.UsageError(str(bad)) from None
    combinations = len(ins) * len(outs) * len(kernels) * len(sizes)
    if combinations > GRID_LIMIT:
        raise click.UsageError(f"the grid has {combinations:,} combinations; at most {GRID_LIMIT:,} are allowed")
    pairs: list[ConvPair] = grid(ins, outs, kernels, sizes, stride=stride, multiplier=multiplier)
    title = (f"Standard vs depthwise-separable, {combinations:,} combination{'s' if combinations > 1 else ''} "
             f"(stride {stride})")
    times = None
    if costs is not None:  # --device: each combination's time both ways, reading a size x size x N input
        import itertools

        from paramcalc.roofline import pair_seconds

        inputs = [n * size * size for n, _, _, size in itertools.product(ins, outs, kernels, sizes)]
        times = [pair_seconds(p, read, costs.device, costs.precision) for p, read in zip(pairs, inputs)]
    return pairs_table(title, pairs, sort, descending, times)


def compare_convolutions(report: Report, costs: Any = None) -> Tabular:
    """One spec: each of its convolutions both ways, and the whole network in both forms (and, with a
    device, in time)."""
    from paramcalc.compare import compare_spec
    from paramcalc.render.compare import spec_table

    comparison = compare_spec(report)
    if costs is None:
        return spec_table(comparison)
    from paramcalc.roofline import compare_times

    return spec_table(comparison, compare_times(comparison, costs.device, costs.precision), costs.device.name)


def compare_two_specs(paths: tuple[str, ...], reader: SpecReader, convention: str) -> Tabular:
    """Two models side by side, with the differences, counted under `convention`."""
    from paramcalc.conventions import apply
    from paramcalc.render.compare import two_specs_table

    a, b = (apply(reader.report(path), convention) for path in paths)
    a.require_numbers("paramcalc compare")
    b.require_numbers("paramcalc compare")
    return two_specs_table(a, b)


@cli.command(name="import", help=f"""Turn a model file into a spec: a Keras 3 model's JSON (`model.to_json()`)
or `.keras` archive (only its config.json is read, never the weights), an ONNX file (with the extra:
pip install 'paramcalc[onnx]') or a Hugging Face config.json of a family in the zoo. The spec keeps
the model's layer names and edges; it is checked by computing it before it is written.

{EXIT_CODES}""")
@click.argument("file", metavar="FILE")
@click.option("-o", "--output", "output", metavar="SPEC", default=None,
              help="Write the spec to this file (default: standard output).")
def import_command(file: str, output: str | None) -> None:
    from paramcalc.importers.command import run_import

    click.echo(run_import(file, output), nl=False)


@cli.command(name="export", help=f"""Write Python that builds SPEC's model in a framework: Keras 3 (the
functional API) or PyTorch (an nn.Module with a forward), under the spec's layer names. The code's
model has the params and shapes `paramcalc summary` prints. A layer kind without an equivalent in
the target framework is an error naming it.

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@click.option("--to", "target", type=click.Choice(["keras", "pytorch"]), required=True,
              help="The framework the code is for.")
@click.option("-o", "--output", "output", metavar="FILE", default=None,
              help="Write the code to this file (default: standard output).")
def export_command(spec: str, target: str, output: str | None) -> None:
    from paramcalc.export.command import run_export

    click.echo(run_export(spec, target, output), nl=False)


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user (unless asked for)."""
    # A short-lived process that builds many small objects and few cycles: the cyclic garbage
    # collector only costs time here (half of it on a 10,000-layer graph).
    gc.disable()
    try:
        cli.main(prog_name="paramcalc")
    except BrokenPipeError:
        sys.stderr.close()  # `paramcalc summary ... | head` is not an error
        sys.exit(0)
    except Exception as error:  # let through by --traceback, or raised outside any command
        if wants_traceback(getattr(error, LET_THROUGH, False)):
            raise
        click.echo(failure_message(error), err=True)
        sys.exit(2)
