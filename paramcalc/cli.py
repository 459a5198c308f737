"""The command line: thin commands over the library. Errors become one paragraph and exit 2."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from paramcalc import __version__
from paramcalc.errors import ParamcalcError

F = TypeVar("F", bound=Callable[..., Any])

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


class SpecProblem(click.ClickException):
    """A `ParamcalcError` shown as one paragraph on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, error: ParamcalcError) -> None:
        super().__init__(error.describe())
        self.error = error

    def show(self, file: Any = None) -> None:
        click.echo(self.error.describe(), err=True)


# The names of paramcalc.conventions.CONVENTIONS, spelled out so that --help does not import the
# engine (tests/test_conventions.py checks that the two lists agree).
CONVENTION_NAMES = ["paper", "fvcore", "torchinfo", "ptflops", "ptflops-aten", "thop", "flop-counter", "flops"]


def convention_option(command: F) -> F:
    return click.option("--convention", type=click.Choice(CONVENTION_NAMES), default="paper", show_default=True,
                        help="Also count as that tool does, in a column (JSON: `convention`) of its own beside "
                        "the MACs; `check` compares `macs:` with it (paper: multiply-accumulates only; see "
                        "`paramcalc summary --conventions`).")(command)


def set_options(command: F) -> F:
    """--set NAME=VALUE (repeatable; comma-separated values make a sweep) and the size limits."""
    command = click.option("--max-layers", type=click.IntRange(1), default=1_000_000, show_default=True,
                           help="Refuse specs that expand (blocks, repeat) to more layers than this.")(command)
    command = click.option("--max-yaml-values", "max_values", type=click.IntRange(1), default=10_000_000,
                           show_default=True, help="Refuse YAML that expands (through aliases) to more values "
                           "than this.")(command)
    return click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                        help="Override a variable of the spec's vars: block (repeatable). Several values, "
                        "comma-separated, run a sweep over every combination: --set alpha=1,0.5 --set res=224,160."
                        )(command)


def reports_errors(command: F) -> F:
    """Turn library errors into exit code 2 with the located message."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ParamcalcError as error:
            raise SpecProblem(error) from None

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    return wrapper  # type: ignore[return-value]


@click.group(help=f"""paramcalc: parameters, output shapes and MACs of a neural network, from a YAML
spec and the formulas alone (no framework, no tensors).

\b
  paramcalc summary specs/lenet5.yaml
  paramcalc summary --format json specs/alexnet.yaml

{CONVENTIONS}

{EXIT_CODES}""", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paramcalc")
def cli() -> None:
    pass


@cli.command(help=f"""Print the Keras-style summary of SPEC (a YAML file, or - for standard input):
every layer's output shape, Param # and MACs, then total / trainable / non-trainable params,
MACs and FLOPs, activation memory, and warnings (e.g. when a stride does not divide evenly and the
framework floors the output size).

{CONVENTIONS}

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True, help="table for people; json for programs (stable keys, exact integers, batch "
              "as null); csv and markdown: the layer rows.")
@click.option("--width", type=click.IntRange(40, 1000), default=None,
              help="Table width in characters (default: the terminal's).")
@click.option("--no-color", is_flag=True, help="Plain text without colour (also when NO_COLOR is set).")
@click.option("--by-type", is_flag=True, help="Instead of every layer, MACs and params per layer type "
              "(Conv 1x1, Conv DW 3x3, Conv 3x3, FC, ...), as in the MobileNet paper's Table 2.")
@click.option("--depth", type=click.IntRange(0), default=None,
              help="Fold layers nested deeper than N blocks into their block's row (0: top-level items only).")
@click.option("--conventions", "all_conventions", is_flag=True,
              help="Instead of every layer, the model's total under every counting convention (paper, fvcore, "
              "torchinfo, ptflops, thop, ...) side by side, with what each adds explained by layer type.")
@convention_option
@set_options
@reports_errors
def summary(spec: str, fmt: str, width: int | None, no_color: bool, by_type: bool, depth: int | None,
            all_conventions: bool, convention: str, sets: tuple[str, ...], max_layers: int, max_values: int) -> None:
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec
    from paramcalc.sweep import count, parse_sets

    values = parse_sets(sets)
    if count(values) > 1:
        run_sweep_command(spec, values, fmt, width, no_color)
        return
    report = analyze(load_spec(spec, {k: v[0] for k, v in values.items()}, max_layers, max_values),
                     keep_formulas=False)
    if all_conventions:
        from paramcalc.render.conventions import conventions_table

        emit(conventions_table(report), fmt, width, no_color)
        return
    if convention != "paper":  # the engine counts the paper's way already
        from paramcalc.conventions import apply

        report = apply(report, convention)
    if by_type:
        from paramcalc.render.compare import by_type_table

        emit(by_type_table(report), fmt, width, no_color)
        return
    if fmt == "json":
        from paramcalc.render.json_report import render_json

        click.echo(render_json(report))
        return
    if fmt in ("csv", "markdown"):
        from paramcalc.render.table import rows_table

        emit(rows_table(report, depth), fmt, width, no_color)
        return
    from paramcalc.render.table import render_table

    console_for(width, no_color).print(render_table(report, depth))


