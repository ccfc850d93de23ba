"""The cycle: BEFORE pass -> train on its accepted pool -> AFTER pass on a fresh sample.

UI-free: it reports through typed events and is steered through a RunControl read at batch
boundaries. Everything it learns goes to the run directory as it goes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from inversion_tui.loop import decoding, events as ev
from inversion_tui.loop.backend import Backend, PreferencePair, TrainingPair, out_of_memory_errors
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.control import RunControl, RunStopped
from inversion_tui.loop.evaluation import EvalTask, evaluate_model, sample_records
from inversion_tui.loop.gap import verification_gap
from inversion_tui.loop.generate import forward_prompt, generate_commands
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.loop.literals import as_read
from inversion_tui.loop.metrics import paired_difference, set_label, unpaired_difference_ci
from inversion_tui.loop.pipeline import score_commands
from inversion_tui.loop.progress import CycleRecord, Evaluation, PassSummary, Progress, TrainingSummary
from inversion_tui.loop.resume import ResumePoint
from inversion_tui.loop.runlog import DROPPED_CANDIDATES, PROGRESS, RunLog, now, read_candidates, read_eval_rows
from inversion_tui.loop.components import Components, component_names
from inversion_tui.loop.score import combine, rating_prompt
from inversion_tui.loop.scorer_check import check_pass, diversity_collapsed
from inversion_tui.loop.seeding import derive_seed, pass_number
from inversion_tui.loop import training_set
from inversion_tui.loop.select import Selector
from inversion_tui.loop.stopping import EarlyStopping, pass_consensus
from inversion_tui.settings import RunSettings
from inversion_tui.tasks import TaskInstance, TaskPack

DECODING_EVENT_INTERVAL_S = 0.5
"""Decoding events are sent at most this often (and for each call's first step)."""


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


@dataclass
class Engine:
    settings: RunSettings
    backend: Backend
    pack: TaskPack
    runlog: RunLog
    emit: ev.EventSink = lambda event: None
    control: RunControl | None = None
    resume: ResumePoint | None = None
    eval_sets: Mapping[str, Sequence[EvalTask]] = field(default_factory=dict)  # fixed held-out sets, by name
    replay_pack: TaskPack | None = None  # where --replay draws its tasks (--replay-from); None: `pack`
    history: list[CycleRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.control is None:  # a run with no UI steering it (the tests, scripts): as the CLI seeds one
            self.control = RunControl.for_run(self.settings, self.resume)
        self.examples = self.pack.examples[: self.settings.few_shot]
        self.stopping = EarlyStopping(self.settings.patience, self.settings.patience_on)
        self.started_at = time.time()
        self.elapsed_before = 0.0  # the time a resumed run worked before this session
        self._cycle_started_s: float | None = None  # when the cycle under way began, in working time
        self.manual_trainings: list[TrainingSummary] = []
        self._threshold_changes_seen = len(self.control.threshold_changes)
        self._select_changes_seen = len(self.control.select_changes)
        self._weight_changes_seen = len(self.control.weight_changes)  # a resume's are already on disk
        self._current_pass: list[Candidate] = []  # the pass being scored: what a re-weighting re-scores
        self._before_pass: list[Candidate] = []  # this cycle's BEFORE pass so far
        self._cycle = 0
        self.latest_adapter: str | None = None  # run-directory name of the newest saved adapter
        self.trained_examples: list[TrainingPair | PreferencePair] = []  # every step's, for --train-from base
        self.current_training: TrainingSummary | None = None  # this cycle's end-of-pass training
        self.resumes: list[dict[str, Any]] = []
        self.task_limit: int | None = None  # tasks per generate call after running out of memory
        self.evaluations: list[Evaluation] = []  # held-out summaries per (set, cycle); cycle 0 = base model
        self._base_rows: dict[str, list[dict[str, Any]]] = {}  # per set: the base model's rows, for pairing
        # progress.json is written by this thread, and once by another on a forced quit (abandon).
        self._progress_lock = threading.Lock()
        self._abandoned = False

    # ------------------------------------------------------------------ run

    def run(self) -> str:
        s = self.settings
        self.runlog.write_settings(s.model_dump(mode="json"))
        first_cycle = self.restore() if self.resume else 1
        self.write_progress("running")  # the directory is a run from its first moment
        self.emit(ev.RunStarted(str(self.runlog.directory), s.model, self.backend.description.get("quant", "?"),
                                self.backend.description.get("device", "?"), s.cycles, s.model_dump(mode="json")))
        if self.resume and self.resume.past_records:  # a resumed run shows its past cycles too
            trained = self.trained_positions()
            self.emit(ev.HistoryRestored(tuple(Candidate.from_record(r, trained) for r in self.resume.past_records)))
        for entry in self.history:
            self.emit(ev.CycleDone(entry.cycle, entry))
        for evaluation in self.evaluations:
            self.emit(ev.Evaluated(evaluation.cycle, evaluation))
        status = "finished"
        try:
            if self.eval_sets:
                self.evaluate(0)  # the base model, before any training: the baseline (skips what is done)
            for cycle in range(first_cycle, s.cycles + 1):
                if self.stopping.exhausted(self.history, self.evaluations):
                    break  # a resumed run that had already run out of patience
                self.run_cycle(cycle, self.resume if cycle == first_cycle else None)
                if self.stopping.exhausted(self.history, self.evaluations):
                    best, value = self.stopping.best(self.history, self.evaluations)
                    self.emit(ev.Log("warning", f"early stop after cycle {cycle}: {s.patience_on} has not improved "
                                                f"for {s.patience} cycle(s); the best is "
                                                f"{'the base model' if best == 0 else f'cycle {best}'} ({value:.3f})"))
                    break
        except RunStopped:
            status = "stopped"
            self.emit(ev.Log("warning", "stopped at a batch boundary; scored candidates are saved"))
            # The adapter as it is now, so a stop never loses a training step.
            stopped = self.runlog.save_checkpoint("checkpoint_stopped", self.backend.save_adapter)
            self.emit(ev.CheckpointSaved(self._cycle, str(stopped)))
        except BaseException as error:
            # Said in the file, not left to a dead lock to tell; --resume redoes the unfinished
            # batch. A second Ctrl-C (headless) is a forced stop, not a crash.
            if isinstance(error, KeyboardInterrupt):
                self.write_progress("stopped", forced_stop=now())
            else:
                self.write_progress("crashed", error=f"{type(error).__name__}: {error}"[:500])
            self.runlog.release_lock()
            raise
        self.write_progress(status)
        if status == "finished" and self.history:
            self.runlog.write_results(self.results())
        self.runlog.release_lock()
        self.emit(ev.RunFinished(status, len(self.history), str(self.runlog.directory),
                                 best_adapter=self.best_adapter(), best_by=s.patience_on))
        return status

    def trained_positions(self, current_training: TrainingSummary | None = None) -> set[tuple[int, int]]:
        """(cycle, index in its BEFORE pass) of every candidate trained on so far, from what
        this engine holds (progress.json's own copy is rewritten as the run goes)."""
        return Progress(cycles=self.history, manual_trainings=self.manual_trainings, current_cycle=self._cycle,
                        current_training=current_training).trained_positions()

    def restore(self) -> int:
        """Take up a resumed run's state; returns the cycle to continue."""
        point = self.resume
        self.history = list(point.history)
        self.elapsed_before = point.elapsed_s
        self.manual_trainings = list(point.manual_trainings)
        self.resumes = list(point.resumes)
        # Summaries saved before a run could evaluate several sets carry no set name: their one set.
        only = next(iter(self.eval_sets), "held-out")
        self.evaluations = list(point.evaluations)
        for evaluation in self.evaluations:
            evaluation.set = evaluation.set or only
        self._base_rows = {name: rows for (name, cycle), rows in read_eval_rows(self.runlog.directory).items()
                           if cycle == 0}
        self.latest_adapter = point.latest_adapter
        if self.settings.train_from == "base":
            self.trained_examples = self.examples_trained_before(Progress.read(self.runlog.directory))
        if point.latest_adapter:
            self.backend.load_adapter(self.runlog.directory / point.latest_adapter)
        done = {phase: len({r["batch"] for r in point.records if r["phase"] == phase}) for phase in ("before", "after")}
        set_aside = f" (kept in {DROPPED_CANDIDATES})" if point.dropped_lines else ""
        self.emit(ev.Log("info", f"resuming at cycle {point.cycle}: {done['before']} BEFORE and {done['after']} "
                                 f"AFTER batch(es) kept, {point.dropped_lines} partial line(s) dropped{set_aside}, "
                                 f"adapter {point.latest_adapter or '(fresh)'}"))
        return point.cycle

    def elapsed(self) -> float:
        """The time the run has worked, over every session of it (a resume goes on from the time
        its last write recorded; the time it stood stopped is not counted)."""
        return self.elapsed_before + time.time() - self.started_at

    def run_cycle(self, cycle: int, resume: ResumePoint | None = None) -> CycleRecord:
        # A resumed cycle began before the stop: its BEFORE pass so far counts in its duration.
        started = resume.cycle_started_s if resume and resume.cycle_started_s is not None else self.elapsed()
        self._cycle, self._cycle_started_s = cycle, started
        # Trained by a train-now step or by the end-of-pass step done before the interruption.
        trained = self.trained_positions(resume.training) if resume else set()
        done = [Candidate.from_record(r, trained) for r in (resume.records if resume else [])]
        self._before_pass = [c for c in done if c.phase == "before"]
        self.current_training = resume.training if resume else None
        before = self.run_pass(cycle, "before", self._before_pass)
        checkpoint = self.runlog.checkpoint_dir(cycle)
        if self.current_training is None:
            self.boundary(cycle, "before")
            training = self.train(cycle, self.untrained_pool(), manual=False)
            self.save_adapter(cycle, checkpoint.name, training)
        else:
            training = self.current_training  # done before the interruption
        after = self.run_pass(cycle, "after", [c for c in done if c.phase == "after"])
        evaluation = self.evaluate(cycle) if self.eval_sets else None
        before_m, after_m = pass_metrics(before), pass_metrics(after)
        scorer = {"before": check_pass(before), "after": check_pass(after)}
        first_diversity = self.history[0].scorer_check["before"]["diversity"] if (
            self.history and self.history[0].scorer_check) else scorer["before"]["diversity"]
        if diversity_collapsed(scorer["after"]["diversity"], first_diversity):
            self.emit(ev.Log("warning", f"cycle {cycle}: diversity collapsed: {after_m.distinct_commands} distinct "
                                        f"commands in {after_m.total_generated} candidates"))
        manual = [m for m in self.manual_trainings if m.cycle == cycle]
        entry = CycleRecord(
            cycle=cycle,
            before=before_m,
            after=after_m,
            improvement=after_m.mean_score - before_m.mean_score,
            # The two passes score different samples of tasks: the change's noise, over tasks.
            improvement_ci95=improvement_interval(before, after, self.settings.candidates),
            **cycle_training_totals([*manual, training]),
            training=training,  # with the threshold and weights that selected its pool
            scorer_check=scorer,
            manual_trainings=manual,
            threshold=self.control.threshold,
            weights=self.control.weights,
            checkpoint=checkpoint.name,
            eval=evaluation,
            duration_s=round(self.elapsed() - started, 2),
        )
        self.history.append(entry)
        self.current_training = None
        self.write_progress("running")  # run() writes the final status
        self.emit(ev.CycleDone(cycle, entry))
        return entry

    # ------------------------------------------------------------------ passes

    def run_pass(self, cycle: int, phase: ev.Phase, candidates: list[Candidate]) -> list[Candidate]:
        """Score a pass into `candidates`, which may already hold its first batches (resume)."""
        s = self.settings
        # Fresh tasks for every pass, without replacement over the run (TaskPack.draw_pass).
        instances = self.pack.draw_pass(s.tasks, pass_number(cycle, phase), s.seed)
        done_batches = {c.batch for c in candidates}
        done_tasks = sum(len(instances[b * s.gen_batch_size : (b + 1) * s.gen_batch_size]) for b in done_batches)
        self.emit(ev.PhaseStarted(cycle, phase, len(instances), done_tasks))
        self._current_pass = candidates  # the same list: the updates below are made in place
        self.rescore(candidates)  # a resumed pass's records hold the score of when they were written
        for c in candidates:
            self.emit(ev.CandidateScored(c))
        for batch_index, start in enumerate(range(0, len(instances), s.gen_batch_size)):
            if batch_index in done_batches:
                continue
            self.boundary(cycle, phase)
            batch = instances[start : start + s.gen_batch_size]
            new = self.score_batch(cycle, phase, batch_index, batch)
            first = len(candidates)
            candidates.extend([replace(c, index=first + offset) for offset, c in enumerate(new)])
            self.select(candidates)
            new = candidates[-len(new):]  # with their verdicts
            threshold, weights = self.control.threshold, self.control.weights
            self.runlog.append_candidates(c.to_json(threshold, weights) for c in new)
            for c in new:
                self.emit(ev.CandidateScored(c))
            self.emit(ev.BatchDone(cycle, phase, start + len(batch), len(instances)))
        return candidates

    def select(self, candidates: list[Candidate]) -> None:
        """Re-decide a pass's acceptance under the threshold in force now (in place)."""
        reasons = self.selector().decide(candidates)
        candidates[:] = [replace(c, accepted=reason is None, reason=reason) for c, reason in zip(candidates, reasons)]

    def selector(self) -> Selector:
        """The selection in force now: the rule and threshold may have changed live."""
        return Selector.from_settings(self.settings, self.control.threshold, self.control.select)

    def rescore(self, candidates: list[Candidate]) -> None:
        """Each candidate's score under the weights in force now, from its stored components (in place)."""
        weights = self.control.weights
        candidates[:] = [replace(c, score=combine(c.components, weights)) for c in candidates]

    def boundary(self, cycle: int, phase: ev.Phase) -> None:
        """Between batches: honour pause and stop, take up threshold and weight changes, run a
        train-now request."""
        self.control.checkpoint(
            on_pause=lambda: self.emit(ev.Paused(cycle, phase)),
            on_resume=lambda: self.emit(ev.Resumed(cycle, phase)),
            while_paused=lambda: (self.record_selection_changes(cycle), self.apply_weight_changes(cycle)),
        )
        self.record_selection_changes(cycle)
        self.apply_weight_changes(cycle)
        self.select(self._current_pass)  # so the pool trained next is what the threshold now selects
        if self.control.take_train_now():
            pool = self.untrained_pool()
            if pool:
                self.train(cycle, pool, manual=True)
            elif phase == "after":
                self.emit(ev.Log("warning", "train now: nothing to train in the AFTER pass: it only measures, and "
                                            "this cycle's BEFORE pass had no untrained accepted candidate left"))
            else:
                self.emit(ev.Log("warning", "train now: the BEFORE pass has accepted nothing untrained yet; "
                                            "press n again once it has"))

    def evaluate(self, cycle: int) -> dict[str, Evaluation]:
        """Every held-out set, greedy, with the adapter as it is now; a set this cycle already
        has (a resumed run) is not redone. Pause and stop are honoured between batches; an
        interrupted evaluation is redone on resume. Per-task rows go to evaluations.jsonl, and
        each later cycle is compared with the base model task by task (`vs_base`)."""
        s = self.settings
        done = {(e.set, e.cycle): e for e in self.evaluations}
        results = {}
        for name, tasks in self.eval_sets.items():
            if (name, cycle) in done:
                results[name] = done[(name, cycle)]
                continue
            self.emit(ev.Log("info", f"evaluating {'the base model' if cycle == 0 else f'cycle {cycle}'} on "
                                     f"{len(tasks)} tasks: {set_label(name)}"))
            summary, rows = evaluate_model(
                self.backend, tasks, examples=self.examples, weights=self.control.weights,
                batch_size=s.gen_batch_size, max_new_tokens=s.max_new_tokens,
                verifier=s.verifier, placeholders=s.placeholders,
                between_batches=lambda: self.boundary(cycle, "after"),
            )
            records = [row.record(index, cycle=cycle, set=name) for index, row in enumerate(rows)]
            self.runlog.append_eval_rows(records)
            evaluation = Evaluation(cycle=cycle, set=name, **summary)
            if s.eval_samples:
                evaluation.gap = self.verification_gap(cycle, name, tasks, records)
            if cycle == 0:
                self._base_rows[name] = records
            elif name in self._base_rows:
                evaluation.vs_base = paired_difference(self._base_rows[name], records)
            self.evaluations.append(evaluation)
            self.write_progress("running")
            self.emit(ev.Evaluated(cycle, evaluation))
            results[name] = evaluation
        return results

    def verification_gap(self, cycle: int, name: str, tasks: Sequence[EvalTask], greedy: list[dict]) -> dict:
        """--eval-samples N: N sampled commands per held-out task, scored with every component,
        and what picking one by the score gives beside greedy, at random and at best (gap.py)."""
        s = self.settings
        self.emit(ev.Log("info", f"sampling {s.eval_samples} commands per held-out task ({name}): the "
                                 "verification gap"))
        self.backend.reseed(derive_seed(s.seed, "eval-samples", cycle, name))
        samples = sample_records(
            self.backend, tasks, samples=s.eval_samples, temperature=s.temperature, examples=self.examples,
            weights=self.control.weights, batch_size=s.gen_batch_size, max_new_tokens=s.max_new_tokens,
            verifier=s.verifier, placeholders=s.placeholders, between_batches=lambda: self.boundary(cycle, "after"),
            cycle=cycle, set=name,
        )
        self.runlog.append_eval_samples(samples)
        return verification_gap(greedy, samples, components=component_names(), seed=s.seed)

    def record_selection_changes(self, cycle: int) -> None:
        """Threshold and rule changes made live: on disk before anyone is told of them."""
        changes, rules = self.control.threshold_changes, self.control.select_changes
        if len(changes) > self._threshold_changes_seen or len(rules) > self._select_changes_seen:
            self.write_progress("running")
            for change in changes[self._threshold_changes_seen :]:
                self.emit(ev.ThresholdChanged(cycle, change["from"], change["to"]))
            for change in rules[self._select_changes_seen :]:
                self.emit(ev.Log("info", f"selection rule {change['from']} -> {change['to']}"))
            self._threshold_changes_seen, self._select_changes_seen = len(changes), len(rules)

    def apply_weight_changes(self, cycle: int) -> None:
        """New weights re-score the running pass from its stored components (no model call),
        so the pool trained at the end of the pass is the one these weights select."""
        changes = self.control.weight_changes
        if len(changes) <= self._weight_changes_seen:
            return
        self.rescore(self._current_pass)
        self.select(self._current_pass)
        self.write_progress("running")
        for change in changes[self._weight_changes_seen :]:
            self.emit(ev.WeightsChanged(cycle, change["from"], change["to"]))
        self._weight_changes_seen = len(changes)

    def untrained_pool(self) -> list[Candidate]:
        return [c for c in self._before_pass if c.accepted and not c.trained]

    def score_batch(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        """Score one batch; if memory runs out, in smaller pieces (the batch stays one batch on
        disk, so resume bookkeeping is unchanged)."""
        self.backend.reseed(derive_seed(self.settings.seed, "generate", cycle, phase, batch_index))
        return self.score_piece(cycle, phase, batch_index, batch)

    def score_piece(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        if self.task_limit is not None and len(batch) > self.task_limit:  # known not to fit
            size = self.task_limit
            return [c for i in range(0, len(batch), size)
                    for c in self.score_piece(cycle, phase, batch_index, batch[i : i + size])]
        try:
            return self.score_tasks(cycle, phase, batch_index, batch)
        except out_of_memory_errors():
            if len(batch) == 1:
                raise
        # The retry runs here, after the except block: inside it, the traceback would keep the
        # failed attempt's frames, and the tensors they hold, alive through the retry.
        self.backend.release_memory()
        half = (len(batch) + 1) // 2
        self.task_limit = half
        self.emit(ev.Log("warning", f"out of memory generating for {len(batch)} tasks at once; "
                                    f"retrying with {half} (kept for the rest of the run)"))
        return (self.score_piece(cycle, phase, batch_index, batch[:half])
                + self.score_piece(cycle, phase, batch_index, batch[half:]))

    def score_tasks(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        s = self.settings
        stage = ["generating"]  # the stage running now, for the decoding steps' events

        def on_stage(name: str, sequences: int) -> None:
            stage[0] = name
            self.emit(ev.StageStarted(cycle, phase, name, len(batch), sequences))

        last_sent = [0.0]

        def on_step(step: int, max_steps: int) -> None:
            # A few events a second are enough for a person; one per token would flood the UI.
            if step == 1 or time.monotonic() - last_sent[0] >= DECODING_EVENT_INTERVAL_S:
                last_sent[0] = time.monotonic()
                self.emit(ev.Decoding(cycle, phase, stage[0], step, max_steps, last_sent[0]))

        with decoding.listening(on_step):
            on_stage("generating", len(batch) * s.candidates)
            generated = generate_commands(
                self.backend, [i.task for i in batch], candidates=s.candidates, temperature=s.temperature,
                max_new_tokens=s.max_new_tokens, examples=self.examples,
            )
            pairs = [(instance, g) for instance, per_task in zip(batch, generated) for g in per_task]
            self.emit(ev.CommandsGenerated(cycle, phase, batch_index, tuple(i.task for i, _ in pairs),
                                           tuple(g.command for _, g in pairs)))
            scored = score_commands(
                self.backend, [instance.task for instance, _ in pairs], [g.command for _, g in pairs],
                weights=self.control.weights, examples=self.examples, max_new_tokens=s.max_new_tokens,
                temperature=s.inverse_temperature, verifier=s.verifier, placeholders=s.placeholders,
                on_stage=on_stage,
                on_inverted=lambda reconstructions: self.emit(ev.CommandsInverted(cycle, phase, batch_index,
                                                                                  tuple(reconstructions))),
            )
        return [
            Candidate(cycle, phase, batch_index, 0, instance.task, c.command, c.reconstruction, c.components, c.score,
                      c.flags, template_id=instance.template_id, tool=instance.tool, references=instance.references,
                      raw=g.raw, prompts=self.prompts_of(instance.task, c.command, c.components))
            for (instance, g), c in zip(pairs, scored)
        ]

    def prompts_of(self, task: str, command: str, components: Components) -> dict[str, str]:
        """The exact prompts this candidate went through, for the inspector (rendering them
        again is string templating, no tokenizer or model)."""
        prompts = {"forward": forward_prompt(self.backend, task, self.examples)}
        if command:  # an empty command is not inverted (invert.py)
            read = as_read(command, self.settings.placeholders, command=True)
            prompts["inverse"] = inverse_prompt(self.backend, read, self.examples)
        if components.get("self_rating") is not None:
            prompts["rating"] = rating_prompt(self.backend, task, command)
        return prompts

    # ------------------------------------------------------------------ training

    def train(self, cycle: int, pool: Sequence[Candidate], manual: bool) -> TrainingSummary:
        s = self.settings
        self.emit(ev.TrainingStarted(cycle, len(pool), manual))
        if not pool:
            taken = any(m.cycle == cycle and m.examples for m in self.manual_trainings)
            return self.skip_training(cycle, manual, "no untrained accepted candidates"
                                      + (" (train now has trained on this cycle's)" if taken else ""))
        pairs = self.training_examples(pool, self._before_pass)
        if not pairs:
            return self.skip_training(cycle, manual, "no preference pairs (no accepted candidate's task has a "
                                                     "lower-scoring other command)")
        step_seed = derive_seed(s.seed, "train", cycle, len(self.manual_trainings), manual)
        self.backend.reseed(step_seed)
        new_examples = pairs
        if s.train_from == "base":
            # Anchored to the base (ReST-EM): a fresh adapter each step, on every example accepted
            # so far (accumulated, each once), so no step builds on a drifted one.
            pairs = list(dict.fromkeys(self.trained_examples + pairs))
            self.backend.reset_adapter()
        replayed = self.replay_examples(round(s.replay * len(pairs)), cycle) if s.replay > 0 else []
        pairs = pairs + [pair for _, pair in replayed]
        result = self.backend.train(
            pairs, lr=s.lr, batch_size=s.batch_size, epochs=s.epochs, seed=step_seed,
            on_step=lambda step, total, loss: self.emit(ev.TrainingStep(cycle, step, total, loss)),
            on_warning=lambda message: self.emit(ev.Log("warning", message)),
        )
        self.trained_examples.extend(new_examples)
        indices = tuple(c.index for c in pool)
        self._before_pass[:] = [replace(c, trained=True) if c.index in indices else c for c in self._before_pass]
        self.emit(ev.TrainingDone(cycle, len(pairs), result.steps, result.mean_loss, manual, indices))
        # What selected this pool: the threshold and weights in force when the step ran.
        summary = TrainingSummary(
            mean_loss=result.mean_loss, examples=len(pairs), new_examples=len(new_examples), replayed=len(replayed),
            replayed_commands=[[task, pair.completion] for task, pair in replayed],
            steps=result.steps, losses=[round(loss, 5) for loss in result.losses],
            threshold=self.control.threshold, weights=self.control.weights, select=self.control.select,
            trained_indices=list(indices), cycle=cycle if manual else None)
        if manual:
            self.manual_trainings.append(summary)
            self.save_adapter(cycle, f"checkpoint_cycle_{cycle}_now_{len(self.manual_trainings)}", None)
        return summary

    def skip_training(self, cycle: int, manual: bool, why: str) -> TrainingSummary:
        self.emit(ev.Log("warning", f"cycle {cycle}: {why}, training skipped"))
        self.emit(ev.TrainingDone(cycle, 0, 0, None, manual))
        return TrainingSummary(threshold=self.control.threshold, weights=self.control.weights,
                               select=self.control.select)

    def training_examples(self, pool: Sequence[Candidate], before_pass: Sequence[Candidate]) -> list:
        return training_set.examples_for(self.backend, self.examples, self.settings.objective, pool, before_pass)

    def replay_examples(self, count: int, cycle: int) -> list[tuple[str, TrainingPair]]:
        if count <= 0:
            return []  # (settings refuse --replay with DPO: a DPO step has no preference in them)
        instances = training_set.replay_draw(self.replay_pack or self.pack, count, self.settings.seed, cycle,
                                             len(self.manual_trainings))
        return training_set.replay(self.backend, self.examples, instances, self.settings.max_new_tokens)

    def examples_trained_before(self, progress: Progress) -> list[TrainingPair | PreferencePair]:
        return training_set.trained_before(self.backend, self.examples, self.settings.objective,
                                           read_candidates(self.runlog.directory), progress.trained_positions())

    def save_adapter(self, cycle: int, name: str, training: TrainingSummary | None) -> None:
        """Save atomically, then record it in progress.json: a resume loads the latest adapter,
        and knows this cycle's training step is done when `training` is given."""
        path = self.runlog.save_checkpoint(name, self.backend.save_adapter)
        self.latest_adapter = name
        if training is not None:
            self.current_training = training
        self.write_progress("running")
        self.emit(ev.CheckpointSaved(cycle, str(path)))

    # ------------------------------------------------------------------ files

    def abandon(self) -> None:
        """A forced quit, called from another thread: the process is about to leave without
        waiting for the model call in flight. progress.json says `stopped` (with `forced_stop`)
        and this engine never writes it again; the candidates on disk are whole batches (each
        batch is one append), and --resume redoes the one that was running."""
        with self._progress_lock:
            if self._abandoned:
                return
            self._abandoned = True
            if self.runlog.path(PROGRESS).exists():  # none yet if the run had not begun
                progress = Progress.read(self.runlog.directory)  # the last state written, whole
                if progress.status == "running":
                    progress.status = "stopped"
                    progress.extra["forced_stop"] = now()
                    progress.write(self.runlog.directory)
            self.runlog.release_lock()

    def write_progress(self, status: str, **extra: Any) -> None:
        """`extra`: keys said only at the end (forced_stop, error)."""
        with self._progress_lock:
            if not self._abandoned:
                self.progress(status, extra).write(self.runlog.directory)

    def progress(self, status: str, extra: dict[str, Any] | None = None) -> Progress:
        return Progress(
            status=status,
            last_completed_cycle=self.history[-1].cycle if self.history else 0,
            timestamp=now(),
            backend=self.backend.description,
            threshold=self.control.threshold,
            threshold_changes=self.control.threshold_changes,
            weights=self.control.weights,
            weight_changes=self.control.weight_changes,
            select=self.control.select,
            select_changes=self.control.select_changes,
            latest_adapter=self.latest_adapter,
            best_adapter=self.best_adapter(),
            elapsed_s=round(self.elapsed(), 2),
            current_cycle=self._cycle,
            current_training=self.current_training,
            current_started_s=None if self._cycle_started_s is None else round(self._cycle_started_s, 2),
            manual_trainings=self.manual_trainings,
            resumes=self.resumes,
            evaluations=self.evaluations,
            cycles=self.history,
            extra=extra or {},
        )

    def best_adapter(self) -> str | None:
        """The checkpoint of the best cycle by --patience-on; None while the base model is best."""
        return self.stopping.best_checkpoint(self.history, self.evaluations)

    def results(self) -> dict[str, Any]:
        first, last = self.history[0], self.history[-1]
        losses = [c.train_loss for c in self.history if c.train_loss is not None]
        return {
            "settings": self.settings.model_dump(mode="json"),
            "backend": self.backend.description,
            "cycles": [c.to_json() for c in self.history],
            "summary": {
                "cycles_completed": len(self.history),
                "initial_mean_score": first.before.mean_score,
                "final_mean_score": last.after.mean_score,
                "total_improvement": last.after.mean_score - first.before.mean_score,
                "initial_acceptance_rate": first.before.acceptance_rate,
                "final_acceptance_rate": last.after.acceptance_rate,
                "mean_train_loss": sum(losses) / len(losses) if losses else None,
                "evaluations": [e.to_json() for e in self.evaluations],
                "elapsed_s": round(self.elapsed(), 2),
            },
        }
