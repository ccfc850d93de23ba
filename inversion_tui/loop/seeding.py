"""Seeds derived from the run seed and a position in the run (cycle, phase, batch).

Every pass samples its tasks, every batch its generations, and every training step its
dropout from a seed of its own position, so a resumed run redoes a batch exactly as the
uninterrupted run would have, with no RNG state to save.
"""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, *position: object) -> int:
    key = "/".join(str(part) for part in (seed, *position))
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF


def pass_number(cycle: int, phase: str) -> int:
    """A pass's place in the run, counting from 0: cycle 1's BEFORE, its AFTER, cycle 2's BEFORE..."""
    return 2 * (cycle - 1) + (phase == "after")
