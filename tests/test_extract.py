"""Command extraction on ugly model outputs (several are verbatim SmolLM2-135M replies)."""

import pytest

from inversion_tui.loop.extract import extract_command

CASES = [
    ("nmap -p 80 192.168.1.1", "nmap -p 80 192.168.1.1"),
    ("  nmap -sV 10.0.0.5  \n", "nmap -sV 10.0.0.5"),
    ("```bash\nnmap -p 80 192.168.1.1\n```", "nmap -p 80 192.168.1.1"),
    ("```\nfind /tmp -name '*.log'\n```\nThis finds log files.", "find /tmp -name '*.log'"),
    ("Here is the command:\n```sh\n$ du -sh /var/log\n```", "du -sh /var/log"),
    ("`nikto -h http://10.0.0.5`", "nikto -h http://10.0.0.5"),
    ("$ grep -r error /var/log", "grep -r error /var/log"),
    ("root@kali:~# nmap -sn 10.0.0.0/24", "nmap -sn 10.0.0.0/24"),
    ('"tar -czf backup.tar.gz /srv/data"', "tar -czf backup.tar.gz /srv/data"),
    ("Command: wc -l notes.txt", "wc -l notes.txt"),
    ("nmap -O 10.0.0.5  This detects the operating system.", "nmap -O 10.0.0.5"),
    ("nmap -O 10.0.0.5. This detects the operating system.", "nmap -O 10.0.0.5"),
    ("You can use the following command:\n\nnc -lvnp 4444", "nc -lvnp 4444"),
    ("You can use `gobuster dir -u http://x -w list.txt` to brute-force.", "gobuster dir -u http://x -w list.txt"),
    # verbatim SmolLM2 replies from the design probe
    (
        "To scan the internet using a firewall, use a port scan tool. Specifically, the port "
        "scanning tool is known as `nmap` (nmap",
        "nmap",
    ),
    (
        "The `ls -R` command in Python can be used to list all files and directories in a shell.",
        "ls -R",
    ),
    ("Here's a Python function that does the job:\n\n```python\nimport os\nimport subprocess\n", "import os"),
    (
        'telnet 10.0.0.0/24 awk -v "10.0.0.0/24 ""  \necho "Example.org"\n```\n\nThis command uses `and',
        'telnet 10.0.0.0/24 awk -v "10.0.0.0/24 ""',
    ),
    ("usage: /usr/share/wordlists/dirb/common.txt /usr/local/bin/bake list-usage\n```",
     "usage: /usr/share/wordlists/dirb/common.txt /usr/local/bin/bake list-usage"),
    ("find . -name '*.py'", "find . -name '*.py'"),
    ('grep "a" "b"', 'grep "a" "b"'),
    ("", ""),
    ("   \n\n  ", ""),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_extracts_one_clean_command(raw, expected):
    assert extract_command(raw) == expected


def test_result_is_a_single_line():
    raw = "ls -la /tmp\nrm -rf /\necho done"
    assert extract_command(raw) == "ls -la /tmp"


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extraction_never_crashes_and_returns_one_line(raw):
    command = extract_command(raw)
    assert isinstance(command, str)
    assert "\n" not in command and "\r" not in command
    assert command == command.strip()
