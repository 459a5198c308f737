"""`--input` and `--batch`: the input size from the command line, as torchinfo's `input_size` and
ptflops' `input_res` are given on every call.

`--input` replaces a loaded spec's input shape (without the batch dimension, in the spec's data
format); `--batch N` turns a report for one sample into one for a batch of N."""

from __future__ import annotations

import re

from paramcalc.errors import Location, SpecError
from paramcalc.report import Report
from paramcalc.spec.model import DEFAULT_INPUT, Spec
from paramcalc.suggest import did_you_mean

Shape = tuple[int, ...]
SEPARATORS = re.compile(r"\s*[,x×]\s*|\s+")
EXAMPLE = ("write the shape without the batch dimension, e.g. --input 3,224,224 (or NAME=3,224,224 for one of "
           "several inputs)")


def parse_inputs(items: tuple[str, ...]) -> dict[str | None, Shape]:
    """--input SHAPE or NAME=SHAPE options -> {name or None: shape}. A shape is written 3,224,224,
    3x224x224 or [3, 224, 224]."""
    given: dict[str | None, Shape] = {}
    for item in items:
        name, shape = _split(item)
        if name in given:
            which = f"input `{name}`" if name else "the input"
            raise SpecError(f"--input gives {which} twice", Location(f"--input {item}"), "give each input once.")
        given[name] = shape
    return given


def _split(item: str) -> tuple[str | None, Shape]:
    where = Location(f"--input {item}")
    name, sep, text = item.partition("=")
    if not sep:
        name, text = "", item
    name = name.strip()
    if sep and not name:
        raise SpecError("--input NAME=SHAPE needs a name before `=`", where, EXAMPLE + ".")
    text = text.strip().strip("[]()").strip()
    parts = [p for p in SEPARATORS.split(text) if p] if text else []
    if not parts:
        raise SpecError("--input needs a shape", where, EXAMPLE + ".")
    dims = []
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise SpecError(f"--input: every dimension must be a whole number of at least 1; got `{part}`", where,
                            EXAMPLE + ".")
        dims.append(int(part))
    return name or None, tuple(dims)


def override_inputs(spec: Spec, given: dict[str | None, Shape]) -> Spec:
    """`spec` with the input shapes `given` (by name; None: the spec's only input) in place of its own."""
    if not given:
        return spec
    inputs = dict(spec.inputs)
    for name, shape in given.items():
        where = Location(f"--input {'' if name is None else name + '='}{','.join(map(str, shape))}")
        if name is None:
            if len(inputs) > 1:
                listed = ", ".join(inputs)
                raise SpecError(f"the spec has {len(inputs)} inputs ({listed}): say which one --input replaces", where,
                                f"write --input NAME=SHAPE, e.g. --input {next(iter(inputs))}="
                                f"{','.join(map(str, shape))}, once for each input to change.")
            name = next(iter(inputs))
        elif name not in inputs:
            if name == DEFAULT_INPUT and len(inputs) == 1:
                name = next(iter(inputs))
            else:
                raise SpecError(f"--input: the spec has no input named `{name}`", where,
                                did_you_mean(name, inputs) or f"its inputs are {', '.join(inputs)}.")
        check_shape(spec, name, shape, where)
        inputs[name] = shape
    return spec.replace(inputs=inputs)


def check_shape(spec: Spec, name: str, shape: Shape, where: Location) -> None:
    """Refuse what is surely a slip: a batch dimension included, or the other framework's channel order."""
    old = spec.inputs[name]
    written = f"[{', '.join(str(d) for d in old)}]"
    if len(shape) != len(old):
        hint = (" (without the batch dimension: --batch N sets the batch)" if len(shape) == len(old) + 1 else "")
        raise SpecError(f"--input gives {len(shape)} dimensions but the spec's input `{name}` {written} has {len(old)}",
                        where, f"give {len(old)} dimensions, in the spec's order{hint}.")
    if len(shape) < 3 or not all(isinstance(d, int) for d in old):
        return
    channel, other = (-1, 0) if spec.channels_last else (0, -1)
    if shape[channel] != old[channel] and shape[other] == old[channel] and shape[other] != shape[channel]:
        order, layout = ("last", "[H, W, C]") if spec.channels_last else ("first", "[C, H, W]")
        swapped = (*shape[1:], shape[0]) if spec.channels_last else (shape[-1], *shape[:-1])
        raise SpecError(f"the spec reads its input channels {order} ({layout} = {written}), but "
                        f"{','.join(map(str, shape))} looks like the other order", where,
                        f"write --input {','.join(map(str, swapped))}.")


def with_batch(report: Report, batch: int) -> Report:
    """The report for a batch of `batch` samples: the batch dimension of every shape is `batch`; MACs,
    the convention's counts and activations are for the whole batch (FLOPs follow the MACs); the
    parameters are the model's, whatever the batch."""
    def batched(shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (batch, *shape[1:])

    rows = tuple(row.replace(output_shape=batched(row.output_shape), input_shape=batched(row.input_shape),
                             macs=row.macs * batch, convention_count=row.convention_count * batch)
                 for row in report.rows)
    return report.replace(rows=rows, inputs={k: batched(v) for k, v in report.inputs.items()},
                          outputs={k: batched(v) for k, v in report.outputs.items()},
                          total_macs=report.total_macs * batch, convention_total=report.convention_total * batch,
                          activations=report.activations * batch)
