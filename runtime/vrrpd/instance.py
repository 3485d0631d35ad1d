"""One configured VRRP instance at run time: its machine, its socket, its side-effect queue.

``InstanceRuntime`` turns a machine's actions into I/O: adverts are sent at
once from the loop; VIP changes, announcements and notifications go through
the instance's queue, worked by one task, so they keep keepalived's order
(advert, VIPs, GARP, then notify) without ever holding the advert path.
``Endpoint`` is the raw socket the instances of one interface share.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, Protocol, assert_never

from .config.model import Instance, SyncGroup
from .core import packet
from .core.fsm import (Action, AddVips, Announce, Log, Machine, Params, RemoveVips, SendAdvert, State,
                       Transition)
from .core.source import fault_reason, judge_source
from .io import InterfaceNotFoundError
from .io.sockets import Prepared, Received, VrrpSocket
from .lateness import Lateness

log = logging.getLogger("vrrpd")

IPAddress = IPv4Address | IPv6Address


def advert_ifname(inst: Instance) -> str:
    """Where adverts go: the VMAC, or its parent with ``vmac_xmit_base`` (the VMAC then only carries VIPs)."""
    if inst.use_vmac and not inst.vmac_xmit_base:
        return inst.use_vmac
    return inst.interface  # type: ignore[return-value]


NO_PEER_FAULT = "no unicast peers"


def endpoint_key(inst: Instance) -> tuple[Any, ...]:
    """What keepalived matches instances on across a reload, and what shares a socket."""
    unicast = bool(inst.unicast_peers)
    return (advert_ifname(inst), inst.family, None if unicast else str(inst.mcast_group), unicast,
            str(inst.unicast_src_ip or inst.mcast_src_ip or ""))


def instance_key(inst: Instance) -> tuple[Any, ...]:
    return (inst.virtual_router_id, *endpoint_key(inst))


class InstanceHost(Protocol):
    """What an instance and its endpoint call back in the daemon that runs them (``daemon.Daemon``).

    A protocol, so that this module needs nothing of the daemon's: the
    daemon imports the instances, never the other way round.
    """

    def count_reject(self, rt: InstanceRuntime | None, exc: packet.PacketError, rcv: Received) -> None:
        """A received advert was dropped (``rt`` None: no instance has its VRID)."""

    def on_transition(self, rt: InstanceRuntime, tr: Transition) -> None:
        """A state change, on the loop, once its actions are queued (sync groups, systemd status)."""

    async def set_addresses(self, cfg: Instance, *, present: bool) -> None:
        """Add (``AddVips``) or remove (``RemoveVips``) every VIP, eVIP and route of the instance."""

    async def announce(self, cfg: Instance, count: int) -> None:
        """``Announce``: ``count`` rounds of GARP / unsolicited NA for the instance's VIPs."""

    async def notify(self, rt: InstanceRuntime, tr: Transition) -> None:
        """The instance's notifications for a ``Transition``: scripts, FIFO line, mail."""

    async def notify_group(self, job: GroupNotify) -> None:
        """A sync group's notifications, queued on the member that completed it."""


