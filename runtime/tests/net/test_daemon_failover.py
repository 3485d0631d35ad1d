"""vrrpd on real namespaces: election, crash and graceful takeover, preemption, nopreempt.

Each bound is the protocol's own (Master_Down_Interval or Skew_Time of the
node that takes over) plus 150 ms, measured from the instant the master is
killed or told to stop, by polling the kernel's addresses every 10 ms.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from netlab import assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval, skew_time
from vrrpd_peer import VrrpdPeer

FLAVOURS: dict[str, dict[str, Any]] = {
    "v2": {"version": 2, "advert_int": 1, "vips": ("198.51.100.100/24",)},
    "v3-ipv4": {"version": 3, "advert_int": 0.1, "vips": ("198.51.100.100/24",)},
    "v3-ipv6": {"version": 3, "advert_int": 0.1, "vips": ("fe80::100/64", "2001:db8::100/64")},
}
SLACK = 0.150


def _vip(flavour: dict[str, Any]) -> str:
    return str(flavour["vips"][-1].split("/")[0])


def _down(flavour: dict[str, Any], priority: int) -> float:
    return master_down_interval(flavour["version"], priority, round(flavour["advert_int"] * 100))


def _skew(flavour: dict[str, Any], priority: int) -> float:
    return skew_time(flavour["version"], priority, round(flavour["advert_int"] * 100))


def _start(lab: Any, flavour: dict[str, Any], priorities: tuple[int, ...], **extra: str) -> list[VrrpdPeer]:
    peers = []
    for node, priority in zip(lab.nodes, priorities):
        conf = keepalived_conf(vrrp_instance(priority=priority, extra=extra.get(node.name, ""), **flavour))
        peers.append(VrrpdPeer(node, conf).start())
    return peers


def _converged(lab: Any, vip: str, peers: list[VrrpdPeer], master_priority: int) -> bool:
    """Node 1 alone holds the VIP and every backup has heard it (so it will hear its priority 0 too)."""
    return _holders(lab, vip) == {1} and all(p.instance()["master_priority"] == master_priority for p in peers[1:])


def _holders(lab: Any, vip: str) -> set[int]:
    return {node.index for node in lab.nodes if node.has_address(vip)}


@pytest.mark.parametrize("name", FLAVOURS)
def test_three_nodes_crash_and_graceful_takeover(make_lab: Any, name: str) -> None:
    flavour = FLAVOURS[name]
    lab = make_lab(3)
    vip = _vip(flavour)
    peers = _start(lab, flavour, (150, 100, 50))
    wait_until(lambda: _converged(lab, vip, peers, 150), _down(flavour, 150) + 2.0, 0.01, "node 1 master, others backup")
    assert_holds(lambda: _holders(lab, vip) == {1}, 3 * flavour["advert_int"], 0.01, "exactly one VIP holder")
    assert [p.state() for p in peers] == ["MASTER", "BACKUP", "BACKUP"]

    # kill -9: node 2 takes over within its Master_Down_Interval (+150 ms); node 1 keeps a stale VIP.
    peers[0].kill()
    elapsed = lab.node(2).wait_address(vip, _down(flavour, 100) + SLACK)
    assert peers[1].state() == "MASTER"
    assert not lab.node(3).has_address(vip)
    print(f"{name}: crash takeover {elapsed:.3f} s (Master_Down {_down(flavour, 100):.3f} s)")

    # SIGTERM of the new master: priority 0, node 3 takes over after Skew_Time (+150 ms).
    peers[1].signal(signal.SIGTERM)
    elapsed = lab.node(3).wait_address(vip, _skew(flavour, 50) + SLACK)
    assert peers[1].proc.wait(5) == 0
    assert not lab.node(2).has_address(vip), "a stopped vrrpd must release its VIPs"
    print(f"{name}: graceful takeover {elapsed:.3f} s (Skew_Time {_skew(flavour, 50):.3f} s)")


@pytest.mark.parametrize("name", ["v2", "v3-ipv6"])
def test_restarted_higher_priority_node_preempts(make_lab: Any, name: str) -> None:
    flavour = FLAVOURS[name]
    lab = make_lab(2)
    vip = _vip(flavour)
    peers = _start(lab, flavour, (150, 100))
    wait_until(lambda: _converged(lab, vip, peers, 150), _down(flavour, 150) + 2.0, 0.01, "node 1 master, 2 backup")
    peers[0].stop()
    lab.node(2).wait_address(vip, _skew(flavour, 100) + SLACK)
    assert not lab.node(1).has_address(vip)
    peers[0].start()
    # node 1 waits its own Master_Down (it discards node 2's lower adverts), then preempts.
    wait_until(lambda: _holders(lab, vip) == {1}, _down(flavour, 150) + 0.5, 0.01, "node 1 preempts")
    assert peers[1].state() == "BACKUP"


def test_nopreempt_keeps_the_current_master(make_lab: Any) -> None:
    flavour = FLAVOURS["v3-ipv4"]
    lab = make_lab(2)
    vip = _vip(flavour)
    node1 = lab.node(1).name
    peers = _start(lab, flavour, (150, 100), **{node1: "nopreempt"})
    wait_until(lambda: _converged(lab, vip, peers, 150), _down(flavour, 150) + 2.0, 0.01, "node 1 master, 2 backup")
    peers[0].stop()
    lab.node(2).wait_address(vip, _skew(flavour, 100) + SLACK)
    peers[0].start()
    assert_holds(lambda: _holders(lab, vip) == {2}, 5 * _down(flavour, 150), 0.01, "nopreempt: node 2 stays master")
    assert peers[0].state() == "BACKUP"
    assert peers[0].instance()["master_priority"] == 100


def test_namespace_flag_runs_the_daemon_inside_a_named_namespace(make_lab: Any, tmp_path: Any) -> None:
    """`vrrpd -s NAME`, started from the root namespace, works entirely inside NAME (keepalived's -s)."""
    import subprocess
    import sys

    from vrrpd.control import request

    lab = make_lab(1)
    node = lab.node(1)
    conf = tmp_path / "vrrpd.conf"
    conf.write_text(keepalived_conf(vrrp_instance(priority=255, state="MASTER", **FLAVOURS["v3-ipv4"])))
    sock = str(tmp_path / "vrrpd.sock")
    proc = subprocess.Popen([sys.executable, "-m", "vrrpd.cli", "-f", str(conf), "-s", node.netns,
                             "--control-socket", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        node.wait_address("198.51.100.100", 5.0)
        assert request(sock, "status")["instances"]["VI_1"]["state"] == "MASTER"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert not node.has_address("198.51.100.100")
