"""One scorer registry: a component added there, and nowhere else, reaches settings, the run's
files, `score --json` and the workbench table; the README's table is the registry's."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inversion_tui.loop.runlog import read_candidates
from inversion_tui.loop.components import REGISTRY, ScorerSpec, component_names, default_weights
from inversion_tui.settings import build_settings, parse_weights
from inversion_tui.tui.widgets.candidates import CandidatesTable
from tests.fakes import FakeBackend
from tests.test_engine import make_engine
from tests.test_tui import make_app, wait_for


def length_ratio(tasks, reconstructions, context):
    """A toy: how close the reconstruction's length is to the task's."""
    return [min(len(t), len(r)) / max(len(t), len(r)) if t and r else None for t, r in zip(tasks, reconstructions)]


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(REGISTRY, "toy", ScorerSpec("toy", length_ratio, "text", 0.1, help="a toy", label="toy",
                                                   column=True))


def test_a_registered_component_is_in_settings_and_weights(toy):
    assert "toy" in component_names() and default_weights()["toy"] == 0.1
    assert build_settings(output="x").weights["toy"] == 0.1
    assert build_settings(output="x", weights=parse_weights("toy=1")).weights["toy"] == 1.0


def test_a_registered_component_is_stored_with_every_candidate(toy, tmp_path):
    engine, _ = make_engine(tmp_path, FakeBackend(), cycles=1, tasks=2, candidates=1)
    engine.run()
    records = read_candidates(tmp_path / "run")
    assert records and all(0.0 <= r.components["toy"] <= 1.0 for r in records)


def test_a_registered_component_is_in_score_json(toy, monkeypatch):
    from cli.main import app

    monkeypatch.setattr("inversion_tui.hf.backend.HFBackend.load", lambda settings, log=None: FakeBackend())
    result = CliRunner().invoke(app, ["score", "List files in /tmp", "ls /tmp", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["components"]["toy"] is not None and report["weights"]["toy"] == 0.1


async def test_a_registered_component_has_a_column_in_the_workbench(toy, tmp_path):
    app = make_app(tmp_path, FakeBackend(), tasks=2)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        table = app.query_one(CandidatesTable)
        row = app.state.rows[0]
        assert table.get_cell(str(row.number), "toy") == f"{row.components['toy']:.2f}"


def test_the_readme_table_is_the_registry():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Scoring", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| ([\d.]+) \| (.+) \|$", section, re.M)
    assert [(name, float(weight), text) for name, weight, text in rows] == [
        (spec.name, spec.default_weight, spec.help) for spec in REGISTRY.values()]
