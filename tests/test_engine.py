"""The engine with a fast fake backend: cycle structure, files, batching, control."""

import json
import threading

import pytest

from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import LINE_KEYS
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.runlog import (CANDIDATES, PROGRESS, RESULTS, SETTINGS, RunLog, read_candidate_lines,
                                      read_candidates, read_eval_rows)
from inversion_tui.loop.components import component_names
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs
from inversion_tui.errors import RunDirectoryError

SEED_PASS_KEYS = {"total_generated", "accepted", "acceptance_rate", "mean_score"}


def make_engine(tmp_path, backend, control=None, **overrides):
    values = dict(cycles=2, tasks=5, candidates=3, threshold=0.3, gen_batch_size=2, output=tmp_path / "run",
                  pack="pentest,shell")
    values.update(overrides)
    settings = build_settings(**values)
    recorder = ev.EventRecorder()
    engine = Engine(settings, backend, load_packs(settings.pack), RunLog.create(settings.output),
                    emit=recorder, control=control)
    return engine, recorder


def test_full_run_writes_seed_compatible_files(tmp_path, fake_backend):
    engine, recorder = make_engine(tmp_path, fake_backend)
    assert engine.run() == "finished"
    run = tmp_path / "run"
    for name in (SETTINGS, CANDIDATES, PROGRESS, RESULTS, "checkpoint_cycle_1", "checkpoint_cycle_2"):
        assert (run / name).exists(), name

    progress = json.loads((run / PROGRESS).read_text())
    assert progress["last_completed_cycle"] == 2 and progress["status"] == "finished"
    assert "timestamp" in progress
    cycles = progress["history"]["cycles"]
    assert [c["cycle"] for c in cycles] == [1, 2]
    for entry in cycles:
        assert SEED_PASS_KEYS <= set(entry["before"]) and SEED_PASS_KEYS <= set(entry["after"])
        assert entry["improvement"] == pytest.approx(entry["after"]["mean_score"] - entry["before"]["mean_score"])
        low, high = entry["improvement_ci95"]  # the noise of a change between two samples of tasks
        assert low <= entry["improvement"] <= high
        assert entry["before"]["total_generated"] == 5 * 3
        assert "train_loss" in entry

    lines = [json.loads(line) for line in (run / CANDIDATES).read_text().splitlines()]  # the file's own lines
    assert len(lines) == 2 * 2 * 5 * 3  # cycles x passes x tasks x candidates
    for line in lines:
        assert set(line) == LINE_KEYS  # every key, each read back by CandidateLine
        assert set(line["components"]) == set(component_names())
        assert line["accepted"] == (line["reason"] is None)
    # the per-cycle numbers are exactly what the candidate lines say
    for entry in cycles:
        before = [c for c in lines if c["cycle"] == entry["cycle"] and c["phase"] == "before"]
        assert entry["before"]["accepted"] == sum(c["accepted"] for c in before)
        assert entry["before"]["mean_score"] == pytest.approx(sum(c["score"] for c in before) / len(before), abs=1e-5)

    results = json.loads((run / RESULTS).read_text())
    assert results["summary"]["cycles_completed"] == 2
    assert json.loads((run / SETTINGS).read_text())["threshold"] == 0.3


def test_trains_on_the_before_pool_with_the_generation_prompt(tmp_path, fake_backend):
    engine, recorder = make_engine(tmp_path, fake_backend, cycles=1)
    engine.run()
    lines = read_candidates(tmp_path / "run")
    accepted = [c for c in lines if c.phase == "before" and c.accepted]
    assert accepted, "the fake backend should produce some accepted candidates at threshold 0.3"
    [pairs] = fake_backend.trained
    assert [p.completion for p in pairs] == [c.command for c in accepted]
    for pair, line in zip(pairs, accepted):
        assert line.task in pair.prompt and pair.prompt.endswith("<assistant>")
    done = recorder.of(ev.TrainingDone)[0]
    assert done.examples == len(accepted) and done.mean_loss is not None
    assert len(recorder.of(ev.TrainingStep)) == done.steps


def test_generation_is_batched(tmp_path, fake_backend):
    engine, _ = make_engine(tmp_path, fake_backend, cycles=1, tasks=5, gen_batch_size=2)
    engine.run()
    forward = [n for kind, n in fake_backend.calls if kind == "forward"]
    inverse = [n for kind, n in fake_backend.calls if kind == "inverse"]
    assert forward == [2, 2, 1] * 2  # one call per batch of tasks, both passes
    assert inverse == [6, 6, 3] * 2  # every candidate of a batch inverted in one call


