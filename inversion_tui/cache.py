"""The user cache: the bundled model's dense copy and the documentation index live there."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$INVERSION_TUI_CACHE_DIR`, else the platform's user cache (~/.cache/inversion-tui)."""
    override = os.environ.get("INVERSION_TUI_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("inversion-tui"))
