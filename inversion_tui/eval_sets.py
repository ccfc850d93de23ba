"""Where held-out tasks come from: a JSONL file, InterCode-ALFA (read from the installed
`icalfa` package's files), or the templates a run holds out of training (`--holdout`)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from inversion_tui.errors import TaskPackError
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.metrics import missing_row_key
from inversion_tui.loop.seeding import derive_seed
from inversion_tui.tasks import render


def _jsonl(path: Path):
    """(line number, parsed value) for each non-blank line; unreadable or non-JSON input is a
    one-line `file[:line]: what is wrong` error."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TaskPackError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise TaskPackError(f"{path}: not a UTF-8 text file") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise TaskPackError(f"{path}:{number}: not JSON ({exc.msg})") from None


def load_tasks_file(path: Path) -> list[EvalTask]:
    """JSONL, one {"task": str, "references": [str, ...]} per line, with an optional "group"
    (str: tasks from one template); other fields ignored."""
    tasks = []
    for number, item in _jsonl(path):
        if not isinstance(item, dict):
            raise TaskPackError(f"{path}:{number}: expected an object with 'task' and 'references'")
        task, references = item.get("task"), item.get("references")
        if not isinstance(task, str) or not task.strip():
            raise TaskPackError(f"{path}:{number}: 'task' must be a non-empty string")
        if (not isinstance(references, list) or not references
                or not all(isinstance(r, str) and r.strip() for r in references)):
            raise TaskPackError(f"{path}:{number}: 'references' must be a non-empty list of strings")
        group = item.get("group", "")
        if not isinstance(group, str):
            raise TaskPackError(f"{path}:{number}: 'group' must be a string")
        tasks.append(EvalTask(task.strip(), tuple(r.strip() for r in references), group.strip()))
    if not tasks:
        raise TaskPackError(f"{path}: no tasks")
    return tasks


def load_eval_rows(path: Path) -> list[dict]:
    """Per-task rows written by `eval --save-rows`, for `eval --paired-with`."""
    rows = []
    for number, row in _jsonl(path):
        missing = missing_row_key(row)
        if missing:
            raise TaskPackError(f"{path}:{number}: not an evaluation row (no {missing!r}; "
                                "rows come from `eval --save-rows`)")
        rows.append(row)
    if not rows:
        raise TaskPackError(f"{path}: no rows")
    return rows


def load_intercode(flag: str = "--suite intercode") -> list[EvalTask]:
    """InterCode-ALFA's 300 NL->bash tasks, two gold commands each, from the icalfa package's
    files (found, not imported: its __init__ pulls in docker and more). `flag` names the option
    that asked for them, for the error message."""
    return [task for _, task in _intercode_with_ids(flag)]


def _intercode_with_ids(flag: str) -> list[tuple[str, EvalTask]]:
    """Each task with its id: its file's name and its position in the file (`nl2bash_fs_1/17`)."""
    import importlib.util

    spec = importlib.util.find_spec("icalfa")
    folder = Path(next(iter(spec.submodule_search_locations))) / "assets" / "datasets" if spec else None
    files = sorted(folder.glob("nl2bash_fs_*.json")) if folder and folder.is_dir() else []
    if not files:
        raise TaskPackError(f"{flag} needs InterCode-ALFA's tasks, from the icalfa package: "
                            "pip install --no-deps icalfa==0.3.6 (make setup does)")
    tasks = []
    for file in files:
        for position, item in enumerate(json.loads(file.read_text(encoding="utf-8"))):
            references = tuple(r for r in (item.get("gold"), item.get("gold2")) if r)
            tasks.append((f"{file.stem}/{position}", EvalTask(item["query"], references)))
    return tasks


INTERCODE_HALVES = ("intercode:a", "intercode:b")
"""InterCode-ALFA in two fixed halves of 150 tasks: one to learn on (or choose settings on), the
other to report, and the other way round."""


