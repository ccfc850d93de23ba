import pytest

from inversion_tui.loop.score import (
    ScoringContext, combine, compute_components, difflib_ratio, embedding_cosine, parse_rating, token_overlap, tokens,
)


def test_tokens_keep_addresses_and_paths_whole():
    assert tokens("Scan port 80 on 192.168.1.1 under /var/log") == {
        "scan", "port", "80", "on", "192.168.1.1", "under", "var/log"}


def test_token_overlap_is_jaccard():
    assert token_overlap(["scan port 80"], ["scan port 80"]) == [1.0]
    assert token_overlap(["scan port 80"], ["scan host"]) == [pytest.approx(1 / 4)]
    assert token_overlap(["a b"], ["c d"]) == [0.0]
    assert token_overlap([""], [""]) == [None]  # nothing to compare: skipped, not zero


def test_difflib_ratio_is_case_insensitive():
    assert difflib_ratio(["Scan Port"], ["scan port"]) == [1.0]
    assert 0 < difflib_ratio(["scan port 80"], ["scan host 80"])[0] < 1


def test_embedding_cosine_with_real_embedder(real_backend):
    values = embedding_cosine(
        ["Scan port 80 on 192.168.1.1", "Scan port 80 on 192.168.1.1", "Scan port 80 on 192.168.1.1"],
        ["Check whether port 80 is open on host 192.168.1.1", "Bake a chocolate cake", ""],
        ScoringContext(backend=real_backend),
    )
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] > 0.6 > values[1]
    assert values[2] == 0.0  # an empty reconstruction says nothing of the task


def test_combine_is_a_weighted_mean_that_skips_none():
    weights = {"embed": 0.6, "overlap": 0.2, "difflib": 0.2, "self_rating": 0.0}
    assert combine({"embed": 1.0, "overlap": 0.0, "difflib": 0.5, "self_rating": 0.9}, weights) == pytest.approx(0.7)
    # overlap None: the remaining weights are renormalised instead of counting it as zero
    assert combine({"embed": 1.0, "overlap": None, "difflib": 0.5, "self_rating": None}, weights) == pytest.approx(
        (0.6 * 1.0 + 0.2 * 0.5) / 0.8)
    assert combine({"embed": None, "overlap": None, "difflib": None, "self_rating": None}, weights) == 0.0


@pytest.mark.parametrize("reply,expected", [("7", 0.7), ("10/10", 1.0), (" 3.5", 0.35), ("eleven", None), ("42", None)])
def test_parse_rating(reply, expected):
    assert parse_rating(reply) == (pytest.approx(expected) if expected is not None else None)


def test_self_rating_costs_a_call_only_when_weighted(fake_backend):
    args = (["Count lines in a.txt"], ["Count the lines of a.txt"], ["wc -l a.txt"])
    off = compute_components(*args, backend=fake_backend, weights={"embed": 1.0})
    assert off[0]["self_rating"] is None and fake_backend.calls == []
    on = compute_components(*args, backend=fake_backend, weights={"embed": 1.0, "self_rating": 0.5})
    assert on[0]["self_rating"] == pytest.approx(0.7)
    assert fake_backend.calls == [("rating", 1)]
    assert on[0]["overlap"] is not None and on[0]["overlap_masked"] is not None  # cheap: always computed
    assert 0.0 <= on[0]["embed"] <= 1.0
