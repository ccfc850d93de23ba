import json
import random

import pytest

from inversion_tui.errors import TaskPackError
from inversion_tui.loop.metrics import (
    PairedDifference, auroc, bootstrap_ci, clusters_of, exact_match, judge, paired_difference, summarize, token_f1,
)
from inversion_tui.eval_sets import load_intercode, load_tasks_file


def test_token_f1():
    assert token_f1("ls -la /tmp", "ls -la /tmp") == 1.0
    assert token_f1("ls /tmp", "ls -la /tmp") == pytest.approx(2 * (1.0 * 2 / 3) / (1.0 + 2 / 3))
    assert token_f1("pwd", "ls") == 0.0
    assert token_f1("grep 'a b' f", 'grep "a b" f') == 1.0  # quoting does not matter
    assert token_f1("ls|wc -l", "ls | wc -l") == 1.0  # one parser: shlex made `ls|wc` one token


def test_a_command_is_one_thing_to_every_reader(tmp_path):
    """The metrics, the selector's duplicates and a pack's tool read a command through the parser."""
    from types import SimpleNamespace

    from inversion_tui.loop.select import Selector
    from inversion_tui.tasks import load_pack

    twice = [SimpleNamespace(task="t", command=c, score=0.9, flags=()) for c in ("ls -la", "ls  -al")]
    assert Selector(0.4).decide(twice) == [None, "duplicate of an accepted candidate"]
    pack = tmp_path / "p.yaml"
    pack.write_text("name: p\ndescription: d\ntemplates:\n  - id: syn\n    task: SYN scan 10.0.0.1\n"
                    "    references: [\"sudo nmap -sS 10.0.0.1\"]\n")
    assert [t.tool for t in load_pack(pack).templates] == ["nmap"]  # the first word was `sudo`


@pytest.mark.parametrize("a,b,equal", [
    ("ls -la /tmp", "ls  -al   /tmp", True),  # whitespace and clustered flag order
    ("ls -l -a /tmp", "ls -al /tmp", True),
    ("grep -r 'error' /var/log", 'grep -r error /var/log', True),  # quoting
    ("tar -czf a.tgz d", "tar -zcf a.tgz d", False),  # -f takes an argument: order kept
    ("head -n 5 f", "head -5 f", False),
    ("ls /tmp | wc -l", "ls /tmp | wc -l", True),
    ("ls /tmp | wc -l", "ls /tmp ; wc -l", False),
    ("rm -rf /tmp/x", "rm -fr /tmp/x", True),
    # one parser: operators and redirections read alike however they are spaced
    ("ls|wc -l", "ls | wc -l", True),
    ("ls 2>/dev/null", "ls 2> /dev/null", True),
    ("cat a>b", "cat a > b", True),
    ("sudo ls -la", "sudo ls -al", True),  # the program past sudo is the one whose flags may reorder
    ("ls\nwc", "ls wc", False),  # two statements are not one command with an argument
    ("ls # list", "ls", True),  # a comment is not part of what the command does
])
def test_normalized_exact_match(a, b, equal):
    assert exact_match(a, b) is equal


def test_judge_takes_the_best_reference():
    j = judge("ls -a", ["ls", "ls -a"])
    assert j.utility and j.exact and j.token_f1 == 1.0
    j = judge("find . -name x", ["ls", "ls -a"])
    assert not j.utility and not j.exact and j.token_f1 == 0.0


def test_auroc():
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5  # a tie counts half
    assert auroc([0.5, 0.6], [True, True]) is None  # no wrong output: undefined


def test_bootstrap_ci_brackets_the_mean_and_is_seeded():
    values = [1.0] * 30 + [0.0] * 70
    low, high = bootstrap_ci(values)
    assert low < 0.3 < high and 0.15 < low and high < 0.45
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)


