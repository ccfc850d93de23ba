"""Scorer debugging without a screen: the scorer check, marks, filters, re-weighting, replay."""

import json
from dataclasses import replace

import pytest

from inversion_tui.errors import RunDirectoryError
from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.generate import forward_prompt
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.loop.resume import open_resume
from inversion_tui.loop.runlog import CANDIDATES, PROGRESS, read_candidate_lines, read_candidates
from inversion_tui.loop.score import combine
from inversion_tui.loop.select import decide
from inversion_tui.loop.scorer_check import check_cycles, check_pass, marks_agreement
from inversion_tui.marks import MARKS, MarkBook
from inversion_tui.run_record import load_run, replay_events, rescore_text, trained_positions
from inversion_tui.settings import build_settings
from inversion_tui.tui.query import FilterError, parse_filter, sort_value
from inversion_tui.tui.state import CandidateRow, RunState
from tests.fakes import TEXT_WEIGHTS
from tests.test_engine import make_engine as engine_with


def row(number, command, score, accepted, references=("nmap -p 80 10.0.0.1",), cycle=1, phase="before", **kw):
    values = dict(number=number, cycle=cycle, phase=phase, index=number, task=f"task {number}", tool="nmap",
                  command=command, reconstruction="r", components={"embed": score, "overlap": 0.1}, score=score,
                  flags=(), accepted=accepted, reason=None if accepted else "low", references=references)
    values.update(kw)
    verdict = {name: values.pop(name) for name in ("number", "score", "accepted", "reason")}
    extra = {name: values.pop(name) for name in ("mark",) if name in values}
    candidate = Candidate(batch=0, **values, score=verdict["score"], accepted=verdict["accepted"],
                          reason=verdict["reason"])
    return CandidateRow(verdict["number"], candidate, verdict["score"], verdict["accepted"], verdict["reason"],
                        candidate.trained, **extra)


# ---------------------------------------------------------------- scorer check


def test_check_pass_accuracy_of_accepted_and_rejected_and_auroc():
    rows = [row(0, "nmap -p 80 10.0.0.1", 0.9, True), row(1, "nmap -sV 10.0.0.1", 0.7, True),
            row(2, "ping 10.0.0.1", 0.8, True), row(3, "curl 10.0.0.1", 0.2, False),
            row(4, "nmap 10.0.0.1", 0.3, False), row(5, "ls", 0.1, False, references=())]
    check = check_pass(rows)
    assert check.judged == 5 and check.candidates == 6
    assert check.accepted_accuracy == pytest.approx(2 / 3) and check.accepted_n == 3
    assert check.rejected_accuracy == pytest.approx(1 / 2) and check.rejected_n == 2
    assert check.accepted_exact == pytest.approx(1 / 3)
    # correct scores 0.9, 0.7, 0.3 against wrong 0.8, 0.2: 4 of 6 pairs ordered right
    assert check.auroc == pytest.approx(4 / 6)
    assert check.diversity == 1.0


def test_diversity_collapse_raises_the_alarm():
    varied = [row(i, f"cmd{i}", 0.5, True, cycle=1) for i in range(6)]
    collapsed = [row(10 + i, "nmap 10.0.0.1", 0.5, True, cycle=2) for i in range(6)]
    checks = check_cycles(varied + collapsed)
    assert [(c.cycle, c.collapse) for c in checks] == [(1, False), (2, True)]
    assert checks[1].check.diversity == pytest.approx(1 / 6)


def test_marks_agreement_precision_and_recall():
    rows = [row(0, "a", 0.9, True), row(1, "b", 0.8, True), row(2, "c", 0.2, False), row(3, "d", 0.1, False)]
    marks = {(1, "before", 0): "good", (1, "before", 1): "bad", (1, "before", 2): "good"}
    agreement = marks_agreement(rows, marks)
    assert agreement["marked"] == 3 and agreement["good"] == 2
    assert agreement["precision"] == pytest.approx(1 / 2)  # accepted & marked: a good, b bad
    assert agreement["recall"] == pytest.approx(1 / 2)  # good: a accepted, c not
    assert marks_agreement(rows, {})["precision"] is None


