"""keepalived's dump paths, stats format and ``--signum`` (issue 11 item 8), without a daemon."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vrrpd.actions.dumps import dump_path, stats_text, tmp_dir


@pytest.mark.parametrize("configured,expected", [
    (None, "/tmp/x/keepalived.data"),
    ("/var/run/", "/var/run/keepalived.data"),       # trailing '/': a directory
    ("/var/run/state.txt", "/var/run/state.txt"),     # absolute: the file
    ("state.txt", "/tmp/x/state.txt"),                # relative: a name in TMPDIR
    ("sub/state.txt", "/tmp/x/state.txt"),
])
def test_dump_path_rules(configured: str | None, expected: str) -> None:
    assert dump_path(configured, "keepalived.data", "/tmp/x") == expected


def test_tmp_dir_is_an_absolute_tmpdir_or_tmp() -> None:
    assert tmp_dir({"TMPDIR": "/run/k"}) == "/run/k"
    assert tmp_dir({"TMPDIR": "relative"}) == "/tmp"
    assert tmp_dir({}) == "/tmp"


def test_stats_text_is_keepalived_s() -> None:
    status = {"name": "VI_1", "counters": {"advert_rcvd": 3, "advert_sent": 4, "become_master": 1,
                                           "release_master": 0, "pri_zero_rcvd": 0, "pri_zero_sent": 1,
                                           "rejected": {"ip_ttl_err": 2, "auth_failure": 5}}}
    assert stats_text([status]) == (
        "VRRP Instance: VI_1\n  Advertisements:\n    Received: 3\n    Sent: 4\n  Became master: 1\n"
        "  Released master: 0\n  Packet Errors:\n    Length: 0\n    TTL: 2\n    Invalid Type: 0\n"
        "    Advertisement Interval: 0\n    Address List: 0\n  Authentication Errors:\n    Invalid Type: 0\n"
        "    Type Mismatch: 0\n    Failure: 5\n  Priority Zero:\n    Received: 0\n    Sent: 1\n")


@pytest.mark.parametrize("name,out,code", [("STOP", "15\n", 0), ("RELOAD", "1\n", 0), ("DATA", "10\n", 0),
                                           ("STATS", "12\n", 0), ("STATS_CLEAR", "63\n", 0), ("JSON", "36\n", 0),
                                           ("TDUMP", "", 1)])
def test_signum_prints_keepalived_s_numbers(name: str, out: str, code: int) -> None:
    done = subprocess.run([sys.executable, "-m", "vrrpd.cli", f"--signum={name}"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert (done.stdout, done.returncode) == (out, code)
    if code:
        assert done.stderr == f"Unknown sigfunc {name}\n"
