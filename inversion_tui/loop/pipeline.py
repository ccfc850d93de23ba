"""The one scoring pipeline: commands are inverted, each component computed, the score
combined and the guards applied. The loop's passes, the held-out evaluation and `score` all
score through it, so a new component or guard reaches all three at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.invert import invert_commands
from inversion_tui.loop.score import Components, combine, compute_components


@dataclass(frozen=True)
class ScoredCommand:
    command: str
    reconstruction: str
    components: Components
    score: float
    flags: tuple[str, ...]


def score_commands(
    backend: Backend, tasks: Sequence[str], commands: Sequence[str], *, weights: dict[str, float],
    examples: Sequence[Any], max_new_tokens: int, temperature: float = 0.0, always: Sequence[str] | None = None,
    on_stage: Callable[[str, int], None] = lambda stage, sequences: None,
) -> list[ScoredCommand]:
    """Each (task, command) pair scored: one batched inverse call, then the components.
    `on_stage(stage, sequences)` says when inverting and scoring begin (the header shows it)."""
    on_stage("inverting", len(commands))
    reconstructions = invert_commands(backend, commands, temperature=temperature, max_new_tokens=max_new_tokens,
                                      examples=examples)
    on_stage("scoring", len(commands))
    components = compute_components(tasks, reconstructions, commands, backend=backend, weights=weights,
                                    always=always, examples=examples)
    return [ScoredCommand(command, reconstruction, comp, combine(comp, weights), guard_flags(task, command))
            for task, command, reconstruction, comp in zip(tasks, commands, reconstructions, components)]
