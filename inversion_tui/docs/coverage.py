"""How much of what the project asks about the index documents: the programs of the packs'
reference commands, of the cheat-basics pool and of InterCode-ALFA's reference commands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from inversion_tui.docs.index import CommandDocs
from inversion_tui.loop.shell import parse


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


def project_coverage(docs: CommandDocs) -> list[Coverage]:
    """The three sets the issue names; a set whose data is not installed is left out."""
    from inversion_tui.errors import InversionError
    from inversion_tui.task_pools import BASICS
    from inversion_tui.tasks import load_packs

    pack = load_packs("pentest,shell")
    rows = [coverage_of("the packs' reference commands", [r for t in pack.templates for r in t.references], docs),
            Coverage("cheat-basics' programs", Counter({p: 1 for p in BASICS}),
                     tuple(sorted(p for p in BASICS if docs.lookup(p) is None)))]
    try:
        from inversion_tui.eval_sets import load_intercode

        intercode = load_intercode()
    except InversionError:
        return rows
    rows.append(coverage_of("InterCode-ALFA's reference commands", [r for t in intercode for r in t.references], docs))
    return rows
