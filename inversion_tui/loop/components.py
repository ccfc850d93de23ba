"""The score components' registry: each component's name, cost, default weight and label, in
one `register` call. Settings, `--weights`, the TUI's columns and labels, the weights dialog,
the filter, replay's re-scoring and the README's table all derive from it (loop/score.py has
the scorers and how components combine).

The scorers are named "module:function" and loaded when first called, so settings read this
table without importing the scorers (and the documentation index and model code behind them).
Every scorer has one signature, `scorer(tasks, reconstructions, context) -> list[float | None]`
(context: score.ScoringContext), values in [0, 1], None for "could not judge".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from inversion_tui.importing import resolve

Scorer = Callable[[Sequence[str], Sequence[str], Any], list["float | None"]]
Components = dict[str, float | None]
"""A candidate's components by name: what it stores, and what weights combine."""

Cost = Literal["text", "embedding", "forward", "generation"]


@dataclass(frozen=True)
class ScorerSpec:
    """One score component: everything the rest of the program knows about it."""

    name: str  # stored per candidate under this name; used in --weights
    scorer: Scorer | str  # the function, or "module:function" (the table's own: loaded on first use)
    cost: Cost  # text: no model; embedding: one embed call; forward: one forward pass; generation: decoding
    default_weight: float
    help: str  # what it measures, in one line (the README's table and the weights dialog)
    label: str | None = None  # short name in the live pane; None: not shown there
    column: bool = False  # a column of its own in the candidates table (label as header)
    always: bool = True  # computed for every candidate whatever its weight, so a re-weighting
    # (live or in a replay) has it; False for a costly one, computed only while weighted

    def score(self, tasks: Sequence[str], reconstructions: Sequence[str], context: Any) -> list[float | None]:
        scorer = resolve(self.scorer) if isinstance(self.scorer, str) else self.scorer
        return scorer(tasks, reconstructions, context)


REGISTRY: dict[str, ScorerSpec] = {}
"""Every component, in display order. Add one with `register`."""


def register(spec: ScorerSpec) -> ScorerSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"score component {spec.name!r} is registered twice")
    REGISTRY[spec.name] = spec
    return spec


def component_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def default_weights() -> dict[str, float]:
    return {name: spec.default_weight for name, spec in REGISTRY.items()}


def always_computed() -> tuple[str, ...]:
    return tuple(name for name, spec in REGISTRY.items() if spec.always)


# The default weights were chosen on the packs' tasks and reported on InterCode-ALFA, never
# tuned there (docs/RESULTS.md, "The manual as a verifier"; experiments/doc_verifier.py): of
# 19,171 weightings of the stored components with the manual's four, the one with the best
# pooled AUROC on the packs (0.928; issue 13's default 0.907) reaches 0.788 on InterCode (0.741)
# and picks a right program for 0.197 of its tasks out of 8 samples (greedy 0.137, issue 13's
# default 0.140). It drops `coder`, a forward pass, and keeps `reviewer`.
register(ScorerSpec("embed", "inversion_tui.loop.score:embedding_cosine", "embedding", 0.0, label="emb", column=True,
                    help="cosine of sentence embeddings (all-MiniLM-L6-v2), clipped at 0"))
register(ScorerSpec("overlap", "inversion_tui.loop.score:token_overlap", "text", 0.0, label="ovl",
                    help="Jaccard overlap of word sets (IPs and paths stay whole tokens)"))
register(ScorerSpec("difflib", "inversion_tui.loop.score:difflib_ratio", "text", 0.0, label="dif",
                    help="`difflib.SequenceMatcher` ratio, case-folded (as in the seed)"))
register(ScorerSpec("self_rating", "inversion_tui.loop.score:self_rating", "generation", 0.0, label="self", always=False,
                    help="the model's own 0-10 grade of (task, command), /10. Off by default because it "
                         "costs a generate call"))
register(ScorerSpec("overlap_masked", "inversion_tui.loop.score:token_overlap_masked", "text", 0.0, label="ovm", column=True,
                    help="`overlap` with literals masked on both sides"))
register(ScorerSpec("difflib_masked", "inversion_tui.loop.score:difflib_ratio_masked", "text", 0.0,
                    help="`difflib` with literals masked on both sides"))
register(ScorerSpec("coder", "inversion_tui.loop.likelihood:coder", "forward", 0.0, label="cod", column=True, always=False,
                    help="log p(command given task) per token under the forward prompt, as exp (geometric-mean "
                         "token probability)"))
register(ScorerSpec("reviewer", "inversion_tui.loop.likelihood:reviewer", "forward", 1.0, label="rev", column=True, always=False,
                    help="log p(task given command) per token under the inverse prompt (its free text blanked), as exp"))
register(ScorerSpec("reviewer_pmi", "inversion_tui.loop.likelihood:reviewer_pmi", "forward", 0.0, label="pmi", always=False,
                    help="the reviewer minus log p(task given an empty command) per token, through the logistic "
                         "function (0.5: the command says nothing about the task)"))
register(ScorerSpec("consensus", "inversion_tui.loop.score:program_consensus", "text", 1.0, label="cons", column=True,
                    help="share of the task's other candidates in the pass that name the same program"))
register(ScorerSpec("documented", "inversion_tui.loop.doc_scores:documented", "text", 0.0, label="dmd",
                    help="share of the command's programs that a manual page documents"))
register(ScorerSpec("doc", "inversion_tui.loop.doc_scores:doc", "embedding", 1.0, label="doc", column=True,
                    help="the task against each program's manual NAME line (embedding cosine; an undocumented "
                         "program 0), averaged over the programs"))
register(ScorerSpec("doc_options", "inversion_tui.loop.doc_scores:doc_options", "embedding", 1.0, label="dop",
                    help="the task against the manual's lines for the options the command uses (None without "
                         "options)"))
register(ScorerSpec("options_known", "inversion_tui.loop.doc_scores:options_known", "text", 0.0, label="opt",
                    help="share of the command's options that its programs' pages document (None without options "
                         "or a page)"))
# The forward-pass components are computed only while weighted: on 2 CPU cores each costs about
# half a generate call (benchmarks/verifier_cost.py). The *_masked variants serve `--mask-literals`.

MASKED_VARIANTS = {"overlap": "overlap_masked", "difflib": "difflib_masked"}


def mask_weights(weights: dict[str, float]) -> dict[str, float]:
    """The same weighting with overlap and difflib moved onto their literal-masked variants."""
    moved = dict(weights)
    for plain, masked in MASKED_VARIANTS.items():
        moved[masked] = moved.get(masked, 0.0) + moved.get(plain, 0.0)
        moved[plain] = 0.0
    return moved
