"""Scorer debugging in the workbench, driven by Textual's Pilot: inspect, filter, sort,
re-weight, mark, the scorer tab, and `inspect RUN_DIR` replay."""

import json

import pytest
from textual.widgets import Input

from inversion_tui.loop.runlog import PROGRESS, read_candidate_lines, read_candidates
from inversion_tui.loop.components import component_names
from inversion_tui.loop.score import combine
from inversion_tui.marks import MARKS
from inversion_tui.run_record import load_run
from inversion_tui.tui.app import create_replay_app
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.inspector import CandidateScreen
from inversion_tui.tui.widgets.scorer import ScorerPanel
from inversion_tui.tui.widgets.stats import StatsPanel
from inversion_tui.tui.widgets.weights import WeightsScreen
from tests.fakes import TEXT_WEIGHTS, FakeBackend
from tests.test_tui import make_app, text_of, wait_for

ONLY_MASKED_OVERLAP = {name: "1" if name == "overlap_masked" else "0" for name in component_names()}


async def finished(pilot, app):
    await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
    await pilot.pause()


async def test_enter_inspects_a_candidate_and_steps_through_the_table(tmp_path):
    app = make_app(tmp_path, FakeBackend(), tasks=4)
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot, app)
        table = app.query_one(CandidatesTable)
        table.focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, CandidateScreen)
        first = screen.row
        assert first is table.visible_rows()[0]
        shown = text_of(screen.query_one("#inspect-content"))
        for expected in (first.task, first.command, "score components", "overlap_masked", "contribution",
                         "forward prompt (exact)", "inverse prompt (exact)", "guards: no flag",
                         "correctness against the template's references", first.references[0]):
            assert expected in shown, expected
        await pilot.press("right")
        assert screen.row is table.visible_rows()[1]
        await pilot.press("y")  # mark good from the inspector
        assert screen.row.mark == "good"
        await pilot.press("escape")
        assert not isinstance(app.screen, CandidateScreen)
        assert table.current_row() is table.visible_rows()[1]  # the cursor follows the inspector
    [line] = (tmp_path / "run" / MARKS).read_text().splitlines()
    assert json.loads(line)["mark"] == "good"


async def test_the_footer_offers_no_typed_key_while_the_filter_box_takes_them(tmp_path):
    """Issue 34: the footer showed `+/- Thr` while typing in the filter box, where `+` types."""
    app = make_app(tmp_path, FakeBackend(), cycles=1, tasks=2)
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot, app)

        def offered() -> set[str]:
            return {active.binding.action for active in app.active_bindings.values() if active.enabled}

        assert {"threshold_up", "filter", "quit_run"} <= offered()
        await pilot.press("f")
        await pilot.pause()
        assert app.focused is app.query_one("#filter", Input)
        assert not {"threshold_up", "threshold_down", "filter", "quit_run"} & offered(), {"threshold_up", "threshold_down", "filter", "quit_run"} & offered()
        await pilot.press("+")
        assert app.query_one("#filter", Input).value == "+" and app.control.threshold == app.settings.threshold
        await pilot.press("backspace", "escape")
        await pilot.pause()
        assert {"threshold_up", "filter", "quit_run"} <= offered()


async def test_filter_and_sort_the_candidates_of_every_cycle(tmp_path):
    app = make_app(tmp_path, FakeBackend(), cycles=2, tasks=4)
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot, app)
        table = app.query_one(CandidatesTable)
        await pilot.press("f")
        assert app.focused is app.query_one("#filter", Input)
        await pilot.press(*"cycle:1 phase:after", "enter")
        shown = table.visible_rows()
        assert shown and all(r.cycle == 1 and r.phase == "after" for r in shown)
        assert len(shown) == sum(1 for r in app.state.rows if r.cycle == 1 and r.phase == "after")
        assert "filter: cycle:1 phase:after" in str(app.query_one("#table-info").content)
        app.query_one("#filter", Input).value = ""
        await pilot.press("f", *"cycle:x", "enter")  # a bad filter: said, and the table unchanged
        assert table.visible_rows() == shown
        assert app.focused is app.query_one("#filter", Input)  # still there, to be fixed
        app.query_one("#filter", Input).value = ""
        await pilot.press("enter")
        assert table.row_count == len(app.state.rows)
        await pilot.press("s")  # newest -> score, descending
        scores = [r.score for r in table.visible_rows()]
        assert table.sort_key == "score" and scores == sorted(scores, reverse=True)
        await pilot.press("S")
        assert [r.score for r in table.visible_rows()] == sorted(scores)
        await pilot.press("s")  # -> the first component, embed
        embeds = [r.components["embed"] for r in table.visible_rows()]
        assert embeds == sorted(embeds)


