"""A run's held-out evaluations: every set greedy after each cycle (cycle 0: the base model),
each later cycle paired with the base model task by task, and with --eval-samples the
verification gap. The engine decides when a cycle is evaluated; this is how, and what is kept
between cycles (the summaries, and the base model's rows to pair with)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from inversion_tui.loop import events as ev
from inversion_tui.loop.backend import Backend
from inversion_tui.loop.components import component_names
from inversion_tui.loop.evaluation import EvalTask, evaluate_model, sample_records
from inversion_tui.loop.gap import VerificationGap, verification_gap
from inversion_tui.loop.metrics import paired_difference, set_label
from inversion_tui.loop.progress import Evaluation
from inversion_tui.loop.runlog import RunLog, read_eval_rows
from inversion_tui.loop.seeding import derive_seed
from inversion_tui.settings import RunSettings


@dataclass
class HeldOut:
    sets: Mapping[str, Sequence[EvalTask]]  # fixed held-out sets, by name
    settings: RunSettings
    backend: Backend
    runlog: RunLog
    examples: Sequence[Any]  # the forward prompt's few-shot examples, as the run's passes use them
    emit: ev.EventSink
    evaluations: list[Evaluation] = field(default_factory=list)  # per (set, cycle); cycle 0 = base model
    base_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per set: the base model's rows

    def restore(self, evaluations: Sequence[Evaluation]) -> None:
        """A resumed run's summaries, and its base rows from evaluations.jsonl for pairing."""
        # Summaries saved before a run could evaluate several sets carry no set name: their one set.
        only = next(iter(self.sets), "held-out")
        self.evaluations = list(evaluations)
        for evaluation in self.evaluations:
            evaluation.set = evaluation.set or only
        self.base_rows = {name: rows for (name, cycle), rows in read_eval_rows(self.runlog.directory).items()
                          if cycle == 0}

    def evaluate(self, cycle: int, weights: Callable[[], dict[str, float]], between_batches: Callable[[], None],
                 on_evaluated: Callable[[Evaluation], None]) -> dict[str, Evaluation]:
        """Every set, greedy, with the adapter as it is now; a set this cycle already has (a
        resumed run) is not redone. `weights()` is read as each set (and its samples) is scored:
        a change made live between batches reaches what is scored after it. `between_batches` is
        where the run honours pause and stop (an interrupted evaluation is redone on resume);
        `on_evaluated` is called with each summary once it is kept, before it is announced.
        Per-task rows go to evaluations.jsonl."""
        s = self.settings
        done = {(e.set, e.cycle): e for e in self.evaluations}
        results = {}
        for name, tasks in self.sets.items():
            if (name, cycle) in done:
                results[name] = done[(name, cycle)]
                continue
            self.emit(ev.Log("info", f"evaluating {'the base model' if cycle == 0 else f'cycle {cycle}'} on "
                                     f"{len(tasks)} tasks: {set_label(name)}"))
            summary, rows = evaluate_model(
                self.backend, tasks, examples=self.examples, weights=weights(),
                batch_size=s.gen_batch_size, max_new_tokens=s.max_new_tokens,
                verifier=s.verifier, placeholders=s.placeholders, between_batches=between_batches,
            )
            records = [row.record(index, cycle=cycle, set=name) for index, row in enumerate(rows)]
            self.runlog.append_eval_rows(records)
            evaluation = Evaluation(cycle=cycle, set=name, **summary)
            if s.eval_samples:
                evaluation.gap = self.gap(cycle, name, tasks, records, weights, between_batches)
            if cycle == 0:
                self.base_rows[name] = records
            elif name in self.base_rows:
                evaluation.vs_base = paired_difference(self.base_rows[name], records)
            self.evaluations.append(evaluation)
            on_evaluated(evaluation)
            self.emit(ev.Evaluated(cycle, evaluation))
            results[name] = evaluation
        return results

    def gap(self, cycle: int, name: str, tasks: Sequence[EvalTask], greedy: list[dict],
            weights: Callable[[], dict[str, float]], between_batches: Callable[[], None]) -> VerificationGap:
        """--eval-samples N: N sampled commands per held-out task, scored with every component,
        and what picking one by the score gives beside greedy, at random and at best (gap.py)."""
        s = self.settings
        self.emit(ev.Log("info", f"sampling {s.eval_samples} commands per held-out task ({name}): the "
                                 "verification gap"))
        self.backend.reseed(derive_seed(s.seed, "eval-samples", cycle, name))
        samples = sample_records(
            self.backend, tasks, samples=s.eval_samples, temperature=s.temperature, examples=self.examples,
            weights=weights(), batch_size=s.gen_batch_size, max_new_tokens=s.max_new_tokens,
            verifier=s.verifier, placeholders=s.placeholders, between_batches=between_batches,
            cycle=cycle, set=name,
        )
        self.runlog.append_eval_samples(samples)
        return verification_gap(greedy, samples, components=component_names(), seed=s.seed)
