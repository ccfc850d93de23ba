"""The workbench driven by Textual's Pilot: every control, and the event -> widget path.

A fake backend keeps these fast; one test runs the real bundled model.
"""

import io
import json
import time

import pytest
from rich.console import Console

from inversion_tui.loop import events as ev
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import PROGRESS, RunLog, read_candidate_lines, read_candidates
from inversion_tui.loop.select import decide
from inversion_tui.loop.stopping import describe_best
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs
from inversion_tui.tui.app import create_app
from inversion_tui.tui.messages import EngineEvent
from inversion_tui.tui.widgets.candidates import CandidatesTable
from tests.fakes import FakeBackend


def make_app(tmp_path, backend, eval_sets=None, clock=lambda: 0.0, **overrides):
    values = dict(cycles=1, tasks=6, candidates=2, threshold=0.3, gen_batch_size=2, output=tmp_path / "run",
                  pack="pentest,shell")
    values.update(overrides)
    settings = build_settings(**values)
    return create_app(settings, load_packs(settings.pack), RunLog.create(settings.output),
                      load_backend=lambda s, log: backend, clock=clock, eval_sets=eval_sets)


async def wait_for(pilot, predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def text_of(widget) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=max(widget.size.width, 40), file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def header_text(app) -> str:
    from inversion_tui.tui.widgets.header import RunHeader

    return text_of(app.query_one(RunHeader))


def engine_events(messages, kind):
    return [m.event for m in messages if isinstance(m, EngineEvent) and isinstance(m.event, kind)]


async def test_events_reach_every_widget(tmp_path):
    app = make_app(tmp_path, FakeBackend(), cycles=2, tasks=4)
    messages = []
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
        await pilot.pause()
        scored = engine_events(messages, ev.CandidateScored)
        assert len(scored) == 2 * 2 * 4 * 2  # cycles x passes x tasks x candidates
        table = app.query_one(CandidatesTable)
        assert table.row_count == len(scored)  # every candidate of the run, past cycles too
        numbers = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert numbers == sorted(numbers, reverse=True)  # newest first
        assert len(app.state.history) == 2
        assert "FINISHED" in header_text(app) and "cycle 2/2" in header_text(app)
        stats = text_of(app.query_one("#stats"))
        assert "before" in stats and "after" in stats and "accepted" in stats
        live = text_of(app.query_one("#live"))
        assert "task" in live and scored[-1].command in live
        log = "\n".join(app.log_history)
        assert "saved adapter" in log and "cycle 2 done" in log
        best = json.loads((tmp_path / "run" / PROGRESS).read_text()).get("best_adapter")
        assert app.log_history[-1] == describe_best(str(tmp_path / "run"), best, "score")  # what to keep
        assert app.finished_best == (best, "score")  # for the lines printed once the app closes


async def test_every_held_out_set_shows_per_cycle_with_its_paired_change(tmp_path):
    from inversion_tui.loop.evaluation import EvalTask

    sets = {"suite-a": [EvalTask("List files in /tmp", ("listctl /tmp",)), EvalTask("Show disk usage", ("df",))],
            "suite-b": [EvalTask("Count lines in a.txt", ("wc -l a.txt",))]}
    app = make_app(tmp_path, FakeBackend(), eval_sets=sets, cycles=2, tasks=2)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
        await pilot.pause()
        assert sorted((e.set, e.cycle) for e in app.state.evaluations) == [
            (name, c) for name in ("suite-a", "suite-b") for c in (0, 1, 2)]
        stats = text_of(app.query_one("#stats"))
        # the fake names "list" tasks listctl: suite-a's first task is right, at every cycle
        assert "suite-a acc 0.500 (base 0.500, n=2) Δ +0.000" in stats
        assert "suite-b acc 0.000 (base 0.000, n=1)" in stats
        log = "\n".join(app.log_history)
        assert "held-out suite-b (cycle 2, n=1)" in log and "vs base, paired: acc +0.000" in log


async def test_pause_stops_at_a_boundary_and_resume_continues_exactly(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)
    run = tmp_path / "run"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.rows, what="a first candidate")
        await pilot.press("p")
        assert "PAUSING" in header_text(app) or "PAUSED" in header_text(app)
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED")
        assert "PAUSED" in header_text(app)
        on_disk = len(read_candidates(run))
        shown = len(app.state.rows)
        await pilot.pause(0.5)
        assert len(read_candidates(run)) == on_disk and len(app.state.rows) == shown  # really paused
        assert on_disk == shown  # nothing scored is lost or hidden
        await pilot.press("p")
        await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
    lines = read_candidates(run)
    assert len(lines) == 2 * 10 * 2
    keys = [(c.phase, c.batch, c.task, c.command) for c in lines]
    assert len(lines) == len({(k, i) for i, k in enumerate(keys)})
    assert [c.batch for c in lines if c.phase == "before"] == sorted(
        c.batch for c in lines if c.phase == "before")