async def test_reweighting_rescores_every_candidate_and_the_engine_records_it(tmp_path):
    app = make_app(tmp_path, FakeBackend(delay=0.1), cycles=2, tasks=6, threshold=0.6)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: len(app.state.rows) >= 4, what="a first batch")
        await pilot.press("p")  # paused inside cycle 1's BEFORE pass, so its training sees the change
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="the pause")
        assert (app.state.cycle, app.state.phase) == (1, "before")
        await pilot.press("w")
        dialog = app.screen
        assert isinstance(dialog, WeightsScreen)
        for name, value in ONLY_MASKED_OVERLAP.items():
            dialog.query_one(f"#weight-{name}", Input).value = value
        dialog.query_one("#weight-embed", Input).focus()
        await pilot.press("enter")
        assert not isinstance(app.screen, WeightsScreen)
        new = {name: float(value) for name, value in ONLY_MASKED_OVERLAP.items()}
        assert app.control.weights == new
        for row in app.state.rows:  # every row so far, re-scored from its stored components
            assert row.score == pytest.approx(row.components["overlap_masked"])
        await pilot.press("p")
        await finished(pilot, app)
        for row in app.state.rows:  # and every row since
            assert row.score == pytest.approx(combine(row.components, new))
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["weight_changes"][-1]["to"] == new
    assert all(c["training"]["weights"] == new for c in progress["history"]["cycles"])
    last = read_candidate_lines(tmp_path / "run")[0][-1]
    assert last.weights == new and last.candidate.score == pytest.approx(last.candidate.components["overlap_masked"])


async def test_bad_weights_are_refused_in_the_dialog(tmp_path):
    app = make_app(tmp_path, FakeBackend(), tasks=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await finished(pilot, app)
        before = app.control.weights
        await pilot.press("w")
        dialog = app.screen
        for name in ONLY_MASKED_OVERLAP:
            dialog.query_one(f"#weight-{name}", Input).value = "0"
        dialog.query_one("#weight-embed", Input).focus()
        await pilot.press("enter")
        assert "at least one weight must be > 0" in str(dialog.query_one("#weights-error").content)
        dialog.query_one("#weight-embed", Input).value = "lots"
        await pilot.press("enter")
        assert "embed: 'lots' is not a number" in str(dialog.query_one("#weights-error").content)
        await pilot.press("escape")
        assert app.control.weights == before


async def test_marks_give_the_scorer_precision_and_recall(tmp_path):
    app = make_app(tmp_path, FakeBackend(), tasks=4, threshold=0.75, weights=TEXT_WEIGHTS)
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot, app)
        table = app.query_one(CandidatesTable)
        table.focus()
        rows = table.visible_rows()
        accepted = next(r for r in rows if r.accepted)
        rejected = next(r for r in rows if not r.accepted)
        for row, key in ((accepted, "x"), (rejected, "y")):  # the scorer is wrong on both
            table.move_cursor(row=table.get_row_index(str(row.number)))
            await pilot.press(key)
        agreement = app.state.marks_agreement()
        assert (agreement["marked"], agreement["good"], agreement["precision"], agreement["recall"]) == (2, 1, 0.0, 0.0)
        assert "marks 2: precision 0.00, recall 0.00" in text_of(app.query_one(StatsPanel))
        await pilot.press("u")  # clear the last mark
        assert app.state.marks_agreement()["marked"] == 1
        await pilot.press("a")
        await pilot.pause()
        scorer = text_of(app.query_one(ScorerPanel))
        assert "1 marked, 0 good" in scorer and "acc accepted" in scorer and "AUROC" in scorer
    lines = [json.loads(line) for line in (tmp_path / "run" / MARKS).read_text().splitlines()]
    assert [line["mark"] for line in lines] == ["bad", "good", "clear"]


