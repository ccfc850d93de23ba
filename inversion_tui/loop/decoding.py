"""Progress inside one generate call: a decoding step at a time.

A batch's generate call can take minutes on a CPU, and the workbench should not sit silent
through it. A Generator reports each decoding step here (`report`); whoever runs the call and
wants to hear of it listens around it (`listening`). Nothing is passed through the Generator
protocol, so a generator that cannot report (a fake, another engine) simply says nothing, and
the listener is per thread: the engine's thread hears its own calls only.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

StepListener = Callable[[int, int], None]  # (tokens decoded so far, the most it may decode)

_local = threading.local()


@contextlib.contextmanager
def listening(listener: StepListener) -> Iterator[None]:
    previous = getattr(_local, "listener", None)
    _local.listener = listener
    try:
        yield
    finally:
        _local.listener = previous


def report(step: int, max_steps: int) -> None:
    """Called by a Generator after each decoding step of the running call."""
    listener = getattr(_local, "listener", None)
    if listener is not None:
        listener(step, max_steps)
