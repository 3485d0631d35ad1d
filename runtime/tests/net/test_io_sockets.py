"""VrrpSocket on real kernel networking: two namespaces on one bridge.

Sockets are created inside the node namespaces by a helper thread
(``run_in_netns``) and then used from the test thread: a socket keeps the
namespace it was made in, so the test process itself stays in the root one.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import pytest
from netlab import Lab, Node, run_in_netns, wait_until

from vrrpd.core import packet
from vrrpd.io import InterfaceNotFoundError
from vrrpd.io.sockets import NoSourceAddressError, Received, VrrpSocket

G4 = packet.MCAST_GROUP4
G6 = packet.MCAST_GROUP6
VIP4 = IPv4Address("198.51.100.100")
VIP6 = IPv6Address("fe80::100")


@pytest.fixture(scope="module")
def io_lab(_netns_support: None) -> Iterator[Lab]:
    """One lab for the whole module (setup is the slow part); conftest's check first."""
    with Lab(2) as io_lab:
        yield io_lab


def in_ns(node: Node, fn: Callable[[], Any]) -> Any:
    return run_in_netns(node.netns, fn)


def make(node: Node, family: int, **kwargs: Any) -> VrrpSocket:
    group = kwargs.pop("group", G4 if family == socket.AF_INET else G6)
    return in_ns(node, lambda: VrrpSocket(family, node.ifname, group=group, **kwargs))


def receive(
    sock: VrrpSocket, timeout: float = 2.0, match: Callable[[Received], bool] = lambda r: True
) -> Received:
    got: list[Received] = []

    def poll() -> bool:
        while (pkt := sock.recv()) is not None:
            if match(pkt):
                got.append(pkt)
        return bool(got)

    wait_until(poll, timeout, 0.005, f"a packet on {sock!r}")
    return got[0]


def advert4(src: IPv4Address, dst: IPv4Address, vrid: int = 51) -> bytes:
    adv = packet.Advert(version=3, vrid=vrid, priority=100, interval_cs=100, addresses=(VIP4,))
    return packet.encode(adv, src=src, dst=dst)


def advert6(src: IPv6Address, dst: IPv6Address, vrid: int = 51) -> bytes:
    adv = packet.Advert(version=3, vrid=vrid, priority=100, interval_cs=100, addresses=(VIP6,))
    return packet.encode(adv, src=src, dst=dst)


@pytest.mark.usefixtures("tcpdump_bin")
def test_ipv4_multicast_roundtrip_and_wire_shape(io_lab: Lab) -> None:
    a, b = io_lab.nodes
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRPv3

    with make(a, socket.AF_INET) as sa, make(b, socket.AF_INET) as sb:
        src = sa.source_address()
        assert src == IPv4Address(a.ip4)  # the interface's primary address
        payload = advert4(src, G4)
        with io_lab.capture("ip proto 112") as cap:
            sa.send(payload, G4)
            got = receive(sb)
            pkts = cap.wait_for(lambda p: IP in p and p[IP].src == a.ip4, 2.0)
        assert got.src == IPv4Address(a.ip4)
        assert got.dst == G4
        assert got.ttl == 255
        assert got.payload == payload
        assert got.ifindex == in_ns(b, lambda: socket.if_nametoindex(b.ifname))
        adv = packet.decode(got.payload, src=got.src, dst=got.dst, ttl=got.ttl)
        assert adv.vrid == 51 and adv.addresses == (VIP4,)

        wire = pkts[0]
        assert wire[Ether].src == a.mac()
        assert wire[Ether].dst == "01:00:5e:00:00:12"
        ip = wire[IP]
        assert ip.tos == 0xC0
        assert ip.ttl == 255
        assert ip.proto == 112
        assert ip.dst == "224.0.0.18"
        assert not ip.flags.DF  # like keepalived's hand-built header
        assert ip.id != 0
        sent_checksum = ip[VRRPv3].chksum
        del ip[VRRPv3].chksum  # scapy recomputes it with the IPv4 pseudo-header (keepalived's form)
        assert IP(bytes(ip))[VRRPv3].chksum == sent_checksum

        # Multicast loop is off: the sender never reads its own advert.
        assert sa.recv() is None


@pytest.mark.usefixtures("tcpdump_bin")
def test_ipv6_multicast_roundtrip_and_wire_shape(io_lab: Lab) -> None:
    a, b = io_lab.nodes
    from scapy.layers.inet6 import IPv6
    from scapy.layers.vrrp import VRRPv3

    with make(a, socket.AF_INET6) as sa, make(b, socket.AF_INET6) as sb:
        src = in_ns(a, sa.source_address)
        assert src == IPv6Address(a.link_local())
        payload = advert6(src, G6)
        with io_lab.capture("ip6 proto 112") as cap:
            sa.send(payload, G6, src=src)
            got = receive(sb)
            pkts = cap.wait_for(lambda p: IPv6 in p and p[IPv6].src == str(src), 2.0)
        assert got.src == src
        assert got.dst == G6
        assert got.ttl == 255
        assert got.payload == payload
        adv = packet.decode(got.payload, src=got.src, dst=got.dst, ttl=got.ttl)
        assert adv.addresses == (VIP6,)

        ip6 = pkts[0][IPv6]
        assert ip6.hlim == 255
        assert ip6.nh == 112
        assert ip6.dst == "ff02::12"
        sent_checksum = ip6[VRRPv3].chksum
        del ip6[VRRPv3].chksum
        assert IPv6(bytes(ip6))[VRRPv3].chksum == sent_checksum  # kernel left ours alone
        assert sa.recv() is None


