"""Turn a model's free-form reply into one command line.

Small models wrap commands in prose, fences, backticks, prompts and quotes. Extraction keeps
the first thing that looks like the command and drops the rest; it never judges whether the
command is good (that is the scorer's job) and never runs it.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)(?:```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_LEAD_IN = re.compile(
    r"^(?:(?:the\s+)?(?:shell\s+|bash\s+)?command(?:\s+is)?\s*[:=]\s*|answer\s*:\s*|output\s*:\s*|bash\s*:\s*)",
    re.I,
)
_PROMPT = re.compile(r"^(?:\$|>|[\w.-]+@[\w.-]+:[^$#]*[$#])\s+")
# Prose after the command: two or more spaces or " - " followed by a capitalised sentence, or
# a sentence that starts after the command's end ("nmap -sV host. This scans ...").
_TRAILING_PROSE = re.compile(
    r"(?:\s{2,}|\s+-{1,2}\s+|(?<=\S)[.:]\s+)(?=(?:This|It|The|That|Here|Where|Note|Explanation|Replace|Use|You)\b).*$"
)
_PROSE_START = re.compile(
    r"^(?:to|you|here|this|the|sure|certainly|i|it|in|use|note|first|a|an|we|for|that|if|yes|no)\b", re.I
)


def extract_command(raw: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    block = _first_fenced_block(text)
    if block is not None:
        # A fence wins unless the reply opens with a command before it: then the fence is a
        # stray closer ("cmd\n```\nThis command ...") and its "body" is prose.
        lead = _first_command_line(text[: text.find("```")])
        if not lead or lead.endswith(":") or _PROSE_START.match(lead):
            return _clean_line(_first_command_line(block))
    line = _first_command_line(text)
    if _PROSE_START.match(line):
        code = _best_inline_code(text)
        if code is not None:
            return _clean_line(code)
    return _clean_line(line)


def _first_fenced_block(text: str) -> str | None:
    for match in _FENCE.finditer(text):
        body = match.group(2)
        if body.strip():
            return body
    return None


def _best_inline_code(text: str) -> str | None:
    spans = [s.strip() for s in _INLINE_CODE.findall(text) if s.strip()]
    if not spans:
        return None
    # Prefer a span with arguments ("nmap -p 80 host") over a bare name ("nmap").
    with_args = [s for s in spans if " " in s]
    return with_args[0] if with_args else spans[0]


def _first_command_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        # "You can use the following command:" introduces the command on the next line.
        if line.endswith(":") and len(lines) > 1:
            continue
        return line
    return lines[0] if lines else ""


def _clean_line(line: str) -> str:
    line = line.strip()
    previous = None
    while previous != line:  # peel layers until nothing changes: "$ `nmap x`" -> "nmap x"
        previous = line
        line = _LEAD_IN.sub("", line).strip()
        line = _PROMPT.sub("", line).strip()
        line = _strip_wrapping(line)
    line = _TRAILING_PROSE.sub("", line).strip()
    if line.endswith(".") and not line.endswith(".."):
        # a sentence's full stop, not a path like "find ." (which has a space before it)
        if not re.search(r"\s\.$", line):
            line = line[:-1].rstrip()
    return line


def _strip_wrapping(line: str) -> str:
    for left, right in (("`", "`"), ('"', '"'), ("'", "'"), ("**", "**")):
        if len(line) > len(left) + len(right) and line.startswith(left) and line.endswith(right):
            inner = line[len(left) : len(line) - len(right)]
            # Only unwrap when the quotes wrap the whole line, not `grep "a" "b"`.
            if left not in inner:
                return inner.strip()
    return line.strip("`").strip() if line.count("`") == 1 else line
