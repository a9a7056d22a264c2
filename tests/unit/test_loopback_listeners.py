"""The listener check the Label Studio round trip relies on, against real sockets on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.labelstudio.listeners import beyond_loopback, is_loopback, listening_addresses

ROOT = Path(__file__).resolve().parents[2]

# A parent that listens on 127.0.0.1 and (where the host has IPv6) ::1, and a child that
# listens on 127.0.0.1 too: the check must see the whole process tree.
SERVER = r"""
import socket, subprocess, sys

def listen(family, host):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen()
    return s

keep = [listen(socket.AF_INET, "127.0.0.1")]
try:
    keep.append(listen(socket.AF_INET6, "::1"))
except OSError:
    pass  # no IPv6 on this host
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
keep.append(udp)
if sys.argv[1:] != ["child"]:
    child = subprocess.Popen(
        [sys.executable, __file__, "child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    keep_child = child.stdout.readline()
print(" ".join(str(s.getsockname()[1]) for s in keep), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def loopback_server(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    ports = [int(p) for p in proc.stdout.readline().split()]
    yield proc, ports
    proc.stdin.close()  # the child's stdin closes with its parent's exit
    proc.wait(timeout=10)


def test_every_socket_of_a_loopback_server_and_its_child_is_seen_and_is_loopback(loopback_server):
    proc, ports = loopback_server
    found = listening_addresses(proc.pid)
    assert {port for _ip, port, _kind in found} >= set(ports)
    assert len([a for a in found if a[2] == "tcp"]) >= 2  # the parent's and the child's
    assert beyond_loopback(found) == []


def test_wildcard_and_lan_addresses_count_as_beyond_loopback():
    seen = [
        ("0.0.0.0", 8080, "tcp"),
        ("::", 8080, "tcp"),
        ("127.0.0.1", 8081, "tcp"),
        ("127.0.1.1", 8082, "tcp"),
        ("::1", 8083, "tcp"),
        ("::ffff:127.0.0.1", 8084, "tcp"),
        ("192.168.1.20", 8085, "udp"),
        ("fe80::1%eth0", 8086, "tcp"),
    ]
    assert beyond_loopback(seen) == [
        ("0.0.0.0", 8080, "tcp"),
        ("::", 8080, "tcp"),
        ("192.168.1.20", 8085, "udp"),
        ("fe80::1%eth0", 8086, "tcp"),
    ]
    assert is_loopback("::ffff:127.0.0.1") and not is_loopback("::ffff:10.0.0.1")


def _start_commands(text: str) -> list[str]:
    """Each `label-studio start ...` shell command of a markdown text, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return re.findall(r"label-studio start[^\n]*", joined)


EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+([A-Za-z]{2,})\b")


def test_every_documented_label_studio_start_listens_on_loopback_with_an_accepted_email():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    commands = [c for doc in docs for c in _start_commands(doc.read_text(encoding="utf-8"))]
    assert commands, "the README shows how to start Label Studio"
    for command in commands:
        assert "--internal-host 127.0.0.1" in command, command
        assert not re.search(r"--host[ =](?!https?://)", command), command
        username = re.search(r"--username[ =](\S+)", command)
        assert username and EMAIL.fullmatch(username.group(1)), command
    # The round trip starts the real server the same way (its argv is a Python list).
    roundtrip = (ROOT / "tests/labelstudio/test_roundtrip.py").read_text(encoding="utf-8")
    assert re.search(r'"--internal-host",\s*"127\.0\.0\.1"', roundtrip)
    assert not re.search(r'"--host",\s*"(?!https?://)', roundtrip)
    for email in re.findall(r'"([\w.+-]+@[\w.-]+)"', roundtrip):
        assert EMAIL.fullmatch(email), email
