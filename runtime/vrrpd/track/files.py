"""``track_file`` trackers: an integer in a file, followed with inotify (no polling).

keepalived's semantics (``track_file.c``, docs/keepalived-compat.md §14): each file's
directory is watched for IN_CLOSE_WRITE, IN_MOVED_TO (re-read the file) and
IN_DELETE, IN_MOVED_FROM (the value becomes 0); the content is read like
``strtol(buf, NULL, 0)``: leading blanks, an optional sign, decimal, 0x hex
or 0 octal, anything after the number ignored, no number at all is 0. A
value outside the 32-bit range is logged and ignored. ``init_file`` creates
a missing file with its value (and, with ``overwrite``, writes it at start
even when the file exists).

libc's inotify is reached through ctypes: the standard library has no
binding and pyroute2 none either.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config.model import TrackFile

log = logging.getLogger(__name__)

IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_DELETE = 0x200
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
WATCH_MASK = IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
_EVENT = struct.Struct("iIII")   # wd, mask, cookie, len (struct inotify_event)
_NUMBER = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def parse_value(text: str) -> int | None:
    """A file's content as keepalived's ``strtol(buf, NULL, 0)``; None when out of range."""
    match = _NUMBER.match(text)
    if match is None:
        return 0
    sign, digits = match.groups()
    value = int(digits, 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") and len(digits) > 1 else 10)
    value = -value if sign == "-" else value
    if not -2**31 <= value <= 2**31:
        return None
    return value


def read_value(path: str) -> int | None:
    """The file's value; a missing or unreadable file is 0, as in keepalived."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(127)
    except OSError:
        return 0
    return parse_value(data.decode("ascii", "replace"))


class Inotify:
    """One inotify instance, non-blocking, read from the event loop with add_reader."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd: int = fd

    def add_watch(self, directory: str, mask: int = WATCH_MASK) -> int:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), ctypes.c_uint32(mask))
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_add_watch {directory}: {os.strerror(err)}")
        return wd

    def read_events(self) -> list[tuple[int, int, str]]:
        """Every pending (wd, mask, name); [] when there is none."""
        events = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            except InterruptedError:
                continue
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size:offset + _EVENT.size + length]
                events.append((wd, mask, os.fsdecode(raw.rstrip(b"\0"))))
                offset += _EVENT.size + length

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class _Watched:
    track: TrackFile
    directory: str
    basename: str
    value: int = 0


def initialise(track: TrackFile, *, at_start: bool) -> None:
    """``init_file``: create the file with its value; ``overwrite`` writes it at start even if present."""
    if not track.init:
        return
    exists = os.path.lexists(track.path)
    if exists and not (track.init_overwrite and at_start):
        return
    if exists and not os.path.isfile(track.path):
        log.error("Cannot initialise track file %s - it is not a regular file", track.name)
        return
    try:
        with open(track.path, "w", encoding="ascii") as handle:
            handle.write(f"{track.init_value}\n")
    except OSError as exc:
        log.error("Unable to initialise track file %s: %s", track.name, exc)


class FileTracker:
    """Every tracked file of the configuration, on one inotify descriptor."""

    def __init__(self, tracks: Iterable[TrackFile], on_change: Callable[[], None], *, at_start: bool) -> None:
        self.on_change = on_change
        self._inotify: Inotify | None = None
        self._by_wd: dict[int, list[_Watched]] = {}
        self.files: dict[str, _Watched] = {}
        for track in tracks:
            initialise(track, at_start=at_start)
            directory = os.path.dirname(os.path.abspath(track.path))
            if not os.path.isdir(directory):
                log.error("Track file directory for %s does not exist - not tracking it", track.name)
                continue
            watched = _Watched(track, os.path.realpath(directory), os.path.basename(track.path))
            watched.value = read_value(track.path) or 0
            self.files[track.name] = watched

    def value(self, name: str) -> int | None:
        """The file's current value, None when it is not tracked (no such directory)."""
        watched = self.files.get(name)
        return watched.value if watched is not None else None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.files:
            return
        self._inotify = Inotify()
        wds: dict[str, int] = {}
        for watched in self.files.values():
            if watched.directory not in wds:
                wds[watched.directory] = self._inotify.add_watch(watched.directory)
            self._by_wd.setdefault(wds[watched.directory], []).append(watched)
        loop.add_reader(self._inotify.fd, self._on_events)

    def _on_events(self) -> None:
        assert self._inotify is not None
        changed = False
        for wd, mask, name in self._inotify.read_events():
            if mask & IN_ISDIR:
                continue
            for watched in self._by_wd.get(wd, ()):
                if watched.basename != name:
                    continue
                value = 0 if mask & (IN_DELETE | IN_MOVED_FROM) else read_value(watched.track.path)
                if value is None:
                    log.info("Invalid number read from %s - ignoring", watched.track.path)
                    continue
                if value != watched.value:
                    log.info("track file %s: value %d (was %d)", watched.track.name, value, watched.value)
                    watched.value = value
                    changed = True
        if changed:
            self.on_change()

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._inotify is not None:
            loop.remove_reader(self._inotify.fd)
            self._inotify.close()
            self._inotify = None


__all__ = ["FileTracker", "Inotify", "initialise", "parse_value", "read_value"]
