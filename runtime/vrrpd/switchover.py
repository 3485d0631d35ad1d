"""Runtime priorities and the planned switchover (``vrrpctl priority``, ``vrrpctl switchover``).

A runtime priority replaces the configured one as the base tracker weights
are added to; it lives in the daemon only, never in the configuration, and is
dropped by ``vrrpctl priority NAME --reset``, a reload or a restart.

The switchover moves the master without an interval with no master: the node
that takes over first configures the VIPs and announces them (both nodes hold
them for a moment; clients follow the announcement), and only then sends the
advert whose higher priority makes the old master let go. keepalived's way
(raise the priority in the file, reload) waits for Master_Down instead and
lets the old master drop the VIPs while clients still send to it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from .core.fsm import State
from .core.timers import OWNER_PRIORITY

if TYPE_CHECKING:
    from .config.model import Instance
    from .instance import InstanceRuntime

log = logging.getLogger("vrrpd")

#: the highest priority a non-owner can advertise
MAX_PRIORITY = OWNER_PRIORITY - 1


class SwitchoverRefused(Exception):
    """The request cannot be carried out; the message says why (sent back to vrrpctl)."""


class SwitchoverHost(Protocol):
    """What a switchover needs of the daemon: its instances, and their VIPs put on the host."""

    instances: dict[str, InstanceRuntime]

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add (or remove) every VIP, eVIP and route of the instance."""

    async def announce(self, cfg: Instance, count: int) -> None:
        """``count`` rounds of GARP / unsolicited NA for the instance's VIPs."""


def instance(daemon: SwitchoverHost, request: dict[str, Any]) -> InstanceRuntime:
    """The instance a control request names, or a refusal that lists the known ones."""
    name = request.get("instance")
    rt = daemon.instances.get(name) if isinstance(name, str) else None
    if rt is None:
        raise SwitchoverRefused(f"no instance {name!r}; instances: {', '.join(sorted(daemon.instances)) or 'none'}")
    return rt


def set_runtime_priority(rt: InstanceRuntime, priority: int | None) -> None:
    """Replace (or, with None, restore) the configured priority until reload or restart."""
    if rt.cfg.priority == OWNER_PRIORITY:
        raise SwitchoverRefused(f"{rt.name} is the address owner (priority 255): its priority never changes")
    if priority is not None and not 1 <= priority <= MAX_PRIORITY:
        raise SwitchoverRefused(f"priority {priority} out of range 1..{MAX_PRIORITY}")
    rt.priority_override = priority
    log.info("(%s) runtime priority %s", rt.name, "reset" if priority is None else priority)
    rt.update_tracking()


def _outranking(rt: InstanceRuntime) -> int:
    """The runtime priority that puts this node's effective priority above the current master's."""
    master = rt.machine.master_priority or 0
    if master >= MAX_PRIORITY:
        raise SwitchoverRefused(f"{rt.name}: the master advertises priority {master}, which cannot be outranked")
    wanted = max(master + 1, rt.machine.effective_priority)
    base = wanted - sum(rt.tracking.offsets.values())
    if not 1 <= base <= MAX_PRIORITY:
        raise SwitchoverRefused(f"{rt.name}: tracker weights keep the effective priority from reaching {wanted}")
    return base


async def switchover(daemon: SwitchoverHost, rt: InstanceRuntime) -> dict[str, Any]:
    """Make this node MASTER now: VIPs and announcement first, then the advert that retires the old master."""
    machine = rt.machine
    if machine.state is State.MASTER:
        return {"changed": False, "state": "MASTER", "runtime_priority": rt.priority_override}
    if machine.state is not State.BACKUP:
        raise SwitchoverRefused(f"{rt.name} is {machine.state.name}: only a BACKUP can take over")
    previous = str(machine.master_address) if machine.master_address is not None else None
    set_runtime_priority(rt, _outranking(rt))
    await daemon.set_addresses(rt.cfg, present=True)
    await daemon.announce(rt.cfg, 1)
    rt.apply(machine.force_master(asyncio.get_running_loop().time()))
    if machine.state is not State.MASTER:  # a fault arrived meanwhile: do not keep the VIPs
        await daemon.set_addresses(rt.cfg, present=False)
        raise SwitchoverRefused(f"{rt.name} went {machine.state.name} during the switchover")
    log.info("(%s) switchover: took over from %s with runtime priority %d", rt.name, previous,
             rt.priority_override)
    return {"changed": True, "state": "MASTER", "previous_master": previous,
            "runtime_priority": rt.priority_override, "effective_priority": machine.effective_priority}


async def switchover_command(daemon: SwitchoverHost, request: dict[str, Any]) -> dict[str, Any]:
    """``{"instance": NAME}``: take over now (the control socket's ``switchover``)."""
    try:
        return await switchover(daemon, instance(daemon, request))
    except SwitchoverRefused as exc:
        return {"ok": False, "error": str(exc)}


async def priority_command(daemon: SwitchoverHost, request: dict[str, Any]) -> dict[str, Any]:
    """``{"instance": NAME, "priority": N}`` sets a runtime priority, ``"priority": null`` resets it."""
    try:
        rt = instance(daemon, request)
        priority = request.get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise SwitchoverRefused(f"priority must be an integer, not {priority!r}")
        set_runtime_priority(rt, priority)
    except SwitchoverRefused as exc:
        return {"ok": False, "error": str(exc)}
    return {"runtime_priority": rt.priority_override, "effective_priority": rt.machine.effective_priority}
