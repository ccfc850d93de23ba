"""`inversion-tui score TASK COMMAND`: invert one command and show every component.

The first tool for debugging a scorer: every component is computed (self-rating included,
whatever its weight), so a user sees what each signal thinks, and which ones count.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.guards import GUARD_REASONS, guard_flags
from inversion_tui.loop.invert import invert_commands
from inversion_tui.loop.score import SCORERS, combine, compute_components
from inversion_tui.settings import RunSettings
from inversion_tui.tasks import Example


def score_one(
    backend: Backend, task: str, command: str, settings: RunSettings, examples: Sequence[Example]
) -> dict[str, Any]:
    command = command.strip()
    [reconstruction] = invert_commands(
        backend, [command], temperature=settings.inverse_temperature, max_new_tokens=settings.max_new_tokens,
        examples=examples,
    )
    [components] = compute_components(
        [task], [reconstruction], [command], backend=backend, weights=settings.weights, always=tuple(SCORERS)
    )
    value = combine(components, settings.weights)
    flags = list(guard_flags(task, command))
    return {
        "task": task,
        "command": command,
        "reconstruction": reconstruction,
        "components": components,
        "weights": settings.weights,
        "score": value,
        "threshold": settings.threshold,
        "flags": flags,
        "accepted": value >= settings.threshold and not flags,
    }


def render_score(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]task[/]            {result['task']}")
    console.print(f"[bold]command[/]         {result['command']}")
    console.print(f"[bold]reconstruction[/]  {result['reconstruction'] or '[dim](empty)[/]'}")
    table = Table(show_header=True)
    for column in ("component", "value", "weight", "contribution"):
        table.add_column(column, justify="left" if column == "component" else "right")
    weights = result["weights"]
    weight_sum = sum(w for name, w in weights.items() if w > 0 and result["components"].get(name) is not None)
    for name, value in result["components"].items():
        weight = weights.get(name, 0.0)
        counted = value is not None and weight > 0
        contribution = f"{weight * value / weight_sum:.3f}" if counted and weight_sum else "-"
        table.add_row(name, "-" if value is None else f"{value:.3f}", f"{weight:.2f}", contribution)
    console.print(table)
    verdict = "[green]accepted[/]" if result["accepted"] else "[red]rejected[/]"
    console.print(f"[bold]score[/] {result['score']:.3f} (threshold {result['threshold']:.2f}): {verdict}")
    for flag in result["flags"]:
        console.print(f"[yellow]flag {flag}[/]: {GUARD_REASONS.get(flag, '')}")
