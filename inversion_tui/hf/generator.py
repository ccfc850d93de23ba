"""The Hugging Face Generator: chat prompts, batched generation and the log-likelihood of given
continuations, on the same (LoRA-wrapped) model the trainer updates."""

from __future__ import annotations

import contextlib
import functools
from typing import Iterator, Sequence

import torch
from transformers import StoppingCriteria

from inversion_tui.chat_template import accepts_system_role, fold_system_message
from inversion_tui.loop import decoding
from inversion_tui.hf.prefix_cache import (MIN_SHARED_PREFIX, generate_with_shared_prefix, prefill, prefix_layout,
                                           shared_prefix_length)

LIKELIHOOD_BATCH = 16
"""Sequences per forward pass of log_likelihood: the logits kept are (batch, continuation, vocab),
about 60 MB at SmolLM2's 49k vocabulary and 20 continuation tokens."""


class ReportSteps(StoppingCriteria):
    """A stopping criterion that never stops: transformers calls it once per decoding step,
    which makes it the one hook inside generate that tells how far a call has got."""

    def __init__(self, max_new_tokens: int):
        self.max_new_tokens, self.step = max_new_tokens, 0

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        self.step += 1
        decoding.report(self.step, self.max_new_tokens)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class HFGenerator:
    def __init__(self, model, tokenizer, device: str, description: dict[str, str]):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.description = description
        # Benchmarks only: generate exactly max_new_tokens every call, so two ways of running the
        # same workload decode the same number of tokens (benchmarks/loop_speed.py).
        self.force_length = False
        self.share_prefix = True  # run the prompts' common prefix once (prefix_cache.py)

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
        from transformers import GenerationConfig, StoppingCriteriaList

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
        progress = {"stopping_criteria": StoppingCriteriaList([ReportSteps(max_new_tokens)])}
        if self.share_prefix:
            new_tokens = generate_with_shared_prefix(self.model, self.tokenizer, prompts, config,
                                                     num_return_sequences, self.device, **progress)
        if new_tokens is None:  # too little shared, or switched off: plain left-padded generate
            encoded = self.tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False)
            encoded = encoded.to(self.device)
            output = self.model.generate(**encoded, generation_config=config, **progress)
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        # generate returns each prompt's sequences next to each other
        return [texts[i : i + num_return_sequences] for i in range(0, len(texts), num_return_sequences)]

    @torch.inference_mode()
    def log_likelihood(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[list[float]]:
        rows, lengths = [], []
        for prompt, continuation in zip(prompts, continuations):
            prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            if not prompt_ids:
                raise ValueError("log_likelihood needs a prompt: the first token has nothing to be predicted from")
            continuation_ids = self.tokenizer(continuation, add_special_tokens=False)["input_ids"]
            rows.append(prompt_ids + continuation_ids)
            lengths.append(len(continuation_ids))
        result: list[list[float]] = []
        for start in range(0, len(rows), LIKELIHOOD_BATCH):
            result.extend(self._token_log_probs(rows[start : start + LIKELIHOOD_BATCH],
                                                lengths[start : start + LIKELIHOOD_BATCH]))
        return result

    def _token_log_probs(self, rows: list[list[int]], lengths: list[int]) -> list[list[float]]:
        """One forward pass. The rows are laid out [shared prefix][padding][own suffix], so every
        row ends at the same position and only the last `max(lengths) + 1` positions' logits are
        computed (the vocabulary-wide logits of the prompts would dwarf everything else). The
        shared prefix (system prompt, few-shot) runs once, through the KV cache, when it pays."""
        prefix = shared_prefix_length(rows) if self.share_prefix and len(rows) > 1 else 0
        # Every row's continuation, and the prompt token before it, must stay out of the prefix.
        prefix = min([prefix] + [len(row) - length - 1 for row, length in zip(rows, lengths)])
        prefix = prefix if prefix >= MIN_SHARED_PREFIX else 0
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids, mask = prefix_layout(rows, prefix, pad_id)
        ids_t = torch.tensor(ids, device=self.device)
        mask_t = torch.tensor(mask, device=self.device)
        # Positions from the mask: the suffix continues where the prefix ended, padding skipped.
        positions = (mask_t.cumsum(-1) - 1).clamp(min=0)
        keep = max(lengths) + 1
        inputs = {"input_ids": ids_t, "attention_mask": mask_t, "position_ids": positions}
        if prefix:
            cache_name, cache = prefill(self.model, ids[0][:prefix], len(rows), self.device)
            if cache is not None:
                inputs = {"input_ids": ids_t[:, prefix:], "attention_mask": mask_t,
                          "position_ids": positions[:, prefix:], cache_name: cache}
        logits = self.model(**inputs, logits_to_keep=keep).logits[:, -keep:].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        out = []
        for row_index, (row, length) in enumerate(zip(rows, lengths)):
            if length == 0:
                out.append([])
                continue
            targets = torch.tensor(row[-length:], device=self.device)
            # logits at position t predict token t + 1: the continuation's tokens are the last
            # `length`, predicted by the `length` positions before the final one.
            predicting = log_probs[row_index, keep - 1 - length : keep - 1]
            out.append(predicting.gather(-1, targets[:, None]).squeeze(-1).tolist())
        return out

    @contextlib.contextmanager
    def base_weights(self) -> Iterator[None]:
        disable = getattr(self.model, "disable_adapter", None)  # a PeftModel; a bare model is the base
        with disable() if disable is not None else contextlib.nullcontext():
            yield

    def sync_adapter(self, trainer) -> None:
        """Nothing to copy: HFTrainer trains this very model object."""
