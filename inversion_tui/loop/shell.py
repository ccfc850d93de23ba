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

ECHO_LIKE = {"echo", "printf", ":", "true", "false", "print"}
"""Programs whose arguments are free text they print (or ignore), not what they act on."""

CODE = re.compile(r"[{}$;=()<>|\\\[\]]")
"""Characters of code: a quoted string holding one (an awk or sed script) is not prose."""

PROSE = "<TEXT>"
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
"""A quoted string, either quote (no escapes inside: enough for reading, never for running)."""
_ECHO_ARGUMENTS = re.compile(r"(^|[|;&]\s*)(" + "|".join(re.escape(p) for p in sorted(ECHO_LIKE)) + r")\s+[^|;&\n]+")

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


def split_comment(command: str) -> tuple[str, str]:
    """(the command, its trailing comment): a comment starts a line or follows a space."""
    if command.lstrip().startswith("#"):
        return "", command
    body, sep, comment = command.partition(" #")
    return body, sep.strip() + comment


def blank_prose(command: str) -> str:
    """The command with its free text replaced by <TEXT>: the comment dropped, what echo-like
    programs print and quoted strings of more than one word that are not code. What the
    likelihood reviewer reads (likelihood.py), so a command cannot score by restating the
    task in prose, as Coder-Reviewer strips comments and blanks printed strings."""
    body, _ = split_comment(command)
    body = QUOTED.sub(lambda m: PROSE if " " in m.group().strip() and not CODE.search(m.group()) else m.group(), body)
    return _ECHO_ARGUMENTS.sub(lambda m: f"{m.group(1)}{m.group(2)} {PROSE}", body).strip()
