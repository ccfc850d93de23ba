"""The app's scorer-debugging controls: inspect, filter and sort the candidates, re-weight, mark.

A mixin of InversionApp, a room of its own beside the engine worker and the views. Every
control works the same in a live run and in a replay: re-scoring and re-deciding use stored
components only, never a model.
"""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from inversion_tui.plain_text import plain
from inversion_tui.tui.query import FilterError, parse_filter, sort_keys
from inversion_tui.tui.state import CandidateRow
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.inspector import CandidateScreen
from inversion_tui.tui.widgets.weights import WeightsScreen


class ScorerDebugging:
    """Needs from the app: state, control, marks (a MarkBook or None), log_line, refresh_all,
    refresh_views."""

    filter_text = ""

    # ------------------------------------------------------------------ inspect

    # Handlers by naming convention: textual's @on registers only in the class that defines it,
    # not through a mixin.
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "table":
            self.action_inspect()

    def action_inspect(self) -> None:
        table = self.query_one(CandidatesTable)
        current = table.current_row()
        if current is None:
            self.notify("no candidate to inspect yet", severity="warning")
            return
        rows = table.visible_rows()
        self.push_screen(
            CandidateScreen(rows, rows.index(current), self.state.weights, self.state.threshold, self.set_mark),
            self.inspector_closed)

    def inspector_closed(self, row: CandidateRow | None) -> None:
        table = self.query_one(CandidatesTable)
        if row is not None and str(row.number) in table.rows:
            table.move_cursor(row=table.get_row_index(str(row.number)))

    # ------------------------------------------------------------------ filter and sort

    def action_filter(self) -> None:
        self.query_one("TabbedContent").active = "candidates"
        # set_focus, not Input.focus(): that one is deferred, and keys typed right after `f`
        # would still go to the table (and act as bindings).
        self.set_focus(self.query_one("#filter", Input))

    def action_leave_filter(self) -> None:
        """Esc in the filter box: back to the table, the filter in force unchanged."""
        if self.focused is not None and self.focused.id == "filter":
            self.set_focus(self.query_one(CandidatesTable))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return  # a dialog's field: its screen handles it
        try:
            predicate = parse_filter(event.value)
        except FilterError as error:
            self.notify(str(error), title="filter", severity="error")
            return
        self.filter_text = event.value.strip()
        table = self.query_one(CandidatesTable)
        table.apply_filter(predicate, self.state.rows)
        self.set_focus(table)
        self.update_table_title()

    def action_sort(self, step: int = 1) -> None:
        table = self.query_one(CandidatesTable)
        keys = sort_keys()
        key = keys[(keys.index(table.sort_key) + step) % len(keys)]
        table.set_order(key, table.descending)
        self.update_table_title()

    def action_reverse_sort(self) -> None:
        table = self.query_one(CandidatesTable)
        table.set_order(table.sort_key, not table.descending)
        self.update_table_title()

    def update_table_title(self) -> None:
        """Shown beside the filter: how many candidates pass it, and the order."""
        table = self.query_one(CandidatesTable)
        arrow = "↓" if table.descending else "↑"
        title = f"{table.candidate_count} of {len(self.state.rows)}"
        if table.pending_count:
            title += f" (+{table.pending_count} pending)"
        title += f" · sort {table.sort_key} {arrow}"
        if self.filter_text:
            title += f" · filter: {self.filter_text}"
        self.query_one("#table-info", Static).update(plain(title, single_line=True))  # the filter is typed text

    # ------------------------------------------------------------------ weights

    def action_weights(self) -> None:
        def apply(weights: dict[str, float] | None) -> None:
            if weights is not None:
                self.set_weights(weights)

        self.push_screen(WeightsScreen(self.state.weights), apply)

    def set_weights(self, weights: dict[str, float]) -> None:
        if weights == self.state.weights:
            return
        self.control.set_weights(weights)  # a live engine re-scores its pass at the next boundary
        changed = self.state.reweight(weights)
        self.query_one(CandidatesTable).set_weights(weights, self.state.rows)
        used = ", ".join(f"{name}={weight:g}" for name, weight in weights.items() if weight > 0)
        self.log_line(f"weights set to {used}: {len(changed)} candidate(s) re-scored from stored components")
        missing = self.state.missing_components()
        if missing:
            total = len(self.state.rows)
            said = "; ".join(f"{name}: none of the {total} candidates has it" if count == total
                             else f"{name}: {count} of {total} candidates lack it" for name, count in missing.items())
            self.notify(f"{said} (scored without it)", severity="warning")
        self.refresh_views()

    # ------------------------------------------------------------------ marks

    def action_mark(self, mark: str | None) -> None:
        row = self.query_one(CandidatesTable).current_row()
        if row is None:
            return
        self.set_mark(row, mark)

    def set_mark(self, row: CandidateRow, mark: str | None) -> None:
        if self.marks is not None:
            self.marks.set(row.key, mark, task=row.task, command=row.command)  # on disk before it shows
        self.state.mark(row, mark)
        self.query_one(CandidatesTable).refresh_rows([row])
        self.refresh_views()
