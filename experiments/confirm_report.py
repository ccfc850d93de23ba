"""The confirmation of the screen's best cells (experiments/confirm.sh), from its rows alone.

    python experiments/confirm_report.py CONFIRM_DIR [--screen MATRIX_DIR]

For each cell: utility accuracy, exact match and token F1 on all 300 InterCode-ALFA tasks,
each paired with the base model task by task (95% bootstrap), and the same on the 200 tasks
the screen did not see (index 100 and on), where the choice of cell cannot have been fitted.
With --screen, the base rows are also checked against each screened cell's own base
evaluation of the first 100 tasks: the loop is deterministic, so they must agree.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inversion_tui.eval_sets import load_eval_rows
from inversion_tui.loop.metrics import METRIC_FIELDS, paired_difference
from inversion_tui.loop.runlog import read_eval_rows

SCREENED = 100  # the screen's --eval-limit: the first 100 tasks


def line(cell: str, subset: str, base: list[dict], now: list[dict]) -> str:
    paired = paired_difference(base, now)
    cells = []
    for metric, column in METRIC_FIELDS.items():
        mean = sum(float(r[column]) for r in now) / len(now)
        cells.append(f"{mean:.3f}, {paired.describe(metric)}")
    return f"| {cell} | {subset} | {len(now)} | " + " | ".join(cells) + f" | +{paired.gained} / -{paired.lost} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("confirm", type=Path)
    parser.add_argument("--screen", type=Path, help="the matrix directory, to check the base rows against")
    args = parser.parse_args()
    base = load_eval_rows(args.confirm / "base.jsonl")
    print("| cell | tasks | n | accuracy, Δ vs base [95% CI] | exact, Δ | token F1, Δ | right now / wrong now |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in sorted(args.confirm.glob("*.jsonl")):
        if path.name == "base.jsonl":
            continue
        now = load_eval_rows(path)
        print(line(path.stem, "all", base, now))
        print(line(path.stem, "unscreened", [r for r in base if r["index"] >= SCREENED],
                   [r for r in now if r["index"] >= SCREENED]))
    if args.screen:
        for run in sorted(p for p in args.screen.iterdir() if (p / "evaluations.jsonl").exists()):
            screened = read_eval_rows(run).get(("intercode", 0), [])
            same = sum(a["command"] == b["command"] for a, b in zip(screened, base[:SCREENED]))
            print(f"{run.name}: base commands equal to the confirmation's on {same} of {len(screened)} tasks")


if __name__ == "__main__":
    main()
