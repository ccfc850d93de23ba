"""Metrics of held-out evaluation: does the model's command do what a reference command does?
Standard library only.

Metrics against any of a task's references (the best match counts):
- utility accuracy: the same program (first word of the first simple command, past sudo,
  env assignments and paths);
- token F1: overlap of the parser's tokens (shell.tokens: quoting removed, `ls|wc` as `ls | wc`);
- normalized exact match: the same canonical form (shell.normalize_command: whitespace and
  quoting, and flag order where it is unambiguous, `ls -la` == `ls -a -l`).
Each comes with a 95% bootstrap interval. The intrinsic (inversion) score is computed for
every output, and its AUROC as a predictor of utility correctness says whether the scorer
tracks reality.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import inversion_tui.shell as shell
from inversion_tui.shell import program_name

def token_f1(prediction: str, reference: str) -> float:
    predicted, wanted = Counter(shell.tokens(prediction)), Counter(shell.tokens(reference))
    common = sum((predicted & wanted).values())
    if not common:
        return 0.0
    precision, recall = common / sum(predicted.values()), common / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str) -> bool:
    return shell.normalize_command(prediction) == shell.normalize_command(reference)


@dataclass(frozen=True)
class Judgement:
    utility: bool
    token_f1: float
    exact: bool


def judge(prediction: str, references: Sequence[str]) -> Judgement:
    program = program_name(prediction)
    return Judgement(
        utility=bool(program) and any(program == program_name(r) for r in references),
        token_f1=max(token_f1(prediction, r) for r in references),
        exact=any(exact_match(prediction, r) for r in references),
    )


def clusters_of(groups: Sequence[str] | None, n: int) -> list[list[int]]:
    """The resampling units: indices sharing a non-empty group form one unit, every other
    index is its own. Without groups, n units of one task."""
    if not groups or not any(groups):
        return [[i] for i in range(n)]
    units: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        units.setdefault(group or f"\0{i}", []).append(i)
    return list(units.values())


def bootstrap_ci(values: Sequence[float], groups: Sequence[str] | None = None, resamples: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean. With `groups`, whole groups are drawn (a
    cluster bootstrap): 100 tasks from 11 templates are nearer 11 observations than 100, and a
    per-task bootstrap would give an interval far too narrow. Without groups it draws exactly
    what a per-task bootstrap draws."""
    if not values:
        return (0.0, 0.0)
    return _percentiles(resampled_means(values, groups, random.Random(seed), resamples))


def resampled_means(values: Sequence[float], groups: Sequence[str] | None, rng: random.Random,
                    resamples: int) -> list[float]:
    """The means of `resamples` bootstrap draws of `values`, one per draw (whole groups at a time)."""
    units = clusters_of(groups, len(values))
    sums, sizes, k = [sum(values[i] for i in unit) for unit in units], [len(unit) for unit in units], len(units)
    means = []
    for _ in range(resamples):
        draw = [rng.randrange(k) for _ in range(k)]
        means.append(sum(sums[j] for j in draw) / sum(sizes[j] for j in draw))
    return means


def _percentiles(draws: list[float]) -> tuple[float, float]:
    draws = sorted(draws)
    return (draws[int(0.025 * (len(draws) - 1))], draws[int(0.975 * (len(draws) - 1))])


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """P(score of a correct output > score of a wrong one), ties counting half; None when one
    class is empty (the question has no answer)."""
    pairs = sorted(zip(scores, labels), key=lambda pair: pair[0])
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    # One pass over the sorted scores, a block of equal scores at a time: each positive wins
    # against every negative below its block and half of those inside it (n log n, not n^2).
    wins, below, i = 0.0, 0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        block_positives = sum(1 for _, y in pairs[i:j] if y)
        block_negatives = (j - i) - block_positives
        wins += block_positives * (below + 0.5 * block_negatives)
        below += block_negatives
        i = j
    return wins / (positives * negatives)


