"""Which weighting of the stored components verifies best? Chosen on one set, reported on another.
No model: it reads the sample rows `eval --samples N --save-samples` wrote.

    python experiments/verifier_weights.py [DIR] [--json OUT]

DIR (default experiments/results/verifier, written by experiments/verifier_gap.sh) holds
packs_{greedy,samples}.jsonl (the tuning set: tasks of the packs the loop trains on) and
intercode_{greedy,samples}.jsonl (the report set: InterCode-ALFA, never used to choose).

Every weighting on a grid (0, 1 or 2 for each component below) is scored on the tuning set;
the one with the highest pooled AUROC for a right program is chosen (ties: the higher
best-of-N accuracy, then the fewer components), the criterion fixed before looking at the
report set. Then, on the report set alone: the chosen weighting, the one that picks best on the
tuning set, the project's default and each component alone, with the verification gap
(best of N vs greedy, paired, random and oracle).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from pathlib import Path

from inversion_tui.eval_sets import load_eval_rows
from inversion_tui.loop.gap import by_task, best_of, verification_gap
from inversion_tui.loop.metrics import auroc
from inversion_tui.loop.components import default_weights
from inversion_tui.loop.score import combine

GRID_COMPONENTS = ("embed", "overlap_masked", "difflib", "coder", "reviewer", "reviewer_pmi", "consensus")
"""The plain overlap is left out for its masked twin (they agree closely, and masking guards
against copied literals); self_rating is not stored (it costs a generate call)."""
GRID_VALUES = (0.0, 1.0, 2.0)
DOCS_GRID = ("embed", "overlap_masked", "coder", "reviewer", "consensus", "documented", "doc", "doc_options",
             "options_known")
"""With the manual's components (experiments/doc_verifier.py adds them to the rows): the default's
components and the four; difflib and reviewer_pmi, never chosen before, are left out to keep
the grid at 3^9."""
FORWARD = ("coder", "reviewer", "reviewer_pmi")
"""The components that cost a forward pass of the model: a weighting without them is a faster loop."""



def quick(samples: list[dict], weights: dict[str, float]) -> tuple[float, float]:
    """(pooled AUROC, right-program accuracy of the best of N) of one weighting."""
    scores = [combine(r["components"], weights) for r in samples]
    area = auroc(scores, [bool(r["utility"]) for r in samples]) or 0.0
    by_id = {id(r): s for r, s in zip(samples, scores)}
    tasks = by_task(samples).values()
    best = sum(best_of(rows, lambda r: by_id[id(r)])["utility"] for rows in tasks) / len(tasks)
    return area, best


def auroc_ci(samples: list[dict], weights: dict[str, float], resamples: int = 1000, seed: int = 0) -> list[float]:
    """A 95% interval for the pooled AUROC, resampling whole tasks (a task's N samples together)."""
    scored = [(combine(r["components"], weights), bool(r["utility"])) for r in samples]
    tasks: dict = {}
    for row, pair in zip(samples, scored):
        tasks.setdefault((row["index"], row["task"]), []).append(pair)
    groups = list(tasks.values())
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        pairs = [pair for _ in groups for pair in groups[rng.randrange(len(groups))]]
        value = auroc([s for s, _ in pairs], [y for _, y in pairs])
        if value is not None:
            values.append(value)
    values.sort()
    return [values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]]


def search(samples: list[dict], grid: tuple[str, ...] = GRID_COMPONENTS) -> list[dict]:
    results = []
    for values in itertools.product(GRID_VALUES, repeat=len(grid)):
        if not any(values):
            continue
        weights = {name: value for name, value in zip(grid, values) if value}
        if len(set(weights.values())) == 1 and any(v != 1.0 for v in weights.values()):
            continue  # all 2s rank exactly as all 1s
        area, best = quick(samples, weights)
        results.append({"weights": weights, "auroc": area, "best_of_n": best})
    return results