def test_bootstrap_without_groups_is_the_per_task_bootstrap():
    values = [float(i % 3 == 0) for i in range(50)]
    rng = random.Random(0)
    means = sorted(sum(values[rng.randrange(50)] for _ in range(50)) / 50 for _ in range(2000))
    assert bootstrap_ci(values) == (means[int(0.025 * 1999)], means[int(0.975 * 1999)])
    assert bootstrap_ci(values, [""] * 50) == bootstrap_ci(values)
    assert bootstrap_ci(values, [f"g{i}" for i in range(50)]) == bootstrap_ci(values)  # groups of one


def test_grouped_tasks_are_resampled_whole_and_widen_the_interval():
    # 100 tasks from 10 templates; a template is right for all its tasks or none: 10 observations
    values = [float(t < 3) for t in range(10) for _ in range(10)]
    groups = [f"template-{t}" for t in range(10) for _ in range(10)]
    per_task, clustered = bootstrap_ci(values), bootstrap_ci(values, groups)
    assert clustered[0] <= 0.3 <= clustered[1]
    assert (clustered[1] - clustered[0]) > 2 * (per_task[1] - per_task[0])
    assert clusters_of(["a", "", "a", "b"], 4) == [[0, 2], [1], [3]]  # an ungrouped task stands alone
    summary = summarize([judge("ls" if v else "pwd", ["ls"]) for v in values], [0.5] * 100, groups)
    assert summary["groups"] == 10 and summary["ci95"]["utility_accuracy"] == list(clustered)
    assert "groups" not in summarize([judge("ls", ["ls"])], [0.5])
    # paired: one template flips to right (+10 tasks); the change is one template's, not 10 tasks'
    base = [{"index": i, "task": f"t{i}", "group": g, "utility": False, "exact": False, "token_f1": 0.0}
            for i, g in enumerate(groups)]
    later = [{**r, "utility": r["group"] == "template-0"} for r in base]
    grouped = paired_difference(base, later)
    ungrouped = paired_difference([{k: v for k, v in r.items() if k != "group"} for r in base],
                                  [{k: v for k, v in r.items() if k != "group"} for r in later])
    assert grouped.groups == 10 and ungrouped.groups is None and "groups" not in ungrouped.to_json()
    assert grouped.delta == ungrouped.delta and grouped.delta["utility_accuracy"] == pytest.approx(0.1)
    assert grouped.ci95["utility_accuracy"][0] == 0.0  # no template flipped, in some resamples
    assert ungrouped.ci95["utility_accuracy"][0] > 0.0  # the per-task bootstrap is overconfident


def test_summarize_has_the_documented_keys():
    summary = summarize([judge("ls", ["ls"]), judge("pwd", ["ls"])], [0.9, 0.1])
    assert summary["n"] == 2 and summary["utility_accuracy"] == 0.5 and summary["auroc"] == 1.0
    assert set(summary["ci95"]) == {"utility_accuracy", "exact_match", "token_f1"}
    assert all(len(pair) == 2 and pair[0] <= pair[1] for pair in summary["ci95"].values())


def test_intercode_suite_is_300_tasks_with_two_references():
    tasks = load_intercode()
    assert len(tasks) == 300
    assert sum(len(t.references) == 2 for t in tasks) >= 290
    assert tasks[0].task and tasks[0].references[0]


@pytest.mark.parametrize("text,expected", [
    ('{"task": "a", "references": ["ls"]}\nnot json\n', ":2: not JSON"),
    ('{"task": "", "references": ["ls"]}\n', ":1: 'task' must be a non-empty string"),
    ('{"task": "a", "references": []}\n', ":1: 'references' must be a non-empty list"),
    ('["a"]\n', ":1: expected an object"),
    ("\n\n", ": no tasks"),
])
def test_tasks_file_errors_name_file_and_line(tmp_path, text, expected):
    path = tmp_path / "tasks.jsonl"
    path.write_text(text)
    with pytest.raises(TaskPackError) as info:
        load_tasks_file(path)
    assert str(info.value).startswith(str(path)) and expected in str(info.value)


def test_tasks_file_ignores_extra_fields(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"task": "list files", "references": ["ls"], "source": "x"}) + "\n")
    [task] = load_tasks_file(path)
    assert task.task == "list files" and task.references == ("ls",)


