"""The loop learns the tasks it is given (issue 32): a user's unlabeled tasks as the pool,
InterCode in two fixed halves, a held-out part that proves it, passes that draw without
replacement, evaluations over every task, and no pool reference ever reaching training."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from inversion_tui.eval_sets import eval_sets_for, load_intercode, load_intercode_half
from inversion_tui.loop import events as ev
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.runlog import CANDIDATES, RunLog, read_candidates
from inversion_tui.settings import build_settings
from inversion_tui.task_pools import run_pools, training_tasks
from tests.fakes import FakeBackend

runner = CliRunner()

TASKS = ["Show disk usage of /var", "Count the lines in notes.txt", "List files in /tmp by size",
         "Print the current date", "Find files named core under /home", "Show the last 20 lines of app.log",
         "Compress the logs directory into logs.tgz", "Print the free memory", "Sort names.txt and drop duplicates",
         "Show running processes of user bob", "Make a directory called build", "Print the kernel version"]
REFERENCES = ["du -sh /var", "wc -l notes.txt", "ls -lS /tmp", "date", "find /home -name core", "tail -n 20 app.log",
              "tar czf logs.tgz logs", "free -h", "sort -u names.txt", "ps -u bob", "mkdir build", "uname -r"]


def task_file(path, references=REFERENCES, plain=False):
    if plain:
        path.write_text("\n".join(TASKS) + "\n")
    else:
        path.write_text("".join(json.dumps({"task": t, "references": [r]}) + "\n" for t, r in zip(TASKS, references)))
    return path


# ---------------------------------------------------------------- InterCode in two halves

def test_intercode_halves_are_fixed_disjoint_and_whole():
    a, b = load_intercode_half("intercode:a", "x"), load_intercode_half("intercode:b", "x")
    assert len(a) == len(b) == 150
    everything = [t.task for t in load_intercode()]
    assert not {t.task for t in a} & {t.task for t in b}
    assert sorted(t.task for t in a + b) == sorted(everything)
    assert [t.task for t in a] == [t for t in everything if t in {x.task for x in a}]  # the suite's order
    assert load_intercode_half("intercode:a", "x") == a  # no seed, no state: the same every time


def test_an_intercode_half_is_the_same_pool_and_suite_whatever_the_seed(tmp_path):
    sets = [eval_sets_for(build_settings(output=tmp_path / "r", seed=seed, eval_suite="intercode:b"))
            for seed in (0, 7)]
    assert sets[0] == sets[1] and len(sets[0]["intercode:b"]) == 150
    pools = [training_tasks(build_settings(output=tmp_path / "r", seed=seed, tasks_from="intercode:a"))
             for seed in (0, 7)]
    assert [t.task for t in pools[0].templates] == [t.task for t in pools[1].templates]
    assert len(pools[0].templates) == 150 and len({t.id for t in pools[0].templates}) == 150  # each its own group
    assert not {t.task for t in pools[0].templates} & {t.task for t in sets[0]["intercode:b"]}
    assert [t.tool for t in pools[0].templates][:3] and all(" " not in t.tool for t in pools[0].templates)


# ---------------------------------------------------------------- a file, split by task

def test_holdout_on_a_file_is_a_fixed_fraction_of_its_tasks_whatever_the_seed(tmp_path):
    path = task_file(tmp_path / "mine.jsonl")
    settings = [build_settings(output=tmp_path / "r", seed=seed, tasks_from=str(path), holdout=0.5,
                               eval_suite="holdout") for seed in (0, 3)]
    splits = [run_pools(s) for s in settings]
    held = [{t.task for t in s.heldout.templates} for s in splits]
    trained = [{t.task for t in s.training.templates} for s in splits]
    assert held[0] == held[1] and trained[0] == trained[1]
    assert len(held[0]) == 6 and not held[0] & trained[0] and held[0] | trained[0] == set(TASKS)
    # every held-out task is evaluated once, with its references
    evaluated = eval_sets_for(settings[0], splits[0].heldout, splits[0].training)["holdout"]
    assert sorted(t.task for t in evaluated) == sorted(held[0])
    assert all(t.references == (REFERENCES[TASKS.index(t.task)],) for t in evaluated)


def test_an_evaluation_covers_every_task_of_a_pool_past_a_hundred(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"task": f"Print the number {i}", "references": [f"echo {i}"]}) + "\n"
                            for i in range(240)))
    settings = build_settings(output=tmp_path / "r", tasks_from=str(path), holdout=0.5, eval_suite="holdout,pool")
    pools = run_pools(settings)
    sets = eval_sets_for(settings, pools.heldout, pools.training)
    assert len(sets["holdout"]) == len({t.task for t in sets["holdout"]}) == 120  # no cap at 100
    assert len(sets["pool"]) == len({t.task for t in sets["pool"]}) == 120
    assert not {t.task for t in sets["holdout"]} & {t.task for t in sets["pool"]}


# ---------------------------------------------------------------- passes without replacement

def test_a_pass_draws_every_task_once_before_any_twice(tmp_path):
    pool = training_tasks(build_settings(output=tmp_path / "r", tasks_from=str(task_file(tmp_path / "t.jsonl"))))
    passes = [[i.task for i in pool.draw_pass(5, number, seed=0)] for number in range(5)]
    drawn = [task for tasks in passes for task in tasks]
    assert sorted(drawn[:12]) == sorted(TASKS) and sorted(drawn[12:24]) == sorted(TASKS)
    assert all(len(set(tasks)) == 5 for tasks in passes)
    assert [i.task for i in pool.draw_pass(5, 3, seed=0)] == passes[3]  # a resumed pass draws the same
    assert [i.task for i in pool.draw_pass(5, 0, seed=1)] != passes[0]  # the seed orders them


def test_a_run_on_a_pool_of_twelve_draws_twelve_distinct_tasks_first(tmp_path):
    settings = build_settings(output=tmp_path / "run", cycles=2, tasks=3, candidates=1,
                              tasks_from=str(task_file(tmp_path / "t.jsonl")))
    Engine(settings, FakeBackend(), training_tasks(settings), RunLog.create(settings.output)).run()
    drawn = [(c.cycle, c.phase, c.task) for c in read_candidates(tmp_path / "run")]
    assert len(drawn) == 12 and len({task for _, _, task in drawn}) == 12


# ---------------------------------------------------------------- no reference reaches training

def _trained_and_prompts(tmp_path, name, references):
    settings = build_settings(output=tmp_path / name, cycles=2, tasks=4, candidates=2, threshold=0.0,
                              tasks_from=str(task_file(tmp_path / f"{name}.jsonl", references)),
                              select="keep-top", keep_top=1.0)
    backend = FakeBackend()
    Engine(settings, backend, training_tasks(settings), RunLog.create(settings.output), emit=ev.EventRecorder()).run()
    # The file's own lines, not candidates read back: what is on disk is what this test is about.
    lines = (tmp_path / name / CANDIDATES).read_text(encoding="utf-8").splitlines()
    return backend, [json.loads(line) for line in lines]


def test_the_loop_never_reads_a_pool_tasks_reference(tmp_path):
    """The same run with every reference replaced by a poison string trains on the same examples
    under the same prompts, none of which holds the poison; the references stay only in the
    field the scorer check reads."""
    poison = "POISON-8d1e rm -rf /"
    clean_backend, clean = _trained_and_prompts(tmp_path, "clean", REFERENCES)
    poisoned_backend, poisoned = _trained_and_prompts(tmp_path, "poisoned", [poison] * len(TASKS))
    assert clean_backend.trained and sum(len(step) for step in clean_backend.trained) > 0
    assert poisoned_backend.trained == clean_backend.trained
    assert not any(poison in pair.prompt or poison in pair.completion
                   for step in poisoned_backend.trained for pair in step)
    assert [r["prompts"] for r in poisoned] == [r["prompts"] for r in clean]
    assert [(r["command"], r["reconstruction"], r["score"]) for r in poisoned] == \
        [(r["command"], r["reconstruction"], r["score"]) for r in clean]
    for record in poisoned:
        assert record["references"] == [poison]  # kept for the scorer check alone
        without = {k: v for k, v in record.items() if k != "references"}
        assert poison not in json.dumps(without)


# ---------------------------------------------------------------- bad input: one line, exit 2, no run left

def _refused(tmp_path, *args):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--headless", "--output", str(out), *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.output
    assert not out.exists(), "a refused run left its directory behind"
    return lines[-1]


@pytest.mark.parametrize("value", ["0", "-0.1", "1.5"])
def test_keep_top_outside_zero_to_one_is_one_line(tmp_path, value):
    assert "--keep-top" in _refused(tmp_path, "--select", "keep-top", "--keep-top", value)


def test_holdout_one_is_one_line(tmp_path):
    assert "--holdout" in _refused(tmp_path, "--holdout", "1", "--eval-suite", "holdout")


def test_a_pool_file_whose_every_task_is_held_out_is_one_line(tmp_path):
    path = tmp_path / "one-group.jsonl"
    path.write_text("".join(json.dumps({"task": t, "references": [r], "group": "all"}) + "\n"
                            for t, r in zip(TASKS, REFERENCES)))
    line = _refused(tmp_path, "--tasks-from", str(path), "--holdout", "0.5", "--eval-suite", "holdout")
    assert "every task" in line and "held out" in line


def test_eval_suite_holdout_on_a_file_without_references_is_one_line(tmp_path):
    path = task_file(tmp_path / "plain.txt", plain=True)
    line = _refused(tmp_path, "--tasks-from", str(path), "--holdout", "0.5", "--eval-suite", "holdout")
    assert line.startswith("error: --eval-suite holdout: 6 of 6 tasks") and "no reference" in line
    line = _refused(tmp_path, "--tasks-from", str(path), "--eval-suite", "pool")
    assert line.startswith("error: --eval-suite pool: 12 of 12 tasks")


def test_eval_suite_pool_on_the_packs_is_one_line(tmp_path):
    assert "--eval-suite pool" in _refused(tmp_path, "--tasks-from", "packs", "--eval-suite", "pool")


@pytest.mark.parametrize("args,flag", [
    (["--tasks-from", "intercode:a"], "--tasks-from intercode:a"),
    (["--eval-suite", "intercode:b"], "--eval-suite intercode:b"),
])
def test_intercode_without_its_package_names_the_flag_given(tmp_path, monkeypatch, args, flag):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "icalfa" else real(name, *a))
    line = _refused(tmp_path, *args)
    assert line.startswith(f"error: {flag} needs InterCode-ALFA's tasks") and "icalfa" in line
