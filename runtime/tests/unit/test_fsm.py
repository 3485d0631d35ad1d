"""The state machine, proven on a simulated link with exact takeover instants.

Times are compared to the nanosecond: the machine computes its timers in
integer microseconds, so the instants below are the RFC's formulas evaluated
exactly (for instance 3 s + (256-100)/256 s = 3.609375 s).
"""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from simlink import SimLink
from vrrpd.core import packet
from vrrpd.core.fsm import AddVips, Announce, Machine, Params, RemoveVips, SendAdvert, State, Transition
from vrrpd.core.timers import master_down_interval, skew_time


def at(t: float) -> object:
    """Exact to a nanosecond (float sums of exact binary fractions)."""
    return pytest.approx(t, abs=1e-9)


def trio(**a_overrides: object) -> SimLink:
    """A(150) B(100) C(50), v3 at 1 s, started together at t=0; A is master from 3.4140625 s."""
    link = SimLink()
    link.add("A", priority=150, **a_overrides)
    link.add("B", priority=100)
    link.add("C", priority=50)
    for name in "ABC":
        link.start(name)
    return link


# ---- timer arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize("version,priority,interval_cs,skew,down", [
    (3, 200, 100, 0.21875, 3.21875),
    (2, 100, 100, 0.609375, 3.609375),
    (2, 150, 200, 0.4140625, 6.4140625),   # the seed: advert_int 2, priority 150
    (3, 100, 10, 0.0609375, 0.3609375),
    (3, 254, 1, 0.000078125, 0.030078125),
    (3, 1, 4095, 40.7900390625, 163.6400390625),
    (2, 255, 100, 0.00390625, 3.00390625),
])
def test_timer_arithmetic(version: int, priority: int, interval_cs: int, skew: float, down: float) -> None:
    assert skew_time(version, priority, interval_cs) == at(skew)
    assert master_down_interval(version, priority, interval_cs) == at(down)


def test_v2_skew_ignores_the_interval() -> None:
    """RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s whatever the advert interval."""
    assert skew_time(2, 100, 100) == skew_time(2, 100, 500)


def test_down_timer_adverts_multiplier() -> None:
    assert master_down_interval(3, 100, 100, down_timer_adverts=5) == at(5.609375)


# ---- start-up ------------------------------------------------------------------------------


def test_startup_goes_backup_with_notification() -> None:
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=ip_address("198.51.100.10")))
    actions = m.start(0.0)
    transitions = [a for a in actions if isinstance(a, Transition)]
    assert transitions == [Transition(State.INIT, State.BACKUP, 100)]
    assert not any(isinstance(a, (SendAdvert, AddVips)) for a in actions)
    assert m.next_deadline() == at(3.609375)


def test_state_master_below_255_still_waits_in_backup() -> None:
    m = Machine(Params(vrid=1, version=2, priority=150, interval_cs=200, address=ip_address("198.51.100.10"),
                       wants_master=True))
    m.start(0.0)
    assert m.state is State.BACKUP
    assert m.next_deadline() == at(6.4140625)


def test_owner_becomes_master_at_once_without_backup_notification() -> None:
    link = SimLink()
    link.add("A", priority=255, wants_master=True)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    assert link.changes("A") == [link.changes("A")[0]]
    first = link.changes("A")[0]
    assert (first.old, first.new, first.time) == (State.INIT, State.MASTER, 0.0)
    assert link.routers["A"].holds_vips
    link.run_until(30)
    assert link.masters() == {"A"}
    assert [c.new for c in link.changes("B")] == [State.BACKUP]


def test_becoming_master_orders_advert_vips_announce_then_notify() -> None:
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=ip_address("198.51.100.10")))
    m.start(0.0)
    actions = m.on_timer(3.609375)
    kinds = [type(a) for a in actions]
    assert kinds == [SendAdvert, AddVips, Announce, Transition]
    assert actions[-1] == Transition(State.BACKUP, State.MASTER, 100)


# ---- election and takeover -------------------------------------------------------------------


def test_one_master_after_convergence() -> None:
    link = trio()
    link.run_until(3.4140625)
    assert link.changes("A", State.MASTER)[0].time == at(3.4140625)
    link.run_until(60)
    assert link.masters() == {"A"}
    assert link.vip_holders() == {"A"}
    assert link.changes(new=State.MASTER) == link.changes("A", State.MASTER)


