"""How well does each weighting of the stored components predict a right command? No model.

    python experiments/scorer_weights.py RUN_DIR [RUN_DIR ...] [--threshold 0.5] [--json OUT]

For every candidate with reference commands, "right" means the same program as a reference
(the held-out utility metric). For each weighting: the AUROC of the score as a predictor of
"right", and at the threshold the acceptance rate and the accuracy of what is accepted vs
rejected. Guards are re-run with today's code (pure functions of task and command), and
their flag rate and the accuracy of the flagged candidates are printed too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.metrics import auroc, judge
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.score import combine
from inversion_tui.run_record import load_run, rescore_text

WEIGHTINGS = {
    "default (embed .6, overlap .2, difflib .2)": {"embed": 0.6, "overlap": 0.2, "difflib": 0.2},
    "--mask-literals (embed .6, masked .2/.2)": {"embed": 0.6, "overlap_masked": 0.2, "difflib_masked": 0.2},
    "embed only": {"embed": 1.0},
    "overlap only": {"overlap": 1.0},
    "difflib only": {"difflib": 1.0},
    "overlap_masked only": {"overlap_masked": 1.0},
    "difflib_masked only": {"difflib_masked": 1.0},
    "seed-like (overlap .4, difflib .6; no rating)": {"overlap": 0.4, "difflib": 0.6},
}


def mean(values):
    return sum(values) / len(values) if values else None


def analyse(candidates: list[Candidate], threshold: float) -> dict:
    judged = [(c, judge(c.command, c.references).utility) for c in candidates if c.references]
    flags = {id(c): guard_flags(c.task, c.command) for c, _ in judged}
    out = {"candidates": len(candidates), "judged": len(judged), "right": sum(ok for _, ok in judged),
           "flagged": sum(bool(flags[id(c)]) for c, _ in judged),
           "flagged_accuracy": mean([float(ok) for c, ok in judged if flags[id(c)]]),
           "unflagged_accuracy": mean([float(ok) for c, ok in judged if not flags[id(c)]]),
           "weightings": {}}
    for name, weights in WEIGHTINGS.items():
        scores = [combine(c.components, weights) for c, _ in judged]
        accepted = [(s >= threshold and not flags[id(c)], ok) for s, (c, ok) in zip(scores, judged)]
        out["weightings"][name] = {
            "auroc": auroc(scores, [ok for _, ok in judged]),
            "acceptance": mean([float(a) for a, _ in accepted]),
            "accepted_accuracy": mean([float(ok) for a, ok in accepted if a]),
            "rejected_accuracy": mean([float(ok) for a, ok in accepted if not a]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    candidates = []
    for directory in args.runs:
        run = load_run(directory)
        rescore_text(run)  # the masked components for runs made before they existed
        candidates += run.candidates
    result = {"runs": [str(d) for d in args.runs], "threshold": args.threshold, **analyse(candidates, args.threshold)}
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"{result['judged']} candidates with references, {result['right']} right "
          f"({result['right'] / max(1, result['judged']):.1%}); flagged by today's guards: {result['flagged']} "
          f"(accuracy flagged {fmt(result['flagged_accuracy'])}, unflagged {fmt(result['unflagged_accuracy'])})")
    print(f"{'weighting':48} {'AUROC':>6} {'accept':>7} {'acc acc':>8} {'acc rej':>8}")
    for name, row in result["weightings"].items():
        print(f"{name:48} {fmt(row['auroc']):>6} {fmt(row['acceptance']):>7} {fmt(row['accepted_accuracy']):>8} "
              f"{fmt(row['rejected_accuracy']):>8}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
