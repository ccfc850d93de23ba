"""Reading a shell command line as text: its simple commands, the program each runs, their
options and arguments, its comments and its free text. Commands are never executed; this only
parses.

One parser for the whole project, tree-sitter-bash (MIT), so the guards, the consensus, the
evaluation, the reviewer's blanking and the documentation index read a command alike. (They
once had hand-written splitters each and disagreed: `nice -n 10 tar czf a.tgz dir` was `tar` to
one and `10` to another; `echo "stop; then scan"` was cut at the `;` inside its quotes.)

A model's output is often not valid shell (an unbalanced quote, prose): `parse` closes an
unbalanced quote and tries again, and keeps what tree-sitter recovers; where it recovers no
command at all, the whole text is one command of whitespace-split words, and `complete` is
False so a reader can say the command did not parse.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

WRAPPERS: dict[str, frozenset[str]] = {
    # wrapper: its options that take an argument (the option's value is not the program)
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "time": frozenset({"-o", "--output", "-f", "--format"}),
    "nohup": frozenset(),
    "command": frozenset(),
    "exec": frozenset({"-a"}),
}
"""Programs that run the program after them: that one is what the command runs."""

ECHO_LIKE = {"echo", "printf", ":", "true", "false", "print"}
"""Programs whose arguments are free text they print (or ignore), not what they act on."""

CODE = re.compile(r"[{}$;=()<>|\\\[\]]")
"""Characters of code: a quoted string holding one (an awk or sed script) is not prose."""

PROSE = "<TEXT>"

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")  # VAR=value before the program
_QUOTES = {"string": '"', "raw_string": "'", "ansi_c_string": "'", "translated_string": '"'}
_BACKSLASH = re.compile(r"\\(.)", re.S)


@dataclass(frozen=True)
class Word:
    """One shell word of a simple command."""

    text: str  # its value: quotes removed, backslash escapes resolved
    raw: str  # as written on the command line
    start: int  # character offsets of `raw` in the command line
    end: int
    quoted: bool  # holds a quoted string (its value may hold spaces and shell characters)

    @property
    def is_option(self) -> bool:
        """Starts with an unquoted dash: `-d' '` and `--include="*.py"` are options, `"-x"` is not."""
        return self.raw[:1] == "-" and len(self.text) > 1 and self.text != "--"


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command: its words (assignments before the program left out) and where the
    program is among them, past wrappers such as `sudo -u root` or `env -i`."""

    words: tuple[Word, ...]
    program_at: int  # len(words) when there is no program (`sudo` alone)
    text: str
    start: int
    end: int

    @property
    def program(self) -> str:
        """The program's name without its path; "" when there is none."""
        return self.words[self.program_at].text.rsplit("/", 1)[-1] if self.program_at < len(self.words) else ""

    @property
    def arguments(self) -> tuple[Word, ...]:
        return self.words[self.program_at + 1:]


@dataclass(frozen=True)
class ParsedCommand:
    text: str
    commands: tuple[SimpleCommand, ...]  # in the order they appear, nested ones ($(...)) included
    comments: tuple[tuple[int, int], ...]  # character spans of the comments
    quoted: tuple[Word, ...]  # every quoted string, as a word of its own
    complete: bool  # valid shell as written (False where an unbalanced quote had to be closed to read it)

    @property
    def programs(self) -> list[str]:
        return [c.program for c in self.commands if c.program]


@functools.lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def _value(node: Node, source: bytes) -> str:
    """A word node's value as the shell would see it, unexpanded."""
    raw = source[node.start_byte:node.end_byte].decode("utf-8", "surrogatepass")
    if node.type in ("raw_string", "string", "translated_string"):
        inner = raw[1 + (node.type == "translated_string"):]
        return inner[:-1] if inner.endswith(_QUOTES[node.type]) else inner
    if node.type == "ansi_c_string":
        return raw[2:-1]
    if node.type == "concatenation":  # its parts are words and strings, not concatenations
        return "".join(_value(child, source) if child.type != "concatenation" else
                       source[child.start_byte:child.end_byte].decode("utf-8", "surrogatepass")
                       for child in node.children)
    if node.type == "word":
        return _BACKSLASH.sub(r"\1", raw)
    return raw