# ---------------------------------------------------------------- the eval command

from typer.testing import CliRunner  # noqa: E402

from cli.main import app  # noqa: E402


def invoke(*args):
    return CliRunner().invoke(app, ["eval", *args])


@pytest.mark.parametrize("args,expected", [
    ([], "give exactly one task source: --tasks-file, --suite or --pack (with --adapter too)"),
    (["--suite", "intercode", "--pack", "shell"], "give exactly one task source"),
    (["--suite", "nope"], "unknown suite"),
    (["--suite", "intercode", "--limit", "0"], "--limit must be at least 1"),
    (["--suite", "intercode", "--adapter", "/nonexistent"], "neither a LoRA checkpoint"),
    (["--suite", "intercode", "--hints-k", "5"], "--hints-k needs --hints docs"),
    (["--suite", "intercode", "--hints", "man"], "--hints: Input should be 'none' or 'docs'"),
])
def test_bad_eval_input_is_one_line_and_exit_2(args, expected):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and expected in result.stderr


def test_eval_rows_files_are_checked_before_the_model_loads(tmp_path):
    existing = tmp_path / "rows.jsonl"
    existing.write_text("")
    result = invoke("--suite", "intercode", "--save-rows", str(existing))
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = invoke("--suite", "intercode", "--save-rows", str(tmp_path / "no" / "rows.jsonl"))
    assert result.exit_code == 2 and "no such directory" in result.stderr
    existing.write_text('{"index": 0, "task": "x"}\n')
    result = invoke("--suite", "intercode", "--paired-with", str(existing))
    assert result.exit_code == 2 and f"{existing}:1: not an evaluation row (no 'utility'" in result.stderr
    existing.write_text('{"index": 0, "task": "not an intercode task", "utility": 1, "token_f1": 1, "exact": 1}\n')
    result = invoke("--suite", "intercode", "--paired-with", str(existing))
    assert result.exit_code == 2 and "none of its rows are these tasks" in result.stderr


def test_paired_difference_compares_each_task_with_itself():
    def rows(utility, f1):
        return [{"index": i, "task": f"t{i}", "utility": u, "exact": False, "token_f1": f}
                for i, (u, f) in enumerate(zip(utility, f1))]

    # every task improves F1 by 0.1: unpaired intervals would overlap, the paired one excludes 0
    spread = [i / 40 for i in range(40)]
    base, later = rows([False] * 40, spread), rows([False] * 40, [f + 0.1 for f in spread])
    paired = paired_difference(base, later)
    assert paired.n == 40 and paired.delta["token_f1"] == pytest.approx(0.1)
    low, high = paired.ci95["token_f1"]
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)
    assert bootstrap_ci(spread)[1] > bootstrap_ci([f + 0.1 for f in spread])[0]  # the unpaired CIs overlap
    # gains and losses of the right program are counted; unmatched tasks are left out
    base = rows([True, False, False, True], [1, 0, 0, 1])
    later = rows([False, True, True, True], [0, 1, 1, 1]) + [{"index": 9, "task": "t9", "utility": True,
                                                               "exact": True, "token_f1": 1.0}]
    paired = paired_difference(base, later)
    assert (paired.n, paired.gained, paired.lost) == (4, 2, 1)
    assert paired.delta["utility_accuracy"] == pytest.approx(0.25)
    low, high = paired.ci95["utility_accuracy"]
    assert low < 0.25 < high
    assert paired_difference(base, []).n == 0
    # one text for every report, and the record as progress.json and `eval --json` keep it
    assert paired.describe() == f"+0.250 [{low:+.3f}, {high:+.3f}]"
    assert PairedDifference.from_json(paired.to_json()) == paired
    assert list(paired.to_json()) == ["n", "delta", "ci95", "gained", "lost"]


