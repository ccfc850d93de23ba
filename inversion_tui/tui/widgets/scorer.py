"""The scorer tab: does the scorer track reality? Per pass, the accuracy (right program, against
the template's references) of what it accepts and what it rejects, its AUROC as a predictor of
correctness, the diversity of the commands, and the agreement with a person's marks. With
--eval-samples, the verification gap per cycle on the held-out sets: what the score's pick of
N gives beside greedy, a random pick and the oracle, and each component's AUROC."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from inversion_tui.loop.components import REGISTRY
from inversion_tui.loop.progress import Evaluation
from inversion_tui.loop.scorer_check import PassCheck
from inversion_tui.plain_text import plain


def _fraction(value: float | None, n: int | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if n is None else f"{value:.2f} ({n})"


def marks_line(agreement: dict[str, Any]) -> Text:
    text = Text("your marks: ", style="bold")
    if not agreement["marked"]:
        text.append("none yet (y = good, x = bad on a candidate)", style="dim")
        return text
    text.append(f"{agreement['marked']} marked, {agreement['good']} good; scorer precision "
                f"{_fraction(agreement['precision'])}, recall {_fraction(agreement['recall'])}, "
                f"AUROC {_fraction(agreement['auroc'])}")
    return text


def compact_table(title: str, expand: bool = False) -> Table:
    """A table that reads at 80 columns: a rule under the headers, no column lines (they cost
    a column of text each), headers on two lines where one would be wide."""
    return Table(expand=expand, header_style="bold", title_justify="left", title=title, box=box.SIMPLE_HEAD,
                 padding=(0, 0, 0, 1), pad_edge=False, show_edge=False)


def gap_table(evaluations: list[Evaluation]) -> Table | Text:
    with_gap = [e for e in evaluations if e.gap]
    if not with_gap:
        return Text("verification gap: not measured (run --eval-samples N, or inversion-tui eval --samples N)",
                    style="dim")
    table = compact_table(f"verification gap, held-out, {with_gap[0].gap.samples} samples per task "
                          "(right program; best = the score's pick)", expand=True)
    for column in ("cycle", "set", "greedy", "best\n(vs greedy)", "random", "oracle", "best/\noracle", "AUROC"):
        table.add_column(column, justify="left" if column == "set" else "right", no_wrap=True)
    table.add_column("component AUROC", justify="left", ratio=1)  # wraps: the one long cell
    for evaluation in with_gap:
        gap = evaluation.gap
        change = gap.best_of_n.vs_greedy
        low, high = change.ci95["utility_accuracy"]
        best = Text(f"{gap.best_of_n.utility_accuracy:.2f} ({change.delta['utility_accuracy']:+.2f})")
        if low > 0 or high < 0:  # the paired interval excludes zero
            best.stylize("bold green" if low > 0 else "bold red")
        signals = " ".join(f"{REGISTRY[name].label or name} {_fraction(v['auroc'])}"
                           for name, v in gap.components.items() if name in REGISTRY)
        # the set's name may be an --eval-file's stem: text, never markup
        table.add_row(str(evaluation.cycle), plain(evaluation.set or "-", single_line=True),
                      _fraction(gap.greedy.utility_accuracy), best,
                      _fraction(gap.random_of_n.utility_accuracy), _fraction(gap.oracle_of_n.utility_accuracy),
                      _fraction(gap.best_share_of_oracle), _fraction(gap.sample_auroc), signals)
    return table


class ScorerPanel(Static):
    def show(self, checks: list[PassCheck], agreement: dict[str, Any], weights: dict[str, float],
             threshold: float, evaluations: list[Evaluation] = ()) -> None:
        table = compact_table("scorer vs references, per pass (verdicts under the threshold and weights now)")
        for column in ("cycle", "pass", "judged", "accepted\nacc (n)", "rejected\nacc (n)", "token F1\nacc/rej",
                       "AUROC", "diversity"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in checks:
            check = row.check
            f1 = f"{_fraction(check.accepted_token_f1)}/{_fraction(check.rejected_token_f1)}"
            diversity = Text(_fraction(check.diversity))
            if row.collapse:
                diversity.append(" COLLAPSE", style="bold white on red")
            table.add_row(str(row.cycle), row.phase, f"{check.judged}/{check.candidates}",
                          _fraction(check.accepted_accuracy, check.accepted_n),
                          _fraction(check.rejected_accuracy, check.rejected_n), f1, _fraction(check.auroc),
                          diversity)
        used = ", ".join(f"{name}={weight:g}" for name, weight in weights.items() if weight > 0)
        legend = Text("acc accepted / rejected = share of the accepted / rejected candidates naming the "
                      "reference's program; AUROC = P(score of a right command > a wrong one's); diversity = "
                      "distinct commands / candidates", style="dim")
        self.update(Group(Text(f"threshold {threshold:.2f}; weights {used}"), marks_line(agreement), table, legend,
                          Text(""), gap_table(list(evaluations))))