def load_intercode_half(name: str, flag: str) -> list[EvalTask]:
    """`intercode:a` or `intercode:b`, in the suite's order: the tasks ranked by a hash of their
    id, the first half `a`, the rest `b`. Fixed once: independent of any seed or setting, so a
    pool on one half and an evaluation on the other never share a task, in any run."""
    tasks = _intercode_with_ids(flag)
    half = set(intercode_half_positions(name, [task_id for task_id, _ in tasks]))
    return [task for i, (_, task) in enumerate(tasks) if i in half]


def intercode_half_positions(name: str, ids: list[str] | None = None) -> list[int]:
    """The positions in the whole suite (0-299, the `index` of its evaluation rows) of the tasks
    of `intercode:a` or `intercode:b`, ascending: how rows of all 300 are cut in the two halves."""
    ids = ids if ids is not None else [task_id for task_id, _ in _intercode_with_ids(f"--suite {name}")]
    ranked = sorted(range(len(ids)), key=lambda i: hashlib.sha256(ids[i].encode()).hexdigest())
    return sorted(ranked[: len(ranked) // 2] if name == "intercode:a" else ranked[len(ranked) // 2:])


HOLDOUT_TASKS = 100
"""Tasks sampled from held-out templates with slots (the packs') when --eval-limit does not say."""


def eval_sets_for(settings, heldout_pack=None, training_pack=None) -> dict[str, list[EvalTask]]:
    """The fixed held-out sets a run evaluates on, by name: the --eval-file (named by its file
    stem), then each --eval-suite, each cut to --eval-limit. `heldout_pack` holds the templates
    --holdout keeps out of training, `training_pack` the pool the run trains on (`pool`: the
    test-time set). Empty when the run evaluates nothing."""
    sets: dict[str, list[EvalTask]] = {}
    limit = settings.eval_limit
    if settings.eval_file is not None:
        tasks = load_tasks_file(settings.eval_file)
        name = Path(settings.eval_file).stem
        sets[f"file:{name}" if name in settings.eval_suite else name] = tasks[:limit] if limit else tasks
    for suite in settings.eval_suite:
        if suite == "intercode":
            tasks = load_intercode("--eval-suite intercode")
            sets[suite] = tasks[:limit] if limit else tasks
        elif suite in INTERCODE_HALVES:
            tasks = load_intercode_half(suite, f"--eval-suite {suite}")
            sets[suite] = tasks[:limit] if limit else tasks
        elif suite == "holdout":
            sets[suite] = _pool_set(heldout_pack, settings, "holdout", "--eval-suite holdout")
        elif suite == "pool":
            sets[suite] = _pool_set(training_pack, settings, "pool", "--eval-suite pool")
    return sets


def _pool_set(pack, settings, name: str, flag: str) -> list[EvalTask]:
    """A fixed evaluation set from a pack's templates. A pool (tasks without slots): every task
    once, in a fixed shuffle cut to --eval-limit, so 150 held-out tasks are 150 distinct tasks.
    Templates with slots (the packs'): a fixed sample of --eval-limit (100) rendered tasks. Each
    task keeps its template as its group. A task without references cannot be judged: refused."""
    unjudged = [t for t in pack.templates if not t.references]
    if unjudged:
        raise TaskPackError(f"{flag}: {len(unjudged)} of {len(pack.templates)} tasks of {pack.name} have no "
                            "reference command to judge them by (a plain line has none: give the tasks to "
                            'measure as JSONL, {"task": ..., "references": [...]})')
    # A fixed sample: the same tasks at every cycle and on resume.
    rng = random.Random(derive_seed(settings.seed, f"{name}-eval"))
    limit = settings.eval_limit
    if any(t.slots for t in pack.templates):
        instances = pack.sample(limit or HOLDOUT_TASKS, rng)
    else:
        order = list(range(len(pack.templates)))
        rng.shuffle(order)
        instances = [render(pack.templates[i], rng) for i in order[:limit]]
    return [EvalTask(i.task, i.references, i.template_id) for i in instances]
