"""`summary --bars`: a small bar per layer for its share of the model's MACs, in the terminal table,
so that the expensive layers are seen at a glance."""

from __future__ import annotations

from typing import Any

BAR_CELLS = 5  # characters of the bar; each holds eighths, so 40 steps
EIGHTHS = " ▏▎▍▌▋▊▉█"
TITLE = "MACs share"


def share_of(part: Any, whole: Any) -> float | None:
    """part / whole, or None when either is not a number (free input dimensions) or the whole is 0."""
    if isinstance(part, int) and isinstance(whole, int) and whole:
        return part / whole
    return None


def bar_text(fraction: float, heaviest: float, cells: int = BAR_CELLS) -> str:
    """The bar (drawn against the heaviest layer's share, so small differences show) and the share
    itself: `█████ 57.6%`, `██▊   28.2%`. Always the same width."""
    eighths = round(cells * 8 * fraction / heaviest) if heaviest > 0 else 0
    full, part = divmod(eighths, 8)
    bar = "█" * full + (EIGHTHS[part] if part else "")
    return f"{bar:<{cells}} {fraction * 100:5.1f}%"


def bar_cells(macs: list[Any], total: Any) -> list[str]:
    """One cell per row: its bar, or nothing when the share is not a number."""
    shares = [share_of(m, total) for m in macs]
    heaviest = max((s for s in shares if s is not None), default=0.0)
    return ["" if s is None else bar_text(s, heaviest) for s in shares]
