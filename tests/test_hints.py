"""--hints docs (issue 24, point 7): the manual's best-matching programs with each task in the
forward prompt, read from the real index with the real embedder."""

import json
import random

from typer.testing import CliRunner

from cli.main import app
from inversion_tui.manuals.hints import HINT_HEADER, DocHints, typed_as
from inversion_tui.loop.generate import forward_messages, forward_prompt
from inversion_tui.tasks import load_packs


def test_hints_name_the_programs_whose_manual_lines_match_the_task(docs_index, real_backend):
    hints = DocHints(docs_index, real_backend.embed, k=3)
    counted, scanned = hints.programs_for(["Count the lines in data.csv", "Scan port 80 on 192.168.1.1"])
    assert "wc" in [name for name, _ in counted]
    assert "nmap" in [name for name, _ in scanned]
    assert len(counted) == 3 and all(line for _, line in counted)
    # pages of one program under several names are one hint naming them all, the usual name first
    (listed,) = hints.programs_for(["List all files in the directory"])
    assert any(names.split(", ")[0] == "ls" for names, _ in listed)
    names_of = {line: names for names, line in hints.entries}
    assert names_of[docs_index.programs["grep"].description].startswith("grep, egrep")
    assert not any("OpenSSL application commands" == line for _, line in hints.entries)
    # a subcommand's page is named as a user types it, a program with a dash in its name is not split
    assert typed_as("git-blame") == "git blame" and typed_as("apt-cache") == "apt-cache"
    assert "git blame" in [name for name, _ in hints.entries]


def test_every_turn_of_a_hinted_prompt_carries_its_own_hints_and_no_reference(docs_index, real_backend):
    pack = load_packs("shell")
    hints = DocHints(docs_index, real_backend.embed, k=2)
    messages = forward_messages("Count the lines in data.csv", pack.examples[:2], hints)
    asked = [m["content"] for m in messages if m["role"] == "user"]
    assert len(asked) == 3 and all(HINT_HEADER in text for text in asked)
    # the hints on one line, as `whatis` prints them, then the task itself last
    hinted, task = asked[-1].split("\n")
    assert task == "Count the lines in data.csv" and hinted.startswith(HINT_HEADER) and "wc - print" in hinted
    for text, example in zip(asked, pack.examples[:2]):
        assert text.endswith("\n" + example.task)
    (own,) = hints.programs_for(["Count the lines in data.csv"])
    assert len(own) == 2 and all(f"{names} - {line}" in hinted for names, line in own)  # k hints a task
    # the demonstrations' answers are unchanged; a plain prompt has no hints at all
    assert [m["content"] for m in messages if m["role"] == "assistant"] == [e.command for e in pack.examples[:2]]
    assert HINT_HEADER not in forward_prompt(real_backend, "Count the lines in data.csv", pack.examples[:2])
    for instance in pack.sample(5, random.Random(0)):  # the user turns: the demonstrations' answers are commands
        asked = [m["content"] for m in forward_messages(instance.task, pack.examples[:2], hints) if m["role"] == "user"]
        assert not any(reference in text for reference in instance.references for text in asked)


def test_eval_with_hints_says_so_and_evaluates(docs_index, tmp_path):
    rows = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(app, ["eval", "--pack", "shell", "--limit", "2", "--hints", "docs", "--json",
                                      "--save-rows", str(rows), "--quant", "none"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["hints"].startswith("docs (3 a task; index ") and summary["n"] == 2
    assert [json.loads(line)["hints"] for line in rows.read_text().splitlines()] == ["docs", "docs"]


def test_hints_without_an_index_are_refused_before_the_model_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("INVERSION_TUI_CACHE_DIR", str(tmp_path))  # an empty cache: no index built there
    result = CliRunner().invoke(app, ["eval", "--pack", "shell", "--limit", "2", "--hints", "docs",
                                      "--model", "no-such-model"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: --hints docs: no documentation index at {tmp_path}/docs/index.json; "
                                     "build it with `make setup` (or `inversion-tui docs --build`)")