def run_sweep_command(spec: str, values: dict[str, list[str]], fmt: str, width: int | None, no_color: bool) -> None:
    from paramcalc.render.sweep import sweep_table
    from paramcalc.sweep import count, run_sweep

    total = count(values)
    if sys.stderr.isatty() and total > 20:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("sweeping", total=total)
            rows = run_sweep(spec, values, lambda done: bar.update(task, completed=done))
    else:
        rows = run_sweep(spec, values)
    emit(sweep_table(rows, list(values)), fmt, width, no_color)


@cli.command(help=f"""Compare each spec's computed figures with its expect: block. PATHS are spec
files or folders (searched recursively for *.yaml and *.yml).

{EXPECT_RULES}

--update writes the computed figures into the expect: blocks instead of failing: only the values
that differ are replaced (comments and formatting elsewhere are kept), and a spec without a block
gets one with params, macs and output_shape.

{CHECK_EXIT_CODES}""")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "github"]), default="text",
              show_default=True, help="text: a table on a terminal, one line per failure when piped; json; "
              "junit (JUnit XML for CI dashboards); github (::error annotations on the expect: lines).")
@click.option("--strict", is_flag=True, help="A spec without an expect: block fails (exit 1).")
@click.option("--update", is_flag=True, help="Write the computed figures into the specs' expect: blocks.")
@click.option("--no-color", is_flag=True, help="Plain text without colour (also when NO_COLOR is set).")
@convention_option
@click.pass_context
@reports_errors
def check(ctx: click.Context, paths: tuple[str, ...], fmt: str, strict: bool, update: bool, no_color: bool,
          convention: str) -> None:
    from paramcalc.check import check_paths

    if update:
        from paramcalc.check import spec_paths
        from paramcalc.update import update_file

        for path in spec_paths(paths):
            try:
                changes = update_file(path)
            except ParamcalcError as error:
                click.echo(error.describe(), err=True)
                continue
            for change in changes:
                click.echo(f"{path}: {change.label}: {change.old or '(none)'} -> {change.new}", err=True)
    run = check_paths(paths, strict, convention)
    if fmt == "text" and sys.stdout.isatty():
        from paramcalc.render.check_report import render_rich

        console_for(None, no_color).print(render_rich(run))
    else:
        from paramcalc.render import check_report

        render = {"text": check_report.render_lines, "json": check_report.render_json,
                  "junit": check_report.render_junit, "github": check_report.render_github}[fmt]
        click.echo(render(run))
    ctx.exit(run.exit_code)


@cli.command(help=f"""Show how every number of SPEC is obtained: for each layer (or only the named
LAYERs), the output size, params and MACs as formulas with the spec's numbers substituted, in the
notation of the tutorials: (N - F + 2P)/S + 1 = (32 - 5 + 0)/1 + 1 = 28.

{EXIT_CODES}""")
@click.argument("spec", metavar="SPEC")
@click.argument("layers", nargs=-1, metavar="[LAYER]...")
@set_options
@reports_errors
def explain(spec: str, layers: tuple[str, ...], sets: tuple[str, ...], max_layers: int, max_values: int) -> None:
    from paramcalc.engine import analyze
    from paramcalc.render.explain import render_explain
    from paramcalc.spec.loader import load_spec

    report = analyze(load_spec(spec, single_values(sets), max_layers, max_values))
    rows = list(report.rows)
    if layers:
        by_name = {row.name: row for row in report.rows}
        for name in layers:
            if name not in by_name:
                from paramcalc.errors import Location
                from paramcalc.suggest import did_you_mean

                raise ParamcalcError(f"the model has no layer named `{name}`", Location(report.source),
                                     did_you_mean(name, by_name) or "run `paramcalc summary` to see the names.")
        rows = [by_name[name] for name in layers]
    click.echo(render_explain(report, rows))


