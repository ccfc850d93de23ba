"""Headless mode: render the engine's events with rich progress bars and per-cycle tables.

This is a consumer of the event stream, like the TUI; the engine knows nothing of it.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from inversion_tui.loop.gap import VerificationGap
from inversion_tui.loop.metrics import PairedDifference, by_set, describe_change, describe_evaluation, set_label
from inversion_tui.loop import events as ev
from inversion_tui.loop.progress import CycleRecord, Evaluation
from inversion_tui.loop.stopping import describe_best
from inversion_tui.plain_text import plain, visible


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def cycle_table(history: list[CycleRecord]) -> Table:
    """One row per cycle; before -> after pairs share a column so it fits 80 columns."""
    table = Table(title="Cycles", title_justify="left")
    for column in ("cycle", "mean score", "change [95% CI]", "accepted", "loss", "pairs", "secs"):
        table.add_column(column, justify="right")
    for entry in history:
        before, after = entry.before, entry.after
        table.add_row(
            str(entry.cycle),
            f"{_fmt(before.mean_score, '.2f')}→{_fmt(after.mean_score, '.2f')}",
            describe_change(entry.improvement, entry.improvement_ci95),
            f"{_fmt(before.acceptance_rate, '.0%')}→{_fmt(after.acceptance_rate, '.0%')}",
            _fmt(entry.train_loss, ".4f"),
            str(entry.train_examples),
            _fmt(entry.duration_s, ".0f"),
        )
    return table


def closing_lines(status: str, directory: str, history: list[CycleRecord],
                  evaluations: list[Evaluation] = (), best_adapter: str | None = None,
                  best_by: str | None = None) -> list[str]:
    """What a run says as it ends, headless or after the workbench closes: how it went, and what
    to do next. The intrinsic score and the held-out accuracy side by side, since only the
    second says whether training helped; and which adapter to keep (the best by --patience-on,
    `best_by`), since the last one is often not it (docs/RESULTS.md, issue 14)."""
    lines = [f"{status}: {len(history)} cycle(s) completed; outputs in {directory}"]
    if history:
        first, last = history[0], history[-1]
        lines.append(f"  intrinsic score {first.before.mean_score:.3f} -> {last.after.mean_score:.3f}, "
                     f"acceptance {first.before.acceptance_rate:.0%} -> {last.after.acceptance_rate:.0%}")
    for name, ordered in by_set(evaluations).items():
        base, latest = ordered[0], ordered[-1]
        label = set_label(name)
        line = (f"  {label} accuracy {base.utility_accuracy:.3f} (base) -> "
                f"{latest.utility_accuracy:.3f} (cycle {latest.cycle})")
        paired = latest.vs_base
        if paired and paired.n:
            line += f", paired {paired.describe()}"
        lines.append(line)
    if history and best_by:
        lines.append("  " + describe_best(directory, best_adapter, best_by))
    lines.append(f"next: inversion-tui inspect {directory}"
                 + (f"   or: inversion-tui run --resume {directory}" if status != "finished" else ""))
    return lines


def report_console() -> Console:
    """stdout for a report (explain, score, eval): on a terminal rich wraps at its width; piped
    or redirected, a line stays whole (rich would break it at 80 columns mid-sentence, and a
    grep or a reader would get the pieces)."""
    console = Console(highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


class HeadlessConsole:
    """An EventSink that draws progress while the engine runs (on the same thread)."""

    def __init__(self, console: Console | None = None, verbose: bool = False):
        self.console = console or Console(stderr=True)
        self.verbose = verbose
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("left"), TimeRemainingColumn(), TextColumn("{task.fields[note]}"), console=self.console,
            transient=True,
        )
        self.task_id = None
        self.stage_note = ""  # the stage under way, which the decoding steps add to
        self.history: list[CycleRecord] = []
        self.evaluations: list[Evaluation] = []
        self.cycles = 0
        self._handlers = self.handlers()

    def __enter__(self) -> "HeadlessConsole":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def log(self, message: str | Text, style: str = "dim") -> None:
        """One line above the bars; a str is shown as it is, never as markup."""
        # soft_wrap: the terminal wraps, not rich, so a path or a command copies whole
        self.progress.console.print(message if isinstance(message, Text) else plain(message, style), soft_wrap=True)

    SILENT = (ev.HistoryRestored, ev.CommandsGenerated, ev.CommandsInverted, ev.Paused, ev.Resumed,
              ev.ThresholdChanged, ev.WeightsChanged)
    """The events headless mode does not show: a resumed run's earlier candidates, a batch's
    commands before they are scored (`-v` prints scored ones), and what only the workbench
    can cause (pause, live threshold and weights)."""

    def handlers(self) -> dict[type, Callable[[Any], None]]:
        """The events headless mode shows, by type; with SILENT, every event type (a test checks)."""
        return {
            ev.RunStarted: self.on_RunStarted,
            ev.PhaseStarted: self.on_PhaseStarted,
            ev.TrainingStarted: self.on_TrainingStarted,
            ev.StageStarted: self.on_StageStarted,
            ev.Decoding: self.on_Decoding,
            ev.BatchDone: self.on_BatchDone,
            ev.CandidateScored: self.on_CandidateScored,
            ev.TrainingStep: self.on_TrainingStep,
            ev.TrainingDone: self.on_TrainingDone,
            ev.CheckpointSaved: self.on_CheckpointSaved,
            ev.CycleDone: self.on_CycleDone,
            ev.Evaluated: self.on_Evaluated,
            ev.Log: self.on_Log,
            ev.RunFinished: self.on_RunFinished,
        }

    def __call__(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _new_bar(self, description: str, total: int, completed: int = 0) -> None:
        if self.task_id is not None:
            self.progress.remove_task(self.task_id)
        self.task_id = self.progress.add_task(description, total=max(total, 1), completed=completed, note="")

    def on_RunStarted(self, e: ev.RunStarted) -> None:
        self.cycles = e.cycles
        self.log(f"run {e.output}: model {e.model} ({e.quant}) on {e.device}, {e.cycles} cycle(s)", "bold")

    def on_PhaseStarted(self, e: ev.PhaseStarted) -> None:
        # A resumed pass starts at the tasks restored from disk, which took no time here.
        self._new_bar(f"cycle {e.cycle}/{self.cycles} {e.phase} (tasks)", e.total, completed=e.done)

    def on_TrainingStarted(self, e: ev.TrainingStarted) -> None:
        self._new_bar(f"cycle {e.cycle}/{self.cycles} training ({e.examples} pairs)", e.examples)

    def on_StageStarted(self, e: ev.StageStarted) -> None:
        # Inside a batch (minutes on a CPU): say what the model is doing, not only 0/N.
        self.progress.update(self.task_id, note=f"{e.stage} {e.sequences} sequences")
        self.stage_note = f"{e.stage} {e.sequences} sequences"

    def on_Decoding(self, e: ev.Decoding) -> None:
        self.progress.update(self.task_id, note=f"{self.stage_note}, token {e.step}/{e.max_steps}")

    def on_BatchDone(self, e: ev.BatchDone) -> None:
        self.progress.update(self.task_id, completed=e.tasks_done, note="")
        if not self.console.is_terminal:  # redirected, the bar draws nothing: a line a batch instead
            self.log(f"cycle {e.cycle} {e.phase}: {e.tasks_done}/{e.tasks_total} tasks done")

    def on_CandidateScored(self, e: ev.CandidateScored) -> None:
        if self.verbose:
            line = Text("accept", style="green") if e.accepted else Text("reject", style="red")
            line.append(visible(f" {e.score:.2f}  {e.task}  ->  {e.command}  ->  {e.reconstruction}"))
            if not e.accepted and e.reason:
                line.append(visible(f"  ({e.reason})"), style="dim")  # as the workbench says it
            self.log(line)

    def on_TrainingStep(self, e: ev.TrainingStep) -> None:
        self.progress.update(self.task_id, total=e.total_steps, completed=e.step, note=f"loss {e.loss:.4f}")

    def on_TrainingDone(self, e: ev.TrainingDone) -> None:
        if e.mean_loss is not None:
            kind = "train-now step" if e.manual else "trained"
            self.log(f"cycle {e.cycle}: {kind} on {e.examples} pairs, {e.steps} steps, mean loss {e.mean_loss:.4f}")

    def on_CheckpointSaved(self, e: ev.CheckpointSaved) -> None:
        self.log(f"saved adapter {e.path}")

    def on_CycleDone(self, e: ev.CycleDone) -> None:
        self.history.append(e.metrics)
        self.progress.console.print(cycle_table(self.history[-1:]))

    def on_Evaluated(self, e: ev.Evaluated) -> None:
        self.evaluations.append(e.summary)
        self.log(describe_evaluation(e.cycle, e.summary), "bold")

    def on_Log(self, e: ev.Log) -> None:
        self.log(e.message, "yellow" if e.level == "warning" else "dim")

    def on_RunFinished(self, e: ev.RunFinished) -> None:
        if self.task_id is not None:
            self.progress.remove_task(self.task_id)
        if len(self.history) > 1:  # a single cycle's table was printed when it ended
            self.progress.console.print(cycle_table(self.history))
        for line in closing_lines(e.status, e.output, self.history, self.evaluations, e.best_adapter, e.best_by):
            self.log(line, "bold")


def eval_table(summary: dict[str, Any]) -> Table:
    adapter = f" + {summary['adapter']}" if summary.get("adapter") else ""
    hints = f", hints: {summary['hints']}" if summary.get("hints") else ""
    table = Table(title=plain(f"{summary['model']}{adapter}: {summary['n']} tasks ({summary['source']}{hints})"),
                  title_justify="left")
    for column in ("metric", "value", "95% CI"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name in ("utility_accuracy", "exact_match", "token_f1"):
        low, high = summary["ci95"][name]
        table.add_row(name.replace("_", " "), f"{summary[name]:.3f}", f"[{low:.3f}, {high:.3f}]")
    table.add_row("mean intrinsic score", f"{summary['mean_score']:.3f}", "")
    table.add_row("AUROC (score -> right program)", _fmt(summary["auroc"]), "")
    if summary.get("paired"):
        paired = PairedDifference.from_json(summary["paired"])
        for name in ("utility_accuracy", "exact_match", "token_f1"):
            low, high = paired.ci95[name]
            table.add_row(f"change in {name.replace('_', ' ')} (paired, n={paired.n})",
                          f"{paired.delta[name]:+.3f}", f"[{low:+.3f}, {high:+.3f}]")
        table.add_row("programs right now / wrong now", f"+{paired.gained} / -{paired.lost}", "")
    return table


def gap_tables(gap: VerificationGap) -> list[Table]:
    """The verification gap of `eval --samples` (loop/gap.py): the picks beside greedy, then
    what each component alone says."""
    picks = Table(title=f"verification gap: {gap.samples} samples per task", title_justify="left")
    for column in ("pick", "right program", "exact", "token F1", "right program vs greedy (paired, 95% CI)"):
        picks.add_column(column, justify="left" if column == "pick" else "right")
    for name in ("greedy", "best_of_n", "random_of_n", "oracle_of_n"):
        row = getattr(gap, name)
        change = row.vs_greedy.describe() if row.vs_greedy else ""
        picks.add_row(name.replace("_", " "), f"{row.utility_accuracy:.3f}", f"{row.exact_match:.3f}",
                      f"{row.token_f1:.3f}", change)
    picks.caption = (f"best of n reaches {_fmt(gap.best_share_of_oracle)} of the oracle; the score's AUROC "
                     f"over all samples {_fmt(gap.sample_auroc)}")
    signals = Table(title="each component alone", title_justify="left")
    for column in ("component", "AUROC (right program)", "right program of its pick"):
        signals.add_column(column, justify="left" if column == "component" else "right")
    for name, values in gap.components.items():
        signals.add_row(name, _fmt(values["auroc"]), f"{values['pick_utility']:.3f}")
    if not gap.pick_table:
        return [picks, signals]
    rules = Table(title="what each selection rule would train on (the samples as one pass)", title_justify="left")
    for column in ("rule", "tasks kept", "samples kept", "kept right program"):
        rules.add_column(column, justify="left" if column == "rule" else "right")
    for row in gap.pick_table:
        rules.add_row(row["rule"], f"{row['tasks']} of {row['of_tasks']}", str(row["samples"]), _fmt(row["right"]))
    return [picks, signals, rules]
