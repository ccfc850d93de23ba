"""The live pane: the task being scored, its candidate commands, their reconstructions and scores.

One block per candidate (command + verdict, reconstruction, component bars) rather than a
table, so it stays readable from 80 columns up.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from inversion_tui.loop.score import REGISTRY
from inversion_tui.plain_text import visible
from inversion_tui.tui.state import CandidateRow
from inversion_tui.tui.widgets.bars import bar



def verdict(row: CandidateRow) -> Text:
    if row.accepted:
        return Text("accepted", style="bold green")
    return Text(f"rejected: {visible(row.reason)}", style="red")


def candidate_block(row: CandidateRow, weights: dict[str, float]) -> Text:
    block = Text()
    block.append(f"{row.score:.2f} ", style="bold")
    block.append_text(verdict(row))
    block.append("\n  $ ", style="dim")
    block.append(visible(row.command) or "(empty)", style="bold")
    block.append("\n  ↩ ", style="dim")
    block.append(visible(row.reconstruction) or "(empty)", style="italic")
    block.append("\n  ")
    # Short bars, so three components fit one line of the pane at 80 columns.
    for name, spec in REGISTRY.items():
        if spec.label is None:
            continue
        label, value = spec.label, row.components.get(name)
        if weights.get(name, 0) <= 0 and not (spec.column and value is not None):
            continue  # unweighted and not one of the table's columns: noise here
        block.append(f"{label} ")
        block.append_text(bar(value, 4))
        block.append(" -     " if value is None else f" {value:.2f}  ")
    block.rstrip()
    return block


def pending_blocks(pending: list[list[str | None]]) -> list[Text]:
    """The batch under way, before its scores: each task once, then its commands, and their
    reconstructions as the inversion lands."""
    inverted = all(reconstruction is not None for _, _, reconstruction in pending)
    status = Text(f"this batch: {len(pending)} command(s) generated; "
                  + ("scoring…" if inverted else "inverting…"), style="dim")
    blocks, task = [status], None
    for entry_task, command, reconstruction in pending:
        if entry_task != task:
            task = entry_task
            blocks.append(Text.assemble(("task ", "bold"), visible(task)))
        block = Text("  $ ", style="dim")
        block.append(visible(command) or "(empty)", style="bold")
        block.append("\n  ↩ ", style="dim")
        if reconstruction is None:
            block.append("inverting…", style="dim")
        else:
            block.append(visible(reconstruction) or "(empty)", style="italic")
        blocks.append(block)
    return blocks


class LivePane(Static):
    """Shows the batch under way as it fills in (commands, then reconstructions), then the
    newest task with every candidate scored for it."""

    ALLOW_MAXIMIZE = True  # z zooms it (small terminals, projectors)

    def show(self, rows: list[CandidateRow], weights: dict[str, float],
             waiting: str = "waiting for the first candidate…", pending: list[list[str | None]] | None = None) -> None:
        """`waiting` says why there is nothing yet (loading, paused, generating); `pending` is
        the batch under way: [task, command, reconstruction or None] per command."""
        if pending:
            self.update(Group(*pending_blocks(pending)))
            return
        if not rows:
            self.update(Text(waiting, style="dim"))
            return
        newest = rows[-1]
        same_task = [r for r in rows if r.task == newest.task and r.cycle == newest.cycle and r.phase == newest.phase]
        header = Text()
        header.append("task ", style="bold")
        header.append(visible(newest.task))
        self.update(Group(header, *(candidate_block(r, weights) for r in same_task)))
