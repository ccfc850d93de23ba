"""A command explained from the manual: each program with its NAME line, each option with the
line that documents it, and what no page documents, marked as such (explainshell's idea).

A deterministic inversion of a command that cannot hallucinate: the score's `doc*` components
compare the task with it (loop/doc_scores.py), the inspector and `explain` show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from inversion_tui.docs.index import CommandDocs, OptionDoc
from inversion_tui.loop.shell import SimpleCommand, Word, parse

OLD_STYLE = ("tar",)
"""Programs whose first argument may be bundled option letters without a dash (`tar xzf a.tgz`)."""


@dataclass(frozen=True)
class OptionExplanation:
    option: str  # as on the command line, one letter of a bundle at a time (`-xzf`: -x, -z, -f)
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
    programs = [explain_simple(simple, docs) for simple in parsed.commands if simple.program]
    return Explanation(command, parsed.complete, programs)


def explain_simple(simple: SimpleCommand, docs: CommandDocs) -> ProgramExplanation:
    doc = docs.lookup(simple.program)
    if doc is None:
        # no page says whether -abc is one option or three: it stays whole
        options = [OptionExplanation(w.text.partition("=")[0], False, None, False)
                   for w in simple.arguments if w.is_option]
        return ProgramExplanation(simple.program, False, None, None, options=options)
    result = ProgramExplanation(simple.program, True, doc.description, doc.source, doc.page)
    table = doc.option_table()
    expecting, options_ended = False, False
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
        if result.subcommand is None and doc.subcommands and not word.quoted:
            sub = docs.subcommand(doc, word.text)
            if sub is not None:
                result.subcommand, result.subcommand_description = sub.name, sub.description
                table = {**table, **sub.option_table()}  # the subcommand's options first, then the program's
    return result


def _is_option(word: Word, table: dict[str, OptionDoc], position: int, program: str) -> bool:
    if word.quoted or len(word.text) < 2:
        return False
    if word.text[0] == "-" and not word.text[1:].replace(".", "").isdigit():  # `head -10`: a number
        return word.text != "--"
    if word.text[0] == "+" and word.text.split("=", 1)[0] in table:  # dig +short
        return True
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
    # -xzf: -x, -z, -f; a letter that takes an argument takes the rest of the word, or the next
    explained = []
    for i, letter in enumerate(text[1:], 1):
        option = table.get(f"-{letter}")
        if option is None:
            explained.append(OptionExplanation(f"-{letter}", False, None, False))
            continue
        takes = option.argument != ""
        explained.append(OptionExplanation(f"-{letter}", True, option.description, takes))
        if option.argument == "required":
            return explained, i == len(text) - 1
    return explained, False


def _long_abbreviation(name: str, table: dict[str, OptionDoc]) -> OptionDoc | None:
    """GNU programs take any unambiguous prefix of a long option (`--ext` for `--extract`)."""
    if not name.startswith("--") or len(name) < 4:
        return None
    matches = {id(o): o for spelling, o in table.items() if spelling.startswith(name)}
    return next(iter(matches.values())) if len(matches) == 1 else None


def render_text(explanation: Explanation, width: int = 100) -> list[str]:
    """The explanation as lines of plain text (what `explain` and `score` print)."""
    lines = []
    if not explanation.programs:
        lines.append("no program in this command" if explanation.command.strip() else "an empty command")
    for program in explanation.programs:
        head = program.program + (f" {program.subcommand}" if program.subcommand else "")
        if not program.documented:
            lines.append(f"{head}: no manual page")
        else:
            description = program.description or "(no description line)"
            lines.append(f"{head}: {description}  [{program.page}, {program.source}]")
            if program.subcommand:
                lines.append(f"  {program.subcommand}: {program.subcommand_description or '(no description line)'}")
        for option in program.options:
            what = option.description if option.documented else (
                "not in its page" if program.documented else "undocumented (no manual page)")
            argument = "(with an argument) " if option.takes_argument and option.documented else ""
            lines.append(_clip(f"  {option.option:<8} {argument}{what}", width))
    if not explanation.parsed:
        lines.append("(not valid shell: explained as far as it could be read)")
    return lines


def _clip(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 1] + "…"
