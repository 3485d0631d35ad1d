"""The address ranges tests may use, and the address arithmetic the lab needs.

A guard against a typo sending test traffic into the machine's uplink range (192.0.2.0/24).
"""

from __future__ import annotations

import ipaddress

#: The only networks tests may use (RFC 5737 / RFC 3849 documentation ranges,
#: plus link-local).  192.0.2.0/24 is deliberately absent: it is the uplink.
ALLOWED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
    ipaddress.ip_network("fe80::/10"),
    # Multicast groups VRRP and ND use on the link (never routed).
    ipaddress.ip_network("224.0.0.0/24"),
    ipaddress.ip_network("ff02::/16"),
)


def check_test_address(addr: str) -> None:
    """Raise ValueError unless ``addr`` (with or without /prefix) is in ALLOWED_NETWORKS.

    A guard against a typo sending test traffic into the machine's uplink range.
    """
    iface = ipaddress.ip_interface(addr)
    if not any(iface.ip in net for net in ALLOWED_NETWORKS if net.version == iface.version):
        raise ValueError(f"{addr} is outside the networks tests may use: {ALLOWED_NETWORKS}")


def eui64_link_local(mac: str) -> ipaddress.IPv6Address:
    """fe80::/64 address the kernel derives from ``mac`` (addr_gen_mode eui64)."""
    b = bytearray(int(x, 16) for x in mac.split(":"))
    b[0] ^= 0x02
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + iid)


def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
