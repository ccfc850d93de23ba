"""Literals: the IPs, ports, paths, URLs and file names a task names and a command repeats.

The inverse model copies them from the command into its reconstruction, so they match the
task whether or not the command does what was asked. Token overlap and difflib reward that
copying; masking the literals on both sides leaves them the words that say *what* is done.
"""

from __future__ import annotations

import re

from inversion_tui.shell import blank_quoted

MASK = "#"
"""What a literal becomes: one character, so difflib keeps the sentence's shape, and not a
word character, so token overlap ignores it."""

# Order matters: a URL contains a host and a path, an IP with a port contains numbers.
# Each pattern with the typed placeholder it becomes under --placeholders.
_TYPED = [
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I), "<URL>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<ADDRESS>"),  # user@host, e-mail
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d+)?\b"), "<IP>"),  # IPv4, CIDR, ip:port
    (re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w.*?\-/]*"), "<PATH>"),
    (re.compile(r"\*?\b[\w-]+(?:\.[\w-]+)+\b"), "<FILE>"),  # file and host names: report.txt, example.org
    (re.compile(r"\b\d+(?:\.\d+)?[kmgtKMGT%]?\b"), "<NUMBER>"),  # numbers, ports, sizes (10M), percentages
]
_LITERALS = [pattern for pattern, _ in _TYPED]

QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
"""A quoted phrase of a text (a task's or a command's, read as text: a task is no shell)."""


def mask_literals(text: str) -> str:
    for pattern in _LITERALS:
        text = pattern.sub(MASK, text)
    return text


def find_literals(text: str) -> list[str]:
    """The literals of a text, in the order they are masked (for display)."""
    found = []
    for pattern in _LITERALS:
        found.extend(pattern.findall(text))
        text = pattern.sub(MASK, text)
    return found


def typed_placeholders(text: str, command: bool = False) -> str:
    """Literals replaced by their type (`nmap -p 80 10.0.0.1` -> `nmap -p <NUMBER> <IP>`), and
    quoted strings by <STRING>: what the inverter reads under --placeholders, and the task it
    is compared with, so a reconstruction cannot score by copying literals (the bash analogue
    of Coder-Reviewer's blanked strings, ../shared/RESEARCH.md). A command's quoted strings are
    the shell parser's; a task's, the quoted phrases of a sentence."""
    text = blank_quoted(text, "<STRING>") if command else QUOTED.sub("<STRING>", text)
    for pattern, placeholder in _TYPED:
        text = pattern.sub(placeholder, text)
    return text


def as_read(text: str, placeholders: bool, command: bool = False) -> str:
    """What the inverter reads of a command (`command`), and what a task is judged as: the text
    itself, or with --placeholders its typed placeholders. One home for the choice, which the
    scoring pipeline, the components and the inspector's prompts must make alike."""
    return typed_placeholders(text, command) if placeholders else text
