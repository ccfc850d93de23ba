"""Chat messages with few-shot demonstrations: the one shape every prompt here takes."""

from __future__ import annotations

from typing import Iterable


def few_shot_messages(system: str, demonstrations: Iterable[tuple[str, str]], query: str) -> list[dict[str, str]]:
    """system, then (user, assistant) turns for each demonstration, then the user's query."""
    messages = [{"role": "system", "content": system}]
    for asked, answered in demonstrations:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": answered})
    messages.append({"role": "user", "content": query})
    return messages
