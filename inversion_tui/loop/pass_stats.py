"""A pass's numbers (progress.json's PassSummary, the workbench's stats pane) and a cycle's:
the change between its two passes and what its training steps trained."""

from __future__ import annotations

from typing import Any, Sequence

from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.metrics import unpaired_difference_ci
from inversion_tui.loop.progress import PassSummary, TrainingSummary
from inversion_tui.loop.stopping import pass_consensus


def pass_metrics(candidates: Sequence[Candidate]) -> PassSummary:
    """A pass's numbers for progress.json; the TUI's stats panel uses the same function."""
    total = len(candidates)
    accepted = sum(c.accepted for c in candidates)
    return PassSummary(
        total_generated=total,
        accepted=accepted,
        acceptance_rate=accepted / total if total else 0.0,
        mean_score=sum(c.score for c in candidates) / total if total else 0.0,
        flagged=sum(bool(c.flags) for c in candidates),
        distinct_commands=len({c.command for c in candidates}),
        consensus=pass_consensus(candidates),
    )


def improvement_interval(before: Sequence[Candidate], after: Sequence[Candidate],
                         candidates: int) -> list[float] | None:
    """95% interval of the AFTER pass's mean score less the BEFORE pass's, over tasks (each
    task's mean over its `candidates`; tasks of one template resampled together, as the
    held-out intervals are; the passes drew their tasks independently)."""
    def task_means(pass_: Sequence[Candidate]) -> tuple[list[float], list[str]]:
        by_task: dict[int, list[Candidate]] = {}
        for c in pass_:
            by_task.setdefault(c.index // candidates, []).append(c)
        tasks = list(by_task.values())
        return ([sum(c.score for c in task) / len(task) for task in tasks],
                [task[0].template_id or task[0].task for task in tasks])

    (before_means, before_groups), (after_means, after_groups) = task_means(before), task_means(after)
    interval = unpaired_difference_ci(before_means, after_means, before_groups, after_groups)
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]


def cycle_training_totals(steps: Sequence[TrainingSummary]) -> dict[str, Any]:
    """What a cycle trained, over every step it ran: its train-now steps and its end-of-pass
    step (a cycle whose pool a train-now step had taken trained, though its own step was
    skipped). The loss is the mean over all optimizer steps; None where none ran."""
    optimizer_steps = sum(step.steps for step in steps)
    loss = sum(step.mean_loss * step.steps for step in steps if step.steps) / optimizer_steps \
        if optimizer_steps else None
    return {"train_loss": loss, "train_examples": sum(step.examples for step in steps),
            "train_steps": optimizer_steps}
