"""Gratuitous ARP and unsolicited NA frames, checked against scapy's dissection.

The builders are stdlib-only; scapy is the independent oracle that says the
bytes mean what keepalived sends (docs/keepalived-compat.md §11).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402

from vrrpd.io.announce import garp_frame, icmpv6_checksum, unsolicited_na  # noqa: E402

MAC = bytes.fromhex("02000000000a")
MAC_TEXT = "02:00:00:00:00:0a"

macs = st.binary(min_size=6, max_size=6)
ipv4s = st.integers(0, 2**32 - 1).map(IPv4Address)
ipv6s = st.integers(0, 2**128 - 1).map(IPv6Address)


def test_garp_is_keepalived_shaped_arp_request() -> None:
    frame = garp_frame(MAC, IPv4Address("198.51.100.100"))
    pkt = Ether(frame)
    assert len(frame) == 42
    assert pkt.dst == "ff:ff:ff:ff:ff:ff"
    assert pkt.src == MAC_TEXT
    assert pkt.type == 0x0806
    arp = pkt[ARP]
    assert (arp.hwtype, arp.ptype, arp.hwlen, arp.plen) == (1, 0x0800, 6, 4)
    assert arp.op == 1  # request, not reply
    assert arp.hwsrc == MAC_TEXT
    assert arp.psrc == "198.51.100.100"
    assert arp.hwdst == "ff:ff:ff:ff:ff:ff"
    assert arp.pdst == "198.51.100.100"


def test_garp_matches_scapy_built_frame() -> None:
    vip = "203.0.113.7"
    expected = Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC_TEXT) / ARP(
        op=1, hwsrc=MAC_TEXT, psrc=vip, hwdst="ff:ff:ff:ff:ff:ff", pdst=vip
    )
    assert garp_frame(MAC, IPv4Address(vip)) == bytes(expected)


def test_unsolicited_na_fields() -> None:
    vip = IPv6Address("2001:db8::100")
    frame = unsolicited_na(MAC, vip)
    pkt = Ether(frame)
    assert pkt.dst == "33:33:00:00:00:01"
    assert pkt.src == MAC_TEXT
    assert pkt.type == 0x86DD
    ip6 = pkt[IPv6]
    assert ip6.src == str(vip)
    assert ip6.dst == "ff02::1"
    assert ip6.hlim == 255
    assert ip6.nh == 58
    assert ip6.plen == 32
    na = pkt[ICMPv6ND_NA]
    assert na.type == 136 and na.code == 0
    assert (na.R, na.S, na.O) == (0, 0, 1)
    assert na.tgt == str(vip)
    assert pkt[ICMPv6NDOptDstLLAddr].lladdr == MAC_TEXT
    assert pkt[ICMPv6NDOptDstLLAddr].len == 1


def test_unsolicited_na_router_flag() -> None:
    na = Ether(unsolicited_na(MAC, IPv6Address("fe80::1"), router=True))[ICMPv6ND_NA]
    assert (na.R, na.S, na.O) == (1, 0, 1)


def test_unsolicited_na_matches_scapy_built_frame() -> None:
    vip = "2001:db8::100"
    expected = (
        Ether(dst="33:33:00:00:00:01", src=MAC_TEXT)
        / IPv6(src=vip, dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(R=0, S=0, O=1, tgt=vip)
        / ICMPv6NDOptDstLLAddr(lladdr=MAC_TEXT)
    )
    assert unsolicited_na(MAC, IPv6Address(vip)) == bytes(expected)


@given(mac=macs, vip=ipv4s)
def test_garp_roundtrip_any(mac: bytes, vip: IPv4Address) -> None:
    arp = Ether(garp_frame(mac, vip))[ARP]
    assert bytes.fromhex(arp.hwsrc.replace(":", "")) == mac
    assert arp.psrc == arp.pdst == str(vip)


@given(mac=macs, vip=ipv6s, router=st.booleans())
def test_na_checksum_matches_scapy(mac: bytes, vip: IPv6Address, router: bool) -> None:
    pkt = Ether(unsolicited_na(mac, vip, router=router))
    na = pkt[ICMPv6ND_NA]
    theirs = na.cksum
    del na.cksum  # let scapy recompute it over its own pseudo-header
    assert Ether(bytes(pkt))[ICMPv6ND_NA].cksum == theirs
    assert IPv6Address(pkt[IPv6].src) == vip


def test_icmpv6_checksum_known_vector() -> None:
    # A zero message checksum over a pseudo-header only: all fields summed by hand.
    src, dst = IPv6Address("::1"), IPv6Address("::2")
    # sum = 1 + 2 + len(0) + 58 = 61 -> ~61 & 0xffff
    assert icmpv6_checksum(src, dst, b"") == (~61 & 0xFFFF)


@pytest.mark.parametrize("bad", [b"", b"\x00" * 5, b"\x00" * 7])
def test_bad_mac_rejected(bad: bytes) -> None:
    with pytest.raises(ValueError):
        garp_frame(bad, IPv4Address("198.51.100.1"))
    with pytest.raises(ValueError):
        unsolicited_na(bad, IPv6Address("2001:db8::1"))
