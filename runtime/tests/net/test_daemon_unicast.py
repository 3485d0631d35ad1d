"""vrrpd in unicast mode (``unicast_src_ip`` + ``unicast_peer``), among itself and with keepalived.

keepalived's unicast behaviour (docs/keepalived-compat.md §10, Unicast): one copy of every advert to each
peer, to the peer's address, TTL 255 for IPv4, and for v3/IPv4 a checksum over a
pseudo-header carrying *that* peer's address (keepalived ≥ 1.3.6).  Nothing goes to the
multicast group.  Elections and crash takeovers work as in multicast mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from netlab import KeepalivedPeer, Lab, Node, assert_holds, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

pytestmark = pytest.mark.usefixtures("tcpdump_bin")

FLAVOURS: dict[str, dict[str, Any]] = {
    "v2": {"version": 2, "advert_int": 1, "vips": ("198.51.100.100/24",)},
    "v3-ipv4": {"version": 3, "advert_int": 0.2, "vips": ("198.51.100.100/24",)},
    "v3-ipv6": {"version": 3, "advert_int": 0.2, "vips": ("2001:db8::100/64",)},
}
SLACK = 0.150
PRIORITIES = (150, 100, 50)


def _family(flavour: dict[str, Any]) -> int:
    return 6 if ":" in flavour["vips"][0] else 4


def _addr(node: Node, family: int) -> str:
    return node.ip6 if family == 6 else node.ip4


def _conf(flavour: dict[str, Any], node: Node, peers: list[Node], priority: int) -> str:
    family = _family(flavour)
    lines = [f"unicast_src_ip {_addr(node, family)}", "unicast_peer {"]
    lines += [f"    {_addr(peer, family)}" for peer in peers]
    lines.append("}")
    return keepalived_conf(vrrp_instance(priority=priority, extra="\n".join(lines), **flavour))


def _down(flavour: dict[str, Any], priority: int) -> float:
    return master_down_interval(flavour["version"], priority, round(flavour["advert_int"] * 100))


def _vip(flavour: dict[str, Any]) -> str:
    return str(flavour["vips"][0].split("/")[0])


def _holders(lab: Lab, vip: str) -> set[int]:
    return {node.index for node in lab.nodes if node.has_address(vip)}


def _ip_layer(family: int) -> Any:
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    return IP if family == 4 else IPv6


def _adverts(pkts: list[Any], family: int) -> list[Any]:
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    if family == 4:
        return [p for p in pkts if IP in p and p[IP].proto == 112]
    return [p for p in pkts if IPv6 in p and p[IPv6].nh == 112]


def _check_unicast_adverts(pkts: list[Any], flavour: dict[str, Any], sender: Node, peers: list[Node],
                           priority: int) -> None:
    """Every advert of ``sender`` is one unicast copy per peer; scapy agrees with every checksum."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRP, VRRPv3

    family = _family(flavour)
    ip_layer = IP if family == 4 else IPv6
    vrrp_layer = VRRP if flavour["version"] == 2 else VRRPv3
    mine = [p for p in _adverts(pkts, family) if p[ip_layer].src == _addr(sender, family)]
    assert mine, f"no adverts from {sender}"
    per_peer: dict[str, list[float]] = {_addr(peer, family): [] for peer in peers}
    macs = {_addr(peer, family): peer.mac() for peer in peers}
    for p in mine:
        dst = p[ip_layer].dst
        assert dst in per_peer, f"advert from {sender} to {dst}, which is not a unicast peer"
        assert p[Ether].dst == macs[dst], "unicast advert not addressed to the peer's MAC"
        assert p[Ether].src == sender.mac()
        if family == 4:
            assert (p[IP].ttl, p[IP].tos) == (255, 0xC0)
        else:
            assert p[IPv6].hlim == 255
        v = p[vrrp_layer]
        assert (v.version, v.vrid, v.priority) == (flavour["version"], 51, priority)
        sent = v.chksum
        copy = Ether(bytes(p))
        del copy[vrrp_layer].chksum
        assert Ether(bytes(copy))[vrrp_layer].chksum == sent, f"checksum of the copy to {dst} is not scapy's"
        per_peer[dst].append(float(p.time))
    counts = {dst: len(times) for dst, times in per_peer.items()}
    assert min(counts.values()) >= 3 and max(counts.values()) - min(counts.values()) <= 1, counts
    # The copies of one advert leave together: each copy to the first peer has its twins within 50 ms.
    first, *others = per_peer.values()
    for t in first:
        for times in others:
            assert any(abs(t - u) < 0.05 for u in times) or t in (first[0], first[-1]), f"copy sent alone at {t}"


