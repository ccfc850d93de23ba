"""What each engine event does to the workbench: one handler per event type, dispatched by
type (a test checks every event has one). A mixin of InversionApp (app.py)."""

from __future__ import annotations

from typing import Callable

from inversion_tui.loop import events as ev
from inversion_tui.loop.metrics import describe_change, describe_evaluation
from inversion_tui.loop.stopping import describe_best
from inversion_tui.tui.messages import EngineEvent
from inversion_tui.tui.pace import Pace
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.charts import LossChart


class EngineEvents:
    """Needs from the app: state, control, clock, backend, run_state, paces, stage, decoding,
    pending, replay, the views' refresh (views.py) and the header's (heading.py)."""

    # on_engine_event by naming convention: textual's @on registers only in the class that
    # defines it, not through a mixin.

    def engine_handlers(self) -> dict[type, Callable]:
        """Each engine event's handler, by type: renaming an event fails here, at once, instead of
        silently dropping its handler (a test checks every event has one)."""
        return {
            ev.RunStarted: self.on_engine_RunStarted,
            ev.HistoryRestored: self.on_engine_HistoryRestored,
            ev.PhaseStarted: self.on_engine_PhaseStarted,
            ev.StageStarted: self.on_engine_StageStarted,
            ev.Decoding: self.on_engine_Decoding,
            ev.CommandsGenerated: self.on_engine_CommandsGenerated,
            ev.CommandsInverted: self.on_engine_CommandsInverted,
            ev.CandidateScored: self.on_engine_CandidateScored,
            ev.BatchDone: self.on_engine_BatchDone,
            ev.TrainingStarted: self.on_engine_TrainingStarted,
            ev.TrainingStep: self.on_engine_TrainingStep,
            ev.TrainingDone: self.on_engine_TrainingDone,
            ev.CheckpointSaved: self.on_engine_CheckpointSaved,
            ev.CycleDone: self.on_engine_CycleDone,
            ev.Evaluated: self.on_engine_Evaluated,
            ev.Paused: self.on_engine_Paused,
            ev.Resumed: self.on_engine_Resumed,
            ev.ThresholdChanged: self.on_engine_ThresholdChanged,
            ev.WeightsChanged: self.on_engine_WeightsChanged,
            ev.Log: self.on_engine_Log,
            ev.RunFinished: self.on_engine_RunFinished,
        }

    def on_engine_event(self, message: EngineEvent) -> None:
        self._engine_handlers[type(message.event)](message.event)

    def on_engine_RunStarted(self, e: ev.RunStarted) -> None:
        self.backend = {"model": e.model, "quant": e.quant, "device": e.device}
        self.run_state = "RUNNING" if not self.control.paused else "PAUSING…"
        self.log_line(f"run {e.output}: {e.model} ({e.quant}) on {e.device}, {e.cycles} cycle(s)")
        self.refresh_header()

    def on_engine_HistoryRestored(self, e: ev.HistoryRestored) -> None:
        for candidate in e.candidates:
            self.state.add_candidate(candidate)
        self.state.redecide()  # under the threshold and rule on screen
        self.query_one(CandidatesTable).show(self.state.rows)  # one rebuild, not a row at a time
        self.log_line(f"{len(e.candidates)} candidate(s) of the cycles before this resume restored")
        self.update_table_title()
        self.refresh_all()

    def on_engine_PhaseStarted(self, e: ev.PhaseStarted) -> None:
        self.state.cycle, self.state.phase, self.state.activity = e.cycle, e.phase, e.phase
        self.state.tasks_done, self.state.tasks_total = e.done, e.total
        self.pass_pace = Pace(self.clock(), e.total, base=e.done, prior=self.pass_pace.per_unit())
        self.stage, self.decoding, self.pending = None, None, []
        self.refresh_all()

    def on_engine_StageStarted(self, e: ev.StageStarted) -> None:
        self.stage, self.decoding = (e, self.clock()), None
        self.refresh_header()

    def on_engine_Decoding(self, e: ev.Decoding) -> None:
        # The rate from the engine's own times: the UI may take the events late, and in bursts.
        call_began = e.at if e.step == 1 or self.decoding is None else self.decoding[1]
        self.decoding = (e, call_began)
        self.refresh_header()

    def on_engine_CommandsGenerated(self, e: ev.CommandsGenerated) -> None:
        if (e.cycle, e.phase, e.batch) != self.pending_batch:
            self.pending, self.pending_batch = [], (e.cycle, e.phase, e.batch)
        self.pending += [[task, command, None] for task, command in zip(e.tasks, e.commands)]  # a piece of it
        self.show_pending(e.cycle, e.phase)

    def on_engine_CommandsInverted(self, e: ev.CommandsInverted) -> None:
        waiting = [entry for entry in self.pending if entry[2] is None]  # the pieces come in order
        for entry, reconstruction in zip(waiting, e.reconstructions):
            entry[2] = reconstruction
        self.show_pending(e.cycle, e.phase)

    def on_engine_CandidateScored(self, e: ev.CandidateScored) -> None:
        row = self.state.add(e)
        table = self.query_one(CandidatesTable)
        table.clear_pending()  # the batch's scored rows take the place of its pending ones
        table.add_candidate(row)
        if not self._resort_scheduled:  # one sort for every row of a burst (a resumed pass's), not one each
            self._resort_scheduled = True
            self.call_after_refresh(self._resort)
        self.update_table_title()  # `N of M` counts this row now, not at the batch's end
        self.pending = []  # the batch's rows now come scored
        self.show_live()

    def on_engine_BatchDone(self, e: ev.BatchDone) -> None:
        self.state.tasks_done = e.tasks_done
        self.pass_pace.mark(e.tasks_done, e.tasks_total, self.clock())
        self.stage = self.decoding = None
        table = self.query_one(CandidatesTable)
        table.refresh_rows(self.state.redecide())  # as the engine re-decides its pass after a batch
        table.resort()
        self.update_table_title()
        self.refresh_all()

    def on_engine_TrainingStarted(self, e: ev.TrainingStarted) -> None:
        self.state.activity = "training"
        self.train_pace, self.stage, self.decoding = Pace(self.clock(), prior=self.train_pace.per_unit()), None, None
        self.pass_pace.hold(self.clock())  # a train-now step inside a pass is not the pass's pace
        kind = "train now" if e.manual else "training"
        self.log_line(f"cycle {e.cycle}: {kind} on {e.examples} accepted pairs")
        self.refresh_header()

    def on_engine_TrainingStep(self, e: ev.TrainingStep) -> None:
        self.train_pace.mark(e.step, e.total_steps, self.clock())
        self.state.last_loss = e.loss
        self.state.losses.append((e.cycle, e.loss))
        self.query_one(LossChart).show(self.state.losses)
        self.log_line(f"  step {e.step}/{e.total_steps} loss {e.loss:.4f}")
        self.refresh_header()

    def on_engine_TrainingDone(self, e: ev.TrainingDone) -> None:
        trained = [r for r in self.state.pass_rows(e.cycle, "before") if r.index in set(e.trained_indices)]
        for row in trained:
            row.trained = True
        self.query_one(CandidatesTable).refresh_rows(trained)
        if e.mean_loss is not None:
            self.state.last_loss = e.mean_loss
            label = "train now" if e.manual else "training"
            self.log_line(f"cycle {e.cycle}: {label} done, {e.steps} steps, mean loss {e.mean_loss:.4f}")
            if e.manual:
                self.notify(f"train now: {e.examples} pairs, loss {e.mean_loss:.4f}", title="trained")
        self.state.activity = self.state.phase  # back to the pass (train now interrupts one)
        self.pass_pace.release(self.clock())
        self.refresh_all()

    def on_engine_CheckpointSaved(self, e: ev.CheckpointSaved) -> None:
        self.log_line(f"saved adapter {e.path}")

    def on_engine_CycleDone(self, e: ev.CycleDone) -> None:
        self.state.history.append(e.metrics)
        m = e.metrics
        if not any(cycle == e.cycle for cycle, _ in self.state.losses):  # a replay: no live steps
            self.state.losses += [(e.cycle, loss) for step in m.training_steps() for loss in step.losses]
            self.query_one(LossChart).show(self.state.losses, empty="not in this run's files")
        # "last loss": the cycle's last step that trained (its end-of-pass step, else its last
        # train-now step), not the cycle's mean over all of them (`train_loss`).
        trained = [step for step in m.training_steps() if step.mean_loss is not None]
        if trained:
            self.state.last_loss = trained[-1].mean_loss
        elif m.training is None and m.train_loss is not None:  # a run saved before `training`
            self.state.last_loss = m.train_loss
        self.log_line(f"cycle {e.cycle} done: score {m.before.mean_score:.3f} -> {m.after.mean_score:.3f} "
                      f"(change {describe_change(m.improvement, m.improvement_ci95)}), "
                      f"acceptance {m.before.acceptance_rate:.0%} -> {m.after.acceptance_rate:.0%}")
        self.refresh_cycle_chart()
        self.refresh_all()

    def on_engine_Evaluated(self, e: ev.Evaluated) -> None:
        key = (e.cycle, e.summary.set)
        self.state.evaluations = [v for v in self.state.evaluations if (v.cycle, v.set) != key] + [e.summary]
        self.log_line(describe_evaluation(e.cycle, e.summary))
        self.refresh_cycle_chart()
        self.refresh_all()

    def on_engine_Paused(self, e: ev.Paused) -> None:
        self.run_state = "PAUSED"
        self.pass_pace.hold(self.clock())
        self.log_line(f"paused in cycle {e.cycle} ({e.phase}); everything scored is saved")
        self.refresh_header()

    def on_engine_Resumed(self, e: ev.Resumed) -> None:
        self.run_state = "STOPPING…" if self.stop_requested else "RUNNING"
        self.pass_pace.release(self.clock())
        self.log_line("resumed")
        self.refresh_header()

    def on_engine_ThresholdChanged(self, e: ev.ThresholdChanged) -> None:
        self.log_line(f"threshold {e.old:.2f} -> {e.new:.2f} recorded in progress.json")

    def on_engine_WeightsChanged(self, e: ev.WeightsChanged) -> None:
        self.log_line(f"weights change recorded in progress.json; cycle {e.cycle}'s running pass re-scored")

    def on_engine_Log(self, e: ev.Log) -> None:
        self.log_line(("warning: " if e.level == "warning" else "") + e.message)
        if e.level == "warning":
            self.notify(e.message, severity="warning", timeout=8)

    def on_engine_RunFinished(self, e: ev.RunFinished) -> None:
        self.finished_status = e.status
        self.finished_at = self.clock()  # the header's clock stops with the run
        self.pending, self.stage, self.decoding = [], None, None  # a run that stopped mid-batch
        self.query_one(CandidatesTable).clear_pending()  # ... never scores its pending rows
        self.update_table_title()
        self.finished_best = (e.best_adapter, e.best_by)  # for the closing lines
        self.refresh_bindings()  # pause and train now leave the footer
        if self.replay:
            self.run_state = f"REPLAY: {e.status.upper()}"
            if self.state.activity == "loading":  # the run never got past loading the model
                self.state.activity = "no pass ran"
            self.log_line(f"replay of {e.output}: {e.status}, {e.cycles_completed} cycle(s) completed, "
                          f"{len(self.state.rows)} candidates")
            table = self.query_one(CandidatesTable)
            table.refresh_rows(self.state.redecide())  # records hold the verdict of when they were written
            self.update_table_title()
            self.refresh_all()
            return
        self.run_state = e.status.upper()
        self.log_line(f"{e.status}: {e.cycles_completed} cycle(s) completed; outputs in {e.output}")
        if e.cycles_completed and e.best_by:
            self.log_line(describe_best(e.output, e.best_adapter, e.best_by))
        self.refresh_header()
        if self.stop_requested:
            self.exit()
        else:
            self.notify("run finished: press q to quit", title="done")

    def show_pending(self, cycle: int, phase: str) -> None:
        """The batch on its way, in the live pane and as pending rows of the table."""
        self.query_one(CandidatesTable).show_pending(self.pending, f"{cycle} {phase}")
        self.update_table_title()
        self.show_live()

    def _resort(self) -> None:
        """Rows in the table's order as soon as they arrive: a resumed pass's restored rows came
        in at the bottom, oldest first under `sort newest ↓`, until the next batch ended."""
        self._resort_scheduled = False
        self.query_one(CandidatesTable).resort()
