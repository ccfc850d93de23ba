"""Resume: a stopped or killed run continues from its last whole batch, nothing lost or doubled."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from inversion_tui.errors import RunDirectoryError
from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import LINE_KEYS, Candidate
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.resume import open_resume, resumed_settings
from inversion_tui.loop.runlog import (CANDIDATES, DROPPED_CANDIDATES, LOCK, PROGRESS, RunLog, read_candidate_lines,
                                      read_candidates)
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend

SETTINGS = dict(cycles=2, tasks=5, candidates=2, threshold=0.3, gen_batch_size=2, pack="pentest,shell")


def run_to_end(directory, **overrides):
    settings = build_settings(**{**SETTINGS, **overrides, "output": directory})
    backend = FakeBackend()
    Engine(settings, backend, load_packs(settings.pack), RunLog.create(directory)).run()
    return backend


def stop_after(directory, batches_done: int):
    """A run stopped at a batch boundary after `batches_done` batches."""
    settings = build_settings(**{**SETTINGS, "output": directory})
    control = RunControl(settings.threshold, settings.weights)
    seen = []

    def emit(event):
        if isinstance(event, ev.BatchDone):
            seen.append(event)
            if len(seen) == batches_done:
                control.request_stop()

    Engine(settings, FakeBackend(), load_packs(settings.pack), RunLog.create(directory), emit=emit,
           control=control).run()


def resume(directory, **overrides):
    settings, runlog, point = open_resume(directory, overrides)
    backend = FakeBackend()
    recorder = ev.EventRecorder()
    status = Engine(settings, backend, load_packs(settings.pack), runlog, emit=recorder, resume=point,
                    control=RunControl.for_run(settings, point)).run()
    return status, backend, recorder, point


def keyed(records):
    return [(c.cycle, c.phase, c.batch, c.index, c.command, c.score) for c in records]


@pytest.mark.parametrize("batches_done", [1, 3, 4, 7, 10])
def test_stopped_run_resumes_to_the_uninterrupted_result(tmp_path, batches_done):
    run_to_end(tmp_path / "whole")
    stop_after(tmp_path / "cut", batches_done)
    assert json.loads((tmp_path / "cut" / PROGRESS).read_text())["status"] == "stopped"
    status, backend, recorder, point = resume(tmp_path / "cut")
    assert status == "finished" and point.dropped_lines == 0
    whole, cut = read_candidates(tmp_path / "whole"), read_candidates(tmp_path / "cut")
    assert keyed(cut) == keyed(whole)  # same lines, same order, none twice
    progress = json.loads((tmp_path / "cut" / PROGRESS).read_text())
    expected = json.loads((tmp_path / "whole" / PROGRESS).read_text())
    strip = lambda h: [{k: v for k, v in c.items() if k != "duration_s"} for c in h["history"]["cycles"]]  # noqa: E731
    assert strip(progress) == strip(expected)
    assert (tmp_path / "cut" / "self_improvement_results.json").is_file()
    # no batch done before the stop was redone
    redone = [e for e in recorder.of(ev.BatchDone)]
    assert len(redone) == 2 * 2 * 3 - batches_done  # cycles x passes x batches per pass, minus done


def test_killed_run_with_a_torn_tail_is_repaired(tmp_path):
    run_to_end(tmp_path / "whole")
    stop_after(tmp_path / "cut", 4)
    path = tmp_path / "cut" / CANDIDATES
    lines = path.read_text().splitlines(keepends=True)
    # a kill in mid-write: the last batch has one whole line and half of the next
    path.write_text("".join(lines) + lines[0].replace('"before"', '"after"').replace('"batch": 0', '"batch": 1')
                    + lines[1][: len(lines[1]) // 2])
    (tmp_path / "cut" / LOCK).write_text(json.dumps({"pid": 999999999, "host": os.uname().nodename}))
    status, _, recorder, point = resume(tmp_path / "cut")
    assert point.dropped_lines == 2
    assert keyed(read_candidates(tmp_path / "cut")) == keyed(read_candidates(tmp_path / "whole"))
    assert any("2 partial line(s) dropped" in e.message for e in recorder.of(ev.Log))
    # set aside, not lost: the whole line of the unfinished batch, and the torn one as it was
    kept = (tmp_path / "cut" / DROPPED_CANDIDATES).read_text().splitlines()
    assert len(kept) == 2 and lines[1][: len(lines[1]) // 2] in kept


def test_a_repair_keeps_every_key_of_the_lines_it_keeps(tmp_path):
    """The rewrite of a repair goes through CandidateLine: a key this version does not know (a
    newer version's) survives on the kept lines, and a line of an older version (no weights,
    prompts or references) comes back without them: each kept line as it was read."""
    stop_after(tmp_path / "cut", 4)
    path = tmp_path / "cut" / CANDIDATES
    records = [{**json.loads(line), "from_a_newer_version": [1, 2]} for line in path.read_text().splitlines()]
    records[0] = {k: v for k, v in records[0].items() if k not in ("weights", "prompts", "references")}
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"cycle": 1, "pha')  # and a torn tail
    resume(tmp_path / "cut")
    after = [json.loads(line) for line in path.read_text().splitlines()]
    assert after[:len(records)] == records
    assert (tmp_path / "cut" / DROPPED_CANDIDATES).read_text() == '{"cycle": 1, "pha\n'


def test_the_keys_a_line_is_written_with_are_the_keys_it_is_read_by():
    candidate = Candidate(1, "before", 0, 0, "t", "c", "r", {}, 0.5, ())
    assert set(candidate.to_json(0.4, {})) == LINE_KEYS


@pytest.mark.parametrize("line", ['[1, 2]', '"a string"', '{"cycle": 1, "phase": "during"}', "{oops",
                                  '{"cycle": 1, "phase": "before", "index": 0, "task": "t", "command": "c", '
                                  '"reconstruction": "r", "components": {}, "score": 0.5, "weights": [1]}'])
def test_a_line_that_is_not_a_candidate_is_skipped_and_counted(tmp_path, line):
    stop_after(tmp_path / "cut", 1)
    path = tmp_path / "cut" / CANDIDATES
    whole = path.read_text()
    path.write_text(whole + line + "\n")
    lines, unreadable = read_candidate_lines(tmp_path / "cut")
    assert unreadable == [line + "\n"] and len(lines) == len(whole.splitlines())
    assert [entry.to_json() for entry in lines] == [json.loads(text) for text in whole.splitlines()]


def test_training_done_before_the_kill_is_not_redone(tmp_path):
    stop_after(tmp_path / "cut", 4)  # cycle 1: 3 BEFORE batches, training, 1 AFTER batch
    status, backend, _, point = resume(tmp_path / "cut")
    assert point.training is not None and point.latest_adapter == "checkpoint_cycle_1"
    assert backend.loaded is not None  # the cycle-1 adapter was loaded
    assert len(backend.trained) == 1  # only cycle 2 trains


def test_threshold_and_cycles_may_change_on_resume_and_are_logged(tmp_path):
    stop_after(tmp_path / "cut", 2)
    status, _, _, _ = resume(tmp_path / "cut", threshold=0.4, cycles=3)
    progress = json.loads((tmp_path / "cut" / PROGRESS).read_text())
    assert progress["last_completed_cycle"] == 3
    assert progress["resumes"][0]["changes"] == {"threshold": {"from": 0.3, "to": 0.4}, "cycles": {"from": 2, "to": 3}}
    assert progress["threshold_changes"][-1]["to"] == 0.4


def test_other_changes_are_refused(tmp_path):
    stop_after(tmp_path / "cut", 2)
    runlog = RunLog.open_existing(tmp_path / "cut")
    with pytest.raises(Exception, match=r"--lr cannot change on resume"):
        resumed_settings(runlog, {"lr": 1e-3})


def test_a_dpo_run_saved_with_replay_resumes_as_it_ran_without_it(tmp_path):
    """Such runs were made before the settings refused --replay with DPO; the engine then
    dropped the replay. Refusing them would strand them: --objective cannot change on resume."""
    stop_after(tmp_path / "cut", 2)
    saved = json.loads((tmp_path / "cut" / "settings.json").read_text())
    (tmp_path / "cut" / "settings.json").write_text(json.dumps({**saved, "objective": "dpo", "replay": 0.5}))
    with pytest.raises(Exception, match=r"--replay adds SFT examples"):
        build_settings(**{**saved, "objective": "dpo", "replay": 0.5})  # what a new run gets
    settings, changes = resumed_settings(RunLog.open_existing(tmp_path / "cut"), {})
    assert (settings.objective, settings.replay, settings.replay_from, changes) == ("dpo", 0.0, None, {})


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(tmp_path):
    first = RunLog.create(tmp_path / "run")
    with pytest.raises(RunDirectoryError, match=r"in use by another run \(pid \d+"):
        RunLog.create(tmp_path / "run")
    first.release_lock()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (tmp_path / "run" / LOCK).write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename}))
    second = RunLog.create(tmp_path / "run")
    assert second.stale_lock["pid"] == int(dead)
    assert json.loads((tmp_path / "run" / LOCK).read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("args,expected", [
    (["--resume", "{tmp}/nowhere"], "no such run directory"),
    (["--resume", "{cut}/settings.json"], "settings.json: a file, not a run directory"),  # it exists
    (["--resume", "{tmp}"], "is not a run directory (no settings.json)"),
    (["--resume", "{cut}", "--lr", "0.001"], "--lr cannot change on resume"),
    (["--resume", "{cut}", "--output", "{tmp}/x"], "--output and --resume do not go together"),
    (["--resume", "{cut}", "--cycles", "0"], "--cycles"),
])
def test_bad_resume_input_is_one_line_and_exit_2(tmp_path, args, expected):
    stop_after(tmp_path / "cut", 2)
    args = [a.format(tmp=tmp_path, cut=tmp_path / "cut") for a in args]
    result = CliRunner().invoke(cli_app, ["run", "--headless", *args])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "cut" / LOCK).exists()  # a refused resume leaves no lock behind


REAL_ARGS = ["--cycles", "2", "--tasks", "4", "--candidates", "2", "--gen-batch-size", "2", "--threshold", "0",
             "--max-new-tokens", "16"]


def cli(*args):
    return [sys.executable, "-m", "cli.main", "run", "--headless", *args]


def line_count(path):
    try:
        return sum(1 for _ in open(path, encoding="utf-8"))
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_cycle_then_resume_matches_an_uninterrupted_run(tmp_path):
    import signal
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    whole = subprocess.run(cli(*REAL_ARGS, "--output", str(tmp_path / "whole")), cwd=root, env=env,
                           capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]

    cut = tmp_path / "cut"
    process = subprocess.Popen(cli(*REAL_ARGS, "--output", str(cut)), cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while line_count(cut / CANDIDATES) < 10 and time.monotonic() < deadline:  # into cycle 1's AFTER pass
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    before_kill = (cut / CANDIDATES).read_text().splitlines()
    assert 10 <= len(before_kill) < 32, "the kill must land mid-run"

    resumed = subprocess.run(cli("--resume", str(cut)), cwd=root, env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Traceback" not in resumed.stderr and "resuming at cycle 1" in resumed.stderr

    # The files' own lines: that a resume leaves the kept lines as they were is what is tested.
    final = [json.loads(line) for line in (cut / CANDIDATES).read_text().splitlines()]
    expected = [json.loads(line) for line in (tmp_path / "whole" / CANDIDATES).read_text().splitlines()]
    assert len(final) == len(expected) == 2 * 2 * 4 * 2
    position = lambda r: (r["cycle"], r["phase"], r["batch"], r["index"])  # noqa: E731
    assert [position(r) for r in final] == [position(r) for r in expected]  # none twice, none missing
    assert all(set(r) == set(expected[0]) for r in final)
    # what was whole on disk at the kill is kept as it was: at most the in-flight batch is redone
    kept = []
    for line in before_kill:  # the kill may have torn the last line
        try:
            kept.append(json.loads(line))
        except ValueError:
            break
    whole_batches = len(kept) - len(kept) % 4  # 2 tasks x 2 candidates per batch
    assert final[:whole_batches] == kept[:whole_batches]
    progress = json.loads((cut / PROGRESS).read_text())
    assert progress["status"] == "finished" and progress["last_completed_cycle"] == 2
    assert [c["before"]["total_generated"] for c in progress["history"]["cycles"]] == [8, 8]
    assert (cut / "checkpoint_cycle_2" / "adapter_model.safetensors").is_file()
    assert not (cut / LOCK).exists()


@pytest.mark.slow
def test_ctrl_c_in_headless_mode_stops_at_a_boundary_and_saves_and_twice_forces(tmp_path):
    import signal
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    outcomes = {}
    for presses in (1, 2):
        run = tmp_path / f"run{presses}"
        process = subprocess.Popen(cli(*REAL_ARGS, "--output", str(run)), cwd=root, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while line_count(run / CANDIDATES) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
            time.sleep(0.2)
        stderr = process.communicate(timeout=300)[1]
        outcomes[presses] = (process.returncode, stderr, run)
    code, stderr, run = outcomes[1]
    assert code == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert "stopping at the next batch boundary" in stderr
    assert json.loads((run / PROGRESS).read_text())["status"] == "stopped"
    assert (run / "checkpoint_stopped" / "adapter_model.safetensors").is_file()
    lines = read_candidates(run)
    assert lines and len(lines) % 4 == 0  # whole batches only
    code, stderr, run = outcomes[2]
    assert code == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert read_candidates(run)  # what was scored before the forced stop is on disk


def stop_evaluated_run_in_cycle_2(directory, eval_sets):
    settings = build_settings(**{**SETTINGS, "output": directory})
    control = RunControl(settings.threshold, settings.weights)

    def stop_in_cycle_2(event):
        if isinstance(event, ev.BatchDone) and event.cycle == 2:
            control.request_stop()

    Engine(settings, FakeBackend(), load_packs(settings.pack), RunLog.create(settings.output), emit=stop_in_cycle_2,
           control=control, eval_sets=eval_sets).run()


def test_resume_keeps_the_baseline_evaluation(tmp_path):
    from inversion_tui.loop.evaluation import EvalTask

    held_out = {"held": [EvalTask("List files in /tmp", ("ls /tmp",)), EvalTask("Show disk usage", ("df -h",))]}
    stop_evaluated_run_in_cycle_2(tmp_path / "cut", held_out)
    settings, runlog, point = open_resume(tmp_path / "cut", {})
    recorder = ev.EventRecorder()
    Engine(settings, FakeBackend(), load_packs(settings.pack), runlog, emit=recorder, resume=point,
           eval_sets=held_out).run()
    evaluated = [e.cycle for e in recorder.of(ev.Evaluated)]
    assert evaluated == [0, 1, 2]  # 0 and 1 replayed from progress.json, only 2 computed
    progress = json.loads((tmp_path / "cut" / PROGRESS).read_text())
    assert [e["cycle"] for e in progress["evaluations"]] == [0, 1, 2]
    # the base model's rows, read back from evaluations.jsonl, pair with the resumed cycle's
    assert progress["evaluations"][2]["vs_base"]["n"] == 2
    rows = (tmp_path / "cut" / "evaluations.jsonl").read_text().splitlines()
    assert len(rows) == 3 * 2


def test_resume_of_a_run_saved_before_evaluations_had_set_names(tmp_path):
    from inversion_tui.loop.evaluation import EvalTask

    held_out = {"holdout": [EvalTask("List files in /tmp", ("ls /tmp",))]}
    stop_evaluated_run_in_cycle_2(tmp_path / "old", held_out)
    # rewrite the files as the previous version left them: one unnamed set, no per-task rows
    progress_path = tmp_path / "old" / PROGRESS
    progress = json.loads(progress_path.read_text())
    for evaluation in progress["evaluations"]:
        del evaluation["set"]
        evaluation.pop("vs_base", None)
    progress_path.write_text(json.dumps(progress))
    (tmp_path / "old" / "evaluations.jsonl").unlink()
    saved = json.loads((tmp_path / "old" / "settings.json").read_text())
    (tmp_path / "old" / "settings.json").write_text(json.dumps({**saved, "eval_suite": None}))

    settings, runlog, point = open_resume(tmp_path / "old", {})
    recorder = ev.EventRecorder()
    Engine(settings, FakeBackend(), load_packs(settings.pack), runlog, emit=recorder, resume=point,
           eval_sets=held_out).run()
    progress = json.loads(progress_path.read_text())
    assert [(e["cycle"], e["set"]) for e in progress["evaluations"]] == [(0, "holdout"), (1, "holdout"),
                                                                          (2, "holdout")]
    assert "vs_base" not in progress["evaluations"][2]  # no base rows to pair with: none claimed


def test_a_run_resumed_in_its_after_pass_never_trains_the_same_candidates_again(tmp_path):
    """The resumed cycle's BEFORE candidates were marked trained from its train-now steps only,
    not from the end-of-pass step done before the stop: train now then trained them again."""
    directory = tmp_path / "run"
    stop_after(directory, batches_done=4)  # 3 BEFORE batches, trained, then 1 AFTER batch
    progress = json.loads((directory / PROGRESS).read_text())
    assert progress["current"]["training"]["trained_indices"]  # the step ran before the stop
    settings, runlog, point = open_resume(directory, {"cycles": 1})
    control = RunControl.for_run(settings, point)
    backend = FakeBackend()
    recorder = ev.EventRecorder()

    def train_now_at_once(event):
        recorder(event)
        if isinstance(event, ev.PhaseStarted) and event.phase == "after":
            control.request_train_now()

    Engine(settings, backend, load_packs(settings.pack), runlog, emit=train_now_at_once, resume=point,
           control=control).run()
    assert backend.trained == []  # nothing left untrained in the cycle
    resumed_before = [e for e in recorder.of(ev.CandidateScored) if e.phase == "before"]
    trained = set(progress["current"]["training"]["trained_indices"])
    assert {e.index for e in resumed_before if e.trained} == trained


def test_a_resumed_pass_says_how_many_of_its_tasks_were_done_before(tmp_path):
    """The time left of a resumed pass is paced on the tasks this process scores, not on those
    restored from disk (which took no time here)."""
    directory = tmp_path / "run"
    stop_after(directory, batches_done=2)
    status, backend, recorder, point = resume(directory)
    first = recorder.of(ev.PhaseStarted)[0]
    assert (first.cycle, first.phase, first.total, first.done) == (1, "before", 5, 4)  # 2 batches of 2
    assert recorder.of(ev.BatchDone)[0].tasks_done == 5


def test_times_count_every_session_of_a_resumed_run(tmp_path):
    """Issue 34 item 4: a run stopped in cycle 2's BEFORE pass and resumed: the results' elapsed
    time is both sessions' work, and cycle 2's duration includes its BEFORE pass before the stop
    (not the time the run stood stopped)."""
    import time

    directory = tmp_path / "run"
    settings = build_settings(**{**SETTINGS, "output": directory})
    control = RunControl(settings.threshold, settings.weights)

    def stop_in_cycle_2(event):
        if isinstance(event, ev.BatchDone) and event.cycle == 2 and event.phase == "before":
            control.request_stop()

    started = time.monotonic()
    Engine(settings, FakeBackend(delay=0.05), load_packs(settings.pack), RunLog.create(directory),
           emit=stop_in_cycle_2, control=control).run()
    first_session = time.monotonic() - started
    stopped = json.loads((directory / PROGRESS).read_text())
    assert stopped["current"]["cycle"] == 2 and stopped["current"]["started_s"] > 0
    cycle_2_began = stopped["current"]["started_s"]
    time.sleep(0.5)  # stopped: not working time
    settings, runlog, point = open_resume(directory, {})
    started = time.monotonic()
    Engine(settings, FakeBackend(delay=0.05), load_packs(settings.pack), runlog, resume=point,
           control=RunControl.for_run(settings, point)).run()
    second_session = time.monotonic() - started
    results = json.loads((directory / "self_improvement_results.json").read_text())
    elapsed = results["summary"]["elapsed_s"]
    assert first_session + second_session - 0.3 <= elapsed <= first_session + second_session + 0.1
    cycle_2 = results["cycles"][1]
    assert cycle_2["duration_s"] == pytest.approx(elapsed - cycle_2_began, abs=0.05)
    before_the_stop = stopped["elapsed_s"] - cycle_2_began  # its first batch, before the stop, counts too
    assert before_the_stop > 0.05
    assert cycle_2["duration_s"] == pytest.approx(before_the_stop + second_session, abs=0.3)
