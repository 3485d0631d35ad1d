"""Interface state: netlink link/address events, queries, and VMAC links.

:class:`LinkMonitor` tells the daemon when a tracked interface goes down or
up (``track_interface``, the instance's own interface, interfaces carrying
VIPs) and when an address disappears (VIP tracking, ``track_src_ip``).

The event socket is a plain ``AF_NETLINK`` socket subscribed to the link
and address groups, read without blocking, with messages decoded by
pyroute2's own rtnetlink parser. Not an ``IPRoute().bind()``: in pyroute2
0.9 a sync ``IPRoute`` reads through a private asyncio loop that may pull
several datagrams off the socket into an internal queue during one
``get()``, after which the file descriptor is no longer readable while
events still wait in that queue, so a daemon woken by ``add_reader`` would
miss them until the next kernel event. Owning the socket keeps "readable"
and "events pending" the same thing, on 0.7.2 and 0.9.x alike.

Queries and link changes go through a :class:`~vrrpd.io.addresses.Netlink`
worker (share the daemon's, from ``AddressManager.netlink``).
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass
from typing import Any, Literal

from vrrpd.io import lazy_pyroute2

lazy_pyroute2.install()  # before the first pyroute2 import: only the modules used below get loaded

from pyroute2.netlink.rtnl import (  # noqa: E402
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTMGRP_IPV4_IFADDR,
    RTMGRP_IPV6_IFADDR,
    RTMGRP_LINK,
)
from pyroute2.netlink.rtnl.marshal import MarshalRtnl  # noqa: E402

from vrrpd.io import InterfaceNotFoundError
from vrrpd.io.addresses import Netlink, ifindex_of

log = logging.getLogger(__name__)

IFF_UP = 0x1
IFF_RUNNING = 0x40
IFF_LOWER_UP = 0x10000

MACVLAN_MODES = ("private", "vepa", "bridge", "passthru", "source")
_EVENT_RCVBUF = 4 * 1024 * 1024  # many interfaces flapping at once must not overrun it
_SO_RCVBUFFORCE = 33
_SIOCGIFINDEX = 0x8933


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """An interface appeared, changed or vanished (``kind == "del"``).

    ``usable`` is keepalived's test for an interface it can run on: up
    administratively and running (operationally up, carrier present).
    """

    kind: Literal["new", "del"]
    ifindex: int
    ifname: str
    up: bool
    running: bool
    lower_up: bool
    operstate: str

    @property
    def usable(self) -> bool:
        return self.kind == "new" and self.up and self.running


@dataclass(frozen=True, slots=True)
class AddrEvent:
    """An address was added to or removed from an interface.

    Note that the kernel removes IPv6 addresses itself when a link goes
    down (unless ``keep_addr_on_down``), so a link-down arrives with
    ``del`` events for the IPv6 VIPs on it.
    """

    kind: Literal["new", "del"]
    ifindex: int
    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    label: str | None
    flags: int


@dataclass(frozen=True, slots=True)
class Overrun:
    """The kernel dropped events (socket buffer full): re-read all state."""


Event = LinkEvent | AddrEvent | Overrun


def _write_sysctl(path: str, value: str) -> None:
    # /proc/sys/net shows the network namespace of the writing thread.
    with open(f"/proc/sys/{path}", "w", encoding="ascii") as knob:
        knob.write(value)


def _to_link_event(msg: Any, kind: Literal["new", "del"]) -> LinkEvent:
    flags = int(msg["flags"])
    operstate = msg.get_attr("IFLA_OPERSTATE")
    return LinkEvent(
        kind=kind,
        ifindex=int(msg["index"]),
        ifname=str(msg.get_attr("IFLA_IFNAME") or ""),
        up=bool(flags & IFF_UP),
        running=bool(flags & IFF_RUNNING),
        lower_up=bool(flags & IFF_LOWER_UP),
        operstate=str(operstate) if operstate is not None else "UNKNOWN",
    )


def _to_addr_event(msg: Any, kind: Literal["new", "del"]) -> AddrEvent | None:
    # IFA_LOCAL is the interface's own address for IPv4 (IFA_ADDRESS is
    # the peer on point-to-point links); IPv6 only has IFA_ADDRESS.
    raw = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
    if raw is None:
        return None
    flags = msg.get_attr("IFA_FLAGS")
    return AddrEvent(
        kind=kind,
        ifindex=int(msg["index"]),
        address=ipaddress.ip_interface(f"{raw}/{int(msg['prefixlen'])}"),
        label=msg.get_attr("IFA_LABEL"),
        flags=int(flags if flags is not None else msg["flags"]),
    )


class LinkMonitor:
    """Link and address events plus the interface queries the daemon needs.

    ``fileno()`` is for ``loop.add_reader``; the reader calls
    :meth:`drain`, which returns every pending event without blocking. An
    :class:`Overrun` in the list means events were lost: re-query the
    links and addresses that matter.
    """

    def __init__(self, netlink: Netlink | None = None) -> None:
        self._owns_netlink = netlink is None
        self.netlink = netlink if netlink is not None else Netlink()
        self._marshal = MarshalRtnl()
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        try:
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _EVENT_RCVBUF)
            except PermissionError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _EVENT_RCVBUF)
            sock.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
        except BaseException:
            sock.close()
            raise
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()

    def drain(self) -> list[Event]:
        """Every queued event, oldest first; empty when there is none."""
        events: list[Event] = []
        while True:
            try:
                data = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return events
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    log.warning("netlink event queue overrun: events were lost")
                    events.append(Overrun())
                    continue
                raise
            for msg in self._marshal.parse(data):
                kind: Literal["new", "del"]
                mtype = msg["header"]["type"]
                if mtype in (RTM_NEWLINK, RTM_DELLINK):
                    kind = "new" if mtype == RTM_NEWLINK else "del"
                    events.append(_to_link_event(msg, kind))
                elif mtype in (RTM_NEWADDR, RTM_DELADDR):
                    kind = "new" if mtype == RTM_NEWADDR else "del"
                    event = _to_addr_event(msg, kind)
                    if event is not None:
                        events.append(event)

    # -- queries (through the netlink worker) ------------------------------------

    @staticmethod
    def _link(ipr: Any, ifname: str) -> Any:
        index = ifindex_of(ipr, ifname)
        links = ipr.get_links(index)
        if not links:
            raise InterfaceNotFoundError(ifname)
        return links[0]

    def link_state(self, ifname: str) -> bool:
        """Whether *ifname* is up and running (keepalived's "interface up")."""
        flags = self.netlink.call(lambda ipr: int(self._link(ipr, ifname)["flags"]))
        return bool(flags & IFF_UP) and bool(flags & IFF_RUNNING)

    def link_event(self, ifname: str) -> LinkEvent:
        """The current state of *ifname*, shaped like an event (for resyncs)."""
        return self.netlink.call(lambda ipr: _to_link_event(self._link(ipr, ifname), "new"))

    def ifindex(self, ifname: str) -> int:
        """Index of *ifname*, without a netlink round trip.

        ``SIOCGIFINDEX`` on the event socket, so the answer is for the
        namespace the monitor watches even if the calling thread is in
        another one (``if_nametoindex`` would ask the caller's).
        """
        request = struct.pack("16s24x", ifname.encode())
        try:
            reply = fcntl.ioctl(self._sock.fileno(), _SIOCGIFINDEX, request)
        except OSError as exc:
            raise InterfaceNotFoundError(ifname) from exc
        return int(struct.unpack_from("=i", reply, 16)[0])

    def mac(self, ifname: str) -> bytes:
        """The hardware address of *ifname*, as 6 bytes."""
        text = self.netlink.call(lambda ipr: self._link(ipr, ifname).get_attr("IFLA_ADDRESS"))
        if not text:
            raise ValueError(f"{ifname!r} has no hardware address")
        return bytes.fromhex(str(text).replace(":", ""))

    # -- VMAC --------------------------------------------------------------------------

    def create_macvlan(
        self,
        parent: str,
        name: str,
        mac: bytes | str,
        *,
        mode: str = "private",
        up: bool = True,
        ipv6_autoconf: bool = True,
    ) -> bool:
        """Create the ``use_vmac`` interface *name* on *parent*; False if reused.

        Mode ``private`` is keepalived's (``vrrp_vmac.c``): the macvlan
        never talks to its siblings. Like keepalived, an existing macvlan
        of that name is reused when it sits on *parent* (its MAC is set if
        it differs) and is deleted and re-created when it sits elsewhere; an
        existing interface of another kind is never touched (error).

        ``ipv6_autoconf=False`` sets ``addr_gen_mode`` to none before the
        link comes up, so the kernel generates no link-local from the
        virtual MAC (RFC 5798 §7.4; keepalived does this for IPv6 VMACs and
        then adds the parent's link-local itself, which the daemon can do
        with ``AddressManager``).
        """
        if mode not in MACVLAN_MODES:
            raise ValueError(f"unknown macvlan mode {mode!r}")
        address = mac if isinstance(mac, str) else ":".join(f"{b:02x}" for b in mac)

        def create(ipr: Any) -> bool:
            parent_index = ifindex_of(ipr, parent)
            created = False
            if not self._keep_macvlan(ipr, name, parent_index):
                ipr.link(
                    "add",
                    ifname=name,
                    kind="macvlan",
                    link=parent_index,
                    macvlan_mode=mode,
                    address=address,
                )
                created = True
            index = ifindex_of(ipr, name)
            if not created:
                log.debug("macvlan %s already exists, reusing it", name)
                ipr.link("set", index=index, address=address)
            if not ipv6_autoconf:
                _write_sysctl(f"net/ipv6/conf/{name}/addr_gen_mode", "1")
            if up:
                ipr.link("set", index=index, state="up")
            return created

        return self.netlink.call(create)

    def _keep_macvlan(self, ipr: Any, name: str, parent_index: int) -> bool:
        """Whether a macvlan *name* already sits on the parent (reused as it is).

        One on another parent is deleted (False: create it again); an
        interface of another kind is never touched (FileExistsError).
        """
        found = ipr.link_lookup(ifname=name)
        if not found:
            return False
        existing = self._link(ipr, name)
        info = existing.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
        if kind != "macvlan":
            raise FileExistsError(
                errno.EEXIST, f"{name!r} exists and is not a macvlan ({kind})"
            )
        if existing.get_attr("IFLA_LINK") != parent_index:
            log.info("macvlan %s sits on another parent: re-creating it", name)
            ipr.link("del", index=found[0])
            return False
        return True

    def delete_link(self, name: str) -> bool:
        """Delete interface *name*; False if it did not exist."""

        def delete(ipr: Any) -> bool:
            found = ipr.link_lookup(ifname=name)
            if not found:
                return False
            try:
                ipr.link("del", index=found[0])
            except Exception as exc:
                if getattr(exc, "code", None) == errno.ENODEV:
                    return False
                raise
            return True

        return self.netlink.call(delete)

    def close(self) -> None:
        """Close the event socket, and the netlink worker if we own it."""
        if self._sock.fileno() != -1:
            self._sock.close()
        if self._owns_netlink:
            self.netlink.close()

    def __enter__(self) -> LinkMonitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
