"""Score components from the manual: the task compared with the command as its documentation
explains it (manuals/explain.py), a second inversion that cannot hallucinate.

Kept as four components on purpose (../shared/RESEARCH.md, the probe): the programs' NAME
lines tell a right program from a wrong one; the option lines help tell an exact match, and
mixed into the NAME lines they dilute the program signal.

- `documented`: the share of the command's programs that a page documents;
- `doc`: the task against each program's NAME line by the embedder (an undocumented program
  counts 0), averaged over the programs, in [0, 1];
- `doc_options`: the task against the lines of the options the command uses; None without options;
- `options_known`: the share of the command's options its programs' pages document; None
  without options or without a page.

They compare the task as the user wrote it (`context.tasks`), not with the typed placeholders
of `--placeholders`: those guard the model's inversion against copied literals, and the manual
copies none.

All four are None where no index was built (`make setup` builds it): "could not judge", which
`combine` skips, never a silent zero.
"""

from __future__ import annotations

from typing import Sequence

from inversion_tui.manuals.explain import Explanation, explain
from inversion_tui.manuals.index import default_docs


def explanations(context) -> list[Explanation] | None:
    """Each command explained, once per scoring call (the four components share them)."""
    if "explanations" not in context.memo:
        docs = context.docs if context.docs is not None else default_docs()
        context.memo["explanations"] = None if docs is None else [explain(c, docs) for c in context.commands]
    return context.memo["explanations"]


def documented(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    explained = explanations(context)
    if explained is None:
        return [None] * len(tasks)
    return [sum(p.documented for p in e.programs) / len(e.programs) if e.programs else None for e in explained]


def options_known(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    explained = explanations(context)
    if explained is None:
        return [None] * len(tasks)
    values = []
    for e in explained:
        judged = [o for p in e.programs if p.documented for o in p.options]
        values.append(sum(o.documented for o in judged) / len(judged) if judged else None)
    return values


def _similarities(context, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Cosine, clipped at 0, of each (task, text) pair, the distinct texts in one embed call."""
    texts = sorted({t for pair in pairs for t in pair})
    if not texts or context.backend is None:
        return {}
    vectors = dict(zip(texts, context.backend.embed(texts)))
    return {(a, b): max(0.0, min(1.0, sum(x * y for x, y in zip(vectors[a], vectors[b])))) for a, b in set(pairs)}


def doc(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    explained = explanations(context)
    if explained is None or context.backend is None:
        return [None] * len(tasks)
    pairs = [(task, p.description) for task, e in zip(context.tasks, explained) for p in e.programs
             if p.documented and p.description]
    similarity = _similarities(context, pairs)
    return [sum(similarity.get((task, p.description), 0.0) if p.documented and p.description else 0.0
                for p in e.programs) / len(e.programs) if e.programs else None
            for task, e in zip(context.tasks, explained)]


def option_lines(explanation: Explanation) -> str:
    """The lines of the options a command uses that its pages document, as one text."""
    return " ".join(o.description for o in explanation.options if o.documented and o.description)


def doc_options(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    explained = explanations(context)
    if explained is None or context.backend is None:
        return [None] * len(tasks)
    lines = [option_lines(e) for e in explained]
    similarity = _similarities(context, [(task, line) for task, line in zip(context.tasks, lines) if line])
    return [None if not e.options else similarity.get((task, line), 0.0) if line else 0.0
            for task, e, line in zip(context.tasks, explained, lines)]
