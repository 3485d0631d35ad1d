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
from ipaddress import IPv6Interface

from .config.model import Config, Instance, VirtualAddress
from .io import InterfaceNotFoundError, routing
from .io.addresses import AddressManager, AddressOptions
from .io.announce import Announcer
from .io.links import LinkMonitor
from .io.sockets import link_local_ipv6

log = logging.getLogger("vrrpd")


def vmac_address(inst: Instance) -> str:
    """RFC 5798 §7.3 virtual MAC: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6), unless configured."""
    if inst.vmac_mac is not None:
        return inst.vmac_mac
    return f"00:00:5e:00:{'02' if inst.family == 'inet6' else '01'}:{inst.virtual_router_id:02x}"


def _address_options(vip: VirtualAddress) -> AddressOptions:
    return AddressOptions(peer=vip.peer, noprefixroute=vip.noprefixroute, home=vip.home, mngtmpaddr=vip.mngtmpaddr)


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
        self._promoted: dict[str, str] = {}  # interface -> promote_secondaries before we set it

    async def add_vip(self, vip: VirtualAddress, interface: str | None) -> None:
        await self.addresses.add(vip.address, vip.dev or interface, brd=str(vip.brd) if vip.brd else None,
                                 scope=vip.scope, label=vip.label, preferred_lft=vip.preferred_lft,
                                 options=_address_options(vip))

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add or remove every VIP, eVIP and route; one refused by the kernel never stops the others."""
        if not present and self.dont_release and self._stopping.is_set():
            return
        for vip in (*cfg.vips, *cfg.evips):
            try:
                if present:
                    await self.add_vip(vip, cfg.interface)
                else:
                    await self.addresses.delete(vip.address, vip.dev or cfg.interface, options=_address_options(vip))
            except InterfaceNotFoundError as exc:
                if present:  # nothing to remove from an interface that is not there (dynamic_interfaces)
                    log.error("(%s) cannot add %s: %s", cfg.name, vip.address, exc)
            except (OSError, LookupError) as exc:
                log.error("(%s) cannot %s %s: %s", cfg.name, "add" if present else "remove", vip.address, exc)
        await self.set_routes(cfg, present=present)

    async def set_routes(self, cfg: Instance, *, present: bool, only_missing_from: Instance | None = None) -> None:
        """virtual_routes then virtual_rules (rules first when removing), less those ``only_missing_from`` keeps."""
        kept_routes = only_missing_from.virtual_routes if only_missing_from is not None else ()
        kept_rules = only_missing_from.virtual_rules if only_missing_from is not None else ()
        await routing.apply(self.addresses, tuple(r for r in cfg.virtual_routes if r not in kept_routes),
                            tuple(r for r in cfg.virtual_rules if r not in kept_rules),
                            present=present, default_dev=cfg.interface, owner=cfg.name)

    async def set_statics(self, config: Config, *, present: bool, keep: Config | None = None) -> None:
        """static_ipaddress/routes/rules: set at start, diffed on reload, removed at stop (keepalived)."""
        addresses = [a for a in config.static_addresses if keep is None or a not in keep.static_addresses]
        if present:
            for address in addresses:
                try:
                    await self.add_vip(address, config.global_defs.default_interface)
                except (OSError, LookupError) as exc:
                    log.error("(static) cannot add %s: %s", address.address, exc)
        routes = tuple(r for r in config.static_routes if keep is None or r not in keep.static_routes)
        rules = tuple(r for r in config.static_rules if keep is None or r not in keep.static_rules)
        await routing.apply(self.addresses, routes, rules, present=present, default_dev=None, owner="static")
        if not present:
            for address in addresses:
                try:
                    await self.addresses.delete(address.address, address.dev, options=_address_options(address))
                except (OSError, LookupError) as exc:
                    log.error("(static) cannot remove %s: %s", address.address, exc)

    def promote_secondaries(self, ifname: str) -> None:
        """keepalived's ``promote_secondaries``: the interface keeps its other addresses when a VIP's primary goes.

        The value found is restored at stop, as keepalived does.
        """
        path = f"/proc/sys/net/ipv4/conf/{ifname}/promote_secondaries"
        try:
            with open(path, encoding="ascii") as handle:
                self._promoted.setdefault(ifname, handle.read().strip())
            with open(path, "w", encoding="ascii") as handle:
                handle.write("1\n")
        except OSError as exc:
            log.error("cannot set promote_secondaries on %s: %s", ifname, exc)

    def restore_promote_secondaries(self) -> None:
        for ifname, value in self._promoted.items():
            try:
                with open(f"/proc/sys/net/ipv4/conf/{ifname}/promote_secondaries", "w", encoding="ascii") as handle:
                    handle.write(f"{value}\n")
            except OSError:
                pass  # the interface went away

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

    async def first_vmac(self, cfg: Instance, *, dynamic_interfaces: bool) -> None:
        """Create an instance's VMAC; with dynamic_interfaces its parent may not exist yet (made when it does)."""
        try:
            await self.create_vmac(cfg)
        except InterfaceNotFoundError:
            if not dynamic_interfaces:
                raise
            log.warning("(%s) interface %s does not exist yet: VMAC %s made when it does", cfg.name,
                        cfg.interface, cfg.use_vmac)

    def release_vmacs(self) -> None:
        """At stop: delete the VMACs this daemon created, unless told to leave them."""
        if not self.dont_release:
            for vmac in self.vmacs:
                self.links.delete_link(vmac)
