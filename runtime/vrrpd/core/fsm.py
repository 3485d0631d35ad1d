"""The VRRP state machine of one virtual router, with no I/O and no clock.

Like h11, the machine is driven by events that carry the current time
(``start``, ``receive``, ``on_timer``, ``shutdown``, ``set_fault``,
``set_priority``) and answers with a list of actions for the caller to carry
out, in order (send this advert, add the VIPs, announce, notify).  The daemon
and the simulated link in the tests drive the very same object, so every
takeover instant proven in simulation is the one the daemon schedules.

Behaviour follows RFC 5798/9568 §6 with keepalived's choices where they
differ (docs/keepalived-compat.md §7, §10): INIT always passes through BACKUP with a
BACKUP notification except for an address owner that wants MASTER; a master
answers a lower-priority advert at once; FAULT sends priority 0 when leaving
MASTER; actions on becoming MASTER are advert, VIPs, announce, then notify.

What a master does on a lower-priority advert is bounded, because anyone on
the segment can send one: keepalived answers each with an advert and a
``garp_lower_prio_repeat`` burst (another after ``garp_lower_prio_delay``),
so a flood of forged adverts becomes a flood of GARPs.  Here the answer
advert is sent at most once per advert interval, a new lower-priority GARP
cycle (burst now, burst after the delay) starts only once the previous one
is over (the delay, at least an advert interval), and the warning for an
advert carrying our own address is logged once per state; what was held
back is counted in ``Counters.suppressed``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address

from .packet import Advert
from .timers import OWNER_PRIORITY, interval_problem, master_down_interval, skew_time

IPAddress = IPv4Address | IPv6Address


class State(enum.IntEnum):
    """States, numbered as keepalived's JSON dump numbers them."""

    INIT = 0
    BACKUP = 1
    MASTER = 2
    FAULT = 3
    DELETED = 97
    STOP = 98


@dataclass(frozen=True)
class Params:
    """What the machine needs from an instance's configuration (already completed)."""

    def __post_init__(self) -> None:
        # the configuration reader refuses such intervals; this guard makes sure no other
        # caller can build a machine whose timers are all due at once
        problem = interval_problem(self.version, self.interval_cs)
        if problem:
            raise ValueError(problem)

    vrid: int
    version: int
    priority: int
    interval_cs: int
    address: IPAddress
    vips: tuple[IPAddress, ...] = ()
    wants_master: bool = False
    preempt: bool = True
    preempt_delay: float = 0.0
    auth_type: int = 0
    auth_data: bytes = b""
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    down_timer_adverts: int = 3
    garp_master_delay: float = 5.0
    garp_master_repeat: int = 5
    garp_master_refresh: float = 0.0
    garp_master_refresh_repeat: int = 1
    garp_lower_prio_delay: float | None = None    # None: garp_master_delay (keepalived inherits)
    garp_lower_prio_repeat: int | None = None     # None: garp_master_repeat


# ---- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendAdvert:
    """Send this advert to the instance's group or peers."""

    advert: Advert


@dataclass(frozen=True)
class AddVips:
    """Configure the VIPs, excluded VIPs and virtual routes."""


@dataclass(frozen=True)
class RemoveVips:
    """Remove the VIPs, excluded VIPs and virtual routes."""


@dataclass(frozen=True)
class Announce:
    """Send ``count`` gratuitous ARPs / unsolicited NAs for every VIP."""

    count: int


@dataclass(frozen=True)
class Transition:
    """The state changed: run notify scripts, FIFO, mail."""

    old: State
    new: State
    priority: int


@dataclass(frozen=True)
class Log:
    """Something an operator wants to read in the log."""

    level: str
    message: str


Action = SendAdvert | AddVips | RemoveVips | Announce | Transition | Log


@dataclass
class Counters:
    """Per-instance counters, named like keepalived's stats keys."""

    advert_rcvd: int = 0
    advert_sent: int = 0
    become_master: int = 0
    release_master: int = 0
    pri_zero_rcvd: int = 0
    pri_zero_sent: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    #: what the rate limits held back: "lower_prio_advert" (answer adverts), "lower_prio_garp"
    #: (GARP bursts), "own_address_log" (warnings about adverts carrying our own address)
    suppressed: dict[str, int] = field(default_factory=dict)

    def suppress(self, what: str) -> None:
        self.suppressed[what] = self.suppressed.get(what, 0) + 1


