"""--patience: the run stops when the tracked number has not beaten its best for K cycles, and
progress.json names the best adapter (None while the base model is best)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from inversion_tui.console import closing_lines
from inversion_tui.loop import events as ev
from inversion_tui.loop.progress import CycleRecord, Evaluation, Progress
from inversion_tui.loop.runlog import PROGRESS, SETTINGS
from inversion_tui.loop.stopping import EarlyStopping, best_of_run, pass_consensus
from inversion_tui.settings import build_settings
from tests.fakes import FakeBackend
from tests.test_engine import make_engine


def cycle(n, before, after, **more):
    return CycleRecord.from_json({"cycle": n, "before": {"mean_score": before}, "after": {"mean_score": after},
                                  "checkpoint": f"checkpoint_cycle_{n}", **more})


def test_the_base_model_is_the_value_to_beat_and_ties_keep_the_earlier():
    stopping = EarlyStopping(patience=2)
    history = [cycle(1, 0.40, 0.45), cycle(2, 0.41, 0.45), cycle(3, 0.39, 0.44)]
    assert stopping.values(history, []) == [(0, 0.40), (1, 0.45), (2, 0.45), (3, 0.44)]
    assert stopping.best(history, []) == (1, 0.45)
    assert not stopping.exhausted(history[:2], []) and stopping.exhausted(history, [])
    assert EarlyStopping(patience=1).best([cycle(1, 0.5, 0.3)], []) == (0, 0.5)  # the base is best
    assert not EarlyStopping(patience=0).exhausted(history, [])  # off


def test_a_held_out_set_is_tracked_by_its_accuracy():
    stopping = EarlyStopping(patience=1, on="intercode")
    evaluations = [Evaluation.from_json(e) for e in ({"cycle": 0, "set": "intercode", "utility_accuracy": 0.2},
                                                     {"cycle": 1, "set": "intercode", "utility_accuracy": 0.25},
                                                     {"cycle": 1, "set": "holdout", "utility_accuracy": 0.9})]
    assert stopping.values([cycle(1, 0, 0)], evaluations) == [(0, 0.2), (1, 0.25)]


def test_pass_consensus_is_the_mean_modal_program_share():
    rows = [SimpleNamespace(task="a", command=c) for c in ("ls -l", "ls", "find .")]
    rows += [SimpleNamespace(task="b", command=c) for c in ("wc -l f", "wc f")] + [SimpleNamespace(task="c", command="x")]
    assert pass_consensus(rows) == pytest.approx((2 / 3 + 1) / 2)


def test_patience_on_must_name_something_tracked():
    with pytest.raises(Exception, match="patience-on"):
        build_settings(output="x", patience=2, patience_on="intercode")  # not evaluated in this run
    assert build_settings(output="x", patience_on="intercode", eval_suite="intercode").patience_on == "intercode"


def test_a_run_stops_when_patience_runs_out_and_names_the_best_adapter(tmp_path):
    engine, recorder = make_engine(tmp_path, FakeBackend(), cycles=6, tasks=4, candidates=2, patience=1)
    engine.run()
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    history = Progress.from_json(progress).cycles
    values = EarlyStopping(1).values(history, [])
    best_so_far = [max(range(i + 1), key=lambda j: (values[j][1], -j)) for i in range(len(values))]
    stop = next((i for i in range(1, len(values)) if i - best_so_far[i] >= 1), None)
    assert len(history) == (stop if stop is not None else 6)
    best = best_so_far[-1]
    assert progress.get("best_adapter") == (None if best == 0 else f"checkpoint_cycle_{best}")  # unset: the base
    assert progress["status"] == "finished"
    finished = recorder.of(ev.RunFinished)[0]  # what the closing lines name
    assert (finished.best_adapter, finished.best_by) == (progress.get("best_adapter"), "score")
    assert best_of_run(tmp_path / "run") == (progress.get("best_adapter"), "score")


def run_with_best(tmp_path, before, afters):
    """A run directory as a finished run leaves it: settings, progress and a checkpoint a cycle."""
    run = tmp_path / "run"
    run.mkdir()
    (run / SETTINGS).write_text(json.dumps({"patience_on": "score"}))
    history = [cycle(n, before, after) for n, after in enumerate(afters, 1)]
    Progress(status="finished", last_completed_cycle=len(afters), cycles=history).write(run)
    for entry in history:
        (run / entry.checkpoint).mkdir()
        (run / entry.checkpoint / "adapter_config.json").write_text("{}")
    return run


def test_eval_adapter_a_run_directory_means_its_best_adapter_not_its_last(tmp_path):
    from cli.eval_commands import checkpoint_of as _checkpoint_of

    run = run_with_best(tmp_path, 0.2, [0.25, 0.3, 0.22])
    assert best_of_run(run) == ("checkpoint_cycle_2", "score")
    assert _checkpoint_of(run) == run / "checkpoint_cycle_2"
    assert _checkpoint_of(run / "checkpoint_cycle_3") == run / "checkpoint_cycle_3"  # a checkpoint is itself


def test_eval_adapter_a_run_whose_best_is_the_base_model_is_one_line_and_exit_2(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    run = run_with_best(tmp_path, 0.4, [0.3, 0.35])
    result = CliRunner().invoke(app, ["eval", "--suite", "intercode", "--adapter", str(run)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --adapter {run}: by score, no adapter of this run beat the base model; name one of its "
        "checkpoint_cycle_N folders to evaluate it anyway")


def test_an_adapter_that_holds_no_training_is_the_base_model_not_the_best_adapter(tmp_path):
    """Issue 26: the default run skipped training in cycle 1, its AFTER pass scored higher by
    chance, and the run named checkpoint_cycle_1 (an untrained adapter) the one to keep."""
    engine, recorder = make_engine(tmp_path, FakeBackend(), cycles=2, tasks=4, candidates=2, threshold=1.0)
    engine.run()
    progress = Progress.read(tmp_path / "run")
    assert all(entry.train_steps == 0 for entry in progress.cycles)  # nothing passed the threshold
    assert progress.best_adapter is None and recorder.of(ev.RunFinished)[0].best_adapter is None
    assert best_of_run(tmp_path / "run") == (None, "score")
    trained_later = [cycle(1, 0.2, 0.5, train_steps=0), cycle(2, 0.2, 0.6, train_steps=3)]
    assert EarlyStopping(0).best_checkpoint(trained_later, []) == "checkpoint_cycle_2"
    assert EarlyStopping(0).best_checkpoint(trained_later[:1], []) is None


def test_the_best_is_named_by_the_cycle_whose_training_made_it():
    """Issue 34: `best adapter by score: checkpoint_cycle_2` named a cycle that trained nothing
    (its AFTER pass measured cycle 1's adapter again, and scored higher by chance)."""
    history = [cycle(1, 0.2, 0.5, train_steps=3), cycle(2, 0.2, 0.6, train_steps=0), cycle(3, 0.2, 0.4, train_steps=2)]
    stopping = EarlyStopping(patience=2)
    assert stopping.best(history, []) == (1, 0.6)
    assert stopping.best_checkpoint(history, []) == "checkpoint_cycle_1"
    assert stopping.exhausted(history, [])  # no adapter better than cycle 1's in the two cycles since


def test_the_closing_lines_name_the_adapter_to_keep():
    history = [CycleRecord.from_json({"cycle": 1, "before": {"mean_score": 0.2, "acceptance_rate": 0.4},
                                      "after": {"mean_score": 0.3, "acceptance_rate": 0.5},
                                      "checkpoint": "checkpoint_cycle_1"})]
    lines = closing_lines("finished", "runs/x", history, [], "checkpoint_cycle_1", "consensus")
    assert "  best adapter by consensus: runs/x/checkpoint_cycle_1" in lines
    lines = closing_lines("finished", "runs/x", history, [], None, "score")
    assert "  best by score: the base model (no adapter improved on it)" in lines
    assert not any("best" in line for line in closing_lines("finished", "runs/x", history, []))  # not known
