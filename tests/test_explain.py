"""A command explained from the manual, with the index `make setup` built: programs through
sudo, pipelines and &&; options split as the program reads them; what no page documents."""

import json

from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from cli.main import app
from inversion_tui.manuals.explain import explain
from inversion_tui.manual_view import render
from inversion_tui.loop.components import REGISTRY
from inversion_tui.loop.score import ScoringContext


def test_a_pipeline_through_sudo_with_quoted_text(docs_index):
    explanation = explain('sudo tar -xzf "my archive.tgz" -C /tmp | grep -c " #" && wc -l data.csv', docs_index)
    assert explanation.parsed
    assert [p.program for p in explanation.programs] == ["tar", "grep", "wc"]
    tar = explanation.programs[0]
    assert tar.documented and "archiv" in tar.description
    assert [(o.option, o.documented, o.takes_argument) for o in tar.options] == [
        ("-x", True, False), ("-z", True, False), ("-f", True, True), ("-C", True, True)]
    assert all(o.description for o in tar.options)


def test_an_unknown_program_and_a_program_without_options(docs_index):
    unknown, pwd = explain("count -l data.csv; pwd", docs_index).programs
    assert (unknown.program, unknown.documented, unknown.description) == ("count", False, None)
    assert [(o.option, o.documented) for o in unknown.options] == [("-l", False)]
    assert unknown.reason == "count: no manual page"
    assert pwd.documented and pwd.options == []
    text = render(explain("count -l data.csv; pwd", docs_index)).plain
    assert "count: no manual page" in text and "pwd  print name of current/working directory" in text


def test_an_option_its_page_does_not_know(docs_index):
    [ls] = explain("ls --frobnicate", docs_index).programs
    assert ls.documented and [(o.option, o.documented) for o in ls.options] == [("--frobnicate", False)]
    assert ls.reason == "ls: --frobnicate not in its page"


def test_single_dash_words_are_read_as_the_program_reads_them(docs_index):
    """find takes single-dash words: `-name` and `-newer` are find's options, `-nmae` one misspelt
    option, not -n -m -a -e (a letter that happens to be documented must not explain it)."""
    [find] = explain('find . -name "*.c" -newer x', docs_index).programs
    assert [(o.option, o.documented) for o in find.options] == [("-name", True), ("-newer", True)]
    assert all(o.description for o in find.options)
    [find] = explain('find . -nmae "*.c"', docs_index).programs
    assert [(o.option, o.documented) for o in find.options] == [("-nmae", False)]
    assert find.reason == "find: -nmae not in its page"
    [find] = explain("find . -include x", docs_index).programs
    assert [o.option for o in find.options] == ["-include"]


def test_bundles_of_documented_letters_still_split(docs_index):
    for command, letters in [("tar -xzvf a.tgz", ["-x", "-z", "-v", "-f"]), ("grep -rn x .", ["-r", "-n"]),
                             ("curl -sSL http://x", ["-s", "-S", "-L"]), ("ps -ef", ["-e", "-f"]),
                             ("tcpdump -nnvv", ["-n", "-n", "-v", "-v"]), ("nmap -p80 host", ["-p"])]:
        [program] = explain(command, docs_index).programs
        assert [o.option for o in program.options] == letters, command
        assert all(o.documented for o in program.options), command


def test_a_bundle_with_one_undocumented_letter_is_one_option(docs_index):
    [ls] = explain("ls -lQz", docs_index).programs
    assert [(o.option, o.documented) for o in ls.options] == [("-lQz", False)]


def test_subcommands(docs_index):
    [git] = explain('git commit -am "fix"', docs_index).programs
    assert git.subcommand == "commit" and git.subcommand_description
    assert [o.option for o in git.options] == ["-a", "-m"] and all(o.documented for o in git.options)
    [ip] = explain("ip a show dev eth0", docs_index).programs
    assert ip.subcommand == "address"


def _documented(command, docs):
    context = ScoringContext(commands=[command], tasks=["Count the lines of data.csv"], docs=docs)
    return REGISTRY["documented"].score(["Count the lines of data.csv"], [""], context)[0]


def test_documented_tells_an_invented_program(docs_index):
    assert _documented("count -l data.csv", docs_index) == 0.0
    assert _documented("wc -l data.csv", docs_index) == 1.0
    assert _documented("cat data.csv | count -l", docs_index) == 0.5