METRIC_FIELDS = {"utility_accuracy": "utility", "exact_match": "exact", "token_f1": "token_f1"}
"""Summary metric -> the per-task row field it is the mean of."""

ROW_KEYS = ("index", "task", *METRIC_FIELDS.values())
"""What every evaluation row (evaluation.EvalRow.record, sample rows too) has, and every reader
of them needs: the task's position and text to pair on, and its judgement."""


def missing_row_key(row: object) -> str | None:
    """The first of ROW_KEYS that `row` lacks (everything, if it is not an object); None for a row."""
    return next((key for key in ROW_KEYS if not isinstance(row, dict) or key not in row), None)


def summarize(judgements: Sequence[Judgement], scores: Sequence[float], groups: Sequence[str] | None = None) -> dict:
    """Means, 95% intervals (resampling whole groups when tasks come in groups), the mean
    intrinsic score and its AUROC. `groups`, the number of resampling units, is there only
    when the tasks are grouped."""
    columns = {
        "utility_accuracy": [float(j.utility) for j in judgements],
        "exact_match": [float(j.exact) for j in judgements],
        "token_f1": [j.token_f1 for j in judgements],
    }
    n = len(judgements)
    summary = {"n": n}
    summary.update({name: sum(values) / n if n else 0.0 for name, values in columns.items()})
    summary["ci95"] = {name: list(bootstrap_ci(values, groups)) for name, values in columns.items()}
    if groups and any(groups):
        summary["groups"] = len(clusters_of(groups, n))
    summary["mean_score"] = sum(scores) / n if n else 0.0
    summary["auroc"] = auroc(scores, [j.utility for j in judgements])
    return summary


@dataclass(frozen=True)
class PairedDifference:
    """The change between two evaluations of one fixed set, task by task (paired_difference):
    per metric the mean change and its 95% paired bootstrap interval; `gained` / `lost` the
    tasks whose program became right / wrong; `groups` the resampling units where tasks come in
    groups (None otherwise). Kept in progress.json as `vs_base`, in `eval --json` as `paired`."""

    n: int
    delta: dict[str, float]
    ci95: dict[str, list[float]]
    gained: int
    lost: int
    groups: int | None = None
    extra: dict = field(default_factory=dict, compare=False)  # keys of a newer version, written back

    KEYS = ("n", "delta", "ci95", "groups", "gained", "lost")

    def describe(self, metric: str = "utility_accuracy") -> str:
        """`+0.020 [-0.007, +0.047]`: the one way every report writes a change."""
        low, high = self.ci95[metric]
        return f"{self.delta[metric]:+.3f} [{low:+.3f}, {high:+.3f}]"

    def to_json(self) -> dict:
        data: dict = {"n": self.n, "delta": self.delta, "ci95": self.ci95}
        if self.groups is not None:
            data["groups"] = self.groups
        return {**data, "gained": self.gained, "lost": self.lost, **self.extra}

    @classmethod
    def from_json(cls, data: dict) -> "PairedDifference":
        return cls(n=data["n"], delta=data["delta"], ci95=data["ci95"], gained=data.get("gained", 0),
                   lost=data.get("lost", 0), groups=data.get("groups"),
                   extra={k: v for k, v in data.items() if k not in cls.KEYS})


