"""Which file a script path runs, and whether anyone but root can change that.

A script run as root is only as safe as every name the kernel follows to find
it: if a non-root user owns, or may write to, one directory on the way, or
owns one symlink, they can make the path lead to a file of their own. So the
path is resolved here one component at a time, the way the kernel resolves
it, and every directory, symlink and file met on the way (the path as
written *and* the targets of its links) is judged with keepalived's rule
(``check_security()`` in its ``notify.c``):

* the owner must be root;
* a regular file, or a directory without the sticky bit, must not be
  writable by others, nor by its group unless that group is root
  (a sticky directory such as ``/tmp`` is accepted: nobody can rename or
  remove root's entries in it; a symlink's own mode bits mean nothing).

The last component must be a regular file: a FIFO, a device or a socket is
never a script, and *opening* one may block (a FIFO's open waits for a
writer), so ``sniff_exec_magic`` looks at the type before it opens anything
and opens non-blocking anyway, in case the file was swapped in between.

Everything here is blocking file I/O (lstat, readlink, open): callers run it
off the event loop.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

#: The kernel's limit on symlinks followed in one lookup (MAXSYMLINKS).
MAX_SYMLINKS = 40


@dataclass(frozen=True)
class PathWalk:
    """What resolving one script path found.

    ``real`` is the file the path leads to now (None when it leads nowhere:
    ``error`` says why, as strerror). ``wrong_type`` names the last component
    when it is not a regular file. ``unsafe`` is the first component met that
    a non-root user can change, with the reason, e.g. ``"'/srv/x' is owned by
    uid 1000"`` (``unsafe_entry``: just ``/srv/x``); None when only root can
    change where the path leads and what is there.
    """

    given: str
    real: str | None = None
    st: os.stat_result | None = None
    error: str | None = None
    wrong_type: str | None = None
    unsafe: str | None = None
    unsafe_entry: str | None = None

    @property
    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the file reached, to tell a file from one swapped in for it."""
        return None if self.st is None else (self.st.st_dev, self.st.st_ino)


def changeable_by_non_root(name: str, st: os.stat_result) -> str | None:
    """Why a non-root user could change this entry (keepalived's rule), or None."""
    mode = st.st_mode
    if st.st_uid != 0:
        return f"'{name}' is owned by uid {st.st_uid}"
    judged = stat.S_ISREG(mode) or (stat.S_ISDIR(mode) and not mode & stat.S_ISVTX)
    if judged and st.st_gid != 0 and mode & stat.S_IWGRP:
        return f"'{name}' is writable by group {st.st_gid}"
    if judged and mode & stat.S_IWOTH:
        return f"'{name}' is writable by anyone"
    return None


def _absolute(path: str) -> str:
    """``path`` made absolute without collapsing ``..`` (the kernel resolves it after links)."""
    return path if path.startswith("/") else os.path.join(os.getcwd(), path)


class _Walker:
    """The state of one resolution: where it is, what is left, the first unsafe entry met."""

    def __init__(self, given: str) -> None:
        self.given = given
        self.pending = self._parts(given)
        self.current = "/"
        self.links = 0
        self.st = os.lstat("/")
        self.unsafe: tuple[str, str] | None = None
        self._judge("/", self.st)

    @staticmethod
    def _parts(path: str) -> list[str]:
        """Components still to resolve, next one last (a stack)."""
        return [part for part in reversed(path.split("/")) if part not in ("", ".")]

    def _judge(self, name: str, st: os.stat_result) -> None:
        if self.unsafe is None and (why := changeable_by_non_root(name, st)) is not None:
            self.unsafe = (name, why)

    def result(self, **fields: object) -> PathWalk:
        entry, why = self.unsafe if self.unsafe is not None else (None, None)
        return PathWalk(self.given, unsafe=why, unsafe_entry=entry, **fields)  # type: ignore[arg-type]

    def step(self) -> str | None:
        """Resolve the next component; the strerror that ends the walk, or None."""
        name = self.pending.pop()
        if not stat.S_ISDIR(self.st.st_mode):
            return os.strerror(errno.ENOTDIR)
        if name == "..":
            self.current = os.path.dirname(self.current)
            self.st = os.lstat(self.current)
            return None
        candidate = os.path.join(self.current, name)
        try:
            st = os.lstat(candidate)
            target = os.readlink(candidate) if stat.S_ISLNK(st.st_mode) else None
        except OSError as exc:
            return exc.strerror or str(exc)
        self._judge(candidate, st)
        if target is None:
            self.current, self.st = candidate, st
            return None
        self.links += 1
        if self.links > MAX_SYMLINKS:
            return os.strerror(errno.ELOOP)
        if target.startswith("/"):
            self.current = "/"
            self.st = os.lstat("/")
        self.pending.extend(self._parts(target))  # looked up from the link's directory
        return None


def walk_path(path: str) -> PathWalk:
    """Resolve ``path`` as the kernel would, judging every entry it passes through.

    ``..`` is taken from the directory actually reached (after any link), as
    the kernel does, not from the text.
    """
    walker = _Walker(_absolute(path))
    while walker.pending:
        error = walker.step()
        if error is not None:
            return walker.result(error=error)
    wrong = None if stat.S_ISREG(walker.st.st_mode) else walker.current
    return walker.result(real=walker.current, st=walker.st, wrong_type=wrong)


def sniff_exec_magic(walk: PathWalk) -> bool | None:
    """True if the file the walk reached is ELF or starts with ``#!``; None if it is not that file any more.

    The kernel itself only execs ELF and ``#!`` files, so that is the test
    (keepalived asks libmagic for "executable"/"shared object"); anything
    else goes through ``/bin/sh``. The file is opened only if the walk found a
    regular file, non-blocking and without following a link, and it must
    still be the same inode once open.
    """
    if walk.real is None or walk.wrong_type is not None or walk.identity is None:
        return None
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(walk.real, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != walk.identity:
            return None
        head = os.read(fd, 4)
    except OSError:
        return None
    finally:
        os.close(fd)
    return head.startswith(b"#!") or head == b"\x7fELF"