def test_crash_takeover_at_exactly_master_down_interval() -> None:
    link = trio()
    link.run_until(10.0)
    link.crash("A")
    last = link.last_sent("A")
    assert last == at(9.4140625)
    link.run_until(30)
    takeover = link.changes("B", State.MASTER)
    assert len(takeover) == 1
    assert takeover[0].time == at(last + 3.609375)
    assert link.masters() == {"B"}
    assert link.changes("C", State.MASTER) == []


def test_crash_takeover_includes_link_delay() -> None:
    link = SimLink(delay=0.05)
    link.add("A", priority=150)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.crash("A")
    last = link.last_sent("A")
    link.run_until(30)
    assert link.changes("B", State.MASTER)[0].time == at(last + 0.05 + 3.609375)


def test_graceful_stop_hands_over_after_skew_time_only() -> None:
    link = trio()
    link.run_until(10.0)
    link.stop("A")
    assert link.routers["A"].sent[-1][1].priority == 0
    assert not link.routers["A"].holds_vips
    assert link.changes("A")[-1].new is State.STOP
    link.run_until(30)
    assert link.changes("B", State.MASTER)[0].time == at(10.0 + 0.609375)
    assert link.masters() == {"B"}
    assert link.vip_holders() == {"B"}


def test_graceful_stop_v3_fast_interval() -> None:
    link = SimLink()
    link.add("A", priority=200, interval_cs=10)
    link.add("B", priority=100, interval_cs=10)
    link.start("A")
    link.start("B")
    link.run_until(5.0)
    link.stop("A")
    link.run_until(6.0)
    assert link.changes("B", State.MASTER)[0].time == at(5.0 + 0.0609375)


def test_restarted_higher_priority_router_preempts() -> None:
    link = trio()
    link.run_until(10.0)
    link.crash("A")
    link.run_until(20.0)
    link.start("A")
    link.run_until(40.0)
    back = link.changes("A", State.MASTER)
    assert back[-1].time == at(20.0 + 3.4140625)
    assert link.changes("B", State.BACKUP)[-1].time == at(20.0 + 3.4140625)
    assert link.masters() == {"A"}
    assert any("discarding" in msg for _at, _level, msg in link.routers["A"].logs)


def test_nopreempt_keeps_the_lower_priority_master() -> None:
    link = trio(preempt=False)
    link.run_until(10.0)
    link.crash("A")
    link.run_until(20.0)
    link.start("A")
    link.run_until(120.0)
    assert link.masters() == {"B"}
    assert link.routers["A"].state is State.BACKUP


def test_preempt_delay_does_not_delay_a_cold_start() -> None:
    link = trio(preempt_delay=10.0)
    link.run_until(10.0)
    assert link.changes("A", State.MASTER)[0].time == at(3.4140625)


def test_preempt_delay_holds_a_live_master_then_preempts() -> None:
    link = trio(preempt_delay=10.0)
    link.run_until(10.0)
    link.crash("A")
    link.run_until(20.0)          # B master since 13.0234375, adverts at 20.0234375, 21.0234375, ...
    link.start("A")
    link.run_until(60.0)
    # first lower advert at 20.0234375 starts the delay; adverts until 29.0234375 are accepted;
    # the one at 30.0234375 is discarded; Master_Down after the last accepted one.
    assert link.changes("A", State.MASTER)[-1].time == at(29.0234375 + 3.4140625)
    assert link.masters() == {"A"}


def test_equal_priority_tie_break_by_higher_address() -> None:
    link = SimLink()
    link.add("low", priority=100, address=ip_address("198.51.100.10"))
    link.add("high", priority=100, address=ip_address("198.51.100.11"))
    link.start("low")
    link.start("high")
    link.run_until(30.0)
    assert link.masters() == {"high"}
    assert link.vip_holders() == {"high"}


def test_tie_break_compares_addresses_numerically_ipv6() -> None:
    link = SimLink()
    link.add("a", priority=100, ipv6=True, address=ip_address("fe80::ff"))
    link.add("b", priority=100, ipv6=True, address=ip_address("fe80::1:0"))
    link.start("a")
    link.start("b")
    link.run_until(30.0)
    assert link.masters() == {"b"}