def paired_difference(base: Sequence[dict], later: Sequence[dict], resamples: int = 2000,
                      seed: int = 0) -> PairedDifference:
    """Mean per-task change from `base` to `later`, two evaluations of the same fixed set (rows
    as `EvalRow.record` writes them, matched by index and task), with a 95% paired bootstrap
    interval. Each task is compared with itself, so the interval is far narrower than the gap
    between two unpaired intervals suggests: the test the per-cycle CIs cannot give.
    Rows with a `group` (tasks from one template) are resampled a whole group at a time."""
    earlier = {(r["index"], r["task"]): r for r in base}
    pairs = [(earlier[key], r) for r in later if (key := (r["index"], r["task"])) in earlier]
    n = len(pairs)
    groups = [b.get("group") or a.get("group") or "" for a, b in pairs]
    delta, ci95 = {}, {}
    for metric, column in METRIC_FIELDS.items():
        differences = [float(b[column]) - float(a[column]) for a, b in pairs]
        delta[metric] = sum(differences) / n if n else 0.0
        # The same seed for every metric: the same resamples, so the metrics' intervals agree.
        ci95[metric] = list(bootstrap_ci(differences, groups, resamples, seed))
    return PairedDifference(
        n=n, delta=delta, ci95=ci95,
        gained=sum(1 for a, b in pairs if b["utility"] and not a["utility"]),
        lost=sum(1 for a, b in pairs if a["utility"] and not b["utility"]),
        groups=len(clusters_of(groups, n)) if any(groups) else None)


def unpaired_difference_ci(before: Sequence[float], after: Sequence[float],
                           before_groups: Sequence[str] | None = None, after_groups: Sequence[str] | None = None,
                           resamples: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """95% bootstrap interval of mean(after) - mean(before) for two independent samples, each
    resampled on its own (whole groups at a time, as bootstrap_ci): the noise of a change
    between two passes over different tasks. None when either sample has fewer than two values."""
    if len(before) < 2 or len(after) < 2:
        return None
    rng = random.Random(seed)
    later = resampled_means(after, after_groups, rng, resamples)
    earlier = resampled_means(before, before_groups, rng, resamples)
    return _percentiles([a - b for a, b in zip(later, earlier)])


def by_set(evaluations: Sequence) -> dict[str, list]:
    """Held-out summaries (progress.Evaluation) grouped by set (a run may evaluate several),
    each in cycle order. Summaries from before sets had names group under ""."""
    groups: dict[str, list] = {}
    for evaluation in sorted(evaluations, key=lambda e: e.cycle):
        groups.setdefault(evaluation.set, []).append(evaluation)
    return groups


TEST_TIME_SET = "pool"
"""The set of the pool's own tasks (`--eval-suite pool`): the tasks the run trains on, so its
change is test-time training, never a held-out gain; every label says so."""


def set_label(name: str) -> str:
    """What a screen, a log and a report call an evaluation set: `held-out intercode:b`, and the
    pool's own tasks `test-time pool (trained on)`."""
    if name == TEST_TIME_SET:
        return "test-time pool (trained on)"
    return f"held-out {name}" if name else "held-out"


def describe_change(improvement: float, interval: Sequence[float] | None) -> str:
    """`+0.10 [-0.02,+0.22]`: the AFTER pass's mean score less the BEFORE pass's, with its 95%
    interval over tasks (the passes score different tasks, so a cycle that trained nothing
    still moves). Runs saved before the interval existed show the change alone."""
    if interval is None:
        return f"{improvement:+.2f}"
    return f"{improvement:+.2f} [{interval[0]:+.2f},{interval[1]:+.2f}]"


def describe_evaluation(cycle: int, summary) -> str:
    """One line for logs of a held-out summary (progress.Evaluation): what the headless
    console and the TUI both print."""
    low, high = summary.ci95["utility_accuracy"]
    who = "base model" if cycle == 0 else f"cycle {cycle}"
    auroc_text = "-" if summary.auroc is None else f"{summary.auroc:.3f}"
    name = set_label(summary.set)
    grouped = f" in {summary.groups} groups" if summary.groups else ""
    line = (f"{name} ({who}, n={summary.n}{grouped}): utility accuracy {summary.utility_accuracy:.3f} "
            f"[{low:.3f}, {high:.3f}], exact {summary.exact_match:.3f}, token F1 {summary.token_f1:.3f}, "
            f"AUROC {auroc_text}")
    paired = summary.vs_base
    if paired and paired.n:
        line += f"; vs base, paired: acc {paired.describe()}, F1 {paired.describe('token_f1')}"
    return line


