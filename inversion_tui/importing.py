"""Registries name their implementations as "package.module:function", resolved on first use,
so a table that settings read (loop/components.py, loop/objectives.py) loads no model code."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def resolve(path: str) -> Callable[..., Any]:
    """The function a "package.module:function" name names (its module imported now)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