def test_partition_makes_two_masters_and_healing_restores_one() -> None:
    link = SimLink()
    link.add("A", priority=150)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.partition({"A"}, {"B"})
    link.run_until(20.0)
    assert link.masters() == {"A", "B"}
    link.heal()
    link.run_until(21.0)
    assert link.masters() == {"A"}
    stepped = link.changes("B", State.BACKUP)[-1]
    assert 20.0 <= stepped.time <= 21.0
    assert not link.routers["B"].holds_vips


def test_master_answers_lower_priority_advert_at_once() -> None:
    link = SimLink()
    link.add("A", priority=150)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.partition({"A"}, {"B"})
    link.run_until(19.9)          # B master; its adverts at 13.0234375 + k
    link.heal()
    link.run_until(20.05)
    b_advert = 20.0234375
    a_times = [t for t, _advert in link.routers["A"].sent]
    assert at(b_advert) in a_times   # off A's own 1 s schedule (…19.4140625, 20.4140625)


def test_lower_prio_no_advert_suppresses_the_answer() -> None:
    link = SimLink()
    link.add("A", priority=150, lower_prio_no_advert=True)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.partition({"A"}, {"B"})
    link.run_until(19.9)
    link.heal()
    link.run_until(20.05)
    assert at(20.0234375) not in [t for t, _advert in link.routers["A"].sent]


def test_master_receiving_priority_zero_sends_an_advert_at_once() -> None:
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=ip_address("198.51.100.10")))
    m.start(0.0)
    m.on_timer(3.609375)
    zero = packet.Advert(version=3, vrid=1, priority=0, interval_cs=100, addresses=(ip_address("198.51.100.100"),))
    actions = m.receive(4.0, zero, ip_address("198.51.100.11"))
    assert [type(a) for a in actions] == [SendAdvert]
    assert m.next_deadline() == at(5.0)


def test_backup_receiving_priority_zero_arms_skew_time() -> None:
    m = Machine(Params(vrid=1, version=3, priority=200, interval_cs=100, address=ip_address("198.51.100.10")))
    m.start(0.0)
    zero = packet.Advert(version=3, vrid=1, priority=0, interval_cs=100, addresses=())
    assert m.receive(1.0, zero, ip_address("198.51.100.11")) == []
    assert m.next_deadline() == at(1.0 + 0.21875)


