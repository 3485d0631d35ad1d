"""Virtual addresses and routes, through the daemon's one netlink handle.

:class:`Netlink` owns a pyroute2 ``IPRoute`` and a single worker thread that
makes every call on it. Two reasons for the thread:

- netlink calls block, and the daemon's event loop must not (an advert at a
  10 ms interval cannot wait for a slow route dump);
- pyroute2 0.9's synchronous ``IPRoute`` drives a private asyncio loop of its
  own, so it raises "Cannot run the event loop while another loop is
  running" when called from the daemon's loop thread, and it must be used
  from the thread that created it. Creating and using it only in the worker
  satisfies both 0.9.x and Debian 12's 0.7.2.

:class:`AddressManager` is the VIP/eVIP/virtual_routes API on top: async
methods for the event loop, ``*_sync`` twins (same thread, blocking) for
shutdown paths and tests. Adding what exists and deleting what is absent
succeed quietly, because keepalived's lifecycle does both routinely (startup
removes configured VIPs that may not be there; a reload re-adds).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from vrrpd.io import InterfaceNotFoundError, lazy_pyroute2
from vrrpd.io.routing import RTPROT_KEEPALIVED, Route, Rule, ifindex_of

__all__ = ["RTPROT_KEEPALIVED", "AddressManager", "AddressOptions", "Netlink", "Route", "Rule", "ifindex_of"]

log = logging.getLogger(__name__)

T = TypeVar("T")
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Broadcast = Literal["+", "-"] | ipaddress.IPv4Address | str | None

FOREVER = 0xFFFFFFFF
"""Lifetime meaning "forever" (``preferred_lft forever``)."""

IFA_F_NODAD = 0x02
IFA_F_HOMEADDRESS = 0x10
IFA_F_MANAGETEMPADDR = 0x100
IFA_F_NOPREFIXROUTE = 0x200

SCOPES = {"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
"""``scope`` names of ``ip addr``/keepalived, as kernel values."""

SYNC_TIMEOUT = 30.0
"""Upper bound for one netlink call; a hung kernel call must not hang shutdown."""


def _errno(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)  # pyroute2 NetlinkError
    if isinstance(code, int):
        return code
    return getattr(exc, "errno", None)


def discard_unclaimed(ipr: Any) -> int:
    """Drop the replies no request waits for any more; how many there were.

    pyroute2 0.9 ends a request that expects one answer (``link("get")``,
    ``link_lookup``, ``get_links(index)``) at that answer, before the
    kernel's ACK that follows it; the ACK then lands in the handle's
    catch-all queue (tag 0), which only a handle bound to multicast groups
    ever reads. This one is never bound, so without this every such call
    kept one message for good: each a small ``bytes`` cut from a 256 KiB
    receive buffer, which glibc keeps as a 4 KiB mapping of its own, about
    one per instance per link flap in the daemon's RSS. 0.7.2 has no such
    queue (nothing to do).
    """
    root = getattr(getattr(getattr(ipr, "asyncore", None), "msg_queue", None), "root", None)
    if not isinstance(root, asyncio.Queue):
        return 0
    dropped = 0
    while not root.empty():
        root.get_nowait()
        root.task_done()
        dropped += 1
    return dropped


class Netlink:
    """One ``IPRoute`` handle, confined to one worker thread.

    ``call(fn, ...)`` runs ``fn(ipr, ...)`` in the worker and waits;
    ``await acall(fn, ...)`` does the same without blocking the loop. Calls
    are serialised in submission order, which keeps "add VIP then add
    route via it" ordered without the caller awaiting each step.

    The worker thread (and so the handle) is started by the first call and
    inherits that caller's network namespace; the daemon runs wholly inside
    its namespace, so this only matters to tests that ``setns()`` a thread.
    """

    def __init__(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="vrrpd-netlink"
        )
        self._ipr: Any = None
        self._worker: int | None = None
        self._closed = False
        self._lock = threading.Lock()

    def _handle(self) -> Any:
        self._worker = threading.get_ident()
        if self._ipr is None:
            lazy_pyroute2.install()
            from pyroute2.iproute.linux import IPRoute  # imported lazily: the pure modules do not need it

            self._ipr = IPRoute()
        return self._ipr

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        ipr = self._handle()
        try:
            return fn(ipr, *args)
        finally:
            discard_unclaimed(ipr)

    def _submit(self, fn: Callable[..., T], args: tuple[Any, ...]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("netlink handle is closed")
            return self._executor.submit(self._run, fn, args)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = SYNC_TIMEOUT) -> T:
        """Run ``fn(ipr, *args)`` in the worker thread and return its result."""
        if threading.get_ident() == self._worker:
            return self._run(fn, args)  # already in the worker: waiting on submit() would deadlock
        return self._submit(fn, args).result(timeout)

    async def acall(self, fn: Callable[..., T], *args: Any) -> T:
        """Awaitable :meth:`call`: the event loop keeps running meanwhile."""
        return await asyncio.wrap_future(self._submit(fn, args))

    def close(self) -> None:
        """Close the handle in its own thread, then stop the worker (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True

        def shutdown() -> None:
            if self._ipr is not None:
                self._ipr.close()
                self._ipr = None

        self._executor.submit(shutdown).result(SYNC_TIMEOUT)
        self._executor.shutdown(wait=True)


def scope_value(scope: str | int) -> int:
    """Kernel value of an address scope given by name or number."""
    if isinstance(scope, int):
        return scope
    try:
        return SCOPES[scope]
    except KeyError:
        raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})") from None