def label(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in weights.items() if value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=Path("experiments/results/verifier"))
    parser.add_argument("--json", type=Path, help="write everything to this file")
    parser.add_argument("--grid", choices=("classic", "docs"), default="classic",
                        help="classic: the components of issue 13; docs: with the manual's (doc_verifier.py's rows)")
    args = parser.parse_args()
    grid_components = DOCS_GRID if args.grid == "docs" else GRID_COMPONENTS
    d = args.directory
    tune = load_eval_rows(d / "packs_samples.jsonl")
    report_greedy, report = load_eval_rows(d / "intercode_greedy.jsonl"), load_eval_rows(d / "intercode_samples.jsonl")

    grid = search(tune, grid_components)
    by_auroc = lambda r: (round(r["auroc"], 4), r["best_of_n"], -len(r["weights"]))  # noqa: E731
    chosen = max(grid, key=by_auroc)
    picker = max(grid, key=lambda r: (r["best_of_n"], round(r["auroc"], 4), -len(r["weights"])))
    candidates = {"chosen on the packs (max AUROC)": chosen["weights"],
                  "best picker on the packs (max best-of-N)": picker["weights"],
                  "default": {k: v for k, v in default_weights().items() if v}}
    if args.grid == "docs":
        no_forward = max((r for r in grid if not set(r["weights"]) & set(FORWARD)), key=by_auroc)
        candidates["chosen on the packs without forward-pass terms"] = no_forward["weights"]
        candidates["issue 13's weighting (the default before)"] = {"embed": 1.0, "overlap_masked": 1.0, "coder": 1.0,
                                                                    "reviewer": 2.0, "consensus": 2.0}
    candidates.update({f"{name} alone": {name: 1.0} for name in grid_components + ("overlap",)})

    rows = []
    for name, weights in candidates.items():
        tune_auroc, tune_best = quick(tune, weights)
        gap = verification_gap(report_greedy, report, score_of=lambda r, w=weights: combine(r["components"], w))
        change = gap.best_of_n.vs_greedy
        rows.append({"name": name, "weights": weights, "tune_auroc": tune_auroc, "tune_best_of_n": tune_best,
                     "report_auroc": gap.sample_auroc, "report_auroc_ci95": auroc_ci(report, weights),
                     "greedy": gap.greedy.utility_accuracy,
                     "best_of_n": gap.best_of_n.utility_accuracy,
                     "best_vs_greedy": change.delta["utility_accuracy"],
                     "best_vs_greedy_ci95": change.ci95["utility_accuracy"],
                     "best_exact": gap.best_of_n.exact_match, "greedy_exact": gap.greedy.exact_match,
                     "random_of_n": gap.random_of_n.utility_accuracy,
                     "oracle_of_n": gap.oracle_of_n.utility_accuracy,
                     "best_share_of_oracle": gap.best_share_of_oracle})

    n_tasks = len(by_task(report))
    print(f"tuning set: {len(by_task(tune))} pack tasks, {len(tune)} samples; grid of {len(grid)} weightings")
    print(f"report set: InterCode-ALFA, {n_tasks} tasks, {len(report)} samples\n")
    print("| weighting | packs AUROC | packs best-of-N | InterCode AUROC (95% CI, tasks resampled) | greedy | best of N "
          "(paired change, 95% CI) | random | oracle | best / oracle |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        low, high = r["best_vs_greedy_ci95"]
        a_low, a_high = r["report_auroc_ci95"]
        print(f"| {r['name']}: {label(r['weights'])} | {r['tune_auroc']:.3f} | {r['tune_best_of_n']:.3f} | "
              f"{r['report_auroc']:.3f} [{a_low:.3f}, {a_high:.3f}] | {r['greedy']:.3f} | {r['best_of_n']:.3f} ({r['best_vs_greedy']:+.3f} "
              f"[{low:+.3f}, {high:+.3f}]) | {r['random_of_n']:.3f} | {r['oracle_of_n']:.3f} | "
              f"{r['best_share_of_oracle']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"grid_components": grid_components, "grid_values": GRID_VALUES,
                                         "chosen": chosen, "picker": picker, "rows": rows,
                                         "top_grid_by_auroc": sorted(grid, key=lambda r: -r["auroc"])[:20]},
                                        indent=1))


if __name__ == "__main__":
    main()
