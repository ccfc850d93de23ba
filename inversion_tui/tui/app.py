"""The workbench app: streams the loop live, and pauses, re-thresholds, re-weights, trains now
and quits it; the scorer-debugging controls are in debugging.py.

The engine runs in a thread worker and talks to the UI only through EngineEvent messages;
the UI talks to the engine only through the RunControl, which the engine reads at batch
boundaries. Widgets are touched on the UI thread only. A replay (`inspect`) runs the same app
with a ReplaySource in the engine's place.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from inversion_tui.errors import InversionError, RunDirectoryError, SettingsError, first_line
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.metrics import describe_change, describe_evaluation
from inversion_tui.loop import events as ev
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.backend import Backend
from inversion_tui.loop.engine import Engine, pass_metrics
from inversion_tui.loop.resume import ResumePoint
from inversion_tui.loop.runlog import RunLog
from inversion_tui.loop.scorer_check import check_pass
from inversion_tui.loop.select import RULES
from inversion_tui.loop.stopping import describe_best
from inversion_tui.marks import MarkBook
from inversion_tui.plain_text import plain, visible
from inversion_tui.run_record import ReplaySource, RunRecord
from inversion_tui.loop.components import default_weights
from inversion_tui.settings import RunSettings, check_weights, saved_settings
from inversion_tui.tasks import TaskPack
from inversion_tui.tui.actions import bindings, engine_actions, engine_keys, palette_commands, typed_actions
from inversion_tui.tui.debugging import ScorerDebugging
from inversion_tui.tui.messages import EngineEvent
from inversion_tui.tui.query import FILTER_HELP
from inversion_tui.tui.state import RunState
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.charts import CycleChart, LossChart, ScoreHistogram
from inversion_tui.tui.pace import Pace
from inversion_tui.tui.widgets.header import RunHeader, format_elapsed
from inversion_tui.tui.widgets.help import HelpScreen
from inversion_tui.tui.widgets.live import LivePane
from inversion_tui.tui.widgets.scorer import ScorerPanel
from inversion_tui.tui.widgets.stats import StatsPanel
from inversion_tui.tui.widgets.threshold import ThresholdScreen
from inversion_tui.tui.widgets.ordered_input import OrderedInput

EngineFactory = Callable[[ev.EventSink, RunControl], Engine]
"""Builds the engine (loading the model) inside the worker thread: (emit, control) -> Engine."""

BackendLoader = Callable[[RunSettings, Callable[[str], None]], Backend]
"""(settings, log) -> Backend; backends.load_backend in the product, a fake in tests."""

THRESHOLD_STEP = 0.05
CHARTS_MIN_HEIGHT = 16  # rows of the tabs below which the charts are too flat to read (80x24 gives 11)


class InversionApp(ScorerDebugging, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "inversion-tui"
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, RunHeader"  # a zoomed pane keeps the run's state and threshold
    BINDINGS = [*bindings(), Binding("escape", "leave_filter", "Leave filter", show=False)]

    def __init__(self, settings: RunSettings, engine_factory: EngineFactory,
                 control: RunControl, clock: Callable[[], float] = time.monotonic,
                 marks: MarkBook | None = None, replay: bool = False):
        super().__init__()
        self.settings = settings
        self.engine_factory = engine_factory
        self.control = control
        self.replay = replay  # no engine: pause and train now have nothing to act on
        self.marks = marks
        self.state = RunState(settings, self.control, marks=dict(marks.marks) if marks else {})
        self.clock = clock
        self.started = clock()
        self.backend = {"model": settings.model, "quant": settings.quant, "device": "…"}
        self.run_state = "LOADING"  # shown in the header: LOADING, RUNNING, PAUSING…, PAUSED, …
        self.stop_requested = False
        self.forced = False
        self.finished_status: str | None = None
        self.finished_at: float | None = None
        self.finished_best: tuple[str | None, str | None] = (None, None)  # RunFinished's best adapter, by what
        self.failure: str | None = None
        self.log_history: list[str] = []  # the RichLog renders lazily while its tab is hidden
        self.engine_thread: threading.Thread | None = None
        self.engine: Engine | None = None  # set in the engine thread once the model has loaded
        self._engine_handlers = self.engine_handlers()
        self.pass_pace = Pace(self.started)  # the pass's tasks: its time left
        self._resort_scheduled = False  # a sort of the table waits for the next refresh
        self.train_pace = Pace(self.started)  # the running training step's optimizer steps
        self.stage: tuple[ev.StageStarted, float] | None = None  # inside a batch: what, since when
        self.decoding: tuple[ev.Decoding, float] | None = None  # the stage's newest step, and when its call began
        self.pending: list[list[str | None]] = []  # the batch under way: [task, command, reconstruction]
        self.pending_batch: tuple[int, str, int] | None = None  # (cycle, phase, batch) of `pending`

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield RunHeader()
        with Horizontal(id="top"):
            yield LivePane(id="live")
            yield StatsPanel(id="stats")
        with TabbedContent(id="bottom", initial="candidates"):
            with TabPane("Candidates", id="candidates"):
                yield CandidatesTable(self.control.weights, id="table")
                with Horizontal(id="filter-bar"):
                    yield OrderedInput(placeholder=f"filter (f): {FILTER_HELP}", id="filter")
                    yield Static(id="table-info")
            with TabPane("Scorer", id="scorer"):
                with VerticalScroll(id="scorer-scroll"):
                    yield ScorerPanel(id="scorer-panel")
            with TabPane("Charts", id="charts-tab"):
                with Horizontal(id="charts"):
                    with Vertical(id="charts-left"):
                        yield Static(id="cycle-legend")
                        yield CycleChart(id="cycle-chart")
                    with Vertical(id="charts-right"):
                        yield ScoreHistogram(id="histogram")
                        yield LossChart(id="loss-chart")
            with TabPane("Log", id="log"):
                yield RichLog(id="log-pane", wrap=True, markup=False, max_lines=5000)
        yield Footer(compact=True, show_command_palette=False)  # ? and the help screen name ctrl+p

    def on_mount(self) -> None:
        self.query_one(LivePane).border_title = "live"
        self.query_one(StatsPanel).border_title = "stats"
        self.show_live()
        self.set_focus(self.query_one(CandidatesTable))  # arrows and Enter work from the start
        self.refresh_cycle_chart()
        self.query_one(LossChart).show([])
        self.update_table_title()
        self.refresh_all()
        self.set_interval(1.0, self.tick)
        # Zoom in or out by any way (z, Esc, the palette): focus follows what is shown.
        self.watch(self.screen, "maximized", self.zoom_changed, init=False)
        self.run_engine()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own Quit, Keys and Screenshot are left out: ours stop the run first, list every
        # key, and save into the run directory; its Maximize and Minimize too, beside our zoom (z).
        theirs = super().get_system_commands(screen)
        left_out = ("Quit", "Keys", "Screenshot", "Maximize", "Minimize")
        yield from (command for command in theirs if command.title not in left_out)
        yield from palette_commands(self, engine=self.why_no_engine() is None, replay=self.replay)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Pause and train now leave the footer once nothing runs that they could act on; the
        commands typed with a character, while a text box takes the characters."""
        if action in engine_actions() and self.why_no_engine() is not None:
            return False
        if action in typed_actions() and isinstance(self.focused, Input):  # its keys type into the box
            return False
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # the footer follows the focus: into the filter box and out of it

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    def why_no_engine(self) -> str | None:
        """Why pause and train now have nothing to act on, or None while they do."""
        if self.replay:
            return "this is a replay, no engine is running"
        if self.finished_status:
            return f"the run has {self.finished_status}"
        if self.stop_requested:
            return "the run is stopping"
        return None

    def on_key(self, event) -> None:
        """A key of a hidden engine action (its binding is off, so it reaches here): say why it
        does nothing rather than nothing at all."""
        command = engine_keys().get(event.key)
        why = self.why_no_engine()
        if (command is not None and why is not None and len(self.screen_stack) == 1
                and not isinstance(self.focused, Input)):
            self.notify(f"{command.title.lower()}: {why}", severity="warning")

    # ------------------------------------------------------------------ engine worker

    @work(exclusive=True, exit_on_error=False, group="engine")
    async def run_engine(self) -> str:
        """Run the engine in its own daemon thread, awaited by this (async) worker.

        Not @work(thread=True): Textual's thread workers run in asyncio's default executor,
        whose threads asyncio.run joins at exit, so a forced quit would hang until the current
        model call ended. A daemon thread keeps the worker's states and error reporting and
        lets a forced quit leave at once (nothing is lost: candidates are fsynced per batch).
        """
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[str] = loop.create_future()

        def settle(setter, value) -> None:
            if not outcome.done():
                setter(value)

        def target() -> None:
            try:
                self.engine = self.engine_factory(self.post_engine_event, self.control)
                result = self.engine.run()
            except BaseException as error:  # noqa: BLE001 - handed to the worker, which reports it
                self._call_threadsafe(loop, settle, outcome.set_exception, error)
            else:
                self._call_threadsafe(loop, settle, outcome.set_result, result)

        self.engine_thread = threading.Thread(target=target, name="inversion-engine", daemon=True)
        self.engine_thread.start()
        return await outcome

    @staticmethod
    def _call_threadsafe(loop, *args) -> None:
        try:
            loop.call_soon_threadsafe(*args)
        except RuntimeError:
            pass  # the app has already closed its loop (forced quit): nobody is waiting

    def post_engine_event(self, event: ev.Event) -> None:
        self.post_message(EngineEvent(event))  # thread-safe: the handler runs on the UI thread

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.failure = str(error) if isinstance(error, InversionError) else f"{type(error).__name__}: {error}"
        self.log_line(f"engine failed: {self.failure}")
        if isinstance(error, InversionError):
            self.exit(return_code=2)  # a user error (bad model, bad directory): the CLI prints it in one line
            return
        self.run_state = "FAILED"
        self.refresh_header()
        self.notify(self.failure, title="engine failed", severity="error", timeout=30)

    def wait_for_engine(self, say: Callable[[str], None]) -> None:
        """After the app has closed: an engine still going (the app crashed, or closed some way
        that did not stop the run) is stopped at its next batch boundary and waited for, so
        progress.json ends `stopped` with whole batches, and the process does not leave while
        the engine thread is inside torch. Ctrl-C here raises KeyboardInterrupt to the caller."""
        thread = self.engine_thread
        if thread is None or not thread.is_alive():
            return
        if self.finished_status is None:
            self.control.request_stop()
            say("the workbench closed while the run was going: stopping it at the next batch boundary "
                "(Ctrl-C to leave at once)")
        while thread.is_alive():
            thread.join(0.2)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Not markup unless asked: notifications carry model output, paths and filter text."""
        super().notify(visible(message), title=visible(title), severity=severity, timeout=timeout, markup=markup)

    @property
    def engine_running(self) -> bool:
        return any(w.group == "engine" and w.is_running for w in self.workers)

    # ------------------------------------------------------------------ events from the engine

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

    @on(EngineEvent)
    def engine_event(self, message: EngineEvent) -> None:
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

    def show_pending(self, cycle: int, phase: str) -> None:
        """The batch on its way, in the live pane and as pending rows of the table."""
        self.query_one(CandidatesTable).show_pending(self.pending, f"{cycle} {phase}")
        self.update_table_title()
        self.show_live()

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

    def _resort(self) -> None:
        """Rows in the table's order as soon as they arrive: a resumed pass's restored rows came
        in at the bottom, oldest first under `sort newest ↓`, until the next batch ended."""
        self._resort_scheduled = False
        self.query_one(CandidatesTable).resort()

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

    # ------------------------------------------------------------------ actions

    def action_toggle_pause(self) -> None:
        if self.why_no_engine() is not None:  # the binding is off then; run_action by hand still lands here
            return
        if self.control.paused:
            self.control.resume()
            self.run_state = "RUNNING"
        else:
            self.control.pause()
            self.run_state = "PAUSING…"  # PAUSED once the engine reaches a batch boundary
        self.refresh_header()

    def action_threshold_up(self) -> None:
        self.set_threshold(self.control.threshold + THRESHOLD_STEP)

    def action_threshold_down(self) -> None:
        self.set_threshold(self.control.threshold - THRESHOLD_STEP)

    def action_type_threshold(self) -> None:
        def apply(value: float | None) -> None:
            if value is not None:
                self.set_threshold(value)

        self.push_screen(ThresholdScreen(self.control.threshold), apply)

    def set_threshold(self, value: float) -> None:
        value = round(min(1.0, max(0.0, value)), 4)
        if value == self.control.threshold:
            return
        self.control.set_threshold(value)  # the engine uses it from its next batch
        self.redecide(f"threshold set to {value:.2f}")

    def action_next_select(self) -> None:
        rule = RULES[(RULES.index(self.control.select) + 1) % len(RULES)]
        self.control.set_select(rule)  # the engine uses it from its next batch
        self.redecide(f"selection rule {self.state.selector().describe()}")

    def redecide(self, change: str) -> None:
        """A threshold or rule change shown at once, from stored scores (no model call), and
        logged with the number of verdicts it flipped."""
        accepted_before = {row.number: row.accepted for row in self.state.rows}
        changed = self.state.redecide()
        self.query_one(CandidatesTable).refresh_rows(changed)  # a reason's text may change alone
        flipped = sum(row.accepted != accepted_before[row.number] for row in changed)
        self.log_line(f"{change}: {flipped} verdict(s) changed")
        self.refresh_views()

    def action_train_now(self) -> None:
        if self.why_no_engine() is not None:
            return
        self.control.request_train_now()
        self.log_line("train now requested: it runs at the next batch boundary")
        self.refresh_header()

    TAB_FOCUS = {"candidates": CandidatesTable, "scorer": "#scorer-scroll", "log": "#log-pane"}
    """What keys go to on each tab (the charts take none)."""

    def action_show_tab(self, tab: str) -> None:
        # Focus moves first: TabbedContent re-activates the pane that holds the focused widget,
        # so with the table focused another tab would not stay shown.
        focus = self.TAB_FOCUS.get(tab)
        self.set_focus(self.query_one(focus) if focus else None)
        self.query_one(TabbedContent).active = "charts-tab" if tab == "charts" else tab
        if tab == "scorer":
            self.refresh_scorer()
        if tab == "charts" and self.screen.maximized is None and self.query_one("#bottom").size.height < CHARTS_MIN_HEIGHT:
            self.notify("the charts need more rows than this terminal gives them: z zooms them to the whole screen",
                        title="charts")

    # Every way out goes through the run's own stop: Textual binds ctrl+q to `quit` (leave at
    # once, the engine thread still in a model call) and ctrl+c to a hint about ctrl+q.
    async def action_quit(self) -> None:
        self.action_quit_run()

    def action_help_quit(self) -> None:
        self.action_quit_run()

    def action_quit_run(self) -> None:
        if self.stop_requested or not self.engine_running:
            self.forced = self.stop_requested and self.engine_running
            if self.forced and self.engine is not None and not self.replay:
                self.engine.abandon()  # progress.json says stopped before the process leaves
            self.exit(return_code=130 if self.forced else 0)
            return
        self.stop_requested = True
        self.refresh_bindings()
        self.control.request_stop()
        self.run_state = "STOPPING…"
        self.log_line("stopping at the next batch boundary, then saving (q again to force)")
        self.refresh_header()

    def action_show_help(self) -> None:
        self.push_screen(HelpScreen(replay=self.replay))

    def action_zoom(self) -> None:
        """Cycle the zoomed pane, for small terminals and projectors: the tabs (table, scorer,
        charts, log), the live pane, the stats, then back to the whole workbench."""
        order = [self.query_one("#bottom"), self.query_one(LivePane), self.query_one(StatsPanel)]
        current = self.screen.maximized
        if current is None:
            self.screen.maximize(order[0], container=False)
        elif current in order and current is not order[-1]:
            self.screen.maximize(order[order.index(current) + 1], container=False)
        else:
            self.screen.minimize()

    def zoom_changed(self, zoomed) -> None:
        """Keys go where the eye is. Left alone, Textual moves the focus off a widget the zoom
        hides to the next focusable one, which can be the hidden filter box: every key then
        typed into it, `q` and `z` included. The live pane and the stats take no keys, so with
        one of them zoomed nothing is focused and every key is the app's."""
        if zoomed is None or zoomed is self.query_one("#bottom"):
            tab = self.query_one(TabbedContent).active
            focus = self.TAB_FOCUS.get("charts" if tab == "charts-tab" else tab)
            self.set_focus(self.query_one(focus) if focus else None)
        else:
            self.set_focus(None)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Into the run directory (Textual's default, ~/Downloads, may not exist), and say where."""
        directory = Path(path) if path else Path(self.settings.output) / "screenshots"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(directory), time_format)
        except OSError as error:
            self.notify(f"screenshot not saved: {directory}: {error.strerror or error}", severity="error")
            return None
        self.notify(f"screenshot saved: {saved}", title="screenshot")
        self.log_line(f"screenshot saved: {saved}")
        return saved

    # ------------------------------------------------------------------ drawing

    def log_line(self, text: str) -> None:
        self.log_history.append(text)
        self.query_one("#log-pane", RichLog).write(plain(text))

    def tick(self) -> None:
        """The clock's redraw, once a second. It can fire while the app closes, after the
        widgets are gone: nothing to redraw then."""
        try:
            self.refresh_header()
        except NoMatches:
            pass

    def live_waiting(self) -> str:
        """What the live pane says before a pass's first candidate."""
        if self.run_state == "PAUSED":
            return "paused before this pass's first candidate: p resumes"
        if self.run_state == "PAUSING…":  # the batch under way runs to its end first
            return f"{self.state.activity}: the batch under way finishes, then the run pauses…"
        if self.run_state == "LOADING":
            return "loading the model…"
        if self.run_state == "RUNNING":
            return f"{self.state.activity}: waiting for the first candidate…"
        return ""

    def header_detail(self, now: float) -> str:
        """Inside a batch: the stage, for how long and how far its decoding has got, and the
        pass's time left; while stopping, what q does now."""
        if self.run_state == "STOPPING…":
            return f"stops after this batch{self.batch_progress(now)}, then saves; q again leaves at once"
        # `n` is taken at the next batch boundary: until then the header says it is coming
        pending = ["train now: at the next batch boundary"] if self.control.train_now_pending else []
        if self.run_state == "PAUSING…" and self.stage is not None:
            return " · ".join(pending + [f"pauses after this batch{self.batch_progress(now)}; p again keeps going"])
        if self.run_state != "RUNNING":
            return " · ".join(pending)
        parts = pending
        # The pass's time left first, where it is known: at 80 columns the end of the header is
        # what gets cut, and a tmux trial at 80x24 saw only `~0:0…`. Before anything is measured
        # (the run's first pass) the stage and its decoding lead, and bound the call's time.
        pace = self.train_pace if self.state.activity == "training" else self.pass_pace
        left = pace.left(now)
        if left is not None:
            parts.append(f"~{format_elapsed(left)} left")
        if self.stage is not None and self.state.activity in ("before", "after"):
            stage, since = self.stage
            parts.append(f"{stage.stage}{self.decoding_text()} · {stage.sequences} seq {format_elapsed(now - since)}")
        return " · ".join(parts)

    def decoding_text(self) -> str:
        """` token 17/48 3.2/s ≤0:00:10`: the running generate call's steps, its measured rate,
        and at that rate the most the call can still take (it ends sooner once every sequence
        has ended: an upper bound, hence ≤). Inside a pass of one batch this is the only time
        left that can be measured."""
        if self.decoding is None:
            return ""
        event, began = self.decoding
        text = f" token {event.step}/{event.max_steps}"
        if event.step > 1 and event.at > began:
            rate = (event.step - 1) / (event.at - began)
            text += f" {rate:.1f}/s ≤{format_elapsed((event.max_steps - event.step) / rate)}"
        return text

    def batch_progress(self, now: float) -> str:
        """`: generating token 30/48 (~0:00:12)`: where the running batch is, and its time left
        at the pass's pace so far where that is known."""
        if self.stage is None:
            return ""
        stage, _ = self.stage
        left = self.pass_pace.unit_left(now, stage.tasks)
        return (f": {stage.stage}{self.decoding_text()}"
                + (f" (~{format_elapsed(left)})" if left else ""))

    def header_weights(self) -> str:
        weights = self.control.weights
        if weights == default_weights():
            return ""
        return "weights " + ",".join(f"{name}={value:g}" for name, value in weights.items() if value > 0)

    def refresh_header(self) -> None:
        now = self.clock()
        if self.state.activity == "training":
            pace = self.train_pace
            progress = f"{pace.done}/{pace.total}" if pace.total else ""
        else:
            progress = f"{self.state.tasks_done}/{self.state.tasks_total}" if self.state.tasks_total else ""
        self.query_one(RunHeader).show(
            model=self.backend["model"], quant=self.backend["quant"], device=self.backend["device"],
            cycle=self.state.cycle, cycles=self.settings.cycles, phase=self.state.activity, progress=progress,
            threshold=self.control.threshold, selector=self.state.selector(),
            elapsed=None if self.replay else (now if self.finished_at is None else self.finished_at) - self.started,
            state=self.run_state,
            detail=self.header_detail(now), weights=self.header_weights(),
        )
        if not self.state.pass_rows() and not self.pending:
            self.show_live()

    def show_live(self) -> None:
        """The live pane: the batch under way as it fills in, else the pass's newest task."""
        self.query_one(LivePane).show(self.state.pass_rows(), self.state.weights, waiting=self.live_waiting(),
                                      pending=self.pending)

    def refresh_all(self) -> None:
        self.refresh_header()
        passes = {phase: pass_metrics(self.state.pass_rows(phase=phase)) for phase in ("before", "after")}
        self.query_one(StatsPanel).show(passes, self.state.cycle, self.control.threshold, self.state.last_loss,
                                        self.state.history, self.state.evaluations,
                                        check=check_pass(self.state.pass_rows()),
                                        agreement=self.state.marks_agreement())
        scores = [r.score for r in self.state.cycle_rows()]
        self.query_one(ScoreHistogram).show(scores, self.control.threshold)
        if self.query_one(TabbedContent).active == "scorer":
            self.refresh_scorer()

    def refresh_cycle_chart(self) -> None:
        legend = self.query_one(CycleChart).show(self.state.history, self.state.evaluations)
        self.query_one("#cycle-legend", Static).update(legend)

    def refresh_views(self) -> None:
        """After a threshold, weights or mark change: everything computed from the rows."""
        self.show_live()
        self.update_table_title()
        self.refresh_all()

    def refresh_scorer(self) -> None:
        # Judges every candidate against its references: done when the tab is shown, not per row.
        self.query_one(ScorerPanel).show(self.state.scorer_check(), self.state.marks_agreement(),
                                         self.state.weights, self.state.threshold, self.state.evaluations)


