"""track_file and vrrp_track_process: keepalived's folding rules, file parsing, process matching,
and the watchers themselves on the real kernel (inotify, the proc connector) with no network."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vrrpd.config.model import TrackFile, TrackProcess
from vrrpd.core.tracking import Effect, file_effect, in_quorum, process_effect
from vrrpd.track.files import FileTracker, parse_value
from vrrpd.track.processes import ProcConnector, ProcessTracker, matches


@pytest.mark.parametrize("value,weight,reverse,effect", [
    (0, 0, False, Effect(False)), (3, 0, False, Effect(True)),          # unweighted: non-zero is FAULT
    (0, 0, True, Effect(True)), (3, 0, True, Effect(False)),            # reverse: zero is FAULT
    (2, 5, False, Effect(False, 10)), (2, 5, True, Effect(False, -10)),
    (100, 5, False, Effect(False, 253)),                                # capped at 253
    (-127, 2, False, Effect(True)), (-126, 2, False, Effect(False, -252)),  # <= -254 is FAULT
    (1, -254, False, Effect(True)),
])
def test_file_effect_table(value: int, weight: int, reverse: bool, effect: Effect) -> None:
    assert file_effect(value, weight, reverse) == effect


@pytest.mark.parametrize("quorum,weight,reverse,effect", [
    (True, 0, False, Effect(False)), (False, 0, False, Effect(True)),
    (True, 0, True, Effect(True)), (False, 0, True, Effect(False)),
    (True, 20, False, Effect(False, 20)), (False, 20, False, Effect(False, 0)),
    (True, -20, False, Effect(False, 0)), (False, -20, False, Effect(False, -20)),
    (True, 20, True, Effect(False, -20)), (False, -20, True, Effect(False, 20)),
])
def test_process_effect_table(quorum: bool, weight: int, reverse: bool, effect: Effect) -> None:
    assert process_effect(quorum, weight, reverse) == effect


def test_quorum_bounds() -> None:
    assert in_quorum(1, 1, 2**32 - 1) and not in_quorum(0, 1, 2**32 - 1)
    assert in_quorum(0, 0, 0) and not in_quorum(1, 0, 0)          # quorum_max 0: none may run
    assert not in_quorum(4, 2, 3)


@pytest.mark.parametrize("text,value", [("12\n", 12), (" -3abc", -3), ("0x1f", 31), ("017", 15), ("", 0),
                                        ("junk", 0), ("+5", 5), ("99999999999", None)])
def test_file_content_is_read_like_strtol(text: str, value: int | None) -> None:
    assert parse_value(text) == value


def _proc(process: str, params: tuple[str, ...] = (), match: str = "none", full: bool = False) -> TrackProcess:
    return TrackProcess("p", process, params, match, full)  # type: ignore[arg-type]


def test_process_matching() -> None:
    cmd = b"/usr/bin/python3\0-m\0http.server\0"
    assert matches(_proc("python3"), "python3", cmd)
    assert not matches(_proc("/usr/bin/python3"), "python3", cmd)             # comm without full_command
    assert matches(_proc("/usr/bin/python3", full=True), "python3", cmd)
    assert matches(_proc("/usr/bin/python3", ("-m", "http.server"), "exact", True), "x", cmd)
    assert not matches(_proc("/usr/bin/python3", ("-m",), "exact", True), "x", cmd)
    assert matches(_proc("/usr/bin/python3", ("-m",), "partial", True), "x", cmd)
    assert matches(_proc("/usr/bin/python3", ("-m", "http"), "initial", True), "x", cmd)
    assert not matches(_proc("/usr/bin/python3", ("-m", "ftp"), "initial", True), "x", cmd)


def test_file_tracker_follows_writes_renames_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "state"
    track = TrackFile("f", str(path), init=True, init_value=7)
    changes: list[int | None] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        tracker = FileTracker([track], lambda: changes.append(tracker.value("f")), at_start=True)
        tracker.start(loop)
        try:
            assert path.read_text() == "7\n" and tracker.value("f") == 7
            (tmp_path / "n").write_text("-2")
            for step in (lambda: path.write_text("3"), lambda: (tmp_path / "n").rename(path), path.unlink):
                before = len(changes)
                step()
                deadline = loop.time() + 5
                while len(changes) == before and loop.time() < deadline:
                    await asyncio.sleep(0.01)
        finally:
            tracker.stop(loop)

    asyncio.run(scenario())
    assert changes == [3, -2, 0]


def test_init_file_overwrite_only_at_start(tmp_path: Path) -> None:
    path = tmp_path / "state"
    path.write_text("5\n")
    track = TrackFile("f", str(path), init=True, init_value=1, init_overwrite=True)
    FileTracker([track], lambda: None, at_start=False)
    assert path.read_text() == "5\n", "a reload never overwrites"
    FileTracker([track], lambda: None, at_start=True)
    assert path.read_text() == "1\n"
    FileTracker([TrackFile("g", str(path), init=True, init_value=9)], lambda: None, at_start=True)
    assert path.read_text() == "1\n", "without overwrite an existing file is kept"


def test_process_tracker_follows_the_proc_connector() -> None:
    pytest.importorskip("pyroute2.netlink.connector.cn_proc", reason="pyroute2 before 0.9: /proc scans")
    try:
        ProcConnector().close()
    except OSError as exc:
        pytest.skip(f"the proc connector needs root in the initial network namespace: {exc}")
    tag = f"vrrpd-unit-{os.getpid()}-{time.monotonic_ns()}"
    argv = [sys.executable, "-c", "import time; time.sleep(60)", tag]
    track = TrackProcess("p", sys.executable, tuple(argv[1:]), "exact", True)
    seen: list[bool | None] = []

    async def scenario() -> str:
        loop = asyncio.get_running_loop()
        tracker = ProcessTracker([track], lambda: seen.append(tracker.have_quorum("p")))
        tracker.start(loop)
        child = subprocess.Popen(argv)
        try:
            for want in (True, False):
                deadline = loop.time() + 5
                while tracker.have_quorum("p") is not want and loop.time() < deadline:
                    await asyncio.sleep(0.01)
                if want:
                    child.kill()
                    child.wait(5)
        finally:
            child.kill()
            child.wait(5)
            tracker.stop(loop)
        return tracker.mode

    mode = asyncio.run(scenario())
    assert mode == "connector"
    assert seen == [True, False]
