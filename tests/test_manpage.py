"""Reading manual pages in Python: small pages written here in each macro style the index
meets, and one real page from the packages `make setup` fetched."""

import gzip

import pytest

from inversion_tui.manuals.index import ProgramDoc, build_index, page_files, pages_dir
from inversion_tui.manuals.manpage import first_sentence, option_spellings, parse_page, read_source

MAN_STYLE = r""".TH FROB 1
.SH NAME
frob, unfrob \- turn widgets into gadgets
.SH OPTIONS
.TP
\fB\-x\fR, \fB\-\-extract\fR
Extract the widgets. Then more text.
.TP
\fB\-f\fR, \fB\-\-file\fR=\fIFILE\fR
read widgets from FILE
.TP
.B \-q
.TQ
.B \-\-quiet
say nothing
.IP "\-o \fIdir\fP" 4
write into dir
"""

DOCBOOK_STYLE = r""".TH TOOL 1
.SH "NAME"
tool \- a DocBook page
.SH "OPTIONS"
.PP
\fB\-sL\fR (List Scan)
.RS 4
Lists each host.
.RE
.SH "COMMANDS"
.PP
\fBlist\-units\fR [\fIPATTERN\fR\&...]
.RS 4
List units in memory\&.
.RE
"""

MDOC_STYLE = r""".Dd $Mdocdate$
.Dt NC 1
.Sh NAME
.Nm nc
.Nd arbitrary TCP and UDP connections
.Sh DESCRIPTION
.Bl -tag -width Ds
.It Fl l
Listen for an incoming connection.
.It Fl p Ar source_port
Specify the source port.
.El
"""


def test_a_man_style_page():
    page = parse_page(MAN_STYLE)
    assert page.names == ["frob", "unfrob"] and page.description == "turn widgets into gadgets"
    options = {tuple(option_spellings(i.tag)): first_sentence(i.body) for i in page.items}
    assert options[(("-x", ""), ("--extract", ""))] == "Extract the widgets."
    assert options[(("-f", "required"), ("--file", "required"))] == "read widgets from FILE"
    assert options[(("-o", "required"),)] == "write into dir"


def test_stacked_tags_share_their_paragraph(tmp_path):
    root = tmp_path / "pkg"
    (root / "man1").mkdir(parents=True)
    (root / "man1" / "frob.1.gz").write_bytes(gzip.compress(MAN_STYLE.encode()))
    [(name, section, path)] = list(page_files(root))
    built = build_index(None, [root], log=lambda line: None)
    frob = built.lookup("frob")
    table = frob.option_table()
    assert table["-q"].description == table["--quiet"].description == "say nothing"
    assert built.lookup("unfrob") is frob  # the NAME line's other name
    assert frob.source == str(root) and frob.page == "frob(1)"


def test_a_docbook_page_and_its_commands():
    page = parse_page(DOCBOOK_STYLE)
    tags = {i.tag: (i.section, i.boxed, first_sentence(i.body)) for i in page.items}
    assert tags["-sL (List Scan)"] == ("OPTIONS", True, "Lists each host.")
    assert option_spellings("-sL (List Scan)") == [("-sL", "")]
    assert tags["list-units [PATTERN...]"][2] == "List units in memory."


def test_an_mdoc_page():
    page = parse_page(MDOC_STYLE)
    assert page.names == ["nc"] and page.description == "arbitrary TCP and UDP connections"
    assert [(option_spellings(i.tag), first_sentence(i.body)) for i in page.items] == [
        ([("-l", "")], "Listen for an incoming connection."),
        ([("-p", "required")], "Specify the source port.")]


def test_a_real_page_from_the_fetched_packages():
    """wc(1) as coreutils ships it: its NAME line and its options, parsed here."""
    path = pages_dir() / "coreutils" / "man1" / "wc.1.gz"
    if not path.is_file():
        pytest.skip(f"{path}: the packages' pages were not fetched (scripts/fetch_manpages.sh needs apt-get)")
    page = parse_page(read_source(path))
    assert page.names == ["wc"]
    assert "newline, word, and byte counts" in page.description
    spellings = {s for item in page.items for s, _ in option_spellings(item.tag)}
    assert {"-l", "--lines", "-w", "--words", "-c", "--bytes", "--files0-from"} <= spellings


def test_a_program_round_trips_through_json():
    doc = ProgramDoc("x", "does x", "pkg 1", "x(1)")
    assert ProgramDoc.from_json(doc.to_json()) == doc


@pytest.mark.parametrize("tag,expected", [
    ("-f, --file=ARCHIVE", [("-f", "required"), ("--file", "required")]),
    ("-u, -U NUM, --unified[=NUM]", [("-u", ""), ("-U", "required"), ("--unified", "optional")]),
    ("--color[=WHEN]", [("--color", "optional")]),
    ("-a --ascii", [("-a", ""), ("--ascii", "")]),
    ("-name pattern", [("-name", "required")]),
    ("-p <port ranges>", [("-p", "required")]),
    ("+short", [("+short", "")]),
])
def test_option_spellings(tag, expected):
    assert option_spellings(tag) == expected


def test_hanging_paragraphs_as_sed_writes_them():
    page = parse_page(".TH SED 1\n.SH OPTIONS\n.HP\n\\fB\\-n\\fR, \\fB\\-\\-quiet\\fR\n.IP\n"
                      "suppress automatic printing of pattern space\n.HP\n\\fB\\-i[SUFFIX]\\fR\n.IP\nedit files in place\n")
    assert [(option_spellings(i.tag), first_sentence(i.body)) for i in page.items] == [
        ([("-n", ""), ("--quiet", "")], "suppress automatic printing of pattern space"),
        ([("-i", "optional")], "edit files in place")]
