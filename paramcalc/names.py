"""Names paramcalc gives to things: neutral ground that the spec expander and the layers may share."""

from __future__ import annotations

import functools
import re


@functools.cache  # one call per unnamed layer, a handful of distinct kinds
def snake_case(name: str) -> str:
    """Keras's automatic layer-name prefix: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
