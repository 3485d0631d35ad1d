"""What vrrpd puts on the wire, read from a capture on the lab's bridge.

* On becoming MASTER: ``garp_master_repeat`` gratuitous ARPs / unsolicited NAs per
  VIP at once, as many again after ``garp_master_delay``, then
  ``garp_master_refresh_repeat`` every ``garp_master_refresh`` (docs/keepalived-compat.md
  §11: keepalived's frame shapes).
* Its adverts: TTL / hop limit 255, TOS 0xc0 (IPv4), sent to 224.0.0.18 / ff02::12
  from the interface's primary IPv4 / link-local and its real MAC (no VMAC), with a
  checksum scapy recomputes to the same value and the configured interval and
  priority; on SIGTERM a last advert with priority 0.

Timing windows are wide (a burst is expected within 0.4 s of its nominal instant) because
other timing tests share this 2-core machine; the counts inside each window are exact.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from netlab import Lab, Node, keepalived_conf, vrrp_instance, wait_until
from vrrpd.core.timers import master_down_interval
from vrrpd_peer import VrrpdPeer

pytestmark = pytest.mark.usefixtures("tcpdump_bin")

PRIORITY = 150
VRID = 51
VIP4 = "198.51.100.100"
VIPS6 = ("fe80::100", "2001:db8::100")
WINDOW = 0.4


def _vrrp_from(node: Node, family: int) -> Callable[[Any], bool]:
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    def match(pkt: Any) -> bool:
        if Ether not in pkt or pkt[Ether].src != node.mac():
            return False
        if family == 4:
            return IP in pkt and pkt[IP].proto == 112
        return IPv6 in pkt and pkt[IPv6].nh == 112

    return match


def _first_master_advert(pkts: list[Any], node: Node, family: int) -> float:
    """Capture time of the node's first advert: the instant it became MASTER."""
    adverts = [p for p in pkts if _vrrp_from(node, family)(p)]
    assert adverts, "no advert from the node in the capture"
    return float(adverts[0].time)


def _bursts(times: list[float], start: float, nominal: dict[float, int]) -> None:
    """Exactly ``count`` announcements within WINDOW of each ``start + offset``, none elsewhere."""
    rel = sorted(t - start for t in times)
    print("announcements at +" + ", +".join(f"{r:.3f}" for r in rel))
    claimed: list[float] = []
    for offset, count in sorted(nominal.items()):
        inside = [r for r in rel if offset - 0.05 <= r < offset + WINDOW]
        assert len(inside) == count, f"{len(inside)} announcements near +{offset:g} s, want {count}: {rel}"
        claimed += inside
    horizon = max(nominal) + WINDOW
    stray = [r for r in rel if r < horizon and r not in claimed]
    assert not stray, f"announcements outside the expected bursts at {stray} (all: {rel})"


def _checksum_recomputed(pkt: Any, layer: Any, field: str = "chksum") -> None:
    """The frame's checksum equals the one scapy computes for the same bytes."""
    from scapy.layers.l2 import Ether

    sent = getattr(pkt[layer], field)
    copy = Ether(bytes(pkt))
    delattr(copy[layer], field)
    assert getattr(Ether(bytes(copy))[layer], field) == sent, f"checksum {sent:#06x} is not what scapy computes"


