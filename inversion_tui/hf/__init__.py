"""The Hugging Face layer: loading models (bundled, a directory or a hub id; dense or NF4),
generating with a shared-prefix KV cache, LoRA training, and the Backend the loop drives.
Everything that imports torch, transformers, peft or sentence-transformers lives here; the
loop (inversion_tui.loop) never imports it."""
