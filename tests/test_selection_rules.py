"""Per-task selection rules: the best (or k best) of each task's candidates above the floor,
decided from stored scores like the threshold, in the engine and in the workbench alike."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from inversion_tui.loop.select import Selector
from inversion_tui.loop.runlog import read_candidates
from inversion_tui.settings import build_settings
from tests.fakes import FakeBackend
from tests.test_engine import make_engine


def candidate(task, command, score, flags=()):
    return SimpleNamespace(task=task, command=command, score=score, flags=tuple(flags))


PASS = [candidate("a", "ls -l", 0.40), candidate("a", "ls -la", 0.70), candidate("a", "cat x", 0.90, ["copies_task"]),
        candidate("a", "ls  -la", 0.70),  # the same command: a duplicate
        candidate("b", "wc -l f", 0.20), candidate("b", "wc f", 0.35),
        candidate("c", "nmap h", 0.60), candidate("c", "nmap -sV h", 0.65), candidate("c", "ping h", 0.62)]


def test_threshold_accepts_everything_above_it():
    reasons = Selector(0.3).decide(PASS)
    assert [r is None for r in reasons] == [True, True, False, False, False, True, True, True, True]


def test_best_per_task_keeps_each_tasks_best_unflagged_candidate_above_the_floor():
    reasons = Selector(0.3, rule="best-per-task").decide(PASS)
    assert [r is None for r in reasons] == [False, True, False, False, False, True, False, True, False]
    assert reasons[0] == "not the best of its task (0.400 < 0.700)"
    assert reasons[2] == "flagged: copies_task" and reasons[3] == "duplicate of an accepted candidate"
    assert reasons[4] == "score 0.200 < floor 0.30"


def test_top_k_keeps_the_k_best():
    reasons = Selector(0.3, rule="top-k", k=2).decide(PASS)
    assert [r is None for r in reasons] == [True, True, False, False, False, True, False, True, True]
    assert reasons[6] == "not the 2 best of its task (0.600 < 0.620)"


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown selection rule"):
        Selector(0.5, rule="best")
    with pytest.raises(Exception, match="select"):
        build_settings(output="x", select="best")


def test_a_run_trains_on_one_candidate_per_task_under_best_per_task(tmp_path):
    backend = FakeBackend()
    engine, _ = make_engine(tmp_path, backend, cycles=1, tasks=4, candidates=3, threshold=0.0,
                            select="best-per-task")
    engine.run()
    trained = backend.trained[0]
    assert len(trained) == len({pair.prompt for pair in trained})  # one pair per task
    records = [c for c in read_candidates(tmp_path / "run") if c.phase == "before"]
    accepted = [c for c in records if c.accepted]
    assert len(accepted) == len({c.task for c in records if not c.flags})  # every task a guard left a candidate
    for r in accepted:  # the best of its task that no guard flagged
        assert r.score == max(o.score for o in records if o.task == r.task and not o.flags)


async def test_the_rule_changes_live_like_the_threshold_and_is_recorded(tmp_path):
    import json

    from inversion_tui.loop.runlog import PROGRESS
    from tests.test_tui import header_text, make_app, wait_for

    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10, candidates=3, threshold=0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.state.rows) >= 6, what="candidates")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED")
        await pilot.press("r")
        assert app.control.select == "best-per-task" and "best-per-task ≥0.00" in header_text(app)
        rows = app.state.pass_rows()
        expected = [reason is None for reason in Selector(0.0, rule="best-per-task").decide(rows)]
        assert [r.accepted for r in rows] == expected  # re-decided from stored scores, no model call
        assert sum(expected) == len({r.task for r in rows if not r.flags})  # one per task with an unflagged one
        await wait_for(pilot, lambda: json.loads((tmp_path / "run" / PROGRESS).read_text())
                       .get("select_changes"), what="the change on disk")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["select"] == "best-per-task"
    assert [c["to"] for c in progress["select_changes"]] == ["best-per-task"]
    assert all(c["training"]["select"] == "best-per-task" for c in progress["history"]["cycles"])


def test_top_k_has_one_default_k_everywhere():
    """Issue 25: k was 1 in the engine's Selector and the workbench's state but 2 in the settings."""
    from inversion_tui.settings import RunSettings
    from inversion_tui.loop.control import RunControl
    from inversion_tui.tui.state import RunState

    defaults = {Selector(0.3, rule="top-k").k, RunSettings.model_fields["select_k"].default,
                RunState(build_settings(output="x"), RunControl(0.3, {}, "top-k")).selector().k}
    assert defaults == {2}


# ---------------------------------------------------------------- keep-top: by rank, no floor

def test_keep_top_keeps_each_tasks_best_then_the_top_fraction_of_tasks():
    # bests: a 0.70 (the flagged 0.90 is not its best), b 0.35, c 0.65: with Q=0.5, round(1.5) = 2 tasks
    reasons = Selector(0.99, rule="keep-top", keep_top=0.5).decide(PASS)
    assert [r is None for r in reasons] == [False, True, False, False, False, False, False, True, False]
    assert reasons[2] == "flagged: copies_task"
    assert reasons[3] == "not the best of its task (0.700 < 0.700)"  # the same score: the earlier one is kept
    assert reasons[0] == "not the best of its task (0.400 < 0.700)"
    assert reasons[5] == "its task's best ranks 3 of 3 tasks (0.350); keep-top keeps 2"
    # no absolute floor: the threshold 0.99 keeps nothing out; every task's best at Q=1
    assert [r is None for r in Selector(0.99, rule="keep-top", keep_top=1.0).decide(PASS)] == [
        False, True, False, False, False, True, False, True, False]


def test_keep_top_keeps_at_least_one_task_and_breaks_ties_by_order():
    tied = [candidate("a", "ls", 0.5), candidate("b", "wc", 0.5), candidate("c", "df", 0.2)]
    assert Selector(0.0, rule="keep-top", keep_top=0.1).decide(tied)[:2] == [
        None, "its task's best ranks 2 of 3 tasks (0.500); keep-top keeps 1"]  # max(1, round(0.3))
    assert Selector(0.0, rule="keep-top", keep_top=0.5).kept_tasks(3) == 2  # 1.5 rounds half up
    assert Selector(0.0, rule="keep-top", keep_top=0.5).kept_tasks(5) == 3  # 2.5 too (not to even)
    one = [candidate("a", "ls", 0.01), candidate("a", "ls -l", 0.02)]
    assert Selector(0.9, rule="keep-top", keep_top=0.2).decide(one) == ["not the best of its task (0.010 < 0.020)",
                                                                          None]
    flagged = [candidate("a", "x", 0.9, ["copies_task"])]
    assert Selector(0.0, rule="keep-top").decide(flagged) == ["flagged: copies_task"]
    assert Selector(0.0, rule="keep-top").decide([]) == []


@pytest.mark.parametrize("value", [0, -0.5, 1.01, 2])
def test_keep_top_outside_zero_to_one_is_refused(value):
    with pytest.raises(ValueError, match="keep-top"):
        Selector(0.0, rule="keep-top", keep_top=value)
    with pytest.raises(Exception, match="--keep-top: Input should be"):
        build_settings(output="x", select="keep-top", keep_top=value)


@pytest.mark.parametrize("rule", ["threshold", "best-per-task", "top-k", "keep-top"])
@pytest.mark.parametrize("parameters", [{}, {"select_k": 3, "allow_flagged": True}, {"keep_top": 0.25},
                                        {"threshold": 0.7, "keep_top": 1.0, "select_k": 1}])
def test_the_engine_and_the_workbench_decide_with_one_selector(tmp_path, rule, parameters):
    """Issue 33: the workbench's live re-decision and the engine's decision come from one builder,
    whatever the rule and its parameters, before and after a live change of rule and threshold."""
    from inversion_tui.tui.state import RunState

    engine, _ = make_engine(tmp_path, FakeBackend(), cycles=1, tasks=2, candidates=2, select=rule, **parameters)
    state = RunState(engine.settings, engine.control)
    assert state.selector() == engine.selector()
    assert engine.selector() == Selector.from_settings(engine.settings)
    engine.control.set_select("keep-top" if rule != "keep-top" else "top-k")
    engine.control.set_threshold(0.123)
    assert state.selector() == engine.selector() and state.selector().threshold == 0.123


async def test_keep_top_is_live_under_r_with_its_parameter(tmp_path):
    from tests.test_tui import header_text, make_app, wait_for

    app = make_app(tmp_path, FakeBackend(delay=0.05), tasks=10, candidates=3, threshold=0.9, keep_top=0.25)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.state.pass_rows()) >= 12, what="four tasks' candidates")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.run_state == "PAUSED", what="PAUSED")
        for _ in range(3):  # threshold -> best-per-task -> top-k -> keep-top
            await pilot.press("r")
        assert app.control.select == "keep-top" and "keep-top (Q=0.25)" in header_text(app)
        rows = app.state.pass_rows()
        expected = Selector(0.9, rule="keep-top", keep_top=0.25).decide(rows)
        assert [r.reason for r in rows] == expected and [r.accepted for r in rows] == [e is None for e in expected]
        tasks = len({r.task for r in rows})
        assert sum(r.accepted for r in rows) == max(1, int(0.25 * tasks + 0.5))  # no floor at 0.9
        assert any("keep-top (Q=0.25)" in line for line in app.log_history)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")


def test_the_pick_table_runs_each_rule_over_a_sets_samples_as_one_pass():
    from inversion_tui.loop.gap import pick_table

    def sample(index, command, score, utility, flags=()):
        return {"index": index, "task": f"task {index}", "command": command, "score": score, "utility": utility,
                "flags": list(flags)}

    samples = [sample(0, "ls -l", 0.9, True), sample(0, "cat x", 0.5, False),
               sample(1, "wc -l f", 0.3, True), sample(1, "wc -l f", 0.3, True), sample(1, "nl f", 0.28, False),
               sample(2, "rm x", 0.6, False, ["destructive"]), sample(2, "du -h", 0.1, False)]
    table = {row["rule"]: row for row in pick_table(samples, rules=(
        "threshold 0.40", "best-per-task", "keep-top 0.34", "margin 0.05", "margin 0.3"))}
    assert table["threshold 0.40"] == {"rule": "threshold 0.40", "tasks": 1, "of_tasks": 3, "samples": 2,
                                       "right": 0.5}
    assert (table["best-per-task"]["tasks"], table["best-per-task"]["right"]) == (3, 2 / 3)  # no floor
    assert (table["keep-top 0.34"]["tasks"], table["keep-top 0.34"]["right"]) == (1, 1.0)  # round(1.02) = 1
    # task 0 beats cat by 0.4, task 1 beats nl by 0.02, task 2's only unflagged sample has no rival
    assert (table["margin 0.05"]["tasks"], table["margin 0.05"]["right"]) == (2, 0.5)
    assert (table["margin 0.3"]["tasks"], table["margin 0.3"]["right"]) == (2, 0.5)
