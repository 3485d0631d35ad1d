"""Configured interfaces that do not exist: keepalived's ``dynamic_interfaces`` rule.

Without ``dynamic_interfaces`` keepalived refuses a configuration that names
an interface the kernel does not have ("Non-existent interface specified in
configuration") and exits; with it, the instance waits in FAULT for the
interface to be created. vrrpd applies the same rule at start and on reload
(a refused reload keeps the running configuration), before any VIP moves.
"""

from __future__ import annotations

import socket
from typing import Callable, Iterator

from .config.model import Config


def configured_interfaces(config: Config) -> Iterator[tuple[str, str]]:
    """(instance name, interface) for each interface an instance needs: its own and its VIPs' ``dev``.

    A VMAC is vrrpd's to create: its parent is what must exist.
    """
    for name, inst in config.instances.items():
        if inst.interface:
            yield name, inst.interface
        for vip in (*inst.vips, *inst.evips):
            if vip.dev and vip.dev != inst.use_vmac:
                yield name, vip.dev


def exists(ifname: str) -> bool:
    """Whether the kernel has *ifname* in the daemon's namespace."""
    try:
        socket.if_nametoindex(ifname)
    except OSError:
        return False
    return True


def missing_interfaces(config: Config, present: Callable[[str], bool] = exists) -> list[str]:
    """The refusal for each missing interface, or nothing when ``dynamic_interfaces`` allows them."""
    if config.global_defs.dynamic_interfaces:
        return []
    return [f"({name}) interface {ifname} does not exist (set dynamic_interfaces to wait for it)"
            for name, ifname in configured_interfaces(config) if not present(ifname)]
