"""Number formatting with ints only (exact at any size, no float overflow)."""

from __future__ import annotations

from paramcalc.layers.formula import expression_text

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def thousands(n: int) -> str:
    """61,706; a formula (free input dimensions) is shown as it is."""
    return f"{n:,}" if isinstance(n, int) else formula(n)


def formula(x: object) -> str:
    return expression_text(x)


def readable_bytes(size: int) -> str:
    """Keras 3's memory size text: base 1024, two decimals ("241.04 KB")."""
    if not isinstance(size, int):
        return f"{formula(size)} B"
    unit = 0
    while unit < len(_UNITS) - 1 and size >= 1024 ** (unit + 1):
        unit += 1
    scale = 1024**unit
    hundredths, rest = divmod(size * 100, scale)
    if 2 * rest > scale or (2 * rest == scale and hundredths % 2):  # round half to even, like format()
        hundredths += 1
    return f"{hundredths // 100:,}.{hundredths % 100:02d} {_UNITS[unit]}"


def shape_text(shape: tuple[int | None, ...]) -> str:
    """(None, 28, 28, 6) as Keras prints it."""
    inner = ", ".join("None" if d is None else formula(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def shapes_text(shapes: tuple[tuple[int | None, ...], ...]) -> str:
    """A layer's outputs as Keras prints them: one shape, or a list of shapes for several."""
    if len(shapes) == 1:
        return shape_text(shapes[0])
    return "[" + ", ".join(shape_text(shape) for shape in shapes) + "]"
