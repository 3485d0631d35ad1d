"""The kernel-facing I/O layer: sockets, addresses, links and announcements.

Everything here moves bytes or asks the kernel to change state; nothing here
decides anything. The protocol lives in ``vrrpd.core`` and the daemon wires
the two together:

- ``sockets``: one raw IP-protocol-112 socket per (interface, family, group),
  shared by every instance on that interface;
- ``addresses``: the daemon's single netlink handle, running blocking
  pyroute2 calls in its own thread so the event loop never waits on them;
- ``links``: interface and address events (track_interface, VIP tracking)
  and VMAC (macvlan) creation;
- ``announce``: gratuitous ARP and unsolicited neighbour advertisements.

The submodules are not imported here on purpose: ``announce`` and ``sockets``
need only the standard library, and a caller that uses them should not pay
for importing pyroute2.
"""

from __future__ import annotations


class InterfaceNotFoundError(LookupError):
    """The kernel has no interface of that name (in this network namespace).

    Raised by every module of this package, so the daemon can tell "the
    interface is missing" (a FAULT cause, or a configuration error at start)
    from other I/O failures with one ``except``.
    """

    def __init__(self, ifname: str, detail: str = "") -> None:
        self.ifname = ifname
        message = f"no such interface: {ifname!r}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
