"""The candidates table of the current cycle: newest first, scrollable."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from inversion_tui.tui.state import CandidateRow

COLUMNS = ("#", "cycle", "phase", "score", "verdict", "tool", "command", "reconstruction", "task")


def verdict_cell(row: CandidateRow) -> Text:
    if row.accepted:
        return Text("accepted", style="green")
    if row.flags:
        return Text("flagged", style="yellow")
    return Text("rejected", style="red")


class CandidatesTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for name in COLUMNS:
            self.add_column(name, key=name)

    def add_candidate(self, row: CandidateRow) -> None:
        self.add_row(
            row.number, row.cycle, row.phase, f"{row.score:.3f}", verdict_cell(row), row.tool,
            row.command, row.reconstruction, row.task, key=str(row.number),
        )

    def newest_first(self) -> None:
        self.sort("#", reverse=True)

    def refresh_verdicts(self, rows: list[CandidateRow]) -> None:
        for row in rows:
            if str(row.number) in self.rows:
                self.update_cell(str(row.number), "verdict", verdict_cell(row))