async def test_threshold_keys_recompute_acceptance_at_once_and_log_it(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.state.rows) >= 4, what="candidates")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED")
        for _ in range(4):
            await pilot.press("plus")
        assert app.control.threshold == pytest.approx(0.5)
        rows = app.state.pass_rows()
        expected = [reason is None for reason in decide(rows, 0.5)]
        assert [r.accepted for r in rows] == expected  # from stored scores, while paused: no model call
        table = app.query_one(CandidatesTable)
        for row in rows:
            assert str(table.get_cell(str(row.number), "verdict")) == (
                "accepted" if row.accepted else "flagged" if row.flags else "rejected")
        await pilot.press("minus")
        assert app.control.threshold == pytest.approx(0.45)
        assert "threshold 0.45" in header_text(app)
        # recorded in progress.json while the engine is still paused
        await wait_for(pilot, lambda: len(json.loads((tmp_path / "run" / PROGRESS).read_text())
                                          .get("threshold_changes", [])) == 5, what="the changes on disk")
        assert app.run_state == "PAUSED"
        await pilot.press("p")
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert [c["to"] for c in progress["threshold_changes"]] == [0.35, 0.4, 0.45, 0.5, 0.45]
    later = [line for line in read_candidate_lines(tmp_path / "run")[0] if line.threshold == 0.45]
    assert later, "later batches select with the new threshold"


async def test_typed_threshold_rejects_bad_input_and_applies_good(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.press(*"1.7", "enter")
        error = app.screen.query_one("#threshold-error")
        assert "not a number in [0, 1]" in text_of(error)
        assert app.control.threshold == 0.3
        field = app.screen.query_one("#threshold-input")
        field.value = ""
        await pilot.press(*"0.8", "enter")
        assert app.control.threshold == pytest.approx(0.8)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_train_now_runs_a_step_and_shows_its_loss(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10, threshold=0.0)
    messages = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: app.state.rows, what="a first candidate")
        await pilot.press("n")
        await wait_for(pilot, lambda: engine_events(messages, ev.TrainingDone), what="training")
        manual = engine_events(messages, ev.TrainingDone)[0]  # the cycle's own step may follow at once
        assert manual.manual and manual.mean_loss is not None
        # On a loaded machine the cycle's own training may already have followed: the stats
        # show the latest loss, the manual step's or a later step's.
        await wait_for(pilot, lambda: app.state.last_loss is not None, what="the loss in the stats")
        losses = [t.mean_loss for t in engine_events(messages, ev.TrainingDone)] + [
            t.loss for t in engine_events(messages, ev.TrainingStep)]
        assert app.state.last_loss in [pytest.approx(loss) for loss in losses]
        log = "\n".join(app.log_history)
        assert f"train now done, {manual.steps} steps, mean loss {manual.mean_loss:.4f}" in log
        await wait_for(pilot, lambda: app.finished_status, what="the run to go on and finish")
        trainings = [e for e in engine_events(messages, ev.TrainingDone)]
        assert [t.manual for t in trainings] == [True, False]
        # the last step's loss (the cycle's own); `train_loss` is now the mean over both steps
        assert app.state.last_loss == pytest.approx(engine_events(messages, ev.CycleDone)[-1].metrics.training.mean_loss)


async def test_train_now_from_the_command_palette(tmp_path):
    # A BEFORE pass of 30 batches (12 s): typing into the palette on a loaded 2-core machine
    # took up to 4.5 s, and a request that lands in the AFTER pass rightly trains nothing.
    app = make_app(tmp_path, FakeBackend(delay=0.2), tasks=60, threshold=0.0)
    messages = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: app.state.rows, what="a first candidate")
        await pilot.press("ctrl+p")
        await pilot.press(*"Train now")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.manual for e in engine_events(messages, ev.TrainingDone)),
                       what="a manual training step")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_every_binding_is_also_a_palette_command(tmp_path):
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test() as pilot:
        titles = " ".join(c.title.lower() for c in app.get_system_commands(app.screen))
        for word in ("pause", "raise threshold", "lower threshold", "set threshold", "train now",
                     "candidates", "charts", "log", "quit"):
            assert word in titles, word
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")


