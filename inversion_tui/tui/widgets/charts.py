"""Charts: mean score and acceptance per cycle, and the score histogram with the threshold."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot

from inversion_tui.evaluate import by_set


class CycleChart(PlotextPlot):
    """Intrinsic score and acceptance per cycle, and held-out accuracy beside them (cycle 0 is
    the base model): the chart that shows whether intrinsic gains are real."""

    def show(self, history: list[dict[str, Any]], evaluations: list[dict[str, Any]] = ()) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("per cycle: intrinsic score, acceptance, held-out accuracy")
        plt.ylim(0, 1)
        ticks = set()
        if history:
            cycles = [e["cycle"] for e in history]
            ticks.update(cycles)
            plt.plot(cycles, [e["before"]["mean_score"] for e in history], label="score before", marker="dot")
            plt.plot(cycles, [e["after"]["mean_score"] for e in history], label="score after", marker="dot")
            plt.plot(cycles, [e["after"]["acceptance_rate"] for e in history], label="accept after", marker="dot")
        for name, ordered in by_set(evaluations).items():
            ticks.update(e["cycle"] for e in ordered)
            plt.plot([e["cycle"] for e in ordered], [e["utility_accuracy"] for e in ordered],
                     label=f"acc {name}" if name else "held-out acc", marker="dot")
        if ticks:
            plt.xticks(sorted(ticks))
        self.refresh()


class ScoreHistogram(PlotextPlot):
    def show(self, scores: list[float], threshold: float) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"scores this cycle (n={len(scores)}), threshold {threshold:.2f}")
        plt.xlim(0, 1)
        if scores:
            plt.hist(scores, bins=20)
        plt.vline(threshold, "red")
        self.refresh()
