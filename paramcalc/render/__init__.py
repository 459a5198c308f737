"""Renderers: pure functions from a `Report` to text. Each format lives in its own module and is
imported only when asked for, so that `--format json` never loads rich."""

from __future__ import annotations
