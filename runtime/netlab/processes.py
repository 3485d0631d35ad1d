"""Processes the lab starts: whether one is gone, and how to stop one with its children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def process_gone(pid: int) -> bool:
    """True if ``pid`` no longer runs (absent, or a zombie waiting for its reaper).

    PID 1 on the test machine reaps orphans late (1-5 s), so a zombie counts as gone.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # Field 3, after the ")" closing the command name.
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state in (b"Z", b"X")


def terminate_process(
    proc: subprocess.Popen[Any], term_timeout: float = 3.0, kill_timeout: float = 3.0
) -> int | None:
    """Stop a process started by the lab and reap it; also SIGKILL its process group.

    Lab processes are started with ``start_new_session=True`` so their pgid is
    their pid: SIGKILLing the group catches children that outlived the leader
    (keepalived's VRRP child, notify scripts).  Bounded: SIGTERM, wait, then
    SIGKILL, wait.  Returns the exit code (None if it could not be reaped).
    """
    pgid = proc.pid
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(term_timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    try:
        proc.wait(kill_timeout)
    except subprocess.TimeoutExpired:
        return None
    return proc.returncode


def signal_if_running(proc: subprocess.Popen[Any], sig: int) -> None:
    """Send ``sig`` unless the process has already been reaped (its pid may be reused)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
