"""The live pane: the task being scored, its candidate commands, their reconstructions and scores."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from inversion_tui.tui.state import CandidateRow
from inversion_tui.tui.widgets.bars import bar

COMPONENT_LABELS = {"embed": "emb", "overlap": "ovl", "difflib": "dif", "self_rating": "self"}


def verdict(row: CandidateRow) -> Text:
    if row.accepted:
        return Text("accepted", style="bold green")
    return Text(f"rejected: {row.reason}", style="red")


class LivePane(Static):
    """Shows the newest task and every candidate scored for it so far."""

    def show(self, rows: list[CandidateRow], weights: dict[str, float]) -> None:
        if not rows:
            self.update(Text("waiting for the first candidate…", style="dim"))
            return
        task = rows[-1].task
        table = Table(box=None, expand=True, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("command", ratio=3, overflow="fold")
        table.add_column("reconstruction", ratio=3, overflow="fold")
        table.add_column("components", no_wrap=True)
        table.add_column("score", justify="right", no_wrap=True)
        for row in (r for r in rows if r.task == task and r.cycle == rows[-1].cycle and r.phase == rows[-1].phase):
            components = Text()
            for name, label in COMPONENT_LABELS.items():
                value = row.components.get(name)
                if value is None and weights.get(name, 0) <= 0:
                    continue
                components.append(f"{label} ")
                components.append_text(bar(value, 6))
                components.append(" " if value is None else f" {value:.2f}\n")
            score = Text(f"{row.score:.2f}\n")
            score.append_text(verdict(row))
            table.add_row(Text(row.command or "(empty)", style="bold"), row.reconstruction, components, score)
        header = Text()
        header.append("task ", style="bold")
        header.append(task)
        self.update(Group(header, table))
