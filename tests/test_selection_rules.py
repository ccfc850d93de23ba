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
    records = [r for r in read_candidates(tmp_path / "run") if r["phase"] == "before"]
    accepted = [r for r in records if r["accepted"]]
    assert len(accepted) == len({r["task"] for r in records})
    for r in accepted:  # the best of its task
        assert r["score"] == max(o["score"] for o in records if o["task"] == r["task"])


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
        assert sum(expected) == len({r.task for r in rows})  # one per task
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
                RunState(RunControl(0.3, {}), 1).select_k}
    assert defaults == {2}
