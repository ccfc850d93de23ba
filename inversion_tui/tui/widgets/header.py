"""The run header: model, quantization, device, cycle n/N, phase, threshold, elapsed, state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def format_elapsed(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class RunHeader(Static):
    """Redrawn by the app whenever what it shows changes, and once a second for the clock."""

    def show(self, *, model: str, quant: str, device: str, cycle: int, cycles: int, phase: str,
             progress: str, threshold: float, elapsed: float, state: str) -> None:
        # What the controls change comes first, so it stays visible at 80 columns.
        text = Text()
        style = {"PAUSED": "bold white on dark_orange3", "FAILED": "bold white on red"}.get(state, "bold reverse")
        text.append(f" {state or 'RUNNING'} ", style=style)
        text.append(f" cycle {cycle}/{cycles}")
        text.append(f"  {phase.upper()}", style="bold magenta")
        if progress:
            text.append(f" {progress}")
        text.append(f"  threshold {threshold:.2f}", style="bold yellow")
        text.append(f"  {format_elapsed(elapsed)}")
        text.append(f"  {model} ({quant}, {device})", style="dim")
        self.update(text)
