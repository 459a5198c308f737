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


_SHORT = ("", "K", "M", "G", "T", "P", "E", "Z", "Y")


def short(n: int) -> str:
    """A count as papers and ptflops write it: 4,089,184,256 -> "4.09 G", 25,636,712 -> "25.6 M"
    (three significant digits, halves rounded up; exact below 1,000). Integers only, so exact at any
    size; past Y (10^24) in powers of ten ("1.23e27"). A formula is shown as it is."""
    if not isinstance(n, int):
        return formula(n)
    if n < 0:
        return "-" + short(-n)
    if n < 1000:
        return str(n)
    exponent = len(str(n)) - 1
    digits = (n + 5 * 10 ** (exponent - 3)) // 10 ** (exponent - 2)  # three digits, half up
    if digits == 1000:  # 999,950 rounds up to 1.00 M
        exponent, digits = exponent + 1, 100
    whole = exponent % 3 + 1
    mantissa = f"{str(digits)[:whole]}.{str(digits)[whole:]}".rstrip(".")
    group = exponent // 3
    return f"{mantissa} {_SHORT[group]}" if group < len(_SHORT) else f"{str(digits)[0]}.{str(digits)[1:]}e{exponent}"
