"""Broad, unlabeled task pools for `--tasks-from`: task descriptions the loop draws its passes
from instead of the packs' templates (the few-shot examples still come from `--pack`); and for
`--replay-from`: the tasks the base model's replayed answers are drawn on.

The packs have 44 templates over a dozen programs, and a loop trained on them narrows onto
those programs (docs/RESULTS.md, experiment 7). A pool of many programs' tasks is the
label-free fix (../shared/RESEARCH.md: prompts from the target distribution). No commands are
needed; where a pool has them they are kept as references, for evaluation only, as the packs'.

- `cheat`: the cheatsheets of the `cheat` 2.5.1 package (PyPI, GPL-3; installed by
  `make setup` with --no-deps and read as data files, never imported or redistributed): every
  comment that reads as an instruction (`# To extract a .gz archive:`, `# Download multiple
  files`) with the command under it, from 194 sheets. Each sheet is one program's, so its
  tasks share a group (held out together by --holdout, resampled together).
- `cheat-basics`: the part of `cheat` for basic command-line programs (coreutils, findutils,
  grep, sed, awk, tar, gzip/zip, ps/kill; `BASICS`), 137 tasks over 33 programs: a pool the
  bundled model half-solves, where the whole pool is mostly programs it does not know
  (docs/RESULTS.md, issue 14).
- a file: one task per line (blank lines and lines starting with # skipped), or JSONL
  objects with a "task" (and optional "references" and "group").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from inversion_tui.errors import TaskPackError
from inversion_tui.shell import program_name
from inversion_tui.tasks import Example, Template, TaskPack

BASICS = frozenset(
    "cat cp mv rm mkdir rmdir ls ln chmod chown touch head tail sort uniq wc cut tr tee du df date echo printf "
    "env pwd whoami id uname basename dirname find xargs grep sed awk tar gzip gunzip zip unzip ps kill diff cmp "
    "stat file which split paste comm nl od seq sleep yes hostname".split())
"""`cheat-basics`' programs, fixed before any run on them as "the basics", not from any
evaluation set's references; those with a cheat sheet make the pool."""


def cheat_sheet_files(flag: str = "--tasks-from") -> list[Path]:
    """The installed `cheat` package's sheets. Its setup.py installs them as data files (under
    the environment's usr/share/cheat), not inside the package, so they are found through the
    distribution's file list; the package itself is never imported."""
    import importlib.metadata

    try:
        files = importlib.metadata.files("cheat") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    sheets = sorted((Path(f.locate()) for f in files if "share/cheat/" in str(f)), key=lambda p: p.name)
    sheets = [p for p in sheets if p.is_file()]
    if not sheets:
        raise TaskPackError(f"{flag}: the task pools cheat and cheat-basics (the default --tasks-from) need the "
                            "cheat package's sheets: pip install --no-deps cheat==2.5.1 (make setup does), or run on "
                            "the packs' templates: --tasks-from packs")
    return sheets


_NOT_A_TASK = {"or", "and", "note", "note:", "basic", "for", "this", "see", "example", "examples", "usage", "e.g.",
               "eg", "the", "if", "with", "without", "where", "when", "it", "you", "also", "then", "output"}
"""First words of comment blocks that are remarks or continuations, not a task."""


def parse_sheet(program: str, text: str) -> list[Template]:
    """The sheet's (task, command) pairs: a block of comment lines that reads as an instruction
    (`# To extract a .gz archive:`, `# Download multiple files`), and the command under it."""
    templates: list[Template] = []
    lines = text.splitlines()
    block: list[str] = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped.lstrip("#").strip())
            continue
        if stripped and block:
            task = _instruction(" ".join(part for part in block if part))
            if task:
                templates.append(Template(id=f"cheat/{program}", task=task, references=(stripped,), tool=program,
                                          slots={}, line=number))
        block = []
    return templates


def _instruction(text: str) -> str | None:
    """The comment as a task: `To extract a .gz archive:` -> `Extract a .gz archive`; None when
    it does not read as one (a remark, a continuation, a title)."""
    text = re.sub(r"^to\s+", "", text.strip(), flags=re.I).rstrip(":. ").strip()
    words = text.split()
    if len(words) < 3 or len(text) > 200 or not words[0][0].isalpha() or words[0].lower() in _NOT_A_TASK:
        return None
    if words[0][0].islower() and not text.lower().startswith(tuple(_VERBS)):
        return None  # lowercase: a sentence's continuation, unless it starts with a known verb
    return text[0].upper() + text[1:]


_VERBS = ("list", "show", "create", "display", "add", "install", "set", "remove", "print", "change", "convert",
          "download", "get", "start", "view", "update", "check", "count", "upgrade", "find", "delete", "open",
          "run", "search", "copy", "move", "compress", "extract", "mount", "kill", "send", "edit", "make")


def load_cheat_pool(flag: str = "--tasks-from") -> list[Template]:
    templates = []
    for sheet in cheat_sheet_files(flag):
        templates.extend(parse_sheet(sheet.name, sheet.read_text(encoding="utf-8", errors="replace")))
    return templates


