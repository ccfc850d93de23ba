"""The candidates table: every candidate of the run, filtered and sorted; Enter inspects one.

While a batch is on its way the table also shows its pending rows (task and command as soon as
generation returns, the reconstruction once inversion does), at the top, until the batch's
scored candidates replace them: with one-batch passes the table is otherwise empty for a whole
pass. Pending rows are not candidates: not counted, not filtered, not inspected.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from inversion_tui.loop.components import REGISTRY
from inversion_tui.shell import program_name
from inversion_tui.plain_text import plain
from inversion_tui.tui.query import Predicate, show_all, sort_value
from inversion_tui.tui.state import CandidateRow

# Fixed widths: auto-width columns grow with whatever was on screen before a clear(), so the
# layout jumped while streaming and depended on render timing.
# The command comes right after the verdict, trained and mark, so it stays on screen at 80
# columns; at 160, every column up to the task is on screen with the default weights. `prog` is
# the command's program; the task's own tool (its template's) is the `tool:` filter and sort.
LEADING = {"#": 5, "pass": 9, "score": 5, "verdict": 8, "tr": 2, "mark": 4, "command": 30, "prog": 8}
TRAILING = {"reconstruction": 24, "task": 24}


def component_columns(weights: dict[str, float]) -> dict[str, str]:
    """Column header -> component: the weighted components that ask for a column, the ones
    that make the score (every component is in the inspector)."""
    return {spec.label or name: name for name, spec in REGISTRY.items() if spec.column and weights.get(name, 0) > 0}


def columns(weights: dict[str, float]) -> dict[str, int]:
    return {**LEADING, **{header: 4 for header in component_columns(weights)}, **TRAILING}


def verdict_cell(row: CandidateRow) -> Text:
    if row.accepted:
        return Text("accepted", style="green")
    if row.flags and (row.reason or "").startswith("flagged"):
        return Text("flagged", style="yellow")
    return Text("rejected", style="red")


def mark_cell(row: CandidateRow) -> Text:
    if row.mark == "good":
        return Text("good", style="bold green")
    if row.mark == "bad":
        return Text("bad", style="bold red")
    return Text("")


PENDING_PREFIX = "pending-"  # a pending row's key; a candidate's key is its number


def pending_cells(entry: list, pass_label: str) -> dict:
    """A pending row's cells; entry is [task, command, reconstruction or None]."""
    task, command, reconstruction = entry
    return {"#": "", "pass": pass_label, "score": "", "verdict": Text("pending", style="dim italic"),
            "tr": "", "mark": "", "command": plain(command, single_line=True),
            "prog": plain(program_name(command), single_line=True),
            "reconstruction": plain("…" if reconstruction is None else reconstruction, single_line=True),
            "task": plain(task, single_line=True)}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class CandidatesTable(DataTable):
    def __init__(self, weights: dict[str, float], **kwargs):
        super().__init__(**kwargs)
        self.weights = dict(weights)
        self.rows_by_number: dict[int, CandidateRow] = {}
        self.predicate: Predicate = show_all
        self.sort_key = "newest"
        self.descending = True
        self.pending: list[list] = []  # [task, command, reconstruction or None] of the batch on its way
        self.pending_pass = ""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.build_columns()

    def build_columns(self) -> None:
        self.columns_shown = columns(self.weights)  # as the table was built
        self.component_columns = component_columns(self.weights)
        for name, width in self.columns_shown.items():
            self.add_column(name, key=name, width=width)

    def set_weights(self, weights: dict[str, float], rows: list[CandidateRow]) -> None:
        """New weights: the score cells change, and the component columns with them."""
        self.weights = dict(weights)
        if component_columns(self.weights) != self.component_columns:
            self.clear(columns=True)
            self.build_columns()
        self.show(rows)

    def _cells(self, row: CandidateRow) -> list:
        # What the model wrote, the task and the tool are Texts: a str cell is parsed as markup.
        cells = {"#": row.number, "pass": f"{row.cycle} {row.phase}", "score": f"{row.score:.3f}",
                 "verdict": verdict_cell(row), "command": plain(row.command, single_line=True),
                 "reconstruction": plain(row.reconstruction, single_line=True),
                 "prog": plain(program_name(row.command), single_line=True),
                 "tr": "✓" if row.trained else "", "mark": mark_cell(row),
                 "task": plain(row.task, single_line=True),
                 **{column: _number(row.components.get(name)) for column, name in self.component_columns.items()}}
        return [cells[column] for column in self.columns_shown]

    def add_candidate(self, row: CandidateRow) -> None:
        """A new candidate from the engine: shown if the filter lets it through (sorted at the
        next `resort`, once per batch, not once per row)."""
        self.rows_by_number[row.number] = row
        if self.predicate(row):
            self.add_row(*self._cells(row), key=str(row.number))

    def show(self, rows: list[CandidateRow]) -> None:
        """Rebuild from all rows: after a filter, a sort or a re-weighting. Keeps the cursor on
        the same candidate where it is still shown."""
        current = self.current_row()
        self.rows_by_number = {row.number: row for row in rows}
        self.clear()
        for row in rows:
            if self.predicate(row):
                self.add_row(*self._cells(row), key=str(row.number))
        self._add_pending()
        self.resort()
        if current is not None and str(current.number) in self.rows:
            self.move_cursor(row=self.get_row_index(str(current.number)))

    def show_pending(self, entries: list[list], pass_label: str) -> None:
        """The batch on its way, as it is now (an empty list once its candidates are scored)."""
        for index in range(len(self.pending)):
            if f"{PENDING_PREFIX}{index}" in self.rows:
                self.remove_row(f"{PENDING_PREFIX}{index}")
        self.pending, self.pending_pass = [list(entry) for entry in entries], pass_label
        self._add_pending()
        self.resort()

    def clear_pending(self) -> None:
        """The batch's pending rows gone: scored (its candidates take their place), or never to
        be (the run stopped mid-batch)."""
        if self.pending:
            self.show_pending([], "")

    def _add_pending(self) -> None:
        if not self.filtered:  # a filter asks about scores and verdicts, which these rows lack yet
            for index, entry in enumerate(self.pending):
                cells = pending_cells(entry, self.pending_pass)
                self.add_row(*[cells.get(column, "") for column in self.columns_shown], key=f"{PENDING_PREFIX}{index}")

    @property
    def filtered(self) -> bool:
        return self.predicate is not show_all

    @property
    def candidate_count(self) -> int:
        """Candidates shown: the rows less the pending ones."""
        return sum(not key.value.startswith(PENDING_PREFIX) for key in self.rows)

    @property
    def pending_count(self) -> int:
        return self.row_count - self.candidate_count

    def resort(self) -> None:
        rows, key, descending = self.rows_by_number, self.sort_key, self.descending

        # The "#" cell is a candidate's number, empty on a pending row: pending rows come first
        # whatever the order (they are what is happening now), in the order generated.
        def order(number):
            if number == "":
                return (1 if descending else -1, 0)
            return (0, sort_value(key, rows[number]))

        self.sort("#", key=order, reverse=descending)

    def set_order(self, key: str, descending: bool) -> None:
        self.sort_key, self.descending = key, descending
        self.resort()

    def refresh_rows(self, rows: list[CandidateRow]) -> None:
        """Update the cells of rows whose score, verdict or mark changed."""
        for row in rows:
            if str(row.number) not in self.rows:
                continue
            for column, value in zip(self.columns_shown, self._cells(row)):
                if column in ("score", "verdict", "tr", "mark"):
                    self.update_cell(str(row.number), column, value)

    def current_row(self) -> CandidateRow | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key.startswith(PENDING_PREFIX) else self.rows_by_number.get(int(key))

    def visible_rows(self) -> list[CandidateRow]:
        """The rows in table order: what the inspector steps through."""
        return [self.rows_by_number[int(row.key.value)] for row in self.ordered_rows
                if not row.key.value.startswith(PENDING_PREFIX)]

    def apply_filter(self, predicate: Predicate, rows: list[CandidateRow]) -> None:
        self.predicate = predicate
        self.show(rows)