@pytest.mark.parametrize("name", FLAVOURS)
def test_unicast_election_wire_and_crash_takeover(make_lab: Callable[..., Lab], name: str) -> None:
    flavour = FLAVOURS[name]
    family = _family(flavour)
    lab = make_lab(3)
    vip = _vip(flavour)
    cap = lab.capture("ip proto 112 or ip6 proto 112")
    peers = [VrrpdPeer(node, _conf(flavour, node, [n for n in lab.nodes if n is not node], prio)).start()
             for node, prio in zip(lab.nodes, PRIORITIES)]
    wait_until(lambda: _holders(lab, vip) == {1} and all(p.instance()["master_priority"] == 150 for p in peers[1:]),
               _down(flavour, 150) + 2.0, 0.01, "node 1 MASTER, the others its BACKUPs")
    assert_holds(lambda: _holders(lab, vip) == {1}, 4 * flavour["advert_int"], 0.01, "exactly one VIP holder")
    assert [p.state() for p in peers] == ["MASTER", "BACKUP", "BACKUP"]
    wait_until(lambda: len(_adverts(cap.packets(), family)) >= 10, 8 * flavour["advert_int"] + 2, 0.05,
               "some adverts in the capture")

    peers[0].kill()
    elapsed = lab.node(2).wait_address(vip, _down(flavour, 100) + SLACK)
    print(f"{name}: unicast crash takeover {elapsed:.3f} s (Master_Down {_down(flavour, 100):.3f} s)")
    assert peers[1].state() == "MASTER" and peers[2].state() == "BACKUP"
    assert not lab.node(3).has_address(vip)
    n1, n2, n3 = lab.nodes
    layer = _ip_layer(family)
    wait_until(lambda: sum(1 for p in _adverts(cap.packets(), family) if p[layer].src == _addr(n2, family)) >= 8,
               8 * flavour["advert_int"] + 2, 0.05, "adverts of the new MASTER")
    pkts = cap.stop()

    group = "224.0.0.18" if family == 4 else "ff02::12"
    assert not [p for p in _adverts(pkts, family) if p[layer].dst == group], "an advert went to the multicast group"
    senders = {p[layer].src for p in _adverts(pkts, family)}
    assert senders == {_addr(n1, family), _addr(n2, family)}, f"BACKUPs must stay silent: {senders}"
    _check_unicast_adverts(pkts, flavour, n1, [n2, n3], 150)
    _check_unicast_adverts(pkts, flavour, n2, [n1, n3], 100)  # n1 is dead, but still a peer
    for peer in peers[1:]:
        assert peer.instance()["counters"]["rejected"] == {}, peer.instance()["counters"]


@pytest.mark.parametrize("ours_higher", [True, False], ids=["vrrpd-master", "keepalived-master"])
@pytest.mark.parametrize("name", FLAVOURS)
def test_unicast_with_keepalived(make_lab: Callable[..., Lab], keepalived_bin: str, name: str,
                                 ours_higher: bool) -> None:
    flavour = FLAVOURS[name]
    family = _family(flavour)
    vip = _vip(flavour)
    lab = make_lab(2)
    n1, n2 = lab.nodes
    ours_prio, theirs_prio = (150, 100) if ours_higher else (100, 150)
    cap = lab.capture("ip proto 112 or ip6 proto 112")
    ours = VrrpdPeer(n1, _conf(flavour, n1, [n2], ours_prio)).start()
    theirs = KeepalivedPeer(n2, _conf(flavour, n2, [n1], theirs_prio), binary=keepalived_bin).start()
    winner, loser = (1, 2) if ours_higher else (2, 1)
    wait_until(lambda: _holders(lab, vip) == {winner}, _down(flavour, 150) + 3.0, 0.01, f"node {winner} holds the VIP")
    assert_holds(lambda: _holders(lab, vip) == {winner}, 4 * flavour["advert_int"] + 0.5, 0.01, "one VIP holder")
    assert ours.state() == ("MASTER" if ours_higher else "BACKUP")
    assert theirs.state() == ("BACKUP" if ours_higher else "MASTER")
    if not ours_higher:
        assert ours.instance()["master_priority"] == 150
    assert ours.instance()["counters"]["rejected"] == {}, "vrrpd rejected some of keepalived's adverts"
    assert theirs.packet_errors() == {}, "keepalived counted errors in our adverts"

    (ours.kill if ours_higher else theirs.kill)()
    elapsed = lab.node(loser).wait_address(vip, _down(flavour, 100) + SLACK)
    print(f"{name}: {'keepalived' if ours_higher else 'vrrpd'} took over in {elapsed:.3f} s")
    assert (theirs.state() if ours_higher else ours.state()) == "MASTER"
    layer = _ip_layer(family)
    survivor = _addr(lab.node(loser), family)
    wait_until(lambda: sum(1 for p in _adverts(cap.packets(), family) if p[layer].src == survivor) >= 5,
               8 * flavour["advert_int"] + 2, 0.05, "adverts of the new MASTER")
    pkts = cap.stop()
    group = "224.0.0.18" if family == 4 else "ff02::12"
    assert not [p for p in _adverts(pkts, family) if p[layer].dst == group], "an advert went to the multicast group"
    _check_unicast_adverts(pkts, flavour, n1, [n2], ours_prio)  # vrrpd's, as MASTER before or after the crash
    if not ours_higher:
        assert ours.instance()["counters"]["rejected"] == {}
    assert theirs.rejection_lines() == [], theirs.log_text()
