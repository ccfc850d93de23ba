"""What a training step trains on, built from scored candidates: the objective's examples, the
base model's replayed commands, and (for --train-from base after a resume) every earlier
step's examples rebuilt from the run's files."""

from __future__ import annotations

import random
from typing import Any, Iterable, Sequence

from inversion_tui.loop.backend import Backend, PreferencePair, TrainingPair
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.generate import forward_prompt, generate_commands
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.objectives import OBJECTIVES
from inversion_tui.loop.seeding import derive_seed
from inversion_tui.shell import normalize_command


def examples_for(backend: Backend, examples: Sequence[Any], objective: str, pool: Sequence[Candidate],
                 before_pass: Sequence[Candidate]) -> list[TrainingPair] | list[PreferencePair]:
    """What a step of `objective` (loop/objectives.py) trains on, from its pool."""
    return OBJECTIVES[objective].step_examples(backend, examples, pool, before_pass)


def sft_examples(backend: Backend, examples: Sequence[Any], pool: Sequence[Candidate],
                 before_pass: Sequence[Candidate]) -> list[TrainingPair]:
    """The accepted commands under the exact forward prompt they were generated with."""
    return [TrainingPair(forward_prompt(backend, c.task, examples), c.command) for c in pool]


def preference_pairs(backend: Backend, examples: Sequence[Any], pool: Sequence[Candidate],
                     before_pass: Sequence[Candidate]) -> list[PreferencePair]:
    """Each accepted candidate against the lowest-scoring other (non-empty, different) command of
    its task in the BEFORE pass: ScPO's most- vs least-preferred (../shared/RESEARCH.md). A task
    with no lower-scoring other command gives no pair."""
    pairs = []
    for chosen in pool:
        others = [c for c in before_pass if c.task == chosen.task and c.command.strip()
                  and normalize_command(c.command) != normalize_command(chosen.command) and c.score < chosen.score]
        if others:
            rejected = min(others, key=lambda c: c.score)
            pairs.append(PreferencePair(forward_prompt(backend, chosen.task, examples), chosen.command,
                                        rejected.command))
    return pairs


def replay_draw(pool: Any, count: int, seed: int, cycle: int, manual_steps: int) -> list[Any]:
    """The tasks a step's replay is drawn on from `pool` (a TaskPack): seeded by the run's seed,
    the cycle and the train-now steps before it, so a redraw (experiments/replayed_again.py)
    gets the same tasks."""
    return pool.sample(count, random.Random(derive_seed(seed, "replay", cycle, manual_steps)))


def replay(backend: Backend, examples: Sequence[Any], instances: Iterable[Any], max_new_tokens: int
           ) -> list[tuple[str, TrainingPair]]:
    """--replay: the base model's own greedy commands (the adapter off) on fresh tasks, the
    unflagged ones: the label-free anchor to what the model could already do. Each with its
    task, for the step's record (what a step trained on is read back in progress.json)."""
    tasks = [instance.task for instance in instances]
    with backend.base_weights():
        generated = generate_commands(backend, tasks, candidates=1, temperature=0.0, max_new_tokens=max_new_tokens,
                                      examples=examples)
    return [(task, TrainingPair(forward_prompt(backend, task, examples), g[0].command))
            for task, g in zip(tasks, generated) if g[0].command.strip() and not guard_flags(task, g[0].command)]


def trained_before(backend: Backend, examples: Sequence[Any], objective: str, candidates: Iterable[Candidate],
                   trained: set[tuple[int, int]]) -> list[TrainingPair | PreferencePair]:
    """The examples of every training step already done (a resumed --train-from base run),
    from candidates.jsonl and the steps' (cycle, index) positions in progress.json."""
    passes: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.phase == "before":
            passes.setdefault(candidate.cycle, []).append(candidate)
    out: list[TrainingPair | PreferencePair] = []
    for cycle in sorted(passes):
        pool = [c for c in passes[cycle] if c.trained_in(trained)]
        out += examples_for(backend, examples, objective, pool, passes[cycle]) if pool else []
    return out
