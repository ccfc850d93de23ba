"""Reading a manual page's source (roff, man(7) or mdoc(7) macros) in Python: its NAME line,
its options with the line that documents each, and its subcommands (bash's builtins,
systemctl's and apt's commands). No `man` or `groff` process: the project starts none.

What is read is what explainshell reads: a *tagged paragraph* is an option's documentation
when its tag starts with `-` or `+` (`.TP` + `\\fB\\-x\\fR, \\fB\\-\\-extract\\fR`,
`.IP "-x"`, DocBook's `.PP` + tag + `.RS`, mdoc's `.It Fl x`), and the first sentence of its
paragraph is the option's line. Roff is a large language; this reads the part that pages use
to document options, and drops the rest.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

_ESCAPES = {
    "-": "-", "e": "\\", "&": "", "|": "", "^": "", " ": " ", "~": " ", "0": " ", "%": "", "c": "",
    ",": "", "/": "", ":": "", "'": "'", "`": "`", ".": ".", "!": "", "t": " ",
}
_NAMED = {
    "aq": "'", "Aq": "'", "lq": '"', "rq": '"', "oq": "'", "cq": "'", "dq": '"', "em": "--", "en": "-",
    "hy": "-", "mi": "-", "bu": "*", "co": "(c)", "rg": "(R)", "tm": "(tm)", "ga": "`", "ti": "~", "ha": "^",
    "rs": "\\", "bv": "|", "ba": "|", "pl": "+", "eq": "=", "lt": "<", "gt": ">", "mu": "x", "ua": "^",
    "R": "(R)", "Tm": "(tm)",
}
_ESCAPE = re.compile(
    r"\\(?:f(?:\[[^\]]*\]|\(..|.)"  # font changes
    r"|s[+-]?\d+|s\[[^\]]*\]"  # size changes
    r"|\((?P<two>..)|\[(?P<long>[^\]]*)\]"  # named characters
    r"|\*(?:\((?P<str2>..)|\[(?P<strl>[^\]]*)\]|(?P<str1>.))"  # strings
    r"|[nwhvkoxzYV]'[^']*'|[nk]\(..|[nk].|[hv]\[[^\]]*\]"  # registers, motions: dropped
    r"|(?P<one>.))", re.S)
_MDOC_MACROS = {
    # mdoc(7) macros that may stand inside a line: dropped, their arguments kept as words
    "Ns", "No", "Pf", "Xo", "Xc", "Oo", "Oc", "Bq", "Bo", "Bc", "Qo", "Qc", "Po", "Pc", "Do", "Dc", "So", "Sc",
    "Ao", "Ac", "Eo", "Ec", "Fo", "Fc", "Ap", "Dl", "Ar", "Pa", "Cm", "Em", "Sy", "Li", "Ic", "Va", "Ev", "Ql",
    "Dq", "Sq", "Qq", "Xr", "Op", "Pq", "Ad", "Dv", "Er", "Fa", "Fn", "Ft", "Ms", "Tn", "Ux", "Bx", "At", "Ox",
    "Nx", "Fx", "Lk", "Mt", "Aq", "Brq", "Bf", "Ef", "Ta", "Sm", "Cd", "In", "Lb", "Vt", "An", "%A", "Ot", "Nm",
    "Nd", "It", "Fl",
}
_SENTENCE_END = re.compile(r"(?<=[A-Za-z0-9)\]'\">])\.(?=\s|$)")
_WORD_TAG = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*\b")
_OPTION = re.compile(r"^([-+][-+]?[A-Za-z0-9?@#!][-\w.?@#!]*|--?[A-Za-z0-9])")


def roff_text(line: str) -> str:
    """A line of roff text with its escapes resolved and font changes dropped."""
    def escape(match: re.Match) -> str:
        if match.group("two") or match.group("long") is not None:
            return _NAMED.get(match.group("two") or match.group("long"), "")
        for name in ("str2", "strl", "str1"):
            if match.group(name):
                return _NAMED.get(match.group(name), "")
        if match.group("one") is not None:
            return _ESCAPES.get(match.group("one"), "")
        return ""
    return _ESCAPE.sub(escape, line)


def macro_arguments(text: str) -> list[str]:
    """A macro line's arguments: space-separated, "double quoted" ones kept whole."""
    return [a[1:-1].replace('""', '"') if a.startswith('"') and a.endswith('"') and len(a) > 1 else a.strip('"')
            for a in re.findall(r'"(?:[^"]|"")*"?|\S+', text)]


