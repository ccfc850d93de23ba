"""An Input whose editing keys act in the order they were typed.

Textual resolves a widget's own key bindings (backspace, ctrl+u, ctrl+w, ...) only after the key
has bubbled up to the app, while a printable key is inserted at once by the focused field. Typed
in one burst (a fast typist, a terminal's paste of keys), `ctrl+u 5` then inserted the 5 first
and cleared it after. Here the field runs its own binding the moment it takes the key, so keys act
in order. Keys the field has no binding for (Tab, Esc, the app's) bubble on as before.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input


def _own_bindings() -> dict[str, str]:
    actions = {}
    for binding in Input.BINDINGS:
        if isinstance(binding, Binding) and not binding.priority and binding.action != "submit":
            for key in binding.key.split(","):
                actions[key.strip()] = binding.action
    return actions


OWN_BINDINGS = _own_bindings()
"""Input's editing keys -> actions. Enter (submit) is left to bubble: it acts after the keys
before it in any case, and the dialogs listen for its Submitted message."""


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        action = OWN_BINDINGS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)
