"""Charts: mean score and acceptance per cycle, and the score histogram with the threshold."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot


class CycleChart(PlotextPlot):
    def show(self, history: list[dict[str, Any]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("per cycle: mean score (before, after) and acceptance (after)")
        plt.ylim(0, 1)
        if history:
            cycles = [e["cycle"] for e in history]
            plt.plot(cycles, [e["before"]["mean_score"] for e in history], label="score before", marker="dot")
            plt.plot(cycles, [e["after"]["mean_score"] for e in history], label="score after", marker="dot")
            plt.plot(cycles, [e["after"]["acceptance_rate"] for e in history], label="accept after", marker="dot")
            plt.xticks(cycles)
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
