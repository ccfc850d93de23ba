"""Broad task pools (--tasks-from): the cheat pool is broad, disjoint from every evaluation set,
and a run draws its passes from it with the packs' few-shot examples."""

from __future__ import annotations

import re

import pytest

from inversion_tui.errors import TaskPackError
from inversion_tui.eval_sets import load_intercode
from inversion_tui.loop import events as ev
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.runlog import RunLog, read_candidates
from inversion_tui.settings import build_settings
from inversion_tui.task_pools import (BASICS, load_basics_pool, load_cheat_pool, load_task_pool, parse_sheet,
                                      training_tasks)
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def longest_shared_ngram(pool: list[str], others: list[str]) -> tuple[str, ...]:
    """The longest run of words that a pool task and an evaluation task both contain."""
    def grams(ws, n):
        return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}

    longest: tuple[str, ...] = ()
    for n in range(1, 40):
        theirs = set().union(*(grams(words(t), n) for t in others))
        shared = next((g for t in pool for g in grams(words(t), n) if g in theirs), None)
        if shared is None:
            return longest
        longest = shared
    return longest


def test_the_cheat_pool_is_broad():
    pool = load_cheat_pool()
    assert len(pool) >= 600 and len({t.tool for t in pool}) >= 100


def test_cheat_basics_is_the_cheat_pools_basic_programs_split_as_screened():
    basics, whole = load_basics_pool(), load_cheat_pool()
    assert len(basics) == 137 and len({t.tool for t in basics}) == 33 and {t.tool for t in basics} <= BASICS
    assert [t.task for t in basics] == [t.task for t in whole if t.tool in BASICS]
    assert all(t.id == t.tool for t in basics)  # as the task file the screen read: the same split
    held = load_task_pool("cheat-basics", []).split(0.25)[1]
    # the held-out programs of the issue-14 screen's core cells (docs/RESULTS.md)
    assert {t.tool for t in held.templates} == {"date", "df", "du", "kill", "od", "rm", "sed", "tail", "uname",
                                               "unzip", "zip"} and len(held.templates) == 34


def evaluation_sets() -> dict[str, list[str]]:
    packs = load_packs("pentest,shell")
    return {"intercode": [t.task for t in load_intercode()],
            # the packs' templates are the --holdout set; slots read as gaps between words
            "packs": [re.sub(r"\{\w+\}", " ", t.task) for t in packs.templates] + [e.task for e in packs.examples]}


@pytest.mark.parametrize("name", ["intercode", "packs"])
def test_the_cheat_pool_shares_no_task_with_an_evaluation_set(name):
    pool = [t.task for t in load_cheat_pool()]
    others = evaluation_sets()[name]
    assert not {" ".join(words(t)) for t in pool} & {" ".join(words(t)) for t in others}
    shared = longest_shared_ngram(pool, others)
    print(f"longest word n-gram shared with {name}: {len(shared)} words: {' '.join(shared)!r}")
    # Measured when the pool was added: 6 words with InterCode ("all files in the current
    # directory"), 5 with the packs ("open a tcp connection to"): phrases, not tasks.
    assert len(shared) <= 6


def test_a_sheet_gives_instructions_and_the_command_under_each():
    sheet = ("# To extract a .gz archive:\ntar -xzvf foo.tgz\n\n# OR\n# note: see man tar\ntar -t\n"
             "# Download multiple files\ncurl -O a -O b\n# bold\nprintf x\n")
    templates = parse_sheet("tar", sheet)
    assert [(t.task, t.references) for t in templates] == [
        ("Extract a .gz archive", ("tar -xzvf foo.tgz",)), ("Download multiple files", ("curl -O a -O b",))]
    assert {t.id for t in templates} == {"cheat/tar"}  # one program, one group


def test_a_pool_file_and_its_errors(tmp_path):
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("# my tasks\nShow the disk usage of /var\n\n{\"task\": \"Count words in a.txt\", "
                     "\"references\": [\"wc -w a.txt\"], \"group\": \"wc\"}\n")
    pool = load_task_pool(str(tasks), [])
    assert [(t.task, t.references) for t in pool.templates] == [("Show the disk usage of /var", ()),
                                                                ("Count words in a.txt", ("wc -w a.txt",))]
    with pytest.raises(TaskPackError, match="neither a pool"):
        load_task_pool(str(tmp_path / "missing.txt"), [])
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(TaskPackError, match="no tasks"):
        load_task_pool(str(tmp_path / "empty.txt"), [])


def test_a_run_draws_its_tasks_from_the_pool_with_the_packs_examples(tmp_path):
    settings = build_settings(cycles=1, tasks=4, candidates=1, output=tmp_path / "run", pack="pentest",
                              tasks_from="cheat")
    pack = training_tasks(settings)
    assert pack.examples == load_packs("pentest").examples
    Engine(settings, FakeBackend(), pack, RunLog.create(settings.output), emit=ev.EventRecorder()).run()
    pool_tasks = {t.task for t in load_cheat_pool()}
    records = read_candidates(tmp_path / "run")
    assert records and all(c.task in pool_tasks for c in records)
    assert all(c.template_id.startswith("cheat/") for c in records)


