"""The daemon's control socket: one JSON request per line, one JSON answer per line.

A Unix socket (mode 0600, so only root talks to the daemon) rather than
signals and dump files, because ``vrrpctl`` and ``vrrp_facts`` need an
answer they can wait for, and several daemons in several namespaces each
need their own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SOCKET = "/run/vrrpd/vrrpd.sock"
MAX_REQUEST = 64 * 1024

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ControlServer:
    """Serves requests ``{"command": NAME, ...}`` by calling ``handlers[NAME]``."""

    def __init__(self, path: str, handlers: dict[str, Handler]) -> None:
        self.path = path
        self.handlers = handlers
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_REQUEST)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

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
            while line := await reader.readline():
                answer = await self._answer(line)
                writer.write(json.dumps(answer, default=str).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.debug("control client dropped: %s", exc)
        finally:
            writer.close()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            command = request["command"]
            handler = self.handlers[command]
        except (ValueError, KeyError, TypeError):
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
