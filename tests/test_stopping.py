"""--patience: the run stops when the tracked number has not beaten its best for K cycles, and
progress.json names the best adapter (None while the base model is best)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from inversion_tui.loop.runlog import PROGRESS
from inversion_tui.loop.stopping import EarlyStopping, pass_consensus
from inversion_tui.settings import build_settings
from tests.fakes import FakeBackend
from tests.test_engine import make_engine


def cycle(n, before, after):
    return {"cycle": n, "before": {"mean_score": before}, "after": {"mean_score": after},
            "checkpoint": f"checkpoint_cycle_{n}"}


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
    evaluations = [{"cycle": 0, "set": "intercode", "utility_accuracy": 0.2},
                   {"cycle": 1, "set": "intercode", "utility_accuracy": 0.25},
                   {"cycle": 1, "set": "holdout", "utility_accuracy": 0.9}]
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
    engine, _ = make_engine(tmp_path, FakeBackend(), cycles=6, tasks=4, candidates=2, patience=1)
    engine.run()
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    history = progress["history"]["cycles"]
    values = EarlyStopping(1).values(history, [])
    best_so_far = [max(range(i + 1), key=lambda j: (values[j][1], -j)) for i in range(len(values))]
    stop = next((i for i in range(1, len(values)) if i - best_so_far[i] >= 1), None)
    assert len(history) == (stop if stop is not None else 6)
    best = best_so_far[-1]
    assert progress["best_adapter"] == (None if best == 0 else f"checkpoint_cycle_{best}")
    assert progress["status"] == "finished"