def test_the_doc_components_with_an_embedder(docs_index, fake_backend):
    tasks = ["Count the lines of data.csv", "Count the lines of data.csv", "List files"]
    commands = ["wc -l data.csv", "count data.csv", "ls"]
    context = ScoringContext(backend=fake_backend, commands=commands, tasks=tasks, docs=docs_index)
    doc = REGISTRY["doc"].score(tasks, [""] * 3, context)
    options = REGISTRY["doc_options"].score(tasks, [""] * 3, context)
    known = REGISTRY["options_known"].score(tasks, [""] * 3, context)
    assert 0.0 <= doc[0] <= 1.0 and doc[1] == 0.0  # an undocumented program counts 0
    assert options[0] is not None and options[1] is None and options[2] is None  # None without options
    assert known == [1.0, None, None]


def test_without_an_index_the_components_cannot_judge(monkeypatch, fake_backend):
    from inversion_tui.loop import doc_scores

    monkeypatch.setattr(doc_scores, "default_docs", lambda: None)
    context = ScoringContext(backend=fake_backend, commands=["wc -l x"], tasks=["Count lines"])
    for name in ("documented", "doc", "doc_options", "options_known"):
        assert REGISTRY[name].score(["Count lines"], [""], context) == [None]


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["", " ", "'", '"', "echo 'unbalanced", 'grep "a', "a" * 10_000, "ls -" + "x" * 9_000,
                     "$(", "`", "\\", "\x00\x01", "cat <<EOF", "{% x %} ) ("]),
))
def test_any_text_is_explained_or_marked_unparseable(docs_index, command):
    explanation = explain(command, docs_index)
    assert isinstance(explanation.parsed, bool)
    json.dumps(explanation.to_json())
    assert "\x1b" not in render(explanation).plain  # control characters are written out, never sent


runner = CliRunner()


def test_explain_json_on_the_command_line(docs_index):
    result = runner.invoke(app, ["explain", "--json", "sudo tar -xzf a.tgz | count -l"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["program"] for p in data["programs"]] == ["tar", "count"]
    assert set(data["programs"][0]) >= {"program", "documented", "description", "source", "options"}
    assert data["programs"][0]["options"][0] == {
        "option": "-x", "documented": True, "description": data["programs"][0]["options"][0]["description"],
        "takes_argument": False}
    assert data["programs"][1]["documented"] is False


def test_an_unterminated_quote_is_not_valid_shell(docs_index):
    result = runner.invoke(app, ["explain", "--json", 'echo "unterminated'])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["parsed"] is False and [p["program"] for p in data["programs"]] == ["echo"]
    assert json.loads(runner.invoke(app, ["explain", "--json", 'echo "terminated"']).stdout)["parsed"] is True


def test_piped_explain_keeps_each_line_whole(docs_index):
    """Issue 34: piped, `explain` broke its lines at 80 columns mid-sentence."""
    command = "find . -newer x -name '*.c' -printf '%p'"
    options = json.loads(runner.invoke(app, ["explain", "--json", command]).stdout)["programs"][0]["options"]
    long = max((o for o in options if o["documented"]), key=lambda o: len(o["description"]))
    assert len(long["description"]) > 80  # else the test shows nothing
    result = runner.invoke(app, ["explain", command])  # CliRunner's output is not a terminal
    assert result.exit_code == 0, result.output
    assert any(line.lstrip().startswith(long["option"]) and line.rstrip().endswith(long["description"])
               for line in result.stdout.splitlines())


def test_explain_without_an_index_is_one_line(tmp_path):
    result = runner.invoke(app, ["explain", "ls", "--index", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().startswith("error: no documentation index at ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_docs_coverage_on_the_command_line(docs_index):
    result = runner.invoke(app, ["docs", "--coverage"])
    assert result.exit_code == 0, result.output
    assert "documentation index:" in result.stdout
    assert "cheat-basics' programs: 57 of 57 programs documented" in result.stdout


def test_a_run_records_the_index_it_judged_with(docs_index, monkeypatch, fake_backend):
    from inversion_tui.backends import load_backend
    from inversion_tui.hf.backend import HFBackend
    from inversion_tui.settings import build_settings

    fake_backend.description = dict(fake_backend.description)  # not the class's shared dict
    monkeypatch.setattr(HFBackend, "load", classmethod(lambda cls, settings, log: fake_backend))
    backend = load_backend(build_settings(output="unused"))
    assert backend.description["docs_index"] == docs_index.description
    assert docs_index.provenance["fingerprint"] in backend.description["docs_index"]
