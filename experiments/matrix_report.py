"""The screen of training recipes (experiments/training_matrix.sh), one table, from the runs'
files alone (no model).

    python experiments/matrix_report.py RUN_DIR [RUN_DIR ...] [--json OUT]

One line per cell and cycle: what the cell trained on, and for each held-out set the greedy
utility accuracy and its change against the base model, paired task by task (tasks of one
template or program resampled together), exact match and token F1 changes, and how many
distinct programs the answers name (the narrowing experiments 5 to 7 found: a loop that
trains on few programs answers with few).

The cells are ranked by a rule fixed before any cell ran: the change in InterCode accuracy
after the last cycle, then the held-out templates' change. The ranking picks the cells to
confirm on all 300 InterCode tasks; the confirmation is reported on the 200 tasks the screen
did not see as well as on all 300.

Last, the adapter each run would keep by its label-free --patience-on signal (stopping.py;
`eval --adapter RUN` evaluates it), beside its last: whether a rule that sees no labels picks
better than "train, then take the last".
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from run_report import signed  # the script's own folder is on sys.path
from inversion_tui.loop.metrics import paired_difference
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import SETTINGS, read_eval_rows, read_json_object
from inversion_tui.loop.select import Selector
from inversion_tui.loop.stopping import best_of_run
from inversion_tui.settings import as_saved
from inversion_tui.shell import program_name

OPTIONS = ("select", "train_from", "tasks_from", "objective", "replay", "replay_from")


def recipe(settings: dict) -> str:
    pool = settings["tasks_from"] or "packs"
    selector = Selector(settings["threshold"], settings["allow_flagged"], settings["select"], settings["select_k"],
                        settings["keep_top"])
    # keep-top has no floor: its fraction, not a threshold it does not apply
    rule = f"{settings['select']} ≥{settings['threshold']:.2f}" if selector.floored else selector.describe()
    parts = [rule, f"from {settings['train_from']}", pool]
    if settings["objective"] != "sft":
        parts.append(settings["objective"])
    if settings["tasks"] != 16:  # the screen's pass is 16 tasks (training_matrix.sh)
        parts.append(f"{settings['tasks']} tasks a pass")
    if settings["replay"]:
        parts.append(f"replay {settings['replay']}" + (f" on {settings['replay_from']}" if settings["replay_from"]
                                                        else ""))
    return ", ".join(parts)


def wall_time(run: Path) -> str:
    timing = run.with_name(run.name + ".time")
    if not timing.exists():
        return "-"
    fields = dict(part.split("=", 1) for part in timing.read_text().split() if "=" in part)
    return f"{float(fields['wall_s']) / 60:.0f} min" if "wall_s" in fields else "-"


def cell(run: Path) -> dict:
    """A cell's numbers: per set and cycle, the summary and the paired change against cycle 0."""
    settings = as_saved(read_json_object(run / SETTINGS))
    progress = Progress.read(run)
    rows = read_eval_rows(run)
    trained = {c.cycle: c.train_examples for c in progress.cycles}
    sets: dict[str, dict[int, dict]] = {}
    for (name, cycle), now in sorted(rows.items(), key=lambda item: item[0][1]):
        base = rows.get((name, 0))
        if not base or len(now) != len(base):
            continue  # an evaluation cut short by a stop: nothing to pair
        sets.setdefault(name, {})[cycle] = {
            "n": len(now),
            "accuracy": sum(r["utility"] for r in now) / len(now),
            "vs_base": paired_difference(base, now).to_json() if cycle else None,
            "programs": Counter(program_name(r["command"]) for r in now),
        }
    best, best_by = best_of_run(run)
    return {"run": str(run), "recipe": recipe(settings), "settings": {k: settings.get(k) for k in OPTIONS},
            "trained": trained, "wall": wall_time(run), "sets": sets,
            "best_cycle": 0 if best is None else next(c.cycle for c in progress.cycles if c.checkpoint == best),
            "best_by": best_by}


