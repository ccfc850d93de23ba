"""The candidates table of the current cycle: newest first, scrollable."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from inversion_tui.tui.state import CandidateRow

# Fixed widths: auto-width columns grow with whatever was on screen before a clear(), so the
# layout jumped while streaming and depended on render timing.
COLUMNS = {"#": 4, "cycle": 5, "phase": 6, "score": 5, "verdict": 8, "tool": 12, "command": 48,
           "reconstruction": 48, "task": 60}


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
        for name, width in COLUMNS.items():
            self.add_column(name, key=name, width=width)

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
