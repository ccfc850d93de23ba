"""Could a verifier catch made-up options from the cheat sheets alone? An exploratory check for
issue 14, not a guard of the loop.

    python experiments/flag_vocabulary.py /tmp/matrix

An option is "seen" when the program's cheat sheets use it (a short cluster such as `-xvzf`
counts when each of its letters is seen). Printed: for each screened run, how many of the
commands it trained on use an option their program's sheets never show; and the same for
the packs' own reference commands, which are real, as the false-alarm rate. Programs without
a sheet are not judged.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from pathlib import Path

from inversion_tui import shell
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import read_candidates
from inversion_tui.task_pools import load_cheat_pool
from inversion_tui.tasks import load_packs


def options(command: str) -> tuple[str, list[str]]:
    """(program, the options given to it): `--long` names, short clusters as written."""
    program, found = shell.program_name(command), []
    for segment in shell.segments(command):
        words = shell.words(segment)
        at = shell.program_index(words)
        if at >= len(words) or os.path.basename(words[at]) != program:
            continue
        for word in words[at + 1:]:
            if word == "--":
                break
            if word.startswith("--") and len(word) > 2:
                found.append(word.split("=")[0])
            elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
                found.append(word)
    return program, found


def sheet_vocabulary() -> dict[str, set[str]]:
    vocabulary: dict[str, set[str]] = defaultdict(set)
    for template in load_cheat_pool():
        for reference in template.references:
            program, found = options(reference)
            for option in found:
                vocabulary[program].add(option)
                if not option.startswith("--"):
                    vocabulary[program].update("-" + letter for letter in option[1:])
    return vocabulary


def unseen(command: str, vocabulary: dict[str, set[str]]) -> list[str] | None:
    """The options the sheets never show; None when the program has no sheet."""
    program, found = options(command)
    if program not in vocabulary:
        return None
    known = vocabulary[program]
    return [o for o in found if o not in known
            and (o.startswith("--") or not all("-" + letter in known for letter in o[1:]))]


def report(name: str, commands: list[str], vocabulary) -> None:
    judged = [(c, unseen(c, vocabulary)) for c in commands]
    judged = [(c, u) for c, u in judged if u is not None]
    flagged = [(c, u) for c, u in judged if u]
    examples = "; ".join(f"{c[:40]!r} {u}" for c, u in flagged[:3])
    print(f"{name:28s} {len(commands):4d} commands, {len(judged):4d} judged, {len(flagged):4d} with an unseen "
          f"option  {examples}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matrix", type=Path, help="the directory of training_matrix.sh's runs")
    args = parser.parse_args()
    vocabulary = sheet_vocabulary()
    for run in sorted(p for p in args.matrix.iterdir() if (p / "progress.json").is_file()):
        trained = Progress.read(run).trained_positions()  # train-now steps' candidates too
        report(run.name, [c.command for c in read_candidates(run) if c.trained_in(trained)], vocabulary)
    packs = load_packs("pentest,shell")
    report("the packs' references (real)", [r for t in packs.templates for r in t.references]
           + [e.command for e in packs.examples], vocabulary)


if __name__ == "__main__":
    main()