# ---------------------------------------------------------------- marks on disk


def test_marks_survive_a_torn_line_and_the_last_mark_wins(tmp_path):
    book = MarkBook(tmp_path)
    book.set((1, "before", 3), "good", task="t", command="c")
    book.set((1, "before", 4), "bad")
    book.set((1, "before", 3), "bad")
    book.set((1, "before", 4), None)
    with open(tmp_path / MARKS, "a") as handle:
        handle.write('{"cycle": 2, "phase": "af')  # a crash mid-write
    assert MarkBook(tmp_path).marks == {(1, "before", 3): "bad"}
    with pytest.raises(ValueError):
        book.set((1, "before", 3), "great")


# ---------------------------------------------------------------- filter and sort


@pytest.mark.parametrize("text,expected", [
    ("", [0, 1, 2, 3]),
    ("accepted", [0, 1]),
    ("!accepted", [2, 3]),
    ("rejected", [2]),
    ("flagged", [3]),
    ("score>=0.8", [0, 1]),
    ("embed<0.5 cycle:2", [3]),
    ("phase:after", [3]),
    ("tool:nmap", [0, 1, 2]),
    ("flag:copies_task", [3]),
    ("correct", [0]),
    ("wrong", [1, 2, 3]),
    ("good", [1]),
    ("ECHO", [3]),
])
def test_filters(text, expected):
    rows = [row(0, "nmap -p 80 10.0.0.1", 0.9, True), row(1, "ping 10.0.0.1", 0.8, True, mark="good"),
            row(2, "nc 10.0.0.1", 0.5, False),
            row(3, "echo scan", 0.3, False, cycle=2, phase="after", flags=("copies_task",), tool="echo",
                reason="flagged: copies_task")]
    predicate = parse_filter(text)
    assert [r.number for r in rows if predicate(r)] == expected


@pytest.mark.parametrize("text,message", [("cycle:x", "the cycle must be a number"), ("score>high", "not a number"),
                                          ("colour:red", "unknown filter"), ("speed>2", "unknown field")])
def test_bad_filters_say_what_is_wrong(text, message):
    with pytest.raises(FilterError, match=message):
        parse_filter(text)


def test_sort_values_put_missing_components_last():
    with_value, without = row(0, "a", 0.5, True), row(1, "b", 0.5, True, components={"embed": None})
    assert sort_value("embed", with_value) > sort_value("embed", without)
    assert sort_value("newest", without) == 1


# ---------------------------------------------------------------- re-weighting in the UI state


def test_reweight_rescores_every_row_from_stored_components_and_redecides():
    state = RunState(build_settings(output="x", cycles=2), RunControl(0.5, {"embed": 1.0}))
    rows = [row(0, "a", 0.9, True, components={"embed": 0.9, "overlap": 0.0}),
            row(1, "b", 0.4, False, components={"embed": 0.4, "overlap": 1.0}, cycle=2)]
    state.rows = rows
    changed = state.reweight({"embed": 0.5, "overlap": 0.5})
    assert [r.score for r in rows] == [pytest.approx(0.45), pytest.approx(0.7)]
    assert [r.accepted for r in rows] == [False, True]  # past cycles too: the verdict under these weights
    assert changed == rows


# ---------------------------------------------------------------- the engine's side


def make_engine(tmp_path, backend, control=None, **overrides):
    return engine_with(tmp_path, backend, control, **{"cycles": 1, "tasks": 4, "candidates": 2, **overrides})


def test_records_keep_references_and_the_exact_prompts(tmp_path, fake_backend):
    engine, _ = make_engine(tmp_path, fake_backend)
    engine.run()
    examples = engine.examples
    for line in read_candidate_lines(tmp_path / "run")[0]:
        c = line.candidate
        assert c.references  # every pack template has reference commands
        assert c.prompts["forward"] == forward_prompt(fake_backend, c.task, examples)
        assert c.prompts["inverse"] == inverse_prompt(fake_backend, c.command, examples)
        assert not any(ref in c.prompts["forward"] for ref in c.references)  # never leaked
        assert line.weights == engine.settings.weights