def test_a_run_draws_on_cheat_basics_by_default_and_on_the_packs_when_asked(tmp_path):
    packs = load_packs("pentest,shell")
    default = training_tasks(build_settings(output=tmp_path / "a"))
    assert [t.task for t in default.templates] == [t.task for t in load_basics_pool()]
    assert default.examples == packs.examples  # the prompts' examples stay the packs'
    for spec in ("packs", None):  # None: what runs saved before the default have in settings.json
        on_packs = training_tasks(build_settings(output=tmp_path / "b", tasks_from=spec))
        assert on_packs.templates == packs.templates and on_packs.examples == packs.examples


def test_the_held_out_programs_of_a_pool_are_listed_once_each_with_their_count(tmp_path):
    """--holdout on the cheat pool keeps whole programs out (a sheet's tasks share a group), and
    the start-up line names each program once, not each of its ~230 tasks."""
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["run", "--headless", "--tasks-from", "cheat", "--holdout", "0.25",
                                      "--eval-suite", "holdout", "--output", str(tmp_path / "out"),
                                      "--model", "no-such-org/no-such-model"])
    assert result.exit_code == 2  # the model is checked after the split is reported
    line = next(ln for ln in result.stderr.splitlines() if ln.startswith("holding out"))
    names = line.split("training: ", 1)[1].split(", ")
    programs = [name.split(" ×")[0] for name in names]
    assert len(programs) == len(set(programs)) and all(p.startswith("cheat/") for p in programs)
    counts = [int(name.split(" ×")[1]) if " ×" in name else 1 for name in names]
    held_out = int(line.split()[2])
    assert sum(counts) == held_out and len(programs) < held_out


def test_replay_from_draws_the_replayed_tasks_from_its_pool_while_passes_stay_on_the_packs(tmp_path):
    """--replay-from FILE: the base model's replayed answers are on the file's tasks, the
    passes (and so the accepted examples) on the packs'."""
    from inversion_tui.task_pools import replay_tasks

    broad = ["Show disk usage", "Count lines under src"]  # short: the fake's answers pass the guards
    (tmp_path / "broad.txt").write_text("\n".join(broad) + "\n")
    settings = build_settings(cycles=1, tasks=4, candidates=2, threshold=0.0, output=tmp_path / "run",
                              pack="pentest", replay=1.0, replay_from=str(tmp_path / "broad.txt"), verifier="policy")
    training = training_tasks(settings)
    backend = FakeBackend()
    engine = Engine(settings, backend, training, RunLog.create(settings.output), emit=ev.EventRecorder(),
                    replay_pack=replay_tasks(settings, training, None))
    engine.run()
    step = engine.history[0].training
    assert step.replayed >= 1 and len(backend.trained[0]) == step.new_examples + step.replayed
    replayed, accepted = backend.trained[0][step.new_examples:], backend.trained[0][: step.new_examples]
    assert all(any(task in pair.prompt for task in broad) for pair in replayed)
    # what was replayed is on record, task and command, in the order trained
    assert [command for _, command in step.replayed_commands] == [pair.completion for pair in replayed]
    assert all(task in broad for task, _ in step.replayed_commands)
    assert not any(task in pair.prompt for pair in accepted for task in broad)
    assert all(c.task not in broad for c in read_candidates(tmp_path / "run"))


def test_replay_from_never_draws_a_template_the_run_holds_out(tmp_path):
    from inversion_tui.task_pools import replay_tasks

    settings = build_settings(output=tmp_path / "run", tasks_from="cheat", holdout=0.25, replay=0.5,
                              replay_from="cheat")
    training, heldout = training_tasks(settings).split(settings.holdout)
    replay = replay_tasks(settings, training, heldout)
    held = {(t.id, t.task) for t in heldout.templates}
    assert not any((t.id, t.task) in held for t in replay.templates)
    assert len(replay.templates) == len(training.templates)  # the pool less exactly its held-out part
    assert replay_tasks(build_settings(output=tmp_path / "run"), training, heldout) is None  # no --replay-from


def test_replay_from_a_missing_file_is_named_as_replay_from(tmp_path):
    from inversion_tui.task_pools import replay_tasks

    settings = build_settings(output=tmp_path / "run", replay=0.5, replay_from=str(tmp_path / "missing.txt"))
    with pytest.raises(TaskPackError, match=r"^--replay-from .*neither a pool"):
        replay_tasks(settings, load_packs("pentest"), None)


@pytest.mark.parametrize("flags, message", [
    (["--replay-from", "cheat"], "give --replay R too"),
    (["--replay", "0.5", "--objective", "dpo"], "--replay adds SFT examples"),
])
def test_replay_options_that_would_do_nothing_are_refused(tmp_path, flags, message):
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["run", "--headless", "--output", str(tmp_path / "out"), *flags])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and message in result.stderr
    assert not (tmp_path / "out").exists()