def _check_intervals(times: list[float], interval: float) -> None:
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps, "fewer than two adverts"
    gaps.sort()
    median = gaps[len(gaps) // 2]
    assert abs(median - interval) < 0.1 * interval + 0.02, f"median advert gap {median:.3f} s, want {interval} s"


def test_garp_bursts_refresh_and_v2_adverts(make_lab: Callable[..., Lab]) -> None:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import ARP, Ether
    from scapy.layers.vrrp import VRRP

    lab = make_lab(2)
    node = lab.node(1)
    extra = "garp_master_delay 1\ngarp_master_repeat 3\ngarp_master_refresh 2\ngarp_master_refresh_repeat 1"
    conf = keepalived_conf(vrrp_instance(vrid=VRID, priority=PRIORITY, version=2, advert_int=1,
                                         vips=(f"{VIP4}/24",), extra=extra))
    cap = lab.capture()
    peer = VrrpdPeer(node, conf).start()
    node.wait_address(VIP4, master_down_interval(2, PRIORITY, 100) + 2.0)

    def garps() -> list[Any]:
        return [p for p in cap.packets() if ARP in p and p[ARP].psrc == VIP4]

    # 3 now, 3 after 1 s, 1 at +2 s, 1 at +4 s (then one every 2 s).
    wait_until(lambda: len(garps()) >= 8, 8.0, 0.05, "8 gratuitous ARPs")
    peer.signal(signal.SIGTERM)
    assert peer.proc.wait(5) == 0
    pkts = cap.stop()
    start = _first_master_advert(pkts, node, 4)
    found = [p for p in pkts if ARP in p and p[ARP].psrc == VIP4]
    _bursts([float(p.time) for p in found if float(p.time) - start < 4.5], start, {0: 3, 1: 3, 2: 1, 4: 1})
    mac = node.mac()
    for p in found:
        assert p[Ether].src == mac and p[Ether].dst == "ff:ff:ff:ff:ff:ff"
        arp = p[ARP]
        assert (arp.hwtype, arp.ptype, arp.hwlen, arp.plen, arp.op) == (1, 0x0800, 6, 4, 1), "not an ARP request"
        assert (arp.hwsrc, arp.psrc, arp.hwdst, arp.pdst) == (mac, VIP4, "ff:ff:ff:ff:ff:ff", VIP4)

    adverts = [p for p in pkts if _vrrp_from(node, 4)(p)]
    assert len(adverts) >= 5
    *running, last = adverts
    for p in adverts:
        ip = p[IP]
        assert p[Ether].dst == "01:00:5e:00:00:12"
        assert (ip.src, ip.dst, ip.ttl, ip.tos, ip.proto) == (node.ip4, "224.0.0.18", 255, 0xC0, 112)
        assert ip.len == 20 + 20, "one VIP, no options: 20 + 8 + 4 + 8 bytes"
        v = p[VRRP]
        assert (v.version, v.type, v.vrid, v.ipcount, v.authtype, v.adv) == (2, 1, VRID, 1, 0, 1)
        assert v.addrlist == [VIP4]
        assert (v.auth1, v.auth2) == (0, 0)
        _checksum_recomputed(p, VRRP)
    assert all(p[VRRP].priority == PRIORITY for p in running)
    assert last[VRRP].priority == 0, "a stopping MASTER sends priority 0"
    _check_intervals([float(p.time) for p in running], 1.0)
    # Nothing announced after the stop.
    assert not [p for p in found if p.time > last.time]


def test_unsolicited_na_and_v3_ipv6_adverts(make_lab: Callable[..., Lab]) -> None:
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    lab = make_lab(2)
    node = lab.node(1)
    extra = "garp_master_delay 1\ngarp_master_repeat 2"
    conf = keepalived_conf(vrrp_instance(vrid=VRID, priority=PRIORITY, version=3, advert_int=0.5,
                                         vips=tuple(f"{v}/64" for v in VIPS6), extra=extra))
    cap = lab.capture()
    ll = node.link_local()
    peer = VrrpdPeer(node, conf).start()
    node.wait_address(VIPS6[-1], master_down_interval(3, PRIORITY, 50) + 2.0)

    def nas(pkts: list[Any]) -> list[Any]:
        return [p for p in pkts if ICMPv6ND_NA in p and p[Ether].src == node.mac()]

    wait_until(lambda: len(nas(cap.packets())) >= 2 * 2 * len(VIPS6), 5.0, 0.05, "8 unsolicited NAs")
    # Let a stray extra burst show up, if there were one.
    wait_until(lambda: cap.packets() and float(cap.packets()[-1].time) - _first_master_advert(cap.packets(), node, 6)
               > 2.0, 5.0, 0.05, "2 s of capture after becoming MASTER", ignore=(AssertionError,))
    peer.stop()
    pkts = cap.stop()
    start = _first_master_advert(pkts, node, 6)
    found = nas(pkts)
    forwarding = node.sysctl("net.ipv6.conf.eth0.forwarding") != "0"
    for vip in VIPS6:
        mine = [p for p in found if p[ICMPv6ND_NA].tgt == vip]
        _bursts([float(p.time) for p in mine], start, {0: 2, 1: 2})
        assert len(mine) == 4, "no refresh configured: nothing after the delayed burst"
        for p in mine:
            assert p[Ether].dst == "33:33:00:00:00:01"
            ip6 = p[IPv6]
            assert (ip6.src, ip6.dst, ip6.hlim, ip6.nh) == (vip, "ff02::1", 255, 58)
            na = p[ICMPv6ND_NA]
            assert (na.R, na.S, na.O) == (int(forwarding), 0, 1)
            assert p[ICMPv6NDOptDstLLAddr].lladdr == node.mac()
            _checksum_recomputed(p, ICMPv6ND_NA, "cksum")

    adverts = [p for p in pkts if _vrrp_from(node, 6)(p)]
    assert len(adverts) >= 4
    *running, last = adverts
    for p in adverts:
        assert p[Ether].dst == "33:33:00:00:00:12"
        ip6 = p[IPv6]
        assert (ip6.src, ip6.dst, ip6.hlim) == (ll, "ff02::12", 255)
        v = p[VRRPv3]
        assert (v.version, v.type, v.vrid, v.ipcount, v.res, v.adv) == (3, 1, VRID, 2, 0, 50)
        assert v.addrlist == list(VIPS6), "the link-local VIP first"
        _checksum_recomputed(p, VRRPv3)
    assert all(p[VRRPv3].priority == PRIORITY for p in running)
    assert last[VRRPv3].priority == 0
    _check_intervals([float(p.time) for p in running], 0.5)


@pytest.mark.parametrize("checksum_as_v2", [False, True], ids=["pseudo-header", "v3_checksum_as_v2"])
def test_v3_ipv4_adverts(make_lab: Callable[..., Lab], checksum_as_v2: bool) -> None:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    from vrrpd.core.packet import checksum

    lab = make_lab(2)
    node = lab.node(1)
    conf = keepalived_conf(vrrp_instance(vrid=VRID, priority=PRIORITY, version=3, advert_int=0.2,
                                         vips=(f"{VIP4}/24", "198.51.100.101/24"),
                                         extra="v3_checksum_as_v2" if checksum_as_v2 else ""))
    cap = lab.capture("ip proto 112")
    peer = VrrpdPeer(node, conf).start()
    node.wait_address(VIP4, master_down_interval(3, PRIORITY, 20) + 2.0)
    cap.wait_for(_vrrp_from(node, 4), 3.0, "adverts", count=10)
    peer.kill()
    pkts = cap.stop()
    adverts = [p for p in pkts if _vrrp_from(node, 4)(p)]
    for p in adverts:
        ip = p[IP]
        assert (ip.src, ip.dst, ip.ttl, ip.tos) == (node.ip4, "224.0.0.18", 255, 0xC0)
        assert p[Ether].dst == "01:00:5e:00:00:12"
        v = p[VRRPv3]
        assert (v.version, v.type, v.vrid, v.priority, v.ipcount, v.res, v.adv) == (3, 1, VRID, PRIORITY, 2, 0, 20)
        assert v.addrlist == [VIP4, "198.51.100.101"]
        if checksum_as_v2:  # RFC 9568: the VRRP message only, no pseudo-header
            raw = bytes(v)
            assert checksum(raw[:6] + b"\0\0" + raw[8:]) == v.chksum
        else:               # keepalived's default, and scapy's: the IPv4 pseudo-header
            _checksum_recomputed(p, VRRPv3)
    _check_intervals([float(p.time) for p in adverts], 0.2)
