"""systemd's notify protocol by hand: one datagram to ``$NOTIFY_SOCKET`` per message.

With ``Type=notify`` systemd waits for ``READY=1`` before it calls the unit
started, so ``systemctl start`` (and whatever is ordered after vrrpd) returns
only once the sockets are open and every instance runs. With ``WatchdogSec=``
it restarts a daemon whose loop stops sending ``WATCHDOG=1``: a stalled
daemon keeps its VIPs but sends no adverts, which is worse than a restart.
The protocol is a few lines (sd_notify(3)), so no library is needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterable, Mapping

log = logging.getLogger("vrrpd")


def _address(value: str) -> str | bytes:
    """``@name`` is a socket in the abstract namespace: a leading NUL byte instead of the ``@``."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between two ``WATCHDOG=1``: half of ``WATCHDOG_USEC``, as sd_watchdog_enabled(3) advises.

    None when systemd asked for no watchdog, or asked another process (``WATCHDOG_PID``).
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000


class Notifier:
    """Sends notify messages to systemd; does nothing when not started by systemd with Type=notify."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET", "")
        self.address: str | bytes | None = _address(path) if path else None
        self._sock: socket.socket | None = None
        self._last_status: str | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=value``) as one datagram; False when it could not be sent."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(fields).encode(), self.address)
            return True
        except OSError as exc:
            if not self._warned:  # once: a missing socket would otherwise log every watchdog tick
                self._warned = True
                log.warning("cannot notify systemd at %r: %s", self.address, exc)
            return False

    def status(self, line: str) -> None:
        """``STATUS=`` shown by ``systemctl status``; sent only when it changed."""
        if line != self._last_status:
            self._last_status = line
            self.send(f"STATUS={line}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def summary(states: Iterable[str]) -> str:
    """One line for ``systemctl status``: how many instances are in each state."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    if not counts:
        return "no instances"
    order = ("MASTER", "BACKUP", "FAULT", "INIT", "STOP")
    names = sorted(counts, key=lambda s: (order.index(s) if s in order else len(order), s))
    return ", ".join(f"{counts[name]} {name}" for name in names)


async def watchdog(notifier: Notifier, interval: float) -> None:
    """``WATCHDOG=1`` every ``interval`` seconds, from the event loop itself.

    Sent by a task of the loop that runs the adverts, so it stops exactly when
    the loop stalls; a blocked thread elsewhere would not hide a stalled loop.
    """
    while True:
        notifier.send("WATCHDOG=1")
        await asyncio.sleep(interval)