def broadcast_for(addr: ipaddress.IPv4Interface, brd: Broadcast) -> str | None:
    """The ``IFA_BROADCAST`` value for keepalived's ``brd`` argument.

    ``+`` sets the host bits, ``-`` clears them, as ``ip addr add`` does,
    and like ``ip`` only for prefixes of /30 or shorter (a /31 or /32 has
    no broadcast address to compute). An explicit address is used as is.
    """
    if brd is None:
        return None
    if brd in ("+", "-"):
        if addr.network.prefixlen > 30:
            return None
        network = addr.network
        return str(network.broadcast_address if brd == "+" else network.network_address)
    return str(ipaddress.IPv4Address(brd))


@dataclass(frozen=True, slots=True)
class AddressOptions:
    """The VIP options beyond brd/scope/label (keepalived's ``ip addr`` words)."""

    peer: IPInterface | None = None
    noprefixroute: bool = False
    home: bool = False
    mngtmpaddr: bool = False

    @property
    def flags(self) -> int:
        """IFA_F_* bits; pyroute2 (0.7.2 and 0.9.x) sends bits above 0xff as IFA_FLAGS."""
        flags = IFA_F_NOPREFIXROUTE if self.noprefixroute else 0
        flags |= IFA_F_HOMEADDRESS if self.home else 0
        flags |= IFA_F_MANAGETEMPADDR if self.mngtmpaddr else 0
        return flags


NO_OPTIONS = AddressOptions()


