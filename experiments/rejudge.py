"""Stored evaluation rows judged again with today's metrics (no model): which of utility, exact
match and token F1 a change to the metrics moved, and by how much.

    python experiments/rejudge.py ROWS.jsonl [ROWS.jsonl ...]

Each file holds rows with `command`, `references` and the `utility`, `exact` and `token_f1` they
were judged with (`eval --save`, a run's evaluation rows); sample rows (`--save-samples`), which
carry no references, take them by `index` from the greedy rows beside them (X_samples.jsonl from
X_greedy.jsonl). Prints, per file,
each metric's mean as stored and as judged now, and how many rows changed. Issue 33 point 4 (one
parser of a command) re-measured the committed rows with it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inversion_tui.eval_sets import load_eval_rows
from inversion_tui.loop.metrics import judge

FIELDS = ("utility", "exact", "token_f1")


def rejudge(rows: list[dict]) -> dict[str, dict]:
    now = [judge(r["command"], r["references"]) for r in rows]
    report = {}
    for field in FIELDS:
        stored = [float(r[field]) for r in rows]
        judged = [float(getattr(j, field)) for j in now]
        report[field] = {"stored": sum(stored) / len(rows), "now": sum(judged) / len(rows),
                         "changed": sum(abs(a - b) > 1e-9 for a, b in zip(stored, judged))}
    return report



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    print("| rows | n | " + " | ".join(f"{f} stored -> now (rows changed)" for f in FIELDS) + " |")
    print("| --- | --- |" + " --- |" * len(FIELDS))
    for path in args.files:
        rows = load_eval_rows(path)
        if rows and "references" not in rows[0]:
            references = {r["index"]: r["references"] for r in load_eval_rows(path.with_name(path.name.replace("_samples", "_greedy")))}
            rows = [{**r, "references": references[r["index"]]} for r in rows]
        report = rejudge(rows)
        cells = [f"{r['stored']:.3f} -> {r['now']:.3f} ({r['changed']})" for r in report.values()]
        print(f"| {path} | {len(rows)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
