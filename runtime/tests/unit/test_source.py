"""The source-address rules (core.source) and the machine following a new address (issue 13)."""

from __future__ import annotations

from ipaddress import ip_address

from vrrpd.core.fsm import Machine, Params, SendAdvert, State
from vrrpd.core.source import fault_reason, judge_source

A = ip_address("198.51.100.11")
B = ip_address("198.51.100.21")


def test_no_address_is_a_fault_naming_the_interface() -> None:
    verdict = judge_source("eth0", None, None)
    assert verdict.source is None and verdict.fault == "no source address on eth0"


def test_found_address_is_used() -> None:
    assert judge_source("eth0", None, A).fault is None
    assert judge_source("eth0", None, A).source == A


def test_configured_source_stands_even_when_not_on_the_interface() -> None:
    verdict = judge_source("eth0", B, None)
    assert verdict.source == B and verdict.fault is None


def test_fault_reason_puts_the_interface_first() -> None:
    assert fault_reason(set()) is None
    assert fault_reason({"script chk failed", "no source address on eth0"}) == "no source address on eth0"
    assert fault_reason({"no source address on eth0", "interface eth0 down"}) == "interface eth0 down"


def _machine() -> Machine:
    return Machine(Params(vrid=1, version=3, priority=100, interval_cs=100, address=A))


def test_master_advertises_at_once_from_the_new_address() -> None:
    m = _machine()
    m.start(0.0)
    m.on_timer(10.0)
    assert m.state is State.MASTER
    sent = m.counters.advert_sent
    actions = m.set_address(10.25, B)
    assert m.params.address == B and m.master_address == B
    assert any(isinstance(a, SendAdvert) for a in actions) and m.counters.advert_sent == sent + 1
    assert m.next_deadline() == 11.25   # the advert timer restarts from the new advert
    assert m.set_address(10.5, B) == []


def test_backup_and_init_only_record_the_new_address() -> None:
    m = _machine()
    assert m.set_address(0.0, B) == []      # INIT: the first address found, not a change
    m.start(0.0)
    deadline = m.next_deadline()
    actions = m.set_address(0.5, A)
    assert not any(isinstance(a, SendAdvert) for a in actions)
    assert m.params.address == A and m.next_deadline() == deadline


def test_track_src_ip_faults_while_the_configured_source_is_not_on_the_interface() -> None:
    verdict = judge_source("eth0", B, None, configured_on_interface=False)
    assert verdict.source == B and verdict.fault == "source address 198.51.100.21 not on eth0"
    assert judge_source("eth0", B, A, configured_on_interface=True) == judge_source("eth0", B, None)
    assert fault_reason({"script chk failed", verdict.fault}) == verdict.fault
    assert fault_reason({"interface eth0 missing", verdict.fault}) == "interface eth0 missing"
