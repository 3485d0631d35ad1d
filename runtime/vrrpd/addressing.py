"""What a MASTER puts on the host and a BACKUP takes off it: VIPs, eVIPs, routes, announcements, VMACs.

The instances' queues call these (``AddVips``, ``RemoveVips``, ``Announce``),
as do a reload (the VIP difference on a master), the planned switchover and
the link events (a VIP removed behind a master's back, a VMAC deleted). The
kernel work itself is ``io/``'s; this module knows how a configured instance
maps onto it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from ipaddress import IPv6Interface

from .config.model import Instance, VirtualAddress
from .io.addresses import AddressManager, Route
from .io.announce import Announcer
from .io.links import LinkMonitor
from .io.sockets import link_local_ipv6

log = logging.getLogger("vrrpd")


def vmac_address(inst: Instance) -> str:
    """RFC 5798 §7.3 virtual MAC: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6)."""
    return f"00:00:5e:00:{'02' if inst.family == 'inet6' else '01'}:{inst.virtual_router_id:02x}"


def _vip_keys(cfg: Instance) -> set[tuple[str, str | None]]:
    """The (address, device) of every VIP and eVIP: what a reload compares."""
    return {(str(v.address), v.dev or cfg.interface) for v in (*cfg.vips, *cfg.evips)}


class Addressing:
    """The host side of the instances' VIPs, through the daemon's one netlink handle."""

    def __init__(self, addresses: AddressManager, links: LinkMonitor, *, dont_release: bool,
                 stopping: asyncio.Event) -> None:
        self.addresses = addresses
        self.links = links
        #: --dont-release-vrrp: VIPs and VMACs stay when the daemon stops
        self.dont_release = dont_release
        self._stopping = stopping
        self.announcers: dict[str, Announcer] = {}
        #: the VMACs this daemon created (deleted at stop unless dont_release)
        self.vmacs: set[str] = set()
        #: global_defs vrrp_garp_interval of the running configuration
        self.garp_interval = 0.0

    async def add_vip(self, vip: VirtualAddress, interface: str | None) -> None:
        await self.addresses.add(vip.address, vip.dev or interface, brd=str(vip.brd) if vip.brd else None,
                                 scope=vip.scope, label=vip.label)

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add or remove every VIP, eVIP and route; one refused by the kernel never stops the others."""
        if not present and self.dont_release and self._stopping.is_set():
            return
        for vip in (*cfg.vips, *cfg.evips):
            try:
                if present:
                    await self.add_vip(vip, cfg.interface)
                else:
                    await self.addresses.delete(vip.address, vip.dev or cfg.interface)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s %s: %s", cfg.name, "add" if present else "remove", vip.address, exc)
        await self.set_routes(cfg, present=present)

    async def set_routes(self, cfg: Instance, *, present: bool, only_missing_from: Instance | None = None) -> None:
        keep = set(only_missing_from.virtual_routes) if only_missing_from is not None else set()
        for vroute in cfg.virtual_routes:
            if vroute in keep:
                continue
            blackhole = vroute.type == "blackhole"
            # the kernel refuses a device on a blackhole route
            dev = None if blackhole else (vroute.dev or cfg.interface)
            route = Route(dst=vroute.to, via=vroute.via, dev=dev, src=vroute.src, table=vroute.table,
                          metric=vroute.metric, blackhole=blackhole,
                          family=socket.AF_INET6 if vroute.to.version == 6 else socket.AF_INET)
            try:
                if present:
                    await self.addresses.add_route(route)
                else:
                    await self.addresses.delete_route(route)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s route %s: %s", cfg.name, "add" if present else "remove", vroute.to, exc)

    async def reconcile(self, old_cfg: Instance, cfg: Instance) -> None:
        """A reloaded master: remove what the old configuration had alone, add what the new one brings."""
        old_vips, new_vips = _vip_keys(old_cfg), _vip_keys(cfg)
        for v in (*old_cfg.vips, *old_cfg.evips):
            if (str(v.address), v.dev or old_cfg.interface) not in new_vips:
                await self.addresses.delete(v.address, v.dev or old_cfg.interface)
        added = [v for v in (*cfg.vips, *cfg.evips) if (str(v.address), v.dev or cfg.interface) not in old_vips]
        for v in added:
            await self.add_vip(v, cfg.interface)
        await self.set_routes(old_cfg, present=False, only_missing_from=cfg)
        await self.set_routes(cfg, present=True)

    async def announce(self, cfg: Instance, count: int) -> None:
        """``count`` rounds of GARP / unsolicited NA for every VIP, vrrp_garp_interval apart."""
        for round_ in range(count):
            for vip in (*cfg.vips, *cfg.evips):
                ifname = vip.dev or cfg.interface
                try:
                    announcer = self.announcers.get(ifname) or self.announcers.setdefault(ifname, Announcer(ifname))
                    announcer.send(vip.address.ip)
                except OSError as exc:
                    log.warning("(%s) cannot announce %s on %s: %s", cfg.name, vip.address.ip, ifname, exc)
            gap = self.garp_interval or 0
            if gap and round_ + 1 < count:
                await asyncio.sleep(gap)

    async def create_vmac(self, cfg: Instance) -> None:
        """use_vmac: a private macvlan with the virtual MAC carries the VIPs and the adverts."""
        assert cfg.use_vmac and cfg.interface
        ipv6 = cfg.family == "inet6"
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.links.create_macvlan(cfg.interface, cfg.use_vmac, vmac_address(cfg),
                                                    ipv6_autoconf=not ipv6))
        self.vmacs.add(cfg.use_vmac)
        if ipv6:
            # no link-local derived from the shared virtual MAC (every router would have the same):
            # the parent's, so adverts keep a per-router source, as keepalived does
            parent_ll = link_local_ipv6(cfg.interface)
            if parent_ll is not None:
                await self.addresses.add(IPv6Interface(f"{parent_ll}/64"), cfg.use_vmac)

    def release_vmacs(self) -> None:
        """At stop: delete the VMACs this daemon created, unless told to leave them."""
        if not self.dont_release:
            for vmac in self.vmacs:
                self.links.delete_link(vmac)
