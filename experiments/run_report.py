"""Per-cycle tables of one or more runs, read from their files alone (no model).

    python experiments/run_report.py RUN_DIR [RUN_DIR ...] [--json OUT]

For each run:
- the loop's own view per cycle: mean score and acceptance (BEFORE -> AFTER pass), guard
  flags, pairs trained, loss, and how often accepted vs rejected BEFORE-pass candidates name a
  reference's program;
- the training pool at other thresholds, with and without the guards: how many BEFORE-pass
  candidates would be accepted and how often they name a reference's program (the scores
  are as recorded, so this holds for a run whose weights did not change), and with the
  guards of the code running this report, which may be newer than the run's;
- for each held-out set, per cycle: utility accuracy, exact match and token F1 with 95%
  bootstrap intervals, the mean intrinsic score and its AUROC, and the paired change against
  the base model (the same tasks, task by task, from evaluations.jsonl). Intervals are
  recomputed from the per-task rows; tasks rendered from one held-out template are resampled
  together, also for runs whose rows predate the `group` field (their held-out sample is
  rebuilt from settings.json).
With several runs (same seed and held-out sets), the last cycle of each later run is also
paired with the first run's last cycle, on each set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from inversion_tui.eval_sets import eval_sets_for
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.metrics import (
    METRIC_FIELDS, PairedDifference, bootstrap_ci, by_set, clusters_of, judge, paired_difference,
)
from inversion_tui.loop.progress import CycleRecord, Evaluation, Progress
from inversion_tui.loop.runlog import SETTINGS, read_candidates, read_eval_rows, read_json_object
from inversion_tui.loop.scorer_check import ScorerCheck
from inversion_tui.loop.select import Selector
from inversion_tui.settings import as_saved, saved_settings
from inversion_tui.task_pools import run_pools

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def ci(pair) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def signed(delta: float, pair) -> str:
    return f"{delta:+.3f} [{pair[0]:+.3f}, {pair[1]:+.3f}]"


def maybe(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def loop_table(cycles: list[CycleRecord]) -> list[str]:
    lines = ["| cycle | mean score before → after | acceptance before → after | flagged before / after "
             "| pairs trained (steps) | loss | accepted right / rejected right (BEFORE) | distinct commands |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in cycles:
        b, a = c.before, c.after
        check = c.scorer_check.get("before", ScorerCheck())
        loss = "-" if c.train_loss is None else f"{c.train_loss:.3f}"
        lines.append(
            f"| {c.cycle} | {b.mean_score:.3f} → {a.mean_score:.3f} | {b.acceptance_rate:.1%} → "
            f"{a.acceptance_rate:.1%} | {b.flagged} / {a.flagged} | {c.train_examples} "
            f"({c.train_steps}) | {loss} | {maybe(check.accepted_accuracy)} / "
            f"{maybe(check.rejected_accuracy)} | {b.distinct_commands}/{b.total_generated} |")
    return lines


def rate(rights: list[bool]) -> str:
    return maybe(sum(rights) / len(rights) if rights else None)


def pool_table(run: Path) -> tuple[list[str], list[dict]]:
    """The BEFORE-pass pool at each threshold, decided by the loop's own Selector pass by pass
    (a repeated (task, command) pair counts once): with the guards as the run applied them,
    with today's guards (re-run on the stored task and command), and with none (allow_flagged;
    an empty command is still out)."""
    passes: dict[tuple[int, str], list[SimpleNamespace]] = {}
    for c in read_candidates(run):
        if c.phase == "before":
            passes.setdefault((c.cycle, c.phase), []).append(SimpleNamespace(
                task=c.task, command=c.command, score=c.score, flags=c.flags,
                flags_now=guard_flags(c.task, c.command),
                right=judge(c.command, c.references).utility if c.references else None))
    judged = sum(1 for candidates in passes.values() for c in candidates if c.right is not None)
    lines = ["| threshold | accepted, run's guards | of them right | accepted, today's guards | of them right "
             "| accepted, no guards | of them right |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    # Each pass as the run's guards flagged it, and as today's guards do.
    views = {"run": list(passes.values()),
             "today": [[SimpleNamespace(**{**vars(c), "flags": c.flags_now}) for c in cs] for cs in passes.values()]}

    def accepted_right(selector: Selector, today: bool = False) -> list[bool]:
        """Whether each accepted candidate (with references) names a reference's program."""
        return [c.right for candidates in views["today" if today else "run"]
                for c, reason in zip(candidates, selector.decide(candidates)) if reason is None and c.right is not None]

    rows = []
    for threshold in THRESHOLDS:
        guarded = accepted_right(Selector(threshold))
        guarded_now = accepted_right(Selector(threshold), today=True)
        unguarded = accepted_right(Selector(threshold, allow_flagged=True))
        rows.append({"threshold": threshold, "accepted": len(guarded), "accepted_right": sum(guarded),
                     "accepted_todays_guards": len(guarded_now), "accepted_todays_guards_right": sum(guarded_now),
                     "accepted_no_guards": len(unguarded), "accepted_no_guards_right": sum(unguarded)})
        lines.append(f"| {threshold:.1f} | {len(guarded)} of {judged} | {rate(guarded)} | {len(guarded_now)} | "
                     f"{rate(guarded_now)} | {len(unguarded)} | {rate(unguarded)} |")
    return lines, rows


