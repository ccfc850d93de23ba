"""Write a model directory shaped like Mistral-7B-Instruct-v0.2, with random weights.

    python benchmarks/make_random_model.py --out /tmp/mistral-shaped [--shape mistral-7b | tiny]

For the GPU benchmark (issue 7): `loop_speed.py --model /tmp/mistral-shaped --quant 4bit`
loads it through the same path as any local model, NF4 included. No download: the config is
written from Mistral-7B-Instruct-v0.2's published shape, and the tokenizer is the bundled
SmolLM2 one (so the vocabulary is 49,152 rather than Mistral's 32,000: about 0.07 B more
embedding and head parameters, 1% of the model). Random weights make the outputs gibberish,
which is fine for timing: lengths are forced in the benchmark. `--shape tiny` writes a
two-layer model of the same family, to check the path on a CPU in seconds.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

SHAPES = {
    # Mistral-7B-Instruct-v0.2's config.json (the published architecture)
    "mistral-7b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=8, max_position_embeddings=32768, rope_theta=1_000_000.0,
                       rms_norm_eps=1e-5, sliding_window=None),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=2048, rope_theta=1_000_000.0, rms_norm_eps=1e-5,
                 sliding_window=None),
}


def build_model(shape: str, tokenizer, seed: int = 0, device: str = "cpu"):
    """The model, with every weight created in bf16: built in fp32 first, 7B took 27.5 GiB on
    the way, more than a 24 GB card has. On the GPU when there is one (14.5 GB)."""
    from transformers import MistralConfig, MistralForCausalLM

    config = MistralConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                           torch_dtype="bfloat16", **SHAPES[shape])
    torch.manual_seed(seed)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            return MistralForCausalLM(config)
    finally:
        torch.set_default_dtype(default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="mistral-7b")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tokenizer", type=Path,
                        help="a tokenizer directory (default: the bundled SmolLM2's); lets a GPU machine without "
                             "the bundled model packages build the model from a few MB of tokenizer files")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    if args.tokenizer is None:
        from inversion_tui.hf.models import ensure_bundled_generator

        args.tokenizer = ensure_bundled_generator()
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = build_model(args.shape, tokenizer, args.seed, device)
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(args.out, max_shard_size="2GB")
    tokenizer.save_pretrained(args.out)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {args.shape}, {parameters / 1e9:.2f} B parameters, vocab {len(tokenizer)}")


if __name__ == "__main__":
    main()