def test_bad_tasks_file_is_file_and_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"task": "a", "references": ["ls"]}\n{"task": 3}\n')
    result = invoke("--tasks-file", str(path))
    assert result.exit_code == 2 and f"{path}:2: 'task' must be a non-empty string" in result.stderr


def test_a_tasks_file_may_group_its_tasks(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"task": "a", "references": ["ls"], "group": "list"}\n{"task": "b", "references": ["ls"]}\n')
    assert [t.group for t in load_tasks_file(path)] == ["list", ""]
    path.write_text('{"task": "a", "references": ["ls"], "group": 7}\n')
    result = invoke("--tasks-file", str(path))
    assert result.exit_code == 2 and f"{path}:1: 'group' must be a string" in result.stderr


def test_eval_json_on_the_real_model_and_an_untrained_adapter_changes_nothing(tmp_path):
    from inversion_tui.hf.backend import HFBackend
    from inversion_tui.settings import build_settings

    base = invoke("--suite", "intercode", "--limit", "6", "--json", "--max-new-tokens", "16",
                  "--save-rows", str(tmp_path / "base.jsonl"))
    assert base.exit_code == 0, base.output
    summary = json.loads(base.stdout)
    assert summary["n"] == 6
    for name in ("utility_accuracy", "exact_match", "token_f1"):
        assert 0.0 <= summary[name] <= 1.0
        low, high = summary["ci95"][name]
        assert low <= summary[name] <= high
    assert summary["auroc"] is None or 0.0 <= summary["auroc"] <= 1.0

    HFBackend.load(build_settings(output=tmp_path)).save_adapter(tmp_path / "fresh")  # LoRA B = 0
    adapted = invoke("--suite", "intercode", "--limit", "6", "--json", "--max-new-tokens", "16",
                     "--adapter", str(tmp_path / "fresh"), "--paired-with", str(tmp_path / "base.jsonl"))
    assert adapted.exit_code == 0, adapted.output
    with_adapter = json.loads(adapted.stdout)
    for name in ("utility_accuracy", "exact_match", "token_f1", "mean_score"):
        assert with_adapter[name] == summary[name]
    # task by task, nothing changed: every paired difference is exactly zero
    paired = with_adapter["paired"]
    assert paired["n"] == 6 and paired["gained"] == paired["lost"] == 0
    assert all(paired["delta"][m] == 0.0 and paired["ci95"][m] == [0.0, 0.0] for m in paired["delta"])
    rows = [json.loads(line) for line in (tmp_path / "base.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(6)) and all(r["command"] is not None for r in rows)
    assert sum(r["utility"] for r in rows) / 6 == summary["utility_accuracy"]


def test_the_change_between_two_passes_comes_with_its_noise():
    """Issue 26: a cycle that trained nothing showed a change of +0.062, two samples of tasks
    apart; the interval over tasks says how much of that is noise."""
    from inversion_tui.loop.metrics import describe_change as change_text
    from inversion_tui.loop.metrics import unpaired_difference_ci

    same = [0.2, 0.4, 0.3, 0.5, 0.1, 0.35, 0.25, 0.45]
    low, high = unpaired_difference_ci(same, [v + 0.03 for v in same])
    assert low < 0 < high  # a small shift on 8 tasks is within the noise
    # Tasks of one template score alike: two templates are nearer 2 observations than 8.
    alike, templates = [0.1, 0.12, 0.1, 0.11, 0.5, 0.52, 0.5, 0.51], ["a"] * 4 + ["b"] * 4
    per_task = unpaired_difference_ci(alike, alike)
    grouped = unpaired_difference_ci(alike, alike, templates, templates)
    assert grouped[1] - grouped[0] > 1.5 * (per_task[1] - per_task[0])
    low, high = unpaired_difference_ci(same, [v + 0.5 for v in same])
    assert 0.35 < low < 0.5 < high < 0.65
    assert unpaired_difference_ci([0.3], same) is None
    assert change_text(0.062, [-0.04, 0.16]) == "+0.06 [-0.04,+0.16]"
    assert change_text(0.062, None) == "+0.06"  # a run saved before the interval
