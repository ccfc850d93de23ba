"""One reading of a command line for the guards and the evaluation (they once disagreed)."""

import pytest

from inversion_tui.loop.metrics import judge
from inversion_tui.loop.guards import explain_flags
from inversion_tui.loop.shell import program_index, program_name, segments, words


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
