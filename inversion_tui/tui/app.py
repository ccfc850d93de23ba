"""The workbench app: streams the loop live, and pauses, re-thresholds, re-weights, trains now
and quits it. Its rooms, each a mixin of InversionApp: the engine worker (worker.py), what each
engine event does (dispatch.py), the header's text (heading.py), the views' redraw (views.py)
and the scorer-debugging controls (debugging.py).

The engine runs in a thread worker and talks to the UI only through EngineEvent messages;
the UI talks to the engine only through the RunControl, which the engine reads at batch
boundaries. Widgets are touched on the UI thread only. A replay (`inspect`) runs the same app
with a ReplaySource in the engine's place.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static, TabbedContent, TabPane

from inversion_tui.errors import RunDirectoryError, SettingsError, first_line
from inversion_tui.loop import events as ev
from inversion_tui.loop.backend import Backend
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.resume import ResumePoint
from inversion_tui.loop.runlog import RunLog
from inversion_tui.loop.select import RULES
from inversion_tui.marks import MarkBook
from inversion_tui.plain_text import visible
from inversion_tui.run_record import ReplaySource, RunRecord
from inversion_tui.settings import RunSettings, check_weights, saved_settings
from inversion_tui.tasks import TaskPack
from inversion_tui.tui.actions import bindings, engine_actions, palette_commands, typed_actions
from inversion_tui.tui.debugging import ScorerDebugging
from inversion_tui.tui.dispatch import EngineEvents
from inversion_tui.tui.heading import HeaderText
from inversion_tui.tui.pace import Pace
from inversion_tui.tui.query import FILTER_HELP
from inversion_tui.tui.state import RunState
from inversion_tui.tui.views import Views
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.charts import CycleChart, LossChart, ScoreHistogram
from inversion_tui.tui.widgets.header import RunHeader
from inversion_tui.tui.widgets.help import HelpScreen
from inversion_tui.tui.widgets.live import LivePane
from inversion_tui.tui.widgets.ordered_input import OrderedInput
from inversion_tui.tui.widgets.scorer import ScorerPanel
from inversion_tui.tui.widgets.stats import StatsPanel
from inversion_tui.tui.widgets.threshold import ThresholdScreen
from inversion_tui.tui.worker import EngineWorker

EngineFactory = Callable[[ev.EventSink, RunControl], Engine]
"""Builds the engine (loading the model) inside the worker thread: (emit, control) -> Engine."""

BackendLoader = Callable[[RunSettings, Callable[[str], None]], Backend]
"""(settings, log) -> Backend; backends.load_backend in the product, a fake in tests."""

THRESHOLD_STEP = 0.05
CHARTS_MIN_HEIGHT = 16  # rows of the tabs below which the charts are too flat to read (80x24 gives 11)


class InversionApp(EngineWorker, EngineEvents, HeaderText, Views, ScorerDebugging, App[None]):
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

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Not markup unless asked: notifications carry model output, paths and filter text."""
        super().notify(visible(message), title=visible(title), severity=severity, timeout=timeout, markup=markup)

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
