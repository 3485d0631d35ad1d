"""Type=notify in a namespace: a real unix datagram socket plays systemd's NOTIFY_SOCKET.

READY=1 comes once the control socket answers (sockets open, instances started),
WATCHDOG=1 keeps coming from the loop at half WATCHDOG_USEC, STATUS= follows
the instance states, STOPPING=1 comes on SIGTERM.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from netlab import keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer


class NotifySocket:
    """What systemd listens on: collects the datagrams the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[tuple[float, str]] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except BlockingIOError:
                return [text for _at, text in self.messages]

    def has(self, line: str) -> bool:
        return any(line in text.split("\n") for text in self.drain())


def test_ready_watchdog_status_stopping(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a ping every 100 ms
    conf = keepalived_conf(vrrp_instance(priority=150, advert_int=0.1, version=3))
    peer = VrrpdPeer(lab.node(1), conf).start()
    try:
        wait_until(lambda: notify.has("READY=1"), 5.0, 0.02, "READY=1")
        ready = [t for t in notify.drain() if "READY=1" in t][0]
        assert "STATUS=1 BACKUP" in ready.split("\n"), ready
        wait_until(lambda: notify.has("STATUS=1 MASTER"), 5.0, 0.02, "STATUS after becoming MASTER")
        wait_until(lambda: notify.drain().count("WATCHDOG=1") >= 5, 5.0, 0.02, "five watchdog pings")
        # the loop stalled (SIGSTOP): pings stop; they resume when it runs again
        peer.signal(signal.SIGSTOP)
        time.sleep(0.3)
        before = notify.drain().count("WATCHDOG=1")
        time.sleep(0.5)
        assert notify.drain().count("WATCHDOG=1") == before, "a stopped loop must not ping"
        peer.signal(signal.SIGCONT)
        wait_until(lambda: notify.drain().count("WATCHDOG=1") > before, 5.0, 0.02, "pings after SIGCONT")
        peer.stop()
        assert notify.has("STOPPING=1")
    finally:
        peer.stop()
        notify.sock.close()


def test_watchdog_for_another_pid_is_not_sent(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    peer = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(priority=150))).start()
    try:
        wait_until(lambda: notify.has("READY=1"), 5.0, 0.02, "READY=1")
        time.sleep(0.5)
        assert "WATCHDOG=1" not in notify.drain()
    finally:
        peer.stop()
        notify.sock.close()
