"""The workbench header's text: the run's state, the pass's or training step's progress and
time left, the running stage's decoding, the weights in force. A mixin of InversionApp."""

from __future__ import annotations

from textual.css.query import NoMatches

from inversion_tui.loop.components import default_weights
from inversion_tui.tui.widgets.header import RunHeader, format_elapsed


class HeaderText:
    """Needs from the app: state, control, settings, clock, started, finished_at, backend,
    run_state, replay, pass_pace, train_pace, stage, decoding, pending, show_live."""

    def tick(self) -> None:
        """The clock's redraw, once a second. It can fire while the app closes, after the
        widgets are gone: nothing to redraw then."""
        try:
            self.refresh_header()
        except NoMatches:
            pass

    def live_waiting(self) -> str:
        """What the live pane says before a pass's first candidate."""
        if self.run_state == "PAUSED":
            return "paused before this pass's first candidate: p resumes"
        if self.run_state == "PAUSING…":  # the batch under way runs to its end first
            return f"{self.state.activity}: the batch under way finishes, then the run pauses…"
        if self.run_state == "LOADING":
            return "loading the model…"
        if self.run_state == "RUNNING":
            return f"{self.state.activity}: waiting for the first candidate…"
        return ""

    def header_detail(self, now: float) -> str:
        """Inside a batch: the stage, for how long and how far its decoding has got, and the
        pass's time left; while stopping, what q does now."""
        if self.run_state == "STOPPING…":
            return f"stops after this batch{self.batch_progress(now)}, then saves; q again leaves at once"
        # `n` is taken at the next batch boundary: until then the header says it is coming
        pending = ["train now: at the next batch boundary"] if self.control.train_now_pending else []
        if self.run_state == "PAUSING…" and self.stage is not None:
            return " · ".join(pending + [f"pauses after this batch{self.batch_progress(now)}; p again keeps going"])
        if self.run_state != "RUNNING":
            return " · ".join(pending)
        parts = pending
        # The pass's time left first, where it is known: at 80 columns the end of the header is
        # what gets cut, and a tmux trial at 80x24 saw only `~0:0…`. Before anything is measured
        # (the run's first pass) the stage and its decoding lead, and bound the call's time.
        pace = self.train_pace if self.state.activity == "training" else self.pass_pace
        left = pace.left(now)
        if left is not None:
            parts.append(f"~{format_elapsed(left)} left")
        if self.stage is not None and self.state.activity in ("before", "after"):
            stage, since = self.stage
            parts.append(f"{stage.stage}{self.decoding_text()} · {stage.sequences} seq {format_elapsed(now - since)}")
        return " · ".join(parts)

    def decoding_text(self) -> str:
        """` token 17/48 3.2/s ≤0:00:10`: the running generate call's steps, its measured rate,
        and at that rate the most the call can still take (it ends sooner once every sequence
        has ended: an upper bound, hence ≤). Inside a pass of one batch this is the only time
        left that can be measured."""
        if self.decoding is None:
            return ""
        event, began = self.decoding
        text = f" token {event.step}/{event.max_steps}"
        if event.step > 1 and event.at > began:
            rate = (event.step - 1) / (event.at - began)
            text += f" {rate:.1f}/s ≤{format_elapsed((event.max_steps - event.step) / rate)}"
        return text

    def batch_progress(self, now: float) -> str:
        """`: generating token 30/48 (~0:00:12)`: where the running batch is, and its time left
        at the pass's pace so far where that is known."""
        if self.stage is None:
            return ""
        stage, _ = self.stage
        left = self.pass_pace.unit_left(now, stage.tasks)
        return (f": {stage.stage}{self.decoding_text()}"
                + (f" (~{format_elapsed(left)})" if left else ""))

    def header_weights(self) -> str:
        weights = self.control.weights
        if weights == default_weights():
            return ""
        return "weights " + ",".join(f"{name}={value:g}" for name, value in weights.items() if value > 0)

    def refresh_header(self) -> None:
        now = self.clock()
        if self.state.activity == "training":
            pace = self.train_pace
            progress = f"{pace.done}/{pace.total}" if pace.total else ""
        else:
            progress = f"{self.state.tasks_done}/{self.state.tasks_total}" if self.state.tasks_total else ""
        self.query_one(RunHeader).show(
            model=self.backend["model"], quant=self.backend["quant"], device=self.backend["device"],
            cycle=self.state.cycle, cycles=self.settings.cycles, phase=self.state.activity, progress=progress,
            threshold=self.control.threshold, selector=self.state.selector(),
            elapsed=None if self.replay else (now if self.finished_at is None else self.finished_at) - self.started,
            state=self.run_state,
            detail=self.header_detail(now), weights=self.header_weights(),
        )
        if not self.state.pass_rows() and not self.pending:
            self.show_live()