def set_columns(entry: dict | None) -> str:
    if entry is None:
        return "- | - | - | - | -"
    programs = f"{len(entry['programs'])} ({entry['programs'].get('echo', 0)} echo)"
    paired = entry["vs_base"]
    if paired is None:
        return f"{entry['accuracy']:.3f} | - | - | - | {programs}"
    d, c = paired["delta"], paired["ci95"]
    return (f"{entry['accuracy']:.3f} | {signed(d['utility_accuracy'], c['utility_accuracy'])} "
            f"+{paired['gained']}/-{paired['lost']} | {d['exact_match']:+.3f} | "
            f"{signed(d['token_f1'], c['token_f1'])} | {programs}")


def ranking_key(numbers: dict) -> tuple:
    def last_delta(name: str) -> float:
        cycles = numbers["sets"].get(name, {})
        last = cycles[max(cycles)] if cycles else None
        return last["vs_base"]["delta"]["utility_accuracy"] if last and last["vs_base"] else float("-inf")
    return (last_delta("intercode"), last_delta("holdout"))


def report(runs: list[Path]) -> tuple[str, list[dict]]:
    cells = [cell(run) for run in runs]
    names = sorted({name for c in cells for name in c["sets"]}, key=lambda n: (n != "intercode", n))
    header = ["cell", "recipe", "cycle", "examples in the step"]
    for name in names:
        header += [f"{name} accuracy", "Δ vs base, paired [95% CI] +gained/-lost", "Δ exact", "Δ token F1",
                   "programs named (echo)"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for c in cells:
        cycles = sorted({cycle for per in c["sets"].values() for cycle in per})
        for cycle in cycles:
            row = [Path(c["run"]).name, c["recipe"], "0 (base)" if cycle == 0 else str(cycle),
                   "-" if cycle == 0 else str(c["trained"].get(cycle, "-"))]
            row += [set_columns(c["sets"].get(name, {}).get(cycle)) for name in names]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Ranked by the change in InterCode accuracy after the last cycle, then the held-out set's:", ""]
    for rank, c in enumerate(sorted(cells, key=ranking_key, reverse=True), 1):
        intercode, holdout = (f"{v:+.3f}" if v != float("-inf") else "- (not evaluated)" for v in ranking_key(c))
        lines.append(f"{rank}. {Path(c['run']).name} ({c['recipe']}; {c['wall']}): InterCode {intercode}, "
                     f"held-out {holdout}")
    lines += ["", "The adapter each run keeps by its label-free signal (cycle 0: the base model), beside its last:",
              "", "| cell | kept by | kept cycle | " + " | ".join(f"{n} Δ kept / last" for n in names) + " |",
              "|" + " --- |" * (3 + len(names))]
    for c in cells:
        def delta(name: str, cycle: int) -> str:
            entry = c["sets"].get(name, {}).get(cycle)
            if entry is None:
                return "-"
            paired = entry["vs_base"]
            return "+0.000 +0/-0" if paired is None else (f"{paired['delta']['utility_accuracy']:+.3f} "
                                                          f"+{paired['gained']}/-{paired['lost']}")
        last = max(c["trained"], default=0)
        lines.append(f"| {Path(c['run']).name} | {c['best_by']} | {c['best_cycle']} | "
                     + " | ".join(f"{delta(n, c['best_cycle'])} / {delta(n, last)}" for n in names) + " |")
    return "\n".join(lines), cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    runs = [run for run in args.runs if run.is_dir()]  # OUT_DIR/* also names each cell's .log, .time, .command
    missing = [run for run in runs if not (run / "settings.json").is_file()]
    if not runs or missing:
        parser.error(f"not a run directory: {missing[0] if missing else args.runs[0]}")
    text, cells = report(runs)
    print(text)
    if args.json:
        for c in cells:
            for per in c["sets"].values():
                for entry in per.values():
                    entry["programs"] = dict(entry["programs"].most_common())
        args.json.write_text(json.dumps(cells, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
