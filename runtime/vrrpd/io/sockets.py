"""Raw sockets that carry VRRP adverts (IP protocol 112).

One :class:`VrrpSocket` exists per (interface, family, multicast group or
unicast) and is shared by every instance on that interface: the daemon reads
each packet once and dispatches it by VRID. The socket moves bytes only; the
codec (``vrrpd.core.packet``) encodes and checks the VRRP message.

Wire choices, matching keepalived (docs/keepalived-compat.md §10) where the kernel lets a
plain raw socket do it:

- IPv4: the kernel builds the IP header (no ``IP_HDRINCL``). ``IP_TOS`` 0xc0
  gives the "internetwork control" precedence keepalived writes by hand, and
  ``IP_PMTUDISC_DONT`` leaves DF clear like keepalived's header, which also
  makes the kernel pick a real IP ID (with DF set and no connected peer it
  would send ID 0). TTL 255 for multicast and unicast.
- IPv6: hop limit 255 (multicast and unicast). ``IPV6_CHECKSUM`` stays off:
  the codec computes the VRRP checksum over the RFC 8200 pseudo-header
  itself, so the kernel must neither fill nor verify it (keepalived lets the
  kernel do it; the result on the wire is the same).
- Both: ``SO_BINDTODEVICE``, multicast loop off (we never read our own
  adverts), ``IP[V6]_MULTICAST_ALL`` 0 (only the groups this socket joined
  are delivered to it, not every group some other socket on the host joined).

The socket is never ``bind()``-ed to an address: a raw socket bound to a
unicast address only receives packets *addressed to* that address, which
would drop the multicast adverts. The source address is instead given per
packet with ``IP_PKTINFO`` / ``IPV6_PKTINFO``, so it is the exact address the
codec put in the v3 pseudo-header.
"""

from __future__ import annotations

import array
import errno
import fcntl
import functools
import ipaddress
import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vrrpd.io import InterfaceNotFoundError

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

VRRP_PROTO = 112
DEFAULT_TTL = 255

# Linux values the socket module does not export (include/uapi/linux/in.h, in6.h).
_IP_PKTINFO = 8
_IP_MTU_DISCOVER = 10
_IP_PMTUDISC_DONT = 0
_IP_MULTICAST_ALL = 49
_IPV6_MULTICAST_ALL = 29
_IPV6_CHECKSUM = 7
_SIOCGIFADDR = 0x8915
_SIOCGIFCONF = 0x8912
_IP_TRANSPARENT = 19
_IPV6_TRANSPARENT = 75

# /proc/net/if_inet6 scope and flag bits (include/net/ipv6.h, if_addr.h).
_IPV6_ADDR_LINKLOCAL = 0x20
_IFA_F_NODAD = 0x02
_IFA_F_DADFAILED = 0x08
_IFA_F_TENTATIVE = 0x40

_IF_INET6 = "/proc/thread-self/net/if_inet6"
_RECV_BUFSIZE = 65535
_CMSG_BUFSIZE = 256
_IN_PKTINFO = struct.Struct("=i4s4s")  # ipi_ifindex, ipi_spec_dst, ipi_addr
_IN6_PKTINFO = struct.Struct("=16sI")  # ipi6_addr, ipi6_ifindex
_IP_MREQN = struct.Struct("=4s4si")  # imr_multiaddr, imr_address, imr_ifindex
_IPV6_MREQ = struct.Struct("=16si")  # ipv6mr_multiaddr, ipv6mr_interface
_HOPLIMIT = struct.Struct("=i")
_IFCONF = struct.Struct("iP")  # struct ifconf: ifc_len, ifc_buf (native alignment)
_IFREQ_SIZE = struct.calcsize("16s24x")
_IFCONF_BUFSIZE = 256 * _IFREQ_SIZE


class NoSourceAddressError(OSError):
    """The interface has no address to send adverts from.

    keepalived puts such an instance in FAULT (no IPv4 address on the
    interface, or no usable IPv6 link-local yet, e.g. while DAD runs), so
    the daemon needs this case apart from a plain send failure.
    """

    def __init__(self, ifname: str, family: int) -> None:
        kind = "IPv4 address" if family == socket.AF_INET else "IPv6 link-local address"
        super().__init__(errno.EADDRNOTAVAIL, f"no usable {kind} on {ifname!r}")
        self.ifname = ifname


