"""The workbench's views redrawn from the run's state: the live pane, the stats, the charts,
the scorer tab and the log. A mixin of InversionApp."""

from __future__ import annotations

from textual.widgets import RichLog, Static, TabbedContent

from inversion_tui.loop.pass_stats import pass_metrics
from inversion_tui.loop.scorer_check import check_pass
from inversion_tui.plain_text import plain
from inversion_tui.tui.widgets.charts import CycleChart, ScoreHistogram
from inversion_tui.tui.widgets.live import LivePane
from inversion_tui.tui.widgets.scorer import ScorerPanel
from inversion_tui.tui.widgets.stats import StatsPanel


class Views:
    """Needs from the app: state, control, pending, log_history, live_waiting and
    refresh_header (heading.py), update_table_title (debugging.py)."""

    def log_line(self, text: str) -> None:
        self.log_history.append(text)
        self.query_one("#log-pane", RichLog).write(plain(text))

    def show_live(self) -> None:
        """The live pane: the batch under way as it fills in, else the pass's newest task."""
        self.query_one(LivePane).show(self.state.pass_rows(), self.state.weights, waiting=self.live_waiting(),
                                      pending=self.pending)

    def refresh_all(self) -> None:
        self.refresh_header()
        passes = {phase: pass_metrics(self.state.pass_rows(phase=phase)) for phase in ("before", "after")}
        self.query_one(StatsPanel).show(passes, self.state.cycle, self.control.threshold, self.state.last_loss,
                                        self.state.history, self.state.evaluations,
                                        check=check_pass(self.state.pass_rows()),
                                        agreement=self.state.marks_agreement())
        scores = [r.score for r in self.state.cycle_rows()]
        self.query_one(ScoreHistogram).show(scores, self.control.threshold)
        if self.query_one(TabbedContent).active == "scorer":
            self.refresh_scorer()

    def refresh_cycle_chart(self) -> None:
        legend = self.query_one(CycleChart).show(self.state.history, self.state.evaluations)
        self.query_one("#cycle-legend", Static).update(legend)

    def refresh_views(self) -> None:
        """After a threshold, weights or mark change: everything computed from the rows."""
        self.show_live()
        self.update_table_title()
        self.refresh_all()

    def refresh_scorer(self) -> None:
        # Judges every candidate against its references: done when the tab is shown, not per row.
        self.query_one(ScorerPanel).show(self.state.scorer_check(), self.state.marks_agreement(),
                                         self.state.weights, self.state.threshold, self.state.evaluations)
