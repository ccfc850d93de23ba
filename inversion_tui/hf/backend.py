"""The real backend: HFGenerator (transformers generation and log-likelihoods), HFEmbedder
(sentence-transformers) and HFTrainer (peft LoRA), composed over one model in memory."""

from __future__ import annotations

from typing import Sequence

from inversion_tui.hf import models
from inversion_tui.hf.generator import HFGenerator
from inversion_tui.hf.objectives import DPO, SFT
from inversion_tui.hf.train import HFTrainer, release_cached_memory
from inversion_tui.loop.backend import ComposedBackend
from inversion_tui.settings import RunSettings


class HFEmbedder:
    def __init__(self, model):
        self.model = model  # a SentenceTransformer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self.model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.tolist()


class HFBackend(ComposedBackend):
    def __init__(self, model, tokenizer, embedder, device: str, description: dict[str, str]):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        super().__init__(
            HFGenerator(model, tokenizer, device, description),
            HFEmbedder(embedder),
            HFTrainer(model, tokenizer, device, description.get("model", "?")),
            reseed=_set_seed,
            release_memory=lambda: release_cached_memory(device),
        )

    @property
    def share_prefix(self) -> bool:
        """Run the prompts' shared prefix once, generating and training (prefix_cache.py)."""
        return self.generator.share_prefix

    @share_prefix.setter
    def share_prefix(self, on: bool) -> None:
        self.generator.share_prefix = self.trainer.share_prefix = on

    @property
    def force_length(self) -> bool:
        """Benchmarks only: every generate call decodes exactly max_new_tokens."""
        return self.generator.force_length

    @force_length.setter
    def force_length(self, on: bool) -> None:
        self.generator.force_length = on

    @classmethod
    def load(cls, settings: RunSettings, log: models.Logger = lambda _: None) -> "HFBackend":
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
        backend = cls(model, tokenizer, embedder, device, description)
        backend.share_prefix = choice["prefix_cache"]
        backend.trainer.objective = DPO(settings.dpo_beta) if settings.objective == "dpo" else SFT()
        return backend


def _set_seed(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)
