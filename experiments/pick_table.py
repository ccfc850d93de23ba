"""The pick table (issue 32, point 2): what each selection rule would train on if a set's stored
samples were one pass, with no model call. Chosen on the tuning sets, reported on the other.

    python experiments/pick_table.py [DIR] [--json OUT]

DIR (default experiments/results/verifier_docs_v2) holds {packs,intercode}_{greedy,samples}.jsonl
(8 samples a task, with today's components: experiments/doc_verifier.py). Each sample is scored
again with today's default weights from its stored components. Sets: the packs (100 tasks, the
tuning set of every weighting so far), InterCode's half A (`intercode:a`, 150 tasks: the half
the issue's screen chooses on) and half B (`intercode:b`: reported, never used to choose).
For each rule: the tasks and samples it keeps and how often a kept sample names a right program,
beside the set's greedy accuracy and its best of 8 (the same as best-per-task with no floor).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inversion_tui.eval_sets import intercode_half_positions, load_eval_rows
from inversion_tui.loop.components import default_weights
from inversion_tui.loop.gap import pick_table
from inversion_tui.loop.score import combine



def sets(directory: Path) -> dict[str, tuple[list[dict], list[dict]]]:
    packs = (load_eval_rows(directory / "packs_greedy.jsonl"), load_eval_rows(directory / "packs_samples.jsonl"))
    greedy, samples = load_eval_rows(directory / "intercode_greedy.jsonl"), load_eval_rows(directory / "intercode_samples.jsonl")
    out = {"packs (tuning)": packs}
    for half, role in (("intercode:a", "tuning half"), ("intercode:b", "reported only")):
        positions = set(intercode_half_positions(half))
        out[f"{half} ({role})"] = ([r for r in greedy if r["index"] in positions],
                                   [r for r in samples if r["index"] in positions])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=Path("experiments/results/verifier_docs_v2"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    weights = default_weights()
    score_of = lambda row: combine(row["components"], weights)  # noqa: E731
    report = {"weights": {k: v for k, v in weights.items() if v}, "sets": {}}
    print(f"weights: {', '.join(f'{k} {v:g}' for k, v in report['weights'].items())}\n")
    print("| set | greedy right | rule | tasks kept | samples kept | kept right |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (greedy, samples) in sets(args.directory).items():
        table = pick_table(samples, score_of)
        greedy_right = sum(bool(r["utility"]) for r in greedy) / len(greedy)
        report["sets"][name] = {"greedy": greedy_right, "tasks": len(greedy), "rules": table}
        for row in table:
            right = "-" if row["right"] is None else f"{row['right']:.3f}"
            print(f"| {name} | {greedy_right:.3f} | {row['rule']} | {row['tasks']} of {row['of_tasks']} | "
                  f"{row['samples']} | {right} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