def test_v3_backup_learns_master_adver_interval() -> None:
    link = SimLink()
    link.add("A", priority=150, interval_cs=50)
    link.add("B", priority=100, interval_cs=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    assert link.routers["B"].machine.master_adver_int_cs == 50
    link.crash("A")
    last = link.last_sent("A")
    link.run_until(20.0)
    # 3 × 0.5 s + (256-100) × 0.5 / 256 s
    assert link.changes("B", State.MASTER)[0].time == at(last + 1.8046875)
    assert link.routers["B"].machine.master_adver_int_cs == 100   # back to its own as master


def test_v2_interval_mismatch_drops_adverts_and_splits_the_brain() -> None:
    link = SimLink()
    link.add("A", priority=150, version=2, interval_cs=100)
    link.add("B", priority=100, version=2, interval_cs=200)
    link.start("A")
    link.start("B")
    link.run_until(30.0)
    assert link.masters() == {"A", "B"}
    assert link.routers["B"].machine.counters.rejected["advert_interval_err"] > 0


def test_fault_on_master_sends_priority_zero_and_recovery_preempts() -> None:
    link = trio()
    link.run_until(10.0)
    link.fault("A", True)
    assert link.routers["A"].state is State.FAULT
    assert link.routers["A"].sent[-1][1].priority == 0
    assert not link.routers["A"].holds_vips
    link.run_until(20.0)
    assert link.changes("B", State.MASTER)[0].time == at(10.609375)
    link.fault("A", False)
    assert link.routers["A"].state is State.BACKUP
    link.run_until(40.0)
    assert link.changes("A", State.MASTER)[-1].time == at(20.0 + 3.4140625)
    assert link.masters() == {"A"}


def test_fault_ignores_adverts_and_sends_nothing() -> None:
    link = trio()
    link.run_until(10.0)
    link.fault("C", True)
    sent_before = len(link.routers["C"].sent)
    link.run_until(50.0)
    assert len(link.routers["C"].sent) == sent_before
    assert link.routers["C"].state is State.FAULT


def test_lowered_priority_moves_mastership() -> None:
    link = trio()
    link.run_until(10.0)
    link.set_priority("A", 90)
    assert link.routers["A"].sent[-1] == (10.0, link.routers["A"].sent[-1][1])
    assert link.routers["A"].sent[-1][1].priority == 90
    link.run_until(30.0)
    # B's last accepted advert was A's at 9.4140625 (priority 150).
    assert link.changes("B", State.MASTER)[0].time == at(9.4140625 + 3.609375)
    assert link.changes("A", State.BACKUP)[-1].time == at(9.4140625 + 3.609375)
    assert link.masters() == {"B"}


def test_owner_priority_is_never_moved_by_trackers() -> None:
    m = Machine(Params(vrid=1, version=3, priority=255, interval_cs=100, address=ip_address("198.51.100.10"),
                       wants_master=True))
    m.start(0.0)
    assert m.set_priority(1.0, 100) == []
    assert m.effective_priority == 255


def test_garp_bursts_and_refresh() -> None:
    link = SimLink()
    link.add("A", priority=150, garp_master_refresh=10.0, garp_master_refresh_repeat=2)
    link.start("A")
    link.run_until(30.0)
    assert link.routers["A"].announces == [(at(3.4140625), 5), (at(8.4140625), 5), (at(13.4140625), 2),
                                           (at(23.4140625), 2)]


def test_no_second_garp_burst_when_delay_is_zero() -> None:
    link = SimLink()
    link.add("A", priority=150, garp_master_delay=0.0)
    link.start("A")
    link.run_until(30.0)
    assert link.routers["A"].announces == [(at(3.4140625), 5)]


def test_counters() -> None:
    link = trio()
    link.run_until(10.0)
    link.stop("A")
    link.run_until(12.0)
    a = link.routers["A"].machine.counters
    b = link.routers["B"].machine.counters
    assert a.become_master == 1 and a.release_master == 1 and a.pri_zero_sent == 1
    assert a.advert_sent == len(link.routers["A"].sent)
    assert b.pri_zero_rcvd == 1 and b.become_master == 1
    assert b.advert_rcvd == 8   # A's adverts at 3.41…, …, 9.41…, then priority 0 at 10


def test_lossy_link_converges_once_loss_stops() -> None:
    link = SimLink(seed=7, loss=0.4)
    for name, prio in (("A", 200), ("B", 150), ("C", 100)):
        link.add(name, priority=prio)
        link.start(name)
    link.run_until(120.0)
    flaps = len(link.changes(new=State.MASTER))
    assert flaps > 1                     # 40 % loss does cause false takeovers…
    link.loss = 0.0
    link.run_until(125.0)
    assert link.masters() == {"A"}       # …and one advert interval after it stops, one master.
    assert link.vip_holders() == {"A"}


def test_ipv6_v3_election() -> None:
    link = SimLink()
    link.add("A", priority=150, ipv6=True)
    link.add("B", priority=100, ipv6=True)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.crash("A")
    last = link.last_sent("A")
    link.run_until(20.0)
    assert link.changes("B", State.MASTER)[0].time == at(last + 3.609375)


def test_v2_pass_auth_mismatch_is_rejected() -> None:
    link = SimLink()
    link.add("A", priority=150, version=2, auth_type=1, auth_data=packet.pass_auth_data("secret"))
    link.add("B", priority=100, version=2, auth_type=1, auth_data=packet.pass_auth_data("other"))
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    assert link.masters() == {"A", "B"}
    assert link.routers["B"].machine.counters.rejected["auth_failure"] > 0


def test_stepping_down_removes_vips_before_notifying() -> None:
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=ip_address("198.51.100.10")))
    m.start(0.0)
    m.on_timer(3.609375)
    higher = packet.Advert(version=3, vrid=1, priority=200, interval_cs=100, addresses=())
    actions = m.receive(4.0, higher, ip_address("198.51.100.11"))
    assert [type(a) for a in actions] == [RemoveVips, Transition]
    assert m.state is State.BACKUP
    assert m.next_deadline() == at(4.0 + 3.609375)