async def test_quit_stops_at_a_boundary_saves_and_exits(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.rows, what="a first candidate")
        await pilot.press("q")
        assert "STOPPING" in header_text(app) or "STOPPED" in header_text(app)
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert app.return_code == 0 and not app.forced and app.finished_status == "stopped"
    run = tmp_path / "run"
    progress = json.loads((run / PROGRESS).read_text())
    assert progress["status"] == "stopped"
    assert (run / "checkpoint_stopped" / "adapter_config.json").is_file()
    lines = read_candidates(run)
    assert lines and len(lines) % 2 == 0  # whole batches only (2 candidates per task)


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_textuals_own_quit_keys_stop_the_run_too(tmp_path, key):
    """Textual advertises ctrl+q (and hints at it on ctrl+c); both go through the run's stop."""
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.rows, what="a first candidate")
        await pilot.press(key)
        assert "STOPPING" in header_text(app) or "STOPPED" in header_text(app)
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert app.return_code == 0 and not app.forced and app.finished_status == "stopped"
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["status"] == "stopped"
    lines = read_candidates(tmp_path / "run")
    assert lines and len(lines) % 2 == 0  # whole batches only


async def test_the_palette_offers_one_quit_and_it_stops_the_run(tmp_path):
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test() as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if "quit" in t.lower()] == ["Quit the run"]
        # One way to enlarge a pane (z), not Textual's Maximize beside it (issue 34).
        app.set_focus(app.query_one(CandidatesTable))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Maximize" not in titles and any(t.lower().startswith("zoom") for t in titles)
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")


async def test_a_crash_of_the_app_stops_the_engine_cleanly(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10)

    def broken(event):
        raise RuntimeError("a widget bug")

    app._engine_handlers[ev.BatchDone] = broken  # a handler that raises, as a widget bug would
    with pytest.raises(RuntimeError, match="a widget bug"):
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.return_code is not None, what="the crash")
    assert app.return_code == 1
    said = []
    app.wait_for_engine(said.append)  # what the CLI does once the app has closed
    assert not app.engine_thread.is_alive() and "stopping it at the next batch boundary" in said[0]
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["status"] == "stopped"
    assert len(read_candidates(tmp_path / "run")) % 2 == 0


async def test_the_log_counts_verdicts_that_changed_not_reasons(tmp_path):
    app = make_app(tmp_path, FakeBackend(), tasks=4, threshold=0.95)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        before = [(r.accepted, r.reason) for r in app.state.rows]
        await pilot.press("minus")  # 0.95 -> 0.90: rejected rows' reasons name the new threshold
        after = [(r.accepted, r.reason) for r in app.state.rows]
        flipped = sum(a[0] != b[0] for a, b in zip(after, before))
        assert sum(a[1] != b[1] for a, b in zip(after, before)) > flipped  # reasons changed alone
        assert app.log_history[-1] == f"threshold set to 0.90: {flipped} verdict(s) changed"


async def test_second_quit_forces(tmp_path):
    backend = FakeBackend(delay=0.4)
    app = make_app(tmp_path, backend, tasks=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: backend.calls, what="a first model call")
        await pilot.press("q")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert app.forced and app.return_code == 130
    assert app.engine_thread.daemon  # so the process can leave while a model call runs
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["status"] == "stopped" and "forced_stop" in progress  # not left `running`
    # the engine thread still stops by itself at its next boundary and saves
    deadline = time.monotonic() + 10
    while not (tmp_path / "run" / "checkpoint_stopped").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "run" / "checkpoint_stopped").exists()


async def test_a_user_error_in_the_worker_exits_with_code_2(tmp_path):
    from inversion_tui.errors import ModelLoadError

    def failing_loader(settings, log):
        raise ModelLoadError("cannot load model 'x': not found")

    settings = build_settings(cycles=1, tasks=2, output=tmp_path / "run")
    app = create_app(settings, load_packs("pentest"), RunLog.create(settings.output), load_backend=failing_loader)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert app.return_code == 2 and app.failure == "cannot load model 'x': not found"


@pytest.mark.slow
async def test_real_model_candidate_appears_and_quit_is_clean(tmp_path):
    from inversion_tui.hf.models import resolve_device

    settings = build_settings(cycles=1, tasks=2, candidates=2, max_new_tokens=24, output=tmp_path / "run")
    app = create_app(settings, load_packs("pentest"), RunLog.create(settings.output))
    messages = []
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        # The real generator reports its decoding steps, and the batch's commands are shown
        # before they are scored (issue 26: the pane sat silent through a whole batch).
        await wait_for(pilot, lambda: " token " in header_text(app), timeout=300, what="decoding steps in the header")
        await wait_for(pilot, lambda: app.state.rows, timeout=300, what="a real candidate")
        steps = engine_events(messages, ev.Decoding)
        assert steps[0].step == 1 and any(e.step > 1 and e.max_steps == 24 for e in steps)
        kinds = [type(m.event) for m in messages if isinstance(m, EngineEvent)]
        assert kinds.index(ev.CommandsGenerated) < kinds.index(ev.CommandsInverted) < kinds.index(ev.CandidateScored)
        row = app.state.rows[0]
        assert row.task and 0.0 <= row.score <= 1.0 and set(row.components) >= {"embed", "overlap", "difflib"}
        assert app.backend["device"] == resolve_device() and "smollm2" in header_text(app)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, timeout=300, what="a clean exit")
    assert app.return_code == 0 and app.finished_status in ("stopped", "finished") and not app.failure
    assert read_candidates(tmp_path / "run")


