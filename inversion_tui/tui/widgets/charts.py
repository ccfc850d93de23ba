"""Charts: mean score, acceptance and held-out accuracy per cycle, the score histogram with the
threshold, and the training loss over steps."""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from inversion_tui.loop.metrics import TEST_TIME_SET, by_set
from inversion_tui.loop.progress import CycleRecord, Evaluation
from inversion_tui.plain_text import visible

# One colour per series, none repeated (plotext's defaults gave two series the same red), named
# for plotext and for the rich legend beside it.
SERIES_COLORS = (("cyan", "cyan"), ("blue", "blue"), ("green", "green"), ("magenta", "magenta"),
                 ("orange", "dark_orange"), ("yellow", "yellow"), ("white", "white"))


class CycleChart(PlotextPlot):
    """Intrinsic score and acceptance per cycle, and held-out accuracy beside them (cycle 0 is
    the base model): the chart that shows whether intrinsic gains are real. Its legend is a
    line of text above it (`legend`): plotext's own covers the data in a small pane."""

    def show(self, history: list[CycleRecord], evaluations: list[Evaluation] = ()) -> Text:
        """Draws the chart and returns its legend."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.ylim(0, 1)
        series: list[tuple[str, list[int], list[float]]] = []
        if history:
            cycles = [e.cycle for e in history]
            series += [("score before", cycles, [e.before.mean_score for e in history]),
                       ("score after", cycles, [e.after.mean_score for e in history]),
                       ("accept after", cycles, [e.after.acceptance_rate for e in history])]
        for name, ordered in by_set(evaluations).items():
            label = "acc pool (test-time)" if name == TEST_TIME_SET else f"acc {name}" if name else "held-out acc"
            series.append((label, [e.cycle for e in ordered],
                           [e.utility_accuracy for e in ordered]))
        legend = Text()
        if not series:
            legend.append("per cycle: nothing yet (a point appears when a cycle ends)", style="dim")
        for (label, xs, ys), (plot_color, legend_color) in zip(series, SERIES_COLORS * 2):
            plt.plot(xs, ys, marker="dot", color=plot_color)
            legend.append("● ", style=legend_color)
            legend.append(visible(label) + "  ")
        if series:
            plt.xticks(sorted({x for _, xs, _ in series for x in xs}))
        self.refresh()
        return legend


class ScoreHistogram(PlotextPlot):
    def show(self, scores: list[float], threshold: float) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlim(0, 1)
        if scores:
            plt.title(f"scores this cycle (n={len(scores)}), thr {threshold:.2f}")
            plt.hist(scores, bins=20, color="cyan")
            counts = _bin_counts(scores, 20)
            top = max(counts)
            step = max(1, -(-top // 4))
            plt.ylim(0, top)
            plt.yticks(list(range(0, top + 1, step)))  # counts are whole numbers
        else:
            plt.title(f"scores this cycle: none yet, thr {threshold:.2f}")
        plt.vline(threshold, "red")
        self.refresh()


class LossChart(PlotextPlot):
    """Training loss at every step of the run, cycle after cycle."""

    def show(self, losses: list[tuple[int, float]], empty: str = "none yet") -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not losses:
            plt.title(f"loss per step: {empty}")
            self.refresh()
            return
        plt.title(f"loss per step ({len(losses)}, cycles {losses[0][0]}-{losses[-1][0]})")
        steps = list(range(1, len(losses) + 1))
        plt.plot(steps, [loss for _, loss in losses], marker="dot", color="orange")
        plt.xticks(steps[:: max(1, len(steps) // 8)])  # whole steps
        self.refresh()


def _bin_counts(values: list[float], bins: int) -> list[int]:
    """What plotext's histogram counts, to label its axis with whole numbers."""
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return counts
