"""One reading of a command line for the guards and the evaluation (they once disagreed)."""

import pytest

from inversion_tui.loop.metrics import judge
from inversion_tui.loop.guards import explain_flags
from inversion_tui.shell import parse, program_index, program_name, segments, words


@pytest.mark.parametrize("command,program", [
    ("nmap -p 80 10.0.0.1", "nmap"),
    ("sudo nmap -sS 10.0.0.1", "nmap"),
    ("sudo -u root /usr/bin/find / -name x", "find"),
    ("du -sh * | sort -h", "du"),
    ("", ""),
    ("echo 'unbalanced", "echo"),
    ("nice -n 10 tar czf a.tgz dir", "tar"),
    ("nice -10 tar czf a.tgz dir", "tar"),
    ("sudo -u root nice -n 5 /usr/bin/find / -name x", "find"),
    ("env -i PATH=/bin ls", "ls"),
    ("time -p make", "make"),
    ("nohup python3 serve.py &", "python3"),
    ("LC_ALL=C sort file", "sort"),
    ("sudo", ""),
])
def test_program_past_wrappers_their_options_and_assignments(command, program):
    assert program_name(command) == program


def test_the_evaluation_and_the_guards_read_the_same_program():
    # the evaluation: nice ... tar is the reference's program
    assert judge("nice -n 10 tar czf a.tgz dir", ["tar czf a.tgz dir"]).utility
    # the guards: the program after the wrapper is what is checked for prose
    assert [f.name for f in explain_flags("Print the first lines", "nice -n 10 print the first lines")] \
        == [f.name for f in explain_flags("Print the first lines", "print the first lines")]
    tokens = words("nice -n 10 tar czf a.tgz dir")
    assert tokens[program_index(tokens)] == "tar"


def test_segments_split_at_operators_outside_quotes():
    assert segments("find . -exec rm {} \\; && echo 'a|b' | wc -l") == [
        "find . -exec rm {} \\;", "echo 'a|b'", "wc -l"]


def test_one_reading_of_free_text_for_the_guards_and_the_reviewer():
    from inversion_tui.loop.guards import prose_of
    from inversion_tui.shell import blank_prose
    command = 'echo "stop; then scan the host now"'
    # the `;` inside the quotes is text: the whole printed string is free text to both
    assert prose_of(command) == "stop; then scan the host now"
    assert blank_prose(command) == "echo <TEXT>"


def test_a_hash_inside_quotes_or_a_word_is_not_a_comment():
    # (split_comment, which cut `grep " #" notes.txt` inside its quotes, is gone: free_text reads comments)
    from inversion_tui.shell import blank_prose, free_text
    assert free_text('grep " #" notes.txt') == [] and blank_prose('grep " #" notes.txt') == 'grep " #" notes.txt'
    assert free_text("nmap -p 80 10.0.0.1 # scan it") == [(20, 29, "scan it")]
    assert blank_prose("nmap -p 80 10.0.0.1 # scan it") == "nmap -p 80 10.0.0.1"
    assert free_text("ls a#b") == []


def test_deep_nesting_odd_characters_and_a_trailing_backslash():
    from inversion_tui.shell import blank_prose, parse
    parse("echo $(" * 300)  # a model's runaway output: no RecursionError
    parse('echo "' + "$(" * 600 + '"')
    assert blank_prose('a\ud800b c "x y"') == "a\ud800b c <TEXT>"  # a lone surrogate moves no offset
    assert blank_prose('café "un deux" ok') == "café <TEXT> ok"
    (ls,) = parse("ls \\").commands  # no quote is added to close what was never opened
    assert ls.program == "ls" and ls.arguments == ()


@pytest.mark.parametrize("command,programs", [
    ("x=$(dig +short a.com | sort) ; ls", ["dig", "sort", "ls"]),
    ("sudo tar -xzf a.tgz && gzip -d b.gz | wc -l", ["tar", "gzip", "wc"]),
    ("for f in *.txt; do wc -l $f; done", ["wc"]),
    ("LC_ALL=C sort file > out 2>&1", ["sort"]),
])
def test_programs_of_every_simple_command(command, programs):
    from inversion_tui.shell import parse
    assert parse(command).programs == programs


def test_options_and_quoted_words_as_parsed():
    from inversion_tui.shell import parse
    (tar,) = parse("sudo -u root tar -xzf 'my archive.tgz' -C \"$HOME\"").commands
    assert tar.program == "tar"
    assert [w.text for w in tar.arguments] == ["-xzf", "my archive.tgz", "-C", "$HOME"]
    assert [w.is_option for w in tar.arguments] == [True, False, True, False]


def test_what_does_not_parse_is_kept_and_marked():
    from inversion_tui.shell import parse
    closed = parse("echo 'unbalanced")
    assert not closed.complete and closed.programs == ["echo"]  # read as if closed; not valid as written
    assert [w.text for w in closed.commands[0].arguments] == ["unbalanced"]
    junk = parse("{% x %} ) (")
    assert not junk.complete and junk.commands


def test_placeholders_read_a_commands_quotes_as_the_shell_does():
    from inversion_tui.loop.literals import typed_placeholders
    # escaped quotes inside a string: a regular expression cut it in three
    command = 'echo "say \\"hi\\" now" > out.txt'
    assert typed_placeholders(command) == "echo <STRING>hi\\<STRING> > <FILE>"
    assert typed_placeholders(command, command=True) == "echo <STRING> > <FILE>"
    assert typed_placeholders("nmap -p 80 10.0.0.1", command=True) == "nmap -p <NUMBER> <IP>"


@pytest.mark.parametrize("command", ["=|", "|", "&& ls", "$("])
def test_error_recovery_invents_no_empty_word(command):
    from inversion_tui.shell import parse
    assert all(w.raw for c in parse(command).commands for w in c.words)
    explain_flags("a task", command)  # and the guards read it without crashing


def test_characters_past_the_basic_plane_never_crash_the_parser():
    """tree-sitter-bash's scanner read out of bounds on `{` followed by some characters outside
    the Basic Multilingual Plane and crashed the whole process, at random (found by test_fuzz,
    a segmentation fault). Run in a child process: a crash here would take pytest with it."""
    import subprocess
    import sys

    script = ("from inversion_tui.shell import parse\n"
              "for text in ['{\\U000f1561', '{\\U000e0001', '{\\U0010ffff', '{\\U00080000', 'a {\\ud800}']:\n"
              "    for _ in range(5000):\n"
              "        parse.cache_clear(); parse(text)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-500:]
    words = [w.text for w in parse("ls {\U000e0001} x\U0001F600").commands[0].words]
    assert words == ["ls", "{\U000e0001}", "x\U0001F600"]  # the words are the text's own
