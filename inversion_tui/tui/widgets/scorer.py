"""The scorer tab: does the scorer track reality? Per pass, the accuracy (right program, against
the template's references) of what it accepts and what it rejects, its AUROC as a predictor of
correctness, the diversity of the commands, and the agreement with a person's marks."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static


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


class ScorerPanel(Static):
    def show(self, checks: list[dict[str, Any]], agreement: dict[str, Any], weights: dict[str, float],
             threshold: float) -> None:
        table = Table(expand=True, header_style="bold", title_justify="left",
                      title="scorer vs references, per pass (verdicts under the threshold and weights now)")
        for column in ("cycle", "pass", "judged", "acc accepted (n)", "acc rejected (n)", "F1 acc/rej", "AUROC",
                       "diversity"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in checks:
            f1 = f"{_fraction(row['accepted_token_f1'])}/{_fraction(row['rejected_token_f1'])}"
            diversity = Text(_fraction(row["diversity"]))
            if row["collapse"]:
                diversity.append(" COLLAPSE", style="bold white on red")
            table.add_row(str(row["cycle"]), row["phase"], f"{row['judged']}/{row['candidates']}",
                          _fraction(row["accepted_accuracy"], row["accepted_n"]),
                          _fraction(row["rejected_accuracy"], row["rejected_n"]), f1, _fraction(row["auroc"]),
                          diversity)
        used = ", ".join(f"{name}={weight:g}" for name, weight in weights.items() if weight > 0)
        legend = Text("acc = share with the reference's program; AUROC = P(score of a right command > a wrong "
                      "one's); diversity = distinct commands / candidates", style="dim")
        self.update(Group(Text(f"threshold {threshold:.2f}; weights {used}"), marks_line(agreement), table, legend))
