"""A throwaway SMTP server for tests: accepts every mail and remembers it byte for byte.

A few lines of asyncio speaking just enough SMTP (220, HELO/EHLO, MAIL, RCPT,
DATA, QUIT); it records the commands and the raw DATA (dot-unstuffed, final
``.`` line removed), so tests compare exactly the bytes keepalived's readers
and mail filters see.

Two ways to use it:

* in-process, as an async context manager (unit tests)::

      async with SmtpSink() as sink:
          ...send to 127.0.0.1:sink.port...
      sink.messages, sink.commands

* as a program, e.g. inside a lab node's namespace, where the daemon under
  test sends its alerts (net tests)::

      python smtp_sink.py --port 2525 --out mails.jsonl

  Each accepted message is appended to ``--out`` as one JSON line
  ``{"commands": [...], "data": "..."}`` (the session's commands up to DATA,
  and the message). The file is created once the port is listening, so its
  existence means "ready". ``read_mails()`` reads it back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


class SmtpSink:
    """Accepts everything and remembers it; ``reply_to`` overrides a verb's reply.

    ``greet=False`` makes a server that never says anything (the client must
    time out). ``on_message(commands, data)`` is called for each accepted
    message with the commands of its session so far.
    """

    def __init__(self, reply_to: dict[str, bytes] | None = None, greet: bool = True, *, host: str = "127.0.0.1",
                 port: int = 0, on_message: Callable[[list[str], bytes], None] | None = None) -> None:
        self.reply_to = reply_to or {}
        self.greet = greet
        self.host = host
        self.port = port
        self.on_message = on_message
        self.commands: list[str] = []
        self.messages: list[bytes] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> SmtpSink:
        self.server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def __aenter__(self) -> SmtpSink:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.greet:
            await reader.read()  # say nothing: the client must time out
            writer.close()
            return
        session: list[str] = []
        writer.write(b"220 sink ESMTP test\r\n")
        while line := await reader.readline():
            command = line.rstrip(b"\r\n").decode()
            self.commands.append(command)
            session.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb in self.reply_to:
                writer.write(self.reply_to[verb])
            elif verb in ("HELO", "EHLO"):
                writer.write(b"250 sink\r\n")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b".") else chunk
                self.messages.append(data)
                if self.on_message is not None:
                    self.on_message(list(session), data)
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"502 unknown\r\n")
            await writer.drain()
        writer.close()


def read_mails(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The messages a ``--out`` file holds so far: ``{"commands": [...], "data": str}`` each."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


async def _serve_forever(host: str, port: int, out: Path) -> None:
    def record(commands: list[str], data: bytes) -> None:
        line = json.dumps({"commands": commands, "data": data.decode("utf-8", "surrogateescape")})
        with open(out, "a", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(line + "\n")

    sink = await SmtpSink(host=host, port=port, on_message=record).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    out.touch()  # ready: the port is listening
    await stop.wait()
    await sink.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--out", required=True, type=Path, help="JSON lines file, created when listening")
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args.host, args.port, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
