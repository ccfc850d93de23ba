"""The run header: state, cycle n/N, phase with progress, what the model is doing inside the
batch with an estimate, threshold, weights when not the defaults, elapsed, model."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from inversion_tui.plain_text import visible


def format_elapsed(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def remaining(elapsed: float, done: int, total: int) -> float | None:
    """Seconds left in a pass at the pace so far; None before the first batch is done."""
    if done <= 0 or total <= done:
        return None
    return elapsed / done * (total - done)


class RunHeader(Static):
    """Redrawn by the app whenever what it shows changes, and once a second for the clock."""

    def show(self, *, model: str, quant: str, device: str, cycle: int, cycles: int, phase: str,
             progress: str, threshold: float, elapsed: float, state: str, detail: str = "",
             weights: str = "", select: str = "threshold") -> None:
        # What the controls change comes first, so it stays visible at 80 columns.
        text = Text()
        style = {"PAUSED": "bold white on dark_orange3", "FAILED": "bold white on red",
                 "STOPPING…": "bold white on dark_red"}.get(state, "bold reverse")
        text.append(f" {state or 'RUNNING'} ", style=style)
        text.append(f" cycle {cycle}/{cycles}")
        text.append(f"  {phase.upper()}", style="bold magenta")
        if progress:
            text.append(f" {progress}")
        if detail:
            text.append(f"  {detail}", style="cyan")
        if select == "threshold":
            text.append(f"  threshold {threshold:.2f}", style="bold yellow")
        else:  # a per-task rule: the threshold is its floor
            text.append(f"  {select} ≥{threshold:.2f}", style="bold yellow")
        if weights:
            text.append(f"  {weights}", style="yellow")
        text.append(f"  {format_elapsed(elapsed)}")
        text.append(visible(f"  {model} ({quant}, {device})"), style="dim")
        self.update(text)