def create_app(settings: RunSettings, pack: TaskPack, runlog: RunLog, load_backend: BackendLoader | None = None,
               clock: Callable[[], float] = time.monotonic, resume: ResumePoint | None = None,
               eval_sets: dict[str, list[EvalTask]] | None = None, replay_pack: TaskPack | None = None
               ) -> InversionApp:
    """The one way the CLI and the tests build the live app. The model loads inside the worker,
    so the screen is up at once and the log pane shows the loading."""
    if load_backend is None:
        from inversion_tui.backends import load_backend

    def engine_factory(emit: ev.EventSink, control: RunControl) -> Engine:
        backend = load_backend(settings, lambda message: emit(ev.Log("info", message)))
        return Engine(settings, backend, pack, runlog, emit=emit, control=control, resume=resume,
                      eval_sets=eval_sets or {}, replay_pack=replay_pack)

    return InversionApp(settings, engine_factory, clock=clock, control=RunControl.for_run(settings, resume),
                        marks=MarkBook(runlog.directory))


def create_replay_app(run: RunRecord, clock: Callable[[], float] = time.monotonic) -> InversionApp:
    """The same app over a run directory's files (`inspect`): no engine, no model. It opens
    with the threshold and weights last in force in the run."""
    try:
        settings = saved_settings({**run.settings, "output": run.directory})
        weights = check_weights(run.progress.weights or settings.weights)
    except (SettingsError, ValueError) as error:
        raise RunDirectoryError(f"{run.directory}: its settings cannot be read ({first_line(error)})") from None
    control = RunControl.from_progress(settings, run.progress, weights)
    return InversionApp(settings, lambda emit, _control: ReplaySource(run, emit), clock=clock, control=control,
                        marks=MarkBook(run.directory), replay=True)