@dataclass(frozen=True, slots=True)
class Received:
    """One packet as read from the wire, IP header already consumed.

    ``ttl`` is the IPv4 TTL or IPv6 hop limit as received (0 if the kernel
    did not report it, which fails the RFC's "must be 255" check safely);
    ``dst`` tells a multicast advert from a unicast one, which keepalived
    uses to drop the kind an instance does not expect.
    """

    src: IPAddress
    dst: IPAddress
    ttl: int
    payload: bytes
    ifindex: int


def interface_index(ifname: str) -> int:
    """Index of *ifname*, or :class:`InterfaceNotFoundError`."""
    try:
        return socket.if_nametoindex(ifname)
    except OSError as exc:
        raise InterfaceNotFoundError(ifname) from exc


def primary_ipv4(
    ifname: str, sock: socket.socket | None = None, exclude: frozenset[IPAddress] = frozenset()
) -> ipaddress.IPv4Address | None:
    """The interface's primary IPv4 address, or None if it has none.

    *exclude* holds addresses that must never be the answer (an instance's
    own VIPs: keepalived never sends from a VIP, and a VIP promoted to
    primary when the real address goes must not hide that it went); the
    first other address in the kernel's order (primaries first) is then
    the answer, from :func:`ipv4_addresses`.

    ``SIOCGIFADDR`` returns the oldest primary address carrying the
    interface's own label, which is what keepalived calls the interface
    address (the first one netlink reports). An ioctl rather than netlink
    because it never blocks and needs no pyroute2 handle, so the daemon may
    call it from its event loop before every advert. The ioctl answers for
    the network namespace of the socket it is made on: pass *sock* (any
    AF_INET socket) to ask about that socket's namespace rather than the
    calling thread's.
    """
    if exclude:
        return next((a for a in ipv4_addresses(ifname, sock) if a not in exclude), None)
    request = struct.pack("16s24x", ifname.encode())
    probe = sock if sock is not None else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        reply = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            return None
        if exc.errno == errno.ENODEV:
            raise InterfaceNotFoundError(ifname) from exc
        raise
    finally:
        if sock is None:
            probe.close()
    # struct ifreq: 16-byte name, then a sockaddr_in (family, port, address).
    return ipaddress.IPv4Address(reply[20:24])


