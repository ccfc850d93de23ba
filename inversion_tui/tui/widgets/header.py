"""The run header: state, cycle n/N, phase with progress, what the model is doing inside the
batch with an estimate, threshold, weights when not the defaults, elapsed, model."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from inversion_tui.loop.select import Selector
from inversion_tui.plain_text import visible


def format_elapsed(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class RunHeader(Static):
    """Redrawn by the app whenever what it shows changes, and once a second for the clock.

    It is one line: what does not fit the width is left out whole, least needed first (the
    model, then the weights, then the clock), never cut in the middle of a word."""

    def show(self, *, model: str, quant: str, device: str, cycle: int, cycles: int, phase: str,
             progress: str, threshold: float, elapsed: float | None, state: str, detail: str = "",
             weights: str = "", selector: Selector | None = None) -> None:
        """`elapsed` None: no clock (a replay: its clock would count the replay, not the run)."""
        style = {"PAUSED": "bold white on dark_orange3", "FAILED": "bold white on red",
                 "STOPPING…": "bold white on dark_red"}.get(state, "bold reverse")
        state = state or "RUNNING"
        # (text, style, rank): rank 0 always shows; the highest rank goes first when space runs
        # out (the model, the full weights, the clock); then the batch's detail is cut short.
        parts: list[tuple[str, str, int]] = [(f" {state} ", style, 0)]
        if phase.upper() != state:  # not `LOADING  cycle 0/2  LOADING`
            parts.append((f" cycle {cycle}/{cycles}", "", 0))
            parts.append((f"  {phase.upper()}" + (f" {progress}" if progress else ""), "bold magenta", 0))
        else:
            parts.append((f" {cycles} cycle(s)", "", 0))
        # What the controls change comes early, so it stays visible at 80 columns.
        if selector is None or selector.rule == "threshold":
            parts.append((f"  threshold {threshold:.2f}", "bold yellow", 0))
        elif not selector.floored:  # by rank alone: the threshold does not apply
            parts.append((f"  {selector.describe()}", "bold yellow", 0))
        else:  # a per-task rule: the threshold is its floor
            parts.append((f"  {selector.rule} ≥{threshold:.2f}", "bold yellow", 0))
        if weights:
            parts.append((f"  {weights}", "yellow", 3))
        if detail:
            parts.append((f"  {detail}", "cyan", 1))
        if elapsed is not None:
            parts.append((f"  {format_elapsed(elapsed)}", "", 2))
        parts.append((visible(f"  {model} ({quant}, {device})"), "dim", 4))
        width = self.size.width or 10_000  # not laid out yet: everything, the next redraw fits it

        def length() -> int:
            return sum(len(text) for text, _, _ in parts)

        for rank in (4, 3, 2):
            if length() <= width:
                break
            # The weights, when they are not the defaults, stay as a marker (`w` shows them).
            if rank == 3:
                parts = [("  weights*", "yellow", 0) if part[2] == 3 else part for part in parts]
            else:
                parts = [part for part in parts if part[2] != rank]
        if length() > width and detail:
            at = next(i for i, part in enumerate(parts) if part[2] == 1)
            room = width - (length() - len(parts[at][0]))
            parts[at] = (parts[at][0][: max(0, room - 1)] + "…", parts[at][1], 1)
        text = Text(no_wrap=True, overflow="ellipsis")
        for part, part_style, _ in parts:
            text.append(part, style=part_style)
        self.update(text)
