"""Run directories written by earlier versions (the committed experiments) still round-trip
through Progress, open with `inspect` and resume with `--resume`."""

import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import PROGRESS, read_candidates
from inversion_tui.run_record import load_run
from inversion_tui.tasks import load_packs
from inversion_tui.tui.app import create_replay_app
from tests.fakes import FakeBackend
from tests.test_tui import wait_for

RUNS = sorted((Path(__file__).resolve().parent.parent / "experiments" / "results" / "runs").glob("exp*.tar.gz"))


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / archive.name.removesuffix(".tar.gz")


@pytest.mark.parametrize("archive", RUNS, ids=[a.name for a in RUNS])
def test_progress_reads_and_writes_an_old_run_unchanged(archive, tmp_path):
    run = unpack(archive, tmp_path)
    data = json.loads((run / PROGRESS).read_text())
    assert Progress.from_json(data).to_json() == data


@pytest.mark.parametrize("archive", RUNS, ids=[a.name for a in RUNS])
async def test_an_old_run_opens_with_inspect(archive, tmp_path):
    run = unpack(archive, tmp_path)
    app = create_replay_app(load_run(run), clock=lambda: 0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.finished_status is not None, what="the replay")
        assert len(app.state.rows) == len(read_candidates(run))
        assert len(app.state.history) == Progress.read(run).last_completed_cycle
        await pilot.press("q")


class NoAdapterFake(FakeBackend):
    """The committed runs carry no adapter weights (too large for the repository)."""

    def load_adapter(self, directory):
        self.loaded = {"from": str(directory)}


def test_an_old_stopped_run_resumes(tmp_path, monkeypatch):
    from cli.main import app

    run = unpack(next(a for a in RUNS if a.name == "exp6.tar.gz"), tmp_path)  # stopped after 2 of 3 cycles
    before = Progress.read(run)
    # saved before --tasks-from and --train-from, whose defaults have changed since
    assert not {"tasks_from", "train_from"} & set(json.loads((run / "settings.json").read_text()))
    backend = NoAdapterFake()
    monkeypatch.setattr("inversion_tui.hf.backend.HFBackend.load", lambda settings, log=None: backend)
    result = CliRunner().invoke(app, ["run", "--headless", "--resume", str(run)])
    assert result.exit_code == 0, result.output
    after = Progress.read(run)
    assert after.status == "finished" and after.last_completed_cycle == 3
    assert [c.to_json() for c in after.cycles[:2]] == [c.to_json() for c in before.cycles]  # kept as they were
    assert backend.loaded == {"from": str(run / before.latest_adapter)}
    # it goes on as it ran: on the packs, from the last adapter
    saved = json.loads((run / "settings.json").read_text())
    assert (saved["tasks_from"], saved["train_from"]) == (None, "last")
    packs = {t.id for t in load_packs("pentest,shell").templates}
    assert {c.template_id for c in read_candidates(run) if c.cycle == 3} <= packs
