"""Whatever a model, a task pack or a run file holds is text, never markup, in every widget.

A command such as `sed 's/[/]//g' f` once crashed the workbench (Rich read `[/]` as a closing
tag), and `grep '[a-z]' f` was shown as `grep '' f`. These push arbitrary strings (brackets,
backslashes, control characters, very long, wide and right-to-left text) through the live app,
the replay, the headless console and `score`'s report, and check what is shown is what was
scored.
"""

from __future__ import annotations

import asyncio
import io
import json

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from rich.console import Console

from inversion_tui.console import HeadlessConsole
from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.runlog import CANDIDATES
from inversion_tui.plain_text import one_line, plain, visible
from inversion_tui.run_record import load_run
from inversion_tui.score_report import render_score
from inversion_tui.tui.app import create_replay_app
from inversion_tui.tui.widgets.candidates import CandidatesTable
from inversion_tui.tui.widgets.inspector import CandidateScreen
from tests.fakes import FakeBackend
from tests.test_tui import make_app, text_of, wait_for

NASTY = [
    "sed 's/[/]//g' paths.txt", "[[ -f x ]] && echo yes", "grep '[a-z]' f", "echo [bold]x", "[/]", "[link=x]y",
    "echo \\[x\\] \\\\", "printf '\\x1b[31mred'", "a\x1b[2Jb", "tab\there", "two\nlines\r\nthree", "\x00\x07\x7f\x9b",
    "שלום עולם ls -la", "\u202eevil\u202c", "列出文件 ls", "🙂" * 30, "x" * 3000, "", " ", "[", "]", "[]",
    ":emoji:", "{x}", "%s %d",
]
UNTRUSTED = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet="[]/\\ab =:@#\x1b\x00\t\n\r\u202e\u05d0\u4e00🙂", max_size=40),
    st.text(max_size=60),
    st.text(min_size=500, max_size=2000),
)
# Each example runs the app (about a second); no shrinking, which would take minutes per failure.
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True, phases=[Phase.explicit, Phase.generate])


def test_plain_shows_the_text_as_written():
    for text in NASTY:
        assert plain(text).plain == visible(text)
        assert "\n" not in one_line(text) and "\x1b" not in one_line(text)
    assert visible("a\x1bb") == "a\\x1bb"
    assert one_line("a\nb\tc") == "a⏎b c"
    assert plain("grep '[a-z]' f").plain == "grep '[a-z]' f"  # not read as a tag


class HostileBackend(FakeBackend):
    """Replies with the given strings: the forward pass's as commands, the inverse's as
    reconstructions, so they reach every widget of a live run."""

    def __init__(self, replies: list[str]):
        super().__init__()
        self.replies = replies
        self.turn = 0

    def complete(self, prompts, *, num_return_sequences, temperature, max_new_tokens):
        shaped = super().complete(prompts, num_return_sequences=num_return_sequences, temperature=temperature,
                                  max_new_tokens=max_new_tokens)
        out = []
        for sequences in shaped:
            row = []
            for _ in sequences:
                row.append(self.replies[self.turn % len(self.replies)])
                self.turn += 1
            out.append(row)
        return out


async def drive_every_view(pilot, app, filter_text: str) -> None:
    """Table, live pane, inspector (every candidate), log, a filter that fails or not, charts."""
    table = app.query_one(CandidatesTable)
    assert table.row_count == len(app.state.rows)
    for row in app.state.rows:  # the table shows what was scored, not what markup makes of it
        assert table.get_cell(str(row.number), "command").plain == one_line(row.command)
        assert table.get_cell(str(row.number), "reconstruction").plain == one_line(row.reconstruction)
        assert table.get_cell(str(row.number), "task").plain == one_line(row.task)
    text_of(app.query_one("#live"))
    await pilot.press("enter")
    assert isinstance(app.screen, CandidateScreen)
    for _ in range(len(app.state.rows)):
        shown = "".join(text_of(app.screen.query_one("#inspect-content")).split())
        # Word by word: the command panel sits beside the manual's, so a command that wraps has
        # the other panel's text between its lines in the screen's rows.
        for word in visible(app.screen.row.command).split()[:6]:
            assert word[:20] in shown, word
        await pilot.press("right")
    await pilot.press("escape")
    await pilot.press("f")
    app.query_one("#filter").value = filter_text
    await pilot.press("enter", "escape")  # a filter that does not parse keeps the focus: Esc leaves
    assert app.focused is app.query_one(CandidatesTable)
    await pilot.press("g", "l", "c")
    await pilot.pause()
    app.notify(app.state.rows[-1].command, title=app.state.rows[-1].reconstruction)
    await pilot.pause()


