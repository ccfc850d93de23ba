import random
import re
import textwrap

import pytest

from inversion_tui.errors import TaskPackError
from inversion_tui.tasks import available_packs, load_pack, load_packs, render, slot_names


def test_bundled_packs_cover_the_seed_tools_and_shell():
    assert {"pentest", "shell"} <= set(available_packs())
    pentest_tools = {t.tool for t in load_packs("pentest").templates}
    assert {"nmap", "nikto", "gobuster", "dirb", "nc", "searchsploit", "hydra", "sqlmap", "masscan"} <= pentest_tools
    shell_tools = {t.tool for t in load_packs("shell").templates}
    assert {"find", "grep", "tar", "du"} <= shell_tools


@pytest.mark.parametrize("name", ["pentest", "shell"])
def test_every_template_renders_with_no_unfilled_slot(name):
    pack = load_packs(name)
    rng = random.Random(0)
    for template in pack.templates:
        for _ in range(5):
            instance = render(template, rng)
            for text in (instance.task, *instance.references):
                assert not re.search(r"\{\w*\}", text), text
            assert instance.references, f"{template.id} has no reference"


def test_sampling_is_seeded_and_fresh():
    pack = load_packs("pentest,shell")
    first = pack.sample(20, random.Random(7))
    again = pack.sample(20, random.Random(7))
    assert first == again
    rng = random.Random(7)
    assert pack.sample(20, rng) != pack.sample(20, rng)  # successive passes draw fresh tasks
    assert {t.template_id.split("-")[0] for t in first} & {"find", "grep", "tar", "du", "nmap", "masscan"}


def test_merging_packs_keeps_templates_and_examples():
    merged = load_packs("pentest,shell")
    assert len(merged.templates) == len(load_packs("pentest").templates) + len(load_packs("shell").templates)
    assert merged.name == "pentest+shell"


BROKEN = {
    "unknown slot": ("templates:\n  - task: Scan {port}\n", ":2: unknown slot {port}"),
    "bad yaml": ("templates:\n  - task: [unclosed\n", ":3: invalid YAML"),
    "no task": ("slots: {a: [1]}\ntemplates:\n  - references: [ls]\n", ":3: template has no 'task'"),
    "unknown key": ("templates:\n  - task: x\n    refs: [ls]\n", ":3: unknown key 'refs'"),
    "duplicate id": ("templates:\n  - {id: a, task: x}\n  - {id: a, task: y}\n", ":3: duplicate template id 'a'"),
    "reference extra slot": (
        "slots: {a: [1], b: [2]}\ntemplates:\n  - task: do {a}\n    references: ['cmd {b}']\n",
        ":4: reference uses slot {b}",
    ),
    "slot not a list": ("slots:\n  a: 1\ntemplates:\n  - task: x {a}\n", ":2: slot 'a' must be a list"),
    "empty templates": ("templates: []\n", ":1: 'templates' is empty"),
    "no templates": ("name: x\n", ":1: missing 'templates'"),
    "not a mapping": ("- a\n- b\n", ":1: the pack must be a mapping"),
    "empty value": ("templates:\n  - task: ''\n", ":2: expected a non-empty text value"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_pack_names_file_and_line(tmp_path, case):
    text, expected = BROKEN[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(TaskPackError) as info:
        load_pack(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


def test_unknown_pack_name_lists_the_bundled_ones():
    with pytest.raises(TaskPackError, match="unknown task pack 'nope'.*pentest"):
        load_packs("nope")


def test_missing_pack_path():
    with pytest.raises(TaskPackError, match="no such task pack file"):
        load_packs("/nonexistent/pack.yaml")


def test_custom_pack_from_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(textwrap.dedent("""\
        name: mine
        slots: {host: [a.example, b.example]}
        examples: [{task: Say hi, command: echo hi}]
        templates:
          - task: Ping {host} once
            references: ["ping -c 1 {host}"]
    """))
    pack = load_packs(str(path))
    instance = pack.sample(1, random.Random(0))[0]
    assert instance.task in {"Ping a.example once", "Ping b.example once"}
    assert instance.references == (f"ping -c 1 {instance.task.split()[1]}",)
    assert instance.tool == "ping"
    assert slot_names("a {x} {{literal}} {y}") == ["x", "y"]


def test_sampling_is_the_same_in_every_process():
    """String hashing differs per process; sampling for a seed must not."""
    import subprocess
    import sys

    code = ("import random; from inversion_tui.tasks import load_packs; "
            "print([t.task for t in load_packs('pentest,shell').sample(30, random.Random(0))])")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": str(hash_seed), "PATH": ""}).stdout
        for hash_seed in (1, 2, 3)
    }
    assert len(outputs) == 1


def test_holdout_split_is_stable_and_disjoint():
    pack = load_packs("pentest,shell")
    training, heldout = pack.split(0.25)
    assert len(heldout.templates) == round(0.25 * len(pack.templates))
    assert not {t.id for t in training.templates} & {t.id for t in heldout.templates}
    assert len(training.templates) + len(heldout.templates) == len(pack.templates)
    again_training, again_heldout = load_packs("pentest,shell").split(0.25)  # same ids every time
    assert [t.id for t in again_heldout.templates] == [t.id for t in heldout.templates]
    assert training.examples == pack.examples  # prompts unchanged


def test_holdout_eval_tasks_come_only_from_held_out_templates():
    from inversion_tui.eval_sets import eval_sets_for
    from inversion_tui.settings import build_settings

    pack = load_packs("pentest,shell")
    training, heldout = pack.split(0.25)
    settings = build_settings(output="x", pack="pentest,shell", holdout=0.25, eval_suite="holdout", eval_limit=30)
    tasks = eval_sets_for(settings, heldout)["holdout"]
    assert len(tasks) == 30 and all(t.references for t in tasks)
    trained_tasks = {i.task for i in training.sample(2000, random.Random(0))}
    assert not {t.task for t in tasks} & trained_tasks
    assert eval_sets_for(settings, heldout)["holdout"] == tasks  # a fixed set: every cycle, every resume
    # each task carries its template, so intervals resample whole templates
    assert {t.group for t in tasks} <= {t.id for t in heldout.templates} and len({t.group for t in tasks}) > 1
