"""A fast, deterministic Backend for engine and CLI tests. No model, no randomness.

It answers forward prompts with a command built from the task, inverse prompts with a
sentence built from the command, and rating prompts with "7", so scores are reproducible
and differ between candidates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import time
import weakref
from pathlib import Path
from typing import Sequence

from inversion_tui.loop import decoding
from inversion_tui.loop.backend import TrainingPair, TrainResult
from inversion_tui.loop.generate import FORWARD_SYSTEM
from inversion_tui.loop.invert import INVERSE_SYSTEM
from inversion_tui.loop.score import RATING_SYSTEM


def _last_user_message(prompt: str) -> str:
    return prompt.rsplit("<user>", 1)[-1].split("</user>", 1)[0]


class _Activations:
    """Stands for the tensors a failed generate call had allocated."""


TEXT_WEIGHTS = {"embed": 0.6, "overlap": 0.2, "difflib": 0.2}
"""The default weights before the verifier components (2026-11-25): tests whose thresholds were
set against the fake's scores under them pin them."""


FAKE_DECODING_STEPS = 4
"""Decoding steps the fake reports per call, spread over its `delay`."""


class FakeBackend:
    description = {"model": "fake", "quant": "none", "device": "cpu"}

    def __init__(self, delay: float = 0.0, max_prompts: int | None = None):
        self.delay = delay  # seconds per model call, to give UI tests a run that takes time
        self.max_prompts = max_prompts  # more prompts in one call raise MemoryError (OOM injection)
        self.calls: list[tuple[str, int]] = []  # (kind, number of prompts) per complete() call
        self.trained: list[list[TrainingPair]] = []
        self.saved: list[Path] = []
        self.seeds: list[int] = []
        self.loaded: dict | None = None
        self.released = 0  # release_memory calls (after out-of-memory errors)
        self.attempts: list = []  # weak references to what each failed call held (OOM tests)
        self.alive_at_call: list[int] = []  # how many of those were still alive as each call began
        self.base_weights_calls = 0  # times the frozen verifier was entered
        self.resets = 0  # reset_adapter calls (--train-from base)

    def chat_prompt(self, messages):
        return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"

    def complete(self, prompts: Sequence[str], *, num_return_sequences, temperature, max_new_tokens):
        kind = "forward" if FORWARD_SYSTEM in prompts[0] else "inverse" if INVERSE_SYSTEM in prompts[0] else "rating"
        self.alive_at_call.append(sum(ref() is not None for ref in self.attempts))
        if self.max_prompts is not None and len(prompts) > self.max_prompts:
            held = _Activations()  # what a real failed attempt holds in its frames
            self.attempts.append(weakref.ref(held))
            raise MemoryError(f"fake: {len(prompts)} prompts > {self.max_prompts}")
        self.calls.append((kind, len(prompts)))
        for step in range(1, FAKE_DECODING_STEPS + 1):  # the real generator reports every token
            time.sleep(self.delay / FAKE_DECODING_STEPS)
            decoding.report(step, max_new_tokens)
        out = []
        for prompt in prompts:
            text = _last_user_message(prompt)
            if kind == "forward":
                words = re.findall(r"[\w./:-]+", text)
                # A program named for the task's verb and the rest as options: command-shaped,
                # so the guards pass it, and different for odd and even candidates.
                out.append([f"`{words[0].lower()}ctl {' '.join('--' + w for w in words[2 + i % 2:])}`"
                            for i in range(num_return_sequences)])
            elif kind == "inverse":
                out.append([f"Task: {text.replace('-', ' ')}"])
            else:
                assert RATING_SYSTEM in prompt
                out.append(["7"])
        return out

    def log_likelihood(self, prompts, continuations):
        """-1 per word of the continuation that the prompt's last user message contains, -3 for
        any other: a continuation that repeats what it was given is likelier."""
        out = []
        for prompt, continuation in zip(prompts, continuations):
            given = set(re.findall(r"\w+", _last_user_message(prompt).lower()))
            out.append([-1.0 if word in given else -3.0 for word in re.findall(r"\w+", continuation.lower())])
        return out

    @contextlib.contextmanager
    def base_weights(self):
        self.base_weights_calls += 1
        yield

    def sync_adapter(self, trainer) -> None:
        pass

    def embed(self, texts):
        vectors = []
        for text in texts:
            vector = [0.0] * 32
            for word in re.findall(r"\w+", text.lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 32] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors

    def train(self, pairs, *, lr, batch_size, epochs, seed, on_step=None, on_warning=None):
        self.trained.append(list(pairs))
        steps = math.ceil(len(pairs) / batch_size) * epochs
        losses = tuple(2.0 / (step + 1) for step in range(steps))
        for step, loss in enumerate(losses, 1):
            if on_step:
                on_step(step, steps, loss)
        return TrainResult(steps, sum(losses) / steps, losses)

    def save_adapter(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "adapter_config.json").write_text(json.dumps({"fake": True, "round": len(self.trained)}))
        self.saved.append(directory)

    def load_adapter(self, directory: Path) -> None:
        self.loaded = json.loads((Path(directory) / "adapter_config.json").read_text())

    def reset_adapter(self) -> None:
        self.resets += 1

    def reseed(self, seed: int) -> None:
        self.seeds.append(seed)

    def release_memory(self) -> None:
        self.released += 1