def ipv4_addresses(ifname: str, sock: socket.socket | None = None) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address of *ifname* (labels ``ifname:x`` included), primaries first.

    ``SIOCGIFCONF`` lists the addresses in the kernel's order, which puts
    primaries before secondaries; like :func:`primary_ipv4` it never blocks
    and answers for the namespace of *sock*. Raises
    :class:`InterfaceNotFoundError` when the interface does not exist.
    """
    buffer = array.array("B", bytes(_IFCONF_BUFSIZE))
    address, _length = buffer.buffer_info()
    request = bytearray(_IFCONF.pack(_IFCONF_BUFSIZE, address))
    probe = sock if sock is not None else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(probe.fileno(), _SIOCGIFCONF, request)
    finally:
        if sock is None:
            probe.close()
    used = _IFCONF.unpack(request)[0]
    data = buffer.tobytes()[:used]
    found: list[ipaddress.IPv4Address] = []
    for offset in range(0, used - _IFREQ_SIZE + 1, _IFREQ_SIZE):
        label = data[offset:offset + 16].split(b"\0", 1)[0].decode(errors="replace")
        if label == ifname or label.startswith(f"{ifname}:"):
            found.append(ipaddress.IPv4Address(data[offset + 20:offset + 24]))
    if not found:
        interface_index(ifname)  # raises if the interface does not exist
    return found


def link_local_ipv6(
    ifname: str, prefer: ipaddress.IPv6Address | None = None, exclude: frozenset[IPAddress] = frozenset()
) -> ipaddress.IPv6Address | None:
    """A usable IPv6 link-local address of *ifname*, or None.

    Tentative and DAD-failed addresses are skipped: the kernel refuses them
    as a source. When several link-locals exist (an IPv6 VRRP instance's
    first VIP is itself link-local), the choice must not jump to the VIP
    once it is added: *prefer* (the address used so far) wins while it is
    usable, then addresses without ``nodad`` (the kernel's own, as VIPs are
    added with nodad), then the lowest address for a stable answer.
    Addresses in *exclude* (the instance's VIPs) are never the answer.

    Read from ``/proc/thread-self/net/if_inet6`` (the calling thread's
    namespace; plain ``/proc/net`` is the main thread's, wrong for a thread
    that ``setns()``-ed), for the same reason :func:`primary_ipv4` uses an
    ioctl.
    """
    candidates: list[tuple[bool, ipaddress.IPv6Address]] = []
    found_interface = False
    with open(_IF_INET6, encoding="ascii") as table:
        for line in table:
            fields = line.split()
            if len(fields) != 6 or fields[5] != ifname:
                continue
            found_interface = True
            scope, flags = int(fields[3], 16), int(fields[4], 16)
            if scope != _IPV6_ADDR_LINKLOCAL or flags & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED):
                continue
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            if address in exclude:
                continue
            if address == prefer:
                return address
            candidates.append((bool(flags & _IFA_F_NODAD), address))
    if not candidates:
        if not found_interface:
            interface_index(ifname)  # raises if the interface does not exist
        return None
    return min(candidates)[1]


def interface_has_address(ifname: str, address: IPAddress, sock: socket.socket | None = None) -> bool:
    """Whether *address* is on *ifname* and usable (``track_src_ip``).

    IPv4 from :func:`ipv4_addresses` (namespace of *sock*); IPv6 from
    ``/proc/thread-self/net/if_inet6``, where a tentative or DAD-failed
    address does not count, as it cannot be sent from. Raises
    :class:`InterfaceNotFoundError` when the interface does not exist.
    """
    if address.version == 4:
        return address in ipv4_addresses(ifname, sock)
    found_interface = False
    with open(_IF_INET6, encoding="ascii") as table:
        for line in table:
            fields = line.split()
            if len(fields) != 6 or fields[5] != ifname:
                continue
            found_interface = True
            if ipaddress.IPv6Address(bytes.fromhex(fields[0])) == address:
                return not int(fields[4], 16) & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED)
    if not found_interface:
        interface_index(ifname)  # raises if the interface does not exist
    return False


@functools.lru_cache(maxsize=1024)
def _ipv4(packed: bytes) -> ipaddress.IPv4Address:
    """An address from its 4 bytes; the same few peers and groups send every advert, so remember them."""
    return ipaddress.IPv4Address(packed)


#: what ``sendmsg`` needs besides the payload: ancillary data and the destination address
Prepared = tuple[list[tuple[int, int, bytes]], tuple[Any, ...]]


def _ip(value: IPAddress | str, family: int) -> IPAddress:
    address = ipaddress.ip_address(value)
    expected = 4 if family == socket.AF_INET else 6
    if address.version != expected:
        raise ValueError(f"{address} is not an IPv{expected} address")
    return address


class VrrpSocket:
    """A raw protocol-112 socket on one interface, for one family.

    *group* is the multicast group to join (224.0.0.18 / ff02::12 or a
    ``mcast_dst_ip``); ``unicast=True`` joins nothing (keepalived's
    ``unicast_peer`` mode) and *group* may then be None. *src* pins the
    source address (``unicast_src_ip`` / ``mcast_src_ip``); without it the
    interface's primary IPv4 / link-local IPv6 is looked up for every send,
    so an address change is followed without reopening the socket.

    Everything is non-blocking: :meth:`recv` returns None when the queue is
    empty and :meth:`send` raises ``BlockingIOError`` rather than wait.
    """

    def __init__(
        self,
        family: int,
        ifname: str,
        *,
        group: IPAddress | None,
        src: IPAddress | None = None,
        unicast: bool = False,
        ttl: int = DEFAULT_TTL,
        rcvbuf: int | None = None,
    ) -> None:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError(f"unsupported address family {family!r}")
        if group is None and not unicast:
            raise ValueError("a multicast VrrpSocket needs a group")
        self.family = family
        self.ifname = ifname
        self.unicast = unicast
        self.group = _ip(group, family) if group is not None else None
        if self.group is not None and not unicast and not self.group.is_multicast:
            raise ValueError(f"{self.group} is not a multicast group")
        self._src = _ip(src, family) if src is not None else None
        self._last_src: IPAddress | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callback: Callable[[Received], None] | None = None
        self._sock = socket.socket(family, socket.SOCK_RAW, VRRP_PROTO)
        try:
            self._sock.setblocking(False)
            self.ifindex = interface_index(ifname)
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
            except OSError as exc:
                if exc.errno == errno.ENODEV:
                    raise InterfaceNotFoundError(ifname, "SO_BINDTODEVICE") from exc
                raise
            if family == socket.AF_INET:
                self._setup_ipv4(ttl)
            else:
                self._setup_ipv6(ttl)
            self._allow_any_source()
            if rcvbuf is not None:  # keepalived's kernel_rx_buf_size
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        except BaseException:
            self._sock.close()
            raise

    # -- setup ---------------------------------------------------------------

    def _setup_ipv4(self, ttl: int) -> None:
        sock = self._sock
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0xC0)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, DEFAULT_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
        sock.setsockopt(socket.IPPROTO_IP, _IP_MTU_DISCOVER, _IP_PMTUDISC_DONT)
        sock.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
        any4 = bytes(4)
        sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, _IP_MREQN.pack(any4, any4, self.ifindex)
        )
        if not self.unicast:
            assert self.group is not None
            sock.setsockopt(
                socket.IPPROTO_IP,
                socket.IP_ADD_MEMBERSHIP,
                _IP_MREQN.pack(self.group.packed, any4, self.ifindex),
            )

    def _setup_ipv6(self, ttl: int) -> None:
        sock = self._sock
        sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_CHECKSUM, -1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, DEFAULT_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_MULTICAST_ALL, 0)
        except OSError as exc:  # kernels before 4.20
            if exc.errno != errno.ENOPROTOOPT:
                raise
            log.debug("IPV6_MULTICAST_ALL not supported by this kernel")
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        if not self.unicast:
            assert self.group is not None
            sock.setsockopt(
                socket.IPPROTO_IPV6,
                socket.IPV6_JOIN_GROUP,
                _IPV6_MREQ.pack(self.group.packed, self.ifindex),
            )

    def _allow_any_source(self) -> None:
        """Let the kernel send from an address that is not (or no longer) on the host.

        keepalived writes its own IPv4 header, so a configured
        ``mcast_src_ip``/``unicast_src_ip`` not yet on the interface is
        still used, and a master whose address just went still sends its
        priority-0 advert from it. ``IP[V6]_TRANSPARENT`` (CAP_NET_ADMIN,
        which the daemon has to change addresses anyway) gives the same with
        ``IP_PKTINFO``; without it the kernel answers EINVAL.
        """
        level, option = ((socket.IPPROTO_IP, _IP_TRANSPARENT) if self.family == socket.AF_INET
                         else (socket.IPPROTO_IPV6, _IPV6_TRANSPARENT))
        try:
            self._sock.setsockopt(level, option, 1)
        except OSError as exc:
            log.warning("%s: cannot allow a non-local source address: %s", self.ifname, exc)

    def rejoin(self) -> None:
        """Leave and join the multicast group again (link back up); nothing for unicast.

        The kernel keeps a membership across a link down/up, but a switch
        that snoops IGMP/MLD may have dropped it: joining again sends a
        fresh report. A membership that was already gone is simply joined.
        """
        if self.unicast or self.group is None:
            return
        if self.family == socket.AF_INET:
            mreq = _IP_MREQN.pack(self.group.packed, bytes(4), self.ifindex)
            drop, add, level = socket.IP_DROP_MEMBERSHIP, socket.IP_ADD_MEMBERSHIP, socket.IPPROTO_IP
        else:
            mreq = _IPV6_MREQ.pack(self.group.packed, self.ifindex)
            drop, add, level = socket.IPV6_LEAVE_GROUP, socket.IPV6_JOIN_GROUP, socket.IPPROTO_IPV6
        try:
            self._sock.setsockopt(level, drop, mreq)
        except OSError as exc:
            if exc.errno not in (errno.EADDRNOTAVAIL, errno.ENODEV, errno.EINVAL):
                raise
        self._sock.setsockopt(level, add, mreq)

    # -- addresses -------------------------------------------------------------

    def source_address(
        self, *, exclude: frozenset[IPAddress] = frozenset(), via: str | None = None
    ) -> IPAddress | None:
        """The address adverts are sent from, or None if there is none now.

        *exclude* (the VIPs) are never chosen; *via* names the interface to
        take the address from when it is not the socket's own (an IPv4 VMAC
        sends from its parent's address, as keepalived does).

        The configured *src* if any, else the interface's primary IPv4 or
        a usable link-local IPv6, resolved from the kernel on each call
        (cheap: an ioctl or a small /proc read). This is also the address
        the daemon must use in the v3 pseudo-header and for the tie-break.
        The IPv6 lookup reads the calling thread's network namespace, which
        is the socket's unless a thread switched namespace after creating it.
        """
        if self._src is not None:
            return self._src
        ifname = via or self.ifname
        if self.family == socket.AF_INET:
            found: IPAddress | None = primary_ipv4(ifname, self._sock, exclude)
        else:
            previous = self._last_src if isinstance(self._last_src, ipaddress.IPv6Address) else None
            found = link_local_ipv6(ifname, prefer=previous, exclude=exclude)
        if found is not None:
            self._last_src = found
        return found

    def has_address(self, address: IPAddress, *, via: str | None = None) -> bool:
        """Whether *address* is on the socket's interface (or *via*) now: :func:`interface_has_address`."""
        return interface_has_address(via or self.ifname, address, self._sock if self.family == socket.AF_INET else None)

    # -- I/O ---------------------------------------------------------------------

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, payload: bytes, dst: IPAddress, *, src: IPAddress | None = None) -> None:
        """Send one VRRP message (no IP header) to *dst*, without blocking.

        *src* defaults to :meth:`source_address`; pass the address the
        payload's checksum was computed with so both always agree. Raises
        :class:`NoSourceAddressError` when there is no source, and the
        kernel's ``OSError`` otherwise (``BlockingIOError`` if the send
        buffer is full, ``ENETDOWN`` when the link is down...): the daemon
        counts either as a lost advert.
        """
        source = src if src is not None else self.source_address()
        if source is None:
            raise NoSourceAddressError(self.ifname, self.family)
        self.send_prepared(payload, self.prepare(source, dst))

    def send_prepared(self, payload: bytes, prepared: Prepared) -> None:
        """Send with what :meth:`prepare` built: the advert path, one ``sendmsg`` and nothing else."""
        self._sock.sendmsg([payload], prepared[0], 0, prepared[1])

    def prepare(self, source: IPAddress | str, dst: IPAddress | str) -> Prepared:
        """Ancillary data (source, interface) and address for one destination, to reuse every advert."""
        src_ip, target = _ip(source, self.family), _ip(dst, self.family)
        if self.family == socket.AF_INET:
            return ([(socket.IPPROTO_IP, _IP_PKTINFO, _IN_PKTINFO.pack(self.ifindex, src_ip.packed, bytes(4)))],
                    (str(target), 0))
        return ([(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, _IN6_PKTINFO.pack(src_ip.packed, self.ifindex))],
                (str(target), 0, 0, self.ifindex))

    def recv(self) -> Received | None:
        """Read one packet, or None if none is queued.

        IPv4 raw sockets return the IP header, read here for TTL, source
        and destination; IPv6 ones do not, so the hop limit and destination
        come from ancillary data. Packets too short to carry an IPv4 header
        are skipped rather than returned, so None always means "drained".
        """
        while True:
            try:
                data, ancdata, _flags, address = self._sock.recvmsg(_RECV_BUFSIZE, _CMSG_BUFSIZE)
            except (BlockingIOError, InterruptedError):
                return None
            if self.family == socket.AF_INET:
                packet = self._parse_ipv4(data, ancdata)
            else:
                packet = self._parse_ipv6(data, ancdata, address)
            if packet is not None:
                return packet

    def _parse_ipv4(self, data: bytes, ancdata: list[tuple[int, int, bytes]]) -> Received | None:
        if len(data) < 20 or data[0] >> 4 != 4:
            log.debug("%s: dropping %d-byte packet without an IPv4 header", self.ifname, len(data))
            return None
        header_len = (data[0] & 0x0F) * 4
        total_len = int.from_bytes(data[2:4], "big")
        if header_len < 20 or header_len > len(data):
            log.debug("%s: dropping IPv4 packet with bad header length", self.ifname)
            return None
        end = min(total_len, len(data)) if total_len >= header_len else len(data)
        ifindex = self.ifindex
        for level, kind, value in ancdata:
            if level == socket.IPPROTO_IP and kind == _IP_PKTINFO and len(value) >= _IN_PKTINFO.size:
                ifindex = _IN_PKTINFO.unpack_from(value)[0]
        return Received(
            src=_ipv4(data[12:16]),
            dst=_ipv4(data[16:20]),
            ttl=data[8],
            payload=data[header_len:end],
            ifindex=ifindex,
        )

    def _parse_ipv6(
        self, data: bytes, ancdata: list[tuple[int, int, bytes]], address: tuple
    ) -> Received | None:
        ttl = 0
        dst: IPAddress | None = None
        ifindex = self.ifindex
        for level, kind, value in ancdata:
            if level != socket.IPPROTO_IPV6:
                continue
            if kind == socket.IPV6_HOPLIMIT and len(value) >= _HOPLIMIT.size:
                ttl = _HOPLIMIT.unpack_from(value)[0]
            elif kind == socket.IPV6_PKTINFO and len(value) >= _IN6_PKTINFO.size:
                raw_dst, ifindex = _IN6_PKTINFO.unpack_from(value)
                dst = ipaddress.IPv6Address(raw_dst)
        if dst is None:  # cannot happen with IPV6_RECVPKTINFO on; be safe
            log.debug("%s: IPv6 packet without destination info", self.ifname)
            dst = self.group if self.group is not None else ipaddress.IPv6Address("::")
        # Python formats link-local sources as "fe80::1%ifname": drop the zone.
        src = ipaddress.IPv6Address(address[0].split("%", 1)[0])
        return Received(src=src, dst=dst, ttl=ttl, payload=data, ifindex=ifindex)

    # -- asyncio -------------------------------------------------------------

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        callback: Callable[[Received], None],
        *,
        budget: int = 64,
    ) -> None:
        """Call *callback* for each packet, from *loop*'s reader.

        At most *budget* packets are read per wake-up so a flood on one
        interface cannot starve the timers; the reader fires again at once
        if more are queued. A callback exception is logged and the next
        packet still delivered: one bad advert must not stop the reader.
        """
        if self._loop is not None:
            raise RuntimeError(f"{self!r} is already attached to a loop")

        def on_readable() -> None:
            self.deliver(callback, budget)

        loop.add_reader(self.fileno(), on_readable)
        self._loop = loop
        self._callback = callback

    def deliver(self, callback: Callable[[Received], None], budget: int) -> int:
        """Read up to *budget* queued packets and hand each to *callback*; return how many."""
        for packet_no in range(budget):
            try:
                packet = self.recv()
            except OSError:
                log.exception("%s: receive failed", self.ifname)
                return packet_no
            if packet is None:
                return packet_no
            try:
                callback(packet)
            except Exception:
                log.exception("%s: advert handler failed", self.ifname)
        return budget

    def deliver_pending(self, budget: int = 4096) -> int:
        """Hand what is already queued to the attached callback, now rather than on the next wake-up.

        Called before a backup declares its master dead: after the loop was
        stalled (start-up, a long reload step, a saturated CPU), the master's
        adverts may be waiting in the socket, and timers must not win over them.
        """
        if self._callback is None:
            return 0
        return self.deliver(self._callback, budget)

    def detach(self) -> None:
        """Stop delivering packets to the attached callback (idempotent)."""
        if self._loop is not None:
            if not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._loop = None
            self._callback = None

    def close(self) -> None:
        """Detach and close the socket (idempotent); memberships go with it."""
        if self._sock.fileno() != -1:
            self.detach()
            self._sock.close()

    def __enter__(self) -> VrrpSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "unicast" if self.unicast else f"group={self.group}"
        family = "inet" if self.family == socket.AF_INET else "inet6"
        return f"<VrrpSocket {family} {self.ifname} {mode}>"
