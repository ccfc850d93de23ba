"""Where held-out tasks come from: a JSONL file, InterCode-ALFA (read from the installed
`icalfa` package's files), or the templates a run holds out of training (`--holdout`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from inversion_tui.errors import TaskPackError
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.metrics import METRIC_FIELDS


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
        missing = [key for key in ("index", "task", *METRIC_FIELDS.values())
                   if not isinstance(row, dict) or key not in row]
        if missing:
            raise TaskPackError(f"{path}:{number}: not an evaluation row (no {missing[0]!r}; "
                                "rows come from `eval --save-rows`)")
        rows.append(row)
    if not rows:
        raise TaskPackError(f"{path}: no rows")
    return rows


def load_intercode() -> list[EvalTask]:
    """InterCode-ALFA's 300 NL->bash tasks, two gold commands each, from the icalfa package's
    files (found, not imported: its __init__ pulls in docker and more)."""
    import importlib.util

    spec = importlib.util.find_spec("icalfa")
    folder = Path(next(iter(spec.submodule_search_locations))) / "assets" / "datasets" if spec else None
    files = sorted(folder.glob("nl2bash_fs_*.json")) if folder and folder.is_dir() else []
    if not files:
        raise TaskPackError("--suite intercode needs the icalfa package: pip install --no-deps icalfa")
    tasks = []
    for file in files:
        for item in json.loads(file.read_text(encoding="utf-8")):
            references = tuple(r for r in (item.get("gold"), item.get("gold2")) if r)
            tasks.append(EvalTask(item["query"], references))
    return tasks


HOLDOUT_TASKS = 100
"""Tasks sampled from the held-out templates when --eval-limit does not say."""


def eval_sets_for(settings, heldout_pack=None) -> dict[str, list[EvalTask]]:
    """The fixed held-out sets a run evaluates on, by name: the --eval-file (named by its file
    stem), then each --eval-suite, each cut to --eval-limit. `heldout_pack` holds the templates
    --holdout keeps out of training. Empty when the run evaluates nothing."""
    sets: dict[str, list[EvalTask]] = {}
    limit = settings.eval_limit
    if settings.eval_file is not None:
        tasks = load_tasks_file(settings.eval_file)
        name = Path(settings.eval_file).stem
        sets[f"file:{name}" if name in settings.eval_suite else name] = tasks[:limit] if limit else tasks
    for suite in settings.eval_suite:
        if suite == "intercode":
            tasks = load_intercode()
            sets[suite] = tasks[:limit] if limit else tasks
        elif suite == "holdout":
            from inversion_tui.loop.seeding import derive_seed

            # A fixed sample: the same tasks at every cycle and on resume.
            rng = random.Random(derive_seed(settings.seed, "holdout-eval"))
            sets[suite] = [EvalTask(i.task, i.references, i.template_id)
                           for i in heldout_pack.sample(limit or HOLDOUT_TASKS, rng)]
    return sets


