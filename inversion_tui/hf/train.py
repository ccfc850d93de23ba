"""The Trainer: AdamW over the LoRA weights on an objective (hf/objectives.py), out-of-memory
batches split and accumulated, and the adapter saved and loaded."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Sequence

import torch

from inversion_tui.errors import ModelLoadError, first_line
from inversion_tui.hf.objectives import SFT, EncodedPair, Objective
from inversion_tui.loop.backend import StepCallback, TrainingPair, TrainResult, WarningCallback, out_of_memory_errors

class _Accumulator:
    """Forward/backward over a batch, split into smaller pieces when memory runs out.

    The objective's loss is a mean over its piece, so each piece's loss is weighted by its share
    of the batch (objective.weight: SFT's supervised tokens): the gradient equals the unsplit
    batch's.
    """

    def __init__(self, model, pad_id: int, device, on_warning: WarningCallback | None, share_prefix: bool = True,
                 objective: Objective | None = None):
        self.model, self.pad_id, self.device = model, pad_id, device
        self.objective = objective or SFT()
        self.on_warning = on_warning or (lambda _: None)
        self.piece_limit: int | None = None  # once a size ran out of memory, stay below it
        self.oom = out_of_memory_errors()
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.share_prefix = share_prefix

    def loss_and_backward(self, batch: list[EncodedPair]) -> float:
        return self._piece(batch, sum(self.objective.weight(e) for e in batch) or 1)

    def _piece(self, piece: list[EncodedPair], total: float) -> float:
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

    def _forward_backward(self, piece: list[EncodedPair], total: float) -> float:
        loss = self.objective.loss(self.model, piece, self.pad_id, self.device, self.share_prefix)
        loss = loss * (sum(self.objective.weight(e) for e in piece) / total)
        loss.backward()
        return float(loss.detach())


def release_cached_memory(device) -> None:
    """Hand the CUDA allocator's cached blocks back, so a smaller retry can use them."""
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()


def train_lora(
    model, tokenizer, pairs: Sequence[TrainingPair], *, lr: float, batch_size: int, epochs: int, seed: int,
    device: torch.device | str, on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    share_prefix: bool = True, objective: Objective | None = None,
) -> TrainResult:
    """Plain AdamW over the trainable (LoRA) parameters. Always returns the model in eval mode,
    so LoRA dropout is off when scoring resumes (the seed left it on)."""
    objective = objective or SFT()
    encoded = [objective.encode(tokenizer, pair) for pair in pairs]
    order_rng = random.Random(seed)
    steps_per_epoch = math.ceil(len(encoded) / batch_size)
    total_steps = steps_per_epoch * epochs
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    losses: list[float] = []
    accumulator = _Accumulator(model, pad_id, device, on_warning, share_prefix, objective)
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


class HFTrainer:
    """The Trainer over a LoRA-wrapped model: the generator shares the same model object, so a
    step is visible to the next generate call with no copy."""

    def __init__(self, model, tokenizer, device, model_name: str, objective: Objective | None = None):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.model_name = model_name  # for errors: which model an adapter does not fit
        self.objective = objective or SFT()
        self.share_prefix = True  # run the batch's shared prompt prefix once (objectives.shared_prefix_loss)
        # The adapter as created (LoRA B = 0: the base model), for reset_adapter; small, kept on
        # the CPU so it costs no GPU memory.
        self.initial = {} if model is None else {
            name: p.detach().to("cpu", copy=True) for name, p in model.named_parameters() if p.requires_grad}

    def train(
        self, pairs: Sequence[TrainingPair], *, lr: float, batch_size: int, epochs: int, seed: int,
        on_step: StepCallback | None = None, on_warning: WarningCallback | None = None,
    ) -> TrainResult:
        return train_lora(
            self.model, self.tokenizer, pairs, lr=lr, batch_size=batch_size, epochs=epochs, seed=seed,
            device=self.device, on_step=on_step, on_warning=on_warning, share_prefix=self.share_prefix,
            objective=self.objective,
        )

    def save_adapter(self, directory: Path) -> None:
        self.model.save_pretrained(str(directory))

    def reset_adapter(self) -> None:
        with torch.no_grad():
            for name, param in self.model.named_parameters():
                if name in self.initial:
                    param.copy_(self.initial[name])

    def load_adapter(self, directory: Path) -> None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = Path(directory) / "adapter_model.safetensors"
        try:
            state = load_file(str(weights))
            result = set_peft_model_state_dict(self.model, state)
        except Exception as exc:  # noqa: BLE001 - missing, corrupt (SafetensorError) or mis-shaped: all one answer
            raise ModelLoadError(f"adapter {directory} does not fit model {self.model_name}: "
                                 f"{first_line(exc)}") from None
        unexpected = getattr(result, "unexpected_keys", None)
        if unexpected:
            raise ModelLoadError(f"adapter {directory} does not fit model {self.model_name}: "
                                 f"{len(unexpected)} unexpected weights, e.g. {unexpected[0]}")
        self.model.eval()
