"""Rendering chat messages with a model's own template, whatever roles that template accepts.

Every prompt here starts with a system message (few_shot_messages). Some templates reject the
system role: Mistral-7B-Instruct-v0.2's (the seed's own model) raises "Conversation roles must
alternate user/assistant/...", Gemma's raises "System role not supported"; others drop it
without a word. Which kind a template is, is found by rendering a probe with it, never from
the model's name; for those that cannot take it, the system text opens the first user turn.
"""

from __future__ import annotations

from typing import Sequence

_PROBE = "inversion-tui system probe 7f3a"


def accepts_system_role(tokenizer) -> bool:
    """True when the tokenizer's chat template renders a system message (and keeps its text)."""
    messages = [{"role": "system", "content": _PROBE}, {"role": "user", "content": "hello"}]
    try:
        rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception:  # noqa: BLE001 - a template's raise_exception is jinja2's TemplateError; any failure means no
        return False
    return _PROBE in rendered


def fold_system_message(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The same conversation without a system turn: its text opens the first user turn."""
    if not messages or messages[0]["role"] != "system":
        return [dict(m) for m in messages]
    system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
    if rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    else:
        rest.insert(0, {"role": "user", "content": system})
    return rest
