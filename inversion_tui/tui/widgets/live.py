"""The live pane: the task being scored, its candidate commands, their reconstructions and scores.

One block per candidate (command + verdict, reconstruction, component bars) rather than a
table, so it stays readable from 80 columns up.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from inversion_tui.loop.components import REGISTRY
from inversion_tui.plain_text import visible
from inversion_tui.tui.state import CandidateRow
from inversion_tui.tui.widgets.bars import bar



def verdict(row: CandidateRow) -> Text:
    if row.accepted:
        return Text("accepted", style="bold green")
    return Text(f"rejected: {visible(row.reason)}", style="red")


def component_bars(row: CandidateRow, weights: dict[str, float]) -> Text:
    line = Text("  ")
    # Short bars, so three components fit one line of the pane at 80 columns.
    for name, spec in REGISTRY.items():
        if spec.label is None:
            continue
        label, value = spec.label, row.components.get(name)
        if weights.get(name, 0) <= 0:
            continue  # a bar per weighted component: what makes the score (the inspector has them all)
        line.append(f"{label} ")
        line.append_text(bar(value, 4))
        line.append(" -     " if value is None else f" {value:.2f}  ")
    line.rstrip()
    return line


def candidate_block(command: str, reconstruction: str | None, row: CandidateRow | None,
                    weights: dict[str, float]) -> Text:
    """One candidate as far as it has got: its command, then its reconstruction once the
    inversion lands, then its score, verdict and component bars once scored."""
    block = Text()
    if row is not None:
        block.append(f"{row.score:.2f} ", style="bold")
        block.append_text(verdict(row))
        block.append("\n")
    block.append("  $ ", style="dim")
    block.append(visible(command) or "(empty)", style="bold")
    block.append("\n  ↩ ", style="dim")
    if reconstruction is None:
        block.append("inverting…", style="dim")
    else:
        block.append(visible(reconstruction) or "(empty)", style="italic")
    if row is not None:
        block.append("\n")
        block.append_text(component_bars(row, weights))
    return block


Entry = tuple[str, str, "str | None", "CandidateRow | None"]  # task, command, reconstruction, scored row


def batch_blocks(entries: list[Entry], weights: dict[str, float]) -> list[Text]:
    """A batch's candidates in order, each task named once above its own."""
    blocks, task = [], None
    for entry_task, command, reconstruction, row in entries:
        if entry_task != task:
            task = entry_task
            blocks.append(Text.assemble(("task ", "bold"), visible(task)))
        blocks.append(candidate_block(command, reconstruction, row, weights))
    return blocks


class LivePane(Static):
    """The batch under way, filling in as it runs (commands, then reconstructions, then scores),
    and once scored the pass's newest batch, each row where it was."""

    ALLOW_MAXIMIZE = True  # z zooms it (small terminals, projectors)

    def show(self, rows: list[CandidateRow], weights: dict[str, float],
             waiting: str = "waiting for the first candidate…", pending: list[list[str | None]] | None = None) -> None:
        """`rows`: the pass's scored candidates; `pending`: the batch under way, [task, command,
        reconstruction or None] per command; `waiting` says why there is nothing yet (loading,
        paused, generating)."""
        if pending:
            inverted = all(reconstruction is not None for _, _, reconstruction in pending)
            status = Text(f"this batch: {len(pending)} command(s) generated; "
                          + ("scoring…" if inverted else "inverting…"), style="dim")
            entries = [(task, command, reconstruction, None) for task, command, reconstruction in pending]
            self.update(Group(status, *batch_blocks(entries, weights)))
            return
        if not rows:
            self.update(Text(waiting, style="dim"))
            return
        newest = rows[-1]
        batch = [r for r in rows if (r.cycle, r.phase, r.batch) == (newest.cycle, newest.phase, newest.batch)]
        self.update(Group(*batch_blocks([(r.task, r.command, r.reconstruction, r) for r in batch], weights)))
