"""The workbench's engine worker: the engine runs in a thread of its own, its events come back
to the UI thread as messages, and a run that is not going says why pause and train now do
nothing. A mixin of InversionApp (app.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

from textual import work
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from inversion_tui.errors import InversionError
from inversion_tui.loop import events as ev
from inversion_tui.tui.actions import engine_keys
from inversion_tui.tui.messages import EngineEvent


class EngineWorker:
    """Needs from the app: engine_factory, control, replay, finished_status, stop_requested,
    engine, engine_thread, failure, run_state, log_line, refresh_header, notify, exit."""

    # Handlers by naming convention (on_worker_state_changed): textual's @on registers only in
    # the class that defines it, not through a mixin.

    def why_no_engine(self) -> str | None:
        """Why pause and train now have nothing to act on, or None while they do."""
        if self.replay:
            return "this is a replay, no engine is running"
        if self.finished_status:
            return f"the run has {self.finished_status}"
        if self.stop_requested:
            return "the run is stopping"
        return None

    def on_key(self, event) -> None:
        """A key of a hidden engine action (its binding is off, so it reaches here): say why it
        does nothing rather than nothing at all."""
        command = engine_keys().get(event.key)
        why = self.why_no_engine()
        if (command is not None and why is not None and len(self.screen_stack) == 1
                and not isinstance(self.focused, Input)):
            self.notify(f"{command.title.lower()}: {why}", severity="warning")

    @work(exclusive=True, exit_on_error=False, group="engine")
    async def run_engine(self) -> str:
        """Run the engine in its own daemon thread, awaited by this (async) worker.

        Not @work(thread=True): Textual's thread workers run in asyncio's default executor,
        whose threads asyncio.run joins at exit, so a forced quit would hang until the current
        model call ended. A daemon thread keeps the worker's states and error reporting and
        lets a forced quit leave at once (nothing is lost: candidates are fsynced per batch).
        """
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[str] = loop.create_future()

        def settle(setter, value) -> None:
            if not outcome.done():
                setter(value)

        def target() -> None:
            try:
                self.engine = self.engine_factory(self.post_engine_event, self.control)
                result = self.engine.run()
            except BaseException as error:  # noqa: BLE001 - handed to the worker, which reports it
                self._call_threadsafe(loop, settle, outcome.set_exception, error)
            else:
                self._call_threadsafe(loop, settle, outcome.set_result, result)

        self.engine_thread = threading.Thread(target=target, name="inversion-engine", daemon=True)
        self.engine_thread.start()
        return await outcome

    @staticmethod
    def _call_threadsafe(loop, *args) -> None:
        try:
            loop.call_soon_threadsafe(*args)
        except RuntimeError:
            pass  # the app has already closed its loop (forced quit): nobody is waiting

    def post_engine_event(self, event: ev.Event) -> None:
        self.post_message(EngineEvent(event))  # thread-safe: the handler runs on the UI thread

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.failure = str(error) if isinstance(error, InversionError) else f"{type(error).__name__}: {error}"
        self.log_line(f"engine failed: {self.failure}")
        if isinstance(error, InversionError):
            self.exit(return_code=2)  # a user error (bad model, bad directory): the CLI prints it in one line
            return
        self.run_state = "FAILED"
        self.refresh_header()
        self.notify(self.failure, title="engine failed", severity="error", timeout=30)

    def wait_for_engine(self, say: Callable[[str], None]) -> None:
        """After the app has closed: an engine still going (the app crashed, or closed some way
        that did not stop the run) is stopped at its next batch boundary and waited for, so
        progress.json ends `stopped` with whole batches, and the process does not leave while
        the engine thread is inside torch. Ctrl-C here raises KeyboardInterrupt to the caller."""
        thread = self.engine_thread
        if thread is None or not thread.is_alive():
            return
        if self.finished_status is None:
            self.control.request_stop()
            say("the workbench closed while the run was going: stopping it at the next batch boundary "
                "(Ctrl-C to leave at once)")
        while thread.is_alive():
            thread.join(0.2)

    @property
    def engine_running(self) -> bool:
        return any(w.group == "engine" and w.is_running for w in self.workers)
