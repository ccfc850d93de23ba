"""Manual hints for the forward prompt (issue 24, point 7): the few programs whose NAME lines
best match a task, put before the task so the model sees what the documented programs do.

The same signal as the `doc` component (the task against a program's NAME line, by the
embedder), turned from a judge of a command into a grounding of its generation. It is an
option of `inversion-tui eval` (`--hints docs`), not a default: the bundled model answers
with a hint line instead of a command in more than half of the tasks, and the right program
did not rise on the packs (docs/RESULTS.md, "Manual hints in the prompt").

Hints read the task's text only, like the rest of the forward prompt: a reference never
reaches them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from inversion_tui.manuals.index import CommandDocs, subcommand_page

HINT_HEADER = "(from the manual: "
"""Hints come first, on one line, as `whatis` prints them (`wc - print newline, ...`), and the
task last, as in a prompt without hints. Chosen on the packs over a list under the task
(`- wc: print ...`; right program 0.21 against 0.11, token F1 0.089 against 0.050), yet the
bundled model answers with a hint line instead of a command in either shape (64 and 57 of 100
pack tasks): docs/RESULTS.md, "Manual hints in the prompt"."""
NAMES_A_LINE = 4
"""Names shown for one NAME line: `ls, dir, vdir`, `grep, egrep, fgrep, rgrep`."""
NOT_TYPED = (".service", ".socket", ".timer", ".path", ".target", ".mount", ".automount", ".slice", ".scope")
"""systemd units have pages in section 8 but are not programs anyone types."""
SHARED_BY_MANY = 12
"""A NAME line more pages share says nothing of any one (openssl's 49 old alias pages all read
"OpenSSL application commands"): it is left out."""


class DocHints:
    """`k` NAME lines a task, by cosine between the task and each line. The lines are
    embedded once, on first use (about 1,000 for the bundled index: seconds on a CPU)."""

    def __init__(self, docs: CommandDocs, embed: Callable[[Sequence[str]], list[list[float]]], k: int = 3):
        if k < 1:
            raise ValueError("hints need k >= 1")
        self.embed, self.k = embed, k
        # One place per NAME line, with every program that has it: pages of one program under
        # several names (ls, dir, vdir; grep, egrep) share a line, and any one name alone may be
        # the rare one (`dir` for ls). Shortest names first: the usual name is the short one
        # more often than not (ls, grep, gzip, ssh), and all of them are shown.
        by_line: dict[str, list[str]] = {}
        for name, doc in docs.programs.items():
            if doc.name == name and doc.description and not name.endswith(NOT_TYPED):
                by_line.setdefault(doc.description, []).append(typed_as(name))
        self.entries: list[tuple[str, str]] = [
            (", ".join(sorted(names, key=lambda n: (len(n), n))[:NAMES_A_LINE]), line)
            for line, names in sorted(by_line.items(), key=lambda item: min(item[1]))
            if len(names) <= SHARED_BY_MANY]
        self._lines: np.ndarray | None = None
        self._memo: dict[str, list[tuple[str, str]]] = {}

    def programs_for(self, tasks: Sequence[str]) -> list[list[tuple[str, str]]]:
        """The k best (names, NAME line) pairs of each task, best first."""
        if self._lines is None:
            self._lines = np.asarray(self.embed([line for _, line in self.entries]), dtype=np.float32)
        todo = sorted({t for t in tasks if t not in self._memo})
        if todo:
            similarity = np.asarray(self.embed(todo), dtype=np.float32) @ self._lines.T
            for task, row in zip(todo, similarity):
                best = np.argsort(-row, kind="stable")[: self.k]
                self._memo[task] = [self.entries[i] for i in best]
        return [self._memo[t] for t in tasks]

    def query(self, task: str) -> str:
        """The user turn of the forward prompt: its hints on one line, then the task."""
        (programs,) = self.programs_for([task])
        return HINT_HEADER + "; ".join(f"{names} - {line}" for names, line in programs) + ")\n" + task


def typed_as(name: str) -> str:
    """A subcommand's page as a user types it: `git-blame` is `git blame`. A hint spelled as the
    page is named would teach `git-blame` as a program."""
    split = subcommand_page(name)
    return " ".join(split) if split else name
