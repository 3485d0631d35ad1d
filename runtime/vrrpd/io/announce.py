"""Gratuitous ARP and unsolicited neighbour advertisements for the VIPs.

A new MASTER must make switches and neighbours learn that the VIPs now live
behind its MAC (docs/keepalived-compat.md §7, §11). Both announcements are
built here as complete Ethernet frames with the standard library only, and
sent on an ``AF_PACKET`` socket:

- the frame shapes are exactly keepalived's, independent of the kernel's
  neighbour code (an NA from a raw ICMPv6 socket would need the /128 VIP,
  deprecated on purpose, to be usable as a source);
- the same frame can be checked byte for byte in unit tests (scapy is the
  test oracle, never a runtime dependency).
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct

from vrrpd.io import InterfaceNotFoundError

BROADCAST_MAC = b"\xff" * 6
ALL_NODES = ipaddress.IPv6Address("ff02::1")
ALL_NODES_MAC = b"\x33\x33\x00\x00\x00\x01"  # 33:33 + low 32 bits of ff02::1

ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
IPPROTO_ICMPV6 = 58
ND_NEIGHBOR_ADVERT = 136
ND_OPT_TARGET_LL_ADDR = 2
NA_FLAG_ROUTER = 0x80000000
NA_FLAG_SOLICITED = 0x40000000
NA_FLAG_OVERRIDE = 0x20000000

_SIOCGIFHWADDR = 0x8927
_ETHER = struct.Struct("!6s6sH")
_ARP = struct.Struct("!HHBBH6s4s6s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
_NA = struct.Struct("!BBHI16sBB6s")


def _mac(mac: bytes) -> bytes:
    if len(mac) != 6:
        raise ValueError(f"a MAC address is 6 bytes, got {len(mac)}")
    return bytes(mac)


def garp_frame(mac: bytes, vip: ipaddress.IPv4Address) -> bytes:
    """Ethernet frame of a gratuitous ARP for *vip*, in keepalived's shape.

    An ARP *request* (not a reply) broadcast to ff:ff:ff:ff:ff:ff, with
    sender = target = the VIP and target MAC = broadcast
    (``vrrp_arp.c``). Requests are what every stack updates its cache
    from; some ignore unsolicited replies. 42 bytes: the driver pads.
    """
    sender = _mac(mac)
    address = ipaddress.IPv4Address(vip).packed
    ether = _ETHER.pack(BROADCAST_MAC, sender, ETH_P_ARP)
    arp = _ARP.pack(
        ARPHRD_ETHER, 0x0800, 6, 4, ARPOP_REQUEST, sender, address, BROADCAST_MAC, address
    )
    return ether + arp


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmpv6_checksum(src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address, message: bytes) -> int:
    """ICMPv6 checksum over the RFC 8200 pseudo-header and *message*."""
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(message), IPPROTO_ICMPV6)
    return _checksum(pseudo + message)


def unsolicited_na(
    mac: bytes,
    vip: ipaddress.IPv6Address,
    *,
    router: bool = False,
) -> bytes:
    """Ethernet frame of an unsolicited NA announcing *vip* at *mac*.

    keepalived's shape (``vrrp_ndisc.c``): from the VIP to all-nodes
    ff02::1 (MAC 33:33:00:00:00:01), hop limit 255 (receivers drop ND
    with any other), Override set so caches replace the old MAC,
    Solicited clear, Router only if *router* (keepalived sets it when the
    interface forwards), and the target link-layer address option.
    """
    sender = _mac(mac)
    target = ipaddress.IPv6Address(vip)
    flags = NA_FLAG_OVERRIDE | (NA_FLAG_ROUTER if router else 0)
    message = _NA.pack(
        ND_NEIGHBOR_ADVERT, 0, 0, flags, target.packed, ND_OPT_TARGET_LL_ADDR, 1, sender
    )
    checksum = icmpv6_checksum(target, ALL_NODES, message)
    message = message[:2] + struct.pack("!H", checksum) + message[4:]
    ipv6 = _IPV6.pack(6 << 28, len(message), IPPROTO_ICMPV6, 255, target.packed, ALL_NODES.packed)
    return _ETHER.pack(ALL_NODES_MAC, sender, ETH_P_IPV6) + ipv6 + message


def hardware_address(ifname: str, sock: socket.socket | None = None) -> bytes:
    """The MAC of *ifname* (``SIOCGIFHWADDR``: no netlink, never blocks).

    The ioctl answers for the namespace of the socket it is made on: pass
    *sock* to ask about that socket's namespace, not the calling thread's.
    """
    request = struct.pack("16s24x", ifname.encode())
    probe = sock if sock is not None else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        reply = fcntl.ioctl(probe.fileno(), _SIOCGIFHWADDR, request)
    except OSError as exc:
        raise InterfaceNotFoundError(ifname) from exc
    finally:
        if sock is None:
            probe.close()
    # struct ifreq: 16-byte name, then a sockaddr (family, 14 bytes of data).
    return reply[18:24]


def ipv6_forwarding(ifname: str) -> bool:
    """Whether *ifname* forwards IPv6, which decides the NA Router flag."""
    try:
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/forwarding", encoding="ascii") as knob:
            return knob.read().strip() not in ("", "0")
    except OSError:
        return False


class Announcer:
    """Sends GARPs and unsolicited NAs on one interface.

    *mac* defaults to the interface's own address, read at each send so a
    VMAC or a changed MAC is followed; pass it to announce another (it is
    also the frame's Ethernet source). The ``AF_PACKET`` socket is bound
    with protocol 0, so it sends only and never queues received traffic.
    Sends do not block: a full queue raises ``BlockingIOError``, a down
    link ``OSError`` (``ENETDOWN``), to be logged by the caller.
    """

    def __init__(self, ifname: str, *, mac: bytes | None = None) -> None:
        self.ifname = ifname
        self._mac = _mac(mac) if mac is not None else None
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            sock.setblocking(False)
            try:
                sock.bind((ifname, 0))
            except OSError as exc:
                raise InterfaceNotFoundError(ifname) from exc
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    @property
    def mac(self) -> bytes:
        return self._mac if self._mac is not None else hardware_address(self.ifname, self._sock)

    def send_garp(self, vip: ipaddress.IPv4Address) -> None:
        """Broadcast one gratuitous ARP for *vip*."""
        self._sock.send(garp_frame(self.mac, vip))

    def send_na(self, vip: ipaddress.IPv6Address, *, router: bool | None = None) -> None:
        """Send one unsolicited NA for *vip*.

        *router* defaults to the interface's IPv6 ``forwarding`` sysctl, as
        keepalived decides the Router flag (read in the calling thread's
        namespace).
        """
        if router is None:
            router = ipv6_forwarding(self.ifname)
        self._sock.send(unsolicited_na(self.mac, vip, router=router))

    def send(self, vip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        """GARP for an IPv4 VIP, NA for an IPv6 one."""
        if ipaddress.ip_address(vip).version == 4:
            self.send_garp(vip)  # type: ignore[arg-type]
        else:
            self.send_na(vip)  # type: ignore[arg-type]

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Announcer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
