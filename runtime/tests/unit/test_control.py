"""The control socket under hostile clients and careless hosts (issue 8, item 9).

Real Unix sockets in pytest's temporary directory, real child processes: a
request nested too deeply is answered with an error (the server keeps
serving), the socket's mode is set without changing the process-wide umask
(a child forked while the socket is being created keeps the daemon's umask),
and a state directory another user could write to is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vrrpd.control import MAX_DEPTH, MAX_REQUEST, ControlServer, UnsafeStateDir, nesting_depth, request

DATA = Path(__file__).resolve().parent.parent / "data" / "configs"


async def _status(_request: dict[str, Any]) -> dict[str, Any]:
    return {"answer": 42}


def _private_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    return directory


def _raw_exchange(path: str, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send ``payload`` as is; return everything the server answers until it hangs up or a line ends."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and hang up before reading it all: its answer is still queued
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def _serving(path: str, client: Callable[[], Any]) -> Any:
    """Run a ControlServer on ``path`` while ``client`` (blocking) runs in a thread; return its result."""
    async def main() -> Any:
        server = ControlServer(path, {"status": _status})
        await server.start()
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, client), 30)
        finally:
            await server.close()
    return asyncio.run(main())


# ---- request bounds --------------------------------------------------------------------------


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_request_is_answered_with_an_error_and_the_server_keeps_serving(
        tmp_path: Path, opening: str) -> None:
    path = str(_private_dir(tmp_path) / "vrrpd.sock")
    closing = "]" if opening == "[" else "}"
    depth = (MAX_REQUEST - 10) // (len(opening) + 1)   # inside the size bound: only the depth is hostile
    hostile = (opening * depth + "1" + closing * depth).encode() + b"\n"
    assert len(hostile) <= MAX_REQUEST

    def client() -> tuple[bytes, dict[str, Any]]:
        answer = _raw_exchange(path, hostile)
        return answer, request(path, "status")

    answer, after = _serving(path, client)
    assert answer, "the server hung up without answering (RecursionError escaped the handler)"
    reply = json.loads(answer)
    assert reply["ok"] is False and "nested" in reply["error"], reply
    assert after == {"ok": True, "answer": 42}


def test_oversized_request_is_answered_with_an_error(tmp_path: Path) -> None:
    path = str(_private_dir(tmp_path) / "vrrpd.sock")

    def client() -> tuple[bytes, dict[str, Any]]:
        return _raw_exchange(path, b" " * (MAX_REQUEST * 2) + b"\n"), request(path, "status")

    answer, after = _serving(path, client)
    reply = json.loads(answer)
    assert reply["ok"] is False and "longer" in reply["error"], reply
    assert after["ok"] is True


def test_nesting_depth_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b'{"command": "status", "x": "[[[[{{{{"}') == 1
    assert nesting_depth(b'{"a": "\\"[[[", "b": [[1]]}') == 3
    assert nesting_depth(b"[" * (MAX_DEPTH + 1)) == MAX_DEPTH + 1


@pytest.mark.parametrize("line", [b"[]", b'"status"', b"42", b"null", b'{"command": ["status"]}', b"\xff\xfe"])
def test_well_formed_but_wrong_requests_get_the_command_list(tmp_path: Path, line: bytes) -> None:
    path = str(_private_dir(tmp_path) / "vrrpd.sock")
    reply = json.loads(_serving(path, lambda: _raw_exchange(path, line + b"\n")))
    assert reply == {"ok": False, "error": "bad request; commands: status"}


# ---- socket mode without the umask --------------------------------------------------------------

UMASK_CHILD = "import os; print(oct(os.umask(0)))"


def test_socket_creation_leaves_the_process_umask_alone(tmp_path: Path) -> None:
    """A child forked by another task while the socket is being set up keeps the daemon's umask.

    The child is forked by a task scheduled just before ``start()``: it runs at the
    first point where ``start()`` yields to the loop, i.e. while the socket is being
    created. With a umask-based implementation the child reports 0o177.
    """
    path = str(_private_dir(tmp_path) / "vrrpd.sock")

    async def spawn() -> str:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", UMASK_CHILD,
                                                    stdout=asyncio.subprocess.PIPE)
        out, _err = await asyncio.wait_for(proc.communicate(), 30)
        return out.decode().strip()

    async def main() -> tuple[list[str], int, str]:
        server = ControlServer(path, {"status": _status})
        children = [asyncio.ensure_future(spawn()) for _child in range(3)]
        await server.start()
        during = os.umask(0o022)
        os.umask(during)
        try:
            return list(await asyncio.gather(*children)), during, oct(stat.S_IMODE(os.stat(path).st_mode))
        finally:
            await server.close()

    previous = os.umask(0o022)
    try:
        umasks, after_start, mode = asyncio.run(main())
    finally:
        os.umask(previous)
    assert umasks == ["0o22"] * 3, f"children forked during start() saw umask {umasks}"
    assert after_start == 0o022
    assert mode == "0o600"


def test_socket_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = str(_private_dir(tmp_path) / "vrrpd.sock")
    previous = os.umask(0)
    try:
        modes = _serving(path, lambda: stat.S_IMODE(os.stat(path).st_mode))
    finally:
        os.umask(previous)
    assert modes == 0o600


# ---- the state directory ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o1777])
def test_state_directory_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    directory = _private_dir(tmp_path)
    directory.chmod(mode)

    async def main() -> None:
        await ControlServer(str(directory / "vrrpd.sock"), {}).start()

    with pytest.raises(UnsafeStateDir, match="writable by group or others"):
        asyncio.run(main())
    assert not (directory / "vrrpd.sock").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_state_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    directory = _private_dir(tmp_path)
    os.chown(directory, 65534, 65534)

    async def main() -> None:
        await ControlServer(str(directory / "vrrpd.sock"), {}).start()

    with pytest.raises(UnsafeStateDir, match="owned by uid 65534"):
        asyncio.run(main())


def test_missing_state_directory_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "run" / "vrrpd" / "vrrpd.sock"
    previous = os.umask(0)
    try:
        _serving(str(path), lambda: None)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755


def test_daemon_refuses_an_unsafe_state_directory_before_starting(tmp_path: Path) -> None:
    """``vrrpd`` exits non-zero naming the directory, before it touches any interface.

    The interface does not exist: a daemon that went on past the state directory
    fails there instead, with another message (and never touches the host's links).
    """
    directory = _private_dir(tmp_path)
    directory.chmod(0o777)
    conf = tmp_path / "vrrpd.conf"
    conf.write_text("vrrp_instance VI_1 {\n interface vtnone0\n virtual_router_id 51\n"
                    " virtual_ipaddress {\n  198.51.100.10/24\n }\n}\n")
    result = subprocess.run([sys.executable, "-m", "vrrpd.cli", "-f", str(conf), "-l",
                             "--control-socket", str(directory / "vrrpd.sock")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert f"state directory {directory} is writable by group or others" in result.stderr
    assert "started with" not in result.stderr