def _walk(node: Node):
    """Every node under `node`, itself first, in source order; a stack, not recursion: a model
    can nest `$(` hundreds deep."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _has_quote(node: Node) -> bool:
    return any(n.type in _QUOTES for n in _walk(node))


class _Reader:
    """Turns a tree into words with character offsets (tree-sitter counts bytes)."""

    def __init__(self, text: str):
        self.text, self.source = text, text.encode("utf-8", "surrogatepass")
        self.chars: list[int] | None = None  # the character each byte belongs to (None: ASCII)
        if len(self.source) != len(text):
            self.chars = [i for i, char in enumerate(text) for _ in char.encode("utf-8", "surrogatepass")]

    def offset(self, byte: int) -> int:
        if self.chars is None:
            return byte
        return self.chars[byte] if byte < len(self.chars) else len(self.text)

    def word(self, node: Node) -> Word:
        start, end = self.offset(node.start_byte), self.offset(node.end_byte)
        return Word(_value(node, self.source), self.text[start:end], start, end, _has_quote(node))

    def command(self, node: Node) -> SimpleCommand:
        # Not assignments or redirects; not the empty words tree-sitter invents where it recovers
        # from an error (a MISSING node: `=|` has one).
        words = tuple(self.word(child) for i, child in enumerate(node.children)
                      if node.field_name_for_child(i) in ("name", "argument") and child.end_byte > child.start_byte)
        start, end = self.offset(node.start_byte), self.offset(node.end_byte)
        return SimpleCommand(words, program_index([w.text for w in words]), self.text[start:end], start, end)


_WIDE = re.compile("[\U00010000-\U0010ffff\ud800-\udfff]")


def _safe_bytes(text: str) -> bytes:
    """What tree-sitter is given: `text` as UTF-8, every character outside the Basic
    Multilingual Plane (and every lone surrogate) replaced by as many `_` as it has bytes.
    tree-sitter-bash 0.25's scanner reads out of bounds on some of those after a `{` (`{` then
    U+E0001 crashed the process, at random: found by test_fuzz); an `_` is a word character as
    they are, and the byte offsets stay those of `text`, whose own bytes the words are read from."""
    return _WIDE.sub(lambda m: "_" * len(m.group().encode("utf-8", "surrogatepass")), text).encode("utf-8")


def _tree(text: str):
    """The parse of `text`, or of it with an unbalanced quote closed when that parses cleanly."""
    tree = _parser().parse(_safe_bytes(text))
    if not tree.root_node.has_error:
        return text, tree, True
    for quote in ("'", '"'):
        if text.count(quote) % 2 == 0:
            continue  # not the quote left open (`ls \` is not fixed by adding one)
        closed = text + quote
        retry = _parser().parse(_safe_bytes(closed))
        if not retry.root_node.has_error:
            return closed, retry, True
    return text, tree, False


@functools.lru_cache(maxsize=4096)
def parse(command: str) -> ParsedCommand:
    """The structure of a command line. Never raises: what does not parse is kept as words."""
    parsed_text, tree, complete = _tree(command)
    reader = _Reader(parsed_text)
    commands, comments, quoted = [], [], []
    for node in _walk(tree.root_node):
        if node.type == "command" and (simple := reader.command(node)).words:
            commands.append(simple)
        elif node.type == "comment":
            comments.append((reader.offset(node.start_byte), reader.offset(node.end_byte)))
        elif node.type in _QUOTES:
            quoted.append(reader.word(node))
    if parsed_text != command:  # a closing quote was added: no span may reach past the text
        commands = [_clip(c, len(command), command) for c in commands]
        quoted = [_clip_word(w, len(command), command) for w in quoted]
    if not commands and not complete and command.strip():
        commands = [_fallback(command)]  # valid shell with no command (`> file`, a comment) has none
    # A line that needed its quote closed is read as if closed, but it is not valid shell as written
    return ParsedCommand(command, tuple(commands), tuple(comments), tuple(quoted), complete and parsed_text == command)


def _clip_word(word: Word, limit: int, text: str) -> Word:
    return Word(word.text, text[word.start:min(word.end, limit)], word.start, min(word.end, limit), word.quoted)


def _clip(command: SimpleCommand, limit: int, text: str) -> SimpleCommand:
    end = min(command.end, limit)
    return SimpleCommand(tuple(_clip_word(w, limit, text) for w in command.words), command.program_at,
                         text[command.start:end], command.start, end)


def _fallback(text: str) -> SimpleCommand:
    """Whitespace-split words: what is left of a line tree-sitter recovers no command from."""
    words = tuple(Word(m.group(), m.group(), m.start(), m.end(), False) for m in re.finditer(r"\S+", text))
    start, end = words[0].start, words[-1].end
    return SimpleCommand(words, program_index([w.text for w in words]), text[start:end], start, end)


_WORDS = {"word", "number", "string", "raw_string", "ansi_c_string", "translated_string", "concatenation",
          "simple_expansion", "expansion", "variable_assignment"}
"""Nodes read as one token, by their value: a quoted string is one token however many words it holds."""

OPERATORS = frozenset({"|", "|&", "||", "&&", ";", "&"})
"""The tokens that end a simple command."""


def tokens(command: str) -> list[str]:
    """The command line as the parser reads it, one token a word (quotes removed) or an operator
    or redirection (`|`, `&&`, `>`, `2`, `$(`), comments left out: `ls|wc` and `ls | wc`, `ls
    2>/dev/null` and `ls 2> /dev/null` read alike, and statements on lines of their own are
    separated by `;`. What exact match and token F1 compare (the metrics once split shlex tokens
    at separators of their own, so `ls|wc` and `ls | wc` differed)."""
    if not command.strip():
        return []
    parsed_text, tree, _ = _tree(command)
    source = parsed_text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    stack = [(tree.root_node, False)]
    while stack:
        node, separate = stack.pop()
        if separate and out and out[-1] not in OPERATORS:
            out.append(";")  # a newline between statements
        if node.type in _WORDS:
            out.append(_value(node, source))
        elif node.type == "comment":
            continue
        elif not node.children:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "surrogatepass")
            if text.strip():
                out.append(text.strip())
        else:
            stack.extend(reversed(_statements_apart(node)))
    return out


def _statements_apart(node: Node) -> list[tuple[Node, bool]]:
    """A node's children, each with whether it is a statement that follows another with only a
    newline between them (`ls` and `wc` in "ls\nwc"), which `tokens` separates with `;`."""
    out, previous = [], None
    for child in node.children:
        if child.type == "comment":
            out.append((child, False))
            continue
        out.append((child, node.type in ("program", "do_group", "compound_statement") and child.is_named
                    and previous is not None and previous.is_named))
        previous = child
    return out


def words(text: str) -> list[str]:
    """The shell words of a command line (quotes removed; an operator with spaces around it is a
    word of its own, `ls|wc` one word); whitespace split if it does not tokenize. For comparing
    prose-like texts; a command's tokens are `tokens`, its structure `parse`."""
    try:
        return shlex.split(text, comments=False)
    except ValueError:
        return text.split()


