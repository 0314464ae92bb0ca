"""Free loopback ports for the servers a test starts (never the fixed defaults another run holds)."""

from __future__ import annotations

import socket


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nothing listens on now: all bound at once, so none repeats."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def free_port() -> int:
    (port,) = free_ports(1)
    return port
