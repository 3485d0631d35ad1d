"""Debian's keepalived as a live VRRP peer in a lab node: life cycle, state dumps, logs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import LabError
from .node import Node
from .processes import process_gone, terminate_process
from .waits import wait_until

#: keepalived's numeric states (keepalived/include/vrrp.h), as found in its JSON dump.
KEEPALIVED_STATES: dict[int, str] = {
    0: "INIT",
    1: "BACKUP",
    2: "MASTER",
    3: "FAULT",
    97: "DELETED",
    98: "STOP",
}


@dataclass
class KeepalivedPeer:
    """Debian's keepalived running inside a node namespace as a live VRRP peer.

    Each peer gets its own directory (config, pid files, log, ``TMPDIR`` for the
    state dumps: without a private TMPDIR all daemons overwrite the same
    /tmp/keepalived.json).  The daemon runs in the foreground (``-n``) as a child
    of the test process, in its own process group, so :meth:`kill` can SIGKILL
    the parent and the VRRP child at once (a crash: no priority-0 advert).
    """

    node: Node
    config: str
    name: str = "keepalived"
    binary: str = "keepalived"
    extra_args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dir = self.node.tmpdir / self.name
        self.tmpdir = self.dir / "tmp"
        self.conf_path = self.dir / "keepalived.conf"
        self.pidfile = self.dir / "keepalived.pid"
        self.vrrp_pidfile = self.dir / "vrrp.pid"
        self.log_path = self.dir / "keepalived.log"
        self.proc: subprocess.Popen[Any] | None = None
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.node.lab.peers.append(self)

    # -- lifecycle ----------------------------------------------------------
    @property
    def argv(self) -> list[str]:
        """keepalived command line (foreground, console log, VRRP only, private pid files)."""
        return [
            self.binary, "-n", "-l", "-D", "-G", "-P",
            "-f", str(self.conf_path), "-p", str(self.pidfile), "-r", str(self.vrrp_pidfile),
            *self.extra_args,
        ]

    def start(self, timeout: float = 5.0) -> "KeepalivedPeer":
        """Write the config, start the daemon, wait (bounded) for its VRRP child."""
        if self.running:
            raise LabError(f"{self.name} on {self.node} is already running")
        self.conf_path.write_text(self.config)
        # Stale pid files make keepalived believe it already runs.
        for pf in (self.pidfile, self.vrrp_pidfile):
            pf.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== start {time.time():.6f}: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self.proc = self.node.popen(
                self.argv, env={"TMPDIR": str(self.tmpdir), **self.env}, stdout=log,
                stderr=subprocess.STDOUT,
            )

        def child_up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LabError(
                    f"keepalived on {self.node} exited {self.proc.returncode}:\n{self.log_text()}"
                )
            pid = self.vrrp_pid
            return pid is not None and not process_gone(pid)

        wait_until(child_up, timeout, 0.01, f"keepalived VRRP child on {self.node}")
        return self

    @property
    def pid(self) -> int | None:
        """PID of the keepalived parent (the process we started)."""
        return self.proc.pid if self.proc is not None else None

    @property
    def vrrp_pid(self) -> int | None:
        """PID of the VRRP child, from its pid file (None if not written yet)."""
        try:
            return int(self.vrrp_pidfile.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    @property
    def running(self) -> bool:
        """Whether the parent process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the parent (keepalived forwards DATA/STATS/JSON/HUP to its children)."""
        if not self.running:
            raise LabError(f"keepalived on {self.node} is not running")
        assert self.proc is not None
        self.proc.send_signal(sig)

    def reload(self, config: str | None = None) -> None:
        """Optionally rewrite the config, then SIGHUP."""
        if config is not None:
            self.config = config
            self.conf_path.write_text(config)
        self.signal(signal.SIGHUP)

    def _wait_children_gone(self, vrrp_pid: int | None, timeout: float) -> None:
        if vrrp_pid is not None:
            wait_until(lambda: process_gone(vrrp_pid), timeout, 0.01, f"VRRP child {vrrp_pid} to exit")

    def stop(self, timeout: float = 5.0) -> int | None:
        """Graceful stop: SIGTERM (a master sends priority 0, VIPs removed), bounded wait.

        Falls back to SIGKILL of the group.  Returns the exit code.
        """
        if self.proc is None:
            return None
        vrrp_pid = self.vrrp_pid
        code = terminate_process(self.proc, timeout, 2.0)
        with contextlib.suppress(AssertionError):
            self._wait_children_gone(vrrp_pid, 2.0)
        return code

    def kill(self, timeout: float = 3.0) -> None:
        """Crash: SIGKILL parent and VRRP child together (one killpg), reap, wait.

        Killing only the parent would let the child's parent-death handling
        send priority 0 (and a lone child would be respawned): a SIGKILL of the
        whole group is the faithful crash.  The dead node keeps its VIPs.
        """
        if self.proc is None:
            return
        vrrp_pid = self.vrrp_pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout)
        self._wait_children_gone(vrrp_pid, timeout)

    # -- state --------------------------------------------------------------
    def _dump(self, sig: int, filename: str, timeout: float) -> Path:
        path = self.tmpdir / filename
        path.unlink(missing_ok=True)
        self.signal(sig)
        wait_until(lambda: path.exists() and path.stat().st_size > 0, timeout, 0.01,
                   f"keepalived to write {path}")
        return path

    def dump_json(self, timeout: float = 3.0) -> Any:
        """JSON state dump (signal 36 = SIGRTMIN+2; Debian's build has --enable-json).

        keepalived writes it atomically (rename), so the file is complete once present.
        """
        path = self._dump(signal.SIGRTMIN + 2, "keepalived.json", timeout)
        return json.loads(path.read_text())

    def dump_data(self, timeout: float = 3.0) -> str:
        """SIGUSR1 text dump (``keepalived.data``); not atomic, so re-read until stable."""
        path = self._dump(signal.SIGUSR1, "keepalived.data", timeout)
        return _read_stable(path, timeout)

    def dump_stats(self, timeout: float = 3.0) -> str:
        """SIGUSR2 stats text (``keepalived.stats``)."""
        path = self._dump(signal.SIGUSR2, "keepalived.stats", timeout)
        return _read_stable(path, timeout)

    def instances(self, timeout: float = 3.0) -> dict[str, dict[str, Any]]:
        """``{iname: {"data": {...}, "stats": {...}}}`` from the JSON dump."""
        dump = self.dump_json(timeout)
        entries = dump.get("vrrp", []) if isinstance(dump, dict) else dump
        return {e["data"]["iname"]: e for e in entries}

    def state(self, instance: str = "VI_1", timeout: float = 3.0) -> str:
        """Instance state name ("MASTER", "BACKUP", "FAULT", ...) via the JSON dump."""
        data = self.instances(timeout)[instance]["data"]
        return KEEPALIVED_STATES.get(int(data["state"]), str(data["state"]))

    def packet_errors(self, instance: str = "VI_1", timeout: float = 3.0) -> dict[str, int]:
        """Non-zero receive-error counters of ``instance`` from the JSON stats.

        Empty means keepalived rejected none of the adverts it got (for
        interoperability tests: our daemon's packets must all be accepted).
        """
        stats = self.instances(timeout)[instance]["stats"]
        return {k: int(v) for k, v in stats.items() if k in _KEEPALIVED_ERROR_STATS and int(v)}

    def rejection_lines(self) -> list[str]:
        """Log lines of the current run in which keepalived complains about a received packet.

        Matches the messages of keepalived 2.2.x's receive checks ("bogus VRRP
        packet received", "... not present in MASTER advert", "invalid ...",
        "... mismatch", "Dropping received VRRP packet", ...).  Normal
        preemption logs ("received lower priority ... - discarding") are not
        counted.
        """
        return [
            line for line in self.log_text(current=True).splitlines()
            if _KEEPALIVED_REJECT_RE.search(line) and "lower priority" not in line
        ]

    def log_text(self, current: bool = False) -> str:
        """Everything keepalived logged to the console so far.

        The log accumulates over restarts, each start marked by a ``==== start``
        line; ``current=True`` returns only the text of the latest run.
        """
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        if current:
            idx = text.rfind("==== start ")
            text = text[idx:] if idx >= 0 else text
        return text


_KEEPALIVED_ERROR_STATS = frozenset({
    "packet_len_err", "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
    "invalid_authtype", "authtype_mismatch", "auth_failure",
})
_KEEPALIVED_REJECT_RE = re.compile(
    r"bogus|invalid|mismatch|not present in|dropping received|ignoring received|wrong|"
    r"checksum|ttl|discard|unexpected|malformed",
    re.IGNORECASE,
)


def _read_stable(path: Path, timeout: float) -> str:
    """Read a file being written non-atomically: wait until two reads 20 ms apart agree."""
    prev = None
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace")
        if text == prev or time.monotonic() >= deadline:
            return text
        prev = text
        time.sleep(0.02)
