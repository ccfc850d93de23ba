"""Property tests: nothing the model or a user can type breaks extraction, scoring or packs."""

import random
import re

from hypothesis import given, settings, strategies as st

from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.score import difflib_ratio, token_overlap
from inversion_tui.tasks import load_packs, render


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_text_scorers_are_in_unit_range_or_none(task, reconstruction):
    for scorer in (token_overlap, difflib_ratio):
        [value] = scorer([task], [reconstruction])
        assert value is None or 0.0 <= value <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text())
def test_embedding_cosine_is_in_unit_range(task, reconstruction):
    from inversion_tui.loop.score import ScoringContext, embedding_cosine
    from tests.fakes import FakeBackend

    [value] = embedding_cosine([task], [reconstruction], ScoringContext(backend=FakeBackend()))
    assert value is None or 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_guards_never_crash(task, command):
    flags = guard_flags(task, command)
    assert isinstance(flags, tuple)


PACK = load_packs("pentest,shell")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_rendering_never_leaves_an_unfilled_slot(seed):
    rng = random.Random(seed)
    template = rng.choice(PACK.templates)
    instance = render(template, rng)
    for text in (instance.task, *instance.references):
        assert not re.search(r"\{\w*\}", text)
