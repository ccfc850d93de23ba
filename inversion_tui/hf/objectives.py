"""Training objectives over LoRA weights: how a training example becomes tokens, and its loss.

An objective is what the Trainer (hf/train.py) differentiates: `encode` turns an example into
token ids once, `weight` is an encoded example's share of its batch's loss (so a batch split
after running out of memory adds up to the same gradient), and `loss` is the mean loss over a
piece of a batch. SFT trains on accepted commands; DPO on preference pairs.

SFT: the seed trained on whole 512-token padded inputs with pad = EOS, so most of its reported
loss was padding. Here labels are -100 on the prompt and on padding, batches are padded only
to their longest example, and the completion ends with EOS so the model learns to stop.
"""

from __future__ import annotations

import contextlib
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


def sequence_log_probs(model, rows: Sequence[EncodedPair], pad_id: int, device) -> torch.Tensor:
    """Sum of the log-probabilities of each row's supervised tokens (its completion), one per row."""
    inputs = {k: v.to(device) for k, v in collate(rows, pad_id).items()}
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits[:, :-1].float()
    labels = inputs["labels"][:, 1:]
    mask = labels != IGNORE_INDEX
    picked = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(dim=-1)


@dataclass(frozen=True)
class EncodedPreference:
    chosen: EncodedPair
    rejected: EncodedPair


class DPO:
    """Direct preference optimisation (Rafailov et al. 2023), its sigmoid loss: for a prompt and
    a preferred and a less preferred command, -log sigmoid(beta * (the policy's log-ratio to the
    reference on the chosen one - the same on the rejected one)), log-probabilities summed over
    the command's tokens. The reference is the base model: the same weights with the LoRA
    adapter switched off (peft's disable_adapter), so no second copy is held in memory, and
    the anchor is fixed for the whole run. Read against TRL's DPOTrainer (its default "sigmoid"
    loss, and the adapter-off reference it uses for peft models without a ref_model); written
    here so it runs inside this trainer's loop (out-of-memory splitting, no datasets or
    accelerate dependency)."""

    name = "dpo"

    def __init__(self, beta: float = 0.1):
        self.beta = beta

    def encode(self, tokenizer, example) -> EncodedPreference:
        return EncodedPreference(encode_pair(tokenizer, TrainingPair(example.prompt, example.chosen)),
                                 encode_pair(tokenizer, TrainingPair(example.prompt, example.rejected)))

    def weight(self, encoded: EncodedPreference) -> float:
        return 1.0  # one preference, one share of the batch's mean

    def reference_log_probs(self, model, rows: Sequence[EncodedPair], pad_id: int, device) -> torch.Tensor:
        disable = getattr(model, "disable_adapter", None)
        with torch.no_grad(), (disable() if disable is not None else contextlib.nullcontext()):
            return sequence_log_probs(model, rows, pad_id, device)

    def loss(self, model, piece: Sequence[EncodedPreference], pad_id: int, device, share_prefix: bool) -> torch.Tensor:
        rows = [p.chosen for p in piece] + [p.rejected for p in piece]
        policy = sequence_log_probs(model, rows, pad_id, device)
        reference = self.reference_log_probs(model, rows, pad_id, device)
        n = len(piece)
        margin = (policy[:n] - reference[:n]) - (policy[n:] - reference[n:])
        return -torch.nn.functional.logsigmoid(self.beta * margin).mean()


# The trainer's objective for a run, as loop/objectives.py names them: built from its settings,
# where each objective's hyperparameters are.
def sft(settings) -> SFT:
    return SFT()


def dpo(settings) -> DPO:
    return DPO(settings.dpo_beta)
