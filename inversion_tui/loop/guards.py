"""Guards against gamed scores.

Cycle-consistency rewards anything that carries the task's words through the command: an
`echo "scan port 80 on ..."`, a comment, or prose instead of a command scores well because
the inverse model simply reads the task back. A flagged candidate is excluded from training
unless the run allows flagged candidates, and every flag comes with a reason a person can
check (`explain_flags`).

Pure functions of (task, command): a replay can re-run them on stored candidates.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from inversion_tui import shell
from inversion_tui.loop.literals import MASK, QUOTED, mask_literals
from inversion_tui.loop.score import tokens

GUARD_REASONS = {
    "empty": "no command could be extracted from the reply",
    "not_a_command": "the output reads as prose or a refusal, not a shell command",
    "copies_task": "the command repeats the task's words (in echo, a comment, quoted prose or its arguments)",
}

_STOPWORDS = {
    "the", "a", "an", "on", "in", "of", "to", "for", "and", "or", "with", "all", "from", "into",
    "by", "at", "is", "it", "its", "that", "this", "without", "using", "any", "every",
}

# English words that open a sentence or an instruction and are not programs on a Linux box.
# (Words that are programs or builtins too, such as find, sort, make, install, test, display,
# convert, compress, rename, open, look, task, command or as, are deliberately absent: an honest
# command may start with them. So are start, stop and restart, Upstart's commands.)
_PROSE_LEADERS = {
    "a", "an", "the", "this", "that", "these", "those", "here", "there", "i", "i'm", "we", "you", "it",
    "to", "please", "first", "then", "next", "finally", "note", "sure", "okay", "ok", "no",
    "use", "using", "run", "running", "execute", "check", "checking", "scan", "scanning", "list",
    "listing", "show", "showing", "get", "create", "delete", "remove", "search", "count", "print",
    "enumerate", "detect", "perform", "try", "attempt", "navigate", "connect",
    "download", "upload", "extract", "copy", "move", "change", "update", "add", "send", "answer",
    "explanation", "output", "step", "when", "with", "by", "on", "of", "from", "how", "what", "why",
}
# Shell keywords that would otherwise look like prose leaders in a real command.
_SHELL_KEYWORDS = {"if", "for", "while", "until", "case", "in", "do", "done", "then", "else", "fi", "esac", "function"}
# Words a command line almost never holds bare (outside quotes): two of them make prose.
_FUNCTION_WORDS = {
    "the", "a", "an", "to", "of", "for", "with", "that", "this", "is", "are", "was", "will", "would",
    "should", "can", "could", "you", "your", "it", "its", "and", "or", "but", "so", "then", "which",
    "be", "using", "into", "from", "on", "at", "by",
}
_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i apologi[sz]e|i can(?:no|')t|i can not|i am unable|i'?m unable|"
    r"as an ai|i won'?t|not able to (?:help|assist)|cannot (?:help|assist))\b", re.I)
_BARE_LITERAL = re.compile(r"(?=\S*\d)[\d.:/]+|[a-z]+://\S*", re.I)  # 10.1.1.1, 80, http://x: never a program
_WORD = re.compile(r"[a-z0-9]+(?:[./:_-][a-z0-9]+)*")  # as score.tokens, in order
# `_` or `-` between two word characters: `print_first_20_lines_data.csv` is the task's words
# joined into one file name (seen from SmolLM2). A leading `-` (an option) is not a joiner.
_JOINER = re.compile(r"(?<=[A-Za-z0-9])[_-](?=[A-Za-z0-9])")


@dataclass(frozen=True)
class Flag:
    name: str  # a GUARD_REASONS key: what is stored per candidate
    detail: str  # why, for this candidate: what a person checks


def content_words(text: str) -> set[str]:
    return {w for w in tokens(text) if len(w) > 2 and w not in _STOPWORDS}


def tokens_in_order(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def prose_of(command: str) -> str:
    """The parts of a command that are free text rather than program and arguments: the
    comments, what echo-like programs print, and quoted prose (shell.free_text, which the
    reviewer's blanking reads too)."""
    return " ".join(text for _, _, text in shell.free_text(command) if text.strip())


def copies_task(task: str, command: str) -> Flag | None:
    """The command restates the task, in one of two ways.

    Its free text holds at least half of the task's content words (its literals aside, which
    an honest command repeats too), including its leading word, the instruction itself, or
    at least three of them. The leading word is what tells `echo "scan port 80 on ..."` from
    an honest `echo hello world` for "Print hello world": the payload an echo task asks for
    is not its instruction. Or its arguments repeat a phrase of the task (copied_phrase)."""
    masked = mask_literals(task)
    task_words = content_words(masked)
    if len(task_words) < 2:
        return None
    copied = task_words & content_words(mask_literals(prose_of(command)))
    leading = next((w for w in tokens_in_order(masked) if w in task_words), None)
    if len(copied) >= max(2, (len(task_words) + 1) // 2) and (leading in copied or len(copied) >= 3):
        words = ", ".join(sorted(copied))
        return Flag("copies_task", f"{len(copied)} of the task's {len(task_words)} content words are in the "
                                   f"command's free text: {words}")
    # A payload the task quotes ("send the message 'System maintenance in 10 minutes!'") is
    # meant to be repeated: only the task's own wording counts.
    # Split joined words before masking, or the whole joined name would be masked as one
    # file-name literal and its copied words would go unseen.
    phrase = copied_phrase(QUOTED.sub(MASK, masked), mask_literals(_JOINER.sub(" ", command)))
    if len(content_words(" ".join(phrase))) >= 3:
        return Flag("copies_task", f"the command's arguments repeat the task's phrase {' '.join(phrase)!r}")
    return None


def copied_phrase(task: str, command: str) -> list[str]:
    """The longest run of consecutive task words that the command repeats in order, such as
    `-D command to get live hosts in 10.0.0.0/24 without port scanning` (seen from SmolLM2).
    Three content words in a row is prose: an honest command names a service or a user, it
    does not restate the sentence. Stop words are dropped on both sides first, so a copy that
    leaves out "the" and "of" (`print first 20 lines data.csv`) is still one run. The run is
    returned as the task words it spans, stop words included, for a person to read."""
    everything = tokens_in_order(task)
    positions = [i for i, w in enumerate(everything) if w not in _STOPWORDS]
    task_tokens = [everything[i] for i in positions]
    command_tokens = [w for w in tokens_in_order(command) if w not in _STOPWORDS]
    match = difflib.SequenceMatcher(None, task_tokens, command_tokens, autojunk=False).find_longest_match(
        0, len(task_tokens), 0, len(command_tokens))
    if not match.size:
        return []
    return everything[positions[match.a] : positions[match.a + match.size - 1] + 1]


def _prose_segment(command: shell.SimpleCommand) -> str | None:
    """Why a simple command of a command line reads as prose, or None. Its quoted words are
    left out: quoted text may be prose in an honest command."""
    words = [w.raw for w in command.words if not w.quoted]
    if not words:
        return None
    first = words[min(shell.program_index(words), len(words) - 1)]  # all wrappers: the last one
    first_lower = first.lower().strip(".,:!?")
    if first_lower in _SHELL_KEYWORDS:
        return None
    flagless = not any(w.startswith("-") for w in words)
    lowered = [w.lower().strip(".,:!?") for w in words]
    function_words = sorted({w for w in lowered if w in _FUNCTION_WORDS})
    if first.endswith(":") or first.startswith(("{%", "{{")):
        return f"starts with {first!r}, a label or a template tag, not a program"
    if _BARE_LITERAL.fullmatch(first):
        return f"starts with {first!r}, an address or a number, not a program"
    if first_lower in _PROSE_LEADERS:
        # Options do not make it a program: `print -10 "data.csv" +2` for "Print the first 20
        # lines of data.csv" names the task's verb as the program. SmolLM2 learnt it from five
        # such pairs in experiment 5, and its InterCode `echo` answers turned into `print`.
        return f"starts with {first!r}, an English word, not a program"
    if len(function_words) >= 2:
        return "holds English function words outside quotes: " + ", ".join(repr(w) for w in function_words)
    if first[0].isupper() and first.isalpha() and flagless and len(words) >= 3:
        return f"starts with the capitalized word {first!r} and has no options, like a sentence"
    return None


def not_a_command(command: str) -> Flag | None:
    """Prose, a refusal, or a command chained with prose."""
    refusal = _REFUSAL.search(command)
    if refusal:
        return Flag("not_a_command", f"a refusal: {refusal.group(0)!r}")
    if command.lstrip()[:1] in ("|", "&", ";", ")"):
        return Flag("not_a_command", f"starts with {command.lstrip()[0]!r}, an operator, not a program")
    parts = shell.parse(command).commands
    for number, part in enumerate(parts, 1):
        why = _prose_segment(part)
        if why:
            where = "" if len(parts) == 1 else f"part {number} of {len(parts)} ({part.text.strip()!r}) "
            return Flag("not_a_command", f"{where}{why}")
    return None


def explain_flags(task: str, command: str) -> list[Flag]:
    """Every guard that fires, with its reason. An empty command is only `empty`."""
    if not command.strip():
        return [Flag("empty", GUARD_REASONS["empty"])]
    return [flag for flag in (not_a_command(command), copies_task(task, command)) if flag is not None]


def guard_flags(task: str, command: str) -> tuple[str, ...]:
    return tuple(flag.name for flag in explain_flags(task, command))
