"""Training objectives over LoRA weights: how a training example becomes tokens, and its loss.

An objective is what the Trainer (hf/train.py) differentiates: `encode` turns an example into
token ids once, `weight` is an encoded example's share of its batch's loss (so a batch split
after running out of memory adds up to the same gradient), and `loss` is the mean loss over a
piece of a batch. SFT is today's; a preference objective (DPO) is one more class here.

SFT: the seed trained on whole 512-token padded inputs with pad = EOS, so most of its reported
loss was padding. Here labels are -100 on the prompt and on padding, batches are padded only
to their longest example, and the completion ends with EOS so the model learns to stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch

from inversion_tui.hf.prefix_cache import MIN_SHARED_PREFIX, prefill, shared_prefix_length
from inversion_tui.loop.backend import TrainingPair

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


class Objective(Protocol):
    name: str

    def encode(self, tokenizer, example) -> EncodedPair:
        """Token ids (and labels) of one example, computed once per training step."""

    def weight(self, encoded: EncodedPair) -> float:
        """The example's share of its batch's loss, before normalising over the batch."""

    def loss(self, model, piece: Sequence[EncodedPair], pad_id: int, device, share_prefix: bool) -> torch.Tensor:
        """Mean loss over a piece of a batch, weighted as `weight` says."""


class SFT:
    """Next-token cross-entropy on the completion (the command and EOS), the prompt masked."""

    name = "sft"

    def encode(self, tokenizer, example: TrainingPair) -> EncodedPair:
        return encode_pair(tokenizer, example)

    def weight(self, encoded: EncodedPair) -> float:
        return supervised_tokens(encoded)  # HF's loss is the mean over supervised tokens

    def loss(self, model, piece: Sequence[EncodedPair], pad_id: int, device, share_prefix: bool) -> torch.Tensor:
        loss = shared_prefix_loss(model, piece, pad_id, device) if share_prefix else None
        if loss is None:
            inputs = {k: v.to(device) for k, v in collate(piece, pad_id).items()}
            loss = model(**inputs).loss
        return loss


OBJECTIVES: dict[str, type] = {"sft": SFT}