def test_a_weight_change_rescores_the_running_pass_and_is_recorded(tmp_path, fake_backend):
    new = {"embed": 0.0, "overlap": 0.0, "difflib": 0.0, "self_rating": 0.0, "overlap_masked": 1.0,
           "difflib_masked": 0.0}
    control = RunControl(0.6, build_settings(output=tmp_path, weights=TEXT_WEIGHTS).weights)

    def change_after_first_batch(event):
        recorder(event)
        if isinstance(event, ev.BatchDone) and event.phase == "before" and event.tasks_done == 2:
            control.set_weights(new)

    # seed 6 draws a pass whose first batch keeps a candidate under the new weights and loses one
    engine, recorder = make_engine(tmp_path, fake_backend, control=control, threshold=0.6, weights=TEXT_WEIGHTS,
                                   seed=6)
    engine.emit = change_after_first_batch
    engine.run()
    [changed] = recorder.of(ev.WeightsChanged)
    assert changed.new == new
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    assert progress["weight_changes"][0]["to"] == new and progress["weights"] == new
    entry = progress["history"]["cycles"][0]
    assert entry["training"]["weights"] == new  # the weights that selected the trained pool
    # the trained pool is what the new weights accept, the batch scored before the change included
    lines = [line for line in read_candidate_lines(tmp_path / "run")[0] if line.candidate.phase == "before"]
    lines.sort(key=lambda line: line.candidate.index)
    before = [line.candidate for line in lines]
    rescored = [replace(c, score=combine(c.components, new)) for c in before]
    accepted = [c.index for c, reason in zip(before, decide(rescored, 0.6)) if reason is None]
    assert entry["training"]["trained_indices"] == accepted
    old_accepted = [c.index for c in before if c.batch == 0 and c.accepted]
    assert set(old_accepted) != set(accepted) & {c.index for c in before if c.batch == 0}  # it did change
    assert len(fake_backend.trained[0]) == len(accepted)
    assert all(line.weights == new for line in lines if line.candidate.batch >= 1)


def test_resume_goes_on_with_the_weights_set_live(tmp_path, fake_backend):
    new = {**build_settings(output=tmp_path).weights, "embed": 1.0, "overlap": 0.0, "difflib": 0.0}
    control = RunControl(0.3, build_settings(output=tmp_path).weights)

    def change_then_stop(event):
        if isinstance(event, ev.BatchDone) and event.tasks_done == 2:
            control.set_weights(new)
            control.set_threshold(0.6)
            control.request_stop()

    engine, _ = make_engine(tmp_path, fake_backend, control=control)
    engine.emit = change_then_stop
    assert engine.run() == "stopped"
    settings, runlog, point = open_resume(tmp_path / "run", {})
    resumed = RunControl.for_run(settings, point)
    assert resumed.weights == new and resumed.threshold == 0.6
    runlog.release_lock()


# ---------------------------------------------------------------- replay


def finished_run(tmp_path, backend, **overrides):
    engine, _ = make_engine(tmp_path, backend, cycles=2, **overrides)
    engine.run()
    return tmp_path / "run"


def test_replay_gives_back_every_candidate_and_what_was_trained(tmp_path, fake_backend):
    directory = finished_run(tmp_path, fake_backend)
    before = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    run = load_run(directory)
    events = list(replay_events(run))
    scored = [e for e in events if isinstance(e, ev.CandidateScored)]
    records = read_candidates(directory)
    assert len(scored) == len(records)
    assert {(e.cycle, e.phase, e.index, e.command) for e in scored} == {
        (c.cycle, c.phase, c.index, c.command) for c in records}
    progress = json.loads((directory / PROGRESS).read_text())
    trained = {(e.cycle, e.index) for e in scored if e.trained}
    assert trained == trained_positions(progress)
    # each example once, though from the base (the default) a step retrains on all so far
    assert len(trained) == sum(c["training"]["new_examples"] for c in progress["history"]["cycles"])
    assert [e.cycle for e in events if isinstance(e, ev.CycleDone)] == [1, 2]
    assert events[-1] == ev.RunFinished("finished", 2, str(directory))
    assert {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()} == before  # read only


