"""Announcer on a real veth: the GARP and NA frames as the bridge sees them."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address

import pytest
from netlab import Lab, run_in_netns

from vrrpd.io import InterfaceNotFoundError
from vrrpd.io.announce import Announcer

pytestmark = pytest.mark.usefixtures("tcpdump_bin")  # every test reads a bridge capture

VIP4 = IPv4Address("198.51.100.100")
VIP6 = IPv6Address("2001:db8::100")


@pytest.fixture(scope="module")
def io_lab(_netns_support: None) -> Iterator[Lab]:
    """One lab for the whole module (setup is the slow part); conftest's check first."""
    with Lab(2) as io_lab:
        yield io_lab


def test_garp_on_the_wire(io_lab: Lab) -> None:
    from scapy.layers.l2 import ARP, Ether

    node = io_lab.nodes[0]
    mac = node.mac()
    with run_in_netns(node.netns, lambda: Announcer(node.ifname)) as announcer:
        assert announcer.mac == bytes.fromhex(mac.replace(":", ""))
        with io_lab.capture("arp") as cap:
            announcer.send_garp(VIP4)
            (pkt,) = cap.wait_for(lambda p: ARP in p and p[ARP].psrc == str(VIP4), 2.0)
    assert pkt[Ether].dst == "ff:ff:ff:ff:ff:ff"
    assert pkt[Ether].src == mac
    arp = pkt[ARP]
    assert arp.op == 1
    assert (arp.hwsrc, arp.psrc, arp.hwdst, arp.pdst) == (mac, str(VIP4), "ff:ff:ff:ff:ff:ff", str(VIP4))


def test_na_on_the_wire(io_lab: Lab) -> None:
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
    from scapy.layers.l2 import Ether

    node = io_lab.nodes[0]
    mac = node.mac()
    with run_in_netns(node.netns, lambda: Announcer(node.ifname)) as announcer:
        with io_lab.capture("icmp6") as cap:
            # Router flag from the namespace's forwarding sysctl (off in the io_lab).
            run_in_netns(node.netns, lambda: announcer.send_na(VIP6))
            announcer.send(VIP6)  # generic entry point, from the root-namespace thread
            pkts = cap.wait_for(lambda p: ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == str(VIP6), 2.0, count=2)
    for pkt in pkts:
        assert pkt[Ether].src == mac and pkt[Ether].dst == "33:33:00:00:00:01"
        assert pkt[IPv6].src == str(VIP6) and pkt[IPv6].dst == "ff02::1" and pkt[IPv6].hlim == 255
        na = pkt[ICMPv6ND_NA]
        assert (na.R, na.S, na.O) == (0, 0, 1)
        assert pkt[ICMPv6NDOptDstLLAddr].lladdr == mac
        checksum = na.cksum
        del na.cksum
        assert Ether(bytes(pkt))[ICMPv6ND_NA].cksum == checksum


def test_vmac_source_and_missing_interface(io_lab: Lab) -> None:
    from scapy.layers.l2 import ARP, Ether

    node = io_lab.nodes[0]
    vmac = bytes.fromhex("00005e000133")
    with run_in_netns(node.netns, lambda: Announcer(node.ifname, mac=vmac)) as announcer:
        with io_lab.capture("arp") as cap:
            announcer.send(VIP4)
            (pkt,) = cap.wait_for(lambda p: ARP in p, 2.0)
    assert pkt[Ether].src == pkt[ARP].hwsrc == "00:00:5e:00:01:33"
    with pytest.raises(InterfaceNotFoundError, match="nosuchif0"):
        run_in_netns(node.netns, lambda: Announcer("nosuchif0"))
