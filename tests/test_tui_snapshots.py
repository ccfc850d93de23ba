"""Snapshots of the main screen after a finished run on the fake backend (deterministic:
fixed clock, fixed seed, relative output path)."""

import pytest

from tests.test_tui import make_app, wait_for
from tests.fakes import FakeBackend


@pytest.fixture
def finished_app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative output path keeps tmp dirs out of the screen
    from pathlib import Path

    return make_app(Path("."), FakeBackend(), cycles=2, tasks=4)


async def _finish(pilot):
    await wait_for(pilot, lambda: pilot.app.finished_status == "finished", what="the run to finish")
    pilot.app.clear_notifications()  # toasts time out on their own; keep them out of the image
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen(snap_compare, finished_app, size):
    assert snap_compare(finished_app, terminal_size=size, run_before=_finish)


def finish_then(*keys: str, settle: float | None = None):
    """A run_before: finish the run, press `keys`, let the screen settle."""
    async def run_before(pilot):
        await _finish(pilot)
        await pilot.press(*keys)
        await pilot.pause(settle)

    return run_before


def test_charts_tab(snap_compare, finished_app):
    # Not at 80x24: plotext's tick labels on a chart a few rows high differ from run to run
    # there. test_tui checks the legend at that size instead. The pause: plotext draws at the
    # size the tab gets once shown.
    assert snap_compare(finished_app, terminal_size=(160, 48), run_before=finish_then("g", settle=0.3))


def test_help_screen(snap_compare, finished_app):
    assert snap_compare(finished_app, terminal_size=(80, 24), run_before=finish_then("question_mark"))


def test_inspector(snap_compare, finished_app):
    assert snap_compare(finished_app, terminal_size=(120, 40), run_before=finish_then("c", "enter"))


def test_scorer_tab(snap_compare, finished_app):
    assert snap_compare(finished_app, terminal_size=(160, 48), run_before=finish_then("a"))