def test_empty_pool_skips_training_but_still_checkpoints(tmp_path, fake_backend):
    engine, recorder = make_engine(tmp_path, fake_backend, cycles=1, threshold=1.0)
    engine.run()
    assert fake_backend.trained == []
    assert recorder.of(ev.TrainingDone)[0].mean_loss is None
    assert (tmp_path / "run" / "checkpoint_cycle_1").is_dir()
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["history"]["cycles"][0]["train_loss"] is None


def test_stop_at_batch_boundary_keeps_scored_candidates(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output=tmp_path).weights)

    def stop_after_first_batch(event):
        recorder(event)
        if isinstance(event, ev.BatchDone):
            control.request_stop()

    engine, recorder = make_engine(tmp_path, fake_backend, control=control)
    engine.emit = stop_after_first_batch
    assert engine.run() == "stopped"
    lines = read_candidates(tmp_path / "run")
    assert len(lines) == 2 * 3  # exactly the first batch, nothing lost, nothing after
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["status"] == "stopped" and progress["last_completed_cycle"] == 0
    assert recorder.of(ev.RunFinished)[0].status == "stopped"


def test_pause_blocks_at_the_next_batch_and_resume_continues(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output=tmp_path).weights)
    paused_at = threading.Event()

    def pause_after_first_batch(event):
        if isinstance(event, ev.BatchDone) and not paused_at.is_set():
            control.pause()
            paused_at.set()

    engine, _ = make_engine(tmp_path, fake_backend, control=control, cycles=1)
    engine.emit = pause_after_first_batch
    worker = threading.Thread(target=engine.run)
    worker.start()
    assert paused_at.wait(5)
    worker.join(0.3)
    assert worker.is_alive() and control.paused
    assert len(read_candidates(tmp_path / "run")) == 6  # the batch before the pause is on disk
    control.resume()
    worker.join(10)
    assert not worker.is_alive()
    assert len(read_candidates(tmp_path / "run")) == 2 * 5 * 3


def test_threshold_change_applies_from_the_next_batch(tmp_path, fake_backend):
    control = RunControl(1.0, build_settings(output=tmp_path).weights)  # nothing passes at first

    def lower_after_first_batch(event):
        if isinstance(event, ev.BatchDone) and event.phase == "before" and event.tasks_done == 2:
            control.set_threshold(0.0)

    engine, _ = make_engine(tmp_path, fake_backend, control=control, cycles=1, threshold=1.0)
    engine.emit = lower_after_first_batch
    engine.run()
    lines = [line for line in read_candidate_lines(tmp_path / "run")[0] if line.candidate.phase == "before"]
    assert {line.threshold for line in lines[:6]} == {1.0} and {line.threshold for line in lines[6:]} == {0.0}
    later = [line.candidate for line in lines[6:]]
    assert not any(line.candidate.accepted for line in lines[:6])
    assert all(c.accepted or c.reason for c in later)
    assert any(c.accepted for c in later)


def test_existing_run_directory_is_refused(tmp_path, fake_backend):
    engine, _ = make_engine(tmp_path, fake_backend, cycles=1)
    engine.run()
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        RunLog.create(tmp_path / "run")


