"""'Did you mean' suggestions for misspelt names."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The known names closest to `word`, compared case-insensitively."""
    import difflib  # only on the error path: keeps start-up fast

    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=limit, cutoff=0.6)
    return [by_lower[m] for m in matches]


def closest_spellings(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """Like `closest`, but names that differ only in case are all kept (`Conv2D` and `Conv2d` are
    different layers), in the order of `choices`."""
    import difflib

    groups: dict[str, list[str]] = {}
    for choice in choices:
        groups.setdefault(choice.lower(), []).append(choice)
    matches = difflib.get_close_matches(word.lower(), list(groups), n=limit, cutoff=0.6)
    return [name for match in matches for name in groups[match]][:limit]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' Did you mean `a` or `b`?' or an empty string."""
    found = closest(word, choices)
    if not found:
        return ""
    names = " or ".join(f"`{name}`" for name in found)
    return f"did you mean {names}?"
