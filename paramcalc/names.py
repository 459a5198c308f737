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


# Kind names a spec may not use, with why and what to write instead: a located error (not "unknown layer
# kind"), raised by the expander before the layer's arguments are read, and by the registry's lookup.
REFUSED: dict[str, tuple[str, str]] = {
    "Lambda": ("Lambda runs Python code, which a spec cannot hold and paramcalc cannot read: its output shape "
               "and counts are unknown",
               "write the layer it computes instead: `Rescaling` for x * scale + offset, `Reshape`, `Permute` or "
               "`Flatten` for a change of shape, `Activation` for a function of each value, a merge layer "
               "(`Add`, `Multiply`, `Concatenate`, ...) with `inputs:` for an operation on several tensors, or "
               "`Identity` for one that keeps the shape and has no weights."),
}
