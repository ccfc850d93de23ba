"""Literals: the IPs, ports, paths, URLs and file names a task names and a command repeats.

The inverse model copies them from the command into its reconstruction, so they match the
task whether or not the command does what was asked. Token overlap and difflib reward that
copying; masking the literals on both sides leaves them the words that say *what* is done.
"""

from __future__ import annotations

import re

MASK = "#"
"""What a literal becomes: one character, so difflib keeps the sentence's shape, and not a
word character, so token overlap ignores it."""

# Order matters: a URL contains a host and a path, an IP with a port contains numbers.
_LITERALS = [
    re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I),  # URLs
    re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),  # user@host, e-mail
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d+)?\b"),  # IPv4, CIDR, ip:port
    re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w.*?\-/]*"),  # paths
    re.compile(r"\*?\b[\w-]+(?:\.[\w-]+)+\b"),  # file and host names: report.txt, example.org
    re.compile(r"\b\d+(?:\.\d+)?[kmgtKMGT%]?\b"),  # numbers, ports, sizes (10M), percentages
]


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