def _mdoc_text(name: str, arguments: list[str]) -> str:
    """What an mdoc macro line prints, near enough: `Fl x Ar file` is `-x file`."""
    words, glue = [], False
    tokens = [name, *arguments]
    for i, token in enumerate(tokens):
        if token == "Fl":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if not nxt or nxt in _MDOC_MACROS or nxt in ("|", ",", ")", "]"):
                words.append("-")
            else:
                tokens[i + 1] = "-" + nxt  # the flag's letters follow
            continue
        if token == "Ns":
            glue = True
            continue
        if token in _MDOC_MACROS:
            continue
        if glue and words:
            words[-1] += token
        else:
            words.append(token)
        glue = False
    return re.sub(r" ([,.;:)\]])", r"\1", " ".join(words))


def macro_text(name: str, arguments: list[str]) -> str:
    """The text a font or mdoc macro line prints."""
    if name in ("BR", "RB", "BI", "IB", "IR", "RI"):  # alternating fonts: arguments run together
        return "".join(arguments)
    if name in ("B", "I", "SM", "SB", "R"):
        return " ".join(arguments)
    return _mdoc_text(name, arguments)


@dataclass
class Item:
    """A tagged paragraph: its tag, the text under it, how deeply it is indented, its section."""

    tag: str
    body: list[str] = field(default_factory=list)
    depth: int = 0
    section: str = ""
    boxed: bool = False  # DocBook's `.PP` + tag + `.RS`: a tag on a line of its own


@dataclass
class Page:
    names: list[str]  # the NAME line's program names
    description: str  # the NAME line's description
    items: list[Item]


def _lines(source: str) -> list[str]:
    """Source lines with comments dropped and continued lines joined."""
    text = re.sub(r"\\\n", "", source)
    out = []
    for line in text.splitlines():
        if re.match(r"^[.'][ \t]*\\\"", line) or line.startswith(('.\\"', "'\\\"")):
            continue
        line = re.sub(r'(?<!\\)\\".*$', "", line)
        out.append(line.rstrip())
    return out


def parse_page(source: str) -> Page:
    """The structure of a page's source: its NAME line and its tagged paragraphs."""
    mdoc = bool(re.search(r"^\.(Dt|Sh|Nm)\b", source, re.M))
    state = _Reader(mdoc)
    for line in _lines(source):
        if line[:1] in (".", "'"):
            parts = line[1:].strip().split(None, 1)
            name = parts[0] if parts else ""
            arguments = macro_arguments(parts[1]) if len(parts) > 1 else []
            if state.structure(name, arguments):
                continue
            line = roff_text(macro_text(name, arguments))
            if not line:
                continue
        else:
            line = roff_text(line)
        state.text(line)
    names, description = state.names, state.description
    if not mdoc:
        names, description = _name_line(" ".join(state.name_text))
    return Page(names, description.strip(), state.items)


class _Reader:
    """parse_page's state: where it is in the page and which paragraph text belongs to."""

    def __init__(self, mdoc: bool):
        self.mdoc = mdoc
        self.items: list[Item] = []
        self.names: list[str] = []
        self.description = ""
        self.name_text: list[str] = []
        self.section = ""
        self.depth = 0  # .RS nesting plus mdoc .Bl nesting
        self.pending_tag = False  # after `.TP`: the next line is the tag
        self.held: str | None = None  # after `.PP`: "" or its first line, a tag if `.RS` follows
        self.current: Item | None = None

    def add(self, tag: str, boxed: bool = False) -> None:
        self.current = Item(tag.strip(), depth=self.depth, section=self.section, boxed=boxed)
        self.items.append(self.current)

    def structure(self, name: str, arguments: list[str]) -> bool:
        """Handle a structural macro, or drop one that prints nothing read here: True; False for a
        macro that prints text (a font change, an mdoc word macro)."""
        if name in ("SH", "Sh"):
            self.section = roff_text(" ".join(arguments)).upper()
            self.depth, self.current, self.pending_tag, self.held = 0, None, False, None
        elif name == "Nm" and self.section == "NAME":
            if arguments:
                self.names.append(roff_text(arguments[0]).strip(" ,"))
        elif name == "Nd" and self.section == "NAME":
            self.description = roff_text(" ".join(arguments))
        elif name in ("RS", "Bl"):
            if name == "RS" and self.held:
                self.add(self.held, boxed=True)
            self.held = None
            self.depth += 1
        elif name in ("RE", "El"):
            self.depth = max(0, self.depth - 1)
            if self.current is not None and (self.current.depth > self.depth
                                             or (self.current.boxed and self.current.depth >= self.depth)):
                self.current = None
        elif name in ("TP", "TQ", "HP"):  # TQ: one more tag over the paragraph; HP: sed's style
            self.pending_tag, self.held = True, None
        elif name == "It":
            self.add(roff_text(_mdoc_text(name, arguments)))
        elif name == "IP":
            tag = roff_text(arguments[0]).strip() if arguments else ""
            if tag and tag not in ("*", "-", "o", "\\(bu"):
                self.add(tag)
        elif name in ("PP", "P", "LP", "Pp"):
            if self.current is not None and not self.current.boxed:
                self.current = None  # a new paragraph ends a .TP paragraph
            self.held = ""
        elif name in ("SS", "Ss"):
            self.current, self.held = None, None
        else:
            return not (name in _TEXT_MACROS or (self.mdoc and name in _MDOC_MACROS))
        return True

    def text(self, line: str) -> None:
        if self.section == "NAME":
            self.name_text.append(line)
        elif self.pending_tag:
            self.pending_tag = False
            self.add(line)
        elif self.held == "":
            self.held = line
        else:
            if self.held and self.current is not None:
                self.current.body.append(self.held)
            self.held = None
            if self.current is not None:
                self.current.body.append(line)