@SLOW
@given(st.lists(UNTRUSTED, min_size=1, max_size=4), UNTRUSTED)
def test_a_live_run_shows_any_model_output_as_text(tmp_path_factory, replies, filter_text):
    async def scenario():
        app = make_app(tmp_path_factory.mktemp("live"), HostileBackend(replies), tasks=2, candidates=2)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
            await pilot.pause()
            await drive_every_view(pilot, app, filter_text)
            await pilot.press("q")
        assert app.return_code == 0  # run_test re-raises any crash of the app

    asyncio.run(scenario())


@SLOW
@given(st.lists(st.tuples(UNTRUSTED, UNTRUSTED, UNTRUSTED, UNTRUSTED), min_size=1, max_size=3), UNTRUSTED)
def test_a_replay_shows_any_run_file_text_as_text(tmp_path_factory, fields, filter_text):
    """Task, tool, command, reconstruction, raw reply, reason, references and prompts, as a run
    file may hold them (written by another version, or edited by hand)."""
    base = tmp_path_factory.mktemp("replay")

    async def record_a_run():
        app = make_app(base, FakeBackend(), tasks=len(fields), candidates=1, gen_batch_size=len(fields))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.finished_status == "finished", what="the run to finish")
            await pilot.press("q")

    asyncio.run(record_a_run())
    directory = base / "run"
    records = [json.loads(line) for line in (directory / CANDIDATES).read_text().splitlines()]
    for record, (task, command, reconstruction, other) in zip(records, fields * 2):
        record.update(task=task, tool=other, command=command, reconstruction=reconstruction, raw=other,
                      references=[other], prompts={other: task})
        if not record["accepted"]:
            record["reason"] = other
    (directory / CANDIDATES).write_text("".join(json.dumps(r) + "\n" for r in records))

    async def replay():
        app = create_replay_app(load_run(directory), clock=lambda: 0.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.finished_status is not None, what="the replay")
            await pilot.pause()
            await drive_every_view(pilot, app, filter_text)
            await pilot.press("q")
        assert app.return_code == 0

    asyncio.run(replay())


@settings(max_examples=60, deadline=None, derandomize=True)
@given(UNTRUSTED, UNTRUSTED, UNTRUSTED)
def test_the_headless_console_and_score_report_print_any_text(task, command, reconstruction):
    out = io.StringIO()
    console = HeadlessConsole(Console(file=out, width=100, color_system=None), verbose=True)
    console(ev.CandidateScored(Candidate(1, "before", 0, 0, task, command, reconstruction, {"embed": 0.5}, 0.5, (),
                                         True, tool=task, raw=command)))
    console(ev.Log("warning", command))
    assert "".join(visible(command).split())[:10] in "".join(out.getvalue().split())
    report = io.StringIO()
    render_score({"task": task, "command": command, "reconstruction": reconstruction, "components": {"embed": 0.5},
                  "weights": {"embed": 1.0}, "score": 0.5, "threshold": 0.5, "flags": ["echo"],
                  "flag_reasons": {"echo": command}, "accepted": True},
                 Console(file=report, width=100, color_system=None))
    assert "score 0.500" in report.getvalue()


def test_headless_verbose_says_why_a_candidate_was_rejected():
    """Issue 26: `-v` printed `reject 0.40` with no reason; the workbench says it."""
    out = io.StringIO()
    console = HeadlessConsole(Console(file=out, width=200, color_system=None), verbose=True)
    reason = "score 0.399 < threshold 0.40"
    console(ev.CandidateScored(Candidate(1, "before", 0, 0, "list files", "ls", "List the files", {"embed": 0.4},
                                         0.399, (), False, reason)))
    assert f"reject 0.40  list files  ->  ls  ->  List the files  ({reason})" in out.getvalue()