@cli.command(name="layers", help="""List the supported layer kinds with their arguments, defaults and
formulas, or everything about the named KINDs.""")
@click.argument("kinds", nargs=-1, metavar="[KIND]...")
@reports_errors
def layers_command(kinds: tuple[str, ...]) -> None:
    from paramcalc.render.layers import render_kinds

    click.echo(render_kinds(kinds))


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
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True, help="table for people; csv, json, markdown for notebooks and papers.")
@click.option("--width", type=click.IntRange(40, 1000), default=None, help="Table width in characters.")
@click.option("--no-color", is_flag=True, help="Plain text without colour (also when NO_COLOR is set).")
@convention_option
@set_options
@reports_errors
def compare(specs: tuple[str, ...], ins: str | None, outs: str | None, kernels: str | None, sizes: str | None,
            stride: int, multiplier: int, sort: str | None, desc: bool, fmt: str, width: int | None,
            no_color: bool, convention: str, sets: tuple[str, ...], max_layers: int, max_values: int) -> None:
    from paramcalc import compare as cmp
    from paramcalc.render import compare as tables

    grid_options = (ins, outs, kernels, sizes)
    if any(grid_options):
        if specs:
            raise click.UsageError("give either SPEC files or the grid options (--in, --out, --kernel, --size)")
        if not all(grid_options):
            raise click.UsageError("grid mode needs all of --in, --out, --kernel and --size")
        try:
            values = [cmp.parse_values(text, name) for text, name in  # type: ignore[arg-type]
                      zip(grid_options, ("in", "out", "kernel", "size"))]
        except ValueError as bad:
            raise click.UsageError(str(bad)) from None
        combinations = len(values[0]) * len(values[1]) * len(values[2]) * len(values[3])
        if combinations > 1_000_000:
            raise click.UsageError(f"the grid has {combinations:,} combinations; at most 1,000,000 are allowed")
        pairs = cmp.grid(*values, stride=stride, multiplier=multiplier)
        title = (f"Standard vs depthwise-separable, {combinations:,} combination{'s' if combinations > 1 else ''} "
                 f"(stride {stride})")
        emit(tables.pairs_table(title, pairs, sort, desc), fmt, width, no_color)
        return
    from paramcalc.engine import analyze
    from paramcalc.spec.loader import load_spec

    values = single_values(sets)
    if len(specs) == 1:
        report = analyze(load_spec(specs[0], values, max_layers, max_values), keep_formulas=False)
        emit(tables.spec_table(cmp.compare_spec(report)), fmt, width, no_color)
    elif len(specs) == 2:
        from paramcalc.conventions import apply

        a, b = (apply(analyze(load_spec(path, values, max_layers, max_values), keep_formulas=False), convention)
                for path in specs)
        a.require_numbers("paramcalc compare")
        b.require_numbers("paramcalc compare")
        emit(tables.two_specs_table(a, b), fmt, width, no_color)
    else:
        raise click.UsageError("give one SPEC, two SPECs to put side by side, or the grid options")


def single_values(sets: tuple[str, ...]) -> dict[str, str]:
    """--set values for commands that run one spec: a sweep is refused with a clear message."""
    from paramcalc.sweep import parse_sets

    values = parse_sets(sets)
    for name, options in values.items():
        if len(options) > 1:
            raise click.UsageError(f"--set {name} gives {len(options)} values: sweeps are for `paramcalc summary`")
    return {k: v[0] for k, v in values.items()}


def emit(table: Any, fmt: str, width: int | None, no_color: bool) -> None:
    """Print a `Tabular` in the chosen format ('json' and 'table' as elsewhere)."""
    if fmt == "table":
        console_for(width, no_color).print(table.rich())
    else:
        click.echo({"csv": table.csv, "json": table.json, "markdown": table.markdown}[fmt]())


def console_for(width: int | None, no_color: bool) -> Any:
    from rich.console import Console

    stdout = sys.stdout
    # Piped output is not wrapped at 80 columns: it is read by programs and diffs, not a window.
    if width is None and not stdout.isatty():
        width = 200
    return Console(file=stdout, width=width, no_color=no_color or None, highlight=False,
                   force_terminal=None, soft_wrap=False)


DEPENDENCIES = ("click", "yaml", "rich", "sympy")  # the import names of pyproject.toml's dependencies


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    # A short-lived process that builds many small objects and few cycles: the cyclic garbage
    # collector only costs time here (half of it on a 10,000-layer graph).
    gc.disable()
    try:
        cli.main(prog_name="paramcalc")
    except BrokenPipeError:
        sys.stderr.close()  # `paramcalc summary ... | head` is not an error
        sys.exit(0)
    except Exception as exc:  # a bug in paramcalc, not in the spec: still one paragraph
        if "--traceback" in sys.argv or "PARAMCALC_TRACEBACK" in __import__("os").environ:
            raise
        if isinstance(exc, ModuleNotFoundError) and exc.name in DEPENDENCIES:
            # A broken install, not a bug (rich is imported only when a table is drawn, so this can
            # surface late): say how to repair it.
            click.echo(f"error: paramcalc needs the package `{exc.name}`, which is not installed in this Python "
                       f"({sys.executable}). Fix: reinstall paramcalc with its dependencies, e.g. "
                       f"`{sys.executable} -m pip install .` in its repository.", err=True)
            sys.exit(2)
        click.echo(f"error: paramcalc failed unexpectedly ({type(exc).__name__}: {exc}). This is a bug in "
                   "paramcalc, not in your spec; please report it with the spec attached "
                   "(set PARAMCALC_TRACEBACK=1 for details).", err=True)
        sys.exit(2)
