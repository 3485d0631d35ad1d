"""Addresses and peers (issue 11 item 3) in namespaces.

- ``unicast_peer { IP min_ttl N max_ttl N }``: an advert whose TTL is outside the peer's
  range is dropped and counted as ``ip_ttl_err`` (so that backup takes over), one inside
  is accepted;
- ``unicast_fault_no_peer``: a unicast instance without peers is FAULT, not multicast;
- ``use_vmac NAME MAC`` creates the VMAC with that MAC; ``promote_secondaries`` is set on
  the interface while vrrpd runs and restored after.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from netlab import Lab, Node, assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

VIP = "198.51.100.100"
SLACK = 1.0


def _unicast(node: Node, peer: Node, priority: int, ttl_range: str = "") -> str:
    extra = f"unicast_src_ip {node.ip4}\nunicast_peer {{\n    {peer.ip4} {ttl_range}\n}}"
    return keepalived_conf(vrrp_instance(priority=priority, version=2, extra=extra))


def _ttl_errors(peer: VrrpdPeer) -> int:
    return int(peer.instance()["counters"]["rejected"].get("ip_ttl_err", 0))


def test_unicast_peer_ttl_range(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(2)
    n1, n2 = lab.nodes
    master = VrrpdPeer(n1, _unicast(n1, n2, 200)).start()
    wait_until(lambda: master.state() == "MASTER", master_down_interval(2, 200, 100) + SLACK, 0.05, "node 1 MASTER")
    # adverts arrive with TTL 255: a range that excludes it drops every one of them
    strict = VrrpdPeer(n2, _unicast(n2, n1, 100, "min_ttl 0 max_ttl 254")).start()
    wait_until(lambda: strict.state() == "MASTER" and _ttl_errors(strict) >= 2,
               master_down_interval(2, 100, 100) + SLACK, 0.05, "adverts outside the TTL range dropped and counted")
    assert strict.instance()["counters"]["advert_rcvd"] == 0
    assert strict.stop() == 0
    accepting = VrrpdPeer(n2, _unicast(n2, n1, 100, "min_ttl 250 max_ttl 255")).start()
    assert_holds(lambda: accepting.state() == "BACKUP", master_down_interval(2, 100, 100) + SLACK, 0.1,
                 "TTL 255 is inside 250-255: the master is heard")
    assert _ttl_errors(accepting) == 0 and accepting.instance()["counters"]["advert_rcvd"] >= 2
    assert accepting.stop() == 0 and master.stop() == 0


def test_unicast_fault_no_peer_vmac_mac_promote_secondaries(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(1)
    node = lab.node(1)
    sysctl = "net.ipv4.conf.eth0.promote_secondaries"
    node.sysctl(sysctl, 0)
    no_peer = vrrp_instance("VI_1", priority=100, version=2,
                            extra=f"unicast_src_ip {node.ip4}\nunicast_peer {{\n}}\nunicast_fault_no_peer")
    vmac = vrrp_instance("VI_2", vrid=52, priority=100, version=2, vips=("198.51.100.102/24",),
                         extra="use_vmac vrrp52 02:00:5e:00:aa:52\npromote_secondaries")
    peer = VrrpdPeer(node, keepalived_conf(no_peer, vmac)).start()
    assert peer.state("VI_1") == "FAULT"
    assert peer.instance("VI_1")["fault_reason"] == "no unicast peers"
    assert json.loads(node.run(["ip", "-j", "link", "show", "vrrp52"]).stdout)[0]["address"] == "02:00:5e:00:aa:52"
    assert node.sysctl(sysctl) == "1"
    wait_until(lambda: peer.state("VI_2") == "MASTER", master_down_interval(2, 100, 100) + SLACK, 0.05, "VI_2 MASTER")
    assert peer.state("VI_1") == "FAULT", "no peer ever: FAULT, never a multicast MASTER"
    assert not node.has_address(VIP)
    assert peer.stop() == 0
    assert node.sysctl(sysctl) == "0", "the value found at start is restored at stop"