ORDER_FREE_FLAG_PROGRAMS = frozenset({"ls", "df", "wc", "rm", "cat", "free"})
"""Programs whose usual short flags take no argument, so flag order and clustering carry no
meaning. Elsewhere (tar -f FILE, grep -e PAT, head -n N) reordering could change meaning."""


@functools.lru_cache(maxsize=4096)
def normalize_command(command: str) -> tuple[tuple[str, ...], ...]:
    """A command's canonical form, the one sameness of two commands in the project (exact match,
    a pass's duplicates, DPO's rejected side): its tokens per simple command, the operators
    between them, the program without its path, and for programs whose flags may be reordered
    (`ls -la` == `ls -a -l`) clustered flags split and sorted."""
    segments, current = [], []
    for token in tokens(command):
        if token in OPERATORS:
            segments += [current, [token]]
            current = []
        else:
            current.append(token)
    segments.append(current)
    return tuple(tuple(_normalize_segment(segment)) for segment in segments if segment)


def _normalize_segment(segment: list[str]) -> list[str]:
    at = program_index(segment)
    if at == len(segment):
        return segment
    head, program, rest = segment[:at], segment[at].rsplit("/", 1)[-1], segment[at + 1:]
    if program not in ORDER_FREE_FLAG_PROGRAMS:
        return [*head, program, *rest]
    flags, operands = set(), []
    for token in rest:
        if re.fullmatch(r"-[A-Za-z0-9]+", token):
            flags.update(f"-{letter}" for letter in token[1:])
        elif token.startswith("--") and len(token) > 2:
            flags.add(token)
        else:
            operands.append(token)
    return [*head, program, *sorted(flags), *operands]