def test_ipv6_send_without_src_resolves_link_local(io_lab: Lab) -> None:
    a, b = io_lab.nodes
    with make(a, socket.AF_INET6) as sa, make(b, socket.AF_INET6) as sb:
        in_ns(a, lambda: sa.send(b"\x31\x33\x64\x00\x00\x64\x00\x00", G6))
        got = receive(sb)
        assert got.src == IPv6Address(a.link_local())


def test_unicast_ipv4_and_ipv6(io_lab: Lab) -> None:
    a, b = io_lab.nodes
    with make(a, socket.AF_INET, group=None, unicast=True) as sa, make(
        b, socket.AF_INET, group=None, unicast=True
    ) as sb:
        peer = IPv4Address(b.ip4)
        sa.send(advert4(IPv4Address(a.ip4), peer), peer)
        got = receive(sb)
        assert (got.src, got.dst, got.ttl) == (IPv4Address(a.ip4), peer, 255)

    src6, peer6 = IPv6Address(a.ip6), IPv6Address(b.ip6)
    with make(a, socket.AF_INET6, group=None, unicast=True, src=src6) as sa, make(
        b, socket.AF_INET6, group=None, unicast=True
    ) as sb:
        payload = advert6(src6, peer6)
        sa.send(payload, peer6)
        got = receive(sb)
        assert (got.src, got.dst, got.ttl) == (src6, peer6, 255)
        packet.decode(got.payload, src=got.src, dst=got.dst, ttl=None)


def test_configured_source_is_used(io_lab: Lab) -> None:
    a, b = io_lab.nodes
    extra = "198.51.100.50"
    a.run(["ip", "addr", "add", f"{extra}/24", "dev", a.ifname])
    try:
        with make(a, socket.AF_INET, src=ip_address(extra)) as sa, make(b, socket.AF_INET) as sb:
            assert sa.source_address() == IPv4Address(extra)
            sa.send(advert4(IPv4Address(extra), G4), G4)
            assert receive(sb).src == IPv4Address(extra)
    finally:
        a.run(["ip", "addr", "del", f"{extra}/24", "dev", a.ifname])


def test_only_joined_groups_are_delivered(io_lab: Lab) -> None:
    """IP_MULTICAST_ALL=0: a socket on another group does not see 224.0.0.18."""
    a, b = io_lab.nodes
    other = IPv4Address("224.0.0.19")
    with make(a, socket.AF_INET) as sa, make(b, socket.AF_INET) as s18, make(
        b, socket.AF_INET, group=other
    ) as s19:
        sa.send(advert4(IPv4Address(a.ip4), G4, vrid=7), G4)
        sa.send(advert4(IPv4Address(a.ip4), other, vrid=8), other)
        assert receive(s18).dst == G4
        got = receive(s19)
        assert got.dst == other  # its own group arrives...
        assert s19.recv() is None  # ...and nothing else
        assert s18.recv() is None


def test_attach_delivers_to_the_event_loop(io_lab: Lab) -> None:
    a, b = io_lab.nodes

    async def scenario(sa: VrrpSocket, sb: VrrpSocket) -> Received:
        loop = asyncio.get_running_loop()
        box: asyncio.Future[Received] = loop.create_future()
        sb.attach(loop, lambda pkt: box.done() or box.set_result(pkt))
        try:
            sa.send(advert4(IPv4Address(a.ip4), G4), G4)
            return await asyncio.wait_for(box, 2.0)
        finally:
            sb.detach()

    with make(a, socket.AF_INET) as sa, make(b, socket.AF_INET) as sb:
        got = asyncio.run(scenario(sa, sb))
        assert got.src == IPv4Address(a.ip4)


def test_interface_without_address_and_missing_interface(io_lab: Lab) -> None:
    a = io_lab.nodes[0]
    a.run("ip link add vnoaddr type veth peer name vnoaddr1 && ip link set vnoaddr up"
          " && ip link set vnoaddr1 up")
    try:
        sock = in_ns(a, lambda: VrrpSocket(socket.AF_INET, "vnoaddr", group=G4))
        with sock:
            assert sock.source_address() is None
            with pytest.raises(NoSourceAddressError, match="vnoaddr"):
                sock.send(b"x", G4)
    finally:
        a.run("ip link del vnoaddr")
    with pytest.raises(InterfaceNotFoundError, match="nosuchif0"):
        in_ns(a, lambda: VrrpSocket(socket.AF_INET, "nosuchif0", group=G4))


def test_rejects_bad_arguments(io_lab: Lab) -> None:
    a = io_lab.nodes[0]
    with pytest.raises(ValueError):
        in_ns(a, lambda: VrrpSocket(socket.AF_INET, a.ifname, group=None))
    with pytest.raises(ValueError):
        in_ns(a, lambda: VrrpSocket(socket.AF_INET, a.ifname, group=G6))
    with pytest.raises(ValueError):
        in_ns(a, lambda: VrrpSocket(socket.AF_INET, a.ifname, group=IPv4Address("198.51.100.1")))
