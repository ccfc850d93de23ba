"""The real backend: transformers generation, peft LoRA training, sentence-transformers embeddings."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import torch

from inversion_tui.chat_template import accepts_system_role, fold_system_message
from inversion_tui.errors import ModelLoadError, first_line
from inversion_tui.hf import models
from inversion_tui.hf.prefix_cache import generate_with_shared_prefix
from inversion_tui.hf.train import release_cached_memory, train_lora
from inversion_tui.loop.backend import StepCallback, TrainingPair, TrainResult, WarningCallback
from inversion_tui.settings import RunSettings


class HFBackend:
    def __init__(self, model, tokenizer, embedder, device: str, description: dict[str, str]):
        self.model = model
        self.tokenizer = tokenizer
        self.embedder = embedder
        self.device = device
        self.description = description
        # Benchmarks only: generate exactly max_new_tokens every call, so two ways of running the
        # same workload decode the same number of tokens (benchmarks/loop_speed.py).
        self.force_length = False
        self.share_prefix = True  # run the prompts' common prefix once, generating and training (prefix_cache.py)

    @classmethod
    def load(cls, settings: RunSettings, log: models.Logger = lambda _: None) -> "HFBackend":
        models.quiet_library_noise()  # before any import that pulls in bitsandbytes
        from transformers import set_seed

        # Seed before the LoRA layers exist: their A matrices are drawn at random on creation,
        # and an unseeded draw made two runs with the same --seed diverge after training.
        set_seed(settings.seed)
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
        set_seed(settings.seed)
        description = {"model": settings.model, "quant": choice["quant"], "device": device, "dtype": choice["dtype"],
                       "gradient_checkpointing": "on" if choice["checkpointing"] else "off"}
        return cls(model, tokenizer, embedder, device, description)

    @functools.cached_property
    def system_role(self) -> bool:
        """Mistral's and Gemma's templates reject a system turn: found by trying, once."""
        return accepts_system_role(self.tokenizer)

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        if self.tokenizer.chat_template:
            turns = list(messages) if self.system_role else fold_system_message(messages)
            return self.tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        # Base models without a template: a plain transcript that ends where the answer goes.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        return "\n".join(lines) + "\nAssistant:"

    @torch.inference_mode()
    def complete(
        self, prompts: Sequence[str], *, num_return_sequences: int, temperature: float, max_new_tokens: int
    ) -> list[list[str]]:
        from transformers import GenerationConfig

        sampling = temperature > 0
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            min_new_tokens=max_new_tokens if self.force_length else None,
            do_sample=sampling,
            temperature=temperature if sampling else None,
            top_p=1.0 if sampling else None,
            top_k=0 if sampling else None,
            num_return_sequences=num_return_sequences,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
            use_cache=True,  # prepare_model_for_kbit_training turns the cache off for training
        )
        new_tokens = None
        if self.share_prefix:
            new_tokens = generate_with_shared_prefix(self.model, self.tokenizer, prompts, config,
                                                     num_return_sequences, self.device)
        if new_tokens is None:  # too little shared, or switched off: plain left-padded generate
            encoded = self.tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False)
            encoded = encoded.to(self.device)
            output = self.model.generate(**encoded, generation_config=config)
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        # generate returns each prompt's sequences next to each other
        return [texts[i : i + num_return_sequences] for i in range(0, len(texts), num_return_sequences)]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self.embedder.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.tolist()

    def train(
        self, pairs: Sequence[TrainingPair], *, lr: float, batch_size: int, epochs: int, seed: int,
        on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    ) -> TrainResult:
        return train_lora(
            self.model, self.tokenizer, pairs, lr=lr, batch_size=batch_size, epochs=epochs, seed=seed,
            device=self.device, on_step=on_step, on_warning=on_warning, share_prefix=self.share_prefix,
        )

    def save_adapter(self, directory: Path) -> None:
        self.model.save_pretrained(str(directory))

    def load_adapter(self, directory: Path) -> None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = Path(directory) / "adapter_model.safetensors"
        try:
            state = load_file(str(weights))
            result = set_peft_model_state_dict(self.model, state)
        except Exception as exc:  # noqa: BLE001 - missing, corrupt (SafetensorError) or mis-shaped: all one answer
            raise ModelLoadError(f"adapter {directory} does not fit model {self.description['model']}: "
                                 f"{first_line(exc)}") from None
        unexpected = getattr(result, "unexpected_keys", None)
        if unexpected:
            raise ModelLoadError(f"adapter {directory} does not fit model {self.description['model']}: "
                                 f"{len(unexpected)} unexpected weights, e.g. {unexpected[0]}")
        self.model.eval()

    def reseed(self, seed: int) -> None:
        from transformers import set_seed

        set_seed(seed)

    def release_memory(self) -> None:
        release_cached_memory(self.device)
