"""Uptake (issue 32): how much of what a run's picks knew reached greedy decoding, on the very
tasks it trained on. No model here: it writes the task file and prints the two `eval` commands.

    python experiments/uptake.py RUN_DIR OUT_DIR
    # then the two printed commands: the base model, then the run's last adapter, greedy, paired

From RUN_DIR's candidates.jsonl and progress.json: every BEFORE-pass candidate a training step
used, judged against its task's references (the pool's, kept for checks like this one and never
trained on): the picks' right-program share. Writes OUT_DIR/trained_tasks.jsonl (each trained
task once, with its references) and OUT_DIR/picks.json. A task trained on twice (a later pass
drew it again) counts once, with the share of its picks that were right.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inversion_tui.loop.metrics import judge
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import read_candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    progress = Progress.read(args.run)
    trained = progress.trained_positions()
    picks = [c for c in read_candidates(args.run) if c.trained_in(trained)]
    if not picks or not all(c.references for c in picks):
        raise SystemExit(f"{args.run}: no trained candidates with references (a pool with references is needed)")
    by_task: dict[str, dict] = {}
    for c in picks:
        right = judge(c.command, c.references).utility
        entry = by_task.setdefault(c.task, {"task": c.task, "references": list(c.references), "right": []})
        entry["right"].append(right)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "trained_tasks.jsonl").open("w") as out:
        for entry in by_task.values():
            out.write(json.dumps({"task": entry["task"], "references": entry["references"]}) + "\n")
    share = sum(sum(e["right"]) / len(e["right"]) for e in by_task.values()) / len(by_task)
    summary = {"run": str(args.run), "picks": len(picks), "tasks": len(by_task),
               "picks_right": sum(judge(c.command, c.references).utility for c in picks) / len(picks),
               "tasks_right_share": share}
    (args.out / "picks.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))
    tasks = args.out / "trained_tasks.jsonl"
    print(f"inversion-tui eval --tasks-file {tasks} --save-rows {args.out}/base.jsonl")
    last = args.run / f"checkpoint_cycle_{progress.cycles[-1].cycle}"  # the run's last adapter, not its best
    print(f"inversion-tui eval --tasks-file {tasks} --adapter {last} --save-rows {args.out}/adapter.jsonl "
          f"--paired-with {args.out}/base.jsonl")


if __name__ == "__main__":
    main()