def test_sync_group_followers() -> None:
    """force_master / force_backup move a member with its group, and only from the right state."""
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=ip_address("198.51.100.10")))
    m.start(0.0)
    assert m.force_backup(1.0) == []
    actions = m.force_master(1.0)
    assert [type(a) for a in actions] == [SendAdvert, AddVips, Announce, Transition]
    assert m.state is State.MASTER and m.force_master(1.5) == []
    actions = m.force_backup(2.0)
    assert [type(a) for a in actions] == [RemoveVips, Transition]
    assert not any(isinstance(a, SendAdvert) for a in actions)
    assert m.state is State.BACKUP and m.next_deadline() == at(2.0 + 3.609375)


def test_adverts_keep_a_fixed_rate_when_woken_late() -> None:
    """A daemon's timer fires a little late; the next advert is still due one interval after the previous deadline."""
    m = Machine(Params(vrid=1, version=3, priority=100, interval_cs=10, address=ip_address("198.51.100.10")))
    m.start(0.0)
    m.on_timer(0.3609375)                     # becomes master; next advert due at 0.4609375
    m.on_timer(0.4609375 + 0.004)             # woken 4 ms late
    assert m.next_deadline() == at(0.5609375)
    m.on_timer(5.0)                           # a long stall: restart from now, no burst of catch-up adverts
    assert m.next_deadline() == at(5.1)


# ---- lower-priority adverts at a master: bounded answers (issue 8, item 10) -------------------------

FORGER = ip_address("198.51.100.99")


def _forged(priority: int = 100, vrid: int = 51) -> packet.Advert:
    return packet.Advert(version=3, vrid=vrid, priority=priority, interval_cs=100,
                         addresses=(ip_address("198.51.100.100"),))


def _flood(link: SimLink, start: float, stop: float, every: float, src: object = FORGER) -> int:
    """Forged lower-priority adverts at A from ``start`` to ``stop`` (excluded); returns how many."""
    sent, t = 0, start
    while t < stop:
        link.run_until(t)
        link.inject("A", _forged(), src)  # type: ignore[arg-type]
        sent += 1
        t = start + sent * every
    return sent


def _alone_master(**overrides: object) -> SimLink:
    link = SimLink()
    link.add("A", priority=150, **overrides)
    link.start("A")
    link.run_until(10.0)
    assert link.masters() == {"A"}
    return link


def test_lower_priority_flood_gets_one_answer_and_one_garp_cycle() -> None:
    """1,000 forged adverts in one second: one answer advert, a burst now and one after the delay.

    keepalived answers each with an advert and a garp_lower_prio_repeat burst: the
    machine holds the rest back and counts them.
    """
    link = _alone_master()
    a = link.routers["A"]
    sent = _flood(link, 20.0, 21.0, 0.001)
    assert sent == 1000
    link.run_until(30.0)
    assert a.state is State.MASTER
    assert [(t, n) for t, n in a.announces if t >= 20.0] == [(at(20.0), 5), (at(25.0), 5)]
    answers = [t for t, _adv in a.sent if 20.0 <= t < 21.0]
    assert answers == [at(20.0)]
    regular = [t for t, _adv in a.sent if 21.0 <= t < 30.0]
    assert regular == [at(21.0 + k) for k in range(9)]   # the schedule resumes from the answer
    assert a.machine.counters.suppressed == {"lower_prio_advert": 999, "lower_prio_garp": 999}
    assert a.machine.counters.advert_rcvd >= 1000
    assert len([m for _t, _l, m in a.logs if "lower priority" in m]) == 1


