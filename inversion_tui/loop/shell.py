"""Reading a shell command line as text: its words, its simple commands, and the program each
runs. Commands are never executed; this only parses.

One home for it: the guards (is this a command or prose?) and the evaluation (is it the
reference's program?) once each had their own, and disagreed: `nice -n 10 tar czf a.tgz dir`
was `tar` to one and `10` or `nice` to the others.
"""

from __future__ import annotations

import re
import shlex

OPERATORS = ("&&", "||", ";", "|", "\n")
"""What separates the simple commands of a line (outside quotes, not escaped)."""

WRAPPERS: dict[str, frozenset[str]] = {
    # wrapper: its options that take an argument (the option's value is not the program)
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "time": frozenset({"-o", "--output", "-f", "--format"}),
    "nohup": frozenset(),
    "command": frozenset(),
    "exec": frozenset({"-a"}),
}
"""Programs that run the program after them: that one is what the command runs."""

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")  # VAR=value before the program


def words(text: str) -> list[str]:
    """The shell words of a command line (quotes removed); whitespace split if it does not
    parse (an unbalanced quote, common in a model's output)."""
    try:
        return shlex.split(text, comments=False)
    except ValueError:
        return text.split()


def segments(command: str) -> list[str]:
    """The simple commands of a command line: split at &&, ||, ;, | and newlines outside quotes
    and not escaped (`-exec rm {} \\;` keeps its `;`)."""
    parts, current, quote, i = [], [], "", 0
    while i < len(command):
        char = command[i]
        if char == "\\" and quote != "'" and i + 1 < len(command):
            current.append(command[i : i + 2])
            i += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            operator = next((op for op in OPERATORS if command.startswith(op, i)), None)
            if operator:
                parts.append("".join(current))
                current = []
                i += len(operator)
                continue
        current.append(char)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def program_index(tokens: list[str]) -> int:
    """Index of the word that names the program, past wrappers with their options (sudo -u
    root, nice -n 10, env -i) and VAR=value assignments; len(tokens) when there is none."""
    i, wrapper = 0, None
    while i < len(tokens):
        token = tokens[i]
        if wrapper is not None and token.startswith("-"):  # the wrapper's own option
            i += 2 if token in WRAPPERS[wrapper] else 1
            continue
        if token in WRAPPERS:
            wrapper = token
        elif not _ASSIGNMENT.match(token):
            return i
        i += 1
    return len(tokens)


def program_name(command: str) -> str:
    """The program the command line's first simple command runs, without its path; "" if none."""
    tokens = words(command)
    index = program_index(tokens)
    return tokens[index].rsplit("/", 1)[-1] if index < len(tokens) else ""
