"""experiments/run_report.py on real run directories written by the engine (fake backend)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.metrics import judge
from inversion_tui.loop import events as ev
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.runlog import CANDIDATES, RunLog, read_candidate_lines
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "run_report.py"
HELD_OUT = [EvalTask("List files in /tmp", ("ls /tmp",)), EvalTask("Count lines in a.txt", ("wc -l a.txt",)),
            EvalTask("Scan port 22 on 10.0.0.9", ("nmap -p 22 10.0.0.9",))]


def load_script():
    spec = importlib.util.spec_from_file_location("run_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_run(directory: Path, backend, seed: int) -> Path:
    settings = build_settings(cycles=2, tasks=4, candidates=2, threshold=0.3, gen_batch_size=2, seed=seed,
                              output=directory, pack="pentest,shell")
    Engine(settings, backend, load_packs(settings.pack), RunLog.create(directory), emit=ev.EventRecorder(),
           eval_sets={"mine": HELD_OUT}).run()
    return directory


def test_report_tables_come_from_the_run_files(tmp_path, fake_backend):
    first = make_run(tmp_path / "a", fake_backend, seed=0)
    second = make_run(tmp_path / "b", fake_backend, seed=1)
    # One stored BEFORE candidate becomes a copy of its task joined by underscores, scored high
    # and unflagged, as a run from before the joined-words guard would have stored it.
    records = [line.to_json() for line in read_candidate_lines(first)[0]]
    target = next(r for r in records if r["phase"] == "before")
    target.update(command="_".join(target["task"].lower().split()), score=0.95, flags=[], accepted=True)
    (first / CANDIDATES).write_text("".join(json.dumps(r) + "\n" for r in records))

    text, data = load_script().report([first, second])

    before = [r for r in records if r["phase"] == "before"]
    at_03 = next(row for row in data[str(first)]["pool"] if row["threshold"] == 0.3)
    unflagged = [r for r in before if r["score"] >= 0.3 and not r["flags"]]
    assert at_03["accepted"] == len(unflagged)
    assert at_03["accepted_right"] == sum(judge(r["command"], r["references"]).utility for r in unflagged)
    assert at_03["accepted_todays_guards"] == at_03["accepted"] - 1  # today's guards catch the copy
    assert at_03["accepted_no_guards"] == sum(r["score"] >= 0.3 for r in before)
    # one held-out table per set: base plus both cycles, each later cycle paired with the base
    assert "### held-out: mine (n = 3)" in text
    assert [e["cycle"] for e in data[str(first)]["evaluations"]] == [0, 1, 2]
    assert "| 0 (base) |" in text and "| 2 |" in text
    # the second run's last cycle is paired with the first run's, task by task
    assert data["versus_first"][f"{second}:mine"]["n"] == 3


def test_a_directory_that_is_not_a_run_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: {tmp_path}: not a run directory (no progress.json)"


def test_holdout_rows_written_without_their_template_are_regrouped_from_the_settings(tmp_path, fake_backend):
    from inversion_tui.loop.metrics import bootstrap_ci
    from inversion_tui.eval_sets import eval_sets_for
    from inversion_tui.loop.runlog import EVAL_ROWS, read_eval_rows

    directory = tmp_path / "run"
    settings = build_settings(cycles=1, tasks=3, candidates=1, threshold=0.3, gen_batch_size=4, output=directory,
                              pack="pentest,shell", tasks_from="packs", holdout=0.25, eval_suite="holdout",
                              eval_limit=20)
    training, heldout = load_packs(settings.pack).split(settings.holdout)
    eval_sets = eval_sets_for(settings, heldout)
    Engine(settings, fake_backend, training, RunLog.create(directory), emit=ev.EventRecorder(),
           eval_sets=eval_sets).run()
    rows_path = directory / EVAL_ROWS
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    assert all(r["group"] for r in rows)  # today's runs store each task's template
    # as a run from before rows had a group: the report rebuilds the sample from settings.json
    rows_path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "group"}) + "\n" for r in rows))

    text, data = load_script().report([directory])

    groups = [t.group for t in eval_sets["holdout"]]
    assert f"(n = 20, {len(set(groups))} groups resampled whole)" in text
    base = read_eval_rows(directory)[("holdout", 0)]
    low, high = bootstrap_ci([r["token_f1"] for r in base], groups)
    assert f"[{low:.3f}, {high:.3f}]" in text.split("| 0 (base) |")[1].splitlines()[0]
    assert data[str(directory)]["evaluations"][0]["ci95"]["token_f1"] == (low, high)  # the JSON says what the table says