def test_paused_event_is_emitted_only_when_the_engine_blocks(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output=tmp_path).weights)

    def pause_then_resume(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and not recorder.of(ev.Paused):
            control.pause()
        if isinstance(event, ev.Paused):
            control.resume()  # from the engine thread itself: resume is seen at the wait

    engine, recorder = make_engine(tmp_path, fake_backend, control=control, cycles=1)
    engine.emit = pause_then_resume
    engine.run()
    kinds = [type(e).__name__ for e in recorder.events]
    assert kinds.count("Paused") == 1 and kinds.count("Resumed") == 1
    assert kinds.index("Resumed") == kinds.index("Paused") + 1


def test_threshold_change_is_logged_in_progress_before_the_next_batch(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output=tmp_path).weights)
    progress_at_second_batch = {}

    def change_then_look(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and event.tasks_done == 2 and event.phase == "before":
            control.set_threshold(0.45)
        if isinstance(event, ev.ThresholdChanged):
            progress_at_second_batch.update(json.loads((tmp_path / "run" / PROGRESS).read_text()))

    engine, recorder = make_engine(tmp_path, fake_backend, control=control, cycles=1)
    engine.emit = change_then_look
    engine.run()
    [changed] = recorder.of(ev.ThresholdChanged)
    assert (changed.old, changed.new) == (0.3, 0.45)
    [logged] = progress_at_second_batch["threshold_changes"]
    assert (logged["from"], logged["to"]) == (0.3, 0.45) and progress_at_second_batch["threshold"] == 0.45
    final = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert len(final["threshold_changes"]) == 1 and final["history"]["cycles"][0]["threshold"] == 0.45


def test_train_now_trains_the_pool_so_far_and_never_twice(tmp_path, fake_backend):
    control = RunControl(0.0, build_settings(output=tmp_path).weights)

    def train_after_first_batch(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and event.tasks_done == 2 and event.phase == "before":
            control.request_train_now()

    # from the last adapter: a step trains on the new examples only (from the base, each step
    # retrains on all: test_train_from_base.py)
    engine, recorder = make_engine(tmp_path, fake_backend, control=control, cycles=1, threshold=0.0,
                                   train_from="last")
    engine.emit = train_after_first_batch
    engine.run()
    manual, end_of_pass = fake_backend.trained
    first_batch = [c for c in read_candidates(tmp_path / "run") if c.phase == "before" and c.batch == 0]
    assert [p.completion for p in manual] == [c.command for c in first_batch if c.accepted]
    assert not {p.completion for p in manual} & {p.completion for p in end_of_pass}
    done = recorder.of(ev.TrainingDone)
    assert [d.manual for d in done] == [True, False] and done[0].mean_loss is not None
    entry = json.loads((tmp_path / "run" / PROGRESS).read_text())["history"]["cycles"][0]
    assert entry["manual_trainings"][0]["examples"] == len(manual)
    assert entry["training"]["examples"] == len(end_of_pass)
    assert entry["train_examples"] == len(manual) + len(end_of_pass)  # every step of the cycle


def test_a_cycle_whose_pool_train_now_took_still_records_what_it_trained(tmp_path, fake_backend):
    """Issue 26: train now at the end of the BEFORE pass left the end-of-pass step nothing, and
    the cycle recorded 0 examples and no loss though it had trained."""
    control = RunControl(0.0, build_settings(output=tmp_path).weights)

    def train_after_last_batch(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and event.phase == "before" and event.tasks_done == event.tasks_total:
            control.request_train_now()

    engine, recorder = make_engine(tmp_path, fake_backend, control=control, cycles=1, threshold=0.0)
    engine.emit = train_after_last_batch
    engine.run()
    (manual,) = fake_backend.trained
    entry = json.loads((tmp_path / "run" / PROGRESS).read_text())["history"]["cycles"][0]
    assert entry["training"]["examples"] == 0  # the end-of-pass step found nothing left
    assert entry["train_examples"] == len(manual) > 0
    assert entry["train_loss"] == entry["manual_trainings"][0]["mean_loss"] is not None
    assert any("train now has trained" in e.message for e in recorder.of(ev.Log))


def test_train_now_in_the_after_pass_explains_why_nothing_happens(tmp_path, fake_backend):
    control = RunControl(0.0, build_settings(output=tmp_path).weights)

    def train_in_after_pass(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and event.phase == "after" and event.tasks_done == 2:
            control.request_train_now()

    engine, recorder = make_engine(tmp_path, fake_backend, control=control, cycles=1, threshold=0.0)
    engine.emit = train_in_after_pass
    engine.run()
    assert len(fake_backend.trained) == 1
    assert any("train now" in e.message for e in recorder.of(ev.Log))


def test_progress_exists_from_the_start(tmp_path, fake_backend):
    seen = {}

    def look_at_first_batch(event):
        if isinstance(event, ev.PhaseStarted) and not seen:
            seen.update(json.loads((tmp_path / "run" / PROGRESS).read_text()))

    engine, _ = make_engine(tmp_path, fake_backend, cycles=1)
    engine.emit = look_at_first_batch
    engine.run()
    assert seen["status"] == "running" and seen["last_completed_cycle"] == 0


def test_stop_saves_the_adapter(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output=tmp_path).weights)
    engine, recorder = make_engine(tmp_path, fake_backend, control=control)
    control.request_stop()
    assert engine.run() == "stopped"
    assert (tmp_path / "run" / "checkpoint_stopped" / "adapter_config.json").is_file()


def test_held_out_evaluation_before_training_and_after_every_cycle(tmp_path, fake_backend):
    from inversion_tui.loop.evaluation import EvalTask

    held_out = [EvalTask("List files in /tmp", ("ls /tmp",)), EvalTask("Count lines in a.txt", ("wc -l a.txt",)),
                EvalTask("Scan port 22 on 10.0.0.9", ("nmap -p 22 10.0.0.9",))]
    other = [EvalTask("Show disk usage", ("df -h",)), EvalTask("Print hello", ("echo hello",))]
    settings = build_settings(cycles=2, tasks=3, candidates=1, threshold=0.3, gen_batch_size=2,
                              output=tmp_path / "run", pack="pentest")
    recorder = ev.EventRecorder()
    Engine(settings, fake_backend, load_packs("pentest"), RunLog.create(settings.output), emit=recorder,
           eval_sets={"mine": held_out, "other": other}).run()
    assert [(e.cycle, e.summary.set) for e in recorder.of(ev.Evaluated)] == [
        (c, name) for c in (0, 1, 2) for name in ("mine", "other")]
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert [(e["cycle"], e["set"], e["n"]) for e in progress["evaluations"]] == [
        (c, name, n) for c in (0, 1, 2) for name, n in (("mine", 3), ("other", 2))]
    for entry in progress["history"]["cycles"]:
        assert entry["eval"]["mine"]["n"] == 3 and 0.0 <= entry["eval"]["mine"]["utility_accuracy"] <= 1.0
        assert entry["eval"]["other"]["n"] == 2
    # every task's output is on disk, and each later cycle is paired with the base, task by task
    rows = read_eval_rows(tmp_path / "run")
    assert sorted(rows) == [(name, c) for name in ("mine", "other") for c in (0, 1, 2)]
    assert [r["task"] for r in rows[("mine", 2)]] == [t.task for t in held_out]
    for evaluation in progress["evaluations"]:
        if evaluation["cycle"] == 0:
            assert "vs_base" not in evaluation
            continue
        paired = evaluation["vs_base"]
        assert paired["n"] == evaluation["n"]
        base_rows, rows_now = rows[(evaluation["set"], 0)], rows[(evaluation["set"], evaluation["cycle"])]
        expected = sum(b["token_f1"] - a["token_f1"] for a, b in zip(base_rows, rows_now)) / paired["n"]
        assert paired["delta"]["token_f1"] == pytest.approx(expected)
    # the fake answers "<first word> <rest minus words>": "list ..." for ls, "count ..." for wc, "scan" for nmap
    assert progress["evaluations"][0]["utility_accuracy"] == 0.0
    # evaluation prompts are greedy forward prompts: references never reach them
    forward_calls = [n for kind, n in fake_backend.calls if kind == "forward"]
    assert forward_calls.count(2) >= 3  # 3 evaluations x 2 batches of up to 2 tasks, plus the passes


class FailingBackend:
    """The fake backend until its `fail_at`-th model call, which raises."""

    def __init__(self, inner, fail_at: int, error: BaseException):
        self.inner, self.fail_at, self.error = inner, fail_at, error

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def complete(self, prompts, **kwargs):
        if len(self.inner.calls) + 1 == self.fail_at:
            raise self.error
        return self.inner.complete(prompts, **kwargs)


def test_a_crash_is_said_in_progress_and_frees_the_directory(tmp_path, fake_backend):
    engine, _ = make_engine(tmp_path, FailingBackend(fake_backend, 3, RuntimeError("device lost")))
    with pytest.raises(RuntimeError):
        engine.run()
    run = tmp_path / "run"
    progress = json.loads((run / PROGRESS).read_text())
    assert progress["status"] == "crashed" and progress["error"] == "RuntimeError: device lost"
    assert not (run / "run.lock").exists()
    assert len(read_candidates(run)) == 2 * 3  # the batch before the crash, whole


def test_a_forced_interrupt_is_a_stop_not_a_crash(tmp_path, fake_backend):
    engine, _ = make_engine(tmp_path, FailingBackend(fake_backend, 3, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        engine.run()
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["status"] == "stopped" and "forced_stop" in progress


def test_abandon_marks_the_run_stopped_and_no_later_write_undoes_it(tmp_path, fake_backend):
    control = RunControl(0.3, build_settings(output="x").weights)
    engine, _ = make_engine(tmp_path, fake_backend, control=control, cycles=1)
    engine.write_progress("running")
    engine.abandon()  # the UI thread, on a forced quit
    run = tmp_path / "run"
    progress = json.loads((run / PROGRESS).read_text())
    assert progress["status"] == "stopped" and "forced_stop" in progress
    assert not (run / "run.lock").exists()
    engine.write_progress("running")  # the engine thread, still inside its model call, goes on
    assert json.loads((run / PROGRESS).read_text()) == progress
