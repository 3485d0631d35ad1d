"""sd_notify by hand: real unix datagram sockets stand in for systemd's notify socket."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from vrrpd import systemd


def _receiver(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5.0)
    return sock


def test_path_socket_gets_one_datagram_per_message(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with _receiver(path) as sock:
        notifier = systemd.Notifier({"NOTIFY_SOCKET": path})
        assert notifier.send("READY=1", "STATUS=2 BACKUP")
        assert sock.recv(4096) == b"READY=1\nSTATUS=2 BACKUP"
        notifier.close()


def test_abstract_socket_at_sign_is_a_nul_byte() -> None:
    name = f"vrrpd-test-{os.getpid()}-{id(object())}"
    with _receiver(b"\0" + name.encode()) as sock:
        notifier = systemd.Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.send("WATCHDOG=1")
        assert sock.recv(4096) == b"WATCHDOG=1"
        notifier.close()


def test_status_is_sent_only_when_it_changes(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with _receiver(path) as sock:
        notifier = systemd.Notifier({"NOTIFY_SOCKET": path})
        notifier.status("1 MASTER")
        notifier.status("1 MASTER")
        notifier.status("1 BACKUP")
        sock.settimeout(0.2)
        got = []
        while True:
            try:
                got.append(sock.recv(4096))
            except socket.timeout:
                break
        assert got == [b"STATUS=1 MASTER", b"STATUS=1 BACKUP"]
        notifier.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = systemd.Notifier({})
    assert not notifier.enabled
    assert notifier.send("READY=1") is False


def test_missing_socket_is_a_warning_not_a_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = systemd.Notifier({"NOTIFY_SOCKET": str(tmp_path / "absent")})
    assert notifier.send("READY=1") is False
    assert notifier.send("READY=1") is False
    assert len([r for r in caplog.records if "cannot notify systemd" in r.message]) == 1


@pytest.mark.parametrize(("env", "expected"), [
    ({"WATCHDOG_USEC": "10000000"}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str], expected: float | None) -> None:
    assert systemd.watchdog_interval(env) == expected


def test_watchdog_task_pings_from_the_loop(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")

    async def run() -> None:
        task = asyncio.ensure_future(systemd.watchdog(notifier, 0.01))
        await asyncio.sleep(0.1)
        task.cancel()

    with _receiver(path) as sock:
        notifier = systemd.Notifier({"NOTIFY_SOCKET": path})
        asyncio.run(run())
        sock.settimeout(0.2)
        pings = 0
        try:
            while sock.recv(4096) == b"WATCHDOG=1":
                pings += 1
        except socket.timeout:
            pass
        assert pings >= 3
        notifier.close()


def test_summary_counts_states_master_first() -> None:
    assert systemd.summary(["BACKUP", "MASTER", "BACKUP", "FAULT"]) == "1 MASTER, 2 BACKUP, 1 FAULT"
    assert systemd.summary([]) == "no instances"