def footer_keys(app) -> set[str]:
    """The keys the footer shows now."""
    return {key for key, active in app.active_bindings.items() if active.binding.show and active.enabled
            and app.check_action(active.binding.action, ()) is not False}


async def test_keys_at_start_and_after_the_run(tmp_path):
    from inversion_tui.tui.widgets.help import HelpScreen
    from inversion_tui.tui.widgets.inspector import CandidateScreen

    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=4)
    async with app.run_test(size=(80, 24)) as pilot:
        assert {"q", "question_mark", "p", "n", "f"} <= footer_keys(app)
        # The table (not only the state) must hold a candidate under its cursor: under load it
        # redraws a moment after the state has the row.
        table = app.query_one(CandidatesTable)
        await wait_for(pilot, lambda: table.current_row() is not None, what="a first candidate in the table")
        await pilot.press("enter")  # no click or `c` first: the table has the focus from the start
        await wait_for(pilot, lambda: isinstance(app.screen, CandidateScreen), what="the inspector")
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = text_of(app.screen.query_one("#help-dialog Static:last-of-type"))
        assert "Quit the run" in shown and "Train now" in shown and "ctrl+p" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        await pilot.pause()
        assert "p" not in footer_keys(app) and "n" not in footer_keys(app)  # nothing left to pause or train
        assert "q" in footer_keys(app)


async def test_the_header_says_what_the_batch_is_doing_and_what_q_does_while_stopping(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.3), tasks=6, clock=time.monotonic)  # a pace needs a clock
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: "· 4 seq" in header_text(app) and ("generating" in header_text(app) or "inverting" in header_text(app)),
                       what="the stage in the header")
        await wait_for(pilot, lambda: "left" in header_text(app), what="an estimate once a batch is done")
        await pilot.press("q")
        assert "q again leaves at once" in header_text(app)
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_the_header_shows_weights_that_are_not_the_defaults(tmp_path):
    app = make_app(tmp_path, FakeBackend(), weights={"embed": 1.0, "overlap": 0.0, "difflib": 0.0})
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        assert "weights embed=1" in header_text(app)


async def test_the_live_pane_says_paused_before_the_first_candidate(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.2), tasks=4)
    app.control.pause()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED")
        await pilot.pause()
        assert "paused before this pass's first candidate" in text_of(app.query_one("#live"))
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_a_screenshot_goes_into_the_run_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        await pilot.press("ctrl+s")
        await pilot.pause()
        [svg] = (tmp_path / "run" / "screenshots").glob("*.svg")
        assert f"screenshot saved: {svg}" in app.log_history


async def test_zoom_cycles_through_the_panes(tmp_path):
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        zoomed = []
        for _ in range(4):
            await pilot.press("z")
            zoomed.append(app.screen.maximized.id if app.screen.maximized else None)
        assert zoomed == ["bottom", "live", "stats", None]


