"""Training strength (issue 32, stage c): how hard must a step train on a run's picks before
greedy decoding takes up what they know? No generation of picks here: the run's own training
examples (every step's, as its last --train-from base step trained on them) are trained again
from the base at each strength, and each adapter is read greedily on the pool's half alone.

    python experiments/train_strength.py RUN_DIR OUT_DIR [--strength EPOCHS:LR ...]

The run must draw its pool from `intercode:a` (issue 32's tuning half): strengths are chosen
here, on half A, and never on half B. Per strength, on A's 150 tasks (greedy, one command a
task; no inversion, the score is not what is measured):

- loss: the step's mean loss over its last epoch (how well the picks are fit);
- reproduced: the share of trained tasks whose greedy command is the pick (normalized);
- trained right: greedy right program on the tasks trained on (uptake), with the picks' own share;
- untrained right: greedy right program on A's other tasks (carry-over within the half);
each paired with the base model task by task (95% paired bootstrap).

Writes OUT_DIR/strengths.json (one entry a strength) and OUT_DIR/rows/<strength>.jsonl (each
task's greedy command and judgement). Adapters are not kept: the figure is the point.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from inversion_tui.backends import load_backend
from inversion_tui.eval_sets import load_intercode_half
from inversion_tui.loop.generate import generate_commands
from inversion_tui.loop.metrics import judge, paired_difference
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.resume import resumed_settings
from inversion_tui.loop.runlog import RunLog, read_candidates
from inversion_tui.loop.training_set import trained_before
from inversion_tui.shell import normalize_command
from inversion_tui.tasks import load_packs

DEFAULT_STRENGTHS = ("1:2e-4", "3:2e-4", "6:2e-4", "3:6e-4", "6:6e-4")


def greedy_rows(backend, tasks, examples, settings) -> list[dict]:
    rows = []
    for start in range(0, len(tasks), settings.gen_batch_size):
        batch = tasks[start : start + settings.gen_batch_size]
        generated = generate_commands(backend, [t.task for t in batch], candidates=1, temperature=0.0,
                                      max_new_tokens=settings.max_new_tokens, examples=examples)
        for task, per_task in zip(batch, generated):
            verdict = judge(per_task[0].command, task.references)
            rows.append({"index": len(rows), "task": task.task, "command": per_task[0].command,
                         "utility": verdict.utility, "token_f1": verdict.token_f1, "exact": verdict.exact})
    return rows


def mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else float("nan")


def share(rows: list[dict], key: str = "utility") -> float:
    return mean(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--strength", action="append", help="EPOCHS:LR (repeatable); default: "
                        + " ".join(DEFAULT_STRENGTHS))
    args = parser.parse_args()
    strengths = [(int(e), float(lr)) for e, lr in (s.split(":") for s in args.strength or DEFAULT_STRENGTHS)]
    settings, _ = resumed_settings(RunLog(args.run), {})
    if settings.tasks_from != "intercode:a":
        raise SystemExit(f"{args.run}: its pool is {settings.tasks_from}, not intercode:a (choose on half A only)")
    progress = Progress.read(args.run)
    candidates = read_candidates(args.run)
    trained = progress.trained_positions()
    picks: dict[str, list[str]] = {}  # each trained task's picks, as generated
    for c in candidates:
        if c.trained_in(trained):
            picks.setdefault(c.task, []).append(c.command)
    examples = load_packs(settings.pack).examples[: settings.few_shot]
    tasks = load_intercode_half("intercode:a", "--tasks-from intercode:a")
    backend = load_backend(settings, log=print)
    pairs = trained_before(backend, examples, settings.objective, candidates, trained)
    picks_right = {t.task: mean(judge(c, t.references).utility for c in picks[t.task])
                   for t in tasks if t.task in picks}
    pick_forms = {task: {normalize_command(c) for c in commands} for task, commands in picks.items()}
    print(f"{len(pairs)} training examples over {len(picks)} tasks; picks right {mean(picks_right.values()):.3f}")

    (args.out / "rows").mkdir(parents=True, exist_ok=True)
    base = greedy_rows(backend, tasks, examples, settings)
    (args.out / "rows" / "base.jsonl").write_text("".join(json.dumps(r) + "\n" for r in base))
    results = []
    for epochs, lr in strengths:
        started = time.perf_counter()
        backend.reset_adapter()
        backend.reseed(settings.seed)
        result = backend.train(pairs, lr=lr, batch_size=settings.batch_size, epochs=epochs, seed=settings.seed)
        train_s = time.perf_counter() - started
        per_epoch = len(result.losses) // epochs
        rows = greedy_rows(backend, tasks, examples, settings)
        name = f"e{epochs}_lr{lr:g}"
        (args.out / "rows" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        inside = [r for r in rows if r["task"] in picks]
        outside = [r for r in rows if r["task"] not in picks]
        base_in = [r for r in base if r["task"] in picks]
        base_out = [r for r in base if r["task"] not in picks]
        entry = {
            "strength": name, "epochs": epochs, "lr": lr, "steps": result.steps, "train_s": round(train_s, 1),
            "loss_first_epoch": sum(result.losses[:per_epoch]) / per_epoch,
            "loss_last_epoch": sum(result.losses[-per_epoch:]) / per_epoch,
            "reproduced": mean(normalize_command(r["command"]) in pick_forms[r["task"]] for r in inside),
            "trained_tasks": len(inside), "picks_right": mean(picks_right[r["task"]] for r in inside),
            "trained_right": share(inside), "trained_right_base": share(base_in),
            "trained_paired": paired_difference(base_in, inside).to_json(),
            "untrained_tasks": len(outside), "untrained_right": share(outside),
            "untrained_right_base": share(base_out), "untrained_paired": paired_difference(base_out, outside).to_json(),
            "untrained_f1": share(outside, "token_f1"), "untrained_f1_base": share(base_out, "token_f1"),
        }
        results.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if not k.endswith("paired")}))
        (args.out / "strengths.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
