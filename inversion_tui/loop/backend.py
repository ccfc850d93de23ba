"""What the engine needs from a model: a Protocol, so tests can pass a fast fake backend.

The real implementation (transformers + peft + sentence-transformers) is
inversion_tui.hf.backend.HFBackend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence


@dataclass(frozen=True)
class TrainingPair:
    """A chat-rendered forward prompt and the command the model should answer with."""

    prompt: str
    completion: str


@dataclass(frozen=True)
class TrainResult:
    steps: int
    mean_loss: float
    losses: tuple[float, ...]


StepCallback = Callable[[int, int, float], None]  # (step, total_steps, loss)
WarningCallback = Callable[[str], None]


def out_of_memory_errors() -> tuple[type[BaseException], ...]:
    """What running out of memory raises: CUDA's OutOfMemoryError, or MemoryError on CPU."""
    import torch

    cuda_oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return (MemoryError, cuda_oom) if cuda_oom is not None else (MemoryError,)


class Backend(Protocol):
    description: dict[str, str]  # model, quant, device: shown in headers and progress.json

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """Render chat messages to the prompt string the model is given (generation prompt on)."""

    def complete(
        self, prompts: Sequence[str], *, num_return_sequences: int, temperature: float, max_new_tokens: int
    ) -> list[list[str]]:
        """One batched generate call; returns `num_return_sequences` texts per prompt."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-normalised sentence embeddings, one batched call."""

    def train(
        self, pairs: Sequence[TrainingPair], *, lr: float, batch_size: int, epochs: int, seed: int,
        on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    ) -> TrainResult:
        """LoRA SFT on the pairs (loss on completion tokens only); leaves the model in eval mode.
        Out of memory on a batch: split it, accumulate, say so through on_warning."""

    def save_adapter(self, directory: Path) -> None:
        """Write the LoRA adapter so that PeftModel.from_pretrained can load it."""

    def load_adapter(self, directory: Path) -> None:
        """Load saved LoRA weights into the model (resume)."""

    def reseed(self, seed: int) -> None:
        """Seed every RNG the next calls draw from (sampling, dropout)."""

    def release_memory(self) -> None:
        """After an out-of-memory error, once the failed attempt's tensors are gone: hand the
        allocator's cached memory back (torch.cuda.empty_cache) before a smaller retry."""
