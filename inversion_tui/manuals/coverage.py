"""How much of a set of commands the index documents: the programs they use, and those no page
knows. Which sets the project measures (the packs, cheat-basics, InterCode-ALFA) is the CLI's
choice (`docs --coverage`), so the manual library reads no task set."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from inversion_tui.manuals.index import CommandDocs
from inversion_tui.shell import parse


@dataclass(frozen=True)
class Coverage:
    name: str  # the task set
    programs: Counter  # program -> how many of the set's reference commands use it
    missing: tuple[str, ...]  # programs no page documents, most used first

    @property
    def share(self) -> float:
        return 1 - len(self.missing) / len(self.programs) if self.programs else 1.0

    @property
    def weighted_share(self) -> float:
        """The share of program uses (not of distinct programs) that the index documents."""
        total = sum(self.programs.values())
        return 1 - sum(self.programs[p] for p in self.missing) / total if total else 1.0


def programs_of(commands) -> Counter:
    counts = Counter()
    for command in commands:
        counts.update(set(parse(command).programs))
    return counts


def coverage_of(name: str, commands, docs: CommandDocs) -> Coverage:
    programs = programs_of(commands)
    missing = tuple(sorted((p for p in programs if docs.lookup(p) is None), key=lambda p: (-programs[p], p)))
    return Coverage(name, programs, missing)
