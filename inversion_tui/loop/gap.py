"""The verification gap ("Mind the Gap", ../shared/RESEARCH.md): on held-out tasks, N sampled
commands per task, and what picking one of them gives beside the greedy command:

- best_of_n:   the one the score picks (the highest-scoring unflagged one; all flagged: the
               highest-scoring one), what the loop's selection does with a task's candidates;
- random_of_n: one drawn at random (seeded per task), the baseline any scorer must beat;
- oracle_of_n: any of the N right (token F1: the best of the N), the ceiling of any scorer.

If best_of_n does not beat greedy, training on score-picked data will not either. Pure, and
standard library only: it reads rows (as `sample_records` and `EvalRow.record` write them), so
any weighting of the stored components can be judged again without a model
(experiments/verifier_weights.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

from inversion_tui.loop.json_record import JsonRecord
from inversion_tui.loop.metrics import METRIC_FIELDS, PairedDifference, auroc, bootstrap_ci, paired_difference
from inversion_tui.loop.seeding import derive_seed

PICKS = ("best_of_n", "random_of_n", "oracle_of_n")

ScoreOf = Callable[[dict], float]


def by_task(samples: Sequence[dict]) -> dict[tuple[int, str], list[dict]]:
    """Sample rows grouped by held-out task (index, task text), in sample order."""
    tasks: dict[tuple[int, str], list[dict]] = {}
    for row in samples:
        tasks.setdefault((row["index"], row["task"]), []).append(row)
    return tasks


def best_of(rows: Sequence[dict], score_of: ScoreOf) -> dict:
    """The highest-scoring row that no guard flagged (the first on a tie), as selection would
    take it; when all are flagged, the highest-scoring of all."""
    pool = [r for r in rows if not r.get("flags")] or list(rows)
    return max(pool, key=score_of)


def _oracle(rows: Sequence[dict]) -> dict:
    return {"utility": any(r["utility"] for r in rows), "exact": any(r["exact"] for r in rows),
            "token_f1": max(r["token_f1"] for r in rows)}


def picks(samples: Sequence[dict], score_of: ScoreOf = lambda r: r["score"], seed: int = 0) -> dict[str, list[dict]]:
    """For each pick, one row per task: index, task, group and the three metrics' fields."""
    chosen: dict[str, list[dict]] = {name: [] for name in PICKS}
    for (index, task), rows in by_task(samples).items():
        key = {"index": index, "task": task, "group": rows[0].get("group", "")}
        rng = random.Random(derive_seed(seed, "random_of_n", index))
        for name, row in (("best_of_n", best_of(rows, score_of)), ("random_of_n", rng.choice(rows)),
                          ("oracle_of_n", _oracle(rows))):
            chosen[name].append({**key, **{column: row[column] for column in METRIC_FIELDS.values()}})
    return chosen


@dataclass
class PickMeans(JsonRecord):
    """One way of choosing each task's command (greedy, or a pick of the N samples) over a set:
    the metrics' means with 95% intervals, and for a pick its paired change against greedy."""

    NESTED: ClassVar[dict[str, type]] = {"vs_greedy": PairedDifference}
    OMITTED_WHEN_NONE: ClassVar[tuple[str, ...]] = ("vs_greedy",)

    n: int = 0
    utility_accuracy: float = 0.0  # right program
    ci95: dict[str, list[float]] = field(default_factory=dict)  # per metric
    exact_match: float = 0.0
    token_f1: float = 0.0
    vs_greedy: PairedDifference | None = None  # None for greedy itself
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class VerificationGap(JsonRecord):
    """verification_gap's answer: kept in an Evaluation (`gap`, progress.json) and printed by
    `eval --samples`, with the pick table there (`pick_table`, what each rule would train on)."""

    NESTED: ClassVar[dict[str, type]] = {name: PickMeans for name in ("greedy", *PICKS)}
    OMITTED_WHEN_NONE: ClassVar[tuple[str, ...]] = ("pick_table",)  # `eval --samples` only

    samples: int = 0  # per task
    greedy: PickMeans = field(default_factory=PickMeans)
    best_of_n: PickMeans = field(default_factory=PickMeans)
    random_of_n: PickMeans = field(default_factory=PickMeans)
    oracle_of_n: PickMeans = field(default_factory=PickMeans)
    best_share_of_oracle: float | None = None
    sample_auroc: float | None = None  # the score's, pooled over every sample
    components: dict[str, dict[str, float | None]] = field(default_factory=dict)  # auroc, pick_utility
    pick_table: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _means(rows: Sequence[dict], greedy: Sequence[dict] | None = None) -> PickMeans:
    n = len(rows)
    groups = [r.get("group", "") for r in rows]
    means, ci95 = {}, {}
    for metric, column in METRIC_FIELDS.items():
        values = [float(r[column]) for r in rows]
        means[metric] = sum(values) / n if n else 0.0
        ci95[metric] = list(bootstrap_ci(values, groups))
    return PickMeans(n=n, ci95=ci95, **means,
                     vs_greedy=paired_difference(greedy, rows) if greedy is not None else None)


