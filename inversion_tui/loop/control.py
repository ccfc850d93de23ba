"""The control object a UI uses to steer a running engine.

The engine reads it only at batch boundaries (never by killing threads), so whatever was
scored before a pause or stop is already on disk.
"""

from __future__ import annotations

import threading
from typing import Callable

from inversion_tui.loop.runlog import now


class RunStopped(Exception):
    """Raised inside the engine at a batch boundary after a stop was requested."""


class RunControl:
    @classmethod
    def for_run(cls, settings, resume=None) -> "RunControl":
        """Seeded from settings. A resumed run keeps its change histories and goes on with the
        threshold and weights last set live; a threshold given on resume is one more change."""
        control = cls(settings.threshold, settings.weights, settings.select)
        if resume is None:
            return control
        control._threshold_changes = list(resume.threshold_changes)
        control._weight_changes = list(resume.weight_changes)
        control._select_changes = list(resume.select_changes)
        if control._select_changes:
            control._select = control._select_changes[-1]["to"]
        if control._weight_changes:
            control._weights = dict(control._weight_changes[-1]["to"])
        change = next((r.changes["threshold"] for r in resume.resumes[-1:] if "threshold" in r.changes), None)
        live = control._threshold_changes[-1]["to"] if control._threshold_changes else None
        if change is None and live is not None:
            control._threshold = live  # set live before the stop, not given on this resume
        elif change is not None and live != change.after:
            control._threshold_changes.append(
                {"time": now(), "from": live if live is not None else change.before,
                 "to": change.after, "on_resume": True})
        return control

    @classmethod
    def from_progress(cls, settings, progress, weights: dict[str, float]) -> "RunControl":
        """A finished or stopped run's control as it last stood (`inspect`): the threshold, the
        (checked) weights and the rule last in force, else the settings'."""
        threshold = progress.threshold if progress.threshold is not None else settings.threshold
        return cls(threshold, weights, progress.select or settings.select)

    def __init__(self, threshold: float, weights: dict[str, float], select: str = "threshold"):
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._threshold = threshold
        self._weights = dict(weights)
        self._train_now = threading.Event()
        self._threshold_changes: list[dict] = []
        self._weight_changes: list[dict] = []
        self._select = select  # the selection rule (loop/select.py)
        self._select_changes: list[dict] = []

    # --- written by the UI thread
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._resume.set()  # a paused engine must wake up to notice the stop

    def set_threshold(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError("threshold must be within [0, 1]")
        with self._lock:
            if value == self._threshold:
                return
            self._threshold_changes.append(
                {"time": now(), "from": self._threshold, "to": value}
            )
            self._threshold = value

    def request_train_now(self) -> None:
        self._train_now.set()

    def set_weights(self, weights: dict[str, float]) -> None:
        """Weights already checked (settings.check_weights); logged like threshold changes."""
        with self._lock:
            if dict(weights) == self._weights:
                return
            self._weight_changes.append(
                {"time": now(), "from": self._weights, "to": dict(weights)}
            )
            self._weights = dict(weights)

    def set_select(self, rule: str) -> None:
        """A new selection rule, logged like threshold changes."""
        with self._lock:
            if rule == self._select:
                return
            self._select_changes.append({"time": now(), "from": self._select, "to": rule})
            self._select = rule

    # --- read by the engine
    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def threshold(self) -> float:
        with self._lock:
            return self._threshold

    @property
    def weights(self) -> dict[str, float]:
        with self._lock:
            return dict(self._weights)

    @property
    def select(self) -> str:
        with self._lock:
            return self._select

    @property
    def select_changes(self) -> list[dict]:
        with self._lock:
            return list(self._select_changes)

    @property
    def threshold_changes(self) -> list[dict]:
        with self._lock:
            return list(self._threshold_changes)

    @property
    def weight_changes(self) -> list[dict]:
        with self._lock:
            return list(self._weight_changes)

    @property
    def train_now_pending(self) -> bool:
        """A train-now request the engine has not taken up yet (the header says so)."""
        return self._train_now.is_set()

    def take_train_now(self) -> bool:
        """True once per request: the engine consumes it when it acts on it."""
        if self._train_now.is_set():
            self._train_now.clear()
            return True
        return False

    def checkpoint(
        self, on_pause: Callable[[], None] = lambda: None, on_resume: Callable[[], None] = lambda: None,
        while_paused: Callable[[], None] = lambda: None,
    ) -> None:
        """Called by the engine between batches: block while paused, raise if stopped.

        on_pause runs only when the engine really blocks, so a UI can say PAUSED truthfully;
        while_paused runs every 0.2 s meanwhile, so the engine can still record (say) a
        threshold change while it waits.
        """
        if not self._resume.is_set():
            on_pause()
            while not self._resume.wait(0.2):
                while_paused()
            on_resume()
        if self._stop.is_set():
            raise RunStopped()
