"""LoRA SFT on accepted pairs, the loss on command tokens only.

The seed trained on whole 512-token padded inputs with pad = EOS, so most of its reported
loss was padding. Here labels are -100 on the prompt and on padding, batches are padded only
to their longest example, and the completion ends with EOS so the model learns to stop.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Sequence

import torch

from inversion_tui.hf.prefix_cache import MIN_SHARED_PREFIX, prefill, shared_prefix_length
from inversion_tui.loop.backend import StepCallback, TrainingPair, TrainResult, WarningCallback, out_of_memory_errors

IGNORE_INDEX = -100


@dataclass(frozen=True)
class EncodedPair:
    input_ids: list[int]
    labels: list[int]


def encode_pair(tokenizer, pair: TrainingPair, max_length: int = 512) -> EncodedPair:
    """Token ids of prompt + completion + EOS, with labels masking the prompt.

    Prompt and completion are tokenized separately, exactly as at generation time (the model
    sees the prompt's ids, then produces the command's), so training matches inference.
    """
    prompt_ids = tokenizer(pair.prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(pair.completion, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        completion_ids = completion_ids + [tokenizer.eos_token_id]
    completion_ids = completion_ids[:max_length]
    keep_prompt = max_length - len(completion_ids)
    # Over-long examples lose the start of the prompt (few-shot), never the command.
    prompt_ids = prompt_ids[-keep_prompt:] if keep_prompt > 0 else []
    return EncodedPair(
        input_ids=prompt_ids + completion_ids,
        labels=[IGNORE_INDEX] * len(prompt_ids) + completion_ids,
    )


def collate(batch: Sequence[EncodedPair], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad to the longest example in the batch; padding is masked in labels and attention."""
    width = max(len(example.input_ids) for example in batch)
    input_ids, labels, attention = [], [], []
    for example in batch:
        pad = width - len(example.input_ids)
        input_ids.append(example.input_ids + [pad_token_id] * pad)
        labels.append(example.labels + [IGNORE_INDEX] * pad)
        attention.append([1] * len(example.input_ids) + [0] * pad)
    return {
        "input_ids": torch.tensor(input_ids, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
        "attention_mask": torch.tensor(attention, dtype=torch.long),
    }


def _checkpointing(model) -> bool:
    # transformers 5 renamed is_gradient_checkpointing (deprecated) to is_activation_checkpointing
    for name in ("is_activation_checkpointing", "is_gradient_checkpointing"):
        if hasattr(type(model), name) or hasattr(model, name):
            return bool(getattr(model, name))
    return False


def shared_prefix_loss(model, batch: Sequence[EncodedPair], pad_token_id: int, device):
    """The batch's loss with the prefix its examples share (system prompt and few-shot, about
    110 of ~190 tokens) run once and its KV cache repeated for every example, instead of once
    per example. Gradients flow through the repeated cache into the prefix's computation, so
    the loss and the LoRA gradients are those of the plain batch (a test compares them).

    None when it does not apply: too little shared, a supervised token inside the prefix, or
    gradient checkpointing (which turns the cache off).
    """
    rows = [example.input_ids for example in batch]
    prefix = shared_prefix_length(rows)
    if (len(batch) < 2 or prefix < MIN_SHARED_PREFIX or _checkpointing(model)
            or any(label != IGNORE_INDEX for example in batch for label in example.labels[: prefix + 1])):
        return None
    cache_name, cache = prefill(model, rows[0][:prefix], len(batch), device)
    if cache is None:
        return None
    suffixes = collate([EncodedPair(e.input_ids[prefix:], e.labels[prefix:]) for e in batch], pad_token_id)
    suffixes = {k: v.to(device) for k, v in suffixes.items()}
    attention = torch.cat([torch.ones(len(batch), prefix, dtype=torch.long, device=device),
                           suffixes["attention_mask"]], dim=1)
    # The first suffix token is a prompt token (checked above), so no label is lost at the seam.
    return model(input_ids=suffixes["input_ids"], attention_mask=attention, labels=suffixes["labels"],
                 **{cache_name: cache}).loss


def supervised_tokens(example: EncodedPair) -> int:
    # labels are shifted inside the model: the first label never counts
    return sum(label != IGNORE_INDEX for label in example.labels[1:])


class _Accumulator:
    """Forward/backward over a batch, split into smaller pieces when memory runs out.

    HF's loss is the mean over a piece's supervised tokens, so each piece's loss is weighted by
    its share of the batch's tokens: the gradient equals the unsplit batch's.
    """

    def __init__(self, model, pad_id: int, device, on_warning: WarningCallback | None, share_prefix: bool = True):
        self.model, self.pad_id, self.device = model, pad_id, device
        self.on_warning = on_warning or (lambda _: None)
        self.piece_limit: int | None = None  # once a size ran out of memory, stay below it
        self.oom = out_of_memory_errors()
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.share_prefix = share_prefix

    def loss_and_backward(self, batch: list[EncodedPair]) -> float:
        return self._piece(batch, sum(supervised_tokens(e) for e in batch) or 1)

    def _piece(self, piece: list[EncodedPair], total: int) -> float:
        if self.piece_limit is not None and len(piece) > self.piece_limit:  # known not to fit
            size = self.piece_limit
            return sum(self._piece(piece[i : i + size], total) for i in range(0, len(piece), size))
        # An OOM inside backward can leave this piece's gradients half added: keep a copy of
        # the (small, LoRA-only) gradients to go back to.
        saved = [None if p.grad is None else p.grad.clone() for p in self.params]
        try:
            return self._forward_backward(piece, total)
        except self.oom:
            for param, grad in zip(self.params, saved):
                param.grad = grad
            if len(piece) == 1:
                raise
        # Retried after the except block, whose traceback holds the failed attempt's
        # activations: they are freed by now, and the allocator's cache can be handed back.
        release_cached_memory(self.device)
        half = (len(piece) + 1) // 2
        self.piece_limit = half
        self.on_warning(f"out of memory training on {len(piece)} examples at once; retrying with {half}")
        return self._piece(piece[:half], total) + self._piece(piece[half:], total)

    def _forward_backward(self, piece: list[EncodedPair], total: int) -> float:
        loss = shared_prefix_loss(self.model, piece, self.pad_id, self.device) if self.share_prefix else None
        if loss is None:
            inputs = {k: v.to(self.device) for k, v in collate(piece, self.pad_id).items()}
            loss = self.model(**inputs).loss
        loss = loss * (sum(supervised_tokens(e) for e in piece) / total)
        loss.backward()
        return float(loss.detach())


def release_cached_memory(device) -> None:
    """Hand the CUDA allocator's cached blocks back, so a smaller retry can use them."""
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()


def train_lora(
    model, tokenizer, pairs: Sequence[TrainingPair], *, lr: float, batch_size: int, epochs: int, seed: int,
    device: torch.device | str, on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    share_prefix: bool = True,
) -> TrainResult:
    """Plain AdamW over the trainable (LoRA) parameters. Always returns the model in eval mode,
    so LoRA dropout is off when scoring resumes (the seed left it on)."""
    encoded = [encode_pair(tokenizer, pair) for pair in pairs]
    order_rng = random.Random(seed)
    steps_per_epoch = math.ceil(len(encoded) / batch_size)
    total_steps = steps_per_epoch * epochs
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    losses: list[float] = []
    accumulator = _Accumulator(model, pad_id, device, on_warning, share_prefix)
    model.train()
    try:
        for _ in range(epochs):
            order = list(range(len(encoded)))
            order_rng.shuffle(order)
            for start in range(0, len(order), batch_size):
                loss = accumulator.loss_and_backward([encoded[i] for i in order[start : start + batch_size]])
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(loss)
                if on_step is not None:
                    on_step(len(losses), total_steps, losses[-1])
    finally:
        model.eval()
    mean = sum(losses) / len(losses) if losses else float("nan")
    return TrainResult(steps=len(losses), mean_loss=mean, losses=tuple(losses))
