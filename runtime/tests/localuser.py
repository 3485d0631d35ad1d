"""A real, throw-away, non-root user: what such a user can do to scripts a root daemon runs.

Created with ``useradd`` (a system user, its own group, no home, no login
shell) under a per-run name and removed with ``userdel`` on exit, also when
the test fails. ``run`` executes a command as that user, so what a test
"does as the user" is done by a real unprivileged process.
"""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

#: useradd/userdel exit status when /etc/passwd is locked by another run
_LOCKED = 10


@dataclass(frozen=True)
class LocalUser:
    name: str
    uid: int
    gid: int

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        """Run argv as this user (no supplementary groups); raises if it fails."""
        return subprocess.run(list(argv), user=self.uid, group=self.gid, extra_groups=[], capture_output=True,
                              text=True, timeout=timeout, check=True)


def _shadow_tool(argv: list[str], deadline: float) -> None:
    """useradd/userdel, retried while another process holds the passwd lock (bounded)."""
    while True:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode == 0:
            return
        if result.returncode != _LOCKED or time.monotonic() > deadline:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
        time.sleep(0.2)


@contextmanager
def local_user(prefix: str = "vrrpt") -> Iterator[LocalUser]:
    """A new non-root user for the duration of the block."""
    name = f"{prefix}{os.getpid() % 100000}{secrets.token_hex(3)}"
    _shadow_tool(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                  "--shell", "/usr/sbin/nologin", name], time.monotonic() + 15)
    try:
        entry = pwd.getpwnam(name)
        yield LocalUser(name, entry.pw_uid, entry.pw_gid)
    finally:
        _shadow_tool(["userdel", name], time.monotonic() + 15)