_TEXT_MACROS = {"B", "I", "BR", "RB", "BI", "IB", "IR", "RI", "SM", "SB", "R"}


def _name_line(text: str) -> tuple[list[str], str]:
    """`gzip, gunzip, zcat - compress or expand files` -> (names, description)."""
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"^(.*?)\s+(?:-|--|\u2014|\\-)\s+(.*)$", text)
    if not match:
        return [], ""
    names = [n.strip() for n in re.split(r"[, ]+", match.group(1)) if n.strip()]
    return names, match.group(2)


def first_sentence(lines: list[str], limit: int = 240) -> str:
    """The first sentence of a paragraph, what a one-line explanation shows."""
    text = re.sub(r"\s+", " ", " ".join(lines)).strip()
    match = _SENTENCE_END.search(text)
    sentence = text[:match.start() + 1] if match else text
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rsplit(" ", 1)[0] + "…"


def option_spellings(tag: str) -> list[tuple[str, str]]:
    """Each spelling of a tag's option with its argument: "" none, "required" or "optional".
    `-f, --file=ARCHIVE` gives [('-f', 'required'), ('--file', 'required')] (GNU pages show the
    argument on the long spelling only); `-u, -U NUM, --unified[=NUM]` gives each its own, as
    the page writes one for a short spelling; `-sL (List Scan)` none."""
    found = []
    for alternative in re.split(r",\s*|\s+\|\s+|\s{2,}|\s+or\s+|\s+(?=--?[A-Za-z])", tag.strip()):
        match = _OPTION.match(alternative.strip())
        if not match:
            break
        rest = alternative.strip()[len(match.group(1)):]
        argument = ""
        if rest.startswith("[="):
            argument = "optional"
        elif rest.startswith("=") or (not rest.startswith(("[", ".")) and re.match(r"\s+[<\[A-Za-z_\"']", rest)
                                      and not rest.strip().startswith(("(", "[-", "..."))):
            argument = "required"
        elif rest.startswith("[") and not rest.startswith("[-"):
            argument = "optional"
        found.append((match.group(1).rstrip(".,:"), argument))
    shorts_say = any(argument for spelling, argument in found if not spelling.startswith("--"))
    if not shorts_say:  # only the long spelling shows it: it is every spelling's
        shared = next((argument for _, argument in found if argument), "")
        found = [(spelling, shared) for spelling, _ in found]
    return found


def is_option_tag(tag: str) -> bool:
    return bool(_OPTION.match(tag.strip())) and tag.strip() not in ("-", "--", "+")


def word_tag(tag: str) -> str | None:
    """The subcommand a tag names (`list-units [PATTERN...]` -> list-units), or None."""
    match = _WORD_TAG.match(tag.strip())
    return match.group() if match else None


def read_source(path: Path, root: Path | None = None, _depth: int = 0) -> str:
    """A page's source, gunzipped, following `.so other/page.1` redirections (within root)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode("utf-8", "replace")
    redirect = re.match(r"^\.so\s+(\S+)\s*$", text.strip())
    if redirect and _depth < 3:
        base = root or path.parent.parent
        for candidate in (base / redirect.group(1), base / (redirect.group(1) + ".gz")):
            if candidate.is_file():
                return read_source(candidate, root, _depth + 1)
    return text