def component_signals(samples: Sequence[dict], components: Sequence[str]) -> dict[str, dict]:
    """Per component: its pooled AUROC for a right program over all samples, and the right-program
    accuracy of the sample it would pick per task alone (samples where it is None rank last)."""
    labels = [bool(r["utility"]) for r in samples]
    tasks = by_task(samples).values()
    out = {}
    for name in components:
        def value(row, name=name):
            v = row["components"].get(name)
            return float("-inf") if v is None else v

        present = [(value(r), y) for r, y in zip(samples, labels) if r["components"].get(name) is not None]
        if not present:
            continue
        picked = [best_of(rows, value) for rows in tasks]
        out[name] = {"auroc": auroc([v for v, _ in present], [y for _, y in present]),
                     "pick_utility": sum(r["utility"] for r in picked) / len(picked)}
    return out


def verification_gap(greedy: Sequence[dict], samples: Sequence[dict], *, score_of: ScoreOf = lambda r: r["score"],
                     components: Sequence[str] = (), seed: int = 0) -> VerificationGap:
    """greedy, best_of_n, random_of_n and oracle_of_n, each with its means and 95% intervals and
    (the picks) its paired change against greedy, task by task (templates resampled as clusters);
    the score's pooled AUROC over the samples; each component's AUROC and pick accuracy."""
    chosen = picks(samples, score_of, seed)
    n_samples = max((len(rows) for rows in by_task(samples).values()), default=0)
    chosen_means = {name: _means(rows, greedy) for name, rows in chosen.items()}
    oracle = chosen_means["oracle_of_n"].utility_accuracy
    return VerificationGap(
        samples=n_samples, greedy=_means(greedy), **chosen_means,
        best_share_of_oracle=chosen_means["best_of_n"].utility_accuracy / oracle if oracle else None,
        sample_auroc=auroc([score_of(r) for r in samples], [bool(r["utility"]) for r in samples]),
        components=component_signals(samples, components))


PICK_RULES = ("threshold 0.40", "best-per-task", "keep-top 0.5", "keep-top 0.33", "keep-top 0.1",
              "margin 0.05", "margin 0.15")
"""The rules of the pick table: the loop's selection rules (loop/select.py) over a set's samples
as one pass, and the margin rule (measured, not a rule of the loop)."""


def pick_table(samples: Sequence[dict], score_of: ScoreOf = lambda r: r["score"],
               rules: Sequence[str] = PICK_RULES) -> list[dict]:
    """What each rule would train on if a set's N samples per task were one pass: how many tasks
    and samples it keeps and how often the kept ones name a right program (`right`). The judge
    ranks well within a task while its absolute level differs by domain: this says how much of
    that ranking each rule turns into training data, and how clean."""
    from types import SimpleNamespace

    from inversion_tui.loop.select import Selector

    tasks = by_task(samples)
    candidates = [SimpleNamespace(task=f"{index}\0{task}", command=row["command"], score=score_of(row),
                                  flags=tuple(row.get("flags", ())), row=row)
                  for (index, task), rows in tasks.items() for row in rows]
    table = []
    for rule in rules:
        name, _, value = rule.partition(" ")
        if name == "margin":
            kept = [c.row for c in _margin_picks(candidates, float(value))]
        else:
            selector = Selector(float(value) if name == "threshold" else 0.0, rule=name,
                                keep_top=float(value) if name == "keep-top" else 0.5)
            kept = [c.row for c, reason in zip(candidates, selector.decide(candidates)) if reason is None]
        kept_tasks = {(r["index"], r["task"]) for r in kept}
        table.append({"rule": rule, "tasks": len(kept_tasks), "of_tasks": len(tasks), "samples": len(kept),
                      "right": sum(bool(r["utility"]) for r in kept) / len(kept) if kept else None})
    return table


def _margin_picks(candidates: Sequence, margin: float) -> list:
    """Each task's best unflagged candidate, kept when it beats the best candidate of every other
    program of its task by at least `margin` (a task whose samples all name one program: kept)."""
    from inversion_tui.shell import program_name

    picked = []
    for task in dict.fromkeys(c.task for c in candidates):
        mine = [c for c in candidates if c.task == task and not c.flags]
        if not mine:
            continue
        best = max(mine, key=lambda c: c.score)
        program = program_name(best.command)
        others = [c.score for c in mine if program_name(c.command) != program]
        if not others or best.score - max(others) >= margin:
            picked.append(best)
    return picked
