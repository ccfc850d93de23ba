"""CommandDocs: what each program and option does, by its manual page. One home for it.

Built once (`inversion-tui docs --build`, run by `make setup`) from the manual pages of a fixed
list of Debian packages (debian_packages.txt, fetched by scripts/fetch_manpages.sh), and, where
a user asks, from the machine's own pages (`--system`). Kept as one JSON file in the user cache.
Every entry records the package (and version) or the directory its page came from, and the index
records which kind it is, so a run can say whether it judged with the same index as CI.
The pages' text is never committed to the repository: only this list of packages is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from inversion_tui.cache import cache_dir
from inversion_tui.manuals.manpage import (Item, first_sentence, is_option_tag, option_spellings, parse_page,
                                        read_source, word_tag)
from inversion_tui.errors import InversionError

INDEX_FORMAT = 1
PACKAGES_FILE = Path(__file__).with_name("debian_packages.txt")
SECTIONS = ("man1", "man8")
"""Programs and system programs; sections 2-7 document calls, files and ideas."""

ALTERNATIVES = {
    "awk": ("gawk", "mawk"), "nawk": ("mawk", "gawk"), "which": ("which.debianutils",),
    "nc": ("nc_openbsd",), "netcat": ("nc_openbsd",), "pager": ("less",), "ping6": ("ping",),
}
"""Names Debian gives a program through its alternatives system, at install time: a package's
files do not hold them."""

SUBCOMMAND_PAGES = ("git", "ip", "docker", "openssl", "bridge", "tc")
"""Programs whose subcommands have pages of their own, named PROGRAM-SUBCOMMAND (git-commit(1),
ip-address(8)). Only these: apt-get is a program, not apt's `get`."""

ABBREVIATING = ("ip", "bridge", "tc")
"""Programs that take any abbreviation of a subcommand (`ip a` is `ip address`)."""

BUILTINS_SECTION = "SHELL BUILTIN COMMANDS"
"""bash(1)'s section of builtins (cd, export, umask...): each is indexed as a program."""


class DocsError(InversionError):
    title = "Documentation index"


@dataclass(frozen=True)
class OptionDoc:
    spellings: tuple[str, ...]  # as the page gives them: ("-x", "--extract", "--get")
    argument: str  # "" (none), "required" or "optional"
    description: str  # the first sentence of its paragraph


@dataclass
class ProgramDoc:
    name: str
    description: str  # the NAME line's description (a builtin's first sentence)
    source: str  # "coreutils 9.1-1", "bash 5.2.15-2+b13 (builtin)", "/usr/share/man"
    page: str  # "wc(1)"
    options: list[OptionDoc] = field(default_factory=list)
    subcommands: dict[str, "ProgramDoc"] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "source": self.source, "page": self.page,
                "options": [[list(o.spellings), o.argument, o.description] for o in self.options],
                "subcommands": {name: doc.to_json() for name, doc in self.subcommands.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "ProgramDoc":
        return cls(data["name"], data["description"], data["source"], data["page"],
                   [OptionDoc(tuple(s), a, d) for s, a, d in data["options"]],
                   {name: cls.from_json(sub) for name, sub in data["subcommands"].items()})

    def option_table(self) -> dict[str, OptionDoc]:
        return {spelling: option for option in self.options for spelling in option.spellings}


@dataclass
class CommandDocs:
    programs: dict[str, ProgramDoc]
    provenance: dict  # kind, packages {name: version}, system directories, fingerprint

    def lookup(self, program: str) -> ProgramDoc | None:
        return self.programs.get(program) or self.programs.get(program.rsplit("/", 1)[-1])

    def subcommand(self, doc: ProgramDoc, word: str) -> ProgramDoc | None:
        """The subcommand a word names: exactly, or as a unique abbreviation (`ip a`, `ip addr`
        are ip-address, as ip itself reads them; the shortest name when several start so)."""
        if word in doc.subcommands or doc.name not in ABBREVIATING:
            return doc.subcommands.get(word)
        starting = sorted((n for n in doc.subcommands if n.startswith(word)), key=lambda n: (len(n), n))
        return doc.subcommands[starting[0]] if starting else None

    @property
    def description(self) -> str:
        """Which index this is, in a line: what a run records and `docs --coverage` prints."""
        p = self.provenance
        parts = []
        if p.get("packages"):
            parts.append(f"{len(p['packages'])} Debian packages ({p.get('distribution', 'debian')})")
        if p.get("system"):
            parts.append("this machine's pages (" + ", ".join(p["system"]) + ")")
        return f"{len(self.programs)} programs from " + (" + ".join(parts) or "nothing") + f", {p['fingerprint']}"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": INDEX_FORMAT, "provenance": self.provenance,
                "programs": {name: doc.to_json() for name, doc in self.programs.items() if doc.name == name},
                "aliases": {name: doc.name for name, doc in self.programs.items() if doc.name != name}}
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(data, separators=(",", ":")))
        os.replace(staging, path)

    @classmethod
    def load(cls, path: Path) -> "CommandDocs":
        try:
            data = json.loads(path.read_text())
        except OSError:
            raise DocsError(f"no documentation index at {path}: run `make setup` "
                            "(or `inversion-tui docs --build`)") from None
        except ValueError:
            raise DocsError(f"{path}: not a documentation index (rebuild it: `inversion-tui docs --build`)") from None
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            raise DocsError(f"{path}: an index of another format (rebuild it: `inversion-tui docs --build`)")
        programs = {name: ProgramDoc.from_json(doc) for name, doc in data["programs"].items()}
        for alias, name in data["aliases"].items():
            if name in programs:
                programs[alias] = programs[name]
        return cls(programs, data["provenance"])


