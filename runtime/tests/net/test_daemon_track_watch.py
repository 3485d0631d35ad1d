"""track_file and vrrp_track_process in namespaces (issue 11 item 1).

A value written to a tracked file moves the priority (seen by ``vrrpctl status
--json`` and in the adverts on the wire) or puts the instance in FAULT; a
tracked process killed loses the quorum and the instance goes to FAULT.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from scapy.layers.inet import IP
from scapy.layers.vrrp import VRRPv3

from netlab import keepalived_conf, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

FAST = {"version": 3, "advert_int": 0.1}
VIP = "198.51.100.100/24"


def _holder(lab: Any) -> set[int]:
    return {n.index for n in lab.nodes if n.has_address(VIP)}


def _write(path: Any, text: str) -> None:
    """Write then rename into place, as an operator's script would (IN_MOVED_TO)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    tmp.rename(path)


def test_track_file_weight_moves_priority_on_the_wire_and_back(make_lab: Any) -> None:
    lab = make_lab(2)
    path = lab.node(1).tmpdir / "prio"
    tracker = f"track_file prio {{\n    file {path}\n    weight -30\n    init_file 0\n}}\n"
    one = VrrpdPeer(lab.node(1), tracker + keepalived_conf(vrrp_instance(
        priority=150, vips=(VIP,), extra="track_file {\n    prio\n}", **FAST))).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    assert path.read_text() == "0\n", "init_file creates the file with its value"
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master")
    cap = lab.capture()
    wait_until(lambda: any(VRRPv3 in p for p in cap.packets()), 3, 0.01, "capture running")
    _write(path, "2\n")      # 2 x -30: 150 - 60 = 90 < 100
    wait_until(lambda: _holder(lab) == {2}, 3, 0.01, "node 2 takes over when node 1 drops to 90")
    status = one.instance()
    assert status["effective_priority"] == 90 and status["state"] == "BACKUP"
    path.write_text("1")     # written in place (IN_CLOSE_WRITE): 150 - 30 = 120 > 100, preempts
    wait_until(lambda: _holder(lab) == {1}, 3, 0.01, "node 1 preempts again at 120")
    assert one.instance()["effective_priority"] == 120
    priorities = [p[VRRPv3].priority for p in cap.stop()
                  if VRRPv3 in p and p[IP].src == lab.node(1).ip4]
    # the master advertises its lowered priority (node 2 preempts on it), then 120 once back
    assert 90 in priorities and priorities[-1] == 120, priorities
    assert priorities.index(90) < priorities.index(120) and set(priorities) <= {150, 90, 120}, priorities
    path.unlink()            # a deleted file counts as 0 (IN_DELETE)
    wait_until(lambda: one.instance()["effective_priority"] == 150, 3, 0.01, "back to 150")


def test_track_file_without_weight_faults(make_lab: Any) -> None:
    lab = make_lab(2)
    path = lab.node(1).tmpdir / "down"
    tracker = f"vrrp_track_file down {{\n    file {path}\n}}\n"
    one = VrrpdPeer(lab.node(1), tracker + keepalived_conf(vrrp_instance(
        priority=150, vips=(VIP,), extra="track_file {\n    down weight 0\n}", **FAST))).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master (no file: value 0)")
    _write(path, "1\n")
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT while the file holds non-zero")
    wait_until(lambda: _holder(lab) == {2}, 2, 0.01, "node 2 takes over")
    assert "file down status 1" in one.instance()["faults"]
    _write(path, "0\n")
    wait_until(lambda: _holder(lab) == {1}, 3, 0.01, "node 1 back when the file holds 0")


def _sleeper(lab: Any, tag: str) -> subprocess.Popen[bytes]:
    """A process with a recognisable command line, in node 1's namespace."""
    return lab.node(1).popen([sys.executable, "-c", "import time; time.sleep(120)", tag])


def test_tracked_process_killed_faults_and_restart_recovers(make_lab: Any) -> None:
    lab = make_lab(2)
    tag = f"vrrpd-test-{lab.prefix}"
    worker = _sleeper(lab, tag)
    try:
        tracker = (f"vrrp_track_process worker {{\n    process {sys.executable} -c "
                   f"\"import time; time.sleep(120)\" {tag}\n}}\n")
        one = VrrpdPeer(lab.node(1), tracker + keepalived_conf(vrrp_instance(
            priority=150, vips=(VIP,), extra="track_process {\n    worker\n}", **FAST))).start()
        VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
        wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master while the process runs")
        worker.kill()
        worker.wait(5)
        wait_until(lambda: one.state() == "FAULT", 3, 0.01, "node 1 in FAULT once the process is gone")
        wait_until(lambda: _holder(lab) == {2}, 2, 0.01, "node 2 takes over")
        assert "process worker quorum lost" in one.instance()["faults"]
        worker = _sleeper(lab, tag)
        wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 back when the process runs again")
    finally:
        worker.kill()
        worker.wait(5)


def test_tracked_process_weight_and_quorum(make_lab: Any) -> None:
    lab = make_lab(1)
    tag = f"vrrpd-quorum-{lab.prefix}"
    workers = [_sleeper(lab, tag) for _worker in range(2)]
    try:
        tracker = (f"vrrp_track_process pool {{\n    process {sys.executable} -c "
                   f"\"import time; time.sleep(120)\" {tag}\n    quorum 2\n    weight -40\n}}\n")
        one = VrrpdPeer(lab.node(1), tracker + keepalived_conf(vrrp_instance(
            priority=150, vips=(VIP,), extra="track_process {\n    pool\n}", **FAST))).start()
        wait_until(lambda: one.state() == "MASTER", 5, 0.01, "master")
        assert one.instance()["effective_priority"] == 150
        workers[0].kill()
        workers[0].wait(5)
        wait_until(lambda: one.instance()["effective_priority"] == 110, 3, 0.01, "one of two: quorum lost, -40")
        assert one.state() == "MASTER"
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(5)
