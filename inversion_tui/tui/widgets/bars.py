"""Small text bars for score components."""

from __future__ import annotations

from rich.text import Text

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float | None, width: int = 8, style: str = "cyan") -> Text:
    """A horizontal bar of `width` cells for a value in [0, 1], with eighth-cell resolution."""
    if value is None:
        return Text("·" * width, style="dim")
    eighths = round(max(0.0, min(1.0, value)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return Text(text.ljust(width), style=style)