def index_path() -> Path:
    return cache_dir() / "docs" / "index.json"


def pages_dir() -> Path:
    """Where scripts/fetch_manpages.sh puts the packages' pages: PACKAGE/man1, PACKAGE.version."""
    return cache_dir() / "docs" / "pages"


_LOADED: dict[Path, CommandDocs | None] = {}


def default_docs() -> CommandDocs | None:
    """The index in the user cache, loaded once per process; None where none was built."""
    path = index_path()
    if path not in _LOADED:
        try:
            _LOADED[path] = CommandDocs.load(path)
        except DocsError:
            _LOADED[path] = None
    return _LOADED[path]


def listed_packages() -> list[str]:
    return [line.strip() for line in PACKAGES_FILE.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


# ---- building ---------------------------------------------------------------------------------

_PAGE_NAME = re.compile(r"^(?P<name>.+)\.(?P<section>[18][a-z]*)(?:\.gz)?$")


def page_files(root: Path):
    """(name, section, path) of each page of sections 1 and 8 under root (symlinks followed
    when they stay inside root), in a stable order."""
    inside = root.resolve()
    for section in SECTIONS:
        folder = root / section
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            match = _PAGE_NAME.match(path.name)
            if not match:
                continue
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):
                continue  # a link to a page of another package
            if resolved.is_file() and resolved.is_relative_to(inside):  # not the building machine's pages
                yield match.group("name"), match.group("section"), resolved


def _options(items: list[Item]) -> list[OptionDoc]:
    """Option paragraphs as OptionDocs; a spelling documented twice keeps its first paragraph.
    Stacked tags (`-a` then `--all` over one paragraph) share the paragraph that follows them."""
    shared, following = [], ""
    for item in reversed(items):
        following = first_sentence(item.body) if item.body else following
        shared.append(following)
    options, seen = [], set()
    for item, description in zip(items, reversed(shared)):
        by_argument: dict[str, list[str]] = {}  # spellings of one paragraph grouped by their argument
        for spelling, argument in option_spellings(item.tag):
            if spelling not in seen:
                by_argument.setdefault(argument, []).append(spelling)
                seen.add(spelling)
        options.extend(OptionDoc(tuple(spellings), argument, description)
                       for argument, spellings in by_argument.items())
    return options


@dataclass
class _Group:
    """A subcommand's paragraph (stacked tags share one) and the option items under it."""

    depth: int
    body: list[str]
    options: list[Item] = field(default_factory=list)


def _groups(items: list[Item]) -> tuple[list[Item], dict[str, tuple[str, _Group]]]:
    """(the program's option items, {subcommand: (its section, its group)}): an option item
    indented under a subcommand's paragraph is that subcommand's."""
    own, subs, current = [], {}, None
    for item in items:
        if item.section == "SYNOPSIS":
            continue
        names = [n for n in (word_tag(part) for part in item.tag.split(", ")) if n]
        if (_is_subcommand_section(item) and names and not is_option_tag(item.tag)
                and (current is None or item.depth <= current.depth)):
            if current is None or current.body or item.depth != current.depth:
                current = _Group(item.depth, [])
            current.body = item.body  # stacked tags: the last one holds the paragraph
            for name in names:
                subs.setdefault(name, (item.section, current))
            continue
        if current is not None and item.depth <= current.depth:
            current = None
        if is_option_tag(item.tag):
            (current.options if current is not None else own).append(item)
    return own, subs


_COMMANDS_SECTION = re.compile(r"\bCOMMANDS\b")


