"""`inversion-tui score TASK COMMAND`: invert one command and show every component.

The first tool for debugging a scorer: every component is computed (self-rating included,
whatever its weight), so a user sees what each signal thinks, and which ones count.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.guards import explain_flags
from inversion_tui.loop.pipeline import score_commands
from inversion_tui.loop.components import component_names
from inversion_tui.loop.score import contributions
from inversion_tui.loop.select import Selector
from inversion_tui.manual_view import TITLE as MANUAL_TITLE, explanation_of, manual_text
from inversion_tui.console import report_console
from inversion_tui.plain_text import plain, visible
from inversion_tui.settings import RunSettings
from inversion_tui.tasks import Example


def score_one(
    backend: Backend, task: str, command: str, settings: RunSettings, examples: Sequence[Example]
) -> dict[str, Any]:
    command = command.strip()
    # Every component, self-rating included whatever its weight: what each signal thinks.
    [scored] = score_commands(backend, [task], [command], weights=settings.weights, examples=examples,
                              max_new_tokens=settings.max_new_tokens, temperature=settings.inverse_temperature,
                              always=component_names(), verifier=settings.verifier,
                              placeholders=settings.placeholders)
    [reason] = Selector.from_settings(settings).decide([SimpleNamespace(task=task, **vars(scored))])
    explanation = explanation_of(command)
    return {
        "task": task,
        "command": command,
        "reconstruction": scored.reconstruction,
        "components": scored.components,
        "weights": settings.weights,
        "score": scored.score,
        "threshold": settings.threshold,
        "flags": list(scored.flags),
        "flag_reasons": {flag.name: flag.detail for flag in explain_flags(task, command)},
        "accepted": reason is None,
        "reason": reason,  # why not, as the run would say
        "explanation": None if explanation is None else explanation.to_json()["programs"],  # by the manual
    }


def render_score(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or report_console()
    for label, value in (("task", result["task"]), ("command", result["command"]),
                         ("reconstruction", result["reconstruction"])):
        line = Text(f"{label:<16}", style="bold")
        line.append_text(plain(value) if value else Text("(empty)", style="dim"))
        console.print(line, highlight=False)
    table = Table(show_header=True)
    for column in ("component", "value", "weight", "contribution"):
        table.add_column(column, justify="left" if column == "component" else "right")
    weights = result["weights"]
    shares = contributions(result["components"], weights)
    for name, value in result["components"].items():
        share = shares[name]
        table.add_row(name, "-" if value is None else f"{value:.3f}", f"{weights.get(name, 0.0):.2f}",
                      "-" if share is None else f"{share:.3f}")
    console.print(table)
    console.print(Text(MANUAL_TITLE, style="bold"))
    console.print(manual_text(result["command"]), highlight=False)
    verdict = "[green]accepted[/]" if result["accepted"] else "[red]rejected[/]"
    console.print(f"[bold]score[/] {result['score']:.3f} (threshold {result['threshold']:.2f}): {verdict}")
    for flag in result["flags"]:
        line = Text(f"flag {flag}", style="yellow")
        line.append(f": {visible(result['flag_reasons'][flag])}")
        console.print(line, highlight=False)
