"""The daemon's control socket: one JSON request per line, one JSON answer per line.

A Unix socket (mode 0600, so only root talks to the daemon) rather than
signals and dump files, because ``vrrpctl`` and ``vrrp_facts`` need an
answer they can wait for, and several daemons in several namespaces each
need their own.

The socket is the daemon's front door, so what reaches it is treated as
hostile: a request is bounded in size and nesting before it is parsed (a
deeply nested line would otherwise blow the parser's recursion), the
directory holding the socket must belong to the daemon's user and be
writable by nobody else (or another user could swap the socket for their
own), and the socket's mode is set without touching the process-wide umask,
which scripts forked meanwhile would inherit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import stat
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SOCKET = "/run/vrrpd/vrrpd.sock"
MAX_REQUEST = 64 * 1024
#: Our requests are flat objects; anything nested deeper is not one of them.
MAX_DEPTH = 16
SOCKET_MODE = 0o600

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

# a JSON string (skipped) or a bracket (counted)
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class UnsafeStateDir(OSError):
    """The directory of the control socket could be written by someone else."""


class RequestRejected(ValueError):
    """A request line the server refuses to parse."""


def check_state_dir(directory: str) -> None:
    """Refuse a directory not owned by the daemon's user (root) or writable by group/others.

    Whoever can write there can replace the socket with their own and
    answer ``vrrpctl`` and ``vrrp_facts`` in the daemon's name.
    """
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeStateDir(f"state directory {directory} is not a directory")
    if info.st_uid != os.geteuid():
        raise UnsafeStateDir(f"state directory {directory} is owned by uid {info.st_uid}, not {os.geteuid()}: "
                             "refusing to put the control socket there")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeStateDir(f"state directory {directory} is writable by group or others "
                             f"(mode {stat.S_IMODE(info.st_mode):04o}): refusing to put the control socket there")


def nesting_depth(line: bytes) -> int:
    """The deepest bracket nesting of a JSON text, brackets inside strings ignored."""
    depth = deepest = 0
    for match in _TOKENS.finditer(line):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def parse_request(line: bytes) -> Any:
    """``json.loads`` once the line is known to be small and shallow enough."""
    if len(line) > MAX_REQUEST:
        raise RequestRejected(f"request longer than {MAX_REQUEST} bytes")
    if nesting_depth(line) > MAX_DEPTH:
        raise RequestRejected(f"request nested deeper than {MAX_DEPTH} levels")
    return json.loads(line)


class ControlServer:
    """Serves requests ``{"command": NAME, ...}`` by calling ``handlers[NAME]``."""

    def __init__(self, path: str, handlers: dict[str, Handler]) -> None:
        self.path = path
        self.handlers = handlers
        self._server: asyncio.AbstractServer | None = None

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def prepare(self) -> None:
        """Create the state directory if missing, then check it; called before anything else runs."""
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, mode=0o755)
        check_state_dir(self.directory)

    async def start(self) -> None:
        self.prepare()
        if os.path.lexists(self.path):
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Linux gives the bound file the socket inode's mode (minus the umask): set it
            # here rather than through os.umask, which is process-wide. Nobody can connect
            # before listen(), so the chmod after bind closes any remaining gap.
            os.fchmod(sock.fileno(), SOCKET_MODE)
            sock.bind(self.path)
            os.chmod(self.path, SOCKET_MODE)
            self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=MAX_REQUEST)
        except BaseException:
            sock.close()
            raise

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # no newline within the limit: answer, then hang up
                    await self._reply(writer, {"ok": False, "error": f"request longer than {MAX_REQUEST} bytes"})
                    break
                if not line:
                    break
                await self._reply(writer, await self._answer(line))
        except ConnectionError as exc:
            log.debug("control client dropped: %s", exc)
        except Exception:  # a client must never take a handler task down with an unhandled error
            log.exception("control connection failed")
        finally:
            writer.close()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, answer: dict[str, Any]) -> None:
        writer.write(json.dumps(answer, default=str).encode() + b"\n")
        await writer.drain()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = parse_request(line)
        except RequestRejected as exc:
            return {"ok": False, "error": str(exc)}
        except (ValueError, RecursionError):
            request = None
        try:
            command = request["command"]
            handler = self.handlers[command]
        except (KeyError, TypeError, IndexError):
            return {"ok": False, "error": f"bad request; commands: {', '.join(sorted(self.handlers))}"}
        try:
            return {"ok": True, **await handler(request)}
        except Exception as exc:  # a failing command must not take the daemon down
            log.exception("control command %s failed", command)
            return {"ok": False, "error": str(exc)}


def request(path: str, command: str, timeout: float = 5.0, **args: Any) -> dict[str, Any]:
    """Blocking client call, for ``vrrpctl`` and ``vrrp_facts``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps({"command": command, **args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
