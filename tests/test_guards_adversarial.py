"""The guards against a written set of adversarial candidates, and against honest commands.

Every adversarial candidate (tests/data/adversarial.jsonl: echoes and comments that carry
the task, prose, refusals, commands chained with prose, nothing at all) must be flagged with
its expected flag; no honest command from the sample packs or InterCode-ALFA may be.
"""

import itertools
import json
from pathlib import Path

import pytest

from inversion_tui.eval_sets import load_intercode
from inversion_tui.loop.guards import GUARD_REASONS, explain_flags, guard_flags
from inversion_tui.shell import segments
from inversion_tui.loop.literals import find_literals, mask_literals
from inversion_tui.loop.components import mask_weights
from inversion_tui.loop.score import difflib_ratio, difflib_ratio_masked, token_overlap, token_overlap_masked
from inversion_tui.loop.select import decide
from inversion_tui.tasks import load_packs

ADVERSARIAL = [json.loads(line) for line in (Path(__file__).parent / "data" / "adversarial.jsonl").open()]


def test_the_adversarial_set_covers_every_guard():
    assert {case["flag"] for case in ADVERSARIAL} == set(GUARD_REASONS)
    assert len(ADVERSARIAL) >= 30


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c["why"] + ": " + c["command"][:40] for c in ADVERSARIAL])
def test_every_adversarial_candidate_is_flagged_with_a_reason(case):
    flags = explain_flags(case["task"], case["command"])
    assert case["flag"] in [f.name for f in flags], flags
    assert all(f.detail for f in flags)  # a reason a person can check, not just a name


def _every_pack_reference():
    pack = load_packs("pentest,shell")
    for template in pack.templates:
        names = list(template.slots)
        for combo in itertools.product(*(template.slots[n] for n in names)):
            values = dict(zip(names, combo))
            for reference in template.references:
                yield template.task.format(**values), reference.format(**values)
    for example in pack.examples:
        yield example.task, example.command


def test_no_honest_pack_command_is_flagged():
    pairs = list(_every_pack_reference())
    assert len(pairs) > 800  # every template, every slot value, every reference
    flagged = [(task, command, explain_flags(task, command)) for task, command in pairs if guard_flags(task, command)]
    assert flagged == []


def test_no_intercode_gold_command_is_flagged():
    """600 gold commands written by people for other tasks: awk scripts, pipes, `yes | ...`,
    `echo hello world` for "print hello world"."""
    golds = [(t.task, r) for t in load_intercode() for r in t.references]
    assert len(golds) == 600
    assert [(t, c) for t, c in golds if guard_flags(t, c)] == []


def test_segments_split_outside_quotes_only():
    assert segments("awk 'NR >= 3 && NR <= 5' f | head; ls") == ["awk 'NR >= 3 && NR <= 5' f", "head", "ls"]
    assert segments('echo "a; b" && ls') == ['echo "a; b"', "ls"]


def test_an_echo_task_is_not_gaming_but_restating_the_instruction_is():
    assert guard_flags("Print hello world", "echo hello world") == ()
    assert guard_flags("Print hello world", "echo print hello world") == ("copies_task",)


def test_allow_flagged_lets_a_flagged_candidate_through_but_never_an_empty_one():
    class C:
        def __init__(self, command, flags):
            self.task, self.command, self.score, self.flags = "t", command, 0.9, flags

    candidates = [C("echo t", ("copies_task",)), C("", ("empty",))]
    assert decide(candidates, 0.5) == ["flagged: copies_task", "flagged: empty"]
    assert decide(candidates, 0.5, allow_flagged=True) == [None, "flagged: empty"]


def test_literals_are_masked():
    assert mask_literals("Scan port 80 on 192.168.1.1") == "Scan port # on #"
    assert mask_literals("Enumerate http://10.0.0.5 with /usr/share/wordlists/dirb/common.txt") == "Enumerate # with #"
    assert mask_literals("Archive backup.tar.gz of ~/src, up to 100M") == "Archive # of #, up to #"
    assert find_literals("ssh admin@10.0.0.5 -p 2222") == ["admin@10.0.0.5", "2222"]


def test_masking_takes_away_the_credit_for_copied_literals():
    """A reconstruction that gets the action wrong but copies the literals scores well on
    plain overlap and difflib and poorly once the literals are masked."""
    task, wrong = ["Scan port 8080 on 192.168.56.101"], ["Open a shell on 192.168.56.101 port 8080"]
    assert token_overlap(task, wrong)[0] > token_overlap_masked(task, wrong)[0]
    assert difflib_ratio(task, wrong)[0] > difflib_ratio_masked(task, wrong)[0]
    right = ["Scan port 80 on 10.0.0.1"]  # right action, other literals: masking forgives them
    assert token_overlap_masked(task, right)[0] == 1.0 > token_overlap(task, right)[0]


def test_mask_weights_moves_overlap_and_difflib_onto_their_masked_variants():
    moved = mask_weights({"embed": 0.6, "overlap": 0.2, "difflib": 0.2, "self_rating": 0.0})
    assert moved == {"embed": 0.6, "overlap": 0.0, "difflib": 0.0, "self_rating": 0.0, "overlap_masked": 0.2,
                     "difflib_masked": 0.2}