class Endpoint:
    """One raw socket shared by the instances on an (interface, family, group).

    The socket is bound to the interface's index and its multicast
    membership goes with the interface: when the interface is deleted the
    socket is closed (``sock`` is None until it comes back) and when an
    interface of that name appears again a new socket is opened on it.
    """

    def __init__(self, host: InstanceHost, inst: Instance, *, missing_ok: bool = False) -> None:
        self.host = host
        self.key = endpoint_key(inst)
        self.unicast = bool(inst.unicast_peers)
        self.family = socket.AF_INET6 if inst.family == "inet6" else socket.AF_INET
        self.ifname: str = advert_ifname(inst)
        self.group = None if self.unicast else inst.mcast_group
        self.configured_src = inst.unicast_src_ip or inst.mcast_src_ip
        # the IPv4 VMAC has no address of its own: it sends from the parent's, as keepalived
        self.source_ifname = inst.interface if self.ifname != inst.interface and self.family == socket.AF_INET else None
        self.rcvbuf = inst.kernel_rx_buf_size
        self.instances: dict[int, InstanceRuntime] = {}
        self.sock: VrrpSocket | None = None
        try:
            self.reopen()
        except InterfaceNotFoundError:
            if not missing_ok:
                raise
            log.warning("interface %s does not exist yet: will use it once created", self.ifname)

    def reopen(self) -> None:
        """(Re)open the socket on the interface's current index; InterfaceNotFoundError if it has none."""
        self.close()
        self.sock = VrrpSocket(self.family, self.ifname, group=self.group, src=self.configured_src,
                               unicast=self.unicast, rcvbuf=self.rcvbuf)
        self.sock.attach(asyncio.get_running_loop(), self.on_packet)

    def follow_link(self, ifindex: int, present: bool, usable: bool, was_usable: bool) -> None:
        """A link event for our interface: close with it, re-open on a new index, re-join when it comes up."""
        if not present:
            if self.sock is not None:
                log.info("interface %s deleted: closing its VRRP socket", self.ifname)
            self.close()
            return
        if self.sock is None or self.sock.ifindex != ifindex:
            log.info("interface %s (re)created: opening its VRRP socket", self.ifname)
            try:
                self.reopen()
            except (InterfaceNotFoundError, OSError) as exc:  # gone again already
                log.warning("cannot open a VRRP socket on %s: %s", self.ifname, exc)
                self.close()
        elif usable and not was_usable:
            try:
                self.sock.rejoin()
            except OSError as exc:
                log.warning("cannot re-join the VRRP group on %s: %s", self.ifname, exc)

    def source_address(self, exclude: frozenset[Any]) -> IPAddress | None:
        """The interface's address to send from now, or None (no socket, no usable address)."""
        if self.sock is None:
            return None
        try:
            return self.sock.source_address(exclude=exclude, via=self.source_ifname)
        except InterfaceNotFoundError:
            return None

    def configured_src_present(self) -> bool:
        """``track_src_ip``: whether the configured source is on the interface now (no socket: no)."""
        if self.sock is None or self.configured_src is None:
            return False
        try:
            return self.sock.has_address(self.configured_src, via=self.source_ifname)
        except InterfaceNotFoundError:
            return False

    def on_packet(self, rcv: Received) -> None:
        payload = rcv.payload
        inst = self.instances.get(payload[1]) if len(payload) >= 2 else None
        try:
            if len(payload) < 2:  # no VRID to dispatch on: a length error, not an unknown VRID
                raise packet.PacketError(packet.Reason.LENGTH, f"{len(payload)} bytes, too short to carry a VRID")
            if inst is None:
                raise packet.PacketError(packet.Reason.VRID, f"VRID {payload[1]}")
            inst.receive(rcv)
        except packet.PacketError as exc:
            self.host.count_reject(inst, exc, rcv)

    def deliver_pending(self) -> None:
        """Dispatch the adverts already queued on the socket, before a Master_Down timer fires."""
        if self.sock is not None:
            self.sock.deliver_pending()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@dataclass(frozen=True, slots=True)
class Heard:
    """The last advert accepted: a byte-identical one from the same source needs no decoding again.

    Only what is not in the bytes is checked again (TTL, source, destination);
    a change of our own parameters (``params`` is replaced on every change)
    forgets it.
    """

    payload: bytes
    src: IPAddress
    dst: IPAddress
    params: Any
    advert: packet.Advert
    vips_differ: bool


@dataclass(frozen=True, slots=True)
class Wire:
    """An advert as it goes on the wire: encoded and checksummed once, sent every interval."""

    advert: packet.Advert
    src: IPAddress
    sock: VrrpSocket
    packets: list[tuple[IPAddress, bytes, Prepared]]


@dataclass
class Tracking:
    """Faults and priority offsets an instance currently has from its trackers."""

    faults: set[str] = field(default_factory=set)
    offsets: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupNotify:
    """Every member of a sync group reached ``state``: run the group's notifications.

    Queued on the member that completed the group, behind its own Transition, so
    group scripts run after the member's VIPs and scripts, as in keepalived.
    """

    group: SyncGroup
    state: State


#: what an instance's queue works, in order: the machine's side effects, then sync group notifications
Job = AddVips | RemoveVips | Announce | Transition | GroupNotify


