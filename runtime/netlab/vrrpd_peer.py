"""Run our own ``vrrpd`` inside a lab node, as a child of the test process.

The twin of ``netlab.KeepalivedPeer``: same life cycle (start, SIGTERM stop,
SIGKILL crash, SIGHUP reload), but state comes from the daemon's control
socket, which is exactly what ``vrrpctl`` and ``vrrp_facts`` read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from vrrpd.control import request

from .node import Node
from .processes import process_gone
from .waits import wait_until


class VrrpdPeer:
    """One vrrpd in one node namespace, with its own state directory."""

    def __init__(self, node: Node, config: str, name: str = "vrrpd", extra_args: tuple[str, ...] = ()) -> None:
        self.node = node
        self.name = name
        node.lab.peers.append(self)  # so a failing test's report carries this daemon's log
        self.dir = Path(node.tmpdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "vrrpd.conf"
        self.conf.write_text(config)
        self.socket = str(self.dir / "vrrpd.sock")
        self.log = self.dir / "vrrpd.log"
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "vrrpd.cli", "-f", str(self.conf), "-l", "-D",
                "--control-socket", self.socket, "-p", str(self.dir / "vrrpd.pid"), *self.extra_args]

    def start(self, timeout: float = 5.0) -> "VrrpdPeer":
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        handle = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = self.node.popen(self.argv(), stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        wait_until(lambda: self._answers() or self.proc.poll() is not None, timeout, 0.02,
                   f"vrrpd control socket in {self.node}")
        if self.proc.poll() is not None:
            raise AssertionError(f"vrrpd exited with {self.proc.returncode}:\n{self.log_text()}")
        return self

    def _answers(self) -> bool:
        try:
            return bool(request(self.socket, "status", timeout=1.0).get("ok"))
        except OSError:
            return False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> dict[str, Any]:
        answer = request(self.socket, "status", timeout=2.0)
        assert answer["ok"], answer
        return answer

    def instance(self, name: str = "VI_1") -> dict[str, Any]:
        return self.status()["instances"][name]

    def state(self, name: str = "VI_1") -> str:
        return str(self.instance(name)["state"])

    def reload(self, config: str | None = None) -> dict[str, Any]:
        if config is not None:
            self.conf.write_text(config)
        return request(self.socket, "reload", timeout=10.0)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM and wait: a master sends priority 0 and removes its VIPs."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self, timeout: float = 3.0) -> None:
        """SIGKILL: a crash, nothing is released (the VIPs stay on the node)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self.proc.wait(timeout)
        wait_until(lambda: process_gone(self.proc.pid), timeout, 0.02, "vrrpd gone")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
