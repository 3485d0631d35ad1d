"""``vrrp_track_process`` trackers: count the processes that match, keep keepalived's quorum.

keepalived follows processes through the kernel's proc connector (fork,
exec, comm change and exit events) instead of polling. vrrpd does the same
with pyroute2's ``ProcEventSocket`` where pyroute2 has it (0.9 and later)
and the kernel lets the daemon listen (the connector answers only in the
initial network namespace); otherwise it scans ``/proc`` every
``SCAN_INTERVAL`` seconds. Either way each tracker starts from a full scan.

Matching (keepalived's ``check_process()``): without ``full_command`` the
name is compared with ``/proc/PID/comm``; with it, with argv[0] of
``/proc/PID/cmdline``, and the arguments by ``param_match``: ``exact`` (all
of them), ``initial`` (the configured ones start the command line, the last
one may be a prefix), ``partial`` (the configured ones start it). Zombies
never count. Quorum is gained after ``fork_delay`` and lost after
``terminate_delay`` when those are set.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable, Iterable

from ..config.model import TrackProcess
from ..core.tracking import in_quorum

log = logging.getLogger(__name__)

#: seconds between two /proc scans when the proc connector is not available
SCAN_INTERVAL = 0.5


def read_process(pid: int) -> tuple[str, bytes] | None:
    """(comm, cmdline) of a live, non-zombie process; None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return None
    close = stat.rfind(b")")
    if close < 0 or stat[close + 2:close + 3] == b"Z":
        return None
    return os.fsdecode(stat[stat.find(b"(") + 1:close]), cmdline


def matches(track: TrackProcess, comm: str, cmdline: bytes) -> bool:
    """Whether a process with this comm and command line is one of ``track``'s."""
    words = cmdline.rstrip(b"\0").split(b"\0") if cmdline else []
    name = (os.fsdecode(words[0]) if words else "") if track.full_command else comm
    if name != track.process:
        return False
    if track.param_match == "none":
        return True
    wanted = [os.fsencode(p) for p in track.params]
    given = words[1:]
    if track.param_match == "exact":
        return given == wanted
    if len(given) < len(wanted):
        return False
    if track.param_match == "partial" or not wanted:
        return given[:len(wanted)] == wanted
    return given[:len(wanted) - 1] == wanted[:-1] and given[len(wanted) - 1].startswith(wanted[-1])


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


class ProcessCounter:
    """One tracked process set: the matching pids and the (debounced) quorum."""

    def __init__(self, track: TrackProcess, loop: asyncio.AbstractEventLoop,
                 on_change: Callable[[], None]) -> None:
        self.track = track
        self.pids: set[int] = set()
        self.have_quorum = False
        self._loop = loop
        self._on_change = on_change
        self._timer: asyncio.TimerHandle | None = None

    def settle(self, initial: bool = False) -> None:
        """Re-judge the quorum after the pid set changed; delays apply except at start."""
        now = in_quorum(len(self.pids), self.track.quorum, self.track.quorum_max)
        if now == self.have_quorum:
            self.cancel()
            return
        delay = self.track.fork_delay if now else self.track.terminate_delay
        if initial or not delay:
            self._set(now)
        elif self._timer is None:
            self._timer = self._loop.call_later(delay, self._expired)

    def _expired(self) -> None:
        self._timer = None
        self._set(in_quorum(len(self.pids), self.track.quorum, self.track.quorum_max))

    def _set(self, now: bool) -> None:
        self.cancel()
        if now != self.have_quorum:
            log.info("Quorum %s for tracked process %s (%d running)", "gained" if now else "lost",
                     self.track.name, len(self.pids))
            self.have_quorum = now
            self._on_change()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class ProcConnector:
    """The kernel's proc connector: a plain netlink socket, messages decoded by pyroute2.

    Owned rather than a pyroute2 ``ProcEventSocket`` for the reason
    ``io/links.py`` gives: pyroute2 0.9's sync sockets read through a private
    asyncio loop (which cannot even be created inside the daemon's running
    loop), while a socket we own is readable exactly when events wait.
    """

    def __init__(self) -> None:
        from pyroute2.netlink import NLMSG_DONE, NETLINK_CONNECTOR
        from pyroute2.netlink.connector.cn_proc import (CN_IDX_PROC, CN_VAL_PROC, PROC_CN_MCAST_LISTEN,
                                                        ProcEventMarshal, proc_event_control)

        self._marshal = ProcEventMarshal()
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        try:
            sock.bind((0, CN_IDX_PROC))
            msg = proc_event_control()
            msg["header"] = {"type": NLMSG_DONE, "flags": 0, "sequence_number": 0, "pid": 0}
            msg.update({"idx": CN_IDX_PROC, "val": CN_VAL_PROC, "seq": 0, "ack": 0, "len": 4, "flags": 0,
                        "action": PROC_CN_MCAST_LISTEN})
            msg.encode()
            sock.send(msg.data)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()

    def drain(self) -> list[dict[str, int]] | None:
        """Every pending event as a dict; None when the kernel dropped some (rescan)."""
        events = []
        while True:
            try:
                data = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return events
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    return None
                raise
            for msg in self._marshal.parse(data):
                events.append({"event": msg.get("event"), **{k: msg.get(k) for k in _PIDS if msg.get(k) is not None}})

    def close(self) -> None:
        self._sock.close()