async def test_charts_at_80_columns_keep_their_legend_off_the_data(tmp_path):
    app = make_app(tmp_path, FakeBackend(), cycles=2, tasks=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        await pilot.press("g")
        await pilot.pause()
        legend = text_of(app.query_one("#cycle-legend"))
        assert "score before" in legend and "accept" in legend and "after" in legend
        assert app.query_one("#cycle-legend").region.height >= 1  # on screen, above the chart
        assert len(app.state.losses) == sum(c.train_steps for c in app.state.history)  # the loss curve


def test_every_engine_event_has_a_handler_by_type(tmp_path):
    """Dispatch is by type, not by a method name built from the event's name: an event added
    or renamed without its handler fails here."""
    from inversion_tui.console import HeadlessConsole

    app = make_app(tmp_path, FakeBackend())
    assert set(app.engine_handlers()) == set(ev.EVENT_TYPES)
    assert set(HeadlessConsole(Console(file=io.StringIO())).handlers()) <= set(ev.EVENT_TYPES)
    # headless says which it leaves out: a new event is a decision there too
    shown = set(HeadlessConsole(Console(file=io.StringIO())).handlers())
    assert shown | set(HeadlessConsole.SILENT) == set(ev.EVENT_TYPES) and not shown & set(HeadlessConsole.SILENT)


def test_headless_redirected_prints_a_line_a_batch_and_a_terminal_draws_the_bar():
    """Issue 34: headless with its output redirected printed nothing per batch for 18 minutes
    (rich draws no bar where the output is not a terminal)."""
    from inversion_tui.console import HeadlessConsole

    for terminal in (False, True):
        out = io.StringIO()
        with HeadlessConsole(Console(file=out, width=100, color_system=None, force_terminal=terminal)) as console:
            console(ev.PhaseStarted(cycle=1, phase="before", total=8))
            console(ev.BatchDone(cycle=1, phase="before", tasks_done=4, tasks_total=8))
        assert ("cycle 1 before: 4/8 tasks done" in out.getvalue()) is not terminal


async def test_a_resumed_run_shows_its_earlier_cycles_and_marks(tmp_path):
    """Issue 26: resuming a run stopped after cycle 1 showed `0 of 0` candidates, an empty
    scorer tab and no marks, though the run had them all on disk."""
    from inversion_tui.loop.resume import open_resume
    from inversion_tui.marks import MarkBook

    first = make_app(tmp_path, FakeBackend(), cycles=1, tasks=4)
    async with first.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: first.finished_status == "finished", what="cycle 1 to finish")
    before = read_candidates(tmp_path / "run")
    MarkBook(tmp_path / "run").set((1, "before", 0), "good", task=before[0].task, command=before[0].command)

    settings, runlog, point = open_resume(tmp_path / "run", {"cycles": 2})
    app = create_app(settings, load_packs(settings.pack), runlog, load_backend=lambda s, log: FakeBackend(),
                     clock=lambda: 0.0, resume=point)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status == "finished", what="cycle 2 to finish")
        await pilot.pause()
        table = app.query_one(CandidatesTable)
        assert table.row_count == 2 * len(before)  # cycle 1's as well as cycle 2's
        assert {row.cycle for row in app.state.rows} == {1, 2}
        assert app.state.marks_agreement()["marked"] == 1
        await pilot.press("a")
        await pilot.pause()
        scorer = text_of(app.query_one("#scorer-panel"))
        assert "1 marked" in scorer
        trained = {key for key in Progress.read(tmp_path / "run").trained_positions() if key[0] == 1}
        assert trained and {(1, row.index) for row in app.state.rows if row.cycle == 1 and row.trained} == trained


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_zoom_keeps_keys_for_the_app_the_header_and_the_panes_border(tmp_path, size):
    """Issue 26: `z z Esc z z` left the focus in the hidden filter box, which then took every
    key (`q`, `?`, `z`); a zoomed pane hid the header and lost its right border."""
    from inversion_tui.tui.widgets.header import RunHeader
    from inversion_tui.tui.widgets.help import HelpScreen
    from inversion_tui.tui.widgets.live import LivePane

    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        for key in ("z", "z", "escape", "z", "z"):
            await pilot.press(key)
            await pilot.pause()
        assert app.screen.maximized is app.query_one(LivePane)
        live = app.query_one(LivePane).region
        assert live.right <= size[0] and live.width >= size[0] - 2  # the whole width, border included
        header = app.query_one(RunHeader)
        assert header.display and header.region.height == 1 and "FINISHED" in header_text(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.query_one("#filter").value == ""
        await pilot.press("escape")
        await pilot.press("z", "z")  # the stats, then the whole workbench: keys to the table again
        await pilot.pause()
        assert app.screen.maximized is None and app.focused is app.query_one(CandidatesTable)


async def test_the_live_pane_fills_in_as_the_batch_runs_and_the_time_left_falls(tmp_path):
    """Issue 26: the live pane waited for a whole batch, then showed it at once, and the
    header's time left counted up between batches (elapsed / done grew with the clock)."""
    clock = [0.0]
    settings = build_settings(cycles=1, tasks=6, candidates=2, threshold=0.3, gen_batch_size=2,
                              output=tmp_path / "run", pack="pentest,shell")
    app = create_app(settings, load_packs(settings.pack), RunLog.create(settings.output),
                     load_backend=lambda s, log: FakeBackend(delay=0.4), clock=lambda: clock[0])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.pending and app.pending[0][2] is None, what="commands before inversion")
        live = text_of(app.query_one("#live"))
        assert app.pending[0][1] in live and "inverting…" in live and not app.state.rows
        await wait_for(pilot, lambda: " token " in header_text(app), what="decoding steps in the header")
        await wait_for(pilot, lambda: app.state.tasks_done == 2, what="the first batch")
        clock[0] = 30.0  # the first batch took 30 s: 4 tasks left, about 60 s
        app.on_engine_BatchDone(ev.BatchDone(1, "before", 2, 6))
        lefts = []
        for now in (31.0, 41.0, 51.0):
            clock[0] = now
            lefts.append(app.header_detail(now))
        assert lefts[0].endswith("~0:00:59 left") and lefts[1].endswith("~0:00:49 left")
        assert lefts[2].endswith("~0:00:39 left")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