def load_basics_pool(flag: str = "--tasks-from") -> list[Template]:
    """`cheat-basics`. A task's id is its program alone (`tar`, not `cheat/tar`): the pool was
    first screened as a task file grouped by program (experiments/core_pool.py, since
    replaced by this), and TaskPack.split holds out by a hash of the id, so the same ids keep
    the same held-out programs and the screened runs reproducible."""
    return [replace(t, id=t.tool) for t in load_cheat_pool(flag) if t.tool in BASICS]


def load_intercode_pool(half: str, flag: str) -> list[Template]:
    """`intercode:a` or `intercode:b` as a pool: its task descriptions, each task its own group
    (held out alone, resampled alone). The references ride along as every pool's do, for the
    evaluation and the scorer check only: no prompt and no training example reads them."""
    from inversion_tui.eval_sets import load_intercode_half

    return [Template(id=f"{half}/{number}", task=task.task, references=task.references,
                     tool=program_name(task.references[0]) if task.references else "", slots={}, line=number)
            for number, task in enumerate(load_intercode_half(half, f"{flag} {half}"), 1)]


POOLS: dict[str, Callable[[str], list[Template]]] = {
    "cheat": load_cheat_pool, "cheat-basics": load_basics_pool,
    "intercode:a": lambda flag: load_intercode_pool("intercode:a", flag),
    "intercode:b": lambda flag: load_intercode_pool("intercode:b", flag),
}
"""The named pools: each a loader given the option that named it (its errors say which)."""
PACKS = "packs"
"""--tasks-from's name for the --pack templates themselves."""


def load_task_file(path: Path, flag: str = "--tasks-from") -> list[Template]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TaskPackError(f"{flag} {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise TaskPackError(f"{flag} {path}: not a UTF-8 text file") from None
    templates = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        task, references, group = line, (), ""
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise TaskPackError(f"{flag} {path}:{number}: not JSON ({exc.msg})") from None
            task, references, group = item.get("task"), item.get("references", []), item.get("group", "")
            if not isinstance(task, str) or not task.strip():
                raise TaskPackError(f"{flag} {path}:{number}: 'task' must be a non-empty string")
            if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
                raise TaskPackError(f"{flag} {path}:{number}: 'references' must be a list of strings")
        templates.append(Template(id=str(group) or f"line{number}", task=task.strip(), references=tuple(references),
                                  tool=str(group), slots={}, line=number))
    if not templates:
        raise TaskPackError(f"{flag} {path}: no tasks")
    return templates


def load_task_pool(spec: str, examples: list[Example], flag: str = "--tasks-from") -> TaskPack:
    """The pool as a TaskPack (tasks without slots), carrying the packs' few-shot examples.
    `flag` is the option that named it, for the error messages."""
    if spec in POOLS:
        templates, name = POOLS[spec](flag), spec
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            known = ", ".join([*POOLS, PACKS] if flag == "--tasks-from" else POOLS)
            raise TaskPackError(f"{flag} {spec!r}: neither a pool ({known}) nor a file")
        templates, name = load_task_file(path, flag), path.name
    return TaskPack(name=name, description=f"task pool {name}", templates=templates, examples=examples)


def training_tasks(settings) -> TaskPack:
    """Where a run's passes draw their tasks: --tasks-from's pool or file, or with `packs` the
    --pack templates themselves; the few-shot examples are the packs' either way."""
    from inversion_tui.tasks import load_packs

    packs = load_packs(settings.pack)
    on_packs = settings.tasks_from in (None, PACKS)  # None: runs saved before the pool was the default
    return packs if on_packs else load_task_pool(settings.tasks_from, packs.examples)


def replay_tasks(settings, training: TaskPack, heldout: TaskPack | None) -> TaskPack | None:
    """Where --replay draws its tasks: --replay-from's pool, less every template the run holds
    out (a held-out task must never be trained on, even as the base model's answer); None when
    replay draws from the training pool itself."""
    if settings.replay_from is None:
        return None
    pool = load_task_pool(settings.replay_from, training.examples, "--replay-from")
    held = {(t.id, t.task) for t in heldout.templates} if heldout is not None else set()
    kept = [t for t in pool.templates if (t.id, t.task) not in held]
    if not kept:
        raise TaskPackError(f"--replay-from {settings.replay_from!r}: every task in it is held out of training")
    return TaskPack(pool.name, pool.description, kept, pool.examples)


@dataclass(frozen=True)
class RunPools:
    """A run's tasks: where its passes draw (`training`), the templates held out of training for
    evaluation (`heldout`, None without --holdout), and where --replay draws (`replay`, None:
    from `training` itself)."""

    training: TaskPack
    heldout: TaskPack | None
    replay: TaskPack | None

    @property
    def replay_or_training(self) -> TaskPack:
        return self.replay or self.training


def run_pools(settings) -> RunPools:
    """The one place a run's pools are made from its settings: the CLI before a run, and the
    experiment scripts that rebuild what a saved run drew from (same seed, same split)."""
    training, heldout = training_tasks(settings), None
    if settings.holdout > 0:
        training, heldout = training.split(settings.holdout)
        if not training.templates:
            raise TaskPackError(f"--holdout {settings.holdout:g}: every task of {training.name} would be held out "
                                "(its tasks share one group); nothing is left to train on")
    return RunPools(training, heldout, replay_tasks(settings, training, heldout))
