"""Network namespaces: names, entering one from a thread, the ``ip`` command, their processes."""

from __future__ import annotations

import ctypes
import os
import random
import shlex
import string
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable

from .errors import LabError

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/run/netns")


_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    """setns(fd, CLONE_NEWNET) for the calling thread (os.setns only exists from 3.12)."""
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)  # type: ignore[attr-defined]
        return
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def run_in_netns(netns: str, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Run ``fn`` in a short-lived thread that has entered network namespace ``netns``.

    Only the helper thread switches namespace (setns on CLONE_NEWNET is
    per-thread), so the test process stays in the root namespace.  Sockets
    keep the namespace they were created in, which makes this the cheap way to
    get a raw socket on a node without spawning a Python subprocess.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            fd = os.open(NETNS_RUN_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"netns-{netns}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise LabError(f"function in netns {netns} did not finish within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def ip(*args: str, input: str | None = None, timeout: float = 15.0) -> str:
    """Run ``ip ARGS`` and return stdout; raise LabError with stderr on failure."""
    cmd = ["ip", *args]
    res = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode != 0:
        raise LabError(f"{shlex.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}\n{input or ''}")
    return res.stdout


def list_netns() -> list[str]:
    """Names of all network namespaces under /run/netns (as ``ip netns list`` shows)."""
    try:
        return sorted(p.name for p in NETNS_RUN_DIR.iterdir())
    except FileNotFoundError:
        return []


def new_prefix() -> str:
    """Per-run name prefix ``vt<pid%1000><2 chars>``, checked against existing namespaces."""
    existing = list_netns()
    alphabet = string.ascii_lowercase + string.digits
    for _attempt in range(100):
        prefix = f"vt{os.getpid() % 1000}{''.join(random.choices(alphabet, k=2))}"
        if not any(name.startswith(prefix) for name in existing):
            return prefix
    raise LabError("could not find a free namespace prefix")


def netns_pids(netns: str) -> list[int]:
    """PIDs whose network namespace is ``netns`` (zombies have no ns link and are skipped)."""
    try:
        target = os.stat(NETNS_RUN_DIR / netns)
    except FileNotFoundError:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            pids.append(int(entry))
    return pids
