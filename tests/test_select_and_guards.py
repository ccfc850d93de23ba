import random
from dataclasses import dataclass

import pytest

from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.select import decide
from inversion_tui.tasks import load_packs


@dataclass
class C:
    task: str
    command: str
    score: float
    flags: tuple = ()


def test_decide_threshold_flags_and_duplicates():
    candidates = [
        C("t1", "ls -la", 0.9),
        C("t1", "ls   -la", 0.9),  # same normalized command for the same task
        C("t2", "ls -la", 0.9),  # same command, other task: a different pair
        C("t1", "ls", 0.4),
        C("t1", "echo t1", 0.99, ("copies_task",)),
        C("t3", "du -sh", 0.5),  # exactly at the threshold: accepted
    ]
    reasons = decide(candidates, threshold=0.5)
    assert [r is None for r in reasons] == [True, False, True, False, False, True]
    assert reasons[1] == "duplicate of an accepted candidate"
    assert reasons[3].startswith("score 0.400 < threshold 0.50")
    assert reasons[4] == "flagged: copies_task"


def test_decide_recomputes_from_stored_scores():
    candidates = [C("a", "x", 0.3), C("b", "y", 0.6)]
    assert decide(candidates, 0.5) == [decide(candidates, 0.5)[0], None]
    assert decide(candidates, 0.2) == [None, None]


@pytest.mark.parametrize("command", [
    'echo "scan port 80 on 192.168.1.1"',
    "printf 'Scan port 80 on 192.168.1.1\\n'",
    "nmap 192.168.1.1 # scan port 80 on 192.168.1.1",
    "# Scan port 80 on 192.168.1.1",
])
def test_commands_that_carry_the_task_are_flagged(command):
    assert guard_flags("Scan port 80 on 192.168.1.1", command) == ("copies_task",)


def test_empty_command_is_flagged():
    assert guard_flags("Scan port 80", "") == ("empty",)


def test_honest_reference_commands_are_not_flagged():
    pack = load_packs("pentest,shell")
    rng = random.Random(0)
    for instance in pack.sample(400, rng):
        for reference in instance.references:
            assert guard_flags(instance.task, reference) == (), (instance.task, reference)