class AddressManager:
    """Adds and removes VIPs and virtual routes; owns the daemon's netlink handle.

    Pass *netlink* to share an existing handle; otherwise one is created
    and closed by :meth:`close`. Expose it to others (``LinkMonitor``) as
    :attr:`netlink` so the daemon keeps a single command socket.
    """

    def __init__(self, netlink: Netlink | None = None) -> None:
        self._owns_netlink = netlink is None
        self.netlink = netlink if netlink is not None else Netlink()

    def close(self) -> None:
        if self._owns_netlink:
            self.netlink.close()

    def __enter__(self) -> AddressManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the operations, run in the worker thread ------------------------------

    @staticmethod
    def _add(
        ipr: Any,
        addr: IPInterface,
        ifname: str,
        brd: Broadcast,
        scope: str | int | None,
        label: str | None,
        preferred_lft: int | None,
        options: AddressOptions = NO_OPTIONS,
    ) -> bool:
        index = ifindex_of(ipr, ifname)
        spec: dict[str, Any] = {
            "index": index,
            "address": str(addr.ip),
            "prefixlen": addr.network.prefixlen,
        }
        if options.peer is not None:
            # point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer (`ip addr add A peer P`)
            spec.update(local=str(addr.ip), IFA_ADDRESS=str(options.peer.ip), prefixlen=options.peer.network.prefixlen)
        if addr.version == 4:
            broadcast = broadcast_for(addr, brd)  # type: ignore[arg-type]
            if broadcast is not None:
                spec["broadcast"] = broadcast
            if scope is not None:
                spec["scope"] = scope_value(scope)
            if label is not None:
                spec["label"] = label
            if options.flags:
                spec["flags"] = options.flags
        else:
            # keepalived ignores scope and label for IPv6 and adds VIPs with
            # nodad, so a VIP is usable the moment it is added.
            spec["flags"] = IFA_F_NODAD | options.flags
            if preferred_lft is None:
                preferred_lft = 0 if addr.network.prefixlen == 128 else FOREVER
            if preferred_lft != FOREVER:
                # Order matters: pyroute2 0.7.2 only honours ``cacheinfo``
                # and drops it if ``preferred_lft`` comes after it; 0.9.x
                # only honours ``preferred_lft``. This order works for both.
                spec["preferred_lft"] = preferred_lft
                spec["valid_lft"] = FOREVER
                spec["cacheinfo"] = {"preferred": preferred_lft, "valid": FOREVER}
        try:
            ipr.addr("add", **spec)
        except Exception as exc:
            if _errno(exc) == errno.EEXIST:
                log.debug("%s already on %s", addr, ifname)
                return False
            if _errno(exc) == errno.ENODEV:
                raise InterfaceNotFoundError(ifname) from exc
            raise
        log.debug("added %s to %s", addr, ifname)
        return True

    @staticmethod
    def _delete(ipr: Any, addr: IPInterface, ifname: str, options: AddressOptions = NO_OPTIONS) -> bool:
        index = ifindex_of(ipr, ifname)
        spec: dict[str, Any] = {"index": index, "address": str(addr.ip), "prefixlen": addr.network.prefixlen}
        if options.peer is not None:
            spec.update(local=str(addr.ip), IFA_ADDRESS=str(options.peer.ip), prefixlen=options.peer.network.prefixlen)
        try:
            ipr.addr("del", **spec)
        except Exception as exc:
            if _errno(exc) in (errno.EADDRNOTAVAIL, errno.ENOENT, errno.ESRCH):
                log.debug("%s not on %s, nothing to delete", addr, ifname)
                return False
            if _errno(exc) == errno.ENODEV:
                raise InterfaceNotFoundError(ifname) from exc
            raise
        log.debug("deleted %s from %s", addr, ifname)
        return True

    @staticmethod
    def _present(ipr: Any, addr: IPInterface, ifname: str) -> bool:
        index = ifindex_of(ipr, ifname)
        family = socket.AF_INET if addr.version == 4 else socket.AF_INET6
        for msg in ipr.get_addr(family=family, index=index):
            if int(msg["index"]) != index:  # older pyroute2 may not filter
                continue
            found = msg.get_attr("IFA_ADDRESS")
            if addr.version == 4:
                found = msg.get_attr("IFA_LOCAL") or found
            if found is None or ipaddress.ip_address(found) != addr.ip:
                continue
            # IPv4 keys addresses by (address, prefix); IPv6 by address only.
            if addr.version == 6 or int(msg["prefixlen"]) == addr.network.prefixlen:
                return True
        return False

    @staticmethod
    def _rule(ipr: Any, command: str, rule: Rule) -> bool:
        try:
            ipr.rule(command, **rule.request())
        except Exception as exc:
            code = _errno(exc)
            if command == "add" and code == errno.EEXIST:
                log.debug("rule %s already present", rule)
                return False
            if command == "del" and code in (errno.ESRCH, errno.ENOENT):
                log.debug("rule %s absent, nothing to delete", rule)
                return False
            raise
        log.debug("%s rule %s", "added" if command == "add" else "deleted", rule)
        return True

    @staticmethod
    def _route(ipr: Any, command: str, route: Route) -> bool:
        try:
            ipr.route(command, **route.request(ipr))
        except Exception as exc:
            code = _errno(exc)
            if command == "add" and code == errno.EEXIST:
                log.debug("route %s already present", route)
                return False
            if command == "del" and code in (errno.ESRCH, errno.ENOENT):
                log.debug("route %s absent, nothing to delete", route)
                return False
            raise
        log.debug("%s route %s", "added" if command == "add" else "deleted", route)
        return True

    # -- async API (event loop) ----------------------------------------------------

    async def add(
        self,
        addr: IPInterface,
        ifname: str,
        *,
        brd: Broadcast = None,
        scope: str | int | None = None,
        label: str | None = None,
        preferred_lft: int | None = None,
        options: AddressOptions = NO_OPTIONS,
    ) -> bool:
        """Add *addr* to *ifname*; True if added, False if it was already there.

        *brd*: ``"+"``, ``"-"`` or an address (IPv4 only). *scope* (a
        name from :data:`SCOPES` or a number) and *label* apply to IPv4
        only, as in keepalived. IPv6 gets ``nodad``; *preferred_lft*
        defaults to 0 for a /128 (deprecated, so never picked as a source)
        and :data:`FOREVER` otherwise.
        """
        return await self.netlink.acall(
            self._add, addr, ifname, brd, scope, label, preferred_lft, options
        )

    async def delete(self, addr: IPInterface, ifname: str, options: AddressOptions = NO_OPTIONS) -> bool:
        """Remove *addr* (with its ``peer`` if it has one) from *ifname*; False if it was not there."""
        return await self.netlink.acall(self._delete, addr, ifname, options)

    async def present(self, addr: IPInterface, ifname: str) -> bool:
        """Whether *ifname* carries *addr* (IPv4: same prefix length too)."""
        return await self.netlink.acall(self._present, addr, ifname)

    async def add_route(self, route: Route) -> bool:
        """Add a virtual route; False if an identical one exists."""
        return await self.netlink.acall(self._route, "add", route)

    async def delete_route(self, route: Route) -> bool:
        """Delete a virtual route; False if it was absent."""
        return await self.netlink.acall(self._route, "del", route)

    async def add_rule(self, rule: Rule) -> bool:
        """Add a policy routing rule; False if an identical one exists."""
        return await self.netlink.acall(self._rule, "add", rule)

    async def delete_rule(self, rule: Rule) -> bool:
        """Delete a policy routing rule; False if it was absent."""
        return await self.netlink.acall(self._rule, "del", rule)

    # -- sync API (shutdown, tests) --------------------------------------------

    def add_sync(
        self,
        addr: IPInterface,
        ifname: str,
        *,
        brd: Broadcast = None,
        scope: str | int | None = None,
        label: str | None = None,
        preferred_lft: int | None = None,
        options: AddressOptions = NO_OPTIONS,
    ) -> bool:
        """Blocking :meth:`add`."""
        return self.netlink.call(self._add, addr, ifname, brd, scope, label, preferred_lft, options)

    def delete_sync(self, addr: IPInterface, ifname: str, options: AddressOptions = NO_OPTIONS) -> bool:
        """Blocking :meth:`delete`."""
        return self.netlink.call(self._delete, addr, ifname, options)

    def present_sync(self, addr: IPInterface, ifname: str) -> bool:
        """Blocking :meth:`present`."""
        return self.netlink.call(self._present, addr, ifname)

    def add_route_sync(self, route: Route) -> bool:
        """Blocking :meth:`add_route`."""
        return self.netlink.call(self._route, "add", route)

    def delete_route_sync(self, route: Route) -> bool:
        """Blocking :meth:`delete_route`."""
        return self.netlink.call(self._route, "del", route)

    def add_rule_sync(self, rule: Rule) -> bool:
        """Blocking :meth:`add_rule`."""
        return self.netlink.call(self._rule, "add", rule)

    def delete_rule_sync(self, rule: Rule) -> bool:
        """Blocking :meth:`delete_rule`."""
        return self.netlink.call(self._rule, "del", rule)