def holdout_groups(saved: dict) -> dict[tuple[int, str], str]:
    """(index, task) -> template of the run's holdout set: the sample is fixed by the run's seed
    and split, so it can be rebuilt for rows written before they stored their group."""
    settings = saved_settings(saved)
    if "holdout" not in settings.eval_suite:
        return {}
    heldout = run_pools(settings).heldout
    only_holdout = settings.model_copy(update={"eval_file": None, "eval_suite": ("holdout",)})
    return {(i, t.task): t.group for i, t in enumerate(eval_sets_for(only_holdout, heldout)["holdout"])}


def paired_cells(paired: PairedDifference) -> str:
    """A paired change's three table cells: accuracy, token F1, programs gained / lost."""
    return (f"{signed(paired.delta['utility_accuracy'], paired.ci95['utility_accuracy'])} | "
            f"{signed(paired.delta['token_f1'], paired.ci95['token_f1'])} | +{paired.gained} / -{paired.lost}")


def eval_table(ordered: list[Evaluation], rows: dict[int, list[dict]]) -> tuple[list[str], list[dict]]:
    """One line per cycle, and the numbers behind it. Where the cycle's per-task rows exist,
    the intervals and the paired change are computed from them (resampling whole groups where
    rows have one); else they are as the run stored them."""
    lines = ["| after cycle | utility accuracy [95% CI] | exact | token F1 [95% CI] | mean intrinsic score | AUROC "
             "| Δ accuracy vs base, paired | Δ token F1 vs base, paired | programs right now / wrong now |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    numbers = []
    for e in ordered:
        intervals, paired = e.ci95, e.vs_base
        now, base = rows.get(e.cycle), rows.get(ordered[0].cycle)
        if now:
            groups = [r.get("group", "") for r in now]
            intervals = {metric: bootstrap_ci([float(r[column]) for r in now], groups)
                         for metric, column in METRIC_FIELDS.items()}
            paired = paired_difference(base, now) if base and e.cycle > ordered[0].cycle else None
        numbers.append({**e.to_json(), "ci95": intervals, "vs_base": paired.to_json() if paired else None})
        if paired and paired.n:
            deltas = paired_cells(paired)
        else:
            deltas = "- | - | -"
        who = "0 (base)" if e.cycle == 0 else str(e.cycle)
        lines.append(
            f"| {who} | {e.utility_accuracy:.3f} {ci(intervals['utility_accuracy'])} | {e.exact_match:.3f} | "
            f"{e.token_f1:.3f} {ci(intervals['token_f1'])} | {e.mean_score:.3f} | {maybe(e.auroc)} | "
            f"{deltas} |")
    return lines, numbers


def report(runs: list[Path]) -> tuple[str, dict]:
    out, data = [], {}
    last_rows = {}
    for run in runs:
        progress = Progress.read(run)
        settings = as_saved(read_json_object(run / SETTINGS))
        rows = read_eval_rows(run)
        groups = holdout_groups(settings)
        for (name, _), group_rows in rows.items():
            for row in group_rows:
                if name == "holdout" and not row.get("group"):
                    row["group"] = groups.get((row["index"], row["task"]), "")
        pool_lines, pool = pool_table(run)
        out += [f"## {run}", "", *loop_table(progress.cycles), "", "Training pool by threshold (all BEFORE passes):", "",
                *pool_lines, ""]
        sets = by_set(progress.evaluations)
        evaluations = []  # as the tables show them: intervals recomputed from the rows
        for name, ordered in sets.items():
            cycles = {e.cycle: rows.get((name, e.cycle), []) for e in ordered}
            units = len(clusters_of([r.get("group", "") for r in cycles[ordered[0].cycle]], ordered[0].n))
            grouped = f", {units} groups resampled whole" if units < ordered[0].n else ""
            lines, numbers = eval_table(ordered, cycles)
            out += [f"### held-out: {name or 'held-out'} (n = {ordered[0].n}{grouped})", "", *lines, ""]
            evaluations += numbers
        data[str(run)] = {"settings": settings, "cycles": [c.to_json() for c in progress.cycles], "pool": pool,
                          "evaluations": evaluations}
        last_rows[run] = {name: rows.get((name, ordered[-1].cycle), []) for name, ordered in sets.items()}
    if len(runs) > 1:
        first = runs[0]
        out += [f"## last cycle of each run vs the last cycle of {first}, paired", "",
                "| run | set | n | Δ accuracy | Δ token F1 | programs right now / wrong now |",
                "| --- | --- | --- | --- | --- | --- |"]
        data["versus_first"] = {}
        for run in runs[1:]:
            for name, rows in last_rows[run].items():
                paired = paired_difference(last_rows[first].get(name, []), rows)
                data["versus_first"][f"{run}:{name}"] = paired.to_json()
                if paired.n:
                    out.append(f"| {run} | {name} | {paired.n} | {paired_cells(paired)} |")
    return "\n".join(out), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write the numbers behind the tables here")
    args = parser.parse_args()
    for run in args.runs:
        if not (run / "progress.json").is_file():
            sys.exit(f"error: {run}: not a run directory (no progress.json)")
    text, data = report(args.runs)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
