"""Which addresses a server process (and its children) listens on, so a test can assert loopback only.

A tool started "on 127.0.0.1" may still listen on every interface: Label Studio
reads ``--host`` as its public URL and ignores a value without ``http://``; the
listen address is ``--internal-host``. The round trip checks the real sockets
(psutil reads /proc/net/tcp, tcp6, udp, udp6 and the process's socket inodes)
instead of trusting the command line.
"""

from __future__ import annotations

import ipaddress

import psutil


def listening_addresses(pid: int) -> list[tuple[str, int, str]]:
    """``(ip, port, "tcp" | "udp")`` of every listening TCP / bound UDP socket of ``pid``
    and its descendants."""
    root = psutil.Process(pid)
    found: set[tuple[str, int, str]] = set()
    for proc in (root, *root.children(recursive=True)):
        try:
            sockets = proc.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for sock in sockets:
            if not sock.laddr:
                continue
            if sock.type == 1 and sock.status == psutil.CONN_LISTEN:  # SOCK_STREAM
                found.add((sock.laddr.ip, sock.laddr.port, "tcp"))
            elif sock.type == 2 and not sock.raddr:  # SOCK_DGRAM, bound and unconnected
                found.add((sock.laddr.ip, sock.laddr.port, "udp"))
    return sorted(found)


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def beyond_loopback(addresses: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """The sockets reachable from another machine (0.0.0.0, ::, a LAN address ...)."""
    return [a for a in addresses if not is_loopback(a[0])]
