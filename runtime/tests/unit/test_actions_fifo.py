"""The notify FIFO: keepalived's lines, in order, and a writer that never waits for its reader."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrrpd.actions.fifo import FifoError, NotifyFifo, NotifyFifos
from vrrpd.actions.notify import ScriptRunner


def read_available(path: Path) -> list[str]:
    """Everything buffered in the FIFO right now, without blocking."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode().splitlines()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_lines_come_out_in_order_with_quoted_names(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    fifo = NotifyFifo(str(path))
    try:
        assert fifo.write_instance("VI_1", "BACKUP", 100)
        assert fifo.write_instance("VI_1", "master", 150)
        assert fifo.write_group("G web", "MASTER")
        assert fifo.write_instance("web vip", "MASTER_RX_LOWER_PRI", 150)
        assert fifo.write_instance("VI_1", "STOP", 0)
        assert read_available(path) == ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 150',
                                        'GROUP "G web" MASTER 0', 'INSTANCE "web vip" MASTER_RX_LOWER_PRI 150',
                                        'INSTANCE "VI_1" STOP 0']
        assert fifo.written == 5 and fifo.dropped == 0
    finally:
        fifo.close()


def test_notify_fifo_and_vrrp_notify_fifo_both_get_every_line(tmp_path: Path) -> None:
    both = NotifyFifos([NotifyFifo(str(tmp_path / "notify.fifo")), NotifyFifo(str(tmp_path / "vrrp.fifo"))])
    try:
        assert both.write_instance("VI_1", "BACKUP", 100)
        assert both.write_group("G1", "MASTER")
        for name in ("notify.fifo", "vrrp.fifo"):
            assert read_available(tmp_path / name) == ['INSTANCE "VI_1" BACKUP 100', 'GROUP "G1" MASTER 0']
    finally:
        both.close()
    assert not (tmp_path / "notify.fifo").exists() and not (tmp_path / "vrrp.fifo").exists()
    assert both.write_instance("VI_1", "STOP", 100) is True  # nothing open: nothing to drop


def test_created_fifo_is_0644_and_removed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    old = os.umask(0o077)  # the daemon's umask must not make it unreadable to its readers
    try:
        fifo = NotifyFifo(str(path))
    finally:
        os.umask(old)
    st = os.stat(path)
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644
    fifo.close()
    assert fifo.closed and not path.exists()
    assert fifo.write_instance("VI_1", "MASTER", 100) is False


def test_an_existing_fifo_is_used_and_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    os.mkfifo(path, 0o600)
    fifo = NotifyFifo(str(path))
    assert not fifo.created
    fifo.write_group("G1", "FAULT")
    assert read_available(path) == ['GROUP "G1" FAULT 0']
    fifo.close()
    assert stat.S_ISFIFO(os.stat(path).st_mode)


def test_a_regular_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    path.write_text("not a fifo\n")
    with pytest.raises(FifoError):
        NotifyFifo(str(path))
    assert path.read_text() == "not a fifo\n"
    target = tmp_path / "target"
    os.mkfifo(target)
    link = tmp_path / "link.fifo"
    link.symlink_to(target)
    with pytest.raises(FifoError):
        NotifyFifo(str(link))


def test_writes_without_a_reader_never_block_and_overflow_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "notify.fifo"
    fifo = NotifyFifo(str(path))
    try:
        started = time.monotonic()
        results = [fifo.write_instance(f"VI_{i}", "MASTER", 150) for i in range(10_000)]
        assert time.monotonic() - started < 2.0
        assert fifo.dropped > 0 and fifo.written + fifo.dropped == 10_000
        assert results[0] and not results[-1]
        lines = read_available(path)
        assert lines[:2] == ['INSTANCE "VI_0" MASTER 150', 'INSTANCE "VI_1" MASTER 150']
        assert len(lines) == fifo.written  # whole lines only: nothing torn
        assert fifo.write_instance("VI_after", "BACKUP", 100)  # room again once read
    finally:
        fifo.close()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vrrpd-fifo-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_fifo_script_gets_the_path_last_reads_the_lines_and_is_stopped_on_close(shared_dir: Path) -> None:
    path = shared_dir / "notify.fifo"
    out = shared_dir / "seen"
    script = shared_dir / "reader.sh"
    script.write_text('#!/bin/sh\necho "$$ $*" > "$1.args"\nexec cat "$2" > "$1"\n')
    script.chmod(0o755)

    async def main() -> tuple[str, list[str], int]:
        runner = ScriptRunner()
        fifo = NotifyFifo(str(path), script=(str(script), str(out)), runner=runner)
        args_file = Path(f"{out}.args")
        while not args_file.exists() or not args_file.read_text().strip():
            await asyncio.sleep(0.01)
        fifo.write_instance("VI_1", "BACKUP", 100)
        fifo.write_instance("VI_1", "MASTER", 150)
        deadline = time.monotonic() + 5
        while (out.read_text().count("\n") if out.exists() else 0) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        pid = int(args_file.read_text().split()[0])
        fifo.close()
        deadline = time.monotonic() + 2
        while runner.children:
            assert time.monotonic() < deadline, "fifo script not stopped"
            await asyncio.sleep(0.01)
        await runner.shutdown()
        return args_file.read_text().split(" ", 1)[1].strip(), out.read_text().splitlines(), pid

    args, seen, pid = asyncio.run(main())
    assert args == f"{out} {path}"
    assert seen == ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 150']
    assert not alive(pid)


def test_a_fifo_script_needs_a_runner(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        NotifyFifo(str(tmp_path / "f"), script=("/bin/cat",))
    assert not (tmp_path / "f").exists()