def test_a_sustained_flood_gets_at_most_two_garp_bursts_per_delay() -> None:
    link = _alone_master(garp_lower_prio_delay=2.0, garp_lower_prio_repeat=3)
    a = link.routers["A"]
    sent = _flood(link, 20.0, 30.0, 0.01)
    link.run_until(35.0)
    bursts = [(t, n) for t, n in a.announces if t >= 20.0]
    # a cycle every 2 s (burst, burst 2 s later), each new cycle on the first advert after the last
    assert len(bursts) == 10 and all(n == 3 for _t, n in bursts)
    starts = [t for t, _n in bursts[0::2]]
    assert all(later - earlier >= 2.0 for earlier, later in zip(starts, starts[1:]))
    sent_times = [t for t, _adv in a.sent if 20.0 <= t < 30.0]
    # one answer per advert interval at most, beside the regular advert: never more than 2 a second
    assert max(sum(1 for t in sent_times if s <= t < s + 1.0) for s in sent_times) <= 2
    counted = a.machine.counters.suppressed
    assert counted["lower_prio_garp"] == sent - 5   # 5 cycles started
    assert a.state is State.MASTER


def test_lower_prio_delay_zero_bounds_bursts_to_one_per_advert_interval() -> None:
    link = _alone_master(garp_lower_prio_delay=0.0, garp_lower_prio_repeat=2)
    a = link.routers["A"]
    _flood(link, 20.0, 23.0, 0.05)
    link.run_until(25.0)
    assert [(t, n) for t, n in a.announces if t >= 20.0] == [(at(20.0 + k), 2) for k in range(3)]


def test_lower_prio_repeat_zero_sends_no_garp_and_counts_nothing() -> None:
    link = _alone_master(garp_lower_prio_repeat=0)
    a = link.routers["A"]
    _flood(link, 20.0, 20.5, 0.01)
    link.run_until(22.0)
    assert [t for t, _n in a.announces if t >= 20.0] == []
    assert "lower_prio_garp" not in a.machine.counters.suppressed


def test_lower_prio_garp_inherits_the_master_values_when_unset() -> None:
    link = _alone_master(garp_master_delay=3.0, garp_master_repeat=2)
    a = link.routers["A"]
    _flood(link, 20.0, 20.1, 0.01)
    link.run_until(30.0)
    assert [(t, n) for t, n in a.announces if t >= 20.0] == [(at(20.0), 2), (at(23.0), 2)]


def test_a_real_lower_priority_master_still_gets_the_answer_and_the_garps() -> None:
    """The rate limit does not change the healing of a split brain (one advert, one GARP burst)."""
    link = SimLink()
    link.add("A", priority=150)
    link.add("B", priority=100)
    link.start("A")
    link.start("B")
    link.run_until(10.0)
    link.partition({"A"}, {"B"})
    link.run_until(19.9)
    link.heal()
    link.run_until(21.0)
    assert link.masters() == {"A"}
    assert (at(20.0234375), 5) in link.routers["A"].announces
    assert not link.routers["A"].machine.counters.suppressed


def test_adverts_from_our_own_address_warn_once_per_state() -> None:
    link = _alone_master()
    a = link.routers["A"]
    _flood(link, 20.0, 21.0, 0.01, src=a.params.address)
    link.run_until(21.5)
    warnings = [m for _t, level, m in a.logs if level == "warning" and "our own address" in m]
    assert len(warnings) == 1
    assert a.machine.counters.suppressed == {"own_address_log": 99}
    link.fault("A", True)
    link.fault("A", False)   # back to BACKUP: a new state, the warning may be said again
    _flood(link, 22.0, 22.5, 0.01, src=a.params.address)
    link.run_until(23.0)
    assert len([m for _t, level, m in a.logs if level == "warning" and "our own address" in m]) == 2


# ---- no machine with an interval the wire cannot carry (a zero interval is a busy loop) ---------


@pytest.mark.parametrize("version, interval_cs", [(3, 0), (3, -1), (3, 4096), (2, 0), (2, 50), (2, 150), (2, 25600)])
def test_params_refuse_an_interval_the_version_cannot_carry(version: int, interval_cs: int) -> None:
    with pytest.raises(ValueError, match="interval"):
        Params(vrid=1, version=version, priority=100, interval_cs=interval_cs, address=ip_address("198.51.100.1"))


@pytest.mark.parametrize("version, interval_cs", [(3, 1), (3, 4095), (2, 100), (2, 25500)])
def test_params_accept_the_bounds(version: int, interval_cs: int) -> None:
    machine = Machine(Params(vrid=1, version=version, priority=100, interval_cs=interval_cs,
                             address=ip_address("198.51.100.1")))
    assert machine.master_adver_int_cs == interval_cs