class Machine:
    """One VRRP instance's protocol state.  Times are monotonic seconds (floats)."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.state = State.INIT
        self.effective_priority = params.priority
        self.master_adver_int_cs = params.interval_cs
        self.master_address: IPAddress | None = None
        self.master_priority: int | None = None
        self.last_transition: float | None = None
        self.counters = Counters()
        self._down_at: float | None = None
        self._advert_at: float | None = None
        self._garp_at: float | None = None
        self._refresh_at: float | None = None
        self._preempt_at: float | None = None
        self._lower_garp_at: float | None = None      # the second burst of a lower-priority GARP cycle
        self._lower_garp_until: float | None = None   # no new lower-priority GARP cycle before this
        self._lower_reply_until: float | None = None  # no answer advert to a lower priority before this
        self._own_address_logged = False
        self._last_advert: tuple[Params, Advert] | None = None

    # ---- derived values ---------------------------------------------------------------------

    @property
    def skew_time(self) -> float:
        """Skew_Time from the effective priority (an owner counts as 255)."""
        return skew_time(self.params.version, self._timer_priority(), self.master_adver_int_cs)

    @property
    def master_down_interval(self) -> float:
        """Master_Down_Interval for the current Master_Adver_Interval."""
        p = self.params
        return master_down_interval(p.version, self._timer_priority(), self.master_adver_int_cs, p.down_timer_adverts)

    def next_deadline(self) -> float | None:
        """The earliest instant at which ``on_timer`` has work to do."""
        times = [t for t in (self._down_at, self._advert_at, self._garp_at, self._refresh_at, self._lower_garp_at)
                 if t is not None]
        return min(times) if times else None

    def _timer_priority(self) -> int:
        return OWNER_PRIORITY if self.params.priority == OWNER_PRIORITY else self.effective_priority

    def _advert(self, priority: int) -> Advert:
        """The advert for ``priority``; the same object while nothing in it changes.

        A master sends the same advert every interval: handing out the same
        object lets the I/O layer keep its encoded bytes (``is`` is the test).
        """
        p, last = self.params, self._last_advert
        if last is not None and last[0] is p and last[1].priority == priority:
            return last[1]
        advert = Advert(version=p.version, vrid=p.vrid, priority=priority, interval_cs=p.interval_cs,
                        addresses=p.vips, auth_type=p.auth_type, auth_data=p.auth_data)
        self._last_advert = (p, advert)
        return advert

    def _send(self, priority: int | None = None) -> SendAdvert:
        prio = self.effective_priority if priority is None else priority
        self.counters.advert_sent += 1
        if prio == 0:
            self.counters.pri_zero_sent += 1
        return SendAdvert(self._advert(prio))

    def _enter(self, now: float, new: State) -> Transition:
        old, self.state = self.state, new
        self.last_transition = now
        self._own_address_logged = False  # a new state may have a new cause: say it once more
        return Transition(old, new, self.effective_priority)

    def _arm_down(self, now: float, after: float | None = None) -> None:
        self._down_at = now + (self.master_down_interval if after is None else after)

    def _clear_timers(self) -> None:
        self._down_at = self._advert_at = self._garp_at = self._refresh_at = self._preempt_at = None
        self._lower_garp_at = self._lower_garp_until = self._lower_reply_until = None

    # ---- events -----------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """Leave INIT: an owner that wants MASTER takes over at once, everyone else waits in BACKUP."""
        if self.state is not State.INIT:
            return []
        if self.params.wants_master and self.params.priority == OWNER_PRIORITY:
            return self._become_master(now)
        return self._become_backup(now, log="Entering BACKUP STATE (init)")

    def receive(self, now: float, advert: Advert, src: IPAddress) -> list[Action]:
        """An advert for our VRID that already passed the codec's and instance's checks."""
        if self.state in (State.INIT, State.FAULT, State.STOP, State.DELETED):
            return []
        self.counters.advert_rcvd += 1
        if advert.priority == 0:
            self.counters.pri_zero_rcvd += 1
        if src == self.params.address:
            if self._own_address_logged:
                self.counters.suppress("own_address_log")
                return []
            self._own_address_logged = True
            return [Log("warning", f"received an advert from our own address {src}, ignoring"
                                   " (further ones are counted, not logged)")]
        if self.state is State.BACKUP:
            return self._backup_receive(now, advert, src)
        return self._master_receive(now, advert, src)

    def _backup_receive(self, now: float, advert: Advert, src: IPAddress) -> list[Action]:
        p = self.params
        if advert.priority == 0:
            self.master_address, self.master_priority = src, 0
            self._arm_down(now, self.skew_time)
            return []
        if advert.priority >= self.effective_priority or not p.preempt:
            self._preempt_at = None
        elif p.preempt_delay > 0 and (self._preempt_at is None or now < self._preempt_at):
            # preempt_delay counts from the first lower-priority advert, so it never
            # delays a cold start (no master at all) but does hold a live master.
            if self._preempt_at is None:
                self._preempt_at = now + p.preempt_delay
        else:
            return [Log("info", f"received lower priority ({advert.priority}) advert from {src} - discarding")]
        if p.version == 3:
            self.master_adver_int_cs = advert.interval_cs
        self.master_address, self.master_priority = src, advert.priority
        self._arm_down(now)
        return []

    def _master_receive(self, now: float, advert: Advert, src: IPAddress) -> list[Action]:
        p = self.params
        if advert.priority == 0:
            self._advert_at = now + p.interval_cs / 100
            return [self._send()]
        higher = advert.priority > self.effective_priority or (
            advert.priority == self.effective_priority and int(src) > int(p.address))
        if not higher:
            return self._answer_lower(now, advert, src)
        actions: list[Action] = []
        if p.higher_prio_send_advert:
            actions.append(self._send())
        if p.version == 3:
            self.master_adver_int_cs = advert.interval_cs
        self.master_address, self.master_priority = src, advert.priority
        self.counters.release_master += 1
        self._clear_timers()
        self._arm_down(now)
        actions += [RemoveVips(), self._enter(now, State.BACKUP)]
        return actions

    def _lower_prio_garp(self) -> tuple[float, int]:
        """(delay, repeat) of the lower-priority GARP; unset, keepalived takes the master ones."""
        p = self.params
        delay = p.garp_master_delay if p.garp_lower_prio_delay is None else p.garp_lower_prio_delay
        repeat = p.garp_master_repeat if p.garp_lower_prio_repeat is None else p.garp_lower_prio_repeat
        return delay, repeat

    def _answer_lower(self, now: float, advert: Advert, src: IPAddress) -> list[Action]:
        """A MASTER heard a lower priority: assert mastership, refresh ARP caches, both rate-limited."""
        p = self.params
        interval = p.interval_cs / 100
        actions: list[Action] = []
        if not p.lower_prio_no_advert:
            if self._lower_reply_until is not None and now < self._lower_reply_until:
                self.counters.suppress("lower_prio_advert")
            else:
                self._lower_reply_until = self._advert_at = now + interval
                actions.append(self._send())
        delay, repeat = self._lower_prio_garp()
        if repeat:
            if self._lower_garp_until is not None and now < self._lower_garp_until:
                self.counters.suppress("lower_prio_garp")
            else:
                self._lower_garp_until = now + max(delay, interval)
                self._lower_garp_at = now + delay if delay > 0 else None
                actions.append(Announce(repeat))
        if actions:  # logged when acted upon: a flood does not flood the log either
            actions.insert(0, Log("info", f"received lower priority ({advert.priority}) advert from {src}"
                                          " - forcing new election"))
        return actions

    def on_timer(self, now: float) -> list[Action]:
        """Run every timer that is due at ``now``."""
        actions: list[Action] = []
        if self.state is State.BACKUP and self._down_at is not None and now >= self._down_at:
            return self._become_master(now)
        if self.state is not State.MASTER:
            return actions
        p = self.params
        if self._advert_at is not None and now >= self._advert_at:
            actions.append(self._send())
            # fixed rate from the previous deadline, so a late wake-up does not stretch
            # every following interval; after a long stall, restart from now
            interval = p.interval_cs / 100
            following = self._advert_at + interval
            self._advert_at = following if following > now else now + interval
        if self._garp_at is not None and now >= self._garp_at:
            self._garp_at = None
            actions.append(Announce(p.garp_master_repeat))
        if self._refresh_at is not None and now >= self._refresh_at:
            self._refresh_at = now + p.garp_master_refresh
            actions.append(Announce(p.garp_master_refresh_repeat))
        if self._lower_garp_at is not None and now >= self._lower_garp_at:
            self._lower_garp_at = None
            actions.append(Announce(self._lower_prio_garp()[1]))
        return actions

    def shutdown(self, now: float) -> list[Action]:
        """Stop: a master sends priority 0 so a backup takes over after Skew_Time only."""
        actions: list[Action] = []
        if self.state is State.MASTER:
            actions += [self._send(0), RemoveVips()]
            self.counters.release_master += 1
        if self.state is not State.STOP:
            self._clear_timers()
            actions.append(self._enter(now, State.STOP))
        return actions

    def set_fault(self, now: float, faulted: bool) -> list[Action]:
        """An interface or tracker fault appeared (True) or every fault cleared (False)."""
        if faulted:
            if self.state in (State.FAULT, State.STOP, State.DELETED):
                return []
            actions: list[Action] = []
            if self.state is State.MASTER:
                actions += [self._send(0), RemoveVips()]
                self.counters.release_master += 1
            self._clear_timers()
            actions.append(self._enter(now, State.FAULT))
            return actions
        if self.state is not State.FAULT:
            return []
        self.master_adver_int_cs = self.params.interval_cs
        if self.params.wants_master and self.params.priority == OWNER_PRIORITY:
            return self._become_master(now)
        return self._become_backup(now)

    def set_priority(self, now: float, priority: int) -> list[Action]:
        """Tracker weights moved the effective priority; an owner's 255 never moves."""
        if self.params.priority == OWNER_PRIORITY:
            return []
        priority = max(1, min(254, priority))
        if priority == self.effective_priority:
            return []
        old, self.effective_priority = self.effective_priority, priority
        actions: list[Action] = [Log("info", f"effective priority changed from {old} to {priority}")]
        if self.state is State.MASTER:
            # Carry the new priority now rather than an interval later, so a backup
            # that now outranks us sees it at once and starts its own Master_Down.
            self._advert_at = now + self.params.interval_cs / 100
            actions.append(self._send())
        return actions

    def set_address(self, now: float, address: IPAddress) -> list[Action]:
        """Our source address changed (address events): adverts carry the new one from now on.

        A master advertises at once from the new address, so the backups'
        master address and the tie-break follow without waiting an interval.
        """
        if address == self.params.address:
            return []
        old, self.params = self.params.address, replace(self.params, address=address)
        if self.state is State.INIT:
            return []  # the first address found, not a change
        actions: list[Action] = [Log("info", f"source address changed from {old} to {address}")]
        if self.state is State.MASTER:
            self.master_address = address
            self._advert_at = now + self.params.interval_cs / 100
            actions.append(self._send())
        return actions

    def assert_mastership(self) -> list[Action]:
        """Before a reload a master advertises once, so no backup times out meanwhile (keepalived)."""
        return [self._send()] if self.state is State.MASTER else []

    def force_master(self, now: float) -> list[Action]:
        """Leave BACKUP for MASTER now: a sync-group peer became MASTER, or a planned switchover."""
        if self.state is not State.BACKUP:
            return []
        return self._become_master(now)

    def force_backup(self, now: float) -> list[Action]:
        """A sync-group peer instance fell back to BACKUP: follow it, without a priority-0 advert."""
        if self.state is not State.MASTER:
            return []
        self.counters.release_master += 1
        self._clear_timers()
        self._arm_down(now)
        return [RemoveVips(), self._enter(now, State.BACKUP)]

    # ---- transitions ------------------------------------------------------------------------

    def _become_backup(self, now: float, log: str | None = None) -> list[Action]:
        self._clear_timers()
        self.master_adver_int_cs = self.params.interval_cs
        self._arm_down(now)
        actions: list[Action] = [self._enter(now, State.BACKUP)]
        if log:
            actions.insert(0, Log("info", log))
        return actions

    def _become_master(self, now: float) -> list[Action]:
        p = self.params
        self._clear_timers()
        self.master_adver_int_cs = p.interval_cs
        self.master_address, self.master_priority = p.address, self.effective_priority
        self.counters.become_master += 1
        self._advert_at = now + p.interval_cs / 100
        if p.garp_master_delay > 0 and p.garp_master_repeat > 0:
            self._garp_at = now + p.garp_master_delay
        if p.garp_master_refresh > 0:
            self._refresh_at = now + p.garp_master_refresh
        actions: list[Action] = [self._send(), AddVips()]
        if p.garp_master_repeat > 0:
            actions.append(Announce(p.garp_master_repeat))
        actions.append(self._enter(now, State.MASTER))
        return actions