def test_replay_of_a_crashed_run_skips_a_torn_line_and_says_so(tmp_path, fake_backend):
    directory = finished_run(tmp_path, fake_backend)
    progress = json.loads((directory / PROGRESS).read_text())
    (directory / PROGRESS).write_text(json.dumps({**progress, "status": "running"}))  # died without a word
    with open(directory / CANDIDATES, "a") as handle:
        handle.write('{"cycle": 2, "phase": "after", "ta')
    run = load_run(directory)
    assert run.status == "crashed" and run.skipped_lines == 1
    assert any("1 unreadable line" in note for note in run.notes)
    assert len(run.candidates) == len(read_candidates_lenient(directory)) - 1


def read_candidates_lenient(directory):
    return (directory / CANDIDATES).read_text().splitlines()


def test_rescore_recomputes_guards_and_text_components_without_a_model(tmp_path, fake_backend):
    directory = finished_run(tmp_path, fake_backend)
    lines = [line.to_json() for line in read_candidate_lines(directory)[0]]
    lines[0]["command"] = 'echo "' + lines[0]["task"] + '"'  # as an older guard would have let through
    for record in lines:
        record["components"] = {k: v for k, v in record["components"].items() if not k.endswith("_masked")}
    (directory / CANDIDATES).write_text("".join(json.dumps(r) + "\n" for r in lines))
    run = load_run(directory)
    rescore_text(run)
    assert "copies_task" in run.candidates[0].flags
    assert all(c.components["overlap_masked"] is not None for c in run.candidates)
    assert run.candidates[1].components["embed"] == lines[1]["components"]["embed"]  # kept: needs a model


@pytest.mark.parametrize("setup,message", [
    (lambda d: None, "no such run directory"),
    (lambda d: d.mkdir(), "is not a run directory"),
    (lambda d: (d.mkdir(), (d / "settings.json").write_text("{oops")), "not valid JSON"),
])
def test_load_run_refuses_what_is_not_a_run(tmp_path, setup, message):
    directory = tmp_path / "nope"
    setup(directory)
    with pytest.raises(RunDirectoryError, match=message):
        load_run(directory)


def test_a_threshold_change_after_the_last_batch_still_selects_the_trained_pool(tmp_path, fake_backend):
    control = RunControl(0.0, build_settings(output=tmp_path).weights)

    def raise_it_at_the_end_of_the_pass(event):
        if isinstance(event, ev.BatchDone) and event.phase == "before" and event.tasks_done == event.tasks_total:
            control.set_threshold(0.99)

    engine, _ = make_engine(tmp_path, fake_backend, control=control, threshold=0.0)
    engine.emit = raise_it_at_the_end_of_the_pass
    engine.run()
    entry = json.loads((tmp_path / "run" / PROGRESS).read_text())["history"]["cycles"][0]
    assert entry["train_examples"] == 0 and fake_backend.trained == []  # nothing scores 0.99
    assert entry["training"]["threshold"] == 0.99


def test_a_weighted_component_no_candidate_has_is_told_as_none_not_some():
    """Issue 26: `coder was not computed for some candidates` when no candidate had it."""
    state = RunState(build_settings(output="x", cycles=1), RunControl(0.4, {"embed": 1.0, "coder": 1.0, "self_rating": 1.0}))
    for index, rating in enumerate((0.7, None, None)):
        state.add_candidate(Candidate(1, "before", 0, index, "list files", "ls", "List files",
                                      {"embed": 0.5, "coder": None, "self_rating": rating}, 0.5, ()))
    assert state.missing_components() == {"coder": 3, "self_rating": 2}
