"""--train-from base: every training step starts from a fresh adapter (the base model) and trains
on every example accepted so far, each once; a resumed run rebuilds those examples from its
files."""

from __future__ import annotations

from inversion_tui.loop import events as ev
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.resume import open_resume
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend
from tests.test_engine import make_engine


def test_each_step_starts_afresh_on_everything_accepted_so_far(tmp_path):
    backend = FakeBackend()
    engine, _ = make_engine(tmp_path, backend, cycles=3, tasks=4, candidates=2, threshold=0.0, train_from="base")
    engine.run()
    steps = backend.trained
    assert len(steps) == 3 and backend.resets == 3
    for earlier, later in zip(steps, steps[1:]):
        assert set(earlier) <= set(later) and len(later) > len(earlier)  # accumulated
    assert all(len(step) == len(set(step)) for step in steps)  # each example once
    history = engine.history
    assert [c.training.examples for c in history] == [len(s) for s in steps]
    assert sum(c.training.new_examples for c in history) == len(steps[-1])


def test_last_goes_on_from_the_adapter_with_only_the_new_examples(tmp_path):
    backend = FakeBackend()
    engine, _ = make_engine(tmp_path, backend, cycles=2, tasks=4, candidates=2, threshold=0.0, train_from="last")
    engine.run()
    assert backend.resets == 0 and not set(backend.trained[0]) & set(backend.trained[1])


def test_a_resumed_run_trains_on_the_examples_of_its_earlier_cycles_too(tmp_path):
    first = FakeBackend()
    engine, _ = make_engine(tmp_path, first, cycles=1, tasks=4, candidates=2, threshold=0.0, train_from="base")
    engine.run()
    settings, runlog, point = open_resume(tmp_path / "run", {"cycles": 2})
    second = FakeBackend()
    Engine(settings, second, load_packs(settings.pack), runlog, emit=ev.EventRecorder(), resume=point).run()
    assert set(first.trained[0]) <= set(second.trained[0])
    assert len(second.trained[0]) > len(first.trained[0])


def test_replay_adds_the_base_models_greedy_commands_on_fresh_tasks(tmp_path):
    backend = FakeBackend()
    # the policy verifier never turns the adapter off, so any base_weights call is the replay's
    engine, _ = make_engine(tmp_path, backend, cycles=1, tasks=4, candidates=2, threshold=0.0, replay=0.5,
                            verifier="policy")
    engine.run()
    training = engine.history[0].training
    assert training.replayed >= 1
    assert len(backend.trained[0]) == training.examples == training.new_examples + training.replayed
    assert backend.base_weights_calls == 1  # generated with the adapter off