_PIDS = ("child_pid", "child_tgid", "process_pid", "process_tgid")


def _connector() -> ProcConnector | None:
    """The proc connector, listening; None where pyroute2 (before 0.9) or the kernel lack it."""
    try:
        return ProcConnector()
    except ImportError:
        log.info("pyroute2 has no proc connector: scanning /proc every %.1f s", SCAN_INTERVAL)
    except OSError as exc:
        log.info("proc connector not available (%s): scanning /proc every %.1f s", exc, SCAN_INTERVAL)
    return None


class ProcessTracker:
    """Every tracked process set, fed by the proc connector or by /proc scans."""

    def __init__(self, tracks: Iterable[TrackProcess], on_change: Callable[[], None]) -> None:
        self._tracks = list(tracks)
        self._on_change = on_change
        self.counters: dict[str, ProcessCounter] = {}
        self._sock: ProcConnector | None = None
        self._scan_task: asyncio.Task[None] | None = None
        self.mode = "none"

    def have_quorum(self, name: str) -> bool | None:
        counter = self.counters.get(name)
        return counter.have_quorum if counter is not None else None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._tracks:
            return
        self.counters = {t.name: ProcessCounter(t, loop, self._on_change) for t in self._tracks}
        self._sock = _connector()
        self._scan()
        for counter in self.counters.values():
            counter.settle(initial=True)
        if self._sock is not None:
            self.mode = "connector"
            loop.add_reader(self._sock.fileno(), self._on_proc_events)
        else:
            self.mode = "scan"
            self._scan_task = loop.create_task(self._scan_loop())

    def _check(self, pid: int) -> None:
        """Add or remove ``pid`` in every counter according to what it runs now."""
        seen = read_process(pid)
        for counter in self.counters.values():
            if seen is not None and matches(counter.track, *seen):
                counter.pids.add(pid)
            else:
                counter.pids.discard(pid)

    def _scan(self) -> None:
        pids = all_pids()
        live = set(pids)
        for counter in self.counters.values():
            counter.pids &= live
        for pid in pids:
            self._check(pid)

    async def _scan_loop(self) -> None:
        while True:
            await asyncio.sleep(SCAN_INTERVAL)
            self._scan()
            for counter in self.counters.values():
                counter.settle()

    def _on_proc_events(self) -> None:
        assert self._sock is not None
        messages = self._sock.drain()
        if messages is None:
            log.info("proc connector: events were lost - rescanning /proc")
            messages = []
            self._scan()
        for msg in messages:
            event = msg.get("event")
            if event == "PROC_EVENT_FORK" and msg["child_pid"] == msg["child_tgid"]:
                self._check(msg["child_tgid"])
            elif event in ("PROC_EVENT_EXEC", "PROC_EVENT_COMM") and msg["process_pid"] == msg["process_tgid"]:
                self._check(msg["process_tgid"])
            elif event == "PROC_EVENT_EXIT" and msg["process_pid"] == msg["process_tgid"]:
                for counter in self.counters.values():
                    counter.pids.discard(msg["process_tgid"])
        for counter in self.counters.values():
            counter.settle()

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        for counter in self.counters.values():
            counter.cancel()
        if self._scan_task is not None:
            self._scan_task.cancel()
            self._scan_task = None
        if self._sock is not None:
            loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
