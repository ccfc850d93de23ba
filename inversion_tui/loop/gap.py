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
from typing import Callable, Sequence

from inversion_tui.loop.metrics import METRIC_FIELDS, auroc, bootstrap_ci, paired_difference
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
            chosen[name].append({**key, **{field: row[field] for field in METRIC_FIELDS.values()}})
    return chosen


def _means(rows: Sequence[dict]) -> dict:
    n = len(rows)
    groups = [r.get("group", "") for r in rows]
    out: dict = {"n": n}
    for metric, field in METRIC_FIELDS.items():
        values = [float(r[field]) for r in rows]
        out[metric] = sum(values) / n if n else 0.0
        out.setdefault("ci95", {})[metric] = list(bootstrap_ci(values, groups))
    return out


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
                     components: Sequence[str] = (), seed: int = 0) -> dict:
    """greedy, best_of_n, random_of_n and oracle_of_n, each with its means and 95% intervals and
    (the picks) its paired change against greedy, task by task (templates resampled as clusters);
    the score's pooled AUROC over the samples; each component's AUROC and pick accuracy."""
    chosen = picks(samples, score_of, seed)
    n_samples = max((len(rows) for rows in by_task(samples).values()), default=0)
    result: dict = {"samples": n_samples, "greedy": _means(greedy)}
    for name, rows in chosen.items():
        result[name] = {**_means(rows), "vs_greedy": paired_difference(greedy, rows)}
    oracle = result["oracle_of_n"]["utility_accuracy"]
    result["best_share_of_oracle"] = result["best_of_n"]["utility_accuracy"] / oracle if oracle else None
    result["sample_auroc"] = auroc([score_of(r) for r in samples], [bool(r["utility"]) for r in samples])
    result["components"] = component_signals(samples, components)
    return result
