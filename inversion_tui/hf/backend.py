"""The real backend: HFGenerator (transformers generation and log-likelihoods), HFEmbedder
(sentence-transformers) and HFTrainer (peft LoRA), composed over one model in memory. Loading
(LoadedModels) is apart from composing, so a generator on another engine can take the
generator's place over the same tokenizer and trained adapter (loop/backend.GENERATORS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from inversion_tui.hf import models
from inversion_tui.hf.generator import HFGenerator
from inversion_tui.hf.train import HFTrainer, release_cached_memory
from inversion_tui.importing import resolve
from inversion_tui.loop.backend import GENERATORS, ComposedBackend, Generator
from inversion_tui.loop.objectives import OBJECTIVES
from inversion_tui.settings import RunSettings


class HFEmbedder:
    def __init__(self, model):
        self.model = model  # a SentenceTransformer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self.model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.tolist()


@dataclass
class LoadedModels:
    """What loading a run's models gives every part of its backend. A generator on another
    engine (loop/backend.GENERATORS) shares these: the tokenizer renders its prompts with the same
    chat template, and `Generator.sync_adapter(trainer)` is where it takes up the adapter each
    training step leaves (HFTrainer.save_adapter writes the files an engine that serves LoRA
    adapters loads)."""

    model: Any  # the peft model: HFTrainer trains it, HFGenerator generates with it
    tokenizer: Any
    embedder: Any  # a SentenceTransformer
    device: str
    description: dict[str, str]  # model, quant, device, dtype, ...: progress.json's `backend`
    prefix_cache: bool  # run the prompts' shared prefix once, generating and training

    @classmethod
    def load(cls, settings: RunSettings, log: models.Logger = lambda _: None) -> "LoadedModels":
        models.quiet_library_noise()  # before any import that pulls in bitsandbytes

        # Seed before the LoRA layers exist: their A matrices are drawn at random on creation,
        # and an unseeded draw made two runs with the same --seed diverge after training.
        _set_seed(settings.seed)
        device = models.resolve_device()
        choice = models.resolve_choices(settings, device, log)
        log(f"loading {settings.model} ({choice['quant']}, {choice['dtype']}) on {device}"
            + (", gradient checkpointing on" if choice["checkpointing"] else ""))
        model, tokenizer = models.load_generator(
            settings.model, choice["quant"], device, (settings.lora_r, settings.lora_alpha, settings.lora_dropout),
            log, dtype=choice["dtype"], checkpointing=choice["checkpointing"],
        )
        log(f"loading embedder {settings.embedder}")
        embedder = models.load_embedder(settings.embedder, device)
        # And again once everything is loaded: loading draws from the RNG a varying amount
        # (seen: two same-seed runs sampled different first candidates), generation must not.
        _set_seed(settings.seed)
        description = {"model": settings.model, "quant": choice["quant"], "device": device, "dtype": choice["dtype"],
                       "gradient_checkpointing": "on" if choice["checkpointing"] else "off",
                       "prefix_cache": "on" if choice["prefix_cache"] else "off"}
        return cls(model, tokenizer, embedder, device, description, choice["prefix_cache"])


def hf_generator(loaded: LoadedModels, settings: RunSettings | None = None) -> HFGenerator:
    """The generator engine `hf`: transformers' generate on the very model HFTrainer trains."""
    return HFGenerator(loaded.model, loaded.tokenizer, loaded.device, loaded.description)


class HFBackend(ComposedBackend):
    """The Hugging Face embedder and trainer over the loaded models, with a generator on the
    engine the settings name (HFGenerator unless another is given)."""

    def __init__(self, loaded: LoadedModels, generator: Generator | None = None):
        self.model, self.tokenizer, self.device = loaded.model, loaded.tokenizer, loaded.device
        super().__init__(
            generator or hf_generator(loaded),
            HFEmbedder(loaded.embedder),
            HFTrainer(loaded.model, loaded.tokenizer, loaded.device, loaded.description.get("model", "?")),
            reseed=_set_seed,
            release_memory=lambda: release_cached_memory(loaded.device),
        )
        self.share_prefix = loaded.prefix_cache

    @property
    def share_prefix(self) -> bool:
        """Run the prompts' shared prefix once, generating and training (prefix_cache.py)."""
        return self.trainer.share_prefix

    @share_prefix.setter
    def share_prefix(self, on: bool) -> None:
        self.trainer.share_prefix = on
        if hasattr(self.generator, "share_prefix"):  # an HFGenerator's own switch
            self.generator.share_prefix = on

    @property
    def force_length(self) -> bool:
        """Benchmarks only: every generate call decodes exactly max_new_tokens."""
        return self.generator.force_length

    @force_length.setter
    def force_length(self, on: bool) -> None:
        self.generator.force_length = on

    @classmethod
    def load(cls, settings: RunSettings, log: models.Logger = lambda _: None) -> "HFBackend":
        """The models loaded, with the generator of the engine the settings name."""
        loaded = LoadedModels.load(settings, log)
        backend = cls(loaded, resolve(GENERATORS[settings.engine])(loaded, settings))
        backend.trainer.objective = OBJECTIVES[settings.objective].trainer_objective(settings)
        return backend


def _set_seed(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)
