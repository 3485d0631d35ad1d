"""VRRP v2/v3 advertisement codec: bytes in, :class:`Advert` out, and back.

Pure and stdlib-only, like h11: no sockets, no clock, no scapy.  The I/O
layer hands :func:`decode` the payload of a received IP packet together with
what the kernel told it (source, destination, TTL) and gets back either an
:class:`Advert` or a :class:`PacketError` whose :class:`Reason` is the
keepalived statistics counter to bump.  :func:`encode` produces the VRRP
message only; the kernel (or :func:`parse_ipv4`'s counterpart in the socket
layer) owns the IP header.

Wire formats: RFC 3768 §5.1 (v2) and RFC 5798/9568 §5.2 (v3).  Where the RFCs
and keepalived disagree we follow keepalived, because it is the peer we must
interoperate with (see docs/keepalived-compat.md §10):

* v2 carries the RFC 2338 authentication types (1 = PASS, 2 = AH) and always
  has 8 bytes of authentication data after the addresses;
* the v3/IPv4 checksum is sent with the IPv4 pseudo-header by default
  (keepalived, scapy and Wireshark agree), and on receive both that form and
  the RFC 9568 message-only form are accepted;
* trailing bytes after the message (Ethernet padding) are ignored.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

__all__ = [
    "ADVERTISEMENT",
    "AUTH_AH",
    "AUTH_NONE",
    "AUTH_PASS",
    "MCAST_GROUP4",
    "MCAST_GROUP6",
    "VRRP_PROTO",
    "Advert",
    "IPAddress",
    "PacketError",
    "Reason",
    "advert_len",
    "check_for_instance",
    "checksum",
    "decode",
    "encode",
    "max_addresses",
    "parse_ipv4",
    "pass_auth_data",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

VRRP_PROTO = 112
MCAST_GROUP4 = IPv4Address("224.0.0.18")
MCAST_GROUP6 = IPv6Address("ff02::12")
ADVERTISEMENT = 1

AUTH_NONE = 0
AUTH_PASS = 1
AUTH_AH = 2
AUTH_DATA_LEN = 8  # v2 only

HEADER_LEN = 8
IPV4_HEADER_LEN = 20  # what keepalived sends: no options
IPV6_HEADER_LEN = 40
MAX_ADDRESSES = 255  # the count field is one byte
VRRP_TTL = 255  # RFC 9568 §7.1: an advert with another TTL / hop limit is dropped
MAX_V2_INTERVAL_S = 255  # 8 bits of seconds
MAX_V3_INTERVAL_CS = 4095  # 12 bits of centiseconds

_HEADER = struct.Struct("!BBBBBBH")  # ver/type, vrid, prio, count, auth|rsvd, adv, cksum
_IPV4 = struct.Struct("!BBHHHBBH4s4s")


class Reason(str, enum.Enum):
    """Why a received packet was dropped; the value is keepalived's counter name."""

    TTL = "ip_ttl_err"
    LENGTH = "packet_len_err"
    VERSION = "version_err"
    TYPE = "invalid_type_rcvd"
    CHECKSUM = "checksum_err"
    VRID = "unknown_vrid"
    INTERVAL_ZERO = "zero_interval_err"
    INTERVAL = "advert_interval_err"
    ADDR_COUNT = "addr_list_err"
    AUTH_TYPE = "invalid_authtype"
    AUTH_MISMATCH = "authtype_mismatch"
    AUTH_FAILURE = "auth_failure"


class PacketError(ValueError):
    """A received packet that must be discarded, and why.

    A ``ValueError`` so that callers which only care that "the input was bad"
    need not know about it; the daemon looks at :attr:`reason` to count it.
    """

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Advert:
    """One VRRP advertisement, independent of the wire version's quirks.

    ``interval_cs`` is always in centiseconds so that the state machine has a
    single unit; v2 carries whole seconds on the wire (so a v2 advert always
    has a multiple of 100 here).  ``auth_type``/``auth_data`` exist only in
    v2; :func:`decode` returns ``auth_data`` only for PASS (the field is
    ignored on receive otherwise) and v3 adverts have ``0`` and ``b""``.
    """

    version: int
    vrid: int
    priority: int
    interval_cs: int
    addresses: tuple[IPAddress, ...]
    auth_type: int = AUTH_NONE
    auth_data: bytes = b""