def test_the_pace_counts_down_between_units_and_never_below_zero():
    from inversion_tui.tui.pace import Pace

    pace = Pace(started=0.0)
    assert pace.left(5.0) is None  # nothing measured yet
    pace.mark(1, 4, now=10.0)  # 10 s a unit
    assert [pace.left(t) for t in (10.0, 15.0, 25.0)] == [30.0, 25.0, 15.0]
    assert pace.left(60.0) is None  # the running unit is slower than the estimate: no figure
    pace.mark(2, 4, now=40.0)  # the second unit was slow: 20 s a unit now
    assert pace.left(40.0) == 40.0 and pace.unit_left(45.0, 1) == 15.0
    pace.hold(45.0)  # paused (or a train-now step) for 100 s: neither pace nor time spent
    assert pace.left(100.0) == 35.0
    pace.release(145.0)
    assert pace.left(145.0) == 35.0 and pace.per_unit() == 20.0
    pace.mark(4, 4, now=150.0)
    assert pace.left(150.0) is None
    resumed = Pace(started=0.0, total=6, base=4)  # a resumed pass: 4 tasks restored from disk
    resumed.mark(5, 6, now=10.0)
    assert resumed.per_unit() == 10.0 and resumed.left(12.0) == 8.0


async def test_pausing_during_a_batch_says_it_is_still_working_until_it_pauses(tmp_path):
    """Issue 26: `p` during a batch showed `paused before this pass's first candidate` for the
    minutes the batch still ran."""
    app = make_app(tmp_path, FakeBackend(delay=1.5), tasks=4)  # long batches: p lands inside one
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.stage is not None, what="the first batch to start")
        await pilot.press("p")
        assert app.run_state == "PAUSING…"
        assert "paused" not in text_of(app.query_one("#live"))
        assert "pauses after this batch: " in header_text(app) and "p again keeps going" in header_text(app)
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED at the batch boundary")
        assert app.state.rows  # the batch it was in finished first
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_table_shows_what_matters_at_its_width(tmp_path, size):
    """Issue 26: at 160 columns the table hid cons, tr, mark and task, and `tool` was the task's
    program, not the command's (a wget row showed find)."""
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        await pilot.pause()
        table = app.query_one(CandidatesTable)
        widths = {str(column.key.value): column.get_render_width(table) for column in table.columns.values()}
        ends, x = {}, 0
        for key, width in widths.items():
            x += width
            ends[key] = x
        if size[0] == 160:
            assert ends["task"] <= table.size.width and {"cons", "tr", "mark", "prog"} <= set(ends)
        assert ends["command"] <= table.size.width  # the command is on screen at 80 columns too
        row = app.state.rows[0]
        cells = dict(zip(widths, table.get_row(str(row.number))))
        assert str(cells["prog"]) == row.command.strip("`").split()[0]  # the command's own program