def _is_subcommand_section(item: Item) -> bool:
    return bool(_COMMANDS_SECTION.search(item.section)) or (item.boxed and item.section == "DESCRIPTION")


def parse_program(name: str, section: str, path: Path, root: Path,
                  source: str) -> tuple[list[ProgramDoc], list[str]]:
    """The ProgramDoc of one page (with bash(1), one per builtin too), and the names its NAME
    line gives the program (gzip(1): gzip, gunzip, zcat)."""
    page = parse_page(read_source(path, root))
    own, subs = _groups(page.items)
    description = page.description or ""
    doc = ProgramDoc(name, description, source, f"{name}({section})", _options(own))
    docs = [doc]
    for sub_name, (section_title, group) in subs.items():
        if sub_name.startswith(f"{name}-"):
            continue  # git(1)'s list of its commands names their pages, which are attached instead
        sub = ProgramDoc(sub_name, first_sentence(group.body), source, doc.page, _options(group.options))
        if section_title == BUILTINS_SECTION:
            sub.source = f"{source} (builtin)"
            docs.append(sub)
        else:
            doc.subcommands.setdefault(sub_name, sub)
    return docs, page.names


def build_index(package_root: Path | None, system_dirs: list[Path] = (), log=print) -> CommandDocs:
    """Index the fetched packages' pages (in the list's order: an earlier package wins a name)
    and then the system directories' (they add programs, never replace one)."""
    programs: dict[str, ProgramDoc] = {}
    named_in_page: dict[str, ProgramDoc] = {}
    packages, failures = {}, 0
    roots = []
    if package_root is not None and package_root.is_dir():
        for package in listed_packages():
            version_file = package_root / f"{package}.version"
            if version_file.is_file() and (package_root / package).is_dir():
                packages[package] = version_file.read_text().strip()
                roots.append((package_root / package, f"{package} {packages[package]}"))
    roots.extend((Path(d), str(d)) for d in system_dirs)
    for root, source in roots:
        for name, section, path in page_files(root):
            if name in programs:
                continue
            try:
                docs, names = parse_program(name, section, path, root, source)
            except (OSError, ValueError, EOFError, RecursionError) as exc:
                failures += 1
                log(f"  skipped {path}: {exc}")
                continue
            for doc in docs:
                programs.setdefault(doc.name, doc)
            for alias in names:
                named_in_page.setdefault(alias, docs[0])
    _attach_subcommand_pages(programs)
    for alias, doc in named_in_page.items():
        if re.fullmatch(r"[\w.+-]+", alias):
            programs.setdefault(alias, doc)
    for alias, targets in ALTERNATIVES.items():
        target = next((programs[t] for t in targets if t in programs), None)
        if target is not None:
            programs.setdefault(alias, target)
    # Of the content, so two indexes agree when their fingerprints do, whatever built them.
    fingerprint = hashlib.sha256(json.dumps({name: doc.to_json() for name, doc in sorted(programs.items())},
                                            sort_keys=True).encode()).hexdigest()[:12]
    provenance = {"kind": "+".join(k for k, on in (("debian", packages), ("system", system_dirs)) if on) or "empty",
                  "packages": packages, "system": [str(d) for d in system_dirs], "fingerprint": fingerprint,
                  "distribution": _distribution(), "unparsed_pages": failures}
    return CommandDocs(programs, provenance)


def subcommand_page(name: str) -> tuple[str, str] | None:
    """(program, subcommand) where a page's name is a subcommand's (`git-blame` is git's
    `blame`), else None: how the index attaches those pages, and how a user types them."""
    program, _, sub = name.partition("-")
    return (program, sub) if sub and program in SUBCOMMAND_PAGES else None


def _attach_subcommand_pages(programs: dict[str, ProgramDoc]) -> None:
    for name in list(programs):
        program, sub = subcommand_page(name) or ("", "")
        if sub and program in programs and programs[name].name == name:
            doc = programs[name]
            programs[program].subcommands.setdefault(sub, ProgramDoc(
                sub, doc.description, doc.source, doc.page, doc.options, doc.subcommands))


def _distribution() -> str:
    """The Debian release the packages came from, as this machine's apt names it."""
    try:
        fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    except OSError:
        return "unknown"
    return fields.get("PRETTY_NAME", "unknown").strip('"')


def system_manpath() -> list[Path]:
    """The user's own page directories: $MANPATH, else /usr/share/man and /usr/local/share/man."""
    entries = [p for p in os.environ.get("MANPATH", "").split(":") if p]
    candidates = [Path(p) for p in entries] or [Path("/usr/local/share/man"), Path("/usr/share/man")]
    return [p for p in candidates if p.is_dir()]