class InstanceRuntime:
    """One configured instance bound to its machine, socket and side-effect queue."""

    def __init__(self, host: InstanceHost, cfg: Instance, endpoint: Endpoint) -> None:
        self.host = host
        self.cfg = cfg
        self.endpoint = endpoint
        self.loop = asyncio.get_running_loop()
        self.source: IPAddress | None = None
        #: "no source address on IF" while the interface has no usable address (core.source)
        self.source_fault: str | None = None
        self.machine = Machine(self.params(cfg, None))
        self.tracking = Tracking()
        #: ``vrrpctl priority``/``switchover``: replaces cfg.priority until reload or restart
        self.priority_override: int | None = None
        #: how late the timer fired while MASTER (its adverts), exported by the metrics
        self.lateness = Lateness()
        self.jobs: asyncio.Queue[Job] = asyncio.Queue()
        self.worker = asyncio.create_task(self._work(), name=f"vrrp-{cfg.name}")
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.last_transition_wall: float | None = None
        self._mismatch_logged: IPAddress | None = None
        self._wire: Wire | None = None  # the last advert sent, ready to send again
        self._heard: Heard | None = None  # the last advert accepted, already verified
        self.refresh_source()

    # ---- configuration -> machine ---------------------------------------------------------------

    @staticmethod
    def params(cfg: Instance, src: IPAddress | None) -> Params:
        auth_type, auth_data = 0, b""
        if cfg.auth is not None and cfg.version == 2 and cfg.auth.type == "PASS":
            auth_type, auth_data = packet.AUTH_PASS, packet.pass_auth_data(cfg.auth.password)
        return Params(
            vrid=cfg.virtual_router_id, version=cfg.version, priority=cfg.priority,
            interval_cs=round(cfg.advert_int * 100),
            address=src if src is not None else ip_address("::" if cfg.family == "inet6" else "0.0.0.0"),
            vips=tuple(v.address.ip for v in cfg.vips), wants_master=cfg.state == "MASTER",
            preempt=cfg.preempt, preempt_delay=cfg.preempt_delay, auth_type=auth_type, auth_data=auth_data,
            lower_prio_no_advert=cfg.lower_prio_no_advert, higher_prio_send_advert=cfg.higher_prio_send_advert,
            down_timer_adverts=cfg.down_timer_adverts, garp_master_delay=cfg.garp_master_delay,
            garp_master_repeat=cfg.garp_master_repeat, garp_master_refresh=cfg.garp_master_refresh,
            garp_master_refresh_repeat=cfg.garp_master_refresh_repeat,
            garp_lower_prio_delay=cfg.garp_lower_prio_delay, garp_lower_prio_repeat=cfg.garp_lower_prio_repeat)

    @property
    def name(self) -> str:
        return self.cfg.name

    # ---- events in --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Leave INIT at ``now``: the daemon starts every new instance at one instant, after set-up."""
        if self.cfg.no_peer_fault:  # unicast_fault_no_peer: FAULT rather than falling back to multicast
            log.warning("(%s) Cannot use unicast without any peers - going to fault state", self.name)
            self.tracking.faults.add(NO_PEER_FAULT)
            self.apply(self.machine.set_fault(now, True))
            return
        if self.source_fault is not None:
            self.tracking.faults.add(self.source_fault)
            self.apply(self.machine.set_fault(now, True))
        else:
            self.apply(self.machine.start(now))

    def refresh_source(self) -> bool:
        """Ask the kernel for our source address again; True if the source fault came or went.

        Called at creation and on every link or address event: a new address
        goes to the machine at once (a master advertises from it), and the
        verdict's fault is folded with the trackers' by the daemon.
        """
        vips = frozenset(v.address.ip for v in (*self.cfg.vips, *self.cfg.evips))
        tracked = self.endpoint.configured_src_present() if self.cfg.track_src_ip else None
        verdict = judge_source(advert_ifname(self.cfg), self.endpoint.configured_src,
                               self.endpoint.source_address(vips), tracked)
        if verdict.source is not None and verdict.source != self.machine.params.address:
            self.apply(self.machine.set_address(self.loop.time(), verdict.source))
        self.source = verdict.source
        if verdict.fault == self.source_fault:
            return False
        if verdict.fault is not None:
            log.warning("(%s) %s: entering FAULT", self.name, verdict.fault)
        elif self.source_fault is not None:
            log.info("(%s) source address %s usable on %s: leaving FAULT", self.name, verdict.source,
                     self.cfg.use_vmac or self.cfg.interface)
        self.source_fault = verdict.fault
        return True

    def receive(self, rcv: Received) -> None:
        cfg = self.cfg
        if self.endpoint.unicast:
            peer = next((p for p in cfg.unicast_peer_ttls if p.address == rcv.src), None)
            if peer is None:
                raise packet.PacketError(packet.Reason.ADDR_COUNT, f"unicast advert from {rcv.src}, not a peer")
            if cfg.check_unicast_src and not peer.min_ttl <= rcv.ttl <= peer.max_ttl:
                raise packet.PacketError(packet.Reason.TTL, f"TTL/HL {rcv.ttl} not in range {peer.min_ttl} - {peer.max_ttl}")
        elif not rcv.dst.is_multicast:
            raise packet.PacketError(packet.Reason.ADDR_COUNT, "expected multicast advert but received unicast")
        heard = self._heard
        if (heard is not None and heard.payload == rcv.payload and heard.src == rcv.src and heard.dst == rcv.dst
                and heard.params is self.machine.params and (self.endpoint.unicast or rcv.ttl == packet.VRRP_TTL)):
            advert = heard.advert  # the master's advert again: the same bytes were verified already
            if heard.vips_differ:
                self._count_vip_mismatch(rcv.src, advert)
        else:
            advert = self._verify(rcv)
        self.apply(self.machine.receive(self.loop.time(), advert, rcv.src))

    def _verify(self, rcv: Received) -> packet.Advert:
        """Every check of a new advert; remembered, so the next identical one skips them."""
        cfg, p = self.cfg, self.machine.params
        advert = packet.decode(rcv.payload, src=rcv.src, dst=rcv.dst, ttl=None if self.endpoint.unicast else rcv.ttl,
                               verify_v3_ipv4_checksum=not cfg.v3_checksum_as_v2)
        packet.check_for_instance(advert, version=p.version, interval_cs=p.interval_cs,
                                  auth_type=p.auth_type, auth_data=p.auth_data)
        vips_differ = bool(advert.priority) and set(advert.addresses) != set(p.vips)
        if vips_differ:
            self._count_vip_mismatch(rcv.src, advert)
        self._heard = Heard(rcv.payload, rcv.src, rcv.dst, p, advert, vips_differ)
        return advert

    def _count_vip_mismatch(self, src: IPAddress, advert: packet.Advert) -> None:
        """keepalived >= 2.3.3 counts and accepts an advert whose VIPs differ (dropping caused split brains)."""
        rejected = self.machine.counters.rejected
        rejected["addr_list_err"] = rejected.get("addr_list_err", 0) + 1
        if self._mismatch_logged != src:
            self._mismatch_logged = src
            log.warning("(%s) advert from %s carries VIPs %s, ours are %s", self.name, src,
                        ", ".join(map(str, advert.addresses)), ", ".join(map(str, self.machine.params.vips)))

    def _on_timer(self) -> None:
        when, self._timer, self._timer_at = self._timer_at, None, None
        if self.machine.state is State.MASTER and when is not None:
            self.lateness.observe(self.loop.time() - when)
        if self.machine.state is State.BACKUP:
            # Master_Down may be due only because the loop was busy: read the adverts already
            # queued first (they reset the timer), so a stall never looks like a dead master.
            self.endpoint.deliver_pending()
        now = max(self.loop.time(), when or 0.0)
        self.apply(self.machine.on_timer(now))

    # ---- actions out ------------------------------------------------------------------------

    def apply(self, actions: list[Action]) -> None:
        """Carry out the machine's actions: adverts and logs at once, the rest through the queue, in order."""
        for action in actions:
            match action:
                case SendAdvert():
                    self.send(action.advert)
                case Log():
                    log.log(logging.WARNING if action.level == "warning" else logging.INFO, "(%s) %s", self.name,
                            action.message)
                case Transition():
                    self.last_transition_wall = time.time()
                    log.info("(%s) Entering %s STATE", self.name, action.new.name)
                    self.jobs.put_nowait(action)
                case AddVips() | RemoveVips() | Announce():
                    self.jobs.put_nowait(action)
                case _:
                    assert_never(action)
        self._reschedule()
        for action in actions:
            if isinstance(action, Transition):
                self.host.on_transition(self, action)

    def _reschedule(self) -> None:
        deadline = self.machine.next_deadline()
        if deadline == self._timer_at:
            return
        if (deadline is not None and self._timer_at is not None and deadline > self._timer_at
                and self.machine.state is State.BACKUP):
            # Every advert from the master pushes Master_Down back: keep the earlier wake-up
            # rather than a new timer per advert; it finds nothing due and re-arms for the real one.
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, deadline
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def send(self, advert: packet.Advert) -> None:
        sock = self.endpoint.sock
        if sock is None:
            log.debug("(%s) interface %s missing: advert not sent", self.name, self.endpoint.ifname)
            return
        src = self.source or self.machine.params.address
        wire = self._wire
        if wire is None or wire.advert is not advert or wire.sock is not sock or wire.src != src:
            wire = self._wire = self._encode(advert, src, sock)
        for dst, payload, prepared in wire.packets:
            try:
                sock.send_prepared(payload, prepared)
            except OSError as exc:
                log.warning("(%s) cannot send advert to %s: %s", self.name, dst, exc)

    def _encode(self, advert: packet.Advert, src: IPAddress, sock: VrrpSocket) -> Wire:
        """Bytes and send arguments per destination: built when the advert, source or socket change only."""
        cfg = self.cfg
        packets = []
        for dst in (cfg.unicast_peers if self.endpoint.unicast else (cfg.mcast_group,)):
            try:
                payload = packet.encode(advert, src=src, dst=dst, v3_checksum_pseudo=not cfg.v3_checksum_as_v2)
                packets.append((dst, payload, sock.prepare(src, dst)))
            except ValueError as exc:
                log.warning("(%s) cannot send advert to %s: %s", self.name, dst, exc)
        return Wire(advert, src, sock, packets)

    async def _work(self) -> None:
        while True:
            job = await self.jobs.get()
            try:
                await self._run(job)
            except Exception:
                log.exception("(%s) %s failed", self.name, type(job).__name__)
            finally:
                self.jobs.task_done()

    async def _run(self, job: Job) -> None:
        """One queued side effect, through the daemon (``InstanceHost``)."""
        match job:
            case AddVips():
                await self.host.set_addresses(self.cfg, present=True)
            case RemoveVips():
                await self.host.set_addresses(self.cfg, present=False)
            case Announce():
                await self.host.announce(self.cfg, job.count)
            case Transition():
                await self.host.notify(self, job)
            case GroupNotify():
                await self.host.notify_group(job)
            case _:
                assert_never(job)

    async def drain(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.jobs.join(), timeout)
        except asyncio.TimeoutError:
            log.warning("(%s) pending actions not finished after %.1f s", self.name, timeout)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.worker.cancel()
        try:
            await self.worker
        except asyncio.CancelledError:
            pass

    # ---- tracking ----------------------------------------------------------------------------

    def update_tracking(self) -> None:
        now = self.loop.time()
        base = self.cfg.priority if self.priority_override is None else self.priority_override
        priority = base + sum(self.tracking.offsets.values())
        self.apply(self.machine.set_priority(now, priority))
        self.apply(self.machine.set_fault(now, bool(self.tracking.faults)))

    # ---- status -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        m, cfg = self.machine, self.cfg
        c = m.counters
        return {
            "name": cfg.name, "state": m.state.name, "wanted_state": cfg.state,
            "priority": cfg.priority, "effective_priority": m.effective_priority,
            "runtime_priority": self.priority_override,
            "virtual_router_id": cfg.virtual_router_id, "interface": cfg.interface, "version": cfg.version,
            "family": cfg.family, "advert_int": cfg.advert_int, "source": str(self.source) if self.source else None,
            "vips": [str(v.address) for v in cfg.vips], "excluded_vips": [str(v.address) for v in cfg.evips],
            "master_address": str(m.master_address) if m.master_address is not None else None,
            "master_priority": m.master_priority, "last_transition": self.last_transition_wall,
            "faults": sorted(self.tracking.faults),
            "fault_reason": fault_reason(self.tracking.faults) if m.state is State.FAULT else None,
            "counters": {
                "advert_rcvd": c.advert_rcvd, "advert_sent": c.advert_sent, "become_master": c.become_master,
                "release_master": c.release_master, "pri_zero_rcvd": c.pri_zero_rcvd,
                "pri_zero_sent": c.pri_zero_sent, "rejected": dict(sorted(c.rejected.items())),
                "suppressed": dict(sorted(c.suppressed.items())),
            },
        }
