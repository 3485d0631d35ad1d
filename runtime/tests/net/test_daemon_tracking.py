"""Trackers move mastership: track_script and track_interface with a weight change the priority,
without one they cause FAULT (priority 0, so the peer takes over after Skew_Time); a sync group
moves together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netlab import keepalived_conf, notify_marker, vrrp_instance, wait_until
from vrrpd_peer import VrrpdPeer

FAST = {"version": 3, "advert_int": 0.1}
VIP = "198.51.100.100/24"


def _check_script(directory: Path) -> tuple[Path, Path]:
    """A check that fails while a marker file exists."""
    marker = directory / "fail"
    script = directory / "check.sh"
    script.write_text(f"#!/bin/sh\ntest ! -e {marker}\n")
    script.chmod(0o755)
    return script, marker


def _script_block(script: Path, weight: int | None) -> str:
    weight_line = f"    weight {weight}\n" if weight is not None else ""
    return f'vrrp_script chk {{\n    script "{script}"\n    interval 0.1\n{weight_line}}}\n'


def _holder(lab: Any, vip: str = VIP) -> set[int]:
    return {n.index for n in lab.nodes if n.has_address(vip)}


def test_track_script_weight_moves_mastership_and_back(make_lab: Any) -> None:
    lab = make_lab(2)
    script, marker = _check_script(lab.node(1).tmpdir)
    conf1 = _script_block(script, -60) + keepalived_conf(
        vrrp_instance(priority=150, vips=(VIP,), extra="track_script {\n    chk\n}", **FAST))
    one = VrrpdPeer(lab.node(1), conf1).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master")
    marker.touch()
    wait_until(lambda: _holder(lab) == {2}, 3, 0.01, "node 2 takes over when node 1's priority drops to 90")
    assert one.instance()["effective_priority"] == 90 and one.state() == "BACKUP"
    marker.unlink()
    wait_until(lambda: _holder(lab) == {1}, 3, 0.01, "node 1 preempts again at 150")
    assert one.instance()["effective_priority"] == 150


def test_track_script_without_weight_faults(make_lab: Any) -> None:
    lab = make_lab(2)
    script, marker = _check_script(lab.node(1).tmpdir)
    conf1 = _script_block(script, None) + keepalived_conf(
        vrrp_instance(priority=150, vips=(VIP,), extra="track_script {\n    chk\n}", **FAST))
    one = VrrpdPeer(lab.node(1), conf1).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master")
    marker.touch()
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT")
    wait_until(lambda: _holder(lab) == {2}, 1, 0.01, "node 2 takes over")
    assert one.instance()["counters"]["pri_zero_sent"] == 1
    assert "script chk failed" in one.instance()["faults"]
    marker.unlink()
    wait_until(lambda: _holder(lab) == {1}, 3, 0.01, "node 1 back")


def test_track_interface_fault_and_weight(make_lab: Any) -> None:
    lab = make_lab(2, segments=2)
    tracked = "track_interface {\n    eth1\n}"
    one = VrrpdPeer(lab.node(1), keepalived_conf(
        vrrp_instance(priority=150, vips=(VIP,), extra=tracked, **FAST))).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master")
    lab.link_down(lab.node(1), "eth1")
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT when eth1 goes down")
    wait_until(lambda: _holder(lab) == {2}, 1, 0.01, "node 2 takes over")
    lab.link_up(lab.node(1), "eth1")
    wait_until(lambda: _holder(lab) == {1}, 3, 0.01, "node 1 back when eth1 comes up")

    weighted = "track_interface {\n    eth1 weight -60\n}"
    assert one.reload(keepalived_conf(vrrp_instance(priority=150, vips=(VIP,), extra=weighted, **FAST)))["reloaded"]
    lab.link_down(lab.node(1), "eth1")
    wait_until(lambda: _holder(lab) == {2}, 3, 0.01, "node 2 takes over at weight -60")
    assert one.state() == "BACKUP" and one.instance()["effective_priority"] == 90


def test_own_interface_down_faults(make_lab: Any) -> None:
    lab = make_lab(2)
    one = VrrpdPeer(lab.node(1), keepalived_conf(vrrp_instance(priority=150, vips=(VIP,), **FAST))).start()
    VrrpdPeer(lab.node(2), keepalived_conf(vrrp_instance(priority=100, vips=(VIP,), **FAST))).start()
    wait_until(lambda: _holder(lab) == {1}, 5, 0.01, "node 1 master")
    lab.link_down(lab.node(1), "eth0", side="switch")
    wait_until(lambda: one.state() == "FAULT", 2, 0.01, "node 1 in FAULT when its cable is pulled")
    lab.node(2).wait_address(VIP, 1.0)


def test_sync_group_moves_together(make_lab: Any) -> None:
    lab = make_lab(2, segments=2)
    vip2 = "203.0.113.100/24"

    script, read_lines = notify_marker(lab.node(1).tmpdir, "group")

    def conf(priority: int) -> str:
        notify = f'    notify "{script}"\n' if priority == 150 else ""  # node 1 only: one log
        return keepalived_conf(
            vrrp_instance("VI_1", priority=priority, vips=(VIP,), **FAST),
            vrrp_instance("VI_2", interface="eth1", vrid=52, priority=priority, vips=(vip2,), **FAST),
            f'vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n{notify}}}\n')

    one = VrrpdPeer(lab.node(1), conf(150)).start()
    two = VrrpdPeer(lab.node(2), conf(100)).start()
    wait_until(lambda: _holder(lab) == {1} and _holder(lab, vip2) == {1}, 5, 0.01, "node 1 master of both")
    # only VI_2's link breaks, but VI_1 follows it into FAULT, and node 2 takes both
    lab.link_down(lab.node(1), "eth1")
    wait_until(lambda: one.state("VI_1") == "FAULT" and one.state("VI_2") == "FAULT", 2, 0.01, "group FAULT")
    wait_until(lambda: _holder(lab) == {2}, 2, 0.01, "node 2 takes VI_1 too")
    wait_until(lambda: two.state("VI_2") == "MASTER", 2, 0.01, "node 2 master of VI_2")
    lab.link_up(lab.node(1), "eth1")
    wait_until(lambda: _holder(lab) == {1} and _holder(lab, vip2) == {1}, 5, 0.01, "node 1 master of both again")
    # the group's generic notify runs once per group state, with priority 0
    wait_until(lambda: read_lines()[-1:] == ["GROUP G1 MASTER 0"], 2, 0.01, "group notify MASTER")
    assert read_lines() == ["GROUP G1 BACKUP 0", "GROUP G1 MASTER 0", "GROUP G1 FAULT 0", "GROUP G1 BACKUP 0",
                            "GROUP G1 MASTER 0"]