async def test_the_header_fits_80_columns_leaving_out_whole_parts(tmp_path):
    """Issue 26: at 80 columns the header ended `threshold 0.40  weights` (cut mid-part); it
    said `LOADING  cycle 0/2  LOADING` while the model loaded."""
    def slow_loader(settings, log):
        time.sleep(1.0)
        return FakeBackend(delay=0.3)

    settings = build_settings(cycles=2, tasks=6, candidates=2, threshold=0.3, gen_batch_size=2,
                              output=tmp_path / "run", pack="pentest,shell",
                              weights={"embed": 1.0, "overlap": 0.0, "difflib": 0.0})
    app = create_app(settings, load_packs(settings.pack), RunLog.create(settings.output),
                     load_backend=slow_loader, clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        loading = header_text(app)
        assert loading.count("LOADING") == 1 and "threshold 0.30" in loading
        await wait_for(pilot, lambda: app.decoding is not None, what="a generate call under way")
        line = header_text(app).splitlines()[0].rstrip()
        assert len(line) <= 80 and "threshold 0.30  weights*  generating" in line and " token " in line
        assert "weights " not in line  # at 80 columns inside a batch: only the marker, the detail needs the room
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_the_charts_tab_says_how_to_read_it_in_a_small_terminal(tmp_path):
    """Issue 26: at 80x24 the charts were too flat to show anything, and nothing said so."""
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        app.clear_notifications()
        await pilot.press("g")
        assert any("z zooms them" in n.message for n in app._notifications)
        await pilot.press("z")
        assert app.query_one("#cycle-chart").size.height >= 12  # zoomed, the chart has rows to draw in


async def test_the_decoding_rate_and_bound_come_from_the_engines_clock(tmp_path):
    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        app.on_engine_Decoding(ev.Decoding(1, "before", "generating", 1, 48, at=10.0))
        app.on_engine_Decoding(ev.Decoding(1, "before", "generating", 17, 48, at=15.0))  # 16 steps in 5 s
        assert app.decoding_text() == " token 17/48 3.2/s ≤0:00:09"  # 31 steps left at 3.2/s, at most


async def test_a_pass_of_one_batch_shows_its_time_left_from_the_pass_before(tmp_path):
    """Issue 34 item 1: with one batch a pass (the README's first example) the header never showed
    a time left; a pass now starts from the pace of the pass before it, and the figure falls."""
    clock = [0.0]
    settings = build_settings(cycles=1, tasks=2, candidates=2, threshold=0.3, gen_batch_size=8,
                              output=tmp_path / "run", pack="pentest,shell")
    app = create_app(settings, load_packs(settings.pack), RunLog.create(settings.output),
                     load_backend=lambda s, log: FakeBackend(delay=2.0), clock=lambda: clock[0])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.run_state == "RUNNING" and app.state.activity == "before",
                       what="the BEFORE pass")
        # no await below: the engine's own events wait until the checks are done
        app.on_engine_PhaseStarted(ev.PhaseStarted(1, "before", 2, 0))
        assert "left" not in app.header_detail(5.0)  # the run's first batch: nothing measured yet
        clock[0] = 30.0
        app.on_engine_BatchDone(ev.BatchDone(1, "before", 2, 2))  # 15 s a task
        clock[0] = 40.0
        app.on_engine_PhaseStarted(ev.PhaseStarted(1, "after", 2, 0))
        lefts = [app.header_detail(now) for now in (45.0, 55.0, 69.0)]
        assert lefts[0].endswith("~0:00:25 left") and lefts[1].endswith("~0:00:15 left")
        assert lefts[2].endswith("~0:00:01 left")
        # Inside a batch the time left leads the stage: at 80 columns the header's end is cut,
        # and a tmux trial saw only `~0:0…` of it.
        clock[0] = 50.0
        app.on_engine_StageStarted(ev.StageStarted(1, "after", "generating", 2, 4))
        assert app.header_detail(50.0).startswith("~0:00:20 left · generating")
        assert "left" not in app.header_detail(71.0)  # slower than the last pass: no figure rather than a wrong one
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_a_resumed_pass_shows_its_rows_newest_first_at_once(tmp_path):
    """Issue 34 item 3: a resumed pass's restored rows came in at the bottom, oldest first under
    `sort newest ↓`, until the next batch ended."""
    from inversion_tui.loop.control import RunControl
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.resume import open_resume

    settings = build_settings(cycles=2, tasks=6, candidates=2, threshold=0.3, gen_batch_size=2,
                              output=tmp_path / "run", pack="pentest,shell")
    control = RunControl.for_run(settings)

    def stop_in_cycle_2(event):
        if isinstance(event, ev.BatchDone) and event.cycle == 2 and event.tasks_done == 4:
            control.request_stop()

    Engine(settings, FakeBackend(), load_packs(settings.pack), RunLog.create(settings.output), emit=stop_in_cycle_2,
           control=control).run()
    settings, runlog, point = open_resume(tmp_path / "run", {})
    app = create_app(settings, load_packs(settings.pack), runlog, load_backend=lambda s, log: FakeBackend(delay=3.0),
                     clock=lambda: 0.0, resume=point)
    async with app.run_test(size=(160, 48)) as pilot:
        restored = 2 * 6 * 2 + 4 * 2  # cycle 1's two passes, then cycle 2's first two batches
        await wait_for(pilot, lambda: len(app.state.rows) == restored, what="the restored rows")
        await pilot.pause()
        shown = [row.number for row in app.query_one(CandidatesTable).visible_rows()]
        assert shown == sorted(shown, reverse=True) and len(shown) == restored  # newest first, before any batch
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_train_now_is_on_the_header_until_taken_and_says_truly_why_nothing_trained(tmp_path):
    """Issue 34 item 7: `n` showed nothing on screen, and in a BEFORE pass that had accepted
    nothing the log said "the AFTER pass only measures"."""
    app = make_app(tmp_path, FakeBackend(delay=0.3), tasks=6, candidates=2, threshold=1.0)  # accepts nothing
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.run_state == "RUNNING" and app.state.activity == "before",
                       what="the BEFORE pass")
        await pilot.press("n")
        assert "train now: at the next batch boundary" in header_text(app)
        await wait_for(pilot, lambda: any("train now: the BEFORE pass has accepted nothing untrained yet" in line
                                          for line in app.log_history), what="the engine to take the request")
        assert not any("only measures" in line for line in app.log_history)
        await wait_for(pilot, lambda: "train now" not in header_text(app), what="the header to drop it")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


