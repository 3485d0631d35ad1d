"""Whether an instance has an address to send adverts from: keepalived's "no source IP" fault.

An instance cannot take part in the election without a source address: the
v3 checksum, the tie-break and the peers' "master address" all use it. So,
as keepalived does, an instance whose interface has no usable address (no
IPv4 address yet, or only a tentative IPv6 link-local while DAD runs) is in
FAULT, leaves FAULT the moment one appears, and follows the address when it
changes. A source given in the configuration (``unicast_src_ip`` /
``mcast_src_ip``) is used whether or not it is on the interface yet,
keepalived's choice too: the kernel is told to send from it anyway, unless
``track_src_ip`` asks for FAULT while it is not on the interface.

The daemon asks the kernel which address is usable (``vrrpd.io.sockets``)
whenever netlink reports a link or address change, and folds the verdict's
fault into the machine with the trackers' (``Machine.set_fault``); the
new address goes to ``Machine.set_address``.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address


@dataclass(frozen=True)
class SourceVerdict:
    """The address to send from (None: none usable) and the FAULT reason it causes, if any."""

    source: IPAddress | None
    fault: str | None


def judge_source(ifname: str, configured: IPAddress | None, found: IPAddress | None,
                 configured_on_interface: bool | None = None) -> SourceVerdict:
    """keepalived's rule: a configured source always stands; else the interface's, or FAULT.

    ``configured_on_interface`` is given (True/False) only with ``track_src_ip``:
    the configured source is still used, but the instance is in FAULT while the
    address is not on the interface, as keepalived's VRRP_FLAG_TRACK_SADDR.
    """
    if configured is not None:
        if configured_on_interface is False:
            return SourceVerdict(configured, f"source address {configured} not on {ifname}")
        return SourceVerdict(configured, None)
    if found is None:
        return SourceVerdict(None, f"no source address on {ifname}")
    return SourceVerdict(found, None)


def fault_reason(faults: set[str]) -> str | None:
    """The one reason shown for a FAULT: the interface first, then the source, then trackers.

    An interface going down usually takes the IPv6 link-local with it; the
    operator wants to read "interface eth0 down", the cause, not its effect.
    """
    if not faults:
        return None

    def rank(reason: str) -> tuple[int, str]:
        source = reason.startswith(("no source", "source address "))
        order = 0 if reason.startswith("interface ") else 1 if source else 2
        return order, reason
    return min(faults, key=rank)
