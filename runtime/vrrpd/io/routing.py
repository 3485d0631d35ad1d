"""Routes and policy rules in the terms netlink needs, built from the configuration.

``virtual_routes``/``virtual_rules`` follow the MASTER state; ``static_routes``
and ``static_rules`` are set once at start. Both are written in ``ip route`` /
``ip rule`` syntax and installed as ``ip`` would install them: a route's type
(``unreachable``, ``prohibit``, ``throw``, ``blackhole``) is the kernel route
type, not an on-link route to the prefix.

The requests are the keyword arguments of pyroute2's ``IPRoute.route()`` and
``IPRoute.rule()``, with numbers rather than names wherever the two pyroute2
versions the runtime supports (Debian 12's 0.7.2, PyPI's 0.9.x) could read a
name differently.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any

from vrrpd.config.model import NextHop, VirtualRoute, VirtualRule
from vrrpd.io import InterfaceNotFoundError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RTPROT_KEEPALIVED = 18
"""Route protocol keepalived tags its routes with (``ip route`` shows "proto keepalived")."""

ROUTE_TYPES = {"unicast": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9}
ROUTE_SCOPES = {"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
#: the names ``ip route`` and keepalived accept for ``protocol`` (/etc/iproute2/rt_protos)
ROUTE_PROTOCOLS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
                   "mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
                   "keepalived": 18, "babel": 42, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189,
                   "eigrp": 192}
#: RTA_PREF values (ICMPV6_ROUTER_PREF_*)
ROUTE_PREFS = {"medium": 0, "high": 1, "low": 3}
RTNH_F_ONLINK = 4
RTAX_LOCK_MTU = 1 << 2     # RTAX_LOCK bit of RTAX_MTU (2)
#: FRA action of ``ip rule`` (FR_ACT_*)
RULE_ACTIONS = {"table": 1, "goto": 2, "nop": 3, "blackhole": 6, "unreachable": 7, "prohibit": 8}
FIB_RULE_INVERT = 0x2


def ifindex_of(ipr: Any, ifname: str) -> int:
    """Index of *ifname* via netlink, or :class:`InterfaceNotFoundError`."""
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise InterfaceNotFoundError(ifname)
    return int(found[0])


def _family_of(*addresses: Any, default: int = socket.AF_INET) -> int:
    for address in addresses:
        if address is not None:
            return socket.AF_INET if address.version == 4 else socket.AF_INET6
    return default


@dataclass(frozen=True, slots=True)
class Route:
    """One route, in the terms netlink needs.

    *dst* None means the default route; *dev* may be omitted when *via* is
    on-link elsewhere or the route is not a unicast one. *blackhole* is the
    older spelling of ``type="blackhole"``.
    """

    dst: IPNetwork | None = None
    via: IPAddress | None = None
    dev: str | None = None
    src: IPAddress | None = None
    table: int | None = None
    metric: int | None = None
    blackhole: bool = False
    family: int = socket.AF_INET
    type: str = "unicast"
    scope: str | int | None = None
    protocol: str | int | None = None
    onlink: bool = False
    from_prefix: IPNetwork | None = None
    mtu: int | None = None
    mtu_lock: bool = False
    advmss: int | None = None
    pref: str | None = None
    nexthops: tuple[NextHop, ...] = ()

    @property
    def kind(self) -> str:
        return "blackhole" if self.blackhole else self.type

    def request(self, ipr: Any) -> dict[str, Any]:
        """Keyword arguments for ``IPRoute.route()`` (the same for add and del)."""
        family = _family_of(self.dst, self.via, default=self.family)
        if self.dst is None:
            spec: dict[str, Any] = {"dst": "0.0.0.0" if family == socket.AF_INET else "::", "dst_len": 0}
        else:
            spec = {"dst": str(self.dst.network_address), "dst_len": self.dst.prefixlen}
        spec["family"] = family
        spec["type"] = ROUTE_TYPES[self.kind]
        spec["proto"] = _protocol(self.protocol)
        optional = {
            "gateway": str(self.via) if self.via is not None else None,
            "oif": ifindex_of(ipr, self.dev) if self.dev is not None else None,
            "prefsrc": str(self.src) if self.src is not None else None,
            "table": self.table,
            "priority": self.metric,
            "scope": ROUTE_SCOPES.get(self.scope, self.scope) if self.scope is not None else None,  # type: ignore[arg-type]
            "flags": RTNH_F_ONLINK if self.onlink else None,
            "pref": ROUTE_PREFS[self.pref] if self.pref is not None else None,
        }
        spec.update({key: value for key, value in optional.items() if value is not None})
        if self.from_prefix is not None:
            spec["src"] = str(self.from_prefix.network_address)
            spec["src_len"] = self.from_prefix.prefixlen
        metrics = self._metrics()
        if metrics:
            spec["metrics"] = metrics
        if self.nexthops:
            spec["multipath"] = [_nexthop(ipr, hop) for hop in self.nexthops]
        return spec

    def _metrics(self) -> dict[str, int]:
        metrics = {}
        if self.mtu is not None:
            metrics["RTAX_MTU"] = self.mtu
            if self.mtu_lock:
                metrics["RTAX_LOCK"] = RTAX_LOCK_MTU
        if self.advmss is not None:
            metrics["RTAX_ADVMSS"] = self.advmss
        return metrics

    def __str__(self) -> str:
        return f"{self.kind} {self.dst or 'default'}"


def _protocol(protocol: str | int | None) -> int:
    if protocol is None:
        return RTPROT_KEEPALIVED
    return ROUTE_PROTOCOLS[protocol] if isinstance(protocol, str) else protocol


def _nexthop(ipr: Any, hop: NextHop) -> dict[str, Any]:
    """One ``multipath`` entry: ``hops`` is the weight minus one, as in ``rtnexthop``."""
    entry: dict[str, Any] = {"hops": hop.weight - 1}
    if hop.via is not None:
        entry["gateway"] = str(hop.via)
    if hop.dev is not None:
        entry["oif"] = ifindex_of(ipr, hop.dev)
    if hop.onlink:
        entry["flags"] = RTNH_F_ONLINK
    return entry


def route_from_config(vroute: VirtualRoute, default_dev: str | None) -> Route:
    """The route of a configuration line; *default_dev* (the instance's interface) for unicast routes only.

    The kernel refuses a device on a blackhole route, and an unreachable,
    prohibit or throw route needs none: those get one only when written.
    """
    if vroute.type == "blackhole":
        dev = None
    elif vroute.type != "unicast" or vroute.nexthops:
        dev = vroute.dev
    else:
        dev = vroute.dev or default_dev
    return Route(dst=vroute.to, via=vroute.via, dev=dev, src=vroute.src, table=vroute.table,  # type: ignore[arg-type]
                 metric=vroute.metric, family=socket.AF_INET6 if vroute.to.version == 6 else socket.AF_INET,
                 type=vroute.type, scope=vroute.scope, protocol=vroute.protocol, onlink=vroute.onlink,
                 from_prefix=vroute.from_prefix, mtu=vroute.mtu, mtu_lock=vroute.mtu_lock, advmss=vroute.advmss,
                 pref=vroute.pref, nexthops=vroute.nexthops)


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy routing rule (``ip rule``), from a ``VirtualRule``."""

    rule: VirtualRule

    def request(self) -> dict[str, Any]:
        """Keyword arguments for ``IPRoute.rule()`` (the same for add and del)."""
        r = self.rule
        spec: dict[str, Any] = {"family": socket.AF_INET if r.family == "inet" else socket.AF_INET6,
                                "action": RULE_ACTIONS[r.action]}
        for name, prefix in (("src", r.from_prefix), ("dst", r.to_prefix)):
            if prefix is not None:
                spec[name] = str(prefix.network_address)
                spec[f"{name}_len"] = prefix.prefixlen
        optional = {
            "table": r.table if r.action == "table" else None,
            "priority": r.preference,
            "iifname": r.iif, "oifname": r.oif,
            "fwmark": r.fwmark, "fwmask": r.fwmask,
            "tos": r.tos, "goto": r.goto,
            "suppress_prefixlength": r.suppress_prefixlength,
            "l3mdev": 1 if r.l3mdev else None,
            "flags": FIB_RULE_INVERT if r.invert else None,
        }
        spec.update({key: value for key, value in optional.items() if value is not None})
        if r.action == "table" and r.table is None and not r.l3mdev:
            spec["table"] = 254  # `ip rule add` without a table looks up main
        return spec

    def __str__(self) -> str:
        return str(self.rule)


async def apply(manager: Any, routes: tuple[VirtualRoute, ...], rules: tuple[VirtualRule, ...], *,
                present: bool, default_dev: str | None, owner: str) -> None:
    """Add (rules after routes) or remove (rules first) a set of routes and rules through *manager*.

    *manager* is the daemon's ``AddressManager``. One entry the kernel refuses
    is logged with *owner* (an instance name or "static") and never stops the
    others, as keepalived carries on past a failed netlink request.
    """
    async def one(kind: str, entry: Any, add: Any, delete: Any) -> None:
        try:
            await (add(entry) if present else delete(entry))
        except (OSError, LookupError) as exc:
            log.error("(%s) cannot %s %s %s: %s", owner, "add" if present else "remove", kind, entry, exc)

    async def do_routes() -> None:
        for vroute in routes:
            await one("route", route_from_config(vroute, default_dev), manager.add_route, manager.delete_route)

    async def do_rules() -> None:
        for vrule in rules:
            await one("rule", Rule(vrule), manager.add_rule, manager.delete_rule)

    if present:
        await do_routes()
        await do_rules()
    else:
        await do_rules()
        await do_routes()
