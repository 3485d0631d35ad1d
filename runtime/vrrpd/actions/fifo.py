"""keepalived's notify FIFO: one ordered line per event for readers like VyOS's.

Scripts are forked asynchronously and may run out of order; the FIFO is
where keepalived guarantees order (docs/keepalived-compat.md §8), which is why readers use
it. The lines are ``INSTANCE "VI_1" MASTER 150`` and ``GROUP "G" BACKUP 0``.

The FIFO is opened read-write and non-blocking, as keepalived opens it: a
write never waits for a reader, and with no reader (or a stuck one) lines
pile up in the pipe until it is full, after which they are dropped. A reader
that opens later still gets what is buffered.
"""

from __future__ import annotations

import asyncio
import errno
import grp
import logging
import os
import pwd
import signal
import stat
from collections.abc import Iterable, Sequence

from .notify import ScriptRunner

log = logging.getLogger(__name__)

FIFO_MODE = 0o644


class FifoError(OSError):
    """The FIFO path cannot be used (something else is there, or it is not ours)."""


class NotifyFifo:
    """An open notify FIFO, created if absent, plus its optional reader script.

    ``user``/``group`` own a FIFO we create (so a reader running as that user
    can open it). ``script`` is ``notify_fifo_script``'s argv: it is started
    with the FIFO path appended, through ``runner``, and SIGTERM'd on close.
    """

    def __init__(self, path: str, user: str | None = None, group: str | None = None, *,
                 script: Sequence[str] | None = None, script_user: str | None = None,
                 script_group: str | None = None, runner: ScriptRunner | None = None) -> None:
        self.path = path
        self.written = 0
        self.dropped = 0
        self.created = False
        self._fd: int | None = None
        self._script: asyncio.Task[asyncio.subprocess.Process | None] | None = None
        self._runner = runner
        if script and runner is None:
            raise ValueError("a fifo script needs a ScriptRunner")
        owner = self._owner(user, group)
        try:
            os.mkfifo(path, FIFO_MODE)
        except FileExistsError:
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                raise FifoError(errno.EEXIST, f"notify fifo {path} exists and is not a fifo") from None
        else:
            self.created = True
            os.chmod(path, FIFO_MODE)  # keepalived's 0644 whatever the daemon's umask
            if owner != (-1, -1):
                try:
                    os.chown(path, *owner)
                except OSError as exc:
                    log.warning("Failed to set uid:gid for fifo %s: %s", path, exc)
        if script and runner is not None:
            self._script = runner.notify((*script, path), user=script_user, group=script_group)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            self._unlink()
            self._stop_script()
            raise FifoError(exc.errno, f"Unable to open notify fifo {path}: {exc.strerror}") from None
        st = os.fstat(fd)
        if not stat.S_ISFIFO(st.st_mode) or st.st_uid not in (os.geteuid(), owner[0]):
            # An existing path may be something planted there: use only a FIFO we own.
            os.close(fd)
            self._stop_script()
            raise FifoError(errno.EEXIST, f"notify fifo {path} is not a fifo we own - not using")
        self._fd = fd

    @staticmethod
    def _owner(user: str | None, group: str | None) -> tuple[int, int]:
        uid = gid = -1
        try:
            if user is not None:
                entry = pwd.getpwnam(user)
                uid, gid = entry.pw_uid, entry.pw_gid
            if group is not None:
                gid = grp.getgrnam(group).gr_gid
        except KeyError as exc:
            raise LookupError(f"notify fifo owner {exc.args[0]}") from None
        return (uid if uid != os.geteuid() else -1, gid if gid != os.getegid() else -1)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write_line(self, line: str) -> bool:
        """Write one event line; False if it was dropped because the pipe is full.

        Lines are far below PIPE_BUF, so each write is atomic: a reader never
        sees half a line, and a full pipe drops the whole line.
        """
        if self._fd is None:
            return False
        try:
            os.write(self._fd, line.encode("utf-8", "surrogateescape"))
        except BlockingIOError:
            self.dropped += 1
            return False
        except OSError as exc:
            self.dropped += 1
            log.warning("cannot write to notify fifo %s: %s", self.path, exc)
            return False
        self.written += 1
        return True

    def write_instance(self, name: str, state: str, priority: int) -> bool:
        """``INSTANCE "<name>" <STATE> <effective priority>``."""
        return self.write_line(f'INSTANCE "{name}" {state.upper()} {priority}\n')

    def write_group(self, name: str, state: str) -> bool:
        """``GROUP "<name>" <STATE> 0``."""
        return self.write_line(f'GROUP "{name}" {state.upper()} 0\n')

    def _unlink(self) -> None:
        if self.created:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.created = False

    def _stop_script(self) -> None:
        task, self._script = self._script, None
        if task is None or self._runner is None:
            return
        runner = self._runner

        def terminate(done: asyncio.Task[asyncio.subprocess.Process | None]) -> None:
            if not done.cancelled() and (proc := done.result()) is not None:
                runner.signal_group(proc, signal.SIGTERM)

        if task.done():
            terminate(task)
        else:
            task.add_done_callback(terminate)

    def close(self) -> None:
        """Unlink a FIFO we created (first, so a reader looping on open cannot reopen it), close, stop the script."""
        self._unlink()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._stop_script()


class NotifyFifos:
    """The FIFOs VRRP events go to: keepalived writes every line to ``notify_fifo`` *and* ``vrrp_notify_fifo``.

    Built from the NotifyFifo objects that could be opened (either, both or
    none); writes go to each in turn, so each keeps keepalived's order.
    """

    def __init__(self, fifos: Iterable[NotifyFifo] = ()) -> None:
        self.fifos = list(fifos)

    def __bool__(self) -> bool:
        return bool(self.fifos)

    def write_line(self, line: str) -> bool:
        """True if every FIFO took the line (each one is written to, even after a failure)."""
        results = [fifo.write_line(line) for fifo in self.fifos]
        return all(results)

    def write_instance(self, name: str, state: str, priority: int) -> bool:
        results = [fifo.write_instance(name, state, priority) for fifo in self.fifos]
        return all(results)

    def write_group(self, name: str, state: str) -> bool:
        results = [fifo.write_group(name, state) for fifo in self.fifos]
        return all(results)

    def close(self) -> None:
        for fifo in self.fifos:
            fifo.close()
        self.fifos = []
