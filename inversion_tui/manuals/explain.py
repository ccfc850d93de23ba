"""A command explained from the manual: each program with its NAME line, each option with the
line that documents it, and what no page documents, marked as such (explainshell's idea).

A deterministic inversion of a command that cannot hallucinate: the score's `doc*` components
compare the task with it (loop/doc_scores.py), the inspector and `explain` show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from inversion_tui.manuals.index import CommandDocs, OptionDoc
from inversion_tui.shell import SimpleCommand, Word, parse, program_index

OLD_STYLE = ("tar",)
"""Programs whose first argument may be bundled option letters without a dash (`tar xzf a.tgz`)."""

RUNS_A_COMMAND = {"xargs": 0, "timeout": 1, "watch": 0, "stdbuf": 0, "ionice": 0, "flock": 1, "chroot": 1}
"""Programs that run a command given after their own options and this many arguments: that
command's options are its program's, not theirs (`timeout 5 ping -c 3`: ping's -c)."""


@dataclass(frozen=True)
class OptionExplanation:
    option: str  # as on the command line, one letter of a bundle at a time (`-xzf`: -x, -z, -f); a word that
    # is no bundle of documented letters is one option (`-nmae`)
    documented: bool
    description: str | None  # its page's line; None where undocumented
    takes_argument: bool


@dataclass
class ProgramExplanation:
    program: str
    documented: bool
    description: str | None  # the NAME line; None where no page knows the program
    source: str | None  # the package (and version) or directory of its page
    page: str | None = None
    subcommand: str | None = None  # `git commit`: commit
    subcommand_description: str | None = None
    options: list[OptionExplanation] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def reason(self) -> str | None:
        """Why a part goes unexplained, in words a person reads in the inspector."""
        if not self.documented:
            return f"{self.program}: no manual page"
        unknown = [o.option for o in self.options if not o.documented]
        return f"{self.program}: {', '.join(unknown)} not in its page" if unknown else None


@dataclass
class Explanation:
    command: str
    parsed: bool  # False: the line is not valid shell; what was recovered is explained
    programs: list[ProgramExplanation]

    def to_json(self) -> dict:
        return {"command": self.command, "parsed": self.parsed, "programs": [p.to_json() for p in self.programs]}

    @property
    def options(self) -> list[OptionExplanation]:
        return [o for p in self.programs for o in p.options]


def explain(command: str, docs: CommandDocs) -> Explanation:
    parsed = parse(command)
    programs = [p for simple in parsed.commands if simple.program for p in explain_simple(simple, docs)]
    return Explanation(command, parsed.complete, programs)


def explain_simple(simple: SimpleCommand, docs: CommandDocs) -> list[ProgramExplanation]:
    """The program's explanation, then that of a command it runs (`xargs grep -l`: grep's -l)."""
    doc = docs.lookup(simple.program)
    if doc is None:
        # no page says whether -abc is one option or three: it stays whole
        options = [OptionExplanation(w.text.partition("=")[0], False, None, False)
                   for w in simple.arguments if w.is_option]
        return [ProgramExplanation(simple.program, False, None, None, options=options)]
    result = ProgramExplanation(simple.program, True, doc.description, doc.source, doc.page)
    table = doc.option_table()
    expecting, options_ended, positionals = False, False, 0
    for position, word in enumerate(simple.arguments):
        if expecting:
            expecting = False
            continue
        if word.text == "--" and not word.quoted:
            options_ended = True
            continue
        if not options_ended and _is_option(word, table, position, doc.name):
            explained, expecting = _options_of(word, table)
            result.options.extend(explained)
            continue
        if doc.name in RUNS_A_COMMAND and positionals == RUNS_A_COMMAND[doc.name]:
            inner = simple.arguments[position:]
            texts = [w.text for w in inner]
            return [result, *explain_simple(SimpleCommand(inner, program_index(texts), simple.text, simple.start,
                                                          simple.end), docs)]
        if positionals == 0 and doc.subcommands and not word.quoted:
            sub = docs.subcommand(doc, word.text)
            if sub is not None:
                result.subcommand, result.subcommand_description = sub.name, sub.description
                table = {**table, **sub.option_table()}  # the subcommand's options first, then the program's
        positionals += 1
    return [result]


def _is_option(word: Word, table: dict[str, OptionDoc], position: int, program: str) -> bool:
    if len(word.text) < 2 or word.raw[:1] in ("'", '"'):
        return False
    name = word.text.split("=", 1)[0]
    if name in table:  # ls -1, xargs -0, ip -4, dig +short
        return True
    if word.is_option:
        return not word.text[1:].replace(".", "").isdigit()  # `head -10`: a number, not an option
    return position == 0 and program in OLD_STYLE and all(f"-{c}" in table for c in word.text)


def _options_of(word: Word, table: dict[str, OptionDoc]) -> tuple[list[OptionExplanation], bool]:
    """The options one word holds, and whether the next word is the last one's argument."""
    text = word.text
    if text[0] not in "-+":  # tar's old style: bundled letters without the dash
        text = "-" + text
    name, has_value, _ = text.partition("=")
    found = table.get(name) or _long_abbreviation(name, table)
    if found is not None:
        takes = found.argument != ""
        return [OptionExplanation(name, True, found.description, takes)], found.argument == "required" and not has_value
    if name.startswith("--") or name[0] == "+":
        return [OptionExplanation(name, False, None, bool(has_value))], False
    return _bundle(text, table) or ([OptionExplanation(name, False, None, bool(has_value))], False)


def _bundle(text: str, table: dict[str, OptionDoc]) -> tuple[list[OptionExplanation], bool] | None:
    """`-xzf` as -x, -z, -f, when it reads as a bundle: every letter up to one that takes an
    argument is a documented short option of the program (that letter takes the rest of the word,
    `-p80`, `-i.bak`, or when its argument is required and the word ends there, the next word).
    None otherwise: find's `-nmae` is one misspelt option, not -n -m -a -e, and a letter that
    happens to be documented must not count as explaining it."""
    explained = []
    for i, letter in enumerate(text[1:], 1):
        option = table.get(f"-{letter}")
        if option is None:
            return None
        explained.append(OptionExplanation(f"-{letter}", True, option.description, option.argument != ""))
        if option.argument:
            return explained, option.argument == "required" and i == len(text) - 1
    return explained, False


def _long_abbreviation(name: str, table: dict[str, OptionDoc]) -> OptionDoc | None:
    """GNU programs take any unambiguous prefix of a long option (`--ext` for `--extract`)."""
    if not name.startswith("--") or len(name) < 4:
        return None
    matches = {id(o): o for spelling, o in table.items() if spelling.startswith(name)}
    return next(iter(matches.values())) if len(matches) == 1 else None
