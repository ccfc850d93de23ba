"""The one scoring pipeline: commands are inverted, each component computed, the score
combined and the guards applied. The loop's passes, the held-out evaluation and `score` all
score through it, so a new component or guard reaches all three at once.

The verifier: with `verifier="base"` the inversion and every model-computed component run on
the base weights (the adapter switched off for the duration, no second copy in memory), so
the scorer cannot drift with the policy it judges; "policy" scores with the adapter on, as
runs before the option did."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.invert import invert_commands
from inversion_tui.loop.literals import as_read
from inversion_tui.loop.components import Components
from inversion_tui.loop.score import combine, compute_components


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
    on_inverted: Callable[[list[str]], None] = lambda reconstructions: None,
    verifier: str = "base", placeholders: bool = False,
) -> list[ScoredCommand]:
    """Each (task, command) pair scored: one batched inverse call, then the components.
    `on_stage(stage, sequences)` says when inverting and scoring begin (the header shows it);
    `on_inverted` gets the reconstructions before the scoring (the live view shows them).
    `placeholders`: the inverter reads the commands with typed placeholders for literals."""
    read = [as_read(c, placeholders, command=True) for c in commands]
    with backend.base_weights() if verifier == "base" else contextlib.nullcontext():
        on_stage("inverting", len(commands))
        reconstructions = invert_commands(backend, read, temperature=temperature, max_new_tokens=max_new_tokens,
                                          examples=examples)
        on_inverted(list(reconstructions))
        on_stage("scoring", len(commands))
        components = compute_components(tasks, reconstructions, commands, backend=backend, weights=weights,
                                        always=always, examples=examples, placeholders=placeholders)
    return [ScoredCommand(command, reconstruction, comp, combine(comp, weights), guard_flags(task, command))
            for task, command, reconstruction, comp in zip(tasks, commands, reconstructions, components)]