def segments(command: str) -> list[str]:
    """The simple commands of a command line, as written: split at &&, ||, ;, | and newlines
    outside quotes (`-exec rm {} \\;` keeps its `;`), and those inside `$(...)` too."""
    return [c.text.strip() for c in parse(command).commands if c.text.strip()]


def program_index(tokens: list[str]) -> int:
    """Index of the word that names the program, past wrappers with their options (sudo -u
    root, nice -n 10, env -i) and VAR=value assignments; len(tokens) when there is none."""
    i, wrapper = 0, None
    while i < len(tokens):
        token = tokens[i]
        if wrapper is not None and token.startswith("-"):  # the wrapper's own option
            i += 2 if token in WRAPPERS[wrapper] else 1
            continue
        if token in WRAPPERS:
            wrapper = token
        elif not _ASSIGNMENT.match(token):
            return i
        i += 1
    return len(tokens)


def program_name(command: str) -> str:
    """The program the command line's first simple command runs, without its path; "" if none."""
    commands = parse(command).commands
    return commands[0].program if commands else ""


def _is_prose(word: Word) -> bool:
    """A quoted string of more than one word that is not code (an awk or sed script has
    braces, $, ; or =)."""
    return " " in word.text.strip() and not CODE.search(word.text)


def free_text(command: str) -> list[tuple[int, int, str]]:
    """The command's free text rather than program and arguments, as (start, end, text) spans:
    its comments, what echo-like programs print, and quoted prose. What the guards read for a
    copied task (guards.prose_of) and what the reviewer reads blanked (blank_prose): one
    reading for both."""
    parsed = parse(command)
    spans = [(start, end, command[start:end].lstrip("#").strip()) for start, end in parsed.comments]
    for simple in parsed.commands:
        if simple.program in ECHO_LIKE and simple.arguments:
            printed = simple.arguments
            spans.append((printed[0].start, printed[-1].end, " ".join(w.text for w in printed)))
    spans.extend((w.start, w.end, w.text) for w in parsed.quoted if _is_prose(w))
    return sorted(spans)


def replace_spans(command: str, replacements: list[tuple[int, int, str]]) -> str:
    """The command with each (start, end, text) span replaced (overlapping spans: the first,
    widest one wins)."""
    out, at = [], 0
    for start, end, replacement in sorted(replacements, key=lambda r: (r[0], -r[1])):
        if start < at:
            continue
        out.append(command[at:start])
        out.append(replacement)
        at = end
    out.append(command[at:])
    return "".join(out)


def blank_prose(command: str) -> str:
    """The command with its free text replaced by <TEXT> (its comments dropped): what the
    likelihood reviewer reads (likelihood.py), so a command cannot score by restating the task
    in prose, as Coder-Reviewer strips comments and blanks printed strings."""
    parsed = parse(command)
    comments = set(parsed.comments)
    replacements = [(start, end, "" if (start, end) in comments else PROSE) for start, end, _ in free_text(command)]
    return re.sub(r"[ \t]+\n|[ \t]+$", lambda m: m.group().lstrip(" \t"), replace_spans(command, replacements)).strip()


def blank_quoted(command: str, placeholder: str) -> str:
    """The command with every quoted string, as parsed, replaced by `placeholder` (a `'` inside
    double quotes does not open one, as a regular expression would have it)."""
    return replace_spans(command, [(w.start, w.end, placeholder) for w in parse(command).quoted])