def pass_auth_data(password: str) -> bytes:
    """The 8 PASS bytes for ``password``: truncated and NUL-padded, as keepalived does."""
    return password.encode()[:AUTH_DATA_LEN].ljust(AUTH_DATA_LEN, b"\0")


def checksum(data: bytes) -> int:
    """RFC 1071 internet checksum: one's complement of the one's-complement sum.

    Checksumming data that already contains a correct checksum gives 0, which
    is how :func:`decode` verifies (it then accepts either +0 or -0 in the
    field, like keepalived's ``in_csum`` check).
    """
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def advert_len(version: int, family: int, count: int) -> int:
    """Length of the VRRP message (no IP header) with ``count`` addresses.

    ``family`` is 4 or 6, as in ``IPv4Address.version``.
    """
    size = HEADER_LEN + count * _addr_size(family)
    if version == 2:
        size += AUTH_DATA_LEN
    return size


def max_addresses(mtu: int, family: int, version: int = 3) -> int:
    """How many addresses fit in one advert sent on a link with this MTU.

    keepalived moves the surplus to eVIPs (not advertised); the cap is also
    the 255 the count byte can hold.  Assumes an IP header without options or
    extension headers (keepalived sends none) and no AH.
    """
    ip_header = IPV4_HEADER_LEN if family == 4 else IPV6_HEADER_LEN
    room = mtu - ip_header - advert_len(version, family, 0)
    return max(0, min(MAX_ADDRESSES, room // _addr_size(family)))


def encode(
    adv: Advert,
    *,
    src: IPAddress,
    dst: IPAddress,
    v3_checksum_pseudo: bool = True,
) -> bytes:
    """Build the VRRP message for ``adv`` sent from ``src`` to ``dst``.

    ``src``/``dst`` are only needed for the v3 pseudo-header checksum; they
    must be the addresses actually used on the wire (keepalived puts the
    unicast peer in the pseudo-header, one packet per peer).  With
    ``v3_checksum_pseudo=False`` a v3/IPv4 checksum covers the message only
    (RFC 9568; keepalived's ``v3_checksum_as_v2``).  IPv6 always uses the
    RFC 8200 pseudo-header.  Raises ``ValueError`` for an advert that cannot
    be put on the wire.
    """
    family = src.version
    _check_fields(adv, src, dst)
    if adv.version == 2:
        if family != 4:
            raise ValueError("VRRPv2 is IPv4 only")
        seconds, rest = divmod(adv.interval_cs, 100)
        if rest or not 1 <= seconds <= MAX_V2_INTERVAL_S:
            raise ValueError(f"v2 interval {adv.interval_cs} cs is not 1..255 whole seconds")
        if not 0 <= adv.auth_type <= 255:
            raise ValueError(f"auth type {adv.auth_type} not in 0..255")
        if len(adv.auth_data) > AUTH_DATA_LEN:
            raise ValueError(f"auth data longer than {AUTH_DATA_LEN} bytes")
        # Like keepalived, only PASS puts anything in the auth data field.
        auth = adv.auth_data if adv.auth_type == AUTH_PASS else b""
        trailer = auth.ljust(AUTH_DATA_LEN, b"\0")
        auth_byte, adv_byte = adv.auth_type, seconds
    elif adv.version == 3:
        if not 1 <= adv.interval_cs <= MAX_V3_INTERVAL_CS:
            raise ValueError(f"v3 interval {adv.interval_cs} cs not in 1..{MAX_V3_INTERVAL_CS}")
        if not adv.addresses:
            raise ValueError("a v3 advert needs at least one address")
        if adv.auth_type != AUTH_NONE or adv.auth_data:
            raise ValueError("v3 has no authentication")
        trailer = b""
        auth_byte, adv_byte = adv.interval_cs >> 8, adv.interval_cs & 0xFF
    else:
        raise ValueError(f"unknown VRRP version {adv.version}")

    header = _HEADER.pack(
        (adv.version << 4) | ADVERTISEMENT,
        adv.vrid,
        adv.priority,
        len(adv.addresses),
        auth_byte,
        adv_byte,
        0,
    )
    message = header + b"".join(a.packed for a in adv.addresses) + trailer
    covered = message
    if adv.version == 3 and (family == 6 or v3_checksum_pseudo):
        covered = _pseudo_header(src, dst, len(message)) + message
    return message[:6] + checksum(covered).to_bytes(2, "big") + message[8:]


def _check_fields(adv: Advert, src: IPAddress, dst: IPAddress) -> None:
    """What every version's header needs: one family, a VRID, a priority, addresses that fit."""
    family = src.version
    if dst.version != family:
        raise ValueError(f"source {src} and destination {dst} are of different families")
    if not 1 <= adv.vrid <= 255:
        raise ValueError(f"VRID {adv.vrid} not in 1..255")
    if not 0 <= adv.priority <= 255:
        raise ValueError(f"priority {adv.priority} not in 0..255")
    if len(adv.addresses) > MAX_ADDRESSES:
        raise ValueError(f"{len(adv.addresses)} addresses, at most {MAX_ADDRESSES} fit")
    for addr in adv.addresses:
        if addr.version != family:
            raise ValueError(f"address {addr} is not IPv{family} like the source {src}")


def decode(
    payload: bytes,
    *,
    src: IPAddress,
    dst: IPAddress,
    ttl: int | None,
    verify_v3_ipv4_checksum: bool = True,
) -> Advert:
    """Validate and parse a received VRRP message (RFC 9568 §7.1 order-ish).

    ``payload`` starts at the VRRP version field; bytes after the message
    (Ethernet padding) are ignored.  ``ttl`` is the IP TTL / hop limit, or
    ``None`` to skip the 255 check (unicast, as keepalived).  Checks that need
    the instance's configuration are in :func:`check_for_instance`, and the
    VRID lookup is the caller's.  Raises only :class:`PacketError`.
    """
    family = src.version
    if dst.version != family:
        raise PacketError(Reason.ADDR_COUNT, f"source {src} and destination {dst} families differ")
    if ttl is not None and ttl != VRRP_TTL:
        raise PacketError(Reason.TTL, f"TTL/hop limit {ttl}, expected {VRRP_TTL}")
    if len(payload) < HEADER_LEN:
        raise PacketError(Reason.LENGTH, f"{len(payload)} bytes, shorter than the VRRP header")

    ver_type, vrid, priority, count, auth_byte, adv_byte, _checksum = _HEADER.unpack_from(payload)
    version, kind = ver_type >> 4, ver_type & 0x0F
    if version not in (2, 3):
        raise PacketError(Reason.VERSION, f"version {version}")
    if version == 2 and family != 4:
        raise PacketError(Reason.VERSION, "VRRPv2 over IPv6")
    if kind != ADVERTISEMENT:
        raise PacketError(Reason.TYPE, f"type {kind}")

    size = advert_len(version, family, count)
    if len(payload) < size:
        raise PacketError(
            Reason.LENGTH, f"{len(payload)} bytes, {count} addresses need {size}"
        )
    message = bytes(payload[:size])

    if not _checksum_ok(message, version, src, dst, verify_v3_ipv4_checksum):
        raise PacketError(Reason.CHECKSUM, "bad checksum")

    if version == 2:
        interval_cs = adv_byte * 100
    else:
        interval_cs = ((auth_byte & 0x0F) << 8) | adv_byte  # top nibble is reserved
    if interval_cs == 0:
        raise PacketError(Reason.INTERVAL_ZERO, "advertisement interval is zero")
    if version == 3 and count == 0:
        raise PacketError(Reason.ADDR_COUNT, "v3 advert without addresses")

    addresses = _addresses(message, family, count)
    if version == 3:
        return Advert(3, vrid, priority, interval_cs, addresses)
    auth_data = message[-AUTH_DATA_LEN:] if auth_byte == AUTH_PASS else b""
    return Advert(2, vrid, priority, interval_cs, addresses, auth_byte, auth_data)


def _addresses(message: bytes, family: int, count: int) -> tuple[IPAddress, ...]:
    """The ``count`` addresses that follow the header."""
    step = _addr_size(family)
    make = IPv4Address if family == 4 else IPv6Address
    return tuple(make(message[i:i + step]) for i in range(HEADER_LEN, HEADER_LEN + count * step, step))


def check_for_instance(
    adv: Advert,
    *,
    version: int,
    interval_cs: int,
    auth_type: int = AUTH_NONE,
    auth_data: bytes = b"",
) -> None:
    """Apply the receive rules that depend on the instance's configuration.

    v2 (RFC 3768 §7.1, keepalived): the interval must equal ours and the
    authentication must match.  v3 adopts the master's interval instead, so a
    mismatch is not an error, and authentication is ignored (as keepalived).
    """
    if adv.version != version:
        raise PacketError(Reason.VERSION, f"version {adv.version}, instance runs {version}")
    if version != 2:
        return
    if adv.interval_cs != interval_cs:
        raise PacketError(
            Reason.INTERVAL, f"interval {adv.interval_cs} cs, ours is {interval_cs} cs"
        )
    if adv.auth_type not in (AUTH_NONE, AUTH_PASS, AUTH_AH):
        raise PacketError(Reason.AUTH_TYPE, f"unknown auth type {adv.auth_type}")
    if adv.auth_type != auth_type:
        raise PacketError(
            Reason.AUTH_MISMATCH, f"auth type {adv.auth_type}, instance uses {auth_type}"
        )
    if auth_type == AUTH_PASS and _pad_auth(adv.auth_data) != _pad_auth(auth_data):
        raise PacketError(Reason.AUTH_FAILURE, "wrong password")


def parse_ipv4(packet: bytes) -> tuple[IPv4Address, IPv4Address, int, int, bytes]:
    """Split what an IPv4 raw socket returns into (src, dst, ttl, protocol, payload).

    Honours the header length (options) and the total length, so Ethernet
    padding after a short packet is trimmed.  The header checksum is the
    kernel's business.  Raises :class:`PacketError` (LENGTH) when malformed.
    """
    if len(packet) < IPV4_HEADER_LEN:
        raise PacketError(Reason.LENGTH, f"{len(packet)} bytes, shorter than an IPv4 header")
    ver_ihl, _tos, total, _id, _frag, ttl, proto, _cksum, src, dst = _IPV4.unpack_from(packet)
    if ver_ihl >> 4 != 4:
        raise PacketError(Reason.LENGTH, f"IP version {ver_ihl >> 4}, not an IPv4 header")
    ihl = (ver_ihl & 0x0F) * 4
    if ihl < IPV4_HEADER_LEN or not ihl <= total <= len(packet):
        raise PacketError(
            Reason.LENGTH,
            f"header length {ihl} / total length {total} inconsistent with {len(packet)} bytes",
        )
    return IPv4Address(src), IPv4Address(dst), ttl, proto, packet[ihl:total]


def _addr_size(family: int) -> int:
    return 4 if family == 4 else 16


def _pad_auth(data: bytes) -> bytes:
    return data[:AUTH_DATA_LEN].ljust(AUTH_DATA_LEN, b"\0")


def _checksum_ok(
    message: bytes, version: int, src: IPAddress, dst: IPAddress, verify_v3_ipv4: bool
) -> bool:
    """Whether ``message`` carries a checksum in one of the forms peers send."""
    if version == 2:
        return checksum(message) == 0
    if src.version == 6:
        return checksum(_pseudo_header(src, dst, len(message)) + message) == 0
    if not verify_v3_ipv4:
        return True  # keepalived with v3_checksum_as_v2 skips the check
    forms = (
        b"",  # RFC 9568: the message only
        _pseudo_header(src, dst, len(message)),  # keepalived's default
        _pseudo_header(src, MCAST_GROUP4, len(message)),  # keepalived < 1.3.6 unicast
    )
    return any(checksum(pseudo + message) == 0 for pseudo in forms)


def _pseudo_header(src: IPAddress, dst: IPAddress, length: int) -> bytes:
    """The pseudo-header a v3 checksum covers: RFC 8200 §8.1, or keepalived's IPv4 form."""
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, VRRP_PROTO, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, VRRP_PROTO)
