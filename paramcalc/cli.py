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
    from paramcalc.sweep import SweepRow

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
CONVENTION_NAMES = ["paper", "fvcore", "torchinfo", "ptflops", "ptflops-aten", "thop", "flop-counter", "flops"]


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
@click.option("--warnings", "shown_warnings", type=click.Choice(["short", "full", "off"]), default="short",
              show_default=True, help="Warnings under the table: short folds the ones of the same cause into one "
              "line naming the layers; full lists each with its arithmetic; off leaves them out (and CSV and "
              "Markdown no longer say on stderr that they were left out). JSON always has them all.")
@sweep_spec_options
def summary(spec: str, fmt: ReportFormat, terminal: Terminal, by_type: bool, depth: int | None,
            all_conventions: bool, convention: str, batch: int | None, units: str, shown_warnings: str,
            reader: SpecReader) -> None:
    from paramcalc.sweep import count

    if batch is not None and all_conventions:
        raise click.UsageError("--batch does not apply to --conventions, which compares the counts of one sample")
    sweep = reader.sweep()
    refuse_mixed_views(count(sweep) > 1, by_type, all_conventions, depth, convention, fmt)
    view: Rendering
    warned = 0  # warnings that CSV and Markdown leave out
    if count(sweep) > 1:
        view = sweep_view(spec, sweep, reader, batch)
    else:
        report = reader.report(spec, {name: values[0] for name, values in sweep.items()})
        view = summary_view(report, by_type, depth, all_conventions, convention, batch, shown_warnings)
        warned = len(report.warnings) if shown_warnings != "off" else 0
    view.short_units = units == "short"
    show(render_report(view, fmt), terminal)
    if warned and fmt in (ReportFormat.CSV, ReportFormat.MARKDOWN):
        them = "them" if warned > 1 else "it"
        click.echo(f"paramcalc: {warned} warning{'s' if warned > 1 else ''} left out of the {fmt.value} output; "
                   f"--format table or json shows {them} (--warnings off: no such note).", err=True)


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


def summary_view(report: Report, by_type: bool, depth: int | None, all_conventions: bool, convention: str,
                 batch: int | None = None, shown_warnings: str = "short") -> Rendering:
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

        return by_type_table(report)
    return SummaryView(report, depth, counted_by, warnings=shown_warnings)


def sweep_view(spec: str, values: dict[str, list[str]], reader: SpecReader | None = None,
               batch: int | None = None) -> Tabular:
    """One row per combination of the --set values, with a progress bar on a terminal when long."""
    from paramcalc.render.sweep import sweep_table

    rows = sweep_rows(spec, values, reader.adjust if reader is not None else None)
    if batch is not None:
        from paramcalc.inputs import with_batch

        rows = [row.replace(report=with_batch(row.report, batch)) for row in rows]
    return sweep_table(rows, list(values))


def sweep_rows(spec: str, values: dict[str, list[str]], adjust: Callable[[Spec], Spec] | None = None
               ) -> list[SweepRow]:
    from paramcalc.sweep import count, run_sweep

    total = count(values)
    if not (sys.stderr.isatty() and total > 20):
        return run_sweep(spec, values, adjust=adjust)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("sweeping", total=total)
        return run_sweep(spec, values, lambda done: bar.update(task, completed=done), adjust=adjust)


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
@output_options(ReportFormat, help="table for people; csv, json, markdown for notebooks and papers.")
@convention_option
@units_option
@spec_options
def compare(specs: tuple[str, ...], ins: str | None, outs: str | None, kernels: str | None, sizes: str | None,
            stride: int, multiplier: int, sort: str | None, desc: bool, fmt: ReportFormat, terminal: Terminal,
            convention: str, units: str, reader: SpecReader) -> None:
    grid = (ins, outs, kernels, sizes)
    if any(grid):
        if specs:
            raise click.UsageError("give either SPEC files or the grid options (--in, --out, --kernel, --size)")
        table = compare_grid(grid, stride, multiplier, sort, desc)
    elif len(specs) == 1:
        table = compare_convolutions(reader.report(specs[0]))
    elif len(specs) == 2:
        table = compare_two_specs(specs, reader, convention)
    else:
        raise click.UsageError("give one SPEC, two SPECs to put side by side, or the grid options")
    table.short_units = units == "short"
    show(render_report(table, fmt), terminal)


GRID_LIMIT = 1_000_000  # combinations


def compare_grid(options: tuple[str | None, ...], stride: int, multiplier: int, sort: str | None,
                 descending: bool) -> Tabular:
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
    return pairs_table(title, pairs, sort, descending)


def compare_convolutions(report: Report) -> Tabular:
    """One spec: each of its convolutions both ways, and the whole network in both forms."""
    from paramcalc.compare import compare_spec
    from paramcalc.render.compare import spec_table

    return spec_table(compare_spec(report))


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
