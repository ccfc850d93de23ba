"""--hints docs (issue 24, point 7): the manual's best-matching programs under each task in the
forward prompt, read from the real index with the real embedder."""

import json
import random

from typer.testing import CliRunner

from cli.main import app
from inversion_tui.docs.hints import HINT_HEADER, DocHints, typed_as
from inversion_tui.loop.generate import forward_messages, forward_prompt
from inversion_tui.tasks import load_packs


def test_hints_name_the_programs_whose_manual_lines_match_the_task(docs_index, real_backend):
    hints = DocHints(docs_index, real_backend.embed, k=3)
    counted, scanned = hints.programs_for(["Count the lines in data.csv", "Scan port 80 on 192.168.1.1"])
    assert "wc" in [name for name, _ in counted]
    assert "nmap" in [name for name, _ in scanned]
    assert len(counted) == 3 and all(line for _, line in counted)
    # one place per program: two names of one page never take two of the k places
    assert len({line for _, line in hints.entries}) == len(hints.entries)
    # a subcommand's page is named as a user types it, a program with a dash in its name is not split
    assert typed_as("git-blame", docs_index) == "git blame" and typed_as("apt-cache", docs_index) == "apt-cache"
    assert "git blame" in [name for name, _ in hints.entries]


def test_every_turn_of_a_hinted_prompt_carries_its_own_hints_and_no_reference(docs_index, real_backend):
    pack = load_packs("shell")
    hints = DocHints(docs_index, real_backend.embed, k=2)
    messages = forward_messages("Count the lines in data.csv", pack.examples[:2], hints)
    asked = [m["content"] for m in messages if m["role"] == "user"]
    assert len(asked) == 3 and all(HINT_HEADER in text for text in asked)
    assert asked[-1].startswith("Count the lines in data.csv\n") and "- wc: " in asked[-1]
    assert all(text.count("\n- ") == 2 for text in asked)  # k programs a task
    # the demonstrations' answers are unchanged; a plain prompt has no hints at all
    assert [m["content"] for m in messages if m["role"] == "assistant"] == [e.command for e in pack.examples[:2]]
    assert HINT_HEADER not in forward_prompt(real_backend, "Count the lines in data.csv", pack.examples[:2])
    for instance in pack.sample(5, random.Random(0)):
        prompt = forward_prompt(real_backend, instance.task, pack.examples[:2], hints)
        assert not any(reference in prompt for reference in instance.references)


def test_eval_with_hints_says_so_and_evaluates(docs_index, tmp_path):
    rows = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(app, ["eval", "--pack", "shell", "--limit", "2", "--hints", "docs", "--json",
                                      "--save-rows", str(rows), "--quant", "none"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["hints"] == "docs (3 programs a task)" and summary["n"] == 2
    assert len(rows.read_text().splitlines()) == 2
