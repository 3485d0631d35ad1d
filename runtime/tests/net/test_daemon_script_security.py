"""Script security in a running daemon (issue 8, items 1-3): what script security disables never runs,
a link a non-root user controls never makes root run the user's file, and a FIFO standing where a track
script should be never freezes the daemon (a frozen master keeps its VIP while the backup takes it: two
masters)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localuser import LocalUser, local_user
from netlab import assert_holds, keepalived_conf, notify_marker, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

FAST = {"version": 3, "advert_int": 0.1}
VIP = "198.51.100.100/24"


@pytest.fixture
def base() -> Iterator[Path]:
    """Root-owned 0755 in /tmp, so a test user can reach its own directory inside."""
    path = Path(tempfile.mkdtemp(prefix="vrrpd-sec-", dir="/tmp"))
    path.chmod(0o755)
    (path / "out").mkdir()
    (path / "out").chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _counting_script(path: Path, out: Path, status: int = 0) -> Path:
    """A check that appends the uid it ran as to ``out``, then exits with ``status``."""
    path.write_text(f'#!/bin/sh\nid -u >> "{out}"\nexit {status}\n')
    path.chmod(0o755)
    return path


def _runs(out: Path) -> list[str]:
    try:
        return out.read_text().splitlines()
    except FileNotFoundError:
        return []


def _holders(lab: Any) -> set[int]:
    return {n.index for n in lab.nodes if n.has_address(VIP)}


def test_a_track_script_script_security_disables_never_runs(make_lab: Any, base: Path) -> None:
    lab = make_lab(1)
    writable = base / "ww"                      # root's script, in a directory anyone may write to
    writable.mkdir()
    writable.chmod(0o777)
    unsafe_out, safe_out = base / "out" / "unsafe", base / "out" / "safe"
    unsafe = _counting_script(writable / "chk.sh", unsafe_out, status=1)
    safe_dir = base / "safe"
    safe_dir.mkdir(mode=0o755)
    safe = _counting_script(safe_dir / "chk.sh", safe_out)
    scripts = "".join(f'vrrp_script {name} {{\n    script "{path}"\n    interval 0.1\n}}\n'
                      for name, path in (("unsafe", unsafe), ("safe", safe)))
    track = "track_script {\n    unsafe\n    safe\n}"
    peer = VrrpdPeer(lab.node(1), scripts + keepalived_conf(
        vrrp_instance(priority=150, vips=(VIP,), extra=track, **FAST))).start()
    wait_until(lambda: len(_runs(safe_out)) >= 10, 10, 0.02, "the safe track script ran 10 times")
    assert _runs(unsafe_out) == [], "a disabled track script ran"
    # disabled means not tracked either: its failure would have put the instance in FAULT
    wait_until(lambda: peer.state() == "MASTER", 5, 0.02, "MASTER, the disabled script ignored")
    assert "Disabling track script unsafe due to insecure" in peer.log_text()
    assert _runs(unsafe_out) == []


@pytest.fixture
def user() -> Iterator[LocalUser]:
    with local_user() as created:
        yield created


def test_a_link_a_user_re_points_never_runs_their_file_as_root(make_lab: Any, base: Path, user: LocalUser) -> None:
    lab = make_lab(1)
    safe_dir = base / "safe"
    safe_dir.mkdir(mode=0o755)
    ran = base / "out" / "ran"
    safe = _counting_script(safe_dir / "fault.sh", ran)
    home = base / "home"
    home.mkdir(mode=0o755)
    os.chown(home, user.uid, user.gid)
    link = home / "fault"
    user.run(["ln", "-s", str(safe), str(link)])
    evil = home / "evil.sh"
    user.run(["sh", "-c", f"printf '#!/bin/sh\\necho evil-as-$(id -u) >> {ran}\\n' > {evil} && chmod 755 {evil}"])
    witness, witnessed = notify_marker(safe_dir, "witness")   # the generic notify: forked after notify_fault
    peer = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(
        priority=150, vips=(VIP,), notify=witness, extra=f"notify_fault {link}", **FAST))).start()
    wait_until(lambda: "INSTANCE VI_1 MASTER 150" in witnessed(), 5, 0.02, "MASTER notified")
    user.run(["ln", "-sfn", str(evil), str(link)])           # what the user would do once root trusts the link
    lab.link_down(lab.node(1), "eth0", side="switch")
    wait_until(lambda: any(line.startswith("INSTANCE VI_1 FAULT") for line in witnessed()), 5, 0.02,
               "FAULT notified")
    assert_holds(lambda: _runs(ran) == [], 1.0, 0.02, "nothing ran through the user's link")
    assert "Disabling (VI_1) notify_fault script" in peer.log_text()


def test_a_fifo_swapped_in_for_a_track_script_never_freezes_the_master(make_lab: Any, base: Path) -> None:
    lab = make_lab(2)
    safe_dir = base / "safe"
    safe_dir.mkdir(mode=0o755)
    check = _counting_script(safe_dir / "chk.sh", base / "out" / "runs")
    block = f'vrrp_script chk {{\n    script "{check}"\n    interval 0.1\n    weight -60\n}}\n'
    one = VrrpdPeer(lab.node(1), block + keepalived_conf(
        vrrp_instance(priority=150, vips=(VIP,), extra="track_script {\n    chk\n}", **FAST))).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holders(lab) == {1}, 5, 0.01, "node 1 master")
    os.mkfifo(safe_dir / "fifo", 0o755)
    os.rename(safe_dir / "fifo", check)                      # the next run finds a FIFO, not a script
    # the runs now fail (refused): node 1 drops to 90 and hands over, and keeps answering
    wait_until(lambda: _holders(lab) == {2}, 5, 0.01, "node 2 alone holds the VIP")
    assert one.instance()["effective_priority"] == 90 and one.state() == "BACKUP"
    assert_holds(lambda: _holders(lab) == {2}, 1.0, 0.02, "one master")
    assert "not a regular file" in one.log_text()
