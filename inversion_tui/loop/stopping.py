"""Early stopping (--patience K): stop when a tracked number has not improved for K cycles, and
name the best adapter. Prolonged self-training collapses and ReST-EM regressed after its first
iteration (../shared/RESEARCH.md): two or three rounds, watched.

What is tracked, per adapter (cycle c's AFTER pass or its evaluation; the base model's value is
cycle 1's BEFORE pass or the cycle-0 evaluation, so an adapter must beat the base to count):
- score: the mean score, as the verifier judges it (with --verifier base a fixed judge);
- consensus: the mean share of a task's candidates that name its most common program (needs
  --candidates 2 or more; label-free self-consistency);
- a held-out set's name: its right-program accuracy. Labels are then used to stop, so report
  results on another set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from inversion_tui.loop.progress import CycleRecord, Evaluation, PassSummary, Progress
from inversion_tui.loop.runlog import SETTINGS, read_json_object
from inversion_tui.shell import program_name
from inversion_tui.settings import as_saved

LABEL_FREE = ("score", "consensus")


def pass_consensus(candidates: Sequence[Any]) -> float | None:
    """Mean over tasks of the share of its candidates naming its most common program."""
    programs: dict[str, list[str]] = {}
    for c in candidates:
        programs.setdefault(c.task, []).append(program_name(c.command) if c.command.strip() else "")
    shares = [Counter(p).most_common(1)[0][1] / len(p) for p in programs.values() if len(p) > 1]
    return sum(shares) / len(shares) if shares else None


@dataclass(frozen=True)
class EarlyStopping:
    patience: int
    on: str = "score"

    def value(self, phase_metrics: PassSummary, evaluation: Evaluation | None) -> float | None:
        """The tracked number from a pass's metrics (pass_metrics) or a cycle's evaluations."""
        if self.on in LABEL_FREE:
            return phase_metrics.mean_score if self.on == "score" else phase_metrics.consensus
        return None if evaluation is None else evaluation.utility_accuracy

    def values(self, history: Sequence[CycleRecord], evaluations: Sequence[Evaluation]
               ) -> list[tuple[int, float | None]]:
        """(cycle, value) for the base model (cycle 0) and every adapter so far. An adapter that
        holds no training (no step up to its cycle trained on anything) is the base model: its
        value is None, so noise between two samples of tasks never makes it the best."""
        by_cycle = {e.cycle: e for e in evaluations if e.set == self.on}
        if not history:
            return []
        values = [(0, self.value(history[0].before, by_cycle.get(0)))]
        trained = False
        for c in history:
            trained = trained or c.trained
            values.append((c.cycle, self.value(c.after, by_cycle.get(c.cycle)) if trained else None))
        return values

    def best(self, history, evaluations) -> tuple[int, float | None]:
        """(cycle, value) of the best so far; cycle 0 is the base model. Ties keep the earlier.
        A cycle that trained nothing measured the adapter of the last cycle that trained (a
        skipped step neither trains nor resets it): the best is named by that cycle, the one
        whose training made it."""
        scored = [(cycle, v) for cycle, v in self.values(history, evaluations) if v is not None]
        if not scored:
            return (0, None)
        cycle, value = max(scored, key=lambda item: item[1])
        made_by = 0
        for entry in history:
            if entry.cycle > cycle:
                break
            made_by = entry.cycle if entry.trained else made_by
        return (made_by, value)

    def best_checkpoint(self, history, evaluations) -> str | None:
        """The run-directory name of the best cycle's adapter; None while the base model is best."""
        cycle, _ = self.best(history, evaluations)
        return next((c.checkpoint for c in history if c.cycle == cycle), None)

    def exhausted(self, history, evaluations) -> bool:
        """No improvement on the best in the last `patience` cycles."""
        if self.patience <= 0 or not history:
            return False
        best_cycle, _ = self.best(history, evaluations)
        return history[-1].cycle - best_cycle >= self.patience


def describe_best(directory: str, best_adapter: str | None, best_by: str) -> str:
    """The adapter to keep, in words, for the end of a run (headless, and in the workbench)."""
    if best_adapter is None:
        return f"best by {best_by}: the base model (no adapter improved on it)"
    return f"best adapter by {best_by}: {directory}/{best_adapter}"


def best_of_run(directory: Path) -> tuple[str | None, str]:
    """(the best adapter's run-directory name or None for the base model, what it was judged
    by) of a run directory, from its record alone: what `eval --adapter RUN` evaluates.
    Recomputed rather than read from progress.json's best_adapter, which runs made before
    --patience do not have; runs without a --patience-on are judged by the score, as they
    would be on resume."""
    on = as_saved(read_json_object(Path(directory) / SETTINGS))["patience_on"]
    progress = Progress.read(directory)
    return EarlyStopping(0, on).best_checkpoint(progress.cycles, progress.evaluations), on
