"""The manual as a verifier (issue 24, point 5): add the documentation components to the stored
sample rows, with no generation, then judge every weighting as verifier_weights.py does:
chosen on the packs (the tuning set), reported on InterCode-ALFA (never used to choose).

    python experiments/doc_verifier.py [--rows experiments/results/verifier] [--out experiments/results/verifier_docs]
    python experiments/verifier_weights.py experiments/results/verifier_docs --grid docs --json ...

Reads {packs,intercode}_{greedy,samples}.jsonl (written by `eval --samples 8 --save-samples`,
experiments/verifier_gap.sh), recomputes `documented`, `doc`, `doc_options` and
`options_known` for every row with the index `make setup` built and the bundled MiniLM, and
writes the rows with them to --out. Also prints what the four cost beside `embed` (the task
against the model's reconstruction, the cheapest component the loop already computes), timed
on the same rows in this run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from inversion_tui.eval_sets import load_eval_rows
from inversion_tui.manuals.index import default_docs, index_path
from inversion_tui.hf.backend import HFEmbedder
from inversion_tui.hf.models import load_embedder
from inversion_tui.loop import doc_scores
from inversion_tui.loop.score import ScoringContext, embedding_cosine

DOC_COMPONENTS = ("documented", "doc", "doc_options", "options_known")


class EmbedOnly:
    def __init__(self, embedder):
        self.embedder = embedder

    def embed(self, texts):
        return self.embedder.embed(texts)


def augment(rows: list[dict], backend) -> float:
    """Add the four components to each row in place; the seconds they took."""
    started = time.perf_counter()
    context = ScoringContext(backend=backend, commands=[r["command"] for r in rows], tasks=[r["task"] for r in rows])
    tasks = [r["task"] for r in rows]
    columns = {name: getattr(doc_scores, name)(tasks, [""] * len(rows), context) for name in DOC_COMPONENTS}
    for i, row in enumerate(rows):
        row["components"].update({name: columns[name][i] for name in DOC_COMPONENTS})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=Path, default=Path("experiments/results/verifier"))
    parser.add_argument("--out", type=Path, default=Path("experiments/results/verifier_docs"))
    args = parser.parse_args()
    docs = default_docs()
    if docs is None:
        sys.exit(f"no documentation index at {index_path()}: run `make setup`")
    print(f"index: {docs.description}")
    backend = EmbedOnly(HFEmbedder(load_embedder("all-minilm-l6-v2", "cpu")))
    backend.embed(["warm up"])
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("packs", "intercode"):
        rows = load_eval_rows(args.rows / f"{name}_samples.jsonl")
        seconds = augment(rows, backend)
        started = time.perf_counter()
        embedding_cosine([r["task"] for r in rows], [r["reconstruction"] for r in rows], ScoringContext(backend=backend))
        embed_seconds = time.perf_counter() - started
        print(f"{name}: {len(rows)} samples; the four doc components {seconds:.2f} s "
              f"({1000 * seconds / len(rows):.2f} ms a candidate), embed {embed_seconds:.2f} s: "
              f"{seconds / embed_seconds:.2f}x embed")
        with (args.out / f"{name}_samples.jsonl").open("w") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        shutil.copy(args.rows / f"{name}_greedy.jsonl", args.out / f"{name}_greedy.jsonl")
    (args.out / "index.json").write_text(json.dumps({"index": docs.description, **docs.provenance}, indent=1))


if __name__ == "__main__":
    main()