async def test_inspect_replays_a_run_from_its_files(tmp_path):
    live = make_app(tmp_path, FakeBackend(), cycles=2, tasks=4)
    async with live.run_test(size=(160, 48)) as pilot:
        await finished(pilot, live)
        await pilot.press("q")
    directory = tmp_path / "run"
    files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    app = create_replay_app(load_run(directory), clock=lambda: 0.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status is not None, what="the replay")
        await pilot.pause()
        assert app.run_state == "REPLAY: FINISHED"
        assert len(app.state.rows) == len(read_candidates(directory))
        assert [r.number for r in app.state.rows] == [r.number for r in live.state.rows]
        assert {r.key for r in app.state.rows if r.trained} == {r.key for r in live.state.rows if r.trained}
        assert len(app.state.history) == 2
        await pilot.press("p")  # nothing to pause: said, not crashed
        assert not app.control.paused
        said = [n.message for n in app._notifications]
        assert "pause / resume the loop: this is a replay, no engine is running" in said  # issue 26: it said nothing
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Train now" not in titles and "Pause / resume the loop" not in titles and "Set weights…" in titles
        from inversion_tui.tui.widgets.help import HelpScreen

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        from tests.test_tui import text_of

        help_text = "\n".join(text_of(w) for w in app.screen.query("Static"))
        assert "Leave the replay" in help_text and "save the adapter" not in help_text
        assert "live runs only" in help_text
        await pilot.press("escape")
        await pilot.press("plus")  # what-if: every pass re-decided at the new threshold
        assert all(r.accepted == (r.score >= app.control.threshold and not r.flags) for r in app.state.rows
                   if r.phase == "before" and r.cycle == 1 and r.reason != "duplicate of an accepted candidate")
        await pilot.press("q")
    assert {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()} == files


async def test_keys_typed_fast_in_the_weights_dialog_land_in_the_field_tab_moved_to(tmp_path):
    """Issue 26: typed in one burst (as a terminal delivers a fast typist's keys), `Tab Tab 7 8`
    put 78 in the first field: each Tab ran only after the focused field had taken the keys
    behind it."""
    from textual import events

    from inversion_tui.loop.components import component_names

    app = make_app(tmp_path, FakeBackend())
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot, app)
        await pilot.press("w")
        await pilot.pause()
        for key in ("tab", "tab", "ctrl+u", "7", "8", "shift+tab", "ctrl+u", "5", "backspace", "6"):  # one burst
            event = events.Key(key, key if len(key) == 1 else None)
            event.set_sender(app)
            app._driver.send_message(event)
        await pilot.pause(0.5)
        names = component_names()
        values = {name: app.screen.query_one(f"#weight-{name}").value for name in names}
        assert values[names[2]] == "78" and values[names[1]] == "6"
        assert values[names[0]] == f"{app.state.weights[names[0]]:g}"  # the first field untouched


async def test_the_scorer_tab_reads_at_80_columns(tmp_path):
    """Issue 26: at 80x24 every header and number of the scorer tab was cut (`c… │ pa…`, `0.…`)."""
    app = make_app(tmp_path, FakeBackend(), cycles=2, tasks=4)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app)
        await pilot.press("a")
        await pilot.pause()
        scorer = text_of(app.query_one("#scorer-panel"))
        assert "…" not in scorer
        for header in ("cycle", "pass", "judged", "accepted", "rejected", "AUROC", "diversity"):
            assert header in scorer
        first = app.state.scorer_check()[0].check
        assert f"{first.judged}/{first.candidates}" in scorer
