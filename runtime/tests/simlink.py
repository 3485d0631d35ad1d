"""A simulated Ethernet segment for VRRP routers: virtual clock, loss, delay, partitions, crashes.

The routers are the daemon's own ``Machine`` objects; adverts travel as the
bytes ``packet.encode`` produces and are read back with ``packet.decode`` and
``packet.check_for_instance``, so the simulation exercises the same code path
as a packet arriving on a socket.  Everything is deterministic for a given
seed, which is what lets the tests assert takeover instants exactly.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address, ip_address

from vrrpd.core import packet
from vrrpd.core.fsm import (AddVips, Announce, Log, Machine, Params, RemoveVips, SendAdvert, State,
                            Transition)

IPAddress = IPv4Address | IPv6Address


@dataclass
class Router:
    """One node on the link: its machine plus what the outside world can observe of it."""

    name: str
    params: Params
    machine: Machine | None = None
    alive: bool = False
    holds_vips: bool = False
    announces: list[tuple[float, int]] = field(default_factory=list)
    sent: list[tuple[float, packet.Advert]] = field(default_factory=list)
    logs: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def state(self) -> State | None:
        return self.machine.state if self.machine and self.alive else None


@dataclass(frozen=True)
class Change:
    """A state transition observed on the link."""

    time: float
    router: str
    old: State
    new: State
    priority: int


class SimLink:
    """N routers on one segment; ``run_until`` advances the virtual clock event by event."""

    def __init__(self, *, seed: int = 0, delay: float = 0.0, loss: float = 0.0, max_events: int = 1_000_000) -> None:
        self.now = 0.0
        self.delay = delay
        self.loss = loss
        self.routers: dict[str, Router] = {}
        self.history: list[Change] = []
        self._rng = random.Random(seed)
        self._queue: list[tuple[float, int, str, str, bytes]] = []
        self._seq = itertools.count()
        self._groups: list[set[str]] | None = None
        self._budget = max_events

    # ---- topology ------------------------------------------------------------------------------

    def add(self, name: str, **overrides: object) -> Router:
        """Add a router; its address defaults to 198.51.100.(10+i) or fe80::(10+i)."""
        index = len(self.routers)
        version = int(overrides.get("version", 3))  # type: ignore[arg-type]
        family6 = bool(overrides.pop("ipv6", False))
        address = overrides.pop("address", None) or ip_address(
            f"fe80::{10 + index:x}" if family6 else f"198.51.100.{10 + index}")
        vips = overrides.pop("vips", None) or (
            (ip_address("fe80::100"), ip_address("2001:db8::100")) if family6 else (ip_address("198.51.100.100"),))
        base = Params(vrid=51, version=version, priority=100, interval_cs=100, address=address, vips=vips)
        params = replace(base, **overrides)  # type: ignore[arg-type]
        router = Router(name, params)
        self.routers[name] = router
        return router

    def partition(self, *groups: set[str]) -> None:
        """Split the segment: adverts only reach routers of the sender's group."""
        self._groups = [set(g) for g in groups]

    def heal(self) -> None:
        self._groups = None

    def _connected(self, a: str, b: str) -> bool:
        return self._groups is None or any(a in g and b in g for g in self._groups)

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """(Re)start a router's daemon: a fresh machine, as a restarted process would have."""
        router = self.routers[name]
        router.machine = Machine(router.params)
        router.alive = True
        self._apply(router, router.machine.start(self.now))

    def crash(self, name: str) -> None:
        """SIGKILL: the router goes silent; like a real crash, nothing removes its VIPs."""
        self.routers[name].alive = False

    def stop(self, name: str) -> None:
        """SIGTERM: priority 0 advert, VIPs removed, STOP."""
        router = self.routers[name]
        assert router.machine is not None
        self._apply(router, router.machine.shutdown(self.now))
        router.alive = False

    def fault(self, name: str, faulted: bool) -> None:
        router = self.routers[name]
        assert router.machine is not None
        self._apply(router, router.machine.set_fault(self.now, faulted))

    def set_priority(self, name: str, priority: int) -> None:
        router = self.routers[name]
        assert router.machine is not None
        self._apply(router, router.machine.set_priority(self.now, priority))

    # ---- the clock -----------------------------------------------------------------------------

    def run_until(self, until: float) -> None:
        """Process every timer and delivery due up to ``until`` (inclusive), in time order."""
        while True:
            timer_at, timer_router = float("inf"), None
            for router in self.routers.values():
                if router.alive and router.machine is not None:
                    deadline = router.machine.next_deadline()
                    if deadline is not None and deadline < timer_at:
                        timer_at, timer_router = deadline, router
            queue_at = self._queue[0][0] if self._queue else float("inf")
            at = min(timer_at, queue_at)
            if at > until:
                break
            self._budget -= 1
            if self._budget <= 0:
                raise RuntimeError("simulation event budget exhausted (livelock?)")
            self.now = at
            if timer_router is not None and timer_at <= queue_at:
                assert timer_router.machine is not None
                self._apply(timer_router, timer_router.machine.on_timer(at))
            else:
                _at, _seq, sender, receiver, payload = heapq.heappop(self._queue)
                self._deliver(sender, receiver, payload)
        self.now = max(self.now, until)

    def run_for(self, duration: float) -> None:
        self.run_until(self.now + duration)

    # ---- actions and deliveries ----------------------------------------------------------------

    def _group(self, params: Params) -> IPAddress:
        return packet.MCAST_GROUP6 if params.address.version == 6 else packet.MCAST_GROUP4

    def _apply(self, router: Router, actions: list) -> None:
        for action in actions:
            if isinstance(action, SendAdvert):
                router.sent.append((self.now, action.advert))
                payload = packet.encode(action.advert, src=router.params.address, dst=self._group(router.params))
                for other in self.routers.values():
                    if other is router or not self._connected(router.name, other.name):
                        continue
                    if self.loss and self._rng.random() < self.loss:
                        continue
                    heapq.heappush(self._queue, (self.now + self.delay, next(self._seq), router.name, other.name,
                                                 payload))
            elif isinstance(action, AddVips):
                router.holds_vips = True
            elif isinstance(action, RemoveVips):
                router.holds_vips = False
            elif isinstance(action, Announce):
                router.announces.append((self.now, action.count))
            elif isinstance(action, Transition):
                self.history.append(Change(self.now, router.name, action.old, action.new, action.priority))
            elif isinstance(action, Log):
                router.logs.append((self.now, action.level, action.message))

    def _deliver(self, sender: str, receiver: str, payload: bytes) -> None:
        router = self.routers[receiver]
        if not router.alive or router.machine is None:
            return
        src = self.routers[sender].params.address if sender in self.routers else ip_address(sender)
        p = router.params
        try:
            advert = packet.decode(payload, src=src, dst=self._group(p), ttl=255)
            if advert.vrid != p.vrid:
                raise packet.PacketError(packet.Reason.VRID, f"VRID {advert.vrid}")
            packet.check_for_instance(advert, version=p.version, interval_cs=p.interval_cs,
                                      auth_type=p.auth_type, auth_data=p.auth_data)
        except packet.PacketError as exc:
            rejected = router.machine.counters.rejected
            rejected[exc.reason.value] = rejected.get(exc.reason.value, 0) + 1
            return
        self._apply(router, router.machine.receive(self.now, advert, src))

    def inject(self, receiver: str, advert: packet.Advert, src: IPAddress) -> None:
        """A forged advert from ``src`` (no router of the link), delivered like any other."""
        payload = packet.encode(advert, src=src, dst=self._group(self.routers[receiver].params))
        heapq.heappush(self._queue, (self.now + self.delay, next(self._seq), str(src), receiver, payload))

    # ---- observations --------------------------------------------------------------------------

    def masters(self) -> set[str]:
        return {r.name for r in self.routers.values() if r.state is State.MASTER}

    def vip_holders(self, *, alive_only: bool = True) -> set[str]:
        return {r.name for r in self.routers.values() if r.holds_vips and (r.alive or not alive_only)}

    def changes(self, router: str | None = None, new: State | None = None) -> list[Change]:
        return [c for c in self.history if (router is None or c.router == router) and (new is None or c.new is new)]

    def last_sent(self, name: str) -> float:
        """When the router last sent an advert (before a crash, say)."""
        return self.routers[name].sent[-1][0]
