"""The one way the program builds a Backend from settings: `run` (headless and in the
workbench), `score`, `eval` and the benchmarks all call load_backend.

Every model loads through the Hugging Face layer (inversion_tui/hf): its embedder and trainer
always, and a generator on the engine `--engine` names (loop/backend.GENERATORS). A generator
on another engine, vLLM for users who outgrow one GPU, is one new module implementing the Generator
protocol (loop/backend.py) over the loaded tokenizer and the adapter each step saves, and one
entry in GENERATORS there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from inversion_tui.loop.backend import Backend

if TYPE_CHECKING:
    from inversion_tui.settings import RunSettings

def load_backend(settings: RunSettings, log: Callable[[str], None] = lambda _: None) -> Backend:
    from inversion_tui.manuals.index import default_docs
    from inversion_tui.hf.backend import HFBackend  # torch and transformers load only when a model does

    backend = HFBackend.load(settings, log)
    # What the score's doc components judged with, in progress.json and results.json beside the
    # model: CI's index and a laptop's are the same when their fingerprints are.
    docs = default_docs()
    backend.description["docs_index"] = docs.description if docs is not None else NO_INDEX
    if docs is None:
        log(f"documentation index: {NO_INDEX}")
    return backend


NO_INDEX = "none (the doc components cannot judge; `make setup` or `inversion-tui docs --build` builds it)"
