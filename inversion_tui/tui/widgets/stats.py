"""The stats panel: the running pass, the last training loss, and before vs after per cycle."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from inversion_tui.loop.metrics import TEST_TIME_SET, by_set
from inversion_tui.loop.progress import CycleRecord, Evaluation, PassSummary
from inversion_tui.loop.scorer_check import DIVERSITY_ALARM, ScorerCheck


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class StatsPanel(Static):
    ALLOW_MAXIMIZE = True  # z zooms it (small terminals, projectors)

    def show(self, passes: dict[str, PassSummary], cycle: int, threshold: float, last_loss: float | None,
             history: list[CycleRecord], evaluations: list[Evaluation] = (), check: ScorerCheck | None = None,
             agreement: dict[str, Any] | None = None) -> None:
        """passes: the current cycle's summary per pass ("before", "after"), as far as each got."""
        now = Text()
        now.append(f"cycle {cycle}\n", style="bold")
        for phase in ("before", "after"):
            current = passes.get(phase)
            if not current or not current.total_generated:
                now.append(f"{phase:<7}", style="bold")
                now.append("-\n", style="dim")
                continue
            now.append(f"{phase:<7}", style="bold")
            now.append(f"{current.accepted}/{current.total_generated} accepted ({_pct(current.acceptance_rate)}), "
                       f"mean {current.mean_score:.3f}, flagged {current.flagged}\n")
        now.append(f"threshold {threshold:.2f}   last loss {'-' if last_loss is None else f'{last_loss:.4f}'}")
        for name, ordered in by_set(evaluations).items():
            base, latest = ordered[0], ordered[-1]
            now.append(f"\n{name or 'held-out'}{' (test-time)' if name == TEST_TIME_SET else ''} acc "
                       f"{latest.utility_accuracy:.3f} "
                       f"(base {base.utility_accuracy:.3f}, n={latest.n})")
            paired = latest.vs_base
            if paired and paired.n:
                now.append(f" Δ {paired.describe()}")
        if check and check.judged:
            now.append(f"\nvs refs: acc {_maybe(check.accepted_accuracy)} accepted / "
                       f"{_maybe(check.rejected_accuracy)} rejected, AUROC {_maybe(check.auroc)}")
        if check and check.diversity is not None and check.diversity < DIVERSITY_ALARM:
            now.append(f"\ndiversity {check.diversity:.2f}: COLLAPSE", style="bold red")
        if agreement and agreement["marked"]:
            now.append(f"\nmarks {agreement['marked']}: precision {_maybe(agreement['precision'])}, "
                       f"recall {_maybe(agreement['recall'])}")
        cycles = Table(box=None, expand=True, header_style="bold", pad_edge=False)
        for column in ("cyc", "score b→a", "acc b→a", "loss"):
            cycles.add_column(column, justify="right", no_wrap=True)
        for entry in history[-8:]:
            b, a = entry.before, entry.after
            loss = entry.train_loss
            cycles.add_row(
                str(entry.cycle), f"{b.mean_score:.2f}→{a.mean_score:.2f}",
                f"{_pct(b.acceptance_rate)}→{_pct(a.acceptance_rate)}",
                "-" if loss is None else f"{loss:.3f}",
            )
        self.update(Group(now, Text(""), cycles) if history else now)
