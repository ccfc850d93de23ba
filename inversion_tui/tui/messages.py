"""The one message that carries engine events into the UI thread."""

from __future__ import annotations

from textual.message import Message

from inversion_tui.loop import events as ev


class EngineEvent(Message):
    """An engine event, posted from the engine's worker thread (post_message is thread-safe)."""

    def __init__(self, event: ev.Event) -> None:
        super().__init__()
        self.event = event
