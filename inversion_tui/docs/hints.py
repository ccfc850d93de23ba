"""Manual hints for the forward prompt (issue 24, point 7): the few programs whose NAME lines
best match a task, put under the task so the model sees what the documented programs do.

The same signal as the `doc` component (the task against a program's NAME line, by the
embedder), turned from a judge of a command into a grounding of its generation. It is an
option of `inversion-tui eval` (`--hints docs`) to be measured, not a default: the pages
never say which program is right, and a small model may copy a wrong hint it would not have
thought of (docs/RESULTS.md has the measurement).

Hints read the task's text only, like the rest of the forward prompt: a reference never
reaches them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from inversion_tui.docs.index import CommandDocs

HINT_HEADER = "Manual pages that may help:"


class DocHints:
    """`k` programs a task, by cosine between the task and each program's NAME line. The lines
    are embedded once, on first use (about 1,300 for the bundled index: seconds on a CPU)."""

    def __init__(self, docs: CommandDocs, embed: Callable[[Sequence[str]], list[list[float]]], k: int = 3):
        if k < 1:
            raise ValueError("hints need k >= 1")
        self.embed, self.k = embed, k
        # One entry per program (the index also maps aliases to the same page), and one per
        # distinct line: two names of one program would fill two of the k places with one fact.
        seen: set[str] = set()
        self.entries: list[tuple[str, str]] = []
        for name in sorted(docs.programs):
            doc = docs.programs[name]
            if doc.name == name and doc.description and doc.description not in seen:
                seen.add(doc.description)
                self.entries.append((typed_as(name, docs), doc.description))
        self._lines: np.ndarray | None = None
        self._memo: dict[str, list[tuple[str, str]]] = {}

    def programs_for(self, tasks: Sequence[str]) -> list[list[tuple[str, str]]]:
        """The k best (program, NAME line) pairs of each task, best first."""
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
        """The user turn of the forward prompt: the task, then its hints, one program a line."""
        (programs,) = self.programs_for([task])
        return "\n".join([task, "", HINT_HEADER, *(f"- {name}: {line}" for name, line in programs)])


def typed_as(name: str, docs: CommandDocs) -> str:
    """A subcommand's page as a user types it: `git-blame` is `git blame`, `ip-route` is `ip
    route`; a hint spelled as the page is named would teach `git-blame` as a program."""
    program, _, sub = name.partition("-")
    parent = docs.programs.get(program)
    return f"{program} {sub}" if sub and parent is not None and sub in parent.subcommands else name
