"""The cycle: BEFORE pass -> train on its accepted pool -> AFTER pass on a fresh sample.

UI-free: it reports through typed events and is steered through a RunControl read at batch
boundaries. Everything it learns goes to the run directory as it goes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from inversion_tui.loop import events as ev
from inversion_tui.loop.backend import Backend, PreferencePair, TrainingPair
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.control import RunControl, RunStopped
from inversion_tui.loop.batch_scoring import BatchScorer
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.heldout import HeldOut
from inversion_tui.loop.pass_stats import cycle_training_totals, improvement_interval, pass_metrics
from inversion_tui.loop.progress import CycleRecord, Evaluation, Progress, Resume, TrainingSummary, run_results
from inversion_tui.loop.resume import ResumePoint
from inversion_tui.loop.runlog import DROPPED_CANDIDATES, PROGRESS, RunLog, now, read_candidates
from inversion_tui.loop.score import combine
from inversion_tui.loop.scorer_check import check_pass, diversity_collapsed
from inversion_tui.loop.seeding import derive_seed, pass_number
from inversion_tui.loop import training_set
from inversion_tui.loop.select import Selector
from inversion_tui.loop.stopping import EarlyStopping
from inversion_tui.settings import RunSettings
from inversion_tui.tasks import TaskPack


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
        self.resumes: list[Resume] = []
        # Both report through self.emit as it is when called (a test or a script may swap the sink).
        self.scorer = BatchScorer(self.settings, self.backend, self.examples, lambda event: self.emit(event),
                                  lambda: self.control.weights)
        self.heldout = HeldOut(self.eval_sets, self.settings, self.backend, self.runlog, self.examples,
                               lambda event: self.emit(event))
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
        if self.resume and self.resume.past_candidates:  # a resumed run shows its past cycles too
            trained = self.trained_positions()
            self.emit(ev.HistoryRestored(tuple(c.marked_trained(trained) for c in self.resume.past_candidates)))
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
            self.runlog.write_results(run_results(
                self.settings, self.backend.description, self.history, self.evaluations, self.elapsed()))
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
        self.heldout.restore(point.evaluations)
        self.latest_adapter = point.latest_adapter
        if self.settings.train_from == "base":
            self.trained_examples = self.examples_trained_before(Progress.read(self.runlog.directory))
        if point.latest_adapter:
            self.backend.load_adapter(self.runlog.directory / point.latest_adapter)
        done = {phase: len({c.batch for c in point.candidates if c.phase == phase}) for phase in ("before", "after")}
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
        done = [c.marked_trained(trained) for c in (resume.candidates if resume else [])]
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
        first_diversity = self.history[0].scorer_check["before"].diversity if (
            self.history and self.history[0].scorer_check) else scorer["before"].diversity
        if diversity_collapsed(scorer["after"].diversity, first_diversity):
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
            new = self.scorer.score_batch(cycle, phase, batch_index, batch)
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
        """Every held-out set with the adapter as it is now (heldout.py); pause and stop are
        honoured between batches, and progress.json has each summary before it is announced."""
        return self.heldout.evaluate(cycle, lambda: self.control.weights, lambda: self.boundary(cycle, "after"),
                                     lambda _: self.write_progress("running"))

    @property
    def evaluations(self) -> list[Evaluation]:
        """Held-out summaries per (set, cycle); cycle 0 = the base model."""
        return self.heldout.evaluations

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
