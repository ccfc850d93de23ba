"""Guards against gamed scores: cycle-consistency rewards anything that carries the task's
words through the command (`echo "scan port 80 on ..."`, a comment). A flagged candidate is
never accepted, whatever its score, and the flag names the reason.
"""

from __future__ import annotations

import re
import shlex

from inversion_tui.loop.score import tokens

GUARD_REASONS = {
    "empty": "no command could be extracted from the reply",
    "copies_task": "the command carries the task's own words (echo, comment or quoted prose)",
}

_STOPWORDS = {
    "the", "a", "an", "on", "in", "of", "to", "for", "and", "or", "with", "all", "from", "into",
    "by", "at", "is", "it", "its", "that", "this", "without", "using", "any", "every",
}
_ECHO_LIKE = {"echo", "printf", ":", "true"}


def content_words(text: str) -> set[str]:
    return {w for w in tokens(text) if len(w) > 2 and w not in _STOPWORDS}


def prose_of(command: str) -> str:
    """The parts of a command that are free text rather than program and flags."""
    parts = []
    body, _, comment = command.partition(" #")
    if command.lstrip().startswith("#"):
        body, comment = "", command
    parts.append(comment)
    try:
        words = shlex.split(body)
    except ValueError:
        words = body.split()
    if words and words[0] in _ECHO_LIKE:
        parts.extend(words[1:])
    parts.extend(w for w in words if " " in w)  # multi-word quoted strings
    return " ".join(parts)


def guard_flags(task: str, command: str) -> tuple[str, ...]:
    if not command.strip():
        return ("empty",)
    task_words = content_words(task)
    copied = task_words & content_words(prose_of(command))
    if len(task_words) >= 2 and len(copied) >= max(2, len(task_words) // 2):
        return ("copies_task",)
    return ()