@pytest.mark.parametrize("size", [(80, 24), (80, 16), (160, 48)])
async def test_the_weights_dialog_fits_the_screen_with_its_keys(tmp_path, size):
    """Issue 34 item 6: at 80x24 the dialog ran off the screen, its bottom border and "Esc
    cancels" cut; where the fields cannot all fit they scroll, the focused one in view."""
    app = make_app(tmp_path, FakeBackend(delay=0.3), tasks=2)
    async with app.run_test(size=size) as pilot:
        await pilot.press("w")
        await pilot.pause()
        await pilot.pause()
        dialog = app.screen.query_one("#weights-dialog")
        keys = app.screen.query_one(".dialog-keys")
        assert dialog.region.y >= 0 and dialog.region.bottom <= size[1]
        assert keys.region.height == 1 and dialog.region.y < keys.region.y < dialog.region.bottom
        from inversion_tui.loop.components import component_names

        names = component_names()
        for _ in range(len(names) - 1):  # to the last field: it is scrolled into view
            await pilot.press("tab")
        await pilot.pause()
        last = app.screen.focused
        assert last.id == f"weight-{names[-1]}"
        assert app.screen.query_one("#weight-fields").region.contains_region(last.region)
        await pilot.press("escape")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")


def test_the_help_names_every_key_the_readme_gives_the_threshold():
    """Issue 34: `?` did not list `=` `]` `[` (the README's other threshold keys)."""
    from inversion_tui.tui.widgets.help import keys_table

    console = Console(width=120, file=io.StringIO())
    console.print(keys_table())
    text = console.file.getvalue()
    assert "+ = ]" in text and "- [" in text


async def test_the_clock_stops_when_the_run_finishes(tmp_path):
    """Issue 34: the elapsed clock kept ticking after FINISHED."""
    clock = [0.0]
    app = make_app(tmp_path, FakeBackend(), tasks=2, clock=lambda: clock[0])
    async with app.run_test(size=(160, 48)) as pilot:
        clock[0] = 65.0
        await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
        clock[0] = 4000.0
        app.refresh_header()
        assert "0:01:05" in header_text(app) and "1:06:40" not in header_text(app)


def test_the_live_pane_draws_a_bar_per_weighted_component_only():
    """Issue 34: bars were drawn for `emb` and `ovm` at weight 0, though the README says a bar
    per weighted component."""
    from types import SimpleNamespace

    from inversion_tui.tui.widgets.live import component_bars

    row = SimpleNamespace(components={"embed": 0.9, "overlap": 0.5, "doc": 0.4, "consensus": 1.0})
    text = component_bars(row, {"embed": 0.0, "overlap": 0.0, "doc": 1.0, "consensus": 1.0}).plain
    assert "doc" in text and "cons" in text and "emb" not in text and "ovm" not in text


async def test_a_one_batch_pass_shows_its_rows_pending_before_they_are_scored(tmp_path):
    """Issue 34, still open from the round before: rows reached the table when a whole
    generate/invert/score call ended, so with one-batch passes (the README's first example) the
    table stayed empty for a whole pass. Now a batch's rows show as soon as generation returns,
    the reconstruction once inversion does, and its scored candidates take their place."""
    app = make_app(tmp_path, FakeBackend(delay=1.0), tasks=3, candidates=2, gen_batch_size=3)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(CandidatesTable)
        await wait_for(pilot, lambda: table.pending_count == 6, what="the first batch's pending rows")
        assert not app.state.rows and table.candidate_count == 0  # nothing scored yet
        info = text_of(app.query_one("#table-info"))
        assert "0 of 0 (+6 pending)" in info
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(6)]
        command = table.get_column_index("command")
        assert all("pending" in row for row in rows)
        assert [row[command] for row in rows] == [entry[1] for entry in app.pending]  # in the order generated
        # No candidate to inspect on a pending row; the inspector does not open.
        await pilot.press("enter")
        assert table.current_row() is None and len(app.screen_stack) == 1
        # The reconstructions land moments before the scores: what the pending rows showed is
        # recorded as each update is drawn, rather than raced for.
        column, shown, show_pending = table.get_column_index("reconstruction"), [], table.show_pending

        def recording(entries, pass_label):
            show_pending(entries, pass_label)
            shown.append([str(table.get_row_at(i)[column]) for i in range(table.pending_count)])

        table.show_pending = recording
        await wait_for(pilot, lambda: len(app.state.rows) == 6, what="the scored candidates")
        assert any(len(cells) == 6 and "…" not in cells for cells in shown)  # reconstructions, filled in place
        await pilot.pause()
        assert table.pending_count == 0 and table.candidate_count == 6  # replaced, not added beside
        assert "6 of 6 ·" in text_of(app.query_one("#table-info"))
        # With a filter in force pending rows stay out: a filter asks about scores and verdicts.
        await pilot.press("f", *"accepted", "enter")
        await wait_for(pilot, lambda: app.pending, what="the AFTER pass's batch")
        await pilot.pause()
        assert table.pending_count == 0
        from inversion_tui.tui.query import parse_filter

        table.apply_filter(parse_filter(" "), app.state.rows)  # the filter cleared: they are back
        assert not table.filtered and table.pending and table.pending_count == len(table.pending)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
