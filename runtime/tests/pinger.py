"""A client that pings an address at a fixed rate from a lab node and tells which replies never came.

Shared by the switchover test and ``bench/switchover.py``: the measurement is
"how many echo requests got no reply", counted per sequence number, so a
switchover that leaves no interval without a master loses none.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from netlab import Node


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Pinger:
    """ICMPv4 echo requests every ``interval`` seconds from ``node`` to ``dst``, in a thread."""

    def __init__(self, node: Node, dst: str, interval: float = 0.01) -> None:
        self.dst = dst
        self.interval = interval
        self.ident = os.getpid() & 0xFFFF
        self.sock = node.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.sent = 0
        self.replied: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ping-{dst}", daemon=True)

    def __enter__(self) -> "Pinger":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _echo(self, seq: int) -> bytes:
        header = bytes([8, 0, 0, 0]) + self.ident.to_bytes(2, "big") + (seq & 0xFFFF).to_bytes(2, "big")
        payload = seq.to_bytes(8, "big")
        csum = _checksum(header + payload)
        return header[:2] + csum.to_bytes(2, "big") + header[4:] + payload

    def _receive_until(self, deadline: float) -> None:
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(2048)
            except (socket.timeout, BlockingIOError):
                return
            icmp = data[(data[0] & 0x0F) * 4:]
            if len(icmp) >= 16 and icmp[0] == 0 and int.from_bytes(icmp[4:6], "big") == self.ident:
                self.replied.add(int.from_bytes(icmp[8:16], "big"))

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sock.sendto(self._echo(self.sent), (self.dst, 0))
            except OSError:
                pass  # no route for a moment counts as a lost request
            self.sent += 1
            self._receive_until(start + self.sent * self.interval)

    def stop(self, linger: float = 1.0) -> None:
        """Stop sending; wait ``linger`` seconds for the last replies."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(10.0)
            self._receive_until(time.monotonic() + linger)
        self.sock.close()

    @property
    def lost(self) -> list[int]:
        """Sequence numbers of the requests that got no reply."""
        return sorted(set(range(self.sent)) - self.replied)
